/**
 * relink.test.ts — an OCI layout's copy of a blob that the build's blob cache holds as a file of the same
 * file system is replaced by a hard link of that file (once verified), so the next write finds it linked.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { dirStore } from '../../src/blob/dir-store.ts';
import { FileTreeBuilder } from '../../src/fs/file-tree.ts';
import { appendLayers, emptyImage } from '../../src/image/image.ts';
import { makeLayer } from '../../src/layer/make-layer.ts';
import { hostPlatform } from '../../src/model/platform.ts';
import { readOciLayout, writeOciLayout } from '../../src/oci/oci-layout.ts';

test('a layout blob that is a copy of the cache file is replaced by a link of it, with the same bytes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fs-relink-'));
  try {
    const data = new TextEncoder().encode('hello relink\n'.repeat(100));
    const tree = new FileTreeBuilder()
      .add({
        type: 'file',
        path: '/f',
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: data.length,
        content: { kind: 'bytes', data },
      })
      .build();
    const cache = join(dir, 'cache');
    const layer = await makeLayer(tree, dirStore(cache, { trusted: true, fsync: false }));
    const image = appendLayers(emptyImage(hostPlatform()), [layer], [{ created_by: 'test' }]);
    const out = join(dir, 'out');
    const hex = layer.blob.digest.slice('sha256:'.length);
    const inCache = join(cache, 'sha256', hex);
    const inLayout = join(out, 'blobs', 'sha256', hex);
    await writeOciLayout(out, [image], dirStore(cache, { trusted: true }), { tag: 'x', fsync: false });
    assert.equal((await stat(inLayout)).ino, (await stat(inCache)).ino, 'linked on the first write');
    // the layout holds a copy instead (written with another cache, say)
    await copyFile(inCache, `${inLayout}.copy`);
    await rename(`${inLayout}.copy`, inLayout);
    assert.notEqual((await stat(inLayout)).ino, (await stat(inCache)).ino);
    // a fresh store (nothing verified in it yet), as in the next build's process
    await writeOciLayout(out, [image], dirStore(cache, { trusted: true }), { tag: 'x', fsync: false });
    assert.equal((await stat(inLayout)).ino, (await stat(inCache)).ino, 'the copy is replaced by a link');
    const read = await readOciLayout(out, 'x');
    assert.equal(read.images[0]!.layers[0]!.blob.digest, layer.blob.digest);
    await read.close?.();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
