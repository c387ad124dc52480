/**
 * store.ts — the BlobStore port: content-addressed bytes with verified reads (umoci's cas.Engine, cut down).
 */
import { FromscratchError } from '../errors.ts';
import type { Digest } from '../model/digest.ts';

/** BlobInfo is what a store reports about stored bytes. */
export interface BlobInfo {
  readonly digest: Digest;
  readonly size: number;
}

/** BlobStore stores and serves blobs by digest. */
export interface BlobStore {
  /**
   * put stores bytes. Idempotent: the result means "stored at digest", not "stored by this call".
   * With `expected`, the bytes must hash to that digest and size, or DIGEST_MISMATCH / SIZE_MISMATCH is
   * thrown and nothing is stored.
   */
  put(data: Uint8Array | AsyncIterable<Uint8Array>, expected?: BlobInfo): Promise<BlobInfo>;
  /** has tells whether a blob with this digest (and size, when given) is stored. */
  has(digest: Digest, size?: number): Promise<boolean>;
  /**
   * open streams a blob and checks digest and size at EOF (never reading more than size+1 bytes).
   * Throws FromscratchError('BLOB_NOT_FOUND'), 'DIGEST_MISMATCH' or 'SIZE_MISMATCH'.
   */
  open(digest: Digest, size?: number): AsyncIterable<Uint8Array>;
  /** size returns a stored blob's size, or throws BLOB_NOT_FOUND. */
  size(digest: Digest): Promise<number>;
  /**
   * trustedPathOf (only stores whose every file was verified when written, e.g. the build's blob cache,
   * never a layout or archive read from elsewhere) is the file that holds a blob's bytes, so that a sink
   * on the same file system can link it instead of copying, and a cache can compare its stat data.
   */
  trustedPathOf?(digest: Digest): string;
  /** verifiedHere tells whether this process wrote the blob, or read it whole, and its digest held */
  verifiedHere?(digest: Digest): boolean;
}

/** readBlob reads a whole (small) blob into memory, verified, refusing more than `limit` bytes. */
export async function readBlob(
  store: BlobStore,
  digest: Digest,
  size?: number,
  limit = 8 * 1024 * 1024,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of store.open(digest, size)) {
    n += c.byteLength;
    if (n > limit) {
      throw new FromscratchError('TOO_LARGE', `blob ${digest} is larger than the ${limit}-byte limit`, {
        hint: 'manifests, configs and indexes over the limit are refused to bound memory',
      });
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}
