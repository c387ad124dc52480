/**
 * ld-cache.ts — parser for glibc's binary `/etc/ld.so.cache`. PURE.
 *
 * Formats (glibc sysdeps/generic/dl-cache.h, elf/cache.c):
 * - new: `glibc-ld.so.cache1.1`, a 48-byte header (nlibs @20, len_strings @24, flags @28 whose low two
 *   bits give the byte order, extension_offset @32), then 24-byte entries {flags, key, value,
 *   osversion, hwcap:u64}. String offsets are relative to the start of the new header.
 *   The extension area (magic 0xeaa42174) holds sections; tag 1 is the glibc-hwcaps subdirectory name
 *   table that entries with hwcap bit 62 index with their low 32 bits.
 * - old: `ld.so-1.7.0`, nlibs @12, then 12-byte entries {flags, key, value}; strings are relative to
 *   the end of the entry array. glibc 2.2–2.31 wrote both: the old table, then the new one aligned to 8
 *   bytes inside the old string table. Like ld.so, we prefer the embedded new table when present.
 *
 * Every count and offset is checked against the buffer before use; nothing is allocated from an
 * unvalidated count.
 */
import { FromscratchError } from '../errors.ts';

/** LdCacheEntry is one library of the cache. */
export interface LdCacheEntry {
  /** the soname looked up (`libc.so.6`) */
  readonly key: string;
  /** the path ld.so opens (`/lib/x86_64-linux-gnu/libc.so.6`) */
  readonly value: string;
  /** FLAG_ELF_LIBC6 | architecture id, e.g. 0x0303 for x86-64 (see {@link cacheFlagsFor}) */
  readonly flags: number;
  /** glibc-hwcaps subdirectory name (`x86-64-v3`) for hwcaps entries */
  readonly hwcaps?: string;
  /** true for a legacy (pre-2.33) hwcap-bit entry, which needs CPU features of the target */
  readonly legacyHwcap?: boolean;
}

/** LdCache is a parsed ld.so.cache. */
export interface LdCache {
  readonly format: 'new' | 'old' | 'old+new';
  /** entries in file order */
  readonly entries: readonly LdCacheEntry[];
  /** the generator string (`ldconfig (Debian GLIBC 2.36-9) …`) when recorded */
  readonly generator?: string;
}

const MAGIC_OLD = 'ld.so-1.7.0';
const MAGIC_NEW = 'glibc-ld.so.cache1.1';
const NEW_HEADER = 48;
const NEW_ENTRY = 24;
const OLD_HEADER = 16;
const OLD_ENTRY = 12;
const EXTENSION_MAGIC = 0xeaa42174;
/** hwcap bit 62 marks a glibc-hwcaps entry (DL_CACHE_HWCAP_EXTENSION). */
const HWCAP_EXTENSION_HI = 0x40000000;
/** a cache is at most this big (the host's is ~35 KiB for 550 libraries; 64 MiB is absurd already) */
export const MAX_LD_CACHE_BYTES = 64 * 1024 * 1024;
/** a string in the cache is at most PATH_MAX bytes */
const MAX_STRING = 4096;
/** at most this many extension sections / hwcaps names are read */
const MAX_SECTIONS = 64;
const MAX_HWCAPS = 1024;

function bad(what: string): never {
  throw new FromscratchError('INVALID_ARGUMENT', `malformed ld.so.cache: ${what}`, {
    hint: 'regenerate it with `ldconfig -r ROOT`, or delete it: the loader then searches the default directories',
  });
}

function startsWith(b: Uint8Array, off: number, s: string): boolean {
  if (off + s.length > b.length) return false;
  for (let i = 0; i < s.length; i++) if (b[off + i] !== s.charCodeAt(i)) return false;
  return true;
}

function cString(b: Uint8Array, off: number, what: string): string {
  if (off < 0 || off >= b.length) bad(`${what} string offset ${off} is outside the file`);
  const end = b.indexOf(0, off);
  if (end < 0 || end - off > MAX_STRING)
    bad(`${what} string at ${off} is not NUL-terminated within ${MAX_STRING} bytes`);
  return Buffer.from(b.buffer, b.byteOffset + off, end - off).toString('latin1');
}

/**
 * parseLdCache parses the bytes of an ld.so.cache. Throws INVALID_ARGUMENT ("malformed ld.so.cache: …")
 * on an unknown magic, a count that does not fit the file, or a string offset outside it.
 */
export function parseLdCache(bytes: Uint8Array): LdCache {
  if (bytes.length > MAX_LD_CACHE_BYTES)
    bad(`${bytes.length} bytes is over the ${MAX_LD_CACHE_BYTES}-byte limit`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (startsWith(bytes, 0, MAGIC_NEW)) return parseNew(bytes, dv, 0, 'new');
  if (!startsWith(bytes, 0, MAGIC_OLD))
    bad('unknown magic (neither "glibc-ld.so.cache1.1" nor "ld.so-1.7.0")');
  if (bytes.length < OLD_HEADER) bad('truncated header');
  // The old format has no byte-order mark: it is in the byte order of the machine that wrote it.
  // Take the order in which nlibs fits the file.
  let le = true;
  let nlibs = dv.getUint32(12, true);
  if (nlibs > (bytes.length - OLD_HEADER) / OLD_ENTRY) {
    le = false;
    nlibs = dv.getUint32(12, false);
    if (nlibs > (bytes.length - OLD_HEADER) / OLD_ENTRY)
      bad(`${nlibs} entries do not fit in ${bytes.length} bytes`);
  }
  const tableEnd = OLD_HEADER + nlibs * OLD_ENTRY;
  // glibc 2.2–2.31 "compat" caches hide a new-format cache at the start of the old string table
  // (aligned to __alignof__(struct cache_file_new): 8 on 64-bit, 4 on i386).
  for (const align of [8, 4]) {
    const off = Math.ceil(tableEnd / align) * align;
    if (startsWith(bytes, off, MAGIC_NEW)) return parseNew(bytes, dv, off, 'old+new');
  }
  const entries: LdCacheEntry[] = [];
  for (let i = 0; i < nlibs; i++) {
    const e = OLD_HEADER + i * OLD_ENTRY;
    const flags = dv.getInt32(e, le);
    const key = cString(bytes, tableEnd + dv.getUint32(e + 4, le), 'key');
    const value = cString(bytes, tableEnd + dv.getUint32(e + 8, le), 'value');
    entries.push({ key, value, flags });
  }
  return { format: 'old', entries };
}

function parseNew(bytes: Uint8Array, dv: DataView, base: number, format: LdCache['format']): LdCache {
  if (bytes.length < base + NEW_HEADER) bad('truncated header');
  const endianBits = (bytes[base + 28] ?? 0) & 3;
  // 0: unset (written before glibc 2.32, host order), 1: invalid, 2: little, 3: big
  if (endianBits === 1) bad('header marks the byte order as invalid');
  let le = endianBits !== 3;
  let nlibs = dv.getUint32(base + 20, le);
  const room = (bytes.length - base - NEW_HEADER) / NEW_ENTRY;
  if (endianBits === 0 && nlibs > room) {
    le = false;
    nlibs = dv.getUint32(base + 20, le);
  }
  if (nlibs > room) bad(`${nlibs} entries do not fit in ${bytes.length} bytes`);
  const strings = (rel: number, what: string) => cString(bytes, base + rel, what);

  let hwcapNames: string[] = [];
  let generator: string | undefined;
  const extOff = endianBits === 0 ? 0 : dv.getUint32(base + 32, le);
  if (extOff !== 0) {
    const ext = base + extOff;
    if (ext + 8 > bytes.length || ext % 4 !== 0) bad(`extension offset ${extOff} is outside the file`);
    if (dv.getUint32(ext, le) === EXTENSION_MAGIC) {
      const count = dv.getUint32(ext + 4, le);
      if (count > MAX_SECTIONS || ext + 8 + count * 16 > bytes.length)
        bad(`${count} extension sections do not fit`);
      for (let i = 0; i < count; i++) {
        const s = ext + 8 + i * 16;
        const tag = dv.getUint32(s, le);
        const off = dv.getUint32(s + 8, le);
        const size = dv.getUint32(s + 12, le);
        if (base + off + size > bytes.length)
          bad(`extension section ${i} (${size} bytes at ${off}) is outside the file`);
        if (tag === 0) {
          // generator: a string without NUL of `size` bytes
          generator = Buffer.from(
            bytes.buffer,
            bytes.byteOffset + base + off,
            Math.min(size, MAX_STRING),
          ).toString('latin1');
        } else if (tag === 1) {
          if (size % 4 !== 0 || size / 4 > MAX_HWCAPS)
            bad(`glibc-hwcaps section size ${size} is not a small multiple of 4`);
          hwcapNames = [];
          for (let j = 0; j < size / 4; j++)
            hwcapNames.push(strings(dv.getUint32(base + off + j * 4, le), 'glibc-hwcaps'));
        }
      }
    }
  }

  const entries: LdCacheEntry[] = [];
  for (let i = 0; i < nlibs; i++) {
    const e = base + NEW_HEADER + i * NEW_ENTRY;
    const flags = dv.getInt32(e, le);
    const key = strings(dv.getUint32(e + 4, le), 'key');
    const value = strings(dv.getUint32(e + 8, le), 'value');
    const hwLo = dv.getUint32(e + (le ? 16 : 20), le);
    const hwHi = dv.getUint32(e + (le ? 20 : 16), le);
    if (hwHi === HWCAP_EXTENSION_HI) {
      const name = hwcapNames[hwLo];
      if (name === undefined)
        bad(`entry ${key} names glibc-hwcaps index ${hwLo}, but the table has ${hwcapNames.length}`);
      entries.push({ key, value, flags, hwcaps: name });
    } else if (hwHi !== 0 || hwLo !== 0) {
      entries.push({ key, value, flags, legacyHwcap: true });
    } else {
      entries.push({ key, value, flags });
    }
  }
  return generator === undefined ? { format, entries } : { format, entries, generator };
}

/** FLAG_ELF_LIBC6: an ELF library for glibc 2 (low byte of an entry's flags). */
export const FLAG_ELF_LIBC6 = 0x0003;

/**
 * cacheFlagsFor returns the entry flags ld.so accepts for an ELF class/machine/e_flags
 * (`_DL_CACHE_DEFAULT_ID` of each port; `_dl_cache_check_flags` also accepts 1, FLAG_ELF).
 * Returns undefined for machines we do not know: then every entry's file is checked instead.
 */
export function cacheFlagsFor(cls: 32 | 64, machine: number, eflags: number): number | undefined {
  switch (machine) {
    case 62: // EM_X86_64
      return cls === 64 ? 0x0303 : 0x0803; // x32 is ELFCLASS32 on EM_X86_64
    case 3: // EM_386
      return 0x0003;
    case 183: // EM_AARCH64
      return 0x0a03;
    case 40: // EM_ARM: hard-float (EF_ARM_ABI_FLOAT_HARD 0x400) vs soft-float
      return eflags & 0x400 ? 0x0903 : 0x0b03;
    case 243: // EM_RISCV: double-float ABI (EF_RISCV_FLOAT_ABI 0x6 == 0x4) vs soft
      return cls === 64 ? ((eflags & 0x6) === 0x4 ? 0x1003 : 0x0f03) : undefined;
    case 21: // EM_PPC64
      return 0x0503;
    case 20: // EM_PPC
      return 0x0003;
    case 22: // EM_S390
      return cls === 64 ? 0x0403 : 0x0003;
    case 258: // EM_LOONGARCH
      return (eflags & 0x3) === 0x1 ? 0x1103 : 0x1203;
    case 2: // EM_SPARC
    case 18: // EM_SPARC32PLUS
      return 0x0003;
    case 43: // EM_SPARCV9
      return 0x0103;
    default:
      return undefined;
  }
}

/** LdCacheIndex maps a soname to its entries, in file order (ld.so takes the first usable one). */
export type LdCacheIndex = ReadonlyMap<string, readonly LdCacheEntry[]>;

/** indexLdCache groups the entries of a cache by soname. */
export function indexLdCache(cache: LdCache): LdCacheIndex {
  const m = new Map<string, LdCacheEntry[]>();
  for (const e of cache.entries) {
    const list = m.get(e.key);
    if (list) list.push(e);
    else m.set(e.key, [e]);
  }
  return m;
}
