/**
 * path.ts — image paths: absolute, normalised, byte-exact. PURE.
 *
 * Paths inside an image are JS strings such as `/usr/lib/libc.so.6`. Names that are not valid UTF-8
 * (RELIABILITY.md A23/I3) are decoded with *surrogateescape*, as Python does: each byte that is not part
 * of valid UTF-8 becomes the lone surrogate U+DC80+byte. Valid UTF-8 never decodes to a lone surrogate,
 * so two different byte names never collide, and {@link encodePath} restores the exact bytes.
 */
import { FromscratchError } from '../errors.ts';

/** MAX_PATH_BYTES bounds an image path (Linux PATH_MAX). */
export const MAX_PATH_BYTES = 4096;
/** MAX_NAME_BYTES bounds one path component (Linux NAME_MAX). */
export const MAX_NAME_BYTES = 255;
/** MAX_DEPTH bounds the number of components of a path. */
export const MAX_DEPTH = 1024;

/** decodePathBytes turns raw name bytes into a path string (surrogateescape for invalid UTF-8). */
export function decodePathBytes(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let len = 0;
    let cp = 0;
    if (b < 0x80) {
      out += String.fromCharCode(b);
      i += 1;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      len = 2;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      len = 3;
      cp = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      len = 4;
      cp = b & 0x07;
    }
    let ok = len > 0 && i + len <= bytes.length;
    for (let k = 1; ok && k < len; k++) {
      const c = bytes[i + k]!;
      if ((c & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (c & 0x3f);
    }
    // reject overlongs, surrogates and > U+10FFFF, exactly as a strict UTF-8 decoder does
    if (
      ok &&
      ((len === 3 && cp < 0x800) ||
        (len === 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
    ) {
      ok = false;
    }
    if (ok) {
      out += String.fromCodePoint(cp);
      i += len;
    } else {
      out += String.fromCharCode(0xdc00 + b);
      i += 1;
    }
  }
  return out;
}

/** ESCAPED matches the lone surrogates that stand for undecodable bytes. */
const ESCAPED = /[\udc80-\udcff]/;

/** encodePath turns a path string back into its exact bytes (inverse of decodePathBytes). */
export function encodePath(path: string): Buffer {
  // fast path: no lone surrogates
  if (!ESCAPED.test(path)) return Buffer.from(path, 'utf8');
  const parts: Buffer[] = [];
  let run = '';
  for (const ch of path) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && c >= 0xdc80 && c <= 0xdcff) {
      if (run) parts.push(Buffer.from(run, 'utf8'));
      run = '';
      parts.push(Buffer.of(c - 0xdc00));
    } else run += ch;
  }
  if (run) parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
}

/**
 * fsPathArg is a path as node:fs takes it: the string itself when it holds no escaped byte (node
 * encodes it as UTF-8, the same bytes), else its exact bytes. Spares a Buffer per call.
 */
export function fsPathArg(path: string): string | Buffer {
  return ESCAPED.test(path) ? encodePath(path) : path;
}

/** comparePaths orders paths bytewise by their encoded bytes (the order of every tar we write). */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(encodePath(a), encodePath(b));
}

/**
 * normalizeImagePath makes an absolute, `.`/`..`-free image path (`/a/b`), clamping `..` at the root,
 * and rejects NUL bytes and over-long paths. `""` and `/` become `/`.
 */
export function normalizeImagePath(p: string): string {
  if (p.includes('\0')) {
    throw new FromscratchError('INVALID_ARGUMENT', `path ${JSON.stringify(p)} contains a NUL byte`);
  }
  // most paths given are already normal: `/` then non-empty components, none `.` or `..`
  if (p.length > 1 && p.charCodeAt(0) === 0x2f && !NOT_NORMAL.test(p)) {
    checkPathLimits(p);
    return p;
  }
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  const norm = `/${out.join('/')}`;
  checkPathLimits(norm);
  return norm;
}

/** NOT_NORMAL matches what normalizeImagePath changes in a path starting with `/`: `//`, a `.` or `..` component, a trailing `/`. */
const NOT_NORMAL = /\/\/|\/\.\.?(?:\/|$)|\/$/;

/** checkPathLimits throws PATH_TOO_LONG when a path breaks PATH_MAX, NAME_MAX or the depth limit. */
export function checkPathLimits(p: string): void {
  // Buffer.byteLength bounds the encoded length from above (a lone surrogate counts 3 bytes there,
  // 1 in encodePath): the exact length is computed only when the bound is over the limit
  const bound = Buffer.byteLength(p, 'utf8');
  const bytes = bound <= MAX_PATH_BYTES ? bound : encodePath(p).length;
  if (bytes > MAX_PATH_BYTES) {
    throw new FromscratchError(
      'PATH_TOO_LONG',
      `path ${JSON.stringify(p.slice(0, 80))}… is ${bytes} bytes long (limit ${MAX_PATH_BYTES})`,
    );
  }
  // a UTF-16 unit is at most 3 bytes: a path of few units can have neither long names nor many levels
  if (p.length * 3 <= MAX_NAME_BYTES) return;
  const parts = p.split('/');
  if (parts.length > MAX_DEPTH) {
    throw new FromscratchError(
      'PATH_TOO_LONG',
      `path ${JSON.stringify(p.slice(0, 80))}… is ${parts.length} levels deep (limit ${MAX_DEPTH})`,
    );
  }
  for (const part of parts) {
    if (part.length * 3 > MAX_NAME_BYTES && encodePath(part).length > MAX_NAME_BYTES) {
      throw new FromscratchError(
        'PATH_TOO_LONG',
        `path component ${JSON.stringify(part.slice(0, 80))}… is longer than ${MAX_NAME_BYTES} bytes`,
      );
    }
  }
}

/** parentPath returns the parent of a normalised absolute path (`/` for top-level entries). */
export function parentPath(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

/** basename returns the last component of a normalised path. */
export function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** joinImagePath joins a base directory and a relative or absolute path, normalising the result. */
export function joinImagePath(base: string, rel: string): string {
  return normalizeImagePath(rel.startsWith('/') ? rel : `${base}/${rel}`);
}

/** ancestors lists the directories above a path, outermost first (`/a/b/c` → `/a`, `/a/b`). */
export function ancestors(p: string): string[] {
  const out: string[] = [];
  let i = p.indexOf('/', 1);
  while (i > 0) {
    out.push(p.slice(0, i));
    i = p.indexOf('/', i + 1);
  }
  return out;
}

/** USR_ALIASES are the top directories a merged-/usr system links into /usr (`/bin` → `/usr/bin`). */
const USR_ALIASES = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/libo32'];

/** canonicalUsrPath maps `/bin/x`, `/lib/x`… to `/usr/bin/x`, `/usr/lib/x` (the merged-/usr spelling). */
export function canonicalUsrPath(p: string): string {
  for (const a of USR_ALIASES) if (p === a || p.startsWith(`${a}/`)) return `/usr${p}`;
  return p;
}
