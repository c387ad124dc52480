/**
 * build.test.ts — `fromscratch build` as a user runs it (issues 2 and 3): every output accepted by the
 * independent tools, reproducible digests, kept modes and capabilities, programs that run FROM scratch.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileHello, HELLO_OUTPUT } from '../support/tiny-image.ts';
import {
  dockerLoadAndRun,
  dockerRemoveImage,
  dockerRun,
  requireTool,
  run,
  validateOciLayoutWithTools,
  withTempDir,
} from '../support/validate-tools.ts';
import { BIN, CACHE, CODE_CACHE, fromscratch } from './cli.ts';

const DIGEST = /^sha256:[a-f0-9]{64}\n$/;

test('build --add writes oci, oci-archive, docker-archive and docker-daemon outputs that every tool accepts', async () => {
  await withTempDir('e2e-outputs', async (dir) => {
    await writeFile(join(dir, 'hello'), await compileHello(), { mode: 0o755 });
    const r = await fromscratch(
      [
        'build',
        '--add',
        './hello:/hello',
        '--entrypoint',
        '["/hello"]',
        '-o',
        'oci:out:v1',
        '-o',
        'oci-archive:hello.tar',
        '-o',
        'docker-archive:hello-docker.tar:e2e/hello:1',
        '-o',
        'docker-daemon:e2e/hello-daemon:1',
      ],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, DIGEST, 'stdout carries only the digest');
    const skopeo = await validateOciLayoutWithTools(join(dir, 'out'), 'v1');
    assert.equal(`${skopeo.Digest}\n`, r.stdout, 'skopeo sees the printed digest');
    const sk = requireTool('skopeo', 'skopeo');
    await run(sk, ['inspect', `oci-archive:${join(dir, 'hello.tar')}`]);
    await run(sk, [
      'copy',
      '--quiet',
      `docker-archive:${join(dir, 'hello-docker.tar')}`,
      `oci:${join(dir, 'from-da')}:x`,
    ]);
    assert.equal(await dockerLoadAndRun(join(dir, 'hello-docker.tar'), 'e2e/hello:1'), HELLO_OUTPUT);
    assert.equal(await dockerRun('e2e/hello-daemon:1'), HELLO_OUTPUT);
    const insp = await fromscratch(['inspect', 'oci:out:v1', '--json'], { cwd: dir });
    assert.equal(insp.code, 0, insp.stderr);
    const info = JSON.parse(insp.stdout) as {
      images: { layers: { files: { path: string; mode: number }[] }[] }[];
    };
    const files = info.images[0]!.layers.flatMap((l) => l.files);
    assert.ok(files.some((f) => f.path === '/hello' && (f.mode & 0o777) === 0o755));
    assert.ok(
      files.some((f) => f.path === '/tmp' && (f.mode & 0o7777) === 0o1777),
      '/tmp is 1777',
    );
    assert.ok(files.some((f) => f.path === '/etc/passwd'));
    await dockerRemoveImage('e2e/hello:1');
    await dockerRemoveImage('e2e/hello-daemon:1');
  });
});

test('the same build twice gives the same digest after touching inputs, under another umask and clock', async () => {
  await withTempDir('e2e-repro', async (dir) => {
    await mkdir(join(dir, 'app/sub'), { recursive: true });
    for (const n of ['b', 'a', 'sub/c']) await writeFile(join(dir, 'app', n), `file ${n}\n`);
    const args = [
      'build',
      '--add',
      './app:/app',
      '--binary',
      '/usr/bin/env',
      '--entrypoint',
      '/usr/bin/env',
      '-o',
      'oci:out:r',
    ];
    const first = await fromscratch(args, { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    const later = new Date('2031-05-05T00:00:00Z');
    for (const n of ['b', 'a', 'sub/c']) await utimes(join(dir, 'app', n), later, later);
    await chmod(join(dir, 'app/sub'), 0o700);
    await chmod(join(dir, 'app/sub'), 0o755);
    const second = await fromscratch(args, {
      cwd: dir,
      env: { TZ: 'Asia/Kolkata', FAKE_NOW: String(Date.now()) },
    });
    const third = await new Promise<string>((resolve) => {
      const out = execFileSync(
        'bash',
        [
          '-c',
          `umask 077 && FROMSCRATCH_CACHE=${CACHE} FROMSCRATCH_CODE_CACHE=${CODE_CACHE} ${process.execPath} ${BIN} ${args.map((a) => `'${a}'`).join(' ')}`,
        ],
        { cwd: dir },
      );
      resolve(out.toString());
    });
    assert.equal(second.stdout, first.stdout);
    assert.equal(third, first.stdout);
    const sde = await fromscratch(args, { cwd: dir, env: { SOURCE_DATE_EPOCH: '1700000000' } });
    assert.notEqual(sde.stdout, first.stdout, 'SOURCE_DATE_EPOCH is honoured');
  });
});

test('setuid mode 4755 and a cap_net_raw+ep capability survive umoci unpack', async () => {
  const setcap = requireTool('setcap', 'libcap2-bin');
  const getcap = requireTool('getcap', 'libcap2-bin');
  const umoci = requireTool('umoci', 'umoci');
  await withTempDir('e2e-caps', async (dir) => {
    await writeFile(join(dir, 'ping'), await compileHello(), { mode: 0o755 });
    await run(setcap, ['cap_net_raw+ep', join(dir, 'ping')]);
    await writeFile(join(dir, 'suid'), await compileHello());
    await chmod(join(dir, 'suid'), 0o4755);
    const r = await fromscratch(
      ['build', '--add', './ping:/bin/ping', '--add', './suid:/bin/suid', '-o', 'oci:out:caps'],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    await run(umoci, ['unpack', '--image', `${join(dir, 'out')}:caps`, join(dir, 'bundle')]);
    const caps = (await run(getcap, [join(dir, 'bundle/rootfs/bin/ping')])).stdout;
    assert.match(caps, /cap_net_raw[=+]ep/);
    assert.equal((await stat(join(dir, 'bundle/rootfs/bin/suid'))).mode & 0o7777, 0o4755);
  });
});

test('--binary /usr/bin/curl runs FROM scratch with no network exactly as on the host', async () => {
  await withTempDir('e2e-curl', async (dir) => {
    const r = await fromscratch(
      [
        'build',
        '--binary',
        '/usr/bin/curl',
        '--entrypoint',
        '["/usr/bin/curl"]',
        '--cmd',
        '["--version"]',
        '-o',
        'oci:out:curl',
        '-o',
        'docker-daemon:e2e/curl:1',
      ],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    const host = execFileSync('/usr/bin/curl', ['--version']).toString();
    assert.equal(await dockerRun('e2e/curl:1'), host);
    const why = await fromscratch(['why', 'oci:out:curl', '/lib64/ld-linux-x86-64.so.2'], { cwd: dir });
    assert.equal(why.code, 0, why.stderr);
    assert.match(why.stdout, /\/usr\/bin\/curl/);
    const sbom = await fromscratch(['sbom', 'oci:out:curl', '--format', 'spdx'], { cwd: dir });
    assert.equal(sbom.code, 0, sbom.stderr);
    const doc = JSON.parse(sbom.stdout) as { files: { fileName: string }[] };
    assert.ok(doc.files.some((f) => f.fileName === './usr/bin/curl'));
    await dockerRemoveImage('e2e/curl:1');
  });
});

test('bad input: a clear error, exit 1, nothing written and an existing layout untouched', async () => {
  await withTempDir('e2e-bad', async (dir) => {
    await writeFile(join(dir, 'f'), 'x');
    const ok = await fromscratch(['build', '--add', './f:/f', '-o', 'oci:out:good'], { cwd: dir });
    assert.equal(ok.code, 0, ok.stderr);
    const before = (await readdir(join(dir, 'out/blobs/sha256'))).sort();
    const index = execFileSync('cat', [join(dir, 'out/index.json')]).toString();
    const cases: [string[], string, number][] = [
      [['build', '--add', './missing:/m', '-o', 'oci:out:bad'], 'FILE_NOT_FOUND', 1],
      [['build', '--add', './f:/f', '-o', 'nosuch:out'], 'INVALID_REFERENCE', 1],
      [['build', '--add', './f:/f', '--entrypoint', '["/x",', '-o', 'oci:out:bad'], 'USAGE', 2],
      [['build', '--add', './f:relative', '-o', 'oci:out:bad'], 'USAGE', 2],
      [['build', '--add', './f:/x', '--add', '/etc/hostname:/x', '-o', 'oci:out:bad'], 'PATH_CONFLICT', 1],
      [['build', '--add', './f:/f'], 'USAGE', 2],
      [['build', '--binary', join(dir, 'f'), '-o', 'oci:out:bad'], 'NOT_EXECUTABLE', 1],
    ];
    for (const [args, code, exit] of cases) {
      const r = await fromscratch(args, { cwd: dir });
      assert.equal(r.code, exit, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^error\\[${code}\\]: `, 'm'), `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^hint: /m, `${args.join(' ')} gives a hint`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(r.stdout, '');
    }
    assert.deepEqual(
      (await readdir(join(dir, 'out/blobs/sha256'))).sort(),
      before,
      'no new blob in the layout',
    );
    assert.equal(
      execFileSync('cat', [join(dir, 'out/index.json')]).toString(),
      index,
      'index.json untouched',
    );
  });
});

test('--sbom attaches an SPDX artifact referring to the image; host files are traced to their Debian packages', async () => {
  await withTempDir('e2e-sbom', async (dir) => {
    const r = await fromscratch(['build', '--binary', '/usr/bin/jq', '--sbom', 'spdx', '-o', 'oci:out:jq'], {
      cwd: dir,
    });
    assert.equal(r.code, 0, r.stderr);
    const index = JSON.parse(execFileSync('cat', [join(dir, 'out/index.json')]).toString()) as {
      manifests: { digest: string; artifactType?: string }[];
    };
    const art = index.manifests.find((m) => m.artifactType === 'application/spdx+json');
    assert.ok(art, 'index.json lists the SBOM artifact');
    const blob = (d: string) =>
      JSON.parse(execFileSync('cat', [join(dir, 'out/blobs/sha256', d.slice(7))]).toString());
    const manifest = blob(art.digest) as { subject: { digest: string }; layers: { digest: string }[] };
    assert.equal(`${manifest.subject.digest}\n`, r.stdout, 'the artifact refers to the built image');
    const spdx = blob(manifest.layers[0]!.digest) as {
      packages: { name: string; versionInfo: string }[];
      files: { fileName: string }[];
    };
    assert.ok(spdx.files.some((f) => f.fileName === './usr/bin/jq'));
    const version = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'jq']).toString();
    assert.ok(
      spdx.packages.some((p) => p.name === 'jq' && p.versionInfo === version),
      'the host file is attributed to its package',
    );
    await validateOciLayoutWithTools(join(dir, 'out'), 'jq');
    const insp = await fromscratch(['inspect', 'oci:out:jq', '--json'], { cwd: dir });
    assert.match(insp.stdout, /\/var\/lib\/dpkg\/status.d\/jq"/, 'a status.d record lets scanners see jq');
  });
});

test('package credit by content: --add ./fake:/usr/bin/jq is not jq in the SBOM or status.d; /usr/bin/jq copied to /opt/jq is', async () => {
  await withTempDir('e2e-credit', async (dir) => {
    await writeFile(join(dir, 'fake'), '#!/bin/sh\necho not jq\n');
    const r = await fromscratch(
      ['build', '--add', './fake:/usr/bin/jq', '--add', '/usr/bin/jq:/opt/jq', '-o', 'oci:out:x'],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    const spdx = await fromscratch(['sbom', 'oci:out:x', '--format', 'spdx'], { cwd: dir });
    assert.equal(spdx.code, 0, spdx.stderr);
    const doc = JSON.parse(spdx.stdout) as {
      packages: { SPDXID: string; name: string }[];
      files: { SPDXID: string; fileName: string }[];
      relationships: { spdxElementId: string; relatedSpdxElement: string }[];
    };
    const jq = doc.packages.find((p) => p.name === 'jq');
    assert.ok(jq, 'jq is in the SBOM for /opt/jq');
    const jqFiles = doc.relationships
      .filter((x) => x.spdxElementId === jq.SPDXID)
      .map((x) => doc.files.find((f) => f.SPDXID === x.relatedSpdxElement)?.fileName)
      .filter((f) => !f?.startsWith('./var/lib/dpkg/status.d/'));
    assert.deepEqual(jqFiles, ['./opt/jq'], 'the fake at /usr/bin/jq is not credited to jq');
    const sums = await fromscratch(['why', 'oci:out:x', '/usr/bin/jq'], { cwd: dir });
    assert.doesNotMatch(sums.stdout, /Debian package jq/);
    const layout = join(dir, 'out');
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    const blob = (d: string) => join(layout, 'blobs/sha256', d.slice(7));
    const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), 'utf8')) as {
      layers: { digest: string }[];
    };
    let md5sums = '';
    for (const l of manifest.layers) {
      try {
        md5sums += execFileSync('tar', ['-xzOf', blob(l.digest), '--wildcards', '*status.d/jq.md5sums'], {
          stdio: ['ignore', 'pipe', 'ignore'],
        }).toString();
      } catch {
        // not in this layer
      }
    }
    const pkgSum = readFileSync('/var/lib/dpkg/info/jq.md5sums', 'utf8').match(
      /^(\S+) {2}usr\/bin\/jq$/m,
    )?.[1];
    assert.equal(
      md5sums,
      `${pkgSum}  opt/jq\n`,
      "status.d lists /opt/jq with the package's md5sum, not the fake",
    );
    // OS identity: the host's, since the image holds its Debian packages; purls name the release
    const why = await fromscratch(['why', 'oci:out:x', '/etc/os-release'], { cwd: dir });
    assert.equal(why.code, 0, why.stderr);
    assert.match(why.stdout, /^\/etc\/os-release$/m);
    assert.match(why.stdout, /OS identity of \//);
    const cdx = await fromscratch(['sbom', 'oci:out:x', '--format', 'cyclonedx'], { cwd: dir });
    const ver = readFileSync('/etc/os-release', 'utf8').match(/^VERSION_ID="?([0-9]+)/m)?.[1];
    assert.match(cdx.stdout, new RegExp(`pkg:deb/debian/jq@[^"]*&distro=debian-${ver}"`));
  });
});

test('--compression-level and `compression-level:` set the gzip level: part of the layer identity, checked before any work', async () => {
  await withTempDir('e2e-level', async (dir) => {
    // compressible content large enough for the levels to differ
    const text = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${(i * 7919) % 1000}\n`).join('');
    await writeFile(join(dir, 'data.txt'), text);
    const layersOf = (out: string): { digest: string; size: number }[] => {
      const index = JSON.parse(readFileSync(join(dir, out, 'index.json'), 'utf8')) as {
        manifests: { digest: string }[];
      };
      const m = JSON.parse(
        readFileSync(join(dir, out, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8'),
      ) as { layers: { digest: string; size: number }[] };
      return m.layers;
    };
    const blob = (out: string, d: string): Buffer =>
      readFileSync(join(dir, out, 'blobs', 'sha256', d.slice(7)));
    const build = (out: string, extra: string[]) =>
      fromscratch(
        ['build', '--layers', '1', '--add', './data.txt:/data.txt', '-o', `oci:${out}:x`, ...extra],
        {
          cwd: dir,
        },
      );

    for (const [out, extra] of [
      ['default', []],
      ['l9', ['--compression-level', '9']],
      ['l9b', ['--compression-level', '9']],
      ['l4', ['--compression-level', '4']],
      ['l1', ['--compression-level', '1']],
    ] as const) {
      const r = await build(out, [...extra]);
      assert.equal(r.code, 0, r.stderr);
    }
    const [d] = layersOf('default');
    const [l9] = layersOf('l9');
    const [l1] = layersOf('l1');
    // the default is level 4: same bytes as an explicit 4; the cache never serves a layer of another level
    assert.deepEqual(layersOf('l4'), layersOf('default'));
    assert.deepEqual(layersOf('l9b'), layersOf('l9'), 'the same level gives the same digest');
    assert.notEqual(l9!.digest, d!.digest);
    assert.ok(l1!.size > d!.size && d!.size >= l9!.size, `sizes: 1 ${l1!.size}, 4 ${d!.size}, 9 ${l9!.size}`);
    // gzip's XFL byte: 2 = maximum compression (9), 4 = fastest (1), 0 otherwise
    assert.equal(blob('l9', l9!.digest)[8], 2);
    assert.equal(blob('l1', l1!.digest)[8], 4);
    assert.equal(blob('default', d!.digest)[8], 0);
    for (const out of ['default', 'l9', 'l1']) await validateOciLayoutWithTools(join(dir, out), 'x');

    // the spec key, the same digest as the flag
    await writeFile(
      join(dir, 'fromscratch.yaml'),
      'contents: [{add: ./data.txt, to: /data.txt}]\nlayers: 1\ncompression-level: 9\n',
    );
    const s = await fromscratch(['build', '-c', 'fromscratch.yaml', '-o', 'oci:spec:x'], { cwd: dir });
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual(layersOf('spec'), layersOf('l9'));

    // bad levels are usage errors (exit 2, as a malformed --layers) before any work; nothing is written
    for (const extra of [
      ['--compression-level', '0'],
      ['--compression-level', '10'],
      ['--compression-level', 'fast'],
      ['--compression', 'none', '--compression-level', '3'],
    ]) {
      const r = await build('bad', extra);
      assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /level/, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
    const z = await build('zstd19', ['--compression', 'zstd', '--compression-level', '19']);
    assert.equal(z.code, 0, z.stderr);
    await assert.rejects(stat(join(dir, 'bad')), 'a refused build wrote no output');
  });
});
