// control.test.ts — pins the deb822 parser (paragraphs, continuation, comments, errors) and parseRelation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import {
  dependencyAppliesTo,
  formatParagraph,
  formatRelation,
  parseControl,
  parseRelation,
} from './control.ts';

test('parseControl splits paragraphs and joins continuation lines', () => {
  const ps = parseControl(
    'Package: a\nDescription: short\n long line\n .\n more\n\n\nPackage: b\r\nDepends: x,\n  y\n',
  );
  assert.equal(ps.length, 2);
  assert.equal(ps[0]!.get('package'), 'a');
  assert.equal(ps[0]!.get('DESCRIPTION'), 'short\nlong line\n.\nmore');
  assert.equal(ps[1]!.get('Depends'), 'x,\n y');
  assert.equal(formatParagraph(ps[0]!), 'Package: a\nDescription: short\n long line\n .\n more\n');
});

test('parseControl accepts comments only when asked (sources files)', () => {
  const src = '# a comment\nTypes: deb\n# inside\nURIs: http://x\n';
  assert.equal(parseControl(src, { allowComments: true })[0]!.get('uris'), 'http://x');
  assert.throws(
    () => parseControl(src),
    (e) => isFromscratchError(e, 'DEB_INVALID') && /line 1/.test(e.message),
  );
});

test('parseControl rejects malformed input with a line number', () => {
  const cases: [string, RegExp][] = [
    [' continuation first\n', /line 1: continuation/],
    ['Package: a\nno colon here\n', /line 2: expected/],
    ['Package: a\npackage: b\n', /line 2: field package appears twice/],
    [': empty name\n', /line 1/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => parseControl(text, { what: 'test' }),
      (e) => isFromscratchError(e, 'DEB_INVALID') && re.test(e.message),
      text,
    );
  }
  assert.throws(
    () => parseControl('A: b\n', { maxChars: 3 }),
    (e) => isFromscratchError(e, 'TOO_LARGE'),
  );
  assert.throws(
    () => parseControl('A: b\n\nA: c\n', { maxParagraphs: 1 }),
    (e) => isFromscratchError(e, 'TOO_LARGE'),
  );
});

test('parseRelation parses alternatives, arch qualifiers, versions, arch lists and profiles', () => {
  const r = parseRelation(
    'libc6 (>= 2.34), foo | bar:any (<< 2) [amd64] <!nocheck>, baz (> 1), qux [!i386 !armel]',
  );
  assert.deepEqual(r, [
    [{ name: 'libc6', op: '>=', version: '2.34' }],
    [
      { name: 'foo' },
      {
        name: 'bar',
        archQualifier: 'any',
        op: '<<',
        version: '2',
        archRestriction: { negated: false, arches: ['amd64'] },
        profiles: [['!nocheck']],
      },
    ],
    [{ name: 'baz', op: '>=', version: '1' }],
    [{ name: 'qux', archRestriction: { negated: true, arches: ['i386', 'armel'] } }],
  ]);
  assert.equal(formatRelation(r[1]!), 'foo | bar:any (<< 2)');
  assert.ok(dependencyAppliesTo(r[1]![1]!, 'amd64'));
  assert.ok(!dependencyAppliesTo(r[1]![1]!, 'arm64'));
  assert.ok(!dependencyAppliesTo(r[3]![0]!, 'i386'));
  assert.ok(dependencyAppliesTo(r[3]![0]!, 'arm64'));
  assert.deepEqual(parseRelation('a (>=1.0),\n  b (=2),'), [
    [{ name: 'a', op: '>=', version: '1.0' }],
    [{ name: 'b', op: '=', version: '2' }],
  ]);
  assert.deepEqual(parseRelation(''), []);
});

test('parseRelation rejects garbage naming it', () => {
  for (const bad of ['foo (>= )', 'foo (~ 1)', '(>= 1)', 'foo bar', 'a [i386 !amd64]']) {
    assert.throws(
      () => parseRelation(bad, 'Depends of x'),
      (e) => isFromscratchError(e, 'DEB_INVALID') && /Depends of x/.test(e.message),
      bad,
    );
  }
});
