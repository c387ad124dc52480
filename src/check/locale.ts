/**
 * locale.ts — where glibc's setlocale() looks for a locale named by the environment. PURE.
 *
 * glibc (locale/findlocale.c, intl/l10nflist.c): `LC_ALL` overrides `LC_*`, which override `LANG`.
 * `C`, `POSIX` (and the empty string) are built in. Any other name is looked up in
 * `/usr/lib/locale/locale-archive`, then as a directory `/usr/lib/locale/NAME` (or under each directory
 * of `LOCPATH`), trying the name as given and with its codeset normalised (`UTF-8` → `utf8`,
 * `ISO-8859-1` → `iso88591`), the `@modifier`, `.codeset` and `_territory` parts dropped in turn.
 */
import { normalizeCodeset, parseLocaleArchiveNames } from '../closure/locale.ts';

/** LOCALE_VARS are the variables setlocale(LC_ALL, "") reads, besides LANG. */
export const LOCALE_VARS = [
  'LC_ALL',
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
  'LANG',
] as const;

/** envValue returns the value of `name` in a `K=V` list (the last one wins, as in a process environment). */
export function envValue(env: readonly string[] | undefined, name: string): string | undefined {
  let v: string | undefined;
  for (const e of env ?? []) if (e.startsWith(`${name}=`)) v = e.slice(name.length + 1);
  return v;
}

/** namedLocales lists the distinct locale names the environment asks for, with the variable naming each. */
export function namedLocales(env: readonly string[] | undefined): { name: string; variable: string }[] {
  const out: { name: string; variable: string }[] = [];
  const all = envValue(env, 'LC_ALL');
  const vars = all ? ['LC_ALL'] : LOCALE_VARS.filter((v) => v !== 'LC_ALL');
  for (const v of vars) {
    const name = envValue(env, v);
    if (name === undefined || isBuiltinLocale(name) || out.some((o) => o.name === name)) continue;
    out.push({ name, variable: v });
  }
  return out;
}

/** isBuiltinLocale tells whether glibc needs no file for the locale (C, POSIX, empty). */
export function isBuiltinLocale(name: string): boolean {
  return name === '' || name === 'C' || name === 'POSIX';
}

export { normalizeCodeset };

/** canonicalLocaleName is the name with its codeset normalised, as localedef names the directory (`de_DE.UTF-8` → `de_DE.utf8`). */
export function canonicalLocaleName(name: string): string {
  return name.replace(/\.([^@]*)/, (_, cs: string) => `.${normalizeCodeset(cs)}`);
}

/**
 * localeDirNames lists the directory names setlocale tries for `name`, most specific first
 * (`de_DE.UTF-8@euro` → `de_DE.UTF-8@euro`, `de_DE.utf8@euro`, `de_DE@euro`, `de_DE.UTF-8`, `de_DE.utf8`, `de_DE`, `de.UTF-8` …).
 */
export function localeDirNames(name: string): string[] {
  const m = /^([^_.@]*)(?:_([^.@]*))?(?:\.([^@]*))?(?:@(.*))?$/.exec(name);
  if (!m || name.includes('/')) return [name];
  const [, lang = '', terr, codeset, mod] = m;
  const out: string[] = [];
  const territories = terr !== undefined ? [`_${terr}`, ''] : [''];
  const codesets =
    codeset !== undefined ? [...new Set([`.${codeset}`, `.${normalizeCodeset(codeset)}`]), ''] : [''];
  const mods = mod !== undefined ? [`@${mod}`, ''] : [''];
  for (const t of territories)
    for (const c of codesets) for (const md of mods) out.push(`${lang}${t}${c}${md}`);
  return [...new Set([name, ...out])].filter((n) => n !== '');
}

/**
 * archiveLocaleNames lists the locale names of a glibc `locale-archive` of `size` bytes, read through
 * `read` with the closure's archive reader (closure/locale.ts). Undefined when the file is not an archive
 * that reader understands (wrong magic, tables out of bounds or truncated).
 */
export async function archiveLocaleNames(
  size: number,
  read: (offset: number, length: number) => Promise<Uint8Array>,
): Promise<Set<string> | undefined> {
  if (size < 36) return undefined;
  try {
    return await parseLocaleArchiveNames(await read(0, 36), read);
  } catch (e) {
    if (e instanceof Error) return undefined; // malformed: glibc ignores it too
    throw e;
  }
}
