/**
 * decompress.ts — in-process, bounded decompression of every format fromscratch reads: gzip (node:zlib),
 * zstd (fzstd; Node 20's zlib has none), xz (xz-decompress) and lz4 frames (apt's local lists).
 *
 * Never an external `gzip`/`zstd`/`xz` process (RELIABILITY.md B5). The compressed bytes must start with
 * the magic number their declaration names (B4). Every stream counts its output and stops at an absolute
 * cap and, past a floor, at a compression-ratio cap (B1, B2, H3), whatever the decoder's chunking. When
 * the decoder fails because the source itself is bad (a verified blob read that ends in DIGEST_MISMATCH),
 * the source's error is reported rather than the decoder's complaint (B3). bzip2 and lzma are refused
 * with UNSUPPORTED_COMPRESSION: no maintained in-process decoder is installed.
 */
import { createRequire } from 'node:module';
import { createGunzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import { FromscratchError, isFromscratchError } from '../errors.ts';

// xz-decompress ships CommonJS with a WASM blob; DEPENDENCIES.md: import it through createRequire
// loaded on first use: it compiles a WASM module, which a build that meets no .xz need not pay for
type XzStream = new (s: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>;
let xzStream: XzStream | undefined;
function loadXz(): XzStream {
  xzStream ??= (createRequire(import.meta.url)('xz-decompress') as { XzReadableStream: XzStream })
    .XzReadableStream;
  return xzStream;
}

/** Codec names a compression format (a superset of the layer media types' Compression). */
export type Codec = 'none' | 'gzip' | 'xz' | 'zstd' | 'lz4' | 'bzip2' | 'lzma';

/** DecompressLimits caps the output of one decompressed stream. */
export interface DecompressLimits {
  /** absolute cap on decompressed bytes (default DEFAULT_MAX_DECOMPRESSED_BYTES) */
  maxBytes?: number | undefined;
  /** cap on decompressed/compressed bytes once the output passes ratioFloor (default 1000; Infinity: none) */
  maxRatio?: number | undefined;
  /** output size under which the ratio is not checked (default 64 MiB) */
  ratioFloor?: number | undefined;
}

/** DecompressOptions are the limits and how strictly the declared format is checked. */
export interface DecompressOptions extends DecompressLimits {
  /**
   * check the magic number against a declared format (default true); false decodes as declared (a tar
   * that happens to start with magic bytes is still a tar)
   */
  checkMagic?: boolean | undefined;
}

/** DEFAULT_MAX_DECOMPRESSED_BYTES is the default absolute cap on one stream's decompressed size (32 GiB). */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 32 * 1024 ** 3;

const MAGICS: [Codec, number[]][] = [
  ['gzip', [0x1f, 0x8b]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['lz4', [0x04, 0x22, 0x4d, 0x18]],
  ['bzip2', [0x42, 0x5a, 0x68]],
];

/** sniffCompression tells the compression of bytes from their magic number ('none' when none matches). */
export function sniffCompression(head: Uint8Array): Codec {
  for (const [c, m] of MAGICS) if (m.every((b, i) => head[i] === b)) return c;
  return 'none';
}

/** LAYER_CODECS are the formats whose magic number an uncompressed (or 'auto') stream is checked for. */
const LAYER_CODECS: ReadonlySet<Codec> = new Set(['gzip', 'zstd']);

/** PEEK is how many bytes are read before the magic number is judged (the longest magic, xz's). */
const PEEK = 6;
/** INPUT_SLICE bounds how much compressed input a decoder gets at once, so the ratio is measured finely. */
const INPUT_SLICE = 16 * 1024;
/** ZSTD_SLICE: one zstd RLE block of 128 KiB costs 4 input bytes, so fzstd gets small slices. */
const ZSTD_SLICE = 256;

/**
 * ZSTD_MAX_FRAME_ALLOC bounds the buffer one zstd frame makes fzstd allocate up front: its declared
 * content size, else its window size (fzstd holds a frame in memory). A 31-byte frame declaring 1.3 GB
 * took 8 s and 1.3 GB before the first output byte (found by the fuzzer, issue 15). Streamed zstd
 * (containerd, BuildKit, skopeo, fromscratch) declares no content size and a window of a few MiB.
 */
export const ZSTD_MAX_FRAME_ALLOC = 256 * 1024 * 1024;

class Meter {
  inBytes = 0;
  outBytes = 0;
  /** buffer bytes the zstd frames seen so far declared */
  declared = 0;
  private readonly max: number;
  private readonly ratio: number;
  private readonly floor: number;
  private readonly what: string;
  constructor(what: string, limits: DecompressLimits) {
    this.what = what;
    this.max = limits.maxBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
    this.ratio = limits.maxRatio ?? 1000;
    this.floor = limits.ratioFloor ?? 64 * 1024 * 1024;
  }
  /**
   * frame accounts for a zstd frame that will make the decoder allocate `alloc` bytes (its declared
   * `contentSize`, else its window): over ZSTD_MAX_FRAME_ALLOC, or a content size over the absolute cap,
   * it is refused, and past the first frame the sum of what the
   * frames declared must stay within the ratio cap, as output does (so thousands of tiny frames that
   * each claim 256 MiB cannot make the decoder churn memory).
   */
  frame(alloc: number, contentSize: number, first: boolean): void {
    // the content size a frame declares is output to come; a window is only a buffer
    if (alloc > ZSTD_MAX_FRAME_ALLOC || contentSize > this.max) {
      const limit = contentSize > this.max ? this.max : ZSTD_MAX_FRAME_ALLOC;
      throw new FromscratchError(
        'TOO_LARGE',
        `${this.what}: a zstd frame declares ${alloc} bytes, over the ${limit}-byte limit of one frame`,
        {
          hint: 'the data is a decompression bomb, or one huge frame with its size in the header: recompress it as a stream (zstd --no-content-size) or with gzip',
        },
      );
    }
    this.declared += alloc;
    if (!first && this.declared > this.floor && this.declared > this.ratio * Math.max(this.inBytes, 1)) {
      throw new FromscratchError(
        'TOO_LARGE',
        `${this.what}: its zstd frames declare ${this.declared} bytes from ${this.inBytes} (over the ratio limit)`,
        { hint: 'the data is a decompression bomb; refusing to expand it further' },
      );
    }
  }

  out(n: number): void {
    this.outBytes += n;
    if (this.outBytes > this.max) {
      throw new FromscratchError('TOO_LARGE', `${this.what} decompresses to more than ${this.max} bytes`, {
        hint: 'the data is a decompression bomb or larger than the configured limit',
      });
    }
    if (this.outBytes > this.floor && this.outBytes > this.ratio * Math.max(this.inBytes, 1)) {
      throw new FromscratchError(
        'TOO_LARGE',
        `${this.what} decompresses more than ${this.ratio} times its compressed size (${this.outBytes} bytes from ${this.inBytes}; over the ratio limit)`,
        { hint: 'the data is a decompression bomb; refusing to expand it further (or raise the ratio cap)' },
      );
    }
  }
}

function corrupt(what: string, kind: string, cause: unknown): FromscratchError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new FromscratchError('INVALID_COMPRESSION', `decompressing ${what}: corrupt ${kind} data: ${why}`, {
    hint: 'the data is damaged or not what it is declared to be; fetch or rebuild it again',
    cause,
  });
}

/**
 * decompressStream yields the decompressed bytes of `src`. `declared` is the format the media type or file
 * name names ('auto' trusts a gzip or zstd magic number and reads anything else as is). Throws
 * INVALID_COMPRESSION when the magic number contradicts the declaration or the data is corrupt, TOO_LARGE
 * past a limit, UNSUPPORTED_COMPRESSION for bzip2/lzma. An error the source throws wins over a
 * decompression error it caused. `what` names the stream in messages.
 */
export async function* decompressStream(
  src: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  declared: Codec | 'auto',
  what: string,
  limits: DecompressOptions = {},
): AsyncGenerator<Uint8Array> {
  const m = new Meter(what, limits);
  const it: AsyncIterator<Uint8Array> | Iterator<Uint8Array> =
    Symbol.asyncIterator in src ? src[Symbol.asyncIterator]() : src[Symbol.iterator]();
  let sourceError: unknown;
  const next = async (): Promise<IteratorResult<Uint8Array>> => {
    try {
      return await it.next();
    } catch (e) {
      sourceError = e;
      throw e;
    }
  };
  try {
    // peek at the first bytes for the magic number
    const pending: Uint8Array[] = [];
    let peeked = 0;
    while (peeked < PEEK) {
      const r = await next();
      if (r.done) break;
      pending.push(r.value);
      peeked += r.value.byteLength;
    }
    const head = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
    const got = sniffCompression(head);
    let kind: Codec;
    if (declared === 'auto') kind = peeked > 0 && LAYER_CODECS.has(got) ? got : 'none';
    else {
      kind = declared;
      const wrong = declared === 'none' ? LAYER_CODECS.has(got) : got !== declared;
      if (peeked > 0 && wrong && limits.checkMagic !== false) {
        throw new FromscratchError(
          'INVALID_COMPRESSION',
          `${what}: declared ${declared} but the bytes are ${got === 'none' ? 'not compressed' : got}`,
          { hint: 'the media type (or name) contradicts the bytes; the data is corrupt or mislabelled' },
        );
      }
    }
    const slices = function* (chunk: Uint8Array): Generator<Uint8Array> {
      for (let i = 0; i < chunk.byteLength; i += INPUT_SLICE) {
        const s = chunk.subarray(i, i + INPUT_SLICE);
        m.inBytes += s.byteLength;
        yield s;
      }
    };
    const input = async function* (): AsyncGenerator<Uint8Array> {
      for (const c of pending.splice(0)) yield* slices(c);
      for (;;) {
        const r = await next();
        if (r.done) return;
        yield* slices(r.value);
      }
    };
    yield* decode(input(), kind, what, m);
  } catch (e) {
    if (e === sourceError) throw e;
    // the bytes looked wrong (magic number, corrupt data, a bomb): if the source itself is corrupt, say
    // so (B3) by finishing the verified read, which knows the digest
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
    throw e;
  }
}

async function* decode(
  input: AsyncIterable<Uint8Array>,
  kind: Codec,
  what: string,
  m: Meter,
): AsyncGenerator<Uint8Array> {
  switch (kind) {
    case 'none':
      for await (const c of input) {
        m.out(c.byteLength);
        yield c;
      }
      return;
    case 'gzip':
      yield* gunzip(input, what, m);
      return;
    case 'zstd':
      yield* unzstd(input, what, m);
      return;
    case 'xz':
      yield* unxz(input, what, m);
      return;
    case 'lz4': {
      const parts: Uint8Array[] = [];
      for await (const c of input) parts.push(c);
      yield decodeLz4Frames(Buffer.concat(parts), what, m);
      return;
    }
    case 'bzip2':
    case 'lzma':
      throw new FromscratchError(
        'UNSUPPORTED_COMPRESSION',
        `decompressing ${what}: ${kind} is not supported`,
        {
          hint: 'fromscratch reads gzip, xz, zstd and lz4; this data uses an old compression Debian no longer uses for packages',
        },
      );
  }
}

async function* gunzip(input: AsyncIterable<Uint8Array>, what: string, m: Meter): AsyncGenerator<Uint8Array> {
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
      m.out(c.byteLength);
      yield c;
    }
  } catch (e) {
    if (inputError !== undefined) throw inputError;
    if (isFromscratchError(e)) throw e;
    throw corrupt(what, 'gzip', e);
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

async function* unzstd(input: AsyncIterable<Uint8Array>, what: string, m: Meter): AsyncGenerator<Uint8Array> {
  let ready: Uint8Array[] = [];
  const z = new ZstdDecompress((chunk) => {
    m.out(chunk.byteLength); // throws out of push() at the caps, before more is decoded
    ready.push(chunk);
  });
  const drain = function* () {
    const batch = ready;
    ready = [];
    yield* batch;
  };
  const guard = new ZstdFrameGuard(m);
  try {
    for await (const b of input) {
      for (let i = 0; i < b.byteLength; i += ZSTD_SLICE) {
        const slice = b.subarray(i, i + ZSTD_SLICE);
        guard.see(slice); // before fzstd reads a frame header, so its allocation is checked first
        z.push(slice);
        yield* drain();
      }
    }
    z.push(new Uint8Array(0), true);
  } catch (e) {
    if (isFromscratchError(e)) throw e;
    throw corrupt(what, 'zstd', e);
  }
  yield* drain();
}

/**
 * ZstdFrameGuard follows the frame structure of a zstd stream as its bytes go to the decoder (frame
 * header, block headers, checksum; skippable frames) and hands each frame's declared allocation to the
 * Meter. It only reads headers; anything malformed is left for the decoder to report.
 * https://github.com/facebook/zstd/blob/dev/doc/zstd_compression_format.md#frames
 */
class ZstdFrameGuard {
  private readonly m: Meter;
  private state: 'magic' | 'skippable' | 'descriptor' | 'header' | 'block' | 'off' = 'magic';
  private need = 4;
  private acc: number[] = [];
  private skip = 0;
  private descriptor = 0;
  private checksum = false;
  private frames = 0;
  constructor(m: Meter) {
    this.m = m;
  }

  see(bytes: Uint8Array): void {
    let i = 0;
    while (i < bytes.length && this.state !== 'off') {
      if (this.skip > 0) {
        const n = Math.min(this.skip, bytes.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      this.acc.push(bytes[i]!);
      i += 1;
      if (this.acc.length < this.need) continue;
      const a = this.acc;
      this.acc = [];
      this.step(a);
    }
  }

  private step(a: number[]): void {
    switch (this.state) {
      case 'magic': {
        const magic = (a[0]! | (a[1]! << 8) | (a[2]! << 16) | (a[3]! << 24)) >>> 0;
        if (magic === 0xfd2fb528) [this.state, this.need] = ['descriptor', 1];
        else if (magic >>> 4 === 0x184d2a5) [this.state, this.need] = ['skippable', 4];
        else this.state = 'off';
        return;
      }
      case 'skippable':
        this.skip = (a[0]! | (a[1]! << 8) | (a[2]! << 16) | (a[3]! << 24)) >>> 0;
        [this.state, this.need] = ['magic', 4];
        return;
      case 'descriptor': {
        const d = a[0]!;
        this.descriptor = d;
        this.checksum = ((d >> 2) & 1) === 1;
        const single = (d >> 5) & 1;
        const fcsFlag = d >> 6;
        const fcsBytes = fcsFlag === 0 ? single : 1 << fcsFlag;
        const dictBytes = [0, 1, 2, 4][d & 3]!;
        const n = (single ? 0 : 1) + dictBytes + fcsBytes;
        if (n === 0) this.header([]);
        else [this.state, this.need] = ['header', n];
        return;
      }
      case 'header':
        this.header(a);
        return;
      case 'block': {
        const h = a[0]! | (a[1]! << 8) | (a[2]! << 16);
        const last = h & 1;
        const type = (h >> 1) & 3;
        const size = h >>> 3;
        if (type === 3) {
          this.state = 'off'; // reserved: the decoder reports it
          return;
        }
        this.skip = type === 1 ? 1 : size;
        if (last) {
          this.skip += this.checksum ? 4 : 0;
          [this.state, this.need] = ['magic', 4];
        }
        return;
      }
      case 'off':
        return;
    }
  }

  private header(a: number[]): void {
    const d = this.descriptor;
    const single = (d >> 5) & 1;
    const fcsFlag = d >> 6;
    let at = 0;
    let window = 0;
    if (!single) {
      const w = a[at++]!;
      const base = 2 ** (10 + (w >> 3));
      window = base + (base / 8) * (w & 7);
    }
    at += [0, 1, 2, 4][d & 3]!;
    const fcsBytes = fcsFlag === 0 ? single : 1 << fcsFlag;
    let fcs = 0;
    for (let k = fcsBytes - 1; k >= 0; k--) fcs = fcs * 256 + a[at + k]!;
    if (fcsFlag === 1) fcs += 256;
    // fzstd allocates the content size when the header gives one, else the window
    this.m.frame(fcs > 0 ? fcs : window, fcs, this.frames === 0);
    this.frames += 1;
    [this.state, this.need] = ['block', 3];
  }
}

async function* unxz(input: AsyncIterable<Uint8Array>, what: string, m: Meter): AsyncGenerator<Uint8Array> {
  // a hand-made pull source: Readable.toWeb on Node 20 throws ERR_INVALID_STATE when cancelled mid-stream
  const it = input[Symbol.asyncIterator]();
  let inputError: unknown;
  const web = new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      let r: IteratorResult<Uint8Array>;
      try {
        r = await it.next();
      } catch (e) {
        inputError = e;
        throw e;
      }
      if (r.done) ctrl.close();
      else ctrl.enqueue(r.value);
    },
    async cancel() {
      await it.return?.(undefined);
    },
  });
  const reader = new (loadXz())(web).getReader();
  try {
    for (;;) {
      let r: Awaited<ReturnType<typeof reader.read>>;
      try {
        r = await reader.read();
      } catch (e) {
        if (inputError !== undefined) throw inputError;
        if (isFromscratchError(e)) throw e;
        throw corrupt(what, 'xz', e);
      }
      if (r.done) break;
      m.out(r.value.byteLength);
      yield r.value;
    }
  } finally {
    await reader.cancel().catch(() => {
      /* already failed or finished */
    });
  }
}

/** decompressBytes decompresses a whole buffer (same checks and caps as decompressStream). */
export async function decompressBytes(
  data: Uint8Array,
  declared: Codec | 'auto',
  what: string,
  limits: DecompressOptions = {},
): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const c of decompressStream([data], declared, what, limits)) out.push(c);
  return Buffer.concat(out);
}
/**
 * decodeLz4Frames decodes LZ4 frames (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md), as apt
 * stores its lists. Checksums are not checked: callers verify the output's SHA256 against InRelease.
 */
function decodeLz4Frames(src: Uint8Array, what: string, m: Meter): Uint8Array {
  let out = new Uint8Array(Math.min(Math.max(src.length * 3, 1024), 1 << 30));
  let o = 0;
  let p = 0;
  const bad = (why: string): never => {
    throw corrupt(what, 'lz4', new Error(why));
  };
  const u32 = (at: number) => {
    if (at + 4 > src.length) bad('truncated');
    return (src[at]! | (src[at + 1]! << 8) | (src[at + 2]! << 16) | (src[at + 3]! << 24)) >>> 0;
  };
  const ensure = (n: number) => {
    if (o + n <= out.length) return;
    m.out(o + n - m.outBytes); // account before growing, so a bomb stops here
    let size = out.length * 2;
    while (size < o + n) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(out.subarray(0, o));
    out = bigger;
  };
  while (p < src.length) {
    const magic = u32(p);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      p += 8 + u32(p + 4); // skippable frame
      continue;
    }
    if (magic !== 0x184d2204) bad(`bad frame magic at offset ${p}`);
    p += 4;
    const flg = src[p] ?? bad('truncated');
    if (flg >> 6 !== 1) bad('unsupported frame version');
    const blockChecksum = (flg & 0x10) !== 0;
    const contentSize = (flg & 0x08) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    const dictId = (flg & 0x01) !== 0;
    p += 2 + (contentSize ? 8 : 0) + (dictId ? 4 : 0) + 1; // FLG, BD, [size], [dict], HC
    for (;;) {
      const bsize = u32(p);
      p += 4;
      if (bsize === 0) break;
      const raw = (bsize & 0x80000000) !== 0;
      const len = bsize & 0x7fffffff;
      if (p + len > src.length) bad('block runs past the end');
      if (raw) {
        ensure(len);
        out.set(src.subarray(p, p + len), o);
        o += len;
      } else {
        const end = p + len;
        let q = p;
        while (q < end) {
          const token = src[q++]!;
          let lit = token >> 4;
          if (lit === 15) {
            let b: number;
            do {
              b = src[q++] ?? bad('truncated literal length');
              lit += b;
            } while (b === 255);
          }
          if (q + lit > end) bad('literals run past the block');
          ensure(lit);
          out.set(src.subarray(q, q + lit), o);
          o += lit;
          q += lit;
          if (q >= end) break; // the last sequence has literals only
          const off = (src[q]! | (src[q + 1]! << 8)) >>> 0;
          q += 2;
          if (off === 0 || off > o) bad('match offset out of range');
          let ml = (token & 15) + 4;
          if ((token & 15) === 15) {
            let b: number;
            do {
              b = src[q++] ?? bad('truncated match length');
              ml += b;
            } while (b === 255);
          }
          ensure(ml);
          let from = o - off;
          if (off >= ml) {
            out.copyWithin(o, from, from + ml);
            o += ml;
          } else {
            for (let k = 0; k < ml; k++) out[o++] = out[from++]!;
          }
        }
      }
      p += len + (blockChecksum ? 4 : 0);
    }
    if (contentChecksum) p += 4;
  }
  m.out(o - m.outBytes);
  return out.subarray(0, o);
}
