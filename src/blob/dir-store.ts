/**
 * dir-store.ts — a BlobStore in a directory laid out as an OCI layout's `blobs/` (blobs/sha256/<hex>).
 *
 * Writes are atomic: bytes go to a temp file in the same directory, are fsynced and renamed into place,
 * then the directory is fsynced (RELIABILITY.md §3). A blob already present is reused only after its
 * size and digest are checked (a poisoned or truncated file is replaced).
 */
import { createReadStream } from 'node:fs';
import { constants, copyFile, link, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FromscratchError, isFromscratchError, isNoSpace } from '../errors.ts';
import { type Digest, digestHex, newHasher, parseDigest } from '../model/digest.ts';
import type { BlobInfo, BlobStore } from './store.ts';
import { removeDeadTemps, trackTemp } from './temp-files.ts';
import { verifyStream } from './verify.ts';

/** DirStoreOptions configures dirStore. */
export interface DirStoreOptions {
  /** fsync files and directories after writing (default true) */
  fsync?: boolean;
  /**
   * the store is a cache (default false): a blob that does not match its digest when read is removed
   * (the next run fetches or rebuilds it), and temp files of dead writers are collected on the first write.
   * Never for a store the user gave as input: nothing is written outside the outputs.
   */
  cache?: boolean;
  /**
   * every file in the directory was written by this store's put (named by the digest of what was
   * written) or verified on the way in: offer trustedPathOf so sinks may link the files (default false)
   */
  trusted?: boolean;
}

let tempCounter = 0;

/** CacheEntryRemoved is a read of a corrupt cache blob, which the cache has removed: the operation can be run again. */
export class CacheEntryRemoved extends FromscratchError {
  readonly cacheEntryRemoved = true;
}

/** causes yields an error and the errors it wraps (`cause`), at most 10 deep. */
function* causes(e: unknown): Generator<unknown> {
  for (let c = e, depth = 0; c && depth < 10; c = (c as { cause?: unknown }).cause, depth++) yield c;
}

/** isCacheEntryRemoved tells whether e, or an error it wraps, is a {@link CacheEntryRemoved}. */
export function isCacheEntryRemoved(e: unknown): boolean {
  for (const c of causes(e))
    if ((c as { cacheEntryRemoved?: unknown }).cacheEntryRemoved === true) return true;
  return false;
}

/** suppressedOf lists the failures an error (or one it wraps) carries besides its own, in `suppressed`. */
function suppressedOf(e: unknown): unknown[] {
  for (const c of causes(e)) {
    const s = (c as { suppressed?: unknown }).suppressed;
    if (Array.isArray(s)) return s;
  }
  return [];
}

/** the most corrupt cache entries one command heals by running again (each run drops at least one) */
export const MAX_CACHE_HEALS = 64;

/**
 * retryAfterCacheHeal runs `fn`, and again each time it failed on a corrupt cache blob that the cache has
 * dropped meanwhile (the next run rebuilds or re-fetches it), saying so through `warn`. Several damaged
 * blobs are healed one run each, up to {@link MAX_CACHE_HEALS}.
 */
export async function retryAfterCacheHeal<T>(
  fn: () => Promise<T>,
  warn: (message: string) => void,
): Promise<T> {
  for (let heals = 0; ; heals++) {
    try {
      return await fn();
    } catch (e) {
      if (!isCacheEntryRemoved(e) || heals >= MAX_CACHE_HEALS) throw e;
      warn(`warning: ${(e as Error).message}; running again without it`);
      // the other entries dropped by the same run (its writes all ended: oci-layout's settleAll)
      for (const other of suppressedOf(e))
        if (isCacheEntryRemoved(other))
          warn(`warning: ${(other as Error).message}; running again without it`);
    }
  }
}

/**
 * namedNoSpace gives a "file system full" error of a write (which Node reports without a path) the path
 * of the file being written, so that the message names the file system that is full (issue 15.3).
 */
function namedNoSpace(e: unknown, path: string): unknown {
  if (isNoSpace(e) && (e as { path?: unknown }).path === undefined) (e as { path?: string }).path = path;
  return e;
}

/** tempName returns a file name unique within this process and across processes. */
export function tempName(prefix: string): string {
  tempCounter += 1;
  return `.tmp-${prefix}-${process.pid}-${Date.now().toString(36)}-${tempCounter}`;
}

/** fsyncDir flushes a directory entry (rename durability). */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * writeFileAtomic writes data to `path` through a temp file in the same directory, fsync and rename,
 * so `path` holds either its old content or the new one, never a part.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | AsyncIterable<Uint8Array>,
  opts: { fsync?: boolean; mode?: number } = {},
): Promise<void> {
  const dir = join(path, '..');
  const tmp = join(dir, tempName('w'));
  const fh = await open(tmp, 'wx', opts.mode ?? 0o644);
  const untrack = trackTemp(tmp);
  try {
    if (data instanceof Uint8Array) await fh.write(data);
    else for await (const c of data) await fh.write(c);
    if (opts.fsync !== false) await fh.sync();
    await fh.close();
    await rename(tmp, path);
    if (opts.fsync !== false) await fsyncDir(dir);
  } catch (e) {
    await fh.close().catch(() => {
      /* already closed */
    });
    await rm(tmp, { force: true });
    throw e;
  } finally {
    untrack();
  }
}

/** dirStore returns a BlobStore rooted at `blobsDir` (the `blobs` directory of an OCI layout). */
export function dirStore(
  blobsDir: string,
  options: DirStoreOptions = {},
): BlobStore & {
  pathOf(d: Digest): string;
  putFile(src: string, expected: BlobInfo): Promise<'linked' | 'copied'>;
} {
  const algoDir = join(blobsDir, 'sha256');
  const pathOf = (d: Digest) => join(algoDir, digestHex(parseDigest(d)));
  const fsync = options.fsync !== false;
  let collected = false;
  /** blobs this process wrote or read whole and verified: a sink may link them without hashing again */
  const verified = new Set<Digest>();

  async function verifyExisting(d: Digest, size?: number): Promise<boolean> {
    try {
      for await (const _ of verifyStream(createReadStream(pathOf(d)), { digest: d, size })) {
        // drained only to verify
      }
      return true;
    } catch {
      // missing, truncated or poisoned: the caller rewrites it
      return false;
    }
  }

  return {
    pathOf,
    ...(options.trusted ? { trustedPathOf: pathOf } : {}),
    verifiedHere: (d: Digest) => verified.has(d),
    async put(data, expected?: BlobInfo) {
      if (
        expected &&
        (await has(expected.digest, expected.size)) &&
        (await verifyExisting(expected.digest, expected.size))
      ) {
        if (!(data instanceof Uint8Array))
          for await (const _ of data) {
            /* drain the producer */
          }
        return expected;
      }
      await mkdir(algoDir, { recursive: true });
      if (options.cache && !collected) {
        collected = true;
        await removeDeadTemps(algoDir);
      }
      const tmp = join(algoDir, tempName('blob'));
      const fh = await open(tmp, 'wx', 0o644);
      const untrack = trackTemp(tmp);
      const h = newHasher();
      try {
        const source = data instanceof Uint8Array ? [data] : data;
        const checked = expected ? verifyStream(source, expected) : source;
        for await (const c of checked) {
          h.update(c);
          await fh.write(c);
        }
        if (fsync) await fh.sync();
        await fh.close();
        const info = h.digest();
        await rename(tmp, pathOf(info.digest));
        if (fsync) await fsyncDir(algoDir);
        verified.add(info.digest);
        return info;
      } catch (e) {
        await fh.close().catch(() => {
          /* already closed */
        });
        await rm(tmp, { force: true });
        throw namedNoSpace(e, tmp);
      } finally {
        untrack();
      }
    },
    /**
     * putFile stores the blob held by the file `src` (another store's file, trusted: its size is checked,
     * its bytes are not read) as a hard link, else a reflink or copy (COPYFILE_FICLONE falls back to a
     * copy), through a temp name and a rename. With fsync, the file and the directory are flushed.
     */
    async putFile(src, expected) {
      const st = await stat(src);
      if (!st.isFile() || st.size !== expected.size) {
        throw new FromscratchError(
          'SIZE_MISMATCH',
          `blob ${expected.digest} at ${src} has ${st.size} bytes, expected ${expected.size}`,
          {
            hint: 'the blob cache is damaged; build again (the layer is rewritten)',
          },
        );
      }
      await mkdir(algoDir, { recursive: true });
      const tmp = join(algoDir, tempName('link'));
      const untrack = trackTemp(tmp);
      let how: 'linked' | 'copied' = 'linked';
      try {
        try {
          await link(src, tmp);
        } catch {
          // another file system, or links not allowed: a reflink where the file system can, else a copy
          how = 'copied';
          await copyFile(src, tmp, constants.COPYFILE_FICLONE);
        }
        if (fsync) {
          const fh = await open(tmp, 'r');
          try {
            await fh.sync();
          } finally {
            await fh.close();
          }
        }
        await rename(tmp, pathOf(expected.digest));
        if (fsync) await fsyncDir(algoDir);
        return how;
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      } finally {
        untrack();
      }
    },
    has,
    async size(d) {
      try {
        return (await stat(pathOf(d))).size;
      } catch (e) {
        throw new FromscratchError('BLOB_NOT_FOUND', `blob ${d} not found in ${blobsDir}`, { cause: e });
      }
    },
    open(d, size) {
      return (async function* () {
        const p = pathOf(d);
        try {
          await stat(p);
        } catch (e) {
          throw new FromscratchError('BLOB_NOT_FOUND', `blob ${d} not found in ${blobsDir}`, {
            hint: 'the layout is incomplete; rebuild or copy it again',
            cause: e,
          });
        }
        const end = size === undefined ? undefined : size; // read at most size+1 bytes
        try {
          yield* verifyStream(
            createReadStream(p, end === undefined ? {} : { start: 0, end }),
            { digest: d, size },
            `blob ${d}`,
          );
          verified.add(d);
        } catch (e) {
          if (
            !options.cache ||
            !(isFromscratchError(e, 'DIGEST_MISMATCH') || isFromscratchError(e, 'SIZE_MISMATCH'))
          )
            throw e;
          // a corrupt cache entry is dropped, so that the next run fetches or rebuilds it
          await rm(p, { force: true });
          throw new CacheEntryRemoved(
            e.code,
            `${e.message} (a corrupt copy in the cache ${blobsDir}, now removed)`,
            {
              hint: 'the cache held a damaged blob (disk fault or an edit); it is gone: run the command again',
              cause: e,
            },
          );
        }
      })();
    },
  };

  async function has(d: Digest, size?: number): Promise<boolean> {
    try {
      const st = await stat(pathOf(d));
      return st.isFile() && (size === undefined || st.size === size);
    } catch {
      // absent
      return false;
    }
  }
}
