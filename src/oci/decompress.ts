/**
 * decompress.ts — stream a layer's uncompressed tar out of a store, in-process and bounded.
 *
 * gzip through node:zlib, zstd through fzstd (Node 20's zlib has none); never an external `gzip`/`zstd`
 * (RELIABILITY.md B5). The compressed bytes must start with the magic number their media type declares
 * (B4), the output is capped (B1, B2), and when the decompressor fails on a blob whose bytes are corrupt,
 * the digest mismatch is reported rather than the decompressor's complaint (B3).
 */
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import type { BlobStore } from '../blob/store.ts';
import { FromscratchError, isFromscratchError } from '../errors.ts';
import type { Descriptor } from '../model/descriptor.ts';
import { type Compression, layerCompression } from '../model/media-type.ts';

/** DEFAULT_MAX_UNCOMPRESSED caps the uncompressed size of one layer (64 GiB). */
export const DEFAULT_MAX_UNCOMPRESSED = 64 * 1024 ** 3;

/** DecompressOptions bounds decompression. */
export interface DecompressOptions {
  /** most uncompressed bytes accepted (default DEFAULT_MAX_UNCOMPRESSED) */
  maxBytes?: number;
}

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

/** sniffCompression tells the compression of bytes from their magic number ('none' for anything else). */
export function sniffCompression(head: Uint8Array): Compression {
  if (GZIP_MAGIC.every((b, i) => head[i] === b)) return 'gzip';
  if (ZSTD_MAGIC.every((b, i) => head[i] === b)) return 'zstd';
  return 'none';
}

/**
 * decompressStream yields the decompressed bytes of `source` (declared `compression`). Throws
 * INVALID_COMPRESSION when the magic number contradicts the declaration or the data is corrupt,
 * TOO_LARGE over `maxBytes`; an error the source throws (DIGEST_MISMATCH from a verified read) wins over
 * a decompression error it caused.
 */
export async function* decompressStream(
  source: AsyncIterable<Uint8Array>,
  compression: Compression,
  what: string,
  opts: DecompressOptions = {},
): AsyncGenerator<Uint8Array> {
  const max = opts.maxBytes ?? DEFAULT_MAX_UNCOMPRESSED;
  const it = source[Symbol.asyncIterator]();
  let first = true;
  let sourceError: unknown;
  // the input, with a magic-number check on the first chunk and its own errors remembered
  const input = async function* (): AsyncGenerator<Uint8Array> {
    for (;;) {
      let r: IteratorResult<Uint8Array>;
      try {
        r = await it.next();
      } catch (e) {
        sourceError = e;
        throw e;
      }
      if (r.done) return;
      if (first && r.value.byteLength > 0) {
        first = false;
        const got = sniffCompression(r.value);
        if (got !== compression && !(compression === 'none' && got !== 'gzip' && got !== 'zstd')) {
          throw new FromscratchError(
            'INVALID_COMPRESSION',
            `${what}: declared ${compression} but the bytes are ${got === 'none' ? 'not compressed' : got}`,
            {
              hint: 'the media type contradicts the layer bytes; the image is corrupt or mislabelled',
            },
          );
        }
      }
      yield r.value;
    }
  };
  let produced = 0;
  const count = (n: number) => {
    produced += n;
    if (produced > max) {
      throw new FromscratchError('TOO_LARGE', `${what}: decompresses to more than ${max} bytes`, {
        hint: 'the layer is a decompression bomb or bigger than the configured limit',
      });
    }
  };
  try {
    if (compression === 'none') {
      for await (const c of input()) {
        count(c.byteLength);
        yield c;
      }
    } else if (compression === 'gzip') {
      yield* gunzip(input(), count);
    } else {
      yield* unzstd(input(), count);
    }
  } catch (e) {
    if (e === sourceError) throw e;
    // the bytes looked wrong (magic number, corrupt data): if the blob itself is corrupt, say so (B3) by
    // finishing the verified read, which knows the digest
    if (isFromscratchError(sourceError)) throw sourceError;
    if (sourceError === undefined) {
      try {
        for (;;) {
          const r = await it.next();
          if (r.done) break;
        }
      } catch (se) {
        if (isFromscratchError(se)) throw se;
      }
    }
    if (isFromscratchError(e)) throw e;
    throw new FromscratchError(
      'INVALID_COMPRESSION',
      `${what}: corrupt ${compression} data: ${(e as Error).message}`,
      {
        hint: 'the layer bytes cannot be decompressed; rebuild or fetch the image again',
        cause: e,
      },
    );
  }
}

async function* gunzip(
  input: AsyncIterable<Uint8Array>,
  count: (n: number) => void,
): AsyncGenerator<Uint8Array> {
  const z = createGunzip();
  // errors reach the consumer through the async iterator; this keeps a late one from being unhandled
  z.on('error', () => {});
  let inputError: unknown;
  const feed = (async () => {
    try {
      for await (const c of input) {
        if (z.destroyed) return;
        if (!z.write(c)) await drainOrClose(z);
      }
      z.end();
    } catch (e) {
      inputError = e;
      z.destroy(e as Error);
    }
  })();
  try {
    for await (const c of z as AsyncIterable<Buffer>) {
      count(c.byteLength);
      yield c;
    }
  } catch (e) {
    throw inputError ?? e;
  } finally {
    z.destroy();
    await feed;
  }
  if (inputError !== undefined) throw inputError;
}

function drainOrClose(z: NodeJS.EventEmitter): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      z.off('drain', done);
      z.off('close', done);
      resolve();
    };
    z.on('drain', done);
    z.on('close', done);
  });
}

async function* unzstd(
  input: AsyncIterable<Uint8Array>,
  count: (n: number) => void,
): AsyncGenerator<Uint8Array> {
  let out: Uint8Array[] = [];
  const d = new Decompress((chunk) => {
    count(chunk.byteLength);
    out.push(chunk);
  });
  for await (const c of input) {
    d.push(c, false);
    if (out.length > 0) {
      const ready = out;
      out = [];
      yield* ready;
    }
  }
  d.push(new Uint8Array(0), true);
  yield* out;
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
