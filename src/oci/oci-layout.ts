/**
 * oci-layout.ts — the OCI image layout directory as a sink (writeOciLayout) and a source (readOciLayout).
 * https://github.com/opencontainers/image-spec/blob/main/image-layout.md
 *
 * Writing is crash-safe (RELIABILITY.md C7–C10):
 * - a new layout is built in a temp sibling directory and renamed into place, so it is valid or absent;
 * - into an existing layout, blobs are added atomically (dirStore) and index.json is read, changed and
 *   atomically replaced under a lock file, so concurrent writers lose no tag and index.json is always
 *   either the old or the new one;
 * - temp files and directories left by killed writers (their pid is dead) are removed by the next run;
 * - a symlink as the output directory, `blobs` or `blobs/sha256` is refused, never followed.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import pLimit from 'p-limit';
import { dirStore, fsyncDir, writeFileAtomic } from '../blob/dir-store.ts';
import { type BlobStore, readBlob } from '../blob/store.ts';
import { removeDeadTemps, TEMP_FILE_RE } from '../blob/temp-files.ts';
import { FromscratchError, isFromscratchError, isNoSpace } from '../errors.ts';
import { canonicalJson } from '../image/canonical-json.ts';
import {
  artifactManifest,
  EMPTY_JSON,
  type Image,
  type IndexDocument,
  reuseIndex,
  serializeImage,
  serializeIndex,
} from '../image/image.ts';
import type { Descriptor } from '../model/descriptor.ts';
import { type Digest, digestHex, sha256 } from '../model/digest.ts';
import { Annotation, type ImageIndex } from '../model/documents.ts';
import {
  DEFAULT_JSON_LIMIT,
  MAX_IMAGE_LAYERS,
  MAX_INDEX_MANIFESTS,
  parseImageIndex,
  parseJsonStrict,
} from '../model/json.ts';
import { MediaType } from '../model/media-type.ts';
import { formatPlatform } from '../model/platform.ts';
import { artifactAmong, type ImageSet, MAX_IMAGES, type ResolveOptions, resolveImages } from './image-set.ts';
import { withLock } from './lock.ts';

/** OCI_LAYOUT_VERSION is the only `imageLayoutVersion` written and accepted. */
export const OCI_LAYOUT_VERSION = '1.0.0';

const LOCK_NAME = '.fromscratch.lock';

/** WriteOciLayoutOptions configures writeOciLayout. */
export interface WriteOciLayoutOptions {
  /** the tag, written as `org.opencontainers.image.ref.name` (default: none, an untagged entry) */
  tag?: string;
  /** written as `io.containerd.image.name` (default: the tag) */
  imageName?: string;
  /** further tags of the same images, one index.json entry each (`imageName` default: the tag) */
  moreTags?: readonly { readonly tag: string; readonly imageName?: string }[];
  /** media types of manifests and configs (default 'oci') */
  format?: 'oci' | 'docker';
  /** the index the images were read from: written as it is when it lists exactly their manifests (a copy keeps its digest) */
  sourceIndex?: IndexDocument;
  /** RFC 3339 `created` for images that have none (default the epoch) */
  created?: string;
  /** fsync files and directories (default true) */
  fsync?: boolean;
  /** how long to wait for another writer's lock (default 120 s) */
  lockTimeoutMs?: number;
}

/** WrittenImage is what a sink reports: the top descriptor and one manifest descriptor per platform. */
export interface WrittenImage {
  /** the manifest (one image) or index (several) the tag points at */
  readonly descriptor: Descriptor;
  /** each image's manifest descriptor, with its platform */
  readonly manifests: readonly Descriptor[];
}

/** SerializedBlob is a blob to write with the bytes in hand (configs, manifests, indexes). */
interface SerializedBlob {
  readonly descriptor: Descriptor;
  readonly bytes: Uint8Array;
}

/** SerializedImages is the documents of one or more images, ready to write. */
export interface SerializedImages {
  readonly top: Descriptor;
  readonly manifests: readonly Descriptor[];
  /** configs, manifests and the index, in write order (children before the documents pointing at them) */
  readonly documents: readonly SerializedBlob[];
  /** every layer descriptor, deduplicated, in image order */
  readonly layers: readonly Descriptor[];
}

/**
 * serializeImages encodes the documents of images: one manifest per image, plus an index when there are
 * several. Throws INVALID_ARGUMENT for no image or two images of one platform.
 */
export function serializeImages(
  images: readonly Image[],
  opts: { format?: 'oci' | 'docker'; created?: string; sourceIndex?: IndexDocument } = {},
): SerializedImages {
  if (images.length === 0)
    throw new FromscratchError('INVALID_ARGUMENT', 'no image to write', {
      hint: 'build or read an image first',
    });
  const seen = new Set<string>();
  for (const img of images) {
    const p = formatPlatform(img.platform);
    if (seen.has(p)) {
      throw new FromscratchError('INVALID_ARGUMENT', `two images for platform ${p}`, {
        hint: 'give each platform once',
      });
    }
    seen.add(p);
  }
  // OCI media types unless Docker's are asked for: an image read from OCI documents keeps them (and
  // its digests); Docker documents are converted, as skopeo does for an OCI layout
  const format = opts.format ?? 'oci';
  const documents: SerializedBlob[] = [];
  const manifests: Descriptor[] = [];
  const layers = new Map<Digest, Descriptor>();
  for (const img of images) {
    const s = serializeImage(img, {
      format,
      ...(opts.created !== undefined ? { created: opts.created } : {}),
    });
    documents.push({ descriptor: s.configDescriptor, bytes: s.config });
    documents.push({ descriptor: s.descriptor, bytes: s.manifest });
    manifests.push(s.descriptor);
    for (const l of img.layers) if (!layers.has(l.blob.digest)) layers.set(l.blob.digest, l.blob);
  }
  let top = manifests[0]!;
  const kept = reuseIndex(opts.sourceIndex, manifests);
  if (kept) {
    documents.push({ descriptor: kept.descriptor, bytes: kept.bytes });
    top = kept.descriptor;
  } else if (images.length > 1) {
    const idx = serializeIndex(manifests, format);
    documents.push({ descriptor: idx.descriptor, bytes: idx.bytes });
    top = idx.descriptor;
  }
  const out = { top, manifests, documents, layers: [...layers.values()] };
  checkReadable(images, out);
  return out;
}

/**
 * tooLargeToWrite is the error for a write that would make a layout (or archive, or registry image) that
 * readers refuse. `unchanged` says what this write left as it was (`the image was not written`): only
 * that, since the caller may have written other things before (another output, the tag an attached SBOM
 * refers to), and it is the caller that knows them (orchestrate/output-ledger.ts names them, issue 15).
 */
function tooLargeToWrite(what: string, limit: string, unchanged: string): FromscratchError {
  return new FromscratchError(
    'TOO_LARGE',
    `refusing to write ${what}: ${limit}, and readers (fromscratch, skopeo's limits alike) would refuse it`,
    { hint: `${unchanged}; see the limits in src/oci/README.md (fewer layers, images or tags)` },
  );
}

/**
 * checkReadable refuses images that the readers of src/oci would refuse once written (issue 15.5): more
 * images than an index walk accepts, more layers than MAX_IMAGE_LAYERS, a document over the JSON cap.
 * Every sink calls it (through serializeImages, or directly) before it writes anything.
 */
export function checkReadable(
  images: readonly Image[],
  s: { readonly documents: readonly { readonly descriptor: Descriptor; readonly bytes: Uint8Array }[] },
): void {
  if (images.length > MAX_IMAGES) {
    throw tooLargeToWrite(
      `${images.length} images`,
      `over the limit of ${MAX_IMAGES} images per index`,
      'the image was not written',
    );
  }
  for (const img of images) {
    if (img.layers.length > MAX_IMAGE_LAYERS) {
      throw tooLargeToWrite(
        `an image of ${img.layers.length} layers (${formatPlatform(img.platform)})`,
        `over the limit of ${MAX_IMAGE_LAYERS} layers per image`,
        'the image was not written',
      );
    }
  }
  for (const d of s.documents) {
    if (d.bytes.byteLength > DEFAULT_JSON_LIMIT) {
      throw tooLargeToWrite(
        `${d.descriptor.mediaType} ${d.descriptor.digest} of ${d.bytes.byteLength} bytes`,
        `over the ${DEFAULT_JSON_LIMIT}-byte limit of a manifest, index or config`,
        'the image was not written',
      );
    }
  }
}

function unwritable(path: string, reason: string, cause?: unknown): FromscratchError {
  if (isNoSpace(cause)) {
    return new FromscratchError('NO_SPACE', `cannot write OCI layout ${path}: ${reason}`, {
      hint: `free space on the file system of ${path}, or write the layout elsewhere`,
      cause,
    });
  }
  return new FromscratchError('OUTPUT_UNWRITABLE', `cannot write OCI layout ${path}: ${reason}`, {
    hint: 'choose an output directory you can write that is not a symlink, or remove what is there',
    ...(cause === undefined ? {} : { cause }),
  });
}

async function lstatOrNull(p: string) {
  try {
    return await lstat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** ensureRealDir creates `p` if missing and refuses a symlink or non-directory there (C10). */
async function ensureRealDir(p: string, layout: string): Promise<void> {
  const st = await lstatOrNull(p);
  if (st === null) {
    await mkdir(p, { mode: 0o777 }); // the umask decides, as for the layout itself
    return;
  }
  if (st.isSymbolicLink()) throw unwritable(layout, `${p} is a symlink (refused: it could point anywhere)`);
  if (!st.isDirectory()) throw unwritable(layout, `${p} is not a directory`);
}

/** copyBlob puts a blob from `from` into the layout's store unless an intact copy is there (C9). */
async function copyBlob(to: ReturnType<typeof dirStore>, from: BlobStore, d: Descriptor): Promise<void> {
  const src = from.trustedPathOf?.(d.digest);
  const here = src === undefined ? undefined : await sameFile(src, to.pathOf(d.digest));
  if (here === 'same') return; // linked here before
  // a copy that is not the store's file, on its file system (an earlier build with another cache):
  // replaced by a link below, so that the next build finds it linked instead of hashing it again
  const relink = here === 'same-device' && (await from.has(d.digest, d.size));
  if (!relink && (await to.has(d.digest, d.size))) {
    try {
      for await (const _ of to.open(d.digest, d.size)) {
        // drained only to verify
      }
      return;
    } catch (e) {
      // a poisoned or truncated blob at the right name: overwrite it with verified bytes
      if (!isFromscratchError(e)) throw e;
    }
  }
  // a store backed by files (the build's blob cache): link or reflink its file, never read or write the bytes
  if (src !== undefined && (await from.has(d.digest, d.size))) {
    // its stat data is no proof against bit rot: verify what this process has not (a cache removes a
    // corrupt blob here and the build runs again, see retryAfterCacheHeal)
    if (!from.verifiedHere?.(d.digest)) {
      for await (const _ of from.open(d.digest, d.size)) {
        // drained only to verify
      }
    }
    await to.putFile(src, { digest: d.digest, size: d.size });
    return;
  }
  await to.put(from.open(d.digest, d.size), { digest: d.digest, size: d.size });
}

/**
 * sameFile tells whether two paths name one file (a hard link made earlier), else whether both are
 * files of one file system (a link can replace the second), else neither.
 */
async function sameFile(a: string, b: string): Promise<'same' | 'same-device' | undefined> {
  const [x, y] = await Promise.all([lstatOrNull(a), lstatOrNull(b)]);
  if (x === null || y === null || !x.isFile() || !y.isFile() || x.dev !== y.dev) return undefined;
  return x.ino === y.ino ? 'same' : 'same-device';
}

async function writeBlobs(
  layoutDir: string,
  store: BlobStore,
  s: SerializedImages,
  fsync: boolean,
): Promise<void> {
  const blobs = join(layoutDir, 'blobs');
  await ensureRealDir(blobs, layoutDir);
  await ensureRealDir(join(blobs, 'sha256'), layoutDir);
  const to = dirStore(blobs, { fsync });
  // each blob is its own file, written through its own temp name: several at once, so that their
  // flushes overlap (index.json, written after, is what makes them part of the layout)
  const limit = pLimit(BLOBS_AT_ONCE);
  await settleAll([
    ...s.layers.map((l) => limit(() => copyBlob(to, store, l))),
    ...s.documents.map((doc) =>
      limit(async () => {
        if (await to.has(doc.descriptor.digest, doc.descriptor.size)) {
          const existing = await readFile(to.pathOf(doc.descriptor.digest));
          if (Buffer.compare(existing, doc.bytes) === 0) return;
        }
        await to.put(doc.bytes, { digest: doc.descriptor.digest, size: doc.descriptor.size });
      }),
    ),
  ]);
}

/**
 * settleAll waits for every write to end, then throws the first failure (the first in time, as
 * Promise.all would), the later ones in its `suppressed`: a failed blob (DIGEST_MISMATCH) must not let
 * the caller remove the temporary layout while the other blobs are still being written into it (rm then
 * fails with ENOTEMPTY, hiding the first error), and every corrupt cache entry dropped meanwhile is said
 * (retryAfterCacheHeal).
 */
async function settleAll(writes: readonly Promise<unknown>[]): Promise<void> {
  const failures: unknown[] = [];
  await Promise.all(writes.map((w) => w.catch((e: unknown) => void failures.push(e))));
  if (failures.length === 0) return;
  const [first, ...rest] = failures;
  if (rest.length > 0 && first instanceof Error)
    (first as Error & { suppressed?: unknown[] }).suppressed = rest;
  throw first;
}

/** BLOBS_AT_ONCE is how many blobs writeBlobs links or writes at the same time. */
const BLOBS_AT_ONCE = 8;

/** indexEntry is the index.json entry for serialized images: the top descriptor with the tag annotations (I9). */
export function indexEntry(
  s: SerializedImages,
  opts: Pick<WriteOciLayoutOptions, 'tag' | 'imageName'>,
): Descriptor {
  const { platform: _platform, ...rest } = s.top;
  // a single-platform entry keeps its platform (skopeo, containerd pick by it); an index entry has none
  const base: Descriptor = s.manifests.length === 1 ? s.top : rest;
  if (opts.tag === undefined) return base;
  return {
    ...base,
    annotations: {
      [Annotation.RefName]: opts.tag,
      [Annotation.ContainerdImageName]: opts.imageName ?? opts.tag,
    },
  };
}

/**
 * indexEntries is every index.json entry for serialized images: one per tag (`opts.tag`, then
 * `opts.moreTags`, each tag once), or one untagged entry. The first is the one a sink reports.
 */
export function indexEntries(
  s: SerializedImages,
  opts: Pick<WriteOciLayoutOptions, 'tag' | 'imageName' | 'moreTags'>,
): Descriptor[] {
  const tags = [
    ...(opts.tag !== undefined
      ? [{ tag: opts.tag, ...(opts.imageName !== undefined ? { imageName: opts.imageName } : {}) }]
      : []),
    ...(opts.moreTags ?? []),
  ];
  if (tags.length === 0) return [indexEntry(s, {})];
  const seen = new Set<string>();
  return tags.flatMap((t) => {
    if (seen.has(t.tag)) return [];
    seen.add(t.tag);
    return [indexEntry(s, t)];
  });
}

/**
 * mergeIndex encodes index.json: `old` with `entries` added, each replacing the entry with its tag
 * (`org.opencontainers.image.ref.name`), or an identical untagged entry. Throws TOO_LARGE when the result would list more than MAX_INDEX_MANIFESTS entries or exceed
 * the JSON cap: readIndexJson would refuse it, and with it every later command on the layout (15.5).
 * `where` names the index in the error, `unchanged` what the refused write leaves as it was (its hint).
 */
export function mergeIndex(
  old: ImageIndex | undefined,
  entries: readonly Descriptor[],
  where = 'index.json',
  unchanged = `${where} was left as it was`,
): Uint8Array {
  const kept = (old?.manifests ?? []).filter((d) => {
    const ref = d.annotations?.[Annotation.RefName];
    return !entries.some((entry) => {
      const tag = entry.annotations?.[Annotation.RefName];
      if (tag !== undefined) return ref === tag;
      return ref === undefined && d.digest === entry.digest;
    });
  });
  const doc: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [...kept, ...entries],
    ...(old?.annotations ? { annotations: old.annotations } : {}),
  };
  if (doc.manifests.length > MAX_INDEX_MANIFESTS) {
    throw tooLargeToWrite(
      `${where} with ${doc.manifests.length} entries`,
      `over the limit of ${MAX_INDEX_MANIFESTS} entries per index`,
      unchanged,
    );
  }
  const bytes = canonicalJson(doc);
  if (bytes.byteLength > DEFAULT_JSON_LIMIT) {
    throw tooLargeToWrite(
      `${where} of ${bytes.byteLength} bytes`,
      `over the ${DEFAULT_JSON_LIMIT}-byte limit`,
      unchanged,
    );
  }
  return bytes;
}

/** ociLayoutFile is the bytes of the `oci-layout` file. */
export const ociLayoutFile = (): Uint8Array => canonicalJson({ imageLayoutVersion: OCI_LAYOUT_VERSION });

/**
 * writeOciLayout writes images (one per platform) with their blobs from `store` into the OCI layout `dir`,
 * tagged `opts.tag`. A missing layout is created; an existing one keeps its other tags and blobs, and an
 * entry with the same tag is replaced. Blobs are copied verified (digest and size). Same images and
 * options → byte-identical files.
 * Throws OUTPUT_UNWRITABLE (symlink, not a directory, not a layout, permissions), INVALID_IMAGE (an
 * existing index.json or oci-layout is corrupt), DIGEST_MISMATCH / SIZE_MISMATCH / BLOB_NOT_FOUND (bad
 * source blobs), TIMEOUT (another writer holds the lock too long). A failure leaves an existing layout
 * as it was (possibly with extra unreferenced blobs) and creates no partial new one.
 * @example await writeOciLayout('out', [image], store, { tag: 'latest' })
 */
export async function writeOciLayout(
  dir: string,
  images: readonly Image[],
  store: BlobStore,
  opts: WriteOciLayoutOptions = {},
): Promise<WrittenImage> {
  const s = serializeImages(images, opts);
  const entries = indexEntries(s, opts);
  const fsync = opts.fsync !== false;
  const result: WrittenImage = { descriptor: entries[0]!, manifests: s.manifests };
  try {
    const parent = dirname(dir);
    const base = basename(dir);
    const st = await lstatOrNull(dir);
    if (st === null) {
      await mkdir(parent, { recursive: true });
      await removeDeadTemps(parent, new RegExp(`^\\.${escapeRe(base)}\\.tmp-(\\d+)-`));
      // mkdir 0777 (not mkdtemp's 0700): the layout gets the umask's mode, as skopeo's (0755 under umask 022)
      const tmp = join(parent, `.${base}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
      await mkdir(tmp, { mode: 0o777 });
      try {
        await settleAll([
          writeFileAtomic(join(tmp, 'oci-layout'), ociLayoutFile(), { fsync }),
          writeBlobs(tmp, store, s, fsync),
        ]);
        await writeFileAtomic(join(tmp, 'index.json'), mergeIndex(undefined, entries), { fsync });
        try {
          await rename(tmp, dir);
          if (fsync) await fsyncDir(parent);
          return result;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          // another writer created the layout meanwhile: add to it below, under the lock
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR' && code !== 'EISDIR') throw e;
        }
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    }
    await writeIntoExisting(dir, store, s, entries, opts, fsync);
    return result;
  } catch (e) {
    if (isFromscratchError(e)) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (
      code === 'EACCES' ||
      code === 'EPERM' ||
      code === 'EROFS' ||
      code === 'ENOTDIR' ||
      code === 'ENOSPC' ||
      code === 'EEXIST'
    ) {
      throw unwritable(dir, (e as Error).message, e);
    }
    throw e;
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function writeIntoExisting(
  dir: string,
  store: BlobStore,
  s: SerializedImages,
  entries: readonly Descriptor[],
  opts: WriteOciLayoutOptions,
  fsync: boolean,
): Promise<void> {
  const st = await lstatOrNull(dir);
  if (st === null) throw unwritable(dir, 'it disappeared while writing');
  if (st.isSymbolicLink()) throw unwritable(dir, 'it is a symlink (refused: it could point anywhere)');
  if (!st.isDirectory()) throw unwritable(dir, 'it exists and is not a directory');
  const names = (await readdir(dir)).filter((n) => n !== LOCK_NAME && !TEMP_FILE_RE.test(n));
  const isLayout = names.includes('oci-layout');
  if (!isLayout && names.length > 0) {
    throw unwritable(dir, 'the directory is not empty and is not an OCI layout (no oci-layout file)');
  }
  if (isLayout) await readLayoutVersion(dir);
  // refuse before writing anything when the new index.json would cross a reader limit (checked again
  // under the lock, where another writer may have added entries meanwhile)
  const before = (await lstatOrNull(join(dir, 'index.json'))) === null ? undefined : await readIndexJson(dir);
  mergeIndex(before, entries, `OCI layout ${dir}: index.json`);
  await writeBlobs(dir, store, s, fsync);
  await withLock(
    join(dir, LOCK_NAME),
    async () => {
      await removeDeadTemps(dir);
      await removeDeadTemps(join(dir, 'blobs', 'sha256'));
      if (!isLayout) await writeFileAtomic(join(dir, 'oci-layout'), ociLayoutFile(), { fsync });
      const old =
        (await lstatOrNull(join(dir, 'index.json'))) === null ? undefined : await readIndexJson(dir);
      await writeFileAtomic(
        join(dir, 'index.json'),
        mergeIndex(old, entries, `OCI layout ${dir}: index.json`),
        { fsync },
      );
    },
    opts.lockTimeoutMs === undefined ? {} : { timeoutMs: opts.lockTimeoutMs },
  );
}

function invalidLayout(dir: string, reason: string, cause?: unknown): FromscratchError {
  return new FromscratchError('INVALID_IMAGE', `OCI layout ${dir}: ${reason}`, {
    hint: 'the directory is not a complete OCI image layout; write it again',
    ...(cause === undefined ? {} : { cause }),
  });
}

/** readSmallFile reads a regular file of the layout, refusing symlinks, directories and oversize files. */
async function readSmallFile(dir: string, name: string): Promise<Uint8Array> {
  const p = join(dir, name);
  const st = await lstatOrNull(p);
  if (st === null) throw invalidLayout(dir, `missing ${name}`);
  if (st.isDirectory()) throw invalidLayout(dir, `${name} is a directory, not a file`);
  if (!st.isFile()) throw invalidLayout(dir, `${name} is not a regular file`);
  if (st.size > DEFAULT_JSON_LIMIT) {
    throw new FromscratchError(
      'TOO_LARGE',
      `OCI layout ${dir}: ${name} is ${st.size} bytes, over the ${DEFAULT_JSON_LIMIT}-byte limit`,
      {
        hint: 'the layout is corrupt or hostile',
      },
    );
  }
  return readFile(p);
}

async function readLayoutVersion(dir: string): Promise<void> {
  checkOciLayoutFile(await readSmallFile(dir, 'oci-layout'), `OCI layout ${dir}`);
}

/** checkOciLayoutFile validates the bytes of an `oci-layout` file. Throws INVALID_IMAGE naming `where`. */
export function checkOciLayoutFile(bytes: Uint8Array, where: string): void {
  const v = parseJsonStrict(bytes, `${where}: oci-layout`);
  const version = typeof v === 'object' && v !== null && !Array.isArray(v) ? v.imageLayoutVersion : undefined;
  if (version !== OCI_LAYOUT_VERSION) {
    throw new FromscratchError(
      'INVALID_IMAGE',
      `${where}: oci-layout has imageLayoutVersion ${JSON.stringify(version) ?? 'missing'}, expected "${OCI_LAYOUT_VERSION}"`,
      { hint: 'only version 1.0.0 OCI image layouts are supported' },
    );
  }
}

async function readIndexJson(dir: string): Promise<ImageIndex> {
  return parseImageIndex(await readSmallFile(dir, 'index.json'), { what: `OCI layout ${dir}: index.json` });
}

/**
 * selectByTag picks the index.json entry for `tag` (matching `org.opencontainers.image.ref.name`), or the
 * only entry when no tag is given. Throws IMAGE_NOT_FOUND listing the tags there are.
 */
export function selectByTag(index: ImageIndex, tag: string | undefined, where: string): Descriptor {
  const tags = index.manifests
    .map((d) => d.annotations?.[Annotation.RefName])
    .filter((t): t is string => t !== undefined);
  const list = tags.length > 0 ? `tags there: ${tags.join(', ')}` : 'it has no tags';
  if (tag === undefined) {
    // artifacts attached to an image (SBOMs, signatures: entries with an artifactType) are not images
    const images = index.manifests.filter((d) => d.artifactType === undefined);
    if (images.length === 1) return images[0]!;
    throw new FromscratchError(
      'IMAGE_NOT_FOUND',
      `${where} holds ${images.length} images; name one with a tag`,
      {
        hint: `write it as oci:DIR:TAG; ${list}`,
      },
    );
  }
  const hits = index.manifests.filter((d) => d.annotations?.[Annotation.RefName] === tag);
  if (hits.length === 1) return hits[0]!;
  if (hits.length > 1) {
    throw new FromscratchError('AMBIGUOUS_MANIFEST', `${where}: tag ${tag} names ${hits.length} entries`, {
      hint: 'the layout is ambiguous; rewrite the tag',
    });
  }
  throw new FromscratchError('IMAGE_NOT_FOUND', `${where}: no image tagged ${tag}`, { hint: list });
}

/** ReadOciLayoutOptions configures readOciLayout. */
export type ReadOciLayoutOptions = ResolveOptions;

/**
 * readOciLayout opens the OCI layout `dir` and reads the image tagged `tag` (or its only image): the
 * layout version, index.json and every manifest and config are verified and validated; layer blobs are
 * verified when read from the returned store.
 * Throws FILE_NOT_FOUND (no such directory), INVALID_IMAGE naming what is missing (oci-layout, index.json,
 * wrong version), BLOB_NOT_FOUND, DIGEST_MISMATCH, SIZE_MISMATCH, AMBIGUOUS_MANIFEST, TOO_LARGE,
 * IMAGE_NOT_FOUND (no such tag or platform).
 * @example const { images, store } = await readOciLayout('out', 'latest')
 */
export async function readOciLayout(
  dir: string,
  tag?: string,
  opts: ReadOciLayoutOptions = {},
): Promise<ImageSet> {
  const st = await lstatOrNull(dir);
  if (st === null) {
    throw new FromscratchError('FILE_NOT_FOUND', `OCI layout ${dir} does not exist`, {
      hint: 'check the path after oci:',
    });
  }
  if (!st.isDirectory()) throw invalidLayout(dir, 'not a directory');
  await readLayoutVersion(dir);
  const index = await readIndexJson(dir);
  const where = `OCI layout ${dir}`;
  const descriptor = selectByTag(index, tag, where);
  const blobs = join(dir, 'blobs');
  for (const p of [blobs, join(blobs, 'sha256')]) {
    const b = await lstatOrNull(p);
    if (b === null) throw invalidLayout(dir, `missing ${p.slice(dir.length + 1)} directory`);
    if (!b.isDirectory()) throw invalidLayout(dir, `${p.slice(dir.length + 1)} is not a directory`);
  }
  const store = dirStore(blobs, { fsync: false });
  const { images, manifests } = await resolveImages(
    store,
    descriptor,
    `${where}${tag ? `:${tag}` : ''}`,
    opts,
  );
  return {
    images,
    manifests,
    descriptor,
    store,
    close: async () => {},
    // artifacts are listed untagged in index.json (attachToOciLayout)
    findArtifact: (subject, artifactType) =>
      artifactAmong(index.manifests, subject, artifactType, (d, limit) =>
        readBlob(store, d.digest, d.size, limit),
      ),
  };
}

/** layoutBlobPath is where a blob lives inside a layout, relative to its root. */
export function layoutBlobPath(d: Digest): string {
  return `blobs/sha256/${digestHex(d)}`;
}

/**
 * attachToOciLayout stores `data` in the layout `dir` as an OCI 1.1 artifact that refers to `subject`
 * (an image manifest already in the layout), and lists it in index.json without a tag, under the same
 * lock as image writes. Returns the artifact manifest's descriptor. Used for SBOMs (`build --sbom`).
 * https://github.com/opencontainers/image-spec/blob/main/manifest.md#guidelines-for-artifact-usage
 */
export async function attachToOciLayout(
  dir: string,
  subject: Descriptor,
  artifact: { readonly artifactType: string; readonly data: Uint8Array },
  opts: { fsync?: boolean } = {},
): Promise<Descriptor> {
  const fsync = opts.fsync !== false;
  await ensureRealDir(dir, dir);
  await readLayoutVersion(dir);
  const where = `OCI layout ${dir}: index.json`;
  const m = artifactManifest(subject, artifact.artifactType, {
    digest: sha256(artifact.data),
    size: artifact.data.byteLength,
  });
  const entry = m.descriptor;
  // refuse before writing a blob when the entry would push index.json over a reader limit (15.5)
  const before = await readIndexJson(dir);
  if (!before.manifests.some((d) => d.digest === entry.digest)) mergeIndex(before, [entry], where);
  const store = dirStore(join(dir, 'blobs'), { fsync });
  await store.put(EMPTY_JSON);
  await store.put(artifact.data);
  await store.put(m.bytes);
  await withLock(join(dir, LOCK_NAME), async () => {
    const old = await readIndexJson(dir);
    if (old.manifests.some((d) => d.digest === entry.digest)) return;
    await writeFileAtomic(join(dir, 'index.json'), mergeIndex(old, [entry], where), { fsync });
  });
  return entry;
}
