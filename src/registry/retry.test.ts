/**
 * retry.test.ts — pins Retry-After parsing (seconds and HTTP-date, E1) and the backoff bounds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRetryAfter, resolveRetryOptions, retryDelay } from './retry.ts';

test('parseRetryAfter reads seconds, HTTP-dates, and ignores junk', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
  assert.equal(parseRetryAfter('3', now), 3000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:05 GMT', now), 5000);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter('-1', now), undefined);
  assert.equal(parseRetryAfter('1.5', now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
});

test('retryDelay caps Retry-After and grows backoff with full jitter within bounds', () => {
  const o = resolveRetryOptions({ baseDelayMs: 100, maxDelayMs: 1000, retryAfterCapMs: 2000 });
  assert.equal(retryDelay(1, o, 5000), 2000);
  assert.equal(retryDelay(1, o, 300), 300);
  assert.equal(
    retryDelay(1, o, undefined, () => 0),
    50,
  );
  assert.equal(
    retryDelay(1, o, undefined, () => 1),
    100,
  );
  assert.equal(
    retryDelay(3, o, undefined, () => 1),
    400,
  );
  assert.equal(
    retryDelay(10, o, undefined, () => 1),
    1000,
  );
  assert.equal(resolveRetryOptions({ attempts: 0 }).attempts, 1);
});
