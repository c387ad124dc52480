/**
 * control.ts — deb822 control data (control files, Packages, Release, `.sources`) and relation fields. PURE.
 *
 * Format: https://www.debian.org/doc/debian-policy/ch-controlfields.html and deb822(5).
 * Relations: https://www.debian.org/doc/debian-policy/ch-relationships.html
 */
import { FromscratchError } from '../errors.ts';
import type { VersionOp } from './version.ts';

/** ControlParagraph is one deb822 paragraph: fields in file order, looked up case-insensitively. */
export interface ControlParagraph {
  /** fields in file order with their original names; multi-line values keep `\n` between lines */
  readonly fields: readonly (readonly [name: string, value: string])[];
  /** get returns a field's value (names compare case-insensitively) */
  get(name: string): string | undefined;
}

/** ParseControlOptions bounds and tunes parseControl. */
export interface ParseControlOptions {
  /** names the input in errors (default "control data") */
  what?: string;
  /** accept `#` comment lines, as in `.sources` files and debian/control (default false) */
  allowComments?: boolean;
  /** refuse inputs longer than this many characters (default 256 MiB) */
  maxChars?: number;
  /** refuse more paragraphs than this (default 1,000,000) */
  maxParagraphs?: number;
}

/** makeParagraph builds a ControlParagraph from fields (later duplicates are a bug of the caller). */
export function makeParagraph(fields: readonly (readonly [string, string])[]): ControlParagraph {
  const map = new Map<string, string>();
  for (const [k, v] of fields) map.set(k.toLowerCase(), v);
  return { fields, get: (name) => map.get(name.toLowerCase()) };
}

/**
 * parseControl parses deb822 text into paragraphs. Continuation lines (starting with space or tab) are
 * joined to their field with `\n`, their first whitespace character removed (so ` .` stays `.`, as in a
 * Description). Blank lines (only whitespace) separate paragraphs. Throws FromscratchError('DEB_INVALID')
 * with the line number for a line that is neither a field nor a continuation, a continuation with no field,
 * or a field given twice in one paragraph; TOO_LARGE past the bounds.
 */
export function parseControl(text: string, opts: ParseControlOptions = {}): ControlParagraph[] {
  const what = opts.what ?? 'control data';
  const maxChars = opts.maxChars ?? 256 * 1024 * 1024;
  const maxParagraphs = opts.maxParagraphs ?? 1_000_000;
  if (text.length > maxChars) {
    throw new FromscratchError(
      'TOO_LARGE',
      `parsing ${what}: ${text.length} characters is over the limit of ${maxChars}`,
    );
  }
  const out: ControlParagraph[] = [];
  let fields: [string, string][] = [];
  let seen = new Set<string>();
  const bad = (line: number, why: string): never => {
    throw new FromscratchError('DEB_INVALID', `parsing ${what}: line ${line}: ${why}`, {
      hint: 'the file is not valid deb822 control data; check it or fetch it again',
    });
  };
  const flush = () => {
    if (fields.length === 0) return;
    if (out.length >= maxParagraphs) {
      throw new FromscratchError('TOO_LARGE', `parsing ${what}: more than ${maxParagraphs} paragraphs`);
    }
    out.push(makeParagraph(fields));
    fields = [];
    seen = new Set();
  };
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    lineNo++;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (opts.allowComments && line.startsWith('#')) continue;
    const c0 = line.charCodeAt(0);
    if (c0 === 32 || c0 === 9) {
      if (line.trim() === '') {
        flush();
        continue;
      }
      const last = fields[fields.length - 1];
      if (!last) bad(lineNo, 'continuation line without a field');
      else last[1] += `\n${line.slice(1)}`;
      continue;
    }
    if (line === '') {
      flush();
      if (end === text.length) break;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) bad(lineNo, `expected "Field: value", got ${JSON.stringify(line.slice(0, 60))}`);
    const name = line.slice(0, colon);
    if (!/^[!-9;-~][!-9;-~]*$/.test(name) || name.startsWith('#') || name.startsWith('-')) {
      bad(lineNo, `invalid field name ${JSON.stringify(name.slice(0, 60))}`);
    }
    const key = name.toLowerCase();
    if (seen.has(key)) bad(lineNo, `field ${name} appears twice in one paragraph`);
    seen.add(key);
    fields.push([name, line.slice(colon + 1).trim()]);
    if (end === text.length) break;
  }
  flush();
  return out;
}

/** formatParagraph renders a paragraph back to deb822 text, ending with a newline. */
export function formatParagraph(p: ControlParagraph | readonly (readonly [string, string])[]): string {
  const fields = 'fields' in p ? p.fields : p;
  let s = '';
  for (const [k, v] of fields) {
    const lines = v.split('\n');
    s += `${k}:${lines[0] === '' ? '' : ` ${lines[0]}`}\n`;
    for (const l of lines.slice(1)) s += ` ${l === '' ? '.' : l}\n`;
  }
  return s;
}

/** ArchRestriction is the `[amd64 arm64]` / `[!i386]` part of a relation. */
export interface ArchRestriction {
  readonly negated: boolean;
  readonly arches: readonly string[];
}

/** Dependency is one alternative of a relation: `name[:arch] (op version) [arches] <profiles>`. */
export interface Dependency {
  readonly name: string;
  /** `any`, `native` or an architecture after a `:` */
  readonly archQualifier?: string;
  readonly op?: VersionOp;
  readonly version?: string;
  readonly archRestriction?: ArchRestriction;
  /** build profile formulas, each a list of terms such as `!nocheck` (only meaningful for builds) */
  readonly profiles?: readonly (readonly string[])[];
}

/** Relation is a list of alternatives (`a | b`); a relation field is a list of relations (`, `). */
export type Relation = readonly Dependency[];

const DEP_RE =
  /^([A-Za-z0-9][A-Za-z0-9+.\-_]*)(?::([A-Za-z0-9-]+))?\s*(?:\(\s*(<<|<=|>=|>>|=|<|>)\s*([A-Za-z0-9][^()\s]*)\s*\))?\s*(?:\[([^\]]*)\])?\s*((?:<[^<>]*>\s*)*)$/;

/**
 * parseRelation parses a relation field (Depends, Pre-Depends, Provides, Conflicts, Breaks, Build-Depends…).
 * Obsolete `<`/`>` become `<=`/`>=` as dpkg reads them. Throws FromscratchError('DEB_INVALID') naming the
 * offending alternative.
 *
 * @example parseRelation('libc6 (>= 2.34), foo | bar:any (<< 2) [amd64] <!nocheck>')
 */
export function parseRelation(field: string, what = 'relation'): Relation[] {
  const out: Relation[] = [];
  const s = field.replace(/\s+/g, ' ').trim();
  if (s === '') return out;
  for (const group of s.split(',')) {
    if (group.trim() === '') continue; // a trailing comma is tolerated, as dpkg does
    const alts: Dependency[] = [];
    for (const altRaw of group.split('|')) {
      const alt = altRaw.trim();
      const m = DEP_RE.exec(alt);
      if (!m) {
        throw new FromscratchError(
          'DEB_INVALID',
          `parsing ${what}: cannot parse ${JSON.stringify(alt.slice(0, 100))}`,
          {
            hint: 'expected "name[:arch] [(op version)] [[arches]] [<profiles>]", e.g. "libc6 (>= 2.34)"',
          },
        );
      }
      const [, name, archQualifier, rawOp, version, archList, profileList] = m;
      const op = rawOp === '<' ? '<=' : rawOp === '>' ? '>=' : (rawOp as VersionOp | undefined);
      const dep: { -readonly [K in keyof Dependency]: Dependency[K] } = { name: name! };
      if (archQualifier) dep.archQualifier = archQualifier;
      if (op && version) {
        dep.op = op;
        dep.version = version;
      }
      if (archList !== undefined) {
        const arches = archList.trim().split(' ').filter(Boolean);
        const negated = arches.length > 0 && arches.every((a) => a.startsWith('!'));
        if (arches.some((a) => a.startsWith('!') !== negated)) {
          throw new FromscratchError(
            'DEB_INVALID',
            `parsing ${what}: mixed negated and plain architectures in ${JSON.stringify(alt)}`,
          );
        }
        dep.archRestriction = { negated, arches: arches.map((a) => (negated ? a.slice(1) : a)) };
      }
      if (profileList) {
        dep.profiles = [...profileList.matchAll(/<([^<>]*)>/g)].map((p) =>
          p[1]!.trim().split(' ').filter(Boolean),
        );
      }
      alts.push(dep);
    }
    out.push(alts);
  }
  return out;
}

/**
 * archMatches tells whether a Debian architecture matches a name or wildcard of an architecture
 * restriction (`amd64`, `any`, `linux-any`, `any-arm64`, `all`).
 */
export function archMatches(arch: string, pattern: string): boolean {
  if (pattern === 'any' || pattern === arch) return true;
  if (pattern === 'linux-any') return !arch.includes('-'); // plain Debian arch names are Linux
  if (pattern.startsWith('any-')) return arch === pattern.slice(4);
  return false;
}

/** dependencyAppliesTo tells whether a dependency's `[arch]` restriction keeps it for `arch`. */
export function dependencyAppliesTo(dep: Dependency, arch: string): boolean {
  const r = dep.archRestriction;
  if (!r || r.arches.length === 0) return true;
  const hit = r.arches.some((a) => archMatches(arch, a));
  return r.negated ? !hit : hit;
}

/** formatDependency renders one alternative for messages: `libc6 (>= 2.34)`. */
export function formatDependency(d: Dependency): string {
  return `${d.name}${d.archQualifier ? `:${d.archQualifier}` : ''}${d.op ? ` (${d.op} ${d.version})` : ''}`;
}

/** formatRelation renders alternatives for messages: `foo | bar (<< 2)`. */
export function formatRelation(r: Relation): string {
  return r.map(formatDependency).join(' | ');
}
