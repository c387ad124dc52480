/**
 * resolve.ts — choose the Debian packages a request needs, as apt would, into a Lockfile. PURE.
 *
 * The algorithm is apt's simple case, deterministic and without backtracking:
 * - as apt's MarkInstall: the requests are marked, then visited depth-first; for each package the
 *   relations of Pre-Depends, then Depends (field order) not yet satisfied are collected, then each,
 *   re-checked, is resolved and its package visited before the next;
 * - a relation already satisfied by a chosen package (or something it Provides) is done;
 * - otherwise the first alternative with an installable candidate is taken (apt's rule), the
 *   candidate being the highest version that satisfies the version constraint, is not excluded by a
 *   `NAME=VERSION` pin, and does not Conflict with or Break a chosen package (nor is broken by one);
 * - a virtual name is satisfied by a real package of that name first, then by providers: versioned
 *   Provides (`foo (= 1)`) are the only ones that satisfy versioned dependencies; among several
 *   providers the order is Priority (required, important, standard, optional, extra), then name;
 * - Essential packages are never added unless something depends on them (an image has no dpkg);
 * - one target architecture per resolution: packages of that architecture or `all`. Multi-Arch:
 *   `name:any` needs `Multi-Arch: allowed`, `name:native` means the target architecture; `same` and
 *   `foreign` change nothing when one architecture is installed.
 * Recommends and Suggests are not followed (distroless and apko do the same).
 */
import { FromscratchError } from '../errors.ts';
import {
  type Dependency,
  dependencyAppliesTo,
  formatDependency,
  formatRelation,
  parseRelation,
  type Relation,
} from './control.ts';
import type { LockedPackage, Lockfile } from './lockfile.ts';
import type { PackageRecord, PackagesIndex } from './packages-index.ts';
import { compareDebVersions, versionSatisfies } from './version.ts';

/** PackageRequest names a package, optionally pinned to one version. */
export interface PackageRequest {
  readonly name: string;
  readonly version?: string;
}

/** ResolveOptions configures resolvePackages. */
export interface ResolveOptions {
  /** the target Debian architecture (`amd64`, `arm64`, …) */
  arch: string;
  /** names already provided by other means and never added (default none) */
  exclude?: readonly string[];
  /** cap on packages chosen, against runaway indexes (default 5000) */
  maxPackages?: number;
}

/** parsePackageRequest parses `name` or `name=version` (the --package syntax). Throws INVALID_ARGUMENT. */
export function parsePackageRequest(s: string): PackageRequest {
  const m = /^([a-z0-9][a-z0-9+.-]*)(?:=([A-Za-z0-9.+~:-]+))?$/.exec(s.trim());
  if (!m) {
    throw new FromscratchError('INVALID_ARGUMENT', `invalid package request ${JSON.stringify(s)}`, {
      hint: 'use NAME or NAME=VERSION, e.g. --package jq or --package jq=1.6-2.1+deb12u3',
    });
  }
  return m[2] ? { name: m[1]!, version: m[2] } : { name: m[1]! };
}

const PRIORITY: Record<string, number> = { required: 0, important: 1, standard: 2, optional: 3, extra: 4 };

interface Chosen {
  readonly rec: PackageRecord;
  /** names from the request down to this package */
  readonly chain: readonly string[];
}

/** lockedFrom turns an index record into a lockfile entry. */
export function lockedFrom(rec: PackageRecord, forArch: string): LockedPackage {
  const base = rec.baseUrl ?? '';
  const p: { -readonly [K in keyof LockedPackage]: LockedPackage[K] } = {
    name: rec.name,
    version: rec.version,
    architecture: rec.architecture,
    forArch,
    url: `${base.replace(/\/+$/, '')}/${rec.filename}`,
    size: rec.size,
    sha256: rec.sha256,
  };
  if (rec.source) {
    p.source = rec.source.name;
    p.sourceVersion = rec.source.version;
  } else {
    p.source = rec.name;
    p.sourceVersion = rec.version;
  }
  if (rec.multiArch !== 'no') p.multiArch = rec.multiArch;
  if (rec.installedSize !== undefined && Number.isSafeInteger(rec.installedSize))
    p.installedSize = rec.installedSize;
  return p;
}

/**
 * resolvePackages computes the closure of `requests` over `index` for one architecture. Throws
 * DEB_NOT_FOUND (unknown package or pinned version, with the versions that exist) or DEB_UNSATISFIABLE
 * explaining the chain (`requested ruby3.1 → ruby3.1 depends on libruby3.1 (= 3.1.2-7) but only
 * 3.1.2-8 is available`).
 *
 * @example resolvePackages([{ name: 'jq' }], index, { arch: 'arm64' }).packages.map((p) => p.name)
 */
export function resolvePackages(
  requests: readonly PackageRequest[],
  index: PackagesIndex,
  opts: ResolveOptions,
): Lockfile {
  const arch = opts.arch;
  const maxPackages = opts.maxPackages ?? 5000;
  const excluded = new Set(opts.exclude ?? []);
  const pins = new Map<string, string>();
  for (const r of requests) {
    if (!r.version) continue;
    const old = pins.get(r.name);
    if (old !== undefined && compareDebVersions(old, r.version) !== 0) {
      throw new FromscratchError(
        'DEB_UNSATISFIABLE',
        `${r.name} is requested at two versions, ${old} and ${r.version}`,
        { hint: 'request one version' },
      );
    }
    pins.set(r.name, r.version);
  }
  const chosen = new Map<string, Chosen>();
  /** provided virtual name → chosen packages providing it (with the provided version) */
  const provided = new Map<string, { rec: PackageRecord; version?: string }[]>();
  const relCache = new WeakMap<PackageRecord, Map<string, Relation[]>>();
  const rels = (
    rec: PackageRecord,
    field: 'depends' | 'preDepends' | 'conflicts' | 'breaks' | 'provides',
  ): Relation[] => {
    let m = relCache.get(rec);
    if (!m) {
      m = new Map();
      relCache.set(rec, m);
    }
    let r = m.get(field);
    if (!r) {
      const raw = rec[field];
      r = raw ? parseRelation(raw, `${field} of ${rec.name} ${rec.version}`) : [];
      m.set(field, r);
    }
    return r;
  };

  const archOk = (rec: PackageRecord, dep?: Dependency): boolean => {
    const q = dep?.archQualifier;
    if (!q || q === 'native') return rec.architecture === arch || rec.architecture === 'all';
    if (q === 'any')
      return (rec.architecture === arch || rec.architecture === 'all') && rec.multiArch === 'allowed';
    return rec.architecture === q || (rec.architecture === 'all' && q === arch);
  };
  const versionOk = (version: string, dep: Dependency) =>
    !dep.op || !dep.version || versionSatisfies(version, dep.op, dep.version);

  /** matches tells whether a relation alternative `dep` is met by package `rec` (by name or Provides). */
  const matches = (dep: Dependency, rec: PackageRecord): boolean => {
    if (rec.name === dep.name && versionOk(rec.version, dep) && archOk(rec, dep)) return true;
    for (const alts of rels(rec, 'provides')) {
      for (const p of alts) {
        if (p.name !== dep.name) continue;
        if (!dep.op)
          return (
            !dep.archQualifier ||
            dep.archQualifier === 'native' ||
            rec.multiArch === 'foreign' ||
            rec.multiArch === 'allowed'
          );
        if (p.op === '=' && p.version && versionSatisfies(p.version, dep.op, dep.version!)) return true;
      }
    }
    return false;
  };

  /** conflictWith finds a chosen package that conflicts with `cand` in either direction. */
  const conflictWith = (
    cand: PackageRecord,
  ): { other: PackageRecord; rel: string; who: 'cand' | 'other' } | undefined => {
    for (const field of ['conflicts', 'breaks'] as const) {
      for (const alts of rels(cand, field)) {
        for (const d of alts) {
          if (!dependencyAppliesTo(d, arch)) continue;
          for (const c of chosen.values()) {
            if (c.rec.name !== cand.name && matches(d, c.rec))
              return {
                other: c.rec,
                rel: `${field === 'breaks' ? 'breaks' : 'conflicts with'} ${formatDependency(d)}`,
                who: 'cand',
              };
          }
        }
      }
      for (const c of chosen.values()) {
        if (c.rec.name === cand.name) continue;
        for (const alts of rels(c.rec, field)) {
          for (const d of alts) {
            if (dependencyAppliesTo(d, arch) && matches(d, cand))
              return {
                other: c.rec,
                rel: `${field === 'breaks' ? 'breaks' : 'conflicts with'} ${formatDependency(d)}`,
                who: 'other',
              };
          }
        }
      }
    }
    return undefined;
  };

  /** satisfiedBy returns the chosen package meeting an alternative, if any. */
  const satisfiedBy = (dep: Dependency): PackageRecord | undefined => {
    const c = chosen.get(dep.name);
    if (c && matches(dep, c.rec)) return c.rec;
    for (const p of provided.get(dep.name) ?? []) if (matches(dep, p.rec)) return p.rec;
    return undefined;
  };

  /** candidates lists installable records for an alternative, best first, with reasons for the rejected. */
  const candidates = (dep: Dependency, why: string[]): PackageRecord[] => {
    const out: PackageRecord[] = [];
    const real = index.byName.get(dep.name) ?? [];
    const pin = pins.get(dep.name);
    const realOk = real.filter((r) => archOk(r, dep));
    for (const r of realOk) {
      if (pin !== undefined && compareDebVersions(r.version, pin) !== 0) continue;
      if (!versionOk(r.version, dep)) continue;
      out.push(r);
    }
    if (realOk.length > 0 && out.length === 0) {
      const have = [...new Set(realOk.map((r) => r.version))].join(', ');
      why.push(
        pin !== undefined
          ? `${dep.name} is pinned to ${pin} (available: ${have})`
          : `but only ${have} ${realOk.length > 1 ? 'are' : 'is'} available`,
      );
    } else if (real.length > 0 && realOk.length === 0) {
      why.push(
        dep.archQualifier === 'any'
          ? `but ${dep.name} is not Multi-Arch: allowed`
          : `but ${dep.name} exists only for ${[...new Set(real.map((r) => r.architecture))].join(', ')}, not ${arch}`,
      );
    }
    const provs = (index.providers.get(dep.name) ?? [])
      .map((p) => p.pkg)
      .filter((r) => r.name !== dep.name && archOk(r) && matches(dep, r))
      .filter((r) => !pins.has(r.name) || compareDebVersions(r.version, pins.get(r.name)!) === 0);
    const seen = new Set<string>();
    const sorted = provs
      .sort(
        (a, b) =>
          (PRIORITY[a.priority ?? 'optional'] ?? 3) - (PRIORITY[b.priority ?? 'optional'] ?? 3) ||
          (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) ||
          compareDebVersions(b.version, a.version),
      )
      .filter((r) => {
        if (seen.has(r.name)) return false;
        seen.add(r.name);
        return true;
      });
    out.push(...sorted);
    if (real.length === 0 && provs.length === 0 && !why.length)
      why.push(`but ${dep.name} is not in any apt source for ${arch}`);
    return out;
  };

  const choose = (rec: PackageRecord, chain: readonly string[]) => {
    if (chosen.size >= maxPackages) {
      throw new FromscratchError('TOO_LARGE', `resolving packages: more than ${maxPackages} packages`, {
        hint: 'request fewer packages',
      });
    }
    chosen.set(rec.name, { rec, chain });
    for (const alts of rels(rec, 'provides')) {
      for (const p of alts) {
        const list = provided.get(p.name) ?? [];
        list.push(p.version ? { rec, version: p.version } : { rec });
        provided.set(p.name, list);
      }
    }
    queue.push(rec);
  };

  const describe = (chain: readonly string[]) => `requested ${chain.join(' → ')}`;
  const queue: PackageRecord[] = [];

  // the requests themselves
  for (const r of requests) {
    if (excluded.has(r.name) || chosen.has(r.name)) continue;
    const all = index.byName.get(r.name) ?? [];
    const forArch = all.filter((x) => x.architecture === arch || x.architecture === 'all');
    const pick = r.version
      ? forArch.find((x) => compareDebVersions(x.version, r.version!) === 0)
      : forArch[0];
    if (!pick) {
      const provs = (index.providers.get(r.name) ?? []).map((p) => p.pkg.name);
      let hint = 'check the name (apt-cache search NAME) and the apt sources';
      if (r.version && forArch.length)
        hint = `available versions: ${[...new Set(forArch.map((x) => x.version))].join(', ')}`;
      else if (all.length)
        hint = `${r.name} exists for ${[...new Set(all.map((x) => x.architecture))].sort().join(', ')} only`;
      else if (provs.length)
        hint = `${r.name} is a virtual package; request one of: ${[...new Set(provs)].sort().join(', ')}`;
      throw new FromscratchError(
        'DEB_NOT_FOUND',
        `package ${r.name}${r.version ? `=${r.version}` : ''} not found for ${arch}`,
        { hint },
      );
    }
    const c = conflictWith(pick);
    if (c) {
      throw new FromscratchError(
        'DEB_UNSATISFIABLE',
        `requested ${pick.name} ${pick.version} and ${c.other.name} ${c.other.version} conflict (${c.who === 'cand' ? pick.name : c.other.name} ${c.rel})`,
        {
          hint: 'request only one of them',
        },
      );
    }
    choose(pick, [r.name]);
  }

  // depth-first over dependencies, as apt's MarkInstall: a package's unsatisfied relations are collected
  // first, then each (re-checked, an earlier one may have satisfied it) is resolved and recursed into
  const install = (rec: PackageRecord, depth: number): void => {
    if (depth > maxPackages) throw new Error('dependency recursion deeper than the package cap'); // bug guard
    const chain = chosen.get(rec.name)!.chain;
    const todo: { alts: Dependency[]; field: 'preDepends' | 'depends' }[] = [];
    for (const field of ['preDepends', 'depends'] as const) {
      for (const alts of rels(rec, field)) {
        const live = alts.filter((d) => dependencyAppliesTo(d, arch));
        if (live.length === 0) continue;
        if (live.some((d) => excluded.has(d.name) || satisfiedBy(d))) continue;
        todo.push({ alts: live, field });
      }
    }
    for (const { alts: live, field } of todo) {
      if (live.some((d) => excluded.has(d.name) || satisfiedBy(d))) continue;
      const reasons: string[] = [];
      let picked: PackageRecord | undefined;
      for (const d of live) {
        const mine: string[] = [];
        const existing = chosen.get(d.name);
        if (existing) {
          reasons.push(
            `but ${existing.rec.name} ${existing.rec.version} is already chosen (${describe(existing.chain)})`,
          );
          continue;
        }
        for (const cand of candidates(d, mine)) {
          if (chosen.has(cand.name)) continue; // a chosen provider that does not match was already ruled out
          const c = conflictWith(cand);
          if (c) {
            mine.push(
              `${cand.name} ${cand.version} conflicts with the chosen ${c.other.name} ${c.other.version} (${c.who === 'cand' ? cand.name : c.other.name} ${c.rel})`,
            );
            continue;
          }
          picked = cand;
          break;
        }
        reasons.push(...mine);
        if (picked) break;
      }
      const rel = formatRelation(live);
      const verb = field === 'preDepends' ? 'pre-depends on' : 'depends on';
      if (!picked) {
        throw new FromscratchError(
          'DEB_UNSATISFIABLE',
          `${describe(chain)}: ${rec.name} ${rec.version} ${verb} ${rel} ${reasons.join('; ') || 'which cannot be installed'}`,
          {
            hint: 'pin other versions with NAME=VERSION, add the apt source that has the package, or check the architecture',
          },
        );
      }
      choose(picked, [...chain, picked.name]);
      install(picked, depth + 1);
    }
  };
  // like apt-get install: every request is marked first, then their dependencies are resolved in order
  for (const rec of [...queue]) install(rec, 0);

  const packages = [...chosen.values()]
    .map((c) => lockedFrom(c.rec, arch))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const reqStrings = requests.map((r) => (r.version ? `${r.name}=${r.version}` : r.name));
  return { lockfileVersion: 1, requests: { [arch]: reqStrings }, packages };
}
