/**
 * inspect.test.ts — inspectImage: config, layers and per-layer files with sizes, from every file
 * transport.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { memoryStore } from '../../src/blob/memory-store.ts';
import { isFromscratchError } from '../../src/errors.ts';
import { writeImage } from '../../src/oci/image-io.ts';
import { inspectImage } from '../../src/oci/inspect.ts';
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
