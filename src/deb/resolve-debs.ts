/**
 * resolve-debs.ts — the one-call entry point: apt sources → verified indexes → Lockfile. IO.
 */
import { type AptSource, parseAptSourceLine, readHostAptSources } from './apt-sources.ts';
import { type FetchIndexOptions, fetchPackagesIndex } from './fetch-index.ts';
import { type Lockfile, mergeLockfiles } from './lockfile.ts';
import { type PackageRequest, resolvePackages } from './resolve.ts';

/** ResolveDebsOptions configures resolveDebs. */
export interface ResolveDebsOptions extends Omit<FetchIndexOptions, 'arch'> {
  /** target Debian architectures (`amd64`, `arm64`, …); one lockfile covers them all */
  arches: readonly string[];
  /** sources as AptSource values or `deb URL SUITE COMPONENT…` strings (default: the host's apt sources) */
  sources?: readonly (AptSource | string)[];
  /** names never added (already provided otherwise) */
  exclude?: readonly string[];
}

/**
 * resolveDebs resolves `requests` for every architecture in `opts.arches` against verified apt indexes
 * and returns one lockfile. Throws what fetchPackagesIndex and resolvePackages throw.
 *
 * @example const lock = await resolveDebs([{ name: 'jq' }], { arches: ['amd64', 'arm64'] })
 */
export async function resolveDebs(
  requests: readonly PackageRequest[],
  opts: ResolveDebsOptions,
): Promise<Lockfile> {
  const sources = opts.sources
    ? opts.sources
        .map((s, i) => (typeof s === 'string' ? parseAptSourceLine(s, `apt source ${i + 1}`) : s))
        .filter((s): s is AptSource => !!s)
    : await readHostAptSources();
  const locks: Lockfile[] = [];
  for (const arch of opts.arches) {
    const index = await fetchPackagesIndex(sources, { ...opts, arch });
    locks.push(
      resolvePackages(requests, index, { arch, ...(opts.exclude ? { exclude: opts.exclude } : {}) }),
    );
  }
  return mergeLockfiles(...locks);
}
