/**
 * frontends.test.ts — the same content through flags, a YAML spec and a Dockerfile gives the same
 * layer (issue 7), and the blog post's Dockerfile (FROM scratch, ADD a static binary, CMD) runs.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileHello, HELLO_OUTPUT } from '../support/tiny-image.ts';
import { dockerRemoveImage, dockerRun, withTempDir } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

async function layerDigests(dir: string, ref: string): Promise<string[]> {
  const r = await fromscratch(['inspect', ref, '--json', '--no-files'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout) as { images: { layers: { diffId: string }[] }[] };
  return info.images[0]!.layers.map((l) => l.diffId);
}

test('flags, YAML and Dockerfile with the same content give the same layer', async () => {
  await withTempDir('e2e-frontends', async (dir) => {
    await mkdir(join(dir, 'ctx'));
    await writeFile(join(dir, 'ctx/hello'), await compileHello(), { mode: 0o755 });
    await writeFile(
      join(dir, 'ctx/Dockerfile'),
      'FROM scratch\n# fromscratch: closure\nCOPY hello /hello\nCMD ["/hello"]\n',
    );
    await writeFile(
      join(dir, 'spec.yaml'),
      'contents:\n  - add: ./ctx/hello\n    to: /hello\ncmd: ["/hello"]\noutputs: ["oci:out:yaml"]\n',
    );
    const flags = await fromscratch(
      ['build', '--add', './ctx/hello:/hello', '--cmd', '["/hello"]', '-o', 'oci:out:flags'],
      { cwd: dir },
    );
    assert.equal(flags.code, 0, flags.stderr);
    const yaml = await fromscratch(['build', '-c', 'spec.yaml'], { cwd: dir });
    assert.equal(yaml.code, 0, yaml.stderr);
    const docker = await fromscratch(
      ['build', 'ctx', '-o', 'oci:out:dockerfile', '-o', 'docker-daemon:e2e/frontends:1'],
      { cwd: dir },
    );
    assert.equal(docker.code, 0, docker.stderr);
    const a = await layerDigests(dir, 'oci:out:flags');
    assert.deepEqual(await layerDigests(dir, 'oci:out:yaml'), a);
    assert.deepEqual(await layerDigests(dir, 'oci:out:dockerfile'), a);
    assert.equal(yaml.stdout, flags.stdout, 'YAML and flags give the same image');
    assert.equal(await dockerRun('e2e/frontends:1'), HELLO_OUTPUT);
    await dockerRemoveImage('e2e/frontends:1');
  });
});

test('a Dockerfile with RUN, an escaping COPY or a YAML typo fails with file and line', async () => {
  await withTempDir('e2e-frontends-bad', async (dir) => {
    await mkdir(join(dir, 'run'));
    await writeFile(join(dir, 'run/Dockerfile'), 'FROM scratch\nRUN echo hi\nCOPY x /x\nRUN echo again\n');
    const run = await fromscratch(['build', 'run', '-o', 'oci:out:x'], { cwd: dir });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /^error\[DOCKERFILE_UNSUPPORTED\]: /m);
    assert.match(run.stderr, /Dockerfile:2: RUN echo hi/);
    assert.match(run.stderr, /Dockerfile:4: RUN echo again/, 'every RUN is listed at once');
    assert.match(run.stderr, /--package|--trace/);
    await writeFile(join(dir, 'run/Dockerfile'), 'FROM scratch\nFROOM x\n');
    const typo = await fromscratch(['build', 'run', '-o', 'oci:out:x'], { cwd: dir });
    assert.match(
      typo.stderr,
      /^error\[DOCKERFILE_SYNTAX\]: .*Dockerfile:2: unknown instruction: FROOM \(did you mean FROM\?\)/m,
    );
    await mkdir(join(dir, 'esc'));
    await writeFile(join(dir, 'esc/Dockerfile'), 'FROM scratch\nCOPY ../secret /secret\n');
    await writeFile(join(dir, 'secret'), 'top secret');
    const esc = await fromscratch(['build', 'esc', '-o', 'oci:out:x'], { cwd: dir });
    assert.equal(esc.code, 1, esc.stderr);
    assert.match(
      esc.stderr,
      /^error\[(PATH_ESCAPE|DOCKERFILE_SYNTAX)\]: .*Dockerfile:2: .*outside the build context/m,
    );
    await writeFile(join(dir, 'bad.yaml'), 'contents:\n  - binray: /usr/bin/env\n');
    const yaml = await fromscratch(['build', '-c', 'bad.yaml', '-o', 'oci:out:x'], { cwd: dir });
    assert.equal(yaml.code, 1, yaml.stderr);
    assert.match(yaml.stderr, /^error\[SPEC_INVALID\]: .*bad\.yaml:2/m);
  });
});
