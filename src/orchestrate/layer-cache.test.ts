import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { dirStore } from '../blob/dir-store.ts';
import { memoryStore } from '../blob/memory-store.ts';
import { FileTreeBuilder } from '../fs/file-tree.ts';
import { makeLayer } from '../layer/make-layer.ts';
import { cachedLayer, contentKeyOf, layerCacheKey, layerContentKey, rememberLayer } from './layer-cache.ts';

test('the layer cache hits for the same tree and misses when a host file, a mode or the epoch changes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fs-lcache-'));
  try {
    const f = join(dir, 'f');
    await writeFile(f, 'one');
    const tree = (mode: number, size = 3) =>
      new FileTreeBuilder()
        .add({ type: 'file', path: '/f', mode, uid: 0, gid: 0, size, content: { kind: 'host', path: f } })
        .build();
    const o = { compression: 'gzip', sourceDateEpoch: 0, dir };
    const store = memoryStore();
    const k1 = await layerCacheKey(tree(0o644), o);
    assert.equal(await cachedLayer(k1, store, o), undefined);
    const layer = await makeLayer(tree(0o644), store);
    await rememberLayer(k1, layer, o);
    // a hit renews the entry's mtime (the cache is trimmed by last use, cache-prune.ts), not its bytes
    const entry = join(dir, 'layers', `${k1}.json`);
    const bytes = await readFile(entry);
    const longAgo = new Date(Date.now() - 10 * 86_400_000);
    await utimes(entry, longAgo, longAgo);
    assert.deepEqual(await cachedLayer(k1, store, o), { blob: layer.blob, diffId: layer.diffId });
    assert.ok((await stat(entry)).mtimeMs > Date.now() - 60_000, 'a hit renews the mtime');
    assert.deepEqual(await readFile(entry), bytes);
    assert.equal(await layerCacheKey(tree(0o644), o), k1, 'same tree, same key');
    assert.notEqual(await layerCacheKey(tree(0o755), o), k1, 'mode is in the key');
    assert.notEqual(
      await layerCacheKey(tree(0o644), { ...o, sourceDateEpoch: 1 }),
      k1,
      'the epoch is in the key',
    );
    await writeFile(f, 'two');
    assert.notEqual(await layerCacheKey(tree(0o644), o), k1, 'rewriting the host file changes the key');
    assert.equal(
      await cachedLayer(k1, memoryStore(), o),
      undefined,
      'a blob missing from the store is a miss',
    );
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('a cache entry whose blob file was damaged in place is a miss; an intact one hits without reading it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fs-lcache-'));
  try {
    const f = join(dir, 'f');
    await writeFile(f, 'content of f\n'.repeat(100));
    const tree = new FileTreeBuilder()
      .add({
        type: 'file',
        path: '/f',
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: 1300,
        content: { kind: 'host', path: f },
      })
      .build();
    const o = { compression: 'gzip', sourceDateEpoch: 0, dir };
    const store = dirStore(join(dir, 'blobs'), { fsync: false, trusted: true });
    const key = await layerCacheKey(tree, o);
    const layer = await makeLayer(tree, store);
    await rememberLayer(key, layer, { ...o, store });
    assert.deepEqual(await cachedLayer(key, store, o), layer, 'intact: a hit');
    // the same size, other bytes: the stat stamp moves, the bytes are hashed, the digest fails
    const blob = store.pathOf(layer.blob.digest);
    const bytes = await readFile(blob);
    bytes[bytes.length - 9]! ^= 0xff;
    await writeFile(blob, bytes);
    assert.equal(await cachedLayer(key, store, o), undefined, 'corrupt: a miss');
    await rm(blob);
    assert.equal(await cachedLayer(key, store, o), undefined, 'missing: a miss');
    // writing the layer again repairs the store, and the entry hits again
    const again = await makeLayer(tree, store);
    assert.deepEqual(again, layer);
    await rememberLayer(key, again, { ...o, store });
    assert.deepEqual(await cachedLayer(key, store, o), layer);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('the content key (registry cache) ignores where a host file is and its stat data, not its bytes or mode', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fs-ckey-'));
  try {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    await writeFile(a, 'same bytes');
    await writeFile(b, 'same bytes');
    await utimes(b, 1000, 1000);
    const tree = (host: string, mode = 0o644, mtime = 5) =>
      new FileTreeBuilder()
        .add({
          type: 'file',
          path: '/f',
          mode,
          uid: 0,
          gid: 0,
          size: 10,
          mtime,
          content: { kind: 'host', path: host },
        })
        .build();
    const o = { compression: 'gzip', sourceDateEpoch: 0, dir };
    const k = await layerContentKey(tree(a), o);
    assert.equal(
      await layerContentKey(tree(b, 0o644, 9), o),
      k,
      'another checkout, other mtime and inode: same key',
    );
    assert.notEqual(await layerCacheKey(tree(b), o), await layerCacheKey(tree(a), o), 'the stat key differs');
    assert.notEqual(await layerContentKey(tree(a, 0o755), o), k, 'mode is in the key');
    assert.notEqual(
      await layerContentKey(tree(a), { ...o, compression: 'zstd' }),
      k,
      'compression is in the key',
    );
    const sk = await layerCacheKey(tree(a), o);
    assert.equal(await contentKeyOf(sk, tree(a), o), k);
    await writeFile(b, 'other byte');
    assert.notEqual(await layerContentKey(tree(b), o), k, 'content is in the key');
    assert.equal(await contentKeyOf(sk, tree(a), o), k, 'recorded beside the stat key');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
