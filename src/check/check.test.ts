/**
 * check.test.ts — the static start check over memory roots holding real ELF files (compiled with gcc at
 * test time, plus the host's loader and libc): each rule of check.ts, and the rules of user.ts and
 * locale.ts as tables.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type MemoryNode, memoryFs } from '../fs/memory-fs.ts';
import { checkImageRoot, formatCheck } from './check.ts';
import {
  archiveLocaleNames,
  canonicalLocaleName,
  localeDirNames,
  namedLocales,
  normalizeCodeset,
} from './locale.ts';
import { checkUser, permits, runtimeIdentity } from './user.ts';

const LIBDIR = '/lib/x86_64-linux-gnu';
const LOADER = '/lib64/ld-linux-x86-64.so.2';
let dir = '';
let prog: Uint8Array; // needs libfoo.so.1 and libc.so.6 (libbar.so.1 through libfoo)
let libfoo: Uint8Array; // soname libfoo.so.1, needs libbar.so.1 (held elsewhere: an already-loaded soname)
let libbar: Uint8Array;
let obj: Uint8Array; // a relocatable .o
let libc: Uint8Array;
let ld: Uint8Array;
let perlish: Uint8Array; // names /usr/share/perl/5.36 as a C string, as perl does its @INC
let libjli: Uint8Array; // soname libjli.so
let javaish: Uint8Array; // needs libjli.so

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'check-test-'));
  const gcc = (args: string[]) => execFileSync('gcc', args, { cwd: dir, stdio: 'pipe' });
  writeFileSync(join(dir, 'bar.c'), 'int bar(void){return 2;}\n');
  writeFileSync(join(dir, 'foo.c'), 'int bar(void);\nint foo(void){return bar()+1;}\n');
  writeFileSync(join(dir, 'main.c'), 'int foo(void);\nint main(void){return foo()-3;}\n');
  gcc(['-shared', '-fPIC', '-Wl,-soname,libbar.so.1', '-o', 'libbar.so.1', 'bar.c']);
  gcc(['-shared', '-fPIC', '-Wl,-soname,libfoo.so.1', '-o', 'libfoo.so.1', 'foo.c', './libbar.so.1']);
  gcc(['-o', 'prog', 'main.c', './libfoo.so.1', '-Wl,-rpath-link,.']);
  gcc(['-c', '-o', 'main.o', 'main.c']);
  writeFileSync(
    join(dir, 'perl.c'),
    'const char *inc[] = {"/usr/share/perl/5.36", "/usr/local/share/perl/5.36", 0};\nint main(void){return inc[0][0] == 0;}\n',
  );
  gcc(['-o', 'perl', 'perl.c']);
  writeFileSync(join(dir, 'jli.c'), 'int JLI_Launch(void){return 0;}\n');
  gcc(['-shared', '-fPIC', '-Wl,-soname,libjli.so', '-o', 'libjli.so', 'jli.c']);
  writeFileSync(join(dir, 'java.c'), 'int JLI_Launch(void);\nint main(void){return JLI_Launch();}\n');
  gcc(['-o', 'java', 'java.c', './libjli.so']);
  perlish = readFileSync(join(dir, 'perl'));
  libjli = readFileSync(join(dir, 'libjli.so'));
  javaish = readFileSync(join(dir, 'java'));
  prog = readFileSync(join(dir, 'prog'));
  libfoo = readFileSync(join(dir, 'libfoo.so.1'));
  libbar = readFileSync(join(dir, 'libbar.so.1'));
  obj = readFileSync(join(dir, 'main.o'));
  libc = readFileSync(realpathSync(`${LIBDIR}/libc.so.6`));
  ld = readFileSync(realpathSync(LOADER));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** glibcRoot is the loader and libc as Debian lays them out (usr-merge links left out: plain dirs). */
function glibcRoot(): Record<string, MemoryNode> {
  return {
    [`${LIBDIR}/ld-linux-x86-64.so.2`]: { type: 'file', data: ld, mode: 0o755 },
    [LOADER]: { type: 'symlink', target: `${LIBDIR}/ld-linux-x86-64.so.2` },
    [`${LIBDIR}/libc.so.6`]: { type: 'file', data: libc, mode: 0o755 },
  };
}

const PASSWD = 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n';

test('a dynamic program copied alone: the loader and its libraries are reported, fatal, with the fix', async () => {
  const fs = memoryFs({ '/hello': { type: 'file', data: prog, mode: 0o755 } });
  const r = await checkImageRoot(fs, { Entrypoint: ['/hello'] }, { architecture: 'amd64' });
  const kinds = r.problems.map((p) => p.kind).sort();
  assert.deepEqual(kinds, ['library', 'library', 'loader']);
  assert.ok(r.problems.every((p) => p.fatal && p.path === '/hello'));
  const loader = r.problems.find((p) => p.kind === 'loader')!;
  assert.match(loader.message, /ld-linux-x86-64\.so\.2.*not in the image/);
  assert.match(loader.fix, /--binary SRC:\/hello/);
  assert.match(formatCheck(r)[0]!, /^check: \/hello cannot start: 3 problems/);
});

test("an interpreter without its standard library (--no-infer): Python's and Java's fatal, Perl's a problem that still starts", async () => {
  const prog3 = (path: string, data: Uint8Array, extra: Record<string, MemoryNode> = {}) =>
    memoryFs({ ...glibcRoot(), [path]: { type: 'file', data, mode: 0o755 }, ...extra });
  // CPython by its name: no lib/python3.11/os.py anywhere it looks
  const py = await checkImageRoot(
    prog3('/usr/bin/python3.11', prog, libs()),
    { Entrypoint: ['python3.11'] },
    {
      architecture: 'amd64',
    },
  );
  const pyProblem = py.problems.find((p) => p.kind === 'runtime');
  assert.ok(pyProblem?.fatal, JSON.stringify(py.problems));
  assert.match(
    pyProblem.message,
    /Python runtime: \/usr\/lib\/python3\.11\/os\.py.*No module named 'encodings'/,
  );
  assert.match(pyProblem.fix, /--no-infer/);
  const pyOk = await checkImageRoot(
    prog3('/usr/bin/python3.11', prog, {
      ...libs(),
      '/usr/lib/python3.11/os.py': { type: 'file', data: Buffer.from('') },
    }),
    { Entrypoint: ['python3.11'] },
    { architecture: 'amd64' },
  );
  assert.deepEqual(pyOk.problems, [], 'with its landmark the standard library is there');
  // Perl by its name and the directories compiled into it; third-party ones (/usr/local) are not expected
  const perl = await checkImageRoot(
    prog3('/usr/bin/perl', perlish),
    { Entrypoint: ['perl'] },
    {
      architecture: 'amd64',
    },
  );
  const perlProblem = perl.problems.find((p) => p.kind === 'runtime');
  assert.equal(perlProblem?.fatal, false, JSON.stringify(perl.problems));
  assert.match(perlProblem.message, /Perl runtime: \/usr\/share\/perl\/5\.36\)/);
  const perlOk = await checkImageRoot(
    prog3('/usr/bin/perl', perlish, {
      '/usr/share/perl/5.36/strict.pm': { type: 'file', data: Buffer.from('1;') },
    }),
    { Entrypoint: ['perl'] },
    { architecture: 'amd64' },
  );
  assert.deepEqual(perlOk.problems, []);
  // Java's launcher: H/bin/java linking libjli.so, no H/lib/jvm.cfg
  const jdk = (extra: Record<string, MemoryNode>) =>
    prog3('/opt/jdk/bin/java', javaish, {
      '/opt/jdk/lib/libjli.so': { type: 'file', data: libjli },
      ...extra,
    });
  const env = { Entrypoint: ['/opt/jdk/bin/java'], Env: ['LD_LIBRARY_PATH=/opt/jdk/lib'] };
  const java = await checkImageRoot(jdk({}), env, { architecture: 'amd64' });
  const javaProblem = java.problems.find((p) => p.kind === 'runtime');
  assert.ok(javaProblem?.fatal, JSON.stringify(java.problems));
  assert.match(javaProblem.message, /could not open `\/opt\/jdk\/lib\/jvm\.cfg'/);
  const javaOk = await checkImageRoot(
    jdk({ '/opt/jdk/lib/jvm.cfg': { type: 'file', data: Buffer.from('-server KNOWN\n') } }),
    env,
    { architecture: 'amd64' },
  );
  assert.deepEqual(javaOk.problems, []);
  // a program that is no interpreter: nothing expected
  const plain = await checkImageRoot(
    prog3('/usr/bin/prog', prog, libs()),
    { Entrypoint: ['prog'] },
    {
      architecture: 'amd64',
    },
  );
  assert.equal(plain.problems.filter((p) => p.kind === 'runtime').length, 0);
});

test('TZ naming a zone the image lacks is a problem (glibc gives UTC silently); a POSIX rule or the file is fine', async () => {
  const root = (extra: Record<string, MemoryNode> = {}) =>
    memoryFs({
      ...glibcRoot(),
      '/usr/bin/prog': { type: 'file', data: prog, mode: 0o755 },
      ...libs(),
      ...extra,
    });
  const run = (fs: ReturnType<typeof memoryFs>, tz: string) =>
    checkImageRoot(fs, { Entrypoint: ['prog'], Env: [`TZ=${tz}`] }, { architecture: 'amd64' });
  const missing = await run(root(), 'Europe/Paris');
  assert.deepEqual(
    missing.problems.map((p) => [p.kind, p.path, p.fatal]),
    [['timezone', '/usr/share/zoneinfo/Europe/Paris', false]],
  );
  assert.match(missing.problems[0]!.message, /glibc gives UTC times, without an error/);
  const zone = { '/usr/share/zoneinfo/Europe/Paris': { type: 'file', data: Buffer.from('TZif') } } as const;
  assert.deepEqual((await run(root(zone), 'Europe/Paris')).problems, []);
  assert.deepEqual((await run(root(), 'CET-1CEST,M3.5.0,M10.5.0/3')).problems, [], 'a POSIX rule');
  assert.deepEqual((await run(root(), 'UTC')).problems, [], 'UTC either way');
});

test('a wrapper (tini, env, su-exec…) whose program the image lacks is fatal; with the program, no problem', async () => {
  const root = (extra: Record<string, MemoryNode> = {}) =>
    memoryFs({
      ...glibcRoot(),
      ...libs(),
      '/sbin/tini': { type: 'file', data: prog, mode: 0o755 },
      '/usr/bin/env': { type: 'file', data: prog, mode: 0o755 },
      ...extra,
    });
  const missing = await checkImageRoot(
    root(),
    { Entrypoint: ['/sbin/tini', '--'], Cmd: ['/app/server'] },
    {
      architecture: 'amd64',
    },
  );
  assert.deepEqual(
    missing.problems.map((p) => [p.kind, p.path, p.fatal]),
    [['command', '/app/server', true]],
  );
  assert.match(missing.problems[0]!.message, /runs "\/app\/server" through tini, and it is not in the image/);
  const app = { '/app/server': { type: 'file', data: prog, mode: 0o755 } } as const;
  assert.deepEqual(
    (
      await checkImageRoot(
        root(app),
        { Entrypoint: ['/sbin/tini', '--', '/app/server'] },
        { architecture: 'amd64' },
      )
    ).problems,
    [],
  );
  const notExec = await checkImageRoot(
    root({ '/app/server': { type: 'file', data: prog, mode: 0o644 } }),
    { Entrypoint: ['/sbin/tini', '--', '/app/server'] },
    { architecture: 'amd64' },
  );
  assert.match(notExec.problems[0]?.message ?? '', /not an executable file/);
  // env NAME: looked up on PATH
  const env = await checkImageRoot(
    root(),
    { Entrypoint: ['/usr/bin/env', 'A=1', 'python3'] },
    { architecture: 'amd64' },
  );
  assert.match(
    env.problems[0]?.message ?? '',
    /runs "python3" through env, and it is not in the image \(PATH /,
  );
});

/** libs are prog's own libraries */
function libs(): Record<string, MemoryNode> {
  return {
    [`${LIBDIR}/libfoo.so.1`]: { type: 'file', data: libfoo },
    [`${LIBDIR}/libbar.so.1`]: { type: 'file', data: libbar },
  };
}

test('an entrypoint script that runs its arguments (exec "$@"): the cmd is its program, fatal when the image lacks it', async () => {
  const entry = (text: string): MemoryNode => ({ type: 'file', data: Buffer.from(text), mode: 0o755 });
  const root = (extra: Record<string, MemoryNode> = {}) =>
    memoryFs({
      ...glibcRoot(),
      ...libs(),
      '/bin/sh': { type: 'file', data: prog, mode: 0o755 },
      '/entry.sh': entry('#!/bin/sh\nset -e\nmkdir -p /run/app\nexec "$@"\n'),
      '/pass.sh': entry('#!/bin/sh\nexec /usr/bin/server "$@"\n'),
      '/usr/bin/server': { type: 'file', data: prog, mode: 0o755 },
      ...extra,
    });
  const missing = await checkImageRoot(
    root(),
    { Entrypoint: ['/entry.sh'], Cmd: ['nginx', '-g', 'daemon off;'] },
    { architecture: 'amd64' },
  );
  assert.deepEqual(
    missing.problems.map((p) => [p.kind, p.path, p.fatal]),
    [['command', 'nginx', true]],
  );
  assert.match(
    missing.problems[0]!.message,
    /the entrypoint \/entry\.sh runs its arguments \(exec "\$@"\), and the cmd's "nginx" is not in the image \(PATH /,
  );
  // the cmd's program in the image; a script passing its arguments to a program of its own; no cmd
  for (const [e, cmd] of [
    ['/entry.sh', ['server']],
    ['/pass.sh', ['--port', '80']],
    ['/entry.sh', []],
    // options only: the script puts its program first (`set -- nginx "$@"`)
    ['/entry.sh', ['-g', 'daemon off;']],
  ] as const)
    assert.deepEqual(
      (await checkImageRoot(root(), { Entrypoint: [e], Cmd: [...cmd] }, { architecture: 'amd64' })).problems,
      [],
      `${e} ${cmd.join(' ')}`,
    );
});

test('a COPY origin turns the fix into the Dockerfile closure directive', async () => {
  const fs = memoryFs({ '/hello': { type: 'file', data: prog, mode: 0o755 } });
  const origins = new Map([['/hello', [{ kind: 'requested', via: 'COPY', source: '/ctx/hello' } as const]]]);
  const r = await checkImageRoot(fs, { Cmd: ['/hello'] }, { architecture: 'amd64', origins });
  assert.match(r.problems[0]!.fix, /# fromscratch: closure` above the Dockerfile COPY of \/hello/);
});

test('with its closure the program starts: loader, libraries by soname, one summary line', async () => {
  const fs = memoryFs({
    ...glibcRoot(),
    '/usr/bin/prog': { type: 'file', data: prog, mode: 0o755 },
    [`${LIBDIR}/libfoo.so.1`]: { type: 'file', data: libfoo },
    [`${LIBDIR}/libbar.so.1`]: { type: 'file', data: libbar },
    '/etc/passwd': { type: 'file', data: Buffer.from(PASSWD) },
  });
  const r = await checkImageRoot(fs, { Entrypoint: ['prog'], User: 'nonroot' }, { architecture: 'amd64' });
  assert.deepEqual(r.problems, []);
  assert.equal(r.program, '/usr/bin/prog', 'a bare name is found on the default PATH');
  assert.equal(r.linkage, 'dynamic');
  assert.equal(r.libraries, 3, 'libfoo, libbar, libc');
  assert.equal(r.elfFiles, 5);
  assert.equal(
    formatCheck(r).join('\n'),
    'check: /usr/bin/prog starts: loader, 3 libraries, user nonroot; 5 ELF files resolve',
  );
});

test('a library in a private directory: found only through LD_LIBRARY_PATH, and the fix names the directory', async () => {
  const nodes = {
    ...glibcRoot(),
    '/app/prog': { type: 'file', data: prog, mode: 0o755 },
    '/app/lib/libfoo.so.1': { type: 'file', data: libfoo },
    '/app/lib/libbar.so.1': { type: 'file', data: libbar },
  } as const;
  const bad = await checkImageRoot(memoryFs(nodes), { Entrypoint: ['/app/prog'] }, { architecture: 'amd64' });
  assert.deepEqual(
    bad.problems.map((p) => p.message.split(',')[0]),
    ['/app/prog needs libfoo.so.1'],
  );
  assert.match(bad.problems[0]!.fix, /--env LD_LIBRARY_PATH=\/app\/lib/);
  const good = await checkImageRoot(
    memoryFs(nodes),
    { Entrypoint: ['/app/prog'], Env: ['LD_LIBRARY_PATH=/app/lib'] },
    { architecture: 'amd64' },
  );
  assert.deepEqual(good.problems, []);
});

test('a library needing a soname the image holds only elsewhere is a note (an already-loaded soname), not a problem', async () => {
  const fs = memoryFs({
    ...glibcRoot(),
    '/opt/plugins/libfoo.so.1': { type: 'file', data: libfoo },
    '/opt/private/libbar.so.1.0': { type: 'file', data: libbar },
    '/opt/private/libbar.so.1': { type: 'symlink', target: 'libbar.so.1.0' },
  });
  const r = await checkImageRoot(fs, {}, { architecture: 'amd64' });
  assert.deepEqual(r.problems, [], 'the soname link counts');
  assert.ok(r.notes.some((n) => /libbar\.so\.1.*\/opt\/private\/libbar\.so\.1.*already loaded/.test(n)));
});

test('a directory of ld.so.conf is not searched: the loader reads only ld.so.cache', async () => {
  const fs = memoryFs({
    ...glibcRoot(),
    '/prog': { type: 'file', data: prog, mode: 0o755 },
    '/opt/lib/libfoo.so.1': { type: 'file', data: libfoo },
    '/opt/lib/libbar.so.1': { type: 'file', data: libbar },
    '/etc/ld.so.conf': { type: 'file', data: Buffer.from('/opt/lib\n') },
  });
  const r = await checkImageRoot(fs, { Entrypoint: ['/prog'] }, { architecture: 'amd64' });
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0]!.message, /only in \/opt\/lib \(an ld\.so\.conf directory/);
});

test('the entrypoint: missing, not executable, a directory, a symlink resolved inside the image', async () => {
  const base = glibcRoot();
  const missing = await checkImageRoot(memoryFs(base), { Entrypoint: ['/nope'] }, { architecture: 'amd64' });
  assert.deepEqual(
    missing.problems.map((p) => p.kind),
    ['command'],
  );
  const noPath = await checkImageRoot(
    memoryFs(base),
    { Cmd: ['nope'], Env: ['PATH=/bin'] },
    { architecture: 'amd64' },
  );
  assert.match(noPath.problems[0]!.message, /the cmd "nope" is not in the image \(PATH \/bin\)/);
  const noX = await checkImageRoot(
    memoryFs({ ...base, '/s': { type: 'file', data: Buffer.from('#!/bin/sh\n'), mode: 0o644 } }),
    { Entrypoint: ['/s'] },
    { architecture: 'amd64' },
  );
  assert.ok(noX.problems.some((p) => p.kind === 'not-executable' && /mode 0644/.test(p.message)));
  // a script with DOS line endings: the kernel runs "/bin/sh\r" (or env looks for "sh\r")
  for (const [line, said] of [
    ['#!/bin/sh\r\n', /it runs "\/bin\/sh\\r", and exec fails/],
    ['#!/usr/bin/env sh\r\n', /env looks for "sh\\r"/],
    ['#!/bin/sh -e\r\n', /\/bin\/sh is given "-e\\r"/],
  ] as const) {
    const dos = await checkImageRoot(
      memoryFs({ ...base, '/s': { type: 'file', data: Buffer.from(`${line}echo hi\r\n`), mode: 0o755 } }),
      { Entrypoint: ['/s'] },
      { architecture: 'amd64' },
    );
    assert.equal(dos.problems.length, 1, line);
    assert.match(dos.problems[0]!.message, /\/s has DOS line endings/);
    assert.match(dos.problems[0]!.message, said);
    assert.match(dos.problems[0]!.fix, /dos2unix s/);
  }
  const dirEntry = await checkImageRoot(
    memoryFs({ ...base, '/d': { type: 'dir' } }),
    { Entrypoint: ['/d'] },
    {},
  );
  assert.match(dirEntry.problems[0]!.message, /\/d is a directory, not a program/);
  // an absolute symlink target is re-rooted at the image's / (never the host's)
  const linked = await checkImageRoot(
    memoryFs({
      ...base,
      '/usr/bin/run': { type: 'symlink', target: '/opt/app/bin/prog' },
      '/opt/app/bin/prog': { type: 'file', data: prog, mode: 0o755 },
      '/opt/app/bin/libfoo.so.1': { type: 'file', data: libfoo },
      '/opt/app/bin/libbar.so.1': { type: 'file', data: libbar },
    }),
    { Entrypoint: ['/usr/bin/run'], Env: ['LD_LIBRARY_PATH=/opt/app/bin'] },
    { architecture: 'amd64' },
  );
  assert.deepEqual(linked.problems, []);
  assert.equal(linked.libraries, 3);
});

test('#! chains: the interpreter, /usr/bin/env NAME on PATH, data that is neither ELF nor script', async () => {
  const script = (line: string): MemoryNode => ({
    type: 'file',
    data: Buffer.from(`${line}\necho hi\n`),
    mode: 0o755,
  });
  const base = { ...glibcRoot(), '/bin/sh': { type: 'file', data: prog, mode: 0o755 } } as const;
  const noInterp = await checkImageRoot(
    memoryFs({ '/run.sh': script('#!/bin/bash') }),
    { Entrypoint: ['/run.sh'] },
    {},
  );
  assert.match(noInterp.problems[0]!.message, /the #! interpreter \/bin\/bash is not in the image/);
  const env = await checkImageRoot(
    memoryFs({
      ...base,
      '/usr/bin/env': { type: 'file', data: prog, mode: 0o755 },
      '/app.py': script('#!/usr/bin/env python3'),
    }),
    { Entrypoint: ['/app.py'] },
    {},
  );
  assert.ok(
    env.problems.some((p) => p.kind === 'interpreter' && /"python3".*no python3 on PATH/.test(p.message)),
  );
  // with python3 on PATH, the chain goes on into it: its loader and libraries are the program's
  const good = await checkImageRoot(
    memoryFs({
      ...base,
      '/usr/bin/env': { type: 'file', data: prog, mode: 0o755 },
      '/usr/local/bin/python3': { type: 'file', data: prog, mode: 0o755 },
      [`${LIBDIR}/libfoo.so.1`]: { type: 'file', data: libfoo },
      [`${LIBDIR}/libbar.so.1`]: { type: 'file', data: libbar },
      '/app.py': script('#!/usr/bin/env python3'),
    }),
    { Entrypoint: ['/app.py'] },
    { architecture: 'amd64' },
  );
  assert.deepEqual(good.problems, []);
  assert.deepEqual(good.interpreters, ['/usr/bin/env', '/usr/local/bin/python3']);
  assert.match(
    formatCheck(good)[0]!,
    /^check: \/app\.py starts: #! \/usr\/bin\/env → \/usr\/local\/bin\/python3, loader, 3 libraries/,
  );
  const data = await checkImageRoot(
    memoryFs({ '/x': { type: 'file', data: Buffer.from('plain text'), mode: 0o755 } }),
    { Entrypoint: ['/x'] },
    {},
  );
  assert.match(data.problems[0]!.message, /neither an ELF program nor a #! script/);
});

test('ELF files that are not loadable objects of the image are skipped: relocatables, another architecture', async () => {
  const fs = memoryFs({
    ...glibcRoot(),
    '/src/main.o': { type: 'file', data: obj },
    '/prog': { type: 'file', data: prog, mode: 0o755 },
  });
  const r = await checkImageRoot(fs, {}, { architecture: 'arm64' });
  assert.equal(r.elfFiles, 0, 'x86-64 objects are foreign to an arm64 image');
  assert.equal(r.skipped, 4);
  assert.deepEqual(r.problems, []);
  const entry = await checkImageRoot(fs, { Entrypoint: ['/prog'] }, { architecture: 'arm64' });
  assert.match(
    entry.problems[0]!.message,
    /x86_64 program in a arm64 image: exec fails with "exec format error"/,
  );
});

test('a library built for musl in a glibc image (a -musl prebuilt addon) is skipped, not reported', async () => {
  const muslAddon = Buffer.from(libfoo);
  // rename DT_NEEDED libbar.so.1 to a musl libc name of the same length: only the string changes
  const at = muslAddon.indexOf('libbar.so.1\0');
  assert.ok(at > 0);
  muslAddon.write('libc.so\0\0\0\0\0', at, 'latin1');
  const fs = memoryFs({
    ...glibcRoot(),
    '/app/node_modules/x-linux-x64-musl/x.node': { type: 'file', data: muslAddon },
  });
  const r = await checkImageRoot(fs, {}, { architecture: 'amd64' });
  assert.deepEqual(r.problems, []);
  assert.equal(r.skipped, 1);
});

test('the user: a name must be in /etc/passwd; a uid needs nothing', async () => {
  const fs = memoryFs({ '/etc/passwd': { type: 'file', data: Buffer.from(PASSWD) } });
  const r = await checkImageRoot(fs, { User: 'nosuchuser' }, {});
  assert.deepEqual(
    r.problems.map((p) => [p.kind, p.path]),
    [['user', '/etc/passwd']],
  );
  assert.match(r.problems[0]!.message, /"nosuchuser", which is not in \/etc\/passwd/);
  assert.deepEqual((await checkImageRoot(fs, { User: '1234:1234' }, {})).problems, []);
});

test('checkUser: runc rules', () => {
  const table: [string | undefined, string | undefined, string | undefined, string[]][] = [
    [undefined, undefined, undefined, []],
    ['root', PASSWD, undefined, []],
    ['1000', undefined, undefined, []],
    ['1000:1000', undefined, undefined, []],
    ['app', PASSWD, undefined, ['user app']],
    ['app', undefined, undefined, ['user app (no file)']],
    ['nonroot:staff', PASSWD, 'root:x:0:\n', ['group staff']],
    ['nonroot:root', PASSWD, 'root:x:0:\n', []],
  ];
  for (const [user, passwd, group, want] of table) {
    const got = checkUser(user, passwd, group).map(
      (p) => `${p.part} ${p.name}${p.fileMissing ? ' (no file)' : ''}`,
    );
    assert.deepEqual(got, want, String(user));
  }
});

test('locales: named by the environment, looked up as glibc does, only when glibc is in the image', async () => {
  const env = ['LANG=de_DE.UTF-8'];
  const withLibc = glibcRoot();
  const r = await checkImageRoot(memoryFs(withLibc), { Env: env }, {});
  assert.deepEqual(
    r.problems.map((p) => p.kind),
    ['locale'],
  );
  assert.match(r.problems[0]!.message, /LANG=de_DE\.UTF-8 names a locale the image does not have/);
  assert.match(r.problems[0]!.fix, /--add \/usr\/lib\/locale\/de_DE\.utf8/);
  const ok = await checkImageRoot(
    memoryFs({
      ...withLibc,
      '/usr/lib/locale/de_DE.utf8/LC_CTYPE': { type: 'file', data: Buffer.from('x') },
    }),
    { Env: env },
    {},
  );
  assert.deepEqual(ok.problems, [], 'the normalised codeset directory is found');
  const noLibc = await checkImageRoot(memoryFs({}), { Env: env }, {});
  assert.deepEqual(noLibc.problems, [], 'without glibc nothing reads locale files');
  const builtin = await checkImageRoot(memoryFs(withLibc), { Env: ['LANG=C', 'LC_ALL=POSIX'] }, {});
  assert.deepEqual(builtin.problems, []);
});

test('locale names: normalisation and the variables that count', () => {
  assert.equal(normalizeCodeset('UTF-8'), 'utf8');
  assert.equal(normalizeCodeset('ISO-8859-1'), 'iso88591');
  assert.equal(normalizeCodeset('8859-1'), 'iso88591');
  assert.equal(canonicalLocaleName('de_DE.UTF-8@euro'), 'de_DE.utf8@euro');
  assert.deepEqual(localeDirNames('C.UTF-8'), ['C.UTF-8', 'C.utf8', 'C']);
  assert.ok(localeDirNames('de_DE.UTF-8@euro').includes('de_DE.utf8@euro'));
  assert.deepEqual(namedLocales(['LANG=fr_FR.UTF-8', 'LC_ALL=C.UTF-8']), [
    { name: 'C.UTF-8', variable: 'LC_ALL' },
  ]);
  assert.deepEqual(namedLocales(['LANG=fr_FR.UTF-8', 'LC_TIME=de_DE.UTF-8']), [
    { name: 'de_DE.UTF-8', variable: 'LC_TIME' },
    { name: 'fr_FR.UTF-8', variable: 'LANG' },
  ]);
});

test('archiveLocaleNames reads the names of a real locale-archive (made by localedef)', async () => {
  // localedef (libc-bin) with the locale sources of Debian's `locales` package, into a private prefix
  const prefix = join(dir, 'prefix');
  mkdirSync(join(prefix, 'usr/lib/locale'), { recursive: true });
  execFileSync('localedef', [`--prefix=${prefix}`, '-i', 'C', '-f', 'UTF-8', 'C.UTF-8'], { stdio: 'pipe' });
  const bytes = readFileSync(join(prefix, 'usr/lib/locale/locale-archive'));
  const names = await archiveLocaleNames(bytes.byteLength, async (o, l) => bytes.subarray(o, o + l));
  assert.deepEqual([...(names ?? [])], ['C.utf8']);
  assert.equal(await archiveLocaleNames(100, async () => new Uint8Array(100)), undefined, 'not an archive');
  // and the check finds LANG=C.UTF-8 in it
  const fs = memoryFs({ ...glibcRoot(), '/usr/lib/locale/locale-archive': { type: 'file', data: bytes } });
  assert.deepEqual((await checkImageRoot(fs, { Env: ['LANG=C.UTF-8'] }, {})).problems, []);
  const other = await checkImageRoot(fs, { Env: ['LANG=fr_FR.UTF-8'] }, {});
  assert.deepEqual(
    other.problems.map((p) => p.kind),
    ['locale'],
  );
});

test("the image's user: runc's identity (a name, a uid with or without an entry, a group, supplementary groups) and the kernel's permission bits", () => {
  const group = 'nonroot:x:65532:\nadm:x:4:syslog,nonroot\n';
  const id = runtimeIdentity('nonroot', PASSWD, group)!;
  assert.deepEqual(
    [id.name, id.uid, id.gid, [...id.groups].sort((a, b) => a - b)],
    ['nonroot', 65532, 65532, [4, 65532]],
  );
  assert.deepEqual(runtimeIdentity('65532:adm', PASSWD, group)?.gid, 4);
  assert.deepEqual(runtimeIdentity('1000', PASSWD, group), {
    name: '1000',
    uid: 1000,
    gid: 0,
    groups: new Set([0]),
  });
  assert.equal(runtimeIdentity('ghost', PASSWD, group), undefined);
  assert.equal(runtimeIdentity('nonroot:ghosts', PASSWD, group), undefined);
  const file = (mode: number, gid = 0) => ({ mode, uid: 0, gid });
  assert.equal(permits(id, file(0o700), 1), false);
  assert.equal(permits(id, file(0o750, 4), 1), true); // a supplementary group
  assert.equal(permits(id, file(0o711), 4), false);
  assert.equal(permits(id, file(0o711), 1), true);
  const root = runtimeIdentity(undefined, PASSWD, group)!;
  assert.equal(permits(root, file(0o600), 4), true);
  assert.equal(permits(root, file(0o644), 1), false);
});

test("what the image's user must open to start: the command (a script read too), the directories on the way, the working directory; fatal, each named with its mode and owner", async () => {
  const script = Buffer.from('#!/bin/sh\necho hi\n');
  const root = (extra: Record<string, MemoryNode>) =>
    memoryFs({
      ...glibcRoot(),
      '/bin/sh': { type: 'file', data: prog, mode: 0o755 },
      ...libs(),
      '/etc/passwd': { type: 'file', data: Buffer.from(PASSWD), mode: 0o644 },
      ...extra,
    });
  const run = (extra: Record<string, MemoryNode>, config: Record<string, unknown>) =>
    checkImageRoot(
      root(extra),
      { Entrypoint: ['/app/run.sh'], User: 'nonroot', ...config },
      { architecture: 'amd64' },
    );
  const own = await run({ '/app/run.sh': { type: 'file', data: script, mode: 0o700 } }, {});
  assert.deepEqual(
    own.problems.map((p) => [p.kind, p.path, p.fatal]),
    [['user', '/app/run.sh', true]],
  );
  assert.match(
    own.problems[0]!.message,
    /the entrypoint \/app\/run\.sh \(mode 0700, owner 0:0\): the image's user nonroot \(uid 65532, gid 65532\) cannot read or execute it/,
  );
  // executable by all but not readable: the interpreter cannot read the script
  const noRead = await run({ '/app/run.sh': { type: 'file', data: script, mode: 0o711 } }, {});
  assert.match(noRead.problems[0]!.message, /cannot read it/);
  const dir = await run(
    { '/app': { type: 'dir', mode: 0o700 }, '/app/run.sh': { type: 'file', data: script, mode: 0o755 } },
    {},
  );
  assert.match(
    dir.problems[0]!.message,
    /^\/app \(mode 0700, owner 0:0\): .* cannot enter it, on the way to the entrypoint \/app\/run\.sh/,
  );
  const workdir = await run(
    { '/app/run.sh': { type: 'file', data: script, mode: 0o755 }, '/data': { type: 'dir', mode: 0o700 } },
    { WorkingDir: '/data' },
  );
  assert.match(workdir.problems[0]!.message, /the working directory \/data \(mode 0700/);
  // the same as root, or with modes letting the user in: no problem
  const asRoot = await run({ '/app/run.sh': { type: 'file', data: script, mode: 0o700 } }, { User: '' });
  assert.deepEqual(asRoot.problems, []);
  const fine = await run({ '/app/run.sh': { type: 'file', data: script, mode: 0o755 } }, {});
  assert.deepEqual(fine.problems, []);
});

test("a program naming only secrets of its configuration directory (ssh-keygen's host keys): told to get them at run time, not that its configuration is missing", async () => {
  const src = join(dir, 'keygen.c');
  writeFileSync(
    src,
    'const char *k[] = {"/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ed25519_key", 0};\nint main(void){return k[0][0] == 0;}\n',
  );
  execFileSync('gcc', ['-o', join(dir, 'keygen'), src], { stdio: 'pipe' });
  const fs = memoryFs({
    ...glibcRoot(),
    '/usr/bin/ssh-keygen': { type: 'file', data: readFileSync(join(dir, 'keygen')), mode: 0o755 },
    '/etc/ssh/ssh_config': { type: 'file', data: Buffer.from(''), mode: 0o644 },
  });
  const secretReason = (p: string) => (/ssh_host_[^/]*_key$/.test(p) ? 'an SSH host private key' : undefined);
  const told = await checkImageRoot(
    fs,
    { Entrypoint: ['/usr/bin/ssh-keygen'] },
    { architecture: 'amd64', secretReason },
  );
  assert.equal(told.problems.length, 1);
  assert.equal(told.problems[0]!.fatal, false);
  assert.match(
    told.problems[0]!.message,
    /names \/etc\/ssh\/ssh_host_rsa_key, \/etc\/ssh\/ssh_host_ed25519_key \(an SSH host private key: secrets left out of images\)/,
  );
  assert.match(told.problems[0]!.fix, /--allow-secret/);
  // without knowing secrets: the configuration message, as for nginx
  const plain = await checkImageRoot(fs, { Entrypoint: ['/usr/bin/ssh-keygen'] }, { architecture: 'amd64' });
  assert.match(plain.problems[0]!.message, /reads its configuration at .* which the image lacks/);
});
