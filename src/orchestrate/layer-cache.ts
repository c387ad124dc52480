/**
 * layer-cache.ts — reuse a layer already written for the same tree: warm builds skip tar and gzip.
 *
 * The key covers everything the layer bytes depend on: every entry's path, type, mode, owner, link
 * target, device numbers and xattrs; the content of generated files (their SHA-256); for host files
 * their identity and change stamps (size, mtime and ctime in ns, inode, device — ctime moves on every
 * write, as git's index relies on); the compression, the SOURCE_DATE_EPOCH and the writer's version. A
 * hit is used only when the store still holds the blob intact: for a store of trusted files, the blob
 * file's stat data must be those recorded when the layer was written (else its bytes are hashed once and
 * the stamp renewed); for other stores the blob is read and verified. A missing or corrupt blob is a miss:
 * the layer is written again (and the store's put replaces the bad file).
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../blob/dir-store.ts';
import type { BlobStore } from '../blob/store.ts';
import type { FileTree } from '../fs/file-tree.ts';
import { encodePath } from '../fs/path.ts';
import { liveStats, type StatSnapshot } from '../fs/stat-snapshot.ts';
import type { Layer } from '../image/image.ts';
import { type Digest, isDigest } from '../model/digest.ts';
import { cacheDir } from './cache-dir.ts';
import { fileDigests } from './file-digest.ts';

/** LAYER_FORMAT changes whenever the tar writer or compressor would write other bytes for the same tree. */
const LAYER_FORMAT = 'fromscratch-layer-1';

/** LayerCacheOptions are the writer settings that are part of the key. */
export interface LayerCacheOptions {
  readonly compression: string;
  readonly sourceDateEpoch: number;
  /** the cache directory (default {@link cacheDir}) */
  readonly dir?: string;
}

/** layerCacheKey hashes a tree and the writer settings into the cache key (host files are lstat'ed, through `snapshot`). */
export async function layerCacheKey(
  tree: FileTree,
  o: LayerCacheOptions,
  snapshot: StatSnapshot = liveStats,
): Promise<string> {
  const h = createHash('sha256');
  h.update(`${LAYER_FORMAT}\n${o.compression}\n${o.sourceDateEpoch}\n`);
  // every host file's stat data at once (the thread pool stats them while this loop hashes)
  const stats = await Promise.all(
    tree.entries.map((e) =>
      e.type === 'file' && e.content.kind === 'host' ? snapshot.lstat(e.content.path) : undefined,
    ),
  );
  for (const [i, e] of tree.entries.entries()) {
    const xattrs = Object.entries(e.xattrs ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${Buffer.from(v).toString('hex')}`);
    const parts: (string | number)[] = [
      encodePath(e.path).toString('hex'),
      e.type,
      e.mode,
      e.uid,
      e.gid,
      e.mtime ?? 0,
      xattrs.join(','),
    ];
    switch (e.type) {
      case 'file':
        if (e.content.kind === 'bytes')
          parts.push('bytes', createHash('sha256').update(e.content.data).digest('hex'));
        else {
          const st = stats[i]!;
          parts.push(
            'host',
            encodePath(e.content.path).toString('hex'),
            e.size,
            String(st.size),
            String(st.mtimeNs),
            String(st.ctimeNs),
            String(st.ino),
            String(st.dev),
          );
        }
        break;
      case 'symlink':
      case 'hardlink':
        parts.push(encodePath(e.target).toString('hex'));
        break;
      case 'char':
      case 'block':
        parts.push(e.devmajor, e.devminor);
        break;
      default:
        break;
    }
    h.update(`${parts.join('\0')}\n`);
  }
  return h.digest('hex');
}

/** CacheEntry is what the layer cache keeps per key. */
interface CacheEntry extends Layer {
  /** stat data of the blob file when it was last known intact (stores with trustedPathOf) */
  readonly stamp?: string;
}

/** blobStamp is the stat data of a trusted store's blob file, or undefined when the store has no files. */
async function blobStamp(store: BlobStore, digest: Digest): Promise<string | undefined> {
  const p = store.trustedPathOf?.(digest);
  if (p === undefined) return undefined;
  try {
    const st = await stat(p, { bigint: true });
    // not ctime: linking the blob into an OCI layout output changes it; any write changes mtime
    return [st.size, st.mtimeNs, st.ino, st.dev].join(':');
  } catch {
    // missing: no stamp, so the caller verifies (and finds it missing)
    return undefined;
  }
}

/** intact reads a blob through the store's verified open: false when it is missing, short or corrupt. */
async function intact(store: BlobStore, layer: Layer): Promise<boolean> {
  try {
    for await (const _ of store.open(layer.blob.digest, layer.blob.size)) {
      // drained only to verify digest and size
    }
    return true;
  } catch {
    // BLOB_NOT_FOUND, DIGEST_MISMATCH, SIZE_MISMATCH: not usable, rebuild
    return false;
  }
}

/**
 * cachedLayer returns the layer recorded for `key` when the store still holds its blob intact (see the
 * file header); undefined for a miss, a damaged entry or a missing or corrupt blob.
 */
export async function cachedLayer(
  key: string,
  store: BlobStore,
  o: Pick<LayerCacheOptions, 'dir'> = {},
): Promise<Layer | undefined> {
  let v: CacheEntry;
  const entry = join(o.dir ?? cacheDir(), 'layers', `${key}.json`);
  try {
    v = JSON.parse(await readFile(entry, 'utf8')) as CacheEntry;
  } catch {
    // no entry, or an unreadable one: build the layer
    return undefined;
  }
  if (!isDigest(v?.diffId) || !isDigest(v?.blob?.digest) || !Number.isSafeInteger(v.blob.size))
    return undefined;
  if (!(await store.has(v.blob.digest, v.blob.size))) return undefined;
  const layer: Layer = { blob: v.blob, diffId: v.diffId };
  // a hit renews the entry's mtime: the cache is trimmed by last use, never under a build using it
  // (cache-prune.ts); the entry's bytes are left as they are
  const now = new Date();
  await utimes(entry, now, now).catch(() => {});
  const stamp = await blobStamp(store, v.blob.digest);
  if (stamp !== undefined && stamp === v.stamp) return layer;
  if (!(await intact(store, layer))) return undefined;
  // intact but touched (or first seen): remember its stat data so the next hit need not read it
  if (stamp !== undefined) await rememberLayer(key, layer, { ...o, store });
  return layer;
}

/** rememberLayer records the layer written for `key` (with its blob file's stat data when `store` has files). */
export async function rememberLayer(
  key: string,
  layer: Layer,
  o: Pick<LayerCacheOptions, 'dir'> & { store?: BlobStore } = {},
): Promise<void> {
  const dir = join(o.dir ?? cacheDir(), 'layers');
  await mkdir(dir, { recursive: true });
  const stamp = o.store ? await blobStamp(o.store, layer.blob.digest) : undefined;
  await writeFileAtomic(
    join(dir, `${key}.json`),
    Buffer.from(JSON.stringify({ blob: layer.blob, diffId: layer.diffId, ...(stamp ? { stamp } : {}) })),
    { fsync: false },
  );
}

/**
 * layerContentKey is the key of a layer shared between machines (the registry cache): like
 * {@link layerCacheKey} but host files are named by what the tar writer reads from them, never by host
 * stat data: their content (SHA-256, streamed), size, and which earlier entry of the layer they share an
 * inode with (a hard link in the tar). Every entry's mtime is left out: the tar writer writes
 * SOURCE_DATE_EPOCH for every entry, which is in the key. Reads every host file once.
 */
export async function layerContentKey(tree: FileTree, o: LayerCacheOptions): Promise<string> {
  const h = createHash('sha256');
  h.update(`${LAYER_FORMAT}\ncontent\n${o.compression}\n${o.sourceDateEpoch}\n`);
  const inodes = new Map<string, string>();
  for (const e of tree.entries) {
    const xattrs = Object.entries(e.xattrs ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${Buffer.from(v).toString('hex')}`);
    const parts: (string | number)[] = [
      encodePath(e.path).toString('hex'),
      e.type,
      e.mode,
      e.uid,
      e.gid,
      xattrs.join(','),
    ];
    switch (e.type) {
      case 'file':
        if (e.content.kind === 'bytes')
          parts.push('bytes', createHash('sha256').update(e.content.data).digest('hex'));
        else {
          const p = encodePath(e.content.path);
          const st = await lstat(p, { bigint: true });
          let link = '';
          if (st.nlink > 1n) {
            const ino = `${st.dev}:${st.ino}`;
            link = inodes.get(ino) ?? '';
            if (!link) inodes.set(ino, encodePath(e.path).toString('hex'));
          }
          parts.push('host', e.size, String(st.size), link, await hashFile(p));
        }
        break;
      case 'symlink':
      case 'hardlink':
        parts.push(encodePath(e.target).toString('hex'));
        break;
      case 'char':
      case 'block':
        parts.push(e.devmajor, e.devminor);
        break;
      default:
        break;
    }
    h.update(`${parts.join('\0')}\n`);
  }
  return h.digest('hex');
}

/** hashFile is the SHA-256 of a host file, shared with the other readers of this process (file-digest.ts). */
async function hashFile(p: Buffer): Promise<string> {
  return (await fileDigests(p)).sha256;
}

/**
 * contentKeyOf returns the content key of a layer whose stat key is `statKey`: the one recorded beside
 * the layer cache entry (valid while the stat key matches: no file it names has changed), else computed
 * (every file read once) and recorded.
 */
export async function contentKeyOf(statKey: string, tree: FileTree, o: LayerCacheOptions): Promise<string> {
  const dir = join(o.dir ?? cacheDir(), 'layers');
  const file = join(dir, `${statKey}.content`);
  try {
    const v = (await readFile(file, 'utf8')).trim();
    if (/^[0-9a-f]{64}$/.test(v)) return v;
  } catch {
    // not recorded yet
  }
  const key = await layerContentKey(tree, o);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(file, Buffer.from(`${key}\n`), { fsync: false });
  return key;
}
