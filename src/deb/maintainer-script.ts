/**
 * maintainer-script.ts — the commands a Debian maintainer script (postinst, config) would run, read as
 * TEXT and never executed. PURE.
 *
 * A small POSIX-sh-aware scanner, enough for the scripts Debian packages ship (debhelper snippets,
 * hand-written postinsts): comments, `\` continuations, single and double quotes, `$(…)` and backquote
 * substitutions kept inside their word, here-documents skipped, `;` `&&` `||` `|` `&` `;;` separating
 * commands, redirections taken off the words (and recorded), compound-command keywords (`if`, `then`,
 * `while`, `do`, `!`, `{`, `case … in`, `pattern)`) taken off the front. Control flow is NOT followed: every
 * command in the text is reported once, as if every branch ran (what a fresh `configure` mostly does).
 *
 * Words are expanded with the script's own simple assignments (`VAR=value`, `VAR="a $B"`, and
 * `VAR=$(…)` when `substitute` knows the command); `for VAR in WORDS; do … done` is unrolled. A word that
 * still depends on something unknown (`$1`, an unknown variable, a substitution) carries UNKNOWN, so a
 * rule can refuse to guess. Shell functions the script defines are reported in `functions`; calls to them
 * are left out (their bodies are scanned where they are written).
 */

/** UNKNOWN marks the part of a word whose value is not known statically. */
export const UNKNOWN = '\u0000';

/** ScriptCommand is one simple command of a script. */
export interface ScriptCommand {
  /** the words after expansion and quote removal; a word holding UNKNOWN is not known statically */
  readonly words: readonly string[];
  /** output redirections to files other than /dev/null (`> FILE`, `>> FILE`), expanded */
  readonly writes: readonly string[];
  /** 1-based line of the script the command starts on (of `source` when it comes from a sourced file) */
  readonly line: number;
  /** the file the command comes from when the script sourced it (`. /usr/share/dpkg/sh/dpkg-error.sh`) */
  readonly source?: string;
}

/** ScanOptions configures scanScript. */
export interface ScanOptions {
  /** the output of a `$(…)` substitution assigned to a variable, when the caller can tell it (words given) */
  substitute?: (words: readonly string[]) => string | undefined;
  /**
   * the text of a file the script sources (`. FILE`, `source FILE`), by absolute path, when the image
   * holds it: its commands and functions are read as part of the script, as the shell would run them.
   * A file it cannot give (undefined) leaves the `.` command as it is, and calls of the functions it
   * would have defined stay commands (so they are reported, never silently dropped).
   */
  source?: (path: string) => string | undefined;
  /**
   * functions whose calls stay commands, body or not (the caller emulates them as a whole:
   * php-common's `php_invoke`, whose body would only show how it does what a rule does directly)
   */
  opaque?: (name: string) => boolean;
}

/**
 * MAX_NESTING bounds nested `. FILE` and nested function calls (a library sourcing itself, a recursive
 * function): a deeper `.` is left as a command, a deeper call is not followed.
 */
const MAX_NESTING = 4;

/** ScannedScript is what scanScript found. */
export interface ScannedScript {
  readonly commands: readonly ScriptCommand[];
  /** names of the shell functions the script defines */
  readonly functions: ReadonlySet<string>;
}

/** A raw token: a word as written (quotes kept) or an operator. */
interface Tok {
  readonly t: 'word' | 'op' | 'nl';
  readonly s: string;
  readonly line: number;
}

const KEYWORDS = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'do',
  'done',
  'while',
  'until',
  '!',
  '{',
  '}',
  'esac',
  '(',
  ')',
]);

/** tokenize splits a script into words, operators and newlines; here-document bodies are dropped. */
function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  const src = text.replace(/\r\n/g, '\n');
  let i = 0;
  let line = 1;
  const heredocs: { delim: string }[] = [];
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === '\\' && src[i + 1] === '\n') {
      i += 2;
      line++;
      continue;
    }
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (c === '\n') {
      out.push({ t: 'nl', s: '\n', line });
      i++;
      line++;
      // skip pending here-document bodies
      while (heredocs.length > 0) {
        const { delim } = heredocs.shift()!;
        while (i < n) {
          const end = src.indexOf('\n', i);
          const l = src.slice(i, end < 0 ? n : end);
          i = end < 0 ? n : end + 1;
          line++;
          if (l.replace(/^\t+/, '') === delim) break;
        }
      }
      continue;
    }
    // operators
    const op = /^(;;|&&|\|\||;|&|\||\(|\))/.exec(src.slice(i, i + 2));
    if (op) {
      out.push({ t: 'op', s: op[1]!, line });
      i += op[1]!.length;
      continue;
    }
    // a word: up to an unquoted blank or operator
    const start = i;
    const startLine = line;
    let depth = 0;
    while (i < n) {
      const d = src[i]!;
      if (d === '\\') {
        if (src[i + 1] === '\n') line++;
        i += 2;
        continue;
      }
      if (d === "'" && depth === 0) {
        const e = src.indexOf("'", i + 1);
        const stop = e < 0 ? n : e + 1;
        line += countNl(src, i, stop);
        i = stop;
        continue;
      }
      if (d === '"') {
        let j = i + 1;
        while (j < n && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
        line += countNl(src, i, j + 1);
        i = j + 1;
        continue;
      }
      if (d === '`') {
        const e = src.indexOf('`', i + 1);
        const stop = e < 0 ? n : e + 1;
        line += countNl(src, i, stop);
        i = stop;
        continue;
      }
      if (d === '$' && src[i + 1] === '(') {
        depth++;
        i += 2;
        continue;
      }
      if (d === '$' && src[i + 1] === '{') {
        const e = src.indexOf('}', i + 2);
        i = e < 0 ? n : e + 1;
        continue;
      }
      if (depth > 0) {
        if (d === '(') depth++;
        else if (d === ')') depth--;
        if (d === '\n') line++;
        i++;
        continue;
      }
      if (d === '&' && /^[0-9]*[<>]$/.test(src.slice(start, i))) {
        i++; // `>&2`, `2>&1`: a redirection, not `&`
        continue;
      }
      if (
        d === ' ' ||
        d === '\t' ||
        d === '\n' ||
        d === ';' ||
        d === '&' ||
        d === '|' ||
        d === '(' ||
        d === ')'
      )
        break;
      i++;
    }
    let word = src.slice(start, i);
    // `name()` written without a blank
    if (src[i] === '(' && src[i + 1] === ')' && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(word)) {
      word += '()';
      i += 2;
    }
    if (word === '') {
      i++;
      continue;
    }
    // here-documents: << DELIM, <<- DELIM, <<'DELIM', <<"DELIM"
    const hd = /^(?:[0-9]*)<<-?(.*)$/.exec(word);
    if (hd) {
      let delim = hd[1]!;
      if (delim === '') {
        // the delimiter is the next word
        while (src[i] === ' ' || src[i] === '\t') i++;
        const m = /^[^\s;&|()]+/.exec(src.slice(i));
        delim = m?.[0] ?? '';
        i += delim.length;
      }
      heredocs.push({ delim: delim.replace(/^['"]|['"]$/g, '').replace(/\\/g, '') });
      continue;
    }
    out.push({ t: 'word', s: word, line: startLine });
  }
  return out;
}

function countNl(s: string, from: number, to: number): number {
  let k = 0;
  for (let j = from; j < to && j < s.length; j++) if (s[j] === '\n') k++;
  return k;
}

/** A command before expansion: raw words and the line. */
interface RawCommand {
  readonly words: string[];
  readonly line: number;
}

/**
 * split groups tokens into simple commands. Inside `case … in … esac` the patterns (`a|b)`) are dropped;
 * `name()` / `name ()` become one word.
 */
function split(toks: readonly Tok[]): RawCommand[] {
  const out: RawCommand[] = [];
  let cur: string[] = [];
  let line = 1;
  let caseDepth = 0;
  let expectPattern = false;
  const flush = () => {
    if (cur.length > 0) out.push({ words: cur, line });
    cur = [];
  };
  for (const t of toks) {
    if (t.t === 'word') {
      if (cur.length === 0) line = t.line;
      if (expectPattern && cur.length === 0 && t.s === 'esac') {
        caseDepth--;
        expectPattern = caseDepth > 0;
        cur.push(t.s);
        continue;
      }
      cur.push(t.s);
      if (cur[0] === 'case' && t.s === 'in' && cur.length >= 3) {
        caseDepth++;
        expectPattern = true;
        cur = [];
      }
      continue;
    }
    if (t.t === 'nl' && expectPattern && cur.length === 0) continue;
    if (expectPattern && t.s === '|') continue; // a|b) pattern
    if (expectPattern && t.s === '(' && cur.length === 0) continue; // (pattern)
    if (expectPattern && t.s === ')') {
      cur = [];
      expectPattern = false;
      continue;
    }
    if (t.s === '(' && cur.length === 1 && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(cur[0]!)) {
      cur[0] += '(';
      continue;
    }
    if (t.s === ')' && cur.length === 1 && cur[0]!.endsWith('(')) {
      cur[0] += ')';
      flush();
      continue;
    }
    flush();
    // a subshell's parentheses stay as one-word commands: a function body `f() ( … )` ends at its `)`
    if (t.s === '(' || t.s === ')') out.push({ words: [t.s], line: t.line });
    if (t.s === ';;' && caseDepth > 0) expectPattern = true;
  }
  flush();
  return out;
}

/** unquote removes quotes and expands `$VAR`/`${VAR}` with `lookup`; unknown parts become UNKNOWN. */
function expandWord(word: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let i = 0;
  const n = word.length;
  const dollar = (): void => {
    // at word[i] === '$'
    const rest = word.slice(i);
    let m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(rest) ?? /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(rest);
    if (m) {
      out += lookup(m[1]!) ?? UNKNOWN;
      i += m[0].length;
      return;
    }
    m = /^\$\{[^}]*\}/.exec(rest) ?? /^\$[0-9@*#?$!-]/.exec(rest);
    if (m) {
      out += UNKNOWN;
      i += m[0].length;
      return;
    }
    if (rest.startsWith('$(')) {
      let depth = 0;
      let j = i + 1;
      for (; j < n; j++) {
        if (word[j] === '(') depth++;
        else if (word[j] === ')' && --depth === 0) break;
      }
      out += UNKNOWN;
      i = j + 1;
      return;
    }
    out += '$';
    i++;
  };
  while (i < n) {
    const c = word[i]!;
    if (c === '\\') {
      out += word[i + 1] ?? '';
      i += 2;
    } else if (c === "'") {
      const e = word.indexOf("'", i + 1);
      out += word.slice(i + 1, e < 0 ? n : e);
      i = e < 0 ? n : e + 1;
    } else if (c === '"') {
      i++;
      while (i < n && word[i] !== '"') {
        if (word[i] === '\\' && /[$`"\\]/.test(word[i + 1] ?? '')) {
          out += word[i + 1];
          i += 2;
        } else if (word[i] === '$') dollar();
        else if (word[i] === '`') {
          const e = word.indexOf('`', i + 1);
          out += UNKNOWN;
          i = e < 0 ? n : e + 1;
        } else out += word[i++];
      }
      i++;
    } else if (c === '$') dollar();
    else if (c === '`') {
      const e = word.indexOf('`', i + 1);
      out += UNKNOWN;
      i = e < 0 ? n : e + 1;
    } else out += word[i++];
  }
  return out;
}

const ASSIGN = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;
const REDIRECT = /^([0-9]*)(>>|>\||>&|<&|>|<)(.*)$/;

/**
 * scanScript returns the simple commands of a shell script with their words expanded as far as the
 * script itself tells.
 *
 * @example scanScript('for m in a b; do phpenmod $m; done').commands.map((c) => c.words)
 *          // [['phpenmod', 'a'], ['phpenmod', 'b']]
 */
export function scanScript(text: string, opts: ScanOptions = {}): ScannedScript {
  const raw = split(tokenize(text));
  const vars = new Map<string, string>();
  const functions = new Set<string>();
  const commands: ScriptCommand[] = [];
  const sourcing: string[] = [];
  /** function bodies by name, with the file that defined them (undefined: the script) */
  const bodies = new Map<string, { body: RawCommand[]; source: string | undefined }>();
  const calling: string[] = [];
  const run = (list: readonly RawCommand[], local: ReadonlyMap<string, string>) => {
    const lookup = (k: string) => local.get(k) ?? vars.get(k);
    for (let ci = 0; ci < list.length; ci++) {
      let words = [...list[ci]!.words];
      const line = list[ci]!.line;
      while (words.length > 0 && KEYWORDS.has(words[0]!)) words.shift();
      if (words.length === 0 || words[0] === '(' || words[0] === ')') continue;
      if (words[0] === 'case') continue; // `case WORD in`: the patterns are dropped by split
      if (words[0] === 'for' && words[2] === 'in') {
        const v = words[1]!;
        const items = words.slice(3).flatMap((w) => {
          const e = expandWord(w, lookup);
          // an unquoted expansion splits on blanks
          return /^["']/.test(w) ? [e] : e.split(/\s+/).filter(Boolean);
        });
        // the body: up to the matching `done`
        const body: RawCommand[] = [];
        let depth = 1;
        let j = ci + 1;
        for (; j < list.length; j++) {
          const ws = list[j]!.words;
          if (ws[0] === 'for' || ws[0] === 'while' || ws[0] === 'until') depth++;
          if (ws[0] === 'done' && --depth === 0) break;
          body.push(list[j]!);
        }
        for (const item of items) run(body, new Map([...local, [v, item]]));
        ci = j;
        continue;
      }
      const fn = /^([A-Za-z_][A-Za-z0-9_-]*)\(\)$/.exec(words[0]!);
      const named = fn
        ? fn[1]!
        : words[0] === 'function' && words[1]
          ? words[1].replace(/\(\)$/, '')
          : undefined;
      if (named !== undefined) {
        functions.add(named);
        // the body `{ … }`: run where the function is called, not where it is defined
        let rest = words.slice(fn ? 1 : 2);
        if (rest[0] === '()') rest = rest.slice(1);
        let j = ci;
        const next = list[ci + 1]?.words[0];
        if (rest.length === 0 && (next === '{' || next === '(')) {
          j = ci + 1;
          rest = list[j]!.words;
        }
        const [open, close] = rest[0] === '{' ? ['{', '}'] : rest[0] === '(' ? ['(', ')'] : [];
        if (open === undefined) continue; // no body we can delimit: its commands are read in place
        const body: RawCommand[] = [];
        if (rest.length > 1) body.push({ words: rest.slice(1), line: list[j]!.line });
        let depth = 1;
        for (j++; j < list.length; j++) {
          const ws = list[j]!.words;
          if (ws[0] === open) depth++;
          if (ws[0] === close && --depth === 0) break;
          body.push(list[j]!);
        }
        bodies.set(named, { body, source: sourcing.at(-1) });
        ci = j;
        continue;
      }
      // leading assignments: alone they set variables; before a command they apply to it only
      let k = 0;
      const assigned: [string, string][] = [];
      while (k < words.length && ASSIGN.test(words[k]!)) {
        const m = ASSIGN.exec(words[k]!)!;
        const val = m[2]!;
        const sub = /^"?\$\((.*)\)"?$/s.exec(val);
        let v: string;
        if (sub && opts.substitute) {
          const inner = sub[1]!
            .trim()
            .split(/\s+/)
            .map((w) => expandWord(w, lookup));
          v = inner.some((w) => w.includes(UNKNOWN)) ? UNKNOWN : (opts.substitute(inner) ?? UNKNOWN);
        } else v = expandWord(val, lookup);
        assigned.push([m[1]!, v]);
        k++;
      }
      if (k === words.length) {
        for (const [a, v] of assigned) vars.set(a, v);
        continue;
      }
      words = words.slice(k);
      if (words[0] === 'export' || words[0] === 'local' || words[0] === 'readonly') {
        for (const w of words.slice(1)) {
          const m = ASSIGN.exec(w);
          if (m) vars.set(m[1]!, expandWord(m[2]!, lookup));
        }
        continue;
      }
      const out: string[] = [];
      const writes: string[] = [];
      for (let w = 0; w < words.length; w++) {
        const r = REDIRECT.exec(words[w]!);
        if (r && !/^['"]/.test(words[w]!)) {
          let target = r[3]!;
          if (target === '' && w + 1 < words.length) target = words[++w]!;
          const t = expandWord(target, lookup);
          if ((r[2] === '>' || r[2] === '>>' || r[2] === '>|') && t !== '/dev/null' && !/^&?[0-9-]$/.test(t))
            writes.push(t);
          continue;
        }
        out.push(expandWord(words[w]!, lookup));
      }
      if (out.length === 0) continue;
      if ((out[0] === '.' || out[0] === 'source') && out.length >= 2 && opts.source) {
        const path = out[1]!;
        const text =
          path.startsWith('/') &&
          !path.includes(UNKNOWN) &&
          sourcing.length < MAX_NESTING &&
          !sourcing.includes(path)
            ? opts.source(path)
            : undefined;
        if (text !== undefined) {
          sourcing.push(path);
          try {
            run(split(tokenize(text)), local);
          } finally {
            sourcing.pop();
          }
          continue;
        }
      }
      const called = opts.opaque?.(out[0]!) ? undefined : bodies.get(out[0]!);
      if (called) {
        // a call: the body runs here, with the arguments unknown ($1 …), once per call chain
        if (!calling.includes(out[0]!) && calling.length < MAX_NESTING) {
          calling.push(out[0]!);
          if (called.source !== undefined) sourcing.push(called.source);
          try {
            run(called.body, local);
          } finally {
            calling.pop();
            if (called.source !== undefined) sourcing.pop();
          }
        }
        continue;
      }
      const from = sourcing.at(-1);
      commands.push({ words: out, writes, line, ...(from !== undefined ? { source: from } : {}) });
    }
  };
  run(raw, new Map());
  return {
    commands: commands.filter((c) => !functions.has(c.words[0]!) || opts.opaque?.(c.words[0]!)),
    functions,
  };
}
