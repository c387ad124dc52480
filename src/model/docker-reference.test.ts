/**
 * docker-reference.test.ts — pins parseDockerReference to docker's own table tests
 * (distribution/reference normalize_test.go: TestValidateReferenceName, TestValidateRemoteName,
 * TestParseRepositoryInfo, TestNormalizedSplitHostname, TestParseReferenceWithTagAndDigest).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { familiarDockerReference, formatDockerReference, parseDockerReference } from './docker-reference.ts';

const HEX = '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a';
const D = 'sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa';

// TestValidateReferenceName + TestValidateRemoteName: valid names
const valid = [
  'docker/docker',
  'library/debian',
  'debian',
  'docker.io/docker/docker',
  'docker.io/library/debian',
  'docker.io/debian',
  'index.docker.io/docker/docker',
  'index.docker.io/library/debian',
  'index.docker.io/debian',
  '127.0.0.1:5000/docker/docker',
  '127.0.0.1:5000/library/debian',
  '127.0.0.1:5000/debian',
  '192.168.0.1',
  '192.168.0.1:80',
  '192.168.0.1:8/debian',
  '192.168.0.2:25000/debian',
  'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
  '[fc00::1]:5000/docker',
  '[fc00::1]:5000/docker/docker',
  '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
  `docker.io/${HEX}`,
  'Docker/docker',
  'DOCKER/docker',
  'docker-rules/docker',
  'docker---rules/docker',
  'doc/docker',
  'd/docker',
  'jess/t',
  'dock__er/docker',
];

// the same tests: invalid names
const invalid = [
  'https://github.com/docker/docker',
  'docker/Docker',
  '-docker',
  '-docker/docker',
  '-docker.io/docker/docker',
  'docker///docker',
  'docker.io/docker/Docker',
  'docker.io/docker///docker',
  '[fc00::1]',
  '[fc00::1]:5000',
  'fc00::1:5000/debian',
  '[fe80::1%eth0]:5000/debian',
  '[2001:db8:3:4::192.0.2.33]:5000/debian',
  HEX,
  'docker-/docker',
  '-docker-/docker',
  '____/____',
  '_docker/_docker',
  'dock..er/docker',
  'dock_.er/docker',
  'dock-.er/docker',
  'docker/',
  `${'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_'.repeat(4)}/docker`,
  // beyond docker's tables: empty, blanks, a bad tag, a malformed digest
  '',
  'ubuntu ',
  'ubuntu:',
  'ubuntu:-x',
  'ubuntu@sha256:abc',
];

for (const s of valid) {
  test(`docker accepts ${JSON.stringify(s.slice(0, 50))}`, () => {
    assert.doesNotThrow(() => parseDockerReference(s));
  });
}

for (const s of invalid) {
  test(`docker refuses ${JSON.stringify(s.slice(0, 50))}: INVALID_REFERENCE with a hint`, () => {
    assert.throws(
      () => parseDockerReference(s),
      (e: unknown) => isFromscratchError(e, 'INVALID_REFERENCE') && e.hint !== undefined,
    );
  });
}

// TestParseRepositoryInfo: [familiar, full, ambiguous?, domain, path]
const info: [string, string, string | undefined, string, string][] = [
  ['fooo/bar', 'docker.io/fooo/bar', 'index.docker.io/fooo/bar', 'docker.io', 'fooo/bar'],
  ['ubuntu', 'docker.io/library/ubuntu', 'library/ubuntu', 'docker.io', 'library/ubuntu'],
  ['nonlibrary/ubuntu', 'docker.io/nonlibrary/ubuntu', undefined, 'docker.io', 'nonlibrary/ubuntu'],
  ['other/library', 'docker.io/other/library', undefined, 'docker.io', 'other/library'],
  [
    '127.0.0.1:8000/private/moonbase',
    '127.0.0.1:8000/private/moonbase',
    undefined,
    '127.0.0.1:8000',
    'private/moonbase',
  ],
  ['127.0.0.1:8000/privatebase', '127.0.0.1:8000/privatebase', undefined, '127.0.0.1:8000', 'privatebase'],
  [
    'example.com/private/moonbase',
    'example.com/private/moonbase',
    undefined,
    'example.com',
    'private/moonbase',
  ],
  [
    'example.com:8000/privatebasee',
    'example.com:8000/privatebasee',
    undefined,
    'example.com:8000',
    'privatebasee',
  ],
  [
    'ubuntu-12.04-base',
    'docker.io/library/ubuntu-12.04-base',
    'index.docker.io/library/ubuntu-12.04-base',
    'docker.io',
    'library/ubuntu-12.04-base',
  ],
  ['foo', 'docker.io/library/foo', 'docker.io/foo', 'docker.io', 'library/foo'],
  ['library/foo/bar', 'docker.io/library/foo/bar', undefined, 'docker.io', 'library/foo/bar'],
  ['store/foo/bar', 'docker.io/store/foo/bar', undefined, 'docker.io', 'store/foo/bar'],
  ['Foo/bar', 'Foo/bar', undefined, 'Foo', 'bar'],
  ['FOO/bar', 'FOO/bar', undefined, 'FOO', 'bar'],
  // TestNormalizedSplitHostname
  ['test.com/foo', 'test.com/foo', undefined, 'test.com', 'foo'],
  ['test_com/foo', 'docker.io/test_com/foo', undefined, 'docker.io', 'test_com/foo'],
  ['test-com:8080/foo', 'test-com:8080/foo', undefined, 'test-com:8080', 'foo'],
  ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080/foo', undefined, 'xn--n3h.com:18080', 'foo'],
  ['localhost/x', 'localhost/x', undefined, 'localhost', 'x'],
];

for (const [familiar, full, ambiguous, domain, path] of info) {
  test(`${familiar} normalises to ${full}`, () => {
    for (const s of [familiar, full, ...(ambiguous ? [ambiguous] : [])]) {
      const r = parseDockerReference(s);
      assert.equal(r.domain, domain, s);
      assert.equal(r.path, path, s);
      assert.equal(formatDockerReference(r), full, s);
      assert.equal(familiarDockerReference(r), familiar, s);
    }
  });
}

test('a tag and a digest are both kept (TestParseReferenceWithTagAndDigest); no tag is made up', () => {
  const r = parseDockerReference(`busybox:latest@${D}`);
  assert.equal(formatDockerReference(r), `docker.io/library/busybox:latest@${D}`);
  assert.equal(familiarDockerReference(r), `busybox:latest@${D}`);
  assert.equal(parseDockerReference('busybox').tag, undefined);
  assert.equal(parseDockerReference(`busybox@${D}`).tag, undefined);
  // a bare host:port with no path is a Docker Hub repository with a tag, as docker reads it
  assert.deepEqual(parseDockerReference('192.168.0.1:80'), {
    domain: 'docker.io',
    path: 'library/192.168.0.1',
    tag: '80',
  });
  assert.deepEqual(parseDockerReference('localhost:5000'), {
    domain: 'docker.io',
    path: 'library/localhost',
    tag: '5000',
  });
});

test('messages name the offending part', () => {
  assert.throws(
    () => parseDockerReference('docker/Docker'),
    /repository name "docker\/Docker" must be lowercase/,
  );
  assert.throws(() => parseDockerReference(HEX), /image ID/);
  assert.throws(() => parseDockerReference('fc00::1:5000/debian'), /invalid registry host "fc00::1:5000"/);
  assert.throws(() => parseDockerReference(`a@sha512:${'a'.repeat(128)}`), /unsupported digest/);
});
