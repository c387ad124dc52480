/**
 * cyclonedx-schema.test.ts — CycloneDX 1.6 output validated against the official JSON schema (issue 17):
 * the schema files shipped in @cyclonedx/cyclonedx-library (bom-1.6, with the spdx license-id and JSF
 * schemas it references), checked by ajv. Inputs cover every origin kind, whole and partial packages,
 * with and without license and source, non-ASCII paths and the empty image; then the SBOM of a real
 * build, as `fromscratch sbom` prints it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import type { ValidateFunction } from 'ajv';
import type { Origin } from '../../src/fs/origin.ts';
import { toCycloneDx } from '../../src/sbom/cyclonedx.ts';
import type { SbomInput } from '../../src/sbom/sbom-input.ts';
import { fromscratch } from '../e2e/cli.ts';
import { compileHello } from '../support/tiny-image.ts';
import { withTempDir } from '../support/validate-tools.ts';

const require = createRequire(import.meta.url);
// CommonJS packages: required, so that their default exports need no interop guesswork
const { Ajv } = require('ajv') as typeof import('ajv');
const addFormats = require('ajv-formats') as typeof import('ajv-formats').default;

/** validator compiles the official CycloneDX 1.6 schema with the schemas it references. */
function validator(): ValidateFunction {
  const dir = join(dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')), 'res', 'schema');
  const load = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as object;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // formats of draft 2019 that ajv-formats lacks; fields fromscratch never writes
  ajv.addFormat('iri-reference', true);
  ajv.addFormat('idn-email', true);
  // the library's copies name each other by their file names: register them under those ids
  for (const f of ['spdx.SNAPSHOT.schema.json', 'jsf-0.82.SNAPSHOT.schema.json'])
    ajv.addSchema({ ...load(f), $id: `http://cyclonedx.org/schema/${f}` });
  return ajv.compile(load('bom-1.6.SNAPSHOT.schema.json'));
}

const validate = validator();

function check(doc: unknown, what: string): void {
  const ok = validate(doc);
  assert.ok(ok, `${what}: ${JSON.stringify(validate.errors?.slice(0, 5), null, 1)}`);
}

const jq = { kind: 'package', name: 'jq', version: '1.6-2.1', architecture: 'amd64' } as const;
const ORIGINS: readonly Origin[] = [
  { kind: 'requested', via: '--add', source: '/home/u/app' },
  { kind: 'requested', via: '--binary' },
  { kind: 'needed', by: '/usr/bin/jq', soname: 'libjq.so.1', via: 'ld.so.cache' },
  { kind: 'interpreter', by: '/usr/bin/jq' },
  { kind: 'shebang', by: '/app/run', line: '#!/bin/sh' },
  { kind: 'path', to: '/lib/x86_64-linux-gnu/libc.so.6' },
  { kind: 'inferred', by: '/usr/bin/curl', reason: 'getaddrinfo → NSS' },
  { kind: 'traced', command: 'python3 app.py', pid: 42, syscall: 'openat' },
  jq,
  { kind: 'default', what: '/etc/passwd' },
  { kind: 'fix', command: '/app/run --check' },
  { kind: 'base', image: 'docker://127.0.0.1:5000/base:1' },
];

const base: SbomInput = {
  name: 'oci:out:v1',
  digest: `sha256:${'a'.repeat(64)}`,
  platform: 'linux/amd64',
  created: '1970-01-01T00:00:00Z',
  toolVersion: '0.1.0',
  files: [],
  packages: [],
};

describe('CycloneDX 1.6 against the official JSON schema', () => {
  it('the empty image', () => {
    check(toCycloneDx(base), 'empty');
  });

  it('files of every origin kind, whole and partial packages, licenses, sources, non-ASCII paths', () => {
    const input: SbomInput = {
      ...base,
      name: 'docker://127.0.0.1:5000/app:1',
      platform: 'linux/arm64/v8',
      created: '2024-02-29T12:34:56Z',
      files: [
        ...ORIGINS.map((o, i) => ({
          path: `/f/${i}-${o.kind}`,
          sha256: i.toString(16).padStart(64, '0'),
          size: i * 1000,
          origins: [o],
        })),
        { path: '/usr/share/doc/café/ü ß.txt', sha256: 'e'.repeat(64), size: 0, origins: [jq, ORIGINS[0]!] },
      ],
      packages: [
        { name: 'jq', version: '1.6-2.1', architecture: 'amd64', license: 'MIT', files: ['/f/8-package'] },
        {
          name: 'libc6',
          version: '2.36-9+deb12u4',
          architecture: 'amd64',
          partial: true,
          license: 'LGPL-2.1-or-later AND GPL-2.0-only',
          source: 'glibc',
          files: [],
        },
        { name: 'tzdata', version: '2024a-0+deb12u1', architecture: 'all', files: [] },
        {
          name: 'libssl3',
          version: '1:3.0.11-1~deb12u2',
          architecture: 'arm64',
          license: 'custom text',
          files: [],
        },
      ],
    };
    check(toCycloneDx(input), 'full');
  });

  it('a real build: `fromscratch sbom --format cyclonedx` of an image built with --add and defaults', async () => {
    await withTempDir('sbom-cdx', async (dir) => {
      await writeFile(join(dir, 'hello'), await compileHello(), { mode: 0o755 });
      const b = await fromscratch(['build', '--add', './hello:/hello', '-o', 'oci:out:x'], { cwd: dir });
      assert.equal(b.code, 0, b.stderr);
      const s = await fromscratch(['sbom', 'oci:out:x', '--format', 'cyclonedx'], { cwd: dir });
      assert.equal(s.code, 0, s.stderr);
      const doc = JSON.parse(s.stdout) as { components?: unknown[] };
      check(doc, 'fromscratch sbom');
      assert.ok((doc.components ?? []).length > 0, 'the SBOM lists the image contents');
    });
  });

  it('the schema is a real oracle: it refuses a document with a broken field', () => {
    const doc = toCycloneDx(base) as Record<string, unknown>;
    assert.equal(validate({ ...doc, specVersion: 1.6 }), false);
    assert.equal(validate({ ...doc, serialNumber: 'not-a-urn' }), false);
    assert.equal(validate({ ...doc, bogus: true }), false);
  });
});
