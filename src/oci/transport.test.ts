/**
 * transport.test.ts — the transport syntax of image references (DESIGN.md): a table of accepted and
 * refused references.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { formatImageRef, type ImageRef, parseImageRef } from './transport.ts';

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
    ['out', /no transport/],
    ['alpine:3', /unknown transport "alpine"/],
    ['oci:', /path is empty/],
    ['oci::tag', /path is empty/],
    ['oci:out:', /nothing after/],
    ['oci:out:bad tag', /not a valid tag/],
    ['oci:out:-x', /not a valid tag/],
    ['docker-archive:img.tar:UPPER:1', /not a valid repository name/],
    ['docker-archive:img.tar:app@sha256:abc', /takes a tag, not a digest/],
    ['docker-archive:img.tar:app:bad/tag', /not a valid repository name|not a valid tag/],
    ['docker-daemon:', /expected docker-daemon/],
    ['docker-daemon:app:', /not a valid tag/],
    ['docker-daemon:sha256:1234', /bad image ID/],
    ['docker:app', /docker:\/\/HOST/],
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
    parseImageRef('nope');
  } catch (e) {
    assert.ok(
      isFromscratchError(e) &&
        /oci:DIR\[:TAG\].*docker-archive.*docker-daemon.*docker:\/\//.test(e.hint ?? ''),
    );
  }
});
