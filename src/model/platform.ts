/**
 * platform.ts — OS/architecture/variant. PURE.
 * https://github.com/opencontainers/image-spec/blob/main/image-index.md#platform-variants
 */
import { FromscratchError } from '../errors.ts';

/** Platform is an image's target, as in an index's `platform` field. */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
  readonly 'os.version'?: string;
}

const KNOWN_ARCH = new Set([
  'amd64',
  'arm64',
  'arm',
  '386',
  'ppc64le',
  'ppc64',
  's390x',
  'riscv64',
  'mips64le',
  'mipsle',
  'loong64',
]);

/** KNOWN_PLATFORMS are the `linux/ARCH` platforms parsePlatform accepts (shell completion offers them). */
export const KNOWN_PLATFORMS: readonly string[] = [...KNOWN_ARCH].map((a) => `linux/${a}`);

/** parsePlatform parses `os/arch[/variant]` (e.g. `linux/arm64/v8`). Throws INVALID_ARGUMENT. */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().split('/');
  const [os, architecture, variant] = parts;
  if (parts.length < 2 || parts.length > 3 || !os || !architecture || (parts.length === 3 && !variant)) {
    throw new FromscratchError('INVALID_ARGUMENT', `invalid platform "${s}"`, {
      hint: 'write a platform as OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm/v7',
    });
  }
  if (!KNOWN_ARCH.has(architecture)) {
    throw new FromscratchError(
      'INVALID_ARGUMENT',
      `unknown architecture "${architecture}" in platform "${s}"`,
      {
        hint: `known architectures: ${[...KNOWN_ARCH].join(', ')}`,
      },
    );
  }
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** formatPlatform writes a Platform as `os/arch[/variant]`. */
export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/** hostPlatform maps Node's process.arch to the OCI platform of the host. */
export function hostPlatform(arch: string = process.arch): Platform {
  const map: Record<string, Platform> = {
    x64: { os: 'linux', architecture: 'amd64' },
    arm64: { os: 'linux', architecture: 'arm64' },
    arm: { os: 'linux', architecture: 'arm', variant: 'v7' },
    ia32: { os: 'linux', architecture: '386' },
    ppc64: { os: 'linux', architecture: 'ppc64le' },
    s390x: { os: 'linux', architecture: 's390x' },
    riscv64: { os: 'linux', architecture: 'riscv64' },
    loong64: { os: 'linux', architecture: 'loong64' },
  };
  const p = map[arch];
  if (!p) throw new Error(`unsupported host architecture ${arch}`);
  return p;
}

/** platformMatches tells whether `have` satisfies `want` (variant only compared when want has one). */
export function platformMatches(have: Platform | undefined, want: Platform): boolean {
  if (!have) return false;
  if (have.os !== want.os || have.architecture !== want.architecture) return false;
  if (want.variant && have.variant && want.variant !== have.variant) return false;
  return true;
}
