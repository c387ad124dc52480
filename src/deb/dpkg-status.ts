/**
 * dpkg-status.ts — the dpkg database, both ways:
 * - dpkgStatusEntries (PURE) writes `/var/lib/dpkg/status.d/<package>` and `<package>.md5sums` as
 *   distroless images do, so Trivy, Grype and Syft detect the packages of a scratch image;
 * - readHostDpkgOwners (IO) maps host files to the package that installed them, from the host's
 *   `/var/lib/dpkg/info/*.list` and `/var/lib/dpkg/status`, to attribute --binary/--add/--trace files.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileEntry } from '../fs/file-tree.ts';
import type { Origin } from '../fs/origin.ts';
import { type ControlParagraph, parseControl } from './control.ts';

/** StatusPackage is what status.d needs of one installed package. */
export interface StatusPackage {
  readonly name: string;
  /** the package's control file text (from control.tar) */
  readonly controlText: string;
  /** the package's regular files as they are in the image */
  readonly files: readonly (
    | { readonly path: string; readonly data: Uint8Array }
    | { readonly path: string; readonly md5: string }
  )[];
}

/** STATUS_DIR is where distroless keeps one control record per package. */
export const STATUS_DIR = '/var/lib/dpkg/status.d';

/**
 * dpkgStatusEntries returns the status.d records for `pkgs`: `<name>` holds the control paragraph
 * exactly as shipped (distroless writes the same, without a Status field) and `<name>.md5sums` lists
 * the package's files present in the image (`<md5>  <path without leading slash>`, sorted), so
 * scanners that read md5sums see what is really there. Files are 0644 root:root, mtime 0.
 */
export function dpkgStatusEntries(pkgs: readonly StatusPackage[]): {
  entries: FileEntry[];
  origins: Map<string, Origin[]>;
} {
  const entries: FileEntry[] = [];
  const origins = new Map<string, Origin[]>();
  for (const p of [...pkgs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const control = p.controlText.endsWith('\n') ? p.controlText : `${p.controlText}\n`;
    const paragraph = parseControl(control, { what: `control file of ${p.name}` })[0];
    const origin: Origin = {
      kind: 'package',
      name: p.name,
      version: paragraph?.get('Version') ?? '',
      architecture: paragraph?.get('Architecture') ?? '',
    };
    const md5 = [...p.files]
      .map(
        (f) =>
          `${'md5' in f ? f.md5 : createHash('md5').update(f.data).digest('hex')}  ${f.path.replace(/^\/+/, '')}\n`,
      )
      .sort()
      .join('');
    for (const [path, text] of [
      [`${STATUS_DIR}/${p.name}`, control],
      [`${STATUS_DIR}/${p.name}.md5sums`, md5],
    ] as const) {
      const data = Buffer.from(text);
      entries.push({
        type: 'file',
        path,
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: 0,
        size: data.length,
        content: { kind: 'bytes', data },
      });
      origins.set(path, [
        origin,
        { kind: 'default', what: 'dpkg status.d record for vulnerability scanners' },
      ]);
    }
  }
  return { entries, origins };
}

/** HostPackage is one installed package of the host's dpkg database. */
export interface HostPackage {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  readonly source?: string;
}

/** HostDpkgOwners answers which host package owns a path. */
export interface HostDpkgOwners {
  /** installed packages by `name` and by `name:arch` */
  readonly packages: ReadonlyMap<string, HostPackage>;
  /**
   * owner returns the package that installed `path` (absolute, as seen on the host). Paths under the
   * merged-/usr aliases (`/bin`, `/sbin`, `/lib*`) match either spelling. With `paths` given to
   * readHostDpkgOwners, only those paths are answered.
   */
  owner(path: string): HostPackage | undefined;
  /** files returns every path a package installed (as its .list says); empty when `paths` was given */
  files(pkg: string): readonly string[];
  /** the status paragraph of an installed `name:arch` */
  paragraph(key: string): ControlParagraph | undefined;
}

const USR_ALIASES = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/libo32'];

/** canonicalUsrPath maps `/bin/x`, `/lib/x`… to `/usr/bin/x`, `/usr/lib/x` (the merged-/usr spelling). */
export function canonicalUsrPath(p: string): string {
  for (const a of USR_ALIASES) if (p === a || p.startsWith(`${a}/`)) return `/usr${p}`;
  return p;
}

/** spellings maps each path's merged-/usr spelling, and its alias spelling (`/lib/x` for `/usr/lib/x`), to the former. */
function spellings(paths: Iterable<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of paths) {
    const c = canonicalUsrPath(p);
    if (c === '/.') continue;
    out.set(c, c);
    const alias = c.slice(4);
    if (c.startsWith('/usr/') && canonicalUsrPath(alias) === c) out.set(alias, c);
  }
  return out;
}

/** readText is a file's text, or '' when it cannot be read. */
function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * readHostDpkgOwners reads the dpkg database under `root` (default `/`). A root without one gives an
 * empty result, not an error (not every sysroot is Debian). With `paths`, only the owners of those
 * paths are kept: a build asks for a few hundred of the ~100k paths a host's .list files name, and
 * keeping only those spares a map of all of them.
 *
 * The reads are synchronous: the database is a status file and one small .list file per package (~800
 * on a desktop host), and a synchronous read of each costs less than the four thread-pool round trips
 * of an asynchronous one.
 */
export async function readHostDpkgOwners(
  root = '/',
  o: { paths?: Iterable<string> } = {},
): Promise<HostDpkgOwners> {
  const dpkg = join(root, 'var/lib/dpkg');
  const packages = new Map<string, HostPackage>();
  const paragraphs = new Map<string, ControlParagraph>();
  const statusText = readText(join(dpkg, 'status'));
  for (const p of statusText ? parseControl(statusText, { what: `${dpkg}/status` }) : []) {
    const status = p.get('Status') ?? '';
    if (!/ installed$/.test(status)) continue; // config-files, half-installed … own nothing usable
    const name = p.get('Package');
    const version = p.get('Version');
    const architecture = p.get('Architecture') ?? '';
    if (!name || !version) continue;
    const src = p.get('Source')?.split(' ')[0];
    const hp: HostPackage = src
      ? { name, version, architecture, source: src }
      : { name, version, architecture };
    packages.set(`${name}:${architecture}`, hp);
    paragraphs.set(`${name}:${architecture}`, p);
    if (!packages.has(name) || architecture === 'all') packages.set(name, hp);
  }
  // with `paths`: every spelling a .list may give each wanted path (`/usr/lib/x` and `/lib/x`) mapped to
  // its merged-/usr one, so a line is one map lookup (~130k lines on a desktop host), not a rewrite
  const wanted = o.paths === undefined ? undefined : spellings(o.paths);
  const owners = new Map<string, HostPackage>();
  const byPkg = new Map<string, string[]>();
  const info = join(dpkg, 'info');
  const names = (await readdir(info).catch(() => [] as string[])).filter((n) => n.endsWith('.list')).sort();
  for (const n of names) {
    const key = n.slice(0, -5);
    const pkg = packages.get(key) ?? packages.get(key.split(':')[0]!);
    if (!pkg) continue; // a leftover .list of a removed package
    const lines = readText(join(info, n)).split('\n');
    if (wanted) {
      for (const l of lines) {
        const c = wanted.get(l);
        if (c !== undefined && !owners.has(c)) owners.set(c, pkg);
      }
      continue;
    }
    const paths = lines.filter((l) => l.startsWith('/'));
    byPkg.set(pkg.name, paths);
    for (const p of paths) {
      if (p === '/.') continue;
      const c = canonicalUsrPath(p);
      if (!owners.has(c)) owners.set(c, pkg);
    }
  }
  return {
    packages,
    owner: (path) => owners.get(canonicalUsrPath(path)),
    files: (pkg) => byPkg.get(pkg) ?? [],
    paragraph: (key) => paragraphs.get(key),
  };
}
