/**
 * json.test.ts — the strict JSON parser and the manifest/index/config validators (RELIABILITY.md C6,
 * D1, D2, D4, D5).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { parseImageConfig, parseImageIndex, parseImageManifest, parseJsonStrict } from './json.ts';

const D = `sha256:${'a'.repeat(64)}`;
const desc = (mt: string, extra: object = {}) => ({ mediaType: mt, digest: D, size: 10, ...extra });
const manifest = (over: object = {}) =>
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: desc('application/vnd.oci.image.config.v1+json'),
    layers: [desc('application/vnd.oci.image.layer.v1.tar+gzip')],
    ...over,
  });

const throwsCode = (f: () => unknown, code: string, re?: RegExp) =>
  assert.throws(
    f,
    (e: unknown) => isFromscratchError(e) && e.code === code && (re === undefined || re.test(e.message)),
  );

test('parseJsonStrict parses what JSON.parse parses', () => {
  const doc = '{"a":[1,2.5,-3e2,true,false,null,"x\\n\\u00e9"],"b":{"c":{}}, "d" : [] }';
  assert.deepEqual(parseJsonStrict(doc, 'doc'), JSON.parse(doc));
});

test('parseJsonStrict refuses duplicate keys, at any depth (D5)', () => {
  throwsCode(
    () => parseJsonStrict('{"digest":"a","digest":"b"}', 'manifest X'),
    'INVALID_IMAGE',
    /manifest X: .*duplicate key "digest"/,
  );
  throwsCode(() => parseJsonStrict('{"a":{"b":1,"b":1}}', 'doc'), 'INVALID_IMAGE', /duplicate key "b"/);
  // the same key escaped differently is still the same key
  throwsCode(() => parseJsonStrict('{"a":1,"\\u0061":2}', 'doc'), 'INVALID_IMAGE', /duplicate/);
});

test('parseJsonStrict enforces the size cap before parsing (C6)', () => {
  throwsCode(() => parseJsonStrict(Buffer.alloc(1025, 0x20), 'config Y', 1024), 'TOO_LARGE', /config Y/);
});

test('parseJsonStrict refuses malformed input with a typed error', () => {
  for (const bad of [
    '',
    '{',
    '{"a":1,}',
    '[1,]',
    '{"a" 1}',
    "{'a':1}",
    '01',
    'NaN',
    '"\u0001"',
    '{"a":1} x',
    '['.repeat(300) + ']'.repeat(300),
  ]) {
    throwsCode(() => parseJsonStrict(bad, 'doc'), 'INVALID_IMAGE');
  }
  throwsCode(() => parseJsonStrict(Buffer.from([0x7b, 0xff, 0x7d]), 'doc'), 'INVALID_IMAGE', /UTF-8/);
  throwsCode(() => parseJsonStrict(Buffer.from('\ufeff{}'), 'doc'), 'INVALID_IMAGE', /byte order mark/);
});

test('parseJsonStrict keeps "__proto__" an ordinary key', () => {
  const v = parseJsonStrict('{"__proto__":{"polluted":1}}', 'doc') as Record<string, unknown>;
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(Object.keys(v), ['__proto__']);
});

test('parseImageManifest accepts a valid manifest and returns only known fields', () => {
  const m = parseImageManifest(manifest({ annotations: { a: 'b' } }));
  assert.equal(m.layers.length, 1);
  assert.equal(m.config.digest, D);
  assert.deepEqual(m.annotations, { a: 'b' });
});

test('parseImageManifest refuses ambiguous documents (D1, D2)', () => {
  throwsCode(() => parseImageManifest(manifest({ manifests: [] })), 'AMBIGUOUS_MANIFEST');
  throwsCode(
    () => parseImageManifest(manifest({ mediaType: 'application/vnd.oci.image.index.v1+json' })),
    'AMBIGUOUS_MANIFEST',
  );
  throwsCode(
    () =>
      parseImageManifest(manifest(), {
        expectedMediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      }),
    'AMBIGUOUS_MANIFEST',
  );
  throwsCode(
    () => parseImageIndex(JSON.stringify({ schemaVersion: 2, manifests: [], config: desc('x/y') })),
    'AMBIGUOUS_MANIFEST',
  );
  throwsCode(
    () => parseImageIndex(JSON.stringify({ schemaVersion: 2, manifests: [], layers: [] })),
    'AMBIGUOUS_MANIFEST',
  );
});

test('parseImageManifest: malformed fields give typed errors (D4, C4)', () => {
  const cases: [string, object, string][] = [
    ['schemaVersion 1', { schemaVersion: 1 }, 'INVALID_IMAGE'],
    ['schemaVersion as a string', { schemaVersion: '2' }, 'INVALID_IMAGE'],
    ['missing config', { config: undefined }, 'INVALID_IMAGE'],
    ['layers not an array', { layers: {} }, 'INVALID_IMAGE'],
    [
      'negative size',
      { config: desc('application/vnd.oci.image.config.v1+json', { size: -1 }) },
      'INVALID_IMAGE',
    ],
    [
      'fractional size',
      { config: desc('application/vnd.oci.image.config.v1+json', { size: 1.5 }) },
      'INVALID_IMAGE',
    ],
    [
      'unsafe size',
      { config: desc('application/vnd.oci.image.config.v1+json', { size: 2 ** 60 }) },
      'INVALID_IMAGE',
    ],
    [
      'size as string',
      { config: desc('application/vnd.oci.image.config.v1+json', { size: '10' }) },
      'INVALID_IMAGE',
    ],
    [
      'digest path traversal',
      { config: desc('application/vnd.oci.image.config.v1+json', { digest: 'sha256:../../etc/passwd' }) },
      'INVALID_DIGEST',
    ],
    [
      'uppercase digest',
      { config: desc('application/vnd.oci.image.config.v1+json', { digest: `sha256:${'A'.repeat(64)}` }) },
      'INVALID_DIGEST',
    ],
    [
      'short digest',
      { config: desc('application/vnd.oci.image.config.v1+json', { digest: 'sha256:abc' }) },
      'INVALID_DIGEST',
    ],
    [
      'unknown algorithm',
      { config: desc('application/vnd.oci.image.config.v1+json', { digest: `md5:${'a'.repeat(32)}` }) },
      'INVALID_DIGEST',
    ],
    [
      'empty digest',
      { config: desc('application/vnd.oci.image.config.v1+json', { digest: '' }) },
      'INVALID_DIGEST',
    ],
    ['bad media type', { config: desc('not a media type') }, 'INVALID_IMAGE'],
    ['annotation not a string', { annotations: { a: 1 } }, 'INVALID_IMAGE'],
    ['unknown top-level field (D5)', { payload: 'x' }, 'INVALID_IMAGE'],
  ];
  for (const [name, over, code] of cases) {
    assert.throws(
      () => parseImageManifest(manifest(over)),
      (e: unknown) => isFromscratchError(e) && e.code === code,
      name,
    );
  }
  // 1e400 is Infinity to JSON.parse; it must not pass as a size
  throwsCode(
    () => parseImageManifest(manifest().replace('"size":10', '"size":1e400')),
    'INVALID_IMAGE',
    /size/,
  );
  throwsCode(() => parseImageManifest('[]'), 'INVALID_IMAGE');
});

test('parseImageIndex caps the number of manifests (D8)', () => {
  const doc = JSON.stringify({
    schemaVersion: 2,
    manifests: Array.from({ length: 5 }, () => desc('application/vnd.oci.image.manifest.v1+json')),
  });
  assert.equal(parseImageIndex(doc).manifests.length, 5);
  throwsCode(() => parseImageIndex(doc, { maxManifests: 4 }), 'TOO_LARGE');
});

test('parseImageConfig validates types and keeps the modelled members', () => {
  const cfg = parseImageConfig(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '2024-01-01T00:00:00Z',
      config: {
        Env: ['A=1'],
        Entrypoint: null,
        Cmd: ['/x'],
        Labels: null,
        Hostname: 'dropped',
        ExposedPorts: { '80/tcp': {} },
      },
      rootfs: { type: 'layers', diff_ids: [D] },
      history: [{ created_by: 'x', empty_layer: true }],
      container_config: { ignored: true },
    }),
  );
  assert.deepEqual(cfg.config, { Env: ['A=1'], Cmd: ['/x'], ExposedPorts: { '80/tcp': {} } });
  assert.deepEqual(cfg.rootfs.diff_ids, [D]);
  throwsCode(
    () =>
      parseImageConfig(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          rootfs: { type: 'layers', diff_ids: ['sha256:x'] },
        }),
      ),
    'INVALID_DIGEST',
  );
  throwsCode(
    () =>
      parseImageConfig(
        JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'other', diff_ids: [] } }),
      ),
    'INVALID_IMAGE',
  );
  throwsCode(
    () =>
      parseImageConfig(
        JSON.stringify({ architecture: 1, os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
      ),
    'INVALID_IMAGE',
  );
  throwsCode(
    () =>
      parseImageConfig(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          config: { Env: 'A=1' },
          rootfs: { type: 'layers', diff_ids: [] },
        }),
      ),
    'INVALID_IMAGE',
    /config\.Env/,
  );
});
