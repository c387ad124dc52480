/**
 * archive-store.ts — a read-only BlobStore view over an archive read into a temp store, where blobs are
 * found by the name the archive gives them (`blobs/sha256/<hex>`).
 *
 * The temp store is content-addressed, so a blob whose bytes do not hash to the digest in its name is
 * reported as DIGEST_MISMATCH (not "not found") when asked for by that digest (RELIABILITY.md C1).
 */
import type { BlobStore } from '../blob/store.ts';
import { FromscratchError } from '../errors.ts';
import { type Digest, parseDigest } from '../model/digest.ts';
import type { ArchiveContents } from './archive-file.ts';

/** archiveBlobStore serves blobs of `archive` by digest, looking each up under `nameOf(digest)`. */
export function archiveBlobStore(
  archive: ArchiveContents,
  nameOf: (d: Digest) => string,
  where: string,
): BlobStore {
  const find = (digest: Digest) => {
    const d = parseDigest(digest);
    const info = archive.lookup(nameOf(d));
    if (!info) {
      throw new FromscratchError('BLOB_NOT_FOUND', `${where}: missing blob ${d}`, {
        hint: 'the archive is incomplete; write it again',
      });
    }
    if (info.digest !== d) {
      throw new FromscratchError(
        'DIGEST_MISMATCH',
        `${where}: blob ${d}: digest mismatch: content hashes to ${info.digest}`,
        {
          hint: 'the blob is corrupt or was tampered with; write the archive again',
        },
      );
    }
    return info;
  };
  return {
    async put() {
      throw new Error('an archive store is read-only');
    },
    async has(digest, size) {
      const info = archive.lookup(nameOf(parseDigest(digest)));
      return info !== undefined && info.digest === digest && (size === undefined || info.size === size);
    },
    async size(digest) {
      return find(digest).size;
    },
    open(digest, size) {
      return (async function* () {
        const info = find(digest);
        if (size !== undefined && info.size !== size) {
          throw new FromscratchError(
            'SIZE_MISMATCH',
            `${where}: blob ${digest}: size mismatch: ${info.size} bytes, expected ${size}`,
            {
              hint: 'the blob is truncated or the descriptor is wrong; write the archive again',
            },
          );
        }
        yield* archive.store.open(info.digest, info.size);
      })();
    },
  };
}
