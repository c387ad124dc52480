/**
 * RELIABILITY.md I4 end to end: a layer holding a `setcap cap_net_raw+ep` binary and setuid/setgid/
 * sticky modes, put in a hand-built OCI layout, is unpacked by umoci (as root) with the capability and
 * the mode bits intact. umoci also checks the blob digests, sizes and diff_ids while unpacking.
 */
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { getAttributeSync } from '@napi-rs/xattr';
import { dirStore } from '../../src/blob/dir-store.ts';
import { FileTreeBuilder } from '../../src/fs/file-tree.ts';
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

    const layout = join(dir, 'layout');
    mkdirSync(layout);
    const store = dirStore(join(layout, 'blobs'));
    const layer = await makeLayer(tree, store, { sourceDateEpoch: 1_700_000_000 });
    const img = withConfig(
      appendLayers(emptyImage(hostPlatform()), [layer], [{ created_by: 'fromscratch layer test' }]),
      { Entrypoint: ['/usr/bin/ping'] },
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
    const rootfs = join(bundle, 'rootfs');
    assert.match(run('getcap', [join(rootfs, 'usr/bin/ping')]).toString(), /cap_net_raw[=+]ep/);
    assert.equal(lstatSync(join(rootfs, 'usr/bin/su')).mode & 0o7777, 0o4755);
    assert.equal(lstatSync(join(rootfs, 'usr/bin/wall')).mode & 0o7777, 0o2755);
    assert.equal(lstatSync(join(rootfs, 'usr/bin/wall')).gid, 5);
    assert.equal(lstatSync(join(rootfs, 'tmp')).mode & 0o7777, 0o1777);
  });
});
