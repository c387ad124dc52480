/**
 * docker-archive.ts — the tar `docker save` writes and `docker load` reads, as a sink and a source.
 * https://github.com/moby/moby/blob/master/image/spec/v1.2.md (combined image JSON + filesystem changeset)
 *
 * Written in the legacy layout every Docker Engine since 1.10 and skopeo read: `<config-hex>.json`,
 * `<diffid-hex>/layer.tar` (uncompressed, so the file's digest is the diff_id), `manifest.json` and
 * `repositories`. Layers are decompressed in-process and checked against their diff_id before anything is
 * written. Reading also accepts Docker 25+ archives (`blobs/sha256/<hex>` names) and compressed layer files.
 */
import type { BlobStore } from '../blob/store.ts';
import { readBlob } from '../blob/store.ts';
import { FromscratchError } from '../errors.ts';
import { canonicalJson } from '../image/canonical-json.ts';
import { type Image, serializeImage } from '../image/image.ts';
import type { Descriptor } from '../model/descriptor.ts';
import { type Digest, digestHex, newHasher } from '../model/digest.ts';
import type { DockerArchiveManifestEntry, ImageManifest } from '../model/documents.ts';
import { DEFAULT_JSON_LIMIT, parseImageConfig, parseJsonStrict } from '../model/json.ts';
import { layerCompression, MediaType } from '../model/media-type.ts';
import {
  type ArchiveContents,
  type ArchiveEntry,
  type ReadArchiveOptions,
  readArchive,
  tarChunks,
  writeArchiveFile,
} from './archive-file.ts';
import { decompressStream, openLayerTar, sniffLayerCompression } from './decompress.ts';
import type { ImageSet } from './image-set.ts';
import { checkReadable, type WrittenImage } from './oci-layout.ts';
import { toImage } from './to-image.ts';
import { parseDockerName } from './transport.ts';

/** WriteDockerArchiveOptions configures writeDockerArchive. */
export interface WriteDockerArchiveOptions {
  /** names the image gets on `docker load`, `REPO[:TAG]` (default none: loaded untagged) */
  repoTags?: readonly string[];
  /** RFC 3339 `created` when the image has none (default the epoch) */
  created?: string;
  /** fsync the file (default true) */
  fsync?: boolean;
}

/** DockerArchiveWritten is what writeDockerArchive reports. */
export interface DockerArchiveWritten extends WrittenImage {
  /** the image ID Docker shows: the digest of the config */
  readonly imageId: Digest;
}

interface PlannedLayer {
  readonly blob: Descriptor;
  readonly diffId: Digest;
  readonly tarSize: number;
}

/** planLayers decompresses each distinct layer once to check its diff_id and learn the tar size. */
async function planLayers(image: Image, store: BlobStore): Promise<PlannedLayer[]> {
  const out = new Map<Digest, PlannedLayer>();
  for (const l of image.layers) {
    if (out.has(l.diffId)) continue;
    if (layerCompression(l.blob.mediaType) === 'none') {
      if (l.blob.digest !== l.diffId) throw diffIdMismatch(l.blob.digest, l.blob.digest, l.diffId);
      out.set(l.diffId, { blob: l.blob, diffId: l.diffId, tarSize: l.blob.size });
      continue;
    }
    const h = newHasher();
    for await (const c of openLayerTar(store, l.blob)) h.update(c);
    const { digest, size } = h.digest();
    if (digest !== l.diffId) throw diffIdMismatch(l.blob.digest, digest, l.diffId);
    out.set(l.diffId, { blob: l.blob, diffId: l.diffId, tarSize: size });
  }
  return [...out.values()];
}

function diffIdMismatch(blob: Digest, got: Digest, want: Digest): FromscratchError {
  return new FromscratchError(
    'DIGEST_MISMATCH',
    `layer ${blob}: uncompressed content hashes to ${got}, but the config says diff_id ${want}`,
    {
      hint: 'the layer or its config is corrupt; rebuild the image',
    },
  );
}

/**
 * dockerArchiveEntries plans the entries of a docker-archive for one image (exported for the daemon,
 * which streams the same bytes). Throws INVALID_REFERENCE for a bad repo tag, DIGEST_MISMATCH when a layer
 * does not decompress to its diff_id, and blob read errors.
 */
export async function dockerArchiveEntries(
  image: Image,
  store: BlobStore,
  opts: Pick<WriteDockerArchiveOptions, 'repoTags' | 'created'> = {},
): Promise<{ entries: ArchiveEntry[]; imageId: Digest; serialized: ReturnType<typeof serializeImage> }> {
  const repoTags = (opts.repoTags ?? []).map((t) => parseDockerName(t));
  // an image read from documents keeps its config bytes: the image ID is its config digest
  const s = serializeImage(image, opts.created !== undefined ? { created: opts.created } : {});
  // what readDockerArchive would refuse is never written (issue 15.5)
  checkReadable([image], {
    documents: [
      { descriptor: s.configDescriptor, bytes: s.config },
      { descriptor: s.descriptor, bytes: s.manifest },
    ],
  });
  const layers = await planLayers(image, store);
  const entries: ArchiveEntry[] = [];
  for (const l of layers) {
    const dir = digestHex(l.diffId);
    entries.push({ type: 'dir', name: dir });
    entries.push({
      type: 'file',
      name: `${dir}/layer.tar`,
      size: l.tarSize,
      data: () => openLayerTar(store, l.blob),
    });
  }
  const configName = `${digestHex(s.configDescriptor.digest)}.json`;
  entries.push({ type: 'file', name: configName, size: s.config.byteLength, data: s.config });
  const manifest: DockerArchiveManifestEntry[] = [
    {
      Config: configName,
      RepoTags: repoTags,
      Layers: image.layers.map((l) => `${digestHex(l.diffId)}/layer.tar`),
    },
  ];
  const manifestBytes = canonicalJson(manifest);
  entries.push({ type: 'file', name: 'manifest.json', size: manifestBytes.byteLength, data: manifestBytes });
  const top = image.layers.at(-1);
  if (top && repoTags.length > 0) {
    // legacy `repositories`: repo → tag → top layer directory; Docker reads manifest.json first
    const repos: Record<string, Record<string, string>> = {};
    for (const rt of repoTags) {
      const i = rt.lastIndexOf(':');
      const repo = rt.slice(0, i);
      repos[repo] = { ...(repos[repo] ?? {}), [rt.slice(i + 1)]: digestHex(top.diffId) };
    }
    const reposBytes = canonicalJson(repos);
    entries.push({ type: 'file', name: 'repositories', size: reposBytes.byteLength, data: reposBytes });
  }
  return { entries, imageId: s.configDescriptor.digest, serialized: s };
}

/**
 * writeDockerArchive writes one image as a tar that `docker load` and `skopeo copy docker-archive:` accept,
 * named `opts.repoTags`. The file is written atomically (temp + rename). Same image → same bytes.
 * Throws OUTPUT_UNWRITABLE, INVALID_REFERENCE (bad repo tag), DIGEST_MISMATCH / SIZE_MISMATCH /
 * BLOB_NOT_FOUND / INVALID_COMPRESSION for bad layers.
 * @example await writeDockerArchive('img.tar', image, store, { repoTags: ['app:1.0'] })
 */
export async function writeDockerArchive(
  file: string,
  image: Image,
  store: BlobStore,
  opts: WriteDockerArchiveOptions = {},
): Promise<DockerArchiveWritten> {
  const { entries, imageId, serialized } = await dockerArchiveEntries(image, store, opts);
  await writeArchiveFile(file, entries, opts.fsync === undefined ? {} : { fsync: opts.fsync });
  return { descriptor: serialized.descriptor, manifests: [serialized.descriptor], imageId };
}

/** dockerArchiveStream yields the bytes of a docker-archive of one image (what the daemon loads). */
export async function* dockerArchiveStream(
  image: Image,
  store: BlobStore,
  opts: Pick<WriteDockerArchiveOptions, 'repoTags' | 'created'> = {},
): AsyncGenerator<Uint8Array> {
  const { entries } = await dockerArchiveEntries(image, store, opts);
  yield* tarChunks(entries);
}

// ---------------------------------------------------------------------------------------------
// reading

/** ReadDockerArchiveOptions configures readDockerArchive. */
export type ReadDockerArchiveOptions = ReadArchiveOptions;

function parseArchiveManifest(bytes: Uint8Array, where: string): DockerArchiveManifestEntry[] {
  const what = `${where}: manifest.json`;
  const v = parseJsonStrict(bytes, what);
  const bad = (reason: string) =>
    new FromscratchError('INVALID_IMAGE', `${what}: ${reason}`, {
      hint: 'the file is not a docker-archive, or it is corrupt',
    });
  if (!Array.isArray(v)) throw bad('must be an array');
  return v.map((e, i) => {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw bad(`[${i}] must be an object`);
    const { Config, RepoTags, Layers } = e;
    if (typeof Config !== 'string') throw bad(`[${i}].Config must be a string`);
    if (!Array.isArray(Layers) || !Layers.every((l) => typeof l === 'string'))
      throw bad(`[${i}].Layers must be an array of strings`);
    if (
      RepoTags !== undefined &&
      RepoTags !== null &&
      (!Array.isArray(RepoTags) || !RepoTags.every((t) => typeof t === 'string'))
    ) {
      throw bad(`[${i}].RepoTags must be an array of strings`);
    }
    return {
      Config,
      RepoTags: (RepoTags as string[] | null | undefined) ?? null,
      Layers: Layers as string[],
    };
  });
}

function selectEntry(
  entries: DockerArchiveManifestEntry[],
  name: string | undefined,
  where: string,
): DockerArchiveManifestEntry {
  const tags = entries.flatMap((e) => e.RepoTags ?? []);
  const list = tags.length > 0 ? `names there: ${tags.join(', ')}` : 'it has no names';
  if (name === undefined) {
    if (entries.length === 1) return entries[0]!;
    throw new FromscratchError('IMAGE_NOT_FOUND', `${where} holds ${entries.length} images; name one`, {
      hint: `write it as docker-archive:FILE:NAME:TAG; ${list}`,
    });
  }
  const want = parseDockerName(name);
  const strip = (t: string) => t.replace(/^docker\.io\/(library\/)?/, '');
  const hit = entries.find((e) => (e.RepoTags ?? []).some((t) => t === want || strip(t) === strip(want)));
  if (!hit) {
    if (entries.length === 1 && (entries[0]!.RepoTags ?? []).length === 0) return entries[0]!;
    throw new FromscratchError('IMAGE_NOT_FOUND', `${where}: no image named ${want}`, { hint: list });
  }
  return hit;
}

async function headOf(store: BlobStore, d: Digest): Promise<Uint8Array> {
  for await (const c of store.open(d)) return c;
  return new Uint8Array(0);
}

/**
 * readDockerArchiveContents turns an archive already read into an ImageSet (shared with the daemon source,
 * which reads the stream of `GET /images/{name}/get`).
 */
export async function imageSetFromDockerArchive(
  archive: ArchiveContents,
  name: string | undefined,
  where: string,
): Promise<ImageSet> {
  const need = (n: string, what: string) => {
    const info = archive.lookup(n);
    if (!info)
      throw new FromscratchError('INVALID_IMAGE', `${where}: missing ${what} ${JSON.stringify(n)}`, {
        hint: 'the archive is incomplete or not a docker-archive',
      });
    return info;
  };
  const manifestInfo = need('manifest.json', 'file');
  const entries = parseArchiveManifest(
    await readBlob(archive.store, manifestInfo.digest, manifestInfo.size, DEFAULT_JSON_LIMIT),
    where,
  );
  const entry = selectEntry(entries, name, where);
  const configInfo = need(entry.Config, 'config');
  const config = parseImageConfig(
    await readBlob(archive.store, configInfo.digest, configInfo.size, DEFAULT_JSON_LIMIT),
    {
      what: `${where}: config ${entry.Config}`,
    },
  );
  if (config.rootfs.diff_ids.length !== entry.Layers.length) {
    throw new FromscratchError(
      'INVALID_IMAGE',
      `${where}: manifest.json lists ${entry.Layers.length} layers but the config has ${config.rootfs.diff_ids.length} diff_ids`,
      {
        hint: 'the archive is corrupt',
      },
    );
  }
  const layers: Descriptor[] = [];
  for (const [i, path] of entry.Layers.entries()) {
    const info = need(path, 'layer');
    const diffId = config.rootfs.diff_ids[i]!;
    const compression = sniffLayerCompression(await headOf(archive.store, info.digest));
    if (compression === 'none') {
      if (info.digest !== diffId) throw diffIdMismatch(info.digest, info.digest, diffId);
    } else {
      const h = newHasher();
      for await (const c of decompressStream(
        archive.store.open(info.digest, info.size),
        compression,
        `${where}: layer ${path}`,
      ))
        h.update(c);
      const got = h.digest().digest;
      if (got !== diffId) throw diffIdMismatch(info.digest, got, diffId);
    }
    const mediaType =
      compression === 'gzip'
        ? MediaType.OciLayerGzip
        : compression === 'zstd'
          ? MediaType.OciLayerZstd
          : MediaType.OciLayer;
    layers.push({ mediaType, digest: info.digest, size: info.size });
  }
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: configInfo.digest, size: configInfo.size },
    layers,
  };
  const image = toImage(manifest, config, where);
  const descriptor = serializeImage(image).descriptor;
  return { images: [image], manifests: [descriptor], descriptor, store: archive.store, close: archive.close };
}

/**
 * readDockerArchive reads the image named `name` (`REPO:TAG`, or the only image) from a docker-archive
 * file or byte stream, into a temp store; call close() when done. Layers are checked against the config's
 * diff_ids. Throws FILE_NOT_FOUND, INVALID_ARCHIVE, INVALID_IMAGE, IMAGE_NOT_FOUND, DIGEST_MISMATCH.
 * @example const { images, store, close } = await readDockerArchive('img.tar', 'app:1.0')
 */
export async function readDockerArchive(
  source: string | AsyncIterable<Uint8Array>,
  name?: string,
  opts: ReadDockerArchiveOptions = {},
): Promise<ImageSet> {
  const where = typeof source === 'string' ? `docker-archive ${source}` : 'docker-archive stream';
  const archive = await readArchive(source, where, opts);
  try {
    return await imageSetFromDockerArchive(archive, name, where);
  } catch (e) {
    await archive.close();
    throw e;
  }
}
