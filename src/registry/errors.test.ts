/**
 * errors.test.ts — pins the parsing of the distribution-spec error envelope, the RegistryError fields
 * and codes, and that secrets never survive redaction.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { newRedactor, parseErrorEnvelope, RegistryError } from './errors.ts';

test('parseErrorEnvelope reads codes, messages and details; junk gives nothing', () => {
  const d = parseErrorEnvelope(
    Buffer.from(
      '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}},{"message":3}]}',
    ),
  );
  assert.deepEqual(d, [
    { code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'x' } },
    { code: 'UNKNOWN', message: '' },
  ]);
  assert.deepEqual(parseErrorEnvelope(Buffer.from('<html>bad gateway</html>')), []);
  assert.deepEqual(parseErrorEnvelope(Buffer.from('{"errors":"x"}')), []);
});

test('RegistryError: 401/403 are REGISTRY_UNAUTHORIZED, 5xx and 429 temporary, codes queryable', () => {
  const mk = (status: number) =>
    new RegistryError({
      status,
      url: 'https://r.io/v2/x',
      method: 'GET',
      registry: 'r.io',
      diagnostics: [{ code: 'DENIED', message: 'no' }],
      doing: 'pulling x',
    });
  assert.ok(isFromscratchError(mk(401), 'REGISTRY_UNAUTHORIZED'));
  assert.ok(isFromscratchError(mk(403), 'REGISTRY_UNAUTHORIZED'));
  assert.ok(isFromscratchError(mk(404), 'REGISTRY_ERROR'));
  assert.equal(mk(503).temporary, true);
  assert.equal(mk(429).temporary, true);
  assert.equal(mk(400).temporary, false);
  assert.ok(mk(404).hasCode('DENIED'));
  assert.equal(mk(404).message, 'pulling x: registry r.io answered 404 to GET https://r.io/v2/x: DENIED: no');
});

test('Redactor removes secrets, their URL encoding, user info and secret query values', () => {
  const r = newRedactor();
  r.add('p@ss/word!');
  r.add('tok'); // too short to redact safely: ignored
  assert.equal(r.redact('auth p@ss/word! and p%40ss%2Fword!'), 'auth *** and ***');
  const u = r.redactUrl(
    'https://user:pw@r.io/v2/x/blobs/uploads/1?_state=abc&digest=sha256:1&X-Amz-Signature=s&access_token=t',
  );
  assert.doesNotMatch(u, /user|pw@|abc|=s&|=t$/);
  assert.match(u, /digest=sha256%3A1/);
});
