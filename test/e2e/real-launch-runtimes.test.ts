/**
 * real-launch-runtimes.test.ts — real programs from Debian, built as a user builds them and run under
 * Docker with `--network none`, each output compared with the same program run on the host (issue 11):
 * programs whose runtime is found from their own path: OpenJDK and Maven, python3 and its site packages
 * and console scripts, RubyGems and Node.js package scripts, and interpreters whose library directories
 * are compiled in (perl, ruby, tclsh, guile). The helpers are launch-support.ts's.
 */
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { requireTool, run, withTempDir } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';
import { build, docker, dockerRun, imageSize } from './launch-support.ts';

const JAVA_MAIN = `import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;

public class Main {
  public static void main(String[] args) throws Exception {
    byte[] data = "fromscratch fromscratch fromscratch fromscratch".getBytes(StandardCharsets.UTF_8);
    CRC32 crc = new CRC32();
    crc.update(data);
    Deflater d = new Deflater(9);
    d.setInput(data);
    d.finish();
    byte[] buf = new byte[256];
    int n = d.deflate(buf);
    Inflater inf = new Inflater();
    inf.setInput(buf, 0, n);
    byte[] out = new byte[256];
    int m = inf.inflate(out);
    System.out.println("zip crc32=" + Long.toHexString(crc.getValue()) + " deflated=" + n + " roundtrip=" + new String(out, 0, m, StandardCharsets.UTF_8).equals(new String(data, StandardCharsets.UTF_8)));
    ZoneId paris = ZoneId.of("Europe/Paris");
    System.out.println("tz " + ZonedDateTime.ofInstant(Instant.ofEpochSecond(1700000000L), paris));
    System.out.println("tz " + ZonedDateTime.ofInstant(Instant.ofEpochSecond(1690000000L), paris));
    SSLContext ctx = SSLContext.getDefault();
    int suites = ((SSLSocketFactory) SSLSocketFactory.getDefault()).getDefaultCipherSuites().length;
    System.out.println("tls " + ctx.getProtocol() + " " + ctx.getProvider().getName() + " suites=" + suites);
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    try (var in = new java.io.FileInputStream(System.getProperty("java.home") + "/lib/security/cacerts")) {
      ks.load(in, null);
    }
    System.out.println("cacerts " + ks.size());
  }
}
`;

describe('launchers that find their runtime', () => {
  it('OpenJDK: java -version, javac -version and a class using zip, TLS and time zones run as on the host', async (t) => {
    const java = requireTool('java', 'openjdk-17-jre-headless');
    const javac = requireTool('javac', 'openjdk-17-jdk-headless');
    await withTempDir('e2e-java', async (dir) => {
      await writeFile(join(dir, 'Main.java'), JAVA_MAIN);
      await run(javac, ['-d', join(dir, 'classes'), join(dir, 'Main.java')], { timeoutMs: 300_000 });
      const image = 'e2e/launch-java:1';
      const b = await build(
        dir,
        [
          '--binary',
          '/usr/bin/java',
          '--binary',
          '/usr/bin/javac',
          '--add',
          './classes/Main.class:/app/Main.class',
        ],
        image,
      );
      assert.doesNotMatch(b.stderr, /LIBRARY_NOT_FOUND|\/proc\/self\/exe/);
      const hostVersion = await run(java, ['-version']);
      const version = await docker(image, ['/usr/bin/java', '-version']);
      assert.equal(version.stderr, hostVersion.stderr, 'java -version (on stderr) as on the host');
      assert.match(version.stderr, /sharing\)/, 'the class data sharing archive is used');
      const hostJavac = await run(javac, ['-version']);
      assert.equal((await docker(image, ['/usr/bin/javac', '-version'])).stdout, hostJavac.stdout);
      const hostMain = await run(java, ['-cp', join(dir, 'classes'), 'Main']);
      const main = await docker(image, ['/usr/bin/java', '-cp', '/app', 'Main']);
      assert.equal(main.stdout, hostMain.stdout);
      assert.match(main.stdout, /^cacerts [1-9]/m, 'the CA certificates are read');
      const size = await imageSize(image);
      t.diagnostic(`java + javac image: ${(size / 1e6).toFixed(1)} MB`);
    });
  });
  it('maven: its launcher finds its home from its own path (boot, conf, lib/*.jar linked into /usr/share/java) and java with `command -v`, as on the host', async () => {
    requireTool('mvn', 'maven');
    await withTempDir('e2e-mvn', async (dir) => {
      const image = 'e2e/launch-mvn:1';
      const b = await build(dir, ['--binary', '/usr/bin/mvn'], image);
      assert.doesNotMatch(b.stderr, /LIBRARY_NOT_FOUND|over the bound/, b.stderr);
      const host = await run('/usr/bin/mvn', ['-v'], { env: { PATH: '/usr/bin:/bin' } });
      assert.match(host.stdout, /Maven home: \/usr\/share\/maven/);
      assert.equal((await docker(image, ['-v'])).stdout, host.stdout);
    });
  });
});

const PY_MAIN = `import decimal, hashlib, json, locale, sqlite3, ssl, sys, unicodedata, zlib
print(locale.setlocale(locale.LC_ALL, ""), locale.getlocale(), sys.getfilesystemencoding(), sys.prefix)
print(len("h\u00e9llo"), "h\u00e9llo".upper(), unicodedata.name("\u00e9"))
print(json.dumps({"a": [1, 2.5, None]}), zlib.crc32(b"fromscratch"), hashlib.sha256(b"x").hexdigest())
print(ssl.OPENSSL_VERSION, ssl.create_default_context().verify_mode)
print(sqlite3.sqlite_version, decimal.Decimal(1) / 7)
from datetime import datetime
from zoneinfo import ZoneInfo
print(datetime.fromtimestamp(1700000000, ZoneInfo("America/New_York")).isoformat())
`;

describe("a version manager's shim named as the program (pyenv's shims/python3)", () => {
  it("the image gets the python the shim runs here (the nearest .python-version), the shim's path a link to it; it runs as on the host", async () => {
    requireTool('python3', 'python3');
    await withTempDir('e2e-shim', async (dir) => {
      // pyenv's layout: a shim script per program, the versions beside it (this one the system's python)
      const home = join(dir, '.pyenv');
      await mkdir(join(home, 'shims'), { recursive: true });
      await mkdir(join(home, 'versions', '3.99.0', 'bin'), { recursive: true });
      await symlink('/usr/bin/python3', join(home, 'versions', '3.99.0', 'bin', 'python3'));
      const shim = join(home, 'shims', 'python3');
      await writeFile(
        shim,
        `#!/usr/bin/env bash\nset -e\nprogram="\${0##*/}"\nexport PYENV_ROOT="${home}"\nexec "${home}/libexec/pyenv" exec "$program" "$@"\n`,
        { mode: 0o755 },
      );
      await writeFile(join(dir, '.python-version'), '3.99.0\n');
      const image = 'e2e/shim-python3:1';
      const r = await build(dir, ['--binary', shim], image, { PYENV_VERSION: '' });
      assert.match(
        r.stderr,
        /is a shim: the image gets the program it runs here, .*versions\/3\.99\.0\/bin\/python3 \(pyenv version 3\.99\.0 \(from .*\.python-version\)\)/,
      );
      const code = 'import json, ssl, sqlite3; print(json.dumps({"ok": True}))';
      const ours = await docker(image, ['-c', code]);
      assert.equal(ours.stdout, (await run('/usr/bin/python3', ['-c', code])).stdout);
      // no bash, no pyenv: the shim itself is not what runs
      const ls = await dockerRun(image, [
        '-c',
        `import os; print(os.readlink("${shim}"), os.path.exists("/usr/bin/bash"))`,
      ]);
      assert.equal(ls.stdout, `${join(home, 'versions', '3.99.0', 'bin', 'python3')} False\n`);
    });
  });
});

describe('interpreters that find their standard library from their own path', () => {
  it("an app directory holding a Python virtual environment (venv/bin/python is a link to /usr/bin/python3): the interpreter it links to comes with it, with its standard library; the app imports a package of the venv's site-packages, as on the host", async () => {
    requireTool('python3', 'python3');
    await withTempDir('e2e-venv', async (dir) => {
      const app = join(dir, 'app');
      await mkdir(app);
      await run('/usr/bin/python3', ['-m', 'venv', '--without-pip', join(app, 'venv')]);
      const minor = (
        await run('/usr/bin/python3', [
          '-c',
          'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")',
        ])
      ).stdout.trim();
      const pkg = join(app, 'venv', 'lib', `python${minor}`, 'site-packages', 'greet');
      await mkdir(pkg, { recursive: true });
      await writeFile(join(pkg, '__init__.py'), 'def hi():\n    return "hi from the venv"\n');
      await writeFile(
        join(app, 'main.py'),
        'import json, sys, greet\nprint(greet.hi(), sys.prefix, sys.base_prefix, json.dumps({"ok": True}))\n',
      );
      const image = 'e2e/launch-python-venv:1';
      const b = await build(
        dir,
        ['--add', `${app}:/app`, '--entrypoint', '["/app/venv/bin/python","/app/main.py"]'],
        image,
      );
      assert.doesNotMatch(b.stderr, /not in the image|warning: .*Python runtime/, b.stderr);
      const host = await run(join(app, 'venv', 'bin', 'python'), [join(app, 'main.py')]);
      assert.equal((await docker(image, [])).stdout, host.stdout.replaceAll(app, '/app'));
      assert.match(host.stdout, /^hi from the venv /);

      // the same from a Dockerfile whose COPY asks for the closure
      await writeFile(
        join(dir, 'Dockerfile'),
        'FROM scratch\n# fromscratch: closure\nCOPY app/ /app/\nENTRYPOINT ["/app/venv/bin/python","/app/main.py"]\n',
      );
      const fromDockerfile = 'e2e/launch-python-venv-dockerfile:1';
      const d = await build(dir, ['.'], fromDockerfile);
      assert.doesNotMatch(d.stderr, /not in the image/, d.stderr);
      assert.equal((await docker(fromDockerfile, [])).stdout, host.stdout.replaceAll(app, '/app'));
    });
  });

  it('python3 under --env LC_ALL=C.UTF-8: the standard library, its extension modules (ssl, sqlite3, zlib), the locale and the zones of zoneinfo, as on the host', async (t) => {
    requireTool('python3', 'python3'); // /usr/bin/python3: Debian's, as a user names it
    await withTempDir('e2e-python', async (dir) => {
      await writeFile(join(dir, 'main.py'), PY_MAIN);
      const image = 'e2e/launch-python:1';
      const b = await build(
        dir,
        ['--binary', '/usr/bin/python3', '--env', 'LC_ALL=C.UTF-8', '--add', './main.py:/app/main.py'],
        image,
      );
      assert.doesNotMatch(b.stderr, /warning: .*(locale|Python runtime)/);
      const host = await run('/usr/bin/python3', [join(dir, 'main.py')], {
        env: { ...process.env, LC_ALL: 'C.UTF-8' },
      });
      assert.match(host.stdout, /^C\.UTF-8 /);
      // the one --binary is the entrypoint (as ko does): the script is its argument
      assert.equal((await docker(image, ['/app/main.py'])).stdout, host.stdout);
      t.diagnostic(`python3 image: ${((await imageSize(image)) / 1e6).toFixed(1)} MB`);

      // without the rule, the start check knows CPython cannot start: --strict refuses to write it
      const bare = await fromscratch(
        ['build', '--binary', '/usr/bin/python3', '--no-infer', 'python', '--strict', '-o', 'oci:bare:1'],
        { cwd: dir },
      );
      assert.equal(bare.code, 1, bare.stderr);
      assert.match(bare.stderr, /IMAGE_CANNOT_START/);
      assert.match(
        bare.stderr,
        /standard library is not in the image \(Python runtime: \/usr\/lib\/python3\.\d+\/os\.py\)/,
      );
    });
  });
});

/** PERL_MAIN uses pure-Perl and XS modules of the standard library (XS ones are dlopened by path). */
const PERL_MAIN = `use strict; use warnings;
use POSIX qw(strftime floor); use JSON::PP; use Digest::MD5 qw(md5_hex); use List::Util qw(sum max);
use Storable qw(dclone); use Encode qw(encode); use Time::Local qw(timegm); use File::Temp qw(tempfile);
my $d = dclone({ a => [1, 2, 3] });
print join(" ", strftime("%Y-%m-%d", gmtime(86400 * 365)), floor(2.7), JSON::PP->new->canonical->encode($d),
  md5_hex("fromscratch"), sum(1 .. 10), max(3, 9, 4), length(encode("UTF-8", "\\x{e9}t\\x{e9}")), timegm(0, 0, 0, 1, 0, 2000)), "\\n";
my ($fh, $name) = tempfile(); print $fh "x"; close $fh; print -s $name, "\\n";
`;

/** RUBY_MAIN uses Ruby's standard library and its native extensions (json, digest, openssl, zlib, date). */
const RUBY_MAIN = `require "json"; require "digest"; require "openssl"; require "zlib"; require "date"; require "set"
puts [JSON.generate({ "a" => [1, 2] }), Digest::MD5.hexdigest("fromscratch"), OpenSSL::Digest::SHA256.hexdigest("x")[0, 12],
  Zlib.crc32("fromscratch"), Date.new(2000, 1, 1).jd, Set[3, 1, 3].size, defined?(Gem) ? "gems" : "no gems"].join(" ")
`;

describe("an application's imports of the system's site packages (apt's python3-yaml, python3-cryptography)", () => {
  it('python3 with an app importing yaml (libyaml C module), cryptography (cffi: _cffi_backend, the OpenSSL legacy provider) and its own module, as on the host', async () => {
    requireTool('python3', 'python3');
    const has = await run('/usr/bin/python3', ['-c', 'import yaml, cryptography'], { allowFail: true });
    if (has.code !== 0)
      throw new Error(
        'the host needs python3-yaml and python3-cryptography (scripts/services.sh installs them)',
      );
    await withTempDir('e2e-pyapp', async (dir) => {
      await mkdir(join(dir, 'app'));
      await writeFile(
        join(dir, 'app', 'main.py'),
        'import yaml\nfrom helpers import shout\nimport cryptography.fernet as fernet\nf = fernet.Fernet(fernet.Fernet.generate_key())\nprint(shout(yaml.safe_dump({"a": [1, 2]}, default_flow_style=True).strip()), yaml.__with_libyaml__, f.decrypt(f.encrypt(b"ok")).decode())\n',
      );
      await writeFile(
        join(dir, 'app', 'helpers.py'),
        'import textwrap\ndef shout(s):\n    return s.upper()\n',
      );
      const image = 'e2e/pyapp:1';
      const b = await build(
        dir,
        [
          '--binary',
          '/usr/bin/python3',
          '--add',
          './app:/app',
          '--entrypoint',
          '["/usr/bin/python3","/app/main.py"]',
        ],
        image,
      );
      assert.doesNotMatch(b.stderr, /warning: .*Python packages/);
      const host = await run('/usr/bin/python3', [join(dir, 'app', 'main.py')]);
      assert.equal(host.stdout, '{A: [1, 2]} True ok\n');
      assert.equal((await docker(image, [])).stdout, host.stdout);
    });
  });
  it('apps that run programs: a Python app shelling out (os.popen, shell=True, os.system), a PHP app (shell_exec, backquotes, exec) and a Node.js app through child_process (execSync, spawnSync) get /bin/sh and the programs, as on the host', async () => {
    requireTool('python3', 'python3');
    const apps = [
      {
        name: 'pyshell',
        runtime: '/usr/bin/python3',
        file: 'main.py',
        expected: 'Linux 1970-01-02 0 True 0\n',
        source: [
          'import os, subprocess',
          'kernel = os.popen("uname -s").read().strip()',
          'day = subprocess.run("date -u -d @86400 +%F", shell=True, capture_output=True, text=True).stdout.strip()',
          'code = os.system("gzip -nc /app/main.py > /tmp/main.py.gz")',
          'cmd = ["id", "-u"]',
          'uid = subprocess.run(cmd, capture_output=True, text=True).stdout.strip()',
          'print(kernel, day, code, os.path.getsize("/tmp/main.py.gz") > 0, uid)',
        ],
      },
      {
        name: 'phpshell',
        runtime: '/usr/bin/php',
        file: 'main.php',
        expected: 'Linux 1970-01-02 0 true\n',
        source: [
          '<?php',
          "$kernel = trim(shell_exec('uname -s'));",
          '$day = trim(`date -u -d @86400 +%F`);',
          "exec('gzip -nc /app/main.php > /tmp/main.php.gz', $out, $code);",
          "echo $kernel, ' ', $day, ' ', $code, ' ', filesize('/tmp/main.php.gz') > 0 ? 'true' : 'false', \"\\n\";",
        ],
      },
      {
        name: 'nodeshell',
        runtime: '/usr/bin/node',
        file: 'app.js',
        expected: 'Linux 1970-01-02 true 0\n',
        source: [
          "const { execSync, spawnSync } = require('node:child_process');",
          "const kernel = execSync('uname -s').toString().trim();",
          "const day = spawnSync('date', ['-u', '-d', '@86400', '+%F']).stdout.toString().trim();",
          "execSync('gzip -nc /app/app.js > /tmp/app.js.gz');",
          "const ID = 'id';",
          "const uid = spawnSync(ID, ['-u']).stdout.toString().trim();",
          "console.log(kernel, day, require('node:fs').statSync('/tmp/app.js.gz').size > 0, uid);",
        ],
      },
    ];
    for (const app of apps)
      await withTempDir(`e2e-${app.name}`, async (dir) => {
        await mkdir(join(dir, 'app'));
        await writeFile(join(dir, 'app', app.file), `${app.source.join('\n')}\n`);
        const image = `e2e/${app.name}:1`;
        const entrypoint = JSON.stringify([app.runtime, `/app/${app.file}`]);
        const b = await build(
          dir,
          ['--binary', app.runtime, '--add', './app:/app', '--entrypoint', entrypoint],
          image,
        );
        assert.doesNotMatch(b.stderr, /warning/i, b.stderr);
        assert.equal((await docker(image, [])).stdout, app.expected, app.name);
      });
  });
  it("console scripts: yq and pygmentize load their entry point through the distribution's metadata (yq runs jq by name), pip3 imports its package, as on the host", async () => {
    const tools: [string, string][] = [
      ['/usr/bin/yq', 'yq'],
      ['/usr/bin/pygmentize', 'python3-pygments'],
      ['/usr/bin/pip3', 'python3-pip'],
    ];
    for (const [tool, pkg] of tools)
      if ((await run('test', ['-x', tool], { allowFail: true })).code !== 0)
        throw new Error(`${tool} is missing: apt-get install -y ${pkg} (scripts/services.sh installs it)`);
    await withTempDir('e2e-console-scripts', async (dir) => {
      await writeFile(join(dir, 'a.json'), '{"a": [1, 2], "b": {"c": "d"}}\n');
      // the host's own, with no environment: Debian's python3 and its dist-packages
      const bare = { PATH: '/usr/bin:/bin' };
      const cases: [string, string[]][] = [
        ['yq', ['-y', '.', '/w/a.json']],
        ['pygmentize', ['-l', 'json', '-f', 'html', '/w/a.json']],
        ['pip3', ['--version']],
      ];
      for (const [name, args] of cases) {
        const image = `e2e/console-${name}:1`;
        const b = await build(dir, ['--binary', `/usr/bin/${name}`], image);
        assert.doesNotMatch(b.stderr, /warning/i, b.stderr);
        const host = await run(
          `/usr/bin/${name}`,
          args.map((a) => a.replace('/w/', `${dir}/`)),
          { env: bare },
        );
        const ours = await dockerRun(image, args, { mount: dir });
        assert.equal(ours.stdout, host.stdout, name);
      }
    });
  });

  it('a Python app loading C libraries through ctypes (find_library, CDLL by SONAME): the libraries come, with the ldconfig find_library runs and the ld.so.cache it reads, written for the image; as on the host', async () => {
    requireTool('python3', 'python3');
    await withTempDir('e2e-python-ctypes', async (dir) => {
      await writeFile(
        join(dir, 'app.py'),
        [
          'import ctypes',
          'import ctypes.util',
          '',
          'png = ctypes.CDLL(ctypes.util.find_library("png16"))',
          'z = ctypes.CDLL("libz.so.1")',
          'z.zlibVersion.restype = ctypes.c_char_p',
          'print(ctypes.util.find_library("png16"), png.png_access_version_number() // 10000, z.zlibVersion().decode())',
          '',
        ].join('\n'),
      );
      const image = 'e2e/python-ctypes:1';
      const b = await build(
        dir,
        [
          '--binary',
          '/usr/bin/python3',
          '--add',
          './app.py:/app/app.py',
          '--entrypoint',
          '["/usr/bin/python3","/app/app.py"]',
        ],
        image,
      );
      assert.match(b.stderr, /\/etc\/ld\.so\.cache written with \d+ libraries/);
      const host = await run('/usr/bin/python3', [join(dir, 'app.py')], { env: { PATH: '/usr/bin:/bin' } });
      assert.match(host.stdout, /^libpng16\.so\.16 1 /);
      assert.equal((await docker(image, [])).stdout, host.stdout);
      // the cache lists what the image holds, as ldconfig would
      const listed = await run(requireTool('docker', 'docker.io'), [
        ...['run', '--rm', '--network', 'none', '--entrypoint', '/sbin/ldconfig', image, '-p'],
      ]);
      assert.match(
        listed.stdout,
        /libpng16\.so\.16 \(libc6,x86-64\) => \/usr\/lib\/x86_64-linux-gnu\/libpng16\.so\.16/,
      );
    });
  });

  it("the image's command run by python itself: the module of `python3 -m pip` and what `python3 -c` imports (yaml) come from the system's site packages, as on the host", async () => {
    requireTool('pip3', 'python3-pip');
    await withTempDir('e2e-python-m', async (dir) => {
      const bare = { PATH: '/usr/bin:/bin' };
      const cases: [string, string[], string[]][] = [
        ['pip', ['/usr/bin/python3', '-m', 'pip'], ['--version']],
        [
          'yaml',
          ['/usr/bin/python3', '-c', 'import sys, yaml; print(yaml.safe_load(sys.argv[1]))'],
          ['{a: [1, 2]}'],
        ],
      ];
      for (const [name, entrypoint, cmd] of cases) {
        const image = `e2e/python-m-${name}:1`;
        await build(
          dir,
          [
            '--binary',
            '/usr/bin/python3',
            '--entrypoint',
            JSON.stringify(entrypoint),
            '--cmd',
            JSON.stringify(cmd),
          ],
          image,
        );
        const host = await run(entrypoint[0]!, [...entrypoint.slice(1), ...cmd], { env: bare });
        assert.equal((await dockerRun(image, [])).stdout, host.stdout, name);
      }
    });
  });
});

describe("scripts of a language's packages: RubyGems' executable stubs (rake, irb, erb), Node.js packages (npm, corepack)", () => {
  it('rake runs a Rakefile, irb and erb report their version, erb renders a template, as on the host', async () => {
    requireTool('rake', 'rake');
    await withTempDir('e2e-gems', async (dir) => {
      await writeFile(join(dir, 'Rakefile'), 'task :default do\n  puts "rake ran #{6 * 7}"\nend\n');
      await writeFile(join(dir, 't.erb'), '<% 3.times do |i| %><%= i * i %> <% end %>\n');
      const bare = { PATH: '/usr/bin:/bin' };
      const cases: [string, string, string[]][] = [
        ['rake', '/usr/bin/rake', ['-f', '/w/Rakefile']],
        ['irb', '/usr/bin/irb3.1', ['--version']],
        ['erb', '/usr/bin/erb3.1', ['/w/t.erb']],
      ];
      for (const [name, binary, args] of cases) {
        const image = `e2e/gem-${name}:1`;
        const b = await build(dir, ['--binary', binary], image);
        assert.doesNotMatch(b.stderr, /warning/i, b.stderr);
        const host = await run(
          binary,
          args.map((a) => a.replace('/w/', `${dir}/`)),
          { env: bare, cwd: dir },
        );
        const ours = await dockerRun(image, args, { mount: dir, workdir: '/w' });
        assert.equal(ours.stdout, host.stdout, name);
      }
    });
  });

  it('a Ruby script that runs programs (backquotes, IO.popen with an array, system with a redirection): they and /bin/sh come with ruby, as on the host', async () => {
    requireTool('ruby', 'ruby');
    await withTempDir('e2e-rubyshell', async (dir) => {
      await writeFile(
        join(dir, 'report.rb'),
        [
          '#!/usr/bin/ruby',
          'kernel = `uname -s`.strip',
          'day = IO.popen(["date", "-u", "-d", "@86400", "+%F"]).read.strip',
          'ok = system("gzip -nc /report.rb > /tmp/r.gz")',
          'puts "#{kernel} #{day} #{ok}"',
          '',
        ].join('\n'),
        { mode: 0o755 },
      );
      const image = 'e2e/rubyshell:1';
      const b = await build(
        dir,
        ['--add', './report.rb:/report.rb', '--entrypoint', '["/report.rb"]'],
        image,
      );
      assert.doesNotMatch(b.stderr, /warning/i, b.stderr);
      assert.equal((await docker(image, [])).stdout, 'Linux 1970-01-02 true\n');
    });
  });
  it('npm and corepack, scripts of their Node.js packages, run as on the host', async () => {
    const cases: [string, string][] = [
      ['npm', '/usr/lib/node_modules/npm/bin/npm-cli.js'],
      ['corepack', '/usr/lib/node_modules/corepack/dist/corepack.js'],
    ];
    for (const [name, script] of cases)
      if ((await run('test', ['-f', script], { allowFail: true })).code !== 0)
        throw new Error(`${script} is missing: the host's Node.js (nodejs) installs ${name}`);
    await withTempDir('e2e-node-packages', async (dir) => {
      for (const [name, script] of cases) {
        const image = `e2e/node-package-${name}:1`;
        const b = await build(dir, ['--binary', script], image);
        assert.doesNotMatch(b.stderr, /warning/i, b.stderr);
        const host = await run(script, ['--version'], { env: { PATH: '/usr/bin:/bin' } });
        assert.equal((await docker(image, ['--version'])).stdout, host.stdout, name);
      }
    });
  });
});

describe('interpreters whose library directories are compiled in (Perl @INC, Ruby $LOAD_PATH, Tcl tcl_library, Guile %load-path)', () => {
  it("tclsh: init.tcl and the script library (clock scan and format are Tcl scripts) load from libtcl's compiled-in directory, and clock's zones, as on the host", async () => {
    requireTool('tclsh', 'tcl');
    await withTempDir('e2e-tcl', async (dir) => {
      await writeFile(
        join(dir, 'main.tcl'),
        // -timezone :Asia/Tokyo: clock reads the zone from /usr/share/zoneinfo
        'puts [clock format [clock scan "2000-02-29 12:00" -format "%Y-%m-%d %H:%M" -gmt 1] -gmt 1 -format "%A %d %B %Y %H:%M"]\nputs [string map {a b} [info tclversion]/abc]\nputs [lsort -integer {10 2 33}]\nputs [clock format 1700000000 -timezone :Asia/Tokyo -format "%H:%M %Z"]\n',
      );
      const image = 'e2e/launch-tcl:1';
      const b = await build(dir, ['--binary', '/usr/bin/tclsh', '--add', './main.tcl:/app/main.tcl'], image);
      assert.doesNotMatch(b.stderr, /warning: .*Tcl runtime/);
      const host = await run('/usr/bin/tclsh', [join(dir, 'main.tcl')]);
      assert.match(host.stdout, /^Tuesday 29 February 2000 12:00\n[\s\S]*07:13 JST\n$/);
      assert.equal((await docker(image, ['/app/main.tcl'])).stdout, host.stdout);
    });
  });

  it('perl: pure-Perl and XS modules of its standard library run as on the host; without the rule not even strict.pm is there', async (t) => {
    requireTool('perl', 'perl');
    await withTempDir('e2e-perl', async (dir) => {
      await writeFile(join(dir, 'main.pl'), PERL_MAIN);
      const image = 'e2e/launch-perl:1';
      const b = await build(dir, ['--binary', '/usr/bin/perl', '--add', './main.pl:/app/main.pl'], image);
      assert.doesNotMatch(b.stderr, /warning: .*Perl runtime/);
      const host = await run('/usr/bin/perl', [join(dir, 'main.pl')]);
      assert.match(host.stdout, /^1971-01-01 2 \{"a":\[1,2,3\]\} /);
      assert.equal((await docker(image, ['/app/main.pl'])).stdout, host.stdout);
      t.diagnostic(`perl image: ${((await imageSize(image)) / 1e6).toFixed(1)} MB`);

      const bare = 'e2e/launch-perl-bare:1';
      const nb = await build(
        dir,
        ['--binary', '/usr/bin/perl', '--no-infer', 'interpreters', '--add', './main.pl:/app/main.pl'],
        bare,
      );
      // the start check says so at build time: the failure below is predicted, not discovered
      assert.match(
        nb.stderr,
        /\/usr\/bin\/perl.* is an interpreter whose standard library is not in the image \(Perl runtime: /,
      );
      const r = await run('docker', ['run', '--rm', '--network', 'none', bare, '/app/main.pl'], {
        allowFail: true,
      });
      assert.match(`${r.stdout}${r.stderr}`, /Can't locate strict\.pm in @INC/);
    });
  });

  it("guile: its Scheme library and the compiled .go files of libguile's compiled-in directories load as on the host, nothing compiled at start", async () => {
    const guile = requireTool('guile', 'guile-3.0');
    await withTempDir('e2e-guile', async (dir) => {
      const image = 'e2e/launch-guile:1';
      const b = await build(dir, ['--binary', guile], image);
      assert.doesNotMatch(b.stderr, /warning: .*Guile runtime/);
      const code =
        '(use-modules (ice-9 format) (srfi srfi-1) (ice-9 regex)) (format #t "~a ~a ~a~%" (fold + 0 (iota 5)) (match:substring (string-match "[0-9]+" "ab123")) (string-upcase "scheme"))';
      const host = await run(guile, ['-c', code]);
      assert.equal(host.stdout, '10 123 SCHEME\n');
      const ours = await docker(image, ['-c', code]);
      assert.equal(ours.stdout, host.stdout);
      // without the ccache, guile compiles each module it loads: ";;; compiling …" on stderr
      assert.doesNotMatch(ours.stderr, /compil/, ours.stderr);
    });
  });

  it("a Perl script's modules from Debian's vendor directories (JSON, Algorithm::Diff, DBI with its compiled part) come with it; it runs as on the host", async () => {
    requireTool('perl', 'perl');
    await withTempDir('e2e-perl-vendor', async (dir) => {
      await writeFile(
        join(dir, 'app.pl'),
        [
          '#!/usr/bin/perl',
          'use strict;',
          'use warnings;',
          'use JSON;',
          'use DBI;',
          'use Algorithm::Diff qw(diff);',
          'my @d = diff([qw(a b c)], [qw(a c d)]);',
          'print JSON->new->canonical->encode({ hunks => scalar(@d), quote => DBI::neat(\'x\') }), "\\n";',
          '',
        ].join('\n'),
        { mode: 0o755 },
      );
      const image = 'e2e/launch-perl-vendor:1';
      const b = await build(dir, ['--binary', 'app.pl:/app/app.pl'], image);
      assert.doesNotMatch(b.stderr, /warning/i, b.stderr);
      const host = await run('/usr/bin/perl', [join(dir, 'app.pl')]);
      assert.equal(host.stdout, '{"hunks":2,"quote":"\'x\'"}\n');
      // without them: "Can't locate JSON.pm in @INC"
      const ours = await dockerRun(image, [], { allowFail: true });
      assert.equal(ours.stdout, host.stdout, ours.stderr);
      const why = await fromscratch(['why', `docker-daemon:${image}`, '/usr/share/perl5/JSON.pm'], {
        cwd: dir,
      });
      assert.match(why.stdout, /the Perl script \/app\/app\.pl uses JSON, found in \/usr\/share\/perl5/);
    });
  });

  it("ruby: json, digest, openssl, zlib, date and RubyGems load from libruby's compiled-in directories, as on the host", async (t) => {
    requireTool('ruby', 'ruby');
    await withTempDir('e2e-ruby', async (dir) => {
      await writeFile(join(dir, 'main.rb'), RUBY_MAIN);
      const image = 'e2e/launch-ruby:1';
      const b = await build(dir, ['--binary', '/usr/bin/ruby', '--add', './main.rb:/app/main.rb'], image);
      assert.doesNotMatch(b.stderr, /warning: .*Ruby runtime/);
      const host = await run('/usr/bin/ruby', [join(dir, 'main.rb')]);
      assert.match(host.stdout, / gems\n$/);
      const ours = await docker(image, ['/app/main.rb']);
      assert.equal(ours.stdout, host.stdout);
      assert.equal(ours.stderr, '', 'no "RubyGems were not loaded" warnings');
      t.diagnostic(`ruby image: ${((await imageSize(image)) / 1e6).toFixed(1)} MB`);
    });
  });

  it("a Ruby app's libraries outside the standard library: bundled gems (rexml, net-smtp, prime), Debian's gems (webrick; sdbm, compiled), a vendor_ruby library (xmlrpc), through a script's requires and through Bundler's Gemfile; gem list, as on the host", async (t) => {
    requireTool('ruby', 'ruby');
    await withTempDir('e2e-ruby-libs', async (dir) => {
      const app = join(dir, 'app');
      await mkdir(app);
      await writeFile(
        join(app, 'app.rb'),
        [
          '#!/usr/bin/env ruby',
          "require 'rexml/document'",
          "require 'net/smtp'",
          "require 'sdbm'",
          "require 'xmlrpc/client'",
          "require 'prime'",
          "require 'webrick'",
          "doc = REXML::Document.new('<a><b>x</b></a>')",
          "SDBM.open('db') { |db| db['k'] = 'v' }",
          "puts \"rexml #{doc.root.elements['b'].text} smtp #{Net::SMTP::VERSION} sdbm #{SDBM.open('db')['k']}\"",
          'puts "primes #{Prime.first(5).join(\',\')} #{XMLRPC::Client.name} webrick #{WEBrick::VERSION}"',
          '',
        ].join('\n'),
        { mode: 0o755 },
      );
      await writeFile(join(app, 'Gemfile'), "source 'https://rubygems.org'\ngem 'json'\ngem 'webrick'\n");
      await writeFile(
        join(app, 'bundled.rb'),
        "require 'bundler/setup'\nrequire 'json'\nrequire 'webrick'\nputs \"bundled json #{JSON::VERSION} webrick #{WEBrick::VERSION} #{Bundler.definition.specs.map(&:name).sort.join(',')}\"\n",
      );
      // a script run through its #! line, with the sources its directory holds
      const image = 'e2e/ruby-libs:1';
      const b = await build(
        dir,
        ['--add', './app:/app', '--workdir', '/app', '--entrypoint', '["/app/app.rb"]'],
        image,
      );
      assert.doesNotMatch(b.stderr, /warning: .*Ruby/);
      const host = await run(join(app, 'app.rb'), [], { cwd: app });
      const ours = await docker(image, []);
      assert.equal(ours.stdout, host.stdout);
      assert.equal(ours.stderr, '');
      // an app run by ruby, through Bundler and its Gemfile
      const bundled = 'e2e/ruby-bundler:1';
      await build(
        dir,
        [
          '--binary',
          '/usr/bin/ruby',
          '--add',
          './app:/app',
          '--workdir',
          '/app',
          '--entrypoint',
          '["/usr/bin/ruby","/app/bundled.rb"]',
        ],
        bundled,
      );
      const hostBundled = await run('/usr/bin/ruby', ['bundled.rb'], { cwd: app });
      assert.match(hostBundled.stdout, /^bundled json /);
      assert.equal((await docker(bundled, [])).stdout, hostBundled.stdout);
      // the installed gems' specifications: gem list as on the host
      const gem = 'e2e/ruby-gem:1';
      await build(dir, ['--binary', '/usr/bin/gem'], gem);
      const hostList = await run('/usr/bin/gem', ['list'], { cwd: dir });
      assert.equal((await docker(gem, ['list'])).stdout, hostList.stdout);
      t.diagnostic(`ruby app image: ${((await imageSize(image)) / 1e6).toFixed(1)} MB`);
    });
  });
});
