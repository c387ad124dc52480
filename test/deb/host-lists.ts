// host-lists.ts — test helper: the host's apt Packages list for bookworm main, decompressed by apt's own
// tool (an independent decoder), as test input for differential tests.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** hostPackagesPath returns the host's Packages list for bookworm main amd64 (apt-get update must have run). */
export function hostPackagesPath(): string {
  const dir = '/var/lib/apt/lists';
  const name = readdirSync(dir).find((f) =>
    /_dists_bookworm_main_binary-amd64_Packages(\.lz4|\.gz|\.xz)?$/.test(f),
  );
  if (!name) throw new Error(`no bookworm main Packages list in ${dir}: run "apt-get update" first`);
  return `${dir}/${name}`;
}

/** hostPackagesText returns the decompressed text of hostPackagesPath(). */
export function hostPackagesText(): string {
  try {
    return execFileSync('/usr/lib/apt/apt-helper', ['cat-file', hostPackagesPath()], {
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    });
  } catch (e) {
    throw new Error('apt-helper cat-file failed; install apt and run "apt-get update"', { cause: e });
  }
}

/** sharedTestCacheDir is a cache directory kept across test runs (parsed host indexes are reused). */
export function sharedTestCacheDir(): string {
  return join(tmpdir(), 'fromscratch-deb-test-cache');
}

/**
 * hostListsClock returns a clock for reading the host's apt lists in tests: the newest `Date:` of the
 * host's InRelease files, so a Valid-Until check passes whatever today's date is (the lists were valid
 * when apt fetched them). Tests never depend on the calendar.
 */
export function hostListsClock(dir = '/var/lib/apt/lists'): () => number {
  let newest = 0;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('_InRelease'))) {
    const m = /^Date: (.+)$/m.exec(readFileSync(join(dir, f), 'latin1'));
    const t = m ? Date.parse(m[1]!) : Number.NaN;
    if (Number.isFinite(t) && t > newest) newest = t;
  }
  if (!newest) throw new Error(`no InRelease with a Date in ${dir}: run "apt-get update" first`);
  return () => newest;
}

/** offline is a fetch that refuses every request: tests that read the host's lists never go to the network. */
export const offline: typeof fetch = () => Promise.reject(new Error('offline test: no network'));
