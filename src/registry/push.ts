/**
 * push.ts — write images to a registry: blobs first (HEAD to skip those present, cross-repo mount,
 * monolithic or chunked upload, a bounded number in parallel), then each platform's manifest, then
 * the index for multi-platform images, then the tag.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#push
 *
 * Registry 2.8 ignores `Content-Range` on PATCH, so chunk offsets are tracked here (E6); a 416 is
 * answered by asking the upload's status; an expired session (404 BLOB_UPLOAD_INVALID) restarts the
 * upload once (E7); `POST ?digest=` and `?mount=` accept both 201 and 202 (E8, E9); the registry's
 * `Docker-Content-Digest` must equal ours when present (E5).
 */
import pLimit from 'p-limit';
import type { BlobStore } from '../blob/store.ts';
import { FromscratchError, isFromscratchError } from '../errors.ts';
import { canonicalJson } from '../image/canonical-json.ts';
import {
  artifactManifest,
  EMPTY_JSON,
  type Image,
  type IndexDocument,
  indexFormat,
  reuseIndex,
  serializeImage,
  serializeIndex,
} from '../image/image.ts';
import type { Descriptor } from '../model/descriptor.ts';
import { type Digest, sha256 } from '../model/digest.ts';
import { DEFAULT_JSON_LIMIT, parseImageIndex } from '../model/json.ts';
import { MediaType } from '../model/media-type.ts';
import type { Platform } from '../model/platform.ts';
import { startTask } from '../model/progress.ts';
import { checkReadable } from '../oci/oci-layout.ts';
import { createRegistryClient, type RegistryClient, type RegistryClientOptions } from './client.ts';
import { RegistryError } from './errors.ts';
import { type HttpResponse, isTransportError } from './http.ts';
import { fetchManifest } from './pull.ts';
import { parseReference, type Reference, referrersTag } from './reference.ts';

/** BlobPushStatus says what happened to one blob. */
export type BlobPushStatus = 'exists' | 'mounted' | 'uploaded';

/** PushProgress is reported through PushOptions.onProgress. */
export type PushProgress =
  | { readonly kind: 'blob'; readonly digest: Digest; readonly size: number; readonly status: BlobPushStatus }
  | { readonly kind: 'manifest'; readonly digest: Digest; readonly reference: string };

/** BlobSource gives a blob's bytes: a buffer, or a factory for a fresh stream (called once per attempt). */
export type BlobSource = Uint8Array | (() => AsyncIterable<Uint8Array>);

/** PushBlobOptions configures pushBlob. Every field is optional. */
export interface PushBlobOptions {
  /** upload in PATCH chunks of this many bytes when the blob is larger (default: one monolithic PUT) */
  readonly chunkSize?: number;
  /** a repository of the same registry that holds the blob, to mount it from instead of uploading */
  readonly mountFrom?: string;
  /** blobs up to this size are sent with `POST ?digest=` in one request where the registry allows (default 256 KiB) */
  readonly singleRequestMax?: number;
  /** upload attempts, restarts included (default 3) */
  readonly attempts?: number;
  /**
   * the blob was just made here (a layer just compressed): a small one sent in one request (bytes in
   * hand) is sent without asking first whether the registry has it (HEAD): one round trip less for
   * the layer of an edit, and at worst a small blob sent again (default false)
   */
  readonly fresh?: boolean;
}

const OCTET = 'application/octet-stream';

function joinQuery(location: string, params: Record<string, string>): string {
  const u = new URL(location, 'http://placeholder.invalid');
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  // keep a relative Location relative: the client resolves it against the registry
  return /^[a-z]+:\/\//i.test(location) ? u.toString() : `${u.pathname}${u.search}`;
}

function uploadLocation(client: RegistryClient, location: string | undefined, doing: string): string {
  if (!location)
    throw new FromscratchError(
      'REGISTRY_ERROR',
      `${doing}: registry ${client.registry} started an upload without a Location`,
      { hint: 'the registry is not distribution-spec compliant' },
    );
  return location;
}

function checkDigestHeader(value: string | undefined, digest: Digest, doing: string): void {
  if (value?.startsWith('sha256:') && value !== digest) {
    throw new FromscratchError(
      'DIGEST_MISMATCH',
      `${doing}: the registry reports Docker-Content-Digest ${value.slice(0, 80)}, expected ${digest}`,
      {
        hint: 'the registry or a proxy altered the content; check the registry and try again',
      },
    );
  }
}

/** readRange yields bytes [start, end) of a source (re-reading it from the beginning). */
async function* readRange(src: BlobSource, start: number, end: number): AsyncGenerator<Uint8Array> {
  if (src instanceof Uint8Array) {
    yield src.subarray(start, end);
    return;
  }
  let pos = 0;
  for await (const c of src()) {
    const cEnd = pos + c.byteLength;
    if (cEnd > start && pos < end)
      yield c.subarray(Math.max(0, start - pos), Math.min(c.byteLength, end - pos));
    pos = cEnd;
    if (pos >= end) return;
  }
}

/** a reader over a source that hands out consecutive chunks and can be repositioned */
function chunkReader(src: BlobSource) {
  let it: AsyncIterator<Uint8Array> | undefined;
  let pos = 0;
  let pending: Uint8Array | undefined;
  return {
    async read(offset: number, n: number): Promise<Buffer> {
      if (src instanceof Uint8Array) return Buffer.from(src.subarray(offset, offset + n));
      if (!it || offset < pos) {
        await it?.return?.();
        it = readRange(src, offset, Number.MAX_SAFE_INTEGER)[Symbol.asyncIterator]();
        pos = offset;
        pending = undefined;
      }
      // skip forward when the registry says it has more than we sent
      const parts: Uint8Array[] = [];
      let skip = offset - pos;
      let got = 0;
      while (got < n) {
        let c = pending;
        pending = undefined;
        if (!c) {
          const r = await it.next();
          if (r.done) break;
          c = r.value;
        }
        if (skip > 0) {
          const s = Math.min(skip, c.byteLength);
          skip -= s;
          pos += s;
          c = c.subarray(s);
          if (c.byteLength === 0) continue;
        }
        const take = Math.min(n - got, c.byteLength);
        parts.push(c.subarray(0, take));
        got += take;
        pos += take;
        if (take < c.byteLength) pending = c.subarray(take);
      }
      return Buffer.concat(parts);
    },
    async close() {
      await it?.return?.();
    },
  };
}

/** parseRangeEnd reads a registry `Range: 0-N` header: N+1 bytes are stored; undefined when absent or ambiguous ("0-0"). */
function parseRangeEnd(v: string | undefined): number | undefined {
  const m = v ? /^(?:bytes=)?0-([0-9]+)$/.exec(v.trim()) : null;
  if (!m) return undefined;
  const end = Number(m[1]);
  // registry 2.8 writes "0-0" for both an empty upload and a one-byte one
  return end === 0 ? undefined : end + 1;
}

class RestartUpload extends Error {}

async function uploadChunked(
  client: RegistryClient,
  repository: string,
  desc: Descriptor,
  src: BlobSource,
  location: string,
  chunkSize: number,
  doing: string,
): Promise<string> {
  const scopes = [`repository:${repository}:pull,push`];
  const reader = chunkReader(src);
  let loc = location;
  let offset = 0;
  let recoveries = 0;
  try {
    while (offset < desc.size) {
      const chunk = await reader.read(offset, Math.min(chunkSize, desc.size - offset));
      if (chunk.byteLength === 0)
        throw new FromscratchError(
          'SIZE_MISMATCH',
          `${doing}: the store holds fewer than ${desc.size} bytes`,
          { hint: 'the local blob is truncated; rebuild the image' },
        );
      const end = offset + chunk.byteLength;
      let res: HttpResponse;
      try {
        res = await client.request({
          method: 'PATCH',
          url: loc,
          scopes,
          headers: { 'content-type': OCTET, 'content-range': `${offset}-${end - 1}` },
          body: chunk,
          retryable: false,
          totalTimeoutMs: client.blobTimeoutMs(chunk.byteLength),
          doing,
        });
      } catch (e) {
        if (!isTransportError(e) || ++recoveries > 3) throw e;
        // did the chunk land? ask the upload's status and continue from there
        offset = await uploadStatus(client, repository, loc, doing);
        continue;
      }
      if (res.status === 202) {
        res.discard();
        loc = uploadLocation(client, res.header('location'), doing);
        offset = parseRangeEnd(res.header('range')) ?? end;
        continue;
      }
      if (res.status === 416 || (res.status >= 500 && res.status !== 501)) {
        // the registry disagrees about the offset, or failed mid-chunk: ask where it is (E6)
        res.discard();
        if (++recoveries > 3) return client.fail(res, { method: 'PATCH', doing });
        offset = await uploadStatus(client, repository, loc, doing);
        continue;
      }
      if (res.status === 404) {
        const err = await client.fail(res, { method: 'PATCH', doing }).catch((e: unknown) => e);
        if (
          err instanceof RegistryError &&
          (err.hasCode('BLOB_UPLOAD_INVALID') || err.hasCode('BLOB_UPLOAD_UNKNOWN'))
        )
          throw new RestartUpload();
        throw err;
      }
      return client.fail(res, { method: 'PATCH', doing });
    }
  } finally {
    await reader.close();
  }
  return loc;
}

/** uploadStatus asks an upload session how many bytes it holds (GET Location → 204 Range). */
async function uploadStatus(
  client: RegistryClient,
  repository: string,
  loc: string,
  doing: string,
): Promise<number> {
  const res = await client.request({
    method: 'GET',
    url: loc,
    scopes: [`repository:${repository}:pull,push`],
    doing: `${doing}: asking the upload status`,
  });
  if (res.status === 204 || res.status === 202 || res.status === 200) {
    res.discard();
    const n = parseRangeEnd(res.header('range'));
    // "0-0" or no Range: we cannot know whether one byte landed, so start the blob again
    if (n === undefined) throw new RestartUpload();
    return n;
  }
  if (res.status === 404) {
    res.discard();
    throw new RestartUpload();
  }
  return client.fail(res, { method: 'GET', doing });
}

/**
 * pushBlob makes `desc` present in `repository`: a HEAD first (present → `exists`), then a
 * cross-repository mount when `mountFrom` is given (201 → `mounted`; 202 → upload into the session it
 * opened), else an upload — `POST ?digest=` for small buffers, else POST then one PUT, or PATCH chunks
 * when `chunkSize` is smaller than the blob. An expired or unknown upload session restarts the upload
 * (bounded); `DIGEST_INVALID` fails. Throws RegistryError, DIGEST_MISMATCH, NETWORK_ERROR.
 */
export async function pushBlob(
  client: RegistryClient,
  repository: string,
  desc: Descriptor,
  src: BlobSource,
  opts: PushBlobOptions = {},
): Promise<BlobPushStatus> {
  if (!client.progress) return pushBlobQuietly(client, repository, desc, src, opts);
  const task = startTask(
    client.progress,
    `push ${client.registry}/${repository} ${desc.digest}`,
    `pushing ${desc.digest.slice(7, 19)} to ${client.registry}/${repository}`,
    desc.size,
  );
  const counted: BlobSource =
    typeof src === 'function'
      ? async function* () {
          for await (const c of src()) {
            task.advance(c.byteLength);
            yield c;
          }
        }
      : src;
  try {
    const status = await pushBlobQuietly(client, repository, desc, counted, opts);
    if (status === 'uploaded' && typeof src !== 'function') task.advance(desc.size);
    task.done(status === 'uploaded' ? undefined : status);
    return status;
  } catch (e) {
    task.done('failed');
    throw e;
  }
}

async function pushBlobQuietly(
  client: RegistryClient,
  repository: string,
  desc: Descriptor,
  src: BlobSource,
  opts: PushBlobOptions,
): Promise<BlobPushStatus> {
  const doing = `pushing blob ${desc.digest} to ${client.registry}/${repository}`;
  const scopes = [`repository:${repository}:pull,push`];
  const attempts = opts.attempts ?? 3;
  const singleMax = opts.singleRequestMax ?? 256 * 1024;
  let mount = opts.mountFrom !== undefined && opts.mountFrom !== repository ? opts.mountFrom : undefined;

  const small = src instanceof Uint8Array && desc.size <= singleMax && opts.chunkSize === undefined;
  for (let attempt = 1; ; attempt++) {
    if (!(opts.fresh && small && mount === undefined && attempt === 1)) {
      const head = await client.request({
        method: 'HEAD',
        url: `/v2/${repository}/blobs/${desc.digest}`,
        scopes,
        doing,
      });
      head.discard();
      if (head.status === 200) {
        const len = head.header('content-length');
        if (len === undefined || Number(len) === desc.size) return 'exists';
      } else if (head.status !== 404) await client.fail(head, { method: 'HEAD', doing });
    }

    try {
      // 1. open an upload session (or finish at once: mount / single request)
      let location: string | undefined;
      if (mount) {
        const from = mount;
        mount = undefined; // tried once
        let res: HttpResponse | undefined;
        try {
          res = await client.request({
            method: 'POST',
            url: `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(from)}`,
            scopes: [...scopes, `repository:${from}:pull`],
            retryable: true, // a second mount or a second empty session is harmless
            doing: `${doing} (mounting from ${from})`,
          });
        } catch (e) {
          // no access to the source repository (E9): upload instead
          if (!isFromscratchError(e, 'REGISTRY_UNAUTHORIZED')) throw e;
        }
        if (res?.status === 201) {
          res.discard();
          checkDigestHeader(res.header('docker-content-digest'), desc.digest, doing);
          return 'mounted';
        }
        if (res?.status === 202) {
          res.discard();
          location = uploadLocation(client, res.header('location'), doing);
        } else if (res) {
          res.discard(); // 401/403/404 on the mount: fall back to a plain upload
        }
      }
      if (!location && small) {
        const res = await client.request({
          method: 'POST',
          url: `/v2/${repository}/blobs/uploads/?digest=${encodeURIComponent(desc.digest)}`,
          scopes,
          headers: { 'content-type': OCTET },
          body: src,
          retryable: true,
          doing,
        });
        if (res.status === 201) {
          res.discard();
          checkDigestHeader(res.header('docker-content-digest'), desc.digest, doing);
          return 'uploaded';
        }
        if (res.status !== 202) await client.fail(res, { method: 'POST', doing });
        res.discard();
        // 202: the registry ignored the body and opened a session (E8, registry 2.8)
        location = uploadLocation(client, res.header('location'), doing);
      }
      if (!location) {
        const res = await client.request({
          method: 'POST',
          url: `/v2/${repository}/blobs/uploads/`,
          scopes,
          retryable: true,
          doing,
        });
        if (res.status !== 202) await client.fail(res, { method: 'POST', doing });
        res.discard();
        location = uploadLocation(client, res.header('location'), doing);
      }

      // 2. send the bytes and close the session
      let res: HttpResponse;
      if (opts.chunkSize !== undefined && desc.size > opts.chunkSize) {
        const loc = await uploadChunked(client, repository, desc, src, location, opts.chunkSize, doing);
        res = await client.request({
          method: 'PUT',
          url: joinQuery(loc, { digest: desc.digest }),
          scopes,
          headers: { 'content-length': '0' },
          doing,
        });
      } else {
        res = await client.request({
          method: 'PUT',
          url: joinQuery(location, { digest: desc.digest }),
          scopes,
          headers: { 'content-type': OCTET, 'content-length': String(desc.size) },
          body: src instanceof Uint8Array ? src : () => src(),
          // the session may be consumed by a failed attempt: retry by restarting the upload instead
          retryable: false,
          totalTimeoutMs: client.blobTimeoutMs(desc.size),
          doing,
        });
      }
      if (res.status === 201) {
        res.discard();
        checkDigestHeader(res.header('docker-content-digest'), desc.digest, doing);
        return 'uploaded';
      }
      const err = await client.fail(res, { method: 'PUT', doing }).catch((e: unknown) => e as RegistryError);
      if (err.hasCode('DIGEST_INVALID') || err.hasCode('SIZE_INVALID')) {
        throw new FromscratchError(
          'DIGEST_MISMATCH',
          `${doing}: the registry computed another digest for the uploaded bytes (${err.diagnostics.map((d) => d.code).join(', ')})`,
          {
            hint: 'the local blob does not match its digest, or a proxy altered the upload; check the store (fromscratch verifies blobs when reading) and retry',
            cause: err,
          },
        );
      }
      if (res.status === 404 && (err.hasCode('BLOB_UPLOAD_INVALID') || err.hasCode('BLOB_UPLOAD_UNKNOWN')))
        throw new RestartUpload();
      if (err.temporary) throw new RestartUpload();
      throw err;
    } catch (e) {
      const restart = e instanceof RestartUpload || (isTransportError(e) && e.temporary);
      if (!restart || attempt >= attempts) {
        if (e instanceof RestartUpload) {
          throw new FromscratchError(
            'REGISTRY_ERROR',
            `${doing}: the upload failed ${attempt} times (session expired or registry errors)`,
            { hint: 'the registry is unstable; try again' },
          );
        }
        throw e;
      }
    }
  }
}

/**
 * pushManifest PUTs a manifest or index under a tag or digest and checks the digest the registry reports
 * (E5). Returns the `OCI-Subject` header: a registry with the referrers API sets it for a manifest with
 * a subject.
 */
export async function pushManifest(
  client: RegistryClient,
  repository: string,
  tagOrDigest: string,
  bytes: Uint8Array,
  mediaType: string,
  digest: Digest,
): Promise<{ ociSubject?: string }> {
  const doing = `pushing manifest ${digest} to ${client.registry}/${repository}:${tagOrDigest}`;
  const res = await client.request({
    method: 'PUT',
    url: `/v2/${repository}/manifests/${tagOrDigest}`,
    scopes: [`repository:${repository}:pull,push`],
    headers: { 'content-type': mediaType },
    body: bytes,
    doing,
  });
  if (res.status !== 201 && res.status !== 200) await client.fail(res, { method: 'PUT', doing });
  res.discard();
  checkDigestHeader(res.header('docker-content-digest'), digest, doing);
  const subject = res.header('oci-subject');
  return subject ? { ociSubject: subject } : {};
}

/**
 * pushReferrer pushes `data` to the repository of `ref` as an OCI 1.1 artifact manifest (of
 * `artifactType`) whose subject is `subject`, a manifest or index already there (an SBOM of an image).
 * A registry with the referrers API lists it by itself (it answers with `OCI-Subject`); for one without,
 * the artifact is added to the index tagged `sha256-<hex of the subject digest>`, the referrers tag
 * schema that oras and cosign read. Returns the artifact manifest's descriptor.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-manifests-with-subject
 */
export async function pushReferrer(
  ref: Reference | string,
  subject: Descriptor,
  artifact: { readonly artifactType: string; readonly data: Uint8Array },
  opts: Pick<PushOptions, 'client' | 'clientOptions'> = {},
): Promise<Descriptor> {
  const r = typeof ref === 'string' ? parseReference(ref) : ref;
  const own = opts.client === undefined;
  const client = opts.client ?? createRegistryClient(r, opts.clientOptions);
  const repo = r.repository;
  try {
    const dataDesc = {
      mediaType: artifact.artifactType,
      digest: sha256(artifact.data),
      size: artifact.data.byteLength,
    };
    const emptyDesc = {
      mediaType: MediaType.OciEmpty,
      digest: sha256(EMPTY_JSON),
      size: EMPTY_JSON.byteLength,
    };
    await pushBlob(client, repo, emptyDesc, EMPTY_JSON);
    await pushBlob(client, repo, dataDesc, artifact.data);
    const m = artifactManifest(subject, artifact.artifactType, dataDesc);
    const pushed = await pushManifest(
      client,
      repo,
      m.descriptor.digest,
      m.bytes,
      MediaType.OciManifest,
      m.descriptor.digest,
    );
    if (pushed.ociSubject === subject.digest) return m.descriptor;
    // the referrers tag schema: read the tag's index (absent: a new one), add the artifact, push it back
    const tag = referrersTag(subject.digest);
    let listed: Descriptor[] = [];
    try {
      const old = await fetchManifest(client, repo, tag, { limit: DEFAULT_JSON_LIMIT });
      if (old.kind === 'index')
        listed = [...parseImageIndex(old.bytes, { what: `referrers index ${repo}:${tag}` }).manifests];
    } catch (e) {
      if (!(isFromscratchError(e) && e.code === 'IMAGE_NOT_FOUND')) throw e;
    }
    if (listed.some((d) => d.digest === m.descriptor.digest)) return m.descriptor;
    const idx = canonicalJson({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [...listed, m.descriptor],
    });
    await pushManifest(client, repo, tag, idx, MediaType.OciIndex, sha256(idx));
    return m.descriptor;
  } finally {
    if (own) client.close();
  }
}

/** PushOptions configures pushImage. Every field is optional. */
export interface PushOptions {
  /** a client to reuse (default: one made from clientOptions for the reference's registry) */
  readonly client?: RegistryClient;
  readonly clientOptions?: RegistryClientOptions;
  /** OCI or Docker v2 schema 2 media types (default: images read from documents keep theirs, others are OCI) */
  readonly format?: 'oci' | 'docker';
  /** RFC 3339 `created` for images that have none (default the epoch; see serializeImage) */
  readonly created?: string;
  /** blobs uploaded at once (default 4) */
  readonly concurrency?: number;
  /** upload blobs larger than this in PATCH chunks of this size (default: monolithic uploads) */
  readonly chunkSize?: number;
  /** a repository of the same registry known to hold a blob, to mount it from (default: none) */
  readonly mountFrom?: (blob: Descriptor) => string | undefined;
  /**
   * blobs this process has just put in the repository (the early push of the same build): neither asked
   * for (HEAD) nor sent again, counted as present (default: none)
   */
  readonly present?: (blob: Descriptor) => boolean;
  /** push an index even for a single image (default: only for several images) */
  readonly index?: boolean;
  /** the index the images were read from: pushed as it is when it lists exactly their manifests (a copy keeps its digest) */
  readonly sourceIndex?: IndexDocument;
  /** progress events (default none) */
  readonly onProgress?: (e: PushProgress) => void;
}

/** PushResult says what was pushed. */
export interface PushResult {
  /** digest of the top document: the index for several platforms, else the manifest */
  readonly digest: Digest;
  readonly mediaType: string;
  readonly size: number;
  /** `registry/repository@digest` */
  readonly reference: string;
  /** the per-platform manifests */
  readonly manifests: readonly { readonly platform: Platform; readonly digest: Digest }[];
  /** how many blobs were found present, mounted or uploaded */
  readonly blobs: Readonly<Record<BlobPushStatus, number>>;
}

/**
 * pushImage pushes images (one per platform) to `ref`: every blob (layers from `store`, configs
 * serialised here), then each manifest, then — for several images or `opts.index` — an index, and
 * finally the tag (`ref.tag`, else `latest`; a reference with a digest must match what is pushed).
 * Returns the pushed digest. Throws BLOB_NOT_FOUND (a layer missing from the store), INVALID_ARGUMENT,
 * REGISTRY_UNAUTHORIZED, REGISTRY_ERROR, DIGEST_MISMATCH, NETWORK_ERROR, TIMEOUT.
 *
 * @example
 * const { digest } = await pushImage('localhost:5000/team/app:1.2', [image], store);
 */
export async function pushImage(
  ref: Reference | string,
  images: readonly Image[],
  store: BlobStore,
  opts: PushOptions = {},
): Promise<PushResult> {
  const r = typeof ref === 'string' ? parseReference(ref) : ref;
  if (images.length === 0)
    throw new FromscratchError(
      'INVALID_ARGUMENT',
      `pushing to ${r.registry}/${r.repository}: no image to push`,
      { hint: 'build at least one platform' },
    );
  const format = opts.format;
  const own = opts.client === undefined;
  const client = opts.client ?? createRegistryClient(r, opts.clientOptions);
  const repo = r.repository;
  try {
    const serialized = images.map((img, i) => {
      if (format === 'docker') {
        const bad = img.layers.find(
          (l) =>
            l.blob.mediaType !== MediaType.OciLayerGzip && l.blob.mediaType !== MediaType.DockerLayerGzip,
        );
        if (bad) {
          throw new FromscratchError(
            'INVALID_ARGUMENT',
            `image ${i + 1}: layer ${bad.blob.digest} is ${bad.blob.mediaType}, which Docker media types cannot express`,
            {
              hint: 'push with OCI media types, or build the layers with gzip compression',
            },
          );
        }
      }
      // no format asked: images read from documents keep them (and their digests), others are OCI
      return serializeImage(img, {
        ...(format !== undefined ? { format } : {}),
        ...(opts.created ? { created: opts.created } : {}),
      });
    });
    // the limits every reader enforces (layers per image, images per index, document size), before
    // anything is uploaded: what the layout writer refuses, a push refuses too (issue 15.5)
    checkReadable(images, {
      documents: serialized.flatMap((s) => [
        { descriptor: s.descriptor, bytes: s.manifest },
        { descriptor: s.configDescriptor, bytes: s.config },
      ]),
    });
    const platforms = new Set(
      images.map((i) => JSON.stringify([i.platform.os, i.platform.architecture, i.platform.variant ?? ''])),
    );
    if (platforms.size !== images.length)
      throw new FromscratchError(
        'INVALID_ARGUMENT',
        `pushing to ${r.registry}/${repo}: two images have the same platform`,
        { hint: 'give one image per platform' },
      );

    // every blob once: layers (from the store) and configs (bytes in hand)
    const blobs = new Map<Digest, { desc: Descriptor; src: BlobSource }>();
    for (const img of images) {
      for (const l of img.layers) {
        if (!blobs.has(l.blob.digest)) {
          if (!(await store.has(l.blob.digest, l.blob.size))) {
            throw new FromscratchError(
              'BLOB_NOT_FOUND',
              `pushing to ${r.registry}/${repo}: layer ${l.blob.digest} is not in the local store`,
              { hint: 'the build output is incomplete; build again' },
            );
          }
          const d = l.blob;
          blobs.set(d.digest, { desc: d, src: () => store.open(d.digest, d.size) });
        }
      }
    }
    for (const s of serialized)
      blobs.set(s.configDescriptor.digest, { desc: s.configDescriptor, src: s.config });

    const counts: Record<BlobPushStatus, number> = { exists: 0, mounted: 0, uploaded: 0 };
    const limit = pLimit(Math.max(1, opts.concurrency ?? 4));
    await Promise.all(
      [...blobs.values()].map(({ desc, src }) =>
        limit(async () => {
          if (opts.present?.(desc)) {
            counts.exists++;
            opts.onProgress?.({ kind: 'blob', digest: desc.digest, size: desc.size, status: 'exists' });
            return;
          }
          const from = opts.mountFrom?.(desc);
          const status = await pushBlob(client, repo, desc, src, {
            ...(opts.chunkSize !== undefined ? { chunkSize: opts.chunkSize } : {}),
            ...(from !== undefined ? { mountFrom: from } : {}),
          });
          counts[status]++;
          opts.onProgress?.({ kind: 'blob', digest: desc.digest, size: desc.size, status });
        }),
      ),
    );

    // a single image read from an index is pushed with that index, so that a copy keeps the digest
    const descriptors = serialized.map((s) => s.descriptor);
    const kept = reuseIndex(opts.sourceIndex, descriptors);
    const useIndex = images.length > 1 || opts.index === true || kept !== undefined;
    const tag = r.tag ?? (r.digest === undefined ? 'latest' : undefined);
    let top: { digest: Digest; mediaType: string; size: number };
    if (useIndex) {
      for (const s of serialized) {
        await pushManifest(
          client,
          repo,
          s.descriptor.digest,
          s.manifest,
          s.descriptor.mediaType,
          s.descriptor.digest,
        );
        opts.onProgress?.({ kind: 'manifest', digest: s.descriptor.digest, reference: s.descriptor.digest });
      }
      const idx = kept ?? serializeIndex(descriptors, format ?? indexFormat(descriptors));
      top = { digest: idx.descriptor.digest, mediaType: idx.descriptor.mediaType, size: idx.descriptor.size };
      checkRefDigest(r, top.digest);
      await pushManifest(client, repo, tag ?? top.digest, idx.bytes, top.mediaType, top.digest);
      opts.onProgress?.({ kind: 'manifest', digest: top.digest, reference: tag ?? top.digest });
    } else {
      const s = serialized[0]!;
      top = { digest: s.descriptor.digest, mediaType: s.descriptor.mediaType, size: s.descriptor.size };
      checkRefDigest(r, top.digest);
      await pushManifest(client, repo, tag ?? top.digest, s.manifest, top.mediaType, top.digest);
      opts.onProgress?.({ kind: 'manifest', digest: top.digest, reference: tag ?? top.digest });
    }
    return {
      ...top,
      reference: `${r.registry}/${repo}@${top.digest}`,
      manifests: serialized.map((s, i) => ({ platform: images[i]!.platform, digest: s.descriptor.digest })),
      blobs: counts,
    };
  } finally {
    if (own) client.close();
  }
}

function checkRefDigest(r: Reference, digest: Digest): void {
  if (r.digest !== undefined && r.digest !== digest) {
    throw new FromscratchError(
      'INVALID_ARGUMENT',
      `pushing to ${r.registry}/${r.repository}@${r.digest}: the image's digest is ${digest}`,
      {
        hint: 'push by tag, or give the digest of the image being pushed',
      },
    );
  }
}
