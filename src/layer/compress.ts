/**
 * compress.ts — layer compression with fixed settings: parallel single-member gzip, zstd, none.
 *
 * gzip is pigz's scheme (https://zlib.net/pigz/): the input is cut into fixed-size blocks
 * (fixed-blocks.ts); each block is raw-deflated on its own, primed with the last 32 KiB of the block
 * before it as a preset dictionary, and ended with Z_SYNC_FLUSH (the last block with Z_FINISH). The
 * raw streams concatenate into ONE valid deflate stream, wrapped in one gzip header and trailer written
 * here (RFC 1952), so tools that mishandle multi-member gzip are not a concern. Blocks are compressed
 * concurrently by node:zlib's async API, which runs in the libuv thread pool: no worker threads.
 *
 * The output depends only on the input bytes, the level and the block size — never on how the input
 * was chunked or on concurrency. It can change when Node's bundled zlib changes (STYLE.md §3): the
 * diffId is the layer's identity.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { crc32, deflateRaw, constants as Z } from 'node:zlib';
import { FromscratchError } from '../errors.ts';
import type { Compression } from '../model/media-type.ts';
import { fixedBlocks } from './fixed-blocks.ts';

/**
 * DEFAULT_GZIP_LEVEL is 4, not gzip's 6. Measured on the node image of bench/inner-loop.ts (≈ 100 MB
 * of files, node's bundled zlib): level 4 writes 2.5 % more bytes than level 6 (43.2 MB against 42.2 MB)
 * with about 35 % less CPU, and still fewer bytes than `docker push` and `buildah push` write for the
 * same files with their default gzip (43.8 MB). `--compression-level 6` gives gzip's own default.
 */
export const DEFAULT_GZIP_LEVEL = 4;
/** DEFAULT_ZSTD_LEVEL is zstd's own default level. */
export const DEFAULT_ZSTD_LEVEL = 3;
/**
 * DEFAULT_BLOCK_SIZE is the gzip block size. Part of the output format: changing it changes the bytes.
 * 1 MiB keeps thread-pool round trips few and the ratio within ~0.1% of single-stream gzip.
 */
export const DEFAULT_BLOCK_SIZE = 1024 * 1024;
/** DICTIONARY_SIZE is deflate's window: each block may refer back this far into the previous one. */
const DICTIONARY_SIZE = 32 * 1024;

/** CompressOptions tunes compressStream. Only `level` and `blockSize` affect the bytes. */
export interface CompressOptions {
  /** gzip 1..9 (default 4), zstd 1..19 (default 3); ignored for `none` */
  level?: number;
  /** gzip block size in bytes, ≥ 64 KiB (default {@link DEFAULT_BLOCK_SIZE}) */
  blockSize?: number;
  /**
   * gzip blocks compressed at once (default: CPUs + 1, so cores stay busy while the main thread reads
   * and hashes; at most the libuv pool size minus one, so file reads are never starved). Memory is
   * bounded by about `2 × concurrency × blockSize`.
   */
  concurrency?: number;
}

/** defaultLevel is the level a compression uses when none is given (`none` has no level: 0). */
export function defaultLevel(c: Compression): number {
  return c === 'gzip' ? DEFAULT_GZIP_LEVEL : c === 'zstd' ? DEFAULT_ZSTD_LEVEL : 0;
}

/** MAX_LEVEL is the highest level each compression takes. */
export const MAX_LEVEL: Readonly<Record<Compression, number>> = { gzip: 9, zstd: 19, none: 0 };

function defaultConcurrency(): number {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, Math.min(availableParallelism() + 1, pool - 1));
}

/**
 * checkCompressionLevel throws `code` (INVALID_ARGUMENT; the CLI asks for USAGE) unless `level` is a
 * level `c` takes: before any work (the CLI and the build call it; the compressors check again).
 */
export function checkCompressionLevel(
  c: Compression,
  level: number,
  code: 'INVALID_ARGUMENT' | 'USAGE' = 'INVALID_ARGUMENT',
): void {
  if (c === 'none') {
    throw new FromscratchError(code, `a compression level (${level}) was given with compression none`, {
      hint: 'drop the compression level, or use --compression gzip or zstd',
    });
  }
  checkLevel(c, level, MAX_LEVEL[c], code);
}

function checkLevel(
  c: Compression,
  level: number,
  max: number,
  code: 'INVALID_ARGUMENT' | 'USAGE' = 'INVALID_ARGUMENT',
): void {
  if (!Number.isInteger(level) || level < 1 || level > max) {
    throw new FromscratchError(code, `${c} compression level ${level} is not an integer in 1..${max}`, {
      hint: `use a level between 1 (fastest) and ${max} (smallest)`,
    });
  }
}

/**
 * gzipHeader is the fixed 10-byte RFC 1952 header: no name, no comment, mtime 0, OS 3 (Unix, what
 * zlib writes on Linux), XFL as zlib sets it for the level. With these, a layer smaller than one block
 * is byte-identical to `zlib.gzipSync(tar, { level })`.
 */
function gzipHeader(level: number): Buffer {
  const xfl = level === 9 ? 2 : level === 1 ? 4 : 0;
  return Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, xfl, 0x03]);
}

function deflateBlock(
  data: Buffer,
  dictionary: Buffer | undefined,
  last: boolean,
  level: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    deflateRaw(
      data,
      {
        level,
        ...(dictionary ? { dictionary } : {}),
        finishFlush: last ? Z.Z_FINISH : Z.Z_SYNC_FLUSH,
        // one output buffer large enough for the whole block: one thread-pool job per block
        chunkSize: Math.max(64 * 1024, data.length + (data.length >> 3) + 1024),
      },
      (err, out) => (err ? reject(err) : resolve(out)),
    );
  });
}

/** deflating counts the gzip blocks being compressed in the process, by every stream (gzipStream). */
let deflating = 0;

/**
 * gzipStream compresses a stream into one gzip member, compressing fixed-size blocks in parallel
 * (see the module comment). Same bytes in → same bytes out, however the input is chunked and whatever
 * the concurrency. Memory is bounded: at most `concurrency` blocks are in flight.
 */
export async function* gzipStream(
  input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: CompressOptions = {},
): AsyncGenerator<Uint8Array> {
  const level = opts.level ?? DEFAULT_GZIP_LEVEL;
  checkLevel('gzip', level, 9);
  const blockSize = opts.blockSize ?? DEFAULT_BLOCK_SIZE;
  if (!Number.isSafeInteger(blockSize) || blockSize < 64 * 1024)
    throw new Error(`gzip block size ${blockSize} must be at least 64 KiB`);
  const concurrency = Math.max(1, opts.concurrency ?? defaultConcurrency());

  yield gzipHeader(level);
  let crc = 0;
  let total = 0;
  let previous: Buffer | undefined;
  const inFlight: Promise<Buffer>[] = [];
  try {
    for await (const block of fixedBlocks(input, blockSize)) {
      crc = crc32(block.data, crc);
      total += block.data.length;
      const dict = previous ? previous.subarray(previous.length - DICTIONARY_SIZE) : undefined;
      const job = deflateBlock(block.data, dict, block.last, level);
      // mark handled now: a later block may fail while we await an earlier one; the error still
      // surfaces when this job is awaited in order
      job.catch(() => undefined);
      deflating++;
      job.then(
        () => deflating--,
        () => deflating--,
      );
      inFlight.push(job);
      previous = block.data;
      // the limit holds for the process, not each stream (the images of a multi-platform build are
      // compressed at once): a stream waits for its own oldest block while the others fill the pool;
      // one block each is always let by
      while (inFlight.length >= concurrency || (inFlight.length > 1 && deflating > concurrency))
        yield await inFlight.shift()!;
    }
    while (inFlight.length > 0) yield await inFlight.shift()!;
  } catch (e) {
    if (e instanceof FromscratchError) throw e;
    if (e instanceof Error && 'errno' in e) {
      throw new FromscratchError('INVALID_COMPRESSION', `gzip compression failed: ${e.message}`, {
        cause: e,
      });
    }
    throw e;
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(total % 2 ** 32, 4); // ISIZE is the length modulo 2^32
  yield trailer;
}

/** The part of zstd-napi's low-level binding that zstdStream uses (kept local: the package is optional). */
interface ZstdBinding {
  CCtx: new () => {
    setParameter(param: number, value: number): void;
    compressStream2(dst: Uint8Array, src: Uint8Array, end: number): [number, number, number];
  };
  CParameter: { compressionLevel: number; checksumFlag: number; contentSizeFlag: number; nbWorkers: number };
  EndDirective: { continue: number; end: number };
  cStreamOutSize(): number;
  maxCLevel(): number;
}

let zstdLoad: { binding?: ZstdBinding; error?: unknown } | undefined;

function loadZstd(): ZstdBinding {
  if (!zstdLoad) {
    try {
      zstdLoad = { binding: createRequire(import.meta.url)('zstd-napi/binding') as ZstdBinding };
    } catch (e) {
      zstdLoad = { error: e };
    }
  }
  if (!zstdLoad.binding) {
    throw new FromscratchError(
      'UNSUPPORTED_COMPRESSION',
      'zstd compression is not available: the optional zstd-napi module did not load',
      {
        hint: 'reinstall fromscratch with its optional dependencies (npm install --include=optional; zstd-napi builds with a C++ compiler), or use --compression gzip',
        cause: zstdLoad.error,
      },
    );
  }
  return zstdLoad.binding;
}

/** compressionAvailable tells whether a compression can be written here (zstd needs zstd-napi). */
export function compressionAvailable(c: Compression): boolean {
  if (c !== 'zstd') return true;
  try {
    loadZstd();
    return true;
  } catch {
    // not loadable: reported as unavailable
    return false;
  }
}

/**
 * zstdStream compresses a stream as one zstd frame with fixed parameters: single-threaded (zstd's
 * multi-threaded mode gives other bytes), checksum on, no content size in the header (a streamed
 * frame cannot know it). Input is re-cut into fixed blocks so the output does not depend on chunking.
 * Throws UNSUPPORTED_COMPRESSION when zstd-napi is absent.
 */
export async function* zstdStream(
  input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: CompressOptions = {},
): AsyncGenerator<Uint8Array> {
  const z = loadZstd();
  const level = opts.level ?? DEFAULT_ZSTD_LEVEL;
  checkLevel('zstd', level, Math.min(19, z.maxCLevel()));
  const cctx = new z.CCtx();
  cctx.setParameter(z.CParameter.compressionLevel, level);
  cctx.setParameter(z.CParameter.checksumFlag, 1);
  cctx.setParameter(z.CParameter.contentSizeFlag, 0);
  cctx.setParameter(z.CParameter.nbWorkers, 0);
  const outSize = z.cStreamOutSize();
  for await (const block of fixedBlocks(input, opts.blockSize ?? DEFAULT_BLOCK_SIZE)) {
    const end = block.last ? z.EndDirective.end : z.EndDirective.continue;
    let src = block.data as Uint8Array;
    const outs: Buffer[] = [];
    for (;;) {
      const dst = Buffer.allocUnsafe(outSize);
      const [remaining, produced, consumed] = cctx.compressStream2(dst, src, end);
      if (produced > 0) outs.push(dst.subarray(0, produced));
      src = src.subarray(consumed);
      if (block.last ? remaining === 0 : src.length === 0) break;
    }
    if (outs.length > 0) yield outs.length === 1 ? outs[0]! : Buffer.concat(outs);
  }
}

/**
 * compressStream compresses a layer stream with `compression`: `gzip` (parallel, single member),
 * `zstd` (needs zstd-napi, else UNSUPPORTED_COMPRESSION) or `none` (passes bytes through).
 *
 * @example
 * const out = compressStream(writeTar(tree), 'gzip');
 * for await (const c of out) file.write(c);
 */
export function compressStream(
  input: AsyncIterable<Uint8Array>,
  compression: Compression,
  opts: CompressOptions = {},
): AsyncIterable<Uint8Array> {
  switch (compression) {
    case 'gzip':
      return gzipStream(input, opts);
    case 'zstd':
      loadZstd(); // fail before any byte is read
      return zstdStream(input, opts);
    case 'none':
      return input;
    default:
      throw new FromscratchError(
        'UNSUPPORTED_COMPRESSION',
        `unknown layer compression ${JSON.stringify(compression)}`,
        {
          hint: 'use gzip, zstd or none',
        },
      );
  }
}
