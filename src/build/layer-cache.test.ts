import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { memoryStore } from '../blob/memory-store.ts';
import { FileTreeBuilder } from '../fs/file-tree.ts';
import { makeLayer } from '../layer/make-layer.ts';
import { cachedLayer, layerCacheKey, rememberLayer } from './layer-cache.ts';

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
    assert.deepEqual(await cachedLayer(k1, store, o), { blob: layer.blob, diffId: layer.diffId });
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
