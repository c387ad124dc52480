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
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type FakeRepo, startFakeRepo } from '../deb/fake-repo.ts';
import { dockerRemoveImage, dockerRun, requireTool, run, withTempDir } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

const HOST_LIBS = '/usr/lib/x86_64-linux-gnu';
const LOADERS = `${HOST_LIBS}/gdk-pixbuf-2.0/2.10.0/loaders`;
const PIXBUF_CACHE = `${HOST_LIBS}/gdk-pixbuf-2.0/2.10.0/loaders.cache`;
const QUERY_LOADERS = `${HOST_LIBS}/gdk-pixbuf-2.0/gdk-pixbuf-query-loaders`;
const DEJAVU = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const PIXBUF_POSTINST = '/var/lib/dpkg/info/libgdk-pixbuf-2.0-0:amd64.postinst';
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
        // the host's BMP loader, with the host's postinst of libgdk-pixbuf-2.0-0 (it runs
        // gdk-pixbuf-query-loaders, which must not be run)
        name: 'libgdk-pixbuf-2.0-0',
        version: '2.42.10',
        postinst: readFileSync(PIXBUF_POSTINST, 'utf8'),
        files: [
          {
            name: `.${LOADERS}/libpixbufloader-bmp.so`,
            body: bin(`${LOADERS}/libpixbufloader-bmp.so`),
            mode: 0o644,
          },
        ],
      },
      {
        // a loader no loaders.cache describes
        name: 'pixbuf-odd-loader',
        version: '1.0',
        fields: { Depends: 'libgdk-pixbuf-2.0-0' },
        files: [{ name: `.${LOADERS}/libpixbufloader-odd.so`, body: 'not the host module\n', mode: 0o644 }],
      },
      {
        // fontconfig as Debian splits it: its configuration, the fc-cache postinst (host's text), a font
        name: 'fontconfig-config',
        version: '2.14.1-4',
        files: [{ name: './etc/fonts/fonts.conf', body: bin('/etc/fonts/fonts.conf'), mode: 0o644 }],
      },
      {
        name: 'fontconfig',
        version: '2.14.1-4',
        fields: { Depends: 'fontconfig-config' },
        postinst: readFileSync('/var/lib/dpkg/info/fontconfig.postinst', 'utf8'),
        files: [],
      },
      {
        name: 'fonts-dejavu-core',
        version: '2.37-6',
        files: [
          {
            name: `.${DEJAVU}`,
            body: bin(DEJAVU),
            mode: 0o644,
          },
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

/** bmp1x1 is a 1×1 24-bit BMP (BITMAPINFOHEADER), a format gdk-pixbuf reads through an external loader. */
function bmp1x1(): Buffer {
  const b = Buffer.alloc(58);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(58, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(1, 18);
  b.writeInt32LE(1, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(4, 34);
  b.set([0x20, 0x40, 0x80], 54);
  return b;
}

test('--package with gdk-pixbuf loaders: loaders.cache from the entries of identical host modules; a program loads a BMP through the loader under docker; an unknown loader is a warning naming its package', async () => {
  for (const f of [
    PIXBUF_CACHE,
    QUERY_LOADERS,
    PIXBUF_POSTINST,
    '/usr/bin/gdk-pixbuf-pixdata',
    '/usr/share/mime/mime.cache',
  ])
    assert.ok(existsSync(f), `the host has ${f} (libgdk-pixbuf2.0-bin, shared-mime-info)`);
  const image = 'e2e-package-caches/pixbuf:1';
  await withTempDir('e2e-package-caches', async (dir) => {
    try {
      writeFileSync(join(dir, 'in.bmp'), bmp1x1());
      const r = await fromscratch(
        [
          'build',
          '--apt-source',
          source(),
          '--package',
          'pixbuf-odd-loader',
          '--add',
          '/usr/bin/gdk-pixbuf-pixdata',
          '--add',
          './in.bmp:/in.bmp',
          // gdk-pixbuf picks a loader by the MIME type GIO guesses: the host's shared-mime-info database
          // (update-mime-database's output, another trigger cache, not made by fromscratch)
          '--add',
          '/usr/share/mime/mime.cache',
          '--entrypoint',
          '["/usr/bin/gdk-pixbuf-pixdata"]',
          '-o',
          'oci:out:pixbuf',
          '-o',
          `docker-daemon:${image}`,
        ],
        { cwd: dir },
      );
      assert.equal(r.code, 0, r.stderr);
      const warned = r.stderr.split('\n').filter((l) => /^warning: package \S+: its postinst runs/.test(l));
      assert.equal(warned.length, 1, r.stderr);
      assert.match(
        warned[0]!,
        /^warning: package pixbuf-odd-loader: .*libpixbufloader-odd\.so.*install the same version of pixbuf-odd-loader on the build host/,
      );

      // the oracle: gdk-pixbuf-query-loaders run by the test on the module of the unpacked image
      const root = join(dir, 'root');
      unpackLayout(join(dir, 'out'), root);
      const ours = readFileSync(join(root, PIXBUF_CACHE.slice(1)), 'utf8');
      const real = execFileSync(QUERY_LOADERS, [join(root, LOADERS.slice(1), 'libpixbufloader-bmp.so')], {
        encoding: 'utf8',
      });
      const entries = (t: string) =>
        t
          .split('\n')
          .filter((l) => !l.startsWith('#'))
          .join('\n')
          .trim();
      assert.equal(entries(ours), entries(real.replaceAll(root, '')));
      assert.match(ours, /libpixbufloader-bmp\.so"\n"bmp" /);

      // a program of the image loads a BMP through the external loader …
      const docker = requireTool('docker', 'docker.io');
      const ok = await run(docker, [
        'run',
        '--rm',
        '--network',
        'none',
        '--tmpfs',
        '/tmp',
        image,
        '/in.bmp',
        '/tmp/out.pixdata',
      ]);
      assert.equal(ok.code, 0, ok.stderr);
      // … and only through the cache: masked, the format is not recognised
      const masked = await run(
        docker,
        [
          'run',
          '--rm',
          '--network',
          'none',
          '--tmpfs',
          '/tmp',
          '-v',
          `/dev/null:${PIXBUF_CACHE}:ro`,
          image,
          '/in.bmp',
          '/tmp/out.pixdata',
        ],
        { allowFail: true },
      );
      assert.notEqual(masked.code, 0);
      assert.match(masked.stderr, /recogni[sz]e the image file format/i);

      const why = await fromscratch(['why', 'oci:out:pixbuf', PIXBUF_CACHE], { cwd: dir });
      assert.equal(why.code, 0, why.stderr);
      assert.match(why.stdout, /gdk-pixbuf-query-loaders \(trigger of libgdk-pixbuf-2\.0-0\): 1 loader of /);
    } finally {
      await dockerRemoveImage(image);
    }
  });
});

test('--package fontconfig fonts-dejavu-core: fc-cache is not run nor warned about, and fc-match finds the font by scanning its directory under docker', async () => {
  const image = 'e2e-package-caches/fonts:1';
  await withTempDir('e2e-package-caches', async (dir) => {
    try {
      const r = await fromscratch(
        [
          'build',
          '--apt-source',
          source(),
          '--package',
          'fontconfig',
          '--package',
          'fonts-dejavu-core',
          '--add',
          '/usr/bin/fc-match',
          '--entrypoint',
          '["/usr/bin/fc-match", "-f", "%{file}\\n"]',
          '-o',
          'oci:out:fonts',
          '-o',
          `docker-daemon:${image}`,
        ],
        { cwd: dir },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /^warning: package /m, 'nothing of the postinst is left unexplained');
      const root = join(dir, 'root');
      unpackLayout(join(dir, 'out'), root);
      assert.deepEqual(readdirSync(join(root, 'var/cache/fontconfig')), [], 'no font cache in the image');

      assert.equal((await dockerRun(image, ['DejaVu Sans'])).trim(), DEJAVU);
      // the font is found by scanning its directory: hidden, fc-match falls back to no DejaVu file
      const docker = requireTool('docker', 'docker.io');
      const hidden = await run(
        docker,
        ['run', '--rm', '--network', 'none', '--tmpfs', '/usr/share/fonts', image, 'DejaVu Sans'],
        {
          allowFail: true,
        },
      );
      assert.notEqual(hidden.stdout.trim(), DEJAVU);

      const why = await fromscratch(['why', 'oci:out:fonts', '/var/cache/fontconfig'], { cwd: dir });
      assert.equal(why.code, 0, why.stderr);
      assert.match(
        why.stdout,
        /fc-cache not run \(postinst of fontconfig\): fontconfig scans the font directories/,
      );
      assert.match(why.stdout, /mkdir \/var\/cache\/fontconfig \(postinst of fontconfig\)/);
    } finally {
      await dockerRemoveImage(image);
    }
  });
});
