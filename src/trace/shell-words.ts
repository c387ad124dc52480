/**
 * shell-words.ts — split a command string into words as a POSIX shell would (quotes and backslashes
 * honoured; no expansion, no operators). PURE.
 *
 * A minimal splitter kept here until src/spec/shell-words.ts exists; the lead may swap it for that one.
 * https://pubs.opengroup.org/onlinepubs/9699919799/utilities/V3_chap02.html#tag_18_02
 */
import { FromscratchError } from '../errors.ts';

/**
 * splitCommandWords splits `cmd` into words: blanks separate words, '…' is literal, "…" honours
 * backslash before $ ` " \ and newline, a bare backslash quotes the next character. Shell operators
 * (`|`, `;`, `&`, `<`, `>`, `$(`, backquotes) are refused with INVALID_ARGUMENT, because the command is run
 * without a shell: write `sh -c '…'` to trace a pipeline.
 */
export function splitCommandWords(cmd: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  const bad = (what: string): never => {
    throw new FromscratchError('INVALID_ARGUMENT', `command ${JSON.stringify(cmd)}: ${what}`, {
      hint: "the command runs without a shell; wrap it as sh -c '…' to use shell syntax",
    });
  };
  while (i < cmd.length) {
    const c = cmd[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = cmd.indexOf("'", i + 1);
      if (end < 0) bad('unterminated single quote');
      cur += cmd.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (c === '"') {
      i++;
      for (;;) {
        if (i >= cmd.length) bad('unterminated double quote');
        const d = cmd[i]!;
        if (d === '"') break;
        if (d === '\\' && i + 1 < cmd.length && '$`"\\\n'.includes(cmd[i + 1]!)) {
          if (cmd[i + 1] !== '\n') cur += cmd[i + 1];
          i += 2;
          continue;
        }
        if (d === '$' || d === '`')
          bad(`expansion ${JSON.stringify(d)} inside double quotes is not supported`);
        cur += d;
        i++;
      }
      i++;
      continue;
    }
    if (c === '\\') {
      if (i + 1 >= cmd.length) bad('trailing backslash');
      if (cmd[i + 1] !== '\n') cur += cmd[i + 1];
      else if (cur === '') inWord = false;
      i += 2;
      continue;
    }
    if ('|&;<>()`'.includes(c)) bad(`shell operator ${JSON.stringify(c)} is not supported`);
    if (c === '$') bad('variable expansion is not supported');
    cur += c;
    i++;
  }
  if (inWord) words.push(cur);
  return words;
}
