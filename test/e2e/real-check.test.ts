/**
 * real-check.test.ts — the static start check (issue 11) as a user meets it: at every build, under
 * --strict, and as `fromscratch check IMAGE` on an image docker built. Each verdict is compared with
 * what really happens when the image runs under Docker (`--network none`): the check must say "cannot
 * start" exactly where `docker run` fails, and "starts" where it runs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  dockerRemoveImage,
  registryAddress,
  requireTool,
  run,
  withTempDir,
} from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

const HELLO_C = '#include <stdio.h>\nint main(void){puts("hello from a dynamic binary");return 0;}\n';

/** compileDynamicHello writes a dynamically linked hello (PT_INTERP, libc.so.6) into dir. */
async function compileDynamicHello(dir: string): Promise<void> {
  const gcc = requireTool('gcc', 'gcc');
  await writeFile(join(dir, 'hello.c'), HELLO_C);
  await run(gcc, ['-O2', '-o', join(dir, 'hello'), join(dir, 'hello.c')]);
}

test('Dockerfile COPY of a dynamic binary: the build warns with the closure directive; --strict fails and writes nothing; docker run agrees', async () => {
  await withTempDir('e2e-check-copy', async (dir) => {
    await compileDynamicHello(dir);
    await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY hello /hello\nENTRYPOINT ["/hello"]\n');
    const b = await fromscratch(
      ['build', '.', '-f', 'Dockerfile', '-o', 'oci:out:warn', '-o', 'docker-daemon:chk/copy:1'],
      {
        cwd: dir,
      },
    );
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stderr, /warning: check: \/hello cannot start/);
    assert.match(
      b.stderr,
      /\/hello needs the loader \/lib64\/ld-linux-x86-64\.so\.2 \(PT_INTERP\), which is not in the image/,
    );
    assert.match(b.stderr, /fix: put the line `# fromscratch: closure` above the Dockerfile COPY of \/hello/);
    // the oracle: the classic failure the check announced
    const docker = requireTool('docker', 'docker.io');
    const ran = await run(docker, ['run', '--rm', '--network', 'none', 'chk/copy:1'], { allowFail: true });
    assert.notEqual(ran.code, 0);
    assert.match(ran.stderr, /no such file or directory/);

    const s = await fromscratch(['build', '.', '-f', 'Dockerfile', '--strict', '-o', 'oci:strict:x'], {
      cwd: dir,
    });
    assert.equal(s.code, 1, s.stderr);
    assert.match(s.stderr, /error\[IMAGE_CANNOT_START\]: \/hello \(linux\/amd64\) would not start/);
    assert.match(s.stderr, /hint: put the line `# fromscratch: closure`/);
    assert.equal(existsSync(join(dir, 'strict')), false, '--strict writes nothing');
    const env = await fromscratch(['build', '.', '-f', 'Dockerfile', '-o', 'oci:strict:x'], {
      cwd: dir,
      env: { FROMSCRATCH_STRICT: '1' },
    });
    assert.equal(env.code, 1, 'FROMSCRATCH_STRICT=1 is --strict');

    // the fix the check names works: with the directive, the image starts and says so
    await writeFile(
      join(dir, 'Dockerfile'),
      'FROM scratch\n# fromscratch: closure\nCOPY hello /hello\nENTRYPOINT ["/hello"]\n',
    );
    const fixed = await fromscratch(
      ['build', '.', '-f', 'Dockerfile', '--strict', '-o', 'docker-daemon:chk/copy:2'],
      {
        cwd: dir,
      },
    );
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.match(fixed.stderr, /check: \/hello starts: loader, 1 library, user root/);
    const ok = await run(docker, ['run', '--rm', '--network', 'none', 'chk/copy:2']);
    assert.equal(ok.stdout, 'hello from a dynamic binary\n');
    await dockerRemoveImage('chk/copy:1');
    await dockerRemoveImage('chk/copy:2');
  });
});

test('fromscratch check docker-daemon: an image built by docker build, in text and JSON, exit 1', async () => {
  await withTempDir('e2e-check-docker', async (dir) => {
    await compileDynamicHello(dir);
    await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY hello /hello\nCMD ["/hello"]\n');
    const docker = requireTool('docker', 'docker.io');
    await run(docker, ['build', '-q', '-t', 'chk/docker-built:1', dir], { timeoutMs: 120_000 });
    const c = await fromscratch(['check', 'docker-daemon:chk/docker-built:1']);
    assert.equal(c.code, 1, c.stderr);
    assert.match(c.stdout, /^check: \/hello cannot start: 2 problems\n/);
    assert.match(c.stdout, /needs libc\.so\.6, which the loader does not find in the image/);
    const j = await fromscratch(['check', 'docker-daemon:chk/docker-built:1', '--json']);
    assert.equal(j.code, 1);
    const doc = JSON.parse(j.stdout) as {
      reference: string;
      images: {
        platform: string;
        starts: boolean;
        report: { program: string; problems: { kind: string; fatal: boolean }[] };
      }[];
    };
    assert.equal(doc.images.length, 1);
    assert.equal(doc.images[0]!.platform, 'linux/amd64');
    assert.equal(doc.images[0]!.starts, false);
    assert.equal(doc.images[0]!.report.program, '/hello');
    assert.deepEqual(doc.images[0]!.report.problems.map((p) => [p.kind, p.fatal]).sort(), [
      ['library', true],
      ['loader', true],
    ]);
    await dockerRemoveImage('chk/docker-built:1');
  });
});

test('a good image checks clean at build and with fromscratch check (OCI layout, registry), and runs', async () => {
  const repo = `${await registryAddress()}/chk-${randomBytes(4).toString('hex')}`;
  await withTempDir('e2e-check-curl', async (dir) => {
    const b = await fromscratch(
      [
        'build',
        '--binary',
        '/usr/bin/curl',
        '--entrypoint',
        '["/usr/bin/curl","--version"]',
        '--user',
        'nonroot',
        '--strict',
        '-o',
        'oci:out:curl',
        '-o',
        'docker-daemon:chk/curl:1',
        '-o',
        `docker://${repo}/curl:1`,
      ],
      { cwd: dir },
    );
    assert.equal(b.code, 0, b.stderr);
    const line =
      /check: \/usr\/bin\/curl starts: loader, (\d+) libraries, user nonroot; (\d+) ELF files resolve/.exec(
        b.stderr,
      );
    assert.ok(line, b.stderr);
    assert.ok(Number(line[1]) > 10, 'curl maps its many libraries');
    assert.doesNotMatch(b.stderr, /warning: check/);
    const c = await fromscratch(['check', 'oci:out:curl'], { cwd: dir });
    assert.equal(c.code, 0, c.stdout + c.stderr);
    assert.match(
      c.stdout,
      new RegExp(`check: /usr/bin/curl starts: loader, ${line[1]} libraries, user nonroot`),
    );
    const r = await fromscratch(['check', `docker://${repo}/curl:1`, '--json'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { images: { starts: boolean; report: { libraries: number } }[] };
    assert.deepEqual(
      doc.images.map((i) => [i.starts, i.report.libraries]),
      [[true, Number(line[1])]],
    );
    const docker = requireTool('docker', 'docker.io');
    const ran = await run(docker, ['run', '--rm', '--network', 'none', 'chk/curl:1']);
    const host = execFileSync('/usr/bin/curl', ['--version'], { encoding: 'utf8' });
    assert.equal(ran.stdout, host);
    await dockerRemoveImage('chk/curl:1');
  });
});

test('--user with a name the image lacks: the build warns, check exits 1, and docker run fails the same way', async () => {
  await withTempDir('e2e-check-user', async (dir) => {
    const b = await fromscratch(
      [
        'build',
        '--binary',
        '/usr/bin/true',
        '--entrypoint',
        '["/usr/bin/true"]',
        '--user',
        'nosuchuser',
        '--json',
        '-o',
        'oci:out:u',
        '-o',
        'docker-daemon:chk/user:1',
      ],
      { cwd: dir },
    );
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stderr, /the image runs as user "nosuchuser", which is not in \/etc\/passwd/);
    assert.match(b.stderr, /fix: use a numeric --user/);
    const summary = JSON.parse(b.stdout) as {
      platforms: { check: { starts: boolean; problems: { kind: string; path: string }[] } }[];
      warnings: string[];
    };
    assert.deepEqual(summary.platforms[0]!.check, {
      starts: false,
      problems: [summary.platforms[0]!.check.problems[0]],
    });
    assert.equal(summary.platforms[0]!.check.problems[0]!.kind, 'user');
    assert.ok(summary.warnings.some((w) => /check: the image runs as user "nosuchuser"/.test(w)));
    const c = await fromscratch(['check', 'oci:out:u'], { cwd: dir });
    assert.equal(c.code, 1);
    const docker = requireTool('docker', 'docker.io');
    const ran = await run(docker, ['run', '--rm', '--network', 'none', 'chk/user:1'], { allowFail: true });
    assert.notEqual(ran.code, 0);
    assert.match(ran.stderr, /unable to find user nosuchuser/);
    await dockerRemoveImage('chk/user:1');
  });
});

test("--user with an account of the build's root (www-data): it joins /etc/passwd and /etc/group, the check is quiet, and the container runs as it", async () => {
  await withTempDir('e2e-check-user-root', async (dir) => {
    const b = await fromscratch(
      [
        'build',
        '--binary',
        '/usr/bin/id',
        '--entrypoint',
        '["/usr/bin/id"]',
        '--user',
        'www-data',
        '-o',
        'docker-daemon:chk/user-root:1',
      ],
      { cwd: dir },
    );
    assert.equal(b.code, 0, b.stderr);
    assert.doesNotMatch(b.stderr, /which is not in \/etc\/passwd/);
    const docker = requireTool('docker', 'docker.io');
    const ran = await run(docker, ['run', '--rm', '--network', 'none', 'chk/user-root:1']);
    const host = await run('/usr/bin/id', ['www-data']);
    // the same uid, gid and names as the host's account (id's supplementary groups: the runtime's)
    assert.equal(ran.stdout.split(' ').slice(0, 2).join(' '), host.stdout.split(' ').slice(0, 2).join(' '));
    assert.match(ran.stdout, /^uid=33\(www-data\) gid=33\(www-data\)/);
    await dockerRemoveImage('chk/user-root:1');
  });
});

test('--lib-path: a library in a private directory is found at build time and by the image loader (ld.so.cache, or LD_LIBRARY_PATH)', async () => {
  await withTempDir('e2e-check-libpath', async (dir) => {
    const gcc = requireTool('gcc', 'gcc');
    await mkdir(join(dir, 'private'));
    await writeFile(
      join(dir, 'greet.c'),
      '#include <stdio.h>\nvoid greet(void){puts("greetings from a private library");}\n',
    );
    await writeFile(join(dir, 'main.c'), 'void greet(void);\nint main(void){greet();return 0;}\n');
    await run(gcc, [
      '-shared',
      '-fPIC',
      '-Wl,-soname,libgreet.so.1',
      '-o',
      join(dir, 'private/libgreet.so.1'),
      join(dir, 'greet.c'),
    ]);
    // no RPATH: only LD_LIBRARY_PATH or the cache tells the loader where libgreet is
    await run(gcc, ['-o', join(dir, 'greet'), join(dir, 'main.c'), join(dir, 'private/libgreet.so.1')]);
    const without = await fromscratch(['build', '--binary', join(dir, 'greet'), '-o', 'oci:out:no'], {
      cwd: dir,
    });
    assert.equal(without.code, 1, 'the closure cannot find it without --lib-path');
    assert.match(without.stderr, /LIBRARY_NOT_FOUND/);
    const entry = JSON.stringify([join(dir, 'greet')]);
    const b = await fromscratch(
      [
        'build',
        '--binary',
        join(dir, 'greet'),
        '--lib-path',
        join(dir, 'private'),
        '--entrypoint',
        entry,
        '--strict',
        '-o',
        'oci:out:cache',
        '-o',
        'docker-daemon:chk/libpath:1',
      ],
      { cwd: dir },
    );
    assert.equal(b.code, 0, b.stderr);
    assert.match(
      b.stderr,
      new RegExp(`--lib-path: /etc/ld.so.cache written with 1 library of ${join(dir, 'private')}`),
    );
    assert.match(b.stderr, /starts: loader, 2 libraries/);
    const docker = requireTool('docker', 'docker.io');
    const ran = await run(docker, ['run', '--rm', '--network', 'none', 'chk/libpath:1']);
    assert.equal(ran.stdout, 'greetings from a private library\n', 'the real loader reads our ld.so.cache');
    const env = await run(docker, ['image', 'inspect', '--format', '{{json .Config.Env}}', 'chk/libpath:1']);
    assert.doesNotMatch(env.stdout, /LD_LIBRARY_PATH/);

    // over a base image (which may have its own cache) the directory goes in LD_LIBRARY_PATH instead
    const over = await fromscratch(
      [
        'build',
        '--from',
        'oci:out:cache',
        '--binary',
        join(dir, 'greet'),
        '--lib-path',
        join(dir, 'private'),
        '--entrypoint',
        entry,
        '--strict',
        '-o',
        'docker-daemon:chk/libpath:2',
      ],
      { cwd: dir },
    );
    assert.equal(over.code, 0, over.stderr);
    assert.match(
      over.stderr,
      new RegExp(`--lib-path: the image's config sets LD_LIBRARY_PATH=${join(dir, 'private')}`),
    );
    const ran2 = await run(docker, ['run', '--rm', '--network', 'none', 'chk/libpath:2']);
    assert.equal(ran2.stdout, 'greetings from a private library\n');

    const bad = await fromscratch(
      ['build', '--binary', join(dir, 'greet'), '--lib-path', 'private', '-o', 'oci:out:x'],
      {
        cwd: dir,
      },
    );
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /error\[INVALID_ARGUMENT\]: --lib-path "private" cannot be given to the image's loader/,
    );
    await dockerRemoveImage('chk/libpath:1');
    await dockerRemoveImage('chk/libpath:2');
  });
});

test("a program the image's user may not open (a 0700 script, a 0700 directory on its way) under --user nonroot: the build says so, check exits 1, and docker run fails as predicted; let in, it runs", async () => {
  await withTempDir('e2e-check-perm', async (dir) => {
    await mkdir(join(dir, 'app'));
    await writeFile(join(dir, 'app', 'run.sh'), '#!/bin/sh\necho started\n', { mode: 0o700 });
    await chmod(join(dir, 'app', 'run.sh'), 0o700);
    const args = ['--add', './app:/app', '--entrypoint', '["/app/run.sh"]', '--user', 'nonroot'];
    const docker = requireTool('docker', 'docker.io');
    const b = await fromscratch(['build', ...args, '-o', 'oci:out:t', '-o', 'docker-daemon:chk/perm:1'], {
      cwd: dir,
    });
    assert.equal(b.code, 0, b.stderr);
    assert.match(
      b.stderr,
      /the entrypoint \/app\/run\.sh \(mode 0700, owner 0:0\): the image's user nonroot \(uid 65532, gid 65532\) cannot read or execute it/,
    );
    assert.equal((await fromscratch(['check', 'oci:out:t'], { cwd: dir })).code, 1);
    const ran = await run(docker, ['run', '--rm', '--network', 'none', 'chk/perm:1'], { allowFail: true });
    assert.notEqual(ran.code, 0);
    assert.match(ran.stderr, /permission denied/);
    // the script let in, its directory not
    await chmod(join(dir, 'app', 'run.sh'), 0o755);
    await chmod(join(dir, 'app'), 0o700);
    const d = await fromscratch(['build', ...args, '-o', 'docker-daemon:chk/perm:2'], { cwd: dir });
    assert.match(
      d.stderr,
      /\/app \(mode 0700, owner 0:0\): .*cannot enter it, on the way to the entrypoint \/app\/run\.sh/,
    );
    const ran2 = await run(docker, ['run', '--rm', '--network', 'none', 'chk/perm:2'], { allowFail: true });
    assert.match(ran2.stderr, /permission denied/);
    await chmod(join(dir, 'app'), 0o755);
    const ok = await fromscratch(['build', ...args, '-o', 'docker-daemon:chk/perm:3'], { cwd: dir });
    assert.doesNotMatch(ok.stderr, /cannot (read|execute|enter)/);
    assert.equal((await run(docker, ['run', '--rm', '--network', 'none', 'chk/perm:3'])).stdout, 'started\n');
    for (const t of ['1', '2', '3']) await dockerRemoveImage(`chk/perm:${t}`);
  });
});

test('an entrypoint script with DOS line endings (#!/bin/sh\\r): the build says so, check exits 1, --strict refuses it, and docker run fails as predicted; converted, it runs', async () => {
  await withTempDir('e2e-check-crlf', async (dir) => {
    await writeFile(join(dir, 'entry.sh'), '#!/bin/sh\r\necho started\r\n', { mode: 0o755 });
    const args = ['--add', './entry.sh:/entry.sh', '--entrypoint', '["/entry.sh"]'];
    const b = await fromscratch(['build', ...args, '-o', 'oci:out:t', '-o', 'docker-daemon:chk/crlf:1'], {
      cwd: dir,
    });
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stderr, /\/entry\.sh has DOS line endings: .*it runs "\/bin\/sh\\r"/);
    const c = await fromscratch(['check', 'oci:out:t'], { cwd: dir });
    assert.equal(c.code, 1, c.stdout);
    const strict = await fromscratch(['build', ...args, '--strict', '-o', 'oci:strict:t'], { cwd: dir });
    assert.notEqual(strict.code, 0);
    const docker = requireTool('docker', 'docker.io');
    const ran = await run(docker, ['run', '--rm', '--network', 'none', 'chk/crlf:1'], { allowFail: true });
    assert.notEqual(ran.code, 0);
    assert.match(ran.stderr, /no such file or directory/);
    await writeFile(join(dir, 'entry.sh'), '#!/bin/sh\necho started\n', { mode: 0o755 });
    const ok = await fromscratch(['build', ...args, '-o', 'docker-daemon:chk/crlf:2'], { cwd: dir });
    assert.equal(ok.code, 0, ok.stderr);
    assert.doesNotMatch(ok.stderr, /DOS line endings/);
    assert.equal((await run(docker, ['run', '--rm', '--network', 'none', 'chk/crlf:2'])).stdout, 'started\n');
    await dockerRemoveImage('chk/crlf:1');
    await dockerRemoveImage('chk/crlf:2');
  });
});

test('an entrypoint script that runs its arguments (exec "$@") and a cmd the image lacks: the build says so, check exits 1, and docker run fails as predicted; with the program, it runs', async () => {
  await withTempDir('e2e-check-exec-args', async (dir) => {
    await writeFile(join(dir, 'entry.sh'), '#!/bin/sh\nset -e\nmkdir -p /tmp/state\nexec "$@"\n', {
      mode: 0o755,
    });
    const args = [
      '--add',
      './entry.sh:/entry.sh',
      '--entrypoint',
      '["/entry.sh"]',
      '--cmd',
      '["date","-u","-d","@0"]',
    ];
    const b = await fromscratch(
      ['build', ...args, '-o', 'oci:out:t', '-o', 'docker-daemon:chk/exec-args:1'],
      {
        cwd: dir,
      },
    );
    assert.equal(b.code, 0, b.stderr);
    assert.match(
      b.stderr,
      /the entrypoint \/entry\.sh runs its arguments \(exec "\$@"\), and the cmd's "date" is not in the image/,
    );
    const c = await fromscratch(['check', 'oci:out:t'], { cwd: dir });
    assert.equal(c.code, 1, c.stdout);
    const docker = requireTool('docker', 'docker.io');
    const ran = await run(docker, ['run', '--rm', '--network', 'none', 'chk/exec-args:1'], {
      allowFail: true,
    });
    assert.notEqual(ran.code, 0);
    assert.match(ran.stderr, /date: not found/);
    const ok = await fromscratch(
      ['build', ...args, '--binary', '/usr/bin/date', '-o', 'docker-daemon:chk/exec-args:2'],
      { cwd: dir },
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.doesNotMatch(ok.stderr, /runs its arguments/);
    const good = await run(docker, ['run', '--rm', '--network', 'none', 'chk/exec-args:2']);
    assert.equal(good.stdout, 'Thu Jan  1 00:00:00 UTC 1970\n');
    await dockerRemoveImage('chk/exec-args:1');
    await dockerRemoveImage('chk/exec-args:2');
  });
});

test('an init wrapper (tini) whose program the image lacks: the build says so, check exits 1, and docker run fails as predicted', async () => {
  requireTool('tini', 'tini');
  await withTempDir('e2e-check-tini', async (dir) => {
    const b = await fromscratch(
      [
        'build',
        '--binary',
        '/usr/bin/tini',
        '--entrypoint',
        '["/usr/bin/tini","--"]',
        '--cmd',
        '["/app/server"]',
        '-o',
        'oci:out:t',
        '-o',
        'docker-daemon:chk/tini:1',
      ],
      { cwd: dir },
    );
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stderr, /runs "\/app\/server" through tini, and it is not in the image/);
    const c = await fromscratch(['check', 'oci:out:t'], { cwd: dir });
    assert.equal(c.code, 1, c.stdout);
    const docker = requireTool('docker', 'docker.io');
    const ran = await run(docker, ['run', '--rm', '--network', 'none', 'chk/tini:1'], { allowFail: true });
    assert.notEqual(ran.code, 0);
    assert.match(ran.stderr, /exec \/app\/server failed: No such file or directory/);
    // with the program (any executable of the image will do), the check is clean
    const ok = await fromscratch(
      [
        'build',
        '--binary',
        '/usr/bin/tini',
        '--binary',
        '/usr/bin/true:/app/server',
        '--entrypoint',
        '["/usr/bin/tini","--","/app/server"]',
        '-o',
        'oci:ok:t',
      ],
      { cwd: dir },
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.doesNotMatch(ok.stderr, /through tini/);
    await dockerRemoveImage('chk/tini:1');
  });
});
