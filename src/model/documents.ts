/**
 * documents.ts — the JSON documents of an image: config, manifest, index, and Docker's archive manifest. PURE.
 * https://github.com/opencontainers/image-spec/blob/main/config.md
 * https://github.com/opencontainers/image-spec/blob/main/manifest.md
 * https://github.com/opencontainers/image-spec/blob/main/image-index.md
 */
import type { Descriptor } from './descriptor.ts';
import type { Digest } from './digest.ts';

/** RuntimeConfig is the `config` object of an image config: how a container of it runs. */
export interface RuntimeConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  /** Docker extension, kept when inherited or set from a Dockerfile */
  Healthcheck?: {
    Test?: string[];
    Interval?: number;
    Timeout?: number;
    StartPeriod?: number;
    Retries?: number;
  };
  /** Docker extension: SHELL from a Dockerfile */
  Shell?: string[];
  /** Docker extension: ONBUILD triggers, recorded not run */
  OnBuild?: string[];
  ArgsEscaped?: boolean;
}

/** HistoryEntry is one step of an image's history. `created` is always written (umoci 0.4.7 panics without it). */
export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** ImageConfig is the image configuration document (OCI and Docker share this shape). */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  config?: RuntimeConfig;
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  history?: HistoryEntry[];
}

/** ImageManifest is an OCI image manifest or Docker v2 schema 2 manifest. */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** ImageIndex is an OCI image index or Docker manifest list. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** DockerArchiveManifestEntry is one entry of a docker-archive `manifest.json`. */
export interface DockerArchiveManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

/** Annotation keys fromscratch writes. */
export const Annotation = {
  RefName: 'org.opencontainers.image.ref.name',
  /** containerd and podman name images loaded from a layout by this */
  ContainerdImageName: 'io.containerd.image.name',
  Created: 'org.opencontainers.image.created',
} as const;
