/**
 * arch.ts — Debian architecture names for OCI platforms, and back. PURE.
 * https://wiki.debian.org/SupportedArchitectures ; OCI names follow Go's GOARCH/GOARM.
 */
import { FromscratchError } from '../errors.ts';
import type { Platform } from '../model/platform.ts';

const TO_DEBIAN: Record<string, string> = {
  amd64: 'amd64',
  arm64: 'arm64',
  '386': 'i386',
  ppc64le: 'ppc64el',
  s390x: 's390x',
  riscv64: 'riscv64',
  mips64le: 'mips64el',
  mipsle: 'mipsel',
  loong64: 'loong64',
};

/**
 * debianArch maps an OCI platform to its Debian architecture (`linux/arm/v7` → `armhf`,
 * `linux/arm/v5` → `armel`, `linux/386` → `i386`). Throws INVALID_ARGUMENT for a non-Linux platform
 * or an architecture Debian does not build.
 */
export function debianArch(p: Platform): string {
  if (p.os !== 'linux') {
    throw new FromscratchError('INVALID_ARGUMENT', `Debian packages exist for linux only, not ${p.os}`, {
      hint: 'use --platform linux/ARCH',
    });
  }
  if (p.architecture === 'arm') {
    if (p.variant === 'v5' || p.variant === 'v6') return 'armel';
    return 'armhf';
  }
  const d = TO_DEBIAN[p.architecture];
  if (!d) {
    throw new FromscratchError('INVALID_ARGUMENT', `no Debian architecture for ${p.architecture}`, {
      hint: `Debian architectures map from: ${Object.keys(TO_DEBIAN).join(', ')}, arm`,
    });
  }
  return d;
}

/** ociPlatform maps a Debian architecture to its OCI platform (`armhf` → linux/arm/v7). Throws INVALID_ARGUMENT. */
export function ociPlatform(debArch: string): Platform {
  if (debArch === 'armhf') return { os: 'linux', architecture: 'arm', variant: 'v7' };
  if (debArch === 'armel') return { os: 'linux', architecture: 'arm', variant: 'v5' };
  if (debArch === 'arm64') return { os: 'linux', architecture: 'arm64', variant: 'v8' };
  const oci = Object.entries(TO_DEBIAN).find(([, d]) => d === debArch)?.[0];
  if (!oci)
    throw new FromscratchError('INVALID_ARGUMENT', `unknown Debian architecture ${JSON.stringify(debArch)}`);
  return { os: 'linux', architecture: oci };
}
