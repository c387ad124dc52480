/**
 * image.ts — immutable Image and Layer values. PURE.
 *
 * Layers are materialised in a BlobStore when they are created, so an Image is small synchronous
 * metadata. `rootfs.diff_ids` is derived from `layers` when serialising, so it cannot drift.
 */
import type { Descriptor } from '../model/descriptor.ts';
import { type Digest, sha256 } from '../model/digest.ts';
import type {
  HistoryEntry,
  ImageConfig,
  ImageIndex,
  ImageManifest,
  RuntimeConfig,
} from '../model/documents.ts';
import { MediaType } from '../model/media-type.ts';
import type { Platform } from '../model/platform.ts';
import { canonicalJson } from './canonical-json.ts';

/** Layer is one filesystem layer: its compressed blob and the digest of its uncompressed tar. */
export interface Layer {
  /** the stored (usually compressed) bytes */
  readonly blob: Descriptor;
  /** digest of the uncompressed tar (config.rootfs.diff_ids) */
  readonly diffId: Digest;
}

/** Image is an image's config, layers and history, without any I/O attached. */
export interface Image {
  readonly platform: Platform;
  /** the runtime config (Entrypoint, Env, User …) */
  readonly config: Readonly<RuntimeConfig>;
  readonly layers: readonly Layer[];
  readonly history: readonly HistoryEntry[];
  /** config `created`; absent means the epoch chosen by the caller at serialisation */
  readonly created?: string;
  readonly author?: string;
  /** manifest annotations */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** emptyImage is FROM scratch for a platform: no layers, no config. */
export function emptyImage(platform: Platform): Image {
  return { platform, config: {}, layers: [], history: [] };
}

/** appendLayers returns a new Image with layers added on top, each with a history entry. */
export function appendLayers(
  base: Image,
  layers: readonly Layer[],
  history: readonly HistoryEntry[] = [],
): Image {
  const hist = layers.map((_, i) => history[i] ?? {});
  return { ...base, layers: [...base.layers, ...layers], history: [...base.history, ...hist] };
}

/** ConfigPatch is a partial runtime config; `undefined` leaves a field as it is, `null` clears it. */
export type ConfigPatch = { [K in keyof RuntimeConfig]?: RuntimeConfig[K] | null };

/** withConfig returns a new Image with the runtime config patched. Env is merged by variable name. */
export function withConfig(
  base: Image,
  patch: ConfigPatch,
  extra: Partial<Pick<Image, 'created' | 'author' | 'annotations'>> = {},
): Image {
  const config: Record<string, unknown> = { ...base.config };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if (v === null) delete config[k];
    else if (k === 'Env') config.Env = mergeEnv(base.config.Env ?? [], v as string[]);
    else if (k === 'Labels')
      config.Labels = { ...(base.config.Labels ?? {}), ...(v as Record<string, string>) };
    else if (k === 'ExposedPorts' || k === 'Volumes')
      config[k] = { ...((base.config[k] as object) ?? {}), ...(v as object) };
    else config[k] = v;
  }
  return { ...base, ...extra, config: config as RuntimeConfig };
}

/** mergeEnv sets each `K=V` of `add` in `env`, replacing an earlier value of K in place. */
export function mergeEnv(env: readonly string[], add: readonly string[]): string[] {
  const out = [...env];
  for (const kv of add) {
    const k = kv.split('=', 1)[0]!;
    const i = out.findIndex((e) => e.split('=', 1)[0] === k);
    if (i >= 0) out[i] = kv;
    else out.push(kv);
  }
  return out;
}

/**
 * ImageDocuments are the exact manifest and config an image was read from. An image that has them is
 * written with those bytes (so its digests survive a copy, as with skopeo) unless another format is
 * asked for; an image made from it (appendLayers, withConfig) is a new value without them.
 */
export interface ImageDocuments {
  readonly manifest: Uint8Array;
  /** the manifest's media type, as its descriptor gave it */
  readonly manifestMediaType: string;
  readonly config: Uint8Array;
  readonly configDescriptor: Descriptor;
}

/** documents holds the source documents of the Image values that were read (by identity). */
const documents = new WeakMap<Image, ImageDocuments>();

/** withDocuments records the documents `img` was read from and returns `img` (readers call it after toImage). */
export function withDocuments(img: Image, docs: ImageDocuments): Image {
  documents.set(img, docs);
  return img;
}

/** manifestFormat tells whether a manifest media type is Docker's or OCI's. */
export function manifestFormat(mediaType: string): 'oci' | 'docker' {
  return mediaType === MediaType.DockerManifest ? 'docker' : 'oci';
}

/** indexFormat is Docker's manifest list when every manifest is Docker's, else an OCI index. */
export function indexFormat(manifests: readonly Descriptor[]): 'oci' | 'docker' {
  return manifests.every((m) => manifestFormat(m.mediaType) === 'docker') ? 'docker' : 'oci';
}

/** SerializeOptions chooses the document format and the `created` time. */
export interface SerializeOptions {
  /**
   * OCI or Docker v2 schema 2 media types. Default: an image read from documents keeps them as they are,
   * others are written with OCI media types. A format other than the documents' writes new ones.
   */
  format?: 'oci' | 'docker';
  /** RFC 3339 time written as `created` in config and history when the image has none (default the epoch) */
  created?: string;
}

/** OCI_LAYER_OF_DOCKER maps Docker layer media types to their OCI equivalents. */
const OCI_LAYER_OF_DOCKER: Readonly<Record<string, string>> = {
  [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip,
  [MediaType.DockerForeignLayerGzip]: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
};

/** SerializedImage holds the exact bytes of config and manifest, and the manifest's descriptor. */
export interface SerializedImage {
  readonly config: Uint8Array;
  readonly configDescriptor: Descriptor;
  readonly manifest: Uint8Array;
  /** descriptor of the manifest, with the platform set */
  readonly descriptor: Descriptor;
}

/** toImageConfig builds the config document of an image. */
export function toImageConfig(img: Image, opts: SerializeOptions = {}): ImageConfig {
  const created = img.created ?? opts.created ?? '1970-01-01T00:00:00Z';
  const cfg: ImageConfig = {
    created,
    ...(img.author ? { author: img.author } : {}),
    architecture: img.platform.architecture,
    os: img.platform.os,
    ...(img.platform.variant ? { variant: img.platform.variant } : {}),
    config: img.config as RuntimeConfig,
    rootfs: { type: 'layers', diff_ids: img.layers.map((l) => l.diffId) },
    // history[].created is always present: umoci 0.4.7 `stat` panics without it (RELIABILITY.md I8)
    history: img.history.map((h) => ({ created, ...h })),
  };
  return cfg;
}

/**
 * serializeImage encodes config and manifest canonically; same Image → same bytes → same digests. An
 * image read from documents (withDocuments) gives those documents back, unless `opts.format` differs.
 */
export function serializeImage(img: Image, opts: SerializeOptions = {}): SerializedImage {
  const docs = documents.get(img);
  if (docs && (opts.format === undefined || opts.format === manifestFormat(docs.manifestMediaType))) {
    return {
      config: docs.config,
      configDescriptor: docs.configDescriptor,
      manifest: docs.manifest,
      descriptor: {
        mediaType: docs.manifestMediaType,
        digest: sha256(docs.manifest),
        size: docs.manifest.byteLength,
        platform: img.platform,
      },
    };
  }
  const docker = opts.format === 'docker';
  const config = canonicalJson(toImageConfig(img, opts));
  const configDescriptor: Descriptor = {
    mediaType: docker ? MediaType.DockerConfig : MediaType.OciConfig,
    digest: sha256(config),
    size: config.byteLength,
  };
  const layers = img.layers.map((l) => {
    if (!docker) {
      // Docker layer types in an OCI manifest are invalid (oci-image-tool refuses them): convert, as skopeo does
      const oci = OCI_LAYER_OF_DOCKER[l.blob.mediaType];
      return oci ? { ...l.blob, mediaType: oci } : l.blob;
    }
    if (l.blob.mediaType !== MediaType.OciLayerGzip && l.blob.mediaType !== MediaType.DockerLayerGzip) {
      throw new Error(
        `layer ${l.blob.digest} (${l.blob.mediaType}) cannot be written with Docker media types`,
      );
    }
    return { ...l.blob, mediaType: MediaType.DockerLayerGzip };
  });
  const manifestDoc: ImageManifest = {
    schemaVersion: 2,
    mediaType: docker ? MediaType.DockerManifest : MediaType.OciManifest,
    config: configDescriptor,
    layers,
    ...(img.annotations && Object.keys(img.annotations).length > 0 && !docker
      ? { annotations: { ...img.annotations } }
      : {}),
  };
  const manifest = canonicalJson(manifestDoc);
  return {
    config,
    configDescriptor,
    manifest,
    descriptor: {
      mediaType: manifestDoc.mediaType!,
      digest: sha256(manifest),
      size: manifest.byteLength,
      platform: img.platform,
    },
  };
}

/** EMPTY_JSON is the OCI empty descriptor's content (`{}`), the config of an artifact manifest. */
export const EMPTY_JSON: Uint8Array = Buffer.from('{}');

/**
 * artifactManifest encodes an OCI 1.1 artifact manifest holding one blob (`data`, of `artifactType`) that
 * refers to `subject` (an SBOM of an image). Returns its bytes and descriptor (with artifactType).
 * https://github.com/opencontainers/image-spec/blob/main/manifest.md#guidelines-for-artifact-usage
 */
export function artifactManifest(
  subject: Descriptor,
  artifactType: string,
  data: Pick<Descriptor, 'digest' | 'size'>,
): { bytes: Uint8Array; descriptor: Descriptor } {
  const { platform: _platform, annotations: _annotations, ...subjectDesc } = subject;
  const bytes = canonicalJson({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType,
    config: { mediaType: MediaType.OciEmpty, digest: sha256(EMPTY_JSON), size: EMPTY_JSON.byteLength },
    layers: [{ mediaType: artifactType, digest: data.digest, size: data.size }],
    subject: subjectDesc,
  });
  return {
    bytes,
    descriptor: {
      mediaType: MediaType.OciManifest,
      digest: sha256(bytes),
      size: bytes.byteLength,
      artifactType,
    },
  };
}

/** IndexDocument is an index exactly as it was read: its bytes and media type. */
export interface IndexDocument {
  readonly bytes: Uint8Array;
  readonly mediaType: string;
}

/**
 * reuseIndex gives back an index that was read (so that a copy keeps its digest) when it lists exactly
 * `manifests` (digest, size and media type, in order) and nothing else; undefined otherwise (another
 * platform set, converted manifests, attestations left out): the caller then writes a new index.
 */
export function reuseIndex(
  index: IndexDocument | undefined,
  manifests: readonly Descriptor[],
): { bytes: Uint8Array; descriptor: Descriptor } | undefined {
  if (!index) return undefined;
  let listed: unknown;
  try {
    listed = (JSON.parse(Buffer.from(index.bytes).toString('utf8')) as { manifests?: unknown }).manifests;
  } catch {
    return undefined;
  }
  if (!Array.isArray(listed) || listed.length !== manifests.length) return undefined;
  const same = manifests.every((m, i) => {
    const d = listed[i] as Partial<Descriptor> | null;
    return d?.digest === m.digest && d.size === m.size && d.mediaType === m.mediaType;
  });
  if (!same) return undefined;
  return {
    bytes: index.bytes,
    descriptor: { mediaType: index.mediaType, digest: sha256(index.bytes), size: index.bytes.byteLength },
  };
}

/** serializeIndex encodes an image index over manifest descriptors. */
export function serializeIndex(
  manifests: readonly Descriptor[],
  format: 'oci' | 'docker' = 'oci',
  annotations?: Record<string, string>,
): { bytes: Uint8Array; descriptor: Descriptor } {
  const doc: ImageIndex = {
    schemaVersion: 2,
    mediaType: format === 'docker' ? MediaType.DockerManifestList : MediaType.OciIndex,
    manifests: [...manifests],
    ...(annotations ? { annotations } : {}),
  };
  const bytes = canonicalJson(doc);
  return { bytes, descriptor: { mediaType: doc.mediaType!, digest: sha256(bytes), size: bytes.byteLength } };
}
