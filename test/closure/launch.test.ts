/**
 * launch.test.ts — the closure rules of issue 11 that need no image: a Java launcher's runtime (the
 * host's OpenJDK), a DT_NEEDED bound by the SONAME of an object already loaded (gcc-built plugin and
 * private library), the /proc/self/exe launcher warning, and locales (names, glibc's variants, a locale
 * archive written by the host's localedef, read back and compared with `localedef --list-archive`).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveClosure } from '../../src/closure/closure.ts';
import { newClosureCache } from '../../src/closure/closure-cache.ts';
import { formatDepsTree } from '../../src/closure/deps-format.ts';
import {
  defaultVm,
  entryPointModule,
  findJavaHome,
  findPythonHome,
  nodeCommands,
  parseJvmCfg,
  phpCommands,
  pythonCommandLineImports,
  pythonCommands,
  pythonImports,
  pythonLibraries,
  pythonRuntimePlan,
  rubyCommands,
  rubyRequires,
} from '../../src/closure/launcher.ts';
import {
  findLocale,
  localeCandidates,
  localedefCommand,
  localeRequests,
  normalizeCodeset,
  parseLocaleArchiveNames,
} from '../../src/closure/locale.ts';
import { perlCommands } from '../../src/closure/perl-modules.ts';
import { runsArguments, scriptCommands } from '../../src/closure/shell-script.ts';
import { timezoneRequest } from '../../src/closure/timezone.ts';
import { isFromscratchError } from '../../src/errors.ts';
import { hostFs } from '../../src/fs/host-fs.ts';

const host = hostFs('/');

/** need runs a host tool, failing with the package to install when it is missing. */
function need(cmd: string, args: string[], pkg: string, cwd?: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new Error(`${cmd} is missing: apt-get install -y ${pkg}`);
    throw new Error(`${cmd} ${args.join(' ')} failed: ${err.stderr ?? err.message}`);
  }
}

let tmp: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'fromscratch-launch-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('jvm.cfg', () => {
  it('the default VM is the first line, aliases followed, as the launcher reads it', () => {
    const table: [string, string | undefined][] = [
      ['-server KNOWN\n-client IGNORE\n-zero KNOWN\n', 'server'],
      ['# comment\n\n-client ALIASED_TO -server\n-server KNOWN\n', 'server'],
      ['-zero KNOWN\n-server KNOWN\n', 'zero'],
      ['-a ALIASED_TO -b\n-b ALIASED_TO -a\n', undefined],
      ['# nothing\n', undefined],
    ];
    for (const [text, vm] of table) assert.equal(defaultVm(parseJvmCfg(text)), vm, text);
  });
});

describe('Java launcher', () => {
  let java: string;
  let home: string;
  before(() => {
    need('java', ['-version'], 'openjdk-17-jre-headless');
    java = realpathSync('/usr/bin/java');
    home = join(java, '..', '..');
  });

  it('recognises the home of /usr/bin/java from its real path', async () => {
    const jh = await findJavaHome(newClosureCache(host), java);
    assert.equal(jh?.home, home);
    assert.equal(jh?.vm, 'server');
    assert.equal(await findJavaHome(newClosureCache(host), '/usr/bin/env'), undefined);
  });

  it('--binary java gets the JVM, its libraries bound to libjvm.so by SONAME, its data, not the JDK', async () => {
    const r = await resolveClosure(['/usr/bin/java'], host, { strict: true });
    const has = (p: string) => r.files.has(p);
    for (const p of [
      `${home}/lib/server/libjvm.so`,
      `${home}/lib/server/classes.jsa`,
      `${home}/lib/modules`,
      `${home}/lib/libjava.so`,
      `${home}/lib/libzip.so`,
      `${home}/lib/libnio.so`,
      `${home}/lib/libnet.so`,
      `${home}/lib/jspawnhelper`,
      `${home}/lib/tzdb.dat`,
      `${home}/lib/security/cacerts`,
      `${home}/conf/security/java.security`,
      `${home}/lib/jvm.cfg`,
    ])
      assert.ok(has(p), `${p} is in the closure`);
    // the symlinks of Debian's layout are kept, and their targets come with them
    assert.equal(r.files.get(`${home}/lib/jvm.cfg`)?.kind, 'symlink');
    assert.ok(
      [...r.files.keys()].some((p) => p.startsWith('/etc/java-')),
      'conf targets in /etc',
    );
    for (const p of [
      `${home}/jmods`,
      `${home}/include`,
      `${home}/lib/ct.sym`,
      `${home}/lib/src.zip`,
      `${home}/lib/libawt_xawt.so`,
    ])
      assert.ok(![...r.files.keys()].some((f) => f === p || f.startsWith(`${p}/`)), `${p} left out`);
    const libjava = r.objects.get(`${home}/lib/libjava.so`);
    const jvm = libjava?.needed.find((n) => n.name === 'libjvm.so');
    assert.equal(jvm?.real, `${home}/lib/server/libjvm.so`);
    assert.equal(jvm?.via, `already loaded: SONAME of ${home}/lib/server/libjvm.so`);
    assert.deepEqual(r.unresolved, []);
    assert.ok(
      r.warnings.some((w) => /libawt_xawt\.so \(desktop library/.test(w)),
      r.warnings.join('\n'),
    );
    const origins = r.files.get(`${home}/lib/server/libjvm.so`)?.origins ?? [];
    assert.ok(origins.some((o) => o.kind === 'inferred' && /default VM "server"/.test(o.reason)));
  });

  it('with the launcher rule off, the JVM is not found (the rule is what brings it)', async () => {
    const r = await resolveClosure(['/usr/bin/java'], host, { strict: true, infer: { launchers: false } });
    assert.ok(!r.files.has(`${home}/lib/server/libjvm.so`));
  });
});

describe('Python interpreter', () => {
  it('--binary python3 gets the standard library from the prefix getpath finds, extension modules mapped, tests left out', async () => {
    need('/usr/bin/python3', ['-c', 'pass'], 'python3');
    const real = realpathSync('/usr/bin/python3');
    const version = need(
      '/usr/bin/python3',
      ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'],
      'python3',
    ).trim();
    const prefix = need('/usr/bin/python3', ['-I', '-c', 'import sys; print(sys.prefix)'], 'python3').trim();
    assert.deepEqual(await findPythonHome(newClosureCache(host), real, []), { prefix, version });
    assert.equal(await findPythonHome(newClosureCache(host), '/usr/bin/env', []), undefined);
    assert.deepEqual(
      await findPythonHome(newClosureCache(host), '/usr/bin/gdb', [`libpython${version}.so.1.0`]),
      {
        prefix,
        version,
      },
    );
    const stdlib = `${prefix}/lib/python${version}`;
    const r = await resolveClosure(['/usr/bin/python3'], host);
    for (const p of [`${stdlib}/os.py`, `${stdlib}/encodings/utf_8.py`, `${stdlib}/lib-dynload`])
      assert.ok(r.files.has(p), `${p} is in the closure`);
    const ssl = [...r.objects.keys()].find((p) => p.startsWith(`${stdlib}/lib-dynload/_ssl.`));
    assert.ok(ssl, 'the _ssl extension module is mapped as a library');
    assert.ok(
      r.objects.get(ssl)?.needed.some((n) => n.name.startsWith('libssl.so') && n.real),
      'with libssl',
    );
    for (const p of [`${stdlib}/test`, `${stdlib}/idlelib`, `${stdlib}/tkinter`])
      assert.ok(![...r.files.keys()].some((f) => f === p || f.startsWith(`${p}/`)), `${p} left out`);
    assert.ok(
      ![...r.files.keys()].some((f) => f.startsWith(`${stdlib}/config-`)),
      'the build directory left out',
    );
    const off = await resolveClosure(['/usr/bin/python3'], host, { infer: { launchers: false } });
    assert.ok(!off.files.has(`${stdlib}/os.py`), 'the rule is what brings the standard library');
    const traced = await resolveClosure(['/usr/bin/python3'], host, {
      tracedRoots: new Set(['/usr/bin/python3']),
    });
    assert.ok(!traced.files.has(`${stdlib}/os.py`), 'a traced run already saw what it loaded');
  });
});

describe('a Python built from source (pyenv, the python images): its prefix holds more than the runtime', () => {
  it("site-packages, the packages' test suites, _tkinter and the -O/-OO bytecode are left out of the standard library", async () => {
    const root = join(tmp, 'srcpy');
    const stdlib = '/opt/py/lib/python3.11';
    for (const f of [
      'os.py',
      '__pycache__/os.cpython-311.pyc',
      '__pycache__/os.cpython-311.opt-1.pyc',
      '__pycache__/os.cpython-311.opt-2.pyc',
      'unittest/__init__.py',
      'unittest/test/test_case.py',
      'ctypes/test/test_funcptr.py',
      'lib2to3/tests/data/README',
      'test/test_os.py',
      'site-packages/yaml/__init__.py',
      'site-packages/pip/__init__.py',
      'lib-dynload/_tkinter.cpython-311-x86_64-linux-gnu.so',
    ]) {
      mkdirSync(join(root, stdlib, f, '..'), { recursive: true });
      writeFileSync(join(root, stdlib, f), '');
    }
    const plan = await pythonRuntimePlan(
      newClosureCache(hostFs(root)),
      { prefix: '/opt/py', version: '3.11' },
      { elf: async () => undefined, findable: async () => true },
    );
    const paths = new Set([...plan.items.map((i) => i.path), ...plan.leftOut.map((l) => l.path)]);
    for (const f of ['os.py', '__pycache__/os.cpython-311.pyc', 'unittest/__init__.py'])
      assert.ok(paths.has(`${stdlib}/${f}`), `${f} is the runtime's`);
    for (const f of [
      '__pycache__/os.cpython-311.opt-1.pyc',
      '__pycache__/os.cpython-311.opt-2.pyc',
      'unittest/test',
      'ctypes/test',
      'lib2to3/tests',
      'test',
      'site-packages',
      'lib-dynload/_tkinter.cpython-311-x86_64-linux-gnu.so',
    ])
      assert.ok(
        ![...paths].some((p) => p === `${stdlib}/${f}` || p.startsWith(`${stdlib}/${f}/`)),
        `${f} left out`,
      );
    assert.deepEqual(plan.problems, []);
  });
});

describe('a DT_NEEDED satisfied by the SONAME of a loaded object', () => {
  let app: string;
  before(() => {
    app = join(tmp, 'app');
    mkdirSync(join(app, 'private'), { recursive: true });
    mkdirSync(join(app, 'plugins'), { recursive: true });
    writeFileSync(join(tmp, 'priv.c'), 'int priv(void) { return 42; }\n');
    writeFileSync(join(tmp, 'plugin.c'), 'int priv(void);\nint plugin(void) { return priv(); }\n');
    need(
      'gcc',
      ['-shared', '-fPIC', '-Wl,-soname,libpriv.so.1', '-o', join(app, 'private', 'libpriv.so.1'), 'priv.c'],
      'gcc',
      tmp,
    );
    need(
      'gcc',
      [
        '-shared',
        '-fPIC',
        '-o',
        join(app, 'plugins', 'plugin.so'),
        'plugin.c',
        join(app, 'private', 'libpriv.so.1'),
      ],
      'gcc',
      tmp,
    );
  });

  it('alone, the plugin misses it: LIBRARY_NOT_FOUND', async () => {
    await assert.rejects(
      resolveClosure([join(app, 'plugins', 'plugin.so')], host),
      (e) => isFromscratchError(e, 'LIBRARY_NOT_FOUND') && /libpriv\.so\.1/.test(e.message),
    );
  });

  it('with the library its host loads from a private directory, it resolves there, with a note', async () => {
    const lib = join(app, 'private', 'libpriv.so.1');
    const plugin = join(app, 'plugins', 'plugin.so');
    const r = await resolveClosure([lib, plugin], host);
    const n = r.objects.get(plugin)?.needed.find((x) => x.name === 'libpriv.so.1');
    assert.equal(n?.real, lib);
    assert.equal(n?.via, `already loaded: SONAME of ${lib}`);
    assert.ok(
      r.warnings.some((w) =>
        w.startsWith(`libpriv.so.1 needed by ${plugin} is not on the loader's search path`),
      ),
    );
    // why: the library's origins say who needs it and how it was found
    assert.ok(
      r.files.get(lib)?.origins.some((o) => o.kind === 'needed' && o.by === plugin && o.via === n?.via),
    );
    // deps shows the reason in the tree
    assert.match(
      formatDepsTree(r),
      new RegExp(`libpriv\\.so\\.1 => ${lib} \\[already loaded: SONAME of ${lib}\\]`),
    );
  });
});

describe('a Java home laid out by hand, not by Debian', () => {
  it('its libraries need libjvm.so by name and get the VM the rule loaded; a startup library needing it fails as ld.so would', async () => {
    const home = join(tmp, 'jhome');
    mkdirSync(join(home, 'bin'), { recursive: true });
    mkdirSync(join(home, 'lib', 'server'), { recursive: true });
    writeFileSync(join(home, 'lib', 'jvm.cfg'), '-server KNOWN\n-client IGNORE\n');
    writeFileSync(join(home, 'lib', 'modules'), 'not a real runtime image\n');
    writeFileSync(join(tmp, 'jvm.c'), 'int jvm(void) { return 1; }\n');
    writeFileSync(join(tmp, 'java-lib.c'), 'int jvm(void);\nint java(void) { return jvm(); }\n');
    writeFileSync(join(tmp, 'jli.c'), 'int jli(void) { return 0; }\n');
    writeFileSync(join(tmp, 'main.c'), 'int jli(void);\nint main(void) { return jli(); }\n');
    const jvm = join(home, 'lib', 'server', 'libjvm.so');
    const java = join(home, 'lib', 'libjava.so');
    need('gcc', ['-shared', '-fPIC', '-Wl,-soname,libjvm.so', '-o', jvm, 'jvm.c'], 'gcc', tmp);
    // libjava.so needs libjvm.so by name with no path to find it: only the loaded VM serves
    need('gcc', ['-shared', '-fPIC', '-Wl,-soname,libjava.so', '-o', java, 'java-lib.c', jvm], 'gcc', tmp);
    need(
      'gcc',
      ['-shared', '-fPIC', '-Wl,-soname,libjli.so', '-o', join(home, 'lib', 'libjli.so'), 'jli.c'],
      'gcc',
      tmp,
    );
    need(
      'gcc',
      [
        '-o',
        join(home, 'bin', 'java'),
        'main.c',
        join(home, 'lib', 'libjli.so'),
        '-Wl,-rpath,$ORIGIN/../lib',
      ],
      'gcc',
      tmp,
    );
    const r = await resolveClosure([join(home, 'bin', 'java')], host);
    const n = r.objects.get(java)?.needed.find((x) => x.name === 'libjvm.so');
    assert.equal(n?.real, jvm);
    assert.equal(n?.via, `already loaded: SONAME of ${jvm}`);
    assert.ok(r.files.has(join(home, 'lib', 'modules')));
    assert.deepEqual(r.unresolved, []);

    // a program whose startup library needs libjvm.so by name: nothing is loaded before it, ld.so fails
    writeFileSync(join(tmp, 'boot.c'), 'int java(void);\nint main(void) { return java(); }\n');
    need(
      'gcc',
      [
        '-o',
        join(home, 'bin', 'boot'),
        'boot.c',
        java,
        '-Wl,-rpath,$ORIGIN/../lib',
        '-Wl,--allow-shlib-undefined',
      ],
      'gcc',
      tmp,
    );
    await assert.rejects(
      resolveClosure([join(home, 'bin', 'boot')], host),
      (e) => isFromscratchError(e, 'LIBRARY_NOT_FOUND') && /libjvm\.so/.test(e.message),
    );
    const run = (() => {
      try {
        execFileSync(join(home, 'bin', 'boot'), { stdio: ['ignore', 'ignore', 'pipe'] });
        return 'ran';
      } catch (e) {
        return String((e as { stderr?: Buffer }).stderr ?? '');
      }
    })();
    assert.match(
      run,
      /libjvm\.so: cannot open shared object file/,
      'ld.so agrees: the program does not start',
    );
  });
});

describe('launchers that read /proc/self/exe and dlopen', () => {
  const src = (selfExe: boolean) => `#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>
int main(void) {
  char buf[4096];
  ssize_t n = readlink("${selfExe ? '/proc/self/exe' : '/etc/hostname'}", buf, sizeof buf - 1);
  void *h = dlopen(n > 0 ? "lib/runtime.so" : "x.so", RTLD_NOW);
  printf("%p\\n", h);
  return 0;
}
`;
  it('a program in a home of its own gets a warning naming --verify --fix and --trace; one without the string does not', async () => {
    const bin = join(tmp, 'opt', 'tool', 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(tmp, 'l1.c'), src(true));
    writeFileSync(join(tmp, 'l2.c'), src(false));
    need('gcc', ['-o', join(bin, 'launcher'), 'l1.c'], 'gcc', tmp);
    need('gcc', ['-o', join(bin, 'plain'), 'l2.c'], 'gcc', tmp);
    const r = await resolveClosure([join(bin, 'launcher')], host);
    const w = r.warnings.find((x) => x.includes('/proc/self/exe'));
    assert.ok(w, r.warnings.join('\n'));
    assert.match(w, /--verify 'CMD' --fix/);
    assert.match(w, /--trace 'CMD'/);
    const q = await resolveClosure([join(bin, 'plain')], host);
    assert.ok(!q.warnings.some((x) => x.includes('/proc/self/exe')), q.warnings.join('\n'));
  });
});

describe('locales', () => {
  it('the environment names locales as glibc reads it: LC_ALL, else LC_* and LANG', () => {
    assert.deepEqual(localeRequests(['LC_ALL=C.UTF-8', 'LANG=fr_FR.UTF-8']), [
      { name: 'C.UTF-8', variable: 'LC_ALL' },
    ]);
    assert.deepEqual(localeRequests(['LANG=en_US.UTF-8', 'LC_TIME=de_DE.UTF-8', 'PATH=/bin']), [
      { name: 'de_DE.UTF-8', variable: 'LC_TIME' },
      { name: 'en_US.UTF-8', variable: 'LANG' },
    ]);
    assert.deepEqual(localeRequests(['LANG=C', 'LC_CTYPE=POSIX', 'LC_TIME=../x']), []);
    assert.deepEqual(localeRequests(['LC_ALL=']), []);
  });

  it("codesets are normalised as glibc's _nl_normalize_codeset, and names tried most specific first", () => {
    const table: [string, string][] = [
      ['UTF-8', 'utf8'],
      ['utf8', 'utf8'],
      ['ISO-8859-1', 'iso88591'],
      ['8859-1', 'iso88591'],
      ['EUC-JP', 'eucjp'],
    ];
    for (const [cs, want] of table) assert.equal(normalizeCodeset(cs), want, cs);
    assert.deepEqual(localeCandidates('C.UTF-8'), ['C.UTF-8', 'C.utf8']);
    assert.deepEqual(localeCandidates('de_DE@euro'), ['de_DE@euro', 'de@euro', 'de_DE', 'de']);
    assert.equal(localedefCommand('en_US.UTF-8'), 'localedef -i en_US -f UTF-8 en_US.UTF-8');
  });

  it('C.UTF-8 is found as the directory the host has (the name glibc loads)', async () => {
    const f = await findLocale(newClosureCache(host), 'C.UTF-8');
    assert.deepEqual(f, { kind: 'dir', path: '/usr/lib/locale/C.utf8', name: 'C.utf8' });
  });

  it('a locale archive written by localedef is read back with the names it lists', async () => {
    const root = join(tmp, 'locroot');
    mkdirSync(join(root, 'usr', 'lib', 'locale'), { recursive: true });
    need('localedef', [`--prefix=${root}`, '-i', 'en_US', '-f', 'UTF-8', 'en_US.UTF-8'], 'locales');
    const listed = need('localedef', [`--prefix=${root}`, '--list-archive'], 'locales')
      .trim()
      .split('\n')
      .sort();
    const fs = hostFs(root);
    const bytes = await fs.read('/usr/lib/locale/locale-archive');
    const names = await parseLocaleArchiveNames(bytes.subarray(0, 36), async (o, l) =>
      bytes.subarray(o, o + l),
    );
    assert.deepEqual([...names].sort(), listed);
    const f = await findLocale(newClosureCache(fs), 'en_US.UTF-8');
    assert.deepEqual(f, { kind: 'archive', path: '/usr/lib/locale/locale-archive', name: 'en_US.utf8' });
    const missing = await findLocale(newClosureCache(fs), 'fr_FR.UTF-8');
    assert.equal(missing.kind, 'missing');
    await assert.rejects(parseLocaleArchiveNames(new Uint8Array(36), async () => new Uint8Array()));
  });

  it('a program importing setlocale gets the locale named, locale.alias, and a warning for a missing one', async () => {
    need('gawk', ['--version'], 'gawk');
    const r = await resolveClosure(['/usr/bin/gawk'], host, {
      locales: [
        { name: 'C.UTF-8', variable: 'LC_ALL' },
        { name: 'xx_YY.UTF-8', variable: 'LANG' },
      ],
    });
    assert.ok(r.files.has('/usr/lib/locale/C.utf8/LC_CTYPE'));
    assert.ok(r.files.has('/usr/lib/locale/C.utf8/LC_MESSAGES/SYS_LC_MESSAGES'));
    assert.ok(r.files.has('/usr/share/locale/locale.alias'));
    const o = r.files.get('/usr/lib/locale/C.utf8/LC_CTYPE')?.origins[0];
    assert.ok(
      o?.kind === 'inferred' &&
        /imports (setlocale|newlocale): locale "C.UTF-8" named by LC_ALL/.test(o.reason),
    );
    assert.ok(
      r.warnings.some(
        (w) =>
          w.startsWith('locale "xx_YY.UTF-8" named by LANG is not in root /') &&
          w.includes('localedef -i xx_YY -f UTF-8 xx_YY.UTF-8'),
      ),
      r.warnings.join('\n'),
    );
    const none = await resolveClosure(['/usr/bin/gawk'], host);
    assert.ok(
      ![...none.files.keys()].some((p) => p.startsWith('/usr/lib/locale/')),
      'no locale without one named',
    );
  });
});

describe('programs with their own TLS stack (Go)', () => {
  /** goish compiles a C program carrying the Go linker's build-ID note, and naming `text` as data */
  const program = (name: string, goNote: boolean, text: string): string => {
    const src = join(tmp, `${name}.c`);
    const note = goNote
      ? '__asm__(".section .note.go.buildid,\\"a\\",@note\\n.balign 4\\n.long 3\\n.long 8\\n.long 4\\n.asciz \\"Go\\"\\n.balign 4\\n.ascii \\"abcdefgh\\"\\n.previous");\n'
      : '';
    // Go strings are not NUL-terminated: the path sits among other bytes
    writeFileSync(src, `${note}const char blob[] = "xx${text}yy";\nint main(void){return blob[0] == 0;}\n`);
    const out = join(tmp, name);
    need('gcc', ['-o', out, src], 'gcc');
    return out;
  };
  const caOf = async (p: string) => {
    const r = await resolveClosure([p], host);
    return r.files.get('/etc/ssl/certs/ca-certificates.crt');
  };

  it('a Go program naming the CA bundle gets it (crypto/x509 reads it); a C program naming it, or a Go one not, does not', async (t) => {
    if (!(await host.lstat('/etc/ssl/certs/ca-certificates.crt')))
      throw new Error('the host needs a CA bundle: apt-get install -y ca-certificates');
    const go = program('go-tls', true, '/etc/ssl/certs/ca-certificates.crt');
    const readelf = need('readelf', ['-n', go], 'binutils');
    assert.match(readelf, /Go\s+0x00000008\s+GO BUILDID/, 'the note is where the Go linker puts it');
    const f = await caOf(go);
    assert.ok(f, 'the CA bundle is in the closure');
    assert.deepEqual(
      f.origins.map((o) => (o.kind === 'inferred' ? o.reason : o.kind)),
      ['a Go program: crypto/x509 reads the CA bundle at /etc/ssl/certs/ca-certificates.crt to verify peers'],
    );
    t.diagnostic(`via ${JSON.stringify(f.origins[0])}`);
    assert.equal(await caOf(program('c-names-ca', false, '/etc/ssl/certs/ca-certificates.crt')), undefined);
    assert.equal(await caOf(program('go-no-tls', true, '/etc/hostname')), undefined);
    // package net reads /etc/services for port names
    const net = program('go-net', true, '/etc/services');
    assert.ok(
      (await resolveClosure([net], host)).files.get('/etc/services'),
      'a Go program naming /etc/services gets it',
    );
    // --no-infer=ca-certificates turns it off
    const off = await resolveClosure([go], host, { infer: { caCerts: false } });
    assert.equal(off.files.get('/etc/ssl/certs/ca-certificates.crt'), undefined);
  });

  it('a Go program under TZ gets the zone file (package time reads TZ itself, importing no tzset)', async () => {
    if (!(await host.lstat('/usr/share/zoneinfo/Europe/Paris')))
      throw new Error('the host needs its zone database: apt-get install -y tzdata');
    const go = program('go-tz', true, 'nothing');
    const tz = timezoneRequest(['TZ=Europe/Paris']);
    const r = await resolveClosure([go], host, { ...(tz ? { timezone: tz } : {}) });
    const f = r.files.get('/usr/share/zoneinfo/Europe/Paris');
    assert.ok(f, 'the zone file is in the closure');
    assert.match(JSON.stringify(f.origins), /a Go program: package time reads TZ's zone/);
    const c = program('c-tz', false, 'nothing');
    assert.equal(
      (await resolveClosure([c], host, { ...(tz ? { timezone: tz } : {}) })).files.get(
        '/usr/share/zoneinfo/Europe/Paris',
      ),
      undefined,
      'a C program calling no tzset',
    );
  });
});

describe('Python packages of the system site directories', () => {
  it('pythonImports reads import and from-import statements, top-level names, not relative imports', () => {
    const text = [
      'import os, sys as s',
      'import yaml.constructor',
      'from cryptography.fernet import Fernet',
      'from . import sibling',
      'from .pkg import x',
      '    import json  # inside a function',
      'try:',
      '    import ujson as json',
      'except ImportError: pass',
      '# import commented',
      'x = "import not_a_statement"',
    ].join('\n');
    assert.deepEqual(pythonImports(text).sort(), ['cryptography', 'json', 'os', 'sys', 'ujson', 'yaml']);
  });

  it("a console script's entry point, the module entry_points.txt names for it, the programs a source runs by name", () => {
    const script = [
      "# EASY-INSTALL-ENTRY-SCRIPT: 'Pygments==2.14.0','console_scripts','pygmentize'",
      'import re',
      "    sys.exit(load_entry_point('Pygments==2.14.0', 'console_scripts', 'pygmentize')())",
    ].join('\n');
    assert.deepEqual(pythonImports(script).sort(), ['entry-point:Pygments:console_scripts:pygmentize', 're']);
    const eps =
      '[console_scripts]\nother = x.y:z\npygmentize = pygments.cmdline:main [extra]\n\n[gui_scripts]\nw = a:b\n';
    assert.equal(entryPointModule(eps, 'console_scripts', 'pygmentize'), 'pygments.cmdline');
    assert.equal(entryPointModule(eps, 'console_scripts', 'w'), undefined, 'another group');
    const code = [
      'jq = subprocess.Popen(["jq"] + list(args), stdin=subprocess.PIPE)',
      "subprocess.check_output(['git', 'rev-parse'])",
      'os.execvp("less", ["less"])',
      'subprocess.run(cmd)  # not a literal',
      'self.run("install")  # a method of its own',
      'ffmpeg = shutil.which("ffmpeg") or "/opt/ffmpeg"',
    ].join('\n');
    assert.deepEqual(pythonCommands(code), ['jq', 'git', 'less', 'ffmpeg']);
    // command lines given to the shell: /bin/sh, and the program each starts with
    const shell = [
      'subprocess.run("echo hi", shell=True)',
      'os.system("gzip -k /data/x")',
      "out = os.popen('uname -r').read()",
      'subprocess.getoutput("/usr/bin/id -u")',
      'subprocess.check_output("$HOME/x", shell=True)',
      'subprocess.run("tar -xf a.tar")  # without the shell the whole string is the program name',
    ].join('\n');
    assert.deepEqual(pythonCommands(shell), ['/bin/sh', 'echo', 'gzip', 'uname', '/usr/bin/id']);
    // a command list built in a variable first; a list never run is nothing
    const built = [
      'cmd = ["ffmpeg", "-y", "-i", src, dst]',
      'subprocess.run(cmd, check=True)',
      "    probe = ['/usr/bin/ffprobe', src]",
      '    out = subprocess.check_output(probe)',
      'unused = ["convert", a, b]',
      'subprocess.run(other)',
    ].join('\n');
    assert.deepEqual(pythonCommands(built), ['ffmpeg', '/usr/bin/ffprobe']);
  });

  it('a Node.js source run through child_process: spawn and execFile run a program, exec and shell: true the shell', () => {
    const js = [
      "const { exec, execSync, spawn, execFileSync } = require('node:child_process');",
      "exec('convert a.png b.jpg', cb);",
      'const rev = execSync(`git rev-parse HEAD`).toString();',
      "spawn('ffmpeg', ['-i', f]);",
      "execFileSync('/usr/bin/id', ['-u']);",
      'exec(`${tool} --help`);',
      'const m = /x(y)/.exec(line);',
    ].join('\n');
    assert.deepEqual(nodeCommands(js), ['/bin/sh', 'convert', 'git', 'ffmpeg', '/usr/bin/id']);
    assert.deepEqual(
      nodeCommands("import { spawn } from 'child_process';\nspawn('ls', ['-l'], { shell: true });"),
      ['/bin/sh', 'ls'],
    );
    // Ruby: system, backquotes, %x, IO.popen with an array; a string with metacharacters through /bin/sh
    const rb = [
      'kernel = `uname -s`',
      'day = IO.popen(["date", "-u", "+%F"]).read',
      'system("gzip -c a > a.gz")',
      'rev = %x(git rev-parse HEAD)',
      'system("#{tool} --help")',
      '# system("in-a-comment")',
      'obj.system("not-kernel")',
    ].join('\n');
    assert.deepEqual(rubyCommands(rb), ['/bin/sh', 'date', 'gzip', 'uname', 'git']);
    // PHP: every call but an array proc_open goes through /bin/sh
    const php = [
      '<?php',
      "$k = shell_exec('uname -s');",
      'exec("gzip -nc a > a.gz", $out, $code);',
      "$p = proc_open(['git', 'status'], $spec, $pipes);",
      '$d = `date -u`;',
      'system("$tool --help");',
    ].join('\n');
    assert.deepEqual(phpCommands(php), ['/bin/sh', 'uname', 'gzip', 'date', 'git']);
    // a program in a constant, then spawned
    assert.deepEqual(
      nodeCommands(
        "const cp = require('child_process');\nconst FFMPEG = 'ffmpeg';\nlet tmpl = `x `;\ncp.spawn(FFMPEG, ['-i', f]);\ncp.spawnSync(other);",
      ),
      ['ffmpeg'],
    );
    // a source that never names child_process runs nothing (a RegExp's exec)
    assert.deepEqual(nodeCommands("const m = re.exec('uname -a');"), []);
  });

  it('a program taken from the environment with a default, in a source that runs programs: the default when the variable names a program', () => {
    const py = [
      'import os, subprocess',
      'FF = os.environ.get("FFMPEG_BIN", "ffmpeg")',
      'git = os.environ.get("GIT") or "git"',
      "level = os.getenv('LOG_LEVEL', 'info')",
      "home = os.getenv('HOME', '/root')",
      'subprocess.run([FF, "-i", f])',
    ].join('\n');
    assert.deepEqual(pythonCommands(py), ['ffmpeg', 'git']);
    // a source that runs nothing names no program
    assert.deepEqual(pythonCommands('import os\nFF = os.environ.get("FFMPEG_BIN", "ffmpeg")\n'), []);
    assert.deepEqual(
      rubyCommands("git = ENV['GIT'] || 'git'\ned = ENV.fetch('EDITOR', 'vi')\nsystem(git, 'log')"),
      ['git', 'vi'],
    );
    assert.deepEqual(
      nodeCommands(
        "const cp = require('child_process');\nconst ff = process.env.FFMPEG_PATH || 'ffmpeg';\nconst t = process.env['TZ'] ?? 'UTC';\ncp.spawn(ff, a);",
      ),
      ['ffmpeg'],
    );
    assert.deepEqual(
      phpCommands("<?php $g = getenv('GIT') ?: 'git'; $t = $_ENV['TAR_CMD'] ?? 'tar'; passthru($g);"),
      ['git', 'tar'],
    );
  });

  it("a Ruby source's requires (not require_relative, not in comments or after __END__), a Gemfile's gems and a Gemfile.lock's specs", () => {
    const rb = [
      "require 'webrick'",
      'require "xmlrpc/client"',
      "require('json')",
      "require_relative 'lib/own'",
      "# require 'in_a_comment'",
      "x.require 'not_kernel'",
      "require 'a/../../etc/climb'",
      '__END__',
      "require 'after_end'",
    ].join('\n');
    assert.deepEqual(rubyRequires(rb), ['webrick', 'xmlrpc/client', 'json']);
    assert.deepEqual(
      rubyRequires("source 'https://rubygems.org'\ngem 'rack', '~> 2.0'\n  gem \"puma\"\n", '/app/Gemfile'),
      ['gem:rack', 'gem:puma'],
    );
    const lock =
      'GEM\n  remote: https://rubygems.org/\n  specs:\n    rack (2.2.8)\n    puma (6.4.0)\n      nio4r (~> 2.0)\n\nDEPENDENCIES\n  puma\n';
    assert.deepEqual(rubyRequires(lock, '/app/Gemfile.lock'), ['gem:rack', 'gem:puma']);
  });

  it('the C libraries a Python source loads at run time: find_library names, CDLL and LoadLibrary and cffi dlopen by SONAME', () => {
    const py = [
      'import ctypes, ctypes.util',
      'lib = ctypes.CDLL(ctypes.util.find_library("magic"))',
      "png = ctypes.cdll.LoadLibrary('libpng16.so.16')",
      'c = ffi.dlopen("libz.so.1")',
      'other = ctypes.CDLL(path)',
    ].join('\n');
    assert.deepEqual(pythonLibraries(py), ['library:magic', 'library:libpng16.so.16', 'library:libz.so.1']);
  });

  it("a python command line's module (-m pip, -m uvicorn main:app, grouped options) and -c code's imports", () => {
    assert.deepEqual(pythonCommandLineImports(['/usr/bin/python3', '-m', 'pip', '--version']), ['pip']);
    assert.deepEqual(pythonCommandLineImports(['python3', '-u', '-m', 'uvicorn', 'main:app']), ['uvicorn']);
    assert.deepEqual(pythonCommandLineImports(['python3.11', '-Bmhttp.server']), ['http']);
    assert.deepEqual(pythonCommandLineImports(['python3', '-X', 'utf8', '-m', 'flask.cli', 'run']), [
      'flask',
    ]);
    assert.deepEqual(
      pythonCommandLineImports(['/usr/bin/python3', '-c', 'import yaml, json; from jinja2 import Template']),
      ['yaml', 'json', 'jinja2'],
    );
    // a script, or no python: nothing read here (the script is a source)
    assert.deepEqual(pythonCommandLineImports(['python3', '/app/main.py', '-m', 'x']), []);
    assert.deepEqual(pythonCommandLineImports(['/usr/bin/node', '-m', 'x']), []);
    assert.deepEqual(pythonCommandLineImports(['python3', '-m']), []);
  });

  // RELIABILITY: hostile sources end in bounded time (each quantifier of the readers is bounded: a
  // 400 kB line of calls with no match once took seconds per reader); the timeout is a hang guard only
  it('hostile sources: long runs of blanks after a call, one-line files of many calls, unclosed expansions', {
    timeout: 60_000,
  }, () => {
    const blanks = ' '.repeat(200_000);
    const many = (s: string) => s.repeat(20_000);
    const cases: [string, () => string[]][] = [
      ['perl', () => perlCommands(`system${blanks}\nopen(F, ${blanks}\n${many('qx ')}`)],
      ['ruby', () => rubyCommands(`system${blanks}(\n${many('IO.popen ')}`)],
      ['php', () => phpCommands(`exec${blanks}(\n${many('proc_open( ')}`)],
      ['python', () => pythonCommands(many('subprocess.run("x") '))],
      ['node', () => nodeCommands(`child_process exec(${blanks}\n${many('spawn( ')}shell${blanks}:`)],
      ['sh', () => scriptCommands(`${many('exec gosu x ')}\n${many('${A=')}\ntrap '${'x'.repeat(200_000)}`)],
      ['sh args', () => (runsArguments(many('exec gosu x ')) ? ['yes'] : [])],
      ['env defaults', () => pythonCommands(`subprocess ${many('os.environ.get("A"')}${blanks}or${blanks}`)],
      ['env defaults node', () => nodeCommands(`child_process ${many('process.env.A ||')}${blanks}`)],
      ['python libraries', () => pythonLibraries(`${many('find_library(')}${blanks}${many('CDLL(')}`)],
      ['ruby requires', () => rubyRequires(`${many('require ')}${blanks}(${blanks}`)],
      ['gemfile', () => rubyRequires(`${many('gem ')}${blanks}`, '/Gemfile')],
      ['env defaults perl', () => perlCommands(`system($x); ${many('$ENV{A} || ')}${blanks}`)],
    ];
    for (const [name, read] of cases) assert.ok(Array.isArray(read()), name);
  });
});
