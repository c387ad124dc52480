/**
 * layers.test.ts — layered images (issue 12): several layers by origin that skopeo, umoci and docker
 * accept, `--layers` as the budget, and on a rebuild after an app edit only the app layer written and
 * uploaded (the registry's own access log is the oracle), with cross-repository mounts to a new repository.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { startRegistry } from '../registry/registry-instance.ts';
import {
  dockerLoadAndRun,
  dockerRemoveImage,
  requireTool,
  run,
  validateOciLayoutWithTools,
  withTempDir,
} from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

const CURL = '/usr/bin/curl';

interface Manifest {
  layers: { digest: string; size: number }[];
  config: { digest: string };
}

async function manifestOf(layout: string): Promise<Manifest> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string }[];
  };
  const blob = join(layout, 'blobs', 'sha256', index.manifests[0]!.digest.slice('sha256:'.length));
  return JSON.parse(await readFile(blob, 'utf8')) as Manifest;
}

function buildArgs(out: string, extra: string[] = []): string[] {
  return [
    'build',
    '--binary',
    CURL,
    '--add',
    './app:/app',
    '--entrypoint',
    JSON.stringify([CURL, '--version']),
    '-o',
    out,
    ...extra,
  ];
}

test('a layered image (by origin, app last) is accepted by skopeo, umoci and docker; --layers sets the budget', async () => {
  requireTool('curl', 'curl');
  await withTempDir('e2e-layers', async (dir) => {
    await mkdir(join(dir, 'app'));
    await writeFile(join(dir, 'app', 'main.sh'), '#!/bin/sh\necho app\n', { mode: 0o644 });
    const r = await fromscratch(buildArgs('oci:out:v1', ['-o', 'docker-archive:img.tar:e2e/layers:1']), {
      cwd: dir,
    });
    assert.equal(r.code, 0, r.stderr);
    const m = await manifestOf(join(dir, 'out'));
    assert.ok(m.layers.length >= 3, `several layers (got ${m.layers.length})`);
    const skopeo = await validateOciLayoutWithTools(join(dir, 'out'), 'v1');
    assert.equal(`${skopeo.Digest}\n`, r.stdout);
    assert.equal((skopeo.Layers as string[]).length, m.layers.length);
    const hostVersion = execFileSync(CURL, ['--version'], { encoding: 'utf8' });
    assert.equal(await dockerLoadAndRun(join(dir, 'img.tar'), 'e2e/layers:1'), hostVersion);
    await dockerRemoveImage('e2e/layers:1');

    // inspect names what each layer holds; the app is the top layer
    const insp = await fromscratch(['inspect', 'oci:out:v1', '--no-files'], { cwd: dir });
    assert.equal(insp.code, 0, insp.stderr);
    assert.match(insp.stdout, /layer 1: .*package libc6/);
    assert.match(insp.stdout, new RegExp(`layer ${m.layers.length}: .*\\bapp\\b`));

    // the layout's blobs are hard links of the blob cache's files, not copies
    for (const l of m.layers) {
      const st = await stat(join(dir, 'out', 'blobs', 'sha256', l.digest.slice('sha256:'.length)));
      assert.ok(st.nlink >= 2, `${l.digest} is linked from the cache`);
    }
    // damage the app layer's bytes in place (through the link: the cache's file too), same size
    const appBlob = join(dir, 'out', 'blobs', 'sha256', m.layers.at(-1)!.digest.slice('sha256:'.length));
    const bytes = await readFile(appBlob);
    bytes[bytes.length >> 1]! ^= 0xff;
    await writeFile(appBlob, bytes);

    // the same inputs again: the same digest (the damaged cached layer is written again, not used)
    const again = await fromscratch(buildArgs('oci:again:v1'), { cwd: dir });
    assert.equal(again.stdout, r.stdout, 'reproducible');
    assert.match(again.stderr, /writing layer \(app\)/, 'the damaged layer is rebuilt');
    await validateOciLayoutWithTools(join(dir, 'again'), 'v1');
    const one = await fromscratch(buildArgs('oci:one:v1', ['--layers', '1']), { cwd: dir });
    assert.equal(one.code, 0, one.stderr);
    assert.equal((await manifestOf(join(dir, 'one'))).layers.length, 1);
    await validateOciLayoutWithTools(join(dir, 'one'), 'v1');
    const two = await fromscratch(buildArgs('oci:two:v1', ['--layers', '2']), { cwd: dir });
    assert.equal(two.code, 0, two.stderr);
    assert.equal((await manifestOf(join(dir, 'two'))).layers.length, 2);
    const bad = await fromscratch(buildArgs('oci:bad:v1', ['--layers', '0']), { cwd: dir });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /^error\[USAGE\]: --layers "0"/m);
  });
});

test('a rebuild after an app edit writes and uploads only the app layer; a new repository mounts the rest', async () => {
  requireTool('curl', 'curl');
  const docker = requireTool('docker', 'docker.io');
  const reg = await startRegistry({ accessLog: true });
  try {
    await withTempDir('e2e-layers-push', async (dir) => {
      await mkdir(join(dir, 'app'));
      await writeFile(join(dir, 'app', 'main.sh'), '#!/bin/sh\necho one\n');
      const first = await fromscratch(buildArgs(`docker://${reg.address}/team/a:1`, ['-o', 'oci:out:1']), {
        cwd: dir,
      });
      assert.equal(first.code, 0, first.stderr);
      const m1 = await manifestOf(join(dir, 'out'));

      await writeFile(join(dir, 'app', 'main.sh'), '#!/bin/sh\necho two\n');
      const mark = reg.accessLog().length;
      const second = await fromscratch(buildArgs(`docker://${reg.address}/team/a:2`, ['-o', 'oci:out2:2']), {
        cwd: dir,
      });
      assert.equal(second.code, 0, second.stderr);
      const m2 = await manifestOf(join(dir, 'out2'));
      assert.equal(m2.layers.length, m1.layers.length);
      const changed = m2.layers.filter((l, i) => l.digest !== m1.layers[i]!.digest);
      assert.deepEqual(
        changed.map((l) => l.digest),
        [m2.layers.at(-1)!.digest],
        'only the top (app) layer differs',
      );
      assert.match(second.stderr, /writing layer \(app\)/);
      assert.doesNotMatch(second.stderr, /writing layer \((?!app\))/, 'no other layer is written again');

      // the registry's access log: the blobs completed by PUT are the app layer and the new config only
      const log = reg.accessLog().slice(mark);
      const puts = [
        ...log.matchAll(/"PUT \/v2\/team\/a\/blobs\/uploads\/[^ ]*digest=(sha256(?:%3A|:)[0-9a-f]{64})/g),
      ]
        .map((x) => x[1]!.replace('%3A', ':'))
        .sort();
      assert.deepEqual(puts, [m2.config.digest, m2.layers.at(-1)!.digest].sort(), log);
      // each unchanged layer asked for once (the early push's HEAD), the push after the build knows what
      // it put there; the app layer and the config, just made and small, are sent without asking
      for (const l of m2.layers) {
        const heads = log.split(`"HEAD /v2/team/a/blobs/${l.digest} `).length - 1;
        assert.equal(heads, l === m2.layers.at(-1) ? 0 : 1, `HEAD of ${l.digest}: ${log}`);
      }
      assert.doesNotMatch(log, new RegExp(`"HEAD /v2/team/a/blobs/${m2.config.digest} `), log);

      // a new repository of the same registry: every layer is mounted, none uploaded
      const mark2 = reg.accessLog().length;
      const third = await fromscratch(buildArgs(`docker://${reg.address}/team/b:1`), { cwd: dir });
      assert.equal(third.code, 0, third.stderr);
      assert.equal(third.stdout, second.stdout, 'the same image');
      const log2 = reg.accessLog().slice(mark2);
      assert.doesNotMatch(log2, /"PUT \/v2\/team\/b\/blobs\/uploads\//, 'nothing uploaded');
      const mounts = [
        ...log2.matchAll(
          /"POST \/v2\/team\/b\/blobs\/uploads\/\?mount=(sha256(?:%3A|:)[0-9a-f]{64})&from=team(?:%2F|\/)a[^"]*" 201/g,
        ),
      ];
      assert.equal(mounts.length, m2.layers.length + 1, `every layer and the config mounted: ${log2}`);

      // docker pulls the mounted image and it runs as on the host
      const hostVersion = execFileSync(CURL, ['--version'], { encoding: 'utf8' });
      await run(docker, ['pull', '-q', `${reg.address}/team/b:1`]);
      assert.equal(
        (await run(docker, ['run', '--rm', '--network', 'none', `${reg.address}/team/b:1`])).stdout,
        hostVersion,
      );
      await dockerRemoveImage(`${reg.address}/team/b:1`);
    });
  } finally {
    await reg.stop();
  }
});

test('two builds sharing a fresh cache at once both write correct, identical images', async () => {
  requireTool('curl', 'curl');
  await withTempDir('e2e-layers-concurrent', async (dir) => {
    await mkdir(join(dir, 'app'));
    await writeFile(join(dir, 'app', 'main.sh'), '#!/bin/sh\necho both\n');
    const env = { FROMSCRATCH_CACHE: join(dir, 'shared-cache') };
    const [a, b] = await Promise.all([
      fromscratch(buildArgs('oci:a:v1'), { cwd: dir, env }),
      fromscratch(buildArgs('oci:b:v1'), { cwd: dir, env }),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(a.stdout, b.stdout, 'the same digest');
    await validateOciLayoutWithTools(join(dir, 'a'), 'v1');
    await validateOciLayoutWithTools(join(dir, 'b'), 'v1');
    // and a third build from the cache they filled reuses every layer
    const c = await fromscratch(buildArgs('oci:c:v1'), { cwd: dir, env });
    assert.equal(c.stdout, a.stdout);
    assert.doesNotMatch(c.stderr, /writing layer/, 'every layer from the cache');
  });
});
