/**
 * fetch-deb.ts — download the .debs of a lockfile, each verified by SHA256 and size before it is used,
 * through a content-addressed cache. IO.
 *
 * Lookup order for each package: the cache (`<cacheDir>/blobs/sha256/<hex>`, re-hashed on read), the
 * host's `/var/cache/apt/archives/NAME_VERSION_ARCH.deb` (hashed before use), then the URL. A download
 * whose bytes do not match the lockfile is DIGEST_MISMATCH / SIZE_MISMATCH and is never cached.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { type BlobStore, readBlob } from '../blob/store.ts';
import { FromscratchError, withContext } from '../errors.ts';
import { type Digest, sha256 } from '../model/digest.ts';
import type { ProgressSink } from '../model/progress.ts';
import { download, downloadHooks } from './download-progress.ts';
import { fetchBytes } from './fetch-http.ts';
import { debCacheStore } from './fetch-index.ts';
import type { LockedPackage } from './lockfile.ts';

/** FetchDebOptions configures fetchDeb and fetchDebs. */
export interface FetchDebOptions {
  /** cache directory (default: defaultCacheDir()) */
  cacheDir?: string;
  /** the host's apt archive cache, or false (default `/var/cache/apt/archives`) */
  hostArchives?: string | false;
  /** per-request time limit in ms (default 120 s) */
  timeoutMs?: number;
  /** fetch implementation (default global fetch) */
  fetch?: typeof fetch;
  /** parallel downloads (default 4) */
  concurrency?: number;
  /** the content-addressed package cache (default the store under cacheDir; a registry cache wraps it) */
  store?: BlobStore;
  /** progress messages for humans (default: none) */
  onProgress?: (message: string) => void;
  /** download progress (default none) */
  progress?: ProgressSink;
}

/** debFileName is apt's archive file name for a package (`:` in versions escaped as `%3a`). */
export function debFileName(p: Pick<LockedPackage, 'name' | 'version' | 'architecture'>): string {
  return `${p.name}_${p.version.replace(/:/g, '%3a')}_${p.architecture}.deb`;
}

/**
 * fetchDeb returns the verified bytes of one locked package. Throws DIGEST_MISMATCH / SIZE_MISMATCH for
 * bytes that do not match the lockfile and NETWORK_ERROR (with the URL) when it cannot be downloaded.
 */
export async function fetchDeb(pkg: LockedPackage, opts: FetchDebOptions = {}): Promise<Uint8Array> {
  if (!/^[0-9a-f]{64}$/.test(pkg.sha256))
    throw new FromscratchError(
      'INVALID_DIGEST',
      `package ${pkg.name}: invalid sha256 ${JSON.stringify(pkg.sha256)}`,
    );
  const digest = `sha256:${pkg.sha256}` as Digest;
  const store = opts.store ?? debCacheStore(opts.cacheDir);
  const what = `${pkg.name} ${pkg.version} (${pkg.architecture})`;
  if (await store.has(digest, pkg.size)) {
    try {
      return await readBlob(store, digest, pkg.size, pkg.size);
    } catch {
      // a damaged cache entry: fetch again below (put() replaces it)
    }
  }
  const hostDir = opts.hostArchives === undefined ? '/var/cache/apt/archives' : opts.hostArchives;
  if (hostDir) {
    const bytes = await readFile(join(hostDir, debFileName(pkg))).catch(() => undefined);
    if (bytes && bytes.length === pkg.size && sha256(bytes) === digest) {
      await store.put(bytes, { digest, size: pkg.size });
      return bytes;
    }
  }
  opts.onProgress?.(`fetching ${pkg.url}`);
  const bytes = await download(pkg.url, pkg.size, opts, () =>
    fetchBytes(pkg.url, {
      maxBytes: pkg.size,
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...downloadHooks(pkg.url, opts),
    }),
  ).catch((e) => withContext(`downloading ${what}`, e));
  if (bytes.length !== pkg.size || sha256(bytes) !== digest) {
    throw new FromscratchError(
      'DIGEST_MISMATCH',
      `downloading ${what}: ${pkg.url} does not match the lockfile (got ${bytes.length} bytes, ${sha256(bytes)}; expected ${pkg.size} bytes, ${digest})`,
      {
        hint: 'the mirror served a different or tampered file; if the archive changed, resolve again (build without --locked)',
      },
    );
  }
  await store.put(bytes, { digest, size: pkg.size });
  return bytes;
}

/** fetchDebs fetches every package (in parallel) and returns their bytes in the input order. */
export async function fetchDebs(
  pkgs: readonly LockedPackage[],
  opts: FetchDebOptions = {},
): Promise<Uint8Array[]> {
  const limit = pLimit(opts.concurrency ?? 4);
  return Promise.all(pkgs.map((p) => limit(() => fetchDeb(p, opts))));
}
