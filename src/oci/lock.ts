/**
 * lock.ts — an inter-process lock file, for the read-modify-write of an OCI layout's index.json
 * (RELIABILITY.md C8, ggcr#1941: without it, two writers adding tags lose one of them).
 *
 * The lock is a file created with O_EXCL holding the owner's pid and host name. A lock whose owner is dead
 * (same host, pid gone: a SIGKILLed writer) is stale and is broken by renaming it away first, so two
 * processes breaking the same stale lock cannot both win; a lock without content (the owner died between
 * create and write) is stale after STALE_EMPTY_MS.
 */

import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { FromscratchError } from '../errors.ts';

/** LockOptions configures withLock. */
export interface LockOptions {
  /** how long to wait for a live owner before giving up with TIMEOUT (default 120 s) */
  timeoutMs?: number;
}

const STALE_EMPTY_MS = 10_000;
let breakCounter = 0;

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

async function isStale(path: string, content: string): Promise<boolean> {
  const [pidLine, host] = content.split('\n');
  if (!pidLine) {
    try {
      return Date.now() - (await stat(path)).mtimeMs > STALE_EMPTY_MS;
    } catch {
      // gone already: not ours to break, the next attempt will create it
      return false;
    }
  }
  if (host !== hostname()) return false;
  return !isProcessAlive(Number(pidLine));
}

async function breakStale(path: string, seen: string): Promise<void> {
  breakCounter += 1;
  const aside = `${path}.stale-${process.pid}-${breakCounter}`;
  try {
    await rename(path, aside);
  } catch {
    // someone else broke or released it first
    return;
  }
  const now = await readFile(aside, 'utf8').catch(() => '');
  if (now !== seen) {
    // we moved a live lock taken after our read: put it back unless a third process holds the name now
    await link(aside, path).catch(() => {
      /* EEXIST: the name is taken again; that owner and the restored one cannot both exist */
    });
  }
  await unlink(aside).catch(() => {
    /* already gone */
  });
}

/**
 * withLock runs fn while holding the lock file at `path`, and removes the lock afterwards (also when fn
 * throws). Waits with backoff while another live process holds it; throws TIMEOUT after `timeoutMs`,
 * OUTPUT_UNWRITABLE when the lock cannot be created.
 */
export async function withLock<T>(path: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  const mine = `${process.pid}\n${hostname()}\n`;
  let delay = 5;
  for (;;) {
    try {
      const fh = await open(path, 'wx', 0o644);
      try {
        await fh.writeFile(mine);
      } finally {
        await fh.close();
      }
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        throw new FromscratchError(
          'OUTPUT_UNWRITABLE',
          `cannot create lock file ${path}: ${(e as Error).message}`,
          {
            hint: 'check that the output directory is writable',
            cause: e,
          },
        );
      }
    }
    const content = await readFile(path, 'utf8').catch(() => null);
    if (content !== null && (await isStale(path, content))) {
      await breakStale(path, content);
      continue;
    }
    if (Date.now() > deadline) {
      const owner = content?.split('\n')[0] || 'unknown';
      throw new FromscratchError(
        'TIMEOUT',
        `waited ${timeoutMs} ms for the lock ${path} held by pid ${owner}`,
        {
          hint: `another fromscratch is writing there; if none is running, remove ${path}`,
        },
      );
    }
    await sleep(delay + Math.floor(Math.random() * delay));
    delay = Math.min(delay * 2, 200);
  }
  try {
    return await fn();
  } finally {
    const still = await readFile(path, 'utf8').catch(() => null);
    if (still === mine) {
      await unlink(path).catch(() => {
        /* already removed */
      });
    }
  }
}
