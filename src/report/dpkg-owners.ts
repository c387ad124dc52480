/**
 * dpkg-owners.ts — which package owns each path of an image that is not fromscratch's, from the dpkg
 * data inside it. PURE.
 *
 * Debian images list each package's paths in `/var/lib/dpkg/info/NAME[:ARCH].list`; distroless and
 * fromscratch images keep `/var/lib/dpkg/status.d/NAME.md5sums` (`MD5  path` lines, without a leading
 * slash). Paths are matched as written and in their merged-/usr spelling (`/lib/x` is `/usr/lib/x` on a
 * usr-merged image).
 */

import { canonicalUsrPath } from '../fs/path.ts';

/** DPKG_OWNER_FILE matches the dpkg files whose content names a package's paths. */
export const DPKG_OWNER_FILE = /^\/var\/lib\/dpkg\/(?:info\/[^/]+\.list|status\.d\/[^/]+\.md5sums)$/;

/** packageOfOwnerFile returns the package a dpkg owner file describes (`libc6:amd64.list` → `libc6`). */
export function packageOfOwnerFile(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1).replace(/\.(list|md5sums)$/, '');
  const colon = base.indexOf(':');
  return colon >= 0 ? base.slice(0, colon) : base;
}

/**
 * toDpkgOwners maps paths to the package owning them from the contents of the image's dpkg owner files
 * (path → text). The first package listing a path keeps it (files are taken in path order).
 */
export function toDpkgOwners(ownerFiles: ReadonlyMap<string, string>): Map<string, string> {
  const owners = new Map<string, string>();
  const names = [...ownerFiles.keys()].sort();
  for (const file of names) {
    const pkg = packageOfOwnerFile(file);
    const md5 = file.endsWith('.md5sums');
    for (const raw of ownerFiles.get(file)!.split('\n')) {
      let p = raw;
      if (md5) {
        const m = /^[0-9a-f]{32} {1,2}(.+)$/.exec(raw);
        if (!m) continue;
        p = `/${m[1]!}`;
      }
      if (!p.startsWith('/') || p === '/.') continue;
      for (const k of [p, canonicalUsrPath(p)]) if (!owners.has(k)) owners.set(k, pkg);
    }
  }
  return owners;
}
