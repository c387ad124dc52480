/**
 * oci-layout.test.ts — the OCI layout sink and source, checked by skopeo, umoci and oci-image-tool, and
 * the hostile and faulty layouts of RELIABILITY.md C1, C2, C4, C5, C6, C9, C10 and I9.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { memoryStore } from '../../src/blob/memory-store.ts';
import { isFromscratchError } from '../../src/errors.ts';
import { serializeImage } from '../../src/image/image.ts';
import { type Digest, digestHex, sha256 } from '../../src/model/digest.ts';
import { readOciLayout, writeOciLayout } from '../../src/oci/oci-layout.ts';
import { validateImage } from '../../src/oci/validate.ts';
import { helloImage } from '../support/tiny-image.ts';
import { run, validateOciLayoutWithTools, withTempDir } from '../support/validate-tools.ts';

const code = (c: string, re?: RegExp) => (e: unknown) =>
  isFromscratchError(e) && e.code === c && (re === undefined || re.test(e.message));

async function fixture() {
  const store = memoryStore();
  const image = await helloImage(store);
  await validateImage(image, store);
  return { store, image };
}

async function readIndex(dir: string) {
  return JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
}

test('writeOciLayout writes a layout skopeo, umoci and oci-image-tool accept, with both name annotations (I9)', async () => {
  const { store, image } = await fixture();
  await withTempDir('oci', async (t) => {
    const dir = join(t, 'layout');
    const w = await writeOciLayout(dir, [image], store, { tag: 'latest' });
    const inspected = await validateOciLayoutWithTools(dir, 'latest');
    assert.equal(inspected.Digest, w.descriptor.digest);
    assert.equal(inspected.Architecture, 'amd64');
    const idx = await readIndex(dir);
    assert.deepEqual(idx.manifests[0]!.annotations, {
      'io.containerd.image.name': 'latest',
      'org.opencontainers.image.ref.name': 'latest',
    });
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8')), {
      imageLayoutVersion: '1.0.0',
    });
    // nothing but the layout is left behind (no lock, no temp files)
    assert.deepEqual((await readdir(dir)).sort(), ['blobs', 'index.json', 'oci-layout']);
    assert.deepEqual(await readdir(t), ['layout']);
  });
});

test('readOciLayout round-trips the image: same digests, same config', async () => {
  const { store, image } = await fixture();
  await withTempDir('oci', async (t) => {
    const dir = join(t, 'layout');
    const w = await writeOciLayout(dir, [image], store, { tag: 'v1' });
    const set = await readOciLayout(dir, 'v1');
    assert.equal(set.images.length, 1);
    assert.equal(serializeImage(set.images[0]!).descriptor.digest, w.descriptor.digest);
    assert.deepEqual(set.images[0]!.config, image.config);
    assert.deepEqual(set.images[0]!.layers, image.layers);
    assert.equal(set.descriptor.digest, w.descriptor.digest);
    await validateImage(set.images[0]!, set.store);
    // written again from what was read: identical bytes
    const again = await writeOciLayout(join(t, 'again'), set.images, set.store, { tag: 'v1' });
    assert.equal(again.descriptor.digest, w.descriptor.digest);
    // no tag given and one entry: that entry
    assert.equal((await readOciLayout(dir)).descriptor.digest, w.descriptor.digest);
  });
});

test('the same image written twice gives the same bytes', async () => {
  const { store, image } = await fixture();
  await withTempDir('oci', async (t) => {
    await writeOciLayout(join(t, 'a'), [image], store, { tag: 'x' });
    await writeOciLayout(join(t, 'b'), [image], store, { tag: 'x' });
    const a = (await run('find', [join(t, 'a'), '-type', 'f', '-printf', '%P\\n'])).stdout.split('\n').sort();
    const b = (await run('find', [join(t, 'b'), '-type', 'f', '-printf', '%P\\n'])).stdout.split('\n').sort();
    assert.deepEqual(a, b);
    for (const f of a.filter(Boolean))
      assert.deepEqual(await readFile(join(t, 'a', f)), await readFile(join(t, 'b', f)), f);
  });
});

test('a second tag keeps the first; the same tag again replaces it (C8 without concurrency)', async () => {
  const store = memoryStore();
  const one = await helloImage(store, { extra: 'one\n' });
  const two = await helloImage(store, { extra: 'two\n' });
  await withTempDir('oci', async (t) => {
    const dir = join(t, 'layout');
    const w1 = await writeOciLayout(dir, [one], store, { tag: 'one' });
    const w2 = await writeOciLayout(dir, [two], store, { tag: 'two' });
    let idx = await readIndex(dir);
    assert.deepEqual(
      idx.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']),
      ['one', 'two'],
    );
    await writeOciLayout(dir, [two], store, { tag: 'one' });
    idx = await readIndex(dir);
    assert.equal(idx.manifests.length, 2);
    assert.deepEqual(
      idx.manifests.map((m) => m.digest),
      [w2.descriptor.digest, w2.descriptor.digest],
    );
    assert.notEqual(w1.descriptor.digest, w2.descriptor.digest);
    await validateOciLayoutWithTools(dir, 'one', { unpack: false });
    await validateOciLayoutWithTools(dir, 'two', { unpack: false });
    await assert.rejects(readOciLayout(dir), code('IMAGE_NOT_FOUND', /2 images/));
    await assert.rejects(
      readOciLayout(dir, 'three'),
      (e: unknown) => isFromscratchError(e, 'IMAGE_NOT_FOUND') && /two, one/.test(e.hint ?? ''),
    );
  });
});

test('several platforms are written as an index that skopeo and oci-image-tool accept', async () => {
  const store = memoryStore();
  const amd = await helloImage(store);
  const arm = await helloImage(store, { platform: { os: 'linux', architecture: 'arm64' }, extra: 'arm\n' });
  await withTempDir('oci', async (t) => {
    const dir = join(t, 'layout');
    const w = await writeOciLayout(dir, [amd, arm], store, { tag: 'multi' });
    assert.equal(w.descriptor.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.equal(w.manifests.length, 2);
    await validateOciLayoutWithTools(dir, 'multi', { umoci: false });
    const skopeo = await run('skopeo', ['inspect', '--raw', `oci:${dir}:multi`]);
    assert.equal((JSON.parse(skopeo.stdout) as { manifests: unknown[] }).manifests.length, 2);
    const set = await readOciLayout(dir, 'multi');
    assert.deepEqual(
      set.manifests.map((m) => m.digest),
      w.manifests.map((m) => m.digest),
    );
    assert.deepEqual(
      set.images.map((i) => serializeImage(i).descriptor.digest),
      w.manifests.map((m) => m.digest),
    );
    const armOnly = await readOciLayout(dir, 'multi', { platform: { os: 'linux', architecture: 'arm64' } });
    assert.deepEqual(
      armOnly.manifests.map((m) => m.digest),
      [w.manifests[1]!.digest],
    );
    await assert.rejects(
      readOciLayout(dir, 'multi', { platform: { os: 'linux', architecture: 's390x' } }),
      code('IMAGE_NOT_FOUND'),
    );
  });
  await assert.rejects(
    writeOciLayout('/nonexistent-never', [amd, amd], store),
    code('INVALID_ARGUMENT', /two images for platform linux\/amd64/),
  );
});

test("a blob that fails while others are still being written: the error is the blob's, given once every write has ended, and no temporary layout is left", async () => {
  const { store, image } = await fixture();
  assert.ok(image.layers.length >= 2);
  const [bad, slow] = [image.layers[0]!.blob, image.layers[1]!.blob];
  let slowEnded = false;
  const wrapped = {
    ...store,
    has: store.has.bind(store),
    size: store.size.bind(store),
    put: store.put.bind(store),
    open(digest: Digest, size?: number): AsyncIterable<Uint8Array> {
      if (digest === bad.digest) {
        return (async function* () {
          yield* [];
          throw Object.assign(new Error('flipped'), { code: 'DIGEST_MISMATCH' });
        })();
      }
      const inner = store.open(digest, size);
      if (digest !== slow.digest) return inner;
      return (async function* () {
        try {
          await new Promise((r) => setTimeout(r, 300));
          yield* inner;
        } finally {
          slowEnded = true;
        }
      })();
    },
  };
  await withTempDir('oci', async (t) => {
    await assert.rejects(writeOciLayout(join(t, 'layout'), [image], wrapped, { tag: 'x' }), /flipped/);
    assert.ok(slowEnded, 'the other blob was written to its end before the failure was given');
    assert.deepEqual(await readdir(t), [], 'no temporary layout is left');
  });
});

test('C1/C2: a flipped byte or extra bytes in a blob are caught when reading', async () => {
  const { store, image } = await fixture();
  await withTempDir('oci', async (t) => {
    const dir = join(t, 'layout');
    const w = await writeOciLayout(dir, [image], store, { tag: 'x' });
    const layer = image.layers[1]!.blob;
    const layerPath = join(dir, 'blobs', 'sha256', digestHex(layer.digest));
    const good = await readFile(layerPath);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 10]! ^= 0xff;
    await writeFile(layerPath, flipped);
    const set = await readOciLayout(dir, 'x');
    await assert.rejects(validateImage(set.images[0]!, set.store), code('DIGEST_MISMATCH'));
    // copying out of the broken layout refuses the blob and writes nothing
    await assert.rejects(
      writeOciLayout(join(t, 'copy'), set.images, set.store, { tag: 'x' }),
      code('DIGEST_MISMATCH'),
    );
    assert.deepEqual(await readdir(t), ['layout']);
    await writeFile(layerPath, Buffer.concat([good, Buffer.from('extra')]));
    await assert.rejects(validateImage(set.images[0]!, set.store), code('SIZE_MISMATCH'));
    // a flipped manifest byte fails at read time
    const mPath = join(dir, 'blobs', 'sha256', digestHex(w.descriptor.digest));
    const m = await readFile(mPath);
    await writeFile(mPath, Buffer.from(m.toString('utf8').replace('"schemaVersion":2', '"schemaVersion":3')));
    await assert.rejects(readOciLayout(dir, 'x'), code('DIGEST_MISMATCH'));
  });
});

test('C4: a hostile digest in index.json is refused before any file is opened', async () => {
  await withTempDir('oci', async (t) => {
    await writeFile(join(t, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await mkdir(join(t, 'blobs', 'sha256'), { recursive: true });
    for (const digest of [
      'sha256:../../etc/passwd',
      `sha256:${'A'.repeat(64)}`,
      'sha256:abc',
      `sha512:${'a'.repeat(128)}`,
      '',
    ]) {
      await writeFile(
        join(t, 'index.json'),
        JSON.stringify({
          schemaVersion: 2,
          manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: 2 }],
        }),
      );
      await assert.rejects(readOciLayout(t), code('INVALID_DIGEST'), digest);
    }
  });
});

test('C5: missing pieces are named', async () => {
  const { store, image } = await fixture();
  await withTempDir('oci', async (t) => {
    await assert.rejects(readOciLayout(join(t, 'nope')), code('FILE_NOT_FOUND', /does not exist/));
    const dir = join(t, 'layout');
    const w = await writeOciLayout(dir, [image], store, { tag: 'x' });
    await rm(join(dir, 'blobs', 'sha256', digestHex(image.layers[0]!.blob.digest)));
    const set = await readOciLayout(dir, 'x');
    await assert.rejects(validateImage(set.images[0]!, set.store), code('BLOB_NOT_FOUND'));
    await rm(join(dir, 'blobs', 'sha256', digestHex(w.descriptor.digest)));
    await assert.rejects(readOciLayout(dir, 'x'), code('BLOB_NOT_FOUND', new RegExp(w.descriptor.digest)));
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
    await assert.rejects(readOciLayout(dir, 'x'), code('INVALID_IMAGE', /imageLayoutVersion "2.0.0"/));
    await rm(join(dir, 'oci-layout'));
    await assert.rejects(readOciLayout(dir, 'x'), code('INVALID_IMAGE', /missing oci-layout/));
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await rm(join(dir, 'index.json'));
    await assert.rejects(readOciLayout(dir, 'x'), code('INVALID_IMAGE', /missing index.json/));
    await mkdir(join(dir, 'index.json'));
    await assert.rejects(readOciLayout(dir, 'x'), code('INVALID_IMAGE', /index.json is a directory/));
    // writing into a layout whose index.json is broken refuses rather than clobbering it
    await rm(join(dir, 'index.json'), { recursive: true });
    await writeFile(join(dir, 'index.json'), '{"schemaVersion":2,"manifests":[],"manifests":[]}');
    await assert.rejects(
      writeOciLayout(dir, [image], store, { tag: 'y' }),
      code('INVALID_IMAGE', /duplicate key/),
    );
    assert.equal(
      await readFile(join(dir, 'index.json'), 'utf8'),
      '{"schemaVersion":2,"manifests":[],"manifests":[]}',
    );
  });
});

test('C6: a huge manifest is refused without reading it (cap 8 MiB)', async () => {
  await withTempDir('oci', async (t) => {
    const huge = Buffer.alloc(9 * 1024 * 1024, 0x20);
    const d = sha256(huge);
    await mkdir(join(t, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(t, 'blobs', 'sha256', digestHex(d)), huge);
    await writeFile(join(t, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(
      join(t, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d, size: huge.length },
        ],
      }),
    );
    await assert.rejects(readOciLayout(t), code('TOO_LARGE'));
    // a descriptor lying about the size is caught after at most size+1 bytes
    await writeFile(
      join(t, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d, size: 100 }],
      }),
    );
    await assert.rejects(readOciLayout(t), code('SIZE_MISMATCH'));
  });
});

test('D1: an index.json entry pointing at an ambiguous manifest is refused', async () => {
  await withTempDir('oci', async (t) => {
    const bad = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: `sha256:${'a'.repeat(64)}`,
          size: 2,
        },
        layers: [],
        manifests: [],
      }),
    );
    const d = sha256(bad);
    await mkdir(join(t, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(t, 'blobs', 'sha256', digestHex(d)), bad);
    await writeFile(join(t, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(
      join(t, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d, size: bad.length }],
      }),
    );
    await assert.rejects(readOciLayout(t), code('AMBIGUOUS_MANIFEST'));
  });
});

test('C9: a poisoned blob at the right name is replaced, not reused', async () => {
  const { store, image } = await fixture();
  await withTempDir('oci', async (t) => {
    const dir = join(t, 'layout');
    await writeOciLayout(dir, [image], store, { tag: 'x' });
    const layer = image.layers[0]!.blob;
    const p = join(dir, 'blobs', 'sha256', digestHex(layer.digest));
    const good = await readFile(p);
    const poisoned = Buffer.from(good);
    poisoned[100]! ^= 1;
    await writeFile(p, poisoned);
    await writeOciLayout(dir, [image], store, { tag: 'y' });
    assert.deepEqual(await readFile(p), good);
    // truncated (right name, wrong size) too
    await writeFile(p, good.subarray(0, 10));
    await writeOciLayout(dir, [image], store, { tag: 'z' });
    assert.deepEqual(await readFile(p), good);
    const set = await readOciLayout(dir, 'z');
    await validateImage(set.images[0]!, set.store);
  });
});

test('C10: a planted symlink as the output or blobs directory is refused', async () => {
  const { store, image } = await fixture();
  await withTempDir('oci', async (t) => {
    const victim = join(t, 'victim');
    await mkdir(victim);
    await symlink(victim, join(t, 'out'));
    await assert.rejects(
      writeOciLayout(join(t, 'out'), [image], store, { tag: 'x' }),
      code('OUTPUT_UNWRITABLE', /symlink/),
    );
    const dir = join(t, 'layout');
    await mkdir(dir);
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await symlink(victim, join(dir, 'blobs'));
    await assert.rejects(
      writeOciLayout(dir, [image], store, { tag: 'x' }),
      code('OUTPUT_UNWRITABLE', /symlink/),
    );
    await rm(join(dir, 'blobs'));
    await mkdir(join(dir, 'blobs'));
    await symlink(victim, join(dir, 'blobs', 'sha256'));
    await assert.rejects(
      writeOciLayout(dir, [image], store, { tag: 'x' }),
      code('OUTPUT_UNWRITABLE', /symlink/),
    );
    assert.deepEqual(await readdir(victim), []);
  });
});

test('an output that cannot be written is OUTPUT_UNWRITABLE, and a non-layout directory is not clobbered', async () => {
  const { store, image } = await fixture();
  await withTempDir('oci', async (t) => {
    await writeFile(join(t, 'file'), 'x');
    await assert.rejects(
      writeOciLayout(join(t, 'file'), [image], store, { tag: 'x' }),
      code('OUTPUT_UNWRITABLE', /not a directory/),
    );
    await assert.rejects(
      writeOciLayout(join(t, 'file', 'sub'), [image], store, { tag: 'x' }),
      code('OUTPUT_UNWRITABLE'),
    );
    await mkdir(join(t, 'home'));
    await writeFile(join(t, 'home', 'notes.txt'), 'mine');
    await assert.rejects(
      writeOciLayout(join(t, 'home'), [image], store, { tag: 'x' }),
      code('OUTPUT_UNWRITABLE', /not an OCI layout/),
    );
    assert.deepEqual(await readdir(join(t, 'home')), ['notes.txt']);
    // a read-only directory, checked as an unprivileged user (root ignores permissions)
    const ro = join(t, 'ro');
    await mkdir(ro);
    await chmod(t, 0o755);
    await chmod(ro, 0o555);
    const script = `
      import { memoryStore } from ${JSON.stringify(join(import.meta.dirname, '../../src/blob/memory-store.ts'))};
      import { writeOciLayout } from ${JSON.stringify(join(import.meta.dirname, '../../src/oci/oci-layout.ts'))};
      import { emptyImage } from ${JSON.stringify(join(import.meta.dirname, '../../src/image/image.ts'))};
      try { await writeOciLayout(${JSON.stringify(join(ro, 'out'))}, [emptyImage({ os: 'linux', architecture: 'amd64' })], memoryStore()); console.log('written'); }
      catch (e) { console.log(e.code); }`;
    await writeFile(join(t, 'child.mts'), script);
    await chmod(join(t, 'child.mts'), 0o644);
    // as root, drop to nobody (root ignores permissions); unprivileged, run as we are: never skipped
    const child = [process.execPath, '--import', 'tsx', join(t, 'child.mts')];
    const r =
      process.getuid?.() === 0
        ? await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...child], {
            cwd: join(import.meta.dirname, '../..'),
          })
        : await run(child[0]!, child.slice(1), { cwd: join(import.meta.dirname, '../..') });
    assert.equal(r.stdout.trim(), 'OUTPUT_UNWRITABLE');
  });
});

test('temp files a killed writer left behind are removed by the next write (C7 clean-up)', async () => {
  const { store, image } = await fixture();
  await withTempDir('oci', async (t) => {
    const dir = join(t, 'layout');
    await writeOciLayout(dir, [image], store, { tag: 'x' });
    // a pid that cannot be alive: above the kernel's pid_max
    const dead = 4194305;
    await writeFile(join(dir, `.tmp-w-${dead}-abc-1`), 'partial index');
    await writeFile(join(dir, 'blobs', 'sha256', `.tmp-blob-${dead}-abc-2`), 'partial blob');
    await mkdir(join(t, `.layout2.tmp-${dead}-xyz`));
    await writeFile(join(dir, '.fromscratch.lock'), `${dead}\n${(await import('node:os')).hostname()}\n`);
    await writeOciLayout(dir, [image], store, { tag: 'y' });
    await writeOciLayout(join(t, 'layout2'), [image], store, { tag: 'y' });
    assert.deepEqual((await readdir(dir)).sort(), ['blobs', 'index.json', 'oci-layout']);
    assert.ok((await readdir(join(dir, 'blobs', 'sha256'))).every((n) => /^[0-9a-f]{64}$/.test(n)));
    assert.deepEqual((await readdir(t)).sort(), ['layout', 'layout2']);
  });
});

test('digest of a written blob is the sha256 of its file (content addressing holds)', async () => {
  const { store, image } = await fixture();
  await withTempDir('oci', async (t) => {
    await writeOciLayout(join(t, 'l'), [image], store, { tag: 'x' });
    for (const n of await readdir(join(t, 'l', 'blobs', 'sha256'))) {
      assert.equal(sha256(await readFile(join(t, 'l', 'blobs', 'sha256', n))), `sha256:${n}` as Digest);
    }
  });
});

test('D2/D8: a descriptor contradicting its document, and indexes nested too deep, are refused', async () => {
  const { store, image } = await fixture();
  await withTempDir('oci', async (t) => {
    const dir = join(t, 'layout');
    const w = await writeOciLayout(dir, [image], store, { tag: 'x' });
    const put = async (bytes: Buffer) => {
      const d = sha256(bytes);
      await writeFile(join(dir, 'blobs', 'sha256', digestHex(d)), bytes);
      return { digest: d, size: bytes.length };
    };
    const setIndex = (entry: object) =>
      writeFile(
        join(dir, 'index.json'),
        JSON.stringify({
          schemaVersion: 2,
          manifests: [{ ...entry, annotations: { 'org.opencontainers.image.ref.name': 'x' } }],
        }),
      );
    // the OCI manifest announced as a Docker manifest
    await setIndex({
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      digest: w.descriptor.digest,
      size: w.descriptor.size,
    });
    await assert.rejects(readOciLayout(dir, 'x'), code('AMBIGUOUS_MANIFEST', /differs from its descriptor/));
    // five indexes, each pointing at the next, then the manifest
    let child: object = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: w.descriptor.digest,
      size: w.descriptor.size,
    };
    for (let i = 0; i < 5; i++) {
      const idx = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: [child],
        }),
      );
      child = { mediaType: 'application/vnd.oci.image.index.v1+json', ...(await put(idx)) };
    }
    await setIndex(child);
    await assert.rejects(readOciLayout(dir, 'x'), code('TOO_LARGE', /nested deeper than 4/));
  });
});

test('an existing empty directory becomes a layout', async () => {
  const { store, image } = await fixture();
  await withTempDir('oci', async (t) => {
    const dir = join(t, 'empty');
    await mkdir(dir);
    await writeOciLayout(dir, [image], store, { tag: 'x' });
    await validateOciLayoutWithTools(dir, 'x', { unpack: false, umoci: false });
    assert.deepEqual((await readdir(dir)).sort(), ['blobs', 'index.json', 'oci-layout']);
  });
});
