/**
 * package-caches.test.ts — the caches Debian's triggers generate, made for `--package` installs without
 * running anything (issue 14). A library in a private directory named by /etc/ld.so.conf.d is found by
 * the image's real loader under `docker run` only through the ld.so.cache the ldconfig rule writes: the
 * cache lists what `ldconfig -r` lists on an unpacked copy of the image (the oracle), masking it makes the
 * program fail to start, the static start check finds the library, and `why` says where the cache came
 * from. The packages are built here from a C library and program compiled by the test, and the host's
 * libc, and served by a signed fake repository on loopback.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type FakeRepo, startFakeRepo } from '../deb/fake-repo.ts';
import { dockerRemoveImage, dockerRun, requireTool, run, withTempDir } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

const HOST_LIBS = '/usr/lib/x86_64-linux-gnu';
let repo: FakeRepo;
let work: string;

before(async () => {
  const cc = requireTool('cc', 'gcc');
  work = mkdtempSync(join(tmpdir(), 'e2e-package-caches-'));
  writeFileSync(
    join(work, 'greet.c'),
    'const char *greeting(void) { return "hello from a private directory"; }\n',
  );
  writeFileSync(
    join(work, 'main.c'),
    '#include <stdio.h>\nconst char *greeting(void);\nint main(void) { puts(greeting()); return 0; }\n',
  );
  execFileSync(cc, [
    '-shared',
    '-fPIC',
    '-Wl,-soname,libgreet.so.1',
    '-o',
    join(work, 'libgreet.so.1.0'),
    join(work, 'greet.c'),
  ]);
  execFileSync(cc, ['-o', join(work, 'greet'), join(work, 'main.c'), join(work, 'libgreet.so.1.0')]);
  const bin = (p: string) => readFileSync(p);
  repo = await startFakeRepo(
    [
      {
        // the parts of Debian's libc6 the program needs, with its ld.so.conf.d file
        name: 'libc6',
        version: '2.36-9',
        files: [
          { name: './lib64/', type: 'directory', mode: 0o755 },
          {
            name: './lib64/ld-linux-x86-64.so.2',
            body: bin(`${HOST_LIBS}/ld-linux-x86-64.so.2`),
            mode: 0o755,
          },
          { name: './lib/', type: 'directory', mode: 0o755 },
          { name: './lib/x86_64-linux-gnu/', type: 'directory', mode: 0o755 },
          { name: './lib/x86_64-linux-gnu/libc.so.6', body: bin(`${HOST_LIBS}/libc.so.6`), mode: 0o755 },
          {
            name: './etc/ld.so.conf.d/x86_64-linux-gnu.conf',
            body: '/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n',
          },
        ],
      },
      {
        // a library in a private directory, found through ld.so.conf.d (as libfakeroot, libblas do)
        name: 'libgreet1',
        version: '1.0-1',
        fields: { Depends: 'libc6' },
        postinst: '#!/bin/sh\nset -e\nif [ "$1" = configure ]; then ldconfig; fi\n',
        files: [
          {
            name: './usr/lib/x86_64-linux-gnu/greet/libgreet.so.1.0',
            body: bin(join(work, 'libgreet.so.1.0')),
            mode: 0o644,
          },
          {
            name: './usr/lib/x86_64-linux-gnu/greet/libgreet.so.1',
            type: 'symlink',
            linkname: 'libgreet.so.1.0',
          },
          { name: './etc/ld.so.conf.d/greet.conf', body: '/usr/lib/x86_64-linux-gnu/greet\n' },
        ],
      },
      {
        name: 'greet',
        version: '1.0-1',
        fields: { Depends: 'libgreet1, libc6' },
        files: [{ name: './usr/bin/greet', body: bin(join(work, 'greet')), mode: 0o755 }],
      },
    ],
    { arches: ['amd64'] },
  );
});
after(async () => {
  await repo?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const source = () => `deb [signed-by=${repo.keyring}] ${repo.uri} ${repo.suite} main`;

/** unpackLayout extracts every layer of the layout's image into `dest`, in order. */
function unpackLayout(layout: string, dest: string): void {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string }[];
  };
  const blob = (d: string) => join(layout, 'blobs', 'sha256', d.replace(/^sha256:/, ''));
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), 'utf8')) as {
    layers: { digest: string }[];
  };
  mkdirSync(dest, { recursive: true });
  for (const l of manifest.layers) execFileSync('tar', ['-xzf', blob(l.digest), '-C', dest]);
}

const listed = (cache: string) =>
  execFileSync('ldconfig', ['-p', '-C', cache], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.startsWith('\t'));

test('--package with a library in an ld.so.conf.d directory: ld.so.cache as ldconfig writes it, and the program starts under docker', async () => {
  const image = 'e2e-package-caches/greet:1';
  await withTempDir('e2e-package-caches', async (dir) => {
    try {
      const r = await fromscratch(
        [
          'build',
          '--apt-source',
          source(),
          '--package',
          'greet',
          '--entrypoint',
          '["/usr/bin/greet"]',
          '-o',
          'oci:out:greet',
          '-o',
          `docker-daemon:${image}`,
        ],
        { cwd: dir },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /ldconfig/, 'the postinst ldconfig is not warned about');

      // the real loader finds the private library through the cache …
      assert.equal((await dockerRun(image)).trim(), 'hello from a private directory');
      // … and only through it: with the cache masked the program does not start
      const docker = requireTool('docker', 'docker.io');
      const masked = await run(
        docker,
        ['run', '--rm', '--network', 'none', '-v', '/dev/null:/etc/ld.so.cache:ro', image],
        { allowFail: true },
      );
      assert.notEqual(masked.code, 0);
      assert.match(masked.stderr, /libgreet\.so\.1: cannot open shared object file/);

      // the oracle: ldconfig -r on an unpacked copy (with Debian's ld.so.conf, as libc-bin ships it)
      const root = join(dir, 'root');
      unpackLayout(join(dir, 'out'), root);
      const ours = listed(join(root, 'etc/ld.so.cache'));
      assert.ok(
        ours.some((l) =>
          /libgreet\.so\.1 \(libc6,x86-64\) => \/usr\/lib\/x86_64-linux-gnu\/greet\/libgreet\.so\.1$/.test(l),
        ),
        ours.join('\n'),
      );
      rmSync(join(root, 'etc/ld.so.cache'));
      writeFileSync(join(root, 'etc/ld.so.conf'), 'include /etc/ld.so.conf.d/*.conf\n');
      execFileSync('ldconfig', ['-r', root, '-X']);
      assert.deepEqual(ours, listed(join(root, 'etc/ld.so.cache')));

      // the static start check reads the image's cache and finds the library
      const check = await fromscratch(['check', 'oci:out:greet'], { cwd: dir });
      assert.equal(check.code, 0, check.stdout + check.stderr);

      const why = await fromscratch(['why', 'oci:out:greet', '/etc/ld.so.cache'], { cwd: dir });
      assert.equal(why.code, 0, why.stderr);
      assert.match(
        why.stdout,
        /ldconfig \(Debian's ldconfig trigger\): .*\/usr\/lib\/x86_64-linux-gnu\/greet/,
      );
    } finally {
      await dockerRemoveImage(image);
    }
  });
});
