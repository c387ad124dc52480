import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import {
  BLOCK_SIZE,
  encodeTarHeader,
  MAX_PAX_SIZE,
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

// Boundaries of every ustar field (issue 17): the last value that fits, the first that does not.
// GNU tar and Python are the oracles for the same limits in test/layer/tar-boundaries.test.ts; these
// check the bytes in-process, fast enough to run for each mutant.
describe('field limits', () => {
  const pax = (b: Buffer) =>
    b.length === BLOCK_SIZE
      ? ''
      : b.subarray(512, 512 + Number.parseInt(field(b, 124, 12), 8)).toString('latin1');
  const main = (b: Buffer) => b.subarray(b.length - 512);

  it('names: prefix of 155 and name of 100 split; a leading slash alone, or 156 bytes of prefix, do not', () => {
    const split = (n: string) => {
      const s = splitUstarName(Buffer.from(n));
      return s ? [s.prefix.length, s.name.length] : undefined;
    };
    assert.deepEqual(split(`${'d'.repeat(155)}/${'f'.repeat(100)}`), [155, 100]);
    assert.deepEqual(split(`${'d'.repeat(155)}/${'f'.repeat(101)}`), undefined);
    assert.deepEqual(split(`${'d'.repeat(154)}/${'f'.repeat(101)}`), undefined);
    assert.deepEqual(split(`/${'f'.repeat(100)}`), undefined);
    // the split is at the last slash within 155 bytes, not the first
    assert.deepEqual(split(`${'a'.repeat(10)}/${'d'.repeat(100)}/${'f'.repeat(40)}`), [111, 40]);
    // a directory: the slash at byte 156 is in the name, never the split point
    assert.deepEqual(split(`${'d'.repeat(155)}/${'e'.repeat(99)}/`), [155, 100]);
    assert.deepEqual(split(`${'d'.repeat(150)}/`), undefined);
    assert.deepEqual(split(`${'d'.repeat(50)}/${'e'.repeat(50)}/`), [50, 51]);
  });

  it('a name that splits is written in prefix and name with no PAX; one that does not gets a PAX path', () => {
    const n = `${'d'.repeat(155)}/${'f'.repeat(100)}`;
    const b = encodeTarHeader({ ...base, name: Buffer.from(n) });
    assert.equal(b.length, BLOCK_SIZE);
    assert.equal(field(b, 0, 100), 'f'.repeat(100));
    assert.equal(field(b, 345, 155), 'd'.repeat(155));
    const long = `${'d'.repeat(156)}/f`;
    const p = encodeTarHeader({ ...base, name: Buffer.from(long) });
    assert.equal(pax(p), `168 path=${long}\n`);
    assert.equal(field(main(p), 0, 100), long.slice(0, 100));
    assert.equal(field(main(p), 345, 155), '');
  });

  it('link targets: 100 bytes fit the field; 101 get a PAX linkpath (never silently cut)', () => {
    for (const typeflag of [TarTypeflag.symlink, TarTypeflag.hardlink]) {
      const t100 = 'l'.repeat(100);
      const b = encodeTarHeader({ ...base, size: 0, typeflag, linkname: Buffer.from(t100) });
      assert.equal(b.length, BLOCK_SIZE);
      assert.equal(field(b, 157, 100), t100);
      assert.equal(String.fromCharCode(b[156]!), typeflag);
      const t101 = 'l'.repeat(101);
      const p = encodeTarHeader({ ...base, size: 0, typeflag, linkname: Buffer.from(t101) });
      assert.equal(pax(p), `115 linkpath=${t101}\n`);
      assert.equal(String.fromCharCode(main(p)[156]!), typeflag);
    }
  });

  it('hdrcharset=BINARY only for a PAX path or linkpath that is not UTF-8', () => {
    const badLink = Buffer.concat([Buffer.alloc(101, 0x6c), Buffer.of(0xff)]);
    const b = encodeTarHeader({ ...base, typeflag: TarTypeflag.symlink, size: 0, linkname: badLink });
    assert.ok(pax(b).startsWith('21 hdrcharset=BINARY\n116 linkpath='), pax(b));
    // a non-UTF-8 name that fits ustar and a long UTF-8 link: no hdrcharset
    const ok = encodeTarHeader({
      ...base,
      name: Buffer.of(0x61, 0xff),
      typeflag: TarTypeflag.symlink,
      size: 0,
      linkname: Buffer.alloc(101, 0x6c),
    });
    assert.ok(pax(ok).startsWith('115 linkpath='), pax(ok));
    // a short non-UTF-8 link needs nothing
    const short = encodeTarHeader({
      ...base,
      typeflag: TarTypeflag.symlink,
      size: 0,
      linkname: Buffer.of(0xff),
    });
    assert.equal(short.length, BLOCK_SIZE);
  });

  it('uid, gid: 7 octal digits fit; one more goes to PAX with 0 in the field', () => {
    const fit = encodeTarHeader({ ...base, uid: 2 ** 21 - 1, gid: 2 ** 21 - 1 });
    assert.equal(fit.length, BLOCK_SIZE);
    assert.equal(field(fit, 108, 8), '7777777');
    assert.equal(field(fit, 116, 8), '7777777');
    const over = encodeTarHeader({ ...base, uid: 2 ** 21 - 1, gid: 2 ** 21 });
    assert.equal(pax(over), '15 gid=2097152\n');
    assert.equal(field(main(over), 108, 8), '7777777');
    assert.equal(field(main(over), 116, 8), '0000000');
    const both = encodeTarHeader({ ...base, uid: 2 ** 21, gid: 2 ** 32 });
    assert.equal(pax(both), '15 uid=2097152\n18 gid=4294967296\n');
    assert.equal(field(main(both), 108, 8), '0000000');
  });

  it('size and mtime: 11 octal digits fit; one more goes to PAX with 0 in the field', () => {
    const max = 8 ** 11 - 1;
    const fit = encodeTarHeader({ ...base, size: max, mtime: max });
    assert.equal(fit.length, BLOCK_SIZE);
    assert.equal(field(fit, 124, 12), '77777777777');
    assert.equal(field(fit, 136, 12), '77777777777');
    const over = encodeTarHeader({ ...base, size: max + 1, mtime: max + 1 });
    assert.equal(pax(over), '19 size=8589934592\n20 mtime=8589934592\n');
    assert.equal(field(main(over), 124, 12), '00000000000');
    assert.equal(field(main(over), 136, 12), '00000000000');
    const mtimeOnly = encodeTarHeader({ ...base, mtime: max + 1 });
    assert.equal(pax(mtimeOnly), '20 mtime=8589934592\n');
    assert.equal(field(main(mtimeOnly), 124, 12), '00000000003');
  });

  it('device numbers and mode: the largest values are written, one more is refused', () => {
    const b = encodeTarHeader({
      ...base,
      typeflag: TarTypeflag.char,
      size: 0,
      mode: 0o7777,
      devmajor: 2 ** 21 - 1,
      devminor: 5,
    });
    assert.equal(field(b, 100, 8), '0007777');
    assert.equal(field(b, 329, 8), '7777777');
    assert.equal(field(b, 337, 8), '0000005');
    assert.ok(checksumOk(b));
    const none = encodeTarHeader(base);
    assert.equal(field(none, 329, 8), '0000000');
    assert.equal(field(none, 337, 8), '0000000');
    for (const bad of [
      { devminor: 2 ** 21 },
      { devmajor: -1 },
      { mode: -1 },
      { gid: Number.NaN },
      { mtime: -1 },
      { size: 2 ** 53 },
      { uid: 2 ** 53 },
    ]) {
      assert.throws(
        () => encodeTarHeader({ ...base, ...bad }),
        (e) => isFromscratchError(e, 'INVALID_ARGUMENT') && e.message.includes('"usr/bin/x"'),
        JSON.stringify(bad),
      );
    }
    // the largest safe integer is a valid id (PAX carries it)
    const big = encodeTarHeader({ ...base, uid: Number.MAX_SAFE_INTEGER });
    assert.ok(pax(big).includes(`uid=${Number.MAX_SAFE_INTEGER}\n`));
  });

  it('the PAX header block: fixed name, mode 0644, owner 0, mtime 0, its size, then padding', () => {
    const b = encodeTarHeader({ ...base, uid: 2 ** 21, mtime: 1700000000 });
    const h = b.subarray(0, 512);
    assert.equal(field(h, 0, 100), './@PaxHeader');
    assert.equal(String.fromCharCode(h[156]!), 'x');
    assert.equal(field(h, 100, 8), '0000644');
    assert.equal(field(h, 108, 8), '0000000');
    assert.equal(field(h, 116, 8), '0000000');
    assert.equal(field(h, 124, 12), (15).toString(8).padStart(11, '0'));
    assert.equal(field(h, 136, 12), '00000000000');
    assert.equal(field(h, 257, 6), 'ustar');
    assert.ok(checksumOk(h));
    assert.equal(b.length, 3 * BLOCK_SIZE);
    assert.ok(b.subarray(512 + 15, 1024).every((x) => x === 0));
    assert.equal(field(main(b), 136, 12), (1700000000).toString(8).padStart(11, '0'));
  });

  it('the checksum field is six octal digits, a NUL and a space', () => {
    const b = encodeTarHeader(base);
    assert.match(b.subarray(148, 156).toString('latin1'), /^[0-7]{6}\u0000 $/);
  });

  it('xattr names: empty, with = or with NUL are refused, naming the entry', () => {
    for (const n of ['', 'user.a=b', 'user.\u0000a']) {
      assert.throws(
        () => encodeTarHeader({ ...base, xattrs: { [n]: Buffer.of(1) } }),
        (e) => isFromscratchError(e, 'INVALID_ARGUMENT') && e.message.includes('"usr/bin/x"'),
        JSON.stringify(n),
      );
    }
    const ok = encodeTarHeader({ ...base, xattrs: { 'user.a': Buffer.from('v') } });
    assert.equal(pax(ok), '25 SCHILY.xattr.user.a=v\n');
    // an empty xattr object adds nothing
    assert.equal(encodeTarHeader({ ...base, xattrs: {} }).length, BLOCK_SIZE);
  });

  it('a PAX header of exactly 1 MiB is written; one byte more is TOO_LARGE', () => {
    const key = 'SCHILY.xattr.user.a';
    let v = MAX_PAX_SIZE - 40;
    while (paxRecord(key, Buffer.alloc(v)).length < MAX_PAX_SIZE) v++;
    assert.equal(paxRecord(key, Buffer.alloc(v)).length, MAX_PAX_SIZE);
    const b = encodeTarHeader({ ...base, xattrs: { 'user.a': Buffer.alloc(v) } });
    assert.equal(b.length, BLOCK_SIZE + MAX_PAX_SIZE + BLOCK_SIZE);
    assert.throws(
      () => encodeTarHeader({ ...base, xattrs: { 'user.a': Buffer.alloc(v + 1) } }),
      (e) => isFromscratchError(e, 'TOO_LARGE') && e.message.includes(String(MAX_PAX_SIZE + 1)),
    );
  });
});

// Added after the Stryker run on tar-header.ts (88.6 %): the split window's two edges, and what a refusal
// tells the user (STYLE.md §5: the message names the field and its range, the hint says what to do).
describe('split window and refusals', () => {
  const split = (n: string) => {
    const s = splitUstarName(Buffer.from(n));
    return s ? [s.prefix.length, s.name.length] : undefined;
  };

  it('a slash just past byte 155 is not the split point: the last slash within the prefix limit is', () => {
    // slashes at 150 and 156: the prefix can only end at 150
    assert.deepEqual(split(`${'d'.repeat(150)}/eeeee/f`), [150, 7]);
  });

  it('a 156-byte directory name splits before its trailing slash, never at it', () => {
    // the trailing slash is byte 155, inside the prefix limit; the split is at the slash before it
    const n = `${'d'.repeat(60)}/${'e'.repeat(94)}/`;
    assert.equal(n.length, 156);
    assert.deepEqual(split(n), [60, 95]);
    const b = encodeTarHeader({ ...base, typeflag: TarTypeflag.dir, size: 0, name: Buffer.from(n) });
    assert.equal(b.length, BLOCK_SIZE);
    assert.equal(field(b, 0, 100), `${'e'.repeat(94)}/`);
    assert.equal(field(b, 345, 155), 'd'.repeat(60));
  });

  it('an out-of-range number is refused naming the field, its value and the range', () => {
    const cases: [Partial<TarHeader>, string][] = [
      [{ mode: 0o10000 }, 'mode 4096 is not an integer in 0..4095'],
      [{ uid: -1 }, 'uid -1 is not an integer in 0..9007199254740991'],
      [{ gid: 1.5 }, 'gid 1.5 is not an integer in 0..9007199254740991'],
      [{ size: -2 }, 'size -2 is not an integer in 0..9007199254740991'],
      [{ mtime: -3 }, 'mtime -3 is not an integer in 0..9007199254740991'],
      [{ devmajor: 2 ** 21 }, 'device major number 2097152 is not an integer in 0..2097151'],
      [{ devminor: 2 ** 21 }, 'device minor number 2097152 is not an integer in 0..2097151'],
    ];
    for (const [bad, message] of cases) {
      assert.throws(
        () => encodeTarHeader({ ...base, ...bad }),
        (e) =>
          isFromscratchError(e, 'INVALID_ARGUMENT') &&
          e.message === `writing tar entry "usr/bin/x": ${message}`,
        message,
      );
    }
  });

  it('an unencodable xattr name and an oversized PAX header come with a hint saying what to do', () => {
    assert.throws(
      () => encodeTarHeader({ ...base, xattrs: { 'user.a=b': Buffer.of(1) } }),
      (e) => isFromscratchError(e, 'INVALID_ARGUMENT') && /non-empty.*no "=" or NUL/.test(e.hint ?? ''),
    );
    assert.throws(
      () => encodeTarHeader({ ...base, xattrs: { 'user.a': Buffer.alloc(MAX_PAX_SIZE) } }),
      (e) => isFromscratchError(e, 'TOO_LARGE') && /1 MiB.*drop some extended attributes/.test(e.hint ?? ''),
    );
  });
});
