/**
 * temp-files.ts — the temp files and directories of fromscratch's writers: removed when the process is
 * interrupted (SIGINT, SIGTERM), and collected by the next run when their writer died without a chance
 * to clean up (SIGKILL, power loss; RELIABILITY.md C7). Temp names carry the writer's pid
 * (dir-store.ts tempName: `.tmp-<prefix>-<pid>-…`); only those of pids no longer alive are removed, or
 * those older than a day (a pid reused by another process).
 */
import { rmSync } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
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

/**
 * removeDeadTemps deletes the entries of `dir` whose name matches `re` (first group: a pid) when that pid
 * is not this process and is dead, or the entry is older than STALE_TEMP_MS. A missing directory is
 * nothing to clean.
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
    const old = async () =>
      Date.now() - ((await lstat(join(dir, n)).catch(() => null))?.mtimeMs ?? Date.now()) > STALE_TEMP_MS;
    if (!isProcessAlive(pid) || (await old())) await rm(join(dir, n), { recursive: true, force: true });
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
