/**
 * validate.test.ts — validateImage finds every broken invariant at once: corrupt blobs (B3, C1), wrong
 * diff_ids, media types that contradict the bytes (B4), missing blobs, decompression bombs (B1, B2).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { memoryStore } from '../../src/blob/memory-store.ts';
import { isFromscratchError } from '../../src/errors.ts';
import {
  appendLayers,
  emptyImage,
  type Image,
  type Layer,
  serializeImage,
  withConfig,
  withDocuments,
} from '../../src/image/image.ts';
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
  // each problem is listed with its subject and code
  for (const p of err.problems)
    assert.ok(err.message.includes(`${p.subject}: ${p.message} [${p.code}]`), p.subject);
  assert.equal(err.hint, 'the image is corrupt or was built wrongly; rebuild it');
  const messages = Object.fromEntries(err.problems.map((p) => [p.subject.split(' ')[0], p.message]));
  assert.match(messages['layers[0]']!, /not found/);
  assert.match(messages['layers[1]']!, /media type application\/json is not a layer type/);
  assert.match(messages['config.Env[0]']!, /"NOEQUALS" is not NAME=VALUE/);
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

test('the platform needs both os and architecture', async () => {
  const { store, layer } = await withLayer();
  for (const platform of [
    { os: '', architecture: 'amd64' },
    { os: 'linux', architecture: '' },
  ]) {
    const image = appendLayers({ ...base, platform }, [layer]);
    const problems = await checkImage(image, store);
    assert.ok(
      problems.some(
        (p) =>
          p.subject === 'platform' && p.code === 'INVALID_IMAGE' && /os and architecture/.test(p.message),
      ),
      JSON.stringify(platform),
    );
  }
});

test('malformed descriptors are reported without reading the blob', async () => {
  const { store, layer } = await withLayer();
  const cases: [Layer, string, RegExp][] = [
    [{ ...layer, blob: { ...layer.blob, digest: 'sha256:AB' as Digest } }, 'INVALID_DIGEST', /blob digest/],
    [{ ...layer, diffId: 'sha256:00' as Digest }, 'INVALID_DIGEST', /diff_id sha256:00/],
    [{ ...layer, blob: { ...layer.blob, size: -1 } }, 'INVALID_IMAGE', /size -1/],
    [{ ...layer, blob: { ...layer.blob, size: 1.5 } }, 'INVALID_IMAGE', /size 1\.5/],
    [
      { ...layer, blob: { ...layer.blob, mediaType: 'text/plain' } },
      'INVALID_IMAGE',
      /text\/plain is not a layer type/,
    ],
  ];
  for (const [bad, c, re] of cases) {
    const problems = await checkImage(appendLayers(base, [bad]), store);
    const mine = problems.filter((p) => p.subject.startsWith('layers[0]'));
    assert.equal(mine.length, 1, `${re}: ${JSON.stringify(mine)}`);
    assert.equal(mine[0]!.code, c);
    assert.match(mine[0]!.message, re);
  }
  // size 0 is a valid size (an empty blob), not a malformed one
  const empty = await store.put(new Uint8Array(0));
  const zero: Layer = { blob: { mediaType: MediaType.OciLayer, ...empty }, diffId: empty.digest };
  assert.deepEqual(await checkImage(appendLayers(base, [zero]), store), []);
});

test('layers: false checks presence and size only', async () => {
  const { store, layer } = await withLayer();
  const bytes = store.blobs.get(layer.blob.digest)!;
  // a corrupt blob passes (its bytes are not read) …
  const corrupt = flippedStore(bytes, 12, layer.blob.digest);
  assert.deepEqual(await checkImage(appendLayers(base, [layer]), corrupt, { layers: false }), []);
  // … but an absent one, or one of another size, does not
  for (const l of [
    { ...layer, blob: { ...layer.blob, digest: sha256('absent') } },
    { ...layer, blob: { ...layer.blob, size: layer.blob.size + 1 } },
  ]) {
    const problems = await checkImage(appendLayers(base, [l]), store, { layers: false });
    assert.deepEqual(
      problems.map((p) => p.code),
      ['BLOB_NOT_FOUND'],
    );
    assert.match(problems[0]!.message, /not in the store with that size/);
  }
});

test('Env entries need a name and an =; the value may be empty', async () => {
  const { store, layer } = await withLayer();
  const image = withConfig(appendLayers(base, [layer]), { Env: ['A=', 'B=1=2', '=x', 'C'] });
  const problems = await checkImage(image, store);
  assert.deepEqual(
    problems.map((p) => p.subject),
    ['config.Env[2]', 'config.Env[3]'],
  );
});

test('history counts only entries with a layer; no history at all is allowed', async () => {
  const { store, layer } = await withLayer();
  const withEmpty: Image = {
    ...appendLayers(base, [layer]),
    history: [{ empty_layer: true }, {}, { empty_layer: true }],
  };
  assert.deepEqual(await checkImage(withEmpty, store), []);
  const none: Image = { ...appendLayers(base, [layer]), history: [] };
  assert.deepEqual(await checkImage(none, store), []);
  const tooMany: Image = { ...appendLayers(base, [layer]), history: [{}, {}] };
  const problems = await checkImage(tooMany, store);
  assert.deepEqual(
    problems.map((p) => p.subject),
    ['history'],
  );
  assert.match(problems[0]!.message, /2 history entries with layers, but 1 layers/);
});

test('a single problem is thrown with its own code and names its subject', async () => {
  const { store, layer } = await withLayer();
  const wrong: Layer = { ...layer, diffId: sha256('something else') };
  const err = await validateImage(appendLayers(base, [wrong]), store).then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof InvalidImageError);
  assert.equal(err.code, 'DIGEST_MISMATCH');
  assert.equal(err.problems.length, 1);
  assert.ok(
    err.message.startsWith(`invalid image: layers[0] ${layer.blob.digest}: uncompressed content hashes to`),
    err.message,
  );
});

test('documents that do not serialise or parse back are reported under `documents`', async () => {
  const store = memoryStore();
  // a FromscratchError of the strict parsers keeps its code and says which document
  const user = await checkImage({ ...base, config: { User: 5 as unknown as string } }, store);
  assert.deepEqual(
    user.map((p) => [p.code, p.subject]),
    [['INVALID_IMAGE', 'documents']],
  );
  assert.match(user[0]!.message, /^serialised config: config\.User/);
  const bad: Layer = {
    blob: { mediaType: MediaType.OciLayer, digest: 'sha256:00' as Digest, size: 1 },
    diffId: sha256('x'),
  };
  const manifest = await checkImage(appendLayers(base, [bad]), store);
  const docs = manifest.filter((p) => p.subject === 'documents');
  assert.deepEqual(
    docs.map((p) => p.code),
    ['INVALID_DIGEST'],
  );
  assert.match(docs[0]!.message, /^serialised manifest: /);
  // any other error is INVALID_IMAGE, with its message
  const big = await checkImage({ ...base, config: { Labels: { a: 10n as unknown as string } } }, store);
  assert.deepEqual(
    big.map((p) => [p.code, p.subject]),
    [['INVALID_IMAGE', 'documents']],
  );
  assert.match(big[0]!.message, /^cannot serialise: .*BigInt/);
});

/** docsOf is the documents an image is read with: its manifest and config as serialized. */
function docsOf(img: Image) {
  const s = serializeImage(img);
  return {
    manifest: s.manifest,
    manifestMediaType: s.descriptor.mediaType,
    config: s.config,
    configDescriptor: s.configDescriptor,
  };
}

test('an image read with its documents: documents that disagree with its layers or platform are reported', async () => {
  const { store, layer } = await withLayer();
  const image = appendLayers(base, [layer]);
  const subjects = async (img: Image) => (await checkImage(img, store)).map((p) => `${p.subject}:${p.code}`);
  // its own documents: valid
  assert.deepEqual(await subjects(withDocuments({ ...image }, docsOf(image))), []);
  // config bytes the manifest does not describe
  const other = docsOf(withConfig(image, { Env: ['A=1'] }));
  assert.deepEqual(await subjects(withDocuments({ ...image }, { ...docsOf(image), config: other.config })), [
    'manifest.config:DIGEST_MISMATCH',
  ]);
  // diff_ids: one more, or the same number but another one
  const two = docsOf(appendLayers(base, [layer, layer]));
  assert.deepEqual(await subjects(withDocuments({ ...image }, two)), ['config.rootfs:INVALID_IMAGE']);
  const wrong = docsOf(appendLayers(base, [{ ...layer, diffId: sha256('other') }]));
  assert.deepEqual(await subjects(withDocuments({ ...image }, wrong)), ['config.rootfs:INVALID_IMAGE']);
  // os or architecture alone differing from the platform
  for (const platform of [
    { os: 'linux', architecture: 'arm64' },
    { os: 'freebsd', architecture: 'amd64' },
  ]) {
    const d = docsOf(appendLayers(emptyImage(platform), [layer]));
    assert.deepEqual(await subjects(withDocuments({ ...image }, d)), ['config:INVALID_IMAGE'], platform.os);
  }
});

// Added after the Stryker run on validate.ts (91.9 %): each document check on its own (the digest or the size
// of the config descriptor alone, fewer diff_ids than layers, one diff_id of several), with its message.
test('documents: each disagreement is found on its own and says what differs', async () => {
  const { store, layer } = await withLayer();
  const image = withConfig(appendLayers(base, [layer]), { Env: ['A=1'] });
  const problems = async (img: Image, docs: ReturnType<typeof docsOf>) =>
    (await checkImage(withDocuments({ ...img }, docs), store, { layers: false })).map(
      (p) => `${p.subject}:${p.code}:${p.message}`,
    );
  const own = docsOf(image);
  const configMismatch =
    'manifest.config:DIGEST_MISMATCH:the config descriptor does not describe the config bytes';
  // config bytes of the same size but other content: the digest alone differs
  const same = docsOf(withConfig(image, { Env: ['A=2'] }));
  assert.equal(same.config.byteLength, own.config.byteLength);
  assert.deepEqual(await problems(image, { ...own, config: same.config }), [configMismatch]);
  // a manifest with the config's digest but another size: the size alone differs
  const m = JSON.parse(Buffer.from(own.manifest).toString('utf8'));
  m.config.size += 1;
  const wrongSize = new Uint8Array(Buffer.from(JSON.stringify(m)));
  assert.deepEqual(await problems(image, { ...own, manifest: wrongSize }), [configMismatch]);
  // fewer diff_ids than layers, and one wrong diff_id of two
  const other: Layer = { ...layer, diffId: sha256('other') };
  const rootfs = 'config.rootfs:INVALID_IMAGE:diff_ids differ from the layers';
  assert.deepEqual(await problems(appendLayers(image, [layer]), own), [rootfs]);
  const two = appendLayers(base, [layer, layer]);
  assert.deepEqual(await problems(two, docsOf(appendLayers(base, [layer, other]))), [rootfs]);
  // the platform
  const arm = docsOf(appendLayers(emptyImage({ os: 'linux', architecture: 'arm64' }), [layer]));
  assert.deepEqual(await problems(appendLayers(base, [layer]), arm), [
    'config:INVALID_IMAGE:os/architecture differ from the platform',
  ]);
});

test('several problems are listed in one message, separated by "; "', async () => {
  const { store, layer } = await withLayer();
  const image = withConfig(appendLayers(base, [layer]), { Env: ['X', '=y'] });
  const err = await validateImage(image, store).then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof InvalidImageError);
  assert.equal(
    err.message,
    'invalid image: 2 problems: config.Env[0]: "X" is not NAME=VALUE [INVALID_IMAGE]; config.Env[1]: "=y" is not NAME=VALUE [INVALID_IMAGE]',
  );
});
