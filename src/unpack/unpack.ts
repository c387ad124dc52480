/**
 * unpack.ts — safe extraction of an image's layers into a private root directory (RELIABILITY.md section A).
 *
 * Every entry name is resolved component by component with lstat inside the root, with chroot semantics
 * (absolute symlink targets are re-rooted, `..` never climbs above the root), across layers; the final
 * component is never followed (created with O_EXCL|O_NOFOLLOW after removing what was there). Names with
 * `..` components are refused, as are hardlinks to anything but an existing non-directory inside the root.
 * Whiteouts only affect lower layers and never walk through a symlinked parent. Metadata is applied
 * chown → chmod → setxattr so that setuid bits and file capabilities survive.
 *
 * Host paths are Buffers built from the decoded names (fs/path.ts encodePath), so non-UTF-8 names round
 * trip byte for byte (A23). Extraction uses synchronous fs calls: the root is private, so nothing can race
 * us, and sync calls keep 10^5-entry layers fast.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setAttributeSync } from '@napi-rs/xattr';
import type { BlobStore } from '../blob/store.ts';
import { type DecompressLimits, decompressStream } from '../codec/decompress.ts';
import { type TarEntry, TarReader } from '../codec/tar-reader.ts';
import { FromscratchError, isFromscratchError } from '../errors.ts';
import { checkPathLimits, decodePathBytes, encodePath } from '../fs/path.ts';
import type { Image } from '../image/image.ts';
import { type Digest, newHasher } from '../model/digest.ts';
import { type Compression, layerCompression } from '../model/media-type.ts';

/** UnpackLayer is one layer to apply: its (possibly compressed) bytes and what they should be. */
export interface UnpackLayer {
  /** the layer blob's bytes (verified by the store when they come from one) */
  readonly data: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** the compression the media type declares; 'auto' trusts the magic number (default 'auto') */
  readonly compression?: Compression | 'auto';
  /** the expected digest of the uncompressed tar (config rootfs.diff_ids); checked at the end when given */
  readonly diffId?: Digest;
  /** a name for messages (default `layer N`) */
  readonly name?: string;
}

/** UnpackSource is what to unpack: an image whose layers are in a store, or layers in order (lowest first). */
export type UnpackSource =
  | { readonly image: Image; readonly store: BlobStore }
  | Iterable<UnpackLayer>
  | AsyncIterable<UnpackLayer>;

/** UnpackOptions tunes unpackImage. Every limit has a safe default. */
export interface UnpackOptions extends DecompressLimits {
  /** cap on entries over all layers (default 2^21) */
  maxEntries?: number;
  /** largest PAX / GNU long-name record (default 1 MiB) */
  maxMetaBytes?: number;
  /** most symlinks followed over the whole unpack (default 2^20; see MAX_TOTAL_HOPS) */
  maxTotalHops?: number;
  /** refuse duplicate paths within a layer instead of last-wins with a warning (default false) */
  strictDuplicates?: boolean;
  /** restore uid/gid (default: when running as root) */
  chown?: boolean;
  /** receives each warning as it happens (they are also returned) */
  onWarning?: (message: string) => void;
}

/** UnpackResult reports what unpacking had to tolerate. */
export interface UnpackResult {
  /** human-readable warnings (duplicates, skipped device nodes, missing end marker …) */
  readonly warnings: readonly string[];
  /** number of tar entries applied */
  readonly entries: number;
}

const MAX_HOPS = 255;
/** MAX_WARNINGS bounds the warnings kept and reported; the rest are counted in one last line. */
const MAX_WARNINGS = 1000;
/**
 * MAX_TOTAL_HOPS bounds the symlinks followed over a whole unpack (issue 15.8). The memo makes ordinary
 * layers follow each link about once; only a layer that keeps replacing links and walking long chains
 * again reaches this.
 */
const MAX_TOTAL_HOPS = 1 << 20;
const WH_PREFIX = '.wh.';
const WH_OPAQUE = '.wh..wh..opq';

/** makeUnpackDir creates a fresh private (0700) directory for unpacking, under `parent` (default the OS temp dir). */
export async function makeUnpackDir(parent: string = tmpdir()): Promise<string> {
  return mkdtemp(join(parent, 'fromscratch-unpack-'));
}

/**
 * unpackImage applies the layers of `source`, lowest first, into `destRoot`, which must be an empty
 * directory owned by this user that no one else can write (use {@link makeUnpackDir}, or a directory
 * inside one). Nothing is ever created outside `destRoot`. On failure everything created inside
 * `destRoot` is removed (the directory itself is left to the caller) and a FromscratchError names the
 * layer and entry: PATH_ESCAPE, PATH_TOO_LONG, INVALID_ARCHIVE, TOO_LARGE, INVALID_COMPRESSION,
 * DIGEST_MISMATCH.
 *
 * @example
 * const root = await makeUnpackDir();
 * const { warnings } = await unpackImage({ image, store }, root);
 */
export async function unpackImage(
  source: UnpackSource,
  destRoot: string,
  opts: UnpackOptions = {},
): Promise<UnpackResult> {
  checkDestRoot(destRoot);
  const u = new Unpacker(Buffer.from(destRoot), opts);
  try {
    let index = 0;
    for await (const layer of layersOf(source)) {
      await u.applyLayer(layer, index++);
    }
    u.finish();
    u.summarizeWarnings();
  } catch (e) {
    cleanDir(Buffer.from(destRoot));
    throw e;
  }
  return { warnings: u.warnings, entries: u.entries };
}

async function* layersOf(source: UnpackSource): AsyncGenerator<UnpackLayer> {
  if ('image' in source && 'store' in source) {
    const { image, store } = source;
    for (const [i, l] of image.layers.entries()) {
      const c = layerCompression(l.blob.mediaType);
      if (c === undefined) {
        throw new FromscratchError(
          'INVALID_IMAGE',
          `layer ${i} (${l.blob.digest}) has unsupported media type ${l.blob.mediaType}`,
          {
            hint: 'only tar, tar+gzip and tar+zstd layers can be unpacked',
          },
        );
      }
      yield {
        data: store.open(l.blob.digest, l.blob.size),
        compression: c,
        diffId: l.diffId,
        name: `layer ${i} (${l.blob.digest})`,
      };
    }
    return;
  }
  yield* source as Iterable<UnpackLayer> | AsyncIterable<UnpackLayer>;
}

function checkDestRoot(destRoot: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(destRoot);
  } catch (e) {
    throw new FromscratchError('OUTPUT_UNWRITABLE', `unpack destination ${destRoot} does not exist`, {
      hint: 'create it with makeUnpackDir()',
      cause: e,
    });
  }
  if (!st.isDirectory())
    throw new FromscratchError('OUTPUT_UNWRITABLE', `unpack destination ${destRoot} is not a directory`, {
      hint: 'use a fresh directory from makeUnpackDir()',
    });
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new FromscratchError(
      'OUTPUT_UNWRITABLE',
      `unpack destination ${destRoot} is not owned by this user`,
      { hint: 'use a fresh directory from makeUnpackDir()' },
    );
  }
  if ((st.mode & 0o022) !== 0) {
    throw new FromscratchError(
      'OUTPUT_UNWRITABLE',
      `unpack destination ${destRoot} is writable by other users`,
      {
        hint: 'unpack only into a private directory (mode 0700 or 0755) so that no other process can race the extraction',
      },
    );
  }
  if (fs.readdirSync(destRoot).length > 0) {
    throw new FromscratchError('OUTPUT_UNWRITABLE', `unpack destination ${destRoot} is not empty`, {
      hint: 'use a fresh directory from makeUnpackDir()',
    });
  }
}

function fsError(e: unknown, doing: string): FromscratchError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENAMETOOLONG')
    return new FromscratchError('PATH_TOO_LONG', `${doing}: name too long`, {
      hint: 'the layer has paths longer than the filesystem allows',
      cause: e,
    });
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new FromscratchError('OUTPUT_UNWRITABLE', `${doing}: no space left on device`, {
      hint: 'free some disk space',
      cause: e,
    });
  return new FromscratchError('OUTPUT_UNWRITABLE', `${doing}: ${(e as Error).message}`, {
    hint: 'check the permissions and free space of the unpack directory',
    cause: e,
  });
}

/** cleanDir removes everything inside dir (not dir itself), never following symlinks. */
function cleanDir(dir: Buffer): void {
  try {
    for (const name of fs.readdirSync(dir, { encoding: 'buffer' }))
      removeTree(Buffer.concat([dir, Buffer.from('/'), name]));
  } catch {
    // best effort: cleaning after an error must not hide the error itself
  }
}

/** removeTree removes a path and, for a directory, everything under it, iteratively, never following symlinks. */
function removeTree(host: Buffer): void {
  const stack: { path: Buffer; expanded: boolean }[] = [{ path: host, expanded: false }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const st = fs.lstatSync(top.path, { throwIfNoEntry: false });
    if (!st) {
      stack.pop();
      continue;
    }
    if (!st.isDirectory()) {
      fs.unlinkSync(top.path);
      stack.pop();
      continue;
    }
    if (!top.expanded) {
      top.expanded = true;
      if ((st.mode & 0o700) !== 0o700) fs.chmodSync(top.path, st.mode | 0o700);
      for (const n of fs.readdirSync(top.path, { encoding: 'buffer' }))
        stack.push({ path: Buffer.concat([top.path, Buffer.from('/'), n]), expanded: false });
      continue;
    }
    fs.rmdirSync(top.path);
    stack.pop();
  }
}

/**
 * drainForBlobError reads a layer source to its end and returns the store's verification error
 * (DIGEST_MISMATCH / SIZE_MISMATCH), if any. With `closeOnly` (a bomb), it only closes the source.
 */
async function drainForBlobError(
  src: AsyncIterator<Uint8Array> | Iterator<Uint8Array>,
  closeOnly: boolean,
): Promise<FromscratchError | undefined> {
  try {
    if (!closeOnly) {
      for (;;) {
        const r = await src.next();
        if (r.done) return undefined;
      }
    }
  } catch (e) {
    if (isFromscratchError(e, 'DIGEST_MISMATCH') || isFromscratchError(e, 'SIZE_MISMATCH')) return e;
    return undefined; // another read error: the original error is the better report
  } finally {
    await src.return?.();
  }
  return undefined;
}

class Unpacker {
  readonly root: Buffer;
  readonly opts: UnpackOptions;
  readonly warnings: string[] = [];
  entries = 0;
  readonly maxEntries: number;
  readonly chown: boolean;
  /** real paths written by the current layer, and their ancestors (kept by whiteouts of this layer) */
  layerPaths = new Set<string>();
  layerAncestors = new Set<string>();
  /** directories already made opaque in the current layer (a repeated marker must not walk them again, A21) */
  layerOpaque = new Set<string>();
  /** directory mtimes, applied at the end (later entries would change them) */
  readonly dirTimes = new Map<string, number>();
  /** real path of a symlink → the real directory it resolves to (see walkDir) */
  readonly linkMemo = new Map<string, readonly string[]>();
  /** symlinks followed so far, over all layers (MAX_TOTAL_HOPS) */
  totalHops = 0;
  suppressedWarnings = 0;
  chownWarned = false;
  xattrWarned = false;
  current = '';
  layerName = '';

  constructor(root: Buffer, opts: UnpackOptions) {
    this.root = root;
    this.opts = opts;
    this.maxEntries = opts.maxEntries ?? 1 << 21;
    this.chown = opts.chown ?? (typeof process.getuid === 'function' && process.getuid() === 0);
  }

  warn(msg: string): void {
    // a layer of a million duplicate names must not keep a million messages (issue 15.8)
    if (this.warnings.length >= MAX_WARNINGS) {
      this.suppressedWarnings += 1;
      return;
    }
    this.warnings.push(msg);
    this.opts.onWarning?.(msg);
  }

  /** summarizeWarnings adds one line for the warnings past MAX_WARNINGS. */
  summarizeWarnings(): void {
    if (this.suppressedWarnings === 0) return;
    const msg = `${this.suppressedWarnings} more warnings not shown`;
    this.warnings.push(msg);
    this.opts.onWarning?.(msg);
  }

  host(parts: readonly string[]): Buffer {
    if (parts.length === 0) return this.root;
    return Buffer.concat([this.root, encodePath(`/${parts.join('/')}`)]);
  }

  fail(code: 'PATH_ESCAPE' | 'INVALID_ARCHIVE' | 'PATH_TOO_LONG', msg: string, hint?: string): never {
    throw new FromscratchError(code, `${this.layerName}: entry ${JSON.stringify(this.current)}: ${msg}`, {
      hint: hint ?? 'the layer is corrupt or was crafted to escape the root; refusing to unpack it',
    });
  }

  async applyLayer(layer: UnpackLayer, index: number): Promise<void> {
    this.layerName = layer.name ?? `layer ${index}`;
    this.current = ''; // an error before this layer's first entry must not name the last entry of the layer below
    this.layerPaths = new Set();
    this.layerAncestors = new Set();
    this.layerOpaque = new Set();
    const hasher = newHasher();
    // The decompressor gets a view of the source that cannot close it: when decompression or tar parsing
    // fails, the rest of the blob is drained so that a verifying store reports what really happened
    // (a flipped byte is a DIGEST_MISMATCH of the blob, not just "corrupt gzip": RELIABILITY.md B3).
    const src: AsyncIterator<Uint8Array> | Iterator<Uint8Array> =
      Symbol.asyncIterator in layer.data ? layer.data[Symbol.asyncIterator]() : layer.data[Symbol.iterator]();
    const view: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({ next: async () => src.next() }),
    };
    const tarBytes = decompressStream(view, layer.compression ?? 'auto', this.layerName, this.opts);
    const hashed = async function* (): AsyncGenerator<Uint8Array> {
      for await (const b of tarBytes) {
        hasher.update(b);
        yield b;
      }
    };
    const reader = new TarReader(hashed(), { maxMetaBytes: this.opts.maxMetaBytes });
    try {
      for (;;) {
        const entry = await reader.next();
        if (!entry) break;
        this.current = entry.name;
        this.entries += 1;
        if (this.entries > this.maxEntries) {
          throw new FromscratchError('TOO_LARGE', `${this.layerName}: more than ${this.maxEntries} entries`, {
            hint: 'the image has too many files, or raise maxEntries',
          });
        }
        await this.applyEntry(entry, reader);
      }
      if (reader.missingEndMarker) this.warn(`${this.layerName}: tar archive has no end-of-archive marker`);
    } catch (e) {
      const blobError = await drainForBlobError(src, isFromscratchError(e, 'TOO_LARGE'));
      if (blobError)
        throw new FromscratchError(blobError.code, `${this.layerName}: ${blobError.message}`, {
          hint: blobError.hint,
          cause: blobError,
        });
      if (isFromscratchError(e)) {
        if (e.message.startsWith(this.layerName)) throw e;
        throw new FromscratchError(e.code, `${this.layerName}: ${e.message}`, { hint: e.hint, cause: e });
      }
      if ((e as NodeJS.ErrnoException).code)
        throw fsError(e, `${this.layerName}: entry ${JSON.stringify(this.current)}`);
      throw e;
    }
    // the tar ended: read the source to its end so that a verifying store checks the blob's digest and size
    const blobError = await drainForBlobError(src, false);
    if (blobError)
      throw new FromscratchError(blobError.code, `${this.layerName}: ${blobError.message}`, {
        hint: blobError.hint,
        cause: blobError,
      });
    if (layer.diffId !== undefined) {
      const got = hasher.digest().digest;
      if (got !== layer.diffId) {
        throw new FromscratchError(
          'DIGEST_MISMATCH',
          `${this.layerName}: uncompressed content has digest ${got}, expected diff_id ${layer.diffId}`,
          {
            hint: 'the layer does not match the image config; the image is corrupt',
          },
        );
      }
    }
  }

  /** splitName turns an entry name into components, refusing `..` and enforcing the path limits. */
  splitName(name: string, what: string): string[] {
    if (name.includes('\0')) this.fail('INVALID_ARCHIVE', `${what} contains a NUL byte`);
    const parts: string[] = [];
    for (const p of name.split('/')) {
      if (p === '' || p === '.') continue;
      if (p === '..')
        this.fail('PATH_ESCAPE', `${what} ${JSON.stringify(name)} has a '..' component (path escapes root)`);
      parts.push(p);
    }
    try {
      checkPathLimits(`/${parts.join('/')}`);
    } catch (e) {
      if (isFromscratchError(e))
        this.fail(
          'PATH_TOO_LONG',
          e.message,
          'the layer has paths beyond PATH_MAX/NAME_MAX or the depth limit',
        );
      throw e;
    }
    return parts;
  }

  /**
   * resolveDir resolves directory components inside the root with chroot semantics, creating missing
   * directories when `create` (implicit parents). Returns the real components, or undefined when a
   * component is missing and `create` is false. With `noSymlinks`, a symlink component yields 'symlink'.
   */
  resolveDir(
    parts: readonly string[],
    create: boolean,
    noSymlinks = false,
  ): string[] | undefined | 'symlink' {
    return this.walkDir([], parts, create, noSymlinks, { n: 0 });
  }

  /**
   * walkDir resolves `parts` from the real directory `start`. A symlink is resolved once, by a nested walk
   * of its target, and remembered by its real path until something is removed from the root: 10^4 entries
   * behind a chain of 250 links cost 250 hops, not 2.5 million (issue 15.8). The memo only holds walks
   * that passed through existing nodes, so creating a new node cannot make an entry stale; removing or
   * replacing a directory or symlink can, hence {@link forgetLinks}; MAX_TOTAL_HOPS bounds a layer that
   * keeps doing that.
   */
  walkDir(
    start: readonly string[],
    parts: readonly string[],
    create: boolean,
    noSymlinks: boolean,
    hops: { n: number },
  ): string[] | undefined | 'symlink' {
    let done = [...start];
    for (const part of parts) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        done.pop();
        continue;
      }
      const next = [...done, part];
      const key = `/${next.join('/')}`;
      const known = noSymlinks ? undefined : this.linkMemo.get(key);
      if (known) {
        done = [...known];
        continue;
      }
      const h = this.host(next);
      const st = fs.lstatSync(h, { throwIfNoEntry: false });
      if (!st) {
        if (!create) return undefined;
        fs.mkdirSync(h, { mode: 0o755 });
        fs.chmodSync(h, 0o755); // implicit parents are 0755 whatever the umask (a non-root container user must traverse them)
        done = next;
        continue;
      }
      if (st.isSymbolicLink()) {
        if (noSymlinks) return 'symlink';
        hops.n += 1;
        if (hops.n > MAX_HOPS)
          this.fail('PATH_ESCAPE', `too many levels of symbolic links (more than ${MAX_HOPS})`);
        this.totalHops += 1;
        const maxTotal = this.opts.maxTotalHops ?? MAX_TOTAL_HOPS;
        if (this.totalHops > maxTotal) {
          throw new FromscratchError(
            'TOO_LARGE',
            `${this.layerName}: entry ${JSON.stringify(this.current)}: more than ${maxTotal} symbolic links followed in all`,
            { hint: 'the image keeps replacing long symlink chains to waste work; refusing to unpack it' },
          );
        }
        const target = decodePathBytes(fs.readlinkSync(h, { encoding: 'buffer' }));
        const r = this.walkDir(target.startsWith('/') ? [] : done, target.split('/'), create, false, hops);
        if (r === undefined || r === 'symlink') return r;
        this.linkMemo.set(key, r);
        done = r;
        continue;
      }
      if (!st.isDirectory()) {
        if (!create) return undefined;
        this.fail('INVALID_ARCHIVE', `/${next.join('/')} is not a directory`);
      }
      done = next;
    }
    return done;
  }

  /**
   * forgetLinks drops the symlink memo when the node `st` (about to be removed or replaced) is a directory
   * or a symlink: a walk only ever passes through those, so replacing a file keeps the memo.
   */
  forgetLinks(st: fs.Stats): void {
    if (this.linkMemo.size > 0 && (st.isDirectory() || st.isSymbolicLink())) this.linkMemo.clear();
  }

  markWritten(parts: readonly string[]): void {
    const p = `/${parts.join('/')}`;
    this.layerPaths.add(p);
    for (let i = parts.length - 1; i >= 1; i--) {
      const a = `/${parts.slice(0, i).join('/')}`;
      if (this.layerAncestors.has(a)) break;
      this.layerAncestors.add(a);
    }
  }

  async applyEntry(e: TarEntry, reader: TarReader): Promise<void> {
    const parts = this.splitName(e.name, 'name');
    const base = parts[parts.length - 1];
    if (base?.startsWith(WH_PREFIX)) {
      this.applyWhiteout(parts, base);
      return;
    }
    if (base === undefined) {
      // the root itself (`.`, `/`, `./`)
      if (e.type !== 'dir') this.fail('PATH_ESCAPE', `refusing to change type of root to ${e.type}`);
      this.applyDirMeta([], e);
      return;
    }
    const parent = this.resolveDir(parts.slice(0, -1), true) as string[];
    const real = [...parent, base];
    const h = this.host(real);
    const key = `/${real.join('/')}`;
    const existing = fs.lstatSync(h, { throwIfNoEntry: false });
    if (this.layerPaths.has(key) && !(e.type === 'dir' && existing?.isDirectory())) {
      if (this.opts.strictDuplicates) this.fail('INVALID_ARCHIVE', 'duplicate file path in layer');
      this.warn(`${this.layerName}: duplicate entry ${JSON.stringify(e.name)}: the last one wins`);
    }
    if (e.type === 'hardlink') {
      this.applyHardlink(e, real, h, existing);
      this.markWritten(real);
      return;
    }
    if (existing && !(e.type === 'dir' && existing.isDirectory())) {
      this.forgetLinks(existing);
      if (existing.isDirectory()) removeTree(h);
      else fs.unlinkSync(h);
    }
    switch (e.type) {
      case 'dir':
        if (!existing?.isDirectory()) fs.mkdirSync(h, { mode: 0o700 });
        this.applyDirMeta(real, e);
        break;
      case 'file':
        await this.writeFile(h, e, reader);
        break;
      case 'symlink': {
        if (e.linkname === '') this.fail('INVALID_ARCHIVE', 'symlink with an empty target');
        fs.symlinkSync(encodePath(e.linkname), h);
        if (this.chown) this.tryChown(() => fs.lchownSync(h, e.uid, e.gid));
        fs.lutimesSync(h, e.mtime, e.mtime);
        break;
      }
      case 'char':
      case 'block':
      case 'fifo':
        this.makeNode(h, e);
        break;
    }
    this.markWritten(real);
  }

  tryChown(f: () => void): void {
    try {
      f();
    } catch (err) {
      const c = (err as NodeJS.ErrnoException).code;
      if (c !== 'EPERM' && c !== 'EINVAL') throw err;
      if (!this.chownWarned)
        this.warn(`${this.layerName}: cannot restore file owners (${c}); files belong to the current user`);
      this.chownWarned = true;
    }
  }

  applyXattrs(h: Buffer, e: TarEntry): void {
    if (e.xattrs.size === 0) return;
    const p = h.toString('utf8');
    if (!Buffer.from(p, 'utf8').equals(h)) {
      this.warn(`${this.layerName}: entry ${JSON.stringify(e.name)}: xattrs not restored (non-UTF-8 path)`);
      return;
    }
    for (const [name, value] of e.xattrs) {
      try {
        // @napi-rs/xattr uses lsetxattr: the final component (just created by us) is not followed, and
        // every parent is a real directory of the private root
        setAttributeSync(p, name, value);
      } catch (err) {
        this.warn(
          `${this.layerName}: entry ${JSON.stringify(e.name)}: cannot set xattr ${name}: ${(err as Error).message}`,
        );
      }
    }
  }

  async writeFile(h: Buffer, e: TarEntry, reader: TarReader): Promise<void> {
    const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
    const fd = fs.openSync(h, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    try {
      for await (const b of reader.body()) {
        let off = 0;
        while (off < b.length) off += fs.writeSync(fd, b, off, b.length - off);
      }
      // chown → chmod → setxattr: chown clears setuid bits and security.capability (buildah#3294)
      if (this.chown) this.tryChown(() => fs.fchownSync(fd, e.uid, e.gid));
      fs.fchmodSync(fd, e.mode);
      this.applyXattrs(h, e);
      fs.futimesSync(fd, e.mtime, e.mtime);
    } finally {
      fs.closeSync(fd);
    }
  }

  applyDirMeta(real: readonly string[], e: TarEntry): void {
    const h = this.host(real);
    const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = fs.constants;
    const fd = fs.openSync(h, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    try {
      if (this.chown) this.tryChown(() => fs.fchownSync(fd, e.uid, e.gid));
      fs.fchmodSync(fd, e.mode);
      this.applyXattrs(h, e);
    } finally {
      fs.closeSync(fd);
    }
    this.dirTimes.set(`/${real.join('/')}`, e.mtime);
  }

  applyHardlink(e: TarEntry, real: string[], h: Buffer, existing: fs.Stats | undefined): void {
    const tparts = this.splitName(e.linkname, 'hardlink target');
    if (tparts.length === 0) this.fail('INVALID_ARCHIVE', 'hardlink to the root directory');
    const tparent = this.resolveDir(tparts.slice(0, -1), false);
    const treal = Array.isArray(tparent) ? [...tparent, tparts[tparts.length - 1]!] : undefined;
    const tst = treal ? fs.lstatSync(this.host(treal), { throwIfNoEntry: false }) : undefined;
    if (!treal || !tst)
      this.fail(
        'INVALID_ARCHIVE',
        `hardlink target ${JSON.stringify(e.linkname)} does not exist in the root`,
        'a hardlink must point to a file earlier in the layer or in a lower layer',
      );
    if (tst.isDirectory())
      this.fail('INVALID_ARCHIVE', `hardlink target ${JSON.stringify(e.linkname)} is a directory`);
    if (treal.join('/') === real.join('/')) {
      this.warn(`${this.layerName}: entry ${JSON.stringify(e.name)} is a hardlink to itself; ignored`);
      return;
    }
    if (existing) {
      this.forgetLinks(existing);
      if (existing.isDirectory()) removeTree(h);
      else fs.unlinkSync(h);
    }
    // link(2) does not follow a symlink target: the new name shares the inode found inside the root
    fs.linkSync(this.host(treal), h);
  }

  makeNode(h: Buffer, e: TarEntry): void {
    const what = e.type === 'fifo' ? 'fifo' : `${e.type} device`;
    const hostStr = h.toString('utf8');
    if (!Buffer.from(hostStr, 'utf8').equals(h)) {
      this.warn(`${this.layerName}: skipped ${what} ${JSON.stringify(e.name)} (non-UTF-8 name)`);
      return;
    }
    const mknod = ['/usr/bin/mknod', '/bin/mknod'].find((p) => fs.existsSync(p));
    const args =
      e.type === 'fifo'
        ? ['-m', (e.mode & 0o7777).toString(8), hostStr, 'p']
        : [
            '-m',
            (e.mode & 0o7777).toString(8),
            hostStr,
            e.type === 'char' ? 'c' : 'b',
            String(e.devmajor),
            String(e.devminor),
          ];
    // mknod does not follow a symlink in the last component (EEXIST); the parent is a real directory of the private root
    const r = mknod ? spawnSync(mknod, args, { encoding: 'utf8', timeout: 10_000 }) : undefined;
    if (r?.status !== 0) {
      this.warn(
        `${this.layerName}: skipped ${what} ${JSON.stringify(e.name)} (${r ? r.stderr.trim() || `mknod exited ${r.status}` : 'mknod not found'})`,
      );
      return;
    }
    if (this.chown) this.tryChown(() => fs.lchownSync(h, e.uid, e.gid));
    fs.lutimesSync(h, e.mtime, e.mtime);
  }

  applyWhiteout(parts: string[], base: string): void {
    const dirParts = parts.slice(0, -1);
    if (base === WH_OPAQUE) {
      const dir = this.resolveDir(dirParts, false, true);
      if (dir === 'symlink') {
        this.warn(
          `${this.layerName}: opaque whiteout ${JSON.stringify(this.current)} under a symlink; ignored`,
        );
        return;
      }
      if (!dir) return;
      const key = `/${dir.join('/')}`;
      if (this.layerOpaque.has(key)) return;
      this.layerOpaque.add(key);
      const h = this.host(dir);
      if (!fs.lstatSync(h).isDirectory()) return;
      for (const n of fs.readdirSync(h, { encoding: 'buffer' }))
        this.removeLower([...dir, decodePathBytes(n)]);
      return;
    }
    const target = base.slice(WH_PREFIX.length);
    if (target === '' || target === '.' || target === '..')
      this.fail('INVALID_ARCHIVE', `invalid whiteout ${JSON.stringify(base)} (empty, '.' or '..' name)`);
    if (target.startsWith(WH_PREFIX)) {
      // other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs): not part of the image spec
      this.warn(`${this.layerName}: ignored AUFS metadata entry ${JSON.stringify(this.current)}`);
      return;
    }
    const dir = this.resolveDir(dirParts, false, true);
    if (dir === 'symlink') {
      // never walk through a symlinked parent: the lower path it would name is not in the tree (A12)
      this.warn(`${this.layerName}: whiteout ${JSON.stringify(this.current)} under a symlink; ignored`);
      return;
    }
    if (!dir) return;
    this.removeLower([...dir, target]);
  }

  /** removeLower removes a path that came from lower layers; entries of the current layer (and their parents) survive. */
  removeLower(real: string[]): void {
    const stack: string[][] = [real];
    while (stack.length > 0) {
      const p = stack.pop()!;
      const key = `/${p.join('/')}`;
      const h = this.host(p);
      const st = fs.lstatSync(h, { throwIfNoEntry: false });
      if (!st) continue;
      const inLayer = this.layerPaths.has(key);
      const isAncestor = this.layerAncestors.has(key);
      if (!inLayer && !isAncestor) {
        this.forgetLinks(st);
        removeTree(h);
        this.dirTimes.delete(key);
        continue;
      }
      if (st.isDirectory()) {
        for (const n of fs.readdirSync(h, { encoding: 'buffer' })) stack.push([...p, decodePathBytes(n)]);
      }
    }
  }

  finish(): void {
    for (const [p, t] of this.dirTimes) {
      // a later layer may have turned a component into a symlink: re-resolve without following any
      const real = this.resolveDir(p.split('/').filter(Boolean), false, true);
      if (Array.isArray(real)) fs.utimesSync(this.host(real), t, t);
    }
  }
}
