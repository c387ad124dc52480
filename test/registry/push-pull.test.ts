/**
 * push-pull.test.ts — pushImage and pullImage against the real docker-registry (distribution 2.8),
 * checked by skopeo and the Docker Engine: single and multi-platform, OCI and Docker media types,
 * warm pushes that upload nothing, chunked uploads, cross-repository mounts, pulls by tag and digest.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { dirStore } from '../../src/blob/dir-store.ts';
import { memoryStore } from '../../src/blob/memory-store.ts';
import { readBlob } from '../../src/blob/store.ts';
import { isFromscratchError } from '../../src/errors.ts';
import { serializeImage } from '../../src/image/image.ts';
import { sha256 } from '../../src/model/digest.ts';
import { MediaType } from '../../src/model/media-type.ts';
import { createRegistryClient } from '../../src/registry/client.ts';
import { fetchManifest, pullImage, pullImages } from '../../src/registry/pull.ts';
import { pushBlob, pushImage } from '../../src/registry/push.ts';
import { REGISTRY, requireTool, smallImage, staticHello, uniqueRepo } from './fixtures.ts';
import { startRegistry } from './registry-instance.ts';

const dockerImages: string[] = [];

before(async () => {
  const res = await fetch(`http://${REGISTRY}/v2/`).catch((e: unknown) => e as Error);
  if (res instanceof Error || !res.ok)
    throw new Error(`the registry at ${REGISTRY} is not running: start it with bash scripts/services.sh`);
});
after(() => {
  for (const i of dockerImages) {
    try {
      execFileSync('docker', ['rmi', '-f', i], { stdio: 'pipe' });
    } catch {
      // already gone
    }
  }
});

function skopeoInspect(ref: string, raw = false): unknown {
  requireTool('skopeo', 'skopeo');
  return JSON.parse(
    execFileSync('skopeo', ['inspect', '--tls-verify=false', ...(raw ? ['--raw'] : []), `docker://${ref}`], {
      encoding: 'utf8',
    }),
  );
}

test('push a static hello image: skopeo inspects it, docker pulls and runs it, pullImage returns the same digests', async () => {
  const store = memoryStore();
  const img = await smallImage(store, {
    files: { hello: { data: staticHello(), mode: 0o755 } },
    entrypoint: ['/hello'],
  });
  const repo = uniqueRepo('hello');
  const ref = `${REGISTRY}/${repo}:v1`;
  const events: string[] = [];
  const pushed = await pushImage(ref, [img], store, {
    onProgress: (e) => events.push(e.kind === 'blob' ? e.status : 'manifest'),
  });
  const ser = serializeImage(img);
  assert.equal(pushed.digest, ser.descriptor.digest);
  assert.equal(pushed.mediaType, MediaType.OciManifest);
  assert.deepEqual(pushed.blobs, { exists: 0, mounted: 0, uploaded: 2 });
  assert.deepEqual(events.sort(), ['manifest', 'uploaded', 'uploaded']);

  const info = skopeoInspect(ref) as { Digest: string; Layers: string[]; Architecture: string };
  assert.equal(info.Digest, pushed.digest);
  assert.deepEqual(info.Layers, [img.layers[0]!.blob.digest]);
  assert.equal(info.Architecture, 'amd64');
  const raw = execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${ref}`]);
  assert.equal(sha256(raw), pushed.digest);

  requireTool('docker', 'docker.io');
  dockerImages.push(ref);
  execFileSync('docker', ['pull', '-q', ref], { stdio: 'pipe' });
  const out = execFileSync('docker', ['run', '--rm', ref], { encoding: 'utf8' });
  assert.equal(out.trim(), 'hello from the registry test');

  const back = memoryStore();
  const pulled = await pullImage(ref, back);
  assert.equal(pulled.manifestDigest, pushed.digest);
  assert.equal(pulled.configDigest, ser.configDescriptor.digest);
  assert.deepEqual(pulled.image.layers, img.layers);
  assert.deepEqual(pulled.image.config, img.config);
  assert.equal(pulled.image.created, img.created);
  assert.deepEqual(pulled.image.platform, img.platform);
  assert.equal(pulled.format, 'oci');
  // every blob is in the store, verified, and re-serialising gives the same manifest
  assert.deepEqual(await readBlob(back, pushed.digest), Buffer.from(ser.manifest));
  assert.equal(serializeImage(pulled.image).descriptor.digest, pushed.digest);
  // by digest too
  const byDigest = await pullImage(`${REGISTRY}/${repo}@${pushed.digest}`, memoryStore());
  assert.equal(byDigest.manifestDigest, pushed.digest);
});

test('a second push of the same image uploads nothing (every blob found by HEAD)', async () => {
  const store = memoryStore();
  const img = await smallImage(store);
  const repo = uniqueRepo('warm');
  const first = await pushImage(`${REGISTRY}/${repo}:a`, [img], store);
  const second = await pushImage(`${REGISTRY}/${repo}:b`, [img], store);
  assert.equal(second.digest, first.digest);
  assert.deepEqual(second.blobs, { exists: 2, mounted: 0, uploaded: 0 });
});

test('Docker media types: docker pulls the schema 2 manifest, pull reports format docker', async () => {
  const store = memoryStore();
  const img = await smallImage(store, {
    files: { hello: { data: staticHello(), mode: 0o755 } },
    entrypoint: ['/hello'],
  });
  const ref = `${REGISTRY}/${uniqueRepo('docker')}:v1`;
  const pushed = await pushImage(ref, [img], store, { format: 'docker' });
  assert.equal(pushed.mediaType, MediaType.DockerManifest);
  const raw = skopeoInspect(ref, true) as {
    mediaType: string;
    config: { mediaType: string };
    layers: { mediaType: string }[];
  };
  assert.equal(raw.mediaType, MediaType.DockerManifest);
  assert.equal(raw.config.mediaType, MediaType.DockerConfig);
  assert.equal(raw.layers[0]!.mediaType, MediaType.DockerLayerGzip);
  dockerImages.push(ref);
  execFileSync('docker', ['pull', '-q', ref], { stdio: 'pipe' });
  assert.equal(
    execFileSync('docker', ['run', '--rm', ref], { encoding: 'utf8' }).trim(),
    'hello from the registry test',
  );
  const pulled = await pullImage(ref, memoryStore());
  assert.equal(pulled.format, 'docker');
  assert.equal(pulled.manifestDigest, pushed.digest);
});

test('multi-platform: an index is pushed, skopeo sees both platforms, pull selects one, pullImages gets all', async () => {
  const store = memoryStore();
  const amd = await smallImage(store, { platform: { os: 'linux', architecture: 'amd64' } });
  const arm = await smallImage(store, { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
  const ref = `${REGISTRY}/${uniqueRepo('multi')}:v1`;
  const pushed = await pushImage(ref, [amd, arm], store);
  assert.equal(pushed.mediaType, MediaType.OciIndex);
  assert.equal(pushed.manifests.length, 2);
  const raw = skopeoInspect(ref, true) as { manifests: { platform: { architecture: string } }[] };
  assert.deepEqual(
    raw.manifests.map((m) => m.platform.architecture),
    ['amd64', 'arm64'],
  );

  const arm64 = await pullImage(ref, memoryStore(), { platform: { os: 'linux', architecture: 'arm64' } });
  assert.equal(arm64.manifestDigest, pushed.manifests[1]!.digest);
  assert.equal(arm64.indexDigest, pushed.digest);
  assert.deepEqual(arm64.image.platform, { os: 'linux', architecture: 'arm64', variant: 'v8' });
  const all = await pullImages(ref, memoryStore());
  assert.deepEqual(
    all.images.map((i) => i.manifestDigest),
    pushed.manifests.map((m) => m.digest),
  );
  assert.equal(all.index?.digest, pushed.digest);
  await assert.rejects(
    pullImage(ref, memoryStore(), { platform: { os: 'linux', architecture: 's390x' } }),
    (e) => {
      assert.ok(isFromscratchError(e, 'IMAGE_NOT_FOUND'));
      assert.match(e.message, /no image for platform linux\/s390x/);
      assert.match(e.hint ?? '', /linux\/amd64, linux\/arm64\/v8/);
      return true;
    },
  );
});

test('chunked upload: offsets tracked by the client, the registry assembles the right blob', async () => {
  const store = memoryStore();
  const img = await smallImage(store, { files: { big: { data: randomBytes(300 * 1024) } } });
  const ref = `${REGISTRY}/${uniqueRepo('chunked')}:v1`;
  const pushed = await pushImage(ref, [img], store, { chunkSize: 64 * 1024 });
  assert.equal(pushed.blobs.uploaded, 2);
  const pulled = await pullImage(ref, memoryStore());
  assert.deepEqual(pulled.image.layers, img.layers);
});

test('cross-repository mount: 201 means mounted, no upload (E9)', async () => {
  const store = memoryStore();
  const img = await smallImage(store);
  const src = uniqueRepo('mount-src');
  const dst = uniqueRepo('mount-dst');
  await pushImage(`${REGISTRY}/${src}:v1`, [img], store);
  const pushed = await pushImage(`${REGISTRY}/${dst}:v1`, [img], store, { mountFrom: () => src });
  assert.deepEqual(pushed.blobs, { exists: 0, mounted: 2, uploaded: 0 });
  const pulled = await pullImage(`${REGISTRY}/${dst}:v1`, memoryStore());
  assert.equal(pulled.manifestDigest, pushed.digest);
});

test('cross-repository mount of a blob the source lacks: 202 opens a session that is used for the upload (E9)', async () => {
  const client = createRegistryClient(REGISTRY);
  try {
    const data = randomBytes(1000);
    const desc = { mediaType: 'application/octet-stream', digest: sha256(data), size: data.byteLength };
    const status = await pushBlob(
      client,
      uniqueRepo('mount-202'),
      desc,
      () =>
        (async function* () {
          yield data;
        })(),
      { mountFrom: uniqueRepo('empty') },
    );
    assert.equal(status, 'uploaded');
  } finally {
    client.close();
  }
});

test('a fresh small blob is sent without a HEAD (again when the registry has it); a streamed one is asked first', async () => {
  const reg = await startRegistry({ accessLog: true });
  const client = createRegistryClient(reg.address);
  try {
    const repo = uniqueRepo('fresh');
    const small = randomBytes(2000);
    const smallDesc = {
      mediaType: 'application/octet-stream',
      digest: sha256(small),
      size: small.byteLength,
    };
    assert.equal(await pushBlob(client, repo, smallDesc, small, { fresh: true }), 'uploaded');
    assert.equal(await pushBlob(client, repo, smallDesc, small, { fresh: true }), 'uploaded');
    assert.equal(await pushBlob(client, repo, smallDesc, small), 'exists');
    const big = randomBytes(3000);
    const bigDesc = { mediaType: 'application/octet-stream', digest: sha256(big), size: big.byteLength };
    const streamed = () =>
      (async function* () {
        yield big;
      })();
    assert.equal(await pushBlob(client, repo, bigDesc, streamed, { fresh: true }), 'uploaded');
    const log = reg.accessLog();
    const heads = (d: string) => log.split(`"HEAD /v2/${repo}/blobs/${d} `).length - 1;
    assert.equal(heads(smallDesc.digest), 1, log);
    assert.equal(heads(bigDesc.digest), 1, log);
    const got = await fetch(`http://${reg.address}/v2/${repo}/blobs/${smallDesc.digest}`);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), small);
  } finally {
    client.close();
    await reg.stop();
  }
});

test('pull by a digest the registry does not have, and of an unknown tag: IMAGE_NOT_FOUND', async () => {
  const repo = uniqueRepo('missing');
  await assert.rejects(pullImage(`${REGISTRY}/${repo}:nope`, memoryStore()), (e) =>
    isFromscratchError(e, 'IMAGE_NOT_FOUND'),
  );
  await assert.rejects(pullImage(`${REGISTRY}/${repo}@${sha256('x')}`, memoryStore()), (e) =>
    isFromscratchError(e, 'IMAGE_NOT_FOUND'),
  );
});

test('fetchManifest verifies the requested digest against the bytes', async () => {
  const store = memoryStore();
  const img = await smallImage(store);
  const repo = uniqueRepo('fm');
  const pushed = await pushImage(`${REGISTRY}/${repo}:v1`, [img], store);
  const client = createRegistryClient(REGISTRY);
  try {
    const m = await fetchManifest(client, repo, pushed.digest);
    assert.equal(m.digest, pushed.digest);
    assert.equal(m.kind, 'manifest');
  } finally {
    client.close();
  }
});

test('a corrupt blob in the local store is never pushed as the image: DIGEST_MISMATCH, no manifest in the registry', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'registry-corrupt-'));
  try {
    const store = dirStore(join(dir, 'blobs'), { fsync: false });
    const img = await smallImage(store);
    const p = store.pathOf(img.layers[0]!.blob.digest);
    const bytes = readFileSync(p);
    bytes[bytes.length >> 1]! ^= 0xff;
    writeFileSync(p, bytes);
    const repo = uniqueRepo('corrupt');
    await assert.rejects(pushImage(`${REGISTRY}/${repo}:v1`, [img], store), (e) =>
      isFromscratchError(e, 'DIGEST_MISMATCH'),
    );
    await assert.rejects(pullImage(`${REGISTRY}/${repo}:v1`, memoryStore()), (e) =>
      isFromscratchError(e, 'IMAGE_NOT_FOUND'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
