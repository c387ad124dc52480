import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { snapshotLstat, withStatSnapshot } from './stat-snapshot.ts';

test('within a snapshot a path is lstat-ed once; outside, every call sees the file as it is', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fromscratch-snap-'));
  try {
    const f = join(dir, 'f');
    writeFileSync(f, 'a');
    await withStatSnapshot(async () => {
      assert.equal((await snapshotLstat(f)).size, 1n);
      writeFileSync(f, 'abc');
      // the build's first look at the file holds for the rest of it
      assert.equal((await snapshotLstat(f)).size, 1n);
      // a nested scope keeps the outer snapshot
      await withStatSnapshot(async () => assert.equal((await snapshotLstat(f)).size, 1n));
    });
    assert.equal((await snapshotLstat(f)).size, 3n);
    // a fresh snapshot sees the change
    await withStatSnapshot(async () => assert.equal((await snapshotLstat(f)).size, 3n));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed lstat is not kept: the next call in the snapshot asks again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fromscratch-snap-'));
  try {
    const f = join(dir, 'late');
    await withStatSnapshot(async () => {
      await assert.rejects(snapshotLstat(f), { code: 'ENOENT' });
      writeFileSync(f, 'xy');
      assert.equal((await snapshotLstat(f)).size, 2n);
      unlinkSync(f);
      // present once seen: the snapshot keeps it
      assert.equal((await snapshotLstat(f)).size, 2n);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
