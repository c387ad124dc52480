/**
 * static-glibc.ts — the inference rules (infer.ts) applied to static and static-pie glibc programs.
 * PURE over the RootFs port.
 *
 * A static program imports nothing, so the NSS and gconv rules, which look for imports, would see
 * nothing; yet glibc dlopens NSS and gconv modules from static programs too (with `libc.so.6` and the
 * loader those modules need). elf/static-glibc.ts reads the evidence; this module turns it into the
 * imports the rules look for, so that the same rules (nsswitch.conf of the root, every gconv module,
 * their closures) apply unchanged:
 * - not stripped: the defined functions of `.symtab` that the rules know (`getpwnam` → passwd,
 *   `getaddrinfo` → hosts and services, `iconv_open` → gconv), provided the glibc strings are there;
 * - stripped: `libnss_` → one name for every NSS database (which ones are used is unknown), a gconv
 *   directory string → `iconv_open`.
 * libgcc_s is not inferred: static programs carry their own unwinder (libgcc_eh.a).
 */
import { readStaticGlibcNeeds } from '../elf/static-glibc.ts';
import type { RootFs } from '../fs/root-fs.ts';
import { GCONV_SYMBOLS, NSS_SYMBOLS } from './infer.ts';
import type { LoadedObject } from './search.ts';

/** STATIC_WANTED are the names looked for in a static program's `.symtab`. */
const STATIC_WANTED: ReadonlySet<string> = new Set([...NSS_SYMBOLS.keys(), ...GCONV_SYMBOLS]);

/** EVERY_NSS_DATABASE is one NSS function per database, for stripped programs. */
const EVERY_NSS_DATABASE: readonly string[] = (() => {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const [sym, dbs] of NSS_SYMBOLS) {
    if (dbs.every((d) => seen.has(d))) continue;
    for (const d of dbs) seen.add(d);
    out.push(sym);
  }
  return out;
})();

/** StaticImports is what a static glibc program is taken to import, and how that was found out. */
export interface StaticImports {
  readonly symbols: readonly string[];
  /** the verb of the inference reasons: "has statically linked", or for a stripped program what its strings say */
  readonly evidence: string;
}

/**
 * staticGlibcImports reads the static program `obj` (no PT_INTERP, no DT_NEEDED) and returns the
 * imports the inference rules should see, or undefined when it shows no sign of glibc's NSS or gconv
 * loaders. `nss`/`gconv` say which rules are on.
 */
export async function staticGlibcImports(
  fs: RootFs,
  obj: LoadedObject,
  size: number,
  rules: { nss: boolean; gconv: boolean },
): Promise<StaticImports | undefined> {
  if (!rules.nss && !rules.gconv) return undefined;
  const needs = await readStaticGlibcNeeds(fs, obj.real, size, STATIC_WANTED);
  if (!needs) return undefined;
  let symbols: string[];
  let evidence: string;
  if (needs.symbols) {
    symbols = needs.symbols.filter((s) => (NSS_SYMBOLS.has(s) ? needs.nss : needs.gconvDir !== undefined));
    evidence = 'has statically linked';
  } else {
    symbols = [
      ...(needs.nss ? EVERY_NSS_DATABASE : []),
      ...(needs.gconvDir !== undefined ? ['iconv_open'] : []),
    ];
    const marks = [needs.nss ? 'libnss_' : '', needs.gconvDir ?? ''].filter(Boolean).join(', ');
    evidence = `is stripped; its strings (${marks}) say it may call`;
  }
  symbols = symbols.filter((s) => (NSS_SYMBOLS.has(s) ? rules.nss : rules.gconv));
  if (symbols.length === 0) return undefined;
  return { symbols: [...new Set(symbols)].sort(), evidence };
}
