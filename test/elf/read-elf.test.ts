/**
 * read-elf.test.ts — readElf over the RootFs port: it reads only the ranges it needs (pinned by
 * counting bytes on a big file), agrees with parseElf, and reports missing or non-regular files.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseElf } from '../../src/elf/parse-elf.ts';
import { readElf } from '../../src/elf/read-elf.ts';
import { isFromscratchError } from '../../src/errors.ts';
import { hostFs } from '../../src/fs/host-fs.ts';
import { memoryFs } from '../../src/fs/memory-fs.ts';
import type { RootFs } from '../../src/fs/root-fs.ts';
import { buildFixtures } from './gcc-fixture.ts';

/** counting wraps a RootFs and tallies read calls and bytes. */
function counting(fs: RootFs) {
  const tally = { reads: 0, bytes: 0, lstats: 0 };
  const wrapped: RootFs = {
    ...fs,
    async lstat(p) {
      tally.lstats++;
      return fs.lstat(p);
    },
    async read(p, o) {
      tally.reads++;
      const r = await fs.read(p, o);
      tally.bytes += r.byteLength;
      return r;
    },
  };
  return { fs: wrapped, tally };
}

test('a big file is read in a few small ranges, not whole', async () => {
  const fx = buildFixtures();
  // the program with 16 MiB of padding between its headers and the rest: the dynamic segment, strings
  // and section headers then lie far from the head
  const pad = 16 * 1024 * 1024;
  const src = fx.program;
  const big = new Uint8Array(src.length + pad);
  big.set(src.subarray(0, 4096));
  big.set(src.subarray(4096), 4096 + pad);
  // shift every file offset past 4096 by pad: program headers, section headers, e_shoff
  const dv = new DataView(big.buffer);
  const shift = (o: number) => {
    const v = Number(dv.getBigUint64(o, true));
    if (v >= 4096) dv.setBigUint64(o, BigInt(v + pad), true);
  };
  const phoff = Number(dv.getBigUint64(32, true));
  for (let i = 0; i < dv.getUint16(56, true); i++) shift(phoff + i * 56 + 8);
  shift(40);
  const shoff = Number(dv.getBigUint64(40, true));
  for (let i = 0; i < dv.getUint16(60, true); i++) shift(shoff + i * 64 + 24);
  // PT_LOAD vaddr→offset mapping changes too: keep vaddr, so loads past 4096 now sit at offset+pad
  const want = parseElf(src);
  const got = parseElf(big);
  assert.deepEqual(got.needed, want.needed);

  const { fs, tally } = counting(memoryFs({ '/big': { type: 'file', data: big } }));
  const info = await readElf(fs, '/big', { symbols: false });
  assert.deepEqual(info.needed, want.needed);
  assert.equal(info.interpreter, want.interpreter);
  assert.ok(tally.bytes < 256 * 1024, `read ${tally.bytes} bytes of ${big.length}`);
  assert.ok(tally.reads <= 4, `${tally.reads} reads`);

  const full = counting(memoryFs({ '/big': { type: 'file', data: big } }));
  assert.deepEqual(await readElf(full.fs, '/big'), got);
  assert.ok(full.tally.bytes < 512 * 1024, `with symbols: read ${full.tally.bytes} bytes of ${big.length}`);
});

test('the size option skips lstat', async () => {
  const { fs, tally } = counting(hostFs('/'));
  const size = readFileSync('/usr/bin/ls').length;
  const info = await readElf(fs, '/usr/bin/ls', { size, symbols: false });
  assert.equal(tally.lstats, 0);
  assert.ok(info.needed.includes('libc.so.6'), 'ls needs libc.so.6');
});

test('readElf reports a missing path as FILE_NOT_FOUND and a symlink or directory as MALFORMED_ELF', async () => {
  const fs = memoryFs({ '/link': { type: 'symlink', target: '/usr/bin/ls' }, '/dir': { type: 'dir' } });
  await assert.rejects(
    readElf(fs, '/nope'),
    (e) => isFromscratchError(e, 'FILE_NOT_FOUND') && /reading ELF \/nope/.test(e.message),
  );
  await assert.rejects(
    readElf(fs, '/link'),
    (e) => isFromscratchError(e, 'MALFORMED_ELF') && /symlink, not a regular file/.test(e.message),
  );
  await assert.rejects(
    readElf(fs, '/dir'),
    (e) => isFromscratchError(e, 'MALFORMED_ELF') && /dir, not a regular file/.test(e.message),
  );
});

test('a file that shrinks between lstat and read is MALFORMED_ELF, not a loop', async () => {
  const data = new Uint8Array(readFileSync('/usr/bin/ls'));
  const base = memoryFs({ '/f': { type: 'file', data: data.subarray(0, 100_000) } });
  const lying: RootFs = { ...base, lstat: async (p) => ({ ...(await base.lstat(p))!, size: data.length }) };
  await assert.rejects(
    readElf(lying, '/f', { wholeFileMax: 0 }),
    (e) => isFromscratchError(e, 'MALFORMED_ELF') && /changed while being read/.test(e.message),
  );
});
