import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { ancestors, comparePaths, decodePathBytes, encodePath, normalizeImagePath } from './path.ts';

test('surrogateescape round-trips every non-UTF-8 byte and never collides with valid UTF-8 (A23, I3)', () => {
  const cases = [
    Buffer.from('x_\xff', 'latin1'),
    Buffer.from('x_\xe9', 'latin1'),
    Buffer.from('x_é'),
    Buffer.from([0xc3]),
    Buffer.from([0xed, 0xa0, 0x80]),
    Buffer.from([0xf0, 0x9f, 0x98, 0x80]),
  ];
  const decoded = cases.map((b) => decodePathBytes(b));
  for (const [i, b] of cases.entries()) assert.deepEqual(encodePath(decoded[i]!), b);
  assert.equal(new Set(decoded).size, cases.length, 'distinct byte names stay distinct');
  assert.equal(decoded[5], '😀');
});

test('normalizeImagePath clamps .. at the root and removes . and duplicate slashes', () => {
  assert.equal(normalizeImagePath('a/b/../c'), '/a/c');
  assert.equal(normalizeImagePath('/../../etc//passwd'), '/etc/passwd');
  assert.equal(normalizeImagePath(''), '/');
  assert.equal(normalizeImagePath('./x/.'), '/x');
});

test('normalizeImagePath rejects NUL and over-long names (A20)', () => {
  assert.throws(
    () => normalizeImagePath('/a\0b'),
    (e) => isFromscratchError(e, 'INVALID_ARGUMENT'),
  );
  assert.throws(
    () => normalizeImagePath(`/${'x'.repeat(256)}`),
    (e) => isFromscratchError(e, 'PATH_TOO_LONG'),
  );
  assert.throws(
    () => normalizeImagePath('/a'.repeat(2100)),
    (e) => isFromscratchError(e, 'PATH_TOO_LONG'),
  );
});

test('comparePaths orders by bytes, not UTF-16 code units', () => {
  // U+FF61 (EF BD A1) sorts before U+1F600 (F0 9F 98 80) bytewise, but after it in UTF-16 order
  assert.ok(comparePaths('/\uff61', '/😀') < 0);
  assert.ok(comparePaths('/a', '/a/b') < 0);
  assert.deepEqual(ancestors('/a/b/c'), ['/a', '/a/b']);
});
