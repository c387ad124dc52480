/**
 * infer-names.ts — the names of the closure's inference rules, as `--no-infer=NAME[,NAME…]` and the
 * spec's `no-infer: [...]` take them. PURE.
 */
import type { InferOptions } from '../closure/infer.ts';
import { type ErrorCode, FromscratchError } from '../errors.ts';

/** INFER_RULES maps each inference name to the closure switch it turns off, with what it brings. */
export const INFER_RULES = {
  nss: { key: 'nss', what: 'NSS configuration and modules (getaddrinfo, getpwnam …)' },
  gconv: { key: 'gconv', what: 'gconv modules for iconv_open (~8 MB on Debian)' },
  libgcc: { key: 'libgcc', what: 'libgcc_s.so.1 for pthread_cancel/pthread_exit/backtrace' },
  'ca-certificates': { key: 'caCerts', what: 'the CA bundle when a TLS library is in the closure' },
  'dlopen-notes': { key: 'dlopenNotes', what: 'the libraries of .note.dlopen' },
  'library-data': {
    key: 'libraryData',
    what: "data files libraries open at compiled-in paths (libmagic's magic.mgc, OpenSSL's openssl.cnf, ncurses' terminfo, GLib's GSettings schemas)",
  },
  locale: { key: 'locales', what: 'the locale data the image environment names' },
  zoneinfo: { key: 'zoneinfo', what: 'the time zone file the image environment names in TZ' },
  java: { key: 'java', what: 'the Java runtime of an OpenJDK launcher' },
  python: {
    key: 'python',
    what: "CPython's standard library and the site packages the application's sources import",
  },
  interpreters: {
    key: 'interpreters',
    what: "Perl's, Ruby's, Tcl's and Guile's standard libraries (their compiled-in @INC, $LOAD_PATH, tcl_library, %load-path), a Perl script's modules from outside them, and Erlang/OTP's root",
  },
  'program-files': {
    key: 'programFiles',
    what: "a program's compiled-in configuration (nginx's /etc/nginx) or the one its command line names (haproxy -f), its state directories (/var/log/nginx, /run), the modules its configuration loads and the system users it or its command line names (memcached -u memcache)",
  },
  modules: {
    key: 'modules',
    what: "the module directories compiled into libraries, whole (ImageMagick's coders, Graphviz's plugins, Cyrus SASL's mechanisms, SoX's formats)",
  },
  'share-data': {
    key: 'shareData',
    what: "the data under /usr/share compiled into programs and libraries (vim's runtime, nmap's scripts, squid's error pages, hunspell's dictionaries)",
  },
  fonts: {
    key: 'fonts',
    what: "fontconfig's /etc/fonts and the font and cache directories it names, for a closure with libfontconfig (Graphviz's labels, ImageMagick's label:)",
  },
  launchers: {
    key: 'launchers',
    what: 'java, python, perl, ruby and tcl, the helpers git, gpg and tar run, the stages groff and man run, the shell of make and watch, the programs a shell script runs, and the /proc/self/exe launcher warning',
  },
} as const satisfies Record<string, { key: keyof InferOptions; what: string }>;

/** InferName is the name of an inference rule. */
export type InferName = keyof typeof INFER_RULES;

/** INFER_NAMES lists the inference names in a fixed order. */
export const INFER_NAMES = Object.keys(INFER_RULES) as InferName[];

/**
 * parseInferNames reads `--no-infer` values (each a comma-separated list; `all` is every rule) and
 * returns the names, sorted and unique. An unknown name throws `code` (USAGE for flags, SPEC_INVALID
 * for the spec) naming it, `where` it was given, and the valid names.
 */
export function parseInferNames(
  values: readonly string[],
  where: string,
  code: ErrorCode = 'USAGE',
): InferName[] {
  const out = new Set<InferName>();
  for (const v of values) {
    for (const raw of v.split(',')) {
      const n = raw.trim();
      if (n === '') continue;
      if (n === 'all') {
        for (const k of INFER_NAMES) out.add(k);
        continue;
      }
      if (!Object.hasOwn(INFER_RULES, n)) {
        throw new FromscratchError(code, `${where}: unknown inference ${JSON.stringify(n)}`, {
          hint: `the inferences are ${INFER_NAMES.join(', ')} (or all); write --no-infer=NAME[,NAME…], after the paths of deps`,
        });
      }
      out.add(n as InferName);
    }
  }
  return INFER_NAMES.filter((n) => out.has(n));
}

/** inferOptionsWithout returns the closure's inference switches with `names` turned off. */
export function inferOptionsWithout(names: readonly InferName[]): InferOptions {
  const o: Record<string, boolean> = {};
  for (const n of names) o[INFER_RULES[n].key] = false;
  return o as InferOptions;
}
