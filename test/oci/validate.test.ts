/**
 * validate.test.ts — validateImage finds every broken invariant at once: corrupt blobs (B3, C1), wrong
 * diff_ids, media types that contradict the bytes (B4), missing blobs, decompression bombs (B1, B2).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { memoryStore } from '../../src/blob/memory-store.ts';
import { isFromscratchError } from '../../src/errors.ts';
import { appendLayers, emptyImage, type Image, type Layer, withConfig } from '../../src/image/image.ts';
import { type Digest, sha256 } from '../../src/model/digest.ts';
import { MediaType } from '../../src/model/media-type.ts';
import { checkImage, InvalidImageError, validateImage } from '../../src/oci/validate.ts';
import { makeTestLayer } from '../support/tiny-image.ts';

const code = (c: string, re?: RegExp) => (e: unknown) =>
  isFromscratchError(e) && e.code === c && (re === undefined || re.test(e.message));
const base = emptyImage({ os: 'linux', architecture: 'amd64' });

async function withLayer(compression: 'gzip' | 'zstd' | 'none' = 'gzip') {
  const store = memoryStore();
  const layer = await makeTestLayer(
    store,
    [{ path: '/a', data: 'some content that compresses '.repeat(50) }],
    compression,
  );
  return { store, layer, image: appendLayers(base, [layer]) };
}

/** putFlipped stores the layer's bytes with one byte flipped under the original descriptor's name. */
function flippedStore(bytes: Uint8Array, at: number, digest: Digest) {
  const store = memoryStore();
  const bad = Buffer.from(bytes);
  bad[at]! ^= 0x55;
  (store.blobs as Map<Digest, Uint8Array>).set(digest, bad);
  return store;
}

test('a valid image passes, for every compression', async () => {
  for (const c of ['gzip', 'zstd', 'none'] as const) {
    const { store, image } = await withLayer(c);
    await validateImage(image, store);
    assert.deepEqual(await checkImage(image, store), []);
  }
});

test('B3/C1: one flipped byte anywhere in a compressed layer is a digest mismatch, not a decompressor error', async () => {
  for (const c of ['gzip', 'zstd'] as const) {
    const { store, layer } = await withLayer(c);
    const bytes = store.blobs.get(layer.blob.digest)!;
    for (const at of [3, 12, Math.floor(bytes.length / 2), bytes.length - 12, bytes.length - 2]) {
      const bad = flippedStore(bytes, at, layer.blob.digest);
      await assert.rejects(
        validateImage(appendLayers(base, [layer]), bad),
        code('DIGEST_MISMATCH'),
        `${c} byte ${at}`,
      );
    }
  }
});

test('a layer that does not decompress to its diff_id is reported', async () => {
  const { store, layer } = await withLayer();
  const wrong: Layer = { ...layer, diffId: sha256('something else') };
  await assert.rejects(validateImage(appendLayers(base, [wrong]), store), code('DIGEST_MISMATCH', /diff_id/));
});

test('B4: a media type that contradicts the bytes is INVALID_COMPRESSION', async () => {
  const z = await withLayer('zstd');
  const asGzip: Layer = { ...z.layer, blob: { ...z.layer.blob, mediaType: MediaType.OciLayerGzip } };
  await assert.rejects(
    validateImage(appendLayers(base, [asGzip]), z.store),
    code('INVALID_COMPRESSION', /declared gzip but the bytes are zstd/),
  );
  const g = await withLayer('gzip');
  const asTar: Layer = { ...g.layer, blob: { ...g.layer.blob, mediaType: MediaType.OciLayer } };
  await assert.rejects(
    validateImage(appendLayers(base, [asTar]), g.store),
    code('INVALID_COMPRESSION', /declared none but the bytes are gzip/),
  );
  const n = await withLayer('none');
  const asZstd: Layer = { ...n.layer, blob: { ...n.layer.blob, mediaType: MediaType.OciLayerZstd } };
  await assert.rejects(
    validateImage(appendLayers(base, [asZstd]), n.store),
    code('INVALID_COMPRESSION', /not compressed/),
  );
});

test('B1/B2: decompression stops at the cap', async () => {
  for (const c of ['gzip', 'zstd'] as const) {
    const store = memoryStore();
    const layer = await makeTestLayer(store, [{ path: '/zeros', data: Buffer.alloc(4 * 1024 * 1024) }], c);
    assert.ok(layer.blob.size < 64 * 1024, 'the layer is a small bomb');
    await assert.rejects(
      validateImage(appendLayers(base, [layer]), store, { maxBytes: 1024 * 1024 }),
      code('TOO_LARGE', /more than 1048576 bytes/),
    );
  }
});

test('every problem is reported at once', async () => {
  const { store, layer } = await withLayer();
  const missing: Layer = {
    blob: { mediaType: MediaType.OciLayerGzip, digest: sha256('absent'), size: 6 },
    diffId: sha256('x'),
  };
  const notALayer: Layer = { blob: { ...layer.blob, mediaType: 'application/json' }, diffId: layer.diffId };
  const wrongDiff: Layer = { ...layer, diffId: sha256('other') };
  const image: Image = withConfig(
    { ...appendLayers(base, [missing, notALayer, wrongDiff]), history: [{}] },
    { Env: ['NOEQUALS'] },
  );
  const err = await validateImage(image, store).then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof InvalidImageError);
  assert.equal(err.code, 'INVALID_IMAGE');
  const codes = err.problems.map((p) => `${p.subject.split(' ')[0]}:${p.code}`).sort();
  assert.deepEqual(codes, [
    'config.Env[0]:INVALID_IMAGE',
    'history:INVALID_IMAGE',
    'layers[0]:BLOB_NOT_FOUND',
    'layers[1]:INVALID_IMAGE',
    'layers[2]:DIGEST_MISMATCH',
  ]);
  assert.match(err.message, /5 problems/);
});

test('a corrupt gzip that hashes right is INVALID_COMPRESSION (the blob is intact, its content is not)', async () => {
  const store = memoryStore();
  const good = gzipSync(Buffer.alloc(1000, 1));
  const bad = Buffer.from(good);
  bad[bad.length - 6]! ^= 0xff; // inside the CRC trailer
  const { digest, size } = await store.put(bad);
  const layer: Layer = {
    blob: { mediaType: MediaType.OciLayerGzip, digest, size },
    diffId: sha256(Buffer.alloc(1000, 1)),
  };
  await assert.rejects(validateImage(appendLayers(base, [layer]), store), code('INVALID_COMPRESSION'));
});
