/**
 * file-tree.ts — FileTree: the files of one layer, keyed by normalised absolute path. PURE.
 *
 * A FileTree is an immutable value. Entries are listed in bytewise path order with every parent
 * directory present, which is the order of every tar fromscratch writes.
 */
import { FromscratchError } from '../errors.ts';
import type { Origin } from './origin.ts';
import { ancestors, comparePaths, normalizeImagePath } from './path.ts';

/** ContentSource says where the bytes of a regular file come from. */
export type ContentSource =
  /** a file on the host, read when the layer is written (a sysroot file is a host file too) */
  | {
      readonly kind: 'host';
      readonly path: string;
      /**
       * device and inode of the file when it was scanned: the layer writer reads that very file or fails
       * with FILE_CHANGED (a path swapped for a symlink or another file between scan and read)
       */
      readonly dev?: number;
      readonly ino?: number;
    }
  /** bytes held in memory (generated files, small extracted files) */
  | { readonly kind: 'bytes'; readonly data: Uint8Array };

interface EntryBase {
  /** normalised absolute path in the image, e.g. `/usr/bin/curl` */
  readonly path: string;
  /** permission bits including setuid/setgid/sticky (07777) */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** seconds since the epoch; the layer writer clamps it to SOURCE_DATE_EPOCH (or 0) */
  readonly mtime?: number;
  /** extended attributes, e.g. `security.capability`, raw bytes */
  readonly xattrs?: Readonly<Record<string, Uint8Array>>;
}

/** FileEntry is one entry of a FileTree. */
export type FileEntry =
  | (EntryBase & { readonly type: 'file'; readonly size: number; readonly content: ContentSource })
  | (EntryBase & { readonly type: 'dir' })
  | (EntryBase & { readonly type: 'symlink'; readonly target: string })
  /** a hard link to another regular file of the same tree (`target` is its image path) */
  | (EntryBase & { readonly type: 'hardlink'; readonly target: string })
  | (EntryBase & { readonly type: 'char' | 'block'; readonly devmajor: number; readonly devminor: number })
  | (EntryBase & { readonly type: 'fifo' });

/** FileType is the type tag of a FileEntry. */
export type FileType = FileEntry['type'];

/** FileTree is a sorted, immutable set of entries with their parents. */
export interface FileTree {
  /** entries in bytewise path order, parents before children */
  readonly entries: readonly FileEntry[];
  get(path: string): FileEntry | undefined;
}

/** DEFAULT_DIR_MODE is the mode of implicit parent directories (what mkdir -p gives under umask 022). */
export const DEFAULT_DIR_MODE = 0o755;

/** FileTreeBuilder collects entries and refuses conflicting ones. */
export class FileTreeBuilder {
  private readonly map = new Map<string, FileEntry>();

  /**
   * add puts an entry in the tree. A second, *identical* entry for a path is accepted (two roots sharing a
   * library); a different one throws PATH_CONFLICT, unless `replace` is set (later layers of a build).
   */
  add(entry: FileEntry, opts: { replace?: boolean } = {}): this {
    const path = normalizeImagePath(entry.path);
    if (path === '/') {
      if (entry.type !== 'dir') {
        throw new FromscratchError(
          'PATH_CONFLICT',
          `refusing to change the type of the root directory to ${entry.type}`,
        );
      }
      return this;
    }
    const e = path === entry.path ? entry : ({ ...entry, path } as FileEntry);
    const old = this.map.get(path);
    if (old && !opts.replace && !sameEntry(old, e)) {
      if (old.type === 'dir' && e.type === 'dir') {
        this.map.set(path, e); // a directory's explicit metadata wins over an implicit parent
        return this;
      }
      throw new FromscratchError(
        'PATH_CONFLICT',
        `two different entries for ${path} (${old.type} and ${e.type})`,
        {
          hint: 'each path in an image can come from one source only; drop one of them or give it another destination',
        },
      );
    }
    this.map.set(path, e);
    return this;
  }

  has(path: string): boolean {
    return this.map.has(normalizeImagePath(path));
  }

  get(path: string): FileEntry | undefined {
    return this.map.get(normalizeImagePath(path));
  }

  /** build returns the immutable tree, creating implicit parent directories (0755, root-owned). */
  build(): FileTree {
    const all = new Map(this.map);
    for (const p of this.map.keys()) {
      for (const a of ancestors(p)) {
        const existing = all.get(a);
        if (!existing) all.set(a, { type: 'dir', path: a, mode: DEFAULT_DIR_MODE, uid: 0, gid: 0 });
        else if (existing.type !== 'dir') {
          throw new FromscratchError(
            'PATH_CONFLICT',
            `${a} is a ${existing.type} but ${p} needs it to be a directory`,
            {
              hint: 'a path cannot be both a file and a directory; check symlinked directories such as /lib -> usr/lib',
            },
          );
        }
      }
    }
    const entries = [...all.values()].sort((a, b) => comparePaths(a.path, b.path));
    return { entries, get: (p) => all.get(normalizeImagePath(p)) };
  }
}

function sameEntry(a: FileEntry, b: FileEntry): boolean {
  if (a.type !== b.type || a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid) return false;
  switch (a.type) {
    case 'file': {
      const bb = b as typeof a;
      if (a.size !== bb.size) return false;
      if (a.content.kind === 'host' && bb.content.kind === 'host') return a.content.path === bb.content.path;
      if (a.content.kind === 'bytes' && bb.content.kind === 'bytes')
        return Buffer.compare(a.content.data, bb.content.data) === 0;
      return false;
    }
    case 'symlink':
    case 'hardlink':
      return a.target === (b as typeof a).target;
    case 'char':
    case 'block':
      return a.devmajor === (b as typeof a).devmajor && a.devminor === (b as typeof a).devminor;
    default:
      return true;
  }
}

/** FileRecord pairs a tree with the reasons for each of its paths. */
export interface TreeWithOrigins {
  readonly tree: FileTree;
  readonly origins: ReadonlyMap<string, readonly Origin[]>;
}
