/**
 * to-image.ts — turn a parsed manifest and config into an Image value. PURE.
 *
 * Every source (OCI layout, archives, the daemon) reads documents, validates them with src/model/json.ts,
 * and calls toImage. Config members that Image does not model are dropped; sources that have the
 * manifest and config bytes attach them (withDocuments), so that writing the image again gives the
 * original bytes and digests. An image made from it (new layers, config) is serialised canonically.
 */
import { FromscratchError } from '../errors.ts';
import type { Image } from '../image/image.ts';
import type { ImageConfig, ImageManifest } from '../model/documents.ts';
import { layerCompression } from '../model/media-type.ts';
import type { Platform } from '../model/platform.ts';

/**
 * toImage combines a manifest and its config into an Image. Throws INVALID_IMAGE when the manifest's
 * layers and the config's diff_ids differ in number, or a layer has no layer media type. `what` names the
 * image in messages.
 */
export function toImage(manifest: ImageManifest, config: ImageConfig, what = 'image'): Image {
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new FromscratchError(
      'INVALID_IMAGE',
      `${what}: the manifest has ${manifest.layers.length} layers but the config has ${diffIds.length} diff_ids`,
      { hint: 'the image is corrupt; rebuild it' },
    );
  }
  manifest.layers.forEach((l, i) => {
    if (layerCompression(l.mediaType) === undefined) {
      throw new FromscratchError(
        'INVALID_IMAGE',
        `${what}: layers[${i}] has media type ${l.mediaType}, which is not a layer type`,
        {
          hint: 'only tar, tar+gzip and tar+zstd layers are supported',
        },
      );
    }
  });
  const platform: Platform = {
    os: config.os,
    architecture: config.architecture,
    ...(config.variant ? { variant: config.variant } : {}),
    ...(config['os.version'] ? { 'os.version': config['os.version'] } : {}),
  };
  return {
    platform,
    config: config.config ?? {},
    layers: manifest.layers.map((blob, i) => ({ blob, diffId: diffIds[i]! })),
    history: config.history ?? [],
    ...(config.created !== undefined ? { created: config.created } : {}),
    ...(config.author !== undefined ? { author: config.author } : {}),
    ...(manifest.annotations !== undefined ? { annotations: manifest.annotations } : {}),
  };
}
