/**
 * symbol-modes.test.ts — the cheaper symbol modes of the ELF reader (`symbols: 'imported'` and
 * `wantSymbols`) report exactly the imported names the full mode reports (all of them, or those of the
 * wanted set), on real binaries of the host, on gcc-built fixtures with and without section headers,
 * and on a hand-built file; names that only share a prefix with a wanted one never match.
 */
import assert from 'node:assert/strict';
import { existsSync, realpathSync } from 'node:fs';
import { test } from 'node:test';
import { parseElf } from '../../src/elf/parse-elf.ts';
import { readElf } from '../../src/elf/read-elf.ts';
import { hostFs } from '../../src/fs/host-fs.ts';
import { buildElf } from './elf-builder.ts';
import { buildFixtures } from './gcc-fixture.ts';

const WANT: ReadonlySet<string> = new Set([
  'getaddrinfo',
  'getpwnam',
  'getpwnam_r',
  'getpwuid',
  'iconv_open',
  'pthread_cancel',
  'pthread_exit',
  'backtrace',
  'malloc',
  'printf',
  'cos',
  'imported_fn',
  'exported_fn',
  'get', // a prefix of many imports: must match only an import named exactly "get"
  '',
]);

/** realBinaries are a small program, libc, bash and node itself (a big binary with ~74k exports). */
function realBinaries(): string[] {
  const cands = ['/usr/bin/ls', '/lib/x86_64-linux-gnu/libc.so.6', '/usr/bin/bash', process.execPath];
  return [...new Set(cands.filter((p) => existsSync(p)).map((p) => realpathSync(p)))];
}

/** stripSections zeroes e_shoff/e_shnum/e_shstrndx of a 64-bit little-endian ELF: .dynsym is then found through DT_SYMTAB. */
function stripSections(bytes: Uint8Array): Uint8Array {
  const b = new Uint8Array(bytes);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0x28, 0n, true);
  dv.setUint16(0x3c, 0, true);
  dv.setUint16(0x3e, 0, true);
  return b;
}

test('imported and wanted modes agree with the full mode on real binaries', async () => {
  const fs = hostFs('/');
  const files = realBinaries();
  assert.ok(files.length >= 2, `real binaries found: ${files.join(' ')}`);
  for (const p of files) {
    const full = await readElf(fs, p);
    const imp = await readElf(fs, p, { symbols: 'imported' });
    const want = await readElf(fs, p, { wantSymbols: WANT });
    assert.deepEqual(imp.importedSymbols, full.importedSymbols, `${p}: imported mode`);
    assert.deepEqual(imp.exportedSymbols, [], `${p}: imported mode decodes no export`);
    assert.deepEqual(
      want.importedSymbols,
      full.importedSymbols.filter((s) => WANT.has(s)),
      `${p}: wanted mode`,
    );
    assert.deepEqual(want.exportedSymbols, [], `${p}: wanted mode decodes no export`);
    assert.deepEqual(want.needed, full.needed, `${p}: the rest is unchanged`);
    assert.equal(want.interpreter, full.interpreter);
    assert.equal(want.soname, full.soname);
  }
});

test('symbols: false still wins over wantSymbols', async () => {
  const p = realBinaries()[0]!;
  const info = await readElf(hostFs('/'), p, { symbols: false, wantSymbols: WANT });
  assert.deepEqual(info.importedSymbols, []);
  assert.deepEqual(info.exportedSymbols, []);
});

test('modes agree on gcc fixtures, with section headers and without (DT_SYMTAB + DT_HASH/DT_GNU_HASH)', () => {
  const fx = buildFixtures();
  for (const [name, bytes] of [
    ['program', fx.program],
    ['library', fx.library],
    ['program without sections', stripSections(fx.program)],
    ['library without sections', stripSections(fx.library)],
  ] as const) {
    const full = parseElf(bytes);
    assert.ok(full.importedSymbols.length > 0, `${name} imports something`);
    assert.deepEqual(parseElf(bytes, { symbols: 'imported' }).importedSymbols, full.importedSymbols, name);
    assert.deepEqual(
      parseElf(bytes, { wantSymbols: WANT }).importedSymbols,
      full.importedSymbols.filter((s) => WANT.has(s)),
      name,
    );
  }
  // the program imports cos and printf (gcc-fixture.ts): both are found by the wanted mode
  const w = parseElf(fx.program, { wantSymbols: WANT }).importedSymbols;
  assert.ok(w.includes('cos'), `cos in ${w.join(',')}`);
});

test('hand-built files of each class and byte order: exports never reported, prefixes never match', () => {
  for (const cls of [32, 64] as const)
    for (const le of [true, false])
      for (const sections of [true, false]) {
        const name = `ELF${cls} ${le ? 'LE' : 'BE'}${sections ? '' : ' without sections'}`;
        const bytes = buildElf({ cls, le, machine: cls === 64 ? 62 : 3, sections });
        assert.deepEqual(parseElf(bytes).importedSymbols, ['imported_fn'], name);
        assert.deepEqual(parseElf(bytes, { symbols: 'imported' }).importedSymbols, ['imported_fn'], name);
        assert.deepEqual(parseElf(bytes, { symbols: 'imported' }).exportedSymbols, [], name);
        assert.deepEqual(parseElf(bytes, { wantSymbols: WANT }).importedSymbols, ['imported_fn'], name);
        const near = new Set(['imported', 'imported_f', 'imported_fnx', 'exported_fn']);
        assert.deepEqual(parseElf(bytes, { wantSymbols: near }).importedSymbols, [], name);
      }
});
