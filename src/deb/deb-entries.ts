/**
 * deb-entries.ts — from a lockfile to image entries: fetch and read every .deb, merge their files,
 * map them onto a merged /usr, add what maintainer scripts would have made (CA bundle, alternatives)
 * and the dpkg status.d records scanners read. assembleDebs is PURE; debEntries does the IO.
 */
import { FromscratchError } from '../errors.ts';
import type { FileEntry } from '../fs/file-tree.ts';
import type { Origin } from '../fs/origin.ts';
import { comparePaths } from '../fs/path.ts';
import { type DebPackage, parseDeb, type ReadDebOptions } from './deb-file.ts';
import { canonicalUsrPath, dpkgStatusEntries } from './dpkg-status.ts';
import { type FetchDebOptions, fetchDebs } from './fetch-deb.ts';
import {
  type GeneratedCachesOptions,
  generatedCaches,
  type LdconfigRule,
  type PixbufKnown,
  readHostPixbufLoaders,
} from './generated-caches.ts';
import type { Distribution, LockedPackage, Lockfile } from './lockfile.ts';
import { osIdentityEntries } from './os-release.ts';
import { postInstall } from './post-install.ts';
import { type NotEmulated, scriptEffects } from './script-effects.ts';

/** AssembleOptions configures assembleDebs. */
export interface AssembleOptions {
  /**
   * move `/bin`, `/sbin`, `/lib*` contents under `/usr` and make the top-level names symlinks, as a
   * merged-/usr Debian (bookworm's default) is laid out — and as host files added beside are (default true)
   */
  mergeUsr?: boolean;
  /** write /var/lib/dpkg/status.d records (default true) */
  dpkgStatus?: boolean;
  /**
   * reproduce what postinst scripts do (script-effects.ts: ucf, phpenmod, a2enmod, ln -s, mkdir,
   * dpkg-statoverride), the CA bundle and update-alternatives links (default true)
   */
  postInstall?: boolean;
  /** the releases the packages came from (the lockfile's), for /etc/os-release and purls */
  distributions?: readonly Distribution[];
}

/** InstalledDeb describes one package put in the image, for SBOMs and reports. */
export interface InstalledDeb {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  readonly source?: string;
  readonly sourceVersion?: string;
  readonly url?: string;
  readonly sha256?: string;
  readonly installedSize?: number;
  readonly homepage?: string;
  readonly maintainer?: string;
  readonly description?: string;
  /** text of /usr/share/doc/NAME/copyright (machine-readable DEP-5 or free text), when shipped */
  readonly copyright?: string;
  /** image paths of the package's entries (after /usr merging), sorted */
  readonly files: readonly string[];
  /** paths left out (docs, man pages, locales) */
  readonly excluded: readonly string[];
  /** who publishes it, lowercase (`debian`), from its source's InRelease Origin; absent: unknown */
  readonly vendor?: string;
  /** the release, as purls name it (`debian-12`) */
  readonly distro?: string;
}

/** DebEntries is what debEntries returns: entries for a layer, their origins, and the packages. */
export interface DebEntries {
  /** entries sorted by path; each path once */
  readonly entries: readonly FileEntry[];
  readonly origins: ReadonlyMap<string, readonly Origin[]>;
  readonly packages: readonly InstalledDeb[];
  /** maintainer-script commands whose effect is not in the image, one per (package, command) */
  readonly notEmulated: readonly NotEmulated[];
}

/** notEmulatedWarning is the build warning for one command not emulated. */
export function notEmulatedWarning(n: NotEmulated): string {
  return `package ${n.package}: its postinst runs \`${n.example}\`${n.line > 0 ? ` (line ${n.line}${n.source ? ` of ${n.source}` : ''})` : ' (a trigger)'}, ${n.reason === 'not emulated' ? 'which fromscratch does not emulate' : `not emulated: ${n.reason}`}; the image lacks ${n.lacks ?? 'its effect'}`;
}

const MERGED = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'libo32'];

/**
 * assembleDebs merges read packages into one set of entries. Directories shared by packages appear once;
 * a file shipped by two packages is taken from the later one (as dpkg does with Replaces) and keeps
 * both origins. `locked` supplies URLs and digests for the package list, matched by name.
 */
export function assembleDebs(
  debs: readonly DebPackage[],
  locked: readonly LockedPackage[] = [],
  opts: AssembleOptions = {},
): DebEntries {
  const merge = opts.mergeUsr !== false;
  const map = new Map<string, FileEntry>();
  const origins = new Map<string, Origin[]>();
  const usedTop = new Set<string>();
  const mapPath = (p: string) => {
    if (!merge) return p;
    const c = canonicalUsrPath(p);
    if (c !== p) usedTop.add(p.split('/')[1]!);
    return c;
  };
  const pkgFiles = new Map<string, string[]>();
  for (const d of debs) {
    const files: string[] = [];
    for (const e0 of d.entries) {
      if (merge && e0.type === 'dir' && MERGED.includes(e0.path.slice(1))) {
        usedTop.add(e0.path.slice(1));
        continue; // becomes a symlink below
      }
      const path = mapPath(e0.path);
      const e = (
        e0.type === 'hardlink'
          ? { ...e0, path, target: mapPath(e0.target) }
          : path === e0.path
            ? e0
            : { ...e0, path }
      ) as FileEntry;
      files.push(path);
      const old = map.get(path);
      const list = origins.get(path) ?? [];
      if (!list.some((o) => o.kind === 'package' && o.name === d.origin.name)) list.push(d.origin);
      origins.set(path, list);
      if (old?.type === 'dir' && e.type === 'dir') continue; // shared directory: first metadata wins
      map.set(path, e);
    }
    pkgFiles.set(d.origin.name, files);
  }
  for (const top of [...usedTop].sort()) {
    const path = `/${top}`;
    const old = map.get(path);
    if (old && old.type !== 'symlink') {
      throw new FromscratchError(
        'PATH_CONFLICT',
        `cannot merge /usr: a package ships ${path} as a ${old.type}`,
        { hint: 'build with mergeUsr off' },
      );
    }
    map.set(path, { type: 'symlink', path, target: `usr/${top}`, mode: 0o777, uid: 0, gid: 0, mtime: 0 });
    origins.set(path, [{ kind: 'default', what: 'merged /usr layout (Debian bookworm default)' }]);
  }
  const extra: FileEntry[] = [];
  let notEmulated: NotEmulated[] = [];
  if (opts.postInstall !== false) {
    const fx = scriptEffects(
      debs.map((d) => {
        const pi = d.controlFiles.get('postinst');
        const depends = ['Pre-Depends', 'Depends'].flatMap((f) =>
          (d.control.get(f) ?? '')
            .split(/[,|]/)
            .map((r) => r.trim().split(/[\s(:]/)[0]!)
            .filter(Boolean),
        );
        return {
          name: d.origin.name,
          version: d.origin.version,
          architecture: d.origin.architecture,
          depends,
          ...(pi ? { postinst: Buffer.from(pi).toString('utf8') } : {}),
        };
      }),
      map,
    );
    for (const p of fx.removed) {
      map.delete(p);
      origins.delete(p);
    }
    for (const e of fx.entries) map.set(e.path, e);
    for (const [p, o] of fx.origins) origins.set(p, o);
    for (const [p, o] of fx.notes) if (map.has(p)) origins.set(p, [...(origins.get(p) ?? []), ...o]);
    notEmulated = fx.notEmulated;
    const r = postInstall(
      debs.map((d) => {
        const pi = d.controlFiles.get('postinst');
        return {
          name: d.origin.name,
          version: d.origin.version,
          architecture: d.origin.architecture,
          ...(pi ? { postinst: Buffer.from(pi).toString('utf8') } : {}),
        };
      }),
      map,
    );
    extra.push(...r.entries);
    for (const [p, o] of r.origins) origins.set(p, o);
  }
  if (opts.dpkgStatus !== false) {
    const r = dpkgStatusEntries(
      debs.map((d) => ({
        name: d.origin.name,
        controlText: d.controlText,
        files: (pkgFiles.get(d.origin.name) ?? []).flatMap((p) => {
          const e = map.get(p);
          return e?.type === 'file' && e.content.kind === 'bytes' ? [{ path: p, data: e.content.data }] : [];
        }),
      })),
    );
    extra.push(...r.entries);
    for (const [p, o] of r.origins) origins.set(p, o);
  }
  for (const e of extra) map.set(e.path, e);
  if (opts.postInstall !== false) {
    const os = osIdentityEntries(
      debs.flatMap((d) => {
        const l = locked.find((x) => x.name === d.origin.name);
        const dist = l && opts.distributions?.find((x) => l.url.startsWith(`${x.uri.replace(/\/+$/, '')}/`));
        return dist ? [dist] : [];
      }),
      map,
    );
    for (const e of os.entries) map.set(e.path, e);
    for (const [p, o] of os.origins) origins.set(p, o);
  }
  const entries = [...map.values()].sort((a, b) => comparePaths(a.path, b.path));
  const byName = new Map(locked.map((l) => [l.name, l]));
  const packages = debs.map((d): InstalledDeb => {
    const l = byName.get(d.origin.name);
    const c = d.control;
    const copyright = map.get(`/usr/share/doc/${d.origin.name}/copyright`);
    const src = c.get('Source');
    const srcName = src?.split(' ')[0];
    const srcVersion = /\((.+)\)/.exec(src ?? '')?.[1];
    const ip: Record<string, unknown> = {
      name: d.origin.name,
      version: d.origin.version,
      architecture: d.origin.architecture,
      source: srcName ?? d.origin.name,
      sourceVersion: srcVersion ?? d.origin.version,
      files: [...(pkgFiles.get(d.origin.name) ?? [])].sort(comparePaths),
      excluded: d.excluded,
    };
    if (l) {
      ip.url = l.url;
      ip.sha256 = l.sha256;
      const dist = opts.distributions?.find((x) => l.url.startsWith(`${x.uri.replace(/\/+$/, '')}/`));
      if (dist?.origin) {
        ip.vendor = dist.origin.toLowerCase().replace(/[^a-z0-9.-]+/g, '-');
        const major = /^([0-9]+)/.exec(dist.version ?? '')?.[1];
        if (major) ip.distro = `${ip.vendor}-${major}`;
      }
    }
    const isz = Number(c.get('Installed-Size'));
    if (Number.isSafeInteger(isz)) ip.installedSize = isz;
    for (const [k, f] of [
      ['homepage', 'Homepage'],
      ['maintainer', 'Maintainer'],
    ] as const) {
      const v = c.get(f);
      if (v) ip[k] = v;
    }
    const desc = c.get('Description')?.split('\n')[0];
    if (desc) ip.description = desc;
    if (copyright?.type === 'file' && copyright.content.kind === 'bytes')
      ip.copyright = Buffer.from(copyright.content.data).toString('utf8');
    return ip as unknown as InstalledDeb;
  });
  return { entries, origins, packages, notEmulated };
}

/** DebEntriesOptions configures debEntries. */
export interface DebEntriesOptions
  extends FetchDebOptions,
    AssembleOptions,
    Pick<ReadDebOptions, 'keepDocs' | 'maxBytes' | 'maxRatio'> {
  /** the target architecture to take from a multi-architecture lockfile (default: the only one) */
  forArch?: string;
  /** gdk-pixbuf loaders.cache entries by module digest (default: the build host's, readHostPixbufLoaders) */
  pixbufKnown?: PixbufKnown;
  /** the ldconfig rule (GeneratedCachesOptions.ldconfig); without it no ld.so.cache is generated */
  ldconfig?: LdconfigRule;
}

/**
 * debEntries downloads (or takes from the caches), verifies and reads every package of `lock` for one
 * target architecture and assembles them. Throws what fetchDeb, parseDeb and assembleDebs throw, with the
 * package named.
 *
 * @example const { entries, origins, packages } = await debEntries(lock, { forArch: 'arm64' })
 */
export async function debEntries(lock: Lockfile, opts: DebEntriesOptions = {}): Promise<DebEntries> {
  const arches = Object.keys(lock.requests);
  const forArch = opts.forArch ?? (arches.length === 1 ? arches[0] : undefined);
  if (!forArch) {
    throw new FromscratchError(
      'INVALID_ARGUMENT',
      `the lockfile holds several architectures (${arches.join(', ')}); say which one`,
      { hint: 'pass forArch' },
    );
  }
  const pkgs = lock.packages.filter((p) => p.forArch === forArch);
  const bytes = await fetchDebs(pkgs, opts);
  const debs: DebPackage[] = [];
  for (let i = 0; i < pkgs.length; i++) {
    const p = pkgs[i]!;
    const ro: ReadDebOptions = { what: `${p.name}_${p.version}_${p.architecture}.deb` };
    if (opts.keepDocs !== undefined) ro.keepDocs = opts.keepDocs;
    if (opts.maxBytes !== undefined) ro.maxBytes = opts.maxBytes;
    if (opts.maxRatio !== undefined) ro.maxRatio = opts.maxRatio;
    const d = await parseDeb(bytes[i]!, ro);
    if (d.origin.name !== p.name || d.origin.version !== p.version) {
      throw new FromscratchError(
        'DEB_INVALID',
        `${ro.what} says it is ${d.origin.name} ${d.origin.version}`,
        { hint: 'the lockfile or the mirror is inconsistent; resolve again' },
      );
    }
    debs.push(d);
  }
  const assembled = assembleDebs(debs, pkgs, {
    ...opts,
    ...(lock.distributions ? { distributions: lock.distributions } : {}),
  });
  if (opts.postInstall === false) return assembled;
  return withGeneratedCaches(assembled, {
    pixbufKnown: opts.pixbufKnown ?? (await readHostPixbufLoaders()),
    ...(opts.ldconfig ? { ldconfig: opts.ldconfig } : {}),
  });
}

/**
 * withGeneratedCaches adds the files Debian's triggers would generate (generated-caches.ts); a gdk-pixbuf
 * loader no known cache describes becomes a `notEmulated` entry of the package that ships it.
 */
export async function withGeneratedCaches(
  d: DebEntries,
  opts: GeneratedCachesOptions = {},
): Promise<DebEntries> {
  const map = new Map(d.entries.map((e) => [e.path, e]));
  const g = await generatedCaches(map, opts, d.origins);
  if (g.entries.length === 0 && g.unknownLoaders.length === 0) return d;
  for (const e of g.entries) map.set(e.path, e);
  const origins = new Map(d.origins);
  for (const [p, o] of g.origins) origins.set(p, o);
  const notEmulated = [...d.notEmulated];
  for (const u of g.unknownLoaders) {
    notEmulated.push({
      package: u.package ?? 'libgdk-pixbuf-2.0-0',
      command: 'gdk-pixbuf-query-loaders',
      example: `gdk-pixbuf-query-loaders ${u.path}`,
      line: 0,
      reason: `no loaders.cache describes this module (gdk-pixbuf-query-loaders must load it, which fromscratch does not do), so ${u.cache} leaves it out and the format is not loadable; install the same version of ${u.package ?? 'the package'} on the build host (its loaders.cache is used), or --add a loaders.cache made for the image`,
    });
  }
  return {
    ...d,
    entries: [...map.values()].sort((a, b) => comparePaths(a.path, b.path)),
    origins,
    notEmulated,
  };
}
