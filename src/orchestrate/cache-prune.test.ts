/**
 * cache-prune.test.ts — the local cache stays within its bounds: newest kept, nothing recent taken,
 * blobs only when over the budget and named by no kept layer entry; at most once per period.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { maybePruneCache, pruneCache } from './cache-prune.ts';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-06-01T12:00:00Z');

function withCache(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cache-prune-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** put writes a file whose mtime is `ageMs` before NOW. */
function put(path: string, data: string | Buffer, ageMs: number): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, data);
  const t = new Date(NOW - ageMs);
  utimesSync(path, t, t);
  return path;
}

const hex = (s: string) => createHash('sha256').update(s).digest('hex');

/** blob writes a blob of `size` bytes and a layer cache entry naming it, both `ageMs` old. */
function layer(dir: string, name: string, size: number, ageMs: number): { blob: string; entry: string } {
  const data = Buffer.alloc(size, name);
  const digest = hex(data.toString('latin1'));
  const blob = put(join(dir, 'blobs', 'sha256', digest), data, ageMs);
  const key = hex(`key ${name}`);
  const entry = put(
    join(dir, 'layers', `${key}.json`),
    JSON.stringify({
      blob: { mediaType: 'x', digest: `sha256:${digest}`, size },
      diffId: `sha256:${hex(name)}`,
    }),
    ageMs,
  );
  put(join(dir, 'layers', `${key}.content`), `${hex(`content ${name}`)}\n`, ageMs);
  return { blob, entry };
}

test(
  'records and closure memos: the newest kept, and none written within the minimum age',
  withCache(async (dir) => {
    const records = Array.from({ length: 6 }, (_, i) =>
      put(join(dir, 'records', 'sha256', `${hex(`r${i}`)}.json`), '{}', (i + 1) * 2 * HOUR),
    );
    const recent = put(join(dir, 'records', 'sha256', `${hex('recent')}.json`), '{}', 1000);
    const closures = Array.from({ length: 3 }, (_, i) =>
      put(join(dir, 'closures', `${hex(`c${i}`)}.json`), '{}', (i + 1) * 2 * HOUR),
    );
    const r = await pruneCache(dir, { now: NOW, records: 2, closures: 1 });
    assert.equal(r.records, 5, 'the recent one counts among the newest two');
    assert.ok(existsSync(recent));
    assert.deepEqual(
      records.map((p) => existsSync(p)),
      [true, false, false, false, false, false],
    );
    assert.equal(r.closures, 2);
    assert.deepEqual(
      closures.map((p) => existsSync(p)),
      [true, false, false],
    );
    // beyond the count, but written within the minimum age: kept (a build may be using it)
    const fresh = Array.from({ length: 3 }, (_, i) =>
      put(join(dir, 'records', 'sha256', `${hex(`f${i}`)}.json`), '{}', i * 1000),
    );
    const again = await pruneCache(dir, { now: NOW, records: 1 });
    assert.ok(fresh.every((p) => existsSync(p)));
    assert.ok(existsSync(recent));
    assert.equal(again.records, 1, 'only the old one left');
  }),
);

test(
  'layer entries beyond the blob budget go with their content keys; blobs go only while over the budget, never one a kept entry names',
  withCache(async (dir) => {
    // newest first: a (recent), b, c, d (oldest); each blob 1000 bytes, budget 2500
    const a = layer(dir, 'a', 1000, 1000);
    const b = layer(dir, 'b', 1000, 2 * HOUR);
    const c = layer(dir, 'c', 1000, 3 * HOUR);
    const d = layer(dir, 'd', 1000, 4 * HOUR);
    // a pulled blob no entry names, old; and a recent one (a build writing it now)
    const pulled = put(join(dir, 'blobs', 'sha256', hex('pulled')), Buffer.alloc(1000), 5 * HOUR);
    const writing = put(join(dir, 'blobs', 'sha256', hex('writing')), Buffer.alloc(1000), 10);
    const r = await pruneCache(dir, { now: NOW, blobBudget: 2500 });
    assert.ok(existsSync(a.entry) && existsSync(b.entry), 'the newest two fit the budget');
    assert.ok(!existsSync(c.entry) && !existsSync(d.entry));
    assert.ok(!existsSync(c.entry.replace(/\.json$/, '.content')), 'the content key goes with its entry');
    assert.equal(r.layerEntries, 2);
    assert.ok(existsSync(a.blob) && existsSync(b.blob), 'blobs of kept entries stay');
    assert.ok(existsSync(writing), 'a recent blob stays');
    // 6000 bytes over a budget of 2500: the oldest go first (pulled, d, c); a and b are named and
    // `writing` is recent, so 3000 bytes remain
    assert.ok(!existsSync(pulled) && !existsSync(d.blob) && !existsSync(c.blob));
    assert.equal(r.blobs, 3);
    assert.equal(r.blobBytes, 3000);
  }),
);

test(
  'a symlink among the records is neither followed nor removed',
  withCache(async (dir) => {
    const outside = mkdtempSync(join(tmpdir(), 'cache-prune-outside-'));
    try {
      const target = put(join(outside, 'keep.json'), '{}', 48 * HOUR);
      const link = join(dir, 'records', 'sha256', `${hex('link')}.json`);
      mkdirSync(join(link, '..'), { recursive: true });
      symlinkSync(target, link);
      put(join(dir, 'records', 'sha256', `${hex('old')}.json`), '{}', 48 * HOUR);
      const r = await pruneCache(dir, { now: NOW, records: 0 });
      assert.equal(r.records, 1);
      assert.ok(existsSync(target) && lstatSync(link).isSymbolicLink());
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  }),
);

test(
  'within the budget no blob is removed, even one no entry names; the count bound drops old entries only',
  withCache(async (dir) => {
    const kept = layer(dir, 'k', 100, 2 * HOUR);
    const old = layer(dir, 'o', 100, 3 * HOUR);
    const pulled = put(join(dir, 'blobs', 'sha256', hex('base')), Buffer.alloc(100), 48 * HOUR);
    const r = await pruneCache(dir, { now: NOW, layerEntries: 1 });
    assert.ok(existsSync(kept.entry) && !existsSync(old.entry));
    assert.ok(existsSync(old.blob) && existsSync(pulled), 'under the budget: blobs stay');
    assert.equal(r.blobs, 0);
  }),
);

test(
  'a cache made within the minimum age is stamped, not scanned: nothing in it can be old enough',
  withCache(async (dir) => {
    const born = statSync(dir).birthtimeMs;
    if (!(born > 0)) return; // no birth time on this file system: scanned as any other
    const fresh = join(dir, 'records', 'sha256', 'a.json');
    mkdirSync(join(fresh, '..'), { recursive: true });
    writeFileSync(fresh, '{}'); // written now, as a first build writes
    assert.equal(await maybePruneCache(dir, { now: born + HOUR / 2, records: 0 }), undefined);
    assert.ok(existsSync(join(dir, 'pruned')) && existsSync(fresh), 'stamped, nothing removed');
    // once the period is over it is trimmed as usual
    assert.ok(await maybePruneCache(dir, { now: born + 2 * HOUR, records: 0 }));
  }),
);

test(
  'temporary files of interrupted runs go after a day; trimming runs at most once per period',
  withCache(async (dir) => {
    const stale = put(join(dir, 'blobs', 'sha256', '.tmp-blob-1-x'), 'x', 25 * HOUR);
    const live = put(join(dir, 'layers', '.tmp-w-2-y'), 'y', HOUR);
    const first = await maybePruneCache(dir, { now: NOW });
    assert.equal(first?.temps, 1);
    assert.ok(!existsSync(stale) && existsSync(live));
    assert.ok(existsSync(join(dir, 'pruned')), 'the stamp says when');
    assert.equal(await maybePruneCache(dir, { now: NOW + HOUR / 2 }), undefined, 'not yet');
    assert.ok(await maybePruneCache(dir, { now: NOW + 2 * HOUR }), 'an hour later');
    // a cache directory that is not there (or not writable): nothing to do, no error
    assert.equal(await maybePruneCache(join(dir, 'missing', 'deeper'), { now: NOW }), undefined);
    // a stamp that is a symlink (planted): no trimming through it, the target untouched
    const other = mkdtempSync(join(tmpdir(), 'cache-prune-other-'));
    try {
      const target = put(join(other, 'precious'), 'x', 48 * HOUR);
      const planted = join(other, 'cache');
      mkdirSync(planted);
      symlinkSync(target, join(planted, 'pruned'));
      assert.equal(await maybePruneCache(planted, { now: NOW }), undefined);
      assert.equal(statSync(target).mtimeMs, NOW - 48 * HOUR);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  }),
);
