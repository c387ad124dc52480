// packages-index.test.ts — pins Packages parsing (chunk boundaries, required fields, hostile Filename) and indexing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { indexPackages, PackagesParser, parsePackages } from './packages-index.ts';

const H = 'a'.repeat(64);
const para = (name: string, version: string, extra = '') =>
  `Package: ${name}\nVersion: ${version}\nArchitecture: amd64\n${extra}Filename: pool/${name}_${version}.deb\nSize: 10\nSHA256: ${H}\nDescription: d\n long\n`;

test('PackagesParser gives the same records whatever the chunking', () => {
  const text = [
    para('a', '1', 'Depends: x,\n y\n'),
    para('b', '2', 'Multi-Arch: same\nEssential: yes\nSource: bsrc (1.9)\n'),
    para('c', '1'),
  ].join('\n');
  const whole = parsePackages(text, { baseUrl: 'http://m/debian' });
  for (const size of [1, 7, 100]) {
    const p = new PackagesParser({ baseUrl: 'http://m/debian' });
    for (let i = 0; i < text.length; i += size) p.push(text.slice(i, i + size));
    assert.deepEqual(p.end(), whole);
  }
  assert.equal(whole.length, 3);
  assert.equal(whole[0]!.depends, 'x, y');
  assert.equal(whole[1]!.multiArch, 'same');
  assert.equal(whole[1]!.essential, true);
  assert.deepEqual(whole[1]!.source, { name: 'bsrc', version: '1.9' });
  assert.equal(whole[2]!.baseUrl, 'http://m/debian');
});

test('parsePackages rejects missing fields and Filenames leaving the repository', () => {
  const cases = [
    'Package: a\nVersion: 1\n',
    para('a', '1').replace(/SHA256: .*/, 'SHA256: zz'),
    para('a', '1').replace(/Size: .*/, 'Size: -1'),
    para('a', '1').replace(/Filename: .*/, 'Filename: ../../etc/passwd'),
    para('a', '1').replace(/Filename: .*/, 'Filename: /etc/passwd'),
    'Package: a\ngarbage\n',
  ];
  for (const c of cases)
    assert.throws(
      () => parsePackages(c),
      (e) => isFromscratchError(e, 'DEB_INVALID'),
      c,
    );
  assert.throws(
    () => new PackagesParser({ maxParagraphChars: 10 }).push('x'.repeat(20)),
    (e) => isFromscratchError(e, 'TOO_LARGE'),
  );
});

test('indexPackages sorts by version and indexes Provides', () => {
  const recs = parsePackages(
    [
      para('a', '1.0'),
      para('a', '1.10'),
      para('a', '1.9'),
      para('b', '1', 'Provides: virt, other (= 2)\n'),
      para('a', '1.10'),
    ].join('\n'),
  );
  const idx = indexPackages(recs);
  assert.deepEqual(
    idx.byName.get('a')!.map((r) => r.version),
    ['1.10', '1.9', '1.0'],
  );
  assert.equal(idx.providers.get('virt')![0]!.pkg.name, 'b');
  assert.equal(idx.providers.get('other')![0]!.version, '2');
  assert.equal(idx.packages.length, 4);
});
