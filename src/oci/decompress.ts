/**
 * decompress.ts — stream a layer's uncompressed tar out of a store, in-process and bounded.
 *
 * The decoding itself is codec/decompress.ts (gzip, zstd; magic numbers checked against the media type,
 * B4; output capped, B1/B2; a corrupt blob reported as its digest mismatch, B3). Every reader of a layer
 * (inspect, copy to docker-archive, explain, validate, unpack for run and --verify) gets the same caps,
 * codec's defaults: 32 GiB per layer, and past 64 MiB no more than 1000 times the compressed size. A
 * verified digest does not make a bomb harmless: `inspect` of a 21 MB gzip bomb must stop early
 * (issue 15.8).
 */
import type { BlobStore } from '../blob/store.ts';
import {
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  decompressStream as decodeStream,
  sniffCompression,
} from '../codec/decompress.ts';
import { FromscratchError } from '../errors.ts';
import type { Descriptor } from '../model/descriptor.ts';
import { type Compression, layerCompression } from '../model/media-type.ts';

/** DEFAULT_MAX_UNCOMPRESSED caps the uncompressed size of one layer (codec's default, 32 GiB). */
export const DEFAULT_MAX_UNCOMPRESSED = DEFAULT_MAX_DECOMPRESSED_BYTES;

/** DecompressOptions bounds decompression (every field defaults to codec's limits). */
export interface DecompressOptions {
  /** most uncompressed bytes accepted (default DEFAULT_MAX_UNCOMPRESSED) */
  maxBytes?: number;
  /** most uncompressed/compressed bytes once past ratioFloor (default 1000) */
  maxRatio?: number;
  /** uncompressed size under which the ratio is not checked (default 64 MiB) */
  ratioFloor?: number;
}

/** sniffLayerCompression tells a layer's compression from its magic number: gzip, zstd, else 'none'. */
export function sniffLayerCompression(head: Uint8Array): Compression {
  const c = sniffCompression(head);
  return c === 'gzip' || c === 'zstd' ? c : 'none';
}

/**
 * decompressStream yields the decompressed bytes of `source` (declared `compression`) with the layer limits.
 * Throws INVALID_COMPRESSION when the magic number contradicts the declaration or the data is corrupt,
 * TOO_LARGE over `maxBytes`; an error the source throws (DIGEST_MISMATCH from a verified read) wins over
 * a decompression error it caused.
 */
export function decompressStream(
  source: AsyncIterable<Uint8Array>,
  compression: Compression,
  what: string,
  opts: DecompressOptions = {},
): AsyncGenerator<Uint8Array> {
  return decodeStream(source, compression, what, {
    maxBytes: opts.maxBytes,
    maxRatio: opts.maxRatio,
    ratioFloor: opts.ratioFloor,
  });
}

/**
 * openLayerTar streams the uncompressed tar of a layer blob from a store: the blob is verified (digest,
 * size) while it is read, and decompressed according to its media type. Throws BLOB_NOT_FOUND,
 * DIGEST_MISMATCH, SIZE_MISMATCH, INVALID_COMPRESSION, TOO_LARGE, or INVALID_IMAGE for a media type that
 * is not a layer type.
 */
export function openLayerTar(
  store: BlobStore,
  blob: Descriptor,
  opts: DecompressOptions = {},
): AsyncGenerator<Uint8Array> {
  const c = layerCompression(blob.mediaType);
  if (c === undefined) {
    throw new FromscratchError(
      'INVALID_IMAGE',
      `layer ${blob.digest} has media type ${blob.mediaType}, not a layer type`,
      {
        hint: 'only tar, tar+gzip and tar+zstd layers are supported',
      },
    );
  }
  return decompressStream(store.open(blob.digest, blob.size), c, `layer ${blob.digest}`, opts);
}
