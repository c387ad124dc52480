/**
 * tar-boundaries.test.ts — every ustar field at its limit and one past it (issue 17): names of 100/101
 * bytes, the 155-byte prefix split, symlink and hardlink targets of 100/101 bytes, uid/gid and mtime at
 * the last octal value and the first that needs PAX, sizes at 8 GiB − 1 and 8 GiB, device numbers and
 * modes past their field (refused). The oracles are Python's tarfile and GNU tar, never our reader: each
 * value must come back exact, with a PAX record exactly when ustar cannot hold it.
 */
import assert from 'node:assert/strict';
import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isFromscratchError } from '../../src/errors.ts';
import { type FileEntry, FileTreeBuilder } from '../../src/fs/file-tree.ts';
import { BLOCK_SIZE, encodeTarHeader } from '../../src/layer/tar-header.ts';
import { gnuExtract, gnuList, hex, pythonList, requireTool, run, tarOf, withTempDir } from './oracles.ts';

const own = { uid: 0, gid: 0 } as const;
const empty = { kind: 'bytes', data: new Uint8Array(0) } as const;

function file(path: string, extra: Partial<FileEntry> = {}): FileEntry {
  return { type: 'file', path, mode: 0o644, ...own, size: 0, content: empty, ...extra } as FileEntry;
}

function nameOf(m: { name: string }): string {
  return Buffer.from(m.name, 'hex').toString();
}

describe('ustar name and prefix limits (Python tarfile and GNU tar as oracles)', () => {
  // [image path, needs a PAX path record]
  const cases: [string, boolean][] = [
    [`/${'a'.repeat(100)}`, false], // exactly the name field
    [`/${'b'.repeat(101)}`, true], // one byte more, no '/' to split at
    [`/${'p'.repeat(155)}/${'n'.repeat(100)}`, false], // prefix and name both full
    [`/${'q'.repeat(156)}/n`, true], // prefix one byte too long
    [`/${'r'.repeat(10)}/${'n'.repeat(101)}`, true], // name part one byte too long
    [`/${'s'.repeat(154)}/${'t'.repeat(100)}`, false],
    [`/u/${'v'.repeat(99)}`, false], // 101 bytes split as u + 99
  ];
  it('each name round-trips exactly, with a PAX path only past the limit', async () => {
    const b = new FileTreeBuilder();
    for (const [p] of cases) b.add(file(p));
    const tree = b.build();
    const tar = await tarOf(tree);
    const py = pythonList(tar);
    for (const [p, pax] of cases) {
      const m = py.find((x) => nameOf(x) === p.slice(1));
      assert.ok(m, `${p.length - 1}-byte name ${p.slice(0, 20)}… read back exactly`);
      assert.equal(
        m.pax.path !== undefined,
        pax,
        `${p.length - 1}-byte name: PAX path ${pax ? '' : 'not '}expected`,
      );
      if (pax) assert.equal(m.pax.path, hex(p.slice(1)));
    }
    const listing = gnuList(tar);
    for (const [p] of cases)
      assert.ok(listing.includes(` ${p.slice(1)}\n`), `GNU tar lists ${p.slice(0, 20)}…`);
  });

  it('a directory name of 100 bytes with its slash fits; 101 does not', async () => {
    const d100 = `/${'d'.repeat(99)}`; // "ddd…/" is 100 bytes in tar
    const d101 = `/${'e'.repeat(100)}`;
    const tree = new FileTreeBuilder()
      .add({ type: 'dir', path: d100, mode: 0o755, ...own })
      .add({ type: 'dir', path: d101, mode: 0o755, ...own })
      .build();
    const py = pythonList(await tarOf(tree));
    const a = py.find((m) => nameOf(m) === d100.slice(1))!;
    const c = py.find((m) => nameOf(m) === d101.slice(1))!;
    assert.ok(a && c, py.map(nameOf).join(' '));
    assert.deepEqual(a.pax, {});
    assert.equal(c.pax.path, hex(`${d101.slice(1)}/`));
  });
});

describe('link targets at 100 and 101 bytes', () => {
  it('symlink and hardlink targets come back exact; PAX linkpath only past 100 bytes', async () => {
    await withTempDir(async (dir) => {
      const t100 = 'x'.repeat(100);
      const t101 = 'y'.repeat(101);
      const t99 = `z/${'w'.repeat(97)}`;
      const h100 = `/${'h'.repeat(99)}`; // the hardlink target's tar name is 99 bytes... +1 below
      const h101 = `/${'k'.repeat(101)}`;
      const tree = new FileTreeBuilder()
        .add({ type: 'symlink', path: '/s100', mode: 0o777, ...own, target: t100 })
        .add({ type: 'symlink', path: '/s101', mode: 0o777, ...own, target: t101 })
        .add({ type: 'symlink', path: '/s99', mode: 0o777, ...own, target: t99 })
        .add(file(`${h100}h`, { content: { kind: 'bytes', data: Buffer.from('a') }, size: 1 }))
        .add(file(h101, { content: { kind: 'bytes', data: Buffer.from('b') }, size: 1 }))
        .add({ type: 'hardlink', path: '/zl100', mode: 0o644, ...own, target: `${h100}h` })
        .add({ type: 'hardlink', path: '/zl101', mode: 0o644, ...own, target: h101 })
        .build();
      const tar = await tarOf(tree);
      const py = pythonList(tar);
      const by = (n: string) => py.find((m) => nameOf(m) === n)!;
      for (const [n, target] of [
        ['s100', t100],
        ['s101', t101],
        ['s99', t99],
        ['zl100', `${h100.slice(1)}h`],
        ['zl101', h101.slice(1)],
      ] as const) {
        const m = by(n);
        assert.equal(
          Buffer.from(m.linkname, 'hex').toString(),
          target,
          `${n}: the ${target.length}-byte target is exact`,
        );
        assert.equal(m.pax.linkpath !== undefined, target.length > 100, `${n}: PAX linkpath iff > 100 bytes`);
      }
      gnuExtract(tar, dir);
      assert.equal(readlinkSync(join(dir, 's100')), t100);
      assert.equal(readlinkSync(join(dir, 's101')), t101);
      assert.equal(lstatSync(join(dir, 'zl101')).ino, lstatSync(join(dir, h101)).ino);
      assert.equal(lstatSync(join(dir, 'zl100')).ino, lstatSync(join(dir, `${h100}h`)).ino);
    });
  });
});

describe('numeric fields at the last octal value and the first past it', () => {
  it('uid, gid and mtime: exact, with a PAX record only past 7 (ids) or 11 (mtime) octal digits', async () => {
    const MAX7 = 0o7777777;
    const MAX11 = 0o77777777777;
    const tree = new FileTreeBuilder()
      .add(file('/id-max', { uid: MAX7, gid: MAX7 }))
      .add(file('/id-over', { uid: MAX7 + 1, gid: MAX7 + 2 }))
      .add(file('/id-big', { uid: 4_294_967_294, gid: 4_294_967_295 }))
      .build();
    // the entries' mtime is SOURCE_DATE_EPOCH: the last 11-digit value, then the first past it
    const py = pythonList(await tarOf(tree, { sourceDateEpoch: MAX11 }));
    const by = (n: string) => py.find((m) => nameOf(m) === n)!;
    assert.deepEqual([by('id-max').uid, by('id-max').gid, by('id-max').mtime], [MAX7, MAX7, MAX11]);
    assert.deepEqual(by('id-max').pax, {}, 'the last octal values need no PAX');
    assert.deepEqual([by('id-over').uid, by('id-over').gid], [MAX7 + 1, MAX7 + 2]);
    assert.deepEqual(Object.keys(by('id-over').pax).sort(), ['gid', 'uid']);
    assert.deepEqual([by('id-big').uid, by('id-big').gid], [4_294_967_294, 4_294_967_295]);
    const later = pythonList(await tarOf(tree, { sourceDateEpoch: MAX11 + 1 }));
    assert.equal(later[0]!.mtime, MAX11 + 1);
    assert.deepEqual(later[0]!.pax.mtime, hex(String(MAX11 + 1)));
  });

  const PY_FIRST = `
import json, sys, tarfile
tf = tarfile.open(fileobj=sys.stdin.buffer, mode='r|')
m = tf.next()
json.dump(dict(size=m.size, pax=sorted(m.pax_headers)), sys.stdout)
`;
  it('size: 8 GiB − 1 fits the 11-digit field, 8 GiB gets a PAX size (header read by Python)', () => {
    requireTool('python3', 'python3');
    for (const [size, pax] of [
      [8 * 1024 ** 3 - 1, []],
      [8 * 1024 ** 3, ['size']],
      [2 ** 40 + 3, ['size']],
    ] as const) {
      const h = encodeTarHeader({
        name: Buffer.from('big'),
        typeflag: '0',
        mode: 0o644,
        uid: 0,
        gid: 0,
        size,
        mtime: 0,
      });
      assert.equal(h.length % BLOCK_SIZE, 0);
      // the header alone: Python parses it and stops before the content
      const got = JSON.parse(
        run('python3', ['-c', PY_FIRST], { input: Buffer.concat([h, Buffer.alloc(BLOCK_SIZE)]) }).toString(),
      );
      assert.deepEqual(got, { size, pax }, `size ${size}`);
    }
  });

  it('values no tar field or PAX record may carry are refused, naming the entry', () => {
    const base = {
      name: Buffer.from('dev'),
      typeflag: '3',
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: 0,
      mtime: 0,
    } as const;
    assert.doesNotThrow(() => encodeTarHeader({ ...base, devmajor: 0o7777777, devminor: 0o7777777 }));
    assert.doesNotThrow(() => encodeTarHeader({ ...base, mode: 0o7777 }));
    for (const bad of [
      { devmajor: 0o7777777 + 1 },
      { devminor: 0o7777777 + 1 },
      { mode: 0o10000 },
      { uid: -1 },
      { gid: 1.5 },
      { size: Number.MAX_SAFE_INTEGER + 1 },
      { mtime: -1 },
    ]) {
      assert.throws(
        () => encodeTarHeader({ ...base, ...bad }),
        (e) => isFromscratchError(e, 'INVALID_ARGUMENT') && /"dev"/.test(e.message),
        JSON.stringify(bad),
      );
    }
  });
});
