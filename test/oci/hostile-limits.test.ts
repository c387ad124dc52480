/**
 * hostile-limits.test.ts — issue 15.5, 15.6 and 15.8 against the oci sources and sinks and the CLI:
 * layouts fromscratch could not read back are refused before anything is written; a base whose config
 * diff_ids do not match its layers is refused by `build --from`, `inspect` and `copy` (umoci as the
 * oracle that the hand-made image is bad and the good one is fine); a gzip bomb and an image of 50,000
 * layers stop early with TOO_LARGE. Every hostile input is made here, small on disk; no time is asserted.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { dirStore } from '../../src/blob/dir-store.ts';
import { memoryStore } from '../../src/blob/memory-store.ts';
import { isFromscratchError } from '../../src/errors.ts';
import { canonicalJson } from '../../src/image/canonical-json.ts';
import type { Image } from '../../src/image/image.ts';
import { Annotation } from '../../src/model/documents.ts';
import { MAX_IMAGE_LAYERS, MAX_INDEX_MANIFESTS } from '../../src/model/json.ts';
import { MediaType } from '../../src/model/media-type.ts';
import { writeImage } from '../../src/oci/image-io.ts';
import { inspectImage } from '../../src/oci/inspect.ts';
import { attachToOciLayout, readOciLayout, writeOciLayout } from '../../src/oci/oci-layout.ts';
import { fromscratch } from '../e2e/cli.ts';
import { header } from '../run/tar-gen.ts';
import { helloImage } from '../support/tiny-image.ts';
import { requireTool, run, withTempDir } from '../support/validate-tools.ts';

const digestOf = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}` as const;

function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const n of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${n.name}` : n.name;
      out.push(r);
      if (n.isDirectory()) walk(join(d, n.name), r);
    }
  };
  walk(dir, '');
  return out.sort();
}

/** writeRawLayout writes a layout whose index.json lists `manifest` under each tag, by hand. */
async function writeRawLayout(
  dir: string,
  docs: { manifest: Uint8Array; config: Uint8Array; blobs?: Uint8Array[] },
  tags: string[],
): Promise<void> {
  const store = dirStore(join(dir, 'blobs'), { fsync: false });
  for (const b of [docs.config, docs.manifest, ...(docs.blobs ?? [])]) await store.put(b);
  writeFileSync(join(dir, 'oci-layout'), canonicalJson({ imageLayoutVersion: '1.0.0' }));
  const entries = tags.map((t) => ({
    mediaType: MediaType.OciManifest,
    digest: digestOf(docs.manifest),
    size: docs.manifest.byteLength,
    annotations: { [Annotation.RefName]: t },
  }));
  writeFileSync(
    join(dir, 'index.json'),
    canonicalJson({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: entries }),
  );
}

/** rawImage encodes a manifest + config for layers given as [blob bytes, media type, diff_id]. */
function rawImage(layers: { blob: Uint8Array; mediaType: string; diffId: string }[]): {
  manifest: Uint8Array;
  config: Uint8Array;
} {
  const config = canonicalJson({
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  });
  const manifest = canonicalJson({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.byteLength },
    layers: layers.map((l) => ({
      mediaType: l.mediaType,
      digest: digestOf(l.blob),
      size: l.blob.byteLength,
    })),
  });
  return { manifest, config };
}

describe('issue 15.5: a layout is never written past what readers accept', () => {
  it('the 1001st index.json entry is refused before anything is written; the layout stays readable', async () => {
    await withTempDir('limit-index', async (t) => {
      const store = memoryStore();
      const image = await helloImage(store);
      const dir = join(t, 'full');
      await writeOciLayout(dir, [image], store, { tag: 't0', fsync: false });
      // fill index.json up to the limit with tags of the same manifest (as 1000 builds would)
      const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
        manifests: { annotations: Record<string, string> }[];
      };
      const first = index.manifests[0]!;
      const manifests = Array.from({ length: MAX_INDEX_MANIFESTS }, (_, i) => ({
        ...first,
        annotations: { [Annotation.RefName]: `t${i}`, [Annotation.ContainerdImageName]: `t${i}` },
      }));
      writeFileSync(join(dir, 'index.json'), canonicalJson({ ...index, manifests }));
      const before = listing(dir);
      const indexBefore = readFileSync(join(dir, 'index.json'));

      const other = await helloImage(store, { extra: 'another greeting\n' });
      await assert.rejects(
        writeOciLayout(dir, [other], store, { tag: 'one-too-many', fsync: false }),
        (e: unknown) =>
          isFromscratchError(e, 'TOO_LARGE') &&
          /1001 entries/.test(e.message) &&
          /index\.json/.test(e.message) &&
          /README/.test(e.hint ?? ''),
      );
      assert.deepEqual(listing(dir), before, 'no blob was written');
      assert.deepEqual(readFileSync(join(dir, 'index.json')), indexBefore);
      // an artifact (SBOM) entry is refused the same way
      await assert.rejects(
        attachToOciLayout(
          dir,
          (await readOciLayout(dir, 't1')).manifests[0]!,
          { artifactType: MediaType.SpdxJson, data: new TextEncoder().encode('{}') },
          { fsync: false },
        ),
        (e: unknown) => isFromscratchError(e, 'TOO_LARGE'),
      );
      assert.deepEqual(listing(dir), before);
      // replacing an existing tag keeps the count and works; every tag reads back
      await writeOciLayout(dir, [other], store, { tag: 't5', fsync: false });
      assert.equal((await readOciLayout(dir, 't5')).images[0]!.layers.length, 2);
      assert.equal((await readOciLayout(dir, 't999')).images.length, 1);
      // the CLI reads the full layout (exit 0) and refuses to add to it with exit 1, writing nothing
      const full = listing(dir);
      const r = await fromscratch(['inspect', '--json', `oci:${dir}:t7`]);
      assert.equal(r.code, 0, r.stderr);
      const c = await fromscratch(['copy', `oci:${dir}:t7`, `oci:${dir}:t1000`]);
      assert.equal(c.code, 1, c.stderr);
      assert.match(c.stderr, /error\[TOO_LARGE\].*1001 entries/);
      assert.deepEqual(listing(dir), full);
    });
  });

  it(`an image of more than ${MAX_IMAGE_LAYERS} layers is refused by writers and by readers`, async () => {
    await withTempDir('limit-layers', async (t) => {
      const store = memoryStore();
      const image = await helloImage(store);
      const many: Image = {
        ...image,
        layers: Array.from({ length: MAX_IMAGE_LAYERS + 1 }, () => image.layers[0]!),
        history: [],
      };
      await assert.rejects(
        writeOciLayout(join(t, 'w'), [many], store, { fsync: false }),
        (e: unknown) => isFromscratchError(e, 'TOO_LARGE') && /1001 layers/.test(e.message),
      );
      assert.equal(existsSync(join(t, 'w')), false, 'nothing was written');
      for (const ref of [`docker-archive:${join(t, 'd.tar')}:many:1`, `oci-archive:${join(t, 'o.tar')}:v1`]) {
        await assert.rejects(
          writeImage(ref, [many], store, { fsync: false }),
          (e: unknown) => isFromscratchError(e, 'TOO_LARGE') && /1001 layers/.test(e.message),
        );
      }
      assert.deepEqual(readdirSync(t), [], 'no archive was written');

      // a hand-made layout of 50,000 copies of one layer: refused at once, naming the limit
      const tar = Buffer.concat([header({ name: 'a', data: 'x' }), Buffer.alloc(512), Buffer.alloc(1024)]);
      const blob = gzipSync(tar);
      const raw = rawImage(
        Array.from({ length: 50_000 }, () => ({
          blob,
          mediaType: MediaType.OciLayerGzip,
          diffId: digestOf(tar),
        })),
      );
      const dir = join(t, 'many');
      await writeRawLayout(dir, { ...raw, blobs: [blob] }, ['v1']);
      await assert.rejects(
        readOciLayout(dir, 'v1'),
        (e: unknown) => isFromscratchError(e, 'TOO_LARGE') && /50000 entries/.test(e.message),
      );
      const r = await fromscratch(['inspect', `oci:${dir}:v1`]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /error\[TOO_LARGE\].*over the limit of 1000 layers/);
    });
  });
});

describe('issue 15.8: one decompression cap for every layer reader', () => {
  it('inspect and copy stop a gzip bomb (1 GiB of zeros in a 1 MiB layer) with TOO_LARGE', async () => {
    await withTempDir('bomb', async (t) => {
      // a tar of one 1 GiB file of zeros, as concatenated gzip members: one 64 MiB member repeated
      const chunk = 64 * 1024 * 1024;
      const n = 16;
      const head = header({ name: 'zeros', headerSize: n * chunk });
      const zeros = gzipSync(Buffer.alloc(chunk), { level: 9 });
      const blob = Buffer.concat([
        gzipSync(head),
        ...Array.from({ length: n }, () => zeros),
        gzipSync(Buffer.alloc(1024)),
      ]);
      assert.ok(blob.byteLength < 2 * 1024 * 1024, `the bomb is small on disk (${blob.byteLength} bytes)`);
      const h = createHash('sha256').update(head);
      const z = Buffer.alloc(chunk);
      for (let i = 0; i < n; i++) h.update(z);
      h.update(Buffer.alloc(1024));
      const raw = rawImage([
        { blob, mediaType: MediaType.OciLayerGzip, diffId: `sha256:${h.digest('hex')}` },
      ]);
      const dir = join(t, 'bomb');
      await writeRawLayout(dir, { ...raw, blobs: [blob] }, ['v1']);
      await assert.rejects(
        inspectImage(`oci:${dir}:v1`),
        (e: unknown) => isFromscratchError(e, 'TOO_LARGE') && /1000 times/.test(e.message),
      );
      const r = await fromscratch(['inspect', `oci:${dir}:v1`]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /error\[TOO_LARGE\]/);
      const c = await fromscratch(['copy', `oci:${dir}:v1`, `docker-archive:${join(t, 'd.tar')}:bomb:1`]);
      assert.equal(c.code, 1, c.stderr);
      assert.match(c.stderr, /error\[TOO_LARGE\]/);
      assert.equal(existsSync(join(t, 'd.tar')), false);
    });
  });
});

describe('issue 15.6: config diff_ids are checked against the layers', () => {
  it('build --from, inspect and copy refuse a base whose diff_ids do not match; umoci agrees', async () => {
    const umoci = requireTool('umoci', 'umoci');
    await withTempDir('diffids', async (t) => {
      const store = memoryStore();
      const image = await helloImage(store);
      const good = join(t, 'good');
      const bad = join(t, 'bad');
      await writeOciLayout(good, [image], store, { tag: 'v1', fsync: false });
      // the same blobs, but the config claims layer 0's diff_id for layer 1 (count right, value wrong)
      const lying: Image = {
        ...image,
        layers: [image.layers[0]!, { blob: image.layers[1]!.blob, diffId: image.layers[0]!.diffId }],
      };
      await writeOciLayout(bad, [lying], store, { tag: 'v1', fsync: false });

      // the oracle: umoci unpacks the good image and refuses the bad one
      await run(umoci, ['unpack', '--rootless', '--image', `${good}:v1`, join(t, 'bundle-good')]);
      const u = await run(umoci, ['unpack', '--rootless', '--image', `${bad}:v1`, join(t, 'bundle-bad')], {
        allowFail: true,
      });
      assert.notEqual(u.code, 0, 'umoci refuses the hand-made bad image');

      const layer1 = image.layers[1]!.blob.digest;
      const mismatch = (e: unknown) =>
        isFromscratchError(e, 'DIGEST_MISMATCH') && e.message.includes(layer1) && /diff_id/.test(e.message);
      await assert.rejects(inspectImage(`oci:${bad}:v1`), mismatch);
      assert.equal((await inspectImage(`oci:${good}:v1`)).images[0]!.layers.length, 2);

      const cache = join(t, 'cache');
      const env = { FROMSCRATCH_CACHE: cache };
      // the good base first: its blobs are then in the cache, and the bad base reuses them
      const ok = await fromscratch(
        ['build', '--from', `oci:${good}:v1`, '--env', 'A=1', '-o', `oci:${join(t, 'out-good')}:v1`],
        { env },
      );
      assert.equal(ok.code, 0, ok.stderr);
      await run(umoci, [
        'unpack',
        '--rootless',
        '--image',
        `${join(t, 'out-good')}:v1`,
        join(t, 'bundle-out'),
      ]);
      for (const args of [
        ['build', '--from', `oci:${bad}:v1`, '--env', 'A=1', '-o', `oci:${join(t, 'out-bad')}:v1`],
        ['inspect', `oci:${bad}:v1`],
        ['copy', `oci:${bad}:v1`, `oci:${join(t, 'copy-bad')}:v1`],
        ['copy', `oci:${bad}:v1`, `oci-archive:${join(t, 'copy-bad.tar')}:v1`],
      ]) {
        const r = await fromscratch(args, { env });
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /error\[DIGEST_MISMATCH\].*diff_id/, args.join(' '));
        assert.ok(r.stderr.includes(layer1), `${args[0]} names the layer: ${r.stderr}`);
      }
      for (const out of ['out-bad', 'copy-bad', 'copy-bad.tar'])
        assert.equal(existsSync(join(t, out)), false, `${out} was not written`);
      const c = await fromscratch(['copy', `oci:${good}:v1`, `oci:${join(t, 'copy-good')}:v1`], { env });
      assert.equal(c.code, 0, c.stderr);
    });
  });
});
