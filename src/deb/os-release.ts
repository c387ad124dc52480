/**
 * os-release.ts — the OS identity of an image of Debian packages: `/usr/lib/os-release` (with
 * `/etc/os-release → ../usr/lib/os-release`, as base-files lays it out) and `/etc/debian_version`, of the
 * release the packages came from, so that scanners (trivy, grype, syft) detect the distribution. PURE.
 *
 * The release is what the InRelease of the packages' source says (`Origin: Debian`, `Codename`,
 * `Version`); the text is the one base-files ships for that release. Nothing is generated when the
 * packages are not Debian's, when the release has no version (unstable, a derivative's suite), or when
 * the image already has the files (base-files installed, or a base image).
 */
import type { FileEntry } from '../fs/file-tree.ts';
import type { Origin } from '../fs/origin.ts';
import type { Distribution } from './lockfile.ts';

const entry = (path: string, text: string): FileEntry => {
  const data = Buffer.from(text);
  return {
    type: 'file',
    path,
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtime: 0,
    size: data.length,
    content: { kind: 'bytes', data },
  };
};

/** debianOsRelease is base-files' os-release for a Debian release (major version and codename). */
export function debianOsRelease(major: string, codename: string): string {
  return [
    `PRETTY_NAME="Debian GNU/Linux ${major} (${codename})"`,
    'NAME="Debian GNU/Linux"',
    `VERSION_ID="${major}"`,
    `VERSION="${major} (${codename})"`,
    `VERSION_CODENAME=${codename}`,
    'ID=debian',
    'HOME_URL="https://www.debian.org/"',
    'SUPPORT_URL="https://www.debian.org/support"',
    'BUG_REPORT_URL="https://bugs.debian.org/"',
    '',
  ].join('\n');
}

/**
 * osIdentityEntries returns os-release and debian_version for the Debian release most of `dists` (one per
 * package) name, unless `have` holds them already.
 */
export function osIdentityEntries(
  dists: readonly Distribution[],
  have: ReadonlyMap<string, FileEntry>,
): { entries: FileEntry[]; origins: Map<string, Origin[]> } {
  const entries: FileEntry[] = [];
  const origins = new Map<string, Origin[]>();
  const count = new Map<string, { d: Distribution; n: number }>();
  for (const d of dists) {
    if (d.origin !== 'Debian' || !/^[0-9]+/.test(d.version ?? '') || !d.codename) continue;
    const c = count.get(d.uri) ?? { d, n: 0 };
    c.n++;
    count.set(d.uri, c);
  }
  const best = [...count.values()].sort((a, b) => b.n - a.n || (a.d.uri < b.d.uri ? -1 : 1))[0]?.d;
  if (!best) return { entries, origins };
  const version = best.version!;
  const major = /^([0-9]+)/.exec(version)![1]!;
  const codename = best.codename!.replace(/-.*$/, ''); // bookworm-security, bookworm-updates → bookworm
  const why: Origin[] = [
    {
      kind: 'default',
      what: `OS identity: Debian ${version} (${codename}), from the InRelease of ${best.uri}`,
    },
  ];
  const add = (e: FileEntry) => {
    if (have.has(e.path)) return;
    entries.push(e);
    origins.set(e.path, why);
  };
  if (!have.has('/etc/os-release') && !have.has('/usr/lib/os-release')) {
    add(entry('/usr/lib/os-release', debianOsRelease(major, codename)));
    add({
      type: 'symlink',
      path: '/etc/os-release',
      target: '../usr/lib/os-release',
      mode: 0o777,
      uid: 0,
      gid: 0,
      mtime: 0,
    });
  }
  add(entry('/etc/debian_version', `${version}\n`));
  return { entries, origins };
}
