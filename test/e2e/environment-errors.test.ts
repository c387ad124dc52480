/**
 * environment-errors.test.ts — the machine's failures are the user's to fix (issue 15.3): an unreadable
 * directory under --add and an unwritable HOME, as a user who is not root, are typed errors (exit 1)
 * naming the path and the fix, never exit 70 with a stack trace; nothing is written.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { requireTool, run, withTempDir } from '../support/validate-tools.ts';
import { BIN } from './cli.ts';

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
        FROMSCRATCH_FROM_SOURCE: '1',
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
