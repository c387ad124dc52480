/**
 * temp-files.ts — find and remove the temp files of writers that died (SIGKILL, power loss), so that the
 * next run cleans up after a crash (RELIABILITY.md C7). Temp names carry the writer's pid
 * (blob/dir-store.ts tempName: `.tmp-<prefix>-<pid>-…`); only those of pids no longer alive are removed.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessAlive } from './lock.ts';

/** TEMP_FILE_RE matches the temp names of tempName() and captures the pid. */
export const TEMP_FILE_RE = /^\.tmp-[a-z0-9]+-(\d+)-/;

/**
 * removeDeadTemps deletes the entries of `dir` whose name matches `re` (first group: a pid) when that pid
 * is neither this process nor alive. A missing directory is nothing to clean.
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
    if (pid !== process.pid && !isProcessAlive(pid)) await rm(join(dir, n), { recursive: true, force: true });
  }
}
