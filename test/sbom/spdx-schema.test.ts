/**
 * spdx-schema.test.ts — SPDX 2.3 output (issue 14): every file carries the SHA1 checksum SPDX 2.3 requires
 * (and SHA256), and the documents validate against the official SPDX 2.3 JSON schema, by ajv.
 *
 * The schema is the spdx-spec repository's `schemas/spdx-schema.json` at tag v2.3, shipped unmodified as a
 * test fixture (fixtures/README.md: source, commit, sha256, licence). The checks of what SPDX 2.3 requires
 * (§6 document, §7 package, §8 file, §11 relationship fields; SHA1 for files) run besides the schema.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv';
import type { SbomInput } from '../../src/sbom/sbom-input.ts';
import { toSpdx } from '../../src/sbom/spdx.ts';
import { fromscratch } from '../e2e/cli.ts';
import { withTempDir } from '../support/validate-tools.ts';

const require = createRequire(import.meta.url);
const { Ajv } = require('ajv') as typeof import('ajv');

const SCHEMA = fileURLToPath(new URL('fixtures/spdx-2.3-schema.json', import.meta.url));
const SCHEMA_SHA256 = '239208b7ac287b3cf5d9a9af23f9d69863971102a5e1587a27a398b43490b89b';
const schemaText = readFileSync(SCHEMA);
const validate: ValidateFunction = new Ajv({ strict: false, allErrors: true }).compile(
  JSON.parse(schemaText.toString('utf8')) as object,
);

interface SpdxDoc {
  spdxVersion: string;
  dataLicense: string;
  SPDXID: string;
  name: string;
  documentNamespace: string;
  creationInfo: { created: string; creators: string[] };
  packages: {
    SPDXID: string;
    name: string;
    downloadLocation: string;
    externalRefs?: { referenceLocator: string }[];
  }[];
  files: { SPDXID: string; fileName: string; checksums: { algorithm: string; checksumValue: string }[] }[];
  relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
}

/** required checks what SPDX 2.3 requires of the fields fromscratch writes, schema or not. */
function required(doc: SpdxDoc): void {
  assert.equal(doc.spdxVersion, 'SPDX-2.3');
  assert.equal(doc.dataLicense, 'CC0-1.0');
  assert.equal(doc.SPDXID, 'SPDXRef-DOCUMENT');
  assert.ok(
    doc.name && /^[a-z]+:\/\/\S+$/.test(doc.documentNamespace) && !doc.documentNamespace.includes('#'),
  );
  assert.match(doc.creationInfo.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(doc.creationInfo.creators.every((c) => /^(Tool|Organization|Person): \S/.test(c)));
  const ids = new Set<string>(['SPDXRef-DOCUMENT']);
  for (const p of doc.packages) {
    assert.match(p.SPDXID, /^SPDXRef-[A-Za-z0-9.-]+$/);
    assert.ok(p.name && p.downloadLocation, p.SPDXID);
    ids.add(p.SPDXID);
  }
  for (const f of doc.files) {
    assert.match(f.SPDXID, /^SPDXRef-[A-Za-z0-9.-]+$/);
    assert.ok(f.fileName.startsWith('./'), f.fileName);
    const sha1 = f.checksums.find((c) => c.algorithm === 'SHA1');
    const sha256 = f.checksums.find((c) => c.algorithm === 'SHA256');
    assert.match(sha1?.checksumValue ?? '', /^[0-9a-f]{40}$/, `${f.fileName} has the SHA1 SPDX 2.3 requires`);
    assert.match(sha256?.checksumValue ?? '', /^[0-9a-f]{64}$/, `${f.fileName} has a SHA256`);
    ids.add(f.SPDXID);
  }
  assert.equal(ids.size, 1 + doc.packages.length + doc.files.length, 'SPDXIDs are unique');
  for (const r of doc.relationships) {
    assert.ok(ids.has(r.spdxElementId) && ids.has(r.relatedSpdxElement), JSON.stringify(r));
  }
}

/** check runs the required checks, then the official schema. */
function check(doc: unknown, what: string): void {
  required(doc as SpdxDoc);
  assert.ok(validate(doc), `${what}: ${JSON.stringify(validate.errors?.slice(0, 5), null, 1)}`);
}

const base: SbomInput = {
  name: 'oci:out:v1',
  digest: `sha256:${'a'.repeat(64)}`,
  platform: 'linux/amd64',
  created: '1970-01-01T00:00:00Z',
  toolVersion: '0.1.0',
  files: [
    {
      path: '/usr/bin/jq',
      sha256: 'b'.repeat(64),
      sha1: 'c'.repeat(40),
      size: 3,
      origins: [{ kind: 'package', name: 'jq', version: '1.6-2.1+deb12u1', architecture: 'amd64' }],
    },
    {
      path: '/etc/passwd',
      sha256: 'd'.repeat(64),
      sha1: 'e'.repeat(40),
      size: 1,
      origins: [{ kind: 'default', what: '/etc/passwd' }],
    },
  ],
  packages: [
    {
      name: 'jq',
      version: '1.6-2.1+deb12u1',
      architecture: 'amd64',
      distro: 'debian-12',
      license: 'MIT',
      files: ['/usr/bin/jq'],
    },
    {
      name: 'nodejs',
      version: '20.1.0-1nodesource1',
      architecture: 'amd64',
      vendor: 'nodesource',
      files: [],
    },
  ],
};

describe('SPDX 2.3: SHA1 + SHA256 file checksums, the official JSON schema', () => {
  it('a document with Debian and non-Debian packages', () => {
    const doc = toSpdx(base) as unknown as SpdxDoc;
    check(doc, 'unit');
    const jq = doc.packages.find((p) => p.name === 'jq');
    assert.equal(
      jq?.externalRefs?.[0]?.referenceLocator,
      'pkg:deb/debian/jq@1.6-2.1%2Bdeb12u1?arch=amd64&distro=debian-12',
    );
    const node = doc.packages.find((p) => p.name === 'nodejs') as unknown as {
      supplier: string;
      externalRefs: { referenceLocator: string }[];
    };
    assert.equal(node.supplier, 'NOASSERTION', 'a NodeSource package is not supplied by Debian');
    assert.match(node.externalRefs[0]!.referenceLocator, /^pkg:deb\/nodesource\/nodejs@/);
  });

  it('the schema fixture is the official one, unmodified', () => {
    assert.equal(createHash('sha256').update(schemaText).digest('hex'), SCHEMA_SHA256);
  });

  it('the schema is a real oracle: it refuses a file checksum with an unknown algorithm', () => {
    const doc = toSpdx(base) as unknown as SpdxDoc;
    doc.files[0]!.checksums = [{ algorithm: 'CRC32', checksumValue: '0' }];
    assert.equal(validate(doc), false);
  });

  it('a real build: `fromscratch sbom --format spdx` of host jq (Debian package credit, os-release)', async () => {
    await withTempDir('sbom-spdx', async (dir) => {
      const b = await fromscratch(['build', '--binary', '/usr/bin/jq', '-o', 'oci:out:x'], { cwd: dir });
      assert.equal(b.code, 0, b.stderr);
      const s = await fromscratch(['sbom', 'oci:out:x', '--format', 'spdx'], { cwd: dir });
      assert.equal(s.code, 0, s.stderr);
      const doc = JSON.parse(s.stdout) as SpdxDoc;
      check(doc, 'fromscratch sbom');
      const jq = doc.files.find((f) => f.fileName === './usr/bin/jq');
      const want = createHash('sha1').update(readFileSync('/usr/bin/jq')).digest('hex');
      assert.equal(jq?.checksums.find((c) => c.algorithm === 'SHA1')?.checksumValue, want);
    });
  });
});
