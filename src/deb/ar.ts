/**
 * ar.ts — the `ar` archive container of .deb files, read with bounds checks. PURE.
 *
 * Format: deb(5) and ar(5): the magic `!<arch>\n`, then members, each a 60-byte header
 * (name 16, mtime 12, uid 6, gid 6, mode 8, size 10, "`\n") followed by the data, padded to an even offset.
 * Every number is validated before use (RELIABILITY H1): a size that is not decimal, negative or past
 * the end of the file is an error, never an allocation or a read out of bounds.
 */
import { FromscratchError } from '../errors.ts';

/** ArMember is one member of an ar archive; `data` is a view into the archive's bytes. */
export interface ArMember {
  readonly name: string;
  readonly mode: number;
  readonly size: number;
  /** offset of the member's data in the archive */
  readonly offset: number;
  readonly data: Uint8Array;
}

/** AR_MAGIC is the global header of an ar archive. */
export const AR_MAGIC = '!<arch>\n';

/** ParseArOptions bounds parseAr. */
export interface ParseArOptions {
  /** names the archive in errors */
  what?: string;
  /** refuse more members than this (default 64; a .deb has 3) */
  maxMembers?: number;
}

/**
 * parseAr lists the members of an ar archive held in memory. GNU-style trailing `/` in names is removed.
 * Throws FromscratchError('DEB_INVALID') naming the archive and the member for a bad magic, a truncated
 * or malformed header, or a size that is not a non-negative decimal within the file.
 */
export function parseAr(bytes: Uint8Array, opts: ParseArOptions = {}): ArMember[] {
  const what = opts.what ?? 'ar archive';
  const maxMembers = opts.maxMembers ?? 64;
  const bad = (why: string): never => {
    throw new FromscratchError('DEB_INVALID', `reading ${what}: ${why}`, {
      hint: 'the file is not a valid .deb (ar archive); download it again or check where it came from',
    });
  };
  const ascii = (a: number, b: number) =>
    Buffer.from(bytes.buffer, bytes.byteOffset + a, b - a).toString('latin1');
  if (bytes.length < 8 || ascii(0, 8) !== AR_MAGIC) bad('not an ar archive (bad magic)');
  const out: ArMember[] = [];
  let p = 8;
  while (p < bytes.length) {
    if (p === bytes.length - 1 && bytes[p] === 0x0a) break; // tolerate a final padding newline
    if (out.length >= maxMembers) bad(`more than ${maxMembers} members`);
    if (p + 60 > bytes.length) bad(`truncated member header at offset ${p}`);
    const rawName = ascii(p, p + 16).trimEnd();
    const name =
      rawName.endsWith('/') && rawName !== '/' && rawName !== '//' ? rawName.slice(0, -1) : rawName;
    if (ascii(p + 58, p + 60) !== '`\n')
      bad(`member ${JSON.stringify(name)}: bad header terminator at offset ${p + 58}`);
    const sizeField = ascii(p + 48, p + 58).trim();
    if (!/^[0-9]{1,10}$/.test(sizeField))
      bad(`member ${JSON.stringify(name)}: size ${JSON.stringify(sizeField)} is not a decimal number`);
    const modeField = ascii(p + 40, p + 48).trim();
    if (modeField !== '' && !/^[0-7]{1,8}$/.test(modeField))
      bad(`member ${JSON.stringify(name)}: mode ${JSON.stringify(modeField)} is not octal`);
    const size = Number(sizeField);
    const offset = p + 60;
    if (offset + size > bytes.length) {
      bad(
        `member ${JSON.stringify(name)}: size ${size} runs past the end of the file (${bytes.length - offset} bytes left)`,
      );
    }
    if (name === '' || name.startsWith('#1/'))
      bad(`member at offset ${p}: unsupported member name ${JSON.stringify(rawName)}`);
    out.push({
      name,
      mode: modeField === '' ? 0o644 : Number.parseInt(modeField, 8),
      size,
      offset,
      data: bytes.subarray(offset, offset + size),
    });
    p = offset + size + (size % 2);
  }
  return out;
}
