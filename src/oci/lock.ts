/**
 * lock.ts — an inter-process lock file, for the read-modify-write of an OCI layout's index.json
 * (RELIABILITY.md C8, ggcr#1941: without it, two writers adding tags lose one of them).
 *
 * The lock is a file created with O_EXCL holding the owner's pid and host name. A lock whose owner is dead
 * (same host, pid gone: a SIGKILLed writer) is stale and is broken by renaming it away first, so two
 * processes breaking the same stale lock cannot both win. The lock is created with its content in one
 * step (link of a written file), so an empty lock is stale at once, and a planted symlink or directory at
 * the lock's name is refused at once, never followed nor waited on.
 */

import { constants } from 'node:fs';
import { type FileHandle, link, lstat, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isProcessAlive } from '../blob/temp-files.ts';
import { FromscratchError } from '../errors.ts';

/** LockOptions configures withLock. */
export interface LockOptions {
  /** how long to wait for a live owner before giving up with TIMEOUT (default 120 s) */
  timeoutMs?: number;
}

let breakCounter = 0;
let tempCounter = 0;

export { isProcessAlive };

async function isStale(path: string, content: string): Promise<boolean> {
  const [pidLine, host] = content.split('\n');
  // a live owner's lock always has content (see create): an empty one was left by a writer that died
  // between create and write (older versions), and is stale at once
  if (!pidLine) return true;
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
 * create takes the lock with its content in one step: the content is written to a private file first,
 * then hard-linked to the lock's name (link fails with EEXIST like O_EXCL, and never follows a symlink).
 * A lock file is thus never empty while its owner lives, and a full disk leaves no lock behind.
 * Returns false when the name is taken.
 */
async function create(path: string, content: string): Promise<boolean> {
  tempCounter += 1;
  const temp = join(dirname(path), `.tmp-lock-${process.pid}-${tempCounter}`); // collected by name if we die
  try {
    await writeFile(temp, content, { flag: 'wx', mode: 0o644 });
    await link(temp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST' && (await lstat(temp).catch(() => null))) return false;
    const full = ['ENOSPC', 'EDQUOT'].includes((e as NodeJS.ErrnoException).code ?? '');
    throw new FromscratchError(
      full ? 'NO_SPACE' : 'OUTPUT_UNWRITABLE',
      `cannot create lock file ${path}: ${(e as Error).message}`,
      {
        hint: full
          ? 'free space on the file system of the output, then retry'
          : 'check that the output directory is writable',
        cause: e,
      },
    );
  } finally {
    await unlink(temp).catch(() => {
      /* not created */
    });
  }
}

/**
 * readLock reads the lock's content without following a symlink: anything but a regular file at the
 * lock's name (a planted symlink, a directory) is refused at once rather than waited on.
 */
async function readLock(path: string): Promise<string | null> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null; // released meanwhile
    throw notALock(path, e);
  }
  try {
    if (!(await fh.stat()).isFile()) throw notALock(path);
    const { bytesRead, buffer } = await fh.read(Buffer.alloc(256), 0, 256, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

function notALock(path: string, cause?: unknown): FromscratchError {
  return new FromscratchError(
    'OUTPUT_UNWRITABLE',
    `the lock file ${path} is not a regular file (a symlink or a directory)`,
    {
      hint: `fromscratch never follows a lock; remove ${path} if nothing else uses it`,
      ...(cause === undefined ? {} : { cause }),
    },
  );
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
    if (await create(path, mine)) break;
    const content = await readLock(path);
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
