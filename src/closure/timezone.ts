/**
 * timezone.ts — the time zone file a program reads when the image's environment names a zone in `TZ`.
 * PURE.
 *
 * glibc's tzset() (time/tzset.c), which localtime(), mktime(), strftime() and their kin call, reads
 * `TZ`: unset means /etc/localtime (absent in a scratch image: UTC, as intended); `:NAME` or `NAME` is
 * first read as a file — an absolute path as it is, else `$TZDIR/NAME` (TZDIR default
 * /usr/share/zoneinfo, time/tzfile.c) — and only when no file can be read is NAME parsed as a POSIX
 * rule (`CET-1CEST,M3.5.0,M10.5.0/3`). A name that is neither gives UTC, silently: the classic scratch
 * image whose logs are an hour off. So the file TZ names ships with the program, and its absence is said.
 */

/** TZ_SYMBOLS are the imports that make glibc read TZ (tzset and the functions calling it). */
export const TZ_SYMBOLS: ReadonlySet<string> = new Set([
  'tzset',
  'localtime',
  'localtime_r',
  'mktime',
  'timelocal',
  'ctime',
  'ctime_r',
  'strftime',
  'strftime_l',
  'wcsftime',
]);

/** ZONEINFO_DIR is glibc's default TZDIR. */
export const ZONEINFO_DIR = '/usr/share/zoneinfo';

/** TimezoneRequest is the zone file the image's TZ names. */
export interface TimezoneRequest {
  /** TZ as set */
  readonly value: string;
  /** the file glibc reads first */
  readonly file: string;
  /** whether a missing file is harmless: the value parses as a POSIX rule, or names UTC */
  readonly rule: boolean;
}

/** POSIX_RULE matches the start of a POSIX TZ rule: a standard name then an offset (`EST5`, `<+03>-3`). */
const POSIX_RULE = /^(<[A-Za-z0-9+-]{3,}>|[A-Za-z]{3,})[+-]?\d{1,2}(:\d{1,2}){0,2}([A-Za-z<]|,|$)/;

/** UTC_NAMES are zone names whose file, when missing, leaves UTC: what they mean anyway. */
const UTC_NAMES = /^(Etc\/)?(UTC|UCT|GMT|GMT[+-]?0|Universal|Zulu|Greenwich)$/;

/**
 * timezoneRequest reads TZ (and TZDIR) of an image environment (`K=V` strings, the last of a name
 * winning as for a process): undefined when TZ is unset or empty, or names nothing glibc would read as a
 * file (a name with `..` components, which glibc refuses for setuid programs and no image needs).
 */
export function timezoneRequest(env: readonly string[]): TimezoneRequest | undefined {
  const vars = new Map<string, string>();
  for (const kv of env) {
    const i = kv.indexOf('=');
    if (i > 0) vars.set(kv.slice(0, i), kv.slice(i + 1));
  }
  const tz = vars.get('TZ');
  if (tz === undefined) return undefined;
  const name = tz.startsWith(':') ? tz.slice(1) : tz;
  if (name === '' || name.split('/').includes('..')) return undefined;
  const dir = (vars.get('TZDIR') || ZONEINFO_DIR).replace(/\/+$/, '') || '/';
  const file = name.startsWith('/') ? name : `${dir === '/' ? '' : dir}/${name}`;
  // a missing file of a UTC name gives UTC all the same
  const harmless = UTC_NAMES.test(name) || (!tz.startsWith(':') && POSIX_RULE.test(name));
  return { value: tz, file, rule: harmless };
}
