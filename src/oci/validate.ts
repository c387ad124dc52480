/**
 * validate.ts — validateImage: the invariant checker every test that produces an image calls (as GGCR's
 * `validate` package). It reads every layer blob (digest and size), decompresses it in-process to recompute
 * the diff_id, checks media types and that the config and manifest the image serialises to are
 * consistent, and reports every broken invariant at once.
 */
import type { BlobStore } from '../blob/store.ts';
import { type ErrorCode, FromscratchError, isFromscratchError } from '../errors.ts';
import { type Image, serializeImage } from '../image/image.ts';
import { isDigest, newHasher, sha256 } from '../model/digest.ts';
import { parseImageConfig, parseImageManifest } from '../model/json.ts';
import { layerCompression } from '../model/media-type.ts';
import { type DecompressOptions, decompressStream } from './decompress.ts';

/** ImageProblem is one broken invariant: a stable code, what it is about, and what is wrong. */
export interface ImageProblem {
  readonly code: ErrorCode;
  /** the layer, document or field concerned, e.g. `layers[1] sha256:…` */
  readonly subject: string;
  readonly message: string;
}

/** InvalidImageError lists every problem validateImage found. */
export class InvalidImageError extends FromscratchError {
  readonly problems: readonly ImageProblem[];
  constructor(code: ErrorCode, message: string, problems: readonly ImageProblem[]) {
    super(code, message, { hint: 'the image is corrupt or was built wrongly; rebuild it' });
    this.problems = problems;
  }
}

/** ValidateImageOptions configures validateImage. */
export interface ValidateImageOptions extends DecompressOptions {
  /** read and decompress every layer (default true); false checks only metadata and blob presence */
  layers?: boolean;
}

/**
 * checkImage returns every broken invariant of an image whose blobs are in `store` (empty when valid):
 * layer blobs present with the right size and digest (DIGEST_MISMATCH, SIZE_MISMATCH, BLOB_NOT_FOUND),
 * decompressing per their media type (INVALID_COMPRESSION) to their diff_id (DIGEST_MISMATCH), layer
 * media types, history agreeing with the layers, Env entries of the form K=V, and serialised documents
 * that parse back strictly with matching diff_ids.
 */
export async function checkImage(
  image: Image,
  store: BlobStore,
  opts: ValidateImageOptions = {},
): Promise<ImageProblem[]> {
  const problems: ImageProblem[] = [];
  const add = (code: ErrorCode, subject: string, message: string) =>
    problems.push({ code, subject, message });

  if (!image.platform.os || !image.platform.architecture)
    add('INVALID_IMAGE', 'platform', 'os and architecture must be set');

  for (const [i, layer] of image.layers.entries()) {
    const subject = `layers[${i}] ${String(layer.blob.digest)}`;
    const c = layerCompression(layer.blob.mediaType);
    let ok = true;
    if (c === undefined) {
      add('INVALID_IMAGE', subject, `media type ${layer.blob.mediaType} is not a layer type`);
      ok = false;
    }
    if (!isDigest(layer.blob.digest)) {
      add('INVALID_DIGEST', subject, 'the blob digest is not sha256:<64 lowercase hex>');
      ok = false;
    }
    if (!isDigest(layer.diffId)) {
      add('INVALID_DIGEST', subject, `diff_id ${String(layer.diffId)} is not sha256:<64 lowercase hex>`);
      ok = false;
    }
    if (!Number.isSafeInteger(layer.blob.size) || layer.blob.size < 0) {
      add('INVALID_IMAGE', subject, `size ${layer.blob.size} is not a non-negative integer`);
      ok = false;
    }
    if (!ok || c === undefined) continue;
    if (opts.layers === false) {
      if (!(await store.has(layer.blob.digest, layer.blob.size)))
        add('BLOB_NOT_FOUND', subject, 'the blob is not in the store with that size');
      continue;
    }
    try {
      const h = newHasher();
      for await (const chunk of decompressStream(
        store.open(layer.blob.digest, layer.blob.size),
        c,
        `layer ${layer.blob.digest}`,
        opts,
      )) {
        h.update(chunk);
      }
      const got = h.digest().digest;
      if (got !== layer.diffId)
        add(
          'DIGEST_MISMATCH',
          subject,
          `uncompressed content hashes to ${got}, but diff_id is ${layer.diffId}`,
        );
    } catch (e) {
      if (!isFromscratchError(e)) throw e;
      add(e.code, subject, e.message);
    }
  }

  const layered = image.history.filter((h) => !h.empty_layer).length;
  if (image.history.length > 0 && layered !== image.layers.length) {
    add(
      'INVALID_IMAGE',
      'history',
      `${layered} history entries with layers, but ${image.layers.length} layers`,
    );
  }
  for (const [i, kv] of (image.config.Env ?? []).entries()) {
    if (!kv.includes('=') || kv.startsWith('='))
      add('INVALID_IMAGE', `config.Env[${i}]`, `${JSON.stringify(kv)} is not NAME=VALUE`);
  }

  try {
    const s = serializeImage(image);
    const manifest = parseImageManifest(s.manifest, {
      what: 'serialised manifest',
      expectedMediaType: s.descriptor.mediaType,
    });
    const config = parseImageConfig(s.config, { what: 'serialised config' });
    if (manifest.config.digest !== sha256(s.config) || manifest.config.size !== s.config.byteLength) {
      add('DIGEST_MISMATCH', 'manifest.config', 'the config descriptor does not describe the config bytes');
    }
    const diffIds = image.layers.map((l) => l.diffId);
    if (
      config.rootfs.diff_ids.length !== diffIds.length ||
      config.rootfs.diff_ids.some((d, i) => d !== diffIds[i])
    ) {
      add('INVALID_IMAGE', 'config.rootfs', 'diff_ids differ from the layers');
    }
    if (config.os !== image.platform.os || config.architecture !== image.platform.architecture) {
      add('INVALID_IMAGE', 'config', 'os/architecture differ from the platform');
    }
  } catch (e) {
    if (isFromscratchError(e)) add(e.code, 'documents', e.message);
    else add('INVALID_IMAGE', 'documents', `cannot serialise: ${(e as Error).message}`);
  }
  return problems;
}

/**
 * validateImage checks an image whose blobs are in `store` (see checkImage) and throws an
 * InvalidImageError listing every problem: with the code of the problem when there is one, else
 * INVALID_IMAGE. Resolves when the image is valid.
 * @example await validateImage(image, store)
 */
export async function validateImage(
  image: Image,
  store: BlobStore,
  opts: ValidateImageOptions = {},
): Promise<void> {
  const problems = await checkImage(image, store, opts);
  if (problems.length === 0) return;
  const first = problems[0]!;
  if (problems.length === 1)
    throw new InvalidImageError(first.code, `invalid image: ${first.subject}: ${first.message}`, problems);
  const list = problems.map((p) => `${p.subject}: ${p.message} [${p.code}]`).join('; ');
  throw new InvalidImageError(
    'INVALID_IMAGE',
    `invalid image: ${problems.length} problems: ${list}`,
    problems,
  );
}
