/**
 * digest.test.ts — digest syntax at its boundaries (RELIABILITY.md 1: validated before any path or URL
 * use) and the incremental hasher against one-shot hashing, with node:crypto as the oracle.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { digestHex, isDigest, newHasher, parseDigest, sha256 } from './digest.ts';

const HEX = 'a'.repeat(64);

test('parseDigest accepts exactly sha256 with 64 lowercase hex digits', () => {
  for (const ok of [`sha256:${HEX}`, `sha256:${'0123456789abcdef'.repeat(4)}`]) {
    assert.equal(parseDigest(ok), ok);
    assert.equal(isDigest(ok), true);
  }
  for (const bad of [
    `sha256:${'a'.repeat(63)}`, // one digit short
    `sha256:${'a'.repeat(65)}`, // one digit long
    `sha256:${'A'.repeat(64)}`, // upper case
    `sha256:${'g'.repeat(64)}`,
    `sha512:${'a'.repeat(128)}`,
    `SHA256:${HEX}`,
    `sha256:${HEX}\n`,
    ` sha256:${HEX}`,
    `sha256:../../${'a'.repeat(58)}`,
    `sha256:${HEX}/../x`,
    HEX,
    '',
  ]) {
    assert.equal(isDigest(bad), false, JSON.stringify(bad));
    assert.throws(
      () => parseDigest(bad),
      (e) => isFromscratchError(e, 'INVALID_DIGEST') && /64 lowercase hex/.test(e.hint ?? ''),
      JSON.stringify(bad),
    );
  }
  for (const notString of [undefined, null, 42, { digest: HEX }]) {
    assert.equal(isDigest(notString), false);
    assert.throws(
      () => parseDigest(notString),
      (e) => isFromscratchError(e, 'INVALID_DIGEST'),
    );
  }
  // a huge input is named, cut to 100 characters
  assert.throws(
    () => parseDigest(`sha256:${'z'.repeat(10_000)}`),
    (e) => isFromscratchError(e) && e.message.length < 200,
  );
});

test('sha256 and newHasher agree with node:crypto, however the bytes are chunked', () => {
  const data = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff));
  const want = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  assert.equal(sha256(data), want);
  assert.equal(digestHex(sha256(data)), want.slice(7));
  assert.equal(sha256(''), `sha256:${createHash('sha256').digest('hex')}`);
  for (const n of [1, 63, 64, 65, 3000]) {
    const h = newHasher();
    for (let i = 0; i < data.length; i += n) h.update(data.subarray(i, i + n));
    assert.deepEqual(h.digest(), { digest: want, size: data.length }, `chunks of ${n}`);
  }
  assert.deepEqual(newHasher().digest(), { digest: sha256(''), size: 0 });
});
