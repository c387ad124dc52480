/**
 * transports.ts — every transport, the registry included: readImage/writeImage of oci/ with the
 * registry client of registry/ plugged in, and `copy` between any two.
 */
import { type BlobStore, readBlob } from '../blob/store.ts';
import type { Image, IndexDocument } from '../image/image.ts';
import type { Descriptor } from '../model/descriptor.ts';
import { parseDockerReference } from '../model/docker-reference.ts';
import { isIndexMediaType } from '../model/media-type.ts';
import type { Platform } from '../model/platform.ts';
import { checkOutput } from '../oci/check-output.ts';
import { withDiffIdChecks } from '../oci/diff-id.ts';
import {
  type ReadImageOptions,
  type RegistryHooks,
  readImage,
  type WriteImageOptions,
  writeImage,
} from '../oci/image-io.ts';
import type { ImageSet } from '../oci/image-set.ts';
import type { WrittenImage } from '../oci/oci-layout.ts';
import { type ImageRef, parseOutputRef } from '../oci/transport.ts';
import type { RegistryClientOptions } from '../registry/client.ts';
import { findReferrer, pullImages } from '../registry/pull.ts';
import { type PushProgress, pushImage } from '../registry/push.ts';
import { parseReference, type Reference } from '../registry/reference.ts';
import type { BlobLocations } from './blob-locations.ts';

/** TransportOptions are the settings shared by reads and writes of any transport. */
export interface TransportOptions {
  /** registry client settings (insecure registries, CA files, credentials) */
  registry?: RegistryClientOptions;
  /** where pulled blobs are kept */
  store: BlobStore;
  /**
   * repositories known to hold blobs: pushes mount from them, pushes and pulls add to them
   * (default none: every blob missing from the target repository is uploaded)
   */
  blobLocations?: BlobLocations;
  /** blobs this process has just pushed to `registry/repository` (the early push): a push skips them */
  pushed?: (registry: string, repository: string, digest: string) => boolean;
}

/** registryHooks plugs the distribution client into oci/'s readImage and writeImage. */
export function registryHooks(o: TransportOptions): RegistryHooks {
  const clientOptions = o.registry ?? {};
  return {
    async read(reference, ropts): Promise<ImageSet> {
      const pulled = await pullImages(reference, o.store, {
        clientOptions,
        platforms: ropts.platform ? [ropts.platform] : 'all',
        ...(ropts.documentsOnly ? { layers: false } : {}),
        ...(ropts.jsonLimit !== undefined ? { documentLimit: ropts.jsonLimit } : {}),
      });
      if (o.blobLocations && !ropts.documentsOnly) {
        const r = parseReference(reference);
        for (const p of pulled.images)
          for (const l of p.image.layers) o.blobLocations.note(r.registry, r.repository, l.blob.digest);
        await o.blobLocations.save().catch(() => {
          /* a hint only: a build does not fail for it */
        });
      }
      const manifests: Descriptor[] = pulled.images.map((p) => ({
        ...p.manifest,
        platform: p.image.platform,
      }));
      const descriptor: Descriptor = pulled.index && !ropts.platform ? pulled.index : manifests[0]!;
      return {
        images: pulled.images.map((p) => p.image),
        manifests,
        descriptor,
        store: o.store,
        close: async () => {},
        findArtifact: (subject, artifactType) =>
          findReferrer(reference, subject, artifactType, o.store, { clientOptions }),
      };
    },
    async write(reference, images, store, wopts = {}): Promise<WrittenImage> {
      const given = parseReference(reference);
      // the output's own tag (or digest), then every -t tag in the same repository; `latest` only when
      // neither the output nor -t names a tag
      const explicit = parseDockerReference(reference.replace(/^docker:\/\//, ''));
      const own = explicit.tag !== undefined || explicit.digest !== undefined ? [given] : [];
      const extra: Reference[] = (wopts.tags ?? []).map((tag) => ({
        registry: given.registry,
        host: given.host,
        repository: given.repository,
        tag,
      }));
      const targets = [...own, ...extra].filter(
        (t, i, all) => all.findIndex((u) => u.tag === t.tag && u.digest === t.digest) === i,
      );
      if (targets.length === 0) targets.push(given);
      const where = o.blobLocations;
      let r: Awaited<ReturnType<typeof pushImage>> | undefined;
      for (const ref of targets) {
        const pushed = await pushImage(ref, images, store, {
          clientOptions,
          ...(o.pushed
            ? { present: (d: Descriptor) => o.pushed?.(ref.registry, ref.repository, d.digest) === true }
            : {}),
          ...(wopts.sourceIndex !== undefined ? { sourceIndex: wopts.sourceIndex } : {}),
          ...(where
            ? {
                mountFrom: (d: Descriptor) => where.find(ref.registry, d.digest, ref.repository),
                onProgress: (e: PushProgress) => {
                  if (e.kind === 'blob') where.note(ref.registry, ref.repository, e.digest);
                },
              }
            : {}),
        });
        r ??= pushed;
      }
      if (r === undefined) throw new Error('no push target'); // targets is never empty
      await where?.save().catch(() => {
        /* a hint only: the push succeeded */
      });
      return {
        descriptor: { mediaType: r.mediaType, digest: r.digest, size: r.size },
        manifests: r.manifests.map((m) => ({
          mediaType: r.mediaType,
          digest: m.digest,
          size: 0,
          platform: m.platform,
        })),
      };
    },
  };
}

/** readAnyImage reads an image from any transport, registries included. Call close() on the result. */
export function readAnyImage(
  ref: ImageRef | string,
  o: TransportOptions,
  opts: Omit<ReadImageOptions, 'registry'> = {},
): Promise<ImageSet> {
  return readImage(ref, { ...opts, registry: registryHooks(o) });
}

/** writeAnyImage writes images to any transport, registries included. */
export function writeAnyImage(
  ref: ImageRef | string,
  images: readonly Image[],
  store: BlobStore,
  o: TransportOptions,
  opts: Omit<WriteImageOptions, 'registry'> = {},
): Promise<WrittenImage> {
  return writeImage(ref, images, store, { ...opts, registry: registryHooks(o) });
}

/** CopyOptions configures copyImage. */
export interface CopyOptions extends TransportOptions {
  /** copy only this platform (default all) */
  platform?: Platform;
}

/**
 * copyImage copies an image between two transports and returns the digest written. As with skopeo,
 * nothing is re-encoded that need not be: layers are copied as they are, manifests and configs keep
 * their bytes (hence their digests), and so does the index when every image it lists is copied. An OCI
 * layout gets OCI media types: Docker manifests are converted for it (new digests).
 */
export async function copyImage(src: string, dest: string, o: CopyOptions): Promise<string> {
  // the destination is checked before anything is pulled
  await checkOutput(parseOutputRef(dest));
  const read = await readAnyImage(src, o, o.platform ? { platform: o.platform } : {});
  try {
    // layers are passed on as they are: check them against the config's diff_ids while they stream (15.6)
    const set = withDiffIdChecks(read, src);
    const d = set.descriptor;
    const sourceIndex: IndexDocument | undefined = isIndexMediaType(d.mediaType)
      ? { bytes: await readBlob(set.store, d.digest, d.size), mediaType: d.mediaType }
      : undefined;
    const written = await writeAnyImage(dest, set.images, set.store, o, {
      ...(o.platform ? { platform: o.platform } : {}),
      ...(sourceIndex ? { sourceIndex } : {}),
    });
    return written.descriptor.digest;
  } finally {
    await read.close();
  }
}
