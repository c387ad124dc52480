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
 * MAX_MODULE_LIBRARY_BYTES bounds the libraries read: those that host plugins are small (libMagickCore
 * 2.5 MiB, libgvc 0.6 MiB); the large ones are data (libicudata 30 MiB) or compilers (libLLVM).
 */
export const MAX_MODULE_LIBRARY_BYTES = 16 * 1024 * 1024;

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
    const parts = p.split('/');
    if (parts.some((c) => c === '.' || c === '..') || parts.length < 3) continue;
    if (searchDirs.includes(p) || NOT_MODULE_DIR.test(p) || out.includes(p)) continue;
    out.push(p);
  }
  return out;
}
