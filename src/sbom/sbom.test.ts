import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toCycloneDx } from './cyclonedx.ts';
import { debPurl, type SbomInput } from './sbom-input.ts';
import { toSpdx } from './spdx.ts';

const input: SbomInput = {
  name: 'oci:out:v1',
  digest: `sha256:${'a'.repeat(64)}`,
  platform: 'linux/amd64',
  created: '1970-01-01T00:00:00Z',
  toolVersion: '0.1.0',
  files: [
    {
      path: '/usr/bin/jq',
      sha256: 'b'.repeat(64),
      size: 10,
      origins: [{ kind: 'package', name: 'jq', version: '1.6-2.1', architecture: 'amd64' }],
    },
    {
      path: '/usr/lib/x86_64-linux-gnu/libjq.so.1.0.4',
      sha256: 'c'.repeat(64),
      size: 20,
      origins: [{ kind: 'needed', by: '/usr/bin/jq', soname: 'libjq.so.1', via: 'ld.so.cache' }],
    },
  ],
  packages: [
    { name: 'jq', version: '1.6-2.1', architecture: 'amd64', license: 'MIT', files: ['/usr/bin/jq'] },
  ],
};

test('purls follow the purl spec for Debian packages (epoch colon kept)', () => {
  assert.equal(
    debPurl({ name: 'libc6', version: '1:2.36-9+deb12u4', architecture: 'amd64' }),
    'pkg:deb/debian/libc6@1:2.36-9%2Bdeb12u4?arch=amd64',
  );
});

test('SPDX 2.3: every package and file, checksums, relationships; same input → same bytes', () => {
  const doc = toSpdx(input) as {
    spdxVersion: string;
    packages: { name: string }[];
    files: { fileName: string; checksums: unknown[] }[];
    relationships: unknown[];
    documentNamespace: string;
  };
  assert.equal(doc.spdxVersion, 'SPDX-2.3');
  assert.deepEqual(
    doc.packages.map((p) => p.name),
    ['oci:out:v1', 'jq'],
  );
  assert.deepEqual(
    doc.files.map((f) => f.fileName),
    ['./usr/bin/jq', './usr/lib/x86_64-linux-gnu/libjq.so.1.0.4'],
  );
  assert.ok(doc.documentNamespace.includes('a'.repeat(64)));
  assert.equal(JSON.stringify(toSpdx(input)), JSON.stringify(toSpdx(input)));
});

test('CycloneDX 1.6: components with purls and hashes, deterministic serial number', () => {
  const bom = toCycloneDx(input) as {
    specVersion: string;
    serialNumber: string;
    components: { name: string; purl?: string }[];
  };
  assert.equal(bom.specVersion, '1.6');
  assert.match(bom.serialNumber, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(bom.components[0]?.purl, 'pkg:deb/debian/jq@1.6-2.1?arch=amd64');
  assert.equal(JSON.stringify(toCycloneDx(input)), JSON.stringify(toCycloneDx(input)));
});
