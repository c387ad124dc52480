/**
 * target.ts — what the loader of one program knows about its machine: class, e_machine, multiarch
 * triplet, `$PLATFORM`, `$LIB`, default directories. PURE.
 */
import { EM, machineName } from '../elf/abi.ts';
import type { ElfClass, ElfInfo } from '../elf/types.ts';

/** ElfHeader is the part of an ELF header the loader checks before mapping a library. */
export interface ElfHeader {
  readonly class: ElfClass;
  readonly endian: 'little' | 'big';
  readonly machine: number;
  readonly flags: number;
  /** e_type: 2 ET_EXEC, 3 ET_DYN … */
  readonly etype: number;
}

/** ELF_HEADER_BYTES is how much of a file probeElfHeader needs. */
export const ELF_HEADER_BYTES = 64;

/**
 * probeElfHeader reads e_ident, e_type, e_machine and e_flags from the first bytes of a file; undefined
 * when they are not an ELF header of a known class and byte order. The full, bounds-checked parse is
 * src/elf's; this is the cheap check ld.so's open_verify does before mapping a candidate.
 */
export function probeElfHeader(b: Uint8Array): ElfHeader | undefined {
  if (b.length < 52 || b[0] !== 0x7f || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) return undefined;
  const cls = b[4] === 1 ? 32 : b[4] === 2 ? 64 : undefined;
  const le = b[5] === 1 ? true : b[5] === 2 ? false : undefined;
  if (cls === undefined || le === undefined || (cls === 64 && b.length < 64)) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    class: cls,
    endian: le ? 'little' : 'big',
    etype: dv.getUint16(16, le),
    machine: dv.getUint16(18, le),
    flags: dv.getUint32(cls === 64 ? 48 : 36, le),
  };
}

/** Target describes the ABI a program is loaded with. */
export interface Target extends Pick<ElfHeader, 'class' | 'endian' | 'machine' | 'flags'> {
  /** x86_64, aarch64 … (src/elf/abi.ts machineName) */
  readonly name: string;
  /** Debian multiarch triplet (`x86_64-linux-gnu`), undefined when unknown */
  readonly triplet?: string;
  /** `$PLATFORM` (AT_PLATFORM of the kernel), undefined when it depends on the CPU */
  readonly platform?: string;
}

/** targetOf returns the Target of a parsed ELF program. */
export function targetOf(info: Pick<ElfInfo, 'class' | 'endian' | 'machine' | 'flags'>): Target {
  const name = machineName(info.machine, info.class);
  const t = { class: info.class, endian: info.endian, machine: info.machine, flags: info.flags, name };
  const triplet = tripletOf(info);
  const platform = platformOf(info);
  return { ...t, ...(triplet ? { triplet } : {}), ...(platform ? { platform } : {}) };
}

function tripletOf(i: Pick<ElfInfo, 'class' | 'endian' | 'machine' | 'flags'>): string | undefined {
  const le = i.endian === 'little';
  switch (i.machine) {
    case EM.X86_64:
      return i.class === 64 ? 'x86_64-linux-gnu' : 'x86_64-linux-gnux32';
    case EM.I386:
      return 'i386-linux-gnu';
    case EM.AARCH64:
      return le ? 'aarch64-linux-gnu' : 'aarch64_be-linux-gnu';
    case EM.ARM:
      return i.flags & 0x400 ? 'arm-linux-gnueabihf' : 'arm-linux-gnueabi';
    case EM.RISCV:
      return i.class === 64 ? 'riscv64-linux-gnu' : 'riscv32-linux-gnu';
    case EM.PPC64:
      return le ? 'powerpc64le-linux-gnu' : 'powerpc64-linux-gnu';
    case EM.PPC:
      return 'powerpc-linux-gnu';
    case EM.S390:
      return i.class === 64 ? 's390x-linux-gnu' : 's390-linux-gnu';
    case EM.MIPS:
    case EM.MIPS_RS3_LE:
      return i.class === 64
        ? le
          ? 'mips64el-linux-gnuabi64'
          : 'mips64-linux-gnuabi64'
        : le
          ? 'mipsel-linux-gnu'
          : 'mips-linux-gnu';
    case EM.LOONGARCH:
      return 'loongarch64-linux-gnu';
    case EM.SPARCV9:
      return 'sparc64-linux-gnu';
    default:
      return undefined;
  }
}

/**
 * platformOf is the kernel's AT_PLATFORM string that `$PLATFORM` expands to. Only machines where it
 * does not depend on the CPU model are answered; elsewhere (powerpc `power9`, s390 `z15`, arm `v7l`)
 * the path element is dropped, since the target CPU is unknown.
 */
function platformOf(i: Pick<ElfInfo, 'class' | 'machine'>): string | undefined {
  switch (i.machine) {
    case EM.X86_64:
      return i.class === 64 ? 'x86_64' : undefined;
    case EM.I386:
      return 'i686';
    case EM.AARCH64:
      return 'aarch64';
    default:
      return undefined;
  }
}

/**
 * defaultDirs lists the loader's trusted directories for a target: the multiarch directories
 * (Debian, Ubuntu: /lib/TRIPLET, /usr/lib/TRIPLET), then /lib64 and /usr/lib64 for 64-bit targets
 * (Fedora, SUSE, Arch), then /lib and /usr/lib. A union of the distributions' choices: directories a
 * given root does not have cost one failed lookup, and wrong-class files in them are skipped.
 */
export function defaultDirs(t: Target): string[] {
  const out: string[] = [];
  if (t.triplet) out.push(`/lib/${t.triplet}`, `/usr/lib/${t.triplet}`);
  if (t.class === 64) out.push('/lib64', '/usr/lib64');
  out.push('/lib', '/usr/lib');
  return out;
}
