/**
 * shebang.ts — the `#!` line of a script, as the Linux kernel reads it (fs/binfmt_script.c). PURE.
 */
import { FromscratchError } from '../errors.ts';

/** SHEBANG_BYTES is how much of a file the kernel looks at (BINPRM_BUF_SIZE since Linux 5.1). */
export const SHEBANG_BYTES = 256;

/** Shebang is a parsed `#!` line. */
export interface Shebang {
  /** the interpreter path, as written */
  readonly interpreter: string;
  /** the single optional argument (the rest of the line, trimmed), as the kernel passes it */
  readonly arg?: string;
  /** the whole line after `#!`, trimmed, for messages */
  readonly line: string;
  /**
   * true when the line ends with a carriage return (a script with DOS line endings): the kernel strips
   * only blanks, so it runs `/bin/sh\r` (or passes `bash\r` to env), and the script does not start.
   * The other fields are read without it: what the script means to run.
   */
  readonly crlf?: true;
}

/** isShebang tells whether bytes start with `#!`. */
export function isShebang(head: Uint8Array): boolean {
  return head[0] === 0x23 && head[1] === 0x21;
}

/**
 * parseShebang parses the first line of a script from at most {@link SHEBANG_BYTES} bytes. The
 * interpreter ends at the first blank; the rest of the line is one argument. Throws NOT_EXECUTABLE
 * when the bytes do not start with `#!`, the interpreter is empty, or it does not fit in the first
 * 256 bytes (the kernel refuses a truncated interpreter path with ENOEXEC).
 */
export function parseShebang(head: Uint8Array, name: string): Shebang {
  if (!isShebang(head)) throw new FromscratchError('NOT_EXECUTABLE', `${name} does not start with #!`);
  const buf = head.subarray(0, SHEBANG_BYTES);
  const nl = buf.indexOf(0x0a);
  const text = Buffer.from(buf.subarray(2, nl < 0 ? buf.length : nl)).toString('latin1');
  const line = text.replace(/[ \t\r]+$/, '').replace(/^[ \t]+/, '');
  const m = /^([^ \t]+)(?:[ \t]+(.*))?$/.exec(line);
  if (!m?.[1] || m[1].includes('\0')) {
    throw new FromscratchError('NOT_EXECUTABLE', `${name} has an empty or invalid #! line`, {
      hint: 'the first line of a script must be #!/path/to/interpreter',
    });
  }
  if (nl < 0 && buf.length >= SHEBANG_BYTES && m[2] === undefined) {
    throw new FromscratchError(
      'NOT_EXECUTABLE',
      `${name}: #! interpreter path does not fit in the first ${SHEBANG_BYTES} bytes`,
      {
        hint: 'the kernel reads only the first 256 bytes of a script; shorten the interpreter path',
      },
    );
  }
  const arg = m[2]?.trim();
  const crlf = nl > 0 && buf[nl - 1] === 0x0d ? ({ crlf: true } as const) : {};
  return arg ? { interpreter: m[1], arg, line, ...crlf } : { interpreter: m[1], line, ...crlf };
}

/**
 * envCommand returns the program `/usr/bin/env ARG` runs: the first word of ARG that is not an option
 * or a NAME=VALUE assignment (`env -S python3 -u` → python3). Undefined when there is none.
 */
export function envCommand(arg: string | undefined): string | undefined {
  if (!arg) return undefined;
  const words = arg.split(/[ \t]+/).filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (
      w === '-S' ||
      w === '--split-string' ||
      w === '-i' ||
      w === '--ignore-environment' ||
      w === '-' ||
      w === '-0'
    )
      continue;
    if (w.startsWith('-S')) {
      // -Spython3 -u: the command is glued to the option
      const rest = w.slice(2);
      if (rest && !rest.startsWith('-') && !rest.includes('=')) return rest;
      continue;
    }
    if (w === '-u' || w === '--unset' || w === '-C' || w === '--chdir') {
      i++;
      continue;
    }
    if (w.startsWith('-')) continue;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) continue;
    return w;
  }
  return undefined;
}
