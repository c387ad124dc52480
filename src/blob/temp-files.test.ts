/**
 * temp-files.test.ts — removeDeadTemps against real processes: a dead writer's temp file is collected, a
 * live writer's is kept whatever its age says, and a file written before its pid's process started (a
 * reused pid) is collected.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { processStartMs, removeDeadTemps } from './temp-files.ts';

test('processStartMs says when this process started (from /proc)', {
  skip: !existsSync('/proc/self/stat'),
}, async () => {
  const started = await processStartMs(process.pid);
  assert.ok(started !== undefined);
  const expected = Date.now() - process.uptime() * 1000;
  assert.ok(Math.abs(started - expected) < 3000, `${started} vs ${expected}`);
  assert.equal(await processStartMs(2 ** 22 + 12345), undefined, 'no such process');
});

test('removeDeadTemps: dead pid collected; live pid kept even when old by the clock; reused pid collected', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'temp-files-'));
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    await new Promise((r) => child.once('spawn', r));
    const live = child.pid!;
    const dead = 2 ** 22 + 54321; // above pid_max's largest value: never alive
    const started = (await processStartMs(live)) ?? Date.now();
    const name = (pid: number, s: string) => join(dir, `.tmp-blob-${pid}-${s}`);
    await writeFile(name(dead, 'a'), 'x');
    // written while the live writer runs; a process clock two days ahead (libfaketime, a skewed NFS
    // server) sees it as two days old, which must not collect it
    await writeFile(name(live, 'b'), 'x');
    const realNow = Date.now;
    Date.now = () => realNow() + 2 * 24 * 3600 * 1000;
    if (existsSync('/proc/self/stat')) {
      // written after the process started (mtime now) is kept; before it started is a reused pid's
      await writeFile(name(live, 'c'), 'x');
      const before = new Date(started - 60_000);
      await utimes(name(live, 'c'), before, before);
    }
    await writeFile(join(dir, 'not-a-temp'), 'x');
    try {
      await removeDeadTemps(dir);
    } finally {
      Date.now = realNow;
    }
    assert.equal(existsSync(name(dead, 'a')), false, 'a dead writer’s file is collected');
    assert.equal(existsSync(name(live, 'b')), true, 'a live writer’s file is kept');
    if (existsSync('/proc/self/stat'))
      assert.equal(existsSync(name(live, 'c')), false, 'a file older than its pid’s process is collected');
    assert.equal(existsSync(join(dir, 'not-a-temp')), true);
  } finally {
    child.kill();
    await rm(dir, { recursive: true, force: true });
  }
});
