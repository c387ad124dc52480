/**
 * real-trace.test.ts — real programs no one on this project wrote, built the way a user would with
 * `--trace` and `--verify --fix` (issue 11), run FROM scratch in Docker with `--network none`, their
 * output compared with the host's:
 * - nginx traced as a server (stopped at --trace-timeout): its log and pid directories exist empty in the
 *   image with their mode, a log that existed on the host is shipped empty (never the host's lines), and
 *   the image serves the page to curl inside the container;
 * - `gcc -o t t.c -lz && ./t` traced in shell form: the image is a working toolchain (crt1.o, .a archives
 *   and the linker script libc.so read as data), compiling and running a zlib program inside docker;
 * - a Python script at an image-only path (`--add ./app.py:/app/main.py`) made to work by
 *   `--verify 'python3 /app/main.py' --fix`, and by a bare `--verify --fix` of an image whose entrypoint
 *   runs `main.py` relative to its WORKDIR;
 * - a shell sourcing `conf.d/*.conf` (found by listing, never looked up in vain) fixed through the listed
 *   directory's host entries.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, chown, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { dockerRemoveImage, dockerRun, requireTool, run, withTempDir } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

/** ImageFile is one entry of `fromscratch inspect --json`. */
interface ImageFile {
  readonly path: string;
  readonly type: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
}

/** imageFiles lists the files of an image with `fromscratch inspect --json`. */
async function imageFiles(ref: string, cwd: string): Promise<Map<string, ImageFile>> {
  const r = await fromscratch(['inspect', ref, '--json'], { cwd });
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { images: { layers: { files: ImageFile[] }[] }[] };
  return new Map(j.images[0]!.layers.flatMap((l) => l.files).map((f) => [f.path, f]));
}

/** why returns what `fromscratch why` says about a path. */
async function why(ref: string, path: string, cwd: string): Promise<string> {
  const r = await fromscratch(['why', ref, path], { cwd });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

interface VerifiedSummary {
  readonly verified?: readonly {
    command: string;
    exitCode: number;
    added: readonly string[];
    rounds: number;
  }[];
}

const HOST_PYTHON = '/usr/bin/python3';
// the script imports what an interpreter's standard library spreads over many directories, and a C
// extension (sqlite3) with its own shared library
// yaml is imported by a name computed at run time: no static reading of the source can see it (the
// site-package rule reads import statements), only the traced run does
const APP_PY = `import importlib, json, sqlite3, email.message
yaml = importlib.import_module('y' + 'aml')
db = sqlite3.connect(':memory:')
db.execute('create table t (x)')
db.executemany('insert into t values (?)', [(1,), (2,), (3,)])
m = email.message.EmailMessage()
m['Subject'] = 'from scratch'
m.set_content('body')
print(json.dumps({'sum': db.execute('select sum(x) from t').fetchone()[0], 'subject': m['Subject'], 'lines': len(m.as_string().splitlines())}))
print(yaml.safe_dump({'from': 'scratch'}).strip())
`;

test('nginx traced as a server: log and pid directories kept empty, the host log never shipped, the image serves the page', async () => {
  requireTool('strace', 'strace');
  requireTool('nginx', 'nginx-light');
  const docker = requireTool('docker', 'docker.io');
  requireTool('curl', 'curl');
  const image = 'e2e-real/nginx:1';
  await withTempDir('e2e-real-nginx', async (dir) => {
    // a port unlikely to be taken on the host while tracing (inside the container, the network is its own)
    const port = 20000 + (process.pid % 20000);
    await mkdir(join(dir, 'logs'), { mode: 0o750 });
    await chmod(join(dir, 'logs'), 0o750);
    await chown(join(dir, 'logs'), 33, 4); // www-data:adm, as Debian's /var/log/nginx
    await mkdir(join(dir, 'run'));
    await mkdir(join(dir, 'www'));
    await writeFile(join(dir, 'www', 'index.html'), 'hello from nginx, from scratch\n');
    await writeFile(join(dir, 'logs', 'access.log'), '10.0.0.1 - - HOST-OLD-LOG-LINE\n');
    const conf = join(dir, 'nginx.conf');
    await writeFile(
      conf,
      [
        'worker_processes 1;',
        `error_log ${dir}/logs/error.log;`,
        `pid ${dir}/run/nginx.pid;`,
        'events { worker_connections 64; }',
        'http {',
        `  access_log ${dir}/logs/access.log;`,
        '  default_type text/html;',
        `  server { listen 127.0.0.1:${port}; root ${dir}/www; }`,
        '}',
        '',
      ].join('\n'),
    );
    const server = ['/usr/sbin/nginx', '-c', conf, '-g', 'daemon off;'];
    let container = '';
    try {
      const b = await fromscratch(
        [
          'build',
          '--trace',
          `/usr/sbin/nginx -c ${conf} -g 'daemon off;'`,
          '--trace-timeout',
          '3',
          '--trace-allow-failure',
          '--binary',
          '/usr/bin/curl',
          '--add',
          `./www:${dir}/www`,
          '-o',
          'oci:out:nginx',
          '-o',
          `docker-daemon:${image}`,
        ],
        { cwd: dir },
      );
      assert.equal(b.code, 0, b.stderr);
      assert.match(b.stderr, /trace: stopped/, 'the build says it stopped the server');
      const files = await imageFiles('oci:out:nginx', dir);
      const logs = files.get(`${dir}/logs`);
      assert.equal(logs?.type, 'dir', 'the log directory is in the image');
      assert.equal(logs.mode & 0o7777, 0o750, "with the host's mode");
      assert.deepEqual([logs.uid, logs.gid], [33, 4], "and the host's owner");
      assert.equal(files.get(`${dir}/run`)?.type, 'dir', 'the pid directory is in the image');
      assert.equal(files.get(`${dir}/run/nginx.pid`), undefined, 'not the pid file the run created');
      assert.equal(files.get(`${dir}/logs/access.log`)?.size, 0, 'the old log is shipped empty');
      assert.match(await why('oci:out:nginx', `${dir}/logs`, dir), /directory the traced command wrote into/);
      assert.match(
        await why('oci:out:nginx', `${dir}/logs/access.log`, dir),
        /file the traced command only wrote: created empty/,
      );

      container = (
        await run(docker, [
          'run',
          '-d',
          '--network',
          'none',
          '--entrypoint',
          server[0]!,
          image,
          ...server.slice(1),
        ])
      ).stdout.trim();
      let page = '';
      for (let i = 0; i < 50 && page === ''; i++) {
        const r = await run(
          docker,
          ['exec', container, '/usr/bin/curl', '-fsS', `http://127.0.0.1:${port}/`],
          { allowFail: true },
        );
        if (r.code === 0) page = r.stdout;
        else await new Promise((res) => setTimeout(res, 200));
      }
      assert.equal(page, 'hello from nginx, from scratch\n', 'curl inside the container gets the page');
      const log = await run(docker, [
        'exec',
        container,
        '/usr/bin/curl',
        '-fsS',
        `file://${dir}/logs/access.log`,
      ]);
      assert.doesNotMatch(log.stdout, /HOST-OLD-LOG-LINE/, "the host's log lines never reach the image");
      assert.match(log.stdout, /"GET \/ HTTP\/1\.1" 200/, 'nginx in the image logs to the kept directory');
    } finally {
      if (container) await run(docker, ['rm', '-f', container], { allowFail: true });
      await dockerRemoveImage(image);
    }
  });
});

test("`--trace 'gcc -o t t.c -lz && ./t'` gives a working toolchain: the image compiles and runs a zlib program", async () => {
  requireTool('strace', 'strace');
  const gcc = requireTool('gcc', 'gcc');
  const image = 'e2e-real/gcc:1';
  await withTempDir('e2e-real-gcc', async (dir) => {
    await writeFile(
      join(dir, 't.c'),
      [
        '#include <stdio.h>',
        '#include <string.h>',
        '#include <zlib.h>',
        'int main(void) {',
        '  const char *s = "from scratch, from scratch, from scratch";',
        '  unsigned char out[256]; uLongf n = sizeof out;',
        '  if (compress(out, &n, (const Bytef *)s, strlen(s)) != Z_OK) return 1;',
        '  printf("zlib %s: %zu -> %lu bytes, crc %08lx\\n", zlibVersion(), strlen(s), (unsigned long)n,',
        '         crc32(0, (const Bytef *)s, strlen(s)));',
        '  return 0;',
        '}',
        '',
      ].join('\n'),
    );
    await run(gcc, ['-o', join(dir, 'host-t'), join(dir, 't.c'), '-lz']);
    const host = (await run(join(dir, 'host-t'), [])).stdout;
    try {
      const b = await fromscratch(
        [
          'build',
          '--trace',
          'gcc -o t t.c -lz && ./t',
          '--add',
          './t.c:/src/t.c',
          '-o',
          'oci:out:gcc',
          '-o',
          `docker-daemon:${image}`,
        ],
        { cwd: dir },
      );
      assert.equal(b.code, 0, b.stderr);
      assert.match(b.stderr, /uses shell syntax; running it as \/bin\/sh -c/);
      assert.match(
        b.stderr,
        /note: \d+ ELF files copied as data, not as programs or libraries of linux\/amd64 \(\d+ relocatable objects\): .*crt/,
        'one note',
      );
      const files = await imageFiles('oci:out:gcc', dir);
      const libc = [...files.values()].find((f) => /\/libc\.so$/.test(f.path) && f.type === 'file');
      assert.ok(libc, 'the linker script libc.so is in the image as a plain file');
      assert.ok(
        [...files.keys()].some((p) => /\/S?crt1\.o$/.test(p)),
        'the start file (S)crt1.o is in the image',
      );
      assert.ok(
        [...files.keys()].some((p) => /\/libc_nonshared\.a$/.test(p)),
        'libc_nonshared.a is in the image',
      );
      const out = await dockerRun(image, ['-c', 'gcc -o /tmp/t /src/t.c -lz && /tmp/t'], '/bin/sh');
      assert.equal(out, host);
    } finally {
      await dockerRemoveImage(image);
    }
  });
});

test('--verify --fix makes a Python script at an image-only path work, named (`python3 /app/main.py`) or as the image’s entrypoint from its WORKDIR', async () => {
  requireTool('strace', 'strace');
  requireTool('runc', 'runc');
  const named = 'e2e-real/py-named:1';
  const bare = 'e2e-real/py-bare:1';
  await withTempDir('e2e-real-py', async (dir) => {
    await writeFile(join(dir, 'app.py'), APP_PY);
    const host = (await run(HOST_PYTHON, [join(dir, 'app.py')])).stdout;
    const hostHadApp = existsSync('/app');
    try {
      const r = await fromscratch(
        [
          'build',
          '--binary',
          '/usr/bin/python3',
          '--add',
          './app.py:/app/main.py',
          '--verify',
          'python3 /app/main.py',
          '--fix',
          '--json',
          '-o',
          `docker-daemon:${named}`,
        ],
        { cwd: dir },
      );
      assert.equal(r.code, 0, r.stderr);
      const v = (JSON.parse(r.stdout) as VerifiedSummary).verified?.[0];
      assert.equal(v?.exitCode, 0);
      // the CPython rule ships the standard library; what --fix must find is the app's own dependency,
      // PyYAML from Debian's dist-packages, imported by a computed name
      assert.ok(v.added.includes('/usr/lib/python3/dist-packages/yaml/__init__.py'), v.added.join(' '));
      assert.ok(!v.added.includes('/app/main.py'), 'the image-only script is not taken from the host');
      assert.equal(await dockerRun(named, ['/app/main.py'], '/usr/bin/python3'), host);
      assert.equal(existsSync('/app'), hostHadApp, "the host trace saw /app without writing the host's /");

      // a bare --verify: the image's own entrypoint and cmd, `main.py` relative to WORKDIR /app
      const b = await fromscratch(
        [
          'build',
          '--binary',
          '/usr/bin/python3',
          '--add',
          './app.py:/app/main.py',
          '--workdir',
          '/app',
          '--entrypoint',
          '["python3"]',
          '--cmd',
          '["main.py"]',
          '--verify',
          '--fix',
          '--json',
          '-o',
          `docker-daemon:${bare}`,
        ],
        { cwd: dir },
      );
      assert.equal(b.code, 0, b.stderr);
      const bv = (JSON.parse(b.stdout) as VerifiedSummary).verified?.[0];
      assert.equal(bv?.command, 'python3 main.py');
      assert.equal(bv.exitCode, 0);
      assert.equal(await dockerRun(bare), host, 'docker run IMAGE with no arguments');
    } finally {
      await dockerRemoveImage(named);
      await dockerRemoveImage(bare);
    }
  });
});

test('--verify --fix adds the conf.d files a shell finds by listing (no look-up fails), from a sysroot', async () => {
  requireTool('strace', 'strace');
  requireTool('runc', 'runc');
  const image = 'e2e-real/confd:1';
  await withTempDir('e2e-real-confd', async (dir) => {
    // a small root: dash and the C library, and a conf.d the host does not have
    const root = join(dir, 'root');
    for (const d of ['usr/bin', 'lib/x86_64-linux-gnu', 'lib64', 'etc/app.d'])
      await mkdir(join(root, d), { recursive: true });
    await copyFile('/usr/bin/dash', join(root, 'usr/bin/dash'));
    await chmod(join(root, 'usr/bin/dash'), 0o755);
    await copyFile('/usr/lib/x86_64-linux-gnu/libc.so.6', join(root, 'lib/x86_64-linux-gnu/libc.so.6'));
    await copyFile('/lib64/ld-linux-x86-64.so.2', join(root, 'lib64/ld-linux-x86-64.so.2'));
    await chmod(join(root, 'lib64/ld-linux-x86-64.so.2'), 0o755);
    await writeFile(join(root, 'etc/app.d/10-a.conf'), 'A=1\n');
    await writeFile(join(root, 'etc/app.d/20-b.conf'), 'B=2\n');
    const script = 'for f in /etc/app.d/*.conf; do . "$f"; done; echo "A=$A B=$B"; test "$A$B" = 12';
    try {
      const r = await fromscratch(
        [
          'build',
          '--sysroot',
          root,
          '--binary',
          '/usr/bin/dash',
          '--verify',
          `dash -c '${script}'`,
          '--fix',
          '--json',
          '-o',
          `docker-daemon:${image}`,
        ],
        { cwd: dir },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        /looked nothing up in vain; offering the host entries of the 1 directories it listed/,
      );
      const v = (JSON.parse(r.stdout) as VerifiedSummary).verified?.[0];
      assert.deepEqual([...(v?.added ?? [])].sort(), [
        '/etc/app.d',
        '/etc/app.d/10-a.conf',
        '/etc/app.d/20-b.conf',
      ]);
      assert.equal(await dockerRun(image, ['-c', script], '/usr/bin/dash'), 'A=1 B=2\n');
    } finally {
      await dockerRemoveImage(image);
    }
  });
});
