/**
 * generated-caches.ts — the caches Debian's triggers generate that a program needs to find its
 * libraries and plugins, made without running the trigger (nothing inspected is executed). PURE over the
 * assembled entries (reads them through a memory RootFs).
 *
 * | trigger (postinst command) | rule |
 * |---|---|
 * | `ldconfig` (libc-bin's trigger, `activate-noawait ldconfig` of every library package) | `/etc/ld.so.cache` as ldconfig writes it (closure/ldconfig.ts), when a directory named by ld.so.conf outside the system ones holds a library; otherwise none is needed: the loader searches the system directories itself |
 *
 * Commands these rules stand for are not warned about (script-effects.ts, `GENERATED`).
 */
import { ldconfigCache } from '../closure/ldconfig.ts';
import type { FileEntry } from '../fs/file-tree.ts';
import { type MemoryNode, memoryFs } from '../fs/memory-fs.ts';
import type { Origin } from '../fs/origin.ts';

/** GeneratedCaches holds the generated entries and why each exists. */
export interface GeneratedCaches {
  readonly entries: FileEntry[];
  readonly origins: Map<string, Origin[]>;
}

function rootOf(entries: ReadonlyMap<string, FileEntry>) {
  const nodes: Record<string, MemoryNode> = {};
  for (const [p, e] of entries) {
    if (e.type === 'dir') nodes[p] = { type: 'dir', mode: e.mode };
    else if (e.type === 'symlink') nodes[p] = { type: 'symlink', target: e.target };
    else if (e.type === 'file' && e.content.kind === 'bytes')
      nodes[p] = { type: 'file', data: e.content.data, mode: e.mode };
  }
  for (const [p, e] of entries) {
    if (e.type !== 'hardlink') continue;
    const t = nodes[e.target];
    if (t?.type === 'file') nodes[p] = t;
  }
  return memoryFs(nodes);
}

/**
 * generatedCaches computes the trigger-generated files for the entries of a package install (`have`:
 * path → entry). A file already in `have` is kept (a package that ships its own cache).
 */
export async function generatedCaches(have: ReadonlyMap<string, FileEntry>): Promise<GeneratedCaches> {
  const entries: FileEntry[] = [];
  const origins = new Map<string, Origin[]>();
  const fs = rootOf(have);
  if (!have.has('/etc/ld.so.cache')) {
    const c = await ldconfigCache(fs);
    if (c) {
      entries.push({
        type: 'file',
        path: '/etc/ld.so.cache',
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: 0,
        size: c.data.byteLength,
        content: { kind: 'bytes', data: c.data },
      });
      origins.set('/etc/ld.so.cache', [
        {
          kind: 'default',
          what: `ldconfig (Debian's ldconfig trigger): ${c.entries.length} libraries of ${c.extraDirs.join(', ')} (named by ${c.confFiles.join(', ')}) and of the system directories, as ldconfig lists them`,
        },
      ]);
    }
  }
  return { entries, origins };
}
