/**
 * image-set.ts — what every source returns (ImageSet), and the walk from a manifest or index descriptor
 * to verified, validated Image values.
 *
 * Every document is read through the store (digest and size verified, never more than the JSON cap),
 * parsed strictly, and checked against the descriptor that pointed at it (RELIABILITY.md C1, C6, D1–D5, D8).
 */

import { type BlobStore, readBlob } from '../blob/store.ts';
import { FromscratchError, isFromscratchError } from '../errors.ts';
import { type Image, withDocuments } from '../image/image.ts';
import type { Descriptor } from '../model/descriptor.ts';
import type { Digest } from '../model/digest.ts';
import {
  DEFAULT_JSON_LIMIT,
  parseImageConfig,
  parseImageIndex,
  parseImageManifest,
  parseJsonStrict,
} from '../model/json.ts';
import { isIndexMediaType, isManifestMediaType, MediaType } from '../model/media-type.ts';
import { formatPlatform, type Platform, platformMatches } from '../model/platform.ts';
import { toImage } from './to-image.ts';

/** ImageSet is what a source yields: one image per platform, and the store holding their blobs. */
export interface ImageSet {
  /** one image per platform, in the order of the index (a single image for a plain manifest) */
  readonly images: readonly Image[];
  /**
   * the manifest descriptor of each image, in the same order; for docker-archive and docker-daemon sources
   * (which have no manifests) it describes the OCI manifest the image serialises to, not a stored blob
   */
  readonly manifests: readonly Descriptor[];
  /** the selected top descriptor (a manifest, or an index for several platforms) */
  readonly descriptor: Descriptor;
  /** a store serving every blob of the images, verified on read */
  readonly store: BlobStore;
  /** releases temp files behind the store (archives, daemon); a no-op for a layout */
  close(): Promise<void>;
  /**
   * finds the content of an OCI 1.1 artifact of `artifactType` whose subject is the manifest `subject`
   * (a build record, an SBOM), where the source can list artifacts: OCI layouts and registries
   */
  readonly findArtifact?: ArtifactFinder;
}

/** ArtifactFinder returns the content of the first artifact of a type referring to a manifest, undefined when none. */
export type ArtifactFinder = (subject: Digest, artifactType: string) => Promise<Uint8Array | undefined>;

/** MAX_ARTIFACT_BYTES bounds an artifact's content read back (a build record of a large image is a few MiB). */
export const MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;

/**
 * artifactAmong looks through `candidates` (the descriptors an index or the referrers list gives) for an
 * OCI artifact manifest of `artifactType` whose subject is `subject`, and returns its one layer's content.
 * `read` fetches a manifest or blob verified. Manifests that do not parse are passed over.
 */
export async function artifactAmong(
  candidates: readonly Descriptor[],
  subject: Digest,
  artifactType: string,
  read: (d: Descriptor, limit: number) => Promise<Uint8Array>,
): Promise<Uint8Array | undefined> {
  for (const d of candidates) {
    if (d.artifactType !== artifactType || d.mediaType !== MediaType.OciManifest) continue;
    let m: { artifactType?: unknown; subject?: { digest?: unknown }; layers?: Descriptor[] };
    try {
      m = parseJsonStrict(await read(d, DEFAULT_JSON_LIMIT), `artifact ${d.digest}`) as typeof m;
    } catch (e) {
      if (isFromscratchError(e)) continue;
      throw e;
    }
    const layer = Array.isArray(m.layers) ? m.layers[0] : undefined;
    if (m.artifactType !== artifactType || m.subject?.digest !== subject || !layer) continue;
    if (typeof layer.digest !== 'string' || typeof layer.size !== 'number') continue;
    if (layer.size > MAX_ARTIFACT_BYTES) {
      throw new FromscratchError(
        'TOO_LARGE',
        `artifact ${d.digest}: its content is ${layer.size} bytes, over ${MAX_ARTIFACT_BYTES}`,
        { hint: 'the artifact is not one fromscratch wrote' },
      );
    }
    return read(layer, MAX_ARTIFACT_BYTES);
  }
  return undefined;
}

/** MAX_IMAGES is the most images one read accepts (an index of indexes included); writers stay under it. */
export const MAX_IMAGES = 256;

/** MAX_INDEX_DEPTH is the deepest index nesting accepted (RELIABILITY.md D8). */
export const MAX_INDEX_DEPTH = 4;

/** ResolveOptions bounds the walk and filters platforms. */
export interface ResolveOptions {
  /** keep only images matching this platform */
  platform?: Platform;
  /** size cap of each JSON document (default 8 MiB) */
  jsonLimit?: number;
  /** deepest index nesting accepted (default 4, RELIABILITY.md D8) */
  maxDepth?: number;
  /** most images accepted in total (default 256) */
  maxImages?: number;
  /**
   * registries only: fetch manifests and configs, not layers (to read what an image is, as `why` does);
   * the set's store then lacks the layers. Other sources have their layers at hand and ignore it.
   */
  documentsOnly?: boolean;
}

/**
 * resolveImages reads the manifest or index `desc` from `store` and returns its images with their manifest
 * descriptors. Children of an index with platform `unknown/unknown` (build attestations) are skipped.
 * Throws DIGEST_MISMATCH / SIZE_MISMATCH / BLOB_NOT_FOUND for bad blobs, AMBIGUOUS_MANIFEST, TOO_LARGE,
 * INVALID_IMAGE for bad documents, and IMAGE_NOT_FOUND when no image matches the platform.
 */
export async function resolveImages(
  store: BlobStore,
  desc: Descriptor,
  what: string,
  opts: ResolveOptions = {},
): Promise<{ images: Image[]; manifests: Descriptor[] }> {
  const limit = opts.jsonLimit ?? DEFAULT_JSON_LIMIT;
  const maxDepth = opts.maxDepth ?? MAX_INDEX_DEPTH;
  const maxImages = opts.maxImages ?? MAX_IMAGES;
  const images: Image[] = [];
  const manifests: Descriptor[] = [];

  async function readDoc(d: Descriptor, kind: string): Promise<Uint8Array> {
    if (d.size > limit) {
      throw new FromscratchError(
        'TOO_LARGE',
        `${what}: ${kind} ${d.digest} is ${d.size} bytes, over the ${limit}-byte limit`,
        {
          hint: 'manifests, indexes and configs over the limit are refused to bound memory',
        },
      );
    }
    return readBlob(store, d.digest, d.size, limit);
  }

  async function walk(d: Descriptor, depth: number): Promise<void> {
    if (isIndexMediaType(d.mediaType)) {
      if (depth >= maxDepth) {
        throw new FromscratchError('TOO_LARGE', `${what}: indexes nested deeper than ${maxDepth}`, {
          hint: 'deeply nested indexes are refused to bound work',
        });
      }
      const idx = parseImageIndex(await readDoc(d, 'index'), {
        what: `${what}: index ${d.digest}`,
        limit,
        expectedMediaType: d.mediaType,
      });
      for (const child of idx.manifests) {
        if (child.platform?.os === 'unknown' && child.platform.architecture === 'unknown') continue;
        await walk(child, depth + 1);
      }
      return;
    }
    if (!isManifestMediaType(d.mediaType)) {
      throw new FromscratchError(
        'INVALID_IMAGE',
        `${what}: descriptor ${d.digest} has media type ${d.mediaType}, not a manifest or index`,
        {
          hint: 'only image manifests and indexes can be read as images',
        },
      );
    }
    const manifestBytes = await readDoc(d, 'manifest');
    const m = parseImageManifest(manifestBytes, {
      what: `${what}: manifest ${d.digest}`,
      limit,
      expectedMediaType: d.mediaType,
    });
    if (m.config.mediaType !== MediaType.OciConfig && m.config.mediaType !== MediaType.DockerConfig) {
      throw new FromscratchError(
        'INVALID_IMAGE',
        `${what}: manifest ${d.digest} has config media type ${m.config.mediaType}, not an image config`,
        {
          hint: 'the manifest is an artifact, not a runnable image',
        },
      );
    }
    const configBytes = await readDoc(m.config, 'config');
    const cfg = parseImageConfig(configBytes, {
      what: `${what}: config ${m.config.digest}`,
      limit,
    });
    // the documents are kept: writing the image again gives the same bytes, hence the same digests
    const img = withDocuments(toImage(m, cfg, `${what}: manifest ${d.digest}`), {
      manifest: manifestBytes,
      manifestMediaType: d.mediaType,
      config: configBytes,
      configDescriptor: m.config,
    });
    if (opts.platform && !platformMatches(img.platform, opts.platform)) return;
    if (images.length >= maxImages) {
      throw new FromscratchError('TOO_LARGE', `${what}: more than ${maxImages} images`, {
        hint: 'indexes that large are refused',
      });
    }
    images.push(img);
    manifests.push({ ...d, platform: d.platform ?? img.platform });
  }

  await walk(desc, 0);
  if (images.length === 0) {
    throw new FromscratchError(
      'IMAGE_NOT_FOUND',
      `${what}: no image${opts.platform ? ` for platform ${formatPlatform(opts.platform)}` : ''}`,
      { hint: 'choose another platform with --platform, or another image' },
    );
  }
  return { images, manifests };
}
