/**
 * copy-foreign.test.ts — `copy` keeps the digests of images fromscratch did not write, as skopeo does:
 * the manifest and config bytes are written as they were read (registry, OCI layout, docker-archive
 * image ID), Docker-format manifests stay Docker's on a registry and are converted for an OCI layout.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileHello, HELLO_OUTPUT } from '../support/tiny-image.ts';
import {
  dockerRemoveImage,
  dockerRun,
  registryAddress,
  requireTool,
  run,
  validateOciLayoutWithTools,
  withTempDir,
} from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const blobPath = (layout: string, digest: string) => join(layout, 'blobs', 'sha256', digest.slice(7));

/**
 * foreignize rewrites the image of `tag` in a layout as another tool would have written it: indented
 * JSON in another key order, and a config member fromscratch's model does not hold. Returns the new
 * manifest digest and config digest.
 */
async function foreignize(
  layout: string,
  tag: string,
): Promise<{ manifest: string; config: string; index: string }> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string; size: number; mediaType: string; annotations?: Record<string, string> }[];
  };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag)!;
  const manifest = JSON.parse(await readFile(blobPath(layout, entry.digest), 'utf8')) as {
    config: { digest: string; size: number; mediaType: string };
    layers: unknown[];
  };
  const config = JSON.parse(await readFile(blobPath(layout, manifest.config.digest), 'utf8')) as Record<
    string,
    unknown
  >;
  const cfgBytes = Buffer.from(JSON.stringify({ docker_version: '24.0.7', ...config }, null, 3));
  const newManifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: manifest.config.mediaType, digest: sha(cfgBytes), size: cfgBytes.length },
    layers: manifest.layers,
  };
  const manBytes = Buffer.from(`${JSON.stringify(newManifest, null, 2)}\n`);
  await writeFile(blobPath(layout, sha(cfgBytes)), cfgBytes);
  await writeFile(blobPath(layout, sha(manBytes)), manBytes);
  entry.digest = sha(manBytes);
  entry.size = manBytes.length;
  // and an index over it, tagged `${tag}-index`, with an annotation fromscratch would not write
  const idxBytes = Buffer.from(
    JSON.stringify(
      {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: newManifest.mediaType,
            digest: sha(manBytes),
            size: manBytes.length,
            platform: { architecture: 'amd64', os: 'linux' },
          },
        ],
        annotations: { 'org.example.built-by': 'another tool' },
      },
      null,
      1,
    ),
  );
  await writeFile(blobPath(layout, sha(idxBytes)), idxBytes);
  index.manifests.push({
    mediaType: 'application/vnd.oci.image.index.v1+json',
    digest: sha(idxBytes),
    size: idxBytes.length,
    annotations: { 'org.opencontainers.image.ref.name': `${tag}-index` },
  });
  await writeFile(join(layout, 'index.json'), JSON.stringify(index));
  return { manifest: sha(manBytes), config: sha(cfgBytes), index: sha(idxBytes) };
}

test('copy keeps the digests of foreign images on every transport, converting Docker documents only for OCI layouts', async () => {
  const reg = await registryAddress();
  const skopeo = requireTool('skopeo', 'skopeo');
  const docker = requireTool('docker', 'docker.io');
  const repo = `${reg}/copy-${randomBytes(4).toString('hex')}`;
  await withTempDir('e2e-copy-foreign', async (dir) => {
    await writeFile(join(dir, 'hello'), await compileHello(), { mode: 0o755 });
    const built = await fromscratch(
      ['build', '--add', './hello:/hello', '--entrypoint', '["/hello"]', '-o', 'oci:foreign:base'],
      { cwd: dir },
    );
    assert.equal(built.code, 0, built.stderr);
    const foreign = await foreignize(join(dir, 'foreign'), 'base');
    await validateOciLayoutWithTools(join(dir, 'foreign'), 'base');
    const raw = await readFile(blobPath(join(dir, 'foreign'), foreign.manifest));

    // OCI layout → OCI layout: the same manifest, byte for byte
    const toLayout = await fromscratch(['copy', 'oci:foreign:base', 'oci:copied:base'], { cwd: dir });
    assert.equal(toLayout.code, 0, toLayout.stderr);
    assert.equal(toLayout.stdout, `${foreign.manifest}\n`);
    assert.deepEqual(await readFile(blobPath(join(dir, 'copied'), foreign.manifest)), raw);
    await validateOciLayoutWithTools(join(dir, 'copied'), 'base');

    // OCI layout → registry: the registry serves the same bytes under the same digest
    const toReg = await fromscratch(['copy', 'oci:foreign:base', `docker://${repo}/oci:1`], { cwd: dir });
    assert.equal(toReg.code, 0, toReg.stderr);
    assert.equal(toReg.stdout, `${foreign.manifest}\n`);
    const served = await run(skopeo, ['inspect', '--raw', '--tls-verify=false', `docker://${repo}/oci:1`]);
    assert.equal(served.stdout, raw.toString('utf8'));

    // an index is kept too, when every image it lists is copied
    const idxToLayout = await fromscratch(['copy', 'oci:foreign:base-index', 'oci:copied:idx'], { cwd: dir });
    assert.equal(idxToLayout.code, 0, idxToLayout.stderr);
    assert.equal(idxToLayout.stdout, `${foreign.index}\n`);
    await validateOciLayoutWithTools(join(dir, 'copied'), 'idx');
    const idxToReg = await fromscratch(['copy', 'oci:foreign:base-index', `docker://${repo}/idx:1`], {
      cwd: dir,
    });
    assert.equal(idxToReg.code, 0, idxToReg.stderr);
    assert.equal(idxToReg.stdout, `${foreign.index}\n`);
    const idxBack = await fromscratch(['copy', `docker://${repo}/idx:1`, 'oci:back:idx'], { cwd: dir });
    assert.equal(idxBack.stdout, `${foreign.index}\n`, 'and back from the registry');

    // a Docker-format manifest (written by skopeo) stays Docker's between registries, with its digest
    await run(
      skopeo,
      [
        'copy',
        '--quiet',
        '--format',
        'v2s2',
        '--dest-tls-verify=false',
        'oci:foreign:base',
        `docker://${repo}/v2s2:1`,
      ],
      { cwd: dir },
    );
    const v2s2 = JSON.parse(
      (await run(skopeo, ['inspect', '--tls-verify=false', `docker://${repo}/v2s2:1`])).stdout,
    ) as { Digest: string };
    const regToReg = await fromscratch(['copy', `docker://${repo}/v2s2:1`, `docker://${repo}/again:1`], {
      cwd: dir,
    });
    assert.equal(regToReg.code, 0, regToReg.stderr);
    assert.equal(regToReg.stdout, `${v2s2.Digest}\n`);
    const again = JSON.parse(
      (await run(skopeo, ['inspect', '--raw', '--tls-verify=false', `docker://${repo}/again:1`])).stdout,
    ) as { mediaType: string };
    assert.equal(again.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');

    // … and is converted to OCI media types for an OCI layout, which the tools accept
    const conv = await fromscratch(['copy', `docker://${repo}/v2s2:1`, 'oci:converted:base'], { cwd: dir });
    assert.equal(conv.code, 0, conv.stderr);
    assert.notEqual(conv.stdout, `${v2s2.Digest}\n`);
    await validateOciLayoutWithTools(join(dir, 'converted'), 'base');

    // docker-archive: the image ID Docker gives is the foreign config's digest, and it runs
    const name = `fromscratch-copy-foreign-${randomBytes(3).toString('hex')}:1`;
    await mkdir(join(dir, 'arch'));
    const toArchive = await fromscratch(['copy', 'oci:foreign:base', `docker-archive:arch/img.tar:${name}`], {
      cwd: dir,
    });
    assert.equal(toArchive.code, 0, toArchive.stderr);
    await run(docker, ['load', '-q', '-i', join(dir, 'arch', 'img.tar')]);
    try {
      const id = (await run(docker, ['image', 'inspect', '--format', '{{.Id}}', name])).stdout.trim();
      assert.equal(id, foreign.config);
      assert.equal(await dockerRun(name), HELLO_OUTPUT);
    } finally {
      await dockerRemoveImage(name);
    }
  });
});
