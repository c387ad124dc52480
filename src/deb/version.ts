/**
 * version.ts — Debian version numbers: parse and compare exactly as `dpkg --compare-versions` does. PURE.
 *
 * Format `[epoch:]upstream_version[-debian_revision]`:
 * https://www.debian.org/doc/debian-policy/ch-controlfields.html#version
 * The comparison is dpkg's `verrevcmp` (lib/dpkg/version.c), transcribed character for character.
 */
import { FromscratchError } from '../errors.ts';

/** DebVersion is a version split into its three parts; `revision` is '' when absent. */
export interface DebVersion {
  readonly epoch: number;
  readonly upstream: string;
  readonly revision: string;
}

/**
 * splitDebVersion splits a version without validating its characters (dpkg's parseversion in lax mode):
 * the epoch is before the first `:`, the revision after the last `-`. Surrounding spaces are ignored.
 */
export function splitDebVersion(s: string): DebVersion {
  const v = s.trim();
  let epoch = 0;
  let rest = v;
  const colon = v.indexOf(':');
  if (colon >= 0) {
    const e = v.slice(0, colon);
    epoch = /^[0-9]+$/.test(e) ? Number(e) : Number.NaN;
    rest = v.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  if (dash >= 0) return { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) };
  return { epoch, upstream: rest, revision: '' };
}

/**
 * parseDebVersion validates and splits a version string. Throws FromscratchError('INVALID_ARGUMENT')
 * naming the version when it is empty, has a non-numeric epoch, an empty upstream or revision, an
 * upstream that does not start with a digit, or characters policy forbids.
 */
export function parseDebVersion(s: string): DebVersion {
  const bad = (why: string): never => {
    throw new FromscratchError(
      'INVALID_ARGUMENT',
      `invalid Debian version ${JSON.stringify(s.slice(0, 100))}: ${why}`,
      {
        hint: 'a Debian version looks like [epoch:]upstream[-revision], e.g. 1:2.36-9+deb12u4',
      },
    );
  };
  if (s.trim() === '') bad('it is empty');
  if (/\s/.test(s.trim())) bad('it contains spaces');
  const v = splitDebVersion(s);
  if (Number.isNaN(v.epoch) || v.epoch > 2 ** 31 - 1) bad('the epoch is not a number');
  if (v.upstream === '') bad('the upstream version is empty');
  if (s.trim().endsWith('-')) bad('the revision is empty');
  if (!/^[0-9]/.test(v.upstream)) bad('the upstream version does not start with a digit');
  if (!/^[A-Za-z0-9.+~:-]*$/.test(v.upstream)) bad('the upstream version contains a forbidden character');
  if (!/^[A-Za-z0-9.+~]*$/.test(v.revision)) bad('the revision contains a forbidden character');
  return v;
}

/** formatDebVersion renders a DebVersion back to its string (epoch omitted when 0). */
export function formatDebVersion(v: DebVersion): string {
  return `${v.epoch ? `${v.epoch}:` : ''}${v.upstream}${v.revision ? `-${v.revision}` : ''}`;
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** order is dpkg's weight of one character: `~` sorts before everything, even the end of the string. */
function order(c: number): number {
  if (Number.isNaN(c)) return 0; // end of string
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 126) return -1; // '~'
  return c + 256;
}

/** verrevcmp compares two upstream versions or two revisions (dpkg lib/dpkg/version.c). */
function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  const ca = (k: number) => (k < a.length ? a.charCodeAt(k) : Number.NaN);
  const cb = (k: number) => (k < b.length ? b.charCodeAt(k) : Number.NaN);
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(ca(i))) || (j < b.length && !isDigit(cb(j)))) {
      const ac = order(ca(i));
      const bc = order(cb(j));
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (ca(i) === 48) i++;
    while (cb(j) === 48) j++;
    while (isDigit(ca(i)) && isDigit(cb(j))) {
      if (!firstDiff) firstDiff = ca(i) - cb(j);
      i++;
      j++;
    }
    if (isDigit(ca(i))) return 1;
    if (isDigit(cb(j))) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

/**
 * compareDebVersions orders two Debian versions exactly as `dpkg --compare-versions` does: a negative
 * number when a < b, 0 when equal, positive when a > b. It does not validate (use parseDebVersion for
 * that); a malformed epoch compares as 0.
 *
 * @example compareDebVersions('1.0~rc1', '1.0') < 0 // true
 */
export function compareDebVersions(a: string | DebVersion, b: string | DebVersion): number {
  const va = typeof a === 'string' ? splitDebVersion(a) : a;
  const vb = typeof b === 'string' ? splitDebVersion(b) : b;
  const ea = Number.isNaN(va.epoch) ? 0 : va.epoch;
  const eb = Number.isNaN(vb.epoch) ? 0 : vb.epoch;
  if (ea !== eb) return ea > eb ? 1 : -1;
  const u = verrevcmp(va.upstream, vb.upstream);
  if (u) return u;
  return verrevcmp(va.revision, vb.revision);
}

/** VersionOp is a relation operator of a Depends field. */
export type VersionOp = '<<' | '<=' | '=' | '>=' | '>>';

/**
 * versionSatisfies tells whether `version` satisfies `op constraint` (Debian policy §7.1).
 * The obsolete `<` and `>` mean `<=` and `>=`, as dpkg treats them.
 */
export function versionSatisfies(version: string, op: VersionOp | '<' | '>', constraint: string): boolean {
  const c = compareDebVersions(version, constraint);
  switch (op) {
    case '<<':
      return c < 0;
    case '<=':
    case '<':
      return c <= 0;
    case '=':
      return c === 0;
    case '>=':
    case '>':
      return c >= 0;
    case '>>':
      return c > 0;
  }
}
