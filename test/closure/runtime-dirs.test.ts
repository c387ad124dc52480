/**
 * runtime-dirs.test.ts — the program-files rule for daemons whose directories the init system makes
 * (closure/runtime-dirs.ts) and that look up an account compiled into them, on a small root built with
 * gcc: a state directory the root lacks is made with the owner and mode its tmpfiles.d line or its
 * unit's RuntimeDirectory= gives, else root's; a pid file directly under /run makes nothing; the account
 * named in the program is noted for /etc/passwd, a symbol of the same name is not. The real daemons of
 * the class (mosquitto, sshd) are test/e2e/real-launch-servers.test.ts's.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ClosureResult, resolveClosure } from '../../src/closure/closure.ts';
import { compiledAccountOf } from '../../src/closure/program-files.ts';
import { parseElf } from '../../src/elf/parse-elf.ts';
import { hostFs } from '../../src/fs/host-fs.ts';
import { gcc, glibcRoot, LIB, putFile } from './glibc-root.ts';

let parent: string;
let root: string;
let libcDebug: string;

before(() => {
  parent = mkdtempSync(join(tmpdir(), 'fromscratch-runtime-dirs-'));
  root = join(parent, 'root');
  const b = join(parent, 'build');
  mkdirSync(b);
  const put = (from: string, to: string) => putFile(root, from, to);
  const text = (to: string, body: string) => {
    mkdirSync(dirname(join(root, to)), { recursive: true });
    writeFileSync(join(root, to), body);
  };
  glibcRoot(root);
  for (const d of ['run', 'var/log', 'var/lib']) mkdirSync(join(root, d), { recursive: true });
  symlinkSync('/run', join(root, 'var', 'run'));
  // a daemon: its pid file in a directory of its own, a socket directory its unit makes, a pid file
  // directly under /run, a log directory nothing declares; its account by name, and bind(2) imported
  writeFileSync(
    join(b, 'daemon.c'),
    `#include <pwd.h>
     #include <sys/socket.h>
     const char *paths[] = {"/run/mydaemon/mydaemon.pid", "/var/run/mysock", "/run/other.pid", "/var/log/undeclared/x.log",
       "helper_program /usr/lib/mydaemon/helper", "cache_log /var/log/mydaemon/cache.log", "/usr/lib/mydaemon/data.txt",
       "/usr/libexec/mydaemon", "/usr/lib/debug/.build-id/"};
     int main(int argc, char **argv) {
       struct passwd *p = getpwnam("mydaemon");
       if (argc > 5) bind(0, 0, 0);
       return p == 0 && paths[argc][0] == 0;
     }\n`,
  );
  gcc(['-o', 'daemon', 'daemon.c'], b);
  put(join(b, 'daemon'), '/usr/sbin/daemon');
  // a helper it runs by the path its built-in default names, and a data file beside it (not a program)
  writeFileSync(join(b, 'helper.c'), 'int main(void) { return 0; }\n');
  gcc(['-o', 'helper', 'helper.c'], b);
  put(join(b, 'helper'), '/usr/lib/mydaemon/helper');
  text('/usr/lib/mydaemon/data.txt', 'data\n');
  mkdirSync(join(root, 'var/log/mydaemon'), { recursive: true });
  text(
    '/etc/passwd',
    'root:x:0:0:root:/root:/bin/sh\nbind:x:104:105::/var/cache/bind:/usr/sbin/nologin\nmydaemon:x:120:130::/nonexistent:/usr/sbin/nologin\n',
  );
  text('/etc/group', 'root:x:0:\nbind:x:105:\nmydaemon:x:130:\nsock:x:140:\n');
  text('/usr/lib/tmpfiles.d/mydaemon.conf', '# the daemon\nd /run/mydaemon 0750 mydaemon mydaemon -\n');
  text(
    '/usr/lib/systemd/system/mysock.service',
    '[Unit]\nDescription=x\n[Service]\nUser=mydaemon\nRuntimeDirectory=mysock\nRuntimeDirectoryMode=2770\n',
  );
  text('/usr/lib/systemd/system/other.service', '[Service]\nUser=nobody-here\nRuntimeDirectory=stranger\n');
  // its unit: a check of its configuration, a directory, and a preparation the image does not get;
  // another unit of it in /usr/lib, overridden by /etc's of the same name (which prepares nothing)
  text(
    '/usr/lib/systemd/system/daemon.service',
    '[Service]\nExecStartPre=/usr/sbin/daemon -t\nExecStartPre=/bin/mkdir -p /run/daemon-x\nExecStartPre=-/usr/lib/mydaemon/helper fetch-anchor\nExecStart=/usr/sbin/daemon -d\n',
  );
  text(
    '/usr/lib/systemd/system/daemon2.service',
    '[Service]\nExecStartPre=/usr/lib/mydaemon/helper old\nExecStart=/usr/sbin/daemon\n',
  );
  text('/etc/systemd/system/daemon2.service', '[Service]\nExecStart=/usr/sbin/daemon\n');
  // a private directory it names: a tool (a program), a library it preloads, data
  put(join(b, 'helper'), '/usr/libexec/mydaemon/tool');
  writeFileSync(join(b, 'pre.c'), 'int pre(void) { return 1; }\n');
  gcc(['-shared', '-fPIC', '-o', 'libpre.so', 'pre.c'], b);
  put(join(b, 'libpre.so'), '/usr/libexec/mydaemon/libpre.so');
  text('/usr/libexec/mydaemon/tool.supp', 'data\n');
  // separate debug info of libc, by its build ID
  const libc = parseElf(readFileSync(join(root, LIB.slice(1), 'libc.so.6')));
  libcDebug = `/usr/lib/debug/.build-id/${libc.buildId!.slice(0, 2)}/${libc.buildId!.slice(2)}.debug`;
  text(libcDebug, 'debug\n');
});

after(() => {
  if (parent) rmSync(parent, { recursive: true, force: true });
});

async function closure(): Promise<ClosureResult> {
  return resolveClosure(['/usr/sbin/daemon'], hostFs(root));
}

describe('daemons whose directories the init system makes', () => {
  it('a directory the root lacks is made with the owner and mode of its declaration', async () => {
    const r = await closure();
    const own = r.files.get('/run/mydaemon');
    assert.equal(own?.kind, 'dir');
    assert.deepEqual([own.stat.mode, own.stat.uid, own.stat.gid], [0o750, 120, 130]);
    assert.match(
      own.origins.map((o) => ('reason' in o ? o.reason : '')).join('\n'),
      /made as \/usr\/lib\/tmpfiles\.d\/mydaemon\.conf makes it \(0750, 120:130\)/,
    );
    // /var/run/mysock is /run/mysock: the unit's RuntimeDirectory=, the user's primary group
    const sock = r.files.get('/run/mysock');
    assert.deepEqual([sock?.stat.mode, sock?.stat.uid, sock?.stat.gid], [0o2770, 120, 130]);
    assert.equal(r.files.get('/var/run')?.kind, 'symlink');
    // nothing declares it: root's, 0755
    const log = r.files.get('/var/log/undeclared');
    assert.deepEqual([log?.kind, log?.stat.mode, log?.stat.uid], ['dir', 0o755, 0]);
    // a pid file directly under /run: nothing to make
    assert.equal(r.files.has('/run/other.pid'), false);
    assert.equal(r.files.get('/run')?.kind, 'dir');
  });

  it('the account named in the program is noted; one that is only a symbol name (bind) is not', async () => {
    const r = await closure();
    const accounts = (r.files.get('/usr/sbin/daemon')?.origins ?? [])
      .map((o) => ('reason' in o ? compiledAccountOf(o.reason) : undefined))
      .filter((n) => n !== undefined);
    assert.deepEqual(accounts, ['mydaemon']);
  });

  it('paths inside its strings: the helper its built-in default names, with its closure, and the log directory', async () => {
    const r = await closure();
    const helper = r.files.get('/usr/lib/mydaemon/helper');
    assert.match(
      (helper?.origins ?? []).map((o) => ('reason' in o ? o.reason : '')).join('\n'),
      /\/usr\/sbin\/daemon runs \/usr\/lib\/mydaemon\/helper \(a path compiled into it\)/,
    );
    assert.ok(
      r.roots.some((x) => x.path === '/usr/lib/mydaemon/helper'),
      'a program, with its closure',
    );
    assert.equal(r.files.has('/usr/lib/mydaemon/data.txt'), false, 'not a program');
    assert.equal(r.files.get('/var/log/mydaemon')?.kind, 'dir');
  });

  it('what its unit runs before it and the image does not do is a warning; a check of its configuration and a mkdir are not', async () => {
    const r = await closure();
    const preps = r.warnings.filter((w) => w.includes('ExecStartPre'));
    assert.deepEqual(preps, [
      'daemon.service runs `/usr/lib/mydaemon/helper fetch-anchor` before /usr/sbin/daemon (ExecStartPre=), and fromscratch runs nothing: what it prepares is not in the image; if /usr/sbin/daemon needs it, run that command in the entrypoint or add its result with --add',
    ]);
  });

  it('a private directory it names ships whole: its programs and libraries with their closures, its data', async () => {
    const r = await closure();
    assert.ok(
      r.roots.some((x) => x.path === '/usr/libexec/mydaemon/tool'),
      'a program',
    );
    assert.ok(r.objects.has('/usr/libexec/mydaemon/libpre.so'), 'a library, loaded');
    assert.equal(r.files.get('/usr/libexec/mydaemon/tool.supp')?.kind, 'file');
    assert.match(
      (r.files.get('/usr/libexec/mydaemon/tool.supp')?.origins ?? [])
        .map((o) => ('reason' in o ? o.reason : ''))
        .join('\n'),
      /runs what is in \/usr\/libexec\/mydaemon \(a path compiled into it\)/,
    );
  });

  it('a program that reads debug info by build ID gets the debug files of the image objects', async () => {
    const r = await closure();
    assert.equal(r.files.get(libcDebug)?.kind, 'file');
    const off = await resolveClosure(['/usr/sbin/daemon'], hostFs(root), { infer: { programFiles: false } });
    assert.equal(off.files.has(libcDebug), false);
  });

  it('with the rule off, nothing is made', async () => {
    const r = await resolveClosure(['/usr/sbin/daemon'], hostFs(root), { infer: { programFiles: false } });
    assert.equal(r.files.has('/run/mydaemon'), false);
  });
});
