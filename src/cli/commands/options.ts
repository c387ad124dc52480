/**
 * options.ts — small argv parsers shared by commands (repeatable flags, K=V pairs, word lists).
 */
import {
  FromscratchError,
  type InferOptions,
  inferOptionsWithout,
  parseInferNames,
  splitShellWords,
} from '../../index.ts';

/** collect appends a repeated flag's value to a list (commander's option reducer). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** parseKeyValue splits `K=V` (a value may contain '='), throwing USAGE naming the flag. */
export function parseKeyValue(flag: string, kv: string): [string, string] {
  const i = kv.indexOf('=');
  if (i <= 0) {
    throw new FromscratchError('USAGE', `${flag} ${JSON.stringify(kv)} is not KEY=VALUE`, {
      hint: `write ${flag} KEY=VALUE`,
    });
  }
  return [kv.slice(0, i), kv.slice(i + 1)];
}

/**
 * parseCommandList reads --entrypoint/--cmd: a JSON array of strings (exec form), or a plain string
 * split into words like a POSIX shell would (quotes honoured, no expansion). `""` or `[]` clears it.
 */
export function parseCommandList(flag: string, s: string): string[] {
  const t = s.trim();
  if (t.startsWith('[')) {
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch (e) {
      throw new FromscratchError('USAGE', `${flag} ${JSON.stringify(s)} is not a valid JSON array`, {
        hint: `write ${flag} '["/app","--flag"]' or a plain command line`,
        cause: e,
      });
    }
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
      throw new FromscratchError('USAGE', `${flag} ${JSON.stringify(s)} must be a JSON array of strings`, {
        hint: `write ${flag} '["/app","--flag"]'`,
      });
    }
    return v;
  }
  return splitShellWords(t);
}

/** parseSeconds reads a positive number of seconds for `flag`, throwing USAGE otherwise. */
export function parseSeconds(flag: string, s: string): number {
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0) {
    throw new FromscratchError('USAGE', `${flag} ${JSON.stringify(s)} is not a positive number of seconds`, {
      hint: `write ${flag} 300`,
    });
  }
  return n;
}

/**
 * collectNoInfer reads `--no-infer[=NAME[,NAME…]]` (repeatable): each value is checked at once (an
 * unknown name is a USAGE error listing the valid ones) and appended.
 */
export function collectNoInfer(value: string, previous: boolean | string[] = []): string[] {
  parseInferNames([value], `--no-infer=${value}`);
  return [...(Array.isArray(previous) ? previous : []), value];
}

/** BARE_NO_INFER is what `--no-infer` without names turns off (as before names existed). */
const BARE_NO_INFER = ['nss', 'gconv', 'libgcc', 'ca-certificates', 'dlopen-notes'];

/** noInferOptions turns the parsed `--no-infer` flag into the closure's switches (undefined: all on). */
export function noInferOptions(flag: boolean | string[] | undefined): InferOptions | undefined {
  if (flag === undefined || flag === true) return undefined;
  return inferOptionsWithout(parseInferNames(flag === false ? BARE_NO_INFER : flag, '--no-infer'));
}
