/**
 * oci-archive.ts — an OCI image layout in a tar file (skopeo's `oci-archive:` transport), as a sink and a
 * source. https://github.com/containers/image/blob/main/docs/containers-transports.5.md
 *
 * The archive is written to a temp file and renamed over the target (valid or absent, RELIABILITY.md C7);
 * entries are sorted and carry fixed metadata, so the same images give the same archive bytes. Writing
 * replaces the whole archive (as skopeo does); to collect several tags use an `oci:` layout.
 */
import type { BlobStore } from '../blob/store.ts';
import { readBlob } from '../blob/store.ts';
import { FromscratchError } from '../errors.ts';
import type { Image } from '../image/image.ts';
import { digestHex } from '../model/digest.ts';
import { DEFAULT_JSON_LIMIT, parseImageIndex } from '../model/json.ts';
import { type ArchiveEntry, type ReadArchiveOptions, readArchive, writeArchiveFile } from './archive-file.ts';
import { archiveBlobStore } from './archive-store.ts';
import { type ImageSet, type ResolveOptions, resolveImages } from './image-set.ts';
import {
  checkOciLayoutFile,
  indexEntries,
  mergeIndex,
  ociLayoutFile,
  selectByTag,
  serializeImages,
  type WriteOciLayoutOptions,
  type WrittenImage,
} from './oci-layout.ts';

/** WriteOciArchiveOptions configures writeOciArchive (the same as an OCI layout, without the lock). */
export type WriteOciArchiveOptions = Omit<WriteOciLayoutOptions, 'lockTimeoutMs'>;

/**
 * writeOciArchive writes images (one per platform) and their blobs from `store` as an OCI layout tar at
 * `file`, tagged `opts.tag`. Blobs are read verified. Same images and options → same bytes.
 * Throws OUTPUT_UNWRITABLE (symlink, directory, permissions), DIGEST_MISMATCH / SIZE_MISMATCH /
 * BLOB_NOT_FOUND for bad source blobs; an existing archive is left as it was on failure.
 * @example await writeOciArchive('out.tar', [image], store, { tag: 'latest' })
 */
export async function writeOciArchive(
  file: string,
  images: readonly Image[],
  store: BlobStore,
  opts: WriteOciArchiveOptions = {},
): Promise<WrittenImage> {
  const s = serializeImages(images, opts);
  const tagged = indexEntries(s, opts);
  const blobs = new Map<string, ArchiveEntry>();
  for (const l of s.layers) {
    const name = `blobs/sha256/${digestHex(l.digest)}`;
    blobs.set(name, { type: 'file', name, size: l.size, data: () => store.open(l.digest, l.size) });
  }
  for (const d of s.documents) {
    const name = `blobs/sha256/${digestHex(d.descriptor.digest)}`;
    blobs.set(name, { type: 'file', name, size: d.bytes.byteLength, data: d.bytes });
  }
  const index = mergeIndex(undefined, tagged, 'index.json', `oci-archive ${file} was not written`);
  const layout = ociLayoutFile();
  const entries: ArchiveEntry[] = [
    { type: 'dir', name: 'blobs' },
    { type: 'dir', name: 'blobs/sha256' },
    ...[...blobs.keys()].sort().map((k) => blobs.get(k)!),
    { type: 'file', name: 'index.json', size: index.byteLength, data: index },
    { type: 'file', name: 'oci-layout', size: layout.byteLength, data: layout },
  ];
  await writeArchiveFile(file, entries, opts.fsync === undefined ? {} : { fsync: opts.fsync });
  return { descriptor: tagged[0]!, manifests: s.manifests };
}

/** ReadOciArchiveOptions configures readOciArchive. */
export type ReadOciArchiveOptions = ResolveOptions & ReadArchiveOptions;

/**
 * readOciArchive reads the image tagged `tag` (or the only one) from an OCI layout tar. The archive is
 * unpacked by content into a temp store (no archive name is used as a host path); call close() when done.
 * Throws FILE_NOT_FOUND, INVALID_ARCHIVE, INVALID_IMAGE (missing oci-layout or index.json, wrong version),
 * IMAGE_NOT_FOUND, and the blob and document errors of readOciLayout.
 */
export async function readOciArchive(
  file: string,
  tag?: string,
  opts: ReadOciArchiveOptions = {},
): Promise<ImageSet> {
  const where = `OCI archive ${file}`;
  const archive = await readArchive(file, where, opts);
  try {
    const layout = archive.lookup('oci-layout');
    if (!layout)
      throw new FromscratchError('INVALID_IMAGE', `${where}: missing oci-layout`, {
        hint: 'the file is not an OCI archive',
      });
    checkOciLayoutFile(await readBlob(archive.store, layout.digest, layout.size, DEFAULT_JSON_LIMIT), where);
    const indexInfo = archive.lookup('index.json');
    if (!indexInfo)
      throw new FromscratchError('INVALID_IMAGE', `${where}: missing index.json`, {
        hint: 'the file is not an OCI archive',
      });
    const index = parseImageIndex(
      await readBlob(archive.store, indexInfo.digest, indexInfo.size, DEFAULT_JSON_LIMIT),
      {
        what: `${where}: index.json`,
      },
    );
    const descriptor = selectByTag(index, tag, where);
    const store = archiveBlobStore(archive, (d) => `blobs/sha256/${digestHex(d)}`, where);
    const { images, manifests } = await resolveImages(
      store,
      descriptor,
      `${where}${tag ? `:${tag}` : ''}`,
      opts,
    );
    return { images, manifests, descriptor, store, close: archive.close };
  } catch (e) {
    await archive.close();
    throw e;
  }
}
