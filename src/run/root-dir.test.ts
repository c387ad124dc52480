import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { mkdirInRoot } from './root-dir.ts';

/** withRoot gives a fresh root and a host "victim" path outside it that must never be created. */
function withRoot(fn: (root: string, victim: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const base = mkdtempSync(join(tmpdir(), 'fs-root-dir-'));
    const root = join(base, 'rootfs');
    const victim = join(base, 'victim');
    mkdirSync(root);
    try {
      await fn(root, victim);
      assert.equal(existsSync(victim), false, 'nothing was created outside the root');
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  };
}

test(
  'a symlink chain through a missing component stays inside the root (x -> nothere/../esc/pwned, esc -> /victim)',
  withRoot(async (root, victim) => {
    symlinkSync('nothere/../esc/pwned', join(root, 'x'));
    symlinkSync(victim, join(root, 'esc'));
    assert.equal(await mkdirInRoot(root, '/x'), `${victim}/pwned`);
    assert.ok(lstatSync(join(root, victim, 'pwned')).isDirectory(), 'created inside the root');
  }),
);

test(
  'absolute and relative links at every depth, and .. past the root, are re-rooted',
  withRoot(async (root, victim) => {
    mkdirSync(join(root, 'a/b'), { recursive: true });
    symlinkSync(`${victim}/deep`, join(root, 'a/b/abs'));
    symlinkSync('../../../../../..' + victim, join(root, 'a/rel'));
    assert.equal(await mkdirInRoot(root, '/a/b/abs/c'), `${victim}/deep/c`);
    assert.equal(await mkdirInRoot(root, '/a/rel/d'), `${victim}/d`);
    assert.equal(await mkdirInRoot(root, '/../../a/./b/../b/e'), '/a/b/e');
    assert.ok(lstatSync(join(root, 'a/b/e')).isDirectory());
  }),
);

test(
  'an existing directory is kept; a file or a loop on the way is RUN_FAILED naming the path',
  withRoot(async (root) => {
    mkdirSync(join(root, 'work'));
    assert.equal(await mkdirInRoot(root, '/work'), '/work');
    writeFileSync(join(root, 'file'), 'x');
    await assert.rejects(
      mkdirInRoot(root, '/file/sub'),
      (e) =>
        isFromscratchError(e, 'RUN_FAILED') &&
        e.message.includes('/file/sub') &&
        /not a directory/.test(e.message),
    );
    symlinkSync('loop2', join(root, 'loop1'));
    symlinkSync('loop1', join(root, 'loop2'));
    await assert.rejects(
      mkdirInRoot(root, '/loop1/x'),
      (e) => isFromscratchError(e, 'RUN_FAILED') && /too many levels/.test(e.message),
    );
  }),
);
