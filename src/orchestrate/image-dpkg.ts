/**
 * image-dpkg.ts — the Debian packages an image says it holds, from its own dpkg data, for the SBOM of an
 * image fromscratch did not build (no build record): `var/lib/dpkg/status` (dpkg, Debian and Ubuntu
 * images), `var/lib/dpkg/status.d/<pkg>` (distroless and fromscratch images), and for file ownership
 * `var/lib/dpkg/info/<pkg>[:<arch>].list` and `<pkg>.md5sums` (in info/ or status.d/). PURE: it works on
 * file contents already read from the layers. The same rules as scanners (syft, trivy) use.
 */

import { parseControl } from '../deb/control.ts';
import type { Origin } from '../fs/origin.ts';

/** isDpkgData says whether an image path is dpkg data this module reads. */
export function isDpkgData(path: string): boolean {
  return (
    path === '/var/lib/dpkg/status' ||
    /^\/var\/lib\/dpkg\/status\.d\/[^/]+$/.test(path) ||
    /^\/var\/lib\/dpkg\/info\/[^/]+\.(?:list|md5sums)$/.test(path)
  );
}

/** ImagePackage is one installed package found in an image, with the image paths its data says it owns. */
export interface ImagePackage {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  readonly source?: string;
  readonly owns: readonly string[];
}

/**
 * readImageDpkg reads the packages recorded in an image's dpkg data (`files`: path → bytes of the files
 * isDpkgData accepts). Packages not in state `installed` (per `Status:`, when present) are left out.
 * A paragraph that does not parse is skipped: the SBOM of a foreign image is best effort, never refused.
 */
export function readImageDpkg(files: ReadonlyMap<string, Uint8Array>): ImagePackage[] {
  const text = (p: string) => Buffer.from(files.get(p) ?? new Uint8Array()).toString('utf8');
  const paragraphs: { get(n: string): string | undefined }[] = [];
  const read = (p: string) => {
    try {
      paragraphs.push(...parseControl(text(p), { what: p }));
    } catch {
      // a corrupt status file: its packages are not reported (best effort, see above)
    }
  };
  if (files.has('/var/lib/dpkg/status')) read('/var/lib/dpkg/status');
  for (const p of [...files.keys()].sort()) {
    if (/^\/var\/lib\/dpkg\/status\.d\/[^/]+$/.test(p) && !p.endsWith('.md5sums')) read(p);
  }
  const out = new Map<string, ImagePackage>();
  for (const para of paragraphs) {
    const name = para.get('Package');
    const version = para.get('Version');
    if (!name || !version) continue;
    const status = para.get('Status');
    if (status !== undefined && !/\binstalled$/.test(status.trim())) continue;
    const architecture = para.get('Architecture') ?? 'all';
    const source = para.get('Source')?.split(' ')[0];
    const owns = new Set<string>();
    for (const base of [name, `${name}:${architecture}`]) {
      for (const f of [`/var/lib/dpkg/info/${base}.list`]) {
        for (const line of text(f).split('\n')) if (line.startsWith('/')) owns.add(line);
      }
      for (const f of [`/var/lib/dpkg/info/${base}.md5sums`, `/var/lib/dpkg/status.d/${base}.md5sums`]) {
        for (const line of text(f).split('\n')) {
          const m = /^[0-9a-f]{32} +(.+)$/.exec(line);
          if (m) owns.add(`/${m[1]!.replace(/^\/+/, '')}`);
        }
      }
    }
    out.set(`${name}:${architecture}`, {
      name,
      version,
      architecture,
      ...(source ? { source } : {}),
      owns: [...owns].sort(),
    });
  }
  return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** packageOrigins maps each image path a package owns to its `package` origin. */
export function packageOrigins(pkgs: readonly ImagePackage[]): Map<string, Origin[]> {
  const m = new Map<string, Origin[]>();
  for (const p of pkgs) {
    for (const path of p.owns) {
      const o: Origin = { kind: 'package', name: p.name, version: p.version, architecture: p.architecture };
      m.set(path, [...(m.get(path) ?? []), o]);
    }
  }
  return m;
}
