import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import {
  BLOCK_SIZE,
  encodeTarHeader,
  paddingFor,
  paxRecord,
  splitUstarName,
  type TarHeader,
  TarTypeflag,
} from './tar-header.ts';

const base: TarHeader = {
  name: Buffer.from('usr/bin/x'),
  typeflag: TarTypeflag.file,
  mode: 0o755,
  uid: 0,
  gid: 0,
  size: 3,
  mtime: 0,
};

function field(b: Buffer, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const nul = s.indexOf(0);
  return s.subarray(0, nul < 0 ? len : nul).toString('latin1');
}

function checksumOk(block: Buffer): boolean {
  const copy = Buffer.from(block);
  copy.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of copy) sum += b;
  return Number.parseInt(field(block, 148, 8), 8) === sum;
}

describe('paxRecord', () => {
  it('counts its own length, including when the count gains a digit', () => {
    assert.equal(paxRecord('path', 'a').toString(), '9 path=a\n');
    // body " path=" + 93 bytes + "\n" = 100 → total needs 3 digits: 103
    const r = paxRecord('path', 'x'.repeat(93));
    assert.equal(r.length, 103);
    assert.ok(r.toString().startsWith('103 path='));
    const r2 = paxRecord('path', 'x'.repeat(92)); // 99 body bytes + "2 digits"? 99+2=101 → 3 digits → 102
    assert.equal(Number.parseInt(r2.toString(), 10), r2.length);
  });
  it('keeps value bytes raw (0x80 stays one byte)', () => {
    const r = paxRecord('SCHILY.xattr.security.capability', Buffer.from([0x01, 0x80, 0x00, 0xff]));
    assert.deepEqual([...r.subarray(-5)], [0x01, 0x80, 0x00, 0xff, 0x0a]);
  });
});

describe('splitUstarName', () => {
  const cases: [string, string, string | undefined][] = [
    // [what it pins, name, expected "prefix|name" or undefined]
    ['short names stay in name', 'usr/bin/x', '|usr/bin/x'],
    ['100 bytes fit name', 'a'.repeat(100), `|${'a'.repeat(100)}`],
    [
      '101 bytes split at the last usable slash',
      `${'d'.repeat(50)}/${'f'.repeat(60)}`,
      `${'d'.repeat(50)}|${'f'.repeat(60)}`,
    ],
    ['a last component over 100 bytes cannot split', `d/${'f'.repeat(101)}`, undefined],
    ['no slash cannot split', 'f'.repeat(101), undefined],
    [
      'a directory never splits at its trailing slash',
      `${'d'.repeat(60)}/${'e'.repeat(60)}/`,
      `${'d'.repeat(60)}|${'e'.repeat(60)}/`,
    ],
    ['prefix over 155 bytes cannot split', `${'d'.repeat(156)}/f`, undefined],
  ];
  for (const [what, name, want] of cases) {
    it(what, () => {
      const s = splitUstarName(Buffer.from(name));
      assert.equal(
        s ? `${Buffer.from(s.prefix).toString()}|${Buffer.from(s.name).toString()}` : undefined,
        want,
      );
    });
  }
});

describe('encodeTarHeader', () => {
  it('writes one ustar block with a valid checksum and no PAX for ordinary entries', () => {
    const b = encodeTarHeader({ ...base, mode: 0o4755, mtime: 1700000000 });
    assert.equal(b.length, BLOCK_SIZE);
    assert.equal(field(b, 0, 100), 'usr/bin/x');
    assert.equal(field(b, 100, 8), '0004755');
    assert.equal(field(b, 124, 12), '00000000003');
    assert.equal(field(b, 136, 12), (1700000000).toString(8).padStart(11, '0'));
    assert.equal(field(b, 257, 6), 'ustar');
    assert.equal(b.subarray(263, 265).toString(), '00');
    assert.equal(field(b, 265, 32), ''); // uname empty
    assert.equal(field(b, 297, 32), ''); // gname empty
    assert.ok(checksumOk(b));
  });
  it('uses PAX size for ≥ 8 GiB and zero in the ustar field', () => {
    const b = encodeTarHeader({ ...base, size: 9 * 2 ** 30 });
    assert.equal(b.length, 3 * BLOCK_SIZE);
    assert.equal(String.fromCharCode(b[156]!), 'x');
    assert.ok(b.subarray(512, 1024).toString().startsWith('19 size=9663676416\n'));
    assert.equal(field(b, 1024 + 124, 12), '00000000000');
    assert.ok(checksumOk(b.subarray(0, 512)) && checksumOk(b.subarray(1024)));
  });
  it('8 GiB − 1 still fits ustar', () => {
    assert.equal(encodeTarHeader({ ...base, size: 2 ** 33 - 1 }).length, BLOCK_SIZE);
  });
  it('uses PAX uid/gid past 7 octal digits', () => {
    const b = encodeTarHeader({ ...base, uid: 2 ** 21, gid: 2 ** 21 - 1 });
    const pax = b.subarray(512, 1024).toString();
    assert.ok(pax.includes('uid=2097152\n') && !pax.includes('gid='));
  });
  it('writes hdrcharset=BINARY first when a PAX path is not UTF-8, and not otherwise', () => {
    const bin = Buffer.concat([Buffer.from('x'.repeat(120)), Buffer.of(0xff)]);
    const b = encodeTarHeader({ ...base, name: bin });
    assert.ok(b.subarray(512, 1024).toString('latin1').startsWith('21 hdrcharset=BINARY\n'));
    const utf = encodeTarHeader({ ...base, name: Buffer.from(`${'é'.repeat(60)}`) });
    assert.ok(!utf.subarray(512, 1024).toString().includes('hdrcharset'));
    // a short non-UTF-8 name needs no PAX at all: raw ustar bytes
    assert.equal(encodeTarHeader({ ...base, name: Buffer.of(0x61, 0xff) }).length, BLOCK_SIZE);
  });
  it('orders xattr records bytewise and refuses unencodable names', () => {
    const b = encodeTarHeader({
      ...base,
      xattrs: { 'user.b': Buffer.from('2'), 'security.capability': Buffer.of(1), 'user.a': Buffer.from('1') },
    });
    const pax = b.subarray(512, 1024).toString('latin1');
    const order = ['security.capability', 'user.a', 'user.b'].map((n) => pax.indexOf(`SCHILY.xattr.${n}=`));
    assert.deepEqual(
      [...order].sort((x, y) => x - y),
      order,
    );
    assert.throws(
      () => encodeTarHeader({ ...base, xattrs: { 'user.a=b': Buffer.of(1) } }),
      (e) => isFromscratchError(e, 'INVALID_ARGUMENT'),
    );
  });
  it('refuses out-of-range numbers with INVALID_ARGUMENT', () => {
    for (const bad of [{ mode: 0o10000 }, { uid: -1 }, { size: 1.5 }, { devmajor: 2 ** 21 }]) {
      assert.throws(
        () => encodeTarHeader({ ...base, ...bad }),
        (e) => isFromscratchError(e, 'INVALID_ARGUMENT'),
      );
    }
  });
  it('refuses a PAX header over 1 MiB (Go readers reject it) with TOO_LARGE', () => {
    const xattrs: Record<string, Uint8Array> = {};
    for (let i = 0; i < 17; i++) xattrs[`user.big${i}`] = Buffer.alloc(64 * 1024);
    assert.throws(
      () => encodeTarHeader({ ...base, xattrs }),
      (e) => isFromscratchError(e, 'TOO_LARGE'),
    );
  });
  it('pads to whole blocks', () => {
    assert.deepEqual([0, 1, 511, 512, 513].map(paddingFor), [0, 511, 1, 0, 511]);
  });
});
