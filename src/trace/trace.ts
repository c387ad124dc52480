/**
 * trace.ts — run a command on the host under `strace -f` and report every file it successfully used.
 * IO, Linux only.
 *
 * The command is split into words as a POSIX shell would and executed directly; a command that uses shell
 * syntax (`&&`, `|`, `$VAR` …) runs as `/bin/sh -c CMD`, docker's shell form.
 * Kept: successful execs, opens, stats, accesses and readlinks. Dropped: failed look-ups, /proc, /sys,
 * /dev, and whatever the run itself created, renamed or deleted (its temporary files included).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { FromscratchError, isFromscratchError } from '../errors.ts';
import { encodePath } from '../fs/path.ts';
import { splitShellWords } from '../yaml/shell-words.ts';
import { imageViewArgv } from './image-view.ts';
import { checkSecretFile } from './secret-file.ts';
import { checkSecret } from './secrets.ts';
import { parseStraceLog, STRACE_SYSCALLS, type TraceEvent, type TraceKind } from './strace-log.ts';

/** TracedFile is one file the traced command used. */
export interface TracedFile {
  /** absolute path as the process named it (lexically normalised) */
  readonly path: string;
  /** the first syscall that used it */
  readonly syscall: string;
  /** the pid that used it first */
  readonly pid: number;
  /** the strongest use: exec > open > readlink > access > stat */
  readonly kind: TraceKind;
  /** what the path is on the host after the run (lstat: a symlink is reported as such, not followed) */
  readonly type: 'file' | 'dir' | 'symlink' | 'other';
  /**
   * how the run wrote there: 'dir' — a directory that existed before the run and in which it created,
   * deleted or wrote files (the image gets it empty, with its mode and owner); 'file' — a file that existed
   * before and that the run only opened for writing (the image gets it empty: host data never leaks
   * through a write)
   */
  readonly wrote?: 'dir' | 'file';
}

/** RefusedFile is a traced file the secrets policy kept out. */
export interface RefusedFile {
  readonly path: string;
  readonly reason: string;
}

/** TraceResult is what a traced run used, and how it ran. */
export interface TraceResult {
  /** files used, sorted by path, without duplicates */
  readonly files: readonly TracedFile[];
  /** secret-looking files the run used, left out of `files` */
  readonly refused: readonly RefusedFile[];
  readonly exitCode: number;
  /** the signal that ended the command, if any */
  readonly signal?: string;
  /** the working directory the command ran in */
  readonly cwd: string;
  /** the environment the command ran with */
  readonly env: Readonly<Record<string, string>>;
  /** the command as executed (argv); `['/bin/sh', '-c', CMD]` when CMD used shell syntax */
  readonly command: readonly string[];
  /** the run reached the timeout and was stopped (only with allowFailure: a server traced for a while) */
  readonly stopped?: boolean;
  /** CMD used shell operators or expansions and ran as `/bin/sh -c CMD` (docker's shell form) */
  readonly shell?: boolean;
}

/** TraceOptions tunes traceCommand. */
export interface TraceOptions {
  /** working directory (default process.cwd()) */
  cwd?: string;
  /** environment (default process.env) */
  env?: Readonly<Record<string, string | undefined>>;
  /** seconds before the command's process group is killed with TIMEOUT (default 120) */
  timeoutSeconds?: number;
  /**
   * a non-zero exit status is reported instead of thrown (default false); with it, a run past the timeout
   * (a server) is stopped with SIGTERM (SIGKILL 5 s later) and its files are kept
   */
  allowFailure?: boolean;
  /** secret-looking paths to include on purpose (see secrets.ts) */
  allowSecrets?: readonly string[];
  /** what to do when the run used a secret-looking file: throw SECRET_REFUSED (default) or leave it out and list it in `refused` */
  secrets?: 'refuse' | 'omit';
  /** the strace binary (default: `strace` from PATH) */
  strace?: string;
  /**
   * an unpacked image root to lay over the host's / (see image-view.ts; needs root): the command sees the
   * image's paths and `cwd` is a path in that view. Files only in the image are not reported (they are
   * not on the host).
   */
  imageRoot?: string;
  /** stdout/stderr of the command: 'inherit' or 'pipe' (default 'pipe': output discarded unless onOutput); stdin is never passed */
  stdio?: 'inherit' | 'pipe';
  /** receives the command's output when stdio is 'pipe' */
  onOutput?: (chunk: Buffer, stream: 'stdout' | 'stderr') => void;
}

const RANK: Record<TraceKind, number> = { exec: 5, open: 4, readlink: 3, access: 2, stat: 1 };
const DEFAULT_TIMEOUT = 120;
/** STOP_GRACE_SECONDS is how long a stopped server gets between SIGTERM and SIGKILL (docker stop's 10 s, halved). */
const STOP_GRACE_SECONDS = 5;

/** findOnPath returns the absolute path of an executable named `cmd` (searched in PATH unless it has a '/'). */
export function findOnPath(cmd: string, cwd: string, pathVar: string | undefined): string | undefined {
  const isExec = (p: string): boolean => {
    try {
      const st = fs.statSync(p);
      if (!st.isFile()) return false;
      fs.accessSync(p, fs.constants.X_OK);
      return true;
    } catch {
      return false; // not there or not executable: keep searching
    }
  };
  if (cmd.includes('/')) {
    const p = cmd.startsWith('/') ? cmd : join(cwd, cmd);
    return isExec(p) ? p : undefined;
  }
  for (const dir of (pathVar ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    const p = join(dir === '' ? cwd : dir.startsWith('/') ? dir : join(cwd, dir), cmd);
    if (isExec(p)) return p;
  }
  return undefined;
}

/** straceBinary finds strace or throws TOOL_MISSING. */
function straceBinary(explicit: string | undefined): string {
  const p = explicit ?? findOnPath('strace', '/', `${process.env.PATH ?? ''}:/usr/bin:/bin`);
  if (!p || !fs.existsSync(p)) {
    throw new FromscratchError('TOOL_MISSING', 'strace is not installed', {
      hint: 'install it: apt-get install strace',
    });
  }
  return p;
}

/**
 * straceArgs returns the strace options fromscratch traces with, writing to `logFile`. Each syscall is
 * prefixed with `?` so that names an architecture lacks (`open`, `stat` on arm64) are skipped, not errors.
 */
export function straceArgs(logFile: string): string[] {
  return [
    '-f',
    '-qq',
    '-y',
    '-x',
    '-s',
    '4096',
    '-e',
    `trace=${STRACE_SYSCALLS.map((s) => `?${s}`).join(',')}`,
    '-o',
    logFile,
  ];
}

/**
 * traceCommand runs `command` under strace and returns the files it used. Throws TRACE_FAILED when the
 * command is not found or exits non-zero (unless allowFailure), TIMEOUT when it runs past the timeout
 * (its whole process group is killed), TOOL_MISSING when strace is absent.
 *
 * @example
 * const r = await traceCommand("python3 -c 'import json'");
 * r.files.map((f) => f.path) // ['/usr/bin/python3.11', '/usr/lib/python3.11/json/__init__.py', …]
 */
export async function traceCommand(
  command: string | readonly string[],
  opts: TraceOptions = {},
): Promise<TraceResult> {
  const { argv, shell } =
    typeof command === 'string' ? toArgv(command) : { argv: [...command], shell: false };
  if (argv.length === 0)
    throw new FromscratchError('INVALID_ARGUMENT', 'empty command to trace', {
      hint: 'give a command, e.g. --trace \'python3 -c "import json"\'',
    });
  const cwd = opts.cwd ?? process.cwd();
  const view = opts.imageRoot;
  if (view !== undefined && process.getuid?.() !== 0) {
    throw new FromscratchError(
      'TRACE_FAILED',
      `tracing ${JSON.stringify(argv.join(' '))} with the image's paths needs root (a private mount namespace)`,
      { hint: 'run as root, or give the command paths that exist on the host' },
    );
  }
  if (view === undefined && !fs.statSync(cwd, { throwIfNoEntry: false })?.isDirectory()) {
    throw new FromscratchError(
      'FILE_NOT_FOUND',
      `working directory ${cwd} for the traced command is not a directory`,
      {
        hint: 'run the build from an existing directory',
      },
    );
  }
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.env ?? process.env)) if (v !== undefined) env[k] = v;
  const strace = straceBinary(opts.strace);
  // inside the image's view the program is found there (by strace's own PATH search)
  const exe = view !== undefined ? argv[0] : findOnPath(argv[0]!, cwd, env.PATH);
  if (!exe) {
    throw new FromscratchError('TRACE_FAILED', `command ${JSON.stringify(argv[0])} not found`, {
      hint: argv[0]!.includes('/')
        ? 'check the path and that it is executable'
        : 'check the spelling, or give its absolute path; PATH was searched',
    });
  }
  const dir = await mkdtemp(join(tmpdir(), 'fromscratch-trace-'));
  const logFile = join(dir, 'strace.log');
  // the run's start on the file system's clock (the birth time of a file made now), not this process's:
  // births are compared with it, and a process clock moved or skewed must not make old files look new
  const started = await fileClockNow(join(dir, 'started'));
  try {
    const stderr = { tail: '' };
    const traced = [strace, ...straceArgs(logFile), '--', exe, ...argv.slice(1)];
    if (view !== undefined) await mkdir(join(dir, 'view'));
    const full =
      view === undefined
        ? traced
        : [...imageViewArgv({ imageRoot: view, stateDir: join(dir, 'view'), keepDir: dir, cwd }), ...traced];
    const { code, signal, timedOut } = await runTraced(
      full[0]!,
      full.slice(1),
      argv[0]!,
      view === undefined ? cwd : '/',
      env,
      opts,
      stderr,
    );
    const stderrTail = stderr.tail;
    if (timedOut && !opts.allowFailure) {
      throw new FromscratchError(
        'TIMEOUT',
        `traced command ${JSON.stringify(argv.join(' '))} did not finish within ${opts.timeoutSeconds ?? DEFAULT_TIMEOUT} s; it was killed`,
        {
          hint: 'raise --trace-timeout, or trace a command that exits by itself; to trace a server for a while, give --trace-timeout N with --trace-allow-failure',
        },
      );
    }
    const log = await readFile(logFile, 'latin1').catch(() => '');
    if (log.trim() === '' && code !== 0 && view !== undefined) {
      throw new FromscratchError(
        'TRACE_FAILED',
        `could not lay the image over the host to trace ${JSON.stringify(argv[0])}: ${stderrTail.trim() || `exit status ${code}`}`,
        { hint: 'this needs root, unshare (util-linux) and overlayfs' },
      );
    }
    if (log.trim() === '' && code !== 0) {
      // strace wrote nothing: it could not trace at all (ptrace refused in a container, seccomp …)
      throw new FromscratchError(
        'TRACE_FAILED',
        `strace could not trace ${JSON.stringify(argv[0])}: ${stderrTail.trim() || `exit status ${code}`}`,
        {
          hint: 'ptrace may be blocked here (a container needs --cap-add SYS_PTRACE and a seccomp profile allowing ptrace)',
        },
      );
    }
    const events = parseStraceLog(decodeLatin1Utf8(log), { cwd });
    const exitCode = code ?? (signal ? 128 + (signalNumber(signal) ?? 0) : 1);
    if (exitCode !== 0 && !opts.allowFailure) {
      throw new FromscratchError(
        'TRACE_FAILED',
        `traced command ${JSON.stringify(argv.join(' '))} exited with status ${exitCode}${signal ? ` (${signal})` : ''}`,
        {
          hint: 'fix the command so that it succeeds on this host, or pass --trace-allow-failure',
        },
      );
    }
    const { files, refused } = selectFiles(events, started, opts.allowSecrets);
    if (refused.length > 0 && opts.secrets !== 'omit') {
      const list = refused.map((r) => `${r.path} (${r.reason})`).join(', ');
      throw new FromscratchError(
        'SECRET_REFUSED',
        `traced command ${JSON.stringify(argv.join(' '))} read secret-looking files: ${list}`,
        {
          hint: `nothing was added; to include one on purpose, allow it explicitly (allowSecrets: [${refused.map((r) => JSON.stringify(r.path)).join(', ')}])`,
        },
      );
    }
    return {
      files,
      refused,
      exitCode,
      ...(signal ? { signal } : {}),
      cwd,
      env,
      command: argv,
      ...(timedOut ? { stopped: true } : {}),
      ...(shell ? { shell } : {}),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * toArgv splits CMD into words as a POSIX shell would. A command with shell operators or expansions
 * (`&&`, `|`, `;`, redirections, `$VAR`, backquotes) runs as `/bin/sh -c CMD`, as docker runs the shell
 * form of RUN; one with broken quoting is still INVALID_ARGUMENT.
 */
export function toArgv(command: string): { argv: string[]; shell: boolean } {
  try {
    return { argv: splitShellWords(command, { operators: 'refuse' }), shell: false };
  } catch (e) {
    if (!isFromscratchError(e, 'INVALID_ARGUMENT')) throw e;
    splitShellWords(command); // unterminated quotes are an error with or without a shell
    return { argv: ['/bin/sh', '-c', command], shell: true };
  }
}

/** decodeLatin1Utf8 re-reads a latin1-decoded log as UTF-8 where it is valid (strace -x escapes every non-ASCII byte anyway). */
function decodeLatin1Utf8(s: string): string {
  return Buffer.from(s, 'latin1').toString('utf8');
}

function signalNumber(sig: string): number | undefined {
  return (
    (fs.constants as unknown as Record<string, number>)[sig] ??
    ({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGSEGV: 11, SIGABRT: 6 } as Record<string, number>)[sig]
  );
}

async function runTraced(
  strace: string,
  args: string[],
  name: string,
  cwd: string,
  env: Record<string, string>,
  opts: TraceOptions,
  stderr: { tail: string },
): Promise<{ code: number | null; signal: string | null; timedOut: boolean }> {
  const child = spawn(strace, args, {
    cwd,
    env,
    // its own process group, so that a timeout kills strace and every traced process at once; stdin is
    // not passed (a background group reading the terminal would be stopped)
    detached: true,
    stdio: opts.stdio === 'inherit' ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (b: Buffer) => opts.onOutput?.(b, 'stdout'));
  child.stderr?.on('data', (b: Buffer) => {
    opts.onOutput?.(b, 'stderr');
    stderr.tail = (stderr.tail + b.toString('utf8')).slice(-2000);
  });
  let timedOut = false;
  let grace: NodeJS.Timeout | undefined;
  const killGroup = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL'); // the whole process group: strace and the command tree
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(
    () => {
      timedOut = true;
      if (!opts.allowFailure || child.pid === undefined) return killGroup();
      // a server traced for a while: stop it as `docker stop` would (SIGTERM, then SIGKILL), while strace
      // still records its shutdown (pid files removed, logs flushed)
      for (const pid of descendants(child.pid)) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // exited meanwhile
        }
      }
      grace = setTimeout(killGroup, STOP_GRACE_SECONDS * 1000);
    },
    (opts.timeoutSeconds ?? DEFAULT_TIMEOUT) * 1000,
  );
  try {
    return await new Promise((resolve, reject) => {
      child.on('error', (e) =>
        reject(
          new FromscratchError('TRACE_FAILED', `starting strace for ${JSON.stringify(name)}: ${e.message}`, {
            hint: 'check that strace runs: strace -V',
            cause: e,
          }),
        ),
      );
      child.on('close', (code, signal) => resolve({ code, signal, timedOut }));
    });
  } finally {
    clearTimeout(timer);
    if (grace) clearTimeout(grace);
  }
}

function comm(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return ''; // exited meanwhile
  }
}

/** descendants lists the processes below `pid` (children first), from /proc/PID/task/TID/children. */
function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number): void => {
    let tasks: string[] = [];
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      return; // exited meanwhile
    }
    for (const t of tasks) {
      let text = '';
      try {
        text = fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
      } catch {
        continue; // the thread exited meanwhile
      }
      for (const c of text.split(' ').filter((x) => x.trim() !== '')) {
        const n = Number(c);
        if (out.includes(n)) continue;
        // strace itself (below unshare, in an image view) must keep tracing the shutdown
        if (comm(n) !== 'strace') out.push(n);
        walk(n);
      }
    }
  };
  walk(pid);
  return out;
}

/** fileClockNow is the birth time (else the mtime) of a file created at `path` now, in ms. */
async function fileClockNow(path: string): Promise<number> {
  await writeFile(path, '');
  const st = await stat(path);
  return st.birthtimeMs > 0 ? st.birthtimeMs : st.mtimeMs;
}

/**
 * selectFiles keeps the successful reads of a trace: no /proc, /sys, /dev, nothing the run created,
 * renamed or deleted (by syscall, or by a birth time after `startedMs`), nothing that no longer exists,
 * and no secrets (those are returned as refused). Writes are kept as what the image needs to repeat them,
 * never as the host's data: the nearest directory that existed before the run above each path the run
 * created, deleted, bound a socket at or opened for writing (`wrote: 'dir'`, added empty), and a file
 * that existed before and that the run only opened for writing (O_WRONLY or O_TRUNC: a log) as
 * `wrote: 'file'` (created empty). Exported for tests and for --verify.
 */
export function selectFiles(
  events: readonly TraceEvent[],
  startedMs: number,
  allowSecrets: readonly string[] = [],
): { files: TracedFile[]; refused: RefusedFile[] } {
  const written = new Set<string>();
  // opened for writing / used in a way that could read the earlier content
  const writeOpened = new Set<string>();
  const readUsed = new Set<string>();
  // paths whose directory the run wrote into, with the first call that did
  const wroteAt = new Map<string, TraceEvent>();
  for (const e of events) {
    if (!e.ok || e.inRoot) continue;
    if (e.kind === 'create' || e.kind === 'delete') written.add(e.path);
    if (e.kind === 'open' && e.write) writeOpened.add(e.path);
    if ((e.kind === 'open' && !e.writeOnly) || e.kind === 'exec' || e.kind === 'readlink')
      readUsed.add(e.path);
    if (
      (e.kind === 'create' || e.kind === 'delete' || (e.kind === 'open' && e.write)) &&
      !wroteAt.has(e.path)
    )
      wroteAt.set(e.path, e);
  }
  const best = new Map<string, TracedFile>();
  for (const e of events) {
    if (!e.ok || e.inRoot) continue;
    if (
      e.kind !== 'exec' &&
      e.kind !== 'open' &&
      e.kind !== 'stat' &&
      e.kind !== 'access' &&
      e.kind !== 'readlink'
    )
      continue;
    const prev = best.get(e.path);
    if (!prev || RANK[e.kind] > RANK[prev.kind])
      best.set(e.path, { path: e.path, syscall: e.syscall, pid: e.pid, kind: e.kind, type: 'other' });
  }
  const lstat = (p: string): fs.Stats | undefined => {
    try {
      return fs.lstatSync(encodePath(p), { throwIfNoEntry: false });
    } catch {
      return undefined; // ENOTDIR and friends: the path is gone
    }
  };
  // created during the run: birth time when the filesystem reports it, strictly after the start mark (file
  // clocks are coarse: a file of the same tick as the mark may predate the run; what the run creates is
  // also known from its syscalls)
  const bornDuringRun = (st: fs.Stats): boolean => st.birthtimeMs > 0 && st.birthtimeMs > startedMs;
  const files: TracedFile[] = [];
  const refused: RefusedFile[] = [];
  const kept = new Set<string>();
  for (const f of best.values()) {
    if (/^\/(proc|sys|dev)(\/|$)/.test(f.path)) continue;
    if (written.has(f.path)) continue;
    const st = lstat(f.path);
    if (!st) continue; // deleted by the run (or a temp file)
    if (bornDuringRun(st)) continue;
    const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
    // a log, or an output file truncated first: its host content is never what the run needed
    const onlyWritten = type === 'file' && writeOpened.has(f.path) && !readUsed.has(f.path);
    // a file the run read is looked into too (a key by its content, an app's .env); one it only wrote is not
    const verdict =
      type === 'file' && !onlyWritten
        ? checkSecretFile(f.path, { allow: allowSecrets })
        : checkSecret(f.path, { allow: allowSecrets });
    if (verdict.refuse) {
      // a secret-looking file the run only wrote (a shell history) leaks nothing, and an empty one is no use
      if (!onlyWritten) refused.push({ path: f.path, reason: verdict.reason });
      continue;
    }
    files.push({ ...f, type, ...(onlyWritten ? { wrote: 'file' as const } : {}) });
    kept.add(f.path);
  }
  const dirs = new Map<string, TracedFile>();
  for (const [path, e] of wroteAt) {
    for (let d = parentDir(path); d !== '/'; d = parentDir(d)) {
      if (/^\/(proc|sys|dev)(\/|$)/.test(d)) break;
      if (written.has(d)) continue; // made (or removed) by the run: it makes it again
      let st: fs.Stats | undefined;
      try {
        st = fs.statSync(encodePath(d), { throwIfNoEntry: false }); // through a symlink (/var/run -> /run)
      } catch {
        st = undefined;
      }
      if (!st) continue;
      if (!st.isDirectory()) break;
      if (bornDuringRun(st)) continue;
      if (checkSecret(d, { allow: allowSecrets }).refuse) break;
      if (!dirs.has(d))
        dirs.set(d, { path: d, syscall: e.syscall, pid: e.pid, kind: 'open', type: 'dir', wrote: 'dir' });
      break;
    }
  }
  for (const [d, f] of dirs) {
    const i = files.findIndex((x) => x.path === d);
    if (i >= 0) files[i] = { ...files[i]!, wrote: 'dir' };
    else if (!kept.has(d)) files.push(f);
  }
  const cmp = (a: { path: string }, b: { path: string }): number =>
    Buffer.compare(encodePath(a.path), encodePath(b.path));
  files.sort(cmp);
  refused.sort(cmp);
  return { files, refused };
}

/** parentDir is the directory holding an absolute, normalised path ('/' for a top-level entry). */
function parentDir(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}
