/**
 * lock.test.ts — the index.json lock: mutual exclusion, stale locks of dead writers broken, live ones
 * waited for until TIMEOUT, planted symlinks and empty locks never waited on (issue 15.11).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isFromscratchError } from '../errors.ts';
import { isProcessAlive, withLock } from './lock.ts';

async function inTemp(fn: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'fromscratch-lock-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('withLock serialises holders and removes the lock afterwards', async () => {
  await inTemp(async (dir) => {
    const lock = join(dir, 'l');
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 5 }, () =>
        withLock(lock, async () => {
          inside += 1;
          most = Math.max(most, inside);
          await sleep(5);
          inside -= 1;
        }),
      ),
    );
    assert.equal(most, 1);
    assert.deepEqual(await readdir(dir), []);
    // released on a throw too
    await assert.rejects(
      withLock(lock, async () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.deepEqual(await readdir(dir), []);
  });
});

test('a lock of a dead process is broken; a live one is waited for until TIMEOUT', async () => {
  await inTemp(async (dir) => {
    const lock = join(dir, 'l');
    const dead = 4194305; // above the kernel's pid_max: never alive
    assert.equal(isProcessAlive(dead), false);
    await writeFile(lock, `${dead}\n${hostname()}\n`);
    assert.equal(await withLock(lock, async () => 'ran'), 'ran');
    assert.deepEqual(await readdir(dir), []);
    // pid 1 is alive: the lock is held
    await writeFile(lock, `1\n${hostname()}\n`);
    await assert.rejects(
      withLock(lock, async () => 'never', { timeoutMs: 100 }),
      (e: unknown) => isFromscratchError(e, 'TIMEOUT') && /held by pid 1/.test(e.message),
    );
    // a lock from another host is never considered stale
    await writeFile(lock, `${dead}\nanother-host\n`);
    await assert.rejects(
      withLock(lock, async () => 'never', { timeoutMs: 50 }),
      (e: unknown) => isFromscratchError(e, 'TIMEOUT'),
    );
  });
});

test('an unwritable lock location is OUTPUT_UNWRITABLE', async () => {
  await assert.rejects(
    withLock('/nonexistent-dir/l', async () => 1),
    (e: unknown) => isFromscratchError(e, 'OUTPUT_UNWRITABLE'),
  );
});

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-lock-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** settle resolves with how long p took and what it gave, without waiting past `limitMs` (then fails). */
async function within<T>(limitMs: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${limitMs} ms`)), limitMs);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

test(
  'a planted symlink at the lock path is refused at once, never followed (its target is not read)',
  withDir(async (dir) => {
    writeFileSync(join(dir, 'secret'), 'TOP-SECRET first line\n');
    symlinkSync(join(dir, 'secret'), join(dir, 'lock'));
    await assert.rejects(
      within(
        5000,
        withLock(join(dir, 'lock'), async () => 1, { timeoutMs: 60_000 }),
      ),
      (e) =>
        isFromscratchError(e, 'OUTPUT_UNWRITABLE') &&
        /not a regular file/.test(e.message) &&
        !/TOP-SECRET/.test(e.message),
    );
    symlinkSync(join(dir, 'nothere'), join(dir, 'dangling'));
    await assert.rejects(
      within(
        5000,
        withLock(join(dir, 'dangling'), async () => 1),
      ),
      (e) => isFromscratchError(e, 'OUTPUT_UNWRITABLE'),
    );
    mkdirSync(join(dir, 'adir'));
    await assert.rejects(
      within(
        5000,
        withLock(join(dir, 'adir'), async () => 1),
      ),
      (e) => isFromscratchError(e, 'OUTPUT_UNWRITABLE'),
    );
  }),
);

test(
  'an empty lock file (a writer died between create and write) is broken at once, not after a wait',
  withDir(async (dir) => {
    writeFileSync(join(dir, 'lock'), '');
    assert.equal(
      await within(
        2000,
        withLock(join(dir, 'lock'), async () => 'ran', { timeoutMs: 60_000 }),
      ),
      'ran',
    );
    assert.deepEqual(readdirSync(dir), [], 'lock and temp files removed');
  }),
);

test('a full disk while taking the lock leaves no lock behind, and the next writer does not wait (root: tmpfs)', async () => {
  const mnt = mkdtempSync(join(tmpdir(), 'fs-lock-full-'));
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', mnt], { encoding: 'utf8' });
  assert.equal(mount.status, 0, `this test mounts a tiny tmpfs and needs root: ${mount.stderr}`);
  try {
    spawnSync('dd', ['if=/dev/zero', `of=${join(mnt, 'fill')}`, 'bs=1k', 'count=64']);
    await assert.rejects(
      withLock(join(mnt, 'lock'), async () => 1),
      (e) => isFromscratchError(e, 'NO_SPACE'),
    );
    assert.deepEqual(readdirSync(mnt), ['fill'], 'no lock file, no temp file');
    rmSync(join(mnt, 'fill'));
    assert.equal(
      await within(
        2000,
        withLock(join(mnt, 'lock'), async () => 'ran'),
      ),
      'ran',
    );
  } finally {
    spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});
