/**
 * perl-modules.ts — the modules a Perl script loads, read from its text (never run). PURE.
 *
 * The interpreters rule ships Perl's standard library; a script also loads modules from Debian's vendor
 * directories (/usr/share/perl5: Debian::AdduserCommon, JSON, Image::ExifTool) and from directories it
 * adds with `use lib` (postgresql-common's psql wrapper: `use lib '/usr/share/postgresql-common'; use
 * PgCommon;`). Without them it stops with `Can't locate PgCommon.pm in @INC`. These functions read
 * `use`, `require`, `use parent`/`use base` and `use lib` statements, POD and what follows `__END__`
 * left out; the closure finds each module on the script's @INC, and reads the modules it finds in turn.
 */

/** MAX_PERL_MODULES bounds the modules one script brings (its own and theirs). */
export const MAX_PERL_MODULES = 2000;

/** PerlUses is what a Perl source loads. */
export interface PerlUses {
  /** absolute directories `use lib` adds to @INC, in order */
  readonly libs: readonly string[];
  /** module names (`Foo::Bar`), in order, unique */
  readonly modules: readonly string[];
  /** whether it loads compiled code of its own (XSLoader, DynaLoader's bootstrap) */
  readonly xs: boolean;
}

const MODULE = /^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*$/;

/** listWords reads a Perl list of literal words, in order: `qw(a b)` groups and `'a'`, `"b"` strings. */
function listWords(s: string): string[] {
  const out: string[] = [];
  for (const m of s.matchAll(
    /qw\s*(?:\(([^)]*)\)|\[([^\]]*)\]|\{([^}]*)\}|<([^>]*)>|\/([^/]*)\/)|'([^']*)'|"([^"$@]*)"/g,
  )) {
    const qw = m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5];
    if (qw !== undefined) out.push(...qw.split(/\s+/).filter(Boolean));
    else out.push(m[6] ?? m[7] ?? '');
  }
  return out;
}

/** perlUses reads what a Perl source loads (see the module comment). */
export function perlUses(text: string): PerlUses {
  const libs: string[] = [];
  const modules: string[] = [];
  const add = (m: string) => {
    if (MODULE.test(m) && !modules.includes(m)) modules.push(m);
  };
  // POD blocks and the data after __END__/__DATA__ are no code
  const code = text
    .split(/^__(?:END|DATA)__\s*$/m)[0]!
    .replace(/^=[A-Za-z][\s\S]*?(^=cut\b.*$|(?![\s\S]))/gm, '');
  for (const m of code.matchAll(/(?:^|(?<=[;{}]))\s*(use|require|no)\s+([^;]*);/gm)) {
    const [, kw, rest] = m;
    const word = /^([A-Za-z_][A-Za-z0-9_:]*)\s*([\s\S]*)$/.exec(rest!.trim());
    if (!word || kw === 'no') continue;
    const name = word[1]!;
    const args = word[2]!;
    if (kw === 'use' && name === 'lib') {
      for (const d of listWords(args)) if (d.startsWith('/') && !libs.includes(d)) libs.push(d);
      continue;
    }
    if (kw === 'use' && (name === 'parent' || name === 'base')) {
      for (const w of listWords(args.replace(/^-norequire\s*,?/, ''))) add(w);
      continue;
    }
    add(name);
  }
  return { libs, modules, xs: /\b(XSLoader::load|bootstrap\s+[A-Za-z_]|DynaLoader)\b/.test(code) };
}

/** modulePath is where a module lives under an @INC directory (`Foo::Bar` → `Foo/Bar.pm`). */
export function modulePath(name: string): string {
  return `${name.split('::').join('/')}.pm`;
}

/** xsPath is where a module's compiled part lives under an @INC directory (`Foo::Bar` → `auto/Foo/Bar/Bar.so`). */
export function xsPath(name: string): string {
  const parts = name.split('::');
  return `auto/${parts.join('/')}/${parts.at(-1)}.so`;
}
