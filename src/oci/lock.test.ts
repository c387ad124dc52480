/**
 * lock.test.ts — the index.json lock: mutual exclusion, stale locks of dead writers broken, live ones
 * waited for until TIMEOUT.
 */
import assert from 'node:assert/strict';
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
