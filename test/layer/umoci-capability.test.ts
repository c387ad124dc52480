/**
 * RELIABILITY.md I4 end to end: a layer holding a `setcap cap_net_raw+ep` binary and setuid/setgid/
 * sticky modes, put in a hand-built OCI layout, is unpacked by umoci (as root) with the capability and
 * the mode bits intact. umoci also checks the blob digests, sizes and diff_ids while unpacking.
 * A second test has umoci (Go archive/tar) unpack every other kind of entry our writer produces.
 */
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { getAttributeSync } from '@napi-rs/xattr';
import { dirStore } from '../../src/blob/dir-store.ts';
import { type FileTree, FileTreeBuilder } from '../../src/fs/file-tree.ts';
import { decodePathBytes } from '../../src/fs/path.ts';
import {
  appendLayers,
  emptyImage,
  serializeImage,
  serializeIndex,
  withConfig,
} from '../../src/image/image.ts';
import { makeLayer } from '../../src/layer/make-layer.ts';
import { hostPlatform } from '../../src/model/platform.ts';
import { requireTool, run, withTempDir } from './oracles.ts';

/** unpackWithUmoci writes the tree as a one-layer OCI layout (by hand) and unpacks it with umoci; returns the rootfs. */
async function unpackWithUmoci(tree: FileTree, dir: string): Promise<string> {
  const layout = join(dir, 'layout');
  mkdirSync(layout);
  const store = dirStore(join(layout, 'blobs'));
  const layer = await makeLayer(tree, store, { sourceDateEpoch: 1_700_000_000 });
  const img = withConfig(
    appendLayers(emptyImage(hostPlatform()), [layer], [{ created_by: 'fromscratch layer test' }]),
    {
      Entrypoint: ['/usr/bin/ping'],
    },
  );
  const s = serializeImage(img, { created: '2023-11-14T22:13:20Z' });
  await store.put(s.config);
  await store.put(s.manifest);
  const index = serializeIndex([
    { ...s.descriptor, annotations: { 'org.opencontainers.image.ref.name': 'latest' } },
  ]);
  writeFileSync(join(layout, 'index.json'), index.bytes);
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const bundle = join(dir, 'bundle');
  run('umoci', ['unpack', '--image', `${layout}:latest`, bundle], { allowStderr: true });
  return join(bundle, 'rootfs');
}

it('I4: umoci unpack restores security.capability and 4755/2755/1777 from our gzip layer', async () => {
  requireTool('umoci', 'umoci');
  requireTool('setcap', 'libcap2-bin');
  requireTool('getcap', 'libcap2-bin');
  assert.equal(
    process.getuid?.(),
    0,
    'this test needs root (umoci unpack restores file capabilities only as root)',
  );
  await withTempDir(async (dir) => {
    const ping = join(dir, 'ping');
    writeFileSync(ping, readFileSync('/bin/true'), { mode: 0o755 });
    run('setcap', ['cap_net_raw+ep', ping]);
    const cap = getAttributeSync(ping, 'security.capability')!;
    const st = lstatSync(ping);
    const tree = new FileTreeBuilder()
      .add({
        type: 'file',
        path: '/usr/bin/ping',
        mode: st.mode & 0o7777,
        uid: 0,
        gid: 0,
        size: st.size,
        content: { kind: 'host', path: ping },
        xattrs: { 'security.capability': cap },
      })
      .add({
        type: 'file',
        path: '/usr/bin/su',
        mode: 0o4755,
        uid: 0,
        gid: 0,
        size: 1,
        content: { kind: 'bytes', data: Buffer.from('x') },
      })
      .add({
        type: 'file',
        path: '/usr/bin/wall',
        mode: 0o2755,
        uid: 0,
        gid: 5,
        size: 1,
        content: { kind: 'bytes', data: Buffer.from('y') },
      })
      .add({ type: 'dir', path: '/tmp', mode: 0o1777, uid: 0, gid: 0 })
      .build();

    const rootfs = await unpackWithUmoci(tree, dir);
    assert.match(run('getcap', [join(rootfs, 'usr/bin/ping')]).toString(), /cap_net_raw[=+]ep/);
    assert.equal(lstatSync(join(rootfs, 'usr/bin/su')).mode & 0o7777, 0o4755);
    assert.equal(lstatSync(join(rootfs, 'usr/bin/wall')).mode & 0o7777, 0o2755);
    assert.equal(lstatSync(join(rootfs, 'usr/bin/wall')).gid, 5);
    assert.equal(lstatSync(join(rootfs, 'tmp')).mode & 0o7777, 0o1777);
  });
});

it('umoci (Go archive/tar) unpacks long, non-UTF-8, hardlinked, large-uid and special entries exactly', async () => {
  requireTool('umoci', 'umoci');
  assert.equal(process.getuid?.(), 0, 'this test needs root (umoci unpack as root keeps owners and devices)');
  await withTempDir(async (dir) => {
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]);
    const longBin = Buffer.concat([Buffer.from('n'.repeat(150)), Buffer.of(0xff)]);
    const deep = `/${'a'.repeat(255)}/${'b'.repeat(255)}`;
    const data = (s: string) => ({ kind: 'bytes', data: Buffer.from(s) }) as const;
    const tree = new FileTreeBuilder()
      .add({
        type: 'file',
        path: `/x/${decodePathBytes(latin1)}`,
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: 1,
        content: data('1'),
      })
      .add({
        type: 'file',
        path: `/x/${decodePathBytes(longBin)}`,
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: 1,
        content: data('2'),
      })
      .add({
        type: 'file',
        path: deep,
        mode: 0o640,
        uid: 3_000_000,
        gid: 3_000_001,
        size: 1,
        content: data('3'),
      })
      .add({ type: 'hardlink', path: '/x/link', mode: 0o640, uid: 3_000_000, gid: 3_000_001, target: deep })
      .add({ type: 'symlink', path: '/x/sym', mode: 0o777, uid: 0, gid: 0, target: `../${'t'.repeat(120)}` })
      .add({ type: 'fifo', path: '/x/fifo', mode: 0o600, uid: 0, gid: 0 })
      .add({ type: 'char', path: '/dev/null', mode: 0o666, uid: 0, gid: 0, devmajor: 1, devminor: 3 })
      .build();
    const rootfs = await unpackWithUmoci(tree, dir);
    const names = readdirSync(join(rootfs, 'x'), { encoding: 'buffer' })
      .map((n) => n.toString('hex'))
      .sort();
    assert.deepEqual(
      names,
      [latin1, longBin, Buffer.from('fifo'), Buffer.from('link'), Buffer.from('sym')]
        .map((b) => b.toString('hex'))
        .sort(),
    );
    assert.equal(readFileSync(Buffer.concat([Buffer.from(`${rootfs}/x/`), longBin])).toString(), '2');
    const d = lstatSync(join(rootfs, deep));
    assert.deepEqual([d.uid, d.gid, d.mode & 0o7777, d.nlink], [3_000_000, 3_000_001, 0o640, 2]);
    assert.equal(lstatSync(join(rootfs, 'x/link')).ino, d.ino);
    assert.equal(readlinkSync(join(rootfs, 'x/sym')), `../${'t'.repeat(120)}`);
    assert.ok(lstatSync(join(rootfs, 'x/fifo')).isFIFO());
    const dev = lstatSync(join(rootfs, 'dev/null'));
    assert.ok(dev.isCharacterDevice() && dev.rdev === 0x103);
  });
});
