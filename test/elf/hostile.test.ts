/**
 * hostile.test.ts — RELIABILITY.md G3, G4, G5, G7: headers of real gcc-built binaries patched into
 * hostile shapes. Each row names what it pins; every row runs through parseElf (whole bytes) and
 * readElf (partial reads over memoryFs) and both must agree. Plus the well-formed baselines and a
 * seeded mutation sweep: no input may produce anything but a result or MALFORMED_ELF.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { isElf, parseElf } from '../../src/elf/parse-elf.ts';
import { readElf } from '../../src/elf/read-elf.ts';
import type { ElfInfo } from '../../src/elf/types.ts';
import { isFromscratchError } from '../../src/errors.ts';
import { memoryFs } from '../../src/fs/memory-fs.ts';
import { buildFixtures, Elf64, type Fixtures } from './gcc-fixture.ts';

let fx: Fixtures;
before(() => {
  fx = buildFixtures();
});

/** both runs parseElf and readElf (partial reads) and requires the same outcome. */
async function both(bytes: Uint8Array): Promise<ElfInfo | Error> {
  let a: ElfInfo | Error;
  try {
    a = parseElf(bytes);
  } catch (e) {
    a = e as Error;
  }
  let b: ElfInfo | Error;
  try {
    b = await readElf(memoryFs({ '/f': { type: 'file', data: bytes } }), '/f', { wholeFileMax: 0 });
  } catch (e) {
    b = e as Error;
  }
  if (a instanceof Error) {
    assert.ok(isFromscratchError(a, 'MALFORMED_ELF'), `parseElf threw ${a.stack}`);
    assert.ok(
      b instanceof Error && isFromscratchError(b, 'MALFORMED_ELF'),
      `readElf gave ${b instanceof Error ? b.stack : 'a result'}`,
    );
    assert.equal(b.message, `reading ELF /f: ${a.message}`);
    assert.ok(a.hint && a.hint.length > 0, 'MALFORMED_ELF without a hint');
  } else {
    assert.deepEqual(b, a);
  }
  return a;
}

/** result asserts r is a parse result (assert.ok without a message makes node re-read the source: slow under tsx). */
function result(r: ElfInfo | Error): asserts r is ElfInfo {
  if (r instanceof Error) assert.fail(`expected a result, got ${r.message}`);
}

function malformed(re: RegExp) {
  return (r: ElfInfo | Error) => {
    assert.ok(r instanceof Error, 'expected MALFORMED_ELF, got a result');
    assert.match(r.message, /^malformed ELF /);
    assert.match(r.message, re);
  };
}

describe('well-formed gcc fixtures', () => {
  test('program: interpreter, needed, rpath, flags_1 PIE, dlopen note, build id, symbols', async () => {
    const i = (await both(fx.program)) as ElfInfo;
    assert.equal(i.interpreter, '/lib64/ld-linux-x86-64.so.2');
    assert.deepEqual(i.needed, ['libm.so.6', 'libc.so.6']);
    assert.deepEqual(i.rpath, ['/opt/r1', '/opt/r2']);
    assert.deepEqual(i.runpath, []);
    assert.equal(i.flags1 & 0x08000000, 0x08000000);
    assert.deepEqual(i.dlopen, [
      { feature: 'fx', description: 'd', priority: 'recommended', soname: ['libfx.so.1', 'libfx.so.0'] },
    ]);
    assert.match(i.buildId ?? '', /^[0-9a-f]{40}$/);
    assert.ok(
      i.importedSymbols.includes('cos') && i.importedSymbols.includes('printf'),
      'imports cos, printf',
    );
    assert.ok(
      i.exportedSymbols.includes('exported_thing') && i.exportedSymbols.includes('main'),
      'exports exported_thing, main',
    );
    assert.equal(i.isStatic, false);
    assert.deepEqual(i.warnings, []);
  });
  test('library: soname, runpath, no interpreter, hidden symbols not exported', async () => {
    const i = (await both(fx.library)) as ElfInfo;
    assert.equal(i.soname, 'libfixture.so.1');
    assert.deepEqual(i.runpath, ['$ORIGIN/../lib']);
    assert.equal(i.interpreter, undefined);
    assert.equal(i.type, 'dyn');
    assert.ok(i.exportedSymbols.includes('lib_answer'), 'exports lib_answer');
    assert.ok(!i.exportedSymbols.includes('lib_hidden'), 'hidden symbol not exported');
    assert.equal(i.isStatic, false);
  });
  test('static program: isStatic, no dynamic', async () => {
    // linked with -nostartfiles: any gcc makes it; a missing fixture is a failure, never a silent pass
    assert.ok(fx.staticProgram, 'gcc -static -nostartfiles failed: install gcc (apt-get install gcc)');
    const i = (await both(fx.staticProgram)) as ElfInfo;
    assert.equal(i.isStatic, true);
    assert.equal(i.interpreter, undefined);
    assert.deepEqual(i.needed, []);
  });
  test('static-pie: PT_DYNAMIC with DF_1_PIE and no PT_INTERP is isStatic', async () => {
    assert.ok(
      fx.staticPie,
      'gcc -static-pie -nostartfiles failed: install gcc 8 or later (apt-get install gcc)',
    );
    const i = (await both(fx.staticPie)) as ElfInfo;
    assert.equal(i.dynamic, true);
    assert.equal(i.interpreter, undefined);
    assert.equal(i.flags1 & 0x08000000, 0x08000000);
    assert.equal(i.isStatic, true);
  });
  test('relocatable object: type rel, no program headers, .note.dlopen read from its section', async () => {
    const i = (await both(fx.object)) as ElfInfo;
    assert.equal(i.type, 'rel');
    assert.equal(i.phnum, 0);
    assert.equal(i.dynamic, false);
    assert.deepEqual(i.dlopen, [
      { feature: 'fx', description: 'd', priority: 'recommended', soname: ['libfx.so.1', 'libfx.so.0'] },
    ]);
  });
  test('isElf checks only the magic', () => {
    assert.equal(isElf(fx.program), true);
    assert.equal(isElf(new TextEncoder().encode('#!/bin/sh\n')), false);
    assert.equal(isElf(new Uint8Array([0x7f, 0x45])), false);
  });
  test('without section headers, .dynsym is found through DT_HASH (program) and DT_GNU_HASH (library)', async () => {
    for (const f of [fx.program, fx.library]) {
      const whole = (await both(f)) as ElfInfo;
      const stripped = (await both(new Elf64(f).dropSections().bytes)) as ElfInfo;
      assert.deepEqual(stripped.needed, whole.needed);
      assert.deepEqual(stripped.importedSymbols, whole.importedSymbols);
      assert.deepEqual(stripped.exportedSymbols, whole.exportedSymbols);
      assert.deepEqual(stripped.dlopen, whole.dlopen);
      assert.equal(stripped.shnum, 0);
    }
  });
});

interface Row {
  /** RELIABILITY.md row and what is pinned */
  name: string;
  make: (f: Fixtures) => Uint8Array;
  check: (r: ElfInfo | Error, f: Fixtures) => void;
}

const P = (f: Fixtures) => new Elf64(f.program);
const PT_INTERP = 3;
const PT_DYNAMIC = 2;
const SHT_DYNSYM = 11;
const SHT_DYNAMIC = 6;

const rows: Row[] = [
  // G3: header damage
  {
    name: 'G3 truncated to 200 bytes',
    make: (f) => f.program.subarray(0, 200),
    check: malformed(/(section|program) headers.*past the end/),
  },
  {
    name: 'G3 truncated to 10 bytes',
    make: (f) => f.program.subarray(0, 10),
    check: malformed(/header: file is 10 bytes/),
  },
  {
    name: 'G3 truncated to 40 bytes (inside the ELF64 header)',
    make: (f) => f.program.subarray(0, 40),
    check: malformed(/shorter than an ELF64 header/),
  },
  { name: 'G3 empty file', make: () => new Uint8Array(0), check: malformed(/header/) },
  {
    name: 'G3 not ELF (script)',
    make: () => new TextEncoder().encode('#!/bin/sh\necho hello world\n'),
    check: malformed(/no ELF magic/),
  },
  {
    name: 'G3 bad EI_CLASS 3',
    make: (f) => {
      const e = new Elf64(f.program);
      e.bytes[4] = 3;
      return e.bytes;
    },
    check: malformed(/EI_CLASS is 3/),
  },
  {
    name: 'G3 bad EI_CLASS 0',
    make: (f) => {
      const e = new Elf64(f.program);
      e.bytes[4] = 0;
      return e.bytes;
    },
    check: malformed(/EI_CLASS is 0/),
  },
  {
    name: 'G3 bad EI_DATA 7',
    make: (f) => {
      const e = new Elf64(f.program);
      e.bytes[5] = 7;
      return e.bytes;
    },
    check: malformed(/EI_DATA is 7/),
  },
  {
    name: 'G3 ELF64 file claiming ELF32 (EI_CLASS 1)',
    make: (f) => {
      const e = new Elf64(f.program);
      e.bytes[4] = 1;
      return e.bytes;
    },
    check: (r) => {
      if (!(r instanceof Error)) assert.equal(r.class, 32);
    },
  },
  {
    name: 'G3 e_shnum = 0xfffe',
    make: (f) => P(f).set16(60, 0xfffe).bytes,
    check: malformed(/section headers \(65534 × 64 bytes.*past the end/),
  },
  {
    name: 'G3 e_shoff beyond EOF',
    make: (f) => P(f).set64(40, f.program.length + 4096).bytes,
    check: malformed(/section headers.*past the end/),
  },
  {
    name: 'G3 e_shoff = 2^64-1',
    make: (f) => P(f).set64(40, 0xffffffffffffffffn).bytes,
    check: malformed(/section headers/),
  },
  {
    name: 'G3 e_phoff beyond EOF',
    make: (f) => P(f).set64(32, f.program.length + 1).bytes,
    check: malformed(/(section|program) headers.*past the end/),
  },
  {
    name: 'G3 e_phoff = 2^63',
    make: (f) => P(f).set64(32, 1n << 63n).bytes,
    check: malformed(/program headers/),
  },
  {
    name: 'G3 e_phoff = 0 with program headers',
    make: (f) => P(f).set64(32, 0).bytes,
    check: malformed(/e_phoff is 0/),
  },
  {
    name: 'G3 e_phnum = 0xfffe',
    make: (f) => P(f).set16(56, 0xfffe).bytes,
    check: malformed(/(section|program) headers.*past the end/),
  },
  { name: 'G3 e_phentsize = 8', make: (f) => P(f).set16(54, 8).bytes, check: malformed(/e_phentsize is 8/) },
  { name: 'G3 e_shentsize = 1', make: (f) => P(f).set16(58, 1).bytes, check: malformed(/e_shentsize is 1/) },
  {
    name: 'G3 e_shnum = 0xfffe without section headers is ignored (e_shoff = 0)',
    make: (f) => P(f).set64(40, 0).set16(60, 0xfffe).bytes,
    check: (r) => {
      result(r);
      assert.equal(r.shnum, 0);
      assert.match(r.warnings?.join() ?? '', /e_shoff is 0/);
    },
  },
  // G5: extended numbering
  {
    name: 'G5 PN_XNUM: e_phnum 0xffff, real count in section 0 sh_info',
    make: (f) => {
      const e = P(f);
      const n = e.phnum;
      return e.set32(e.sh(0) + 44, n).set16(56, 0xffff).bytes;
    },
    check: (r, f) => {
      result(r);
      const base = parseElf(f.program);
      assert.equal(r.phnum, base.phnum);
      assert.deepEqual({ ...r, phnum: 0 }, { ...base, phnum: 0 });
    },
  },
  {
    name: 'G5 PN_XNUM with a huge sh_info',
    make: (f) => {
      const e = P(f);
      return e.set32(e.sh(0) + 44, 0xffffffff).set16(56, 0xffff).bytes;
    },
    check: malformed(/program headers/),
  },
  {
    name: 'G5 PN_XNUM without section headers',
    make: (f) => P(f).set16(56, 0xffff).dropSections().bytes,
    check: malformed(/PN_XNUM/),
  },
  {
    name: 'G5 e_shnum 0: real count in section 0 sh_size',
    make: (f) => {
      const e = P(f);
      const n = e.shnum;
      return e.set64(e.sh(0) + 32, n).set16(60, 0).bytes;
    },
    check: (r, f) => {
      result(r);
      assert.deepEqual(r, parseElf(f.program));
    },
  },
  {
    name: 'G5 SHN_XINDEX: e_shstrndx 0xffff, real index in section 0 sh_link',
    make: (f) => {
      const e = P(f);
      const s = e.shstrndx;
      return e.set32(e.sh(0) + 40, s).set16(62, 0xffff).bytes;
    },
    check: (r, f) => {
      result(r);
      assert.equal(r.shstrndx, parseElf(f.program).shstrndx);
      assert.deepEqual(r.warnings, []);
    },
  },
  {
    name: 'G5 ≥ 0xff00 sections (65300, extended numbering, table appended)',
    make: (f) => {
      const e = P(f);
      const n = 65300;
      const old = e.bytes.subarray(e.shoff, e.shoff + e.shnum * 64);
      const out = new Uint8Array(e.bytes.length + n * 64);
      out.set(e.bytes);
      out.set(old, e.bytes.length); // sections 0..shnum-1 kept; the rest are SHT_NULL
      const g = new Elf64(out);
      const shstr = e.shstrndx;
      g.set64(40, e.bytes.length).set16(60, 0).set16(62, 0xffff);
      g.set64(g.sh(0) + 32, n).set32(g.sh(0) + 40, shstr);
      return g.bytes;
    },
    check: (r, f) => {
      result(r);
      assert.equal(r.shnum, 65300);
      const base = parseElf(f.program);
      assert.deepEqual(r.exportedSymbols, base.exportedSymbols);
      assert.deepEqual(r.needed, base.needed);
    },
  },
  // G4: tables and strings
  {
    name: 'G4 .dynsym sh_link self-loop',
    make: (f) => {
      const e = P(f);
      const i = e.shIndex(SHT_DYNSYM);
      return e.set32(e.sh(i) + 40, i).bytes;
    },
    check: malformed(/dynamic symbol table: sh_link \d+ of section \d+ is not a string table/),
  },
  {
    name: 'G4 .dynsym sh_link out of range',
    make: (f) => {
      const e = P(f);
      return e.set32(e.sh(e.shIndex(SHT_DYNSYM)) + 40, 0xffffff).bytes;
    },
    check: malformed(/not a string table/),
  },
  {
    name: 'G4 .dynsym sh_size past EOF',
    make: (f) => {
      const e = P(f);
      return e.set64(e.sh(e.shIndex(SHT_DYNSYM)) + 32, 1n << 40n).bytes;
    },
    check: malformed(/dynamic symbol table.*past the end/),
  },
  {
    name: 'G4 .dynsym sh_entsize 1',
    make: (f) => {
      const e = P(f);
      return e.set64(e.sh(e.shIndex(SHT_DYNSYM)) + 56, 1).bytes;
    },
    check: malformed(/sh_entsize 1/),
  },
  {
    name: 'G4 DT_HASH nchain = 0 (no sections): no symbols, no error',
    make: (f) => {
      const e = P(f).dropSections();
      const h = e.offsetOf(e.u64(e.dyn(4) + 8));
      return e.set32(h + 4, 0).bytes;
    },
    check: (r, f) => {
      result(r);
      assert.deepEqual(r.importedSymbols, []);
      assert.deepEqual(r.needed, parseElf(f.program).needed);
    },
  },
  {
    name: 'G4 DT_HASH nchain = 0xffffffff (no sections): clipped to its segment, with a warning',
    make: (f) => {
      const e = P(f).dropSections();
      const h = e.offsetOf(e.u64(e.dyn(4) + 8));
      return e.set32(h + 4, 0xffffffff).bytes;
    },
    check: (r) => {
      result(r);
      assert.match(r.warnings?.join('\n') ?? '', /runs past the end of its segment/);
    },
  },
  {
    name: 'G4 DT_GNU_HASH with a chain that never ends (no sections)',
    make: (f) => {
      const e = new Elf64(f.library).dropSections();
      const g = e.offsetOf(e.u64(e.dyn(0x6ffffef5) + 8));
      const nb = e.u32(g);
      const chains = g + 16 + e.u32(g + 8) * 8 + nb * 4;
      // clear every end-of-chain bit of .gnu.hash (it ends where .dynsym starts): the walk runs on into .dynsym
      const symtab = e.offsetOf(e.u64(e.dyn(6) + 8));
      for (let o = chains; o + 4 <= symtab; o += 4) e.set32(o, e.u32(o) & ~1);
      return e.bytes;
    },
    check: (r) => {
      if (r instanceof Error) assert.match(r.message, /DT_GNU_HASH/);
    },
  },
  {
    name: 'G4 PT_DYNAMIC without DT_NULL',
    make: (f) => {
      const e = P(f);
      for (const o of e.dynEntries()) if (e.u64(o) === 0) e.set64(o, 0x15);
      return e.bytes;
    },
    check: malformed(/dynamic segment: no DT_NULL among its \d+ entries/),
  },
  {
    name: 'G4 PT_DYNAMIC past EOF falls back to the .dynamic section',
    make: (f) => {
      const e = P(f);
      return e.set64(e.ph(e.phIndex(PT_DYNAMIC)) + 8, 1n << 40n).bytes;
    },
    check: (r, f) => {
      result(r);
      assert.deepEqual(r.needed, parseElf(f.program).needed);
      assert.match(r.warnings?.join() ?? '', /PT_DYNAMIC lies outside/);
    },
  },
  {
    name: 'G4 PT_DYNAMIC past EOF and no sections',
    make: (f) => {
      const e = P(f).dropSections();
      return e.set64(e.ph(e.phIndex(PT_DYNAMIC)) + 8, 1n << 40n).bytes;
    },
    check: malformed(/dynamic segment.*past the end/),
  },
  {
    name: 'G4 DT_STRTAB outside the file falls back to .dynstr through sh_link',
    make: (f) => P(f).set64(P(f).dyn(5) + 8, 0x7fffffff00).bytes,
    check: (r, f) => {
      result(r);
      assert.deepEqual(r.needed, parseElf(f.program).needed);
    },
  },
  {
    name: 'G4 DT_STRTAB outside the file and no sections',
    make: (f) => {
      const e = P(f).dropSections();
      return e.set64(e.dyn(5) + 8, 0x7fffffff00).bytes;
    },
    check: malformed(/dynamic string table: DT_STRTAB 0x7fffffff00 is not inside any PT_LOAD/),
  },
  {
    name: 'G4 DT_STRTAB outside, .dynamic sh_link self-loop',
    make: (f) => {
      const e = P(f);
      e.set64(e.dyn(5) + 8, 0x7fffffff00);
      const i = e.shIndex(SHT_DYNAMIC);
      return e.set32(e.sh(i) + 40, i).bytes;
    },
    check: malformed(/dynamic string table/),
  },
  {
    name: 'G4 DT_NEEDED string without NUL (DT_STRSZ cuts it)',
    make: (f) => {
      const e = P(f);
      const needed = e.u64(e.dyn(1) + 8);
      return e.set64(e.dyn(10) + 8, needed + 3).bytes;
    },
    check: malformed(/DT_NEEDED entry: string is not NUL-terminated/),
  },
  {
    name: 'G4 DT_NEEDED index past DT_STRSZ',
    make: (f) => P(f).set64(P(f).dyn(1) + 8, 0xffffffffff).bytes,
    check: malformed(/DT_NEEDED entry: string index 0xffffffffff is outside the string table/),
  },
  {
    name: 'G4 huge DT_STRSZ is clipped to the segment',
    make: (f) => P(f).set64(P(f).dyn(10) + 8, 1n << 60n).bytes,
    check: (r, f) => {
      result(r);
      assert.deepEqual(r.needed, parseElf(f.program).needed);
    },
  },
  {
    name: 'G4 DT_RPATH string of 70000 bytes without NUL (library appended)',
    make: (f) => {
      // point DT_RPATH at a run of 'A's in the file: make DT_STRTAB the start of a fresh PT_LOAD over the tail
      const e = P(f).dropSections();
      const tail = e.bytes.length;
      const out = new Uint8Array(tail + 70000);
      out.set(e.bytes);
      out.fill(0x41, tail);
      const g = new Elf64(out);
      // retarget the PT_LOAD that holds .dynstr to also cover the appended bytes is not possible; use PT_NOTE as a PT_LOAD
      const ni = g.phIndex(4);
      g.set32(g.ph(ni), 1)
        .set64(g.ph(ni) + 8, tail)
        .set64(g.ph(ni) + 16, 0x40000000)
        .set64(g.ph(ni) + 32, 70000);
      g.set64(g.dyn(5) + 8, 0x40000000).set64(g.dyn(10) + 8, 70000);
      g.set64(g.dyn(1) + 8, 0); // DT_NEEDED → index 0, the 'A' run
      return g.bytes;
    },
    check: malformed(/DT_NEEDED entry: string is longer than 65536 bytes/),
  },
  // G7: PT_INTERP
  {
    name: 'G7 PT_INTERP not NUL-terminated',
    make: (f) => {
      const e = P(f);
      const p = e.ph(e.phIndex(PT_INTERP));
      e.bytes[e.u64(p + 8) + e.u64(p + 32) - 1] = 0x78;
      return e.bytes;
    },
    check: malformed(/interpreter: PT_INTERP is not NUL-terminated/),
  },
  {
    name: 'G7 PT_INTERP huge (1 MiB)',
    make: (f) => {
      const e = P(f);
      return e.set64(e.ph(e.phIndex(PT_INTERP)) + 32, 1 << 20).bytes;
    },
    check: malformed(/interpreter: PT_INTERP is 1048576 bytes/),
  },
  {
    name: 'G7 PT_INTERP past EOF',
    make: (f) => {
      const e = P(f);
      return e.set64(e.ph(e.phIndex(PT_INTERP)) + 8, f.program.length - 4).bytes;
    },
    check: malformed(/interpreter.*past the end/),
  },
  {
    name: 'G7 PT_INTERP empty string',
    make: (f) => {
      const e = P(f);
      e.bytes[e.u64(e.ph(e.phIndex(PT_INTERP)) + 8)] = 0;
      return e.bytes;
    },
    check: malformed(/interpreter: PT_INTERP is an empty string/),
  },
  {
    name: 'G7 PT_INTERP arbitrary path is reported verbatim (the closure decides)',
    make: (f) => {
      const e = P(f);
      const o = e.u64(e.ph(e.phIndex(PT_INTERP)) + 8);
      e.bytes.set(new TextEncoder().encode('/etc/shadow\0'), o);
      return e.bytes;
    },
    check: (r) => {
      result(r);
      assert.equal(r.interpreter, '/etc/shadow');
    },
  },
  {
    name: 'G7 PT_INTERP with non-UTF-8 bytes round-trips by surrogateescape',
    make: (f) => {
      const e = P(f);
      const o = e.u64(e.ph(e.phIndex(PT_INTERP)) + 8);
      e.bytes.set([0x2f, 0xff, 0x2f, 0x6c, 0x64, 0], o);
      return e.bytes;
    },
    check: (r) => {
      result(r);
      assert.equal(r.interpreter, '/\udcff/ld');
    },
  },
  // notes: damage is a warning, never an error
  {
    name: 'note with descsz past its segment: warning, result kept',
    make: (f) => {
      const e = P(f);
      const p = e.ph(e.phIndex(4));
      return e.set32(e.u64(p + 8) + 4, 0x7fffffff).bytes;
    },
    check: (r) => {
      result(r);
      assert.match(r.warnings?.join() ?? '', /runs past the end of its region/);
    },
  },
  {
    name: '.note.dlopen with broken JSON: warning, no entries',
    make: (f) => {
      const e = P(f);
      const i = Buffer.from(e.bytes).indexOf('[{"feature"');
      e.bytes[i] = 0x7b;
      return e.bytes;
    },
    check: (r) => {
      result(r);
      assert.deepEqual(r.dlopen, []);
      assert.match(r.warnings?.join() ?? '', /not UTF-8 JSON/);
    },
  },
  {
    name: '.note.dlopen that is a JSON object, not an array',
    make: (f) => {
      const e = P(f);
      const b = Buffer.from(e.bytes);
      const i = b.indexOf('[{"feature"');
      e.bytes[i] = 0x20;
      e.bytes[b.indexOf(']}]', i) + 2] = 0x20;
      return e.bytes;
    },
    check: (r) => {
      result(r);
      assert.deepEqual(r.dlopen, []);
      assert.match(r.warnings?.join() ?? '', /not a JSON array/);
    },
  },
];

describe('hostile ELF headers (RELIABILITY G3/G4/G5/G7)', () => {
  for (const row of rows) {
    test(row.name, async () => {
      row.check(await both(row.make(fx)), fx);
    });
  }
});

describe('mutation sweep', () => {
  test('every truncation length and 3000 seeded byte patches give a result or MALFORMED_ELF', async () => {
    let seed = 0x5eed;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const src = fx.library;
    const cases: Uint8Array[] = [];
    for (let n = 0; n < Math.min(src.length, 4096); n += 7) cases.push(src.subarray(0, n));
    for (let n = 4096; n < src.length; n += 997) cases.push(src.subarray(0, n));
    const hot = [0, 64, 64 + 56 * 12]; // header, program headers: where damage matters most
    for (let k = 0; k < 3000; k++) {
      const b = new Uint8Array(src);
      const flips = 1 + (rand() % 4);
      for (let j = 0; j < flips; j++) {
        const region = rand() % 3;
        const at = region === 2 ? rand() % b.length : hot[region]! + (rand() % (region === 0 ? 64 : 56 * 12));
        b[at] = rand() & 0xff;
      }
      cases.push(b);
    }
    let errors = 0;
    for (const c of cases) {
      try {
        parseElf(c);
      } catch (e) {
        assert.ok(isFromscratchError(e, 'MALFORMED_ELF'), `non-MALFORMED_ELF failure: ${(e as Error).stack}`);
        errors++;
      }
    }
    // partial reads on a sample of the same inputs
    for (let k = 0; k < cases.length; k += 25) await both(cases[k]!);
    assert.ok(errors > 0 && errors < cases.length, `${errors} of ${cases.length} cases failed to parse`);
  });
});
