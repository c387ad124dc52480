/**
 * wrappers.ts — the program a command runs through a wrapper: an init (tini, dumb-init, catatonit), a
 * user switch (su-exec, gosu) or a runner (env, timeout, nice, nohup, setsid, stdbuf, xargs). The
 * wrapper execs the program named in its arguments: for an entrypoint, a program the image
 * lacks fails only once the container has started ("tini: exec /app failed: No such file or
 * directory"); a shell script's `xargs gzip` needs gzip as its `gzip` would. PURE.
 */
import { baseName } from '../fs/path.ts';

/** a wrapper's grammar: options without a value, options taking one, and the words before the program */
interface Wrapper {
  /** options that take the next word as their value (short and long forms) */
  readonly withValue: readonly string[];
  /** positional words before the program (timeout's DURATION, su-exec's USER) */
  readonly before: number;
  /** words of the form NAME=VALUE are settings, not the program (env) */
  readonly assignments?: boolean;
}

const WRAPPERS: Readonly<Record<string, Wrapper>> = {
  tini: { withValue: ['-p', '-e'], before: 0 },
  'tini-static': { withValue: ['-p', '-e'], before: 0 },
  'dumb-init': { withValue: ['-r', '--rewrite'], before: 0 },
  catatonit: { withValue: [], before: 0 },
  'su-exec': { withValue: [], before: 1 },
  gosu: { withValue: [], before: 1 },
  env: {
    withValue: ['-u', '--unset', '-C', '--chdir', '-S', '--split-string'],
    before: 0,
    assignments: true,
  },
  timeout: { withValue: ['-s', '--signal', '-k', '--kill-after'], before: 1 },
  nice: { withValue: ['-n', '--adjustment'], before: 0 },
  nohup: { withValue: [], before: 0 },
  setsid: { withValue: [], before: 0 },
  stdbuf: { withValue: ['-i', '-o', '-e', '--input', '--output', '--error'], before: 0 },
  xargs: {
    withValue: [
      '-a',
      '-d',
      '-E',
      '-I',
      '-L',
      '-n',
      '-P',
      '-s',
      '--arg-file',
      '--delimiter',
      '--max-args',
      '--max-procs',
    ],
    before: 0,
  },
};

/**
 * wrappedCommand returns the program a command's wrapper runs (argv[0] a known wrapper by its base
 * name), undefined when argv[0] is no wrapper or names no program (`env` alone prints the environment,
 * `tini --version`).
 */
export function wrappedCommand(argv: readonly string[]): { wrapper: string; program: string } | undefined {
  const name = argv[0] === undefined ? undefined : baseName(argv[0]);
  const w = name === undefined ? undefined : Object.hasOwn(WRAPPERS, name) ? WRAPPERS[name] : undefined;
  if (!w || name === undefined) return undefined;
  let i = 1;
  let options = true;
  let before = w.before;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (options && a === '--') {
      options = false;
      continue;
    }
    if (options && a.startsWith('-') && a !== '-') {
      // `-p SIG` / `--signal SIG`, but not `--signal=SIG` nor `-pSIG`
      if (w.withValue.includes(a)) i++;
      // informational options: the wrapper runs nothing
      if (a === '-h' || a === '--help' || a === '--version' || (a === '-V' && name === 'dumb-init'))
        return undefined;
      continue;
    }
    if (w.assignments && /^[A-Za-z_][A-Za-z0-9_]*=/.test(a)) continue;
    if (before > 0) {
      before--;
      continue;
    }
    return { wrapper: name, program: a };
  }
  return undefined;
}
