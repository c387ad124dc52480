/**
 * real-launch.test.ts — real programs from Debian that find their runtime by their own path, or that
 * load locale data, built as a user builds them and run under Docker with `--network none`; each
 * output is compared with the same program run on the host (issue 11).
 *
 * - OpenJDK: `--binary /usr/bin/java --binary /usr/bin/javac` runs `java -version`, `javac -version`
 *   and a class compiled here that uses java.util.zip, TLS (the default SSLContext and cacerts) and
 *   time zones (Europe/Paris at fixed instants).
 * - gawk under `--env LC_ALL=C.UTF-8` counts the characters of a UTF-8 string (5 only when the locale
 *   loads); under a locale the root lacks, the build warns and the image falls back as the host does.
 * - wc from a Dockerfile `COPY` with `ENV LANG=C.UTF-8` counts characters of a file the same way.
 * - python3 (`--binary /usr/bin/python3`) finds its standard library and extension modules, and its
 *   `locale.setlocale(LC_ALL, "")` works under `--env LC_ALL=C.UTF-8`.
 * - perl, ruby and tclsh (`--binary /usr/bin/perl`, `/usr/bin/ruby`, `/usr/bin/tclsh`): the class of
 *   interpreters whose library directories are compiled into their binary or libperl/libruby/libtcl;
 *   pure and native (XS, .so) modules of their standard libraries load as on the host.
 * - file(1): libmagic opens its database at a path compiled into it (`/usr/share/misc/magic.mgc`).
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { dockerRemoveImage, requireTool, run, withTempDir } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

const DIGEST = /^sha256:[a-f0-9]{64}\n$/;
const images: string[] = [];
after(async () => {
  for (const i of images) await dockerRemoveImage(i);
});

/** docker runs a command in an image without network and returns what it printed. */
async function docker(image: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await run(
    requireTool('docker', 'docker.io'),
    ['run', '--rm', '--network', 'none', image, ...args],
    {
      timeoutMs: 120_000,
    },
  );
  return { stdout: r.stdout, stderr: r.stderr };
}

/**
 * dockerRun runs a command in an image without network: a host directory mounted (`mount` at `/w` unless
 * `at` says), a working directory, environment variables or another entrypoint when given.
 */
function dockerRun(
  image: string,
  args: readonly string[],
  o: {
    mount?: string;
    at?: string;
    workdir?: string;
    env?: readonly string[];
    entrypoint?: string;
    allowFail?: boolean;
  } = {},
) {
  return run(
    requireTool('docker', 'docker.io'),
    [
      'run',
      '--rm',
      '--network',
      'none',
      ...(o.mount !== undefined ? ['-v', `${o.mount}:${o.at ?? '/w'}`] : []),
      ...(o.workdir !== undefined ? ['-w', o.workdir] : []),
      ...(o.env ?? []).flatMap((e) => ['-e', e]),
      ...(o.entrypoint !== undefined ? ['--entrypoint', o.entrypoint] : []),
      image,
      ...args,
    ],
    o.allowFail ? { allowFail: true } : {},
  );
}

/** imageSize is the unpacked size Docker reports for an image, in bytes. */
async function imageSize(image: string): Promise<number> {
  const r = await run(requireTool('docker', 'docker.io'), [
    'image',
    'inspect',
    image,
    '--format',
    '{{.Size}}',
  ]);
  return Number(r.stdout.trim());
}

/** build runs `fromscratch build` into the Docker Engine and checks it printed one digest. */
async function build(dir: string, args: readonly string[], image: string) {
  const r = await fromscratch(['build', ...args, '-o', `docker-daemon:${image}`], {
    cwd: dir,
    timeoutMs: 600_000,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, DIGEST);
  images.push(image);
  return r;
}

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

describe('interpreters that find their standard library from their own path', () => {
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
});

describe('libraries that open a data file at a compiled-in path', () => {
  it('openssl req: libcrypto reads OPENSSLDIR/openssl.cnf; a self-signed certificate the host reads back', async () => {
    requireTool('openssl', 'openssl');
    await withTempDir('e2e-openssl', async (dir) => {
      const image = 'e2e/openssl:1';
      const b = await build(dir, ['--binary', '/usr/bin/openssl'], image);
      assert.doesNotMatch(b.stderr, /warning: .*openssl\.cnf/);
      await mkdir(join(dir, 'w'));
      await dockerRun(
        image,
        [
          'req',
          '-x509',
          '-newkey',
          'ed25519',
          '-subj',
          '/CN=fromscratch',
          '-nodes',
          '-keyout',
          '/w/k.pem',
          '-out',
          '/w/c.pem',
        ],
        { mount: join(dir, 'w') },
      );
      const subject = await run('openssl', ['x509', '-noout', '-subject', '-in', join(dir, 'w', 'c.pem')]);
      assert.match(subject.stdout, /CN ?= ?fromscratch/);
    });
  });

  it('tput (ncurses): the terminfo entries of the terminals TERM names, as on the host', async () => {
    requireTool('tput', 'ncurses-bin');
    await withTempDir('e2e-tput', async (dir) => {
      const image = 'e2e/tput:1';
      const b = await build(dir, ['--binary', '/usr/bin/tput'], image);
      assert.doesNotMatch(b.stderr, /warning: .*terminfo/);
      for (const term of ['xterm', 'xterm-256color', 'screen', 'linux', 'dumb']) {
        const host = await run('tput', ['-T', term, 'colors']);
        const ours = await dockerRun(image, ['colors'], { env: [`TERM=${term}`] });
        assert.equal(ours.stdout, host.stdout, term);
      }
    });
  });

  it("file(1): libmagic's magic.mgc comes with it; -b on a gzip, a JSON and an ELF file prints what the host prints", async () => {
    requireTool('file', 'file');
    await withTempDir('e2e-file', async (dir) => {
      await writeFile(join(dir, 'data.json'), '{"a": [1, 2]}\n');
      await writeFile(join(dir, 'data.gz'), gzipSync(Buffer.from('x'.repeat(1000))));
      const image = 'e2e/launch-file:1';
      const b = await build(
        dir,
        [
          '--binary',
          '/usr/bin/file',
          '--add',
          './data.json:/app/data.json',
          '--add',
          './data.gz:/app/data.gz',
        ],
        image,
      );
      assert.doesNotMatch(b.stderr, /warning: .*libmagic/);
      const host = await run('/usr/bin/file', [
        '-b',
        join(dir, 'data.json'),
        join(dir, 'data.gz'),
        '/usr/bin/file',
      ]);
      assert.match(host.stdout, /^JSON (text )?data\ngzip compressed data/);
      assert.equal(
        (await docker(image, ['-b', '/app/data.json', '/app/data.gz', '/usr/bin/file'])).stdout,
        host.stdout,
      );
      // without the rule the start check names the missing database at build time
      const bare = await fromscratch(
        ['build', '--binary', '/usr/bin/file', '--no-infer', 'library-data', '-o', 'oci:bare:1'],
        { cwd: dir },
      );
      assert.equal(bare.code, 0, bare.stderr);
      assert.match(
        bare.stderr,
        /libmagic\.so[^ ]* \(libmagic opens its compiled magic database\) finds none of .*magic\.mgc/,
      );
    });
  });
});

describe("libraries that load their modules from a directory compiled into them (ImageMagick's coders, Graphviz's plugins, SoX's formats)", () => {
  it('convert: rose: through a PNG file and back, and a pixel listing, as on the host; without the rule it knows no format and the build said so', async () => {
    requireTool('convert-im6.q16', 'imagemagick-6.q16');
    await withTempDir('e2e-modules-convert', async (dir) => {
      const image = 'e2e/launch-convert:1';
      const b = await build(dir, ['--binary', '/usr/bin/convert'], image);
      assert.doesNotMatch(b.stderr, /warning: .*(loads its modules|needs lib)/);
      const roundTrip = [
        'rose:',
        '-write',
        'png:/tmp/r.png',
        '+delete',
        '/tmp/r.png',
        '-format',
        '%m %wx%h %#',
        'info:',
      ];
      const pixels = ['-size', '3x2', 'xc:red', '-depth', '8', 'txt:-'];
      for (const args of [roundTrip, pixels]) {
        const host = await run('/usr/bin/convert', args);
        assert.ok(host.stdout.length > 0);
        const ours = await dockerRun(image, args);
        assert.equal(ours.stdout, host.stdout, args.join(' '));
        assert.equal(ours.stderr, host.stderr, args.join(' '));
      }
      // without the rule: the build names the coders directory, and convert knows no format at all
      const bareImage = 'e2e/launch-convert-bare:1';
      const bare = await build(dir, ['--binary', '/usr/bin/convert', '--no-infer', 'modules'], bareImage);
      assert.match(
        bare.stderr,
        /warning: libMagickCore-6\.Q16\.so\.6 loads its modules from \/usr\/lib\/x86_64-linux-gnu\/ImageMagick-[0-9.]+\/modules-Q16\/coders \(compiled into it\), which is not added/,
      );
      const failed = await dockerRun(bareImage, roundTrip, { allowFail: true });
      assert.notEqual(failed.code, 0);
      assert.match(failed.stderr, /no decode delegate for this image format/);
    });
  });

  it('dot: -Tsvg and -Tplain of a graph render as on the host (the layout and render plugins and their config6a come with libgvc)', async () => {
    requireTool('dot', 'graphviz');
    await withTempDir('e2e-modules-dot', async (dir) => {
      await writeFile(join(dir, 'g.dot'), 'digraph g { rankdir=LR; a -> b -> c; a -> c [label="x"]; }\n');
      const image = 'e2e/launch-dot:1';
      await build(dir, ['--binary', '/usr/bin/dot'], image);
      for (const format of ['-Tsvg', '-Tplain']) {
        const host = await run('/usr/bin/dot', [format, join(dir, 'g.dot')]);
        const ours = await dockerRun(image, [format, '/w/g.dot'], { mount: dir });
        assert.equal(ours.code, 0, ours.stderr);
        assert.equal(ours.stdout, host.stdout, format);
      }
    });
  });

  it("php: the extensions of its compiled-in extension_dir load as on the host (none is 'Unable to load'), zones by name from the system database, and the build's check is quiet", async () => {
    requireTool('php', 'php-cli');
    await withTempDir('e2e-modules-php', async (dir) => {
      const image = 'e2e/launch-php:1';
      const b = await build(dir, ['--binary', '/usr/bin/php'], image);
      assert.doesNotMatch(b.stderr, /warning: .*(reads its configuration|needs lib)/);
      const code = 'foreach (get_loaded_extensions() as $e) echo $e, "\\n";';
      const host = await run('/usr/bin/php', ['-r', code]);
      const ours = await dockerRun(image, ['-r', code]);
      assert.doesNotMatch(ours.stderr, /Unable to load dynamic library/);
      assert.equal(ours.stdout, host.stdout);
      assert.ok(host.stdout.split('\n').length > 20, host.stdout);
      // Debian's php reads zones from the system database by the names its code and ini give
      const zone = 'date_default_timezone_set("Europe/Paris"); echo date("c e", 0), "\\n";';
      const hostZone = await run('/usr/bin/php', ['-r', zone]);
      assert.equal(hostZone.stdout, '1970-01-01T01:00:00+01:00 Europe/Paris\n');
      const ourZone = await dockerRun(image, ['-r', zone]);
      assert.equal(ourZone.stdout, hostZone.stdout);
      assert.equal(ourZone.stderr, '');
    });
  });

  it('sox: the formats its plugins bring are listed as on the host, and a FLAC file is written', async () => {
    requireTool('sox', 'sox');
    await withTempDir('e2e-modules-sox', async (dir) => {
      const image = 'e2e/launch-sox:1';
      const b = await build(dir, ['--binary', '/usr/bin/sox'], image);
      // a plugin whose library the host lacks too (libao's NAS output) is no problem of the image
      assert.doesNotMatch(b.stderr, /warning: .*needs lib/);
      const formats = (out: string) => out.split('\n').find((l) => l.startsWith('AUDIO FILE FORMATS:'));
      const host = await run('/usr/bin/sox', ['-h'], { allowFail: true });
      assert.match(formats(host.stdout) ?? '', / flac /);
      const ours = await dockerRun(image, ['-h'], { allowFail: true });
      assert.equal(formats(ours.stdout), formats(host.stdout));
      const flac = ['-n', '-t', 'flac', '/tmp/t.flac', 'synth', '0.1', 'sine', '440'];
      assert.equal((await dockerRun(image, flac)).code, 0);
    });
  });
  it('zsh: a module from the subdirectory of its compiled-in module directory (zsh/mathfunc) and its function library in /usr/share/zsh, as on the host', async () => {
    requireTool('zsh', 'zsh');
    await withTempDir('e2e-zsh', async (dir) => {
      const image = 'e2e/zsh:1';
      const b = await build(dir, ['--binary', '/usr/bin/zsh'], image);
      assert.doesNotMatch(b.stderr, /warning/i, b.stderr);
      const script =
        // biome-ignore lint/suspicious/noTemplateCurlyInString: zsh's own expansion
        'zmodload zsh/mathfunc; echo $(( sqrt(16) )); autoload -U colors; colors; echo ${#fg}; autoload -U zmv; whence -w zmv';
      const host = await run('/usr/bin/zsh', ['-f', '-c', script], { env: { PATH: '/usr/bin:/bin' } });
      assert.equal(host.stdout, '4.\n11\nzmv: function\n');
      assert.equal((await docker(image, ['-f', '-c', script])).stdout, host.stdout);
    });
  });
});

describe("libraries that find fonts through fontconfig (Graphviz's labels, ImageMagick's label:, fc-match)", () => {
  it('dot -Tpng, convert label: and fc-match draw and pick fonts as on the host: /etc/fonts, the font and cache directories it names come with libfontconfig', async () => {
    requireTool('dot', 'graphviz');
    requireTool('convert-im6.q16', 'imagemagick-6.q16');
    const fcMatch = requireTool('fc-match', 'fontconfig');
    await withTempDir('e2e-fonts', async (dir) => {
      await writeFile(join(dir, 'g.dot'), 'digraph { a -> b [label="hello"]; }\n');
      const image = 'e2e/launch-fonts:1';
      const built = await build(
        dir,
        ['--binary', '/usr/bin/dot', '--binary', '/usr/bin/convert', '--binary', fcMatch],
        image,
      );
      assert.doesNotMatch(built.stderr, /warning: .*fonts/, built.stderr);
      // the label drawn with the host's font, byte for byte (without fonts: empty boxes)
      const host = join(dir, 'host.png');
      await run('/usr/bin/dot', ['-Tpng', join(dir, 'g.dot'), '-o', host]);
      const png = await dockerRun(image, ['-Tpng', '/w/g.dot', '-o', '/w/ours.png'], {
        mount: dir,
        entrypoint: '/usr/bin/dot',
      });
      assert.equal(png.code, 0, png.stderr);
      assert.doesNotMatch(png.stderr, /Fontconfig error/);
      assert.ok((await readFile(join(dir, 'ours.png'))).equals(await readFile(host)), 'the PNG of the host');
      // convert stops with "unable to read font" without them
      const label = ['-size', '120x40', 'label:hello', '-format', '%wx%h %k', 'info:'];
      const hostLabel = await run('/usr/bin/convert', label);
      const ours = await dockerRun(image, label, { entrypoint: '/usr/bin/convert' });
      assert.equal(ours.code, 0, ours.stderr);
      assert.equal(ours.stdout, hostLabel.stdout);
      const match = await dockerRun(image, ['sans'], { entrypoint: fcMatch });
      assert.equal(match.stdout, (await run(fcMatch, ['sans'])).stdout);
      const why = await fromscratch(['why', `docker-daemon:${image}`, '/etc/fonts/fonts.conf'], { cwd: dir });
      assert.match(why.stdout, /libfontconfig\.so\.1 reads its configuration, \/etc\/fonts/);
      // --no-infer=fonts leaves them out (a smaller image that draws no text): fc-match then fails
      const bare = 'e2e/launch-fonts-bare:1';
      await build(dir, ['--binary', fcMatch, '--no-infer=fonts'], bare);
      const none = await dockerRun(bare, ['sans'], { allowFail: true });
      assert.match(none.stderr, /Fontconfig error: Cannot load default config file/);
    });
  });
});

describe("programs that read their data from a compiled-in directory under /usr/share (vim's runtime, nmap's services, hunspell's dictionaries, Ghostscript's init files)", () => {
  it('vim: syntax on loads $VIMRUNTIME/syntax/syntax.vim as on the host; without the rule E484 and exit 1', async () => {
    requireTool('vim.basic', 'vim');
    await withTempDir('e2e-share-vim', async (dir) => {
      const image = 'e2e/share-vim:1';
      await build(dir, ['--binary', '/usr/bin/vim.basic'], image);
      const args = ['-u', 'NONE', '-es', '-c', 'syntax on', '-c', 'q!'];
      const host = await run('/usr/bin/vim.basic', args, { allowFail: true });
      assert.equal(host.code, 0, host.stderr);
      const ours = await dockerRun(image, args, { allowFail: true });
      assert.equal(ours.code, 0, ours.stdout + ours.stderr);
      const bareImage = 'e2e/share-vim-bare:1';
      await build(dir, ['--binary', '/usr/bin/vim.basic', '--no-infer', 'share-data'], bareImage);
      const bare = await dockerRun(bareImage, args, { allowFail: true });
      assert.equal(bare.code, 1);
    });
  });

  it('pandoc (164 MiB, read for its own /usr/share/pandoc only): markdown to a standalone HTML page as on the host', async () => {
    const pandoc = requireTool('pandoc', 'pandoc');
    await withTempDir('e2e-share-pandoc', async (dir) => {
      await writeFile(join(dir, 'doc.md'), '# Title\n\nSome *emphasis* and a [link](https://example.org).\n');
      const image = 'e2e/share-pandoc:1';
      await build(dir, ['--binary', pandoc], image);
      const args = ['-s', '--metadata', 'title=T', '-t', 'html'];
      const host = await run(pandoc, [...args, join(dir, 'doc.md')]);
      const ours = await dockerRun(image, [...args, '/w/doc.md'], { mount: dir, allowFail: true });
      // without its data directory: "Could not find data file /usr/share/pandoc/data/abbreviations"
      assert.equal(ours.code, 0, ours.stderr);
      assert.equal(ours.stdout, host.stdout);
    });
  });

  it('gdb: its own /usr/share/gdb (its Python module), a directory left out when a library names it; python runs in gdb as on the host', async () => {
    const gdb = requireTool('gdb', 'gdb');
    await withTempDir('e2e-share-gdb', async (dir) => {
      const image = 'e2e/share-gdb:1';
      await build(dir, ['--binary', gdb], image);
      const args = ['-batch', '-ex', 'python print(gdb.VERSION.split()[0] > "", 6 * 7)'];
      const host = await run(gdb, args);
      const ours = await dockerRun(image, args, { allowFail: true });
      // without it: "Could not load the Python gdb module from `/usr/share/gdb/python'"
      assert.equal(ours.code, 0, ours.stderr);
      assert.equal(ours.stdout, host.stdout);
      assert.doesNotMatch(ours.stderr, /Could not load the Python gdb module/);
    });
  });

  it('cmake (relocatable: /share/cmake-3.25 relative to its prefix): a script including a module runs as on the host', async () => {
    const cmake = requireTool('cmake', 'cmake');
    await withTempDir('e2e-share-cmake', async (dir) => {
      await writeFile(
        join(dir, 't.cmake'),
        'include(CMakeParseArguments)\ninclude(CMakePrintHelpers)\nset(x 42)\ncmake_print_variables(x)\nmessage("cmake ${CMAKE_MAJOR_VERSION}")\n',
      );
      const image = 'e2e/share-cmake:1';
      await build(dir, ['--binary', cmake], image);
      const host = await run(cmake, ['-P', join(dir, 't.cmake')]);
      const ours = await dockerRun(image, ['-P', '/w/t.cmake'], { mount: dir, allowFail: true });
      // without it: "Could not find CMAKE_ROOT !!!"
      assert.equal(ours.code, 0, ours.stderr);
      assert.equal(ours.stdout + ours.stderr, host.stdout + host.stderr);
    });
  });

  it('nmap: a connect scan names the port from nmap-services, as on the host', async () => {
    requireTool('nmap', 'nmap');
    await withTempDir('e2e-share-nmap', async (dir) => {
      const image = 'e2e/share-nmap:1';
      await build(dir, ['--binary', '/usr/bin/nmap'], image);
      const ours = await dockerRun(image, ['-sT', '-p', '22', '127.0.0.1'], { allowFail: true });
      assert.equal(ours.code, 0, ours.stderr);
      assert.doesNotMatch(ours.stderr, /Unable to find nmap-services/);
      assert.match(ours.stdout, /^22\/tcp +closed +ssh$/m);
    });
  });

  it('hunspell -d en_US: the misspelled words of a file, as on the host', async () => {
    requireTool('hunspell', 'hunspell');
    await withTempDir('e2e-share-hunspell', async (dir) => {
      await writeFile(join(dir, 'words.txt'), 'helo wrold, this is a sentense with misteaks\n');
      const image = 'e2e/share-hunspell:1';
      await build(dir, ['--binary', '/usr/bin/hunspell'], image);
      const host = await run('/usr/bin/hunspell', ['-d', 'en_US', '-l', join(dir, 'words.txt')]);
      assert.match(host.stdout, /^helo$/m);
      const ours = await dockerRun(image, ['-d', 'en_US', '-l', '/w/words.txt'], { mount: dir });
      assert.equal(ours.stdout, host.stdout);
    });
  });

  it('gs: gs_init.ps, its ICC profiles (reached through a link) and fonts come with libgs; text rendered as on the host', async () => {
    requireTool('gs', 'ghostscript');
    await withTempDir('e2e-share-gs', async (dir) => {
      const image = 'e2e/share-gs:1';
      await build(dir, ['--binary', '/usr/bin/gs'], image);
      const args = [
        '-q',
        '-dNOPAUSE',
        '-dBATCH',
        '-sDEVICE=txtwrite',
        '-o',
        '-',
        '-c',
        '/Times-Roman findfont 20 scalefont setfont 72 72 moveto (hello from scratch) show showpage',
      ];
      const host = await run('/usr/bin/gs', args);
      assert.match(host.stdout, /hello from scratch/);
      const ours = await dockerRun(image, args, { allowFail: true });
      assert.equal(ours.code, 0, ours.stdout + ours.stderr);
      assert.equal(ours.stdout, host.stdout);
    });
  });
});

describe('shell scripts that run programs (an entrypoint preparing its state, a launcher exec-ing its runtime)', () => {
  it("an entrypoint script's mkdir, date and cat come with /bin/sh, its variables' defaults followed; without the rule sh stops at mkdir", async () => {
    await withTempDir('e2e-script-commands', async (dir) => {
      await writeFile(
        join(dir, 'entrypoint.sh'),
        [
          '#!/bin/sh',
          "# an application's entrypoint: prepares its state, then runs the program",
          'set -e',
          'STATE=${STATE_DIR:-/tmp/state}',
          'TOOLS=/usr/bin',
          'mkdir -p "$STATE"',
          'date -u -d @86400 +%F > "$STATE/day"',
          'exec "$TOOLS/cat" "$STATE/day"',
          '',
        ].join('\n'),
        { mode: 0o755 },
      );
      const args = ['--add', './entrypoint.sh:/entrypoint.sh', '--entrypoint', '["/entrypoint.sh"]'];
      const image = 'e2e/script-commands:1';
      const b = await build(dir, args, image);
      assert.doesNotMatch(b.stderr, /warning/i, b.stderr);
      const ours = await dockerRun(image, []);
      assert.equal(ours.stdout, '1970-01-02\n');
      const bareImage = 'e2e/script-commands-bare:1';
      await build(dir, [...args, '--no-infer', 'launchers'], bareImage);
      const bare = await dockerRun(bareImage, [], { allowFail: true });
      assert.notEqual(bare.code, 0);
      assert.match(bare.stderr, /mkdir: not found/);
    });
  });
});

describe('programs that run helpers from a compiled-in directory, by name, or through /bin/sh (git, gpg, tar, make)', () => {
  it('git: init without the templates warning, a clone of a local path (git-upload-pack through /bin/sh), ls-remote over http and https as on the host', async () => {
    requireTool('git', 'git');
    await withTempDir('e2e-git', async (dir) => {
      const repo = join(dir, 'repo');
      await run('git', ['init', '-q', repo]);
      await run('git', [
        '-C',
        repo,
        '-c',
        'user.email=a@b',
        '-c',
        'user.name=a',
        'commit',
        '-q',
        '--allow-empty',
        '-m',
        'one',
      ]);
      const image = 'e2e/git:1';
      const b = await build(dir, ['--binary', '/usr/bin/git'], image);
      assert.doesNotMatch(b.stderr, /warning: .*git helpers/);
      const init = await docker(image, ['init', '-q', '/tmp/x']);
      assert.equal(init.stderr, '', 'no "templates not found" warning');
      const clone = await dockerRun(
        image,
        ['-c', 'git clone -q /src /tmp/d && git -C /tmp/d log --format=%s'],
        { mount: repo, at: '/src:ro', entrypoint: '/bin/sh' },
      );
      assert.equal(clone.stdout, 'one\n');
      for (const url of ['http://127.0.0.1:9/x', 'https://127.0.0.1:9/x']) {
        const host = await run('git', ['ls-remote', url], { allowFail: true });
        const ours = await dockerRun(image, ['ls-remote', url], { allowFail: true });
        assert.match(host.stderr, /Failed to connect|Could not connect/, url);
        // curl says how long the refused connection took ("after 0 ms", "after 1 ms"): not compared
        const untimed = (t: string) => t.replace(/after \d+ ms/g, 'after N ms');
        assert.equal(
          untimed(ours.stderr),
          untimed(host.stderr),
          `${url}: the remote helper ran (not "unable to find remote helper")`,
        );
      }
    });
  });

  it('gpg: a symmetric encryption and its decryption (gpg starts gpg-agent from its bindir)', async () => {
    requireTool('gpg', 'gnupg');
    requireTool('gpg-agent', 'gpg-agent');
    await withTempDir('e2e-gpg', async (dir) => {
      await writeFile(join(dir, 'in.txt'), 'fromscratch secret\n');
      const image = 'e2e/gpg:1';
      const b = await build(dir, ['--binary', '/usr/bin/gpg'], image);
      assert.doesNotMatch(b.stderr, /warning: .*gpg helpers/);
      const gpg = (args: string[]) =>
        dockerRun(
          image,
          ['--batch', '--quiet', '--passphrase', 'x', '--pinentry-mode', 'loopback', ...args],
          { mount: dir },
        );
      await gpg(['-c', '-o', '/w/in.txt.gpg', '/w/in.txt']);
      assert.equal((await gpg(['-d', '/w/in.txt.gpg'])).stdout, 'fromscratch secret\n');
    });
  });

  it('tar: -z, -j, -J and --zstd archives listed and written as on the host (tar runs its compressor through /bin/sh -c)', async () => {
    requireTool('tar', 'tar');
    await withTempDir('e2e-tar', async (dir) => {
      await mkdir(join(dir, 'w', 'd'), { recursive: true });
      await writeFile(join(dir, 'w', 'd', 'f.txt'), 'fromscratch\n');
      const image = 'e2e/tar:1';
      const b = await build(dir, ['--binary', '/usr/bin/tar'], image);
      assert.doesNotMatch(b.stderr, /warning: .*tar compressors/);
      const tar = (args: string[]) => dockerRun(image, [...args], { mount: join(dir, 'w'), workdir: '/w' });
      for (const [flag, ext] of [
        ['-z', 'gz'],
        ['-j', 'bz2'],
        ['-J', 'xz'],
        ['--zstd', 'zst'],
      ] as const) {
        // written in the image, listed on the host; written on the host, listed in the image
        await tar(['-c', flag, '-f', `ours.tar.${ext}`, 'd']);
        assert.equal(
          (await run('tar', ['-t', flag, '-f', join(dir, 'w', `ours.tar.${ext}`)])).stdout,
          'd/\nd/f.txt\n',
          ext,
        );
        await run('tar', ['-c', flag, '-f', join(dir, 'w', `host.tar.${ext}`), '-C', join(dir, 'w'), 'd']);
        assert.equal((await tar(['-t', flag, '-f', `host.tar.${ext}`])).stdout, 'd/\nd/f.txt\n', ext);
      }
    });
  });

  it('make: recipes run through /bin/sh', async () => {
    requireTool('make', 'make');
    await withTempDir('e2e-make', async (dir) => {
      await mkdir(join(dir, 'w'));
      // shell builtins only: the image has make and the shell, no other command
      await writeFile(
        join(dir, 'w', 'Makefile'),
        'all: out.txt\n\t@read x < out.txt; echo "$$x"\nout.txt:\n\t@echo "made $$((6 * 7))" > $@\n',
      );
      const image = 'e2e/make:1';
      await build(dir, ['--binary', '/usr/bin/make'], image);
      const ours = await dockerRun(image, [], { mount: join(dir, 'w'), workdir: '/w' });
      assert.equal(ours.stdout, 'made 42\n');
    });
  });
});

describe("programs that run what is in a private directory they name (valgrind's tools, stdbuf's preloaded library), and tools that read debug info by build ID", () => {
  it("valgrind finds the leak of a program as on the host (its tool from /usr/libexec/valgrind, ld.so's debug info); stdbuf line-buffers through libstdbuf.so", async () => {
    requireTool('valgrind', 'valgrind');
    const gcc = requireTool('gcc', 'gcc');
    await withTempDir('e2e-valgrind', async (dir) => {
      await writeFile(
        join(dir, 'leak.c'),
        '#include <stdlib.h>\n#include <stdio.h>\nint main(void) { char *p = malloc(10); p[0] = 1; puts("ran"); return 0; }\n',
      );
      await run(gcc, ['-O0', '-o', join(dir, 'leak'), join(dir, 'leak.c')]);
      const image = 'e2e/valgrind:1';
      const b = await build(
        dir,
        [
          '--binary',
          '/usr/bin/valgrind',
          '--binary',
          join(dir, 'leak'),
          '--entrypoint',
          '["/usr/bin/valgrind"]',
        ],
        image,
      );
      assert.doesNotMatch(b.stderr, /warning/i, b.stderr);
      const args = (prog: string) => ['-q', '--leak-check=full', '--error-exitcode=3', prog];
      const host = await run('/usr/bin/valgrind', args(join(dir, 'leak')), { allowFail: true });
      const ours = await dockerRun(image, args(join(dir, 'leak')), { allowFail: true });
      // the leak record and its stack without the pid prefix: `10 bytes in 1 blocks are definitely lost…`, `at malloc`, `by main`
      const lost = (s: string) =>
        s
          .split('\n')
          .map((l) => l.replace(/^==\d+== ?/, ''))
          .filter((l) => /definitely lost|^ +(at|by) /.test(l))
          .join('\n');
      assert.equal(host.code, 3, host.stderr);
      assert.match(lost(host.stderr) ?? '', /10 bytes in 1 blocks/);
      assert.equal(ours.code, host.code, ours.stderr);
      assert.equal(lost(ours.stderr), lost(host.stderr));
      assert.equal(ours.stdout, 'ran\n');

      const stdbuf = 'e2e/stdbuf:1';
      await build(
        dir,
        ['--binary', '/usr/bin/stdbuf', '--binary', '/usr/bin/echo', '--entrypoint', '["/usr/bin/stdbuf"]'],
        stdbuf,
      );
      assert.equal((await docker(stdbuf, ['-oL', '/usr/bin/echo', 'hi'])).stdout, 'hi\n');
    });
  });
});

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

/** serving runs an image in the background without network, and returns docker exec of its curl and a stop. */
async function serving(image: string) {
  const dockerBin = requireTool('docker', 'docker.io');
  const id = (await run(dockerBin, ['run', '-d', '--network', 'none', image])).stdout.trim();
  return {
    curl: async (args: readonly string[]) => {
      // the server may still be starting: a few tries
      let last = { code: 1, stdout: '', stderr: '' } as {
        code: number | null;
        stdout: string;
        stderr: string;
      };
      for (let i = 0; i < 50; i++) {
        last = await run(dockerBin, ['exec', id, '/usr/bin/curl', ...args], { allowFail: true });
        if (last.code === 0) break;
        await new Promise((res) => setTimeout(res, 200));
      }
      return last;
    },
    exec: (args: readonly string[]) => run(dockerBin, ['exec', id, ...args], { allowFail: true }),
    logs: async () => (await run(dockerBin, ['logs', id], { allowFail: true })).stderr,
    /** the user name each process of the container runs as (docker top) */
    users: async () =>
      (await run(dockerBin, ['top', id], { allowFail: true })).stdout
        .split('\n')
        .slice(1)
        .filter(Boolean)
        .map((l) => l.split(/\s+/)[0]!),
    stop: () => run(dockerBin, ['rm', '-f', id], { allowFail: true }),
  };
}

/**
 * throughProxy asks the proxy a serving container runs on `port` for a port nobody listens on, and
 * returns the page it answers with and, on its last line, the HTTP status.
 */
async function throughProxy(s: Awaited<ReturnType<typeof serving>>, port: number) {
  const r = await s.curl([
    '-sS',
    '-x',
    `http://127.0.0.1:${port}`,
    '-o',
    '/dev/stdout',
    '-w',
    '\n%{http_code}',
    'http://127.0.0.1:1/',
  ]);
  assert.equal(r.code, 0, `${r.stderr}\n${await s.logs()}`);
  return r;
}

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
