/**
 * tar-reader.ts — a bounded, strict tar reader (ustar, GNU long names, PAX) over an async byte stream.
 *
 * We own this reader rather than wrap tar-stream because the safety of unpacking depends on its exact
 * behaviour (RELIABILITY.md A17–A22): PAX and GNU long-name headers are capped, sparse entries are
 * refused, a PAX `size` always decides how many data bytes follow (as GNU tar and Go archive/tar do, so
 * no entry can be "smuggled"), names are kept as raw bytes (A23), and truncation, bad checksums and
 * trailing junk are errors.
 */
import { FromscratchError } from '../errors.ts';
import { decodePathBytes } from '../fs/path.ts';

/** TarEntryType is the kind of a tar entry fromscratch understands. */
export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

/** TarEntry is one parsed tar header (after PAX and GNU long-name records are applied). */
export interface TarEntry {
  readonly type: TarEntryType;
  /** the entry name, decoded with surrogateescape (see fs/path.ts) */
  readonly name: string;
  /** the link target of a hardlink or symlink, decoded with surrogateescape ('' otherwise) */
  readonly linkname: string;
  /** number of data bytes (0 for every type but 'file') */
  readonly size: number;
  /** permission bits including setuid/setgid/sticky */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** seconds since the epoch (fraction kept from PAX) */
  readonly mtime: number;
  readonly devmajor: number;
  readonly devminor: number;
  /** extended attributes from SCHILY.xattr.* / LIBARCHIVE.xattr.* PAX records, raw bytes */
  readonly xattrs: ReadonlyMap<string, Buffer>;
  /** byte offset of the entry's header in the uncompressed stream, for messages */
  readonly offset: number;
}

/** TarLimits bounds what a hostile archive can make the reader do. */
export interface TarLimits {
  /** largest PAX extended header or GNU long name/link record (default 1 MiB; RELIABILITY.md A18) */
  maxMetaBytes?: number;
}

/** DEFAULT_MAX_META_BYTES is the default cap on one PAX / GNU long-name record (RELIABILITY.md A18). */
export const DEFAULT_MAX_META_BYTES = 1024 * 1024;

const BLOCK = 512;

/** ByteSource reads exact byte counts from an async iterable of chunks. */
class ByteSource {
  readonly #it: AsyncIterator<Uint8Array>;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #eof = false;
  /** bytes consumed so far */
  position = 0;
  constructor(src: AsyncIterable<Uint8Array>) {
    this.#it = src[Symbol.asyncIterator]();
  }
  async #fill(n: number): Promise<void> {
    while (this.#buffered < n && !this.#eof) {
      const r = await this.#it.next();
      if (r.done) {
        this.#eof = true;
        break;
      }
      if (r.value.byteLength === 0) continue;
      const b = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
      this.#chunks.push(b);
      this.#buffered += b.length;
    }
  }
  /** read returns up to n bytes (fewer only at EOF). */
  async read(n: number): Promise<Buffer> {
    await this.#fill(n);
    const take = Math.min(n, this.#buffered);
    const out = this.#take(take);
    return out;
  }
  /** readSome returns between 1 and n bytes, or an empty buffer at EOF. */
  async readSome(n: number): Promise<Buffer> {
    await this.#fill(1);
    if (this.#buffered === 0) return Buffer.alloc(0);
    const first = this.#chunks[0]!;
    return this.#take(Math.min(n, first.length));
  }
  #take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.#chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      const parts: Buffer[] = [];
      let need = n;
      while (need > 0) {
        const c = this.#chunks[0]!;
        if (c.length <= need) {
          parts.push(c);
          this.#chunks.shift();
          need -= c.length;
        } else {
          parts.push(c.subarray(0, need));
          this.#chunks[0] = c.subarray(need);
          need = 0;
        }
      }
      out = Buffer.concat(parts, n);
    }
    this.#buffered -= n;
    this.position += n;
    return out;
  }
  async close(): Promise<void> {
    await this.#it.return?.();
  }
}

function invalid(
  msg: string,
  hint = 'the layer is corrupt or was crafted to attack unpackers; rebuild it with a standard tool',
): FromscratchError {
  return new FromscratchError('INVALID_ARCHIVE', msg, { hint });
}

/** cstring returns the bytes of a NUL-terminated field. */
function cstring(b: Buffer): Buffer {
  const i = b.indexOf(0);
  return i < 0 ? b : b.subarray(0, i);
}

/** parseNumeric decodes an octal (or base-256) numeric header field. */
function parseNumeric(b: Buffer, field: string, offset: number): number {
  if (b.length > 0 && (b[0]! & 0x80) !== 0) {
    if ((b[0]! & 0x40) !== 0) throw invalid(`tar header at offset ${offset}: negative base-256 ${field}`);
    let v = b[0]! & 0x3f;
    for (let i = 1; i < b.length; i++) {
      v = v * 256 + b[i]!;
      if (v > Number.MAX_SAFE_INTEGER) throw invalid(`tar header at offset ${offset}: ${field} is too large`);
    }
    return v;
  }
  const s = cstring(b).toString('latin1').trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s))
    throw invalid(`tar header at offset ${offset}: ${field} ${JSON.stringify(s)} is not an octal number`);
  const v = Number.parseInt(s, 8);
  if (!Number.isSafeInteger(v)) throw invalid(`tar header at offset ${offset}: ${field} is too large`);
  return v;
}

function checksumOk(h: Buffer, offset: number): boolean {
  const want = parseNumeric(h.subarray(148, 156), 'checksum', offset);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : h[i]!;
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return want === unsigned || want === signed;
}

function isZeroBlock(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

interface PaxRecords {
  path?: Buffer;
  linkpath?: Buffer;
  size?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  xattrs: Map<string, Buffer>;
}

/** parsePax decodes the records `LEN KEY=VALUE\n` of a PAX extended header (POSIX pax, ustar extensions). */
function parsePax(data: Buffer, offset: number, into: PaxRecords): void {
  let i = 0;
  while (i < data.length) {
    if (data[i] === 0) break; // NUL padding after the last record
    const sp = data.indexOf(0x20, i);
    if (sp < 0 || sp - i > 20) throw invalid(`pax header at offset ${offset}: malformed record length`);
    const lenStr = data.subarray(i, sp).toString('latin1');
    if (!/^[0-9]+$/.test(lenStr))
      throw invalid(`pax header at offset ${offset}: malformed record length ${JSON.stringify(lenStr)}`);
    const len = Number.parseInt(lenStr, 10);
    if (len <= sp - i + 1 || i + len > data.length || data[i + len - 1] !== 0x0a) {
      throw invalid(`pax header at offset ${offset}: record length ${len} does not match the record`);
    }
    const rec = data.subarray(sp + 1, i + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw invalid(`pax header at offset ${offset}: record without '='`);
    const key = rec.subarray(0, eq).toString('utf8');
    const value = rec.subarray(eq + 1);
    applyPax(key, value, offset, into);
    i += len;
  }
}

function paxNumber(key: string, value: Buffer, offset: number, fraction = false): number {
  const s = value.toString('latin1');
  const re = fraction ? /^-?[0-9]+(\.[0-9]+)?$/ : /^[0-9]+$/;
  if (!re.test(s))
    throw invalid(`pax header at offset ${offset}: ${key}=${JSON.stringify(s.slice(0, 40))} is not a number`);
  const v = Number(s);
  if (!Number.isFinite(v) || Math.abs(v) > Number.MAX_SAFE_INTEGER)
    throw invalid(`pax header at offset ${offset}: ${key} is out of range`);
  return v;
}

function applyPax(key: string, value: Buffer, offset: number, into: PaxRecords): void {
  if (key.startsWith('GNU.sparse.')) {
    throw invalid(
      `pax header at offset ${offset}: GNU sparse files are not supported`,
      'image layers must not contain sparse files (image-spec layer.md); rebuild the layer without --sparse',
    );
  }
  switch (key) {
    case 'path':
      into.path = Buffer.from(value);
      return;
    case 'linkpath':
      into.linkpath = Buffer.from(value);
      return;
    case 'size':
      into.size = paxNumber(key, value, offset);
      return;
    case 'uid':
      into.uid = paxNumber(key, value, offset);
      return;
    case 'gid':
      into.gid = paxNumber(key, value, offset);
      return;
    case 'mtime':
      into.mtime = paxNumber(key, value, offset, true);
      return;
    default:
      if (key.startsWith('SCHILY.xattr.'))
        into.xattrs.set(key.slice('SCHILY.xattr.'.length), Buffer.from(value));
      else if (key.startsWith('LIBARCHIVE.xattr.')) {
        let name: string;
        try {
          name = decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length));
        } catch {
          // a lone `%` or a non-UTF-8 escape: the record is malformed (a URIError here was a crash)
          throw invalid(
            `PAX record ${JSON.stringify(key.slice(0, 80))} at offset ${offset} has a malformed %-escape`,
          );
        }
        into.xattrs.set(name, Buffer.from(value.toString('latin1'), 'base64'));
      }
    // other keys (atime, ctime, uname, gname, comment, hdrcharset, …) carry nothing we apply
  }
}

/**
 * TarReader yields the entries of a tar stream one by one. Call {@link TarReader.next} for the next
 * header and {@link TarReader.body} to stream the data of the current entry (unread data is skipped by
 * the next call to `next`).
 */
export class TarReader {
  readonly #src: ByteSource;
  readonly #maxMeta: number;
  /** data bytes of the current entry not read yet, and its padding */
  #remaining = 0;
  #padding = 0;
  #done = false;
  /** whether the archive ended without an end-of-archive marker */
  missingEndMarker = false;

  constructor(src: AsyncIterable<Uint8Array>, limits: TarLimits = {}) {
    this.#src = new ByteSource(src);
    this.#maxMeta = limits.maxMetaBytes ?? DEFAULT_MAX_META_BYTES;
  }

  /** position is the number of uncompressed bytes consumed. */
  get position(): number {
    return this.#src.position;
  }

  async #skip(n: number): Promise<void> {
    while (n > 0) {
      const b = await this.#src.readSome(Math.min(n, 1 << 20));
      if (b.length === 0)
        throw invalid(
          `tar archive is truncated (${n} bytes of entry data missing at offset ${this.#src.position})`,
        );
      n -= b.length;
    }
  }

  async #readBlock(): Promise<Buffer | undefined> {
    const at = this.#src.position;
    const b = await this.#src.read(BLOCK);
    if (b.length === 0) return undefined;
    if (b.length < BLOCK) throw invalid(`tar archive is truncated (partial header block at offset ${at})`);
    return b;
  }

  async #readMeta(size: number, what: string, offset: number): Promise<Buffer> {
    if (size > this.#maxMeta) {
      throw new FromscratchError(
        'TOO_LARGE',
        `${what} at offset ${offset} is ${size} bytes (limit ${this.#maxMeta})`,
        {
          hint: 'the layer was crafted to exhaust memory, or is corrupt',
        },
      );
    }
    const data = await this.#src.read(size);
    if (data.length < size) throw invalid(`tar archive is truncated inside the ${what} at offset ${offset}`);
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    await this.#skip(pad);
    return Buffer.from(data);
  }

  /** next returns the next entry, or undefined at the end of the archive. */
  async next(): Promise<TarEntry | undefined> {
    if (this.#done) return undefined;
    await this.#skip(this.#remaining + this.#padding);
    this.#remaining = 0;
    this.#padding = 0;
    const pax: PaxRecords = { xattrs: new Map() };
    let havePax = false;
    let longName: Buffer | undefined;
    let longLink: Buffer | undefined;
    for (;;) {
      const offset = this.#src.position;
      const h = await this.#readBlock();
      if (h === undefined) {
        if (havePax || longName || longLink)
          throw invalid(`tar archive is truncated after the extended header at offset ${offset}`);
        // EOF on a header boundary without the two zero blocks: GNU tar and Go accept it; so do we (with a warning by the caller)
        this.missingEndMarker = true;
        this.#done = true;
        return undefined;
      }
      if (isZeroBlock(h)) {
        if (havePax || longName || longLink)
          throw invalid(`tar archive has an extended header without an entry at offset ${offset}`);
        await this.#finish(offset);
        return undefined;
      }
      if (!checksumOk(h, offset)) throw invalid(`tar header at offset ${offset} has a bad checksum`);
      const typeflag = String.fromCharCode(h[156]!);
      const size = parseNumeric(h.subarray(124, 136), 'size', offset);
      if (typeflag === 'x' || typeflag === 'g') {
        const data = await this.#readMeta(size, 'pax extended header', offset);
        if (typeflag === 'x') {
          parsePax(data, offset, pax);
          havePax = true;
        } else {
          // global headers are parsed (to refuse sparse maps) but their values are not applied, as Docker and Go do
          parsePax(data, offset, { xattrs: new Map() });
        }
        continue;
      }
      if (typeflag === 'L' || typeflag === 'K') {
        const data = cstring(
          await this.#readMeta(size, typeflag === 'L' ? 'GNU long name' : 'GNU long link name', offset),
        );
        if (typeflag === 'L') longName = data;
        else longLink = data;
        continue;
      }
      const magic = h.subarray(257, 263).toString('latin1');
      const isPosix = magic === 'ustar\0';
      let nameBytes = cstring(h.subarray(0, 100));
      if (isPosix) {
        const prefix = cstring(h.subarray(345, 500));
        if (prefix.length > 0) nameBytes = Buffer.concat([prefix, Buffer.from('/'), nameBytes]);
      }
      let linkBytes = cstring(h.subarray(157, 257));
      // Precedence as in GNU tar: a GNU long name/link overrides the ustar field and a PAX record
      // overrides both (differential test against GNU tar in test/run/unpack-hostile.test.ts, A17).
      if (longName !== undefined) nameBytes = longName;
      if (longLink !== undefined) linkBytes = longLink;
      if (pax.path !== undefined) nameBytes = pax.path;
      if (pax.linkpath !== undefined) linkBytes = pax.linkpath;
      const name = decodePathBytes(nameBytes);
      let type: TarEntryType;
      switch (typeflag) {
        case '0':
        case '\0':
        case '7':
          type = name.endsWith('/') && typeflag === '\0' ? 'dir' : 'file';
          break;
        case '1':
          type = 'hardlink';
          break;
        case '2':
          type = 'symlink';
          break;
        case '3':
          type = 'char';
          break;
        case '4':
          type = 'block';
          break;
        case '5':
          type = 'dir';
          break;
        case '6':
          type = 'fifo';
          break;
        case 'S':
          throw invalid(
            `tar entry ${JSON.stringify(name)} at offset ${offset} is a GNU sparse file, which is not supported`,
            'image layers must not contain sparse files (image-spec layer.md)',
          );
        default:
          throw invalid(
            `tar entry ${JSON.stringify(name)} at offset ${offset} has unsupported type ${JSON.stringify(typeflag)}`,
          );
      }
      const dataSize = pax.size ?? size;
      // Data follows every entry whose header says so: GNU tar skips `size` bytes for every type, and so
      // must we, or a hidden header could be smuggled in a symlink's "data" (A17). Only regular files expose it.
      this.#remaining = dataSize;
      this.#padding = (BLOCK - (dataSize % BLOCK)) % BLOCK;
      const entry: TarEntry = {
        type,
        name,
        linkname: decodePathBytes(linkBytes),
        size: type === 'file' ? dataSize : 0,
        mode: parseNumeric(h.subarray(100, 108), 'mode', offset) & 0o7777,
        uid: pax.uid ?? parseNumeric(h.subarray(108, 116), 'uid', offset),
        gid: pax.gid ?? parseNumeric(h.subarray(116, 124), 'gid', offset),
        mtime: pax.mtime ?? parseNumeric(h.subarray(136, 148), 'mtime', offset),
        devmajor: magic.startsWith('ustar') ? parseNumeric(h.subarray(329, 337), 'devmajor', offset) : 0,
        devminor: magic.startsWith('ustar') ? parseNumeric(h.subarray(337, 345), 'devminor', offset) : 0,
        xattrs: pax.xattrs,
        offset,
      };
      return entry;
    }
  }

  /** body streams the data of the current entry (call once, before next). */
  async *body(): AsyncGenerator<Buffer> {
    while (this.#remaining > 0) {
      const b = await this.#src.readSome(Math.min(this.#remaining, 1 << 20));
      if (b.length === 0)
        throw invalid(
          `tar archive is truncated (${this.#remaining} bytes of entry data missing at offset ${this.#src.position})`,
        );
      this.#remaining -= b.length;
      yield b;
    }
  }

  /** #finish reads what follows the first zero block: zero padding is fine, anything else is junk. */
  async #finish(offset: number): Promise<void> {
    this.#done = true;
    for (;;) {
      const b = await this.#src.readSome(1 << 16);
      if (b.length === 0) break;
      if (!isZeroBlock(b)) {
        throw invalid(`tar archive has trailing data after the end-of-archive marker at offset ${offset}`);
      }
    }
    await this.#src.close();
  }
}
