/**
 * spdx.ts — SPDX 2.3 JSON from an SbomInput. PURE and deterministic.
 * https://spdx.github.io/spdx-spec/v2.3/
 */
import { createHash } from 'node:crypto';
import { describeOrigin } from '../fs/origin.ts';
import { debPurl, ociPurl, type SbomInput, supplierOf } from './sbom-input.ts';

const ID_RE = /[^A-Za-z0-9.-]/g;
const spdxId = (kind: string, s: string) => `SPDXRef-${kind}-${s.replace(ID_RE, '-')}`;

/** toSpdx renders an SPDX 2.3 document; the namespace is derived from the image digest, not random. */
export function toSpdx(input: SbomInput): Record<string, unknown> {
  const rootId = 'SPDXRef-Image';
  const fileId = (p: string) =>
    spdxId('File', `${p}-${createHash('sha256').update(p).digest('hex').slice(0, 8)}`);
  const pkgId = (name: string, arch: string) => spdxId('Package-deb', `${name}-${arch}`);
  const packages: Record<string, unknown>[] = [
    {
      SPDXID: rootId,
      name: input.name,
      versionInfo: input.digest,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      primaryPackagePurpose: 'CONTAINER',
      externalRefs: [
        {
          referenceCategory: 'PACKAGE-MANAGER',
          referenceType: 'purl',
          referenceLocator: ociPurl(input.name, input.digest),
        },
      ],
      comment: `platform ${input.platform}`,
    },
    ...input.packages.map((p) => ({
      SPDXID: pkgId(p.name, p.architecture),
      name: p.name,
      versionInfo: p.version,
      supplier: supplierOf(p),
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: p.license ?? 'NOASSERTION',
      copyrightText: 'NOASSERTION',
      externalRefs: [
        { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: debPurl(p) },
      ],
      ...(p.source ? { sourceInfo: `built from source package ${p.source}` } : {}),
      ...(p.partial ? { comment: 'partial: only some files of this package are in the image' } : {}),
    })),
  ];
  const files = input.files.map((f) => ({
    SPDXID: fileId(f.path),
    fileName: `.${f.path}`,
    checksums: [
      ...(f.sha1 ? [{ algorithm: 'SHA1', checksumValue: f.sha1 }] : []),
      { algorithm: 'SHA256', checksumValue: f.sha256 },
    ],
    licenseConcluded: 'NOASSERTION',
    copyrightText: 'NOASSERTION',
    comment: f.origins.map(describeOrigin).join('; '),
  }));
  const relationships: Record<string, unknown>[] = [
    { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: rootId },
    ...input.packages.map((p) => ({
      spdxElementId: rootId,
      relationshipType: 'CONTAINS',
      relatedSpdxElement: pkgId(p.name, p.architecture),
    })),
    ...input.packages.flatMap((p) =>
      p.files.map((path) => ({
        spdxElementId: pkgId(p.name, p.architecture),
        relationshipType: 'CONTAINS',
        relatedSpdxElement: fileId(path),
      })),
    ),
    ...input.files.map((f) => ({
      spdxElementId: rootId,
      relationshipType: 'CONTAINS',
      relatedSpdxElement: fileId(f.path),
    })),
  ];
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: input.name,
    documentNamespace: `https://fromscratch.invalid/spdx/${input.digest.replace(':', '-')}`,
    creationInfo: { created: input.created, creators: [`Tool: fromscratch-${input.toolVersion}`] },
    packages,
    files,
    relationships,
  };
}
