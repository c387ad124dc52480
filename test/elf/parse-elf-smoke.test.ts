/** Smoke test: parseElf and readElf agree on a host program and find its loader and libc. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseElf } from '../../src/elf/parse-elf.ts';
import { readElf } from '../../src/elf/read-elf.ts';
import { hostFs } from '../../src/fs/host-fs.ts';

test('parseElf reads /usr/bin/ls header, interpreter and needed', () => {
  const info = parseElf(readFileSync('/usr/bin/ls'));
  assert.equal(info.class, 64);
  assert.equal(info.machineName, 'x86_64');
  assert.equal(info.interpreter, '/lib64/ld-linux-x86-64.so.2');
  assert.ok(info.needed.includes('libc.so.6'), 'needs libc.so.6');
  assert.equal(info.isStatic, false);
});

test('readElf gives the same result as parseElf on the whole file', async () => {
  for (const p of ['/usr/bin/ls', '/usr/lib/x86_64-linux-gnu/libc.so.6']) {
    assert.deepEqual(await readElf(hostFs('/'), p, { wholeFileMax: 0 }), parseElf(readFileSync(p)), p);
  }
});
