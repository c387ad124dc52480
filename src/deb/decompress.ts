/**
 * decompress.ts — in-process, bounded decompression of the formats Debian uses: gzip, xz, zstd (data.tar.*,
 * control.tar.*, Packages.*) and lz4 (apt's local copies in /var/lib/apt/lists). PURE (no file or network IO).
 *
 * Never runs an external decompressor (RELIABILITY B5). Every stream counts its output and stops at an
 * absolute cap and at a compression-ratio cap (B1/B2/H3 bombs), whatever the library's chunking.
 * bzip2 and lzma are refused with UNSUPPORTED_COMPRESSION: no maintained in-process decoder is installed.
 */
import { createRequire } from 'node:module';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import { FromscratchError } from '../errors.ts';

// xz-decompress ships CommonJS with a WASM blob; DEPENDENCIES.md: import it through createRequire
const require = createRequire(import.meta.url);
const { XzReadableStream } = require('xz-decompress') as {
  XzReadableStream: new (s: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>;
};

/** DebCompression names a compression used in .debs and apt repositories. */
export type DebCompression = 'none' | 'gzip' | 'xz' | 'zstd' | 'lz4' | 'bzip2' | 'lzma';

/** compressionFromName maps a file name suffix (`data.tar.xz`, `Packages.gz`) to its compression. */
export function compressionFromName(name: string): DebCompression | undefined {
  if (name.endsWith('.gz')) return 'gzip';
  if (name.endsWith('.xz')) return 'xz';
  if (name.endsWith('.zst')) return 'zstd';
  if (name.endsWith('.lz4')) return 'lz4';
  if (name.endsWith('.bz2')) return 'bzip2';
  if (name.endsWith('.lzma')) return 'lzma';
  if (name.endsWith('.tar') || !/\.[a-z0-9]+$/.test(name) || name.endsWith('/Packages')) return 'none';
  return undefined;
}

/** sniffCompression tells the compression from magic bytes (undefined when none is recognised). */
export function sniffCompression(head: Uint8Array): DebCompression | undefined {
  const m = (...b: number[]) => b.every((x, i) => head[i] === x);
  if (m(0x1f, 0x8b)) return 'gzip';
  if (m(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (m(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  if (m(0x04, 0x22, 0x4d, 0x18)) return 'lz4';
  if (m(0x42, 0x5a, 0x68)) return 'bzip2';
  return undefined;
}

/** DecompressOptions bounds a decompression. */
export interface DecompressOptions {
  /** names the stream in errors, e.g. `data.tar.xz of jq_1.6-2.1_amd64.deb` */
  what: string;
  /** absolute cap on decompressed bytes (default 4 GiB) */
  maxBytes?: number;
  /** cap on decompressed/compressed bytes once output passes `ratioFloor` (default 200) */
  maxRatio?: number;
  /** output below this size is never refused for its ratio (default 64 MiB) */
  ratioFloor?: number;
}

/** DEFAULT_MAX_BYTES is the default absolute decompression cap: larger than any Debian package. */
export const DEFAULT_MAX_BYTES = 4 * 1024 ** 3;

class Meter {
  inBytes = 0;
  outBytes = 0;
  private readonly o: DecompressOptions;
  private readonly max: number;
  private readonly ratio: number;
  private readonly floor: number;
  constructor(o: DecompressOptions) {
    this.o = o;
    this.max = o.maxBytes ?? DEFAULT_MAX_BYTES;
    this.ratio = o.maxRatio ?? 200;
    this.floor = o.ratioFloor ?? 64 * 1024 * 1024;
  }
  out(n: number): void {
    this.outBytes += n;
    if (this.outBytes > this.max) {
      throw new FromscratchError('TOO_LARGE', `decompressing ${this.o.what}: more than ${this.max} bytes`, {
        hint: 'the archive is a decompression bomb or larger than the configured limit',
      });
    }
    if (this.outBytes > this.floor && this.outBytes > this.ratio * Math.max(this.inBytes, 1)) {
      throw new FromscratchError(
        'TOO_LARGE',
        `decompressing ${this.o.what}: ${this.outBytes} bytes from ${this.inBytes} compressed is over the ratio limit of ${this.ratio}`,
        { hint: 'the archive is a decompression bomb; refusing to expand it further' },
      );
    }
  }
}

/** INPUT_SLICE bounds how much compressed input is handed to a decoder at once, so the ratio is measured finely. */
const INPUT_SLICE = 16 * 1024;

async function* counted(
  src: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  m: Meter,
): AsyncGenerator<Uint8Array> {
  for await (const c of src) {
    for (let i = 0; i < c.byteLength; i += INPUT_SLICE) {
      const s = c.subarray(i, i + INPUT_SLICE);
      m.inBytes += s.byteLength;
      yield s;
    }
  }
}

function corrupt(what: string, kind: string, cause: unknown): FromscratchError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new FromscratchError('INVALID_COMPRESSION', `decompressing ${what}: corrupt ${kind} data: ${why}`, {
    hint: 'the file is damaged or not what its name says; fetch it again',
    cause,
  });
}

/**
 * decompressStream yields the decompressed bytes of `src`. Throws TOO_LARGE at the caps,
 * INVALID_COMPRESSION for corrupt data and UNSUPPORTED_COMPRESSION for bzip2/lzma.
 */
export async function* decompressStream(
  src: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  kind: DebCompression,
  opts: DecompressOptions,
): AsyncGenerator<Uint8Array> {
  const m = new Meter(opts);
  const input = counted(src, m);
  switch (kind) {
    case 'none':
      for await (const c of input) {
        m.out(c.byteLength);
        yield c;
      }
      return;
    case 'gzip': {
      const gunzip = createGunzip();
      const out = pipeline(Readable.from(input), gunzip, () => {
        /* errors surface through the iteration below */
      });
      try {
        for await (const c of out as AsyncIterable<Buffer>) {
          m.out(c.byteLength);
          yield c;
        }
      } catch (e) {
        if (e instanceof FromscratchError) throw e;
        throw corrupt(opts.what, 'gzip', e);
      } finally {
        gunzip.destroy();
      }
      return;
    }
    case 'xz': {
      // a hand-made pull source: Readable.toWeb on Node 20 throws ERR_INVALID_STATE when cancelled mid-stream
      const it = input[Symbol.asyncIterator]();
      const web = new ReadableStream<Uint8Array>({
        async pull(ctrl) {
          const r = await it.next();
          if (r.done) ctrl.close();
          else ctrl.enqueue(r.value);
        },
        async cancel() {
          await it.return?.(undefined);
        },
      });
      const xz = new XzReadableStream(web);
      const reader = xz.getReader();
      try {
        for (;;) {
          let r: Awaited<ReturnType<typeof reader.read>>;
          try {
            r = await reader.read();
          } catch (e) {
            if (e instanceof FromscratchError) throw e;
            throw corrupt(opts.what, 'xz', e);
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
      return;
    }
    case 'zstd': {
      let pending: Uint8Array[] = [];
      const z = new ZstdDecompress((data) => {
        m.out(data.byteLength); // throws out of push() at the caps, before more is decoded
        pending.push(data);
      });
      const drain = function* () {
        const p = pending;
        pending = [];
        yield* p;
      };
      try {
        for await (const c of input) {
          z.push(c);
          yield* drain();
        }
        z.push(new Uint8Array(0), true);
        yield* drain();
      } catch (e) {
        if (e instanceof FromscratchError) throw e;
        throw corrupt(opts.what, 'zstd', e);
      }
      return;
    }
    case 'lz4': {
      const parts: Uint8Array[] = [];
      for await (const c of input) parts.push(c);
      const out = decodeLz4Frames(Buffer.concat(parts), opts.what, m);
      yield out;
      return;
    }
    case 'bzip2':
    case 'lzma':
      throw new FromscratchError(
        'UNSUPPORTED_COMPRESSION',
        `decompressing ${opts.what}: ${kind} is not supported`,
        {
          hint: 'fromscratch reads gzip, xz and zstd; this archive uses an old compression Debian no longer uses for packages',
        },
      );
  }
}

/** decompressBytes decompresses a whole buffer (same caps as decompressStream). */
export async function decompressBytes(
  data: Uint8Array,
  kind: DebCompression,
  opts: DecompressOptions,
): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const c of decompressStream([data], kind, opts)) out.push(c);
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
