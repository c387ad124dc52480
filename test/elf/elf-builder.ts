/**
 * elf-builder.ts — builds small, valid ELF shared objects/executables byte by byte for any class,
 * byte order and e_machine, so that the reader's ELF32 and big-endian paths are exercised without a
 * cross compiler. Test helper only.
 *
 * Layout (one PT_LOAD mapping the whole file at vaddr BASE): header, program headers (PT_INTERP?,
 * PT_LOAD, PT_DYNAMIC, PT_NOTE), interpreter, .dynstr, .dynsym (null, an undefined `imported_fn`, a
 * defined `exported_fn`), DT_HASH, .dynamic, a GNU build-id note, then optional section headers.
 */

export interface BuildElfOptions {
  cls: 32 | 64;
  le: boolean;
  machine: number;
  flags?: number;
  /** e_type: 2 exec, 3 dyn (default 3) */
  type?: number;
  interp?: string;
  needed?: string[];
  soname?: string;
  rpath?: string;
  runpath?: string;
  flags1?: number;
  /** write section headers (default true) */
  sections?: boolean;
  /** EI_OSABI */
  osabi?: number;
}

export const BASE = 0x10000;

/** buildElf returns the bytes of a small ELF file described by o. */
export function buildElf(o: BuildElfOptions): Uint8Array {
  const is64 = o.cls === 64;
  const ehsize = is64 ? 64 : 52;
  const phent = is64 ? 56 : 32;
  const shent = is64 ? 64 : 40;
  const syment = is64 ? 24 : 16;
  const dynent = is64 ? 16 : 8;
  const wordSize = is64 ? 8 : 4;
  const align = (n: number, a = 8) => Math.ceil(n / a) * a;
  const enc = new TextEncoder();

  // string table
  const strs: number[] = [0];
  const strIndex = (s: string): number => {
    const at = strs.length;
    strs.push(...enc.encode(s), 0);
    return at;
  };
  const neededIdx = (o.needed ?? []).map(strIndex);
  const sonameIdx = o.soname === undefined ? undefined : strIndex(o.soname);
  const rpathIdx = o.rpath === undefined ? undefined : strIndex(o.rpath);
  const runpathIdx = o.runpath === undefined ? undefined : strIndex(o.runpath);
  const impIdx = strIndex('imported_fn');
  const expIdx = strIndex('exported_fn');

  const phTypes: number[] = [];
  if (o.interp !== undefined) phTypes.push(3);
  phTypes.push(1, 2, 4);
  let off = ehsize;
  const phoff = off;
  off += phTypes.length * phent;
  const interpOff = off;
  const interpBytes =
    o.interp === undefined ? new Uint8Array() : new Uint8Array([...enc.encode(o.interp), 0]);
  off = align(off + interpBytes.length);
  const strOff = off;
  off = align(off + strs.length);
  const symOff = off;
  const nsyms = 3;
  off = align(off + nsyms * syment);
  const hashOff = off;
  // DT_HASH entries are 8 bytes on 64-bit s390 and alpha, 4 elsewhere
  const hashEnt = is64 && (o.machine === 22 || o.machine === 0x9026) ? 8 : 4;
  const hashWords = 2 + 1 + nsyms;
  off = align(off + hashWords * hashEnt);
  const dyn: [number, number][] = [];
  for (const i of neededIdx) dyn.push([1, i]);
  if (sonameIdx !== undefined) dyn.push([14, sonameIdx]);
  if (rpathIdx !== undefined) dyn.push([15, rpathIdx]);
  if (runpathIdx !== undefined) dyn.push([29, runpathIdx]);
  dyn.push([5, BASE + strOff], [10, strs.length], [6, BASE + symOff], [11, syment], [4, BASE + hashOff]);
  if (o.flags1 !== undefined) dyn.push([0x6ffffffb, o.flags1]);
  dyn.push([0, 0]);
  const dynOff = off;
  off = align(off + dyn.length * dynent);
  const noteOff = off;
  const buildId = [0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4];
  const noteSize = 12 + 4 + buildId.length;
  off = align(off + noteSize);
  const shstr = [
    0,
    ...enc.encode('.dynstr'),
    0,
    ...enc.encode('.dynsym'),
    0,
    ...enc.encode('.dynamic'),
    0,
    ...enc.encode('.shstrtab'),
    0,
  ];
  const shstrOff = off;
  const withSections = o.sections !== false;
  if (withSections) off = align(off + shstr.length);
  const shoff = off;
  const shnum = withSections ? 5 : 0;
  off += shnum * shent;
  const size = off;

  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  const le = o.le;
  const u16 = (p: number, v: number) => dv.setUint16(p, v, le);
  const u32 = (p: number, v: number) => dv.setUint32(p, v, le);
  const word = (p: number, v: number) => (is64 ? dv.setBigUint64(p, BigInt(v), le) : dv.setUint32(p, v, le));

  buf.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, le ? 1 : 2, 1, o.osabi ?? 0]);
  u16(16, o.type ?? 3);
  u16(18, o.machine);
  u32(20, 1);
  word(24, BASE + symOff); // e_entry: anything inside the file
  word(is64 ? 32 : 28, phoff);
  word(is64 ? 40 : 32, withSections ? shoff : 0);
  const h = is64 ? 48 : 36;
  u32(h, o.flags ?? 0);
  u16(h + 4, ehsize);
  u16(h + 6, phent);
  u16(h + 8, phTypes.length);
  u16(h + 10, shent);
  u16(h + 12, shnum);
  u16(h + 14, withSections ? 4 : 0);

  const region = (t: number): [number, number, number] => {
    switch (t) {
      case 3:
        return [interpOff, interpBytes.length, 1];
      case 1:
        return [0, size, 0x1000];
      case 2:
        return [dynOff, dyn.length * dynent, wordSize];
      default:
        return [noteOff, noteSize, 4];
    }
  };
  phTypes.forEach((t, i) => {
    const p = phoff + i * phent;
    const [fo, fsz, al] = region(t);
    u32(p, t);
    if (is64) {
      u32(p + 4, 4); // PF_R
      word(p + 8, fo);
      word(p + 16, BASE + fo);
      word(p + 24, BASE + fo);
      word(p + 32, fsz);
      word(p + 40, fsz);
      word(p + 48, al);
    } else {
      word(p + 4, fo);
      word(p + 8, BASE + fo);
      word(p + 12, BASE + fo);
      word(p + 16, fsz);
      word(p + 20, fsz);
      u32(p + 24, 4);
      word(p + 28, al);
    }
  });
  buf.set(interpBytes, interpOff);
  buf.set(strs, strOff);
  const sym = (i: number, name: number, info: number, shndx: number, value: number) => {
    const p = symOff + i * syment;
    u32(p, name);
    if (is64) {
      buf[p + 4] = info;
      buf[p + 5] = 0;
      u16(p + 6, shndx);
      word(p + 8, value);
    } else {
      word(p + 4, value);
      buf[p + 12] = info;
      buf[p + 13] = 0;
      u16(p + 14, shndx);
    }
  };
  sym(1, impIdx, 0x12, 0, 0); // GLOBAL FUNC, undefined
  sym(2, expIdx, 0x12, 2, BASE + symOff); // GLOBAL FUNC, defined in section 2
  // DT_HASH: nbucket 1, nchain 3, bucket[0] = 2, chain = [0, 0, 1]
  for (const [i, v] of [1, nsyms, 2, 0, 0, 1].entries()) {
    if (hashEnt === 8) word(hashOff + i * 8, v);
    else u32(hashOff + i * 4, v);
  }
  dyn.forEach(([t, v], i) => {
    word(dynOff + i * dynent, t);
    word(dynOff + i * dynent + wordSize, v);
  });
  u32(noteOff, 4);
  u32(noteOff + 4, buildId.length);
  u32(noteOff + 8, 3);
  buf.set([...enc.encode('GNU'), 0, ...buildId], noteOff + 12);
  if (withSections) {
    buf.set(shstr, shstrOff);
    const sec = (
      i: number,
      name: number,
      type: number,
      fo: number,
      sz: number,
      link: number,
      entsize: number,
      flags: number,
    ) => {
      const p = shoff + i * shent;
      u32(p, name);
      u32(p + 4, type);
      if (is64) {
        word(p + 8, flags);
        word(p + 16, flags ? BASE + fo : 0);
        word(p + 24, fo);
        word(p + 32, sz);
        u32(p + 40, link);
        u32(p + 44, type === 11 ? 1 : 0);
        word(p + 48, 8);
        word(p + 56, entsize);
      } else {
        word(p + 8, flags);
        word(p + 12, flags ? BASE + fo : 0);
        word(p + 16, fo);
        word(p + 20, sz);
        u32(p + 24, link);
        u32(p + 28, type === 11 ? 1 : 0);
        word(p + 32, 4);
        word(p + 36, entsize);
      }
    };
    sec(1, 1, 3, strOff, strs.length, 0, 0, 2);
    sec(2, 9, 11, symOff, nsyms * syment, 1, syment, 2);
    sec(3, 17, 6, dynOff, dyn.length * dynent, 1, dynent, 3);
    sec(4, 26, 3, shstrOff, shstr.length, 0, 0, 0);
  }
  return buf;
}
