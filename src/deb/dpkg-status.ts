/**
 * dpkg-status.ts — the dpkg database, both ways:
 * - dpkgStatusEntries (PURE) writes `/var/lib/dpkg/status.d/<package>` and `<package>.md5sums` as
 *   distroless images do, so Trivy, Grype and Syft detect the packages of a scratch image;
 * - readHostDpkgOwners (IO) maps host files to the package that installed them, from the host's
 *   `/var/lib/dpkg/info/*.list` and `/var/lib/dpkg/status`, to attribute --binary/--add/--trace files.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileEntry } from '../fs/file-tree.ts';
import type { Origin } from '../fs/origin.ts';
import { canonicalUsrPath } from '../fs/path.ts';
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
  /**
   * installed packages by `name` and by `name:arch`; with `paths` given to readHostDpkgOwners, only
   * the packages that own one of them, by `name:arch`
   */
  readonly packages: ReadonlyMap<string, HostPackage>;
  /** whether the root has a dpkg database with an installed package (not every sysroot is Debian) */
  readonly installed: boolean;
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

export { canonicalUsrPath };

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

/** scratch is readLatin1's buffer, kept between calls (a .list file is a few kB; it grows for larger). */
let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * readLatin1 is a file's bytes as one-byte text, or '' when it cannot be read: open, read, close into
 * a buffer kept between calls, for the ~1000 small .list files a build scans (readFileSync adds an
 * fstat and a buffer per file).
 */
function readLatin1(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    let n = 0;
    for (;;) {
      if (n === scratch.length) {
        const bigger = Buffer.allocUnsafe(scratch.length * 2);
        scratch.copy(bigger);
        scratch = bigger;
      }
      const got = readSync(fd, scratch, n, scratch.length - n, null);
      if (got === 0) break;
      n += got;
    }
    return scratch.toString('latin1', 0, n);
  } catch {
    return '';
  } finally {
    closeSync(fd);
  }
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
  if (o.paths !== undefined) return readOwnersOf(dpkg, o.paths);
  const packages = new Map<string, HostPackage>();
  const paragraphs = new Map<string, ControlParagraph>();
  const statusText = readText(join(dpkg, 'status'));
  for (const p of statusText ? parseControl(statusText, { what: `${dpkg}/status` }) : []) {
    const hp = installedPackage(p);
    if (hp === undefined) continue;
    packages.set(`${hp.name}:${hp.architecture}`, hp);
    paragraphs.set(`${hp.name}:${hp.architecture}`, p);
    if (!packages.has(hp.name) || hp.architecture === 'all') packages.set(hp.name, hp);
  }
  const owners = new Map<string, HostPackage>();
  const byPkg = new Map<string, string[]>();
  const info = join(dpkg, 'info');
  for (const n of await listFiles(info)) {
    const key = n.slice(0, -5);
    const pkg = packages.get(key) ?? packages.get(key.split(':')[0]!);
    if (!pkg) continue; // a leftover .list of a removed package
    const paths = readText(join(info, n))
      .split('\n')
      .filter((l) => l.startsWith('/'));
    byPkg.set(pkg.name, paths);
    for (const p of paths) {
      if (p === '/.') continue;
      const c = canonicalUsrPath(p);
      if (!owners.has(c)) owners.set(c, pkg);
    }
  }
  return {
    packages,
    installed: packages.size > 0,
    owner: (path) => owners.get(canonicalUsrPath(path)),
    files: (pkg) => byPkg.get(pkg) ?? [],
    paragraph: (key) => paragraphs.get(key),
  };
}

/** installedPackage is the package a status paragraph describes, if it is installed. */
function installedPackage(p: ControlParagraph): HostPackage | undefined {
  if (!/ installed$/.test(p.get('Status') ?? '')) return undefined; // config-files, half-installed … own nothing usable
  const name = p.get('Package');
  const version = p.get('Version');
  const architecture = p.get('Architecture') ?? '';
  if (!name || !version) return undefined;
  const src = p.get('Source')?.split(' ')[0];
  return src ? { name, version, architecture, source: src } : { name, version, architecture };
}

/** listFiles is the `.list` files of dpkg's info directory, sorted (none when it cannot be read). */
async function listFiles(info: string): Promise<string[]> {
  return (await readdir(info).catch(() => [] as string[])).filter((n) => n.endsWith('.list')).sort();
}

/**
 * readOwnersOf answers readHostDpkgOwners for the `paths` asked only, the way a build asks (a few
 * hundred paths of the ~140k lines of a host's .list files), with the work kept to that:
 * - the .list files are read as one-byte text and scanned line by line, and only a line whose length
 *   and last character match a path asked for is looked up (no array of every line, no string of it);
 * - the status file is cut into paragraphs by its `Package:` line, and only the paragraphs of packages
 *   whose .list names a path asked for are parsed.
 * The answers are those of the whole map: the first .list in name order whose package is installed
 * wins (dpkg-status.test.ts compares the two on this host's database).
 */
async function readOwnersOf(dpkg: string, asked: Iterable<string>): Promise<HostDpkgOwners> {
  const statusText = readText(join(dpkg, 'status'));
  const byName = statusIndex(statusText);
  const wanted = new Map<string, string>();
  const shapes = new Set<number>();
  for (const [spelling, c] of spellings(asked)) {
    // a .list line is read as latin1: the path's UTF-8 bytes, one character each
    const line = Buffer.from(spelling, 'utf8').toString('latin1');
    wanted.set(line, c);
    shapes.add(lineShape(line.length, line.charCodeAt(line.length - 1)));
  }
  /** the keys (`name` or `name:arch`, from the .list names) of the lists naming each path, in order */
  const candidates = new Map<string, string[]>();
  const info = join(dpkg, 'info');
  for (const n of wanted.size === 0 ? [] : await listFiles(info)) {
    const key = n.slice(0, -5);
    if (!byName.has(key.split(':')[0]!)) continue; // a leftover .list of a removed package
    const text = readLatin1(join(info, n));
    for (let at = 0; at < text.length; ) {
      let nl = text.indexOf('\n', at);
      if (nl === -1) nl = text.length;
      if (nl > at && shapes.has(lineShape(nl - at, text.charCodeAt(nl - 1)))) {
        const c = wanted.get(text.slice(at, nl));
        if (c !== undefined) {
          const keys = candidates.get(c);
          if (keys === undefined) candidates.set(c, [key]);
          else if (keys.at(-1) !== key) keys.push(key);
        }
      }
      at = nl + 1;
    }
  }
  const packages = new Map<string, HostPackage>();
  const paragraphs = new Map<string, ControlParagraph>();
  /** the installed package a .list key stands for, as the whole map's `packages.get(key) ?? packages.get(name)` */
  const resolved = new Map<string, HostPackage | undefined>();
  const resolve = (key: string): HostPackage | undefined => {
    if (resolved.has(key)) return resolved.get(key);
    const [name, arch] = key.split(':') as [string, string | undefined];
    let found: { hp: HostPackage; p: ControlParagraph } | undefined;
    let first: { hp: HostPackage; p: ControlParagraph } | undefined;
    for (const range of byName.get(name) ?? []) {
      const p = parseControl(statusText.slice(range[0], range[1]), { what: `${dpkg}/status` })[0];
      const hp = p && installedPackage(p);
      if (!p || !hp || hp.name !== name) continue;
      const it = { hp, p };
      if (arch !== undefined && hp.architecture === arch) found ??= it;
      first ??= it;
      if (hp.architecture === 'all') first = it;
    }
    const pick = found ?? first;
    if (pick) {
      packages.set(`${pick.hp.name}:${pick.hp.architecture}`, pick.hp);
      paragraphs.set(`${pick.hp.name}:${pick.hp.architecture}`, pick.p);
    }
    resolved.set(key, pick?.hp);
    return pick?.hp;
  };
  const owners = new Map<string, HostPackage>();
  for (const [c, keys] of candidates) {
    for (const key of keys) {
      const hp = resolve(key);
      if (hp === undefined) continue;
      owners.set(c, hp);
      break;
    }
  }
  return {
    packages,
    installed: byName.size > 0,
    owner: (path) => owners.get(canonicalUsrPath(path)),
    files: () => [],
    paragraph: (key) => paragraphs.get(key),
  };
}

/** lineShape is a .list line's length and last character as one number: a cheap filter before a lookup. */
function lineShape(length: number, last: number): number {
  return length * 256 + (last & 0xff);
}

/**
 * statusIndex maps each package name of a dpkg status text to the [start, end) of its paragraphs
 * (one per architecture). Paragraphs are separated by blank lines; the name is the paragraph's
 * `Package:` field, wherever it is in it (dpkg writes it first).
 */
function statusIndex(text: string): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  const field = /^package:[ \t]*(\S+)[ \t]*$/im;
  const blank = /\n[ \t]*\n/g;
  for (let at = 0; at < text.length; ) {
    blank.lastIndex = at;
    const m = blank.exec(text);
    const end = m ? m.index + 1 : text.length;
    const para = text.slice(at, end);
    const name = text.startsWith('Package: ', at)
      ? para.slice(9, para.indexOf('\n') === -1 ? para.length : para.indexOf('\n')).trim()
      : field.exec(para)?.[1];
    if (name) {
      const ranges = out.get(name);
      if (ranges === undefined) out.set(name, [[at, end]]);
      else ranges.push([at, end]);
    }
    at = m ? m.index + m[0].length : text.length;
  }
  return out;
}
