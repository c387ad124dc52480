/**
 * ldconfig.test.ts — ldconfigCache against the real ldconfig (the oracle): a root holding the host's
 * libraries in a merged-/usr layout, in the system directories and in private directories named by
 * /etc/ld.so.conf.d; `ldconfig -r ROOT` writes its cache, and `ldconfig -p -C` prints both caches: the
 * same lines in the same order. A root whose ld.so.conf names no directory outside the system ones holding
 * a library needs no cache.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostFs } from '../fs/host-fs.ts';
import { memoryFs } from '../fs/memory-fs.ts';
import { parseLdCache } from './ld-cache.ts';
import { ldconfigCache } from './ldconfig.ts';

const HOST_LIBS = '/usr/lib/x86_64-linux-gnu';

/** printed lists the entries of a cache file as `ldconfig -p -C` prints them (the header line dropped). */
function printed(cache: string): string[] {
  return execFileSync('ldconfig', ['-p', '-C', cache], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.startsWith('\t'));
}

function makeRoot(dir: string, withLdSoConf: boolean): void {
  const put = (from: string, to: string) => {
    mkdirSync(join(dir, to, '..'), { recursive: true });
    copyFileSync(join(HOST_LIBS, from), join(dir, to));
  };
  mkdirSync(join(dir, 'usr/lib/x86_64-linux-gnu'), { recursive: true });
  symlinkSync('usr/lib', join(dir, 'lib'));
  // the system directory: a library with its soname link
  put('libz.so.1.2.13', 'usr/lib/x86_64-linux-gnu/libz.so.1.2.13');
  symlinkSync('libz.so.1.2.13', join(dir, 'usr/lib/x86_64-linux-gnu/libz.so.1'));
  // a private directory with the soname link, another without it, a text file named like a library
  put('libbz2.so.1.0.4', 'usr/lib/greet/libbz2.so.1.0.4');
  symlinkSync('libbz2.so.1.0.4', join(dir, 'usr/lib/greet/libbz2.so.1.0'));
  put('liblzma.so.5.4.1', 'opt/x/lib/liblzma.so.5.4.1');
  writeFileSync(join(dir, 'opt/x/lib/libnot.so.1'), 'INPUT(-lz)\n');
  mkdirSync(join(dir, 'etc/ld.so.conf.d'), { recursive: true });
  writeFileSync(join(dir, 'etc/ld.so.conf.d/greet.conf'), '# private\n/usr/lib/greet\n');
  writeFileSync(join(dir, 'etc/ld.so.conf.d/x.conf'), '/opt/x/lib/\n/usr/lib/x86_64-linux-gnu\n');
  if (withLdSoConf) writeFileSync(join(dir, 'etc/ld.so.conf'), 'include /etc/ld.so.conf.d/*.conf\n');
}

for (const withLdSoConf of [true, false]) {
  test(`ldconfigCache lists what ldconfig -r lists, in its order (${withLdSoConf ? 'with' : 'without'} /etc/ld.so.conf)`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ldconfig-'));
    try {
      makeRoot(dir, withLdSoConf);
      const ours = await ldconfigCache(hostFs(dir));
      assert.ok(ours, 'a root with libraries in ld.so.conf.d directories gets a cache');
      assert.deepEqual(ours.extraDirs, ['/usr/lib/greet', '/opt/x/lib']);
      writeFileSync(join(dir, 'ours.cache'), ours.data);
      // the oracle reads Debian's ld.so.conf, as a Debian system (libc-bin) has it
      if (!withLdSoConf) writeFileSync(join(dir, 'etc/ld.so.conf'), 'include /etc/ld.so.conf.d/*.conf\n');
      execFileSync('ldconfig', ['-r', dir, '-X']);
      const real = printed(join(dir, 'etc/ld.so.cache'));
      assert.ok(
        real.some((l) => l.includes('/opt/x/lib/liblzma.so.5')),
        real.join('\n'),
      );
      assert.deepEqual(printed(join(dir, 'ours.cache')), real);
      // and our own reader (what the closure and the check read) finds the private libraries
      const parsed = parseLdCache(ours.data);
      assert.deepEqual(
        parsed.entries.map((e) => `${e.key} ${e.value}`).filter((l) => !l.includes('x86_64')),
        ['liblzma.so.5 /opt/x/lib/liblzma.so.5', 'libbz2.so.1.0 /usr/lib/greet/libbz2.so.1.0'],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('ldconfigCache writes nothing when ld.so.conf names only the system directories, or none', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ldconfig-'));
  try {
    makeRoot(dir, true);
    writeFileSync(join(dir, 'etc/ld.so.conf.d/greet.conf'), '/lib/x86_64-linux-gnu\n/usr/local/lib\n');
    writeFileSync(join(dir, 'etc/ld.so.conf.d/x.conf'), '/usr/lib/x86_64-linux-gnu\n/opt/none\n');
    assert.equal(await ldconfigCache(hostFs(dir)), undefined);
    rmSync(join(dir, 'etc'), { recursive: true });
    assert.equal(await ldconfigCache(hostFs(dir)), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ldconfigCache reads a directory named through a symlink (merged /usr) in a memory root, and keeps its first name', async () => {
  const lib = (soname: string) => ({ type: 'file' as const, data: readFileSync(join(HOST_LIBS, soname)) });
  const fs = memoryFs({
    '/lib': { type: 'symlink', target: 'usr/lib' },
    '/usr/lib/x86_64-linux-gnu/libz.so.1': lib('libz.so.1.2.13'),
    '/usr/lib/x86_64-linux-gnu/greet/libbz2.so.1.0': lib('libbz2.so.1.0.4'),
    '/etc/ld.so.conf.d/x86_64-linux-gnu.conf': {
      type: 'file',
      data: Buffer.from('/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n'),
    },
    '/etc/ld.so.conf.d/greet.conf': { type: 'file', data: Buffer.from('/lib/x86_64-linux-gnu/greet\n') },
  });
  const c = await ldconfigCache(fs);
  assert.ok(c);
  assert.deepEqual(
    parseLdCache(c.data).entries.map((e) => `${e.key} ${e.value}`),
    ['libz.so.1 /lib/x86_64-linux-gnu/libz.so.1', 'libbz2.so.1.0 /lib/x86_64-linux-gnu/greet/libbz2.so.1.0'],
  );
  assert.deepEqual(c.extraDirs, ['/lib/x86_64-linux-gnu/greet']);
});
