/**
 * overlay-fs.ts — a RootFs that shows a set of entries (files added to the image) over a base root.
 *
 * The closure of an added program must be computed where it will live: `--add ./app:/app` puts
 * `/app/bin/x` in the image, and its `$ORIGIN/../lib` must be searched in `/app/lib` of the image, not on
 * the host. The overlay answers for its own paths (and their parent directories) and defers to the base
 * for everything else. PURE over the RootFs port.
 */
import type { FileEntry } from './file-tree.ts';
import { ancestors, baseName, normalizeImagePath, parentPath } from './path.ts';
import type { RootFs, RootStat } from './root-fs.ts';

/** OverlayEntry is an entry shown by the overlay, with the RootFs that holds its bytes. */
export interface OverlayEntry {
  readonly entry: FileEntry;
  /** where its bytes and xattrs are read: a host path (read through `hostRoot`) */
  readonly hostPath?: string;
}

/** overlayFs returns a RootFs showing `entries` over `base`; `hostRoot` reads the host paths of entries. */
export function overlayFs(base: RootFs, entries: readonly OverlayEntry[], hostRoot: RootFs): RootFs {
  const map = new Map<string, OverlayEntry>();
  const dirs = new Set<string>();
  for (const e of entries) {
    const p = normalizeImagePath(e.entry.path);
    map.set(p, e);
    for (const a of ancestors(p)) dirs.add(a);
  }
  const statOf = (e: OverlayEntry): RootStat => {
    const en = e.entry;
    const size = en.type === 'file' ? en.size : en.type === 'symlink' ? Buffer.byteLength(en.target) : 0;
    const type = en.type === 'hardlink' ? 'file' : en.type;
    return {
      type,
      mode: en.mode,
      size,
      uid: en.uid,
      gid: en.gid,
      mtime: en.mtime ?? 0,
      nlink: 1,
      dev: 0,
      ino: 0,
      rdev: 0,
    };
  };
  const target = (p: string): OverlayEntry | undefined => {
    const e = map.get(normalizeImagePath(p));
    if (e?.entry.type === 'hardlink') return map.get(e.entry.target) ?? e;
    return e;
  };
  return {
    name: `${base.name} + added files`,
    async lstat(p) {
      const np = normalizeImagePath(p);
      const e = target(np);
      if (e) return statOf(e);
      const st = await base.lstat(np);
      // a parent of an added entry is a directory in the image, whatever the base has there (the host's
      // /bin may be a symlink to usr/bin, but `--add x:/bin/x` makes /bin a real directory)
      if (dirs.has(np) && st?.type !== 'dir') {
        return {
          type: 'dir',
          mode: 0o755,
          size: 0,
          uid: 0,
          gid: 0,
          mtime: 0,
          nlink: 1,
          dev: 0,
          ino: 0,
          rdev: 0,
        };
      }
      return st;
    },
    async readlink(p) {
      const e = map.get(normalizeImagePath(p));
      if (e?.entry.type === 'symlink') return e.entry.target;
      return base.readlink(p);
    },
    async readdir(p) {
      const np = normalizeImagePath(p);
      const own = [...map.keys()].filter((k) => parentPath(k) === np).map(baseName);
      const ownDirs = [...dirs].filter((k) => parentPath(k) === np).map(baseName);
      let fromBase: string[] = [];
      const st = await base.lstat(np);
      if (st?.type === 'dir' && map.get(np) === undefined) fromBase = await base.readdir(np);
      else if (dirs.has(np)) fromBase = [];
      return [...new Set([...fromBase, ...own, ...ownDirs])];
    },
    async read(p, opts) {
      const e = target(p);
      if (e) {
        if (e.entry.type === 'file' && e.entry.content.kind === 'bytes') {
          const off = opts?.offset ?? 0;
          const d = e.entry.content.data;
          return d.subarray(off, opts?.length === undefined ? undefined : off + opts.length);
        }
        if (e.hostPath) return hostRoot.read(e.hostPath, opts);
      }
      return base.read(p, opts);
    },
    async xattrs(p) {
      const e = target(p);
      if (e) return e.entry.xattrs ? { ...e.entry.xattrs } : {};
      return base.xattrs(p);
    },
    hostPath(p) {
      const e = target(p);
      if (e) return e.hostPath;
      return base.hostPath(p);
    },
    listingHostPath(p) {
      const np = normalizeImagePath(p);
      // a directory holding added entries (or added itself) lists names the host does not have
      if (dirs.has(np) || map.has(np)) return undefined;
      return base.listingHostPath?.(np);
    },
  };
}
