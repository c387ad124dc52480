/**
 * stat-snapshot.ts — one lstat per host path per build, for the checks that only decide what to re-read.
 *
 * A warm build asks the stat data of every input several times: the closure memo's stamps, the layer
 * cache keys, the md5 memo of the dpkg attribution. A {@link statSnapshot} made for one build is handed
 * to each of them, and they share one `lstat` per path (the first answer is kept for the rest of the
 * build, as if the build had read every stamp at that moment). {@link liveStats} is a plain `lstat`.
 *
 * The snapshot is passed explicitly, not found through AsyncLocalStorage: on Node 20 that installs
 * promise hooks, which tax every promise of the process (a cold build makes tens of thousands).
 *
 * Only keys use it: whatever is read for a layer's content is read from the file itself and checked
 * against its own fstat before and after (layer/host-file.ts, FILE_CHANGED), never against a snapshot.
 */
import type { BigIntStats } from 'node:fs';
import { lstatSync } from 'node:fs';
import { encodePath } from './path.ts';

/** StatSnapshot answers `lstat(path, { bigint: true })` of host paths (as the tree holds them, fs/path.ts). */
export interface StatSnapshot {
  lstat(path: string): Promise<BigIntStats>;
}

/** liveStats asks the filesystem every time. */
export const liveStats: StatSnapshot = { lstat: lstatNow };

/** statSnapshot makes a fresh snapshot: each path is lstat-ed once, and the answer kept. */
export function statSnapshot(): StatSnapshot {
  const memo = new Map<string, Promise<BigIntStats>>();
  return {
    lstat(path) {
      let p = memo.get(path);
      if (p === undefined) {
        p = lstatNow(path);
        // a failed lstat (ENOENT...) is not kept: the next caller asks again and sees the error itself
        p.catch(() => memo.delete(path));
        memo.set(path, p);
      }
      return p;
    },
  };
}

/**
 * lstatNow is a synchronous lstat as a promise: a local lstat takes microseconds, less than the thread
 * pool's round trip of fs/promises (a warm build asks for a thousand of them).
 */
function lstatNow(path: string): Promise<BigIntStats> {
  try {
    return Promise.resolve(lstatSync(encodePath(path), { bigint: true }));
  } catch (e) {
    return Promise.reject(e);
  }
}
