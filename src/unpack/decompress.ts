/**
 * decompress.ts — in-process layer decompression with size accounting (RELIABILITY.md B1, B2, B4, B5).
 *
 * gzip through node:zlib, zstd through fzstd (pure JS; Node 20's zlib has no zstd). The format is detected
 * from the magic number and must agree with what the media type declares. Output bytes are counted: past an
 * absolute cap, or past a ratio cap once the output is large enough to matter, the stream is aborted with
 * TOO_LARGE. Never an external `gzip`/`zstd` process.
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import { FromscratchError } from '../errors.ts';
import type { Compression } from '../model/media-type.ts';

/** DecompressLimits caps the output of one decompressed stream. */
export interface DecompressLimits {
  /** absolute cap on decompressed bytes (default 32 GiB) */
  maxBytes?: number;
  /** cap on decompressed/compressed once past ratioFloor bytes (default 1000) */
  maxRatio?: number;
  /** output size under which the ratio is not checked (default 64 MiB) */
  ratioFloor?: number;
}

/** DEFAULT_MAX_DECOMPRESSED_BYTES is the default absolute cap on one layer's uncompressed size. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 32 * 1024 ** 3;

/** detectCompression tells the compression of a stream from its first bytes ('none' when no magic matches). */
export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd)
    return 'zstd';
  return 'none';
}

/**
 * decompressStream yields the decompressed bytes of `src`. `declared` is the compression the media type
 * names ('auto' to trust the magic number). A mismatch between the two throws INVALID_COMPRESSION;
 * exceeding a limit throws TOO_LARGE; corrupt input throws INVALID_COMPRESSION. `what` names the stream in
 * messages.
 */
export async function* decompressStream(
  src: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  declared: Compression | 'auto',
  what: string,
  limits: DecompressLimits = {},
): AsyncGenerator<Buffer> {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const maxRatio = limits.maxRatio ?? 1000;
  const ratioFloor = limits.ratioFloor ?? 64 * 1024 * 1024;
  const it: AsyncIterator<Uint8Array> | Iterator<Uint8Array> =
    Symbol.asyncIterator in src ? src[Symbol.asyncIterator]() : src[Symbol.iterator]();
  let first: Buffer = Buffer.alloc(0);
  // peek at the first bytes for the magic number
  let pending: Buffer[] = [];
  while (first.length < 4) {
    const r = await it.next();
    if (r.done) break;
    pending.push(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength));
    first = Buffer.concat(pending);
  }
  pending = first.length > 0 ? [first] : [];
  const actual = first.length === 0 ? (declared === 'auto' ? 'none' : declared) : detectCompression(first);
  if (declared !== 'auto' && actual !== declared) {
    throw new FromscratchError(
      'INVALID_COMPRESSION',
      `${what} is declared ${declared} but its bytes are ${actual === 'none' ? 'not compressed' : actual}`,
      {
        hint: 'the layer media type does not match its content; the image is corrupt',
      },
    );
  }
  let compressedIn = 0;
  let out = 0;
  const input = async function* (): AsyncGenerator<Buffer> {
    for (const p of pending) {
      compressedIn += p.length;
      yield p;
    }
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      compressedIn += r.value.byteLength;
      yield Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    }
  };
  const account = (n: number): void => {
    out += n;
    if (out > maxBytes) {
      throw new FromscratchError('TOO_LARGE', `${what} decompresses to more than ${maxBytes} bytes`, {
        hint: 'the layer is a decompression bomb or larger than the configured cap',
      });
    }
    if (out > ratioFloor && out > maxRatio * Math.max(compressedIn, 1)) {
      throw new FromscratchError(
        'TOO_LARGE',
        `${what} decompresses more than ${maxRatio} times its compressed size`,
        {
          hint: 'the layer is a decompression bomb, or raise the ratio cap',
        },
      );
    }
  };
  if (actual === 'none') {
    for await (const b of input()) {
      account(b.length);
      yield b;
    }
    return;
  }
  if (actual === 'gzip') {
    const gunzip = createGunzip();
    const readable = Readable.from(input());
    readable.on('error', (e) => gunzip.destroy(e));
    readable.pipe(gunzip);
    try {
      for await (const b of gunzip as AsyncIterable<Buffer>) {
        account(b.length);
        yield b;
      }
    } catch (e) {
      if (e instanceof FromscratchError) throw e;
      throw new FromscratchError('INVALID_COMPRESSION', `decompressing ${what}: ${(e as Error).message}`, {
        hint: 'the gzip stream is corrupt or truncated',
        cause: e,
      });
    } finally {
      readable.destroy();
      gunzip.destroy();
    }
    return;
  }
  // zstd: feed fzstd small slices so that one push cannot produce more than a few MiB (a zstd RLE block
  // of 128 KiB costs 4 input bytes), and count every block as it comes out.
  let ready: Buffer[] = [];
  let ended = false;
  const z = new ZstdDecompress((chunk, final) => {
    account(chunk.length);
    ready.push(Buffer.from(chunk));
    if (final) ended = true;
  });
  const SLICE = 256;
  try {
    for await (const b of input()) {
      for (let i = 0; i < b.length; i += SLICE) {
        z.push(b.subarray(i, i + SLICE));
        if (ready.length > 0) {
          const batch = ready;
          ready = [];
          for (const c of batch) yield c;
        }
      }
    }
    z.push(new Uint8Array(0), true);
  } catch (e) {
    if (e instanceof FromscratchError) throw e;
    throw new FromscratchError('INVALID_COMPRESSION', `decompressing ${what}: ${(e as Error).message}`, {
      hint: 'the zstd stream is corrupt or truncated',
      cause: e,
    });
  }
  for (const c of ready) yield c;
  void ended;
}
