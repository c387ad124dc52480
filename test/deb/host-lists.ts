// host-lists.ts — test helper: the host's apt Packages list for bookworm main, decompressed by apt's own
// tool (an independent decoder), as test input for differential tests.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
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
