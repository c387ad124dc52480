/**
 * hardlinks.ts — turns host files that share an inode into hard links of one layer
 * (RELIABILITY.md I5; image-spec layer.md §Hardlinks).
 *
 * The first path of a group in tree order (bytewise) stays a regular file and carries the bytes;
 * every later path becomes a `hardlink` entry naming it. Links never cross layers: each call sees one
 * tree, which is one layer.
 */

import { Buffer } from 'node:buffer';
import { stat } from 'node:fs/promises';
import { type FileEntry, type FileTree, FileTreeBuilder } from '../fs/file-tree.ts';
import { encodePath } from '../fs/path.ts';

type FileOnly = Extract<FileEntry, { type: 'file' }>;

function sameXattrs(a: FileOnly['xattrs'], b: FileOnly['xattrs']): boolean {
  const ka = Object.keys(a ?? {}).sort();
  const kb = Object.keys(b ?? {}).sort();
  if (ka.length !== kb.length) return false;
  return ka.every((k, i) => k === kb[i] && Buffer.compare(a![k]!, b![k]!) === 0);
}

/**
 * resolveHardlinks returns a tree in which regular files with the same inode key become hard links to
 * the first of them in tree order. `inodeOf` maps an image path to an opaque key (`"dev:ino"`);
 * paths without a key are left alone. Files are linked only when size, mode, uid, gid and xattrs agree,
 * since hard links share one inode and its metadata; others stay separate copies. PURE.
 */
export function resolveHardlinks(tree: FileTree, inodeOf: ReadonlyMap<string, string>): FileTree {
  const first = new Map<string, FileOnly>();
  let changed = false;
  const b = new FileTreeBuilder();
  for (const e of tree.entries) {
    const key = e.type === 'file' ? inodeOf.get(e.path) : undefined;
    if (e.type !== 'file' || key === undefined) {
      b.add(e);
      continue;
    }
    const f = first.get(key);
    if (!f) {
      first.set(key, e);
      b.add(e);
    } else if (
      f.size === e.size &&
      f.mode === e.mode &&
      f.uid === e.uid &&
      f.gid === e.gid &&
      sameXattrs(f.xattrs, e.xattrs)
    ) {
      changed = true;
      b.add({
        type: 'hardlink',
        path: e.path,
        target: f.path,
        mode: e.mode,
        uid: e.uid,
        gid: e.gid,
        ...(e.mtime === undefined ? {} : { mtime: e.mtime }),
      });
    } else {
      b.add(e);
    }
  }
  return changed ? b.build() : tree;
}

/** DetectHardlinksOptions configures detectHardlinks. */
export interface DetectHardlinksOptions {
  /** stats a host path (following symlinks, as reading it does); default node:fs `stat` */
  stat?: (hostPath: string) => Promise<{ dev: number; ino: number; nlink: number }>;
}

/**
 * detectHardlinks stats every `host`-backed regular file of a tree and links the ones that share
 * (dev, ino) on the host and have more than one link, with {@link resolveHardlinks}. A file that
 * cannot be stat'ed is left as it is (writing the layer reports it).
 *
 * @example
 * const tree = await detectHardlinks(builder.build());
 * const layer = await makeLayer(tree, store);
 */
export async function detectHardlinks(tree: FileTree, opts: DetectHardlinksOptions = {}): Promise<FileTree> {
  const doStat = opts.stat ?? ((p: string) => stat(encodePath(p)));
  const inodeOf = new Map<string, string>();
  for (const e of tree.entries) {
    if (e.type !== 'file' || e.content.kind !== 'host') continue;
    try {
      const st = await doStat(e.content.path);
      if (st.nlink > 1) inodeOf.set(e.path, `${st.dev}:${st.ino}`);
    } catch {
      // unreadable or gone: left unlinked; readHostFile reports it when the layer is written
    }
  }
  return inodeOf.size === 0 ? tree : resolveHardlinks(tree, inodeOf);
}
