/**
 * real-launch-env.test.ts — real programs from Debian, built as a user builds them and run under Docker
 * with `--network none`, each output compared with the same program run on the host (issue 11): what the
 * environment names: Go programs' CA bundle, NSS services and protocols, time zones TZ names, locales
 * (gawk, wc, tmux, fish, python3). The helpers are launch-support.ts's.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { requireTool, run, withTempDir } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';
import { build, docker, dockerRun } from './launch-support.ts';

describe('programs with their own TLS stack (Go: crypto/x509 reads the CA bundle)', () => {
  for (const [binary, pkg, args, out] of [
    ['/usr/bin/skopeo', 'skopeo', ['--version'], /^skopeo version /],
    ['/usr/bin/docker-registry', 'docker-registry', ['--version'], /registry/],
  ] as const) {
    it(`${binary}: the CA bundle comes with it, and it runs`, async () => {
      requireTool(binary.split('/').pop()!, pkg);
      await withTempDir('e2e-go', async (dir) => {
        const image = `e2e/go-${pkg}:1`;
        await build(dir, ['--binary', binary], image);
        const why = await fromscratch(
          ['why', `docker-daemon:${image}`, '/etc/ssl/certs/ca-certificates.crt'],
          {
            cwd: dir,
          },
        );
        assert.equal(why.code, 0, why.stderr);
        assert.match(why.stdout, /a Go program: crypto\/x509 reads the CA bundle/);
        assert.match((await docker(image, [...args])).stdout, out);
      });
    });
  }
});

describe('programs that look up service and protocol names (NSS files tables)', () => {
  for (const [name, binary, pkg, args] of [
    ['getent', '/usr/bin/getent', 'libc-bin', ['services', 'https']],
    [
      'python3',
      '/usr/bin/python3',
      'python3',
      [
        '-c',
        'import socket; print(socket.getservbyname("https"), socket.getprotobyname("tcp"), socket.getservbyport(22))',
      ],
    ],
  ] as const) {
    it(`${name}: /etc/services and /etc/protocols come with it, answers as on the host`, async () => {
      requireTool(binary.split('/').pop()!, pkg);
      await withTempDir('e2e-nss-files', async (dir) => {
        const image = `e2e/nss-files-${name}:1`;
        await build(dir, ['--binary', binary], image);
        const host = await run(binary, [...args]);
        assert.match(host.stdout, /443/);
        assert.equal((await docker(image, [...args])).stdout, host.stdout);
      });
    });
  }
});

describe('programs that read the time zone TZ names (glibc tzset)', () => {
  // 1700000000 is in winter (CET), 1690000000 in summer (CEST): both rules of the zone file are used
  const FMT = '+%F %H:%M %Z';
  const cases: { name: string; tool: [string, string]; binary: string; args: string[]; host: string[] }[] = [
    {
      name: 'date (coreutils)',
      tool: ['date', 'coreutils'],
      binary: '/usr/bin/date',
      args: ['-d', '@1700000000', FMT],
      host: ['/usr/bin/date', '-d', '@1700000000', FMT],
    },
    {
      name: 'perl (POSIX::strftime)',
      tool: ['perl', 'perl'],
      binary: '/usr/bin/perl',
      args: [
        '-MPOSIX',
        '-e',
        'print strftime("%F %H:%M %Z", localtime($_)), "\\n" for 1700000000, 1690000000',
      ],
      host: [
        '/usr/bin/perl',
        '-MPOSIX',
        '-e',
        'print strftime("%F %H:%M %Z", localtime($_)), "\\n" for 1700000000, 1690000000',
      ],
    },
    {
      name: 'python3 (time.strftime)',
      tool: ['python3', 'python3'],
      binary: '/usr/bin/python3',
      args: [
        '-c',
        'import time\nfor t in (1700000000, 1690000000): print(time.strftime("%F %H:%M %Z", time.localtime(t)))',
      ],
      host: [
        '/usr/bin/python3',
        '-c',
        'import time\nfor t in (1700000000, 1690000000): print(time.strftime("%F %H:%M %Z", time.localtime(t)))',
      ],
    },
  ];
  for (const c of cases) {
    it(`${c.name} under --env TZ=Europe/Paris prints Paris time, as on the host`, async () => {
      requireTool(...c.tool);
      await withTempDir('e2e-tz', async (dir) => {
        const image = `e2e/tz-${c.tool[0]}:1`;
        const b = await build(dir, ['--binary', c.binary, '--env', 'TZ=Europe/Paris'], image);
        assert.doesNotMatch(b.stderr, /TZ=Europe\/Paris names/);
        const host = await run(c.host[0]!, c.host.slice(1), { env: { ...process.env, TZ: 'Europe/Paris' } });
        assert.match(host.stdout, /CET/);
        assert.equal((await docker(image, c.args)).stdout, host.stdout);
      });
    });
  }

  it('without the rule (--no-infer=zoneinfo) the start check says the time is UTC, and it is', async () => {
    requireTool('date', 'coreutils');
    await withTempDir('e2e-tz-bare', async (dir) => {
      const image = 'e2e/tz-bare:1';
      const b = await build(
        dir,
        ['--binary', '/usr/bin/date', '--env', 'TZ=Europe/Paris', '--no-infer', 'zoneinfo'],
        image,
      );
      assert.match(
        b.stderr,
        /TZ=Europe\/Paris names \/usr\/share\/zoneinfo\/Europe\/Paris, which is not in the image: glibc gives UTC times/,
      );
      // UTC's 22:13, under the name glibc makes of the rule it failed to read ("Europe")
      assert.match((await docker(image, ['-d', '@1700000000', FMT])).stdout, /^2023-11-14 22:13 /);
    });
  });
});

describe('locales named by the environment', () => {
  const UTF8 = 'héllo';

  it('gawk under --env LC_ALL=C.UTF-8 counts characters; under a missing locale it warns and falls back as the host does', async () => {
    const gawk = requireTool('gawk', 'gawk');
    await withTempDir('e2e-gawk', async (dir) => {
      const prog = `BEGIN { print length("${UTF8}") }`;
      const image = 'e2e/launch-gawk:1';
      await build(
        dir,
        ['--binary', '/usr/bin/gawk', '--env', 'LC_ALL=C.UTF-8', '--entrypoint', '["/usr/bin/gawk"]'],
        image,
      );
      const host = await run(gawk, [prog], { env: { ...process.env, LC_ALL: 'C.UTF-8' } });
      assert.equal(host.stdout, '5\n', 'the host counts characters');
      assert.equal((await docker(image, [prog])).stdout, host.stdout);

      const missing = 'e2e/launch-gawk:2';
      const b = await build(
        dir,
        ['--binary', '/usr/bin/gawk', '--env', 'LANG=xx_YY.UTF-8', '--entrypoint', '["/usr/bin/gawk"]'],
        missing,
      );
      assert.match(b.stderr, /locale "xx_YY\.UTF-8" named by LANG is not in root/);
      const env: NodeJS.ProcessEnv = { ...process.env, LANG: 'xx_YY.UTF-8' };
      delete env.LC_ALL;
      delete env.LC_CTYPE;
      const hostC = await run(gawk, [prog], { env });
      assert.equal(hostC.stdout, '6\n', 'without the locale the host counts bytes');
      assert.equal((await docker(missing, [prog])).stdout, hostC.stdout);
    });
  });

  it('wc copied by a Dockerfile with ENV LANG=C.UTF-8 counts characters as the host does', async () => {
    const wc = requireTool('wc', 'coreutils');
    await withTempDir('e2e-wc', async (dir) => {
      const ctx = join(dir, 'ctx');
      await mkdir(ctx);
      await copyFile(wc, join(ctx, 'wc'));
      await writeFile(join(ctx, 'h.txt'), UTF8);
      await writeFile(
        join(ctx, 'Dockerfile'),
        'FROM scratch\nENV LANG=C.UTF-8\n# fromscratch: closure\nCOPY --chmod=755 wc /usr/bin/wc\nCOPY h.txt /h.txt\nENTRYPOINT ["/usr/bin/wc", "-m", "/h.txt"]\n',
      );
      const image = 'e2e/launch-wc:1';
      await build(dir, ['ctx'], image);
      const host = await run(wc, ['-m', join(ctx, 'h.txt')], {
        env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: '' },
      });
      assert.equal(host.stdout.split(' ')[0], '5');
      assert.equal((await docker(image, [])).stdout, '5 /h.txt\n');
    });
  });
  it('programs that switch to the C.UTF-8 locale themselves (tmux, fish, python3) get its data; --no-infer=locale leaves it out', async () => {
    // Debian's own (a python3 earlier on PATH may be another one, or a pyenv shim)
    const [tmux, fish, python3] = ['/usr/bin/tmux', '/usr/bin/fish', '/usr/bin/python3'];
    requireTool('tmux', 'tmux');
    requireTool('fish', 'fish');
    await withTempDir('e2e-compiled-locale', async (dir) => {
      // the host, without any locale variable: each program picks C.UTF-8 itself
      const bare = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir };
      const pyArgs = ['-c', 'import locale; print(locale.setlocale(locale.LC_CTYPE))'];
      const hostPy = await run(python3, pyArgs, { env: bare });
      assert.equal(hostPy.stdout, 'C.UTF-8\n');
      const hostFish = await run(fish, ['-c', 'string length ü'], { env: bare });
      assert.equal(hostFish.stdout, '1\n', 'fish counts one character');
      for (const [name, binary] of [
        ['tmux', tmux],
        ['fish', fish],
        ['python3', python3],
      ] as const) {
        const r = await build(dir, ['--binary', binary], `e2e/compiled-locale-${name}:1`);
        assert.doesNotMatch(r.stderr, /warning/i, r.stderr);
        await build(dir, ['--binary', binary, '--no-infer=locale'], `e2e/compiled-locale-${name}:0`);
      }
      const tmuxArgs = ['-f', '/dev/null', '-S', '/tmp/s', 'start-server', ';', 'list-commands'];
      assert.match((await docker('e2e/compiled-locale-tmux:1', tmuxArgs)).stdout, /^attach-session/);
      const without = await dockerRun('e2e/compiled-locale-tmux:0', tmuxArgs, { allowFail: true });
      assert.match(without.stderr, /need UTF-8 locale/, 'the rule is what makes tmux start');
      assert.equal(
        (await docker('e2e/compiled-locale-fish:1', ['-c', 'string length ü'])).stdout,
        hostFish.stdout,
      );
      assert.equal((await docker('e2e/compiled-locale-fish:0', ['-c', 'string length ü'])).stdout, '2\n');
      assert.equal((await docker('e2e/compiled-locale-python3:1', pyArgs)).stdout, hostPy.stdout);
      assert.equal((await docker('e2e/compiled-locale-python3:0', pyArgs)).stdout, 'C\n');
    });
  });
});
