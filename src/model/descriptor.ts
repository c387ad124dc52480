/**
 * descriptor.ts — content descriptors. PURE.
 * https://github.com/opencontainers/image-spec/blob/main/descriptor.md
 */
import type { Digest } from './digest.ts';
import type { Platform } from './platform.ts';

/** Descriptor points at a blob by media type, digest and size. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: Platform;
  readonly urls?: readonly string[];
  readonly artifactType?: string;
}
