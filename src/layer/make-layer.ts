/**
 * make-layer.ts — FileTree → tar → (diffId) → compress → BlobStore, in one streaming pass.
 */

import type { BlobStore } from '../blob/store.ts';
import type { FileTree } from '../fs/file-tree.ts';
import type { Layer } from '../image/image.ts';
import { newHasher } from '../model/digest.ts';
import { type Compression, layerMediaType } from '../model/media-type.ts';
import { compressStream } from './compress.ts';
import { tarSize, type WriteTarOptions, writeTar } from './tar-writer.ts';

/** LayerProgress reports how far a layer is written. */
export interface LayerProgress {
  /** uncompressed tar bytes produced so far */
  readonly tarBytes: number;
  /** total uncompressed tar bytes the layer will have */
  readonly tarBytesTotal: number;
  /** compressed bytes handed to the store so far */
  readonly compressedBytes: number;
  /** true on the last event, after the blob is stored */
  readonly done: boolean;
}

/** MakeLayerOptions configures makeLayer. Every field is optional. */
export interface MakeLayerOptions extends WriteTarOptions {
  /** layer compression (default `gzip`) */
  compression?: Compression;
  /** compression level (default gzip 4, zstd 3) */
  level?: number;
  /** called as bytes flow (at most once per compressed chunk, ~1 MiB) and once at the end */
  onProgress?: (e: LayerProgress) => void;
}

/**
 * makeLayer writes a FileTree as one layer blob into `store` and returns the Layer: the stored blob's
 * descriptor (OCI layer media type for the compression) and the diffId (sha256 of the uncompressed
 * tar). The tar is generated, hashed, compressed and stored in a single streaming pass with bounded
 * memory; nothing is kept whole in memory.
 *
 * Same tree and options → same diffId and, with the same Node zlib, the same blob digest.
 * Throws what writeTar throws (FILE_CHANGED, FILE_NOT_FOUND, FILE_UNREADABLE, INVALID_ARGUMENT),
 * UNSUPPORTED_COMPRESSION (zstd without zstd-napi) before reading anything, and the store's errors;
 * a failed write leaves nothing in the store.
 *
 * @example
 * const store = dirStore('out/blobs');
 * const layer = await makeLayer(tree, store, { sourceDateEpoch: parseSourceDateEpoch(process.env.SOURCE_DATE_EPOCH) });
 * const image = appendLayers(emptyImage(hostPlatform()), [layer]);
 */
export async function makeLayer(
  tree: FileTree,
  store: BlobStore,
  opts: MakeLayerOptions = {},
): Promise<Layer> {
  const compression = opts.compression ?? 'gzip';
  const onProgress = opts.onProgress;
  const tarBytesTotal = tarSize(tree, opts); // also validates every entry before any IO
  const diff = newHasher();
  let tarBytes = 0;
  let compressedBytes = 0;

  async function* hashed(): AsyncGenerator<Uint8Array> {
    for await (const c of writeTar(tree, opts)) {
      diff.update(c);
      tarBytes += c.byteLength;
      yield c;
    }
    if (tarBytes !== tarBytesTotal)
      throw new Error(`tar writer produced ${tarBytes} bytes, tarSize said ${tarBytesTotal}`);
  }
  const compressed = compressStream(
    hashed(),
    compression,
    opts.level === undefined ? {} : { level: opts.level },
  );
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const c of compressed) {
      compressedBytes += c.byteLength;
      onProgress?.({ tarBytes, tarBytesTotal, compressedBytes, done: false });
      yield c;
    }
  }

  const info = await store.put(counted());
  const { digest: diffId } = diff.digest();
  onProgress?.({ tarBytes, tarBytesTotal, compressedBytes, done: true });
  return {
    blob: { mediaType: layerMediaType(compression, 'oci'), digest: info.digest, size: info.size },
    diffId,
  };
}
