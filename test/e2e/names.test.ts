/**
 * names.test.ts — Docker-compatible names, tags and arguments through the CLI (issue 13): plain
 * registry names wherever an image is read (a Dockerfile FROM 127.0.0.1:PORT/x:1, inspect, run), two
 * `-t` giving two tags in the registry, the OCI layout, a docker-archive and the Docker Engine, `run IMAGE
 * ARGS…` passing options to the container, and outputs refused before any work. One small image is
 * built once and shared.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { separateRunArgs } from '../../src/cli/commands/run.ts';
import { dockerRemoveImage, registryAddress, requireTool, run } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

const ARGS_C = `#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) { write(1, argv[i], strlen(argv[i])); write(1, "\\n", 1); }
  return 0;
}
`;

describe('docker names, tags and arguments', () => {
  let dir = '';
  let reg = '';
  let repo = '';
  const local = `names-${randomBytes(4).toString('hex')}/app`;

  before(async () => {
    reg = await registryAddress();
    repo = `${reg}/${local}`;
    dir = await mkdtemp(join(tmpdir(), 'e2e-names-'));
    await writeFile(join(dir, 'args.c'), ARGS_C);
    await run(requireTool('gcc', 'gcc'), [
      '-static',
      '-Os',
      '-s',
      '-o',
      join(dir, 'args'),
      join(dir, 'args.c'),
    ]);
    await writeFile(join(dir, 'note.txt'), 'on top\n');
  });
  after(async () => {
    await dockerRemoveImage(`${local}:1`);
    await dockerRemoveImage(`${local}:2`);
    await rm(dir, { recursive: true, force: true });
  });

  it('two -t give two tags in the registry, the OCI layout, the docker-archive and the Docker Engine', async () => {
    const built = await fromscratch(
      [
        'build',
        '--add',
        './args:/args',
        '--entrypoint',
        '["/args"]',
        '-t',
        `${local}:1`,
        '-t',
        `${local}:2`,
        '-o',
        `docker://${repo}`,
        '-o',
        'oci:out',
        '-o',
        'docker-archive:img.tar',
        '-o',
        `docker-daemon:${local}:1`,
      ],
      { cwd: dir },
    );
    assert.equal(built.code, 0, built.stderr);
    const skopeo = requireTool('skopeo', 'skopeo');
    const listed = JSON.parse(
      (await run(skopeo, ['list-tags', '--tls-verify=false', `docker://${repo}`])).stdout,
    ) as { Tags: string[] };
    // the -t tags, and no made-up `latest`
    assert.deepEqual([...listed.Tags].sort(), ['1', '2']);
    const index = JSON.parse(await readFile(join(dir, 'out', 'index.json'), 'utf8')) as {
      manifests: { digest: string; annotations?: Record<string, string> }[];
    };
    assert.deepEqual(
      index.manifests.map((m) => [
        m.annotations?.['org.opencontainers.image.ref.name'],
        m.annotations?.['io.containerd.image.name'],
      ]),
      [
        ['1', `docker.io/${local}:1`],
        ['2', `docker.io/${local}:2`],
      ],
    );
    const manifest = JSON.parse(
      (await run('tar', ['-xOf', join(dir, 'img.tar'), 'manifest.json'])).stdout,
    ) as { RepoTags: string[] }[];
    assert.deepEqual(manifest[0]?.RepoTags, [`${local}:1`, `${local}:2`]);
    const docker = requireTool('docker', 'docker.io');
    const ids = await Promise.all(
      ['1', '2'].map(async (t) =>
        (await run(docker, ['image', 'inspect', '--format', '{{.Id}}', `${local}:${t}`])).stdout.trim(),
      ),
    );
    assert.equal(ids[0], ids[1], 'both daemon tags name one image');
    // skopeo reads both layout tags
    for (const t of ['1', '2']) await run(skopeo, ['inspect', `oci:${join(dir, 'out')}:${t}`]);
  });

  it('a plain registry name is read everywhere: FROM 127.0.0.1:PORT/x:1 (via ARG), inspect, run IMAGE ARGS…', async () => {
    await writeFile(
      join(dir, 'Dockerfile'),
      'ARG REG\nFROM ${REG}/' + `${local}:1\nCOPY note.txt /note.txt\n`,
    );
    const df = await fromscratch(
      ['build', '-f', 'Dockerfile', '--build-arg', `REG=${reg}`, '-o', 'oci:out2:df', '.'],
      { cwd: dir },
    );
    assert.equal(df.code, 0, df.stderr);
    const info = JSON.parse(
      (await fromscratch(['inspect', 'oci:out2:df', '--json'], { cwd: dir })).stdout,
    ) as {
      images: { layers: { files: { path: string }[] }[] }[];
    };
    const files = info.images[0]!.layers.flatMap((l) => l.files.map((f) => f.path));
    assert.ok(
      files.some((p) => p.endsWith('args')) && files.some((p) => p.endsWith('note.txt')),
      files.join(' '),
    );

    const plain = await fromscratch(['inspect', `${repo}:2`, '--json', '--no-files'], { cwd: dir });
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /"\/args"/);

    // docker run semantics: options before the image are fromscratch's, every word after it the container's
    const ran = await fromscratch(['run', '--env', 'A=1', `${repo}:2`, '--version', '-e', 'x y', '--'], {
      cwd: dir,
    });
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, '--version\n-e\nx y\n--\n');
  });

  it('inspect --raw prints the stored manifest bytes, --config the config whose digest is the image ID', async () => {
    const skopeo = requireTool('skopeo', 'skopeo');
    const raw = await fromscratch(['inspect', `${repo}:1`, '--raw'], { cwd: dir });
    assert.equal(raw.code, 0, raw.stderr);
    const want = (await run(skopeo, ['inspect', '--raw', '--tls-verify=false', `docker://${repo}:1`])).stdout;
    assert.equal(raw.stdout, want, 'the same bytes skopeo reads');
    const cfg = await fromscratch(['inspect', `${repo}:1`, '--config'], { cwd: dir });
    assert.equal(cfg.code, 0, cfg.stderr);
    const id = `sha256:${createHash('sha256').update(cfg.stdout).digest('hex')}`;
    const text = await fromscratch(['inspect', `${repo}:1`, '--no-files'], { cwd: dir });
    assert.match(text.stdout, new RegExp(`image id: ${id}`));
    const docker = requireTool('docker', 'docker.io');
    assert.equal(
      (await run(docker, ['image', 'inspect', '--format', '{{.Id}}', `${local}:1`])).stdout.trim(),
      id,
    );
  });

  it('sbom works on an image not built here, from its files and dpkg data, and says so', async () => {
    await mkdir(join(dir, 'rootfs/var/lib/dpkg/info'), { recursive: true });
    await mkdir(join(dir, 'rootfs/usr/share/demo'), { recursive: true });
    await writeFile(join(dir, 'rootfs/usr/share/demo/readme'), 'demo\n');
    await writeFile(
      join(dir, 'rootfs/var/lib/dpkg/status'),
      'Package: demo\nStatus: install ok installed\nArchitecture: all\nVersion: 1.2-3\n',
    );
    await writeFile(
      join(dir, 'rootfs/var/lib/dpkg/info/demo.list'),
      '/usr/share/demo\n/usr/share/demo/readme\n',
    );
    const b = await fromscratch(['build', '--add', './rootfs:/', '-o', 'oci:foreign:1'], { cwd: dir });
    assert.equal(b.code, 0, b.stderr);
    // another cache: no build record for it there, as on any other machine
    const sbom = await fromscratch(['sbom', 'oci:foreign:1'], {
      cwd: dir,
      env: { FROMSCRATCH_CACHE: join(dir, 'other-cache') },
    });
    assert.equal(sbom.code, 0, sbom.stderr);
    assert.match(sbom.stderr, /from the image alone \(no build record\): \d+ files, 1 packages/);
    const doc = JSON.parse(sbom.stdout) as { packages: { name: string; versionInfo?: string }[] };
    assert.ok(
      doc.packages.some((p) => p.name === 'demo' && p.versionInfo === '1.2-3'),
      JSON.stringify(doc.packages),
    );
    const here = await fromscratch(['sbom', 'oci:foreign:1'], { cwd: dir });
    assert.equal(here.code, 0, here.stderr);
    assert.match(here.stderr, /from the build record/);
  });

  it('outputs are checked before any work: a non-layout directory, a missing archive directory, a plain name', async () => {
    await writeFile(join(dir, 'plain-file'), 'x');
    // the --binary does not exist: an output check that ran after resolving would report that instead
    const cases: [string, RegExp][] = [
      ['oci:.', /is not empty and is not an OCI layout/],
      ['oci-archive:plain-file/x.tar', /cannot write oci-archive:plain-file\/x.tar/],
      ['docker-archive:no-such-dir/x.tar', /does not exist/],
      ['app:1', /names no transport[\s\S]*hint: .*docker-daemon:app:1/],
    ];
    for (const [out, re] of cases) {
      const r = await fromscratch(['build', '--binary', '/no/such/program', '-o', out], { cwd: dir });
      assert.equal(r.code, 1, `${out}: ${r.stderr}`);
      assert.match(r.stderr, re, out);
      assert.doesNotMatch(r.stderr, /no\/such\/program/, `${out} was checked first`);
    }
  });
});

describe('separateRunArgs', () => {
  it('gives every word after the image to the container, as docker run does', () => {
    const cases: [string[], string[]][] = [
      [
        ['run', 'curl:1', '--version'],
        ['run', 'curl:1', '--', '--version'],
      ],
      [
        ['run', '--user', 'nobody', '-e', 'A=1', 'img', '-e', 'B'],
        ['run', '--user', 'nobody', '-e', 'A=1', 'img', '--', '-e', 'B'],
      ],
      [
        ['--debug', 'run', '--timeout=5', 'img', 'a'],
        ['--debug', 'run', '--timeout=5', 'img', '--', 'a'],
      ],
      [
        ['--progress', 'plain', 'run', '--progress', 'tty', 'img', '--version'],
        ['--progress', 'plain', 'run', '--progress', 'tty', 'img', '--', '--version'],
      ],
      [
        ['-q', 'run', '--progress=plain', 'img', '-q'],
        ['-q', 'run', '--progress=plain', 'img', '--', '-q'],
      ],
      [
        ['run', 'img'],
        ['run', 'img'],
      ],
      [
        ['run', 'img', '--', '-x'],
        ['run', 'img', '--', '-x'],
      ],
      [
        ['build', '-o', 'oci:x', '.'],
        ['build', '-o', 'oci:x', '.'],
      ],
    ];
    for (const [argv, want] of cases) assert.deepEqual(separateRunArgs(argv), want, argv.join(' '));
  });
});
