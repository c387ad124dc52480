/**
 * tar-writer.ts — encodes a FileTree as a deterministic tar stream, streaming host files from disk.
 *
 * Not tar-stream: it re-encodes binary xattr values as UTF-8 (`security.capability` 0x80 → c2 80), and
 * reproducibility needs byte control anyway (DEPENDENCIES.md). Headers come from tar-header.ts.
 *
 * Determinism rules (STYLE.md §3), each fixed so that umask, clock, uid, readdir order and input mtimes
 * cannot change a byte:
 * - entries in the tree's order (bytewise sorted, parents first), names relative (`usr/bin/x`, `usr/`);
 *   the root directory itself is not written (no `./` entry, as Docker and BuildKit layers);
 * - uid/gid as given by the tree; uname/gname empty; no atime/ctime;
 * - mtime: see {@link tarMtime} (default: SOURCE_DATE_EPOCH for every entry, 0 when unset);
 * - PAX records only when needed, in a fixed order (tar-header.ts);
 * - hard links: the first member of each link group in tree order carries the bytes, later members are
 *   typeflag `1` entries naming it (image-spec layer.md §Hardlinks);
 * - sparse host files are written dense; the archive ends with two zero blocks.
 */
import { FromscratchError } from '../errors.ts';
import type { FileEntry, FileTree } from '../fs/file-tree.ts';
import { encodePath, normalizeImagePath } from '../fs/path.ts';
import { type HostFileReader, readHostFile } from './host-file.ts';
import { BLOCK_SIZE, encodeTarHeader, paddingFor, type TarHeader, TarTypeflag } from './tar-header.ts';

/** WriteTarOptions configures writeTar and tarSize. */
export interface WriteTarOptions {
  /**
   * SOURCE_DATE_EPOCH in seconds (see parseSourceDateEpoch). Default: unset, which means 0.
   * The layer writer never reads the environment itself; the caller passes it.
   */
  sourceDateEpoch?: number;
  /**
   * Keep an entry's own mtime when it is older than the epoch instead of replacing it (BuildKit's
   * rewrite-timestamp). Default false: every entry gets the epoch, so input mtimes never matter.
   */
  clampMtimes?: boolean;
  /** reads the bytes of `host` content sources (default {@link readHostFile}) */
  readHostFile?: HostFileReader;
}

/**
 * tarMtime returns the mtime written for an entry: `sourceDateEpoch ?? 0`, or with `clampMtimes`,
 * `min(entry.mtime, sourceDateEpoch ?? 0)` for entries that have an mtime.
 */
export function tarMtime(
  entry: Pick<FileEntry, 'mtime'>,
  opts: Pick<WriteTarOptions, 'sourceDateEpoch' | 'clampMtimes'> = {},
): number {
  const epoch = opts.sourceDateEpoch ?? 0;
  if (!Number.isSafeInteger(epoch) || epoch < 0) {
    throw new FromscratchError(
      'INVALID_ARGUMENT',
      `source date epoch ${epoch} is not a non-negative integer`,
      {
        hint: 'SOURCE_DATE_EPOCH is a whole number of seconds since 1970',
      },
    );
  }
  if (opts.clampMtimes && entry.mtime !== undefined && Number.isFinite(entry.mtime)) {
    return Math.min(Math.max(0, Math.floor(entry.mtime)), epoch);
  }
  return epoch;
}

/** One planned tar entry: its header bytes and, for regular files, where its content comes from. */
interface PlannedEntry {
  readonly header: Buffer;
  readonly file?: Extract<FileEntry, { type: 'file' }>;
}

/** linkGroups maps every hardlink path to its final regular file, and every file to its group's first path. */
function planHardlinks(tree: FileTree): { fileOf: Map<string, string>; primaryOf: Map<string, string> } {
  const order = new Map<string, number>();
  for (const [i, e] of tree.entries.entries()) order.set(e.path, i);
  const fileOf = new Map<string, string>();
  const primaryOf = new Map<string, string>();
  for (const e of tree.entries) {
    if (e.type !== 'hardlink') continue;
    let target = e.target;
    let hops = 0;
    for (;;) {
      let t: FileEntry | undefined;
      try {
        t = tree.get(normalizeImagePath(target));
      } catch {
        // an unparseable target is reported below as missing
        t = undefined;
      }
      if (!t || (t.type !== 'file' && t.type !== 'hardlink') || hops > tree.entries.length) {
        throw new FromscratchError(
          'INVALID_ARGUMENT',
          `hard link ${e.path} points at ${target}, which is not a regular file of the same layer`,
          {
            hint: 'a hard link must name a regular file in the same layer (image-spec layer.md, "Hardlinks")',
          },
        );
      }
      if (t.type === 'file') {
        target = t.path;
        break;
      }
      target = t.target;
      hops += 1;
    }
    fileOf.set(e.path, target);
    const current = primaryOf.get(target) ?? target;
    if (order.get(e.path)! < order.get(current)!) primaryOf.set(target, e.path);
    else primaryOf.set(target, current);
  }
  return { fileOf, primaryOf };
}

function tarName(path: string, dir: boolean): Buffer {
  const rel = encodePath(path.slice(1));
  return dir ? Buffer.concat([rel, Buffer.from('/')]) : rel;
}

/** planEntries yields each entry's header (and content source) in tree order. PURE. */
function* planEntries(tree: FileTree, opts: WriteTarOptions): Generator<PlannedEntry> {
  const { fileOf, primaryOf } = planHardlinks(tree);
  for (const e of tree.entries) {
    if (e.path === '/') continue;
    const mtime = tarMtime(e, opts);
    const base = { mode: e.mode, uid: e.uid, gid: e.gid, mtime, xattrs: e.xattrs };
    let h: TarHeader;
    let file: PlannedEntry['file'];
    switch (e.type) {
      case 'file':
      case 'hardlink': {
        const filePath = e.type === 'file' ? e.path : fileOf.get(e.path)!;
        const f = (e.type === 'file' ? e : tree.get(filePath)) as Extract<FileEntry, { type: 'file' }>;
        const primary = primaryOf.get(filePath) ?? filePath;
        // members of a link group share one inode: its metadata is the file's
        // (xattrs only on the entry that carries the bytes: extracting a link does not re-apply them)
        const meta = { mode: f.mode, uid: f.uid, gid: f.gid, mtime: tarMtime(f, opts) };
        if (primary === e.path) {
          h = {
            name: tarName(e.path, false),
            typeflag: TarTypeflag.file,
            size: f.size,
            ...meta,
            xattrs: f.xattrs,
          };
          file = f;
        } else {
          h = {
            name: tarName(e.path, false),
            typeflag: TarTypeflag.hardlink,
            size: 0,
            linkname: tarName(primary, false),
            ...meta,
          };
        }
        break;
      }
      case 'dir':
        h = { name: tarName(e.path, true), typeflag: TarTypeflag.dir, size: 0, ...base };
        break;
      case 'symlink':
        h = {
          name: tarName(e.path, false),
          typeflag: TarTypeflag.symlink,
          size: 0,
          linkname: encodePath(e.target),
          ...base,
        };
        break;
      case 'char':
      case 'block':
        h = {
          name: tarName(e.path, false),
          typeflag: e.type === 'char' ? TarTypeflag.char : TarTypeflag.block,
          size: 0,
          devmajor: e.devmajor,
          devminor: e.devminor,
          ...base,
        };
        break;
      case 'fifo':
        h = { name: tarName(e.path, false), typeflag: TarTypeflag.fifo, size: 0, ...base };
        break;
      default:
        throw new Error(`unknown file entry type ${(e as { type: string }).type}`);
    }
    yield { header: encodeTarHeader(h), file };
  }
}

/** END_OF_ARCHIVE is the two zero blocks that end every tar. */
const END_OF_ARCHIVE_SIZE = 2 * BLOCK_SIZE;

/**
 * tarSize returns the exact number of bytes writeTar will produce for a tree, without reading any
 * file (for progress reporting). Throws what writeTar throws for an invalid entry.
 */
export function tarSize(tree: FileTree, opts: WriteTarOptions = {}): number {
  let n = END_OF_ARCHIVE_SIZE;
  for (const p of planEntries(tree, opts)) {
    n += p.header.length;
    if (p.file) n += p.file.size + paddingFor(p.file.size);
  }
  return n;
}

/** BATCH is the size small pieces (headers, small files) are gathered into before being yielded. */
const BATCH = 64 * 1024;

/**
 * writeTar encodes a FileTree as a tar stream. Memory stays bounded: host files are read in chunks
 * (1 MiB) while the stream is consumed, and small pieces are gathered into 64 KiB buffers.
 * The consumer may keep every yielded buffer (none is reused).
 *
 * Same tree and options → same bytes. Throws FILE_CHANGED / FILE_NOT_FOUND / FILE_UNREADABLE from
 * reading host files (before the bytes of a changed file are complete, so no valid-looking tar is
 * ever produced from a changed file), and INVALID_ARGUMENT for entries a tar cannot hold (a hard link
 * to nothing, a bad xattr name, an out-of-range number).
 *
 * @example
 * const tree = new FileTreeBuilder().add({ type: 'file', path: '/hello', mode: 0o755, uid: 0, gid: 0,
 *   size: 3, content: { kind: 'bytes', data: Buffer.from('hi\n') } }).build();
 * for await (const chunk of writeTar(tree, { sourceDateEpoch: 1700000000 })) out.write(chunk);
 */
export async function* writeTar(tree: FileTree, opts: WriteTarOptions = {}): AsyncGenerator<Uint8Array> {
  const read = opts.readHostFile ?? readHostFile;
  let pending: Uint8Array[] = [];
  let pendingLen = 0;
  const flush = (): Uint8Array[] => {
    if (pendingLen === 0) return [];
    const out = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingLen);
    pending = [];
    pendingLen = 0;
    return [out];
  };
  const add = (b: Uint8Array): Uint8Array[] => {
    if (b.length === 0) return [];
    if (b.length >= BATCH) return [...flush(), b];
    pending.push(b);
    pendingLen += b.length;
    return pendingLen >= BATCH ? flush() : [];
  };

  for (const p of planEntries(tree, opts)) {
    yield* add(p.header);
    const f = p.file;
    if (!f) continue;
    if (f.content.kind === 'bytes') {
      if (f.content.data.byteLength !== f.size) {
        throw new Error(`file entry ${f.path} says ${f.size} bytes but holds ${f.content.data.byteLength}`);
      }
      yield* add(f.content.data);
    } else {
      let n = 0;
      for await (const c of read(f.content.path, f.size, f.content)) {
        n += c.byteLength;
        if (n > f.size)
          throw new Error(`host file reader returned more than ${f.size} bytes for ${f.content.path}`);
        yield* add(c);
      }
      if (n !== f.size)
        throw new Error(`host file reader returned ${n} of ${f.size} bytes for ${f.content.path}`);
    }
    yield* add(Buffer.alloc(paddingFor(f.size)));
  }
  yield* add(Buffer.alloc(END_OF_ARCHIVE_SIZE));
  yield* flush();
}
