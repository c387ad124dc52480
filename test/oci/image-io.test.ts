/**
 * image-io.test.ts — readImage/writeImage dispatch: single-platform sinks pick a platform, the registry
 * transport goes through its hook.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { memoryStore } from '../../src/blob/memory-store.ts';
import { isFromscratchError } from '../../src/errors.ts';
import type { Image } from '../../src/image/image.ts';
import { pickOne, readImage, writeImage } from '../../src/oci/image-io.ts';
import type { ImageSet } from '../../src/oci/image-set.ts';
import { helloImage } from '../support/tiny-image.ts';
import { withTempDir } from '../support/validate-tools.ts';

test('single-platform sinks take the requested platform, else the host one', async () => {
  const store = memoryStore();
  const amd = await helloImage(store);
  const arm = await helloImage(store, { platform: { os: 'linux', architecture: 'arm64' }, extra: 'arm\n' });
  assert.equal(pickOne([amd, arm], { os: 'linux', architecture: 'arm64' }, 'x'), arm);
  assert.equal(pickOne([arm], undefined, 'x'), arm);
  assert.throws(
    () => pickOne([amd, arm], { os: 'linux', architecture: 's390x' }, 'x'),
    (e: unknown) =>
      isFromscratchError(e, 'IMAGE_NOT_FOUND') && /linux\/amd64, linux\/arm64/.test(e.hint ?? ''),
  );
  await withTempDir('io', async (t) => {
    const file = join(t, 'd.tar');
    await writeImage(`docker-archive:${file}:io-test:arm`, [amd, arm], store, {
      platform: { os: 'linux', architecture: 'arm64' },
    });
    const set = await readImage(`docker-archive:${file}:io-test:arm`);
    assert.equal(set.images[0]!.platform.architecture, 'arm64');
    await set.close();
    await assert.rejects(
      readImage(`docker-archive:${file}`, { platform: { os: 'linux', architecture: 'amd64' } }),
      (e: unknown) => isFromscratchError(e, 'IMAGE_NOT_FOUND'),
    );
  });
});

test('docker:// goes through the registry hooks, and is refused without them', async () => {
  const store = memoryStore();
  const image = await helloImage(store);
  const seen: string[] = [];
  const fake: ImageSet = {
    images: [image],
    manifests: [],
    descriptor: image.layers[0]!.blob,
    store,
    close: async () => {},
  };
  const registry = {
    read: async (ref: string) => {
      seen.push(`read ${ref}`);
      return fake;
    },
    write: async (ref: string, images: readonly Image[]) => {
      seen.push(`write ${ref} ${images.length}`);
      return { descriptor: image.layers[0]!.blob, manifests: [] };
    },
  };
  assert.equal(await readImage('docker://127.0.0.1:5055/a:b', { registry }), fake);
  await writeImage('docker://127.0.0.1:5055/a:c', [image], store, { registry });
  assert.deepEqual(seen, ['read 127.0.0.1:5055/a:b', 'write 127.0.0.1:5055/a:c 1']);
  await assert.rejects(writeImage('docker://127.0.0.1:5055/a:c', [image], store), (e: unknown) =>
    isFromscratchError(e, 'INVALID_REFERENCE'),
  );
});
