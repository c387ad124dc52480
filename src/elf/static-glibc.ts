/**
 * static-glibc.ts — what a statically linked glibc program (static or static-pie: no PT_INTERP, no
 * DT_NEEDED) will dlopen at run time, read from the binary without running it. PURE: IO through the
 * RootFs port only.
 *
 * glibc keeps dlopen in static programs for two things: NSS modules (`libnss_SERVICE.so.2`, nss/
 * nss_module.c builds the name from the format string `libnss_%s.so%s`) and gconv modules (iconv/
 * gconv_conf.c reads `gconv-modules` in the compiled-in directory, `GCONV_DIR`, e.g.
 * `/usr/lib/x86_64-linux-gnu/gconv`). Those modules need `libc.so.6` and the loader. Evidence:
 * - strings in `.rodata`: `libnss_` (the NSS loader is linked in) and a NUL-terminated absolute path
 *   ending in `/gconv` (the gconv configuration reader is linked in). Every static glibc program has
 *   `GCONV_PATH` and `…/gconv-modules.cache` (the environment sanitiser, the locale code), so those
 *   do not count. These strings also say the program is glibc's: musl and Go have none of them;
 * - when `.symtab` survives (not stripped), the defined functions among the names the inference rules
 *   know (`iconv_open`, `getpwnam`, `getaddrinfo` …: `wanted`), which tell which NSS databases.
 */
import type { RootFs } from '../fs/root-fs.ts';

/** StaticGlibcNeeds is the evidence found in a static glibc program. */
export interface StaticGlibcNeeds {
  /** `.rodata` has `libnss_`: the program can dlopen NSS modules */
  readonly nss: boolean;
  /** the compiled-in gconv directory, when the gconv configuration reader is linked in */
  readonly gconvDir?: string;
  /**
   * the wanted names defined in `.symtab` (sorted), or undefined when the program is stripped (then
   * only the strings above tell)
   */
  readonly symbols?: readonly string[];
}

/** MAX_SECTION_BYTES bounds each section read (`.rodata`, `.symtab`, `.strtab`). */
const MAX_SECTION_BYTES = 64 * 1024 * 1024;
/** MAX_SECTION_HEADERS bounds the section header table. */
const MAX_SECTION_HEADERS = 65535;
const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;

interface Section {
  readonly name: string;
  readonly type: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly entsize: number;
}

/**
 * readStaticGlibcNeeds reads the sections of the static program at `path` in `fs` (`size` bytes) and
 * returns the evidence of run-time dlopen, or undefined when the program shows no sign of glibc's NSS
 * or gconv loaders (or has no readable section headers). Damaged or oversized sections give undefined,
 * never an error: this is an inference, the closure of the program itself is already known.
 */
export async function readStaticGlibcNeeds(
  fs: RootFs,
  path: string,
  size: number,
  wanted: ReadonlySet<string>,
): Promise<StaticGlibcNeeds | undefined> {
  const sections = await readSections(fs, path, size);
  if (!sections) return undefined;
  const read = async (s: Section): Promise<Uint8Array | undefined> => {
    if (s.size === 0 || s.size > MAX_SECTION_BYTES || s.offset + s.size > size) return undefined;
    const b = await fs.read(path, { offset: s.offset, length: s.size });
    return b.byteLength === s.size ? b : undefined;
  };
  const rodata = sections.find((s) => s.name === '.rodata' && s.type === SHT_PROGBITS);
  const ro = rodata ? await read(rodata) : undefined;
  if (!ro) return undefined;
  const buf = Buffer.from(ro.buffer, ro.byteOffset, ro.byteLength);
  const nss = buf.indexOf('libnss_', 0, 'latin1') >= 0;
  const gconvDir = findGconvDir(buf);
  if (!nss && gconvDir === undefined) return undefined;
  const base = { nss, ...(gconvDir !== undefined ? { gconvDir } : {}) };
  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  const strtab = symtab ? sections[symtab.link] : undefined;
  if (!symtab || !strtab) return base;
  const syms = await read(symtab);
  const strs = await read(strtab);
  if (!syms || !strs) return base;
  return { ...base, symbols: definedFunctions(syms, strs, sections.is64, sections.le, wanted) };
}

/** findGconvDir returns the first NUL-terminated absolute path in `b` that ends in `/gconv`. */
function findGconvDir(b: Buffer): string | undefined {
  for (let at = b.indexOf('/gconv\0', 0, 'latin1'); at >= 0; at = b.indexOf('/gconv\0', at + 1, 'latin1')) {
    const start = b.lastIndexOf(0, at) + 1;
    const s = b.subarray(start, at + '/gconv'.length).toString('latin1');
    if (s.startsWith('/') && /^[\x21-\x7e]+$/.test(s)) return s;
  }
  return undefined;
}

function definedFunctions(
  syms: Uint8Array,
  strs: Uint8Array,
  is64: boolean,
  le: boolean,
  wanted: ReadonlySet<string>,
): string[] {
  const ent = is64 ? 24 : 16;
  const dv = new DataView(syms.buffer, syms.byteOffset, syms.byteLength);
  const sb = Buffer.from(strs.buffer, strs.byteOffset, strs.byteLength);
  const longest = Math.max(0, ...[...wanted].map((w) => w.length));
  const found = new Set<string>();
  for (let off = 0; off + ent <= syms.byteLength; off += ent) {
    const name = dv.getUint32(off, le);
    const info = dv.getUint8(off + (is64 ? 4 : 12));
    const shndx = dv.getUint16(off + (is64 ? 6 : 14), le);
    const type = info & 0xf;
    if (shndx === 0 || (type !== STT_FUNC && type !== STT_GNU_IFUNC) || name >= sb.length) continue;
    const end = sb.indexOf(0, name);
    if (end < 0 || end - name > longest) continue;
    const s = sb.subarray(name, end).toString('latin1');
    if (wanted.has(s)) found.add(s);
  }
  return [...found].sort();
}

/** readSections reads the section header table and the section names; undefined when there is none usable. */
async function readSections(
  fs: RootFs,
  path: string,
  size: number,
): Promise<(Section[] & { is64: boolean; le: boolean }) | undefined> {
  if (size < 64) return undefined;
  const h = await fs.read(path, { offset: 0, length: 64 });
  if (h.byteLength < 64 || h[0] !== 0x7f || h[1] !== 0x45 || h[2] !== 0x4c || h[3] !== 0x46) return undefined;
  const is64 = h[4] === 2;
  const le = h[5] === 1;
  const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
  const shoff = is64 ? Number(dv.getBigUint64(40, le)) : dv.getUint32(32, le);
  const shentsize = dv.getUint16(is64 ? 58 : 46, le);
  const shnum = dv.getUint16(is64 ? 60 : 48, le);
  const shstrndx = dv.getUint16(is64 ? 62 : 50, le);
  // extended numbering (e_shnum 0, SHN_XINDEX) is left out: static programs never need it
  if (shoff === 0 || shnum === 0 || shnum > MAX_SECTION_HEADERS || shstrndx >= shnum) return undefined;
  if (shentsize < (is64 ? 64 : 40) || shoff + shnum * shentsize > size) return undefined;
  const t = await fs.read(path, { offset: shoff, length: shnum * shentsize });
  if (t.byteLength !== shnum * shentsize) return undefined;
  const tv = new DataView(t.buffer, t.byteOffset, t.byteLength);
  const word = (o: number) => (is64 ? Number(tv.getBigUint64(o, le)) : tv.getUint32(o, le));
  const raw = Array.from({ length: shnum }, (_, i) => {
    const b = i * shentsize;
    return {
      nameIdx: tv.getUint32(b, le),
      type: tv.getUint32(b + 4, le),
      offset: word(b + (is64 ? 24 : 16)),
      size: word(b + (is64 ? 32 : 20)),
      link: tv.getUint32(b + (is64 ? 40 : 24), le),
      entsize: word(b + (is64 ? 56 : 36)),
    };
  });
  const names = raw[shstrndx]!;
  if (names.size === 0 || names.size > MAX_SECTION_BYTES || names.offset + names.size > size)
    return undefined;
  const nb = Buffer.from(await fs.read(path, { offset: names.offset, length: names.size }));
  const out = raw.map((r) => {
    const end = r.nameIdx < nb.length ? nb.indexOf(0, r.nameIdx) : -1;
    const name = end >= 0 ? nb.subarray(r.nameIdx, end).toString('latin1') : '';
    return { name, type: r.type, offset: r.offset, size: r.size, link: r.link, entsize: r.entsize };
  });
  return Object.assign(out, { is64, le });
}
