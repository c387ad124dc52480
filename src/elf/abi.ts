/**
 * abi.ts — e_machine names, OCI architectures and ABI compatibility of ELF objects. PURE.
 * e_machine numbers: https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html and glibc elf.h.
 */
import type { ElfClass, ElfInfo } from './types.ts';

/** EM holds the e_machine numbers fromscratch names. */
export const EM = {
  SPARC: 2,
  I386: 3,
  M68K: 4,
  MIPS: 8,
  MIPS_RS3_LE: 10,
  PARISC: 15,
  SPARC32PLUS: 18,
  PPC: 20,
  PPC64: 21,
  S390: 22,
  ARM: 40,
  SH: 42,
  SPARCV9: 43,
  IA_64: 50,
  X86_64: 62,
  AARCH64: 183,
  RISCV: 243,
  LOONGARCH: 258,
  ALPHA: 0x9026,
} as const;

/**
 * machineName returns the common short name of an e_machine for a word size, as `uname -m` and
 * Debian's GNU triplets spell it: x86_64, i386, aarch64, arm, riscv64, ppc64, ppc, s390x, mips,
 * mips64, loongarch64, sparc, sparc64 …; `em_<n>` for numbers it does not know. Byte order is not part
 * of the name (ppc64 little endian is `ppc64` with `endian: 'little'`; see {@link elfMachineToOciArch}).
 */
export function machineName(machine: number, cls: ElfClass): string {
  switch (machine) {
    case EM.X86_64:
      return 'x86_64'; // also x32 (ELFCLASS32 + EM_X86_64); class tells them apart
    case EM.I386:
      return 'i386';
    case EM.AARCH64:
      return 'aarch64';
    case EM.ARM:
      return 'arm';
    case EM.RISCV:
      return cls === 64 ? 'riscv64' : 'riscv32';
    case EM.PPC64:
      return 'ppc64';
    case EM.PPC:
      return 'ppc';
    case EM.S390:
      return cls === 64 ? 's390x' : 's390';
    case EM.MIPS:
    case EM.MIPS_RS3_LE:
      return cls === 64 ? 'mips64' : 'mips';
    case EM.LOONGARCH:
      return cls === 64 ? 'loongarch64' : 'loongarch32';
    case EM.SPARC:
    case EM.SPARC32PLUS:
      return 'sparc';
    case EM.SPARCV9:
      return 'sparc64';
    case EM.IA_64:
      return 'ia64';
    case EM.ALPHA:
      return 'alpha';
    case EM.M68K:
      return 'm68k';
    case EM.SH:
      return 'sh';
    case EM.PARISC:
      return 'hppa';
    default:
      return `em_${machine}`;
  }
}

/**
 * elfMachineToOciArch returns the OCI/Go architecture (image-spec `platform.architecture`) an ELF file
 * runs on: x86_64→amd64, i386→386, aarch64→arm64, arm→arm, ppc64 little→ppc64le, ppc64 big→ppc64,
 * s390x→s390x, riscv64→riscv64, mips64 little→mips64le, mips→mips/mipsle, loongarch64→loong64;
 * undefined when OCI has no name for it (x32, sparc, ia64 …).
 */
export function elfMachineToOciArch(info: Pick<ElfInfo, 'class' | 'machine' | 'endian'>): string | undefined {
  const le = info.endian === 'little';
  const c64 = info.class === 64;
  switch (info.machine) {
    case EM.X86_64:
      return c64 ? 'amd64' : undefined; // x32 has no OCI architecture
    case EM.I386:
      return c64 ? undefined : '386';
    case EM.AARCH64:
      return c64 ? 'arm64' : undefined; // ILP32 aarch64 has none either
    case EM.ARM:
      return c64 ? undefined : 'arm';
    case EM.PPC64:
      return le ? 'ppc64le' : 'ppc64';
    case EM.S390:
      return c64 ? 's390x' : undefined;
    case EM.RISCV:
      return c64 ? 'riscv64' : undefined;
    case EM.MIPS:
    case EM.MIPS_RS3_LE:
      return c64 ? (le ? 'mips64le' : 'mips64') : le ? 'mipsle' : 'mips';
    case EM.LOONGARCH:
      return c64 ? 'loong64' : undefined;
    default:
      return undefined;
  }
}

/** ARM e_flags float ABI bits (EF_ARM_ABI_FLOAT_SOFT, EF_ARM_ABI_FLOAT_HARD), as glibc's VALID_FLOAT_ABI reads them. */
const EF_ARM_FLOAT_MASK = 0x200 | 0x400;
/** RISC-V e_flags float ABI field (EF_RISCV_FLOAT_ABI), checked by glibc's elf_machine_matches_host. */
const EF_RISCV_FLOAT_ABI = 0x6;
/** MIPS e_flags EF_MIPS_ABI2 (n32) and EF_MIPS_ABI (o32/o64/eabi) fields. */
const EF_MIPS_ABI2 = 0x20;
const EF_MIPS_ABI = 0xf000;

function normalMachine(m: number): number {
  return m === EM.MIPS_RS3_LE ? EM.MIPS : m === EM.SPARC32PLUS ? EM.SPARC : m;
}

/**
 * sameAbi tells whether two ELF objects can be loaded into one process, as the dynamic loader decides:
 * same class, same byte order, same e_machine (EM_MIPS_RS3_LE counts as EM_MIPS, EM_SPARC32PLUS as
 * EM_SPARC), and for
 * - ARM: the same float ABI (EF_ARM_ABI_FLOAT_HARD 0x400 vs _SOFT 0x200); an object with neither bit
 *   set (old or ABI-neutral) matches both, as in glibc's VALID_FLOAT_ABI;
 * - RISC-V: the same EF_RISCV_FLOAT_ABI (soft/single/double/quad);
 * - MIPS: the same n32 bit (EF_MIPS_ABI2) and, when both set one, the same EF_MIPS_ABI.
 * Other e_flags (CPU revision, ASE bits) are ignored: they do not stop the loader.
 */
export function sameAbi(
  a: Pick<ElfInfo, 'class' | 'machine' | 'endian' | 'flags'>,
  b: Pick<ElfInfo, 'class' | 'machine' | 'endian' | 'flags'>,
): boolean {
  if (a.class !== b.class || a.endian !== b.endian) return false;
  const m = normalMachine(a.machine);
  if (m !== normalMachine(b.machine)) return false;
  switch (m) {
    case EM.ARM: {
      const fa = a.flags & EF_ARM_FLOAT_MASK;
      const fb = b.flags & EF_ARM_FLOAT_MASK;
      return fa === 0 || fb === 0 || fa === fb;
    }
    case EM.RISCV:
      return (a.flags & EF_RISCV_FLOAT_ABI) === (b.flags & EF_RISCV_FLOAT_ABI);
    case EM.MIPS: {
      if ((a.flags & EF_MIPS_ABI2) !== (b.flags & EF_MIPS_ABI2)) return false;
      const ma = a.flags & EF_MIPS_ABI;
      const mb = b.flags & EF_MIPS_ABI;
      return ma === 0 || mb === 0 || ma === mb;
    }
    default:
      return true;
  }
}
