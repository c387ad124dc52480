/**
 * root-fs.ts — the RootFs port: a read-only view of a root filesystem (the host `/`, a sysroot, memory).
 *
 * Every path given to a RootFs is an absolute path *inside that root*. Implementations never follow a
 * symlink themselves (they are lstat-like); symlink resolution with chroot semantics is done once, in
 * resolve.ts, so that no implementation can escape its root.
 */

/** RootStat is what lstat tells about an entry of a root. */
export interface RootStat {
  readonly type: 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';
  /** permission bits including setuid/setgid/sticky */
  readonly mode: number;
  readonly size: number;
  readonly uid: number;
  readonly gid: number;
  /** seconds since the epoch */
  readonly mtime: number;
  readonly nlink: number;
  /** device and inode, for hardlink detection; 0 when unknown */
  readonly dev: number;
  readonly ino: number;
  readonly rdev: number;
}

/** RootFs reads one root filesystem without following symlinks. */
export interface RootFs {
  /** a human name for messages: `/`, the sysroot directory, or `memory` */
  readonly name: string;
  /** lstat returns the entry at path, or undefined when nothing is there (ENOENT / ENOTDIR). */
  lstat(path: string): Promise<RootStat | undefined>;
  /** readlink returns the raw target of the symlink at path. */
  readlink(path: string): Promise<string>;
  /** readdir lists the names in the directory at path (unsorted). */
  readdir(path: string): Promise<string[]>;
  /**
   * read returns up to `length` bytes at `offset` of the regular file at path (default: the whole file,
   * refused with TOO_LARGE past `limit`, default 256 MiB).
   */
  read(path: string, opts?: { offset?: number; length?: number; limit?: number }): Promise<Uint8Array>;
  /** xattrs returns the extended attributes of the entry at path ({} where unsupported). */
  xattrs(path: string): Promise<Record<string, Uint8Array>>;
  /**
   * hostPath returns the host path backing an entry, for streaming it into a layer later;
   * undefined for roots not backed by the host filesystem.
   */
  hostPath(path: string): string | undefined;
  /**
   * listingHostPath returns the host directory whose listing is exactly `readdir(path)`: undefined
   * when the root adds names of its own there, or is not backed by the host (absent: never).
   */
  listingHostPath?(path: string): string | undefined;
}
