/**
 * ld-cache-write.ts — glibc's binary `/etc/ld.so.cache`, written as ldconfig lays it out. PURE.
 *
 * Only the new format (`glibc-ld.so.cache1.1`, what ldconfig has written alone since glibc 2.32 and what
 * every ld.so since 2.2 reads): a 48-byte header {magic[17] "glibc-ld.so.cache", version[3] "1.1",
 * nlibs:u32, len_strings:u32, flags:u8 (byte order: 2 little, 3 big), padding[3], extension_offset:u32,
 * unused[3]:u32}, then `nlibs` 24-byte entries {flags:i32, key:u32, value:u32, osversion:u32, hwcap:u64},
 * then the NUL-terminated strings; key and value are offsets from the start of the file
 * (glibc sysdeps/generic/dl-cache.h, elf/cache.c save_cache).
 *
 * Entries are sorted as ldconfig sorts them (elf/cache.c compare: `_dl_cache_libcmp(e2, e1)`, so
 * descending, digits compared as numbers; then higher flags first), because ld.so finds a name by binary
 * search over that order (elf/dl-cache.c search_cache). No glibc-hwcaps extension is written.
 */

/** LdCacheWriteEntry is one library for the cache: soname → path, with the entry flags of its ABI. */
export interface LdCacheWriteEntry {
  /** the name looked up: the library's DT_SONAME (`libgreet.so.1`) */
  readonly key: string;
  /** the absolute path ld.so opens */
  readonly value: string;
  /** FLAG_ELF_LIBC6 | architecture id (ld-cache.ts cacheFlagsFor), e.g. 0x0303 for x86-64 */
  readonly flags: number;
}

const MAGIC = 'glibc-ld.so.cache1.1';
const HEADER = 48;
const ENTRY = 24;

/** dlCacheLibcmp is glibc's _dl_cache_libcmp: bytes compared, runs of digits compared as numbers. */
export function dlCacheLibcmp(a: string, b: string): number {
  const p1 = Buffer.from(a);
  const p2 = Buffer.from(b);
  let i = 0;
  let j = 0;
  const digit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;
  while (i < p1.length) {
    if (digit(p1[i])) {
      if (!digit(p2[j])) return 1;
      let v1 = 0;
      let v2 = 0;
      while (digit(p1[i])) v1 = v1 * 10 + p1[i++]! - 0x30;
      while (digit(p2[j])) v2 = v2 * 10 + p2[j++]! - 0x30;
      if (v1 !== v2) return v1 - v2;
    } else if (digit(p2[j])) return -1;
    else if (p1[i] !== (p2[j] ?? 0)) return p1[i]! - (p2[j] ?? 0);
    else {
      i++;
      j++;
    }
  }
  return 0 - (p2[j] ?? 0);
}

/**
 * toLdCache encodes entries as a new-format ld.so.cache for a target of the given byte order. Duplicate
 * (key, flags) pairs keep the first. The bytes depend only on the entries (deterministic).
 */
export function toLdCache(
  entries: readonly LdCacheWriteEntry[],
  endian: 'little' | 'big' = 'little',
): Uint8Array {
  const seen = new Set<string>();
  const list = entries.filter((e) => {
    const k = `${e.key}\0${e.flags}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  list.sort(
    (e1, e2) => dlCacheLibcmp(e2.key, e1.key) || e2.flags - e1.flags || (e1.value < e2.value ? -1 : 1),
  );
  const strings: Buffer[] = [];
  const offsets = new Map<string, number>();
  let strOff = HEADER + list.length * ENTRY;
  const stringAt = (s: string): number => {
    let o = offsets.get(s);
    if (o === undefined) {
      o = strOff;
      const b = Buffer.from(`${s}\0`);
      strings.push(b);
      strOff += b.length;
      offsets.set(s, o);
    }
    return o;
  };
  const table = Buffer.alloc(list.length * ENTRY);
  const le = endian === 'little';
  list.forEach((e, n) => {
    const at = n * ENTRY;
    const key = stringAt(e.key);
    const value = stringAt(e.value);
    if (le) {
      table.writeInt32LE(e.flags, at);
      table.writeUInt32LE(key, at + 4);
      table.writeUInt32LE(value, at + 8);
    } else {
      table.writeInt32BE(e.flags, at);
      table.writeUInt32BE(key, at + 4);
      table.writeUInt32BE(value, at + 8);
    }
    // osversion (at + 12) and hwcap (at + 16) stay 0: no kernel minimum, no hwcap subdirectory
  });
  const stringBytes = Buffer.concat(strings);
  const header = Buffer.alloc(HEADER);
  header.write(MAGIC, 0, 'latin1');
  if (le) {
    header.writeUInt32LE(list.length, 20);
    header.writeUInt32LE(stringBytes.length, 24);
  } else {
    header.writeUInt32BE(list.length, 20);
    header.writeUInt32BE(stringBytes.length, 24);
  }
  header[28] = le ? 2 : 3;
  // extension_offset (32) and unused[3] stay 0: no extension section
  return new Uint8Array(Buffer.concat([header, table, stringBytes]));
}
