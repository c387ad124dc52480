/**
 * inspect.test.ts — inspectImage: config, layers and per-layer files with sizes, from every file
 * transport.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { memoryStore } from '../../src/blob/memory-store.ts';
import { isFromscratchError } from '../../src/errors.ts';
import { MediaType } from '../../src/model/media-type.ts';
import { writeImage } from '../../src/oci/image-io.ts';
import { inspectImage, listLayerFiles } from '../../src/oci/inspect.ts';
import { compileHello, helloImage } from '../support/tiny-image.ts';
import { withTempDir } from '../support/validate-tools.ts';

test('inspectImage lists config, layers and files from oci, oci-archive and docker-archive', async () => {
  const store = memoryStore();
  const image = await helloImage(store);
  const hello = await compileHello();
  await withTempDir('inspect', async (t) => {
    for (const ref of [
      `oci:${join(t, 'l')}:v1`,
      `oci-archive:${join(t, 'a.tar')}:v1`,
      `docker-archive:${join(t, 'd.tar')}:inspect-test:v1`,
    ]) {
      await writeImage(ref, [image], store);
      const info = await inspectImage(ref);
      assert.equal(info.reference, ref);
      assert.equal(info.images.length, 1);
      const img = info.images[0]!;
      assert.equal(img.platform, 'linux/amd64');
      assert.deepEqual(img.config.config?.Entrypoint, ['/hello']);
      assert.equal(img.layers.length, 2);
      const files = img.layers.flatMap((l) => l.files ?? []);
      assert.deepEqual(
        files.filter((f) => f.type === 'file').map((f) => [f.path, f.size, f.mode]),
        [
          ['/hello', hello.byteLength, 0o755],
          ['/etc/greeting', 9, 0o644],
        ],
        ref,
      );
      assert.ok(files.some((f) => f.path === '/etc' && f.type === 'dir'));
      assert.equal(img.fileBytes, hello.byteLength + 9);
      assert.ok(img.layers.every((l) => (l.uncompressedSize ?? 0) >= 1024));
      const short = await inspectImage(ref, { files: false });
      assert.equal(short.images[0]!.layers[0]!.files, undefined);
      const capped = await inspectImage(ref, { maxFilesPerLayer: 1 });
      assert.equal(capped.images[0]!.layers[1]!.filesTruncated, true);
    }
  });
  await assert.rejects(inspectImage('nonsense'), (e: unknown) => isFromscratchError(e, 'INVALID_REFERENCE'));
  await assert.rejects(
    inspectImage('docker://127.0.0.1:1/x:y'),
    (e: unknown) => isFromscratchError(e, 'INVALID_REFERENCE') && /registry transport/.test(e.message),
  );
});

test('listLayerFiles reads headers with the strict TarReader: PAX long names, links, corrupt tars', async () => {
  const store = memoryStore();
  const script = `import tarfile,io,sys
b=io.BytesIO()
with tarfile.open(fileobj=b,mode='w',format=tarfile.PAX_FORMAT) as t:
  i=tarfile.TarInfo('./'+'d'*150+'/long-name.txt'); d=b'hello'; i.size=len(d); i.mode=0o640; t.addfile(i,io.BytesIO(d))
  l=tarfile.TarInfo('link'); l.type=tarfile.SYMTYPE; l.linkname='target'; t.addfile(l)
  e=tarfile.TarInfo('dir/'); e.type=tarfile.DIRTYPE; e.mode=0o755; t.addfile(e)
sys.stdout.buffer.write(b.getvalue())`;
  const { execFileSync } = await import('node:child_process');
  const tar = execFileSync('python3', ['-c', script]);
  const put = async (bytes: Uint8Array) => {
    const info = await store.put(bytes);
    return { mediaType: MediaType.OciLayer, digest: info.digest, size: info.size };
  };
  const listed = await listLayerFiles(store, await put(tar));
  assert.deepEqual(
    listed.files.map((f) => [f.path, f.type, f.size, f.mode, f.linkTarget]),
    [
      [`/${'d'.repeat(150)}/long-name.txt`, 'file', 5, 0o640, undefined],
      ['/link', 'symlink', 0, 0o644, 'target'],
      ['/dir', 'dir', 0, 0o755, undefined],
    ],
  );
  assert.equal(listed.uncompressedSize, tar.byteLength);
  assert.equal(listed.truncated, false);
  // cut inside the file's data: a truncated tar names the layer
  const cut = await put(tar.subarray(0, 1540));
  await assert.rejects(
    listLayerFiles(store, cut),
    (e: unknown) =>
      isFromscratchError(e, 'INVALID_ARCHIVE') &&
      e.message.includes(`layer ${cut.digest} is not a valid tar`),
  );
  // a bad header checksum
  const bad = Buffer.from(tar);
  bad[148] = 0x39;
  await assert.rejects(listLayerFiles(store, await put(bad)), (e: unknown) =>
    isFromscratchError(e, 'INVALID_ARCHIVE'),
  );
});
