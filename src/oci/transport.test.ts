/**
 * transport.test.ts — the transport syntax of image references (DESIGN.md): a table of accepted and
 * refused references.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { formatImageRef, type ImageRef, parseImageRef, parseOutputRef } from './transport.ts';

const D = `sha256:${'b'.repeat(64)}`;

test('parseImageRef: accepted references', () => {
  const cases: [string, ImageRef][] = [
    ['oci:out', { kind: 'oci', dir: 'out' }],
    ['oci:out:latest', { kind: 'oci', dir: 'out', tag: 'latest' }],
    ['oci:/abs/dir:v1.2', { kind: 'oci', dir: '/abs/dir', tag: 'v1.2' }],
    // the directory ends at the first colon, the tag may hold colons and slashes (containers/image)
    ['oci:out:example.com:5000/app:1.0', { kind: 'oci', dir: 'out', tag: 'example.com:5000/app:1.0' }],
    ['oci-archive:img.tar', { kind: 'oci-archive', file: 'img.tar' }],
    ['oci-archive:./img.tar:prod', { kind: 'oci-archive', file: './img.tar', tag: 'prod' }],
    ['docker-archive:img.tar', { kind: 'docker-archive', file: 'img.tar' }],
    ['docker-archive:img.tar:app:1.0', { kind: 'docker-archive', file: 'img.tar', name: 'app:1.0' }],
    ['docker-archive:img.tar:app', { kind: 'docker-archive', file: 'img.tar', name: 'app:latest' }],
    [
      'docker-archive:img.tar:localhost:5000/x:tag',
      { kind: 'docker-archive', file: 'img.tar', name: 'localhost:5000/x:tag' },
    ],
    [
      'docker-archive:img.tar:localhost:5000/x',
      { kind: 'docker-archive', file: 'img.tar', name: 'localhost:5000/x:latest' },
    ],
    ['docker-daemon:app:1.0', { kind: 'docker-daemon', name: 'app:1.0' }],
    ['docker-daemon:my/app', { kind: 'docker-daemon', name: 'my/app:latest' }],
    [
      'docker-daemon:registry.example.com:443/a/b_c:v-1.0',
      { kind: 'docker-daemon', name: 'registry.example.com:443/a/b_c:v-1.0' },
    ],
    [`docker-daemon:${D}`, { kind: 'docker-daemon', name: D }],
    ['docker://127.0.0.1:5055/app:1.0', { kind: 'registry', reference: '127.0.0.1:5055/app:1.0' }],
    [`docker://example.com/app@${D}`, { kind: 'registry', reference: `example.com/app@${D}` }],
    ['docker://alpine', { kind: 'registry', reference: 'alpine' }],
  ];
  for (const [s, want] of cases) {
    assert.deepEqual(parseImageRef(s), want, s);
    // formatting and parsing again is the identity
    assert.deepEqual(parseImageRef(formatImageRef(want)), want, `round trip of ${s}`);
  }
});

test('parseImageRef: refused references name the problem and list the transports', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['Out', /must be lowercase/],
    ['dir:/tmp/x', /dir: transport is not supported/],
    ['oci:', /path is empty/],
    ['oci::tag', /path is empty/],
    ['oci:out:', /nothing after/],
    ['oci:out:bad tag', /not a valid tag/],
    ['oci:out:-x', /not a valid tag/],
    ['docker-archive:img.tar:UPPER:1', /must be lowercase/],
    ['docker-archive:img.tar:app@sha256:abc', /takes a tag, not a digest/],
    ['docker-archive:img.tar:app:bad/tag', /invalid registry host/],
    ['docker-daemon:', /expected docker-daemon/],
    ['docker-daemon:app:', /invalid tag/],
    ['docker-daemon:sha256:1234', /bad image ID/],
    ['docker://', /expected docker/],
    ['docker://app@sha256:../../etc/passwd', /bad digest/],
    ['docker://a b', /expected docker/],
    ['oci:o\0ut:x', /NUL/],
  ];
  for (const [s, re] of cases) {
    assert.throws(
      () => parseImageRef(s),
      (e: unknown) =>
        isFromscratchError(e, 'INVALID_REFERENCE') && re.test(e.message) && typeof e.hint === 'string',
      `${JSON.stringify(s)} should be refused with ${re}`,
    );
  }
  try {
    parseImageRef('No/pe');
  } catch (e) {
    assert.ok(
      isFromscratchError(e) &&
        /oci:DIR\[:TAG\].*docker-archive.*docker-daemon.*docker:\/\//.test(e.hint ?? ''),
    );
  }
});

test('parseImageRef: a plain docker reference is that registry image, normalised as docker does', () => {
  const D = `sha256:${'a'.repeat(64)}`;
  const cases: [string, string][] = [
    ['alpine', 'docker.io/library/alpine'],
    ['out', 'docker.io/library/out'],
    ['library/node:20', 'docker.io/library/node:20'],
    ['127.0.0.1:5000/app:1', '127.0.0.1:5000/app:1'],
    ['localhost/x', 'localhost/x'],
    ['localhost:5000/x', 'localhost:5000/x'],
    [`name@${D}`, `docker.io/library/name@${D}`],
    ['docker:27', 'docker.io/library/docker:27'],
    ['index.docker.io/ubuntu:24.04', 'docker.io/library/ubuntu:24.04'],
  ];
  for (const [s, reference] of cases) assert.deepEqual(parseImageRef(s), { kind: 'registry', reference }, s);
});

test('parseOutputRef: an output needs a transport; the hint shows how to push or load', () => {
  assert.deepEqual(parseOutputRef('docker://h:1/a:b'), { kind: 'registry', reference: 'h:1/a:b' });
  assert.deepEqual(parseOutputRef('oci:out'), { kind: 'oci', dir: 'out' });
  assert.throws(
    () => parseOutputRef('app:1'),
    (e: unknown) =>
      isFromscratchError(e, 'INVALID_REFERENCE') &&
      /names no transport/.test(e.message) &&
      /docker:\/\/docker.io\/library\/app:1/.test(e.hint ?? '') &&
      /docker-daemon:app:1/.test(e.hint ?? ''),
  );
});

test('docker-archive and docker-daemon names are normalised as docker shows them', () => {
  assert.deepEqual(parseImageRef('docker-daemon:library/alpine'), {
    kind: 'docker-daemon',
    name: 'alpine:latest',
  });
  assert.deepEqual(parseImageRef('docker-daemon:docker.io/x/y:2'), { kind: 'docker-daemon', name: 'x/y:2' });
  assert.deepEqual(parseImageRef('docker-archive:a.tar:127.0.0.1:5000/app'), {
    kind: 'docker-archive',
    file: 'a.tar',
    name: '127.0.0.1:5000/app:latest',
  });
});
