/**
 * archives.test.ts — oci-archive and docker-archive sinks and sources, checked with skopeo, `docker load`
 * and `docker run` of a static program, plus the hostile archives of RELIABILITY.md C1, C5, A14.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { memoryStore } from '../../src/blob/memory-store.ts';
import { isFromscratchError } from '../../src/errors.ts';
import { appendLayers, serializeImage } from '../../src/image/image.ts';
import { digestHex } from '../../src/model/digest.ts';
import { readDockerArchive, writeDockerArchive } from '../../src/oci/docker-archive.ts';
import { readOciArchive, writeOciArchive } from '../../src/oci/oci-archive.ts';
import { validateImage } from '../../src/oci/validate.ts';
import { HELLO_OUTPUT, helloImage } from '../support/tiny-image.ts';
import {
  dockerLoadAndRun,
  dockerRemoveImage,
  requireTool,
  run,
  validateOciLayoutWithTools,
  withTempDir,
} from '../support/validate-tools.ts';

const code = (c: string, re?: RegExp) => (e: unknown) =>
  isFromscratchError(e) && e.code === c && (re === undefined || re.test(e.message));

test('writeOciArchive: skopeo reads it; its unpacked layout passes every tool; it reads back', async () => {
  const store = memoryStore();
  const image = await helloImage(store);
  const skopeo = requireTool('skopeo', 'skopeo');
  await withTempDir('ociarchive', async (t) => {
    const file = join(t, 'img.tar');
    const w = await writeOciArchive(file, [image], store, { tag: 'latest' });
    const inspected = JSON.parse((await run(skopeo, ['inspect', `oci-archive:${file}:latest`])).stdout) as {
      Digest: string;
    };
    assert.equal(inspected.Digest, w.descriptor.digest);
    await run('tar', ['-xf', file, '-C', t]);
    await validateOciLayoutWithTools(t, 'latest', { unpack: false });
    const set = await readOciArchive(file, 'latest');
    try {
      assert.equal(serializeImage(set.images[0]!).descriptor.digest, w.descriptor.digest);
      await validateImage(set.images[0]!, set.store);
    } finally {
      await set.close();
    }
    // same image → same archive bytes
    await writeOciArchive(join(t, 'again.tar'), [image], store, { tag: 'latest' });
    assert.deepEqual(await readFile(join(t, 'again.tar')), await readFile(file));
    // skopeo's own oci-archive reads back through ours
    await run(skopeo, [
      'copy',
      '--quiet',
      `oci-archive:${file}:latest`,
      `oci-archive:${join(t, 'skopeo.tar')}:copied`,
    ]);
    const theirs = await readOciArchive(join(t, 'skopeo.tar'), 'copied');
    await validateImage(theirs.images[0]!, theirs.store);
    await theirs.close();
  });
});

test('writeDockerArchive: docker load + docker run prints hello; skopeo copies it; same bytes twice', async () => {
  const store = memoryStore();
  const image = await helloImage(store);
  const skopeo = requireTool('skopeo', 'skopeo');
  const name = 'fromscratch-oci-test/hello:archive';
  await withTempDir('dockerarchive', async (t) => {
    const file = join(t, 'img.tar');
    const w = await writeDockerArchive(file, image, store, { repoTags: [name] });
    try {
      assert.equal(await dockerLoadAndRun(file, name), HELLO_OUTPUT);
      const id = (await run('docker', ['image', 'inspect', '--format', '{{.Id}}', name])).stdout.trim();
      assert.equal(id, w.imageId, 'Docker names the image by its config digest');
    } finally {
      await dockerRemoveImage(name);
    }
    await run(skopeo, ['copy', '--quiet', `docker-archive:${file}`, `oci:${join(t, 'layout')}:copied`]);
    await validateOciLayoutWithTools(join(t, 'layout'), 'copied', { unpack: false });
    await writeDockerArchive(join(t, 'again.tar'), image, store, { repoTags: [name] });
    assert.deepEqual(await readFile(join(t, 'again.tar')), await readFile(file));
    const set = await readDockerArchive(file, name);
    try {
      assert.deepEqual(set.images[0]!.config, image.config);
      assert.deepEqual(
        set.images[0]!.layers.map((l) => l.diffId),
        image.layers.map((l) => l.diffId),
      );
      await validateImage(set.images[0]!, set.store);
    } finally {
      await set.close();
    }
  });
});

test('readDockerArchive reads what docker save writes, and zstd and uncompressed layers convert', async () => {
  const store = memoryStore();
  const zstd = await helloImage(store, { compression: 'zstd' });
  const name = 'fromscratch-oci-test/hello:zstd';
  await withTempDir('dockersave', async (t) => {
    // a zstd image: the archive holds plain tars, which Docker 20.10 (no zstd) loads
    await writeDockerArchive(join(t, 'z.tar'), zstd, store, { repoTags: [name] });
    try {
      assert.equal(await dockerLoadAndRun(join(t, 'z.tar'), name), HELLO_OUTPUT);
      await run('docker', ['save', '-o', join(t, 'saved.tar'), name]);
    } finally {
      await dockerRemoveImage(name);
    }
    const set = await readDockerArchive(join(t, 'saved.tar'), name);
    try {
      assert.deepEqual(
        set.images[0]!.layers.map((l) => l.diffId),
        zstd.layers.map((l) => l.diffId),
      );
      assert.equal(set.images[0]!.layers[0]!.blob.mediaType, 'application/vnd.oci.image.layer.v1.tar');
      await validateImage(set.images[0]!, set.store);
    } finally {
      await set.close();
    }
    await assert.rejects(
      readDockerArchive(join(t, 'saved.tar'), 'other:tag'),
      code('IMAGE_NOT_FOUND', /no image named other:tag/),
    );
  });
});

test('hostile docker-archives: a layer that is not its diff_id, missing files, duplicate names, junk', async () => {
  const store = memoryStore();
  const image = await helloImage(store);
  await withTempDir('hostile', async (t) => {
    const file = join(t, 'img.tar');
    await writeDockerArchive(file, image, store, { repoTags: ['x:y'] });
    const dir = join(t, 'x');
    await run('mkdir', [dir]);
    await run('tar', ['-xf', file, '-C', dir]);
    const layer = join(dir, digestHex(image.layers[1]!.diffId), 'layer.tar');
    const bytes = await readFile(layer);
    bytes[600]! ^= 0xff;
    await writeFile(layer, bytes);
    const names = (await readdir(dir)).sort();
    await run('tar', ['-cf', join(t, 'flipped.tar'), '-C', dir, ...names]);
    await assert.rejects(readDockerArchive(join(t, 'flipped.tar')), code('DIGEST_MISMATCH'));
    await run('tar', [
      '-cf',
      join(t, 'nomanifest.tar'),
      '-C',
      dir,
      ...names.filter((n) => n !== 'manifest.json'),
    ]);
    await assert.rejects(
      readDockerArchive(join(t, 'nomanifest.tar')),
      code('INVALID_IMAGE', /missing file "manifest.json"/),
    );
    // the same name twice: two readers could see two different images (A14)
    await run('tar', ['-cf', join(t, 'dup.tar'), '-C', dir, 'manifest.json', 'manifest.json']);
    await assert.rejects(
      readDockerArchive(join(t, 'dup.tar')),
      code('INVALID_ARCHIVE', /duplicate entry "manifest.json"/),
    );
    await writeFile(join(t, 'junk.tar'), Buffer.alloc(2048, 7));
    await assert.rejects(readDockerArchive(join(t, 'junk.tar')), code('INVALID_ARCHIVE'));
    await writeFile(join(t, 'short.tar'), (await readFile(file)).subarray(0, 5000));
    await assert.rejects(readDockerArchive(join(t, 'short.tar')), code('INVALID_ARCHIVE'));
    await assert.rejects(readDockerArchive(join(t, 'absent.tar')), code('FILE_NOT_FOUND'));
    // nothing of the archive was extracted next to it
    assert.ok(!(await readdir(t)).includes('manifest.json'));
  });
});

test('hostile oci-archives: a flipped blob is DIGEST_MISMATCH, a missing oci-layout is named', async () => {
  const store = memoryStore();
  const image = await helloImage(store);
  await withTempDir('hostile', async (t) => {
    const file = join(t, 'img.tar');
    const w = await writeOciArchive(file, [image], store, { tag: 'x' });
    const dir = join(t, 'x');
    await run('mkdir', [dir]);
    await run('tar', ['-xf', file, '-C', dir]);
    const cfg = join(dir, 'blobs', 'sha256', digestHex(image.layers[0]!.blob.digest));
    const bytes = await readFile(cfg);
    bytes[50]! ^= 1;
    await writeFile(cfg, bytes);
    await run('tar', ['-cf', join(t, 'flipped.tar'), '-C', dir, 'blobs', 'index.json', 'oci-layout']);
    const set = await readOciArchive(join(t, 'flipped.tar'), 'x');
    await assert.rejects(validateImage(set.images[0]!, set.store), code('DIGEST_MISMATCH'));
    await set.close();
    await run('tar', ['-cf', join(t, 'nolayout.tar'), '-C', dir, 'blobs', 'index.json']);
    await assert.rejects(
      readOciArchive(join(t, 'nolayout.tar')),
      code('INVALID_IMAGE', /missing oci-layout/),
    );
    await assert.rejects(readOciArchive(file, 'nope'), code('IMAGE_NOT_FOUND'));
    const only = await readOciArchive(file);
    assert.equal(only.descriptor.digest, w.descriptor.digest);
    await only.close();
  });
});

test('archive outputs: a symlink or directory at the target is refused (C10)', async () => {
  const store = memoryStore();
  const image = await helloImage(store);
  await withTempDir('c10', async (t) => {
    await writeFile(join(t, 'victim'), 'keep');
    await symlink(join(t, 'victim'), join(t, 'link.tar'));
    await assert.rejects(
      writeDockerArchive(join(t, 'link.tar'), image, store),
      code('OUTPUT_UNWRITABLE', /symlink/),
    );
    await assert.rejects(
      writeOciArchive(join(t, 'link.tar'), [image], store),
      code('OUTPUT_UNWRITABLE', /symlink/),
    );
    await assert.rejects(writeOciArchive(t, [image], store), code('OUTPUT_UNWRITABLE', /not a regular file/));
    await assert.rejects(
      writeOciArchive(join(t, 'victim', 'x.tar'), [image], store),
      code('OUTPUT_UNWRITABLE'),
    );
    assert.equal(await readFile(join(t, 'victim'), 'utf8'), 'keep');
    await assert.rejects(
      writeDockerArchive(join(t, 'a.tar'), image, store, { repoTags: ['Bad Name'] }),
      code('INVALID_REFERENCE'),
    );
  });
});

test('a layer used twice is written once; symlinked layer files (old docker save) are followed inside the archive', async () => {
  const store = memoryStore();
  const hello = await helloImage(store);
  const image = appendLayers(hello, [hello.layers[1]!], [{ created_by: 'test: again' }]);
  const name = 'fromscratch-oci-test/hello:twice';
  await withTempDir('twice', async (t) => {
    const file = join(t, 'img.tar');
    await writeDockerArchive(file, image, store, { repoTags: [name] });
    try {
      assert.equal(await dockerLoadAndRun(file, name), HELLO_OUTPUT);
    } finally {
      await dockerRemoveImage(name);
    }
    // rewrite: the third layer becomes its own directory whose layer.tar is a relative symlink
    const py = `
import json, sys, tarfile, io
src, dst = sys.argv[1], sys.argv[2]
with tarfile.open(src) as tin, tarfile.open(dst, 'w', format=tarfile.PAX_FORMAT) as tout:
    m = None
    for ti in tin.getmembers():
        if ti.name == 'manifest.json':
            m = json.load(tin.extractfile(ti)); continue
        tout.addfile(ti, tin.extractfile(ti) if ti.isfile() else None)
    target = m[0]['Layers'][2]
    link = tarfile.TarInfo('f' * 64 + '/layer.tar'); link.type = tarfile.SYMTYPE; link.linkname = '../' + target
    tout.addfile(link)
    m[0]['Layers'][2] = link.name
    data = json.dumps(m).encode(); mi = tarfile.TarInfo('manifest.json'); mi.size = len(data)
    tout.addfile(mi, io.BytesIO(data))
`;
    await run('python3', ['-c', py, file, join(t, 'linked.tar')]);
    const set = await readDockerArchive(join(t, 'linked.tar'), name);
    try {
      assert.equal(set.images[0]!.layers.length, 3);
      await validateImage(set.images[0]!, set.store);
    } finally {
      await set.close();
    }
  });
});
