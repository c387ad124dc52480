// layering.test.ts — pins planLayers: groups by origin, the budget, the order, parents in each layer,
// links kept with their files, and stability of the lower layers when the app changes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FileEntry, FileTreeBuilder } from '../fs/file-tree.ts';
import type { Origin } from '../fs/origin.ts';
import { planLayers } from './layering.ts';

const pkg = (name: string): Origin => ({ kind: 'package', name, version: '1', architecture: 'amd64' });
const app: Origin = { kind: 'requested', via: '--add' };
const needed: Origin = { kind: 'needed', by: '/app/bin', soname: 'libx.so.1', via: 'default dir' };
const dflt: Origin = { kind: 'default', what: 'users' };

function file(path: string, size: number): FileEntry {
  return {
    type: 'file',
    path,
    mode: 0o644,
    uid: 0,
    gid: 0,
    size,
    content: { kind: 'bytes', data: new Uint8Array(size) },
  };
}

function fixture(appSize = 10, extra: [FileEntry, Origin][] = []) {
  const b = new FileTreeBuilder();
  const origins = new Map<string, Origin[]>();
  const add = (e: FileEntry, o: Origin) => {
    b.add(e);
    origins.set(e.path, [...(origins.get(e.path) ?? []), o]);
  };
  add(file('/usr/lib/x86_64-linux-gnu/libc.so.6', 2000), pkg('libc6'));
  add(file('/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', 200), pkg('libc6'));
  add(
    { type: 'symlink', path: '/lib64', mode: 0o777, uid: 0, gid: 0, target: 'usr/lib64' },
    { kind: 'path', to: '/lib64/ld-linux-x86-64.so.2' },
  );
  add(file('/usr/lib/x86_64-linux-gnu/libssl.so.3', 700), pkg('libssl3'));
  add(file('/usr/lib/x86_64-linux-gnu/libz.so.1.2.13', 100), pkg('zlib1g'));
  add(
    {
      type: 'symlink',
      path: '/usr/lib/x86_64-linux-gnu/libz.so.1',
      mode: 0o777,
      uid: 0,
      gid: 0,
      target: 'libz.so.1.2.13',
    },
    needed,
  );
  add(file('/usr/local/lib/libx.so.1', 50), needed);
  add(file('/var/lib/dpkg/status.d/libssl3', 3), dflt);
  add(file('/var/lib/dpkg/status.d/libssl3.md5sums', 3), dflt);
  add(file('/etc/passwd', 5), dflt);
  add(file('/app/main.js', appSize), app);
  add(
    {
      type: 'hardlink',
      path: '/app/z-link',
      mode: 0o644,
      uid: 0,
      gid: 0,
      target: '/usr/local/lib/libx.so.1',
    },
    app,
  );
  for (const [e, o] of extra) add(e, o);
  return { tree: b.build(), origins };
}

const paths = (l: { tree: { entries: readonly FileEntry[] } }) => l.tree.entries.map((e) => e.path);

describe('planLayers', () => {
  it('puts each package, the host files, the defaults and the app in layers of their own, in a fixed order', () => {
    const { tree, origins } = fixture();
    const layers = planLayers(tree, origins, { minLayerBytes: 0 });
    assert.deepEqual(
      layers.map((l) => l.holds),
      ['package libc6', 'package libssl3', 'package zlib1g', 'host files', 'scratch defaults', 'app'],
    );
    // each layer has its parents; the status.d record goes with its package; the symlink with its file
    assert.deepEqual(paths(layers[1]!), [
      '/usr',
      '/usr/lib',
      '/usr/lib/x86_64-linux-gnu',
      '/usr/lib/x86_64-linux-gnu/libssl.so.3',
      '/var',
      '/var/lib',
      '/var/lib/dpkg',
      '/var/lib/dpkg/status.d',
      '/var/lib/dpkg/status.d/libssl3',
      '/var/lib/dpkg/status.d/libssl3.md5sums',
    ]);
    assert.ok(paths(layers[2]!).includes('/usr/lib/x86_64-linux-gnu/libz.so.1'));
    // a hard link is written in its file's layer (tar needs both in one layer)
    assert.ok(paths(layers[3]!).includes('/app/z-link'));
    assert.ok(paths(layers[4]!).includes('/lib64'), 'a link to a directory outside the tree goes to base');
    assert.deepEqual(paths(layers[5]!), ['/app', '/app/main.js']);
    // every non-directory entry is in exactly one layer
    const seen = layers.flatMap((l) => l.tree.entries.filter((e) => e.type !== 'dir').map((e) => e.path));
    assert.equal(seen.length, new Set(seen).size);
    assert.equal(seen.length, tree.entries.filter((e) => e.type !== 'dir').length);
  });

  it('keeps the largest groups within the budget, merges the rest, and keeps the app apart', () => {
    const { tree, origins } = fixture();
    assert.deepEqual(
      planLayers(tree, origins, { budget: 3, minLayerBytes: 0 }).map((l) => l.groups),
      [['package:libc6'], ['base', 'host', 'package:libssl3', 'package:zlib1g'], ['app']],
    );
    assert.deepEqual(
      planLayers(tree, origins, { budget: 4, minLayerBytes: 0 }).map((l) => l.holds),
      ['package libc6', 'package libssl3', 'package zlib1g, host files, scratch defaults', 'app'],
    );
    assert.equal(planLayers(tree, origins, { budget: 2, minLayerBytes: 0 }).length, 2);
  });

  it('lets groups under the size floor share one layer, however large the budget', () => {
    const { tree, origins } = fixture();
    assert.deepEqual(
      planLayers(tree, origins, { minLayerBytes: 500 }).map((l) => l.holds),
      ['package libc6', 'package libssl3', 'package zlib1g, host files, scratch defaults', 'app'],
    );
  });

  it('follows links in parent directories to place a symlink with its file', () => {
    const { tree, origins } = fixture(10, [
      [
        { type: 'symlink', path: '/lib', mode: 0o777, uid: 0, gid: 0, target: 'usr/lib' },
        { kind: 'path', to: '/lib' },
      ],
      [
        {
          type: 'symlink',
          path: '/usr/lib64/ld-linux-x86-64.so.2',
          mode: 0o777,
          uid: 0,
          gid: 0,
          target: '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
        },
        { kind: 'interpreter', by: '/app/main' },
      ],
    ]);
    const libc = planLayers(tree, origins, { minLayerBytes: 0 })[0]!;
    assert.equal(libc.holds, 'package libc6');
    assert.ok(paths(libc).includes('/usr/lib64/ld-linux-x86-64.so.2'));
  });

  it('gives the whole tree as one layer with a budget of 1', () => {
    const { tree, origins } = fixture();
    const layers = planLayers(tree, origins, { budget: 1 });
    assert.equal(layers.length, 1);
    assert.equal(layers[0]!.tree, tree);
  });

  it('leaves every layer but the app unchanged when an app file changes or is added', () => {
    const a = fixture(10);
    const b = fixture(99_999, [[file('/app/new.js', 5), app]]);
    const la = planLayers(a.tree, a.origins, { minLayerBytes: 0 });
    const lb = planLayers(b.tree, b.origins, { minLayerBytes: 0 });
    assert.equal(la.length, lb.length);
    for (let i = 0; i < la.length - 1; i++) assert.deepEqual(lb[i]!.tree.entries, la[i]!.tree.entries);
    assert.notDeepEqual(lb.at(-1)!.tree.entries, la.at(-1)!.tree.entries);
  });
});
