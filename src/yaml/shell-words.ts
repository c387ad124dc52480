/**
 * shell-words.ts — split a command line into words with POSIX shell quoting, without any expansion. PURE.
 *
 * Used for `entrypoint:`/`cmd:` strings in a YAML spec, `--entrypoint`/`--cmd` and `--trace 'CMD'`.
 * Rules (POSIX.1-2017 XCU 2.2): unquoted blanks separate words; `'…'` keeps everything literally;
 * inside `"…"` a backslash escapes only `$`, `` ` ``, `"`, `\` and newline; outside quotes a backslash
 * escapes any character and backslash-newline disappears. No `$VAR`, `~`, globs or `#` comments: what
 * is written is what the program receives.
 */
import { FromscratchError } from '../errors.ts';

/** MAX_SHELL_WORDS_INPUT bounds the text splitShellWords accepts. */
export const MAX_SHELL_WORDS_INPUT = 1024 * 1024;

/** SplitShellWordsOptions tunes splitShellWords. */
export interface SplitShellWordsOptions {
  /**
   * 'literal' (default): `|`, `;`, `$`… are ordinary characters. 'refuse': an unquoted shell operator
   * (`|&;<>()` and backquote), an unquoted `$`, or `$`/backquote inside double quotes is INVALID_ARGUMENT,
   * for a command that is run without a shell (`--trace 'CMD'`), where they would silently mean nothing.
   */
  operators?: 'literal' | 'refuse';
}

/**
 * splitShellWords splits `s` into words. `""` and `''` give empty words. Throws INVALID_ARGUMENT on an
 * unterminated quote, a trailing lone backslash, or (with `operators: 'refuse'`) shell syntax.
 *
 * @example
 * splitShellWords(`ruby -e 'puts "hi there"' a\\ b`) // ['ruby', '-e', 'puts "hi there"', 'a b']
 */
export function splitShellWords(s: string, opts: SplitShellWordsOptions = {}): string[] {
  const refuse = opts.operators === 'refuse';
  const bad = (what: string): FromscratchError =>
    new FromscratchError('INVALID_ARGUMENT', `command ${preview(s)}: ${what}`, {
      hint: "the command runs without a shell; wrap it as sh -c '…' to use shell syntax",
    });
  if (s.length > MAX_SHELL_WORDS_INPUT) {
    throw new FromscratchError(
      'INVALID_ARGUMENT',
      `command line is over ${MAX_SHELL_WORDS_INPUT} characters`,
    );
  }
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const ch = s[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i += 1;
      continue;
    }
    if (ch === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw unterminated(s, 'single quote', i);
      cur += s.slice(i + 1, end);
      inWord = true;
      i = end + 1;
      continue;
    }
    if (ch === '"') {
      i += 1;
      inWord = true;
      for (;;) {
        if (i >= n) throw unterminated(s, 'double quote', s.lastIndexOf('"'));
        const c = s[i]!;
        if (c === '"') {
          i += 1;
          break;
        }
        if (c === '\\' && i + 1 < n && '$`"\\\n'.includes(s[i + 1]!)) {
          if (s[i + 1] !== '\n') cur += s[i + 1];
          i += 2;
          continue;
        }
        if (refuse && (c === '$' || c === '`')) {
          throw bad(`expansion ${JSON.stringify(c)} inside double quotes is not supported`);
        }
        cur += c;
        i += 1;
      }
      continue;
    }
    if (ch === '\\') {
      if (i + 1 >= n) {
        throw new FromscratchError('INVALID_ARGUMENT', `command ${preview(s)} ends with a lone backslash`, {
          hint: 'write \\\\ for a literal backslash',
        });
      }
      if (s[i + 1] !== '\n') {
        cur += s[i + 1];
        inWord = true;
      }
      i += 2;
      continue;
    }
    if (refuse && '|&;<>()`'.includes(ch)) throw bad(`shell operator ${JSON.stringify(ch)} is not supported`);
    if (refuse && ch === '$') throw bad('variable expansion is not supported');
    cur += ch;
    inWord = true;
    i += 1;
  }
  if (inWord) words.push(cur);
  return words;
}

function preview(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);
}

function unterminated(s: string, what: string, at: number): FromscratchError {
  return new FromscratchError(
    'INVALID_ARGUMENT',
    `command ${preview(s)} has an unterminated ${what} (opened at character ${at + 1})`,
    {
      hint: `close the ${what}, or give the command as a JSON array`,
    },
  );
}
