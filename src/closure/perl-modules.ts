/**
 * perl-modules.ts — the modules a Perl script loads and the programs it runs, read from its text (never
 * run). PURE.
 *
 * The interpreters rule ships Perl's standard library; a script also loads modules from Debian's vendor
 * directories (/usr/share/perl5: Debian::AdduserCommon, JSON, Image::ExifTool) and from directories it
 * adds with `use lib` (postgresql-common's psql wrapper: `use lib '/usr/share/postgresql-common'; use
 * PgCommon;`). Without them it stops with `Can't locate PgCommon.pm in @INC`. These functions read
 * `use`, `require`, `use parent`/`use base` and `use lib` statements, POD and what follows `__END__`
 * left out; the closure finds each module on the script's @INC, and reads the modules it finds in turn.
 */

import { commandWord, envDefaultPrograms, needsShell } from './shell-script.ts';

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
  const code = perlCode(text);
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

/** perlCode is a Perl source without what is no code: POD blocks, the data after __END__/__DATA__. */
function perlCode(text: string): string {
  return text.split(/^__(?:END|DATA)__\s*$/m)[0]!.replace(/^=[A-Za-z][\s\S]*?(^=cut\b.*$|(?![\s\S]))/gm, '');
}

/** MAX_PERL_COMMANDS bounds the programs one Perl source is read to run. */
export const MAX_PERL_COMMANDS = 64;

/**
 * PERL_RUNS find where a Perl source runs a program by a literal command, each with the group holding
 * the command's text: `system`/`exec` with a string or a list (`system("vgdb -l")`, `exec 'gzip',
 * '-d'`), backquotes and `qx` (`` `uname -r` ``, `qx(id -u)`, `qx{…}`), and a piped `open` with three
 * arguments (`open(my $fh, '-|', 'git', …)`).
 */
const PERL_RUNS: readonly RegExp[] = [
  /\b(?:system|exec)\s{0,16}\(?\s{0,16}(?:\{\s{0,16})?(['"])(?<c>[^'"\n]{1,256})\1/g,
  /`(?<c>[^`\n]{1,256})`/g,
  /\bqx\s{0,16}(?:\((?<c>[^)\n]{1,256})\)|\{(?<d>[^}\n]{1,256})\}|\/(?<e>[^/\n]{1,256})\/)/g,
  /\bopen\s{0,16}\(?\s{0,16}(?:my\s{1,16})?[$\w:]{1,128}\s{0,16},\s{0,16}(['"])[-|]{2}\1\s{0,16},\s{0,16}(['"])(?<c>[^'"\n]{1,256})\2/g,
];

/** PERL_RUNS_ANY is any way of running a program, whatever its command: `system(@cmd)`, `open($fh, "-|", @_)`. */
const PERL_RUNS_ANY = /\b(?:system|exec)\s{0,16}[({$@]|`|\bqx\b|(['"])(?:-\||\|-)\1/;
/** PERL_ENV_DEFAULT is a value from the environment with a literal default: `$ENV{OPENSSL} || "openssl"`. */
const PERL_ENV_DEFAULT = [
  /\$ENV\{\s{0,8}(?<a>['"]?)(?<n>[A-Za-z_]\w{0,64})\k<a>\s{0,8}\}\s{0,16}(?:\|\||\/\/|\bor\b)\s{0,16}(?<q>['"])(?<v>[^'"\n]{1,128})\k<q>/g,
];

/** PERL_OPEN2 is a two-argument `open`: its mode and command are one string (`"vgdb -l|"`, `"| sendmail"`). */
const PERL_OPEN2 =
  /\bopen\s{0,16}\(?\s{0,16}(?:my\s{1,16})?[$\w:]{1,128}\s{0,16},\s{0,16}(['"])(?<m>[^'"\n]{1,256})\1\s{0,16}\)?\s{0,16}(?:;|or\b|\|\|)/g;

/**
 * perlCommands lists the programs a Perl source runs by a literal name (PERL_RUNS, and a two-argument
 * `open` whose string starts or ends with `|`): a bare name to look up on PATH or an absolute path, in
 * order of kind then place, unique; /bin/sh first when a command string holds shell metacharacters
 * (perl runs it as `/bin/sh -c`). A command starting with a variable names none; POD, whole-line
 * comments and what follows __END__ are not read.
 *
 * @example perlCommands('open(LIST, "vgdb -l|"); my $k = `uname -r`;') // ['uname', 'vgdb']
 */
export function perlCommands(text: string): string[] {
  // whole-line comments too (a `# system("x")` in one is no call)
  const code = perlCode(text).replace(/^\s*#.*$/gm, '');
  const commands: string[] = [];
  for (const re of PERL_RUNS)
    for (const m of code.matchAll(re)) commands.push(m.groups!.c ?? m.groups!.d ?? m.groups!.e ?? '');
  for (const m of code.matchAll(PERL_OPEN2)) {
    const mode = m.groups!.m!.trim();
    if (mode.startsWith('|')) commands.push(mode.slice(1));
    else if (mode.endsWith('|')) commands.push(mode.slice(0, -1));
  }
  // a program taken from the environment with a default, in a source that runs programs (c_rehash's
  // `my $openssl = $ENV{OPENSSL} || "openssl"`, run through a list `open($fh, "-|", @_)`)
  if (commands.length > 0 || PERL_RUNS_ANY.test(code))
    commands.push(...envDefaultPrograms(code, PERL_ENV_DEFAULT));
  const out: string[] = [];
  // a command string with shell metacharacters (`gzip -c x > y.gz`) perl runs as `/bin/sh -c`
  // (perlfunc exec); one without, and a list, it runs itself
  if (commands.some(needsShell)) out.push('/bin/sh');
  for (const c of commands) {
    const word = commandWord(c);
    if (word === undefined || out.includes(word)) continue;
    out.push(word);
    if (out.length >= MAX_PERL_COMMANDS) break;
  }
  return out;
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
