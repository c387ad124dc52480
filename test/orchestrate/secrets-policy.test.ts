/**
 * secrets-policy.test.ts — the secrets policy through the real path (issue 17): `fromscratch build`
 * with `--add`, `--trace` and a Dockerfile `COPY` of real secret files refuses them with SECRET_REFUSED
 * and writes no image; `--allow-secret` lets one in by path (a file, or a directory and what is under
 * it), never by string prefix. /etc-anchored rules meet real files in a private copy of /etc mounted in
 * a mount namespace (the host's /etc is never written). Images are listed by GNU tar, not by our reader.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fromscratch, ROOT } from '../e2e/cli.ts';
import { requireTool, withTempDir } from '../support/validate-tools.ts';
import { layoutPaths } from './image-paths.ts';

const REFUSED = /^error\[SECRET_REFUSED\]: /m;

/** home writes a fake home directory with the secrets a developer's home holds, and harmless neighbours. */
async function home(dir: string): Promise<string> {
  const h = join(dir, 'home');
  const files: Record<string, string> = {
    '.ssh/id_rsa': 'PRIVATE KEY',
    '.ssh/config': 'Host *\n',
    '.ssh/id_rsa.pub': 'PUBLIC KEY',
    '.netrc': 'machine x login u password p\n',
    '.npmrc': '//registry.npmjs.org/:_authToken=t\n',
    '.gnupg/private-keys-v1.d/A.key': 'gpg key',
    '.gnupg/pubring.kbx': 'public ring',
    '.docker/config.json': '{"auths":{}}',
    'notes.txt': 'nothing secret',
  };
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(join(h, rel, '..'), { recursive: true });
    await writeFile(join(h, rel), text, { mode: 0o600 });
  }
  return h;
}

describe('build --add with the secrets policy', () => {
  test('a secret file, or a directory holding one, is refused and no image is written', async () => {
    await withTempDir('secrets-add', async (dir) => {
      const h = await home(dir);
      for (const [src, secret] of [
        ['./home/.ssh/id_rsa:/k', `${h}/.ssh/id_rsa`],
        ['./home/.netrc:/n', `${h}/.netrc`],
        ['./home/.npmrc:/app/.npmrc', `${h}/.npmrc`],
        ['./home/.gnupg:/g', `${h}/.gnupg/private-keys-v1.d/A.key`],
        ['./home/.docker:/d', `${h}/.docker/config.json`],
      ] as const) {
        const r = await fromscratch(['build', '--add', src, '-o', 'oci:out:x'], { cwd: dir });
        assert.equal(r.code, 1, `${src}: ${r.stderr}`);
        assert.match(r.stderr, REFUSED, src);
        assert.ok(r.stderr.includes(secret), `${src}: the message names ${secret}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`hint: .*--allow-secret ${secret}`), src);
        assert.equal(r.stdout, '', 'nothing on stdout');
        assert.ok(!existsSync(join(dir, 'out', 'index.json')), `${src}: no image written`);
      }
    });
  });

  test('--allow-secret lets in the file or directory named, by whole path components', async () => {
    await withTempDir('secrets-allow', async (dir) => {
      await home(dir);
      // a file, given relative to the working directory
      const file = await fromscratch(
        [
          'build',
          '--add',
          './home/.ssh/id_rsa:/k',
          '--allow-secret',
          './home/.ssh/id_rsa',
          '-o',
          'oci:out:file',
        ],
        { cwd: dir },
      );
      assert.equal(file.code, 0, file.stderr);
      assert.ok(layoutPaths(join(dir, 'out'), 'file').includes('/k'));
      // the file allowed is not a prefix of its siblings
      const sibling = await fromscratch(
        ['build', '--add', './home/.ssh:/s', '--allow-secret', './home/.ssh/id_rsa', '-o', 'oci:out:sib'],
        { cwd: dir },
      );
      assert.equal(sibling.code, 1, 'allowing id_rsa does not allow id_rsa.pub');
      assert.ok(sibling.stderr.includes(`${dir}/home/.ssh/id_rsa.pub`), sibling.stderr);
      // a directory allows what is under it, and only that
      const sub = await fromscratch(
        ['build', '--add', './home/.ssh:/s', '--allow-secret', './home/.ssh/', '-o', 'oci:out:dir'],
        { cwd: dir },
      );
      assert.equal(sub.code, 0, sub.stderr);
      const paths = layoutPaths(join(dir, 'out'), 'dir');
      for (const p of ['/s/id_rsa', '/s/id_rsa.pub', '/s/config'])
        assert.ok(paths.includes(p), paths.join(' '));
      const rest = await fromscratch(
        ['build', '--add', './home:/h', '--allow-secret', `${dir}/home/.ssh`, '-o', 'oci:out:rest'],
        { cwd: dir },
      );
      assert.equal(rest.code, 1, 'the other secrets of the home are still refused');
      assert.match(rest.stderr, REFUSED);
      assert.ok(!rest.stderr.includes('/.ssh/'), rest.stderr);
      const prefix = await fromscratch(
        ['build', '--add', './home/.ssh:/s', '--allow-secret', './home/.ss', '-o', 'oci:out:pre'],
        { cwd: dir },
      );
      assert.equal(prefix.code, 1, 'a string prefix allows nothing');
      assert.match(prefix.stderr, REFUSED);
      const gnupg = await fromscratch(
        [
          'build',
          '--add',
          './home/.gnupg/pubring.kbx:/p',
          '--add',
          './home/notes.txt:/n',
          '-o',
          'oci:out:pub',
        ],
        { cwd: dir },
      );
      assert.equal(gnupg.code, 0, `a public key ring is no secret: ${gnupg.stderr}`);
    });
  });

  test('/dev, /proc and /sys are refused, whatever the entry type', async () => {
    await withTempDir('secrets-dev', async (dir) => {
      // a regular file on /dev's tmpfs, a device node, a /proc file and a /sys file
      const shm = `/dev/shm/fromscratch-secrets-${process.pid}`;
      await writeFile(shm, 'shared memory');
      try {
        for (const src of [
          `${shm}:/shm`,
          '/dev/null:/null',
          '/proc/self/status:/status',
          '/sys/kernel/uevent_seqnum:/seq',
        ]) {
          const r = await fromscratch(['build', '--add', src, '-o', 'oci:out:x'], { cwd: dir });
          assert.equal(r.code, 1, `${src}: ${r.stderr}`);
          assert.match(r.stderr, REFUSED, src);
          assert.match(r.stderr, /kernel or device file system/, src);
        }
      } finally {
        execFileSync('rm', ['-f', shm]);
      }
    });
  });
});

describe('where a file lands in the image, whatever its host path', () => {
  test('--add of a root file system holding etc/shadow or an SSH host key is refused by destination; /dev in the image is not', async () => {
    await withTempDir('secrets-dest', async (dir) => {
      const rootfs = join(dir, 'rootfs');
      await mkdir(join(rootfs, 'etc/ssh'), { recursive: true });
      await mkdir(join(rootfs, 'dev'), { recursive: true });
      await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
      await writeFile(join(rootfs, 'dev/README'), 'an image may carry a /dev of its own\n');
      for (const [rel, reason] of [
        ['etc/shadow', /password hashes/],
        ['etc/shadow-', /password hashes/],
        ['etc/ssh/ssh_host_ed25519_key', /SSH host private key/],
        ['etc/sudoers.d/admin', /system credentials/],
      ] as const) {
        await mkdir(join(rootfs, rel, '..'), { recursive: true });
        await writeFile(join(rootfs, rel), 'x\n', { mode: 0o600 });
        const r = await fromscratch(['build', '--add', './rootfs:/', '-o', 'oci:refused:x'], { cwd: dir });
        assert.equal(r.code, 1, `${rel}: ${r.stderr}`);
        assert.match(r.stderr, REFUSED, rel);
        assert.match(r.stderr, reason, rel);
        assert.ok(r.stderr.includes(`at /${rel} in the image`), `${rel}: names the destination: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`hint: .*--allow-secret ${rootfs}/${rel}`), rel);
        assert.ok(!existsSync(join(dir, 'refused', 'index.json')), `${rel}: no image written`);
        // the same file anywhere harmless passes: the rule is the destination, not the content
        const elsewhere = await fromscratch(
          ['build', '--add', `./rootfs/${rel}:/data/f`, '-o', 'oci:out:ok'],
          {
            cwd: dir,
          },
        );
        assert.equal(elsewhere.code, 0, `${rel} at /data/f: ${elsewhere.stderr}`);
        const allowed = await fromscratch(
          ['build', '--add', './rootfs:/', '--allow-secret', `./rootfs/${rel}`, '-o', 'oci:out:allowed'],
          { cwd: dir },
        );
        assert.equal(allowed.code, 0, `${rel} allowed: ${allowed.stderr}`);
        assert.ok(layoutPaths(join(dir, 'out'), 'allowed').includes(`/${rel}`), rel);
        execFileSync('rm', ['-f', join(rootfs, rel)]);
      }
      const clean = await fromscratch(['build', '--add', './rootfs:/', '-o', 'oci:out:clean'], { cwd: dir });
      assert.equal(clean.code, 0, clean.stderr);
      assert.ok(layoutPaths(join(dir, 'out'), 'clean').includes('/dev/README'));
    });
  });

  test('Dockerfile COPY to /etc/shadow is refused by destination', async () => {
    await withTempDir('secrets-dest-copy', async (dir) => {
      const ctx = join(dir, 'ctx');
      await mkdir(ctx, { recursive: true });
      await writeFile(join(ctx, 'shadow.txt'), 'root:$6$salt$hash:19000::::::\n');
      await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY shadow.txt /etc/shadow\n');
      const r = await fromscratch(['build', 'ctx', '-o', 'oci:out:x'], { cwd: dir });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, REFUSED);
      assert.ok(r.stderr.includes('at /etc/shadow in the image'), r.stderr);
    });
  });
});

describe('the /etc rules on real files (a private /etc in a mount namespace)', () => {
  requireTool('unshare', 'util-linux');
  const cases: { src: string; refused: boolean; allow?: string[] }[] = [
    { src: '/etc/shadow', refused: true },
    { src: '/etc/shadow-', refused: true },
    { src: '/etc/gshadow-', refused: true },
    { src: '/etc/shadow.bak', refused: true },
    { src: '/etc/shadow.old', refused: true },
    { src: '/etc/shadowx', refused: false },
    { src: '/etc/shadow-', refused: true, allow: ['/etc/shadow'] },
    { src: '/etc/shadow', refused: false, allow: ['/etc/shadow'] },
    { src: '/etc/sudoers.d', refused: true },
    { src: '/etc/sudoers.d', refused: false, allow: ['/etc/sudoers.d'] },
    { src: '/etc/ssl/private', refused: true },
    { src: '/etc/ssl/private-notes', refused: false },
    { src: '/etc/ssh/ssh_host_ed25519_key', refused: true },
    { src: '/etc/ssh/ssh_host_ed25519_key.pub', refused: false },
    { src: '/etc/security/opasswd', refused: true },
  ];

  test('each /etc rule refuses its file and lets its near miss through', async () => {
    await withTempDir('secrets-etc', async (dir) => {
      const etc = join(dir, 'etc');
      execFileSync('cp', ['-a', '/etc', etc]);
      for (const f of [
        'shadow.bak',
        'shadow.old',
        'shadowx',
        'sudoers.d/admins',
        'ssl/private/server.key',
        'ssl/private-notes',
        'ssh/ssh_host_ed25519_key',
        'ssh/ssh_host_ed25519_key.pub',
        'security/opasswd',
      ]) {
        await mkdir(join(etc, f, '..'), { recursive: true });
        await writeFile(join(etc, f), `fake ${f}\n`);
      }
      await chmod(join(etc, 'ssl/private'), 0o700);
      const input = cases.map((c) => ({
        src: c.src,
        dest: `/x${c.src}`,
        ...(c.allow ? { allow: c.allow } : {}),
      }));
      const r = spawnSync(
        'unshare',
        [
          '--mount',
          '--propagation',
          'private',
          'sh',
          '-c',
          'mount --bind "$0" /etc && exec "$@"',
          etc,
          process.execPath,
          '--import',
          'tsx',
          join(ROOT, 'test/orchestrate/secrets-child.ts'),
          JSON.stringify(input),
          dir,
        ],
        { cwd: ROOT, encoding: 'utf8', timeout: 300_000 },
      );
      assert.equal(r.status, 0, `the child ran: ${r.stderr}`);
      const got = JSON.parse(r.stdout) as { src: string; code: string; paths: string[] }[];
      assert.equal(got.length, cases.length);
      for (const [i, c] of cases.entries()) {
        const g = got[i]!;
        const what = `${c.src}${c.allow ? ` with --allow-secret ${c.allow.join(',')}` : ''}`;
        assert.equal(g.code, c.refused ? 'SECRET_REFUSED' : '', what);
        if (!c.refused)
          assert.ok(g.paths.includes(`/x${c.src}`), `${what} is in the image: ${g.paths.join(' ')}`);
      }
      assert.ok(
        !existsSync('/etc/shadow.bak') && !existsSync('/etc/sudoers.d/admins'),
        'the host /etc is untouched',
      );
    });
  });
});

describe('build --trace with the secrets policy', () => {
  requireTool('strace', 'strace');

  test('a traced command reading a secret is refused; --allow-secret takes it in', async () => {
    await withTempDir('secrets-trace', async (dir) => {
      const h = await home(dir);
      await writeFile(join(dir, 'read.sh'), `#!/bin/sh\ncat ${h}/.netrc ${h}/notes.txt >/dev/null\n`, {
        mode: 0o755,
      });
      const refused = await fromscratch(['build', '--trace', './read.sh', '-o', 'oci:out:x'], { cwd: dir });
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, REFUSED);
      assert.ok(refused.stderr.includes(`${h}/.netrc`), refused.stderr);
      assert.ok(!existsSync(join(dir, 'out', 'index.json')), 'no image written');
      const allowed = await fromscratch(
        ['build', '--trace', './read.sh', '--allow-secret', './home/.netrc', '-o', 'oci:out:y'],
        { cwd: dir },
      );
      assert.equal(allowed.code, 0, allowed.stderr);
      const paths = layoutPaths(join(dir, 'out'), 'y');
      assert.ok(paths.includes(`${h}/.netrc`) && paths.includes(`${h}/notes.txt`), paths.join(' '));
      const backup = await fromscratch(['build', '--trace', 'cat /etc/shadow-', '-o', 'oci:out:z'], {
        cwd: dir,
      });
      assert.equal(backup.code, 1, backup.stderr);
      assert.match(backup.stderr, /SECRET_REFUSED.*\/etc\/shadow-/);
    });
  });
});

describe('Dockerfile COPY with the secrets policy', () => {
  test('COPY of a context holding .npmrc or an SSH key is refused; --allow-secret or .dockerignore lets the build through', async () => {
    await withTempDir('secrets-copy', async (dir) => {
      const ctx = join(dir, 'ctx');
      await mkdir(join(ctx, 'keys/.ssh'), { recursive: true });
      await writeFile(join(ctx, 'app.js'), 'console.log(1)\n');
      await writeFile(join(ctx, '.npmrc'), '//registry.npmjs.org/:_authToken=t\n');
      await writeFile(join(ctx, 'keys/.ssh/id_ed25519'), 'PRIVATE KEY');
      await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY . /app\n');
      const all = await fromscratch(['build', 'ctx', '-o', 'oci:out:x'], { cwd: dir });
      assert.equal(all.code, 1, all.stderr);
      assert.match(all.stderr, REFUSED);
      assert.ok(!existsSync(join(dir, 'out', 'index.json')), 'no image written');
      await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY .npmrc /root/.npmrc\n');
      const one = await fromscratch(['build', 'ctx', '-o', 'oci:out:x'], { cwd: dir });
      assert.equal(one.code, 1, one.stderr);
      assert.ok(one.stderr.includes(`${ctx}/.npmrc`), one.stderr);
      const allowed = await fromscratch(
        ['build', 'ctx', '--allow-secret', './ctx/.npmrc', '-o', 'oci:out:allowed'],
        { cwd: dir },
      );
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.ok(layoutPaths(join(dir, 'out'), 'allowed').includes('/root/.npmrc'));
      await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY . /app\n');
      await writeFile(join(ctx, '.dockerignore'), '.npmrc\nkeys\n');
      const ignored = await fromscratch(['build', 'ctx', '-o', 'oci:out:ignored'], { cwd: dir });
      assert.equal(ignored.code, 0, ignored.stderr);
      const paths = layoutPaths(join(dir, 'out'), 'ignored');
      assert.ok(paths.includes('/app/app.js') && !paths.includes('/app/.npmrc'), paths.join(' '));
    });
  });
});

describe('what the environment points the closure at', () => {
  test('TZ naming a file that is no zone (/etc/shadow) leaves it out; a zone file under a secret path (TZDIR in .ssh) is refused', async () => {
    await withTempDir('secrets-tz', async (dir) => {
      const shadow = await fromscratch(
        ['build', '--binary', '/usr/bin/date', '--env', 'TZ=/etc/shadow', '-o', 'oci:out:1'],
        { cwd: dir },
      );
      assert.equal(shadow.code, 0, shadow.stderr);
      assert.match(
        shadow.stderr,
        /TZ=\/etc\/shadow names \/etc\/shadow, which is not a time zone file \(no TZif header\): left out/,
      );
      assert.ok(!layoutPaths(join(dir, 'out'), '1').includes('/etc/shadow'), 'no /etc/shadow in the image');
      assert.ok(layoutPaths(join(dir, 'out'), '1').includes('/usr/bin/date'));
      // a real zone file, copied where the secrets policy looks (a .ssh directory): refused, nothing written
      const ssh = join(dir, 'home', '.ssh');
      await mkdir(ssh, { recursive: true });
      execFileSync('cp', ['/usr/share/zoneinfo/Europe/Paris', join(ssh, 'id_rsa')]);
      const key = await fromscratch(
        [
          'build',
          '--binary',
          '/usr/bin/date',
          '--env',
          `TZDIR=${ssh}`,
          '--env',
          'TZ=id_rsa',
          '-o',
          'oci:out2:1',
        ],
        { cwd: dir },
      );
      assert.equal(key.code, 1, key.stderr);
      assert.match(key.stderr, REFUSED);
      assert.match(key.stderr, /\.ssh\/id_rsa/);
      assert.equal(existsSync(join(dir, 'out2')), false, 'nothing written');
    });
  });
});

describe("what a program's compiled-in configuration directory holds", () => {
  test('a configuration file holding a token is left out with a warning; one only its owner reads is left out; the rest ships', async () => {
    const gcc = requireTool('gcc', 'gcc');
    await withTempDir('secrets-config', async (dir) => {
      const root = join(dir, 'root');
      await mkdir(join(root, 'usr', 'bin'), { recursive: true });
      await mkdir(join(root, 'etc', 'fsdemo'), { recursive: true });
      await writeFile(
        join(dir, 'demo.c'),
        'int puts(const char *);\nint main(void) { return puts("/etc/fsdemo/demo.conf") < 0; }\n',
      );
      execFileSync(gcc, ['-static', '-O1', '-o', join(root, 'usr', 'bin', 'demo'), join(dir, 'demo.c')]);
      await writeFile(join(root, 'etc', 'fsdemo', 'demo.conf'), 'listen 8080\n');
      await writeFile(join(root, 'etc', 'fsdemo', 'token.conf'), `token ghp_${'a1B2'.repeat(9)}\n`);
      await writeFile(join(root, 'etc', 'fsdemo', 'password'), 'hunter2\n');
      await chmod(join(root, 'etc', 'fsdemo', 'password'), 0o600);
      const r = await fromscratch(
        ['build', '--sysroot', root, '--binary', '/usr/bin/demo', '-o', 'oci:out:1'],
        { cwd: dir },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        /left out \S*\/etc\/fsdemo\/token\.conf, a configuration file of a program in the image: .*token/,
      );
      assert.match(r.stderr, /files only their owner may read, left out: \/etc\/fsdemo\/password/);
      const paths = layoutPaths(join(dir, 'out'), '1');
      assert.ok(paths.includes('/etc/fsdemo/demo.conf'), 'the configuration ships');
      assert.ok(!paths.includes('/etc/fsdemo/token.conf'), 'not the token');
      assert.ok(!paths.includes('/etc/fsdemo/password'), 'not the private file');
      // named on purpose, it ships
      const allowed = await fromscratch(
        [
          'build',
          '--sysroot',
          root,
          '--binary',
          '/usr/bin/demo',
          '--allow-secret',
          join(root, 'etc', 'fsdemo', 'token.conf'),
          '-o',
          'oci:out2:1',
        ],
        { cwd: dir },
      );
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.ok(layoutPaths(join(dir, 'out2'), '1').includes('/etc/fsdemo/token.conf'));
    });
  });
});
