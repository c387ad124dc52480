/**
 * archive-file.ts — write a tar archive file atomically, and read one safely into a temp blob store.
 *
 * Writing: entries go to a temp file in the target's directory, which is fsynced and renamed over the
 * target, so the target is the old archive or the new one, never a part (RELIABILITY.md C7). Headers come
 * from src/layer/tar-header.ts: mode, owner and mtime are fixed, so the same entries give the same bytes.
 *
 * Reading: tar headers come from unpack's strict TarReader (PAX, GNU long names, bounded records;
 * truncation, bad checksums and trailing junk refused). Nothing from the archive is used as a host path.
 * Every regular file is streamed into a content-addressed store in a fresh temp directory and remembered
 * by its (normalised) name; symlinks and hardlinks between entries are resolved by name, inside the
 * archive. Duplicate names are refused (RELIABILITY.md A14), as are more than `maxEntries` entries.
 */
import { createReadStream } from 'node:fs';
import { lstat, mkdtemp, open, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import { dirStore, fsyncDir, tempName } from '../blob/dir-store.ts';
import type { BlobInfo, BlobStore } from '../blob/store.ts';
import { removeDeadTemps } from '../blob/temp-files.ts';
import { TarReader } from '../codec/tar-reader.ts';
import { FromscratchError, isFromscratchError, isNoSpace, withContext } from '../errors.ts';
import { BLOCK_SIZE, encodeTarHeader, paddingFor, TarTypeflag } from '../layer/tar-header.ts';

/** ArchiveEntry is one entry to write: a directory, or a file with its exact size and bytes. */
export type ArchiveEntry =
  | { readonly type: 'dir'; readonly name: string }
  | {
      readonly type: 'file';
      readonly name: string;
      readonly size: number;
      /** the bytes, or a function opening them (called once, when the entry is written) */
      readonly data: Uint8Array | (() => AsyncIterable<Uint8Array>);
    };

/** WriteArchiveOptions configures writeArchiveFile. */
export interface WriteArchiveOptions {
  /** fsync the file and its directory (default true) */
  fsync?: boolean;
}

function unwritable(file: string, reason: string, cause?: unknown): FromscratchError {
  if (isNoSpace(cause)) {
    return new FromscratchError('NO_SPACE', `cannot write archive ${file}: ${reason}`, {
      hint: `free space on the file system of ${file}, or write the archive elsewhere`,
      cause,
    });
  }
  return new FromscratchError('OUTPUT_UNWRITABLE', `cannot write archive ${file}: ${reason}`, {
    hint: 'choose an output file you can write that is not a symlink or a directory',
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * checkOutputFile refuses a symlink or a directory at an output file path (RELIABILITY.md C10) and a
 * missing parent directory. Throws OUTPUT_UNWRITABLE.
 */
export async function checkOutputFile(file: string): Promise<void> {
  try {
    const st = await lstat(file);
    if (st.isSymbolicLink()) throw unwritable(file, 'it is a symlink (refused: it could point anywhere)');
    if (!st.isFile()) throw unwritable(file, 'it exists and is not a regular file');
  } catch (e) {
    if (isFromscratchError(e)) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw unwritable(file, (e as Error).message, e);
  }
}

/**
 * writeArchiveFile writes `entries` as a tar file at `file`, atomically. Each file entry must produce
 * exactly `size` bytes (else SIZE_MISMATCH, and nothing is written). Throws OUTPUT_UNWRITABLE for an
 * unwritable target, and whatever the entries' data throws.
 */
export async function writeArchiveFile(
  file: string,
  entries: Iterable<ArchiveEntry> | AsyncIterable<ArchiveEntry>,
  opts: WriteArchiveOptions = {},
): Promise<void> {
  await checkOutputFile(file);
  const dir = dirname(file);
  const prefix =
    basename(file)
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, 20)
      .toLowerCase() || 'archive';
  await removeDeadTemps(dir, new RegExp(`^\\.tmp-${prefix}-(\\d+)-`));
  const tmp = join(dir, tempName(prefix));
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(tmp, 'wx', 0o644);
  } catch (e) {
    throw unwritable(file, (e as Error).message, e);
  }
  try {
    for await (const chunk of tarChunks(entries)) await fh.write(chunk);
    if (opts.fsync !== false) await fh.sync();
    await fh.close();
    await rename(tmp, file);
    if (opts.fsync !== false) await fsyncDir(dir);
  } catch (e) {
    await fh.close().catch(() => {
      /* already closed */
    });
    await rm(tmp, { force: true });
    if (isFromscratchError(e)) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'ENOSPC' || code === 'EISDIR' || code === 'EROFS') {
      throw unwritable(file, (e as Error).message, e);
    }
    throw e;
  }
}

/** tarChunks encodes entries as a tar stream (fixed mode 0644/0755, uid/gid 0, mtime 0). */
export async function* tarChunks(
  entries: Iterable<ArchiveEntry> | AsyncIterable<ArchiveEntry>,
): AsyncGenerator<Uint8Array> {
  for await (const e of entries) {
    const name = Buffer.from(e.type === 'dir' && !e.name.endsWith('/') ? `${e.name}/` : e.name, 'utf8');
    if (e.type === 'dir') {
      yield encodeTarHeader({
        name,
        typeflag: TarTypeflag.dir,
        mode: 0o755,
        uid: 0,
        gid: 0,
        size: 0,
        mtime: 0,
      });
      continue;
    }
    yield encodeTarHeader({
      name,
      typeflag: TarTypeflag.file,
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: e.size,
      mtime: 0,
    });
    let n = 0;
    const source = e.data instanceof Uint8Array ? [e.data] : e.data();
    for await (const c of source) {
      n += c.byteLength;
      if (n > e.size) break;
      yield c;
    }
    if (n !== e.size) {
      throw new FromscratchError(
        'SIZE_MISMATCH',
        `archive entry ${e.name}: got ${n} bytes, expected ${e.size}`,
        {
          hint: 'the source changed while it was written; run again',
        },
      );
    }
    const pad = paddingFor(e.size);
    if (pad > 0) yield new Uint8Array(pad);
  }
  yield new Uint8Array(2 * BLOCK_SIZE);
}

// ---------------------------------------------------------------------------------------------
// reading

/** ArchiveContents is a read archive: its files by name, stored by content in a temp store. */
export interface ArchiveContents {
  /** the content-addressed store holding every regular file of the archive */
  readonly store: BlobStore;
  /** looks a file up by name (following symlinks and hardlinks inside the archive) */
  lookup(name: string): BlobInfo | undefined;
  /** every regular file and link name, normalised */
  readonly names: readonly string[];
  /** removes the temp directory */
  close(): Promise<void>;
}

/** ReadArchiveOptions bounds reading an archive. */
export interface ReadArchiveOptions {
  /** most entries accepted (default 100 000) */
  maxEntries?: number;
  /** where the temp directory goes (default os.tmpdir()) */
  tmpDir?: string;
}

/** normalizeEntryName makes `./a//b/` and `a/b` one key; undefined for names escaping the archive. */
function normalizeEntryName(name: string): string | undefined {
  const n = posix.normalize(`/${name}`).slice(1).replace(/\/$/, '');
  if (n === '' || n.startsWith('..')) return undefined;
  return n;
}

type Node =
  | { kind: 'file'; info: BlobInfo }
  | { kind: 'symlink'; target: string }
  | { kind: 'hardlink'; target: string };

/**
 * readArchive reads a tar (a file path or a byte stream) into a temp store. `what` names it in messages.
 * Throws FILE_NOT_FOUND (no such file), INVALID_ARCHIVE (corrupt or truncated tar, duplicate names),
 * TOO_LARGE (too many entries). The caller must call close().
 */
export async function readArchive(
  source: string | AsyncIterable<Uint8Array>,
  what: string,
  opts: ReadArchiveOptions = {},
): Promise<ArchiveContents> {
  if (typeof source === 'string') {
    let st: Awaited<ReturnType<typeof lstat>>;
    try {
      st = await lstat(source);
    } catch (e) {
      throw new FromscratchError('FILE_NOT_FOUND', `${what} does not exist`, {
        hint: 'check the archive path',
        cause: e,
      });
    }
    if (!st.isFile() && !st.isSymbolicLink()) {
      throw new FromscratchError('INVALID_ARCHIVE', `${what} is not a regular file`, {
        hint: 'name a tar file',
      });
    }
  }
  const maxEntries = opts.maxEntries ?? 100_000;
  const tmp = await mkdtemp(join(opts.tmpDir ?? tmpdir(), 'fromscratch-archive-'));
  const close = () => rm(tmp, { recursive: true, force: true });
  const store = dirStore(join(tmp, 'blobs'), { fsync: false });
  const nodes = new Map<string, Node>();
  try {
    const input: AsyncIterable<Uint8Array> = typeof source === 'string' ? createReadStream(source) : source;
    const reader = new TarReader(input);
    // the reader's complaints name an offset, not the archive
    const named = (e: unknown): never => {
      if (isFromscratchError(e, 'INVALID_ARCHIVE')) withContext(`${what} is not a valid tar`, e);
      throw e;
    };
    const body = async function* (): AsyncGenerator<Uint8Array> {
      try {
        yield* reader.body();
      } catch (e) {
        named(e);
      }
    };
    let count = 0;
    for (;;) {
      const h = await reader.next().catch(named);
      if (h === undefined) break;
      count += 1;
      if (count > maxEntries) {
        throw new FromscratchError('TOO_LARGE', `${what} has more than ${maxEntries} entries`, {
          hint: 'the archive is hostile or not an image archive',
        });
      }
      const name = normalizeEntryName(h.name);
      if (name === undefined || h.type === 'dir') continue; // unread data is skipped by next()
      if (nodes.has(name)) {
        throw new FromscratchError('INVALID_ARCHIVE', `${what}: duplicate entry ${JSON.stringify(name)}`, {
          hint: 'an archive with two entries of one name means different things to different readers',
        });
      }
      if (h.type === 'file') {
        nodes.set(name, { kind: 'file', info: await store.put(body()) });
      } else if (h.type === 'symlink') {
        const t = h.linkname;
        nodes.set(name, {
          kind: 'symlink',
          target: t.startsWith('/') ? t : posix.join(posix.dirname(name), t),
        });
      } else if (h.type === 'hardlink') nodes.set(name, { kind: 'hardlink', target: h.linkname });
    }
  } catch (e) {
    await close();
    if (isFromscratchError(e)) throw e;
    throw new FromscratchError('INVALID_ARCHIVE', `${what} is not a valid tar: ${(e as Error).message}`, {
      hint: 'the archive is truncated or corrupt; write it again',
      cause: e,
    });
  }
  const lookup = (name: string): BlobInfo | undefined => {
    let n = normalizeEntryName(name);
    for (let hops = 0; n !== undefined && hops < 16; hops++) {
      const node = nodes.get(n);
      if (node === undefined) return undefined;
      if (node.kind === 'file') return node.info;
      n = normalizeEntryName(node.target);
    }
    return undefined;
  };
  return { store, lookup, names: [...nodes.keys()], close };
}
