// ar.test.ts — pins the ar reader's bounds checks (RELIABILITY H1).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arMember, makeAr } from '../../test/deb/make-deb.ts';
import { isFromscratchError } from '../errors.ts';
import { parseAr } from './ar.ts';

test('parseAr lists members with padding and strips GNU slashes', () => {
  const ar = makeAr([
    arMember('debian-binary', Buffer.from('2.0\n')),
    arMember('odd', Buffer.from('abc')),
    arMember('x', Buffer.from('yz')),
  ]);
  const ms = parseAr(ar);
  assert.deepEqual(
    ms.map((m) => [m.name, Buffer.from(m.data).toString()]),
    [
      ['debian-binary', '2.0\n'],
      ['odd', 'abc'],
      ['x', 'yz'],
    ],
  );
});

test('parseAr rejects hostile headers with DEB_INVALID (H1)', () => {
  const cases: [string, Buffer, RegExp][] = [
    ['bad magic', Buffer.from('!<arch>X'), /bad magic/],
    ['size > file', makeAr([arMember('debian-binary', Buffer.from('2.0\n'), '999999')]), /runs past the end/],
    ['non-decimal size', makeAr([arMember('debian-binary', Buffer.from('2.0\n'), '0x10')]), /not a decimal/],
    ['negative size', makeAr([arMember('debian-binary', Buffer.from('2.0\n'), '-4')]), /not a decimal/],
    [
      'truncated header',
      Buffer.concat([makeAr([]), Buffer.from('debian-binary/   12')]),
      /truncated member header/,
    ],
    [
      'bad terminator',
      Buffer.from(
        makeAr([arMember('a', Buffer.from('xx'))])
          .toString('latin1')
          .replace('`\n', 'XX'),
        'latin1',
      ),
      /terminator/,
    ],
  ];
  for (const [name, bytes, re] of cases) {
    assert.throws(
      () => parseAr(bytes, { what: 'evil.deb' }),
      (e) => isFromscratchError(e, 'DEB_INVALID') && re.test(e.message) && /evil\.deb/.test(e.message),
      name,
    );
  }
  const many = makeAr(Array.from({ length: 70 }, (_, i) => arMember(`m${i}`, Buffer.alloc(0))));
  assert.throws(
    () => parseAr(many),
    (e) => isFromscratchError(e, 'DEB_INVALID') && /more than 64 members/.test(e.message),
  );
});
