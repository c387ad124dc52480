/**
 * image-io.ts — readImage and writeImage: one entry point per direction, dispatching an ImageRef to its
 * source or sink. The registry transport is a hook the caller supplies (src/registry owns the client), so
 * this folder does not depend on it.
 */
import type { BlobStore } from '../blob/store.ts';
import { FromscratchError } from '../errors.ts';
import type { Image, IndexDocument } from '../image/image.ts';
import {
  familiarDockerReference,
  formatDockerReference,
  parseDockerReference,
} from '../model/docker-reference.ts';
import { formatPlatform, hostPlatform, type Platform, platformMatches } from '../model/platform.ts';
import { type DockerArchiveWritten, readDockerArchive, writeDockerArchive } from './docker-archive.ts';
import { type DockerDaemonOptions, readDockerDaemon, writeDockerDaemon } from './docker-daemon.ts';
import type { ImageSet, ResolveOptions } from './image-set.ts';
import { readOciArchive, writeOciArchive } from './oci-archive.ts';
import { readOciLayout, type WrittenImage, writeOciLayout } from './oci-layout.ts';
import { type ImageRef, parseImageRef, parseOutputRef } from './transport.ts';

/** RegistryHooks connect the registry transport (implemented in src/registry) to readImage/writeImage. */
export interface RegistryHooks {
  /** pulls `reference` (without docker://) into an ImageSet */
  read?(reference: string, opts: ResolveOptions): Promise<ImageSet>;
  /**
   * pushes images to `reference` (with the index they were read from, to keep its digest when it still
   * fits), and under each of `tags` in the same repository (a reference without a tag then gets only those)
   */
  write?(
    reference: string,
    images: readonly Image[],
    store: BlobStore,
    opts?: { sourceIndex?: IndexDocument; tags?: readonly string[] },
  ): Promise<WrittenImage>;
}

/** ReadImageOptions configures readImage. */
export interface ReadImageOptions extends ResolveOptions, DockerDaemonOptions {
  /** where archives are unpacked (default os.tmpdir()) */
  tmpDir?: string;
  /** the registry transport; without it docker:// references are refused */
  registry?: RegistryHooks;
}

function noRegistry(ref: string): FromscratchError {
  return new FromscratchError(
    'INVALID_REFERENCE',
    `the registry transport is not available here: docker://${ref}`,
    {
      hint: 'use the fromscratch CLI or pass a registry hook; or copy the image to oci:DIR first',
    },
  );
}

/** platformFilter keeps only images of `platform` when given. */
function filterPlatform(set: ImageSet, platform: Platform | undefined, what: string): ImageSet {
  if (!platform) return set;
  const keep = set.images
    .map((img, i) => [img, set.manifests[i]!] as const)
    .filter(([img]) => platformMatches(img.platform, platform));
  if (keep.length === 0) {
    throw new FromscratchError(
      'IMAGE_NOT_FOUND',
      `${what}: no image for platform ${formatPlatform(platform)}`,
      {
        hint: `it has ${set.images.map((i) => formatPlatform(i.platform)).join(', ')}`,
      },
    );
  }
  return { ...set, images: keep.map(([i]) => i), manifests: keep.map(([, m]) => m) };
}

/**
 * readImage reads the image(s) an ImageRef (or transport string) names: every document verified and
 * validated, layers served verified by the returned store. Call close() on the result when done.
 * Throws INVALID_REFERENCE, FILE_NOT_FOUND, IMAGE_NOT_FOUND, DAEMON_ERROR, and the errors of each source.
 * @example const set = await readImage('oci:out:latest'); try { … } finally { await set.close(); }
 */
export async function readImage(ref: ImageRef | string, opts: ReadImageOptions = {}): Promise<ImageSet> {
  const r = typeof ref === 'string' ? parseImageRef(ref) : ref;
  const archiveOpts = opts.tmpDir === undefined ? {} : { tmpDir: opts.tmpDir };
  switch (r.kind) {
    case 'oci':
      return readOciLayout(r.dir, r.tag, opts);
    case 'oci-archive':
      return readOciArchive(r.file, r.tag, { ...opts, ...archiveOpts });
    case 'docker-archive': {
      const set = await readDockerArchive(r.file, r.name, archiveOpts);
      return closeOnThrow(set, () => filterPlatform(set, opts.platform, `docker-archive ${r.file}`));
    }
    case 'docker-daemon': {
      const set = await readDockerDaemon(r.name, { ...archiveOpts, ...daemonOpts(opts) });
      return closeOnThrow(set, () => filterPlatform(set, opts.platform, `docker-daemon:${r.name}`));
    }
    case 'registry':
      if (!opts.registry?.read) throw noRegistry(r.reference);
      return opts.registry.read(r.reference, opts);
  }
}

async function closeOnThrow(set: ImageSet, f: () => ImageSet): Promise<ImageSet> {
  try {
    return f();
  } catch (e) {
    await set.close();
    throw e;
  }
}

function daemonOpts(o: DockerDaemonOptions): DockerDaemonOptions {
  return {
    ...(o.socketPath !== undefined ? { socketPath: o.socketPath } : {}),
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
  };
}

/** WriteImageOptions configures writeImage. */
export interface WriteImageOptions extends DockerDaemonOptions {
  /** media types of an oci/oci-archive output (default 'oci'; a registry push keeps the documents an image was read from, of either format) */
  format?: 'oci' | 'docker';
  /** RFC 3339 `created` for images that have none (default the epoch) */
  created?: string;
  /** fsync outputs (default true) */
  fsync?: boolean;
  /** the one platform written to single-platform sinks (docker-archive, docker-daemon) when there are several (default the host's) */
  platform?: Platform;
  /** the registry transport; without it docker:// references are refused */
  registry?: RegistryHooks;
  /** the index the images were read from (copy): written as it is where it lists exactly their manifests */
  sourceIndex?: IndexDocument;
  /**
   * further names (`-t`, docker references such as `app:1` or `127.0.0.1:5000/app:1`) given to the image
   * in every sink that names images: all of them in docker-archive and docker-daemon, their tags in an
   * OCI layout (with the full name as `io.containerd.image.name`) and in the output's registry repository
   * (default none)
   */
  tags?: readonly string[];
}

/** TagName is one `-t` name: as docker shows it, in full, and its tag. */
interface TagName {
  readonly familiar: string;
  readonly full: string;
  readonly tag: string;
}

/**
 * parseTagNames reads `-t` names: docker references with a tag (default latest) and no digest.
 * Throws INVALID_REFERENCE naming the bad one.
 */
export function parseTagNames(names: readonly string[]): TagName[] {
  return names.map((n) => {
    if (n.includes('@')) {
      throw new FromscratchError(
        'INVALID_REFERENCE',
        `tag ${JSON.stringify(n)}: a tag names an image, it cannot hold a digest`,
        {
          hint: 'write -t NAME[:TAG], e.g. -t app:1 or -t 127.0.0.1:5000/app:1',
        },
      );
    }
    const r = parseDockerReference(n);
    const tagged = { ...r, tag: r.tag ?? 'latest' };
    return {
      familiar: familiarDockerReference(tagged),
      full: formatDockerReference(tagged),
      tag: tagged.tag,
    };
  });
}

/** pickOne chooses the image a single-platform sink gets. */
export function pickOne(images: readonly Image[], platform: Platform | undefined, what: string): Image {
  if (images.length === 1 && !platform) return images[0]!;
  const want = platform ?? hostPlatform();
  const hit = images.find((i) => platformMatches(i.platform, want));
  if (!hit) {
    throw new FromscratchError(
      'IMAGE_NOT_FOUND',
      `${what} holds one platform and there is no image for ${formatPlatform(want)}`,
      {
        hint: `choose one of ${images.map((i) => formatPlatform(i.platform)).join(', ')} with --platform`,
      },
    );
  }
  return hit;
}

/**
 * writeImage writes images (one per platform) with their blobs from `store` to the sink an ImageRef names.
 * docker-archive and docker-daemon hold one platform: the one of `opts.platform`, else the host's (or
 * the only image). Returns what was written (with `imageId` for Docker sinks).
 * Throws INVALID_REFERENCE, OUTPUT_UNWRITABLE, DAEMON_ERROR, IMAGE_NOT_FOUND (no image for the platform),
 * and the blob errors of the sinks.
 * @example await writeImage('oci:out:latest', [image], store)
 */
export async function writeImage(
  ref: ImageRef | string,
  images: readonly Image[],
  store: BlobStore,
  opts: WriteImageOptions = {},
): Promise<WrittenImage | DockerArchiveWritten> {
  const r = typeof ref === 'string' ? parseOutputRef(ref) : ref;
  const names = parseTagNames(opts.tags ?? []);
  const moreTags = names.map((n) => ({ tag: n.tag, imageName: n.full }));
  const common = {
    ...(opts.format !== undefined ? { format: opts.format } : {}),
    ...(opts.created !== undefined ? { created: opts.created } : {}),
    ...(opts.fsync !== undefined ? { fsync: opts.fsync } : {}),
    ...(opts.sourceIndex !== undefined ? { sourceIndex: opts.sourceIndex } : {}),
  };
  switch (r.kind) {
    case 'oci':
      return writeOciLayout(r.dir, images, store, {
        ...common,
        ...(r.tag !== undefined ? { tag: r.tag } : {}),
        moreTags,
      });
    case 'oci-archive':
      return writeOciArchive(r.file, images, store, {
        ...common,
        ...(r.tag !== undefined ? { tag: r.tag } : {}),
        moreTags,
      });
    case 'docker-archive': {
      const repoTags = [
        ...new Set([...(r.name !== undefined ? [r.name] : []), ...names.map((n) => n.familiar)]),
      ];
      return writeDockerArchive(r.file, pickOne(images, opts.platform, `docker-archive ${r.file}`), store, {
        ...(repoTags.length > 0 ? { repoTags } : {}),
        ...(opts.created !== undefined ? { created: opts.created } : {}),
        ...(opts.fsync !== undefined ? { fsync: opts.fsync } : {}),
      });
    }
    case 'docker-daemon':
      if (r.name.startsWith('sha256:')) {
        throw new FromscratchError(
          'INVALID_REFERENCE',
          `cannot write to docker-daemon:${r.name}: an image ID is not a name`,
          {
            hint: 'write to docker-daemon:NAME:TAG',
          },
        );
      }
      return writeDockerDaemon(r.name, pickOne(images, opts.platform, `docker-daemon:${r.name}`), store, {
        ...daemonOpts(opts),
        moreNames: names.map((n) => n.familiar),
        ...(opts.created !== undefined ? { created: opts.created } : {}),
      });
    case 'registry':
      if (!opts.registry?.write) throw noRegistry(r.reference);
      return opts.registry.write(r.reference, images, store, {
        ...(opts.sourceIndex !== undefined ? { sourceIndex: opts.sourceIndex } : {}),
        ...(names.length > 0 ? { tags: names.map((n) => n.tag) } : {}),
      });
  }
}
