/**
 * cyclonedx.ts — CycloneDX 1.6 JSON from an SbomInput. PURE and deterministic (bom-refs and serial
 * number derived from content, timestamp from SOURCE_DATE_EPOCH).
 * https://cyclonedx.org/docs/1.6/json/
 */
import { createHash } from 'node:crypto';
import { describeOrigin } from '../fs/origin.ts';
import { debPurl, ociPurl, type SbomInput } from './sbom-input.ts';

/** toCycloneDx renders a CycloneDX 1.6 BOM. */
export function toCycloneDx(input: SbomInput): Record<string, unknown> {
  const h = createHash('sha256').update(input.digest).digest('hex');
  const serial = `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  const imageRef = ociPurl(input.name, input.digest);
  const pkgComponents = input.packages.map((p) => ({
    type: 'library',
    'bom-ref': debPurl(p),
    name: p.name,
    version: p.version,
    purl: debPurl(p),
    ...(p.license ? { licenses: [{ expression: p.license }] } : {}),
    properties: [
      { name: 'fromscratch:architecture', value: p.architecture },
      ...(p.partial ? [{ name: 'fromscratch:partial', value: 'true' }] : []),
      ...(p.source ? [{ name: 'fromscratch:source', value: p.source }] : []),
    ],
  }));
  const fileComponents = input.files.map((f) => ({
    type: 'file',
    'bom-ref': `file:${f.path}`,
    name: f.path,
    hashes: [...(f.sha1 ? [{ alg: 'SHA-1', content: f.sha1 }] : []), { alg: 'SHA-256', content: f.sha256 }],
    properties: [
      { name: 'fromscratch:size', value: String(f.size) },
      ...f.origins.map((o) => ({ name: 'fromscratch:origin', value: describeOrigin(o) })),
    ],
  }));
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: serial,
    version: 1,
    metadata: {
      timestamp: input.created,
      tools: { components: [{ type: 'application', name: 'fromscratch', version: input.toolVersion }] },
      component: {
        type: 'container',
        'bom-ref': imageRef,
        name: input.name,
        version: input.digest,
        purl: imageRef,
      },
      properties: [{ name: 'fromscratch:platform', value: input.platform }],
    },
    components: [...pkgComponents, ...fileComponents],
    dependencies: [
      {
        ref: imageRef,
        dependsOn: [...pkgComponents.map((c) => c['bom-ref']), ...fileComponents.map((c) => c['bom-ref'])],
      },
      ...input.packages.map((p) => ({ ref: debPurl(p), dependsOn: p.files.map((f) => `file:${f}`) })),
    ],
  };
}
