/**
 * fetch-index.ts — get verified Packages indexes for apt sources: InRelease (signature checked with
 * openpgp against the keyrings), then `Packages.{xz,gz}` with its SHA256 and size checked against
 * InRelease, cached content-addressed. IO.
 *
 * The host's own apt lists (/var/lib/apt/lists, filled by `apt-get update`) are used first when they
 * match the source and architecture: the InRelease there is verified like a downloaded one and the
 * decompressed Packages must hash to the value InRelease gives for the uncompressed index.
 * Downloaded InRelease files are reused for `inReleaseMaxAge` seconds (re-verified each time);
 * Packages files are reused whenever a file with the exact digest and size is in the cache.
 */
import { mkdir, readdir, readFile, stat, utimes } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { dirStore, writeFileAtomic } from '../blob/dir-store.ts';
import { type BlobStore, readBlob } from '../blob/store.ts';
import { FromscratchError, withContext } from '../errors.ts';
import { type Digest, newHasher, parseDigest, sha256 } from '../model/digest.ts';
import type { ProgressSink } from '../model/progress.ts';
import type { AptSource } from './apt-sources.ts';
import { compressionFromName, type DebCompression, decompressStream } from './decompress.ts';
import { download, downloadHooks } from './download-progress.ts';
import { fetchBytes } from './fetch-http.ts';
import { indexPackages, type PackageRecord, type PackagesIndex, PackagesParser } from './packages-index.ts';
import { loadKeys, parseRelease, type Release, verifyInRelease } from './release.ts';

/** FetchIndexOptions configures fetchPackagesIndex. */
export interface FetchIndexOptions {
  /** Debian architecture whose index is wanted (`amd64`, `arm64`, …); `all` packages come along */
  arch: string;
  /** cache directory (default `$XDG_CACHE_HOME/fromscratch/deb` or `~/.cache/fromscratch/deb`) */
  cacheDir?: string;
  /** key files to verify InRelease with; default: a source's signed-by, else debian-archive-keyring.gpg and /etc/apt/trusted.gpg.d */
  keyrings?: readonly string[];
  /** the host's apt lists directory, or false to never use it (default `/var/lib/apt/lists`) */
  hostListsDir?: string | false;
  /** seconds a downloaded InRelease is reused before it is fetched again (default 3600) */
  inReleaseMaxAge?: number;
  /** accept an InRelease past its Valid-Until date, e.g. from snapshot.debian.org (default false) */
  allowExpired?: boolean;
  /** the clock Valid-Until is checked against, in ms since the epoch (default Date.now) */
  now?: () => number;
  /** per-request time limit in ms (default 120 s) */
  timeoutMs?: number;
  /** fetch implementation (default global fetch) */
  fetch?: typeof fetch;
  /** the content-addressed package cache (default the store under cacheDir; a registry cache wraps it) */
  store?: BlobStore;
  /** told the digest and size of every index read (downloaded or from the cache), e.g. to share it */
  onIndex?: (digest: Digest, size: number) => void;
  /** progress messages for humans (default: none) */
  onProgress?: (message: string) => void;
  /** download progress (default none) */
  progress?: ProgressSink;
}

/** FetchedIndex is the merged index of every source, with the releases read. */
export interface FetchedIndex extends PackagesIndex {
  /** one entry per source and component read */
  readonly indexes: readonly {
    readonly source: AptSource;
    readonly component: string;
    readonly url: string;
    readonly packages: number;
    /** read from the host's apt lists */
    readonly fromHost: boolean;
    /** records reused from an earlier parse of the same verified index */
    readonly fromCache: boolean;
    /** the release the source's InRelease names (Origin, Codename, Version) */
    readonly release?: { readonly origin?: string; readonly codename?: string; readonly version?: string };
  }[];
}

/** defaultCacheDir returns the cache directory used when none is given. */
export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir() || '/tmp', '.cache');
  return join(base, 'fromscratch', 'deb');
}

/** debCacheStore returns the content-addressed store under a cache directory. */
export function debCacheStore(cacheDir: string = defaultCacheDir()): BlobStore {
  return dirStore(join(cacheDir, 'blobs'), { fsync: false, cache: true });
}

/** aptListPrefix is apt's file name prefix for a source in /var/lib/apt/lists (URItoFileName). */
export function aptListPrefix(uri: string, suite: string): string {
  const noScheme = uri.replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '');
  return `${noScheme}/dists/${suite}`.replace(/\//g, '_');
}

const DEFAULT_KEYRINGS = ['/usr/share/keyrings/debian-archive-keyring.gpg'];

async function keyFilesFor(source: AptSource, opts: FetchIndexOptions): Promise<string[]> {
  if (opts.keyrings) return [...opts.keyrings];
  if (source.signedBy?.length) return [...source.signedBy];
  const extra = await readdir('/etc/apt/trusted.gpg.d').catch(() => [] as string[]);
  return [
    ...DEFAULT_KEYRINGS,
    ...extra
      .filter((n) => /\.(gpg|asc)$/.test(n))
      .sort()
      .map((n) => `/etc/apt/trusted.gpg.d/${n}`),
  ];
}

async function readKeyFiles(files: string[], source: AptSource) {
  const rings: { name: string; data: Uint8Array }[] = [];
  for (const f of files) {
    if (f.includes('BEGIN PGP')) {
      rings.push({ name: `inline key of ${source.from}`, data: Buffer.from(f) });
      continue;
    }
    try {
      rings.push({ name: f, data: await readFile(f) });
    } catch (e) {
      throw new FromscratchError(
        'SIGNATURE_INVALID',
        `reading keyring ${f} for ${source.uri} ${source.suite}: ${(e as Error).message}`,
        {
          hint: 'install debian-archive-keyring, or point signed-by / --apt-keyring at the repository key',
          cause: e,
        },
      );
    }
  }
  return loadKeys(rings);
}

/**
 * freshFile reads a cached file no older than maxAgeSec by `now`. Its age is its mtime, which the cache
 * sets from the same clock when it writes the file (not the kernel's), so an injected clock is consistent.
 */
async function freshFile(path: string, maxAgeSec: number, now: number): Promise<Uint8Array | undefined> {
  try {
    const st = await stat(path);
    if (now - st.mtimeMs > maxAgeSec * 1000 || st.mtimeMs > now + 60_000) return undefined;
    return await readFile(path);
  } catch {
    return undefined; // absent
  }
}

/** fetchRelease gets and verifies a source's InRelease, returning the parsed Release. */
export async function fetchRelease(
  source: AptSource,
  opts: FetchIndexOptions,
): Promise<{ release: Release; fromHost: boolean }> {
  const url = `${source.uri}/dists/${source.suite}/InRelease`;
  const keys = await readKeyFiles(await keyFilesFor(source, opts), source);
  const hostDir = opts.hostListsDir === undefined ? '/var/lib/apt/lists' : opts.hostListsDir;
  const candidates: {
    what: string;
    load: () => Promise<Uint8Array | undefined>;
    fromHost: boolean;
    save: boolean;
  }[] = [];
  if (hostDir) {
    const p = join(hostDir, `${aptListPrefix(source.uri, source.suite)}_InRelease`);
    candidates.push({ what: p, load: () => readFile(p).catch(() => undefined), fromHost: true, save: false });
  }
  const cacheFile = join(opts.cacheDir ?? defaultCacheDir(), 'inrelease', sha256(url).slice(7));
  candidates.push({
    what: cacheFile,
    load: () => freshFile(cacheFile, opts.inReleaseMaxAge ?? 3600, (opts.now ?? Date.now)()),
    fromHost: false,
    save: false,
  });
  candidates.push({
    what: url,
    load: () => {
      opts.onProgress?.(`fetching ${url}`);
      return download(url, undefined, opts, () =>
        fetchBytes(url, { maxBytes: 64 * 1024 * 1024, ...timeouts(opts), ...downloadHooks(url, opts) }),
      );
    },
    fromHost: false,
    save: true,
  });
  let lastError: unknown;
  for (const c of candidates) {
    const data = await c.load();
    if (!data) continue;
    try {
      const text = await verifyInRelease(data, keys, c.what);
      const release = parseRelease(text, c.what);
      checkValidUntil(release, c.what, opts);
      if (c.save) {
        await mkdir(join(cacheFile, '..'), { recursive: true });
        await writeFileAtomic(cacheFile, data, { fsync: false });
        const fetchedAt = (opts.now ?? Date.now)() / 1000;
        await utimes(cacheFile, fetchedAt, fetchedAt);
      }
      return { release, fromHost: c.fromHost };
    } catch (e) {
      lastError = e;
      if (c.save) throw e; // the network copy is the last resort: a bad signature there is final
      // a stale or damaged local copy: fall through to the next candidate
    }
  }
  throw lastError ?? new Error(`no InRelease candidate for ${url}`);
}

/**
 * checkValidUntil refuses an InRelease past its Valid-Until (apt does the same): a replayed old, signed
 * InRelease would otherwise hide security updates. A stale local copy then falls through to a download.
 */
function checkValidUntil(release: Release, what: string, opts: FetchIndexOptions): void {
  if (!release.validUntil || opts.allowExpired) return;
  const until = Date.parse(release.validUntil);
  if (Number.isFinite(until) && until < (opts.now ?? Date.now)()) {
    throw new FromscratchError(
      'SIGNATURE_INVALID',
      `verifying ${what}: it expired on ${release.validUntil} (Valid-Until)`,
      {
        hint: 'the mirror or cache serves an outdated index; retry later or use another mirror (allowExpired for snapshot mirrors)',
      },
    );
  }
}

function timeouts(opts: FetchIndexOptions) {
  return {
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  };
}

/** parseIndexBytes decompresses `bytes`, checks the uncompressed digest when known, and parses the records. */
async function parseIndexBytes(
  bytes: Uint8Array,
  kind: DebCompression,
  what: string,
  baseUrl: string,
  uncompressed: { sha256: string; size: number } | undefined,
): Promise<PackageRecord[]> {
  const parser = new PackagesParser({ what, baseUrl });
  const dec = new TextDecoder('utf-8');
  const h = newHasher();
  for await (const c of decompressStream([bytes], kind, { what, maxBytes: 2 * 1024 ** 3 })) {
    h.update(c);
    // slices of 1 MiB keep the parser's working strings small whatever the decoder's chunking
    for (let i = 0; i < c.byteLength; i += 1 << 20)
      parser.push(dec.decode(c.subarray(i, i + (1 << 20)), { stream: true }));
  }
  parser.push(dec.decode());
  const got = h.digest();
  if (uncompressed && (got.digest !== `sha256:${uncompressed.sha256}` || got.size !== uncompressed.size)) {
    throw new FromscratchError(
      'DIGEST_MISMATCH',
      `${what}: the uncompressed index hashes to ${got.digest} (${got.size} bytes), InRelease says sha256:${uncompressed.sha256} (${uncompressed.size} bytes)`,
      {
        hint: 'the index is stale or was tampered with; run apt-get update or clear the cache',
      },
    );
  }
  return parser.end();
}

async function hostIndex(
  hostDir: string,
  source: AptSource,
  rel: string,
  release: Release,
  what: string,
): Promise<PackageRecord[] | undefined> {
  const plain = release.files.get(rel);
  if (!plain) return undefined;
  const base = join(hostDir, `${aptListPrefix(source.uri, source.suite)}_${rel.replace(/\//g, '_')}`);
  for (const suffix of ['.lz4', '.xz', '.gz', '.zst', '']) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(base + suffix);
    } catch {
      continue; // apt keeps one compressed copy; try the next suffix
    }
    try {
      return await parseIndexBytes(
        bytes,
        compressionFromName(base + suffix) ?? 'none',
        `${what} (host copy ${base + suffix})`,
        source.uri,
        plain,
      );
    } catch {
      return undefined; // stale or damaged host copy: download instead
    }
  }
  return undefined;
}

/** PARSED_FORMAT versions the parsed-records cache; bump it when PackageRecord changes. */
const PARSED_FORMAT = 'fromscratch-packages-records-1';

/**
 * readParsed returns records parsed earlier from an index whose uncompressed digest (verified against
 * InRelease at the time) is part of `key`. The records are a blob of the content store, re-hashed on
 * read; the pointer file names its digest and size. Anything missing or damaged reads as absent.
 */
async function readParsed(
  store: BlobStore,
  cacheDir: string,
  key: string,
): Promise<PackageRecord[] | undefined> {
  try {
    const [d, size] = (await readFile(join(cacheDir, 'parsed', key), 'utf8')).trim().split(' ');
    const bytes = await readBlob(store, parseDigest(d), Number(size), 2 * 1024 ** 3);
    const records = JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
    return Array.isArray(records) ? (records as PackageRecord[]) : undefined;
  } catch {
    return undefined; // not cached yet, or damaged: parse the index again
  }
}

async function writeParsed(
  store: BlobStore,
  cacheDir: string,
  key: string,
  records: readonly PackageRecord[],
): Promise<void> {
  const info = await store.put(Buffer.from(JSON.stringify(records)));
  await mkdir(join(cacheDir, 'parsed'), { recursive: true });
  await writeFileAtomic(join(cacheDir, 'parsed', key), Buffer.from(`${info.digest} ${info.size}\n`), {
    fsync: false,
  });
}

/**
 * fetchPackagesIndex returns the merged, verified index of every source for `opts.arch`. Sources whose
 * `arch=` restriction excludes the architecture are skipped. Throws SIGNATURE_INVALID, DIGEST_MISMATCH,
 * NETWORK_ERROR (with the URL) or DEB_NOT_FOUND when a suite has no index for the architecture.
 *
 * @example const index = await fetchPackagesIndex(await readHostAptSources(), { arch: 'arm64' })
 */
export async function fetchPackagesIndex(
  sources: readonly AptSource[],
  opts: FetchIndexOptions,
): Promise<FetchedIndex> {
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const store = opts.store ?? debCacheStore(cacheDir);
  const all: PackageRecord[] = [];
  const indexes: {
    source: AptSource;
    component: string;
    url: string;
    packages: number;
    fromHost: boolean;
    fromCache: boolean;
    release?: { origin?: string; codename?: string; version?: string };
  }[] = [];
  const hostDir = opts.hostListsDir === undefined ? '/var/lib/apt/lists' : opts.hostListsDir;
  for (const source of sources) {
    if (source.architectures && !source.architectures.includes(opts.arch)) continue;
    try {
      const { release, fromHost } = await fetchRelease(source, opts);
      const arches =
        release.allInArchIndexes ||
        release.architectures.length === 0 ||
        !release.architectures.includes('all')
          ? [opts.arch]
          : [opts.arch, 'all'];
      for (const component of source.components) {
        for (const arch of arches) {
          const rel = `${component}/binary-${arch}/Packages`;
          const what = `${source.uri} ${source.suite} ${rel}`;
          const plain = release.files.get(rel);
          const parsedKey = plain
            ? sha256(`${PARSED_FORMAT}\n${plain.sha256}\n${plain.size}\n${source.uri}`).slice(7)
            : undefined;
          let records = parsedKey ? await readParsed(store, cacheDir, parsedKey) : undefined;
          const fromCache = records !== undefined;
          if (!records && fromHost && hostDir) records = await hostIndex(hostDir, source, rel, release, what);
          const usedHost = !fromCache && records !== undefined;
          let url = `${source.uri}/dists/${source.suite}/${rel}`;
          if (!records) {
            const variant = ['.xz', '.gz', ''].map((s) => rel + s).find((p) => release.files.has(p));
            if (!variant) {
              throw new FromscratchError(
                'DEB_NOT_FOUND',
                `${source.uri} ${source.suite} has no ${rel} index`,
                {
                  hint: `check the component and architecture; the suite lists: ${release.architectures.join(' ') || 'no architectures'}`,
                },
              );
            }
            const f = release.files.get(variant)!;
            url = `${source.uri}/dists/${source.suite}/${variant}`;
            const digest = `sha256:${f.sha256}` as Digest;
            let bytes: Uint8Array | undefined;
            if (await store.has(digest, f.size)) {
              // a damaged or unreadable cached copy: downloaded again below
              bytes = await readBlob(store, digest, f.size, f.size).catch(() => undefined);
            }
            if (bytes === undefined) {
              opts.onProgress?.(`fetching ${url}`);
              bytes = await download(url, f.size, opts, () =>
                fetchBytes(url, { maxBytes: f.size, ...timeouts(opts), ...downloadHooks(url, opts) }),
              );
              await store
                .put(bytes, { digest, size: f.size })
                .catch((e) => withContext(`checking ${url} against InRelease`, e));
            }
            opts.onIndex?.(digest, f.size);
            records = await parseIndexBytes(
              bytes,
              compressionFromName(variant) ?? 'none',
              url,
              source.uri,
              release.files.get(rel),
            );
          }
          if (!fromCache && parsedKey) await writeParsed(store, cacheDir, parsedKey, records);
          all.push(...records);
          indexes.push({
            source,
            component,
            url,
            packages: records.length,
            fromHost: usedHost,
            fromCache,
            release: {
              ...(release.origin ? { origin: release.origin } : {}),
              ...(release.codename ? { codename: release.codename } : {}),
              ...(release.version ? { version: release.version } : {}),
            },
          });
        }
      }
    } catch (e) {
      withContext(`reading the index of ${source.uri} ${source.suite} (${source.from})`, e);
    }
  }
  return { ...indexPackages(all), indexes };
}
