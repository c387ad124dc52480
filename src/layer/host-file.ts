/**
 * host-file.ts — streams a host file's bytes into a layer, refusing files that changed since they were
 * scanned. IO (node:fs) at the edge of the layer writer.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { FromscratchError } from '../errors.ts';
import { encodePath } from '../fs/path.ts';

/** DEFAULT_READ_CHUNK is the size of each read from a host file (bounded memory, few syscalls). */
export const DEFAULT_READ_CHUNK = 1024 * 1024;

/** FileIdentity is the device and inode a file had when it was scanned (0 or absent: unknown). */
export interface FileIdentity {
  readonly dev?: number;
  readonly ino?: number;
}

/** HostFileReader streams exactly `size` bytes of the host file at `path` (that very file, when `identity` is known), or throws. */
export type HostFileReader = (
  path: string,
  size: number,
  identity?: FileIdentity,
) => AsyncIterable<Uint8Array>;

/** ReadHostFileOptions tunes readHostFile. */
export interface ReadHostFileOptions {
  /** bytes per read (default {@link DEFAULT_READ_CHUNK}) */
  chunkSize?: number;
}

function changed(path: string, what: string): FromscratchError {
  return new FromscratchError(
    'FILE_CHANGED',
    `reading ${path}: the file changed while the layer was being written (${what})`,
    {
      hint: 'something is modifying the input while fromscratch builds; stop it and build again',
    },
  );
}

function openError(path: string, e: unknown): FromscratchError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new FromscratchError('FILE_NOT_FOUND', `reading ${path}: the file no longer exists`, {
      hint: 'an input file was removed while fromscratch was building; build again',
      cause: e,
    });
  }
  return new FromscratchError('FILE_UNREADABLE', `reading ${path}: ${(e as Error).message}`, {
    hint:
      code === 'EACCES' || code === 'EPERM'
        ? 'run fromscratch as a user that can read the file, or leave it out'
        : undefined,
    cause: e,
  });
}

/**
 * readHostFile streams exactly `size` bytes of the regular file at host path `path` (a path string as
 * image paths are: non-UTF-8 bytes surrogate-escaped, see fs/path.ts), in chunks of at most
 * `chunkSize` bytes, each a fresh buffer the consumer may keep.
 *
 * Holes of sparse files read as zeros, so they are written dense (RELIABILITY.md I6).
 * The file is opened once, without following a symlink in its last component, and only that descriptor
 * is read: when `identity` (the scan's device and inode) is known, the descriptor must be that file.
 * Throws FILE_CHANGED when the path became a symlink or another file since the scan (a swap to
 * `/etc/shadow` between scan and read ships nothing), when it is not a regular file any more, when its
 * size differs from `size`, when it shrinks or grows while being read, or when its mtime changes during
 * the read; FILE_NOT_FOUND when it is gone; FILE_UNREADABLE on other errors. The file is opened with
 * O_NONBLOCK so a path swapped for a FIFO cannot hang the build.
 */
export async function* readHostFile(
  path: string,
  size: number,
  identity: FileIdentity = {},
  opts: ReadHostFileOptions = {},
): AsyncGenerator<Uint8Array> {
  const chunkSize = opts.chunkSize ?? DEFAULT_READ_CHUNK;
  // synchronous calls on this thread: a layer's compression fills libuv's thread pool, and each of a
  // small file's six calls queued behind a deflate job there (a layer of 276 small files went at
  // 39 MB/s); a read of the page cache costs less than that wait
  let fd: number;
  try {
    fd = openSync(encodePath(path), constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw changed(path, 'replaced by a symbolic link');
    throw openError(path, e);
  }
  try {
    const before = fstatSync(fd);
    if (!before.isFile()) throw changed(path, 'no longer a regular file');
    if (
      identity.ino &&
      identity.dev !== undefined &&
      (before.ino !== identity.ino || before.dev !== identity.dev)
    )
      throw changed(path, 'replaced by another file');
    if (before.size !== size) throw changed(path, `size ${before.size} bytes, expected ${size}`);
    let pos = 0;
    while (pos < size) {
      const want = Math.min(chunkSize, size - pos);
      const buf = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        let n: number;
        try {
          n = readSync(fd, buf, got, want - got, pos + got);
        } catch (e) {
          throw openError(path, e);
        }
        if (n === 0) throw changed(path, `shrank to ${pos + got} bytes, expected ${size}`);
        got += n;
      }
      pos += want;
      yield buf;
    }
    const probe = Buffer.alloc(1);
    if (readSync(fd, probe, 0, 1, size) !== 0) throw changed(path, `grew past ${size} bytes`);
    const after = fstatSync(fd);
    if (after.mtimeMs !== before.mtimeMs || after.size !== before.size)
      throw changed(path, 'modified during the read');
  } finally {
    closeSync(fd);
  }
}
