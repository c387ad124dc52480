/**
 * media-type.ts — the media types fromscratch reads and writes. PURE.
 * https://github.com/opencontainers/image-spec/blob/main/media-types.md
 */

/** MediaType lists OCI and Docker v2 schema 2 media types. */
export const MediaType = {
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  OciEmpty: 'application/vnd.oci.empty.v1+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  SpdxJson: 'application/spdx+json',
  CycloneDxJson: 'application/vnd.cyclonedx+json',
  /** fromscratch's build record (why every file is there), attached with `build --attach-record` */
  BuildRecord: 'application/vnd.fromscratch.build-record.v1+json',
} as const;
export type MediaType = (typeof MediaType)[keyof typeof MediaType];

/** Compression names the layer compressions fromscratch writes. */
export type Compression = 'gzip' | 'zstd' | 'none';

/** isIndexMediaType tells whether mt names an image index / manifest list. */
export function isIndexMediaType(mt: string): boolean {
  return mt === MediaType.OciIndex || mt === MediaType.DockerManifestList;
}

/** isManifestMediaType tells whether mt names an image manifest. */
export function isManifestMediaType(mt: string): boolean {
  return mt === MediaType.OciManifest || mt === MediaType.DockerManifest;
}

/** layerCompression tells the compression a layer media type declares, or undefined if it is not a layer type. */
export function layerCompression(mt: string): Compression | undefined {
  switch (mt) {
    case MediaType.OciLayer:
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar':
      return 'none';
    case MediaType.OciLayerGzip:
    case MediaType.DockerLayerGzip:
    case MediaType.DockerForeignLayerGzip:
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip':
      return 'gzip';
    case MediaType.OciLayerZstd:
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd':
      return 'zstd';
    default:
      return undefined;
  }
}

/** layerMediaType returns the layer media type for a compression in the OCI or Docker format. */
export function layerMediaType(c: Compression, format: 'oci' | 'docker'): MediaType {
  if (format === 'docker') {
    if (c !== 'gzip') throw new Error(`docker media types have no ${c} layer type`);
    return MediaType.DockerLayerGzip;
  }
  return c === 'gzip' ? MediaType.OciLayerGzip : c === 'zstd' ? MediaType.OciLayerZstd : MediaType.OciLayer;
}
