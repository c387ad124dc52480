/**
 * tree-walk.ts — every entry under a directory of a root, for rules that ship a directory whole (a
 * locale, a Java home's `conf/`). PURE over RootFs (through the ClosureCache).
 */
import { type ClosureCache, listDir, resolveOrMissing } from './closure-cache.ts';

/** MAX_TREE_ENTRIES bounds a walk (a hostile root cannot make it unbounded). */
export const MAX_TREE_ENTRIES = 10000;

/** TreeWalk is what walkTree found. */
export interface TreeWalk {
  /** the directory itself, then every file and directory under it, breadth first, sorted by name */
  readonly entries: readonly { readonly path: string; readonly kind: 'file' | 'dir' }[];
  /** symlinks leading nowhere (left out) */
  readonly dangling: readonly string[];
  /** true when the walk stopped at MAX_TREE_ENTRIES */
  readonly truncated: boolean;
}

/**
 * walkTree lists a directory and everything under it, symlinks followed (entries keep the path they
 * were found at; the closure adds the links passed and the real file). Sockets, devices and fifos are
 * skipped, and so are the paths `opts.skip` names (with what is under them). A directory reached
 * twice through links is walked once. At most `opts.max` entries (default MAX_TREE_ENTRIES).
 */
export async function walkTree(
  c: ClosureCache,
  dir: string,
  opts: { max?: number; skip?: (path: string) => boolean } = {},
): Promise<TreeWalk> {
  const max = opts.max ?? MAX_TREE_ENTRIES;
  const entries: { path: string; kind: 'file' | 'dir' }[] = [];
  const dangling: string[] = [];
  const top = await resolveOrMissing(c, dir);
  if (top.stat?.type !== 'dir') return { entries, dangling, truncated: false };
  entries.push({ path: dir, kind: 'dir' });
  const seen = new Set<string>([top.path]);
  const queue = [dir];
  while (queue.length > 0) {
    const d = queue.shift()!;
    for (const n of [...((await listDir(c, d)) ?? [])].sort()) {
      if (entries.length >= max) return { entries, dangling, truncated: true };
      const p = `${d}/${n}`;
      if (opts.skip?.(p)) continue;
      const r = await resolveOrMissing(c, p);
      if (r.stat?.type === 'file') entries.push({ path: p, kind: 'file' });
      else if (r.stat?.type === 'dir') {
        if (seen.has(r.path)) continue;
        seen.add(r.path);
        entries.push({ path: p, kind: 'dir' });
        queue.push(p);
      } else if (!r.stat) dangling.push(p);
    }
  }
  return { entries, dangling, truncated: false };
}
