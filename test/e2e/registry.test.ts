/**
 * registry.test.ts — push, pull, base images and copy through the real registry (issue 6).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileHello, HELLO_OUTPUT } from '../support/tiny-image.ts';
import {
  dockerRemoveImage,
  registryAddress,
  requireTool,
  run,
  validateOciLayoutWithTools,
  withTempDir,
} from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

test('build -o docker:// pushes an image docker pulls and runs; --from builds on it; copy pulls it back', async () => {
  const reg = await registryAddress();
  const docker = requireTool('docker', 'docker.io');
  const repo = `${reg}/e2e-${randomBytes(4).toString('hex')}`;
  await withTempDir('e2e-registry', async (dir) => {
    await writeFile(join(dir, 'hello'), await compileHello(), { mode: 0o755 });
    const pushed = await fromscratch(
      [
        'build',
        '--add',
        './hello:/hello',
        '--entrypoint',
        '["/hello"]',
        '-o',
        `docker://${repo}/base:1`,
        '-o',
        'oci:out:base',
      ],
      { cwd: dir },
    );
    assert.equal(pushed.code, 0, pushed.stderr);
    const inspect = JSON.parse(
      (
        await run(requireTool('skopeo', 'skopeo'), [
          'inspect',
          '--tls-verify=false',
          `docker://${repo}/base:1`,
        ])
      ).stdout,
    ) as { Digest: string };
    assert.equal(`${inspect.Digest}\n`, pushed.stdout, 'the registry serves the digest fromscratch printed');
    await run(docker, ['pull', '-q', `${repo}/base:1`]);
    assert.equal(
      (await run(docker, ['run', '--rm', '--network', 'none', `${repo}/base:1`])).stdout,
      HELLO_OUTPUT,
    );

    await writeFile(join(dir, 'note.txt'), 'on top\n');
    // the same inputs twice (below): the same digest
    const onTop = [
      'build',
      '--from',
      `docker://${repo}/base:1`,
      '--add',
      './note.txt:/note.txt',
      '--env',
      'A=1',
    ];
    const top = await fromscratch([...onTop, '-o', `docker://${repo}/top:1`, '-o', 'oci:out:top'], {
      cwd: dir,
    });
    assert.equal(top.code, 0, top.stderr);
    const info = JSON.parse(
      (await fromscratch(['inspect', 'oci:out:top', '--json'], { cwd: dir })).stdout,
    ) as {
      images: {
        config: { config: { Entrypoint: string[]; Env: string[] } };
        layers: { digest: string; files: { path: string }[] }[];
      }[];
    };
    const img = info.images[0]!;
    const base = JSON.parse(
      (await fromscratch(['inspect', 'oci:out:base', '--json', '--no-files'], { cwd: dir })).stdout,
    ) as { images: { layers: { digest: string }[] }[] };
    const baseLayers = base.images[0]!.layers.map((l) => l.digest);
    assert.equal(img.layers.length, baseLayers.length + 1, 'the base layers plus one for note.txt');
    assert.deepEqual(
      img.layers.slice(0, baseLayers.length).map((l) => l.digest),
      baseLayers,
      'base layers are reused as they are, not recompressed',
    );
    assert.deepEqual(img.config.config.Entrypoint, ['/hello'], 'the base config is inherited');
    assert.ok(img.config.config.Env.includes('A=1'));
    await validateOciLayoutWithTools(join(dir, 'out'), 'top');

    const copied = await fromscratch(['copy', `docker://${repo}/top:1`, 'oci:copied:top'], { cwd: dir });
    assert.equal(copied.code, 0, copied.stderr);
    assert.equal(copied.stdout, top.stdout, 'copy keeps the digest of an image fromscratch wrote');
    const again = await fromscratch([...onTop, '-o', `docker://${repo}/top:2`], { cwd: dir });
    assert.equal(again.stdout, top.stdout, 'building on a registry base is reproducible');
    await dockerRemoveImage(`${repo}/base:1`);
  });
});

test('a reference that does not parse, or a registry that is not there, is a clear error', async () => {
  await withTempDir('e2e-registry-bad', async (dir) => {
    await writeFile(join(dir, 'f'), 'x');
    const bad = await fromscratch(['build', '--add', './f:/f', '-o', 'docker://UPPER/Case:1'], { cwd: dir });
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, /^error\[INVALID_REFERENCE\]: /m);
    const gone = await fromscratch(['copy', 'docker://127.0.0.1:1/nothing/here:1', 'oci:x:y'], { cwd: dir });
    assert.equal(gone.code, 1, gone.stderr);
    assert.match(gone.stderr, /^error\[(NETWORK_ERROR|REGISTRY_ERROR)\]: .*127\.0\.0\.1:1/m);
    assert.match(gone.stderr, /^hint: /m);
  });
});

test('--sbom with a registry output pushes the SBOM as a referrer of the image (referrers tag schema here)', async () => {
  const reg = await registryAddress();
  const skopeo = requireTool('skopeo', 'skopeo');
  const repo = `${reg}/e2e-sbom-${randomBytes(4).toString('hex')}`;
  const raw = async (ref: string) =>
    JSON.parse((await run(skopeo, ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])).stdout) as {
      manifests: { digest: string; artifactType?: string; mediaType: string }[];
      layers: { digest: string; mediaType: string }[];
      subject?: { digest: string };
      artifactType?: string;
    };
  await withTempDir('e2e-registry-sbom', async (dir) => {
    await writeFile(join(dir, 'hello'), await compileHello(), { mode: 0o755 });
    const build = (format: string) =>
      fromscratch(
        [
          'build',
          '--add',
          './hello:/hello',
          '--entrypoint',
          '["/hello"]',
          '--sbom',
          format,
          '-o',
          `docker://${repo}:1`,
        ],
        { cwd: dir },
      );
    const first = await build('spdx');
    assert.equal(first.code, 0, first.stderr);
    const digest = first.stdout.trim();
    // the registry has no referrers API: the artifact is listed by the tag sha256-HEX of the image
    const tag = digest.replace(':', '-');
    const index = await raw(`${repo}:${tag}`);
    assert.equal(index.manifests.length, 1);
    assert.equal(index.manifests[0]!.artifactType, 'application/spdx+json');
    const artifact = await raw(`${repo}@${index.manifests[0]!.digest}`);
    assert.equal(artifact.subject?.digest, digest, 'the artifact refers to the image');
    assert.equal(artifact.artifactType, 'application/spdx+json');
    const res = await fetch(
      `http://${reg}/v2/${repo.slice(reg.length + 1)}/blobs/${artifact.layers[0]!.digest}`,
    );
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { spdxVersion: string; name: string; files: { fileName: string }[] };
    assert.equal(doc.spdxVersion, 'SPDX-2.3');
    assert.equal(doc.name, `docker://${repo}:1`);
    assert.ok(
      doc.files.some((f) => f.fileName.endsWith('hello')),
      'the SBOM lists /hello',
    );

    // the same build again adds nothing; a CycloneDX SBOM is listed beside the SPDX one
    assert.equal((await build('spdx')).code, 0);
    assert.equal((await raw(`${repo}:${tag}`)).manifests.length, 1, 'no duplicate entry');
    const cdx = await build('cyclonedx');
    assert.equal(cdx.code, 0, cdx.stderr);
    assert.equal(cdx.stdout.trim(), digest, 'the image is the same');
    const both = await raw(`${repo}:${tag}`);
    assert.deepEqual(both.manifests.map((m) => m.artifactType).sort(), [
      'application/spdx+json',
      'application/vnd.cyclonedx+json',
    ]);
  });
});

test('--attach-record makes why and sbom work on another machine (an empty cache), from a layout and a registry', async () => {
  const reg = await registryAddress();
  const repo = `${reg}/e2e-record-${randomBytes(4).toString('hex')}`;
  await withTempDir('e2e-registry-record', async (dir) => {
    await writeFile(join(dir, 'hello'), await compileHello(), { mode: 0o755 });
    const args = ['build', '--add', './hello:/hello', '--entrypoint', '["/hello"]'];
    const plain = await fromscratch([...args, '-o', 'oci:plain:1'], { cwd: dir });
    assert.equal(plain.code, 0, plain.stderr);
    const built = await fromscratch(
      [...args, '--attach-record', '-o', 'oci:out:1', '-o', `docker://${repo}:1`],
      {
        cwd: dir,
      },
    );
    assert.equal(built.code, 0, built.stderr);
    await validateOciLayoutWithTools(join(dir, 'out'), '1');
    // another machine: a cache with no build record in it
    const elsewhere = { FROMSCRATCH_CACHE: join(dir, 'other-cache') };
    const skopeo = requireTool('skopeo', 'skopeo');
    const { Layers } = JSON.parse(
      (await run(skopeo, ['inspect', '--tls-verify=false', `docker://${repo}:1`])).stdout,
    ) as { Layers: string[] };
    const layerFile = join(dir, 'other-cache', 'blobs', 'sha256', Layers[0]!.slice('sha256:'.length));
    for (const image of ['oci:out:1', `docker://${repo}:1`]) {
      const why = await fromscratch(['why', image, '/hello'], { cwd: dir, env: elsewhere });
      assert.equal(why.code, 0, `${image}: ${why.stderr}`);
      assert.match(why.stdout, /hello/);
      assert.ok(
        !existsSync(layerFile),
        'why reads the record, not the layers: nothing is pulled but documents',
      );
      const sbom = await fromscratch(['sbom', image, '--format', 'spdx'], { cwd: dir, env: elsewhere });
      assert.equal(sbom.code, 0, `${image}: ${sbom.stderr}`);
      assert.ok((JSON.parse(sbom.stdout) as { files: unknown[] }).files.length > 0);
    }
    assert.ok(
      existsSync(layerFile),
      'sbom hashes the files: the layer was pulled (the path checked above is right)',
    );
    // without --attach-record the record stays on the machine that built the image
    const missing = await fromscratch(['why', 'oci:plain:1', '/hello'], { cwd: dir, env: elsewhere });
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /^error\[IMAGE_NOT_FOUND\]: no build record/m);
    assert.match(missing.stderr, /^hint: .*--attach-record/m);
  });
});
