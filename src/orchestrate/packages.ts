/**
 * packages.ts — `--package NAME[=VER]`: Debian packages resolved from apt sources for the platform's
 * architecture, fetched, verified and turned into entries with their origins.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../blob/dir-store.ts';
import { ldconfigCache } from '../closure/ldconfig.ts';
import { debianArch } from '../deb/arch.ts';
import { type DebEntries, debEntries } from '../deb/deb-entries.ts';
import { debCacheStore } from '../deb/fetch-index.ts';
import { formatLockfile, type Lockfile, mergeLockfiles, parseLockfile } from '../deb/lockfile.ts';
import { resolveDebs } from '../deb/resolve-debs.ts';
import { FromscratchError } from '../errors.ts';
import type { Digest } from '../model/digest.ts';
import type { Platform } from '../model/platform.ts';
import { type ProgressSink, startTask } from '../model/progress.ts';
import { cacheDir } from './cache-dir.ts';
import type { RecordedPackage } from './record.ts';
import type { SharedLayers } from './write-layers.ts';

/** PackageOptions configures packageEntries. */
export interface PackageOptions {
  /** fromscratch.lock to read (when its requests match) and to write after resolving */
  lockfile?: string;
  /** refuse to resolve anew: the lockfile must hold these requests (LOCKFILE_MISMATCH otherwise) */
  locked?: boolean;
  /** `deb URL SUITE COMPONENT…` sources (default the host's apt sources) */
  sources?: readonly string[];
  /** keep docs, man pages and locales (default false) */
  keepDocs?: boolean;
  onProgress?: (message: string) => void;
  /** download progress (default none) */
  progress?: ProgressSink;
  /** the registry cache: `.deb` files and indexes read from it when it has them, and noted for its export */
  shared?: SharedLayers;
}

/** packageEntries resolves and reads packages for one platform. */
export async function packageEntries(
  requests: readonly { name: string; version?: string }[],
  platform: Platform,
  o: PackageOptions = {},
): Promise<DebEntries> {
  const arch = debianArch(platform);
  const dir = join(cacheDir(), 'deb');
  const local = debCacheStore(dir);
  const store = o.shared?.packageStore ? o.shared.packageStore(local) : local;
  const share = o.shared?.recordBlob ? o.shared.recordBlob.bind(o.shared) : undefined;
  const wanted = requests.map((r) => (r.version ? `${r.name}=${r.version}` : r.name)).sort();
  const old = o.lockfile ? await readLockfileIfAny(o.lockfile) : undefined;
  let lock: Lockfile;
  if (old && sameRequests(old.requests[arch], wanted)) {
    lock = old;
  } else if (o.locked) {
    throw new FromscratchError(
      'LOCKFILE_MISMATCH',
      `${o.lockfile ?? 'the lockfile'} does not hold the packages ${wanted.join(', ')} for ${arch}`,
      {
        hint: 'run the build once without --locked to resolve and write the lockfile',
      },
    );
  } else {
    const task = startTask(
      o.progress,
      `resolve ${arch}`,
      `resolving ${wanted.join(' ')} (${arch})`,
      undefined,
      'files',
    );
    lock = await resolveDebs(
      requests.map((r) => ({ name: r.name, ...(r.version ? { version: r.version } : {}) })),
      {
        arches: [arch],
        cacheDir: dir,
        store,
        ...(share ? { onIndex: (d: Digest, size: number) => share('index', d, size, store) } : {}),
        ...(o.sources ? { sources: o.sources } : {}),
        ...(o.onProgress ? { onProgress: o.onProgress } : {}),
        ...(o.progress ? { progress: o.progress } : {}),
      },
    );
    task.done(`${lock.packages.length} package${lock.packages.length === 1 ? '' : 's'}`);
    if (o.lockfile) {
      // keep the other architectures of a multi-platform lockfile
      const others = old
        ? {
            ...old,
            requests: Object.fromEntries(Object.entries(old.requests).filter(([a]) => a !== arch)),
            packages: old.packages.filter((p) => p.forArch !== arch),
          }
        : undefined;
      await writeFileAtomic(
        o.lockfile,
        Buffer.from(formatLockfile(others ? mergeLockfiles(others, lock) : lock)),
        { fsync: false },
      );
    }
  }
  if (share)
    for (const p of lock.packages)
      if (p.forArch === arch) share('deb', `sha256:${p.sha256}` as Digest, p.size, store);
  return debEntries(lock, {
    forArch: arch,
    cacheDir: dir,
    store,
    ldconfig: ldconfigCache,
    ...(o.keepDocs ? { keepDocs: true } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.progress ? { progress: o.progress } : {}),
  });
}

async function readLockfileIfAny(path: string): Promise<Lockfile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FromscratchError('FILE_NOT_FOUND', `cannot read lockfile ${path}`, { cause: e });
  }
  return parseLockfile(text, path);
}

function sameRequests(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && [...a].sort().every((x, i) => x === b[i]);
}

/** toRecordedPackages turns installed packages into build-record entries, with the DEP-5 license when stated. */
export function toRecordedPackages(d: DebEntries): RecordedPackage[] {
  return d.packages.map((p) => {
    const license = p.copyright ? dep5License(p.copyright) : undefined;
    return {
      name: p.name,
      version: p.version,
      architecture: p.architecture,
      ...(p.source ? { source: p.source } : {}),
      ...(license ? { license } : {}),
      ...(p.vendor ? { vendor: p.vendor } : {}),
      ...(p.distro ? { distro: p.distro } : {}),
    };
  });
}

/** dep5License returns the License of the `Files: *` paragraph of a machine-readable copyright file. */
function dep5License(text: string): string | undefined {
  if (!/^Format:\s*https?:\/\/www\.debian\.org\/doc\/packaging-manuals\/copyright-format\//m.test(text))
    return undefined;
  const m = /^Files:\s*\*\s*\n(?:[^\n]*\n)*?License:\s*([^\n]+)/m.exec(text);
  return m?.[1]?.trim();
}
