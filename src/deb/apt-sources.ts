/**
 * apt-sources.ts — apt repository sources: the one-line `sources.list` format, the deb822 `.sources`
 * format, and explicit `deb URL SUITE COMPONENT…` strings. Parsing is PURE; readHostAptSources reads files.
 *
 * Formats: sources.list(5). Only `deb` (binary) entries with http(s) URIs are used; `deb-src` is ignored.
 * Flat repositories (a suite ending in `/` and no components) are refused.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FromscratchError } from '../errors.ts';
import { parseControl } from './control.ts';

/** AptSource is one repository: base URI, suite and components. */
export interface AptSource {
  /** base URI without a trailing slash, e.g. `http://deb.debian.org/debian` */
  readonly uri: string;
  readonly suite: string;
  readonly components: readonly string[];
  /** the source's `arch=`/`Architectures:` restriction, when given */
  readonly architectures?: readonly string[];
  /** key file paths from `signed-by=`/`Signed-By:` (an inline key block is kept as text) */
  readonly signedBy?: readonly string[];
  /** where it was read, for messages: `/etc/apt/sources.list.d/debian.sources:2` or `--apt-source` */
  readonly from: string;
}

function srcError(from: string, why: string): FromscratchError {
  return new FromscratchError('INVALID_ARGUMENT', `apt source ${from}: ${why}`, {
    hint: 'an apt source looks like "deb http://deb.debian.org/debian bookworm main" (see sources.list(5))',
  });
}

function checkUri(uri: string, from: string): string {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw srcError(from, `invalid URI ${JSON.stringify(uri)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw srcError(from, `unsupported URI scheme ${u.protocol} (only http and https)`);
  if (u.username || u.password)
    throw srcError(from, 'credentials in the URI are not supported (use an auth.conf-free mirror)');
  return uri.replace(/\/+$/, '');
}

function make(
  uri: string,
  suite: string,
  components: string[],
  opts: Record<string, string>,
  from: string,
): AptSource {
  if (suite.endsWith('/'))
    throw srcError(from, `flat repositories (suite ${JSON.stringify(suite)}) are not supported`);
  if (components.length === 0) throw srcError(from, 'no components given');
  const s: { -readonly [K in keyof AptSource]: AptSource[K] } = {
    uri: checkUri(uri, from),
    suite,
    components,
    from,
  };
  const arch = opts.arch ?? opts.architectures;
  if (arch) s.architectures = arch.split(/[\s,]+/).filter(Boolean);
  const signedBy = opts['signed-by'];
  if (signedBy)
    s.signedBy = signedBy.includes('BEGIN PGP') ? [signedBy] : signedBy.split(/[\s,]+/).filter(Boolean);
  return s;
}

/**
 * parseAptSourceLine parses one one-line source (`deb [opt=val …] URI SUITE COMPONENT…`).
 * Returns undefined for `deb-src` lines. Throws INVALID_ARGUMENT naming `from` for anything else malformed.
 *
 * @example parseAptSourceLine('deb http://deb.debian.org/debian bookworm main')
 */
export function parseAptSourceLine(line: string, from = 'apt source'): AptSource | undefined {
  let rest = line.replace(/#.*$/, '').trim();
  const type = /^(\S+)\s*/.exec(rest)?.[1];
  if (type === 'deb-src') return undefined;
  if (type !== 'deb') throw srcError(from, `expected "deb", got ${JSON.stringify(type ?? rest)}`);
  rest = rest.slice(3).trim();
  const opts: Record<string, string> = {};
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0) throw srcError(from, 'unterminated [ options ]');
    for (const kv of rest.slice(1, end).trim().split(/\s+/).filter(Boolean)) {
      const m = /^([a-zA-Z-]+)([+-]?=)(.*)$/.exec(kv);
      if (!m) throw srcError(from, `bad option ${JSON.stringify(kv)}`);
      opts[m[1]!.toLowerCase()] = m[3]!;
    }
    rest = rest.slice(end + 1).trim();
  }
  const [uri, suite, ...components] = rest.split(/\s+/);
  if (!uri || !suite) throw srcError(from, 'expected a URI and a suite');
  return make(uri, suite, components, opts, from);
}

/** parseSourcesList parses a one-line-format file (`sources.list`, `*.list`); comments and blanks are skipped. */
export function parseSourcesList(text: string, what = 'sources.list'): AptSource[] {
  const out: AptSource[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const s = parseAptSourceLine(line, `${what}:${i + 1}`);
    if (s) out.push(s);
  });
  return out;
}

/**
 * parseDeb822Sources parses a `.sources` file: one source per paragraph and per (URI, suite) pair,
 * skipping `Enabled: no` paragraphs and those without `deb` in Types.
 */
export function parseDeb822Sources(text: string, what = 'sources file'): AptSource[] {
  const out: AptSource[] = [];
  parseControl(text, { what, allowComments: true }).forEach((p, i) => {
    const from = `${what} paragraph ${i + 1}`;
    if ((p.get('Enabled') ?? 'yes').toLowerCase() === 'no') return;
    const types = (p.get('Types') ?? '').split(/\s+/).filter(Boolean);
    if (!types.includes('deb')) return;
    const uris = (p.get('URIs') ?? '').split(/\s+/).filter(Boolean);
    const suites = (p.get('Suites') ?? '').split(/\s+/).filter(Boolean);
    const components = (p.get('Components') ?? '').split(/\s+/).filter(Boolean);
    if (uris.length === 0 || suites.length === 0) throw srcError(from, 'needs URIs and Suites');
    const opts: Record<string, string> = {};
    const arch = p.get('Architectures');
    if (arch) opts.arch = arch;
    const signed = p.get('Signed-By');
    if (signed) opts['signed-by'] = signed.trim();
    for (const uri of uris) for (const suite of suites) out.push(make(uri, suite, components, opts, from));
  });
  return out;
}

/**
 * readHostAptSources reads the sources apt on `root` uses: `etc/apt/sources.list`, then
 * `etc/apt/sources.list.d/*.list` and `*.sources` in name order (other suffixes, such as
 * `.disabled`, are ignored as apt ignores them). Missing files are skipped.
 */
export async function readHostAptSources(root = '/'): Promise<AptSource[]> {
  const out: AptSource[] = [];
  const main = join(root, 'etc/apt/sources.list');
  const text = await readFile(main, 'utf8').catch(() => undefined);
  if (text !== undefined) out.push(...parseSourcesList(text, main));
  const dir = join(root, 'etc/apt/sources.list.d');
  const names = (await readdir(dir).catch(() => [] as string[])).sort();
  for (const n of names) {
    if (!/^[A-Za-z0-9_.-]+\.(list|sources)$/.test(n)) continue;
    const f = join(dir, n);
    const t = await readFile(f, 'utf8').catch(() => undefined);
    if (t === undefined) continue;
    out.push(...(n.endsWith('.list') ? parseSourcesList(t, f) : parseDeb822Sources(t, f)));
  }
  return out;
}
