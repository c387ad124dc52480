/**
 * elf-role.ts — the one place that decides what an ELF file found in an added tree is: a program or
 * shared library of the image's architecture (its closure is computed), or data (copied as a plain
 * file). PURE: IO through the RootFs port only.
 *
 * Data, never a closure root (issue 11): relocatable objects (`crt1.o`, `*.o`, `*.ko`: ET_REL), core
 * files (ET_CORE), ET_NONE and processor-specific types, separate debug files (`objcopy
 * --only-keep-debug`: the code and `.dynamic` are SHT_NOBITS, so a PT_LOAD holding code or the
 * PT_DYNAMIC/PT_INTERP segment has no bytes in the file), truncated files (a PT_LOAD reaching past the
 * end: the kernel's mmap would fault), files the full reader finds malformed, other architectures
 * (a prebuilt arm64 `.node` in an amd64 image; a 32-bit one when the root lacks its loader), other
 * operating systems (EI_OSABI neither SYSV nor GNU/Linux) and musl objects when the root has no musl
 * loader (`*.musl.node` of prebuildify).
 * Sources: gABI (https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html), binutils objcopy
 * `--only-keep-debug`, Linux fs/binfmt_elf.c.
 */
import { isFromscratchError } from '../errors.ts';
import { resolvePath } from '../fs/resolve.ts';
import type { RootFs } from '../fs/root-fs.ts';
import { elfMachineToOciArch, machineName } from './abi.ts';
import { readElf } from './read-elf.ts';
import type { ElfInfo } from './types.ts';

/** ElfDataKind is why an ELF file is data: the kinds the build's summary note counts. */
export type ElfDataKind =
  | 'relocatable'
  | 'core'
  | 'debug'
  | 'truncated'
  | 'malformed'
  | 'foreign-arch'
  | 'foreign-os'
  | 'foreign-libc'
  | 'other-type';

/** ElfRole is the verdict on one ELF file. */
export type ElfRole =
  | { readonly role: 'program' }
  | { readonly role: 'data'; readonly kind: ElfDataKind; readonly detail: string };

/** ELF_DATA_KIND_LABEL names each kind for people (`why`, errors): one file of the kind. */
export const ELF_DATA_KIND_LABEL: Readonly<Record<ElfDataKind, string>> = {
  relocatable: 'relocatable object',
  core: 'core file',
  debug: 'separate debug file',
  truncated: 'truncated ELF file',
  malformed: 'malformed ELF file',
  'foreign-arch': 'file of another architecture',
  'foreign-os': 'file of another OS ABI',
  'foreign-libc': 'file for another C library',
  'other-type': 'ELF file of another type',
};

/** ELF_DATA_KIND_PLURAL names several files of each kind (the build's summary note). */
export const ELF_DATA_KIND_PLURAL: Readonly<Record<ElfDataKind, string>> = {
  relocatable: 'relocatable objects',
  core: 'core files',
  debug: 'separate debug files',
  truncated: 'truncated ELF files',
  malformed: 'malformed ELF files',
  'foreign-arch': 'files of other architectures',
  'foreign-os': 'files of other OS ABIs',
  'foreign-libc': 'files for another C library',
  'other-type': 'ELF files of other types',
};

/** ELFOSABI values a Linux kernel runs: SYSV (0, what most toolchains write) and GNU/Linux (3). */
const LINUX_OSABI = new Set([0, 3]);
/** MAX_PHDR_BYTES bounds the program header read (65535 × 56 bytes is the format's own limit). */
const MAX_PHDR_BYTES = 65535 * 64;
const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PF_X = 1;
/** COMPAT_LOADERS are the glibc loaders of the 32-bit architectures a 64-bit image may also run. */
const COMPAT_LOADERS: Readonly<Record<string, readonly string[]>> = {
  '386': ['/lib/ld-linux.so.2'],
  arm: ['/lib/ld-linux-armhf.so.3', '/lib/ld-linux.so.3'],
};

/** compatibleArch tells whether ELF files of OCI architecture `elf` run in an image of `image` (386 on amd64, arm on arm64). */
export function compatibleArch(elf: string | undefined, image: string): boolean {
  if (elf === undefined) return false;
  return elf === image || (image === 'amd64' && elf === '386') || (image === 'arm64' && elf === 'arm');
}

/**
 * classifyElfHeaders decides from the ELF header and program headers alone (`head`: the first bytes of
 * the file, at least the header; `phdrs`: the program header table, or undefined when it could not be
 * read) whether a file of `size` bytes is data for an image of OCI architecture `arch`. Returns
 * `{role:'program'}` when the headers look like a loadable program or library: the full reader still
 * has the last word (readElfRole).
 */
export function classifyElfHeaders(
  head: Uint8Array,
  size: number,
  arch: string,
  phdrs?: Uint8Array,
): ElfRole {
  return headerVerdict(head, size, arch) ?? segmentVerdict(head, size, phdrs);
}

function data(kind: ElfDataKind, detail: string): ElfRole {
  return { role: 'data', kind, detail };
}

/** headerVerdict judges the ELF header alone: undefined when it could be a program of `arch`. */
function headerVerdict(head: Uint8Array, size: number, arch: string): ElfRole | undefined {
  if (head.length < 16 || size < 16)
    return data('truncated', `${size} bytes, shorter than an ELF identification`);
  const cls = head[4] === 1 ? 32 : head[4] === 2 ? 64 : undefined;
  const le = head[5] === 1 ? true : head[5] === 2 ? false : undefined;
  if (cls === undefined || le === undefined)
    return data(
      'malformed',
      `EI_CLASS ${head[4]} / EI_DATA ${head[5]} is not a known ELF class and byte order`,
    );
  const ehsize = cls === 64 ? 64 : 52;
  if (size < ehsize || head.length < ehsize)
    return data('truncated', `${size} bytes, shorter than an ELF${cls} header`);
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const etype = dv.getUint16(16, le);
  const machine = dv.getUint16(18, le);
  if (etype === 1) return data('relocatable', 'ET_REL: an object file for the link editor, not loadable');
  if (etype === 4) return data('core', 'ET_CORE: a core dump');
  if (etype !== 2 && etype !== 3) return data('other-type', `e_type ${etype} is neither ET_EXEC nor ET_DYN`);
  const elfArch = elfMachineToOciArch({ class: cls, machine, endian: le ? 'little' : 'big' });
  if (!compatibleArch(elfArch, arch)) {
    const name = elfArch ?? `${machineName(machine, cls)} (${cls}-bit)`;
    return data('foreign-arch', `built for ${name}`);
  }
  const osabi = head[7]!;
  if (!LINUX_OSABI.has(osabi)) return data('foreign-os', `EI_OSABI ${osabi} is not Linux (0 or 3)`);
  return undefined;
}

/** segmentVerdict judges the program headers of a file whose header passed headerVerdict. */
function segmentVerdict(head: Uint8Array, size: number, phdrs: Uint8Array | undefined): ElfRole {
  const cls = head[4] === 2 ? 64 : 32;
  const le = head[5] === 1;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (phdrs === undefined) return data('truncated', 'its program headers lie past the end of the file');
  const is64 = cls === 64;
  const phentsize = dv.getUint16(is64 ? 54 : 42, le);
  if (phdrs.byteLength > 0 && phentsize < (is64 ? 56 : 32))
    return data('malformed', `e_phentsize ${phentsize} is smaller than an ELF${cls} program header`);
  const phnum = phentsize === 0 ? 0 : Math.floor(phdrs.byteLength / phentsize);
  const pv = new DataView(phdrs.buffer, phdrs.byteOffset, phdrs.byteLength);
  const word = (off: number) => (is64 ? Number(pv.getBigUint64(off, le)) : pv.getUint32(off, le));
  let loads = 0;
  let loadEnd = 0;
  for (let i = 0; i < phnum; i++) {
    const b = i * phentsize;
    const type = pv.getUint32(b, le);
    if (type !== PT_LOAD && type !== PT_DYNAMIC && type !== PT_INTERP) continue;
    const flags = is64 ? pv.getUint32(b + 4, le) : pv.getUint32(b + 24, le);
    const offset = word(b + (is64 ? 8 : 4));
    const filesz = word(b + (is64 ? 32 : 16));
    const memsz = word(b + (is64 ? 40 : 20));
    // objcopy --only-keep-debug keeps the program headers but turns the sections into SHT_NOBITS
    if (filesz === 0 && memsz > 0 && (type !== PT_LOAD || (flags & PF_X) !== 0))
      return data('debug', 'its code and dynamic section have no bytes in the file');
    if (type === PT_LOAD) {
      loads++;
      loadEnd = Math.max(loadEnd, offset + filesz);
    }
  }
  if (loads === 0) return data('other-type', 'no PT_LOAD segment: nothing to map');
  if (loadEnd > size)
    return data('truncated', `its segments end at byte ${loadEnd}, past the end of the file (${size} bytes)`);
  return { role: 'program' };
}

/**
 * readElfRole reads the ELF file at `path` of `fs` (a regular file whose first bytes are the ELF magic)
 * and decides whether it is a program or library for an image of OCI architecture `arch`, or data.
 * With `root` (where the closure is resolved), a musl program or library (PT_INTERP
 * `/lib/ld-musl-ARCH.so.1`, or DT_NEEDED `libc.musl-ARCH.so.1`: prebuildify's `*.musl.node` beside
 * the `*.glibc.node`) is data when the root has no musl loader: no loader of the image could map it.
 * Never throws for a damaged file (that is data, `malformed`/`truncated`); rethrows IO errors.
 */
export async function readElfRole(
  fs: RootFs,
  path: string,
  arch: string,
  size?: number,
  root?: RootFs,
): Promise<ElfRole> {
  let n = size;
  if (n === undefined) n = (await fs.lstat(path))?.size ?? 0;
  const head = await fs.read(path, { offset: 0, length: 64 });
  const first = headerVerdict(head, n, arch);
  if (first) return first;
  let phdrs: Uint8Array | undefined;
  {
    const is64 = head[4] === 2;
    const le = head[5] === 1;
    const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const phoff = is64 ? Number(dv.getBigUint64(32, le)) : dv.getUint32(28, le);
    const phentsize = dv.getUint16(is64 ? 54 : 42, le);
    const phnum = dv.getUint16(is64 ? 56 : 44, le);
    const len = phentsize * phnum;
    if (len > 0 && (phoff === 0 || len > MAX_PHDR_BYTES))
      return data('malformed', `program headers: e_phoff ${phoff}, ${phnum} × ${phentsize} bytes`);
    if (len > 0 && phoff + len <= n) {
      phdrs = await fs.read(path, { offset: phoff, length: len });
      if (phdrs.byteLength !== len) phdrs = undefined;
    } else if (len === 0) phdrs = new Uint8Array(0);
  }
  const role = segmentVerdict(head, n, phdrs);
  if (role.role === 'data') return role;
  let info: ElfInfo;
  try {
    info = await readElf(fs, path, { symbols: false, size: n });
  } catch (e) {
    if (isFromscratchError(e, 'MALFORMED_ELF')) return { role: 'data', kind: 'malformed', detail: e.message };
    throw e;
  }
  const compat = elfMachineToOciArch(info);
  if (root && compat !== arch && compat !== undefined) {
    // a 32-bit object in a 64-bit image runs only with its own loader (multiarch): a prebuilt ia32
    // `.node` beside a 64-bit node, on a root without i386 libraries, is data
    const loaders = info.interpreter ? [info.interpreter] : (COMPAT_LOADERS[compat] ?? []);
    let found = false;
    for (const l of loaders) if ((await resolvePath(root, l)).stat) found = true;
    if (!found)
      return data(
        'foreign-arch',
        `built for ${compat}; the root has no ${compat} loader (${loaders.join(', ')})`,
      );
  }
  const musl = root ? muslLoaderOf(info) : undefined;
  if (root && musl && !(await resolvePath(root, musl.loader)).stat)
    return data('foreign-libc', `linked against musl (${musl.by}) and the root has no ${musl.loader}`);
  return role;
}

/** muslLoaderOf names the musl loader an object needs (its PT_INTERP, or the one behind DT_NEEDED libc.musl-ARCH.so.1). */
function muslLoaderOf(info: ElfInfo): { loader: string; by: string } | undefined {
  if (info.interpreter && /^\/lib\/ld-musl-[\w-]+\.so\.1$/.test(info.interpreter))
    return { loader: info.interpreter, by: `PT_INTERP ${info.interpreter}` };
  for (const n of info.needed) {
    const m = /^libc\.musl-([\w-]+)\.so\.1$/.exec(n);
    if (m) return { loader: `/lib/ld-musl-${m[1]}.so.1`, by: `DT_NEEDED ${n}` };
  }
  return undefined;
}
