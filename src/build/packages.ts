/**
 * packages.ts — `--package NAME[=VER]`: Debian packages resolved from apt sources for the platform's
 * architecture, fetched, verified and turned into entries with their origins.
 */
import { join } from 'node:path';
import { FromscratchError } from '../errors.ts';
import { type DebEntries, debEntries } from '../deb/deb-entries.ts';
import { resolveDebs } from '../deb/resolve-debs.ts';
import type { Platform } from '../model/platform.ts';
import { formatPlatform } from '../model/platform.ts';
import { cacheDir } from './cache-dir.ts';
import type { RecordedPackage } from './record.ts';

/** debianArch maps an OCI platform to its Debian architecture name. */
export function debianArch(p: Platform): string {
  switch (p.architecture) {
    case 'amd64':
    case 'arm64':
    case 's390x':
    case 'riscv64':
      return p.architecture;
    case 'arm':
      return p.variant === 'v5' || p.variant === 'v6' ? 'armel' : 'armhf';
    case '386':
      return 'i386';
    case 'ppc64le':
      return 'ppc64el';
    case 'mips64le':
      return 'mips64el';
    case 'loong64':
      return 'loong64';
    default:
      throw new FromscratchError('INVALID_ARGUMENT', `Debian has no architecture for platform ${formatPlatform(p)}`, {
        hint: 'choose a platform Debian ships: linux/amd64, linux/arm64, linux/arm/v7, linux/386, linux/ppc64le, linux/s390x, linux/riscv64',
      });
  }
}

/** PackageOptions configures packageEntries. */
export interface PackageOptions {
  /** `deb URL SUITE COMPONENT…` sources (default the host's apt sources) */
  sources?: readonly string[];
  /** keep docs, man pages and locales (default false) */
  keepDocs?: boolean;
  onProgress?: (message: string) => void;
}

/** packageEntries resolves and reads packages for one platform. */
export async function packageEntries(requests: readonly { name: string; version?: string }[], platform: Platform, o: PackageOptions = {}): Promise<DebEntries> {
  const arch = debianArch(platform);
  const dir = join(cacheDir(), 'deb');
  const lock = await resolveDebs(
    requests.map((r) => ({ name: r.name, ...(r.version ? { version: r.version } : {}) })),
    { arches: [arch], cacheDir: dir, ...(o.sources ? { sources: o.sources } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}) },
  );
  return debEntries(lock, { forArch: arch, cacheDir: dir, ...(o.keepDocs ? { keepDocs: true } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
}

/** toRecordedPackages turns installed packages into build-record entries, with the DEP-5 license when stated. */
export function toRecordedPackages(d: DebEntries): RecordedPackage[] {
  return d.packages.map((p) => {
    const license = p.copyright ? dep5License(p.copyright) : undefined;
    return {
      name: p.name,
      version: p.version,
      architecture: p.architecture,
      ...(p.source ? { source: p.source } : {}),
      ...(license ? { license } : {}),
    };
  });
}

/** dep5License returns the License of the `Files: *` paragraph of a machine-readable copyright file. */
function dep5License(text: string): string | undefined {
  if (!/^Format:\s*https?:\/\/www\.debian\.org\/doc\/packaging-manuals\/copyright-format\//m.test(text)) return undefined;
  const m = /^Files:\s*\*\s*\n(?:[^\n]*\n)*?License:\s*([^\n]+)/m.exec(text);
  return m?.[1]?.trim();
}
