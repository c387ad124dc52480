/**
 * memory-fs.ts — a RootFs held in memory (tests, images read back, synthetic roots).
 */
import { FromscratchError } from '../errors.ts';
import { baseName, normalizeImagePath, parentPath } from './path.ts';
import type { RootFs, RootStat } from './root-fs.ts';

/** MemoryNode describes one entry of a memoryFs. */
export type MemoryNode =
  | { type: 'file'; data: Uint8Array; mode?: number; xattrs?: Record<string, Uint8Array> }
  | { type: 'dir'; mode?: number }
  | { type: 'symlink'; target: string };

/** memoryFs returns a RootFs over a map of absolute paths to nodes; parent directories are implied. */
export function memoryFs(nodes: Record<string, MemoryNode>): RootFs {
  const map = new Map<string, MemoryNode>([['/', { type: 'dir' }]]);
  for (const [p, n] of Object.entries(nodes)) {
    const np = normalizeImagePath(p);
    map.set(np, n);
    for (let d = parentPath(np); d !== '/'; d = parentPath(d)) if (!map.has(d)) map.set(d, { type: 'dir' });
  }
  let ino = 1;
  const inos = new Map<string, number>();
  for (const k of map.keys()) inos.set(k, ino++);
  const get = (p: string) => map.get(normalizeImagePath(p));
  return {
    name: 'memory',
    hostPath: () => undefined,
    async lstat(p): Promise<RootStat | undefined> {
      const np = normalizeImagePath(p);
      const n = map.get(np);
      if (!n) return undefined;
      const size =
        n.type === 'file' ? n.data.byteLength : n.type === 'symlink' ? Buffer.byteLength(n.target) : 4096;
      const mode = n.type === 'symlink' ? 0o777 : (n.mode ?? (n.type === 'dir' ? 0o755 : 0o644));
      return {
        type: n.type,
        mode,
        size,
        uid: 0,
        gid: 0,
        mtime: 0,
        nlink: 1,
        dev: 1,
        ino: inos.get(np)!,
        rdev: 0,
      };
    },
    async readlink(p) {
      const n = get(p);
      if (n?.type !== 'symlink') throw new FromscratchError('FILE_NOT_FOUND', `${p} is not a symlink`);
      return n.target;
    },
    async readdir(p) {
      const np = normalizeImagePath(p);
      if (get(np)?.type !== 'dir') throw new FromscratchError('FILE_NOT_FOUND', `${p} is not a directory`);
      return [...map.keys()].filter((k) => k !== '/' && parentPath(k) === np).map(baseName);
    },
    async read(p, opts = {}) {
      const n = get(p);
      if (n?.type !== 'file') throw new FromscratchError('FILE_NOT_FOUND', `${p} is not a regular file`);
      const off = opts.offset ?? 0;
      return n.data.subarray(off, opts.length === undefined ? undefined : off + opts.length);
    },
    async xattrs(p) {
      const n = get(p);
      return n?.type === 'file' ? { ...(n.xattrs ?? {}) } : {};
    },
  };
}
