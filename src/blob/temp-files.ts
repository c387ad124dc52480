/**
 * temp-files.ts — the temp files and directories of fromscratch's writers: removed when the process is
 * interrupted (SIGINT, SIGTERM), and collected by the next run when their writer died without a chance
 * to clean up (SIGKILL, power loss; RELIABILITY.md C7). Temp names carry the writer's pid
 * (dir-store.ts tempName: `.tmp-<prefix>-<pid>-…`); only those of pids no longer alive are removed, or
 * those of a pid reused by another process: on Linux, a file last written before that process started
 * (both times are the kernel's, so a clock moved for one process, or set forward, cannot make a live
 * writer's file look stale); elsewhere, a file older than a day.
 */
import { rmSync } from 'node:fs';
import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** TEMP_FILE_RE matches the temp names of tempName() and captures the pid. */
export const TEMP_FILE_RE = /^\.tmp-[a-z0-9]+-(\d+)-/;

/** STALE_TEMP_MS is the age past which a temp file is collected even when its pid is alive (reused). */
export const STALE_TEMP_MS = 24 * 3600 * 1000;

/** isProcessAlive tells whether a pid exists on this host (EPERM means it exists but is someone else's). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** CLOCK_TICKS is the unit of /proc/PID/stat's start time (USER_HZ: 100 on every Linux architecture). */
const CLOCK_TICKS = 100;

/**
 * processStartMs is when `pid` started, in ms since the epoch, from /proc (boot time + start ticks), or
 * undefined where /proc does not say (not Linux, the process gone).
 */
export async function processStartMs(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: the fields after its last `)` from 3 on
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[22 - 3]);
    const btime = /^btime (\d+)$/m.exec(await readFile('/proc/stat', 'utf8'));
    if (!btime || !Number.isFinite(ticks)) return undefined;
    return Number(btime[1]) * 1000 + (ticks * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/**
 * staleForLiveProcess tells whether a temp file named for the live `pid` was left by an earlier process
 * that had the same pid: written before `pid` started (2 s of slack for the boot time's rounding), or,
 * where the start time is unknown, older than STALE_TEMP_MS.
 */
async function staleForLiveProcess(path: string, pid: number): Promise<boolean> {
  const st = await lstat(path).catch(() => null);
  if (!st) return false;
  const started = await processStartMs(pid);
  if (started !== undefined) return st.mtimeMs < started - 2000;
  return Date.now() - st.mtimeMs > STALE_TEMP_MS;
}

/**
 * removeDeadTemps deletes the entries of `dir` whose name matches `re` (first group: a pid) when that pid
 * is not this process and is dead, or alive but started after the entry was written (a reused pid). A
 * missing directory is nothing to clean.
 */
export async function removeDeadTemps(dir: string, re: RegExp = TEMP_FILE_RE): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    // no such directory yet: nothing to clean
    return;
  }
  for (const n of names) {
    const m = re.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid) continue;
    if (!isProcessAlive(pid) || (await staleForLiveProcess(join(dir, n), pid)))
      await rm(join(dir, n), { recursive: true, force: true });
  }
}

const onInterrupt = new Map<number, () => void>();
let nextCleanup = 0;

/**
 * whileInterruptible registers `cleanup` (synchronous: it runs from a signal handler) until the returned
 * function is called. The CLI runs every registered cleanup when it is interrupted, then exits.
 */
export function whileInterruptible(cleanup: () => void): () => void {
  const id = nextCleanup++;
  onInterrupt.set(id, cleanup);
  return () => {
    onInterrupt.delete(id);
  };
}

/** trackTemp registers a temp file or directory to remove on interruption; call the result once it is gone or renamed. */
export function trackTemp(path: string): () => void {
  return whileInterruptible(() => rmSync(path, { recursive: true, force: true }));
}

/** runInterruptCleanups runs every registered cleanup, newest first, ignoring their failures. */
export function runInterruptCleanups(): void {
  for (const [id, fn] of [...onInterrupt].reverse()) {
    onInterrupt.delete(id);
    try {
      fn();
    } catch {
      // best effort: the process is going away
    }
  }
}
