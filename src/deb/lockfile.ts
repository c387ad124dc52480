/**
 * lockfile.ts — `fromscratch.lock`: the resolved Debian packages of a build. PURE.
 *
 * Format: JSON, 2-space indented, keys in a fixed order, packages sorted by (architecture, name), one
 * trailing newline — the same resolution always gives the same bytes, so the file diffs well in git.
 *
 * ```json
 * {
 *   "lockfileVersion": 1,
 *   "requests": { "amd64": ["jq"] },
 *   "packages": [
 *     { "name": "jq", "version": "1.6-2.1+deb12u3", "architecture": "amd64",
 *       "url": "http://deb.debian.org/debian-security/pool/updates/main/j/jq/jq_1.6-2.1+deb12u3_amd64.deb",
 *       "size": 64012, "sha256": "…", "source": "jq", "sourceVersion": "1.6-2.1+deb12u3", "forArch": "amd64" }
 *   ]
 * }
 * ```
 * `architecture` is the package's own (`all` for arch-independent ones); `forArch` is the target
 * architecture it was resolved for, so one lockfile can serve a multi-platform build.
 */
import { FromscratchError } from '../errors.ts';

/** LockedPackage is one resolved .deb. */
export interface LockedPackage {
  readonly name: string;
  readonly version: string;
  /** the package's Architecture field (`amd64`, `arm64`, `all`) */
  readonly architecture: string;
  /** the target architecture this package was resolved for */
  readonly forArch: string;
  /** where to download it */
  readonly url: string;
  readonly size: number;
  /** lowercase hex SHA256 of the .deb */
  readonly sha256: string;
  /** source package name and version, when known (for SBOMs) */
  readonly source?: string;
  readonly sourceVersion?: string;
  readonly multiArch?: string;
  readonly installedSize?: number;
}

/** Lockfile is the result of resolution: what to download, exactly. */
export interface Lockfile {
  readonly lockfileVersion: 1;
  /** the requests (`name` or `name=version`) per target architecture */
  readonly requests: Readonly<Record<string, readonly string[]>>;
  readonly packages: readonly LockedPackage[];
  /**
   * the releases the packages came from, by repository URI (a package's `url` starts with its `uri`):
   * `Origin`, `Codename`, `Version` of the source's InRelease — for os-release and purls
   */
  readonly distributions?: readonly Distribution[];
}

/** Distribution is what a source's InRelease says of its release. */
export interface Distribution {
  readonly uri: string;
  readonly origin?: string;
  readonly codename?: string;
  readonly version?: string;
}

/** distributionOf returns the release a locked package came from, if the lockfile records it. */
export function distributionOf(lock: Lockfile, p: LockedPackage): Distribution | undefined {
  return lock.distributions?.find((d) => p.url.startsWith(`${d.uri.replace(/\/+$/, '')}/`));
}

function mergeDistributions(lists: readonly (readonly Distribution[] | undefined)[]): Distribution[] {
  const byUri = new Map<string, Distribution>();
  for (const l of lists) for (const d of l ?? []) if (!byUri.has(d.uri)) byUri.set(d.uri, d);
  return [...byUri.values()].sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
}

const KEYS = [
  'name',
  'version',
  'architecture',
  'forArch',
  'url',
  'size',
  'sha256',
  'source',
  'sourceVersion',
  'multiArch',
  'installedSize',
] as const;

/** sortLockedPackages orders packages by target architecture, then name (bytewise), then architecture. */
export function sortLockedPackages(pkgs: readonly LockedPackage[]): LockedPackage[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...pkgs].sort(
    (a, b) => cmp(a.forArch, b.forArch) || cmp(a.name, b.name) || cmp(a.architecture, b.architecture),
  );
}

/** formatLockfile renders a lockfile to its canonical bytes (see the file comment). */
export function formatLockfile(lock: Lockfile): string {
  const requests: Record<string, string[]> = {};
  for (const arch of Object.keys(lock.requests).sort()) requests[arch] = [...(lock.requests[arch] ?? [])];
  const packages = sortLockedPackages(lock.packages).map((p) => {
    const o: Record<string, unknown> = {};
    for (const k of KEYS) if (p[k] !== undefined) o[k] = p[k];
    return o;
  });
  const distributions = mergeDistributions([lock.distributions]).map((d) => {
    const o: Record<string, unknown> = { uri: d.uri };
    for (const k of ['origin', 'codename', 'version'] as const) if (d[k] !== undefined) o[k] = d[k];
    return o;
  });
  return `${JSON.stringify({ lockfileVersion: 1, requests, packages, ...(distributions.length > 0 ? { distributions } : {}) }, null, 2)}\n`;
}

/** mergeLockfiles combines lockfiles of different target architectures into one. */
export function mergeLockfiles(...locks: readonly Lockfile[]): Lockfile {
  const requests: Record<string, readonly string[]> = {};
  const packages: LockedPackage[] = [];
  for (const l of locks) {
    Object.assign(requests, l.requests);
    const arches = new Set(Object.keys(l.requests));
    for (let i = packages.length - 1; i >= 0; i--)
      if (arches.has(packages[i]!.forArch)) packages.splice(i, 1);
    packages.push(...l.packages);
  }
  const distributions = mergeDistributions(locks.map((l) => l.distributions));
  return {
    lockfileVersion: 1,
    requests,
    packages: sortLockedPackages(packages),
    ...(distributions.length > 0 ? { distributions } : {}),
  };
}

/**
 * parseLockfile reads and validates a lockfile. Throws FromscratchError('INVALID_ARGUMENT') naming `what`
 * and the bad entry for anything malformed (unknown version, bad sha256, non-http URL, …).
 */
export function parseLockfile(text: string, what = 'fromscratch.lock'): Lockfile {
  const bad = (why: string): never => {
    throw new FromscratchError('INVALID_ARGUMENT', `reading ${what}: ${why}`, {
      hint: 'regenerate the lockfile by building without --locked',
    });
  };
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    return bad(`not JSON: ${(e as Error).message}`);
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) return bad('not a JSON object');
  const o = j as Record<string, unknown>;
  if (o.lockfileVersion !== 1) bad(`unsupported lockfileVersion ${JSON.stringify(o.lockfileVersion)}`);
  const requests: Record<string, string[]> = {};
  if (typeof o.requests !== 'object' || o.requests === null || Array.isArray(o.requests))
    bad('"requests" must be an object');
  for (const [arch, list] of Object.entries(o.requests as object)) {
    if (!Array.isArray(list) || list.some((x) => typeof x !== 'string'))
      bad(`requests for ${arch} must be a list of strings`);
    requests[arch] = list as string[];
  }
  if (!Array.isArray(o.packages)) return bad('"packages" must be a list');
  const packages = o.packages.map((raw: unknown, i: number): LockedPackage => {
    if (typeof raw !== 'object' || raw === null) return bad(`package ${i} is not an object`);
    const p = raw as Record<string, unknown>;
    const str = (k: string, re: RegExp) => {
      const v = p[k];
      if (typeof v !== 'string' || !re.test(v))
        bad(`package ${i} (${String(p.name)}): bad ${k} ${JSON.stringify(v)}`);
      return v as string;
    };
    const out: Record<string, unknown> = {
      name: str('name', /^[a-z0-9][a-z0-9+.-]*$/),
      version: str('version', /^[A-Za-z0-9.+~:-]+$/),
      architecture: str('architecture', /^[a-z0-9-]+$/),
      forArch: str('forArch', /^[a-z0-9-]+$/),
      url: str('url', /^https?:\/\/[^\s]+$/),
      sha256: str('sha256', /^[0-9a-f]{64}$/),
    };
    if (!Number.isSafeInteger(p.size) || (p.size as number) < 0)
      bad(`package ${i} (${String(p.name)}): bad size`);
    out.size = p.size;
    for (const k of ['source', 'sourceVersion', 'multiArch'] as const)
      if (p[k] !== undefined) out[k] = str(k, /^\S+$/);
    if (p.installedSize !== undefined) {
      if (!Number.isSafeInteger(p.installedSize)) bad(`package ${i}: bad installedSize`);
      out.installedSize = p.installedSize;
    }
    return out as unknown as LockedPackage;
  });
  let distributions: Distribution[] | undefined;
  if (o.distributions !== undefined) {
    if (!Array.isArray(o.distributions)) return bad('"distributions" must be a list');
    distributions = o.distributions.map((raw: unknown, i: number): Distribution => {
      const d = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
      if (typeof d.uri !== 'string' || !/^https?:\/\/\S+$/.test(d.uri))
        return bad(`distribution ${i}: bad uri`);
      const out: Record<string, string> = { uri: d.uri };
      for (const k of ['origin', 'codename', 'version'] as const) {
        if (d[k] === undefined) continue;
        if (typeof d[k] !== 'string' || /[\n"\\]/.test(d[k])) bad(`distribution ${i}: bad ${k}`);
        out[k] = d[k] as string;
      }
      return out as unknown as Distribution;
    });
  }
  return { lockfileVersion: 1, requests, packages, ...(distributions ? { distributions } : {}) };
}

/**
 * checkLockfile verifies, for `--locked`, that `lock` was resolved for exactly these requests on each
 * architecture. Throws LOCKFILE_MISMATCH naming the first difference.
 */
export function checkLockfile(
  lock: Lockfile,
  requests: readonly string[],
  arches: readonly string[],
  what = 'fromscratch.lock',
): void {
  const want = [...requests].sort().join(' ');
  for (const arch of arches) {
    const have = lock.requests[arch];
    if (!have) {
      throw new FromscratchError('LOCKFILE_MISMATCH', `${what} has no packages for ${arch}`, {
        hint: 'build without --locked to update the lockfile',
      });
    }
    if ([...have].sort().join(' ') !== want) {
      throw new FromscratchError(
        'LOCKFILE_MISMATCH',
        `${what} was resolved for ${have.join(', ') || 'nothing'} on ${arch}, not ${requests.join(', ') || 'nothing'}`,
        {
          hint: 'build without --locked to update the lockfile',
        },
      );
    }
  }
}
