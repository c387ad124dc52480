/**
 * sbom-input.ts — what both SBOM formats are made from: the image, its files and packages. PURE types.
 */
import type { Origin } from '../fs/origin.ts';

/** SbomFile is one regular file of the image with its checksum and reasons. */
export interface SbomFile {
  readonly path: string;
  readonly sha256: string;
  /** SHA-1, which SPDX 2.3 requires of every file (absent: not computed, e.g. an older caller) */
  readonly sha1?: string;
  readonly size: number;
  readonly origins: readonly Origin[];
}

/** SbomPackage is a Debian package (whole or partial) whose files are in the image. */
export interface SbomPackage {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  readonly partial?: boolean;
  readonly license?: string;
  readonly source?: string;
  /** who publishes it (`debian`, `node-source`…); absent: Debian */
  readonly vendor?: string;
  /** the release, as purls name it (`debian-12`) */
  readonly distro?: string;
  /** image paths of its files present in the image */
  readonly files: readonly string[];
}

/** SbomInput describes one image. */
export interface SbomInput {
  /** image name for the document (the reference the user gave) */
  readonly name: string;
  /** manifest digest */
  readonly digest: string;
  /** os/arch */
  readonly platform: string;
  /** RFC 3339 creation time (SOURCE_DATE_EPOCH) — never the wall clock, so SBOMs are reproducible */
  readonly created: string;
  readonly files: readonly SbomFile[];
  readonly packages: readonly SbomPackage[];
  readonly toolVersion: string;
}

/** debPurl returns the package URL of a Debian package (https://github.com/package-url/purl-spec). */
export function debPurl(p: {
  name: string;
  version: string;
  architecture: string;
  vendor?: string;
  distro?: string;
}): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%3A/g, ':');
  const distro = p.distro ? `&distro=${enc(p.distro)}` : '';
  return `pkg:deb/${enc(p.vendor ?? 'debian')}/${enc(p.name)}@${enc(p.version)}?arch=${enc(p.architecture)}${distro}`;
}

/** supplierOf names a package's supplier for SPDX. */
export function supplierOf(p: { vendor?: string }): string {
  return !p.vendor || p.vendor === 'debian' ? 'Organization: Debian' : 'NOASSERTION';
}

/** ociPurl returns the package URL of the image itself. */
export function ociPurl(name: string, digest: string): string {
  const base =
    name
      .replace(/^[a-z-]+:/, '')
      .split('/')
      .pop()
      ?.split(':')[0] ?? 'image';
  return `pkg:oci/${encodeURIComponent(base.toLowerCase() || 'image')}@${encodeURIComponent(digest)}`;
}
