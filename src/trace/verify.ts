/**
 * verify.ts — --verify support: run a command inside an image under strace and name the files it failed
 * to find that exist on the source root. IO, Linux only.
 *
 * The container runs with runc wrapped by `strace -f`: strace follows runc into the container's init
 * process, whose pivot_root marks the point from which every path is a container path (strace-log.ts
 * `inRoot`). Lookups that failed with ENOENT there, and that exist on the source root, are the missing
 * files. A failed lookup followed by a successful one of the same name in the same process (the loader
 * walking its search path, a shell walking PATH) is a search, not a miss.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FromscratchError, isFromscratchError } from '../errors.ts';
import { baseName } from '../fs/path.ts';
import { resolvePath } from '../fs/resolve.ts';
import type { RootFs } from '../fs/root-fs.ts';
import { findTool, type RunOptions, type RunSource, runImage } from '../run/run.ts';
import { parseStraceLog, type TraceEvent, type TraceKind } from './strace-log.ts';
import { straceArgs } from './trace.ts';

/** ImageRunTrace is what a traced run inside an image did. */
export interface ImageRunTrace {
  /** the container's exit code (127 when the runtime could not start the program) */
  readonly exitCode: number;
  /** the runtime's error when the program could not be started */
  readonly runError?: string;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  /** path events of processes inside the container, in order (paths are container paths), and the root changes (kind 'root') */
  readonly events: readonly TraceEvent[];
  /** the command that ran (argv inside the container) */
  readonly command: readonly string[];
}

/** TraceImageRunOptions tunes traceImageRun (the run options of runImage, runc only). */
export type TraceImageRunOptions = Omit<RunOptions, 'runtime' | 'wrap' | 'stdio'> & {
  /** the strace binary (default: `strace` from PATH) */
  strace?: string;
  /** seconds before the container is killed (default 120) */
  timeoutSeconds?: number;
};

/**
 * traceImageRun runs `args` (replacing the image's cmd; the entrypoint is kept unless opts.entrypoint is
 * given) inside the image with runc under strace. A program that cannot be started is reported
 * (exitCode 127, runError), not thrown, so that its missing files can be named. Throws TOOL_MISSING
 * (strace, runc), TIMEOUT, INVALID_IMAGE and the unpack errors.
 */
export async function traceImageRun(
  source: RunSource,
  args: readonly string[] | undefined,
  opts: TraceImageRunOptions = {},
): Promise<ImageRunTrace> {
  const strace = opts.strace ?? findTool('strace');
  if (!strace)
    throw new FromscratchError('TOOL_MISSING', 'strace is not installed', {
      hint: 'install it: apt-get install strace',
    });
  const dir = await mkdtemp(join(opts.tmpDir ?? tmpdir(), 'fromscratch-verify-'));
  const log = join(dir, 'strace.log');
  try {
    let exitCode: number;
    let runError: string | undefined;
    let stdout: Buffer = Buffer.alloc(0);
    let stderr: Buffer = Buffer.alloc(0);
    try {
      const r = await runImage(source, args, {
        ...opts,
        timeoutSeconds: opts.timeoutSeconds ?? 120,
        runtime: 'runc',
        stdio: 'pipe',
        wrap: [strace, ...straceArgs(log), '--'],
      });
      ({ exitCode, stdout, stderr } = r);
    } catch (e) {
      if (!isFromscratchError(e, 'RUN_FAILED')) throw e;
      exitCode = 127;
      runError = e.message;
    }
    const text = await readFile(log, 'utf8').catch(() => '');
    const events = parseStraceLog(text).filter((e) => e.inRoot || (e.kind === 'root' && e.ok));
    const command = events.find((e) => e.kind === 'exec')?.path;
    return {
      exitCode,
      ...(runError ? { runError } : {}),
      stdout,
      stderr,
      events,
      command: command ? [command, ...(args ?? [])] : [...(args ?? [])],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** MissingFile is a path a run inside the image looked up in vain, and that exists on the source root. */
export interface MissingFile {
  readonly path: string;
  readonly syscall: string;
  readonly pid: number;
  readonly kind: TraceKind;
  /** what the path is on the source root (after following symlinks) */
  readonly type: 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';
}

/** FindMissingOptions tunes findMissingFiles. */
export interface FindMissingOptions {
  /** also report directories that were looked up in vain (default false: the loader and shells stat search directories) */
  includeDirectories?: boolean;
}

const LOOKUP: ReadonlySet<string> = new Set(['exec', 'open', 'stat', 'access', 'readlink']);

/**
 * findMissingFiles returns, in the order they were first looked up, the paths the traced run failed to
 * find (ENOENT, or ENOTDIR on the way) that exist on `sourceRoot` (resolved with chroot semantics).
 * Ignored: /proc, /sys and /dev; failed look-ups of a name that the same process then found elsewhere
 * (search paths); directories unless asked; and what the runtime's init did before exec'ing the command
 * except its PATH search (runc opens /etc/passwd and /etc/group for itself).
 */
export async function findMissingFiles(
  trace: Pick<ImageRunTrace, 'events'>,
  sourceRoot: RootFs,
  opts: FindMissingOptions = {},
): Promise<MissingFile[]> {
  // the pids that changed root themselves are the runtime's init; before their exec they only matter for
  // the command's PATH search (runc opens /etc/passwd and /etc/group for its own use)
  const initPids = new Set(trace.events.filter((e) => e.kind === 'root' && e.ok).map((e) => e.pid));
  const all = trace.events.filter((e) => e.inRoot && LOOKUP.has(e.kind));
  const execAt = new Map<number, number>();
  for (const e of all) if (e.kind === 'exec' && e.ok && !execAt.has(e.pid)) execAt.set(e.pid, e.line);
  const events = all.filter((e) => {
    if (!initPids.has(e.pid) || e.line > (execAt.get(e.pid) ?? Number.POSITIVE_INFINITY)) return true;
    return e.kind === 'exec' || e.kind === 'stat' || e.kind === 'access';
  });
  // per pid, the last line at which a name was found
  const foundAt = new Map<string, number>();
  for (const e of events) {
    if (e.ok) {
      const k = `${e.pid}\0${baseName(e.path)}`;
      foundAt.set(k, Math.max(foundAt.get(k) ?? -1, e.line));
    }
  }
  const out: MissingFile[] = [];
  const seen = new Set<string>();
  for (const e of events) {
    if (e.ok || (e.errno !== 'ENOENT' && e.errno !== 'ENOTDIR')) continue;
    if (/^\/(proc|sys|dev)(\/|$)/.test(e.path) || seen.has(e.path)) continue;
    const later = foundAt.get(`${e.pid}\0${baseName(e.path)}`);
    if (later !== undefined && later > e.line) continue;
    seen.add(e.path);
    const r = await resolvePath(sourceRoot, e.path);
    if (!r.stat) continue;
    if (r.stat.type === 'dir' && !opts.includeDirectories) continue;
    out.push({ path: e.path, syscall: e.syscall, pid: e.pid, kind: e.kind as TraceKind, type: r.stat.type });
  }
  return out;
}
