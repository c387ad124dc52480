/**
 * ld-cache-write.test.ts — toLdCache against the real ldconfig (the oracle): the same entries in the same
 * order (ld.so binary-searches that order), read back by our parser; and glibc's _dl_cache_libcmp order.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseLdCache } from './ld-cache.ts';
import { dlCacheLibcmp, toLdCache } from './ld-cache-write.ts';

test('dlCacheLibcmp compares runs of digits as numbers, as glibc does', () => {
  const table: [string, string, number][] = [
    ['libc.so.6', 'libc.so.6', 0],
    ['libx.so.10', 'libx.so.9', 1],
    ['libx.so.9', 'libx.so.10', -1],
    ['lib1', 'liba', 1], // a digit sorts after any other byte
    ['liba', 'lib1', -1],
    ['libB', 'liba', -31],
    ['lib', 'libc', -99],
  ];
  for (const [a, b, sign] of table)
    assert.equal(Math.sign(dlCacheLibcmp(a, b)), Math.sign(sign), `${a} vs ${b}`);
});

test('toLdCache writes the entries ldconfig writes, in its order', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ld-cache-write-'));
  try {
    const root = join(dir, 'root');
    mkdirSync(join(root, 'opt/lib'), { recursive: true });
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(dir, 'x.c'), 'int f(void){return 1;}\n');
    const names = [
      'libgreet.so.1',
      'libgreet.so.10',
      'libgreet.so.2',
      'liba.so.1',
      'libz9.so.1',
      'libB.so.3',
      'libgreet-2.0.so.0',
    ];
    for (const n of names)
      execFileSync('gcc', [
        '-shared',
        '-fPIC',
        `-Wl,-soname,${n}`,
        '-o',
        join(root, 'opt/lib', n),
        join(dir, 'x.c'),
      ]);
    writeFileSync(join(root, 'etc/ld.so.conf'), '/opt/lib\n');
    execFileSync('ldconfig', ['-r', root, '-X']); // -X: no links; the cache only
    const oracle = parseLdCache(readFileSync(join(root, 'etc/ld.so.cache')));
    const ours = parseLdCache(
      toLdCache(names.map((n) => ({ key: n, value: `/opt/lib/${n}`, flags: 0x0303 }))),
    );
    assert.equal(ours.format, 'new');
    assert.deepEqual(
      ours.entries.map((e) => [e.key, e.value, e.flags]),
      oracle.entries.map((e) => [e.key, e.value, e.flags]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('toLdCache is deterministic and drops duplicate keys', () => {
  const a = toLdCache([
    { key: 'libb.so.1', value: '/x/libb.so.1', flags: 0x0303 },
    { key: 'liba.so.1', value: '/x/liba.so.1', flags: 0x0303 },
    { key: 'liba.so.1', value: '/y/liba.so.1', flags: 0x0303 },
  ]);
  const b = toLdCache([
    { key: 'liba.so.1', value: '/x/liba.so.1', flags: 0x0303 },
    { key: 'libb.so.1', value: '/x/libb.so.1', flags: 0x0303 },
  ]);
  assert.deepEqual(Buffer.from(a), Buffer.from(b));
  assert.equal(parseLdCache(a).entries.length, 2);
});
