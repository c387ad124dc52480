/**
 * images.test.ts — `images:` and `cache:` in fromscratch.yaml (issue 16).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSpecFile } from '../../src/yaml/parse-spec.ts';

const SPEC = `contents:
  - binary: /usr/bin/env
env: {A: "1", B: "2"}
labels: {team: core}
outputs: docker://reg.example/t/{name}:1
cache:
  from: docker://reg.example/t/cache:main, docker://reg.example/t/cache:dev
  to: docker://reg.example/t/cache:main
images:
  - name: api
    contents:
      - add: ./api
        to: /app
    env: {B: "3"}
  - name: worker
    outputs: [oci:out/worker:1]
    labels: {role: worker}
`;

test('images: top-level keys are defaults, contents appended, env/labels merged, {name} in outputs', () => {
  const s = parseSpecFile(SPEC, '/src/monorepo.yaml');
  assert.deepEqual(s.cache, {
    from: ['docker://reg.example/t/cache:main', 'docker://reg.example/t/cache:dev'],
    to: 'docker://reg.example/t/cache:main',
  });
  const [api, worker] = s.images!;
  assert.equal(api!.name, 'api');
  assert.deepEqual(
    api!.spec.contents.map((c) => c.kind),
    ['binary', 'add'],
  );
  assert.deepEqual(api!.spec.contents[1], { kind: 'add', src: '/src/api', dest: '/app' });
  assert.deepEqual(api!.spec.config?.Env, ['A=1', 'B=3']);
  assert.deepEqual(api!.spec.outputs, ['docker://reg.example/t/api:1']);
  assert.equal(api!.spec.cache, undefined, 'the cache belongs to the whole build');
  assert.deepEqual(worker!.spec.outputs, ['oci:out/worker:1']);
  assert.deepEqual(worker!.spec.config?.Labels, { team: 'core', role: 'worker' });
  assert.deepEqual(worker!.spec.config?.Env, ['A=1', 'B=2']);
});

test('images: problems are reported at the image, duplicate names and unknown keys refused', () => {
  assert.throws(() => parseSpecFile('images:\n  - name: a\n  - name: a\n', 'm.yaml'), {
    code: 'SPEC_INVALID',
    message: /m\.yaml:3: images\[1\]\.name: the image name "a" is used twice/,
  });
  assert.throws(() => parseSpecFile('images:\n  - name: a\n    contnts: []\n', 'm.yaml'), {
    message: /m\.yaml:3: images\[0\]\.contnts: unknown key \(did you mean "contents"\?\)/,
  });
  assert.throws(
    () =>
      parseSpecFile(
        'contents:\n  - binary: /bin/true\nimages:\n  - name: a\n    contents:\n      - trace: "a \'b"\n',
        'm.yaml',
      ),
    { message: /m\.yaml:6: images\[0\]\.contents\[0\]\.trace:/ },
  );
  assert.throws(() => parseSpecFile('images:\n  - name: Bad Name\n', 'm.yaml'), { code: 'SPEC_INVALID' });
  assert.throws(() => parseSpecFile('cache: {form: x}\n', 'm.yaml'), { message: /did you mean "from"/ });
  assert.throws(() => parseSpecFile('images:\n  - name: a\n    cache: {to: x}\n', 'm.yaml'), {
    message: /images\[0\]\.cache: unknown key/,
  });
});

test('images: build flags apply to every image, {name} in -o and -t included', async () => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { loadBuildSpec } = await import('../../src/orchestrate/load-spec.ts');
  const dir = await mkdtemp(join(tmpdir(), 'spec-images-'));
  try {
    await writeFile(join(dir, 'm.yaml'), 'images:\n  - name: a\n  - name: b\n    outputs: [oci:b:1]\n');
    const s = await loadBuildSpec({
      flags: { contents: [], config: { Env: ['X=1'] }, outputs: ['docker://r.example/t/{name}:2'] },
      cwd: dir,
      configFile: join(dir, 'm.yaml'),
    });
    assert.deepEqual(
      s.images?.map((i) => [i.name, i.spec.outputs, i.spec.config?.Env]),
      [
        ['a', ['docker://r.example/t/a:2'], ['X=1']],
        ['b', ['docker://r.example/t/b:2'], ['X=1']],
      ],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
