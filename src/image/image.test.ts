import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256 } from '../model/digest.ts';
import { MediaType } from '../model/media-type.ts';
import { canonicalJson } from './canonical-json.ts';
import { appendLayers, emptyImage, serializeImage, withConfig } from './image.ts';

const layer = {
  blob: { mediaType: MediaType.OciLayerGzip, digest: sha256('gz'), size: 2 },
  diffId: sha256('tar'),
};

test('canonicalJson sorts keys and drops undefined, whatever the build order', () => {
  assert.equal(
    Buffer.from(canonicalJson({ b: 1, a: { d: undefined, c: [1, 'x'] } })).toString(),
    '{"a":{"c":[1,"x"]},"b":1}',
  );
  assert.deepEqual(canonicalJson({ x: 1, y: 2 }), canonicalJson({ y: 2, x: 1 }));
});

test('serializeImage derives diff_ids from layers and always writes history created (I8)', () => {
  const img = withConfig(
    appendLayers(emptyImage({ os: 'linux', architecture: 'amd64' }), [layer], [{ created_by: 'test' }]),
    { Entrypoint: ['/x'], Env: ['A=1'] },
  );
  const s = serializeImage(img);
  const cfg = JSON.parse(Buffer.from(s.config).toString());
  assert.deepEqual(cfg.rootfs, { type: 'layers', diff_ids: [layer.diffId] });
  assert.equal(cfg.history[0].created, '1970-01-01T00:00:00Z');
  assert.equal(s.configDescriptor.digest, sha256(s.config));
  assert.equal(s.descriptor.digest, sha256(s.manifest));
  assert.equal(JSON.parse(Buffer.from(s.manifest).toString()).mediaType, MediaType.OciManifest);
  const d = serializeImage(img, { format: 'docker' });
  assert.equal(JSON.parse(Buffer.from(d.manifest).toString()).layers[0].mediaType, MediaType.DockerLayerGzip);
});

test('withConfig merges Env by name and null clears a field', () => {
  let img = withConfig(emptyImage({ os: 'linux', architecture: 'amd64' }), {
    Env: ['A=1', 'B=2'],
    Cmd: ['x'],
  });
  img = withConfig(img, { Env: ['A=3'], Cmd: null });
  assert.deepEqual(img.config.Env, ['A=3', 'B=2']);
  assert.equal(img.config.Cmd, undefined);
});
