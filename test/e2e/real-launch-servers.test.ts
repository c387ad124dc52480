/**
 * real-launch-servers.test.ts — real programs from Debian, built as a user builds them and run under
 * Docker with `--network none`, each output compared with the same program run on the host (issue 11):
 * servers and daemons: compiled-in configuration, logs and state, system users, runtime directories,
 * PostgreSQL, Erlang/OTP, and servers that run helper programs. The helpers are launch-support.ts's.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { requireTool, run, withTempDir } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';
import { build, docker, dockerRun, serving, throughProxy } from './launch-support.ts';

describe('servers that read a compiled-in configuration, write logs and state, and drop to a system user', () => {
  it('nginx: its /etc/nginx, its log, temp and pid directories, its modules and www-data; it serves the page', async () => {
    const nginx = requireTool('nginx', 'nginx-light');
    const curl = requireTool('curl', 'curl');
    await withTempDir('e2e-nginx', async (dir) => {
      await mkdir(join(dir, 'www'));
      await writeFile(join(dir, 'www', 'index.html'), 'hello from nginx, from scratch\n');
      const image = 'e2e/launch-nginx:1';
      const built = await build(
        dir,
        [
          '--binary',
          nginx,
          '--binary',
          curl,
          '--add',
          'www:/var/www/html',
          '--entrypoint',
          `["${nginx}","-g","daemon off;"]`,
        ],
        image,
      );
      assert.doesNotMatch(built.stderr, /would not start|warning/i, built.stderr);
      const s = await serving(image);
      try {
        const page = await s.curl(['-fsS', 'http://127.0.0.1/']);
        assert.equal(page.code, 0, `${page.stderr}\n${await s.logs()}`);
        assert.equal(page.stdout, 'hello from nginx, from scratch\n');
        // the configuration test reads every included file, opens the logs and looks up its user
        const t = await s.exec([nginx, '-t']);
        assert.equal(t.code, 0, t.stderr);
        assert.match(t.stderr, /test is successful/);
        const users = await s.curl(['-fsS', 'file:///etc/passwd']);
        assert.match(users.stdout, /^www-data:x:33:33:/m, 'the user nginx.conf names');
        const log = await s.curl(['-fsS', 'file:///var/log/nginx/access.log']);
        assert.match(log.stdout, /"GET \/ HTTP\/1\.1" 200/, 'it logs where it was built to');
      } finally {
        await s.stop();
      }
      // the class's failure without the rule, as it was: the configuration is not there
      const without = 'e2e/launch-nginx-without:1';
      const warned = await build(dir, ['--binary', nginx, '--no-infer=program-files'], without);
      // the start check says so at build time
      assert.match(
        warned.stderr,
        /reads its configuration at \/etc\/nginx\/nginx\.conf \(compiled into it\), which the image lacks/,
      );
      const bare = await dockerRun(without, ['-t'], { allowFail: true });
      assert.notEqual(bare.code, 0);
      assert.match(bare.stderr, /open\(\) "\/etc\/nginx\/nginx\.conf" failed/);

      // the root its site configuration serves is in the image when no site is added: empty, the
      // host's pages are the host's (apache stops without its DocumentRoot)
      const siteless = 'e2e/launch-nginx-siteless:1';
      await build(dir, ['--binary', nginx], siteless);
      const why = await fromscratch(['why', `docker-daemon:${siteless}`, '/var/www/html'], { cwd: dir });
      assert.equal(why.code, 0, why.stderr);
      assert.match(why.stdout, /names it as what it serves: the directory, empty/);
      const page = await fromscratch(
        ['why', `docker-daemon:${siteless}`, '/var/www/html/index.nginx-debian.html'],
        {
          cwd: dir,
        },
      );
      assert.notEqual(page.code, 0, 'the host page is not shipped');
    });
  });

  it('tinyproxy: its /etc/tinyproxy, the log and pid directories and error page its configuration names, its user', async () => {
    const tinyproxy = requireTool('tinyproxy', 'tinyproxy');
    const curl = requireTool('curl', 'curl');
    await withTempDir('e2e-tinyproxy', async (dir) => {
      const image = 'e2e/launch-tinyproxy:1';
      const built = await build(
        dir,
        ['--binary', tinyproxy, '--binary', curl, '--entrypoint', `["${tinyproxy}","-d"]`],
        image,
      );
      assert.doesNotMatch(built.stderr, /would not start/, built.stderr);
      const s = await serving(image);
      try {
        // through the proxy to a port nobody listens on: tinyproxy answers with its own error page
        const r = await throughProxy(s, 8888);
        assert.match(r.stdout, /\n50[0-9]$/, r.stdout);
        assert.match(r.stdout, /tinyproxy/i, 'the error page of /usr/share/tinyproxy');
        const users = await s.curl(['-fsS', 'file:///etc/passwd']);
        assert.match(users.stdout, /^tinyproxy:x:\d+:\d+:/m, 'the User its configuration names');
        const pid = await s.curl(['-fsS', 'file:///run/tinyproxy/tinyproxy.pid']);
        assert.match(pid.stdout, /^\d+\n?$/, 'it wrote its pid where its configuration says');
      } finally {
        await s.stop();
      }
    });
  });
});

describe('servers given their configuration on the command line', () => {
  it('haproxy -f /etc/haproxy/haproxy.cfg: its directory and error pages, its chroot and socket directories, its user; it runs as haproxy', async () => {
    const haproxy = requireTool('haproxy', 'haproxy');
    await withTempDir('e2e-haproxy', async (dir) => {
      const image = 'e2e/launch-haproxy:1';
      const command = `["${haproxy}","-f","/etc/haproxy/haproxy.cfg","-db"]`;
      const built = await build(dir, ['--binary', haproxy, '--entrypoint', command], image);
      assert.doesNotMatch(built.stderr, /would not start|problem|warning/i, built.stderr);
      const s = await serving(image);
      try {
        const c = await s.exec([haproxy, '-c', '-f', '/etc/haproxy/haproxy.cfg']);
        assert.equal(c.code, 0, `${c.stderr}\n${await s.logs()}`);
        assert.match(c.stdout + c.stderr, /Configuration file is valid/);
        // it chrooted to /var/lib/haproxy, made its socket in /run/haproxy and dropped to its user
        await new Promise((res) => setTimeout(res, 500));
        assert.deepEqual(await s.users(), ['haproxy'], await s.logs());
      } finally {
        await s.stop();
      }
      // the class's failure without the rule: the check says so at build time, and it stops at start
      const without = 'e2e/launch-haproxy-without:1';
      const warned = await build(
        dir,
        ['--binary', haproxy, '--no-infer=program-files', '--entrypoint', command],
        without,
      );
      assert.match(
        warned.stderr,
        /is given \/etc\/haproxy\/haproxy\.cfg on its command line, which the image lacks/,
      );
      const bare = await dockerRun(without, [], { allowFail: true });
      assert.notEqual(bare.code, 0);
      assert.match(bare.stderr, /Cannot open configuration file\/directory \/etc\/haproxy\/haproxy\.cfg/);
    });
  });

  it('mariadbd --user=mysql: its /etc/mysql (debian.cnf, only root may read it, left out and said once for the server and its client), its data and socket directories made for mysql; it answers the client', async () => {
    const mariadbd = requireTool('mariadbd', 'mariadb-server');
    const client = requireTool('mariadb', 'mariadb-client');
    await withTempDir('e2e-mariadb', async (dir) => {
      const image = 'e2e/launch-mariadb:1';
      const built = await build(
        dir,
        [
          '--binary',
          mariadbd,
          '--binary',
          client,
          '--entrypoint',
          `["${mariadbd}","--user=mysql","--skip-grant-tables"]`,
        ],
        image,
      );
      assert.doesNotMatch(built.stderr, /would not start|problem/i, built.stderr);
      const privates = built.stderr
        .split('\n')
        .filter((l) => /configuration directory \/etc\/mysql .*only their owner may read/.test(l));
      assert.equal(privates.length, 1, built.stderr);
      assert.match(
        privates[0]!,
        new RegExp(`of ${mariadbd}, .*${client}.* left out: /etc/mysql/debian\\.cnf`),
      );
      const s = await serving(image);
      try {
        const sql =
          'create database t; use t; create table x (a int); insert into x values (1), (2); select sum(a) from x;';
        let r = await s.exec([client, '-N', '-e', sql]);
        for (let i = 0; i < 50 && r.code !== 0; i++) {
          await new Promise((res) => setTimeout(res, 200));
          r = await s.exec([client, '-N', '-e', sql]);
        }
        assert.equal(r.code, 0, `${r.stderr}\n${await s.logs()}`);
        assert.equal(r.stdout.trim(), '3');
        assert.ok((await s.users()).includes('mysql'), 'it runs as mysql');
      } finally {
        await s.stop();
      }
    });
  });

  it('redis-server /etc/redis/redis.conf: a configuration only its owner may read is left out and said so; added, the state it names is made and it answers', async () => {
    const redis = requireTool('redis-server', 'redis-server');
    const cli = requireTool('redis-cli', 'redis-tools');
    await withTempDir('e2e-redis', async (dir) => {
      const left = 'e2e/launch-redis-left:1';
      const warned = await build(
        dir,
        ['--binary', redis, '--entrypoint', `["${redis}","/etc/redis/redis.conf"]`],
        left,
      );
      assert.match(
        warned.stderr,
        /holds files only their owner may read, left out: \/etc\/redis\/redis\.conf/,
      );
      assert.match(
        warned.stderr,
        /is given \/etc\/redis\/redis\.conf on its command line, which the image lacks/,
      );
      const bare = await dockerRun(left, [], { allowFail: true });
      assert.notEqual(bare.code, 0);
      assert.match(bare.stdout + bare.stderr, /can't open config file '\/etc\/redis\/redis\.conf'/);

      const image = 'e2e/launch-redis:1';
      const built = await build(
        dir,
        [
          '--binary',
          redis,
          '--binary',
          cli,
          '--add',
          '/etc/redis/redis.conf:/etc/redis/redis.conf',
          '--entrypoint',
          `["${redis}","/etc/redis/redis.conf","--daemonize","no"]`,
        ],
        image,
      );
      assert.doesNotMatch(built.stderr, /would not start|problem/i, built.stderr);
      // the owner of the state directory it writes to (/var/lib/redis is redis's) is an account of the
      // image, as mosquitto and unbound need theirs (the users they drop to are compiled into them)
      const why = await fromscratch(['why', `docker-daemon:${image}`, '/etc/passwd'], { cwd: dir });
      assert.equal(why.code, 0, why.stderr);
      assert.match(why.stdout, /users root, nonroot \(65532\) and nobody; redis\b/);
      const s = await serving(image);
      try {
        let pong = await s.exec([cli, 'ping']);
        for (let i = 0; i < 25 && pong.stdout.trim() !== 'PONG'; i++) {
          await new Promise((res) => setTimeout(res, 200));
          pong = await s.exec([cli, 'ping']);
        }
        assert.equal(pong.stdout.trim(), 'PONG', `${pong.stderr}\n${await s.logs()}`);
        // the directories its configuration names: its working directory and its log
        const d = await s.exec([cli, 'config', 'get', 'dir']);
        assert.match(d.stdout, /\/var\/lib\/redis/);
        assert.equal((await s.exec([cli, 'set', 'k', 'v'])).stdout.trim(), 'OK');
        assert.equal(
          (await s.exec([cli, 'save'])).stdout.trim(),
          'OK',
          'it writes its dump in /var/lib/redis',
        );
      } finally {
        await s.stop();
      }
    });
  });
});

describe("programs that run the command lines they build through /bin/sh (popen, system): PostgreSQL's initdb and pg_ctl", () => {
  it('initdb makes a cluster (it runs postgres through popen), pg_ctl starts the server, psql queries it; without the rule initdb stops', async () => {
    const B = '/usr/lib/postgresql/15/bin';
    if ((await run('test', ['-x', `${B}/initdb`], { allowFail: true })).code !== 0)
      throw new Error(
        `${B}/initdb is missing: apt-get install -y postgresql-15 (scripts/services.sh installs it)`,
      );
    await withTempDir('e2e-postgres', async (dir) => {
      const image = 'e2e/postgres-initdb:1';
      const progs = ['initdb', 'postgres', 'pg_ctl', 'psql'].flatMap((p) => ['--binary', `${B}/${p}`]);
      await build(dir, [...progs, '--user', 'postgres'], image);
      const script = `${B}/initdb -D /tmp/d >/dev/null 2>&1 && ${B}/pg_ctl -D /tmp/d -l /tmp/log -w start >/dev/null && ${B}/psql -At -d postgres -c 'select 1+1, current_user' && ${B}/pg_ctl -D /tmp/d -w stop >/dev/null`;
      const r = await dockerRun(image, ['-c', script], { entrypoint: '/bin/sh' });
      assert.equal(r.stdout, '2|postgres\n');
      const without = 'e2e/postgres-initdb:0';
      await build(
        dir,
        [
          '--binary',
          `${B}/initdb`,
          '--binary',
          `${B}/postgres`,
          '--user',
          'postgres',
          '--no-infer=program-files',
        ],
        without,
      );
      const stopped = await dockerRun(without, ['-D', '/tmp/d'], {
        entrypoint: `${B}/initdb`,
        allowFail: true,
      });
      assert.notEqual(stopped.code, 0);
      assert.match(stopped.stderr, /popen failure/);
    });
  });
  it("Debian's pg_wrapper run as psql and pg_dump runs the client of that name from /usr/lib/postgresql/VERSION/bin, as on the host", async () => {
    await withTempDir('e2e-pg-wrapper', async (dir) => {
      for (const name of ['psql', 'pg_dump']) {
        const image = `e2e/pg-wrapper-${name}:1`;
        await build(dir, ['--binary', `/usr/bin/${name}`], image);
        const host = await run(`/usr/bin/${name}`, ['--version'], { env: { PATH: '/usr/bin:/bin' } });
        assert.match(host.stdout, /PostgreSQL/);
        assert.equal((await docker(image, ['--version'])).stdout, host.stdout, name);
      }
    });
  });
});

describe('servers told on their command line which system user to drop to', () => {
  it('memcached -u memcache and dnsmasq --user=dnsmasq run as those users; without the rule they stop and the check says so', async () => {
    const memcached = requireTool('memcached', 'memcached');
    const dnsmasq = requireTool('dnsmasq', 'dnsmasq-base');
    await withTempDir('e2e-accounts', async (dir) => {
      const servers = [
        {
          name: 'memcached',
          user: 'memcache',
          command: [memcached, '-u', 'memcache'],
          fails: /can't find the user memcache/,
        },
        {
          name: 'dnsmasq',
          user: 'dnsmasq',
          command: [
            dnsmasq,
            '--keep-in-foreground',
            '--user=dnsmasq',
            '--port=5353',
            '--no-resolv',
            '--no-hosts',
          ],
          fails: /unknown user or group: dnsmasq/,
        },
      ];
      for (const sv of servers) {
        const image = `e2e/launch-${sv.name}-user:1`;
        const entrypoint = JSON.stringify(sv.command);
        const built = await build(dir, ['--binary', sv.command[0]!, '--entrypoint', entrypoint], image);
        // memcached's compiled-in /etc/sasl2 is not on this root either: nothing to warn about
        assert.doesNotMatch(built.stderr, /warning/i, built.stderr);
        const s = await serving(image);
        try {
          await new Promise((res) => setTimeout(res, 500));
          assert.deepEqual(await s.users(), [sv.user], await s.logs());
        } finally {
          await s.stop();
        }
        const without = `e2e/launch-${sv.name}-user-without:1`;
        const warned = await build(
          dir,
          ['--binary', sv.command[0]!, '--no-infer=program-files', '--entrypoint', entrypoint],
          without,
        );
        assert.match(
          warned.stderr,
          new RegExp(
            `is told on its command line to run as user "${sv.user}", which /etc/passwd of the image lacks`,
          ),
        );
        const bare = await dockerRun(without, [], { allowFail: true });
        assert.notEqual(bare.code, 0);
        assert.match(bare.stdout + bare.stderr, sv.fails);
      }
    });
  });
});

describe('daemons whose runtime directory the init system makes, and that look up an account compiled into them', () => {
  it('mosquitto: /run/mosquitto made as its unit makes it (the host has none while the service is down); it writes its pid there and runs as mosquitto', async () => {
    const mosquitto = requireTool('mosquitto', 'mosquitto');
    const curl = requireTool('curl', 'curl');
    await withTempDir('e2e-mosquitto', async (dir) => {
      const image = 'e2e/launch-mosquitto:1';
      const built = await build(
        dir,
        [
          '--binary',
          mosquitto,
          '--binary',
          curl,
          '--entrypoint',
          `["${mosquitto}","-c","/etc/mosquitto/mosquitto.conf"]`,
        ],
        image,
      );
      assert.doesNotMatch(built.stderr, /would not start/, built.stderr);
      const why = await fromscratch(['why', `docker-daemon:${image}`, '/run/mosquitto'], { cwd: dir });
      assert.equal(why.code, 0, why.stderr);
      assert.match(why.stdout, /writes under \/run\/mosquitto \(\/etc\/mosquitto\/mosquitto\.conf names/);
      const s = await serving(image);
      try {
        const pid = await s.curl(['-fsS', 'file:///run/mosquitto/mosquitto.pid']);
        assert.equal(pid.code, 0, `${pid.stderr}\n${await s.logs()}`);
        assert.match(pid.stdout, /^\d+\n?$/, 'it wrote its pid where its configuration says');
        const users = await s.curl(['-fsS', 'file:///etc/passwd']);
        assert.match(users.stdout, /^mosquitto:x:\d+:\d+:/m, 'the account compiled into it');
        // docker top (ps) cuts a name longer than eight characters: mosquit+
        assert.deepEqual(
          (await s.users()).map((u) => u.replace(/\+$/, '')),
          ['mosquit'],
          await s.logs(),
        );
      } finally {
        await s.stop();
      }
    });
  });

  it('sshd: /run/sshd made as ssh.service RuntimeDirectory= makes it and its privilege separation user sshd; it completes a key exchange', async () => {
    const sshd = requireTool('sshd', 'openssh-server');
    const keygen = requireTool('ssh-keygen', 'openssh-client');
    const keyscan = requireTool('ssh-keyscan', 'openssh-client');
    const dockerBin = requireTool('docker', 'docker.io');
    await withTempDir('e2e-sshd', async (dir) => {
      await run(keygen, ['-q', '-t', 'ed25519', '-N', '', '-C', 'e2e', '-f', join(dir, 'hostkey')]);
      const image = 'e2e/launch-sshd:1';
      const key = '/etc/ssh/ssh_host_ed25519_key';
      const built = await build(
        dir,
        [
          '--binary',
          sshd,
          '--add',
          `hostkey:${key}`,
          '--add',
          `hostkey.pub:${key}.pub`,
          '--allow-secret',
          join(dir, 'hostkey'),
          '--entrypoint',
          `["${sshd}","-D","-e","-h","${key}"]`,
        ],
        image,
      );
      assert.doesNotMatch(built.stderr, /would not start/, built.stderr);
      const why = await fromscratch(['why', `docker-daemon:${image}`, sshd], { cwd: dir });
      assert.match(why.stdout, /looks up the system account sshd \(a name compiled into it\)/);
      assert.doesNotMatch(why.stdout, /system account bind/, 'bind(2) is a symbol, not an account');
      // on the default bridge: the key exchange runs sshd's unprivileged child as sshd in /run/sshd
      const id = (await run(dockerBin, ['run', '-d', image])).stdout.trim();
      try {
        const ip = (
          await run(dockerBin, ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', id])
        ).stdout.trim();
        const pub = (await readFile(join(dir, 'hostkey.pub'), 'utf8')).split(' ')[1]!;
        let got = '';
        for (let i = 0; i < 50 && !got.includes(pub); i++) {
          got = (await run(keyscan, ['-T', '3', '-t', 'ed25519', ip], { allowFail: true })).stdout;
          if (!got.includes(pub)) await new Promise((res) => setTimeout(res, 200));
        }
        const logs = await run(dockerBin, ['logs', id], { allowFail: true });
        assert.ok(got.includes(pub), `ssh-keyscan: ${got}\n${logs.stderr}`);
        assert.doesNotMatch(logs.stderr, /Missing privilege separation|does not exist/);
      } finally {
        await run(dockerBin, ['rm', '-f', id], { allowFail: true });
      }
    });
  });
});

describe('runtimes that are a whole root beside their launcher (Erlang/OTP: erl runs erlexec, which runs beam.smp and reads the boot files)', () => {
  it('erl -eval and an escript run as on the host; the root comes without its sources and headers', async () => {
    const erl = requireTool('erl', 'erlang-base');
    await withTempDir('e2e-erlang', async (dir) => {
      const image = 'e2e/launch-erl:1';
      const code = 'io:format("~p ~s~n", [lists:sum([1,2,3]), string:uppercase("otp")]), halt().';
      const built = await build(
        dir,
        ['--binary', erl, '--entrypoint', JSON.stringify([erl, '-noshell', '-eval', code])],
        image,
      );
      assert.doesNotMatch(built.stderr, /warning/i, built.stderr);
      const ours = await dockerRun(image, []);
      assert.equal(ours.stdout, '6 OTP\n', ours.stderr);
      const why = await fromscratch(['why', `docker-daemon:${image}`, '/usr/lib/erlang/bin/start.boot'], {
        cwd: dir,
      });
      assert.match(why.stdout, /the Erlang\/OTP root \/usr\/lib\/erlang/);
      // the headers of kernel (lib/kernel-V/include on the host) are for compiling, not running
      const kernel = (await readdir('/usr/lib/erlang/lib')).find((n) => n.startsWith('kernel-'));
      const include = await fromscratch(
        ['why', `docker-daemon:${image}`, `/usr/lib/erlang/lib/${kernel}/include`],
        {
          cwd: dir,
        },
      );
      assert.notEqual(include.code, 0, include.stdout);
      // an escript: #!/usr/bin/env escript; escript runs `erl` by name, from PATH
      await writeFile(
        join(dir, 'hello.escript'),
        '#!/usr/bin/env escript\nmain(Args) -> io:format("escript ~p~n", [Args]).\n',
        { mode: 0o755 },
      );
      const script = 'e2e/launch-escript:1';
      await build(dir, ['--binary', 'hello.escript:/app/hello.escript'], script);
      const run1 = await dockerRun(script, ['a', 'b']);
      assert.equal(run1.stdout, 'escript ["a","b"]\n', run1.stderr);
    });
  });
});

describe('servers that run helper programs: ones their built-in defaults name (squid), commands their configuration runs (lighttpd), launcher scripts preparing their state (apache2ctl)', () => {
  it('squid: its built-in unlinkd, log daemon and pinger from /usr/lib/squid, the log and spool directories of its defaults; it proxies as proxy', async () => {
    const squid = requireTool('squid', 'squid');
    const curl = requireTool('curl', 'curl');
    await withTempDir('e2e-squid', async (dir) => {
      const image = 'e2e/launch-squid:1';
      const built = await build(
        dir,
        ['--binary', squid, '--binary', curl, '--entrypoint', `["${squid}","-N","-d","1"]`],
        image,
      );
      assert.doesNotMatch(built.stderr, /would not start/, built.stderr);
      const why = await fromscratch(['why', `docker-daemon:${image}`, '/usr/lib/squid/unlinkd'], {
        cwd: dir,
      });
      assert.match(why.stdout, /runs \/usr\/lib\/squid\/unlinkd \(a path compiled into it\)/, why.stderr);
      const s = await serving(image);
      try {
        // through the proxy to this container: squid answers with its own error page (Debian's
        // configuration denies requests to localhost: 403)
        const r = await throughProxy(s, 3128);
        assert.match(r.stdout, /\n(403|50[0-9])$/, r.stdout);
        assert.match(r.stdout, /squid/i, 'the error page of squid');
        assert.doesNotMatch(await s.logs(), /FATAL|No such file/);
      } finally {
        await s.stop();
      }
    });
  });

  it('apache2ctl -D FOREGROUND: the lock, run and log directories its script and /etc/apache2/envvars name, the mime.types its configuration reads; it serves the page', async () => {
    requireTool('apache2', 'apache2');
    const curl = requireTool('curl', 'curl');
    await withTempDir('e2e-apache', async (dir) => {
      await mkdir(join(dir, 'www'));
      await writeFile(join(dir, 'www', 'index.html'), 'hello from apache, from scratch\n');
      const image = 'e2e/launch-apache:1';
      const built = await build(
        dir,
        [
          '--binary',
          '/usr/sbin/apache2ctl',
          '--binary',
          curl,
          '--add',
          'www:/var/www/html',
          '--entrypoint',
          '["/usr/sbin/apache2ctl","-D","FOREGROUND"]',
        ],
        image,
      );
      assert.doesNotMatch(built.stderr, /would not start/, built.stderr);
      // without /var/lock: "mktemp: failed to create directory via template '/var/lock/apache2.XXXXXXXXXX'"
      const why = await fromscratch(['why', `docker-daemon:${image}`, '/var/lock'], { cwd: dir });
      assert.equal(why.code, 0, why.stderr);
      const s = await serving(image);
      try {
        const page = await s.curl(['-fsS', 'http://127.0.0.1/']);
        assert.equal(page.code, 0, `${page.stderr}\n${await s.logs()}`);
        assert.equal(page.stdout, 'hello from apache, from scratch\n');
      } finally {
        await s.stop();
      }
    });
  });

  it('lighttpd -f /etc/lighttpd/lighttpd.conf: the scripts its include_shell lines run (perl, /bin/sh) and the file they read; it serves the page', async () => {
    const lighttpd = requireTool('lighttpd', 'lighttpd');
    const curl = requireTool('curl', 'curl');
    await withTempDir('e2e-lighttpd', async (dir) => {
      await mkdir(join(dir, 'www'));
      await writeFile(join(dir, 'www', 'index.html'), 'hello from lighttpd, from scratch\n');
      const image = 'e2e/launch-lighttpd:1';
      const built = await build(
        dir,
        [
          '--binary',
          lighttpd,
          '--binary',
          curl,
          '--add',
          'www:/var/www/html',
          '--entrypoint',
          `["${lighttpd}","-D","-f","/etc/lighttpd/lighttpd.conf"]`,
        ],
        image,
      );
      assert.doesNotMatch(built.stderr, /would not start/, built.stderr);
      const why = await fromscratch(['why', `docker-daemon:${image}`, '/etc/mime.types'], { cwd: dir });
      assert.match(why.stdout, /create-mime\.conf\.pl reads it/, why.stderr);
      const s = await serving(image);
      try {
        const page = await s.curl(['-fsS', 'http://127.0.0.1/']);
        assert.equal(page.code, 0, `${page.stderr}\n${await s.logs()}`);
        assert.equal(page.stdout, 'hello from lighttpd, from scratch\n');
      } finally {
        await s.stop();
      }
    });
  });
});
