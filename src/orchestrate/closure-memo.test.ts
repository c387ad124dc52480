// closure-memo.test.ts — pins the replay of recorded observations: a memo is used only while every
// entry the closure looked at (files, links, listings, absent paths) is as it was.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostFs } from '../fs/host-fs.ts';
import { type MemoryNode, memoryFs } from '../fs/memory-fs.ts';
import { overlayFs } from '../fs/overlay-fs.ts';
import type { RootFs } from '../fs/root-fs.ts';
import { memoKey, readClosureMemo, recordingFs, writeClosureMemo } from './closure-memo.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

/** what a closure might do: read a program, follow a link, list a directory, probe a search path */
async function explore(fs: RootFs): Promise<void> {
  await fs.read('/bin/app');
  await fs.readlink('/lib/libx.so.1');
  await fs.readdir('/lib');
  await fs.lstat('/usr/lib/libx.so.1'); // absent on the first run
}

const value = {
  entries: [
    {
      entry: {
        type: 'file' as const,
        path: '/bin/app',
        mode: 0o755,
        uid: 0,
        gid: 0,
        size: 3,
        content: { kind: 'bytes' as const, data: bytes('elf') },
      },
      origins: [{ kind: 'requested' as const, via: '--binary' }],
    },
  ],
  warnings: ['w'],
};

/** hostRoot lays out on the host the root `explore` walks: a program, a library and its link, /usr/lib */
async function hostRoot(root: string): Promise<void> {
  await mkdir(join(root, 'bin'), { recursive: true });
  await mkdir(join(root, 'lib'), { recursive: true });
  await mkdir(join(root, 'usr', 'lib'), { recursive: true });
  await writeFile(join(root, 'bin', 'app'), 'elf');
  await writeFile(join(root, 'lib', 'libx.so.1.0'), 'lib');
  await symlink('libx.so.1.0', join(root, 'lib', 'libx.so.1'));
}

test('a closure memo is replayed while nothing observed changed, and refused when anything did', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fs-cmemo-'));
  try {
    const nodes: Record<string, MemoryNode> = {
      '/bin/app': { type: 'file', data: bytes('elf') },
      '/lib/libx.so.1': { type: 'symlink', target: 'libx.so.1.0' },
      '/lib/libx.so.1.0': { type: 'file', data: bytes('lib') },
    };
    const key = await memoKey({ roots: ['/bin/app'] });
    assert.notEqual(await memoKey({ roots: ['/bin/other'] }), key, 'the roots are in the key');
    const rec = recordingFs(memoryFs(nodes));
    await explore(rec.fs);
    await writeClosureMemo(key, await rec.observations(), value, dir);

    const hit = await readClosureMemo(key, memoryFs(nodes), dir);
    assert.deepEqual(hit, value, 'unchanged: the memo, bytes included');
    const changes: [string, Record<string, MemoryNode>][] = [
      ['program bytes', { ...nodes, '/bin/app': { type: 'file', data: bytes('ELF') } }],
      ['link target', { ...nodes, '/lib/libx.so.1': { type: 'symlink', target: 'libx.so.1.1' } }],
      ['a new file in a listed directory', { ...nodes, '/lib/liby.so': { type: 'file', data: bytes('y') } }],
      ['a file where none was found', { ...nodes, '/usr/lib/libx.so.1': { type: 'file', data: bytes('x') } }],
    ];
    for (const [what, changed] of changes)
      assert.equal(await readClosureMemo(key, memoryFs(changed), dir), undefined, what);
    assert.equal(await readClosureMemo('0'.repeat(64), memoryFs(nodes), dir), undefined, 'no memo');
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('on the host, a directory is stamped by its type and mode: an unrelated new name leaves the memo valid', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fs-cmemo-host-'));
  const root = join(dir, 'root');
  try {
    await hostRoot(root);
    const key = await memoKey({ roots: ['/bin/app'], host: true });
    const rec = recordingFs(hostFs(root));
    await explore(rec.fs);
    await rec.fs.lstat('/usr/lib');
    await writeClosureMemo(key, await rec.observations(), value, dir);
    // /usr/lib's mtime moves, but the closure only looked the directory up and probed one absent name
    await writeFile(join(root, 'usr', 'lib', 'unrelated.txt'), 'x');
    assert.deepEqual(await readClosureMemo(key, hostFs(root), dir), value, 'unrelated name: memo used');
    await writeFile(join(root, 'usr', 'lib', 'libx.so.1'), 'x');
    assert.equal(await readClosureMemo(key, hostFs(root), dir), undefined, 'the probed name appeared');
    await rm(join(root, 'usr', 'lib', 'libx.so.1'));
    assert.deepEqual(await readClosureMemo(key, hostFs(root), dir), value, 'gone again: memo used');
    await writeFile(join(root, 'bin', 'app'), 'ELF');
    assert.equal(await readClosureMemo(key, hostFs(root), dir), undefined, 'program rewritten, same size');
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('a listed host directory is stamped by its stat data unless it changed in the last seconds; a name added over it is seen', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fs-cmemo-list-'));
  const root = join(dir, 'root');
  try {
    await hostRoot(root);
    const old = new Date(Date.now() - 60_000);
    await utimes(join(root, 'lib'), old, old);
    /** a host root that counts its listings */
    let listings = 0;
    const counted = (): RootFs => {
      const fs = hostFs(root);
      return {
        ...fs,
        readdir: (p) => {
          listings++;
          return fs.readdir(p);
        },
      };
    };
    const key = await memoKey({ roots: ['/bin/app'], listing: true });
    const rec = recordingFs(counted());
    await explore(rec.fs);
    await writeClosureMemo(key, await rec.observations(), value, dir);
    listings = 0;
    assert.deepEqual(await readClosureMemo(key, counted(), dir), value, 'unchanged: memo used');
    assert.equal(listings, 0, 'an old directory is stamped without listing it');
    // a new name: /lib's mtime moves (and is recent: its names are listed from now on)
    await writeFile(join(root, 'lib', 'liby.so'), 'y');
    assert.equal(await readClosureMemo(key, counted(), dir), undefined, 'a new name in a listed directory');
    // recorded while recent: stamped by its names, so a change within the same mtime tick is seen too
    const rec2 = recordingFs(counted());
    await explore(rec2.fs);
    await writeClosureMemo(key, await rec2.observations(), value, dir);
    listings = 0;
    assert.deepEqual(await readClosureMemo(key, counted(), dir), value, 'recent, unchanged: memo used');
    assert.ok(listings > 0, 'a recently changed directory is listed');
    await rm(join(root, 'lib', 'liby.so'));
    await writeFile(join(root, 'lib', 'libz.so'), 'z');
    await utimes(join(root, 'lib'), old, old); // the same mtime as if both changes fell in one tick
    assert.equal(await readClosureMemo(key, counted(), dir), undefined, 'names changed, mtime the same');
    // a root that adds names over a host directory lists them: the directory's stat data does not cover them
    const added = (name: string) =>
      overlayFs(
        counted(),
        [
          {
            entry: {
              type: 'file',
              path: `/lib/${name}`,
              mode: 0o644,
              uid: 0,
              gid: 0,
              size: 1,
              content: { kind: 'bytes', data: bytes('a') },
            },
          },
        ],
        hostFs('/'),
      );
    const rec3 = recordingFs(added('liba.so'));
    await explore(rec3.fs);
    await writeClosureMemo(key, await rec3.observations(), value, dir);
    assert.deepEqual(await readClosureMemo(key, added('liba.so'), dir), value, 'same names: memo used');
    assert.equal(await readClosureMemo(key, added('libb.so'), dir), undefined, 'another added name');
  } finally {
    await rm(dir, { recursive: true });
  }
});
