/**
 * diff-id.ts — check a read image's config `rootfs.diff_ids` against its layers (issue 15.6).
 *
 * An image's layer blob is checked by its digest when read, but the config's diff_id (the digest of the
 * uncompressed tar) is only a claim. A base whose diff_ids do not match its layers makes an image that
 * umoci and Docker refuse, so every consumer that passes layers on without unpacking them (`build
 * --from`, `copy`) checks them here: the count is checked when the image is read (to-image.ts); the
 * values lazily, while the compressed bytes stream past, by decompressing them on the side (with the
 * layer limits of decompress.ts) and hashing the tar. Unpacking and `inspect` hash the tar they read
 * anyway and compare there.
 * https://github.com/opencontainers/image-spec/blob/main/config.md#layer-diffid
 */
import type { BlobInfo, BlobStore } from '../blob/store.ts';
import { FromscratchError } from '../errors.ts';
import type { Image, Layer } from '../image/image.ts';
import { type Digest, newHasher, sha256 } from '../model/digest.ts';
import { layerCompression } from '../model/media-type.ts';
import { type DecompressOptions, decompressStream } from './decompress.ts';
import type { ImageSet } from './image-set.ts';

/** diffIdMismatch is the error for a layer whose uncompressed tar is not its config's diff_id. */
export function diffIdMismatch(what: string, got: Digest, want: Digest): FromscratchError {
  return new FromscratchError(
    'DIGEST_MISMATCH',
    `${what}: the uncompressed layer hashes to ${got}, but the config's diff_id is ${want}`,
    {
      hint: 'the image config does not describe its layers (umoci and docker refuse such an image); rebuild or re-push the base image',
    },
  );
}

/**
 * verifyLayerStream yields the compressed bytes of `layer` from `source` unchanged, and decompresses
 * them on the side to hash the tar. Throws DIGEST_MISMATCH naming `what` after the last byte when the tar
 * is not `layer.diffId`, before any byte for an uncompressed layer whose blob digest is not its diff_id,
 * and the errors of the source (its own DIGEST_MISMATCH first) and of decompression (TOO_LARGE,
 * INVALID_COMPRESSION). Memory stays bounded by what the decoder holds between two outputs.
 */
export async function* verifyLayerStream(
  source: AsyncIterable<Uint8Array>,
  layer: Layer,
  what: string,
  opts: DecompressOptions = {},
): AsyncGenerator<Uint8Array> {
  const c = layerCompression(layer.blob.mediaType);
  if (c === undefined || c === 'none') {
    // an uncompressed layer is its own tar: the blob digest (verified by the store) must be the diff_id
    if (layer.blob.digest !== layer.diffId) throw diffIdMismatch(what, layer.blob.digest, layer.diffId);
    yield* source;
    return;
  }
  const it = source[Symbol.asyncIterator]();
  const seen: Uint8Array[] = [];
  // the decoder pulls through this tap and cannot close the source: what it leaves is drained below
  const tap: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        const r = await it.next();
        if (!r.done) seen.push(r.value);
        return r;
      },
    }),
  };
  const h = newHasher();
  for await (const tar of decompressStream(tap, c, what, opts)) {
    h.update(tar);
    while (seen.length > 0) yield seen.shift()!;
  }
  while (seen.length > 0) yield seen.shift()!;
  for (;;) {
    const r = await it.next();
    if (r.done) break;
    yield r.value;
  }
  const got = h.digest().digest;
  if (got !== layer.diffId) throw diffIdMismatch(what, got, layer.diffId);
}

/** layersByBlob maps each layer blob of `images` to its layer; one blob given two diff_ids is refused. */
function layersByBlob(images: readonly Image[], what: string): Map<Digest, Layer> {
  const out = new Map<Digest, Layer>();
  for (const img of images) {
    for (const l of img.layers) {
      const prev = out.get(l.blob.digest);
      if (prev && prev.diffId !== l.diffId) {
        throw new FromscratchError(
          'DIGEST_MISMATCH',
          `${what}: layer ${l.blob.digest} is given two diff_ids, ${prev.diffId} and ${l.diffId}`,
          { hint: 'an image config does not describe its layers; the image is corrupt or hostile' },
        );
      }
      out.set(l.blob.digest, l);
    }
  }
  return out;
}

/**
 * withDiffIdChecks returns `set` with a store whose layer blobs are checked against their diff_ids while
 * they are read (verifyLayerStream); other blobs are served as they are. Throws DIGEST_MISMATCH up front
 * when one blob is given two diff_ids. `close()` is the set's.
 */
export function withDiffIdChecks(set: ImageSet, what = 'image'): ImageSet {
  const layers = layersByBlob(set.images, what);
  const inner = set.store;
  const store: BlobStore = {
    put: (data: Uint8Array | AsyncIterable<Uint8Array>, expected?: BlobInfo) => inner.put(data, expected),
    has: (digest: Digest, size?: number) => inner.has(digest, size),
    size: (digest: Digest) => inner.size(digest),
    open: (digest: Digest, size?: number) => {
      const l = layers.get(digest);
      const src = inner.open(digest, size);
      return l ? verifyLayerStream(src, l, `${what}: layer ${digest}`) : src;
    },
  };
  return { ...set, store };
}

/**
 * diffIdMarker is the small blob that records, in a store, that a layer blob was checked against a
 * diff_id: its digest names the pair, so a store that has it has checked that pair (and a base that
 * reuses a cached blob with another diff_id has no marker).
 */
export function diffIdMarker(layer: Layer): { bytes: Uint8Array; digest: Digest; size: number } {
  const bytes = new TextEncoder().encode(
    `fromscratch diff_id check\n${layer.blob.digest}\n${layer.diffId}\n`,
  );
  return { bytes, digest: sha256(bytes), size: bytes.byteLength };
}

/**
 * copyCheckedLayer makes `to` hold the blob of `layer` from `from`, checked against its diff_id on the
 * way (a blob `to` already holds is checked once per diff_id, then remembered by a diffIdMarker).
 * Throws DIGEST_MISMATCH naming `what`, and the errors of both stores; nothing is left in `to` for a
 * layer that fails.
 */
export async function copyCheckedLayer(
  to: BlobStore,
  from: BlobStore,
  layer: Layer,
  what: string,
): Promise<void> {
  const { digest, size } = layer.blob;
  const marker = diffIdMarker(layer);
  const have = await to.has(digest, size);
  if (have && (await to.has(marker.digest, marker.size))) return;
  if (have) {
    for await (const _ of verifyLayerStream(to.open(digest, size), layer, what)) {
      // drained only to check the diff_id of the blob already there
    }
  } else {
    await to.put(verifyLayerStream(from.open(digest, size), layer, what), { digest, size });
  }
  await to.put(marker.bytes, { digest: marker.digest, size: marker.size });
}
