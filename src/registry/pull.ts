/**
 * pull.ts — read images from a registry into a BlobStore, trusting nothing the registry says:
 * manifest digests are computed here and compared with the requested digest and with any
 * `Docker-Content-Digest` (RELIABILITY §1.2, E5), documents are parsed strictly (D1, D2, D4, D5),
 * indexes are capped in size and nesting (D8), every blob is verified by digest and size while it
 * streams into the store, and interrupted downloads resume with `Range` only on an exact `206` (E3).
 * Descriptor `urls` are never fetched (D6).
 */
import pLimit from 'p-limit';
import type { BlobStore } from '../blob/store.ts';
import { readBlob } from '../blob/store.ts';
import { FromscratchError, isFromscratchError } from '../errors.ts';
import { type Image, withDocuments } from '../image/image.ts';
import type { Descriptor } from '../model/descriptor.ts';
import { type Digest, isDigest, sha256 } from '../model/digest.ts';
import type { ImageIndex, ImageManifest } from '../model/documents.ts';
import {
  DEFAULT_JSON_LIMIT,
  parseImageConfig,
  parseImageIndex,
  parseImageManifest,
  parseJsonStrict,
} from '../model/json.ts';
import { isIndexMediaType, isManifestMediaType, MediaType } from '../model/media-type.ts';
import { formatPlatform, hostPlatform, type Platform, platformMatches } from '../model/platform.ts';
import { formatBytes, startTask } from '../model/progress.ts';
import { artifactAmong } from '../oci/image-set.ts';
import { toImage } from '../oci/to-image.ts';
import { createRegistryClient, type RegistryClient, type RegistryClientOptions } from './client.ts';
import { isTransportError, readBodyLimited } from './http.ts';
import { formatReference, parseReference, type Reference, referrersTag } from './reference.ts';

/** MANIFEST_ACCEPT lists the manifest media types fromscratch understands, for the Accept header. */
export const MANIFEST_ACCEPT = [
  MediaType.OciIndex,
  MediaType.OciManifest,
  MediaType.DockerManifestList,
  MediaType.DockerManifest,
].join(', ');

/** FetchedManifest is a manifest or index exactly as the registry served it, verified. */
export interface FetchedManifest {
  readonly bytes: Uint8Array;
  /** digest computed by us from the bytes */
  readonly digest: Digest;
  readonly mediaType: string;
  readonly kind: 'manifest' | 'index';
}

/** FetchManifestOptions bounds fetchManifest. Every field is optional. */
export interface FetchManifestOptions {
  /** the descriptor that pointed here: its digest, size and mediaType must agree */
  readonly expected?: Descriptor;
  /** size cap in bytes (default 8 MiB) */
  readonly limit?: number;
}

function contentType(v: string | undefined): string | undefined {
  const t = v?.split(';')[0]?.trim().toLowerCase();
  return t ? t : undefined;
}

/**
 * fetchManifest GETs `/v2/<repo>/manifests/<tagOrDigest>` and verifies it: the digest is computed from
 * the bytes and must equal a requested digest, the expected descriptor and any `Docker-Content-Digest`;
 * the document mediaType, the HTTP Content-Type and the descriptor mediaType must not disagree (D2);
 * the body is capped (8 MiB). Throws DIGEST_MISMATCH, SIZE_MISMATCH, AMBIGUOUS_MANIFEST, TOO_LARGE,
 * IMAGE_NOT_FOUND (404) or a RegistryError.
 */
export async function fetchManifest(
  client: RegistryClient,
  repository: string,
  tagOrDigest: string,
  opts: FetchManifestOptions = {},
): Promise<FetchedManifest> {
  const what = `manifest ${client.registry}/${repository}${isDigest(tagOrDigest) ? '@' : ':'}${tagOrDigest}`;
  const doing = `fetching ${what}`;
  const limit = opts.limit ?? DEFAULT_JSON_LIMIT;
  const res = await client.request({
    method: 'GET',
    url: `/v2/${repository}/manifests/${tagOrDigest}`,
    scopes: [`repository:${repository}:pull`],
    headers: { accept: MANIFEST_ACCEPT },
    doing,
  });
  if (res.status === 404) {
    const err = await client.fail(res, { method: 'GET', doing }).catch((e: unknown) => e);
    throw new FromscratchError('IMAGE_NOT_FOUND', `${doing}: not found in the registry`, {
      hint: 'check the repository name and the tag or digest',
      cause: err,
    });
  }
  if (res.status !== 200) return client.fail(res, { method: 'GET', doing });
  if (opts.expected && opts.expected.size > limit) {
    res.discard();
    throw new FromscratchError(
      'TOO_LARGE',
      `${doing}: its descriptor says ${opts.expected.size} bytes, over the ${limit}-byte limit`,
      { hint: 'manifests over the limit are refused to bound memory' },
    );
  }
  const bytes = await readBodyLimited(res, limit, what);
  const digest = sha256(bytes);
  if (isDigest(tagOrDigest) && digest !== tagOrDigest) {
    throw new FromscratchError(
      'DIGEST_MISMATCH',
      `${doing}: the registry served content that hashes to ${digest}`,
      {
        hint: 'the registry or a proxy returned wrong bytes; nothing was stored',
      },
    );
  }
  const header = res.header('docker-content-digest');
  if (header?.startsWith('sha256:') && header !== digest) {
    throw new FromscratchError(
      'DIGEST_MISMATCH',
      `${doing}: Docker-Content-Digest says ${header.slice(0, 80)} but the content hashes to ${digest}`,
      {
        hint: 'the registry or a proxy returned wrong bytes or a wrong header; nothing was stored',
      },
    );
  }
  if (opts.expected) {
    if (bytes.byteLength !== opts.expected.size) {
      throw new FromscratchError(
        'SIZE_MISMATCH',
        `${doing}: got ${bytes.byteLength} bytes, the descriptor says ${opts.expected.size}`,
        { hint: 'the registry returned wrong bytes; nothing was stored' },
      );
    }
    if (digest !== opts.expected.digest) {
      throw new FromscratchError(
        'DIGEST_MISMATCH',
        `${doing}: the content hashes to ${digest}, the descriptor says ${opts.expected.digest}`,
        { hint: 'the registry returned wrong bytes; nothing was stored' },
      );
    }
  }
  // decide what it is: the document's own mediaType, else the Content-Type, else its shape
  const doc = parseJsonStrict(bytes, what, limit);
  const docType =
    typeof doc === 'object' && doc !== null && !Array.isArray(doc) && typeof doc.mediaType === 'string'
      ? doc.mediaType
      : undefined;
  const ct = contentType(res.header('content-type'));
  const knownCt = ct && (isIndexMediaType(ct) || isManifestMediaType(ct)) ? ct : undefined;
  if (docType && knownCt && docType !== knownCt) {
    throw new FromscratchError(
      'AMBIGUOUS_MANIFEST',
      `${doing}: Content-Type ${knownCt} contradicts the document's mediaType ${docType}`,
      {
        hint: 'the registry serves a document that claims two types (CVE-2021-41190); refusing it',
      },
    );
  }
  if (opts.expected && docType === undefined && knownCt && knownCt !== opts.expected.mediaType) {
    throw new FromscratchError(
      'AMBIGUOUS_MANIFEST',
      `${doing}: Content-Type ${knownCt} contradicts the descriptor's mediaType ${opts.expected.mediaType}`,
      {
        hint: 'the document contradicts its descriptor (CVE-2021-41190); refusing it',
      },
    );
  }
  let mediaType = docType ?? knownCt ?? opts.expected?.mediaType;
  if (mediaType === undefined && typeof doc === 'object' && doc !== null && !Array.isArray(doc)) {
    mediaType = 'manifests' in doc ? MediaType.OciIndex : MediaType.OciManifest;
  }
  if (mediaType === undefined || (!isIndexMediaType(mediaType) && !isManifestMediaType(mediaType))) {
    throw new FromscratchError(
      'INVALID_IMAGE',
      `${doing}: unsupported manifest media type ${JSON.stringify(String(mediaType ?? ct).slice(0, 100))}`,
      {
        hint: 'only OCI and Docker v2 schema 2 manifests and indexes are supported (schema 1 is not)',
      },
    );
  }
  return { bytes, digest, mediaType, kind: isIndexMediaType(mediaType) ? 'index' : 'manifest' };
}

/** FetchBlobOptions bounds fetchBlob. Every field is optional. */
export interface FetchBlobOptions {
  /** attempts per blob, counting resumes and restarts (default 5) */
  readonly attempts?: number;
  /** called with the bytes received so far */
  readonly onBytes?: (n: number) => void;
}

class RestartDownload extends Error {}

/**
 * fetchBlob downloads a blob from `/v2/<repo>/blobs/<digest>` into the store, verified by digest and
 * size while streaming (nothing unverified is ever stored). A connection that breaks mid-body is
 * resumed with `Range: bytes=N-` when the registry answers `206` with the exact `Content-Range`, else
 * the download restarts from 0. The descriptor's `urls` are never used. Returns without a request when
 * the store already holds the blob.
 */
export async function fetchBlob(
  client: RegistryClient,
  repository: string,
  desc: Descriptor,
  store: BlobStore,
  opts: FetchBlobOptions = {},
): Promise<void> {
  if (await store.has(desc.digest, desc.size)) return;
  const task = startTask(
    client.progress,
    `pull ${client.registry}/${repository} ${desc.digest}`,
    `pulling ${desc.digest.slice(7, 19)} from ${client.registry}/${repository}`,
    desc.size,
  );
  let reported = 0;
  const onBytes = (n: number) => {
    // a restarted download counts from 0 again: report only what is new
    if (n > reported) task.advance(n - reported);
    reported = Math.max(reported, n);
    opts.onBytes?.(n);
  };
  try {
    await fetchBlobQuietly(client, repository, desc, store, { ...opts, onBytes });
    task.done();
  } catch (e) {
    task.done('failed');
    throw e;
  }
}

async function fetchBlobQuietly(
  client: RegistryClient,
  repository: string,
  desc: Descriptor,
  store: BlobStore,
  opts: FetchBlobOptions,
): Promise<void> {
  const attempts = opts.attempts ?? 5;
  const doing = `fetching blob ${desc.digest} from ${client.registry}/${repository}`;
  const url = `/v2/${repository}/blobs/${desc.digest}`;
  const scopes = [`repository:${repository}:pull`];
  let used = 0;
  for (;;) {
    used++;
    async function* body(): AsyncGenerator<Uint8Array> {
      let offset = 0;
      let res = await client.request({
        method: 'GET',
        url,
        scopes,
        doing,
        totalTimeoutMs: client.blobTimeoutMs(desc.size),
      });
      if (res.status === 404) {
        const err = await client.fail(res, { method: 'GET', doing }).catch((e: unknown) => e);
        throw new FromscratchError('BLOB_NOT_FOUND', `${doing}: the registry does not have it`, {
          hint: desc.urls?.length
            ? 'the layer is a foreign layer served from other URLs, which fromscratch never fetches'
            : 'the image in the registry is incomplete',
          cause: err,
        });
      }
      if (res.status !== 200) await client.fail(res, { method: 'GET', doing });
      for (;;) {
        let broke: string;
        try {
          for await (const c of res.body) {
            offset += c.byteLength;
            opts.onBytes?.(offset);
            yield c;
          }
          return;
        } catch (e) {
          if (!isTransportError(e) || !e.temporary || used >= attempts) throw e;
          broke = e.message;
        }
        used++;
        if (offset >= desc.size) return; // every byte arrived; the store verifies the digest
        // a resumed pull says so, as a retried request does (client.ts)
        client.progress?.({
          kind: 'note',
          message: `${doing}: the connection broke after ${formatBytes(offset)} of ${formatBytes(desc.size)} (${broke}); resuming`,
        });
        res = await client.request({
          method: 'GET',
          url,
          scopes,
          doing,
          headers: { range: `bytes=${offset}-` },
          totalTimeoutMs: client.blobTimeoutMs(desc.size - offset),
        });
        const want = `bytes ${offset}-${desc.size - 1}/${desc.size}`;
        if (res.status !== 206 || res.header('content-range') !== want) {
          // not resumable as asked: start over rather than splice unknown bytes (E3)
          res.discard();
          throw new RestartDownload();
        }
      }
    }
    try {
      await store.put(body(), { digest: desc.digest, size: desc.size });
      return;
    } catch (e) {
      const retry = (e instanceof RestartDownload || (isTransportError(e) && e.temporary)) && used < attempts;
      if (retry)
        client.progress?.({
          kind: 'note',
          message: `${doing}: downloading again from the start: ${e instanceof RestartDownload ? 'the registry cannot resume it' : (e as Error).message}`,
        });
      if (!retry) {
        if (e instanceof RestartDownload) {
          throw new FromscratchError(
            'NETWORK_ERROR',
            `${doing}: the download broke and could not be resumed after ${used} attempts`,
            { hint: 'the network or the registry is unreliable; try again' },
          );
        }
        if (isFromscratchError(e, 'DIGEST_MISMATCH') || isFromscratchError(e, 'SIZE_MISMATCH')) {
          throw new FromscratchError(e.code, `${doing}: ${e.message}`, {
            hint: 'the registry or a proxy served wrong bytes; nothing was stored',
            cause: e,
          });
        }
        throw e;
      }
    }
  }
}

/** PullOptions configures pullImage and pullImages. Every field is optional. */
export interface PullOptions {
  /** the platform to select from an index (default: the host's, e.g. linux/amd64) */
  readonly platform?: Platform;
  /** a client to reuse (default: one made from clientOptions for the reference's registry) */
  readonly client?: RegistryClient;
  readonly clientOptions?: RegistryClientOptions;
  /** blobs fetched at once (default 4) */
  readonly concurrency?: number;
  /** most manifests accepted in one index (default 1000) */
  readonly maxManifests?: number;
  /** deepest index nesting followed (default 4) */
  readonly maxIndexDepth?: number;
  /** cap on manifest, index and config size in bytes (default 8 MiB) */
  readonly documentLimit?: number;
  /**
   * fetch the layers (default true). False fetches manifests and configs only, to read what an image is
   * (why); nothing but the configs is stored then, so the store never holds a manifest without its layers.
   */
  readonly layers?: boolean;
}

/** PullResult is one pulled image: its value, and the digests of the documents it came from. */
export interface PullResult {
  readonly image: Image;
  /** digest of the image manifest (computed by us) */
  readonly manifestDigest: Digest;
  /** descriptor of the image manifest as it is stored (mediaType, size, platform) */
  readonly manifest: Descriptor;
  readonly configDigest: Digest;
  /** digest of the index the manifest was selected from, when there was one */
  readonly indexDigest?: Digest;
  /** `oci` or `docker`, from the manifest media type */
  readonly format: 'oci' | 'docker';
  /** the reference pulled, by digest of what was resolved (index or manifest) */
  readonly resolved: string;
}

interface Ctx {
  client: RegistryClient;
  ref: Reference;
  store: BlobStore;
  limit: number;
  maxManifests: number;
  maxDepth: number;
  concurrency: number;
  /** fetch the layers (false: manifests and configs only) */
  layers: boolean;
}

async function pullManifest(
  ctx: Ctx,
  m: FetchedManifest,
  desc: Descriptor | undefined,
  indexDigest: Digest | undefined,
  resolved: string,
): Promise<PullResult> {
  const what = `manifest ${m.digest}`;
  const manifest: ImageManifest = parseImageManifest(m.bytes, {
    what,
    limit: ctx.limit,
    ...(desc ? { expectedMediaType: desc.mediaType } : {}),
  });
  const cfgDesc = manifest.config;
  if (cfgDesc.size > ctx.limit) {
    throw new FromscratchError(
      'TOO_LARGE',
      `${what}: config ${cfgDesc.digest} is ${cfgDesc.size} bytes, over the ${ctx.limit}-byte limit`,
      { hint: 'configs over the limit are refused to bound memory' },
    );
  }
  const repo = ctx.ref.repository;
  await fetchBlob(ctx.client, repo, cfgDesc, ctx.store);
  const cfgBytes = await readBlob(ctx.store, cfgDesc.digest, cfgDesc.size, ctx.limit);
  const config = parseImageConfig(cfgBytes, { what: `config ${cfgDesc.digest}`, limit: ctx.limit });
  // the documents are kept: pushing or writing the image again gives the same digests
  const image = withDocuments(toImage(manifest, config, `${formatReference(ctx.ref)} (${what})`), {
    manifest: m.bytes,
    manifestMediaType: m.mediaType,
    config: cfgBytes,
    configDescriptor: cfgDesc,
  });
  if (ctx.layers) {
    const limit = pLimit(Math.max(1, ctx.concurrency));
    const seen = new Set<Digest>();
    await Promise.all(
      manifest.layers
        .filter((l) => !seen.has(l.digest) && seen.add(l.digest))
        .map((l) => limit(() => fetchBlob(ctx.client, repo, l, ctx.store))),
    );
    // the manifest bytes go in last: a store holding a manifest holds everything it points at
    await ctx.store.put(m.bytes, { digest: m.digest, size: m.bytes.byteLength });
  }
  return {
    image,
    manifestDigest: m.digest,
    manifest: {
      mediaType: m.mediaType,
      digest: m.digest,
      size: m.bytes.byteLength,
      platform: image.platform,
    },
    configDigest: cfgDesc.digest,
    ...(indexDigest ? { indexDigest } : {}),
    format: m.mediaType === MediaType.DockerManifest ? 'docker' : 'oci',
    resolved,
  };
}

/** leaves walks an index (and nested indexes, bounded) to the image manifest descriptors it lists. */
async function indexLeaves(ctx: Ctx, index: ImageIndex, depth: number): Promise<Descriptor[]> {
  const out: Descriptor[] = [];
  for (const d of index.manifests) {
    if (isManifestMediaType(d.mediaType)) out.push(d);
    else if (isIndexMediaType(d.mediaType)) {
      if (depth + 1 > ctx.maxDepth) {
        throw new FromscratchError(
          'TOO_LARGE',
          `index for ${formatReference(ctx.ref)} nests indexes deeper than ${ctx.maxDepth}`,
          { hint: 'deeply nested indexes are refused to bound work' },
        );
      }
      const nested = await fetchManifest(ctx.client, ctx.ref.repository, d.digest, {
        expected: d,
        limit: ctx.limit,
      });
      const idx = parseImageIndex(nested.bytes, {
        what: `index ${d.digest}`,
        limit: ctx.limit,
        expectedMediaType: d.mediaType,
        maxManifests: ctx.maxManifests,
      });
      out.push(...(await indexLeaves(ctx, idx, depth + 1)));
      if (out.length > ctx.maxManifests)
        throw new FromscratchError(
          'TOO_LARGE',
          `index for ${formatReference(ctx.ref)} lists more than ${ctx.maxManifests} manifests`,
          { hint: 'indexes that large are refused to bound work' },
        );
    }
    // anything else (artifacts, attestations) is not an image: skipped
  }
  return out;
}

function selectPlatform(leaves: readonly Descriptor[], want: Platform, ref: Reference): Descriptor {
  const matches = leaves.filter((d) => platformMatches(d.platform, want));
  const exact = matches.find((d) => (d.platform?.variant ?? '') === (want.variant ?? ''));
  const chosen = exact ?? matches[0];
  if (!chosen) {
    const have = [...new Set(leaves.filter((d) => d.platform).map((d) => formatPlatform(d.platform!)))];
    throw new FromscratchError(
      'IMAGE_NOT_FOUND',
      `${formatReference(ref)} has no image for platform ${formatPlatform(want)}`,
      {
        hint: have.length
          ? `available platforms: ${have.join(', ')}; choose one with --platform`
          : 'the index lists no platforms',
      },
    );
  }
  return chosen;
}

async function resolveTop(
  ref: Reference | string,
  store: BlobStore,
  opts: PullOptions,
): Promise<{ ctx: Ctx; top: FetchedManifest; own: boolean }> {
  const r = typeof ref === 'string' ? parseReference(ref) : ref;
  const own = opts.client === undefined;
  const client = opts.client ?? createRegistryClient(r, opts.clientOptions);
  const ctx: Ctx = {
    client,
    ref: r,
    store,
    limit: opts.documentLimit ?? DEFAULT_JSON_LIMIT,
    maxManifests: opts.maxManifests ?? 1000,
    maxDepth: opts.maxIndexDepth ?? 4,
    concurrency: opts.concurrency ?? 4,
    layers: opts.layers !== false,
  };
  try {
    const top = await fetchManifest(client, r.repository, r.digest ?? r.tag ?? 'latest', {
      limit: ctx.limit,
    });
    return { ctx, top, own };
  } catch (e) {
    if (own) client.close();
    throw e;
  }
}

/**
 * pullImage pulls one image (selecting `opts.platform`, default the host's, from an index) into
 * `store`: layers, config and manifest bytes are stored verified, and the Image value is returned
 * with the digests it came from. Throws IMAGE_NOT_FOUND, DIGEST_MISMATCH, SIZE_MISMATCH,
 * AMBIGUOUS_MANIFEST, TOO_LARGE, INVALID_IMAGE, REGISTRY_UNAUTHORIZED, REGISTRY_ERROR, NETWORK_ERROR.
 *
 * @example
 * const { image, manifestDigest } = await pullImage('localhost:5000/base:1', dirStore('out/blobs'));
 */
export async function pullImage(
  ref: Reference | string,
  store: BlobStore,
  opts: PullOptions = {},
): Promise<PullResult> {
  const { ctx, top, own } = await resolveTop(ref, store, opts);
  try {
    const resolved = `${ctx.ref.registry}/${ctx.ref.repository}@${top.digest}`;
    if (top.kind === 'manifest') return await pullManifest(ctx, top, undefined, undefined, resolved);
    const index = parseImageIndex(top.bytes, {
      what: `index ${top.digest}`,
      limit: ctx.limit,
      maxManifests: ctx.maxManifests,
    });
    const chosen = selectPlatform(await indexLeaves(ctx, index, 0), opts.platform ?? hostPlatform(), ctx.ref);
    const m = await fetchManifest(ctx.client, ctx.ref.repository, chosen.digest, {
      expected: chosen,
      limit: ctx.limit,
    });
    const result = await pullManifest(ctx, m, chosen, top.digest, resolved);
    await store.put(top.bytes, { digest: top.digest, size: top.bytes.byteLength });
    return result;
  } finally {
    if (own) ctx.client.close();
  }
}

/** PullImagesOptions adds the platform choice of pullImages. */
export interface PullImagesOptions extends Omit<PullOptions, 'platform'> {
  /** `all` (default) or the platforms wanted; a wanted platform that is missing is an error */
  readonly platforms?: 'all' | readonly Platform[];
}

/**
 * pullImages pulls every image of an index (or the chosen platforms; a plain manifest gives one image)
 * into `store`. The index bytes are stored too, so digests can be preserved by a copy.
 */
export async function pullImages(
  ref: Reference | string,
  store: BlobStore,
  opts: PullImagesOptions = {},
): Promise<{ images: PullResult[]; index?: { digest: Digest; mediaType: string; size: number } }> {
  const { ctx, top, own } = await resolveTop(ref, store, opts);
  try {
    const resolved = `${ctx.ref.registry}/${ctx.ref.repository}@${top.digest}`;
    if (top.kind === 'manifest')
      return { images: [await pullManifest(ctx, top, undefined, undefined, resolved)] };
    const index = parseImageIndex(top.bytes, {
      what: `index ${top.digest}`,
      limit: ctx.limit,
      maxManifests: ctx.maxManifests,
    });
    const leaves = (await indexLeaves(ctx, index, 0)).filter(
      (d) => d.platform && d.platform.os !== 'unknown',
    );
    const chosen =
      opts.platforms === undefined || opts.platforms === 'all'
        ? leaves
        : opts.platforms.map((p) => selectPlatform(leaves, p, ctx.ref));
    const images: PullResult[] = [];
    for (const d of chosen) {
      const m = await fetchManifest(ctx.client, ctx.ref.repository, d.digest, {
        expected: d,
        limit: ctx.limit,
      });
      images.push(await pullManifest(ctx, m, d, top.digest, resolved));
    }
    if (ctx.layers) await store.put(top.bytes, { digest: top.digest, size: top.bytes.byteLength });
    return { images, index: { digest: top.digest, mediaType: top.mediaType, size: top.bytes.byteLength } };
  } finally {
    if (own) ctx.client.close();
  }
}

/**
 * findReferrer returns the content of the first OCI 1.1 artifact of `artifactType` whose subject is the
 * manifest `subject`, in the repository of `ref`: listed by the referrers API, or (a registry without
 * it) in the index tagged `sha256-<hex>` of the referrers tag schema. Undefined when there is none.
 * Every manifest and blob is verified; blobs go through `store`.
 */
export async function findReferrer(
  ref: Reference | string,
  subject: Digest,
  artifactType: string,
  store: BlobStore,
  opts: Pick<PullOptions, 'client' | 'clientOptions'> = {},
): Promise<Uint8Array | undefined> {
  const r = typeof ref === 'string' ? parseReference(ref) : ref;
  const own = opts.client === undefined;
  const client = opts.client ?? createRegistryClient(r, opts.clientOptions);
  const repo = r.repository;
  try {
    const what = `referrers of ${subject} in ${client.registry}/${repo}`;
    let candidates: readonly Descriptor[] = [];
    const res = await client.request({
      method: 'GET',
      url: `/v2/${repo}/referrers/${subject}?artifactType=${encodeURIComponent(artifactType)}`,
      scopes: [`repository:${repo}:pull`],
      headers: { accept: MediaType.OciIndex },
      doing: `listing the ${what}`,
    });
    if (res.status === 200) {
      const bytes = await readBodyLimited(res, DEFAULT_JSON_LIMIT, what);
      candidates = parseImageIndex(bytes, { what }).manifests;
    } else {
      res.discard();
      try {
        const tagged = await fetchManifest(client, repo, referrersTag(subject), {});
        if (tagged.kind === 'index') candidates = parseImageIndex(tagged.bytes, { what }).manifests;
      } catch (e) {
        if (!isFromscratchError(e, 'IMAGE_NOT_FOUND')) throw e;
      }
    }
    return await artifactAmong(candidates, subject, artifactType, async (d, limit) => {
      if (isManifestMediaType(d.mediaType))
        return (await fetchManifest(client, repo, d.digest, { expected: d, limit })).bytes;
      await fetchBlob(client, repo, d, store);
      return readBlob(store, d.digest, d.size, limit);
    });
  } finally {
    if (own) client.close();
  }
}
