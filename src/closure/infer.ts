/**
 * infer.ts — run-time needs a program has beyond DT_NEEDED, inferred without running it. PURE.
 *
 * Each rule reads what the ELF objects of a closure import or are (never executes anything) and names
 * the libraries or files the program will open at run time:
 * - NSS: imports of getaddrinfo, getpwnam, getgrgid … → /etc/nsswitch.conf and the `libnss_SERVICE.so.2`
 *   modules it names for the databases used (plus libnss_files/libnss_dns when present: merged into
 *   libc since glibc 2.34, still shipped as stubs). /etc/hosts, /etc/resolv.conf and /etc/hostname are
 *   NOT taken from the root: container runtimes mount their own. The tables of services, protocols,
 *   rpc, networks and ethers are (NSS_FILES_DATA: getservbyname("https") fails without /etc/services).
 * - gconv: iconv_open → the whole gconv directory next to libc (gconv-modules, gconv-modules.d,
 *   gconv-modules.cache and every module, ~8 MiB on Debian): which charsets a program converts is
 *   only known at run time.
 * - libgcc_s: pthread_cancel, pthread_exit, backtrace → libgcc_s.so.1, which glibc dlopens to unwind.
 * - GSettings: g_settings_new … → GLib's compiled schemas (GSETTINGS_SCHEMAS) present in the root.
 * - CA bundle: a TLS library in the closure → the CA bundles at the conventional paths present in the
 *   root, with their symlink chains (libnss3 also gets its built-in root module libnssckbi.so).
 * - dlopen notes: `.note.dlopen` entries of priority required or recommended (the default) → the
 *   first soname of each entry that resolves.
 * - module directories: a directory of shared objects whose path is compiled into a library
 *   (ImageMagick's coders, Graphviz's plugins) → the directory, whole (module-dirs.ts).
 */

/** InferOptions switches each inference; every one defaults to on. */
export interface InferOptions {
  /** NSS configuration and modules for name-service imports (default true) */
  readonly nss?: boolean;
  /** gconv modules for iconv_open (default true) */
  readonly gconv?: boolean;
  /** libgcc_s.so.1 for pthread_cancel/pthread_exit/backtrace (default true) */
  readonly libgcc?: boolean;
  /** CA bundle when a TLS library is in the closure (default true) */
  readonly caCerts?: boolean;
  /** data files libraries open at compiled-in paths (LIBRARY_DATA: libmagic's database; default true) */
  readonly libraryData?: boolean;
  /** `.note.dlopen` libraries (default true) */
  readonly dlopenNotes?: boolean;
  /** locale data named by the image's environment, for setlocale/newlocale (locale.ts; default true) */
  readonly locales?: boolean;
  /** the time zone file the image's TZ names, for programs calling tzset/localtime… (timezone.ts; default true) */
  readonly zoneinfo?: boolean;
  /** launchers that load their runtime by path: the Java home rule, the /proc/self/exe warning (launcher.ts; default true) */
  readonly launchers?: boolean;
  /** the Java home rule alone (launcher.ts; default true; off when `launchers` is off) */
  readonly java?: boolean;
  /** the CPython standard library rule alone (launcher.ts; default true; off when `launchers` is off) */
  readonly python?: boolean;
  /** the Perl, Ruby and Tcl standard library rule alone (launcher.ts; default true; off when `launchers` is off) */
  readonly interpreters?: boolean;
  /** a program's compiled-in configuration and state directories (program-files.ts; default true) */
  readonly programFiles?: boolean;
  /** the module directories compiled into libraries: ImageMagick's coders, Graphviz's plugins (module-dirs.ts; default true) */
  readonly modules?: boolean;
  /** the data under /usr/share compiled into programs and libraries: vim's runtime, nmap's scripts (module-dirs.ts; default true) */
  readonly shareData?: boolean;
  /** fontconfig's configuration and the fonts it names, for a closure with libfontconfig (default true) */
  readonly fonts?: boolean;
}

/** NSS_SYMBOLS maps each name-service function to the nsswitch.conf databases it consults. */
export const NSS_SYMBOLS: ReadonlyMap<string, readonly string[]> = new Map(
  Object.entries({
    getaddrinfo: ['hosts', 'services'],
    getnameinfo: ['hosts', 'services'],
    gethostbyname: ['hosts'],
    gethostbyname2: ['hosts'],
    gethostbyname_r: ['hosts'],
    gethostbyname2_r: ['hosts'],
    gethostbyaddr: ['hosts'],
    gethostbyaddr_r: ['hosts'],
    gethostent: ['hosts'],
    getpwnam: ['passwd'],
    getpwnam_r: ['passwd'],
    getpwuid: ['passwd'],
    getpwuid_r: ['passwd'],
    getpwent: ['passwd'],
    getpwent_r: ['passwd'],
    getspnam: ['shadow'],
    getspnam_r: ['shadow'],
    getgrnam: ['group'],
    getgrnam_r: ['group'],
    getgrgid: ['group'],
    getgrgid_r: ['group'],
    getgrent: ['group'],
    getgrent_r: ['group'],
    getgrouplist: ['group', 'initgroups'],
    initgroups: ['group', 'initgroups'],
    getservbyname: ['services'],
    getservbyname_r: ['services'],
    getservbyport: ['services'],
    getservbyport_r: ['services'],
    getservent: ['services'],
    getprotobyname: ['protocols'],
    getprotobyname_r: ['protocols'],
    getprotobynumber: ['protocols'],
    getprotobynumber_r: ['protocols'],
    getprotoent: ['protocols'],
    getnetbyname: ['networks'],
    getnetbyaddr: ['networks'],
    getrpcbyname: ['rpc'],
    getrpcbynumber: ['rpc'],
    ether_hostton: ['ethers'],
    ether_ntohost: ['ethers'],
    innetgr: ['netgroup'],
    setnetgrent: ['netgroup'],
    getnetgrent: ['netgroup'],
    getaliasbyname: ['aliases'],
  }),
);

/**
 * NSS_FILES_DATA are the tables the `files` service reads for databases that are the same on every
 * machine (netbase's port and protocol names, …): shipped from the root, unlike /etc/hosts,
 * /etc/resolv.conf and /etc/hostname (the runtime mounts them) and the account databases (scratch
 * defaults, and /etc/shadow never).
 */
export const NSS_FILES_DATA: Readonly<Record<string, string>> = {
  services: '/etc/services',
  protocols: '/etc/protocols',
  rpc: '/etc/rpc',
  networks: '/etc/networks',
  ethers: '/etc/ethers',
};

/** LIBGCC_SYMBOLS are the imports for which glibc dlopens libgcc_s.so.1 (unwinding). */
export const LIBGCC_SYMBOLS: ReadonlySet<string> = new Set(['pthread_cancel', 'pthread_exit', 'backtrace']);

/** GCONV_SYMBOLS are the imports that load gconv modules. */
export const GCONV_SYMBOLS: ReadonlySet<string> = new Set(['iconv_open']);

/**
 * GSETTINGS_SYMBOLS are the imports through which GLib's GSettings opens its schema source (the
 * `gsettings` tool, GTK, every GNOME program): without compiled schemas it aborts with "No schemas
 * installed" (or "Settings schema … is not installed").
 */
export const GSETTINGS_SYMBOLS: ReadonlySet<string> = new Set([
  'g_settings_new',
  'g_settings_new_full',
  'g_settings_new_with_path',
  'g_settings_new_with_backend',
  'g_settings_new_with_backend_and_path',
  'g_settings_schema_source_get_default',
]);

/**
 * GSETTINGS_SCHEMAS are the compiled schemas GSettings reads: `glib-2.0/schemas/gschemas.compiled` under
 * each directory of GLib's default XDG_DATA_DIRS (`/usr/local/share/:/usr/share/`).
 */
export const GSETTINGS_SCHEMAS: readonly string[] = [
  '/usr/local/share/glib-2.0/schemas/gschemas.compiled',
  '/usr/share/glib-2.0/schemas/gschemas.compiled',
];

/**
 * INFER_SYMBOLS is every import an inference rule looks for (NSS, gconv, libgcc, GSettings): the closure asks
 * the ELF reader for these only (`wantSymbols`), so no other symbol name is ever decoded.
 */
export const INFER_SYMBOLS: ReadonlySet<string> = new Set([
  ...NSS_SYMBOLS.keys(),
  ...GCONV_SYMBOLS,
  ...LIBGCC_SYMBOLS,
  ...GSETTINGS_SYMBOLS,
]);

/**
 * LIBRARY_DATA are libraries that open a data file at a path compiled into them: the rule reads the
 * path from the library's bytes (a NUL-terminated string matching `path`, `:`-separated lists split) and
 * adds the files `files` names that exist in the root.
 */
export const LIBRARY_DATA: readonly {
  readonly soname: RegExp;
  readonly path: RegExp;
  readonly files: (p: string) => readonly string[];
  /**
   * the files are directories of entries looked up by name at run time: each is added whole when it
   * holds at most `max` entries, else only the `common` names (as `X/NAME`, ncurses' layout)
   */
  readonly tree?: { readonly max: number; readonly common: readonly string[] };
  readonly reason: string;
}[] = [
  {
    // file(1): libmagic's MAGIC is "/etc/magic:/usr/share/misc/magic"; it opens each with `.mgc` first
    soname: /^libmagic\.so(\.|$)/,
    path: /^\/[!-~]*magic(:\/[!-~]*magic)*$/,
    files: (p) => [`${p}.mgc`, p],
    reason: 'libmagic opens its compiled magic database',
  },
  {
    // OpenSSL 3: OPENSSLDIR ("/usr/lib/ssl" on Debian, a link farm into /etc/ssl) holds openssl.cnf,
    // which libcrypto loads at start and `openssl req`/`ca` refuse to run without
    soname: /^libcrypto\.so\.3(\.|$)/,
    path: /^\/[!-~]*\/ssl$/,
    files: (p) => [`${p}/openssl.cnf`],
    reason: 'libcrypto reads its configuration, OPENSSLDIR/openssl.cnf',
  },
  {
    // ncurses: TERMINFO_DIRS "/etc/terminfo:/lib/terminfo:/usr/share/terminfo" is compiled in; `docker
    // run -t` sets TERM=xterm, and tput, top, less, vim stop with "unknown terminal" without its entry
    soname: /^lib(tinfo|tinfow|ncurses|ncursesw)\.so(\.|$)/,
    path: /^\/[!-~]*terminfo(:\/[!-~]*terminfo)*$/,
    files: (p) => [p],
    tree: {
      // Debian's ncurses-base (/lib/terminfo) is 42 entries; ncurses-term (/usr/share/terminfo) 3000
      max: 200,
      common: [
        'xterm',
        'xterm-256color',
        'xterm-color',
        'screen',
        'screen-256color',
        'tmux',
        'tmux-256color',
        'linux',
        'vt100',
        'vt220',
        'ansi',
        'dumb',
        'rxvt',
        'rxvt-unicode',
        'putty',
      ],
    },
    reason: 'ncurses reads the description of the terminal TERM names (docker run -t sets TERM=xterm)',
  },
];

/** FONTCONFIG_LIBRARY matches fontconfig's soname; FONTCONFIG_DIR is its configuration directory. */
export const FONTCONFIG_LIBRARY = /^libfontconfig\.so(\.|$)/;
export const FONTCONFIG_DIR = '/etc/fonts';

/** FONTCONFIG_FALLBACK_DIRS are the font and cache directories of the configuration compiled into fontconfig. */
export const FONTCONFIG_FALLBACK_DIRS = ['/usr/share/fonts', '/var/cache/fontconfig'];

/**
 * fontconfigDirs lists the absolute directories a fontconfig configuration names for fonts and their
 * cache (`<dir>/usr/share/fonts</dir>`, `<cachedir>/var/cache/fontconfig</cachedir>`), comments left
 * out; those relative to a home or XDG directory (`~/.fonts`, `prefix="xdg"`) are not the image's.
 */
export function fontconfigDirs(xml: string): string[] {
  const out: string[] = [];
  const text = xml.replace(/<!--[\s\S]*?-->/g, '');
  for (const m of text.matchAll(/<(dir|cachedir)(\s[^>]*)?>\s*([^<]*?)\s*<\/\1>/g)) {
    const attrs = m[2] ?? '';
    const p = m[3]!.replace(/\/+$/, '');
    if (/prefix\s*=\s*"(xdg|relative|cwd)"/.test(attrs) || !p.startsWith('/')) continue;
    if (p.split('/').some((c) => c === '.' || c === '..') || out.includes(p)) continue;
    out.push(p);
  }
  return out;
}

/** TLS_LIBRARY matches the sonames of TLS libraries that verify peers against a CA bundle. */
export const TLS_LIBRARY = /^lib(ssl|gnutls|nss3|mbedtls|wolfssl)\.so(\.|$)/;

/** CA_BUNDLES are the conventional CA bundle paths (Debian/Ubuntu/Alpine, Fedora/RHEL, SUSE, OpenSSL's dir on Debian). */
export const CA_BUNDLES: readonly string[] = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/ca-bundle.pem',
  '/etc/pki/tls/cacert.pem',
  '/etc/ssl/cert.pem',
  '/usr/lib/ssl/cert.pem',
];

/** NSS_DEFAULT_SERVICES is what glibc uses for a database missing from nsswitch.conf. */
const NSS_DEFAULT_SERVICES: Readonly<Record<string, readonly string[]>> = { hosts: ['dns', 'files'] };

/**
 * parseNsswitch returns, for each database of an nsswitch.conf, its services in order (`[…]` actions
 * dropped). Later lines for a database replace earlier ones, as glibc reads them.
 */
export function parseNsswitch(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^([A-Za-z_]+)\s*:\s*(.*)$/.exec(line);
    if (!m) continue;
    const services = m[2]!
      .replace(/\[[^\]]*\]/g, ' ')
      .split(/\s+/)
      .filter((s) => /^[A-Za-z0-9_.+-]+$/.test(s));
    out.set(m[1]!.toLowerCase(), services);
  }
  return out;
}

/** nssServices lists the services of the given databases (files and dns always included), sorted, unique. */
export function nssServices(
  conf: ReadonlyMap<string, readonly string[]> | undefined,
  databases: Iterable<string>,
): string[] {
  const set = new Set<string>(['files', 'dns']);
  for (const db of databases) {
    const s = conf?.get(db) ??
      (db === 'initgroups' ? conf?.get('group') : undefined) ??
      NSS_DEFAULT_SERVICES[db] ?? ['files'];
    for (const x of s) set.add(x);
  }
  return [...set].sort();
}
