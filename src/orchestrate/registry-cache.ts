/**
 * registry-cache.ts — the build cache in a registry (`--cache-from`, `--cache-to`), shared by builders
 * that share nothing else (CI runners on fresh machines, Kubernetes jobs).
 *
 * Format: one OCI image manifest per cache tag, `artifactType` {@link CACHE_ARTIFACT_TYPE}, whose config
 * blob ({@link CACHE_CONFIG_TYPE}) lists three kinds of entry and whose `layers` are every blob they name
 * (so the registry keeps them and garbage collection sees them), each entry with the time it was last
 * written or used:
 * - `entries`: a layer's *content key* (layer-cache.ts `layerContentKey`: what the tar bytes depend on,
 *   never host stat data) → the layer's descriptor and diffID;
 * - `results`: a computed result by kind and the key of the inputs that decide it (a closure by its roots,
 *   options, code and the content of every file it looked at, closure-memo.ts; a file's md5 by its
 *   SHA-256) → the value inline (base64, up to {@link INLINE_LIMIT} bytes) or as a blob
 *   ({@link CACHE_RESULT_TYPE});
 * - `blobs`: Debian package indexes and `.deb` files by their digest (what InRelease and the lockfile
 *   name), so a fresh machine resolves and unpacks packages without the mirror's copies.
 *
 * Import is lazy: only the config is read up front. A layer hit gives the layer's descriptor without its bytes; the blob is HEAD-checked in the
 * cache repository, pushes to the same registry mount it from there (blob-locations.ts), and it is
 * downloaded (verified by digest, size and diffID: lazyStore, registry/pull.ts fetchBlob) only when something reads it
 * (an OCI layout output, another registry). A cache that cannot be read, is corrupt, of another version
 * or names missing blobs is a warning; the build goes on cold. A result held in a blob is downloaded
 * when looked up and a `.deb` or index when read, each verified by digest and size (a bad one is a
 * warning and a miss).
 *
 * Export (read-modify-write): the previous export of the tag is read, merged with this build's entries
 * (newest first), bounded ({@link MAX_ENTRIES} entries, {@link MAX_AGE_MS} old), every blob made present
 * in the cache repository first (HEAD, mount, upload), then the config blob, then the manifest is PUT:
 * one atomic tag update. Two writers racing on a tag each PUT a complete manifest whose blobs are
 * present, so the tag always names a complete cache (the last PUT wins; entries only the loser added are
 * lost, never half-written). Unlike BuildKit's `mode=max` export, which rewrites the whole graph of every
 * build and grows without bound, entries here are per layer, deduplicated by key and dropped by age and
 * count.
 */
import pLimit from 'p-limit';
import { CacheEntryRemoved } from '../blob/dir-store.ts';
import { memoryStore } from '../blob/memory-store.ts';
import { type BlobStore, readBlob } from '../blob/store.ts';
import { verifyStream } from '../blob/verify.ts';
import { FromscratchError, isFromscratchError } from '../errors.ts';
import type { Layer } from '../image/image.ts';
import type { Descriptor } from '../model/descriptor.ts';
import { type Digest, isDigest, sha256 } from '../model/digest.ts';
import { MediaType } from '../model/media-type.ts';
import { verifyLayerStream } from '../oci/diff-id.ts';
import { parseImageRef } from '../oci/transport.ts';
import { createRegistryClient, type RegistryClient, type RegistryClientOptions } from '../registry/client.ts';
import { fetchBlob, fetchManifest } from '../registry/pull.ts';
import { pushBlob, pushManifest } from '../registry/push.ts';
import { parseReference, type Reference } from '../registry/reference.ts';
import type { BlobLocations } from './blob-locations.ts';

/** CACHE_ARTIFACT_TYPE is the artifactType of a cache manifest; a change of format is a new version. */
export const CACHE_ARTIFACT_TYPE = 'application/vnd.fromscratch.cache.v2+json';
/** CACHE_CONFIG_TYPE is the media type of the config blob that lists the entries. */
export const CACHE_CONFIG_TYPE = 'application/vnd.fromscratch.cache.config.v2+json';
/** CACHE_RESULT_TYPE is the media type of a result too large to sit in the config */
export const CACHE_RESULT_TYPE = 'application/vnd.fromscratch.cache.result.v1+json';
/** the media types of package files in the manifest's `layers` */
const BLOB_TYPES = {
  deb: 'application/vnd.debian.binary-package',
  index: 'application/octet-stream',
} as const;
/** results up to this many bytes sit in the config (base64); larger ones are blobs */
export const INLINE_LIMIT = 512;
/** MAX_RESULTS bounds the results an export keeps (the least recently used are dropped) */
export const MAX_RESULTS = 4096;
/** MAX_BLOBS bounds the package files an export keeps */
export const MAX_BLOBS = 1024;
/** a result blob is refused past this size */
const RESULT_LIMIT = 64 * 1024 * 1024;
/** the tag used when a cache reference names none */
export const DEFAULT_CACHE_TAG = 'fromscratch-cache';
/** MAX_ENTRIES bounds an export: the entries used longest ago are dropped past it */
export const MAX_ENTRIES = 512;
/** MAX_AGE_MS drops entries neither written nor used for 14 days */
export const MAX_AGE_MS = 14 * 24 * 3600 * 1000;
const CONFIG_LIMIT = 8 * 1024 * 1024;
const LAYER_TYPES = new Set<string>([
  MediaType.OciLayerGzip,
  MediaType.OciLayerZstd,
  MediaType.OciLayer,
  MediaType.DockerLayerGzip,
]);

/** CacheEntry is one cached layer. */
export interface CacheEntry {
  /** layerContentKey of the layer's tree (64 hex) */
  readonly key: string;
  readonly digest: Digest;
  readonly size: number;
  readonly mediaType: string;
  readonly diffId: Digest;
  /** when the entry was last exported by a build that wrote or used it (RFC 3339) */
  readonly used: string;
}

/** ResultEntry is one cached result: its value inline or in a blob. */
export interface ResultEntry {
  /** what was computed (`closure`, `md5` …) */
  readonly kind: string;
  /** the hash of the inputs that decide it (64 hex) */
  readonly key: string;
  /** base64 of a small value */
  readonly value?: string;
  readonly digest?: Digest;
  readonly size?: number;
  readonly used: string;
}

/** BlobEntry is one cached package file, named by its digest. */
export interface BlobEntry {
  readonly kind: 'deb' | 'index';
  readonly digest: Digest;
  readonly size: number;
  readonly used: string;
}

/** CacheDoc is what a cache config lists. */
export interface CacheDoc {
  readonly entries: CacheEntry[];
  readonly results: ResultEntry[];
  readonly blobs: BlobEntry[];
}

/** CacheLogger receives notes and warnings. */
export interface CacheLogger {
  info(message: string): void;
  warn(message: string): void;
}

/** RegistryCacheOptions configures openRegistryCache. */
export interface RegistryCacheOptions {
  /** references to import from (`docker://HOST/REPO[:TAG]` or `HOST/REPO[:TAG]`) */
  readonly from: readonly string[];
  /** reference to export to after the build (also imported from) */
  readonly to?: string;
  /** the build's store: imported blobs are downloaded into it when read */
  readonly store: BlobStore;
  readonly registry?: RegistryClientOptions;
  /** pushes mount imported blobs from the cache repository through it */
  readonly blobLocations?: BlobLocations;
  readonly log: CacheLogger;
  /** most entries an export keeps (default {@link MAX_ENTRIES}) */
  readonly maxEntries?: number;
  /** clock in ms (tests) */
  readonly now?: () => number;
}

/** RegistryCache is an opened registry cache: lookups during the build, export after it. */
export interface RegistryCache {
  /** the build's store, which also serves imported blobs (downloaded on first read) */
  readonly store: BlobStore;
  /** a layer cached under `key` whose blob is present in its cache repository, or undefined */
  lookup(key: string): Promise<Layer | undefined>;
  /** notes a layer of this build under its content key, for the export */
  record(key: string, layer: Layer): void;
  /** the result of `kind` cached under `key` (a blob is downloaded and verified), or undefined */
  result(kind: string, key: string): Promise<Uint8Array | undefined>;
  /** notes a result of this build for the export (a function is called only when exporting) */
  recordResult(kind: string, key: string, value: Uint8Array | (() => Promise<Uint8Array>)): void;
  /**
   * `base` (the local package cache) plus the `.deb` files and indexes the caches hold: has() is true
   * for one present in its cache repository, open() downloads it into `base` (verified) when first read
   */
  packageStore(base: BlobStore): BlobStore;
  /** notes a `.deb` or index this build used (its bytes readable from `store`), for the export */
  recordBlob(kind: 'deb' | 'index', digest: Digest, size: number, store: BlobStore): void;
  /** writes the merged cache to `to` (nothing without `to`); throws CACHE_UNAVAILABLE */
  export(): Promise<
    { reference: string; digest: Digest; entries: number; results: number; blobs: number } | undefined
  >;
  /** layers found in the registry cache so far */
  readonly hits: number;
  close(): void;
}

interface Source {
  readonly text: string;
  readonly ref: Reference;
  readonly client: RegistryClient;
}

interface RemoteBlob {
  readonly source: Source;
  readonly desc: Descriptor;
  /**
   * the entry's diffID when it is a layer: a download is checked against it (decompressed with the layer
   * limits); a package file (.deb, index) is checked by digest and size only
   */
  readonly diffId?: Digest;
}

/** parseCacheRef turns a --cache-from/--cache-to value into a registry reference (tag defaulted). */
export function parseCacheRef(text: string, flag: string): Reference {
  let ref: Reference;
  try {
    const r = parseImageRef(
      text.includes('://') || /^(oci|oci-archive|docker-archive|docker-daemon):/.test(text)
        ? text
        : `docker://${text}`,
    );
    if (r.kind !== 'registry') throw new Error('not a registry');
    ref = parseReference(r.reference);
  } catch (e) {
    throw new FromscratchError(
      'USAGE',
      `${flag} ${JSON.stringify(text)} does not name a registry repository`,
      {
        hint: `give ${flag} docker://HOST/REPO[:TAG], e.g. docker://registry.example:5000/team/cache:main`,
        cause: e,
      },
    );
  }
  if (ref.digest !== undefined)
    throw new FromscratchError('USAGE', `${flag} ${JSON.stringify(text)} names a digest, not a tag`, {
      hint: 'a cache is updated in place: name it by tag, e.g. docker://HOST/REPO:buildcache',
    });
  // parseReference defaults the tag to `latest`: a cache named without one gets its own default
  const named = text
    .replace(/^docker:\/\//, '')
    .split('/')
    .slice(1)
    .join('/');
  return ref.tag === undefined || !named.includes(':') ? { ...ref, tag: DEFAULT_CACHE_TAG } : ref;
}

function refText(r: Reference): string {
  return `${r.registry}/${r.repository}:${r.tag}`;
}

/**
 * cache blobs a registry served with the wrong bytes in this process (`REGISTRY/REPO@DIGEST`): never
 * offered again, so that the command, run again (retryAfterCacheHeal), builds those layers itself
 */
const corruptRemote = new Set<string>();
const remoteKey = (s: Source, d: Digest) => `${s.ref.registry}/${s.ref.repository}@${d}`;
/** errors of a download that make a cache entry unusable (the layer is built instead) */
const CORRUPT_ENTRY = new Set(['DIGEST_MISMATCH', 'SIZE_MISMATCH', 'TOO_LARGE', 'INVALID_COMPRESSION']);

/**
 * parseCacheConfig checks a cache config against the blobs its manifest lists (`digest:size`); throws a
 * message (string) when it is unusable. Entries whose blob the manifest does not list are left out (the
 * registry keeps only listed blobs), and so are duplicates.
 */
export function parseCacheConfig(bytes: Uint8Array, layers: ReadonlySet<string>): CacheDoc {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw 'its config is not JSON';
  }
  const d = doc as { version?: unknown; entries?: unknown; results?: unknown; blobs?: unknown };
  if (typeof doc !== 'object' || doc === null || d.version !== 2 || !Array.isArray(d.entries))
    throw `its config is not version 2 (version ${JSON.stringify(d?.version ?? null)})`;
  const results = d.results ?? [];
  const blobs = d.blobs ?? [];
  if (!Array.isArray(results) || !Array.isArray(blobs)) throw 'its config is malformed';
  const isTime = (t: unknown) => typeof t === 'string' && !Number.isNaN(Date.parse(t));
  const isSize = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  const isKey = (k: unknown) => typeof k === 'string' && /^[0-9a-f]{64}$/.test(k);
  const out: CacheDoc = { entries: [], results: [], blobs: [] };
  const seen = new Set<string>();
  for (const v of d.entries.slice(0, MAX_ENTRIES * 2)) {
    const e = v as Partial<CacheEntry>;
    if (
      !isKey(e?.key) ||
      !isDigest(e.digest) ||
      !isDigest(e.diffId) ||
      !isSize(e.size) ||
      typeof e.mediaType !== 'string' ||
      !LAYER_TYPES.has(e.mediaType) ||
      !isTime(e.used)
    )
      throw 'an entry is malformed';
    // only blobs the manifest lists are kept alive by the registry
    if (!layers.has(`${e.digest}:${e.size}`) || seen.has(`layer ${e.key}`)) continue;
    seen.add(`layer ${e.key}`);
    out.entries.push({
      key: e.key as string,
      digest: e.digest,
      size: e.size as number,
      mediaType: e.mediaType,
      diffId: e.diffId,
      used: e.used as string,
    });
  }
  for (const v of results.slice(0, MAX_RESULTS * 2)) {
    const r = v as Partial<ResultEntry>;
    const inline = typeof r?.value === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(r.value);
    const blob = isDigest(r?.digest) && isSize(r.size);
    if (
      typeof r?.kind !== 'string' ||
      !/^[a-z][a-z0-9-]{0,31}$/.test(r.kind) ||
      !isKey(r.key) ||
      inline === blob ||
      (inline && (r.value as string).length > INLINE_LIMIT * 2) ||
      !isTime(r.used)
    )
      throw 'a result is malformed';
    if ((blob && !layers.has(`${r.digest}:${r.size}`)) || seen.has(`result ${r.kind} ${r.key}`)) continue;
    seen.add(`result ${r.kind} ${r.key}`);
    out.results.push(
      inline
        ? { kind: r.kind, key: r.key as string, value: r.value as string, used: r.used as string }
        : {
            kind: r.kind,
            key: r.key as string,
            digest: r.digest as Digest,
            size: r.size as number,
            used: r.used as string,
          },
    );
  }
  for (const v of blobs.slice(0, MAX_BLOBS * 2)) {
    const b = v as Partial<BlobEntry>;
    if (
      (b?.kind !== 'deb' && b?.kind !== 'index') ||
      !isDigest(b.digest) ||
      !isSize(b.size) ||
      !isTime(b.used)
    )
      throw 'a package file entry is malformed';
    if (!layers.has(`${b.digest}:${b.size}`) || seen.has(`blob ${b.digest}`)) continue;
    seen.add(`blob ${b.digest}`);
    out.blobs.push({ kind: b.kind, digest: b.digest, size: b.size as number, used: b.used as string });
  }
  return out;
}

/** unreachable tells a registry that cannot be spoken to from a cache that is bad. */
function isUnreachable(e: unknown): boolean {
  return (
    isFromscratchError(e) &&
    (e.code === 'NETWORK_ERROR' ||
      e.code === 'TIMEOUT' ||
      e.code === 'REGISTRY_UNAUTHORIZED' ||
      (e.code === 'REGISTRY_ERROR' && ((e as { status?: number }).status ?? 500) >= 500))
  );
}

type ReadOutcome =
  | { readonly kind: 'ok'; readonly doc: CacheDoc }
  | { readonly kind: 'absent' }
  | { readonly kind: 'bad'; readonly why: string }
  | { readonly kind: 'unreachable'; readonly error: unknown };

/** readCache reads the cache at a tag: its entries, or why there are none. */
async function readCache(s: Source): Promise<ReadOutcome> {
  let m: Awaited<ReturnType<typeof fetchManifest>>;
  try {
    m = await fetchManifest(s.client, s.ref.repository, s.ref.tag!);
  } catch (e) {
    if (isFromscratchError(e, 'IMAGE_NOT_FOUND')) return { kind: 'absent' };
    if (isUnreachable(e)) return { kind: 'unreachable', error: e };
    return { kind: 'bad', why: isFromscratchError(e) ? e.message : String(e) };
  }
  let doc: {
    artifactType?: unknown;
    config?: { mediaType?: unknown; digest?: unknown; size?: unknown };
    layers?: unknown;
  };
  try {
    doc = JSON.parse(new TextDecoder().decode(m.bytes));
  } catch {
    return { kind: 'bad', why: 'its manifest is not JSON' };
  }
  if (doc?.artifactType !== CACHE_ARTIFACT_TYPE) {
    const t = typeof doc?.artifactType === 'string' ? doc.artifactType : '(none)';
    return {
      kind: 'bad',
      why: t.startsWith('application/vnd.fromscratch.cache.')
        ? `it is another version of the cache format (${t}; this fromscratch reads ${CACHE_ARTIFACT_TYPE})`
        : `it is not a fromscratch cache (artifactType ${t})`,
    };
  }
  const c = doc.config;
  if (
    c?.mediaType !== CACHE_CONFIG_TYPE ||
    !isDigest(c.digest) ||
    !Number.isSafeInteger(c.size) ||
    (c.size as number) > CONFIG_LIMIT ||
    !Array.isArray(doc.layers) ||
    doc.layers.length > (MAX_ENTRIES + MAX_RESULTS + MAX_BLOBS) * 2
  )
    return { kind: 'bad', why: 'its manifest does not describe a cache config' };
  const layers = new Set<string>();
  for (const l of doc.layers as { digest?: unknown; size?: unknown }[])
    if (isDigest(l?.digest) && Number.isSafeInteger(l.size)) layers.add(`${l.digest}:${l.size}`);
  const tmp = memoryStore();
  const desc = { mediaType: CACHE_CONFIG_TYPE, digest: c.digest, size: c.size as number } as Descriptor;
  try {
    await fetchBlob(s.client, s.ref.repository, desc, tmp);
    return {
      kind: 'ok',
      doc: parseCacheConfig(await readBlob(tmp, desc.digest, desc.size, CONFIG_LIMIT), layers),
    };
  } catch (e) {
    if (typeof e === 'string') return { kind: 'bad', why: e };
    if (isUnreachable(e)) return { kind: 'unreachable', error: e };
    return { kind: 'bad', why: isFromscratchError(e) ? `its config: ${e.message}` : String(e) };
  }
}

/**
 * openRegistryCache reads every `from` cache (and `to`'s previous export) and returns the lookups for
 * the build. A `from` cache that cannot be read is a warning; `to` unreachable is CACHE_UNAVAILABLE
 * (before anything is built), a `to` cache that is bad is a warning (the export starts afresh).
 */
export async function openRegistryCache(o: RegistryCacheOptions): Promise<RegistryCache> {
  const now = o.now ?? Date.now;
  const clients = new Map<string, RegistryClient>();
  const source = (text: string, flag: string): Source => {
    const ref = parseCacheRef(text, flag);
    let client = clients.get(ref.registry);
    if (!client) {
      client = createRegistryClient(ref, o.registry);
      clients.set(ref.registry, client);
    }
    return { text, ref, client };
  };
  const froms = o.from.map((t) => source(t, '--cache-from'));
  const to = o.to === undefined ? undefined : source(o.to, '--cache-to');
  const known = new Map<string, { entry: CacheEntry; source: Source }>();
  const knownResults = new Map<string, { entry: ResultEntry; source: Source }>();
  const knownBlobs = new Map<Digest, { entry: BlobEntry; source: Source }>();
  let previous: CacheDoc = { entries: [], results: [], blobs: [] };
  const all = [...froms, ...(to && !froms.some((f) => refText(f.ref) === refText(to.ref)) ? [to] : [])];
  const outcomes = await Promise.all(all.map((s) => readCache(s)));
  const young = (e: { used: string }) => now() - Date.parse(e.used) <= MAX_AGE_MS;
  for (const [i, s] of all.entries()) {
    const r = outcomes[i]!;
    const name = refText(s.ref);
    const isTo = to !== undefined && refText(to.ref) === name;
    if (r.kind === 'unreachable') {
      const msg = isFromscratchError(r.error) ? r.error.message : String(r.error);
      if (isTo) {
        for (const c of clients.values()) c.close();
        throw new FromscratchError(
          'CACHE_UNAVAILABLE',
          `--cache-to ${name}: cannot read the registry: ${msg}`,
          {
            hint: 'check that the registry is reachable and that your credentials may push there (docker login / REGISTRY_AUTH_FILE)',
            cause: r.error,
          },
        );
      }
      o.log.warn(`cache ${name} not used (building without it): ${msg}`);
      continue;
    }
    if (r.kind === 'absent') {
      if (!isTo || froms.some((f) => refText(f.ref) === name))
        o.log.info(`cache ${name}: no cache there yet`);
      continue;
    }
    if (r.kind === 'bad') {
      o.log.warn(`cache ${name} ignored (building without it): ${r.why}`);
      continue;
    }
    const fresh: CacheDoc = {
      entries: r.doc.entries.filter(young),
      results: r.doc.results.filter(young),
      blobs: r.doc.blobs.filter(young),
    };
    if (isTo) previous = fresh;
    for (const e of fresh.entries) if (!known.has(e.key)) known.set(e.key, { entry: e, source: s });
    for (const e of fresh.results) {
      const k = `${e.kind} ${e.key}`;
      if (!knownResults.has(k)) knownResults.set(k, { entry: e, source: s });
    }
    for (const e of fresh.blobs)
      if (!knownBlobs.has(e.digest)) knownBlobs.set(e.digest, { entry: e, source: s });
    o.log.info(
      `cache ${name}: ${fresh.entries.length} layer(s), ${fresh.results.length} result(s), ${fresh.blobs.length} package file(s)`,
    );
  }

  const remote = new Map<Digest, RemoteBlob>();
  const present = new Map<string, Promise<boolean>>();
  const recorded = new Map<string, Layer>();
  const recordedResults = new Map<
    string,
    { kind: string; key: string; value: Uint8Array | (() => Promise<Uint8Array>) }
  >();
  const recordedBlobs = new Map<Digest, { kind: 'deb' | 'index'; size: number; store: BlobStore }>();
  let hits = 0;
  const warned = new Set<string>();
  const warnOnce = (k: string, message: string) => {
    if (warned.has(k)) return;
    warned.add(k);
    o.log.warn(message);
  };
  const blobPresent = (s: Source, d: Descriptor): Promise<boolean> => {
    const k = `${refText(s.ref)}@${d.digest}`;
    let p = present.get(k);
    if (!p) {
      p = (async () => {
        try {
          const res = await s.client.request({
            method: 'HEAD',
            url: `/v2/${s.ref.repository}/blobs/${d.digest}`,
            scopes: [`repository:${s.ref.repository}:pull`],
            doing: `checking cached blob ${d.digest} in ${s.ref.registry}/${s.ref.repository}`,
          });
          res.discard();
          const len = Number(res.header('content-length'));
          return res.status === 200 && (!Number.isFinite(len) || len === d.size);
        } catch {
          return false;
        }
      })();
      present.set(k, p);
    }
    return p;
  };
  const missing = (s: Source, d: Digest, what: string) =>
    warnOnce(
      `missing ${refText(s.ref)}`,
      `warning: cache ${refText(s.ref)} names blob ${d}, which its repository does not hold: that ${what} is built cold`,
    );

  const store = lazyStore(o.store, remote);
  const packageRemote = new Map<Digest, RemoteBlob>();
  return {
    store,
    get hits() {
      return hits;
    },
    async lookup(key) {
      const k = known.get(key);
      if (!k) return undefined;
      const e = k.entry;
      const desc = { mediaType: e.mediaType, digest: e.digest, size: e.size } as Descriptor;
      if (!(await o.store.has(e.digest, e.size))) {
        if (corruptRemote.has(remoteKey(k.source, e.digest))) return undefined;
        if (!(await blobPresent(k.source, desc))) {
          missing(k.source, e.digest, 'layer');
          return undefined;
        }
        // A hit is taken without its bytes (issue 15). Is that sound? For the digest, yes: the registry
        // checked it when the bytes were uploaded (distribution-spec: a PUT whose content does not match
        // `?digest=` is refused, DIGEST_INVALID), and a push to the same registry HEADs or mounts that
        // very content-addressed blob, so no bytes travel that could differ from the digest the manifest
        // names. The size was checked just above against HEAD's Content-Length (taken from the cache
        // config only when a registry omits that header; distribution always sends it). Whatever does
        // read the bytes (a layout or archive output, another registry) reads them through lazyStore,
        // which verifies digest, size and diffID on the way in. What stays unchecked without bytes is the
        // entry's diffID; checking it would mean downloading and decompressing every layer, the work a
        // mount avoids, and a wrong one cannot pass unseen: every puller (containerd, docker, umoci, our
        // readers) recomputes diff_ids on unpack and refuses a mismatch. The trust that remains is in the
        // cache repository itself: whoever can push there can map a key to a well-formed layer of other
        // content, which no digest check detects; give --cache-from only repositories trusted as much as
        // the build's outputs.
        remote.set(e.digest, { source: k.source, desc, diffId: e.diffId });
        o.blobLocations?.note(k.source.ref.registry, k.source.ref.repository, e.digest);
      }
      hits++;
      return { blob: desc, diffId: e.diffId };
    },
    record(key, layer) {
      recorded.set(key, layer);
    },
    async result(kind, key) {
      const mine = recordedResults.get(`${kind} ${key}`)?.value;
      if (mine instanceof Uint8Array) return mine;
      const k = knownResults.get(`${kind} ${key}`);
      if (!k) return undefined;
      const e = k.entry;
      let value: Uint8Array;
      if (e.value !== undefined) value = new Uint8Array(Buffer.from(e.value, 'base64'));
      else {
        const desc = { mediaType: CACHE_RESULT_TYPE, digest: e.digest!, size: e.size! } as Descriptor;
        if (!(await blobPresent(k.source, desc))) {
          missing(k.source, e.digest!, `${kind} result`);
          return undefined;
        }
        try {
          const tmp = memoryStore();
          await fetchBlob(k.source.client, k.source.ref.repository, desc, tmp);
          value = await readBlob(tmp, desc.digest, desc.size, RESULT_LIMIT);
        } catch (err) {
          warnOnce(
            `bad ${e.digest}`,
            `warning: cache ${refText(k.source.ref)}: ${kind} result ${e.digest} not used (computed again): ${isFromscratchError(err) ? err.message : String(err)}`,
          );
          return undefined;
        }
      }
      recordedResults.set(`${kind} ${key}`, { kind, key, value });
      return value;
    },
    recordResult(kind, key, value) {
      recordedResults.set(`${kind} ${key}`, { kind, key, value });
    },
    packageStore(base) {
      const lazy = lazyStore(base, packageRemote);
      return {
        ...lazy,
        async has(d, size) {
          if (await base.has(d, size)) return true;
          const k = knownBlobs.get(d);
          if (!k || (size !== undefined && k.entry.size !== size)) return false;
          const desc = { mediaType: BLOB_TYPES[k.entry.kind], digest: d, size: k.entry.size } as Descriptor;
          if (!(await blobPresent(k.source, desc))) {
            missing(k.source, d, 'package file');
            return false;
          }
          packageRemote.set(d, { source: k.source, desc });
          return true;
        },
        open(d, size) {
          const k = knownBlobs.get(d);
          return (async function* () {
            try {
              yield* lazy.open(d, size);
            } catch (err) {
              if (k && !isFromscratchError(err, 'BLOB_NOT_FOUND'))
                warnOnce(
                  `bad ${d}`,
                  `warning: cache ${refText(k.source.ref)}: package file ${d} not used: ${isFromscratchError(err) ? err.message : String(err)}`,
                );
              throw err;
            }
          })();
        },
      };
    },
    recordBlob(kind, digest, size, from) {
      recordedBlobs.set(digest, { kind, size, store: from });
    },
    async export() {
      if (!to) return undefined;
      const name = refText(to.ref);
      const stamp = new Date(now()).toISOString();
      const merged = new Map<string, CacheEntry>();
      for (const [key, l] of recorded) {
        merged.set(key, {
          key,
          digest: l.blob.digest,
          size: l.blob.size,
          mediaType: l.blob.mediaType,
          diffId: l.diffId,
          used: stamp,
        });
      }
      // the previous export, re-read now: another writer may have exported since the build began
      const latest = await readCache(to);
      if (latest.kind === 'unreachable')
        throw new FromscratchError('CACHE_UNAVAILABLE', `--cache-to ${name}: cannot read the registry`, {
          hint: 'check that the registry is reachable',
          cause: latest.error,
        });
      const prev = latest.kind === 'ok' ? latest.doc : previous;
      for (const e of prev.entries) if (!merged.has(e.key) && young(e)) merged.set(e.key, e);
      const newestFirst = <T extends { used: string }>(xs: Iterable<T>, id: (x: T) => string, max: number) =>
        [...xs]
          .sort((a, b) => (a.used < b.used ? 1 : a.used > b.used ? -1 : id(a) < id(b) ? -1 : 1))
          .slice(0, max);
      const entries = newestFirst(merged.values(), (e) => e.key, o.maxEntries ?? MAX_ENTRIES);
      // this build's results: small ones inline, larger ones as blobs pushed below
      const mergedResults = new Map<string, ResultEntry & { bytes?: Uint8Array }>();
      for (const [k, rec] of recordedResults) {
        let value: Uint8Array;
        try {
          value = rec.value instanceof Uint8Array ? rec.value : await rec.value();
        } catch {
          continue; // a result that cannot be encoded (a file gone since) is left out
        }
        const r = { ...rec, value };
        mergedResults.set(
          k,
          r.value.byteLength <= INLINE_LIMIT
            ? { kind: r.kind, key: r.key, value: Buffer.from(r.value).toString('base64'), used: stamp }
            : {
                kind: r.kind,
                key: r.key,
                digest: sha256(r.value),
                size: r.value.byteLength,
                used: stamp,
                bytes: r.value,
              },
        );
      }
      for (const r of prev.results)
        if (!mergedResults.has(`${r.kind} ${r.key}`) && young(r)) mergedResults.set(`${r.kind} ${r.key}`, r);
      const results = newestFirst(mergedResults.values(), (r) => `${r.kind} ${r.key}`, MAX_RESULTS);
      const mergedBlobs = new Map<Digest, BlobEntry>();
      for (const [digest, b] of recordedBlobs)
        mergedBlobs.set(digest, { kind: b.kind, digest, size: b.size, used: stamp });
      for (const b of prev.blobs) if (!mergedBlobs.has(b.digest) && young(b)) mergedBlobs.set(b.digest, b);
      const blobs = newestFirst(mergedBlobs.values(), (b) => b.digest, MAX_BLOBS);

      // blobs first: each entry's blob present in the cache repository (HEAD, mount, upload); an entry
      // of an earlier export whose blob is gone is dropped
      const limit = pLimit(4);
      const ensure = (
        desc: Descriptor,
        mine: boolean,
        source: (() => AsyncIterable<Uint8Array>) | Uint8Array | undefined,
        what: string,
      ): Promise<boolean> =>
        limit(async () => {
          if (!mine && (await blobPresent(to, desc))) return true;
          if (source === undefined) return false;
          const from = o.blobLocations?.find(to.ref.registry, desc.digest, to.ref.repository);
          try {
            await pushBlob(to.client, to.ref.repository, desc, source, {
              ...(from !== undefined ? { mountFrom: from } : {}),
            });
          } catch (err) {
            // an entry of an earlier export, or a result or package file, whose blob cannot be had is dropped
            if (!isUnreachable(err) && (!mine || what !== 'layer')) return false;
            throw new FromscratchError(
              'CACHE_UNAVAILABLE',
              `--cache-to ${name}: cannot push ${what} ${desc.digest}: ${isFromscratchError(err) ? err.message : String(err)}`,
              {
                hint: 'check that the registry is reachable and that your credentials may push there',
                cause: err,
              },
            );
          }
          o.blobLocations?.note(to.ref.registry, to.ref.repository, desc.digest);
          return true;
        });
      const keptEntries = entries.map(async (e) => {
        const desc = { mediaType: e.mediaType, digest: e.digest, size: e.size } as Descriptor;
        const mine = recorded.has(e.key);
        const readable = mine || (await store.has(e.digest, e.size));
        return (await ensure(desc, mine, readable ? () => store.open(e.digest, e.size) : undefined, 'layer'))
          ? e
          : undefined;
      });
      const keptResults = results.map(async (r) => {
        if (r.value !== undefined) return r;
        const desc = { mediaType: CACHE_RESULT_TYPE, digest: r.digest!, size: r.size! } as Descriptor;
        const bytes = (r as { bytes?: Uint8Array }).bytes;
        const { kind, key, digest, size, used } = r;
        return (await ensure(desc, bytes !== undefined, bytes, 'result'))
          ? ({ kind, key, digest, size, used } as ResultEntry)
          : undefined;
      });
      const keptBlobs = blobs.map(async (b) => {
        const desc = { mediaType: BLOB_TYPES[b.kind], digest: b.digest, size: b.size } as Descriptor;
        const mine = recordedBlobs.get(b.digest);
        return (await ensure(
          desc,
          mine !== undefined,
          mine ? () => mine.store.open(b.digest, b.size) : undefined,
          'package file',
        ))
          ? b
          : undefined;
      });
      const defined = <T>(xs: (T | undefined)[]) => xs.filter((x): x is T => x !== undefined);
      const doc: CacheDoc = {
        entries: defined(await Promise.all(keptEntries)),
        results: defined(await Promise.all(keptResults)),
        blobs: defined(await Promise.all(keptBlobs)),
      };
      const config = new TextEncoder().encode(JSON.stringify({ version: 2, ...doc }));
      const configDesc = { mediaType: CACHE_CONFIG_TYPE, digest: sha256(config), size: config.byteLength };
      const layers = new Map<Digest, { mediaType: string; digest: Digest; size: number }>();
      for (const e of doc.entries)
        layers.set(e.digest, { mediaType: e.mediaType, digest: e.digest, size: e.size });
      for (const r of doc.results)
        if (r.digest !== undefined)
          layers.set(r.digest, { mediaType: CACHE_RESULT_TYPE, digest: r.digest, size: r.size! });
      for (const b of doc.blobs)
        layers.set(b.digest, { mediaType: BLOB_TYPES[b.kind], digest: b.digest, size: b.size });
      const manifest = new TextEncoder().encode(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.OciManifest,
          artifactType: CACHE_ARTIFACT_TYPE,
          config: configDesc,
          layers: [...layers.values()],
          annotations: { 'org.opencontainers.image.created': stamp },
        }),
      );
      const digest = sha256(manifest);
      try {
        await pushBlob(to.client, to.ref.repository, configDesc as Descriptor, config);
        // the one atomic step: the tag moves to a manifest whose every blob is present
        await pushManifest(
          to.client,
          to.ref.repository,
          to.ref.tag!,
          manifest,
          MediaType.OciManifest,
          digest,
        );
      } catch (err) {
        throw new FromscratchError(
          'CACHE_UNAVAILABLE',
          `--cache-to ${name}: cannot push the cache manifest: ${isFromscratchError(err) ? err.message : String(err)}`,
          {
            hint: 'check that the registry is reachable and that your credentials may push there',
            cause: err,
          },
        );
      }
      return {
        reference: `${name}@${digest}`,
        digest,
        entries: doc.entries.length,
        results: doc.results.length,
        blobs: doc.blobs.length,
      };
    },
    close() {
      for (const c of clients.values()) c.close();
    },
  };
}

/**
 * lazyStore is `base` plus the blobs of `remote`: has() is true for them, open() downloads one into
 * `base` (verified, once) the first time it is read.
 */
function lazyStore(base: BlobStore, remote: ReadonlyMap<Digest, RemoteBlob>): BlobStore {
  const fetching = new Map<Digest, Promise<void>>();
  const ensure = async (d: Digest): Promise<void> => {
    const r = remote.get(d);
    if (!r || (await base.has(d, r.desc.size))) return;
    let p = fetching.get(d);
    if (!p) {
      // the download is decompressed on the side (layer limits: a bomb is TOO_LARGE) and its tar checked
      // against the entry's diffID, so that a damaged or hostile cache entry never reaches an output
      const diffId = r.diffId;
      const what = `${diffId ? 'layer' : 'package file'} ${d} of the registry cache ${refText(r.source.ref)}`;
      const checking: BlobStore = {
        // digest first (verifyStream), so that a damaged blob is a digest mismatch, not a gzip error (B3)
        put: (data, expected) => {
          const verified = verifyStream(data instanceof Uint8Array ? [data] : data, r.desc);
          return base.put(
            diffId ? verifyLayerStream(verified, { blob: r.desc, diffId }, what) : verified,
            expected,
          );
        },
        has: (x, size) => base.has(x, size),
        open: (x, size) => base.open(x, size),
        size: (x) => base.size(x),
      };
      p = fetchBlob(r.source.client, r.source.ref.repository, r.desc, checking).catch((e: unknown) => {
        if (!isFromscratchError(e) || !CORRUPT_ENTRY.has(e.code)) throw e;
        // a corrupt cache layer is a cache miss: dropped for this process, the command runs again
        corruptRemote.add(remoteKey(r.source, d));
        throw new CacheEntryRemoved(
          e.code,
          `${e.message} (${e.message.includes(what) ? '' : `${what}, `}not used: built instead)`,
          {
            hint: `the registry cache holds a damaged ${diffId ? 'layer' : 'package file'}; export the cache again (--cache-to)`,
            cause: e,
          },
        );
      });
      fetching.set(d, p);
      p.catch(() => fetching.delete(d));
    }
    await p;
  };
  return {
    put: (data, expected) => base.put(data, expected),
    async has(d, size) {
      if (await base.has(d, size)) return true;
      const r = remote.get(d);
      return r !== undefined && (size === undefined || r.desc.size === size);
    },
    open(d, size) {
      return (async function* () {
        await ensure(d);
        yield* base.open(d, size);
      })();
    },
    async size(d) {
      const r = remote.get(d);
      if (r && !(await base.has(d))) return r.desc.size;
      return base.size(d);
    },
    ...(base.trustedPathOf ? { trustedPathOf: (d: Digest) => base.trustedPathOf!(d) } : {}),
    ...(base.verifiedHere ? { verifiedHere: (d: Digest) => base.verifiedHere!(d) } : {}),
  };
}
