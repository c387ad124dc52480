/**
 * inspect.ts — the data behind `fromscratch inspect IMAGE [--json]`: per platform the config, the layers
 * (digest, size, media type, diff_id) and the files of each layer with their sizes.
 *
 * Layers are read verified and decompressed in-process; tar headers are read with unpack's strict TarReader
 * (PAX and GNU long names bounded at 1 MiB, truncation and bad checksums refused) and the listing is
 * capped per layer.
 */
import type { BlobStore } from '../blob/store.ts';
import { readBlob } from '../blob/store.ts';
import { TarReader } from '../codec/tar-reader.ts';
import { FromscratchError, isFromscratchError, withContext } from '../errors.ts';
import { type Image, serializeImage, toImageConfig } from '../image/image.ts';
import type { Descriptor } from '../model/descriptor.ts';
import { type Digest, newHasher } from '../model/digest.ts';
import type { ImageConfig } from '../model/documents.ts';
import { formatPlatform, hostPlatform, type Platform, platformMatches } from '../model/platform.ts';
import { openLayerTar } from './decompress.ts';
import { diffIdMismatch } from './diff-id.ts';
import { type ReadImageOptions, readImage } from './image-io.ts';
import type { ImageSet } from './image-set.ts';
import { formatImageRef, type ImageRef, parseImageRef } from './transport.ts';

/** InspectedFile is one tar entry of a layer. */
export interface InspectedFile {
  /** absolute path in the image, e.g. `/usr/bin/curl` (non-UTF-8 bytes shown as U+FFFD) */
  readonly path: string;
  readonly type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'other';
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** content bytes (0 for all but regular files) */
  readonly size: number;
  /** symlink target or hardlink name */
  readonly linkTarget?: string;
}

/** InspectedLayer is one layer with its files. */
export interface InspectedLayer {
  readonly digest: Digest;
  readonly size: number;
  readonly mediaType: string;
  readonly diffId: Digest;
  /** the layer's history `created_by` (fromscratch writes what the layer holds: `fromscratch layer: package libc6`) */
  readonly createdBy?: string;
  /** the bytes of the uncompressed tar (absent when files were not listed) */
  readonly uncompressedSize?: number;
  /** the entries, in tar order (absent when files were not listed) */
  readonly files?: readonly InspectedFile[];
  /** true when the listing stopped at maxFilesPerLayer */
  readonly filesTruncated?: boolean;
}

/** InspectedImage is one platform's image. */
export interface InspectedImage {
  /** `os/arch[/variant]` */
  readonly platform: string;
  readonly manifest: Descriptor;
  /** the image ID: the digest of the config document (what `docker images` shows, shortened) */
  readonly imageId: Digest;
  /** the config document as fromscratch models it */
  readonly config: ImageConfig;
  readonly layers: readonly InspectedLayer[];
  /** sum of the layer blob sizes (what a pull transfers) */
  readonly compressedSize: number;
  /** sum of the regular file sizes over all layers (when files were listed) */
  readonly fileBytes?: number;
}

/** ImageInspection is the result of inspectImage. */
export interface ImageInspection {
  /** the reference as given, in transport syntax */
  readonly reference: string;
  /** the top descriptor (a manifest, or an index for several platforms) */
  readonly descriptor: Descriptor;
  readonly images: readonly InspectedImage[];
}

/** InspectOptions configures inspectImage. */
export interface InspectOptions extends ReadImageOptions {
  /** list the files of each layer (default true) */
  files?: boolean;
  /** most entries listed per layer (default 100 000) */
  maxFilesPerLayer?: number;
}

/**
 * listLayerFiles lists the entries of a layer blob in `store` (verified and decompressed). Throws the
 * blob and decompression errors, INVALID_ARCHIVE for a corrupt tar, and DIGEST_MISMATCH when `diffId`
 * is given and the uncompressed tar is not it (a config that does not describe its layers, issue 15.6).
 */
export async function listLayerFiles(
  store: BlobStore,
  blob: Descriptor,
  max = 100_000,
  diffId?: Digest,
): Promise<{ files: InspectedFile[]; truncated: boolean; uncompressedSize: number }> {
  const files: InspectedFile[] = [];
  let truncated = false;
  let uncompressedSize = 0;
  const source = openLayerTar(store, blob);
  const hasher = newHasher();
  const counted = (async function* () {
    for await (const c of source) {
      uncompressedSize += c.byteLength;
      hasher.update(c);
      yield c;
    }
  })();
  const reader = new TarReader(counted);
  try {
    for (;;) {
      const h = await reader.next(); // unread content is skipped: only headers are listed
      if (h === undefined) break;
      if (files.length >= max) {
        truncated = true;
        continue;
      }
      const name = wellFormed(h.name)
        .replace(/^\.?\/+/, '')
        .replace(/\/$/, '');
      files.push({
        path: `/${name}`,
        type: h.type,
        mode: h.mode,
        uid: h.uid,
        gid: h.gid,
        size: h.type === 'file' ? h.size : 0,
        ...(h.linkname ? { linkTarget: wellFormed(h.linkname) } : {}),
      });
    }
  } catch (e) {
    // the reader's complaints name an offset, not the layer; blob and decompression errors already do
    if (isFromscratchError(e, 'INVALID_ARCHIVE')) withContext(`layer ${blob.digest} is not a valid tar`, e);
    throw e;
  }
  // the reader stops at the end-of-archive marker: hash what follows too, as the diff_id covers it
  for await (const _ of counted) {
    // drained only to hash
  }
  if (diffId !== undefined) {
    const got = hasher.digest().digest;
    if (got !== diffId) throw diffIdMismatch(`layer ${blob.digest}`, got, diffId);
  }
  return { files, truncated, uncompressedSize };
}

/** wellFormed shows the bytes of a non-UTF-8 name (lone surrogates after surrogateescape) as U+FFFD. */
function wellFormed(s: string): string {
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** inspectImageSet describes the images of an ImageSet already read (any source, the registry included). */
export async function inspectImageSet(
  set: ImageSet,
  reference: string,
  opts: Pick<InspectOptions, 'files' | 'maxFilesPerLayer'> = {},
): Promise<ImageInspection> {
  const images: InspectedImage[] = [];
  for (const [i, img] of set.images.entries())
    images.push(await inspectOne(img, set.manifests[i]!, set.store, opts));
  return { reference, descriptor: set.descriptor, images };
}

async function inspectOne(
  img: Image,
  manifest: Descriptor,
  store: BlobStore,
  opts: Pick<InspectOptions, 'files' | 'maxFilesPerLayer'>,
): Promise<InspectedImage> {
  const layers: InspectedLayer[] = [];
  let fileBytes = 0;
  // history entries that made a layer, in layer order (when they add up, as the image spec requires)
  const made = img.history.filter((h) => h.empty_layer !== true);
  for (const [i, l] of img.layers.entries()) {
    const createdBy = made.length === img.layers.length ? made[i]?.created_by : undefined;
    const base = {
      digest: l.blob.digest,
      size: l.blob.size,
      mediaType: l.blob.mediaType,
      diffId: l.diffId,
      ...(createdBy !== undefined ? { createdBy } : {}),
    };
    if (opts.files === false) {
      layers.push(base);
      continue;
    }
    const listed = await listLayerFiles(store, l.blob, opts.maxFilesPerLayer, l.diffId);
    for (const f of listed.files) fileBytes += f.size;
    layers.push({
      ...base,
      uncompressedSize: listed.uncompressedSize,
      files: listed.files,
      ...(listed.truncated ? { filesTruncated: true } : {}),
    });
  }
  return {
    platform: formatPlatform(img.platform),
    manifest,
    imageId: serializeImage(img).configDescriptor.digest,
    config: toImageConfig(img),
    layers,
    compressedSize: img.layers.reduce((n, l) => n + l.blob.size, 0),
    ...(opts.files === false ? {} : { fileBytes }),
  };
}

/**
 * inspectImage reads an image from any transport and describes it: per platform the config, the layers
 * and (unless `files: false`) each layer's files with their sizes.
 * Throws the errors of readImage and of reading each layer.
 * @example const info = await inspectImage('oci:out:latest'); console.log(info.images[0].layers)
 */
export async function inspectImage(
  ref: ImageRef | string,
  opts: InspectOptions = {},
): Promise<ImageInspection> {
  const r = typeof ref === 'string' ? parseImageRef(ref) : ref;
  const set = await readImage(r, opts);
  try {
    return await inspectImageSet(set, formatImageRef(r), opts);
  } finally {
    await set.close();
  }
}

/**
 * readRawManifest returns the top document of an image set (its index, or its manifest) byte for byte as
 * the source stores it (`crane manifest`, `skopeo inspect --raw`). docker-archive and docker-daemon
 * sources store no manifest: for them it is the OCI manifest the image is read as (`stored: false`).
 * Throws the blob errors of the store.
 */
export async function readRawManifest(
  set: ImageSet,
): Promise<{ bytes: Uint8Array; mediaType: string; stored: boolean }> {
  const d = set.descriptor;
  if (set.images.length === 1) {
    const s = serializeImage(set.images[0]!);
    if (s.descriptor.digest === d.digest && !(await set.store.has(d.digest)))
      return { bytes: s.manifest, mediaType: s.descriptor.mediaType, stored: false };
  }
  return { bytes: await readBlob(set.store, d.digest, d.size), mediaType: d.mediaType, stored: true };
}

/**
 * readRawConfig returns the config document of the image for `platform` (default: the only image, else
 * the host's) byte for byte as read, with its digest (the image ID). Throws IMAGE_NOT_FOUND when no
 * image has the platform.
 */
export function readRawConfig(set: ImageSet, platform?: Platform): { bytes: Uint8Array; imageId: Digest } {
  const want = platform ?? (set.images.length === 1 ? undefined : hostPlatform());
  const img = want === undefined ? set.images[0] : set.images.find((i) => platformMatches(i.platform, want));
  if (img === undefined) {
    throw new FromscratchError('IMAGE_NOT_FOUND', `no image for platform ${formatPlatform(want!)}`, {
      hint: `the image has ${set.images.map((i) => formatPlatform(i.platform)).join(', ')}; choose one with --platform`,
    });
  }
  const s = serializeImage(img);
  return { bytes: s.config, imageId: s.configDescriptor.digest };
}
