/**
 * layer-cache.ts — reuse a layer already written for the same tree: warm builds skip tar and gzip.
 *
 * The key covers everything the layer bytes depend on: every entry's path, type, mode, owner, link
 * target, device numbers and xattrs; the content of generated files (their SHA-256); for host files
 * their identity and change stamps (size, mtime and ctime in ns, inode, device — ctime moves on every
 * write, as git's index relies on); the compression, the SOURCE_DATE_EPOCH and the writer's version. A
 * hit is used only when the store still holds the blob with its exact size.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../blob/dir-store.ts';
import type { BlobStore } from '../blob/store.ts';
import type { FileTree } from '../fs/file-tree.ts';
import { encodePath } from '../fs/path.ts';
import type { Layer } from '../image/image.ts';
import { isDigest } from '../model/digest.ts';
import { cacheDir } from './cache-dir.ts';

/** LAYER_FORMAT changes whenever the tar writer or compressor would write other bytes for the same tree. */
const LAYER_FORMAT = 'fromscratch-layer-1';

/** LayerCacheOptions are the writer settings that are part of the key. */
export interface LayerCacheOptions {
  readonly compression: string;
  readonly sourceDateEpoch: number;
  /** the cache directory (default {@link cacheDir}) */
  readonly dir?: string;
}

/** layerCacheKey hashes a tree and the writer settings into the cache key (host files are lstat'ed). */
export async function layerCacheKey(tree: FileTree, o: LayerCacheOptions): Promise<string> {
  const h = createHash('sha256');
  h.update(`${LAYER_FORMAT}\n${o.compression}\n${o.sourceDateEpoch}\n`);
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
      e.mtime ?? 0,
      xattrs.join(','),
    ];
    switch (e.type) {
      case 'file':
        if (e.content.kind === 'bytes')
          parts.push('bytes', createHash('sha256').update(e.content.data).digest('hex'));
        else {
          const st = await lstat(encodePath(e.content.path), { bigint: true });
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

/** cachedLayer returns the layer recorded for `key` when the store still holds its blob. */
export async function cachedLayer(
  key: string,
  store: BlobStore,
  o: Pick<LayerCacheOptions, 'dir'> = {},
): Promise<Layer | undefined> {
  let v: Layer;
  try {
    v = JSON.parse(await readFile(join(o.dir ?? cacheDir(), 'layers', `${key}.json`), 'utf8')) as Layer;
  } catch {
    // no entry, or an unreadable one: build the layer
    return undefined;
  }
  if (!isDigest(v?.diffId) || !isDigest(v?.blob?.digest) || !Number.isSafeInteger(v.blob.size))
    return undefined;
  return (await store.has(v.blob.digest, v.blob.size)) ? v : undefined;
}

/** rememberLayer records the layer written for `key`. */
export async function rememberLayer(
  key: string,
  layer: Layer,
  o: Pick<LayerCacheOptions, 'dir'> = {},
): Promise<void> {
  const dir = join(o.dir ?? cacheDir(), 'layers');
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(
    join(dir, `${key}.json`),
    Buffer.from(JSON.stringify({ blob: layer.blob, diffId: layer.diffId })),
    { fsync: false },
  );
}
