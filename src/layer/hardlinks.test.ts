import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FileEntry, FileTreeBuilder } from '../fs/file-tree.ts';
import { detectHardlinks, resolveHardlinks } from './hardlinks.ts';
import { tarSize, writeTar } from './tar-writer.ts';

const file = (path: string, extra: Partial<FileEntry> = {}): FileEntry =>
  ({
    type: 'file',
    path,
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: 4,
    content: { kind: 'host', path: `/host${path}` },
    ...extra,
  }) as FileEntry;

function kinds(entries: readonly FileEntry[]): string[] {
  return entries.map((e) => `${e.path}:${e.type}${e.type === 'hardlink' ? `->${e.target}` : ''}`);
}

describe('resolveHardlinks', () => {
  it('links later paths of one inode to the first in bytewise order', () => {
    const tree = new FileTreeBuilder().add(file('/b/z')).add(file('/a/y')).add(file('/c')).build();
    const out = resolveHardlinks(
      tree,
      new Map([
        ['/b/z', '1:7'],
        ['/a/y', '1:7'],
      ]),
    );
    assert.deepEqual(kinds(out.entries), ['/a:dir', '/a/y:file', '/b:dir', '/b/z:hardlink->/a/y', '/c:file']);
  });
  it('keeps copies when the metadata differs (one inode has one mode)', () => {
    const tree = new FileTreeBuilder()
      .add(file('/x'))
      .add(file('/y', { mode: 0o755 }))
      .build();
    const out = resolveHardlinks(
      tree,
      new Map([
        ['/x', 'k'],
        ['/y', 'k'],
      ]),
    );
    assert.equal(out, tree);
  });
  it('detectHardlinks only groups files with nlink > 1', async () => {
    const tree = new FileTreeBuilder().add(file('/p')).add(file('/q')).add(file('/r')).build();
    const stats: Record<string, { dev: number; ino: number; nlink: number }> = {
      '/host/p': { dev: 1, ino: 5, nlink: 2 },
      '/host/q': { dev: 1, ino: 5, nlink: 2 },
      '/host/r': { dev: 1, ino: 9, nlink: 1 },
    };
    const out = await detectHardlinks(tree, { stat: async (p) => stats[p]! });
    assert.deepEqual(kinds(out.entries), ['/p:file', '/q:hardlink->/p', '/r:file']);
  });
});

describe('writeTar with hardlink chains', () => {
  it('follows a link to a link to the file, and the sizes agree with tarSize', async () => {
    const tree = new FileTreeBuilder()
      .add({
        type: 'file',
        path: '/m',
        mode: 0o600,
        uid: 1,
        gid: 2,
        size: 3,
        content: { kind: 'bytes', data: Buffer.from('abc') },
      })
      .add({ type: 'hardlink', path: '/n', mode: 0o600, uid: 1, gid: 2, target: '/m' })
      .add({ type: 'hardlink', path: '/o', mode: 0o600, uid: 1, gid: 2, target: '/n' })
      .build();
    const parts: Uint8Array[] = [];
    for await (const c of writeTar(tree)) parts.push(c);
    const tar = Buffer.concat(parts);
    assert.equal(tar.length, tarSize(tree));
    // third header (after m's header + 1 data block, n's header) names "m" as its link target
    const o = tar.subarray(512 * 3, 512 * 4);
    assert.equal(o.subarray(0, 1).toString(), 'o');
    assert.equal(String.fromCharCode(o[156]!), '1');
    assert.equal(o.subarray(157, 158).toString(), 'm');
  });
});
