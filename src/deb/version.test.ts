// version.test.ts — pins compareDebVersions to dpkg's ordering (table) and parseDebVersion's validation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { compareDebVersions, formatDebVersion, parseDebVersion, versionSatisfies } from './version.ts';

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);

// [a, b, expected sign] — each row pins one rule of dpkg's verrevcmp
const table: [string, string, -1 | 0 | 1][] = [
  ['1.0', '1.0', 0],
  ['1.0', '1.1', -1],
  ['1.10', '1.9', 1], // digit runs compare numerically
  ['1.01', '1.1', 0], // leading zeros ignored
  ['1.0~rc1', '1.0', -1], // ~ sorts before the end of string
  ['1.0~~', '1.0~', -1],
  ['1.0~~a', '1.0~~', 1],
  ['1.0~', '1.0', -1],
  ['1.0a', '1.0', 1], // letters sort after the end of string
  ['1.0a', '1.0+', -1], // letters before non-letters
  ['1.0+', '1.0.', -1], // '+' (43) < '.' (46)
  ['1.0-1', '1.0-2', -1],
  ['1.0-1', '1.0', 1], // an absent revision is '' (< '1')
  ['1.0-0', '1.0', 0], // '0' and '' compare equal
  ['1:0.1', '2.0', 1], // epoch first
  ['0:2.0', '2.0', 0],
  ['2:1', '10:0', -1],
  ['1.2.3-4+deb12u1', '1.2.3-4', 1],
  ['1.2.3-4~deb12u1', '1.2.3-4', -1],
  ['3.1.2-7', '3.1.2-8', -1],
  ['2.36-9+deb12u4', '2.36-9+deb12u10', -1],
  ['1.0-a-b', '1.0-a', 1], // revision is after the LAST dash
  ['a', 'b', -1],
  ['', '', 0],
  ['1.0.', '1.0', 1],
  ['9999999999999999999999', '9999999999999999999998', 1], // no integer overflow
];

test('compareDebVersions table matches dpkg rules', () => {
  for (const [a, b, want] of table) {
    assert.equal(sign(compareDebVersions(a, b)), want, `${a} vs ${b}`);
    assert.equal(sign(compareDebVersions(b, a)), (-want || 0) as number, `${b} vs ${a}`);
  }
});

test('versionSatisfies implements the five operators (and obsolete < >)', () => {
  assert.ok(versionSatisfies('2.34', '>=', '2.34'));
  assert.ok(!versionSatisfies('2.33', '>=', '2.34'));
  assert.ok(versionSatisfies('1', '<<', '2'));
  assert.ok(!versionSatisfies('2', '<<', '2'));
  assert.ok(versionSatisfies('2', '<=', '2'));
  assert.ok(versionSatisfies('3', '>>', '2'));
  assert.ok(versionSatisfies('1:2', '=', '1:2-0'));
  assert.ok(versionSatisfies('2', '<', '2'));
  assert.ok(versionSatisfies('2', '>', '2'));
});

test('parseDebVersion splits and validates', () => {
  assert.deepEqual(parseDebVersion('1:2.36-9+deb12u4'), {
    epoch: 1,
    upstream: '2.36',
    revision: '9+deb12u4',
  });
  assert.deepEqual(parseDebVersion('1.6-2.1'), { epoch: 0, upstream: '1.6', revision: '2.1' });
  assert.deepEqual(parseDebVersion('2:1.0-rc-1'), { epoch: 2, upstream: '1.0-rc', revision: '1' });
  assert.equal(formatDebVersion(parseDebVersion('1:2.36-9')), '1:2.36-9');
  for (const bad of ['', 'a1.0', 'x:1.0', '1.0-', '1.0 2', '1.0_1', '1:']) {
    assert.throws(
      () => parseDebVersion(bad),
      (e) => isFromscratchError(e, 'INVALID_ARGUMENT'),
      bad,
    );
  }
});

test('compareDebVersions: numbers compare by their first differing digit, after leading zeros and by length', () => {
  // [a, b, sign of compare(a, b)] — pairs where the first and the last differing digit disagree
  const rows: [string, string, number][] = [
    ['19', '21', -1],
    ['1.19', '1.21', -1],
    ['1.91', '1.19', 1],
    ['0129', '0131', -1],
    ['1-19', '1-21', -1],
    ['2:19', '2:21', -1],
    ['100', '99', 1],
    ['0100', '99', 1],
    ['007', '7', 0],
    ['1.007', '1.7', 0],
    ['1.0', '1.00', 0],
    ['1.10', '1.9', 1],
    ['1~19', '1~21', -1],
  ];
  for (const [a, b, want] of rows) {
    assert.equal(sign(compareDebVersions(a, b)), want, `${a} vs ${b}`);
    assert.equal(sign(compareDebVersions(b, a)) + want, 0, `${b} vs ${a}`);
  }
});

// Boundaries found by the Stryker run on version.ts (issue 17).
test('parseDebVersion: each refusal says why, names the version and hints the format', () => {
  const rows: [string, RegExp][] = [
    ['', /it is empty/],
    ['   ', /it is empty/],
    ['1.0 2', /contains spaces/],
    ['x:1.0', /epoch is not a number/],
    ['0x1:1.0', /epoch is not a number/],
    ['1e3:1.0', /epoch is not a number/],
    ['2147483648:1.0', /epoch is not a number/],
    ['1:', /upstream version is empty/],
    ['-1', /upstream version is empty/],
    ['1.0-', /revision is empty/],
    ['1.0- ', /revision is empty/],
    ['a1.0', /does not start with a digit/],
    ['1.0_1', /upstream version contains a forbidden character/],
    ['1.0-_', /revision contains a forbidden character/],
    ['1.0-a_', /revision contains a forbidden character/],
  ];
  for (const [bad, why] of rows) {
    assert.throws(
      () => parseDebVersion(bad),
      (e) =>
        isFromscratchError(e, 'INVALID_ARGUMENT') &&
        why.test(e.message) &&
        e.message.startsWith(`invalid Debian version ${JSON.stringify(bad)}: `) &&
        /\[epoch:\]upstream\[-revision\]/.test(e.hint ?? ''),
      JSON.stringify(bad),
    );
  }
  // the largest epoch dpkg takes, surrounding spaces, and what formatDebVersion leaves out
  assert.equal(parseDebVersion('2147483647:1.0').epoch, 2147483647);
  assert.deepEqual(parseDebVersion(' 1.0-1 '), { epoch: 0, upstream: '1.0', revision: '1' });
  assert.equal(formatDebVersion(parseDebVersion('0:1.0')), '1.0');
  assert.equal(formatDebVersion(parseDebVersion('1.0-0')), '1.0-0');
  assert.equal(formatDebVersion({ epoch: 0, upstream: '1.0', revision: '' }), '1.0');
});

test('compareDebVersions: malformed epochs compare as 0, spaces are ignored, letters sort before other marks', () => {
  const rows: [string, string, number][] = [
    ['0x1:1', '0:2', -1], // not an epoch of 1
    ['1e3:1', '2:1', -1], // not an epoch of 1000
    [':1', '2', -1], // an empty epoch is 0, not part of the upstream
    [' 2:1', '1:9', 1],
    ['1.0A', '1.0+', -1],
    ['1.0Z', '1.0+', -1],
    ['1.0z', '1.0+', -1],
    ['1.0@', '1.0A', 1], // '@' (64) and '[' (91) are not letters
    ['1.0[', '1.0Z', 1],
    ['1.0{', '1.0z', 1],
    ['1.a', '1.1', 1], // a digit weighs 0 against a non-digit
    ['1.+', '1.1', 1],
  ];
  for (const [a, b, want] of rows) {
    assert.equal(sign(compareDebVersions(a, b)), want, `${a} vs ${b}`);
    assert.equal(sign(compareDebVersions(b, a)) + want, 0, `${b} vs ${a}`);
  }
});

test('versionSatisfies: each operator is false on the other side of its boundary', () => {
  assert.ok(!versionSatisfies('3', '<=', '2'));
  assert.ok(!versionSatisfies('3', '<', '2'));
  assert.ok(!versionSatisfies('3', '=', '2'));
  assert.ok(!versionSatisfies('1', '=', '2'));
  assert.ok(!versionSatisfies('2', '>>', '2'));
  assert.ok(!versionSatisfies('1', '>', '2'));
  assert.ok(versionSatisfies('1', '<', '2'));
});

test('parseDebVersion names at most 100 characters of a long bad version', () => {
  const bad = `1.0_${'x'.repeat(300)}`;
  assert.throws(
    () => parseDebVersion(bad),
    (e) =>
      isFromscratchError(e, 'INVALID_ARGUMENT') &&
      e.message.startsWith(`invalid Debian version ${JSON.stringify(bad.slice(0, 100))}: `),
  );
});
