/**
 * locale.ts — the locale data a program loads when the image's environment names a locale. PURE over
 * RootFs (through the ClosureCache).
 *
 * A program that calls `setlocale(LC_ALL, "")` (or `newlocale`) loads the locale named by `LC_ALL`,
 * else by each `LC_<CATEGORY>`, else by `LANG` (POSIX, glibc locale/setlocale.c). `C` and `POSIX` are
 * built into libc; every other locale, `C.UTF-8` included, is read from files. glibc looks, in order
 * (locale/findlocale.c `_nl_find_locale`, without LOCPATH):
 *  1. the archive `/usr/lib/locale/locale-archive`, under the name as given, then with its codeset
 *     normalised (`en_US.UTF-8` → `en_US.utf8`, `_nl_normalize_codeset`);
 *  2. the same after expanding the name through `/usr/share/locale/locale.alias`;
 *  3. the directories `/usr/lib/locale/NAME`, NAME being the most specific variant of
 *     `language[_territory][.codeset][@modifier]` present (intl/l10nflist.c `_nl_make_l10nflist`).
 * The archive is one file holding every generated locale: when the locale is there, the whole archive
 * ships (its size is the root's choice: `locale-gen` only what is needed).
 */
import { isFromscratchError } from '../errors.ts';
import type { Resolved } from '../fs/resolve.ts';
import { type ClosureCache, listDir, memo, readTextCached, resolveOrMissing } from './closure-cache.ts';

/** LOCALE_SYMBOLS are the imports that load locale data named by the environment. */
export const LOCALE_SYMBOLS: ReadonlySet<string> = new Set(['setlocale', 'newlocale']);

/**
 * COMPILED_LOCALES are the locale names programs give setlocale themselves when the environment's
 * locale is not UTF-8 (tmux, fish, ssh, python3), in the order they are looked for in a program.
 */
export const COMPILED_LOCALES: readonly string[] = ['C.UTF-8', 'C.utf8'];

/** LOCALE_DIR is glibc's default locale directory (`_nl_default_locale_path`). */
export const LOCALE_DIR = '/usr/lib/locale';
/** LOCALE_ARCHIVE is glibc's locale archive. */
export const LOCALE_ARCHIVE = '/usr/lib/locale/locale-archive';
/** LOCALE_ALIAS is glibc's alias file (`LOCALE_ALIAS_PATH`; Debian links it to /etc/locale.alias). */
export const LOCALE_ALIAS = '/usr/share/locale/locale.alias';

/** CATEGORIES are the LC_* variables glibc reads, in its order. */
const CATEGORIES = [
  'LC_CTYPE',
  'LC_NUMERIC',
  'LC_TIME',
  'LC_COLLATE',
  'LC_MONETARY',
  'LC_MESSAGES',
  'LC_PAPER',
  'LC_NAME',
  'LC_ADDRESS',
  'LC_TELEPHONE',
  'LC_MEASUREMENT',
  'LC_IDENTIFICATION',
] as const;

/** LocaleRequest is one locale an image's environment names, with the variable that names it. */
export interface LocaleRequest {
  readonly name: string;
  readonly variable: string;
}

/**
 * localeRequests lists the locales a program of an image with environment `env` (`K=V` strings, as an
 * image config's Env) loads with `setlocale(LC_ALL, "")`: LC_ALL alone when set, else each LC_* and
 * LANG for the categories without one. Built-in locales (`C`, `POSIX`) and names glibc refuses (with a
 * `/`, or `.`/`..`) are left out. Unique by name, in the order found.
 */
export function localeRequests(env: readonly string[]): LocaleRequest[] {
  const vars = new Map<string, string>();
  for (const e of env) {
    const i = e.indexOf('=');
    if (i > 0) vars.set(e.slice(0, i), e.slice(i + 1));
  }
  const named: LocaleRequest[] = [];
  const all = vars.get('LC_ALL');
  if (all) named.push({ name: all, variable: 'LC_ALL' });
  else {
    for (const c of CATEGORIES) {
      const v = vars.get(c);
      if (v) named.push({ name: v, variable: c });
    }
    const lang = vars.get('LANG');
    if (lang && CATEGORIES.some((c) => !vars.get(c))) named.push({ name: lang, variable: 'LANG' });
  }
  const out: LocaleRequest[] = [];
  const seen = new Set<string>();
  for (const r of named) {
    if (r.name === 'C' || r.name === 'POSIX' || seen.has(r.name)) continue;
    // glibc refuses these names for setlocale from the environment (setlocale.c: no '/' in a name, not "." or "..")
    if (r.name.includes('/') || r.name === '.' || r.name === '..') continue;
    seen.add(r.name);
    out.push(r);
  }
  return out;
}

/**
 * normalizeCodeset is glibc's `_nl_normalize_codeset`: letters lowercased, digits kept, everything
 * else dropped, and `iso` prefixed to an all-digit result (`UTF-8` → `utf8`, `8859-1` → `iso88591`).
 */
export function normalizeCodeset(codeset: string): string {
  let out = '';
  let digitsOnly = true;
  for (const ch of codeset) {
    if (/[A-Za-z]/.test(ch)) {
      out += ch.toLowerCase();
      digitsOnly = false;
    } else if (/[0-9]/.test(ch)) out += ch;
  }
  return digitsOnly ? `iso${out}` : out;
}

/** LocaleParts is a locale name split as XPG names are: `language[_territory][.codeset][@modifier]`. */
interface LocaleParts {
  readonly language: string;
  readonly territory?: string;
  readonly codeset?: string;
  readonly modifier?: string;
}

function splitLocale(name: string): LocaleParts {
  const m = /^([^_.@]*)(?:_([^.@]*))?(?:\.([^@]*))?(?:@(.*))?$/.exec(name);
  if (!m) return { language: name };
  return {
    language: m[1]!,
    ...(m[2] !== undefined ? { territory: m[2] } : {}),
    ...(m[3] !== undefined ? { codeset: m[3] } : {}),
    ...(m[4] !== undefined ? { modifier: m[4] } : {}),
  };
}

/**
 * localeCandidates lists the directory names glibc tries for a locale, most specific first
 * (`_nl_make_l10nflist`: the codeset as given before the normalised one, then fewer parts); with a
 * codeset, only the variants that keep it.
 */
export function localeCandidates(name: string): string[] {
  const p = splitLocale(name);
  const norm = p.codeset !== undefined ? normalizeCodeset(p.codeset) : undefined;
  const out: string[] = [];
  const mod = p.modifier !== undefined ? [`@${p.modifier}`, ''] : [''];
  const terr = p.territory !== undefined ? [`_${p.territory}`, ''] : [''];
  // a variant without the codeset is tried by glibc but refused unless its codeset is the one asked
  // for (findlocale.c compares them): with a codeset, only variants that keep it can serve
  const cs = p.codeset !== undefined ? [`.${p.codeset}`, ...(norm !== p.codeset ? [`.${norm}`] : [])] : [''];
  for (const m of mod) for (const t of terr) for (const c of cs) out.push(`${p.language}${t}${c}${m}`);
  return [...new Set(out)];
}

/** archiveNames is the name a locale has in the archive: as given, then with the codeset normalised. */
function archiveNames(name: string): string[] {
  const p = splitLocale(name);
  if (p.codeset === undefined) return [name];
  const norm = `${p.language}${p.territory !== undefined ? `_${p.territory}` : ''}.${normalizeCodeset(p.codeset)}${p.modifier !== undefined ? `@${p.modifier}` : ''}`;
  return norm === name ? [name] : [name, norm];
}

/** ARCHIVE_MAGIC is AR_MAGIC of glibc locale/locarchive.h. */
const ARCHIVE_MAGIC = 0xde020109;
/** MAX_ARCHIVE_NAMES bounds the name table read from a (possibly hostile) archive. */
const MAX_ARCHIVE_NAMES = 1 << 16;
/** MAX_ARCHIVE_STRINGS bounds the string area read from an archive. */
const MAX_ARCHIVE_STRINGS = 16 * 1024 * 1024;

/**
 * parseLocaleArchiveNames returns the locale names of a glibc locale archive, given its first bytes
 * (the header, 36 bytes) and a reader of ranges. The header's `namehash` table (hashval, name_offset,
 * locrec_offset per entry; offsets from the file's start) lists every locale; the byte order is the
 * writer's, told by the magic. Throws (a plain Error, caught by the caller) on a malformed archive.
 */
export async function parseLocaleArchiveNames(
  header: Uint8Array,
  read: (offset: number, length: number) => Promise<Uint8Array>,
): Promise<Set<string>> {
  if (header.length < 36) throw new Error('short header');
  const dv = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const le = dv.getUint32(0, true) === ARCHIVE_MAGIC;
  if (!le && dv.getUint32(0, false) !== ARCHIVE_MAGIC) throw new Error('bad magic');
  const u32 = (v: DataView, o: number) => v.getUint32(o, le);
  const hashOff = u32(dv, 8);
  const hashSize = u32(dv, 16);
  const strOff = u32(dv, 20);
  const strUsed = u32(dv, 24);
  if (hashSize > MAX_ARCHIVE_NAMES || strUsed > MAX_ARCHIVE_STRINGS) throw new Error('tables too large');
  const table = await read(hashOff, hashSize * 12);
  const strings = await read(strOff, strUsed);
  if (table.length < hashSize * 12 || strings.length < strUsed) throw new Error('truncated');
  const tv = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const names = new Set<string>();
  for (let i = 0; i < hashSize; i++) {
    const at = u32(tv, i * 12 + 4);
    if (at === 0) continue; // an empty slot
    const rel = at - strOff;
    if (rel < 0 || rel >= strings.length) throw new Error('name outside the string area');
    const end = strings.indexOf(0, rel);
    names.add(Buffer.from(strings.subarray(rel, end < 0 ? strings.length : end)).toString('latin1'));
  }
  return names;
}

/** archiveNamesCached reads the root's locale archive names once per cache (undefined: no usable archive). */
function archiveNamesCached(c: ClosureCache): Promise<{ r: Resolved; names: Set<string> } | undefined> {
  const m = c.derived as Map<string, Promise<{ r: Resolved; names: Set<string> } | undefined>>;
  return memo(m, `locale-archive\0${LOCALE_ARCHIVE}`, async () => {
    const r = await resolveOrMissing(c, LOCALE_ARCHIVE);
    if (r.stat?.type !== 'file') return undefined;
    try {
      const header = await c.fs.read(r.path, { offset: 0, length: 36 });
      const names = await parseLocaleArchiveNames(header, (offset, length) =>
        c.fs.read(r.path, { offset, length }),
      );
      return { r, names };
    } catch (e) {
      // a malformed archive: glibc ignores it too (it checks the magic and sizes) and tries the directories
      if (isFromscratchError(e) || e instanceof Error) return undefined;
      throw e;
    }
  });
}

/** parseLocaleAlias reads locale.alias: `alias value` per line, `#` comments; the first line for an alias wins. */
export function parseLocaleAlias(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^(\S+)\s+(\S+)/.exec(line);
    // glibc compares aliases case-insensitively (intl/localealias.c strcasecmp)
    if (m && !out.has(m[1]!.toLowerCase())) out.set(m[1]!.toLowerCase(), m[2]!);
  }
  return out;
}

/** LocaleData is where a locale's data is in a root. */
export type LocaleData =
  | { readonly kind: 'archive'; readonly path: string; readonly name: string }
  | { readonly kind: 'dir'; readonly path: string; readonly name: string }
  | { readonly kind: 'missing'; readonly searched: readonly string[] };

/**
 * findLocale finds a locale's data in a root as glibc does (see the file header): the archive first
 * (the name, then its alias), then the directories.
 */
export async function findLocale(c: ClosureCache, name: string): Promise<LocaleData> {
  const aliasText = await readTextCached(c, LOCALE_ALIAS);
  const alias = aliasText !== undefined ? parseLocaleAlias(aliasText).get(name.toLowerCase()) : undefined;
  const names = alias !== undefined && alias !== name ? [name, alias] : [name];
  const archive = await archiveNamesCached(c);
  if (archive) {
    for (const n of names)
      for (const a of archiveNames(n))
        if (archive.names.has(a)) return { kind: 'archive', path: LOCALE_ARCHIVE, name: a };
  }
  const searched: string[] = archive ? [LOCALE_ARCHIVE] : [];
  const present = await listDir(c, LOCALE_DIR);
  for (const n of names) {
    for (const d of localeCandidates(n)) {
      const p = `${LOCALE_DIR}/${d}`;
      searched.push(p);
      if (!present?.has(d)) continue;
      const r = await resolveOrMissing(c, p);
      if (r.stat?.type === 'dir') return { kind: 'dir', path: p, name: d };
    }
  }
  return { kind: 'missing', searched: [...new Set(searched)] };
}

/**
 * localedefCommand is the command that generates a locale in a root (`en_US.UTF-8` → `localedef -i
 * en_US -f UTF-8 en_US.UTF-8`), for hints.
 */
export function localedefCommand(name: string): string {
  const p = splitLocale(name);
  const input = `${p.language}${p.territory !== undefined ? `_${p.territory}` : ''}${p.modifier !== undefined ? `@${p.modifier}` : ''}`;
  return `localedef -i ${input} -f ${p.codeset ?? 'UTF-8'} ${name}`;
}
