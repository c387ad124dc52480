import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { liveStats, statSnapshot } from './stat-snapshot.ts';

test('a snapshot lstats a path once; live stats see the file as it is', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fromscratch-snap-'));
  try {
    const f = join(dir, 'f');
    writeFileSync(f, 'a');
    const snap = statSnapshot();
    assert.equal((await snap.lstat(f)).size, 1n);
    writeFileSync(f, 'abc');
    // the build's first look at the file holds for the rest of it
    assert.equal((await snap.lstat(f)).size, 1n);
    assert.equal((await liveStats.lstat(f)).size, 3n);
    // a fresh snapshot sees the change
    assert.equal((await statSnapshot().lstat(f)).size, 3n);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed lstat is not kept: the next call in the snapshot asks again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fromscratch-snap-'));
  try {
    const f = join(dir, 'late');
    const snap = statSnapshot();
    await assert.rejects(snap.lstat(f), { code: 'ENOENT' });
    writeFileSync(f, 'xy');
    assert.equal((await snap.lstat(f)).size, 2n);
    unlinkSync(f);
    // present once seen: the snapshot keeps it
    assert.equal((await snap.lstat(f)).size, 2n);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
