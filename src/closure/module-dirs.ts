/**
 * module-dirs.ts — the module directories compiled into libraries. PURE.
 *
 * A library that loads plugins by dlopen finds them in a directory written into it at build time:
 * ImageMagick's libMagickCore its coders (`…/ImageMagick-6.9.11/modules-Q16/coders`: without them
 * `convert rose: x.png` knows no format at all), Graphviz's libgvc its layout and render plugins and
 * their `config6a` (`dot -Tsvg`: `Format: "svg" not recognized`), Cyrus SASL's libsasl2 its
 * mechanisms, SoX's libsox its file formats, libao its outputs, iptables' libxtables its matches;
 * programs the same way (php's extension_dir /usr/lib/php/20220829, postgres's pkglibdir with
 * plpgsql.so). The closure reads these C strings from each ELF object (never runs it) and ships a
 * directory that holds shared objects whole: which module is loaded is decided at run time.
 *
 * Left to others: directories other rules own (gconv, OpenSSL's ossl-modules, the interpreters'
 * library trees), and those whose modules cannot serve in a container or are optional extensions of
 * their library: OpenSSL 3's deprecated engines (loaded only when a configuration names one), GIO's
 * modules (GIO works without them), PAM's modules (useless without /etc/pam.d, which is the
 * system's), and the GPU drivers of VA-API and VDPAU (25 MiB of Mesa for a device a container lacks).
 */

/** MODULE_PREFIXES are where the strings the rule looks at start. */
export const MODULE_PREFIXES = ['/usr/lib/', '/usr/lib64/', '/usr/lib32/', '/lib/', '/lib64/'];

/** MODULE_PATH matches a candidate string: an absolute path of plain components (doubled slashes allowed). */
export const MODULE_PATH = /^(\/+[A-Za-z0-9._+@-]+)+\/*$/;

/**
 * MAX_MODULE_LIBRARY_BYTES bounds the ELF objects read: those that host plugins or name their data are
 * a few MiB (libMagickCore 2.5, libgvc 0.6, php 5, libgs 21); larger ones are runtimes and bundles
 * (node 99 MiB, libLLVM), read for no such path on every cold build.
 */
export const MAX_MODULE_LIBRARY_BYTES = 32 * 1024 * 1024;

/** MAX_MODULE_ENTRIES bounds a module directory shipped whole (ImageMagick's coders: 234 entries). */
export const MAX_MODULE_ENTRIES = 2000;

/** SHARED_OBJECT matches the file names of shared objects (`x.so`, `x.so.6`, `x.so.6.0.0`). */
export const SHARED_OBJECT = /\.so(\.[0-9]+)*$/;

/** NOT_MODULE_DIR matches the directories the rule leaves alone (see the file header for why). */
const NOT_MODULE_DIR =
  /\/(gconv|ossl-modules|engines-[0-9]+|gio\/modules|security|dri|vdpau|perl5?|perl-base|python[0-9.]*|ruby|tcl[0-9.]*|jvm)(\/|$)/;

/**
 * moduleDirCandidates turns a library's compiled-in path strings into the directories to look at:
 * normalised (`a//b/` → `a/b`), without `.`/`..` components, without the loader's own search
 * directories (`searchDirs`: their libraries are found by name) and NOT_MODULE_DIR, unique, in order.
 * Whether one is a module directory (it holds shared objects) is for the caller to find in the root.
 */
export function moduleDirCandidates(strings: readonly string[], searchDirs: readonly string[]): string[] {
  const out: string[] = [];
  for (const s of strings) {
    if (!MODULE_PATH.test(s)) continue;
    const p = s.replace(/\/+/g, '/').replace(/\/$/, '');
    if (!MODULE_PREFIXES.some((m) => `${p}/`.startsWith(m))) continue;
    const parts = p.split('/');
    if (parts.some((c) => c === '.' || c === '..') || parts.length < 3) continue;
    if (searchDirs.includes(p) || NOT_MODULE_DIR.test(p) || out.includes(p)) continue;
    out.push(p);
  }
  return out;
}

/**
 * Data at a compiled-in path under /usr/share: a program that reads its data files from a directory
 * written into it (vim's runtime /usr/share/vim, nmap's /usr/share/nmap with nmap-services and its
 * scripts, squid's error pages, hunspell's dictionary path list, Ghostscript's Resource/Init with
 * gs_init.ps) stops or loses its features without it. The same C strings (`:`-separated lists split)
 * name the data directories (`/usr/share/X`) shipped whole, bounded; what other rules own (zoneinfo,
 * terminfo, locales, the interpreters' libraries) and what no program needs to run (documentation,
 * icons, desktop files) is left.
 */

/** SHARE_PREFIX is where the data strings start. */
export const SHARE_PREFIX = '/usr/share/';

/**
 * RELATIVE_SHARE_PREFIX starts the data directory a relocatable program names relative to its prefix
 * (cmake's `/share/cmake-3.25`, found from /usr/bin/cmake as /usr/share/cmake-3.25: without it
 * "Could not find CMAKE_ROOT"); RELATIVE_SHARE matches one.
 */
export const RELATIVE_SHARE_PREFIX = '/share/';
export const RELATIVE_SHARE = /^\/share\/[A-Za-z0-9._+@-]+\/?$/;

/** SHARE_STRING matches a candidate string: a path or a `:`-separated list of paths, printable, no spaces. */
export const SHARE_STRING = /^\/usr\/share\/[!-~]+$/;

/** MAX_SHARE_ENTRIES and MAX_SHARE_BYTES bound a data directory shipped whole (vim's runtime: ~2,700 files, 40 MiB). */
export const MAX_SHARE_ENTRIES = 10_000;
export const MAX_SHARE_BYTES = 64 * 1024 * 1024;

/** NOT_SHARE_DATA matches the /usr/share directories the rule leaves alone (see above). */
const NOT_SHARE_DATA =
  /^\/usr\/share\/(doc|doc-base|man|info|locale|i18n|zoneinfo|terminfo|misc|common-licenses|lintian|bug|menu|applications|icons|pixmaps|mime|mime-info|metainfo|X11|bash-completion|zsh|fish|gtk-doc|help|perl5?|python[0-9.]*|ruby[0-9.]*|rubygems-integration|tcltk|tcl[0-9.]*|java|javascript|gocode|maven-repo|gcc|gdb|aclocal|pkgconfig|dbus-1|polkit-1|systemd|lua|debhelper|dh-python)(\/|$)/;

/**
 * OWN_SHARE_DATA matches the NOT_SHARE_DATA directories that are a program's own when the program has
 * their name (gdb's /usr/share/gdb holds its Python module, dbus-daemon's /usr/share/dbus-1 its
 * configuration, zsh's /usr/share/zsh its function library): left out when a library names them,
 * shipped for that program.
 */
export const OWN_SHARE_DATA = /^\/usr\/share\/(gdb|gcc|dbus-1|polkit-1|systemd|debhelper|zsh)$/;

/**
 * OWN_SHARE_DATA_OF names, by program, the NOT_SHARE_DATA directories that are a program's own under
 * another name: localedef compiles a locale from the sources and character maps of /usr/share/i18n
 * (left out for libc, which names it too; without it "character map file `UTF-8' not found").
 */
export const OWN_SHARE_DATA_OF: ReadonlyMap<string, string> = new Map([['localedef', '/usr/share/i18n']]);

/**
 * shareDataCandidates turns the strings SHARE_STRING matched into the paths to look at: lists split,
 * normalised, without `.`/`..` components, each as the data directory it lies in (`/usr/share/X`),
 * not NOT_SHARE_DATA, unique, in order. The caller ships a directory whole or a file alone.
 */
export function shareDataCandidates(strings: readonly string[]): string[] {
  const out: string[] = [];
  for (const s of strings) {
    for (const part of s.split(':')) {
      if (!part.startsWith(SHARE_PREFIX)) continue;
      const p = part.replace(/\/+/g, '/').replace(/\/$/, '');
      const parts = p.split('/');
      if (parts.length < 4 || parts.slice(1).some((c) => c === '.' || c === '..' || c === '')) continue;
      // the package's whole data directory: what it names sits beside what it finds from there
      // (Ghostscript names Resource/Init and reaches ../../iccprofiles from it)
      const top = parts.slice(0, 4).join('/');
      if (!/^[A-Za-z0-9._+@/-]+$/.test(p) || NOT_SHARE_DATA.test(top) || out.includes(top)) continue;
      out.push(top);
    }
  }
  return out;
}
