/**
 * platform.test.ts — platform strings at their boundaries and the matching rule used to pick an image
 * from an index (variant compared only when both sides have one).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { formatPlatform, hostPlatform, parsePlatform, platformMatches } from './platform.ts';

test('parsePlatform: os/arch and os/arch/variant round-trip; everything else is INVALID_ARGUMENT', () => {
  for (const s of ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7', 'linux/386', 'windows/amd64']) {
    assert.equal(formatPlatform(parsePlatform(s)), s);
  }
  assert.deepEqual(parsePlatform(' linux/amd64 '), { os: 'linux', architecture: 'amd64' });
  for (const bad of ['linux', 'linux/', '/amd64', 'linux/amd64/', 'linux/arm/v7/x', '', 'linux//v7']) {
    assert.throws(
      () => parsePlatform(bad),
      (e) =>
        isFromscratchError(e, 'INVALID_ARGUMENT') && e.message.includes(JSON.stringify(bad).slice(1, -1)),
      JSON.stringify(bad),
    );
  }
  assert.throws(
    () => parsePlatform('linux/x86_64'),
    (e) =>
      isFromscratchError(e, 'INVALID_ARGUMENT') && /x86_64/.test(e.message) && /amd64/.test(e.hint ?? ''),
  );
});

test('platformMatches: os and arch must be equal; the variant only when both have one', () => {
  const arm64 = { os: 'linux', architecture: 'arm64' };
  const v8 = { ...arm64, variant: 'v8' };
  assert.equal(platformMatches(v8, arm64), true);
  assert.equal(platformMatches(arm64, v8), true);
  assert.equal(platformMatches(v8, v8), true);
  assert.equal(platformMatches({ ...arm64, variant: 'v9' }, v8), false);
  assert.equal(platformMatches({ os: 'linux', architecture: 'amd64' }, arm64), false);
  assert.equal(platformMatches({ os: 'windows', architecture: 'arm64' }, arm64), false);
  assert.equal(platformMatches(undefined, arm64), false);
});

test('hostPlatform maps node architectures; an unknown one is a bug, not a user error', () => {
  assert.deepEqual(hostPlatform('x64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(hostPlatform('arm'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.throws(
    () => hostPlatform('mips'),
    (e) => !isFromscratchError(e) && /mips/.test(String(e)),
  );
});
