/**
 * parse-elf.ts — the ELF reader: header, program headers, dynamic section, .dynsym, notes. PURE.
 *
 * Specs: ELF gABI https://refspecs.linuxfoundation.org/elf/gabi4+/contents.html (extended numbering:
 * ch4.sheader.html, "PN_XNUM"/"SHN_XINDEX"), GNU hash https://sourceware.org/ml/binutils/2006-10/msg00377.html,
 * dlopen notes https://systemd.io/ELF_DLOPEN_METADATA/ .
 *
 * Hostile input (RELIABILITY.md G3–G5, G7): every offset and count is checked against the file size
 * before anything is read or allocated; every loop is bounded by a count so checked; strings must end
 * with NUL inside their table. Structural damage throws FromscratchError('MALFORMED_ELF'); damage in
 * optional parts (notes, symbol counts over the cap) leaves a partial result and a line in `warnings`.
 */
import { decodePathBytes } from '../fs/path.ts';
import { machineName } from './abi.ts';
import {
  type ByteRange,
  checkRange,
  type ElfSource,
  type ElfView,
  inFile,
  MissingBytes,
  malformedElf,
  wholeSource,
} from './byte-source.ts';
import type { DlopenNote, ElfClass, ElfInfo, ElfType } from './types.ts';

/** ParseElfOptions tunes what parseElf decodes beyond the header and dynamic section. */
export interface ParseElfOptions {
  /**
   * decode `.dynsym` into importedSymbols/exportedSymbols (default true). false skips the symbol table,
   * which is most of the work (and, for readElf, most of the bytes read) for big libraries.
   * `'imported'` decodes only importedSymbols (exportedSymbols is then empty): no name of a defined
   * symbol is decoded, and only the (usually small) imported list is sorted.
   */
  readonly symbols?: boolean | 'imported';
  /**
   * when set (and `symbols` is not false), importedSymbols lists only the imported names in this set
   * and exportedSymbols is empty: the cheapest mode for a caller that only tests membership, as no
   * other name is decoded (the bytes of each imported name are compared with the wanted ones).
   */
  readonly wantSymbols?: ReadonlySet<string>;
  /** at most this many `.dynsym` entries are decoded (default 1,000,000); past it the lists are partial, with a warning */
  readonly maxSymbols?: number;
  /** decode notes: `.note.dlopen` and the GNU build id (default true) */
  readonly notes?: boolean;
}

/** MAX_INTERP_BYTES bounds PT_INTERP with its NUL, as the kernel does (PATH_MAX, fs/binfmt_elf.c). */
export const MAX_INTERP_BYTES = 4096;
/** MAX_DYNAMIC_STRING bounds one DT_NEEDED/SONAME/RPATH/RUNPATH string. */
export const MAX_DYNAMIC_STRING = 65536;
/** MAX_HEADERS bounds program and section header counts, even when the file is big enough to hold more. */
export const MAX_HEADERS = 1 << 20;
const DEFAULT_MAX_SYMBOLS = 1_000_000;
/** STRING_WINDOW is the first look at a dynamic string; longer ones are read again up to MAX_DYNAMIC_STRING. */
const STRING_WINDOW = 512;
const MAX_NOTES_PER_REGION = 4096;
const MAX_DLOPEN_DESC = 64 * 1024;
const MAX_DLOPEN_ENTRIES = 1024;
const MAX_DLOPEN_SONAMES = 64;

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PT_NOTE = 4;
const SHT_STRTAB = 3;
const SHT_DYNAMIC = 6;
const SHT_NOTE = 7;
const SHT_DYNSYM = 11;
const PN_XNUM = 0xffff;
const SHN_XINDEX = 0xffff;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_HASH = 4;
const DT_STRTAB = 5;
const DT_SYMTAB = 6;
const DT_STRSZ = 10;
const DT_SYMENT = 11;
const DT_SONAME = 14;
const DT_RPATH = 15;
const DT_RUNPATH = 29;
const DT_FLAGS = 30;
const DT_GNU_HASH = 0x6ffffef5;
const DT_FLAGS_1 = 0x6ffffffb;
/** DF_1_PIE marks a position-independent executable (static-pie when there is no PT_INTERP). */
const DF_1_PIE = 0x08000000;
const NT_GNU_BUILD_ID = 3;
/** NT_GO_BUILD_ID is the type of the Go linker's `Go` note (cmd/link: ELF_NOTE_GOBUILDID_TAG). */
const NT_GO_BUILD_ID = 4;
/** NT_FDO_DLOPEN_METADATA, https://systemd.io/ELF_DLOPEN_METADATA/ */
const NT_FDO_DLOPEN_METADATA = 0x407c0c0a;
const EM_S390 = 22;
const EM_ALPHA = 0x9026;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * isElf tells whether bytes start with the ELF magic `\x7fELF`. It looks at nothing else; parseElf
 * then validates the rest.
 */
export function isElf(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46
  );
}

/**
 * parseElf decodes the header, program headers, dynamic section, `.dynsym` and notes of the ELF file
 * `bytes` (the whole file). It never executes anything and never allocates from a count it has not
 * checked against the file size.
 *
 * @throws FromscratchError MALFORMED_ELF "malformed ELF <what>: <why>" for a file that is not ELF, is
 * truncated, or has offsets, counts or strings outside the file.
 * @example
 * const info = parseElf(await readFile('/usr/bin/ls'));
 * info.interpreter; // '/lib64/ld-linux-x86-64.so.2'
 * info.needed;      // ['libselinux.so.1', 'libc.so.6']
 */
export function parseElf(bytes: Uint8Array, opts: ParseElfOptions = {}): ElfInfo {
  return parseElfSource(wholeSource(bytes), opts);
}

interface Load {
  readonly vaddr: number;
  readonly offset: number;
  readonly filesz: number;
}

interface Region {
  readonly offset: number;
  readonly size: number;
  readonly align: number;
}

interface Section {
  readonly index: number;
  readonly type: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly addralign: number;
  readonly entsize: number;
}

interface Sections {
  readonly dynsym?: Section;
  readonly dynamic?: Section;
  readonly notes: readonly Section[];
  section(index: number): Section | undefined;
}

/** StrTab is a string table's place in the file: [offset, end). */
interface StrTab {
  readonly offset: number;
  readonly end: number;
}

function elfType(t: number): ElfType {
  switch (t) {
    case 0:
      return 'none';
    case 1:
      return 'rel';
    case 2:
      return 'exec';
    case 3:
      return 'dyn';
    case 4:
      return 'core';
    default:
      return 'other';
  }
}

/** word reads an unsigned address-sized field; 64-bit values past 2^53 lose precision but still fail every bounds check. */
function word(dv: DataView, off: number, le: boolean, is64: boolean): number {
  if (!is64) return dv.getUint32(off, le);
  const lo = dv.getUint32(le ? off : off + 4, le);
  const hi = dv.getUint32(le ? off + 4 : off, le);
  return hi * 0x100000000 + lo;
}

function hex(n: number): string {
  return Number.isSafeInteger(n) && n >= 0 ? `0x${n.toString(16)}` : String(n);
}

/**
 * latin1 decodes bytes one char per byte. Buffer's native latin1 is ~20× faster than
 * TextDecoder('latin1') (which is windows-1252 through ICU); Buffer is a global, no IO is involved.
 */
function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/** decodeName turns name bytes into a string: ASCII fast, anything else with surrogateescape (round-trips). */
function decodeName(b: Uint8Array): string {
  for (let i = 0; i < b.length; i++) if (b[i]! >= 0x80) return decodePathBytes(b);
  return latin1(b);
}

/**
 * parseElfSource is parseElf over an {@link ElfSource}; read-elf.ts drives it over a partly read file.
 * Same contract as parseElf.
 */
export function parseElfSource(src: ElfSource, opts: ParseElfOptions = {}): ElfInfo {
  const size = src.size;
  const warnings: string[] = [];
  if (size < 16)
    throw malformedElf('header', `file is ${size} bytes, shorter than an ELF identification (16 bytes)`);
  const ident = src.bytes(0, 16, 'header');
  if (!isElf(ident)) throw malformedElf('header', 'no ELF magic (\\x7fELF) at the start of the file');
  const eiClass = ident[4]!;
  if (eiClass !== 1 && eiClass !== 2)
    throw malformedElf('header', `EI_CLASS is ${eiClass}, not 1 (ELF32) or 2 (ELF64)`);
  const eiData = ident[5]!;
  if (eiData !== 1 && eiData !== 2)
    throw malformedElf('header', `EI_DATA is ${eiData}, not 1 (little endian) or 2 (big endian)`);
  if (ident[6] !== 1) warnings.push(`EI_VERSION is ${ident[6]}, not 1`);
  const cls: ElfClass = eiClass === 2 ? 64 : 32;
  const is64 = cls === 64;
  const le = eiData === 1;
  const osabi = ident[7]!;

  const ehsize = is64 ? 64 : 52;
  if (size < ehsize)
    throw malformedElf('header', `file is ${size} bytes, shorter than an ELF${cls} header (${ehsize} bytes)`);
  const h = src.view(0, ehsize, 'header');
  const hv = h.dv;
  const ha = h.at;
  const eType = hv.getUint16(ha + 16, le);
  const machine = hv.getUint16(ha + 18, le);
  const phoff = word(hv, ha + (is64 ? 32 : 28), le, is64);
  const shoff = word(hv, ha + (is64 ? 40 : 32), le, is64);
  const flags = hv.getUint32(ha + (is64 ? 48 : 36), le);
  const o = ha + (is64 ? 54 : 42);
  const phentsize = hv.getUint16(o, le);
  const ePhnum = hv.getUint16(o + 2, le);
  const shentsize = hv.getUint16(o + 4, le);
  const eShnum = hv.getUint16(o + 6, le);
  const eShstrndx = hv.getUint16(o + 8, le);
  const phentMin = is64 ? 56 : 32;
  const shentMin = is64 ? 64 : 40;

  // Section header table: validated now (arithmetic only), read lazily. Extended numbering keeps the
  // real counts in section 0 (gABI: sh_size = e_shnum, sh_link = e_shstrndx, sh_info = e_phnum).
  let phnum = ePhnum;
  let shnum = eShnum;
  let shstrndx = eShstrndx;
  if (shoff !== 0) {
    if (shentsize < shentMin) {
      throw malformedElf(
        'section headers',
        `e_shentsize is ${shentsize}, smaller than an ELF${cls} section header (${shentMin})`,
      );
    }
    checkRange(shoff, shentsize, size, 'section headers');
    if (eShnum === 0 || ePhnum === PN_XNUM || eShstrndx === SHN_XINDEX) {
      const s0 = src.view(shoff, shentsize, 'section header 0');
      if (eShnum === 0) shnum = word(s0.dv, s0.at + (is64 ? 32 : 20), le, is64);
      if (eShstrndx === SHN_XINDEX) shstrndx = s0.dv.getUint32(s0.at + (is64 ? 40 : 24), le);
      if (ePhnum === PN_XNUM) phnum = s0.dv.getUint32(s0.at + (is64 ? 44 : 28), le);
    }
    if (shnum > MAX_HEADERS)
      throw malformedElf('section headers', `${shnum} sections is more than the ${MAX_HEADERS} allowed`);
    checkRange(
      shoff,
      shnum * shentsize,
      size,
      `section headers (${shnum} × ${shentsize} bytes at ${hex(shoff)})`,
    );
    if (shstrndx !== 0 && shstrndx >= shnum)
      warnings.push(`e_shstrndx ${shstrndx} is not below the section count ${shnum}`);
  } else {
    if (eShnum !== 0) warnings.push(`e_shnum is ${eShnum} but e_shoff is 0: no section headers`);
    if (ePhnum === PN_XNUM)
      throw malformedElf(
        'program headers',
        'e_phnum is PN_XNUM (0xffff) but there is no section 0 holding the real count',
      );
    shnum = 0;
  }

  // Program headers.
  const loads: Load[] = [];
  const readOnly: { offset: number; size: number }[] = [];
  const notes: Region[] = [];
  let interp: Region | undefined;
  let dynSeg: Region | undefined;
  if (phnum > 0) {
    if (phoff === 0) throw malformedElf('program headers', `e_phnum is ${phnum} but e_phoff is 0`);
    if (phentsize < phentMin) {
      throw malformedElf(
        'program headers',
        `e_phentsize is ${phentsize}, smaller than an ELF${cls} program header (${phentMin})`,
      );
    }
    if (phnum > MAX_HEADERS)
      throw malformedElf(
        'program headers',
        `${phnum} program headers is more than the ${MAX_HEADERS} allowed`,
      );
    const p = src.view(
      phoff,
      phnum * phentsize,
      `program headers (${phnum} × ${phentsize} bytes at ${hex(phoff)})`,
    );
    for (let i = 0; i < phnum; i++) {
      const b = p.at + i * phentsize;
      const t = p.dv.getUint32(b, le);
      if (t !== PT_LOAD && t !== PT_DYNAMIC && t !== PT_INTERP && t !== PT_NOTE) continue;
      const offset = word(p.dv, b + (is64 ? 8 : 4), le, is64);
      const vaddr = word(p.dv, b + (is64 ? 16 : 8), le, is64);
      const filesz = word(p.dv, b + (is64 ? 32 : 16), le, is64);
      const align = word(p.dv, b + (is64 ? 48 : 28), le, is64);
      if (t === PT_LOAD) {
        loads.push({ vaddr, offset, filesz });
        // p_flags: PF_R 4, PF_W 2, PF_X 1
        const flags = p.dv.getUint32(b + (is64 ? 4 : 24), le);
        if ((flags & 7) === 4 && filesz > 0) readOnly.push({ offset, size: filesz });
      } else if (t === PT_DYNAMIC) {
        if (dynSeg) warnings.push('more than one PT_DYNAMIC: the first is used');
        else dynSeg = { offset, size: filesz, align };
      } else if (t === PT_INTERP) {
        if (interp) warnings.push('more than one PT_INTERP: the first is used');
        else interp = { offset, size: filesz, align };
      } else notes.push({ offset, size: filesz, align });
    }
  }

  // One round for everything the program headers point at (and the section headers when symbols
  // are wanted): a partial source reads them together.
  const first: ByteRange[] = [];
  if (interp && interp.size <= MAX_INTERP_BYTES) first.push({ offset: interp.offset, length: interp.size });
  if (dynSeg) first.push({ offset: dynSeg.offset, length: dynSeg.size });
  if (opts.notes !== false) for (const n of notes) first.push({ offset: n.offset, length: n.size });
  if (opts.symbols !== false && shnum > 0) first.push({ offset: shoff, length: shnum * shentsize });
  src.prefetch(first);

  // PT_INTERP, validated as the kernel does (fs/binfmt_elf.c): 2..PATH_MAX bytes, last byte NUL.
  let interpreter: string | undefined;
  if (interp) {
    const n = interp.size;
    if (n < 2 || n > MAX_INTERP_BYTES) {
      throw malformedElf(
        'interpreter',
        `PT_INTERP is ${n} bytes; a loader path must be 2 to ${MAX_INTERP_BYTES} bytes with its NUL`,
      );
    }
    const b = src.bytes(interp.offset, n, 'interpreter (PT_INTERP)');
    if (b[n - 1] !== 0) throw malformedElf('interpreter', 'PT_INTERP is not NUL-terminated');
    const nul = b.indexOf(0);
    if (nul === 0) throw malformedElf('interpreter', 'PT_INTERP is an empty string');
    interpreter = decodeName(b.subarray(0, nul));
  }

  // Sections are read on first use only: the common path (interpreter, needed) never touches them.
  let secs: Sections | undefined;
  const sections = (): Sections => {
    if (secs) return secs;
    secs = readSections(src, shoff, shnum, shentsize, is64, le, warnings);
    return secs;
  };

  const vaddrToOffset = (addr: number): Load | undefined => {
    for (const l of loads) if (addr >= l.vaddr && addr < l.vaddr + l.filesz) return l;
    return undefined;
  };

  // Dynamic section.
  const needed: string[] = [];
  let soname: string | undefined;
  let rpath: string[] = [];
  let runpath: string[] = [];
  let dtFlags = 0;
  let flags1 = 0;
  let dynStrTab: StrTab | undefined;
  let dt: DynamicTags | undefined;
  if (dynSeg) {
    let region: Region = dynSeg;
    if (!inFile(dynSeg.offset, dynSeg.size, size)) {
      const s = shnum > 0 ? sections().dynamic : undefined;
      if (!s || !inFile(s.offset, s.size, size)) {
        checkRange(dynSeg.offset, dynSeg.size, size, 'dynamic segment (PT_DYNAMIC)');
      } else {
        warnings.push('PT_DYNAMIC lies outside the file: the .dynamic section is used');
        region = { offset: s.offset, size: s.size, align: s.addralign };
      }
    }
    dt = readDynamicTags(src, region, is64, le);
    dtFlags = dt.flags;
    flags1 = dt.flags1;
    if (
      dt.needed.length > 0 ||
      dt.soname !== undefined ||
      dt.rpath !== undefined ||
      dt.runpath !== undefined
    ) {
      dynStrTab = findDynStr(dt, size, vaddrToOffset, shnum > 0 ? sections : undefined);
    }
  }

  // Where .dynsym is, found before any string is read so that one prefetch asks for everything.
  // A damaged symbol table is reported after the dynamic strings (those matter more).
  let table: SymbolTable | undefined;
  let tableError: unknown;
  if (opts.symbols !== false) {
    try {
      table =
        shnum > 0 && sections().dynsym
          ? dynsymFromSection(src, sections(), is64, warnings)
          : dt
            ? dynsymFromDynamic(src, dt, dynStrTab, vaddrToOffset, is64, le, machine, warnings)
            : undefined;
    } catch (e) {
      if (e instanceof MissingBytes) throw e;
      tableError = e;
    }
  }
  const maxSymbols = opts.maxSymbols ?? DEFAULT_MAX_SYMBOLS;
  const want: ByteRange[] = [];
  const tab = dynStrTab;
  if (dt && tab) {
    for (const idx of [...dt.needed, dt.soname, dt.rpath, dt.runpath]) {
      if (idx !== undefined && idx >= 0 && idx < tab.end - tab.offset) {
        want.push({ offset: tab.offset + idx, length: Math.min(STRING_WINDOW, tab.end - tab.offset - idx) });
      }
    }
  }
  if (table) {
    want.push({ offset: table.offset, length: Math.min(table.count, maxSymbols) * table.entsize });
    want.push({ offset: table.str.offset, length: table.str.end - table.str.offset });
  }
  src.prefetch(want);

  if (dt && tab) {
    const str = (idx: number, what: string) => dynamicString(src, tab, idx, what);
    for (const idx of dt.needed) {
      const s = str(idx, 'DT_NEEDED entry');
      if (s === '') warnings.push('empty DT_NEEDED entry ignored');
      else needed.push(s);
    }
    if (dt.soname !== undefined) soname = str(dt.soname, 'DT_SONAME');
    if (dt.rpath !== undefined) rpath = str(dt.rpath, 'DT_RPATH').split(':');
    if (dt.runpath !== undefined) runpath = str(dt.runpath, 'DT_RUNPATH').split(':');
  }

  // Symbols.
  if (tableError !== undefined) throw tableError;
  let importedSymbols: string[] = [];
  let exportedSymbols: string[] = [];
  if (table) {
    const syms = decodeSymbols(src, table, is64, le, maxSymbols, warnings, symbolMode(opts));
    importedSymbols = syms.imported;
    exportedSymbols = syms.exported;
  }

  // Notes: PT_NOTE segments hold the allocated notes (build id, .note.dlopen); sections are read
  // only for files without program headers (relocatable objects).
  const dlopen: DlopenNote[] = [];
  let buildId: string | undefined;
  let goBuildId: string | undefined;
  if (opts.notes !== false) {
    let regions: Region[] = notes;
    if (regions.length === 0 && shnum > 0) {
      regions = sections().notes.map((s) => ({ offset: s.offset, size: s.size, align: s.addralign }));
    }
    for (const r of regions) {
      if (!inFile(r.offset, r.size, size)) {
        warnings.push(`note region at ${hex(r.offset)} (${r.size} bytes) lies outside the file`);
        continue;
      }
      readNotes(src, r, le, warnings, (owner, type, desc) => {
        if (
          owner === 'GNU' &&
          type === NT_GNU_BUILD_ID &&
          buildId === undefined &&
          desc.length > 0 &&
          desc.length <= 64
        ) {
          buildId = Array.from(desc, (x) => x.toString(16).padStart(2, '0')).join('');
        } else if (
          owner === 'Go' &&
          type === NT_GO_BUILD_ID &&
          goBuildId === undefined &&
          desc.length <= 256
        ) {
          goBuildId = Buffer.from(desc).toString('latin1');
        } else if (owner === 'FDO' && type === NT_FDO_DLOPEN_METADATA) {
          parseDlopenNote(desc, dlopen, warnings);
        }
      });
    }
  }

  const dynamic = dynSeg !== undefined;
  const type = elfType(eType);
  const isStatic =
    interpreter === undefined &&
    needed.length === 0 &&
    (!dynamic || type === 'exec' || (flags1 & DF_1_PIE) !== 0);
  const info: ElfInfo = {
    class: cls,
    endian: le ? 'little' : 'big',
    machine,
    machineName: machineName(machine, cls),
    osabi,
    type,
    flags,
    dynamic,
    needed,
    rpath,
    runpath,
    flags1,
    dtFlags,
    importedSymbols,
    exportedSymbols,
    dlopen,
    isStatic,
    phnum,
    shnum,
    shstrndx,
    warnings,
    ...(interpreter !== undefined ? { interpreter } : {}),
    ...(soname !== undefined ? { soname } : {}),
    ...(buildId !== undefined ? { buildId } : {}),
    ...(dynStrTab !== undefined ? { dynamicStrings: { offset: dynStrTab.offset, end: dynStrTab.end } } : {}),
    ...(goBuildId !== undefined ? { goBuildId } : {}),
    ...(readOnly.length > 0 ? { readOnlyData: readOnly.sort((a, b) => a.offset - b.offset) } : {}),
  };
  return info;
}

function readSections(
  src: ElfSource,
  shoff: number,
  shnum: number,
  shentsize: number,
  is64: boolean,
  le: boolean,
  warnings: string[],
): Sections {
  if (shnum === 0) return { notes: [], section: () => undefined };
  const v = src.view(shoff, shnum * shentsize, 'section headers');
  const section = (i: number): Section | undefined => {
    if (i <= 0 || i >= shnum) return undefined;
    const b = v.at + i * shentsize;
    return {
      index: i,
      type: v.dv.getUint32(b + 4, le),
      offset: word(v.dv, b + (is64 ? 24 : 16), le, is64),
      size: word(v.dv, b + (is64 ? 32 : 20), le, is64),
      link: v.dv.getUint32(b + (is64 ? 40 : 24), le),
      addralign: word(v.dv, b + (is64 ? 48 : 32), le, is64),
      entsize: word(v.dv, b + (is64 ? 56 : 36), le, is64),
    };
  };
  let dynsym: Section | undefined;
  let dynamic: Section | undefined;
  const notes: Section[] = [];
  for (let i = 1; i < shnum; i++) {
    const t = v.dv.getUint32(v.at + i * shentsize + 4, le);
    if (t === SHT_DYNSYM) {
      if (dynsym) warnings.push('more than one SHT_DYNSYM section: the first is used');
      else dynsym = section(i);
    } else if (t === SHT_DYNAMIC) {
      if (!dynamic) dynamic = section(i);
    } else if (t === SHT_NOTE && notes.length < MAX_NOTES_PER_REGION) {
      notes.push(section(i)!);
    }
  }
  return { ...(dynsym ? { dynsym } : {}), ...(dynamic ? { dynamic } : {}), notes, section };
}

/** DynamicTags holds the values of the dynamic entries fromscratch uses. */
interface DynamicTags {
  readonly needed: number[];
  soname?: number;
  rpath?: number;
  runpath?: number;
  strtab?: number;
  strsz?: number;
  symtab?: number;
  syment?: number;
  hash?: number;
  gnuHash?: number;
  flags: number;
  flags1: number;
}

function readDynamicTags(src: ElfSource, region: Region, is64: boolean, le: boolean): DynamicTags {
  const ent = is64 ? 16 : 8;
  const count = Math.floor(region.size / ent);
  const v = src.view(region.offset, count * ent, 'dynamic segment (PT_DYNAMIC)');
  const t: DynamicTags = { needed: [], flags: 0, flags1: 0 };
  let terminated = false;
  for (let i = 0; i < count; i++) {
    const b = v.at + i * ent;
    let tag: number;
    if (is64) {
      const hi = v.dv.getUint32(le ? b + 4 : b, le);
      const lo = v.dv.getUint32(le ? b : b + 4, le);
      tag = hi === 0 ? lo : -1; // every tag used here fits in 32 bits; others are skipped
    } else {
      tag = v.dv.getUint32(b, le);
    }
    if (tag === DT_NULL) {
      terminated = true;
      break;
    }
    const val = word(v.dv, b + (is64 ? 8 : 4), le, is64);
    switch (tag) {
      case DT_NEEDED:
        t.needed.push(val);
        break;
      case DT_SONAME:
        t.soname ??= val;
        break;
      case DT_RPATH:
        t.rpath ??= val;
        break;
      case DT_RUNPATH:
        t.runpath ??= val;
        break;
      case DT_STRTAB:
        t.strtab ??= val;
        break;
      case DT_STRSZ:
        t.strsz ??= val;
        break;
      case DT_SYMTAB:
        t.symtab ??= val;
        break;
      case DT_SYMENT:
        t.syment ??= val;
        break;
      case DT_HASH:
        t.hash ??= val;
        break;
      case DT_GNU_HASH:
        t.gnuHash ??= val;
        break;
      case DT_FLAGS:
        t.flags = val >>> 0;
        break;
      case DT_FLAGS_1:
        t.flags1 = val >>> 0;
        break;
    }
  }
  if (!terminated) throw malformedElf('dynamic segment', `no DT_NULL among its ${count} entries`);
  return t;
}

/** findDynStr locates the dynamic string table: DT_STRTAB through PT_LOAD, else the .dynamic section's sh_link. */
function findDynStr(
  dt: DynamicTags,
  size: number,
  vaddrToOffset: (a: number) => Load | undefined,
  sections: (() => Sections) | undefined,
): StrTab {
  if (dt.strtab !== undefined) {
    const l = vaddrToOffset(dt.strtab);
    if (l && inFile(l.offset, l.filesz, size)) {
      const offset = l.offset + (dt.strtab - l.vaddr);
      let end = l.offset + l.filesz;
      if (dt.strsz !== undefined && dt.strsz < end - offset) end = offset + dt.strsz;
      return { offset, end };
    }
  }
  const s = sections?.();
  const ds = s?.dynamic;
  const st = ds ? s!.section(ds.link) : undefined;
  if (st && st.type === SHT_STRTAB && inFile(st.offset, st.size, size))
    return { offset: st.offset, end: st.offset + st.size };
  if (dt.strtab === undefined)
    throw malformedElf('dynamic string table', 'the dynamic section has names but no DT_STRTAB');
  throw malformedElf(
    'dynamic string table',
    `DT_STRTAB ${hex(dt.strtab)} is not inside any PT_LOAD segment in the file and there is no .dynstr section`,
  );
}

function dynamicString(src: ElfSource, tab: StrTab, idx: number, what: string): string {
  const len = tab.end - tab.offset;
  if (!(idx >= 0 && idx < len))
    throw malformedElf(what, `string index ${hex(idx)} is outside the string table (${len} bytes)`);
  const p = tab.offset + idx;
  // a small window first (what prefetch asked for), the full bound only for long strings
  const small = src.bytes(p, Math.min(tab.end - p, STRING_WINDOW), what);
  let nul = small.indexOf(0);
  if (nul >= 0) return decodeName(small.subarray(0, nul));
  const n = Math.min(tab.end - p, MAX_DYNAMIC_STRING + 1);
  const b = src.bytes(p, n, what);
  nul = b.indexOf(0);
  if (nul < 0) {
    throw malformedElf(
      what,
      n > MAX_DYNAMIC_STRING
        ? `string is longer than ${MAX_DYNAMIC_STRING} bytes`
        : 'string is not NUL-terminated',
    );
  }
  return decodeName(b.subarray(0, nul));
}

/** SymbolTable is where .dynsym entries and their names are. */
interface SymbolTable {
  readonly offset: number;
  readonly count: number;
  readonly entsize: number;
  readonly str: StrTab;
}

function dynsymFromSection(
  src: ElfSource,
  secs: Sections,
  is64: boolean,
  warnings: string[],
): SymbolTable | undefined {
  const s = secs.dynsym!;
  const min = is64 ? 24 : 16;
  const entsize = s.entsize === 0 ? min : s.entsize;
  if (entsize < min)
    throw malformedElf(
      'dynamic symbol table',
      `sh_entsize ${entsize} is smaller than an ELF${is64 ? 64 : 32} symbol (${min})`,
    );
  checkRange(s.offset, s.size, src.size, 'dynamic symbol table (.dynsym)');
  const st = secs.section(s.link);
  if (s.link === s.index || !st || st.type !== SHT_STRTAB) {
    throw malformedElf(
      'dynamic symbol table',
      `sh_link ${s.link} of section ${s.index} is not a string table`,
    );
  }
  checkRange(st.offset, st.size, src.size, 'dynamic string table (.dynstr)');
  if (s.size % entsize !== 0)
    warnings.push(`.dynsym size ${s.size} is not a multiple of its entry size ${entsize}`);
  return {
    offset: s.offset,
    count: Math.floor(s.size / entsize),
    entsize,
    str: { offset: st.offset, end: st.offset + st.size },
  };
}

/** dynsymFromDynamic finds .dynsym without section headers: DT_SYMTAB, counted by DT_HASH nchain or by walking DT_GNU_HASH. */
function dynsymFromDynamic(
  src: ElfSource,
  dt: DynamicTags,
  str: StrTab | undefined,
  vaddrToOffset: (a: number) => Load | undefined,
  is64: boolean,
  le: boolean,
  machine: number,
  warnings: string[],
): SymbolTable | undefined {
  if (dt.symtab === undefined || dt.strtab === undefined) return undefined;
  const min = is64 ? 24 : 16;
  const entsize = dt.syment ?? min;
  if (entsize < min)
    throw malformedElf('dynamic symbol table', `DT_SYMENT ${entsize} is smaller than a symbol (${min})`);
  const l = vaddrToOffset(dt.symtab);
  if (!l || !inFile(l.offset, l.filesz, src.size)) {
    warnings.push(`DT_SYMTAB ${hex(dt.symtab)} is not inside a PT_LOAD segment in the file: no symbols`);
    return undefined;
  }
  const offset = l.offset + (dt.symtab - l.vaddr);
  const room = Math.floor((l.offset + l.filesz - offset) / entsize);
  let count: number | undefined;
  const hashLoad = (a: number | undefined) => (a === undefined ? undefined : vaddrToOffset(a));
  const hl = hashLoad(dt.hash);
  if (dt.hash !== undefined && hl && inFile(hl.offset, hl.filesz, src.size)) {
    // DT_HASH: nbucket, nchain; nchain is the number of symbols. Entries are 8 bytes on 64-bit s390 and alpha.
    const h = hl.offset + (dt.hash - hl.vaddr);
    const wide = is64 && (machine === EM_S390 || machine === EM_ALPHA);
    const v = src.view(h, wide ? 16 : 8, 'DT_HASH table');
    count = wide ? word(v.dv, v.at + 8, le, true) : v.dv.getUint32(v.at + 4, le);
  } else {
    const gl = hashLoad(dt.gnuHash);
    if (dt.gnuHash !== undefined && gl && inFile(gl.offset, gl.filesz, src.size)) {
      count = gnuHashCount(src, gl.offset + (dt.gnuHash - gl.vaddr), gl.offset + gl.filesz, is64, le);
    }
  }
  if (count === undefined) {
    warnings.push('no section headers, DT_HASH or DT_GNU_HASH to count .dynsym: no symbols');
    return undefined;
  }
  if (count > room) {
    warnings.push(`symbol count ${count} runs past the end of its segment: ${room} read`);
    count = room;
  }
  if (!str) {
    const s = vaddrToOffset(dt.strtab);
    if (!s) return undefined;
    const so = s.offset + (dt.strtab - s.vaddr);
    let end = s.offset + s.filesz;
    if (dt.strsz !== undefined && dt.strsz < end - so) end = so + dt.strsz;
    str = { offset: so, end };
  }
  return { offset, count, entsize, str };
}

/** gnuHashCount returns 1 + the highest symbol index reachable from a DT_GNU_HASH table, reading nothing past `end`. */
function gnuHashCount(src: ElfSource, off: number, end: number, is64: boolean, le: boolean): number {
  const hv = src.view(off, 16, 'DT_GNU_HASH header');
  const nbuckets = hv.dv.getUint32(hv.at, le);
  const symoffset = hv.dv.getUint32(hv.at + 4, le);
  const bloomSize = hv.dv.getUint32(hv.at + 8, le);
  const buckets = off + 16 + bloomSize * (is64 ? 8 : 4);
  if (!inFile(buckets, nbuckets * 4, end) || buckets + nbuckets * 4 > end) {
    throw malformedElf('DT_GNU_HASH table', `${nbuckets} buckets run past the end of its segment`);
  }
  const bv = src.view(buckets, nbuckets * 4, 'DT_GNU_HASH buckets');
  let max = 0;
  for (let i = 0; i < nbuckets; i++) max = Math.max(max, bv.dv.getUint32(bv.at + i * 4, le));
  if (max < symoffset) return symoffset;
  const chains = buckets + nbuckets * 4;
  // walk the last chain until its end bit; bounded by the segment end
  const first = chains + (max - symoffset) * 4;
  const limit = Math.floor((end - first) / 4);
  if (limit <= 0) throw malformedElf('DT_GNU_HASH table', 'chain starts past the end of its segment');
  const cv = src.view(first, limit * 4, 'DT_GNU_HASH chains');
  for (let i = 0; i < limit; i++) {
    if (cv.dv.getUint32(cv.at + i * 4, le) & 1) return max + i + 1;
  }
  throw malformedElf('DT_GNU_HASH table', 'a hash chain has no end marker before the end of its segment');
}

/** SymbolMode is what decodeSymbols reports: everything, imported names only, or imported names of a set. */
type SymbolMode = 'all' | 'imported' | WantMatcher;

/** WantMatcher holds the wanted names as bytes, grouped by first byte, to compare without decoding. */
interface WantMatcher {
  readonly byFirst: ReadonlyMap<number, readonly { readonly name: string; readonly bytes: Uint8Array }[]>;
}

/** matchers caches one WantMatcher per wanted set (callers pass the same set for every file). */
const matchers = new WeakMap<ReadonlySet<string>, WantMatcher>();

function symbolMode(opts: ParseElfOptions): SymbolMode {
  const want = opts.wantSymbols;
  if (want) {
    let m = matchers.get(want);
    if (!m) {
      const byFirst = new Map<number, { name: string; bytes: Uint8Array }[]>();
      for (const name of want) {
        if (name === '') continue;
        const bytes = new Uint8Array(Buffer.from(name, 'utf8'));
        const list = byFirst.get(bytes[0]!) ?? [];
        list.push({ name, bytes });
        byFirst.set(bytes[0]!, list);
      }
      m = { byFirst };
      matchers.set(want, m);
    }
    return m;
  }
  return opts.symbols === 'imported' ? 'imported' : 'all';
}

/** wantedAt returns the wanted name spelled, NUL-terminated, at `at` of the string table; undefined when none is. */
function wantedAt(m: WantMatcher, str: Uint8Array, at: number): string | undefined {
  const cands = m.byFirst.get(str[at]!);
  if (!cands) return undefined;
  next: for (const c of cands) {
    const n = c.bytes.length;
    if (at + n >= str.length || str[at + n] !== 0) continue;
    for (let k = 1; k < n; k++) if (str[at + k] !== c.bytes[k]) continue next;
    return c.name;
  }
  return undefined;
}

function decodeSymbols(
  src: ElfSource,
  t: SymbolTable,
  is64: boolean,
  le: boolean,
  maxSymbols: number,
  warnings: string[],
  mode: SymbolMode,
): { imported: string[]; exported: string[] } {
  let count = t.count;
  if (count > maxSymbols) {
    warnings.push(`.dynsym has ${count} symbols: only the first ${maxSymbols} are read`);
    count = maxSymbols;
  }
  if (count <= 1) return { imported: [], exported: [] };
  const v = src.view(t.offset, count * t.entsize, 'dynamic symbol table');
  const strLen = t.str.end - t.str.offset;
  const strBytes = src.bytes(t.str.offset, strLen, 'dynamic string table');
  if (mode !== 'all')
    return { imported: decodeImported(v, t, count, is64, le, strBytes, mode, warnings), exported: [] };
  // one latin1 decode of the whole table, then slices: names are ASCII in practice; non-ASCII names
  // are decoded again byte-exact below
  const strText = latin1(strBytes);
  const ascii = !/[^\x00-\x7f]/.test(strText);
  const imported = new Set<string>();
  const exported = new Set<string>();
  let bad = 0;
  for (let i = 1; i < count; i++) {
    const b = v.at + i * t.entsize;
    const name = v.dv.getUint32(b, le);
    if (name === 0) continue;
    const info = v.dv.getUint8(b + (is64 ? 4 : 12));
    const other = v.dv.getUint8(b + (is64 ? 5 : 13));
    const shndx = v.dv.getUint16(b + (is64 ? 6 : 14), le);
    if (name >= strLen) {
      bad++;
      continue;
    }
    const end = strText.indexOf('\0', name);
    if (end < 0) {
      bad++;
      continue;
    }
    const s = ascii ? strText.slice(name, end) : decodeName(strBytes.subarray(name, end));
    if (shndx === 0) {
      imported.add(s);
      continue;
    }
    const bind = info >> 4;
    const type = info & 0xf;
    const vis = other & 3;
    // GLOBAL, WEAK, GNU_UNIQUE; DEFAULT or PROTECTED visibility; not SECTION/FILE
    if ((bind === 1 || bind === 2 || bind === 10) && (vis === 0 || vis === 3) && type !== 3 && type !== 4)
      exported.add(s);
  }
  if (bad > 0)
    warnings.push(`${bad} .dynsym names lie outside or are not NUL-terminated in the string table`);
  return { imported: [...imported].sort(), exported: [...exported].sort() };
}

/**
 * decodeImported lists the undefined symbols of .dynsym (all of them, or those of a wanted set),
 * sorted, unique, decoding no name of a defined symbol.
 */
function decodeImported(
  v: ElfView,
  t: SymbolTable,
  count: number,
  is64: boolean,
  le: boolean,
  strBytes: Uint8Array,
  mode: 'imported' | WantMatcher,
  warnings: string[],
): string[] {
  const strLen = strBytes.length;
  const shndxAt = is64 ? 6 : 14;
  const imported = new Set<string>();
  let bad = 0;
  for (let i = 1; i < count; i++) {
    const b = v.at + i * t.entsize;
    if (v.dv.getUint16(b + shndxAt, le) !== 0) continue;
    const name = v.dv.getUint32(b, le);
    if (name === 0) continue;
    if (name >= strLen) {
      bad++;
      continue;
    }
    if (mode !== 'imported') {
      const w = wantedAt(mode, strBytes, name);
      if (w !== undefined) imported.add(w);
      continue;
    }
    const end = strBytes.indexOf(0, name);
    if (end < 0) {
      bad++;
      continue;
    }
    imported.add(decodeName(strBytes.subarray(name, end)));
  }
  if (bad > 0)
    warnings.push(`${bad} .dynsym names lie outside or are not NUL-terminated in the string table`);
  return [...imported].sort();
}

function readNotes(
  src: ElfSource,
  r: Region,
  le: boolean,
  warnings: string[],
  onNote: (owner: string, type: number, desc: Uint8Array) => void,
): void {
  // notes are 4-byte aligned, or 8-byte in segments/sections aligned to 8 (.note.gnu.property)
  const align = r.align === 8 ? 8 : 4;
  const up = (n: number) => Math.ceil(n / align) * align;
  const bytes = src.bytes(r.offset, r.size, 'note');
  const v = src.view(r.offset, r.size, 'note');
  let pos = 0;
  for (let n = 0; pos + 12 <= r.size; n++) {
    if (n >= MAX_NOTES_PER_REGION) {
      warnings.push(`more than ${MAX_NOTES_PER_REGION} notes at ${hex(r.offset)}: the rest are ignored`);
      return;
    }
    const namesz = v.dv.getUint32(v.at + pos, le);
    const descsz = v.dv.getUint32(v.at + pos + 4, le);
    const type = v.dv.getUint32(v.at + pos + 8, le);
    const nameAt = pos + 12;
    const descAt = up(nameAt + namesz); // alignment is of positions, so 8-aligned notes put desc at 16
    if (descAt + descsz > r.size) {
      warnings.push(`note at ${hex(r.offset + pos)} runs past the end of its region`);
      return;
    }
    let nameEnd = nameAt + namesz;
    while (nameEnd > nameAt && bytes[nameEnd - 1] === 0) nameEnd--;
    onNote(latin1(bytes.subarray(nameAt, nameEnd)), type, bytes.subarray(descAt, descAt + descsz));
    pos = up(descAt + descsz);
  }
}

/** parseDlopenNote appends the entries of one `.note.dlopen` JSON payload; a bad payload is a warning, not an error. */
function parseDlopenNote(desc: Uint8Array, out: DlopenNote[], warnings: string[]): void {
  if (desc.length > MAX_DLOPEN_DESC) {
    warnings.push(`.note.dlopen payload of ${desc.length} bytes is over ${MAX_DLOPEN_DESC}: ignored`);
    return;
  }
  let end = desc.length;
  while (end > 0 && desc[end - 1] === 0) end--;
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(desc.subarray(0, end)));
  } catch {
    warnings.push('.note.dlopen payload is not UTF-8 JSON: ignored');
    return;
  }
  if (!Array.isArray(value)) {
    warnings.push('.note.dlopen payload is not a JSON array: ignored');
    return;
  }
  for (const e of value.slice(0, MAX_DLOPEN_ENTRIES)) {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) {
      warnings.push('.note.dlopen entry is not an object: ignored');
      continue;
    }
    const r = e as Record<string, unknown>;
    const so = r.soname;
    if (
      !Array.isArray(so) ||
      so.length === 0 ||
      so.length > MAX_DLOPEN_SONAMES ||
      !so.every((s) => typeof s === 'string' && s !== '' && s.length <= 4096)
    ) {
      warnings.push('.note.dlopen entry has no valid "soname" array: ignored');
      continue;
    }
    const str = (k: string) => (typeof r[k] === 'string' ? { [k]: r[k] as string } : {});
    out.push({ ...str('feature'), ...str('description'), ...str('priority'), soname: [...(so as string[])] });
  }
  if (value.length > MAX_DLOPEN_ENTRIES)
    warnings.push(`.note.dlopen has ${value.length} entries: the first ${MAX_DLOPEN_ENTRIES} are read`);
}
