/**
 * environment-errors.test.ts — the machine's failures are the user's to fix (issue 15.3): an unreadable
 * directory under --add and an unwritable HOME, as a user who is not root, are typed errors (exit 1)
 * naming the path and the fix, never exit 70 with a stack trace; nothing is written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { requireTool, run, withTempDir } from '../support/validate-tools.ts';
import { BIN, CODE_CACHE, fromscratch } from './cli.ts';

/** asNobody runs the CLI as uid/gid 65534 with a HOME and cache of the test's choosing. */
async function asNobody(args: string[], cwd: string, env: Record<string, string>) {
  const setpriv = requireTool('setpriv', 'util-linux');
  return run(
    setpriv,
    [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      'env',
      ...Object.entries({
        FROMSCRATCH_CODE_CACHE: CODE_CACHE,
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        ...env,
      }).map(([k, v]) => `${k}=${v}`),
      process.execPath,
      BIN,
      ...args,
    ],
    { cwd, allowFail: true },
  );
}

test('an unreadable directory under --add, as a non-root user, is FILE_UNREADABLE naming it (exit 1)', async () => {
  await withTempDir('e2e-errno-add', async (dir) => {
    chmodSync(dir, 0o777);
    mkdirSync(join(dir, 'app/locked'), { recursive: true });
    writeFileSync(join(dir, 'app/locked/f'), 'x');
    chmodSync(join(dir, 'app/locked'), 0o000);
    mkdirSync(join(dir, 'cache'), { mode: 0o777 });
    chmodSync(join(dir, 'cache'), 0o777);
    const r = await asNobody(['build', '--add', './app:/app', '-o', `oci:${dir}/out:x`], dir, {
      HOME: dir,
      FROMSCRATCH_CACHE: join(dir, 'cache'),
    });
    chmodSync(join(dir, 'app/locked'), 0o755);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error\[FILE_UNREADABLE\]: .*app\/locked.*permission denied/m);
    assert.match(r.stderr, /^hint: /m);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    assert.equal(existsSync(join(dir, 'out')), false, 'no output written');
  });
});

test('HOME=/nonexistent as a non-root user is a typed error naming the cache and FROMSCRATCH_CACHE (exit 1)', async () => {
  await withTempDir('e2e-errno-home', async (dir) => {
    chmodSync(dir, 0o777);
    writeFileSync(join(dir, 'f'), 'x');
    const r = await asNobody(['build', '--add', './f:/f', '-o', `oci:${dir}/out:x`], dir, {
      HOME: '/nonexistent',
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^error\[OUTPUT_UNWRITABLE\]: .*\/nonexistent.*cache is \/nonexistent\/\.cache\/fromscratch/m,
    );
    assert.match(r.stderr, /^hint: .*FROMSCRATCH_CACHE=/m);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  });
});

test('a full file system under the cache, an OCI layout or an archive output is NO_SPACE naming that path, with a space hint (exit 1; root: tmpfs)', async () => {
  await withTempDir('e2e-enospc', async (dir) => {
    const mnt = join(dir, 'tiny');
    mkdirSync(mnt);
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt], { encoding: 'utf8' });
    assert.equal(mount.status, 0, `this test mounts a tiny tmpfs and needs root: ${mount.stderr}`);
    try {
      writeFileSync(join(dir, 'big.bin'), randomBytes(1024 * 1024)); // incompressible: 1 MiB in any layer
      const add = ['build', '-q', '--add', 'big.bin:/big.bin'];
      const cases: [string[], Record<string, string>, RegExp][] = [
        [[...add, '-o', 'oci:out:x'], { FROMSCRATCH_CACHE: join(mnt, 'cache') }, new RegExp(`${mnt}/cache/`)],
        [[...add, '-o', `oci:${mnt}/layout:x`], {}, new RegExp(`OCI layout ${mnt}/layout`)],
        [[...add, '-o', `oci-archive:${mnt}/a.tar:x`], {}, new RegExp(`archive ${mnt}/a\\.tar`)],
      ];
      for (const [args, env, names] of cases) {
        const r = await fromscratch(args, { cwd: dir, env });
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /^error\[NO_SPACE\]/m, r.stderr);
        assert.match(r.stderr.split('\n')[0]!, names, 'the message names the path on the full file system');
        assert.match(r.stderr, /^hint: .*free space/m);
        spawnSync('sh', ['-c', `rm -rf ${JSON.stringify(mnt)}/* ${JSON.stringify(mnt)}/.[!.]*`]);
      }
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});
