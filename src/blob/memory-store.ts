/**
 * memory-store.ts — a BlobStore held in memory (tests, small images).
 */
import { FromscratchError } from '../errors.ts';
import { type Digest, parseDigest, sha256 } from '../model/digest.ts';
import type { BlobInfo, BlobStore } from './store.ts';
import { verifyStream } from './verify.ts';

/** memoryStore returns an empty in-memory BlobStore. */
export function memoryStore(): BlobStore & { readonly blobs: ReadonlyMap<Digest, Uint8Array> } {
  const blobs = new Map<Digest, Uint8Array>();
  const notFound = (d: Digest) =>
    new FromscratchError('BLOB_NOT_FOUND', `blob ${d} not found`, {
      hint: 'the store does not hold this blob',
    });
  return {
    blobs,
    async put(data, expected?: BlobInfo) {
      let bytes: Uint8Array;
      if (data instanceof Uint8Array) bytes = data;
      else {
        const chunks: Uint8Array[] = [];
        for await (const c of data) chunks.push(c);
        bytes = Buffer.concat(chunks);
      }
      if (expected) {
        for await (const _ of verifyStream([bytes], expected)) {
          // drained only to verify
        }
      }
      const digest = sha256(bytes);
      if (!blobs.has(digest)) blobs.set(digest, bytes);
      return { digest, size: bytes.byteLength };
    },
    async has(digest, size) {
      const b = blobs.get(parseDigest(digest));
      return b !== undefined && (size === undefined || b.byteLength === size);
    },
    async size(digest) {
      const b = blobs.get(parseDigest(digest));
      if (!b) throw notFound(digest);
      return b.byteLength;
    },
    open(digest, size) {
      const b = blobs.get(parseDigest(digest));
      if (!b) {
        return (async function* () {
          yield* [];
          throw notFound(digest);
        })();
      }
      return verifyStream([b], { digest, size });
    },
  };
}
