/**
 * inspect.ts — the data behind `fromscratch inspect IMAGE [--json]`: per platform the config, the layers
 * (digest, size, media type, diff_id) and the files of each layer with their sizes.
 *
 * Layers are read verified and decompressed in-process; tar headers are read with tar-stream (whose long
 * header cap bounds PAX and GNU long names at 1 MiB) and the listing is capped per layer.
 */
import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import type { BlobStore } from '../blob/store.ts';
import { FromscratchError, isFromscratchError } from '../errors.ts';
import { type Image, toImageConfig } from '../image/image.ts';
import type { Descriptor } from '../model/descriptor.ts';
import type { Digest } from '../model/digest.ts';
import type { ImageConfig } from '../model/documents.ts';
import { formatPlatform } from '../model/platform.ts';
import { openLayerTar } from './decompress.ts';
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

const TYPES: Record<string, InspectedFile['type']> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'dir',
  symlink: 'symlink',
  link: 'hardlink',
  'character-device': 'char',
  'block-device': 'block',
  fifo: 'fifo',
};

/**
 * listLayerFiles lists the entries of a layer blob in `store` (verified and decompressed). Throws the
 * blob and decompression errors, INVALID_ARCHIVE for a corrupt tar.
 */
export async function listLayerFiles(
  store: BlobStore,
  blob: Descriptor,
  max = 100_000,
): Promise<{ files: InspectedFile[]; truncated: boolean; uncompressedSize: number }> {
  const files: InspectedFile[] = [];
  let truncated = false;
  let uncompressedSize = 0;
  const source = openLayerTar(store, blob);
  const counted = (async function* () {
    for await (const c of source) {
      uncompressedSize += c.byteLength;
      yield c;
    }
  })();
  const extract = tarStream.extract();
  const input = Readable.from(counted);
  let inputError: unknown;
  input.on('error', (e: Error) => {
    inputError = e;
    extract.destroy(e);
  });
  input.pipe(extract);
  try {
    for await (const entry of extract) {
      const h = entry.header;
      if (files.length < max) {
        const name = h.name.replace(/^\.?\/+/, '').replace(/\/$/, '');
        files.push({
          path: `/${name}`,
          type: TYPES[h.type ?? 'file'] ?? 'other',
          mode: h.mode ?? 0,
          uid: h.uid ?? 0,
          gid: h.gid ?? 0,
          size: h.type === 'file' || h.type === 'contiguous-file' ? (h.size ?? 0) : 0,
          ...(h.linkname ? { linkTarget: h.linkname } : {}),
        });
      } else truncated = true;
      for await (const _ of entry as unknown as AsyncIterable<Uint8Array>) {
        // content skipped: only headers are listed
      }
    }
  } catch (e) {
    const err = inputError ?? e;
    if (isFromscratchError(err)) throw err;
    throw new FromscratchError(
      'INVALID_ARCHIVE',
      `layer ${blob.digest} is not a valid tar: ${(err as Error).message}`,
      {
        hint: 'the layer is corrupt; rebuild the image',
        cause: err,
      },
    );
  }
  if (inputError !== undefined) throw inputError;
  return { files, truncated, uncompressedSize };
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
  for (const l of img.layers) {
    const base = { digest: l.blob.digest, size: l.blob.size, mediaType: l.blob.mediaType, diffId: l.diffId };
    if (opts.files === false) {
      layers.push(base);
      continue;
    }
    const listed = await listLayerFiles(store, l.blob, opts.maxFilesPerLayer);
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
