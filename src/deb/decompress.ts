/**
 * decompress.ts — deb's defaults over codec/decompress.ts for the formats Debian uses: gzip, xz, zstd
 * (data.tar.*, control.tar.*, Packages.*) and lz4 (apt's local copies in /var/lib/apt/lists). PURE (no
 * file or network IO).
 *
 * Never an external decompressor (RELIABILITY B5); every stream stops at an absolute cap (default 4 GiB)
 * and at a compression-ratio cap (default 200 past 64 MiB) (B1/B2/H3). bzip2 and lzma are refused with
 * UNSUPPORTED_COMPRESSION. The format is the one the file name declares; callers check magic numbers
 * themselves where a name may lie (deb-file.ts).
 */
import { type Codec, decompressStream as decodeStream } from '../codec/decompress.ts';

/** DebCompression names a compression used in .debs and apt repositories. */
export type DebCompression = Codec;

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

/**
 * decompressStream yields the decompressed bytes of `src`, decoded as `kind` (the magic number is not
 * checked: a plain tar that happens to start with magic bytes is still a tar). Throws TOO_LARGE at the
 * caps, INVALID_COMPRESSION for corrupt data and UNSUPPORTED_COMPRESSION for bzip2/lzma.
 */
export function decompressStream(
  src: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  kind: DebCompression,
  opts: DecompressOptions,
): AsyncGenerator<Uint8Array> {
  return decodeStream(src, kind, opts.what, {
    maxBytes: opts.maxBytes ?? DEFAULT_MAX_BYTES,
    maxRatio: opts.maxRatio ?? 200,
    ratioFloor: opts.ratioFloor,
    checkMagic: false,
  });
}
