/**
 * collector.ts — gathers the entries of a build and the reasons for each path.
 */
import type { FileEntry } from '../fs/file-tree.ts';
import { type FileTree, FileTreeBuilder } from '../fs/file-tree.ts';
import type { Origin } from '../fs/origin.ts';
import type { OverlayEntry } from '../fs/overlay-fs.ts';
import { normalizeImagePath } from '../fs/path.ts';

/** Collector accumulates entries (refusing conflicting ones) and their origins. */
export class Collector {
  private readonly builder = new FileTreeBuilder();
  private readonly originMap = new Map<string, Origin[]>();
  private readonly originKeys = new Map<string, Set<string>>();
  /** entries added with their host paths, for the overlay RootFs */
  readonly overlay: OverlayEntry[] = [];

  /**
   * add puts an entry in the image; a different entry already at its path throws PATH_CONFLICT, unless
   * `replace` (a later Dockerfile COPY over an earlier one), which also drops the old reasons.
   */
  add(entry: FileEntry, origin: Origin, hostPath?: string, opts: { replace?: boolean } = {}): void {
    const path = normalizeImagePath(entry.path);
    if (opts.replace && this.builder.has(path) && this.builder.get(path)?.type !== 'dir') {
      this.originMap.delete(path);
      this.originKeys.delete(path);
    }
    this.builder.add(entry, opts);
    this.note(path, origin);
    this.overlay.push(hostPath === undefined ? { entry } : { entry, hostPath });
  }

  /**
   * addIfAbsent adds an entry unless its path is already taken (a closure reaching a file the user
   * added, or two programs sharing libc); the origin is recorded either way.
   */
  addIfAbsent(entry: FileEntry, origin: Origin, hostPath?: string): boolean {
    const path = normalizeImagePath(entry.path);
    this.note(path, origin);
    if (this.builder.has(path)) return false;
    this.builder.add(entry);
    this.overlay.push(hostPath === undefined ? { entry } : { entry, hostPath });
    return true;
  }

  has(path: string): boolean {
    return this.builder.has(path);
  }

  get(path: string): FileEntry | undefined {
    return this.builder.get(path);
  }

  note(path: string, origin: Origin): void {
    const p = normalizeImagePath(path);
    const list = this.originMap.get(p) ?? [];
    // one serialisation per note, compared through a set: a path may gather thousands of reasons
    const keys = this.originKeys.get(p) ?? new Set<string>();
    const k = JSON.stringify(origin);
    if (!keys.has(k)) {
      keys.add(k);
      list.push(origin);
    }
    this.originKeys.set(p, keys);
    this.originMap.set(p, list);
  }

  tree(): FileTree {
    return this.builder.build();
  }

  origins(): ReadonlyMap<string, readonly Origin[]> {
    return this.originMap;
  }
}
