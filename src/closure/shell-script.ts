/**
 * shell-script.ts — the commands a shell script runs, read from its text (never run). PURE.
 *
 * A launcher written in sh (apache2ctl running id, mkdir, mktemp and `$HTTPD`, an application's
 * docker-entrypoint.sh running chown and gosu, a wrapper exec-ing `"$BINDIR/prog"`) needs those
 * programs beside the shell: without them it stops with `mkdir: not found`. The reading is a light
 * one, line by line: heredocs and comments skipped, the first word of each simple command taken
 * (after `;`, `&&`, `||`, `|`, `(`, `$(`, a backquote, `then`, `do`, `else`, `exec`, `command` …),
 * variables assigned a literal (`BINDIR=$ROOTDIR/bin`, `HTTPD=${APACHE_HTTPD:-/usr/sbin/apache2}`)
 * expanded, builtins, keywords and the script's own functions left out. A word still holding `$`
 * after that is unknowable without running the script and is dropped.
 */

import { linePaths } from './program-files.ts';
import { wrappedCommand } from './wrappers.ts';

/** MAX_SCRIPT_TEXT bounds the text read from a script. */
export const MAX_SCRIPT_TEXT = 256 * 1024;

/** SHELLS are the interpreters whose scripts are read (by base name). */
export const SHELLS: ReadonlySet<string> = new Set(['sh', 'dash', 'bash', 'ash', 'ksh', 'mksh', 'zsh']);

/** BUILTINS are the words a shell runs itself: keywords and builtins of POSIX sh, dash and bash. */
const BUILTINS = new Set([
  ...['if', 'then', 'else', 'elif', 'fi', 'case', 'esac', 'for', 'select', 'while', 'until', 'do', 'done'],
  ...['in', 'function', 'time', '{', '}', '!', '[[', ']]', '[', ']', ':', '.', 'source', 'alias', 'bg'],
  ...['break', 'builtin', 'cd', 'command', 'continue', 'declare', 'echo', 'eval', 'exec', 'exit'],
  ...['export', 'false', 'fc', 'fg', 'getopts', 'hash', 'jobs', 'kill', 'let', 'local', 'printf', 'pwd'],
  ...['read', 'readonly', 'return', 'set', 'shift', 'shopt', 'test', 'times', 'trap', 'true', 'type'],
  ...['typeset', 'ulimit', 'umask', 'unalias', 'unset', 'wait', 'mapfile', 'readarray', 'enable', 'help'],
  ...['pushd', 'popd', 'dirs', 'disown', 'suspend', 'logout', 'complete', 'compgen', 'caller'],
]);

/** MAX_INNER bounds the trap actions and `sh -c` strings of one script read as lines of their own. */
const MAX_INNER = 256;

/** FIND_EXEC are find's actions whose next word is a program it runs. */
const FIND_EXEC = new Set(['-exec', '-execdir', '-ok', '-okdir']);

/** UTILITY_BUILTINS are builtins that are programs too (coreutils, procps): what `exec` or `nohup` runs. */
const UTILITY_BUILTINS = new Set(['echo', 'printf', 'test', '[', 'true', 'false', 'kill', 'pwd']);

/** EXTERNAL_AFTER are the prefixes whose command is always a program, never a builtin. */
const EXTERNAL_AFTER = new Set(['exec', 'nohup']);

/** LOOKUPS are the commands whose arguments are programs looked up on PATH (to be run next). */
const LOOKUPS = new Set(['command', 'which', 'type', 'hash']);

/** PREFIXES are words after which the next word is the command (`exec prog`, `eval "$prog" …`; `command -v` is not one). */
const PREFIXES = new Set([
  'exec',
  'eval',
  'then',
  'do',
  'else',
  'elif',
  'if',
  'while',
  'until',
  '!',
  'time',
  'nohup',
]);

/**
 * scriptCommands lists what a shell script's text runs: absolute paths (`/usr/sbin/apache2`) and bare
 * names to look up on PATH (`mkdir`), variables with a literal value expanded (and `$0`, the script's
 * path `self`, when given), in order, unique.
 *
 * @example scriptCommands('BIN=/opt/x/bin\nmkdir -p /run/x && exec "$BIN/x" "$@"\n') // ['mkdir', '/opt/x/bin/x']
 */
export function scriptCommands(text: string, self?: string): string[] {
  // $0 is the script's own path (valgrind's wrapper: `exec $0.bin "$@"`)
  const vars = new Map<string, string>(self !== undefined ? [['0', self]] : []);
  const out: string[] = [];
  // a line ending in a backslash goes on on the next
  const lines = commandText(text.slice(0, MAX_SCRIPT_TEXT)).replace(/\\\n/g, ' ').split('\n');
  // the script's functions, wherever they are defined (one may be called above its definition)
  const FUNCTION = /^\s*(?:function\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*\(\s*\)/;
  const functions = new Set(lines.flatMap((l) => FUNCTION.exec(l)?.[1] ?? []));
  let inner = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fn = FUNCTION.exec(line);
    noteAssignments(line, vars);
    // a case pattern (`start|restart)`) is no command: what follows it is
    const pattern = fn ? undefined : /^\s*\(?[^\s()'"$]+(?:\s*\|\s*[^\s()'"$]+)*\s*\)/.exec(line);
    for (const segment of segments(pattern ? line.slice(pattern[0].length) : line)) {
      const words = segment.trim().split(/\s+/).filter(Boolean);
      let k = 0;
      // leading assignments (`LC_ALL=C sort`) and command prefixes
      while (k < words.length && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[k]!) || PREFIXES.has(words[k]!))) k++;
      // assignments alone set variables, also among other commands (zdiff's case branch `*) prog=diff;
      // cmp='${DIFF-diff}';;`, then `eval "$cmp" …`)
      if (k === words.length && k > 0 && !PREFIXES.has(words[0]!)) {
        for (const a of words) {
          const eq = a.indexOf('=');
          const v = expand(unquote(a.slice(eq + 1)), vars);
          if (v === undefined) vars.delete(a.slice(0, eq));
          else vars.set(a.slice(0, eq), v);
        }
      }
      // `\command` runs the command itself, not an alias of it
      const w = words[k]?.replace(/^\\+/, '');
      // `exec echo …` replaces the shell with the program echo, not its builtin (tzselect --version)
      if (w !== undefined && k > 0 && EXTERNAL_AFTER.has(words[k - 1]!) && UTILITY_BUILTINS.has(w)) {
        if (!out.includes(w)) out.push(w);
        continue;
      }
      // a program looked up on PATH to be run (`command -v java`, `which java`, `type -p java`): maven's
      // launcher runs what `command -v java` finds
      if (w !== undefined && LOOKUPS.has(w)) {
        for (const a of words.slice(k + 1)) {
          if (a.startsWith('-')) continue;
          const name = expand(unquote(a), vars);
          if (name !== undefined && /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/.test(name) && !BUILTINS.has(name))
            if (!out.includes(name)) out.push(name);
        }
      }
      // the commands of a trap's action (`trap 'rm -f "$tmp"' 0`) and of `sh -c '…'` run too: read
      // as a line of their own, next
      const quoted =
        w === 'trap'
          ? /^\s*trap\s+(['"])(.{0,1024}?)\1/.exec(segment.slice(segment.indexOf('trap')))?.[2]
          : w !== undefined && SHELLS.has(w.slice(w.lastIndexOf('/') + 1)) && words[k + 1] === '-c'
            ? /\s-c\s{1,16}(['"])(.{0,1024}?)\1/.exec(segment)?.[2]
            : undefined;
      if (quoted !== undefined && inner++ < MAX_INNER) lines.splice(i + 1, 0, quoted);
      // what a runner in the line runs in turn (`xargs gzip`, `env LANG=C sort`, `gosu app redis-server`)
      // and what `find -exec` runs: read as a command of their own
      if (w !== undefined) {
        const wrapped = wrappedCommand(words.slice(k).map((x) => expand(unquote(x), vars) ?? '$'));
        const found = words.slice(k + 1).findIndex((x) => FIND_EXEC.has(x));
        const also = [
          ...(wrapped ? [wrapped.program] : []),
          ...(w === 'find' && found >= 0 ? [words[k + 2 + found] ?? ''] : []),
        ];
        // (a runner execs a program: `xargs echo` runs /usr/bin/echo, not the shell's)
        for (const a of also)
          if (
            commandWord(a) === a &&
            (!BUILTINS.has(a) || UTILITY_BUILTINS.has(a)) &&
            !functions.has(a) &&
            !out.includes(a)
          )
            out.push(a);
      }
      if (w === undefined || BUILTINS.has(w) || functions.has(w)) continue;
      // a case pattern (`start)`), a redirection, a glob or a quoted string of several words is no command
      // (a `${V:=default}` in it is an expansion, not an assignment)
      if (/[)(<>|&;*?[\]=]/.test(w.replace(/\$\{[^}]*\}/g, '')) || /^['"]/.test(w) !== /['"]$/.test(w))
        continue;
      const word = expand(unquote(w), vars);
      if (word === undefined || word === '' || word.includes('$') || BUILTINS.has(word)) continue;
      if (/^[0-9]+$/.test(word)) continue;
      if (!/^(\/[A-Za-z0-9._+@-]+)+$|^[A-Za-z0-9_][A-Za-z0-9._+-]*$/.test(word)) continue;
      if (word.split('/').some((c) => c === '.' || c === '..')) continue;
      if (!out.includes(word)) out.push(word);
    }
  }
  return out;
}

/**
 * commandText is a script's text with what runs nothing blanked, its lines kept: comments, heredoc
 * bodies, and quoted strings that span lines (a usage message); quotes within a line stay.
 */
function commandText(text: string): string {
  const out = text.split('');
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  const heredocs: string[] = [];
  let q: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q) {
      if (c === q) {
        if (text.slice(start, i).includes('\n')) blank(start + 1, i);
        q = undefined;
      } else if (c === '\\' && q === '"') i++;
      continue;
    }
    if (c === "'" || c === '"') {
      q = c;
      start = i;
    } else if (c === '\\') i++;
    else if (c === '#' && (i === 0 || /[\s;&|(]/.test(text[i - 1]!))) {
      const end = text.indexOf('\n', i);
      blank(i, end < 0 ? text.length : end);
      i = end < 0 ? text.length : end - 1;
    } else if (c === '<' && text[i + 1] === '<' && text[i + 2] !== '<') {
      const m = /^<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/.exec(text.slice(i));
      if (m) {
        heredocs.push(m[2]!);
        i += m[0].length - 1;
      }
    } else if (c === '\n' && heredocs.length > 0) {
      // the bodies start on the next line, one after another, each up to its delimiter line
      let at = i + 1;
      for (const d of heredocs.splice(0)) {
        const re = new RegExp(`^\\t*${d}[ \\t]*$`, 'm');
        const m = re.exec(text.slice(at));
        const end = m ? at + m.index + m[0].length : text.length;
        blank(at, end);
        at = end;
      }
      i = at - 1;
    }
  }
  if (q) blank(start + 1, text.length);
  return out.join('');
}

/** segments splits a line at the separators that start a new simple command, outside single quotes. */
function segments(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q: string | undefined;
  // a command substitution inside double quotes (`"\`command -v java\`"`, `"$(id -u)"`) is a command
  // context again: the quote state outside it, restored when it closes
  const outer: { by: '$(' | '`'; q: string | undefined }[] = [];
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    // a parameter expansion (`${JAVA_HOME:-/usr}`) is part of a word, its braces no group
    if (c === '$' && line[i + 1] === '{' && q !== "'") {
      const end = line.indexOf('}', i + 2);
      const to = end < 0 ? line.length : end + 1;
      cur += line.slice(i, to);
      i = to - 1;
      continue;
    }
    if (q === "'") {
      cur += c;
      if (c === q) q = undefined;
      continue;
    }
    if (c === "'" && q === undefined) {
      q = c;
      cur += c;
      continue;
    }
    if (c === '"') {
      q = q === '"' ? undefined : '"';
      cur += c;
      continue;
    }
    const two = line.slice(i, i + 2);
    if (two === '$(' && line[i + 2] !== '(') {
      out.push(cur);
      cur = '';
      outer.push({ by: '$(', q });
      q = undefined;
      i++;
      continue;
    }
    if (c === ')' && q === undefined && outer.at(-1)?.by === '$(') {
      out.push(cur);
      cur = '';
      q = outer.pop()!.q;
      continue;
    }
    if (
      q === undefined &&
      (c === ';' || c === '|' || c === '&' || c === '(' || c === ')' || c === '{' || c === '}')
    ) {
      out.push(cur);
      cur = '';
      continue;
    }
    if (c === '`') {
      out.push(cur);
      cur = '';
      if (outer.at(-1)?.by === '`') q = outer.pop()!.q;
      else {
        outer.push({ by: '`', q });
        q = undefined;
      }
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out;
}

/** unquote removes the quotes of a word made of quoted and plain parts (`"$BIN"/x` → `$BIN/x`). */
function unquote(w: string): string {
  return w.replace(
    /'([^']*)'|"([^"]*)"/g,
    (_m, a: string | undefined, b: string | undefined) => a ?? b ?? '',
  );
}

/**
 * noteAssignments updates `vars` with what a line assigns: a literal value (`BIN=$ROOT/bin`, an
 * unknowable one forgets the variable), or a default where the variable is unset (`: ${AWK=awk}`,
 * then `$AWK -f …`: tzselect).
 */
function noteAssignments(line: string, vars: Map<string, string>): void {
  // the line's last command (also after `&&`, `;`, `then` …: `[ -f x ] || APACHE_ENVVARS=/etc/…`)
  const assign =
    /(?:^|&&|\|\||;|\bthen|\belse|\bdo)\s*(?:export\s+|readonly\s+|local\s+)?([A-Za-z_][A-Za-z0-9_]*)=(\S*)\s*$/.exec(
      line,
    );
  if (assign) {
    const v = expand(unquote(assign[2]!), vars);
    if (v === undefined) vars.delete(assign[1]!);
    else vars.set(assign[1]!, v);
  }
  for (const m of line.matchAll(DEFAULT_ASSIGN)) {
    const v = expand(unquote(m[2]!), vars);
    if (!vars.has(m[1]!) && v !== undefined && !v.includes('$')) vars.set(m[1]!, v);
  }
}

/** DEFAULT_ASSIGN is `${V=default}` or `${V:=default}`: the variable gets the default when unset. */
const DEFAULT_ASSIGN = /\$\{([A-Za-z_][A-Za-z0-9_]{0,64}):?=([^}]{0,256})\}/g;

/**
 * expand substitutes `$V`, `${V}` and `${V:-default}` / `${V-default}` (and the assigning `:=`, `=`)
 * with the literal values known (a default when V is unknown); a reference to an unknown variable
 * stays, `$(`, `$@` and others too.
 */
function expand(w: string, vars: ReadonlyMap<string, string>): string | undefined {
  if (w.includes('`') || w.includes('$(')) return undefined;
  return w
    .replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*):?[-=]([^}]*)\}/g,
      (m, n: string, d: string) => vars.get(n) ?? (d.includes('$') ? m : d),
    )
    .replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*|0)\}|\$([A-Za-z_][A-Za-z0-9_]*|0)/g,
      (m, a: string | undefined, b: string | undefined) => vars.get((a ?? b)!) ?? m,
    );
}

/**
 * commandWord is the program a command line given as one string starts with: a bare name to look up
 * on PATH or an absolute path, or undefined (a variable, an interpolation, `..`).
 */
export function commandWord(line: string): string | undefined {
  const w = line.trim().split(/\s+/)[0] ?? '';
  if (!/^[A-Za-z0-9_][A-Za-z0-9._+-]{0,64}$|^(\/[A-Za-z0-9._+@-]+)+$/.test(w)) return undefined;
  return w.split('/').some((c) => c === '.' || c === '..') ? undefined : w;
}

/**
 * ENV_PROGRAM_NAME is an environment variable that names a program by its suffix (`FFMPEG_BIN`,
 * `GIT_EXECUTABLE`, `PDFTOTEXT_CMD`) or by custom (EDITOR, VISUAL, PAGER).
 */
const ENV_PROGRAM_NAME =
  /(?:_BIN|_BINARY|_PATH|_CMD|_COMMAND|_EXE|_EXECUTABLE|_PROG|_PROGRAM)$|^(?:EDITOR|VISUAL|PAGER)$/i;

/** MAX_ENV_PROGRAMS bounds the programs one source's environment defaults name. */
const MAX_ENV_PROGRAMS = 16;

/**
 * envDefaultPrograms are the programs a source takes from the environment with a default, found by
 * `res` (group `n` or `m` the variable, group `v` the default): c_rehash's `my $openssl = $ENV{OPENSSL} ||
 * "openssl"`, `os.environ.get("FFMPEG_BIN", "ffmpeg")`. The variable must name a program: its name is
 * the program's (OPENSSL for openssl), ends in `_BIN`, `_CMD`, `_PATH`… (ENV_PROGRAM_NAME), or is
 * EDITOR, VISUAL or PAGER; `os.getenv("LOG_LEVEL", "info")` names none. The caller asks only of a
 * source that runs programs.
 */
export function envDefaultPrograms(text: string, res: readonly RegExp[]): string[] {
  const out = new Set<string>();
  const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  for (const m of res.flatMap((re) => [...text.matchAll(re)])) {
    const name = m.groups!.n ?? m.groups!.m ?? '';
    const word = commandWord(m.groups!.v!);
    if (word === undefined || m.groups!.v!.trim() !== word) continue;
    const base = word.slice(word.lastIndexOf('/') + 1);
    if (squash(name) !== squash(base) && !ENV_PROGRAM_NAME.test(name)) continue;
    out.add(word);
    if (out.size >= MAX_ENV_PROGRAMS) break;
  }
  return [...out];
}

/**
 * needsShell says whether a runtime runs a command string through `/bin/sh -c`: when it holds shell
 * metacharacters (perlfunc exec, Ruby's Kernel#spawn); else it splits and runs the words itself.
 */
export function needsShell(line: string): boolean {
  return /[$&*(){}[\]'";\\|?<>~`\n]/.test(line.trim());
}

/**
 * runsArguments says whether a shell script runs its arguments as a command: `exec "$@"` (the
 * docker-entrypoint.sh idiom: prepare, then become the image's CMD), `"$@"`, `exec ${@}`, also after
 * `then`, `do`, `&&` …, or through a user switch or an init (`exec gosu "$USER" "$@"`). An entrypoint
 * that does runs the image's CMD as its program.
 */
export function runsArguments(text: string): boolean {
  const lines = commandText(text.slice(0, MAX_SCRIPT_TEXT)).replace(/\\\n/g, ' ').split('\n');
  return lines.some(
    (l) =>
      /(?:^|[;&|]|\b(?:then|do|else|exec))\s*(?:exec\s+)?(?:"\$@"|\$@|"\$\{@\}"|\$\{@\})(?=\s|;|$)/.test(l) ||
      // through a user switch or an init: `exec gosu "$USER" "$@"`, `exec tini -- "$@"`
      /\bexec\s{1,16}(?:\S{0,128}\/)?(?:gosu|su-exec|setpriv|chpst|s6-setuidgid|tini|dumb-init|catatonit)\s[^;&|]{0,512}(?:"\$@"|\$@)\s{0,16}(?:;|$)/.test(
        l,
      ),
  );
}

/** MAX_SOURCED bounds the files a script sources that are read for the paths they name. */
export const MAX_SOURCED = 8;

/**
 * sourcedFiles lists the files a script sources by absolute path (`. /etc/apache2/envvars`, `source
 * "/x"`, `. $APACHE_ENVVARS` with the variable assigned a literal before, also after `&&`), in order,
 * unique.
 */
export function sourcedFiles(text: string): string[] {
  const vars = new Map<string, string>();
  const out: string[] = [];
  for (const line of commandText(text.slice(0, MAX_SCRIPT_TEXT)).split('\n')) {
    noteAssignments(line, vars);
    const m = /^\s*(?:\.|source)\s+(\S+)\s*(?:$|[;&|#])/.exec(line);
    const p = m ? expand(unquote(m[1]!), vars) : undefined;
    if (p === undefined || !/^(\/[A-Za-z0-9._+@-]+)+$/.test(p)) continue;
    if (!p.split('/').some((c) => c === '.' || c === '..') && !out.includes(p)) out.push(p);
  }
  return out;
}

/**
 * scriptPaths lists the absolute paths a script's uncommented lines name, in order, unique: a
 * variable's default value counts (`${APACHE_LOCK_DIR:-/var/lock/apache2}`), a variable assigned a
 * literal before is expanded (`: ${TZDIR=/usr/share/zoneinfo}` then `$TZDIR/iso3166.tab`), and a
 * path followed by an unknown variable (`/var/lock/apache2$SUFFIX`) counts up to the variable.
 */
export function scriptPaths(text: string): string[] {
  const vars = new Map<string, string>();
  return linePaths(
    text.slice(0, MAX_SCRIPT_TEXT),
    /(?:^|[\s"'=:])(\/[A-Za-z0-9._+@/-]*[A-Za-z0-9_+@-])(?=$|[\s"';,:)|&])/g,
    (code) => {
      // a path through a variable assigned a literal before: tzselect's `$TZDIR/iso3166.tab`
      noteAssignments(code, vars);
      return (
        code
          .replace(
            /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
            (m, a: string | undefined, b: string | undefined) => vars.get((a ?? b)!) ?? m,
          )
          // a default value is a path the script may use: ${APACHE_LOCK_DIR:-/var/lock/apache2}
          .replace(/\$\{[A-Za-z_][A-Za-z0-9_]*:?[-=]([^}$]*)\}/g, ' $1 ')
          // an unknown one ends a path before it, and no path starts after it (`$HOME/x` is not `/x`)
          .replace(/\$(\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*|.)/g, '|')
      );
    },
  );
}
