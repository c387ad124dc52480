/**
 * tar-header.ts — encodes one tar entry header: a ustar block, preceded by a PAX extended header only
 * when a value does not fit ustar. PURE.
 *
 * Format references: POSIX pax (https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html
 * §"pax Interchange Format"), GNU tar's ustar layout, Go archive/tar (what containerd, Docker and umoci
 * read with). Every choice below is fixed so the same entry always gives the same bytes.
 */
import { isUtf8 } from 'node:buffer';
import { FromscratchError } from '../errors.ts';

/** BLOCK_SIZE is the tar record unit: headers and padded contents are multiples of it. */
export const BLOCK_SIZE = 512;

/** TarTypeflag lists the ustar typeflags fromscratch writes. */
export const TarTypeflag = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
  /** a PAX extended header for the next entry */
  pax: 'x',
} as const;
export type TarTypeflag = (typeof TarTypeflag)[keyof typeof TarTypeflag];

/** TarHeader is everything one entry's header carries, already in tar terms (relative byte names). */
export interface TarHeader {
  /** entry name bytes, relative (`usr/bin/x`), directories ending with `/` */
  readonly name: Uint8Array;
  readonly typeflag: TarTypeflag;
  /** permission bits including setuid/setgid/sticky (0..07777) */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** content size in bytes (0 for everything but regular files) */
  readonly size: number;
  /** seconds since the epoch, ≥ 0 */
  readonly mtime: number;
  /** symlink target or hardlink name bytes (empty for other types) */
  readonly linkname?: Uint8Array;
  readonly devmajor?: number;
  readonly devminor?: number;
  /** extended attributes, written as `SCHILY.xattr.<name>` PAX records with the raw value bytes */
  readonly xattrs?: Readonly<Record<string, Uint8Array>>;
}

// ustar field limits: numeric fields are zero-padded octal followed by a NUL.
const NAME_LEN = 100;
const PREFIX_LEN = 155;
const LINKNAME_LEN = 100;
/** 7 octal digits: mode, uid, gid, devmajor, devminor */
const MAX_OCTAL_7 = 0o7777777;
/** 11 octal digits: size and mtime (8 GiB − 1; the year 2242) */
const MAX_OCTAL_11 = 0o77777777777;

/**
 * PAX_HEADER_NAME is the name of every PAX extended header block. It is a constant (Python tarfile's
 * choice) because GNU tar's default `%d/PaxHeaders.%p/%f` embeds the process id, which would make two
 * runs differ. Readers that understand PAX never extract it.
 */
const PAX_HEADER_NAME = Buffer.from('./@PaxHeader');
/** MAX_PAX_SIZE is the largest PAX header Go's archive/tar (containerd, Docker, umoci) accepts. */
export const MAX_PAX_SIZE = 1024 * 1024;
/** PAX header blocks get a fixed mode, owner and mtime: they describe nothing on disk. */
const PAX_HEADER_MODE = 0o644;

const SLASH = 0x2f;

/**
 * splitUstarName splits a name over the ustar `prefix` and `name` fields, or returns undefined when it
 * cannot (then a PAX `path` record is needed). The split is at the last `/` that keeps the prefix within
 * 155 bytes, like Go's archive/tar, so the result is unique for a given name. A trailing `/` (directory)
 * is never the split point.
 */
export function splitUstarName(name: Uint8Array): { prefix: Uint8Array; name: Uint8Array } | undefined {
  if (name.length <= NAME_LEN) return { prefix: new Uint8Array(0), name };
  let length = name.length;
  if (length > PREFIX_LEN + 1) length = PREFIX_LEN + 1;
  else if (name[length - 1] === SLASH) length -= 1;
  const i = name.subarray(0, length).lastIndexOf(SLASH);
  const nlen = name.length - i - 1;
  if (i <= 0 || nlen > NAME_LEN || nlen === 0 || i > PREFIX_LEN) return undefined;
  return { prefix: name.subarray(0, i), name: name.subarray(i + 1) };
}

/** paxRecord encodes one `"%d %s=%s\n"` record; the length counts itself. Values are raw bytes. */
export function paxRecord(key: string, value: Uint8Array | string): Buffer {
  const body = Buffer.concat([
    Buffer.from(` ${key}=`, 'utf8'),
    typeof value === 'string' ? Buffer.from(value, 'utf8') : value,
    Buffer.of(0x0a),
  ]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len), 'ascii'), body]);
}

function writeOctal(block: Buffer, offset: number, width: number, value: number): void {
  // width-1 zero-padded octal digits then a NUL, as GNU tar and Go write them
  const s = value.toString(8).padStart(width - 1, '0');
  block.write(s, offset, width - 1, 'ascii');
  block[offset + width - 1] = 0;
}

function writeBytes(block: Buffer, offset: number, width: number, bytes: Uint8Array): void {
  block.set(bytes.subarray(0, width), offset);
}

function checkInt(what: string, name: Uint8Array, value: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new FromscratchError(
      'INVALID_ARGUMENT',
      `writing tar entry ${JSON.stringify(Buffer.from(name).toString('utf8'))}: ${what} ${value} is not an integer in 0..${max}`,
    );
  }
}

/**
 * ustarBlock builds one 512-byte ustar header. Values that do not fit a numeric field are written as 0
 * (their PAX record carries the real value, as Go's writer does).
 */
function ustarBlock(f: {
  name: Uint8Array;
  prefix: Uint8Array;
  typeflag: TarTypeflag;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: Uint8Array;
  devmajor: number;
  devminor: number;
}): Buffer {
  const b = Buffer.alloc(BLOCK_SIZE);
  writeBytes(b, 0, NAME_LEN, f.name);
  writeOctal(b, 100, 8, f.mode);
  writeOctal(b, 108, 8, f.uid > MAX_OCTAL_7 ? 0 : f.uid);
  writeOctal(b, 116, 8, f.gid > MAX_OCTAL_7 ? 0 : f.gid);
  writeOctal(b, 124, 12, f.size > MAX_OCTAL_11 ? 0 : f.size);
  writeOctal(b, 136, 12, f.mtime > MAX_OCTAL_11 ? 0 : f.mtime);
  b.fill(0x20, 148, 156); // checksum computed over 8 spaces
  b.write(f.typeflag, 156, 1, 'ascii');
  writeBytes(b, 157, LINKNAME_LEN, f.linkname);
  b.write('ustar\u000000', 257, 8, 'ascii'); // POSIX magic "ustar\0" + version "00"
  // uname (265) and gname (297) stay empty: numeric ids only, nothing from the build host's passwd
  writeOctal(b, 329, 8, f.devmajor);
  writeOctal(b, 337, 8, f.devminor);
  writeBytes(b, 345, PREFIX_LEN, f.prefix);
  let sum = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) sum += b[i]!;
  b.write(`${sum.toString(8).padStart(6, '0')}\u0000`, 148, 7, 'ascii'); // 6 digits, NUL, space
  return b;
}

/** paddingFor returns how many zero bytes follow `size` content bytes to fill the last block. */
export function paddingFor(size: number): number {
  const r = size % BLOCK_SIZE;
  return r === 0 ? 0 : BLOCK_SIZE - r;
}

/**
 * encodeTarHeader returns the header bytes of one entry: a PAX extended header (typeflag `x`) when
 * needed, then the ustar block. Content and padding are the caller's.
 *
 * PAX records are written only when a value does not fit ustar, in this fixed order:
 * `hdrcharset=BINARY` (when path or linkpath is not valid UTF-8), `path` (name does not fit the
 * prefix/name split), `linkpath` (> 100 bytes), `size` (≥ 8 GiB), `uid`, `gid` (≥ 2^21), `mtime`
 * (≥ 8^11), then `SCHILY.xattr.<name>` sorted bytewise by name, values raw.
 *
 * Names that fit ustar are written there as raw bytes, whatever their encoding: GNU tar, Go and
 * libarchive take ustar fields as bytes, and Python decodes them with surrogateescape, so non-UTF-8
 * names round-trip exactly without a PAX record (RELIABILITY.md I3).
 *
 * Throws INVALID_ARGUMENT for an out-of-range number, a device number over 7 octal digits, or an xattr
 * name that is empty or contains `=` or NUL; TOO_LARGE when the PAX records exceed {@link MAX_PAX_SIZE}.
 */
export function encodeTarHeader(h: TarHeader): Buffer {
  const linkname = h.linkname ?? new Uint8Array(0);
  const devmajor = h.devmajor ?? 0;
  const devminor = h.devminor ?? 0;
  checkInt('mode', h.name, h.mode, 0o7777);
  checkInt('uid', h.name, h.uid);
  checkInt('gid', h.name, h.gid);
  checkInt('size', h.name, h.size);
  checkInt('mtime', h.name, h.mtime);
  checkInt('device major number', h.name, devmajor, MAX_OCTAL_7);
  checkInt('device minor number', h.name, devminor, MAX_OCTAL_7);

  const records: Buffer[] = [];
  const split = splitUstarName(h.name);
  const longLink = linkname.length > LINKNAME_LEN;
  if ((!split && !isUtf8(h.name)) || (longLink && !isUtf8(linkname)))
    records.push(paxRecord('hdrcharset', 'BINARY'));
  if (!split) records.push(paxRecord('path', h.name));
  if (longLink) records.push(paxRecord('linkpath', linkname));
  if (h.size > MAX_OCTAL_11) records.push(paxRecord('size', String(h.size)));
  if (h.uid > MAX_OCTAL_7) records.push(paxRecord('uid', String(h.uid)));
  if (h.gid > MAX_OCTAL_7) records.push(paxRecord('gid', String(h.gid)));
  if (h.mtime > MAX_OCTAL_11) records.push(paxRecord('mtime', String(h.mtime)));
  if (h.xattrs) {
    const names = Object.keys(h.xattrs).sort((a, b) =>
      Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')),
    );
    for (const n of names) {
      if (n === '' || n.includes('=') || n.includes('\0')) {
        throw new FromscratchError(
          'INVALID_ARGUMENT',
          `writing tar entry ${JSON.stringify(Buffer.from(h.name).toString('utf8'))}: extended attribute name ${JSON.stringify(n)} cannot be stored in a PAX record`,
          {
            hint: 'xattr names must be non-empty and contain no "=" or NUL',
          },
        );
      }
      records.push(paxRecord(`SCHILY.xattr.${n}`, h.xattrs[n]!));
    }
  }

  const main = ustarBlock({
    name: split ? split.name : h.name,
    prefix: split ? split.prefix : new Uint8Array(0),
    typeflag: h.typeflag,
    mode: h.mode,
    uid: h.uid,
    gid: h.gid,
    size: h.size,
    mtime: h.mtime,
    linkname,
    devmajor,
    devminor,
  });
  if (records.length === 0) return main;

  const pax = Buffer.concat(records);
  if (pax.length > MAX_PAX_SIZE) {
    throw new FromscratchError(
      'TOO_LARGE',
      `writing tar entry ${JSON.stringify(Buffer.from(h.name).toString('utf8'))}: its PAX header would be ${pax.length} bytes (limit ${MAX_PAX_SIZE})`,
      {
        hint: 'readers such as Go archive/tar (containerd, Docker) refuse PAX headers over 1 MiB; drop some extended attributes',
      },
    );
  }
  const paxHeader = ustarBlock({
    name: PAX_HEADER_NAME,
    prefix: new Uint8Array(0),
    typeflag: TarTypeflag.pax,
    mode: PAX_HEADER_MODE,
    uid: 0,
    gid: 0,
    size: pax.length,
    mtime: 0,
    linkname: new Uint8Array(0),
    devmajor: 0,
    devminor: 0,
  });
  return Buffer.concat([paxHeader, pax, Buffer.alloc(paddingFor(pax.length)), main]);
}
