/**
 * Differential tests of the tar writer against GNU tar and Python's tarfile (RELIABILITY.md I2–I6).
 * Fixtures are made at test time in a temp directory.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { getAttributeSync } from '@napi-rs/xattr';
import { isFromscratchError } from '../../src/errors.ts';
import { type FileEntry, FileTreeBuilder } from '../../src/fs/file-tree.ts';
import { decodePathBytes, encodePath } from '../../src/fs/path.ts';
import { detectHardlinks } from '../../src/layer/hardlinks.ts';
import { readHostFile } from '../../src/layer/host-file.ts';
import { tarSize, writeTar } from '../../src/layer/tar-writer.ts';
import {
  collect,
  gnuExtract,
  gnuList,
  hex,
  pythonList,
  requireTool,
  run,
  tarOf,
  withTempDir,
} from './oracles.ts';

const root = { mode: 0o755, uid: 0, gid: 0 } as const;

function hostFile(path: string, host: string, extra: Partial<FileEntry> = {}): FileEntry {
  const st = lstatSync(encodePath(host));
  return {
    type: 'file',
    path,
    mode: st.mode & 0o7777,
    uid: 0,
    gid: 0,
    size: st.size,
    content: { kind: 'host', path: host },
    ...extra,
  } as FileEntry;
}

function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

describe('tar writer vs GNU tar and Python tarfile', () => {
  it('I2: long paths, 255-byte components and long link names round-trip exactly', async () => {
    await withTempDir(async (dir) => {
      const c255 = 'c'.repeat(255);
      const deep = `/${'a'.repeat(255)}/${'b'.repeat(255)}/${c255}`;
      const longTarget = `../${'t'.repeat(150)}/target`;
      const b = new FileTreeBuilder()
        .add({
          type: 'file',
          path: deep,
          ...root,
          mode: 0o644,
          size: 5,
          content: { kind: 'bytes', data: Buffer.from('long\n') },
        })
        .add({ type: 'symlink', path: '/s', ...root, mode: 0o777, target: longTarget })
        .add({ type: 'hardlink', path: `/${'h'.repeat(200)}`, ...root, mode: 0o644, target: deep })
        .add({
          type: 'file',
          path: `/${'p'.repeat(120)}/${'q'.repeat(99)}`,
          ...root,
          size: 0,
          content: { kind: 'bytes', data: new Uint8Array(0) },
        });
      const tree = b.build();
      const tar = await tarOf(tree);
      assert.equal(tar.length, tarSize(tree));
      const py = pythonList(tar);
      const names = py.map((m) => Buffer.from(m.name, 'hex').toString());
      assert.deepEqual(
        names,
        tree.entries.map((e) => e.path.slice(1)),
      );
      const file = py.find((m) => Buffer.from(m.name, 'hex').toString() === deep.slice(1))!;
      assert.equal(file.pax.path, hex(deep.slice(1)), 'PAX path for a name that no ustar split fits');
      const sym = py.find((m) => m.type === '2')!;
      assert.equal(Buffer.from(sym.linkname, 'hex').toString(), longTarget);
      assert.equal(sym.pax.linkpath, hex(longTarget));
      const hl = py.find((m) => m.type === '1')!;
      assert.equal(Buffer.from(hl.linkname, 'hex').toString(), deep.slice(1));
      // 120/99 splits over ustar prefix+name: no PAX needed
      const split = py.find(
        (m) => Buffer.from(m.name, 'hex').toString().startsWith('ppp') && m.type === '0',
      )!;
      assert.deepEqual(split.pax, {});
      gnuList(tar);
      gnuExtract(tar, dir);
      assert.equal(readFileSync(join(dir, deep)).toString(), 'long\n');
      assert.equal(readlinkSync(join(dir, 's')), longTarget);
      assert.equal(lstatSync(join(dir, 'h'.repeat(200))).ino, lstatSync(join(dir, deep)).ino);
    });
  });

  it('I3: non-UTF-8 names are byte-exact (short in raw ustar, long in PAX with hdrcharset=BINARY)', async () => {
    await withTempDir(async (dir) => {
      const src = join(dir, 'src');
      mkdirSync(src);
      const shortName = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "caf\xe9" (latin-1)
      const longName = Buffer.concat([Buffer.from('l'.repeat(150)), Buffer.from([0xff, 0xfe])]);
      writeFileSync(Buffer.concat([Buffer.from(`${src}/`), shortName]), 'one');
      writeFileSync(Buffer.concat([Buffer.from(`${src}/`), longName]), 'two');
      writeFileSync(join(src, 'café'), 'three'); // valid UTF-8, distinct from the latin-1 name
      const b = new FileTreeBuilder();
      for (const n of readdirSync(src, { encoding: 'buffer' })) {
        const name = decodePathBytes(n);
        b.add(hostFile(`/d/${name}`, `${src}/${name}`));
      }
      const tree = b.build();
      const tar = await tarOf(tree);
      const py = pythonList(tar);
      assert.deepEqual(
        py.map((m) => m.name),
        tree.entries.map(
          (e) => hex(encodePath(e.path.slice(1)) as Uint8Array) + (e.type === 'dir' ? '' : ''),
        ),
      );
      const long = py.find((m) => m.name === hex(Buffer.concat([Buffer.from('d/'), longName])))!;
      assert.equal(long.pax.hdrcharset, hex('BINARY'));
      const short = py.find((m) => m.name === hex(Buffer.concat([Buffer.from('d/'), shortName])))!;
      assert.deepEqual(short.pax, {});
      const out = join(dir, 'out');
      mkdirSync(out);
      // GNU tar 1.34 does not know the POSIX hdrcharset keyword: it warns, then extracts the raw bytes
      gnuExtract(tar, out, /Ignoring unknown extended header keyword 'hdrcharset'/);
      const got = readdirSync(join(out, 'd'), { encoding: 'buffer' })
        .map((n) => n.toString('hex'))
        .sort();
      const want = readdirSync(src, { encoding: 'buffer' })
        .map((n) => n.toString('hex'))
        .sort();
      assert.deepEqual(got, want);
      assert.equal(readFileSync(Buffer.concat([Buffer.from(`${out}/d/`), longName])).toString(), 'two');
    });
  });

  it('I4: setuid/setgid/sticky modes and a binary security.capability xattr are kept raw', async () => {
    requireTool('setcap', 'libcap2-bin');
    requireTool('getcap', 'libcap2-bin');
    await withTempDir(async (dir) => {
      const ping = join(dir, 'ping');
      writeFileSync(ping, readFileSync('/bin/true'));
      run('chmod', ['0755', ping]);
      run('setcap', ['cap_net_raw+ep', ping]);
      const cap = getAttributeSync(ping, 'security.capability')!;
      assert.ok(cap?.includes(0x00) && cap.length === 20, 'setcap wrote a VFS_CAP_REVISION_2 blob');
      const tree = new FileTreeBuilder()
        .add(hostFile('/usr/bin/ping', ping, { xattrs: { 'security.capability': cap } }))
        .add({
          type: 'file',
          path: '/usr/bin/su',
          ...root,
          mode: 0o4755,
          size: 1,
          content: { kind: 'bytes', data: Buffer.from('x') },
        })
        .add({
          type: 'file',
          path: '/usr/bin/wall',
          ...root,
          mode: 0o2755,
          gid: 5,
          size: 1,
          content: { kind: 'bytes', data: Buffer.from('y') },
        })
        .add({ type: 'dir', path: '/tmp', ...root, mode: 0o1777 })
        .build();
      const tar = await tarOf(tree);
      const py = pythonList(tar);
      const byName = new Map(py.map((m) => [Buffer.from(m.name, 'hex').toString(), m]));
      assert.equal(
        byName.get('usr/bin/ping')!.pax['SCHILY.xattr.security.capability'],
        Buffer.from(cap).toString('hex'),
      );
      assert.equal(byName.get('usr/bin/su')!.mode, 0o4755);
      assert.equal(byName.get('usr/bin/wall')!.mode, 0o2755);
      assert.equal(byName.get('usr/bin/wall')!.gid, 5);
      assert.equal(byName.get('tmp')!.mode, 0o1777);
      const out = join(dir, 'out');
      mkdirSync(out);
      gnuExtract(tar, out);
      assert.match(run('getcap', [join(out, 'usr/bin/ping')]).toString(), /cap_net_raw[=+]ep/);
      assert.equal(lstatSync(join(out, 'usr/bin/su')).mode & 0o7777, 0o4755);
      assert.equal(lstatSync(join(out, 'usr/bin/wall')).mode & 0o7777, 0o2755);
      assert.equal(lstatSync(join(out, 'tmp')).mode & 0o7777, 0o1777);
    });
  });

  it('I5: host hardlinks become one file plus TypeLink entries naming the first path', async () => {
    await withTempDir(async (dir) => {
      writeFileSync(join(dir, 'z-first'), 'shared');
      linkSync(join(dir, 'z-first'), join(dir, 'a-second'));
      linkSync(join(dir, 'z-first'), join(dir, 'm-third'));
      writeFileSync(join(dir, 'other'), 'shared'); // same bytes, different inode: stays a file
      const tree = await detectHardlinks(
        new FileTreeBuilder()
          .add(hostFile('/bin/z', join(dir, 'z-first')))
          .add(hostFile('/bin/a', join(dir, 'a-second')))
          .add(hostFile('/bin/m', join(dir, 'm-third')))
          .add(hostFile('/bin/o', join(dir, 'other')))
          .build(),
      );
      const tar = await tarOf(tree);
      const py = pythonList(tar);
      const summary = py.map(
        (m) =>
          `${Buffer.from(m.name, 'hex').toString()} ${m.type} ${m.size} ${Buffer.from(m.linkname, 'hex').toString()}`,
      );
      assert.deepEqual(summary, [
        'bin 5 0 ',
        'bin/a 0 6 ',
        'bin/m 1 0 bin/a',
        'bin/o 0 6 ',
        'bin/z 1 0 bin/a',
      ]);
      const out = join(dir, 'out');
      mkdirSync(out);
      gnuExtract(tar, out);
      const ino = (p: string) => lstatSync(join(out, p)).ino;
      assert.equal(ino('bin/a'), ino('bin/z'));
      assert.equal(ino('bin/a'), ino('bin/m'));
      assert.notEqual(ino('bin/a'), ino('bin/o'));
      assert.equal(readFileSync(join(out, 'bin/z')).toString(), 'shared');
    });
  });

  it('I5: a hardlink naming a later path makes the first path carry the bytes; a dangling one is refused', async () => {
    const file = {
      type: 'file',
      path: '/z',
      ...root,
      size: 2,
      content: { kind: 'bytes', data: Buffer.from('hi') },
    } as const;
    const tree = new FileTreeBuilder()
      .add(file)
      .add({ type: 'hardlink', path: '/a', ...root, target: '/z' })
      .build();
    const py = pythonList(await tarOf(tree));
    assert.deepEqual(
      py.map((m) => [
        Buffer.from(m.name, 'hex').toString(),
        m.type,
        m.size,
        Buffer.from(m.linkname, 'hex').toString(),
      ]),
      [
        ['a', '0', 2, ''],
        ['z', '1', 0, 'a'],
      ],
    );
    const bad = new FileTreeBuilder()
      .add({ type: 'hardlink', path: '/a', ...root, target: '/nowhere' })
      .build();
    await assert.rejects(
      collect(writeTar(bad)),
      (e) => isFromscratchError(e, 'INVALID_ARGUMENT') && /\/nowhere/.test((e as Error).message),
    );
  });

  it('I6: a sparse host file is written dense (no GNU sparse entry) with identical content', async () => {
    requireTool('truncate', 'coreutils');
    await withTempDir(async (dir) => {
      const sparse = join(dir, 'sparse');
      run('truncate', ['-s', '3M', sparse]);
      const fd = Buffer.from('middle');
      writeFileSync(sparse, fd, { flag: 'r+' });
      appendFileSync(sparse, 'end');
      const tree = new FileTreeBuilder().add(hostFile('/sparse', sparse)).build();
      const tar = await tarOf(tree);
      const py = pythonList(tar);
      assert.deepEqual(
        py.map((m) => [m.type, m.size]),
        [['0', 3 * 1024 * 1024 + 3]],
      );
      assert.ok(!gnuList(tar).includes('S'), 'no GNU sparse typeflag');
      const out = join(dir, 'out');
      mkdirSync(out);
      gnuExtract(tar, out);
      assert.equal(sha(readFileSync(join(out, 'sparse'))), sha(readFileSync(sparse)));
    });
  });

  it('devices, FIFOs, symlinks and directories carry their type, numbers, owners and mtime', async () => {
    const tree = new FileTreeBuilder()
      .add({ type: 'char', path: '/dev/null', ...root, mode: 0o666, devmajor: 1, devminor: 3 })
      .add({ type: 'block', path: '/dev/sda', ...root, mode: 0o660, gid: 6, devmajor: 8, devminor: 0 })
      .add({ type: 'fifo', path: '/run/fifo', ...root, mode: 0o600, uid: 65532, gid: 65532 })
      .add({ type: 'symlink', path: '/lib64', ...root, mode: 0o777, target: 'usr/lib64' })
      .add({ type: 'dir', path: '/home/nonroot', ...root, mode: 0o700, uid: 65532, gid: 65532, mtime: 123 })
      .build();
    const tar = await tarOf(tree, { sourceDateEpoch: 1700000000 });
    const gnu = gnuList(tar)
      .trim()
      .split('\n')
      .map((l) =>
        l
          .split(/\s+/)
          .filter((_, i) => i !== 3 && i !== 4)
          .join(' '),
      ); // drop date and time
    assert.deepEqual(gnu, [
      'drwxr-xr-x 0/0 0 dev/',
      'crw-rw-rw- 0/0 1,3 dev/null',
      'brw-rw---- 0/6 8,0 dev/sda',
      'drwxr-xr-x 0/0 0 home/',
      'drwx------ 65532/65532 0 home/nonroot/',
      'lrwxrwxrwx 0/0 0 lib64 -> usr/lib64',
      'drwxr-xr-x 0/0 0 run/',
      'prw------- 65532/65532 0 run/fifo',
    ]);
    assert.match(gnuList(tar), /^drwxr-xr-x 0\/0\s+0 2023-11-14 22:13 dev\//);
    const py = pythonList(tar);
    const rows = py.map((m) => [
      Buffer.from(m.name, 'hex').toString(),
      m.type,
      m.mode.toString(8),
      m.uid,
      m.gid,
      m.devmajor,
      m.devminor,
      m.mtime,
      m.uname,
      m.gname,
    ]);
    assert.deepEqual(rows, [
      ['dev', '5', '755', 0, 0, 0, 0, 1700000000, '', ''],
      ['dev/null', '3', '666', 0, 0, 1, 3, 1700000000, '', ''],
      ['dev/sda', '4', '660', 0, 6, 8, 0, 1700000000, '', ''],
      ['home', '5', '755', 0, 0, 0, 0, 1700000000, '', ''],
      ['home/nonroot', '5', '700', 65532, 65532, 0, 0, 1700000000, '', ''],
      ['lib64', '2', '777', 0, 0, 0, 0, 1700000000, '', ''],
      ['run', '5', '755', 0, 0, 0, 0, 1700000000, '', ''],
      ['run/fifo', '6', '600', 65532, 65532, 0, 0, 1700000000, '', ''],
    ]);
    // clampMtimes keeps older entry mtimes; the default replaces them all
    const clamped = pythonList(await tarOf(tree, { sourceDateEpoch: 1700000000, clampMtimes: true }));
    assert.equal(clamped.find((m) => Buffer.from(m.name, 'hex').toString() === 'home/nonroot')!.mtime, 123);
    assert.equal(
      pythonList(await tarOf(tree)).every((m) => m.mtime === 0),
      true,
    );
  });

  it('GNU tar lists the whole archive without a warning and it ends with two zero blocks', async () => {
    const tree = new FileTreeBuilder()
      .add({
        type: 'file',
        path: '/x',
        ...root,
        size: 1000,
        content: { kind: 'bytes', data: Buffer.alloc(1000, 7) },
      })
      .build();
    const tar = await tarOf(tree);
    assert.equal(tar.length % 512, 0);
    assert.ok(tar.subarray(-1024).every((b) => b === 0));
    assert.match(gnuList(tar), /-rwxr-xr-x 0\/0\s+1000 1970-01-01 00:00 x/);
  });
});

describe('host files that change while a layer is written', () => {
  it('a size different from the scanned one is FILE_CHANGED naming the file', async () => {
    await withTempDir(async (dir) => {
      const f = join(dir, 'grows');
      writeFileSync(f, 'abc');
      const tree = new FileTreeBuilder()
        .add({ ...(hostFile('/f', f) as Extract<FileEntry, { type: 'file' }>), size: 2 })
        .build();
      await assert.rejects(
        tarOf(tree),
        (e) => isFromscratchError(e, 'FILE_CHANGED') && (e as Error).message.includes(f),
      );
    });
  });
  it('a file that grows or shrinks during the read is FILE_CHANGED, not a short or long entry', async () => {
    await withTempDir(async (dir) => {
      const f = join(dir, 'f');
      writeFileSync(f, Buffer.alloc(4096, 1));
      const grow = readHostFile(f, 4096, {}, { chunkSize: 1024 });
      await grow.next();
      appendFileSync(f, 'more');
      await assert.rejects(
        collect(grow),
        (e) => isFromscratchError(e, 'FILE_CHANGED') && (e as Error).message.includes(f),
      );
      writeFileSync(f, Buffer.alloc(4096, 1));
      const shrink = readHostFile(f, 4096, {}, { chunkSize: 1024 });
      await shrink.next();
      writeFileSync(f, 'x');
      await assert.rejects(collect(shrink), (e) => isFromscratchError(e, 'FILE_CHANGED'));
    });
  });
  it('a missing host file is FILE_NOT_FOUND and a FIFO in its place does not hang', async () => {
    await withTempDir(async (dir) => {
      const gone = new FileTreeBuilder()
        .add({
          type: 'file',
          path: '/f',
          ...root,
          size: 1,
          content: { kind: 'host', path: join(dir, 'gone') },
        })
        .build();
      await assert.rejects(tarOf(gone), (e) => isFromscratchError(e, 'FILE_NOT_FOUND'));
      run('mkfifo', [join(dir, 'fifo')]);
      const fifo = new FileTreeBuilder()
        .add({
          type: 'file',
          path: '/f',
          ...root,
          size: 1,
          content: { kind: 'host', path: join(dir, 'fifo') },
        })
        .build();
      await assert.rejects(tarOf(fifo), (e) => isFromscratchError(e, 'FILE_CHANGED'));
    });
  });
  it('a path swapped for a symlink or another file of the same size after the scan is FILE_CHANGED (issue 15.1)', async () => {
    await withTempDir(async (dir) => {
      const f = join(dir, 'app.conf');
      writeFileSync(f, 'public');
      writeFileSync(join(dir, 'secret'), 'SECRET');
      const st = statSync(f);
      const entry = {
        type: 'file' as const,
        path: '/f',
        ...root,
        size: 6,
        content: { kind: 'host' as const, path: f, dev: st.dev, ino: st.ino },
      };
      const tree = () => new FileTreeBuilder().add(entry).build();
      assert.equal((await tarOf(tree())).subarray(512, 518).toString(), 'public', 'the scanned file is read');
      // the race of issue 15.1: same size, swapped for a symlink to a secret
      rmSync(f);
      symlinkSync(join(dir, 'secret'), f);
      await assert.rejects(
        tarOf(tree()),
        (e) => isFromscratchError(e, 'FILE_CHANGED') && /symbolic link/.test((e as Error).message),
      );
      // swapped for a hard link to the secret (another inode, same size)
      rmSync(f);
      linkSync(join(dir, 'secret'), f);
      await assert.rejects(
        tarOf(tree()),
        (e) => isFromscratchError(e, 'FILE_CHANGED') && /another file/.test((e as Error).message),
      );
    });
  });
});
