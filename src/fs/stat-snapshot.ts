/**
 * stat-snapshot.ts — one lstat per host path per build, for the checks that only decide what to re-read.
 *
 * A warm build asks the stat data of every input several times: the closure memo's stamps, the layer
 * cache keys, the md5 memo of the dpkg attribution. Inside {@link withStatSnapshot} those share one
 * `lstat` per path (the first answer is kept for the rest of the build, as if the build had read every
 * stamp at that moment). Outside one, {@link snapshotLstat} is a plain `lstat`.
 *
 * Only keys use it: whatever is read for a layer's content is read from the file itself and checked
 * against its own fstat before and after (layer/host-file.ts, FILE_CHANGED), never against a snapshot.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { BigIntStats } from 'node:fs';
import { lstatSync } from 'node:fs';
import { encodePath } from './path.ts';

const scope = new AsyncLocalStorage<Map<string, Promise<BigIntStats>>>();

/** withStatSnapshot runs `f` with a fresh snapshot (a nested call keeps the outer one). */
export function withStatSnapshot<T>(f: () => Promise<T>): Promise<T> {
  if (scope.getStore() !== undefined) return f();
  return scope.run(new Map(), f);
}

/**
 * snapshotLstat is `lstat(path, { bigint: true })` of a host path as the tree holds it (undecodable
 * bytes as lone surrogates, see fs/path.ts), asked once per path within a snapshot.
 */
export function snapshotLstat(path: string): Promise<BigIntStats> {
  const memo = scope.getStore();
  if (memo === undefined) return lstatNow(path);
  let p = memo.get(path);
  if (p === undefined) {
    p = lstatNow(path);
    // a failed lstat (ENOENT...) is not kept: the next caller asks again and sees the error itself
    p.catch(() => memo.delete(path));
    memo.set(path, p);
  }
  return p;
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
