/**
 * resolve-debs.ts — the one-call entry point: apt sources → verified indexes → Lockfile. IO.
 */
import { type AptSource, parseAptSourceLine, readHostAptSources } from './apt-sources.ts';
import { type FetchIndexOptions, fetchPackagesIndex } from './fetch-index.ts';
import { type Distribution, type Lockfile, mergeLockfiles } from './lockfile.ts';
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
    const lock = resolvePackages(requests, index, {
      arch,
      ...(opts.exclude ? { exclude: opts.exclude } : {}),
    });
    // the releases the packages came from (os-release, purls)
    const distributions: Distribution[] = [];
    for (const ix of index.indexes) {
      const uri = ix.source.uri.replace(/\/+$/, '');
      if (!ix.release || !lock.packages.some((p) => p.url.startsWith(`${uri}/`))) continue;
      if (distributions.some((d) => d.uri === uri)) continue;
      distributions.push({ uri, ...ix.release });
    }
    locks.push(distributions.length > 0 ? { ...lock, distributions } : lock);
  }
  return mergeLockfiles(...locks);
}
