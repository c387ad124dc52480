/**
 * reference.test.ts — pins the docker reference grammar and Docker Hub defaults (distribution/reference).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { formatReference, parseReference } from './reference.ts';

const D = `sha256:${'a'.repeat(64)}`;

const good: [string, string, string, string][] = [
  // input, registry, host, full form
  ['ubuntu', 'docker.io', 'registry-1.docker.io', 'docker.io/library/ubuntu:latest'],
  ['ubuntu:24.04', 'docker.io', 'registry-1.docker.io', 'docker.io/library/ubuntu:24.04'],
  ['library/ubuntu', 'docker.io', 'registry-1.docker.io', 'docker.io/library/ubuntu:latest'],
  ['docker.io/ubuntu', 'docker.io', 'registry-1.docker.io', 'docker.io/library/ubuntu:latest'],
  ['index.docker.io/ubuntu', 'docker.io', 'registry-1.docker.io', 'docker.io/library/ubuntu:latest'],
  ['bitnami/redis', 'docker.io', 'registry-1.docker.io', 'docker.io/bitnami/redis:latest'],
  ['localhost/app', 'localhost', 'localhost', 'localhost/app:latest'],
  ['localhost:5000/team/app:1.2', 'localhost:5000', 'localhost:5000', 'localhost:5000/team/app:1.2'],
  [
    '127.0.0.1:5055/registry-test/x',
    '127.0.0.1:5055',
    '127.0.0.1:5055',
    '127.0.0.1:5055/registry-test/x:latest',
  ],
  ['[::1]:5000/a', '[::1]:5000', '[::1]:5000', '[::1]:5000/a:latest'],
  ['ghcr.io/o/r/deep/path:v1', 'ghcr.io', 'ghcr.io', 'ghcr.io/o/r/deep/path:v1'],
  ['Registry.Example.com/a', 'Registry.Example.com', 'Registry.Example.com', 'Registry.Example.com/a:latest'],
  [`ubuntu@${D}`, 'docker.io', 'registry-1.docker.io', `docker.io/library/ubuntu@${D}`],
  [`h:1/r:t@${D}`, 'h:1', 'h:1', `h:1/r:t@${D}`],
  ['docker://quay.io/a/b:c', 'quay.io', 'quay.io', 'quay.io/a/b:c'],
  ['a_b-c__d/f---g.h:T_9.x-y', 'docker.io', 'registry-1.docker.io', 'docker.io/a_b-c__d/f---g.h:T_9.x-y'],
  ['host:5000/repo', 'host:5000', 'host:5000', 'host:5000/repo:latest'],
];

for (const [input, registry, host, full] of good) {
  test(`parseReference(${JSON.stringify(input)}) → ${full}`, () => {
    const r = parseReference(input);
    assert.equal(r.registry, registry);
    assert.equal(r.host, host);
    assert.equal(formatReference(r), full);
  });
}

test('repo:tag@digest keeps both; digest-only has no tag', () => {
  const r = parseReference(`h:1/r:t@${D}`);
  assert.equal(r.tag, 't');
  assert.equal(r.digest, D);
  assert.equal(parseReference(`r@${D}`).tag, undefined);
});

const bad: [string, RegExp][] = [
  ['', /empty/],
  ['Ubuntu', /must be lowercase/],
  ['docker.io/Library/ubuntu', /must be lowercase/],
  ['host:5000/Repo', /must be lowercase/],
  ['ubuntu:', /invalid tag/],
  ['ubuntu:-x', /invalid tag/],
  [`ubuntu:${'t'.repeat(129)}`, /invalid tag/],
  ['ubuntu@sha256:abc', /malformed digest/],
  [`ubuntu@sha256:${'A'.repeat(64)}`, /malformed digest/],
  [`ubuntu@sha512:${'a'.repeat(128)}`, /unsupported digest/],
  ['a//b', /empty path component/],
  ['a/b/', /empty path component/],
  ['-a', /invalid repository path component/],
  ['a..b', /invalid repository path component/],
  ['https://host/repo', /URL scheme/],
  ['host:port/repo', /invalid registry host/],
  ['ho st/repo', /white space/],
  [`h.io/${'a'.repeat(260)}`, /longer than 255/],
  ['h.io/', /repository name is empty/],
  ['a_b.c/d', /invalid registry host/],
];

for (const [input, re] of bad) {
  test(`parseReference(${JSON.stringify(input.slice(0, 40))}) is INVALID_REFERENCE`, () => {
    assert.throws(
      () => parseReference(input),
      (e: unknown) => {
        assert.ok(isFromscratchError(e, 'INVALID_REFERENCE'), String(e));
        assert.match(e.message, re);
        assert.ok(e.hint);
        return true;
      },
    );
  });
}
