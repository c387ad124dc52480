/**
 * strace-log.test.ts — the strace log parser on hand-written logs: unfinished/resumed merging, escapes
 * to exact bytes, dirfds and per-pid working directories across forks, root changes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodePath } from '../fs/path.ts';
import { decodeStraceString, parseStraceLog } from './strace-log.ts';

describe('parseStraceLog', () => {
  it('merges <unfinished ...> and <... resumed> halves, keeping start order', () => {
    const log = [
      '100 vfork( <unfinished ...>',
      '101 execve("/usr/bin/cat", ["cat", "/etc/hostname"], 0x55 /* 35 vars */ <unfinished ...>',
      '100 <... vfork resumed>)              = 101',
      '101 <... execve resumed>)             = 0',
      '101 openat(AT_FDCWD</work>, "/etc/hostname", O_RDONLY) = 3</etc/hostname>',
      '101 +++ exited with 0 +++',
      '100 --- SIGCHLD {si_signo=SIGCHLD} ---',
    ].join('\n');
    const ev = parseStraceLog(log, { cwd: '/work' });
    assert.deepEqual(
      ev.map((e) => [e.pid, e.syscall, e.path, e.ok]),
      [
        [101, 'execve', '/usr/bin/cat', true],
        [101, 'openat', '/etc/hostname', true],
      ],
    );
    assert.equal(ev[1]!.realPath, '/etc/hostname');
  });

  it('reads open flags (write-only, read-write, truncate, directory) and the paths bind and mknod create', () => {
    const log = [
      '5 openat(AT_FDCWD</srv>, "logs/a.log", O_WRONLY|O_CREAT|O_APPEND, 0644) = 3</srv/logs/a.log>',
      '5 openat(AT_FDCWD</srv>, "/srv/db", O_RDWR|O_CLOEXEC) = 4</srv/db>',
      '5 openat(AT_FDCWD</srv>, "/srv/out", O_RDWR|O_CREAT|O_TRUNC, 0644) = 5</srv/out>',
      '5 open("/srv/conf.d", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = 6</srv/conf.d>',
      '5 openat2(AT_FDCWD</srv>, "/srv/x", {flags=O_WRONLY|O_CREAT, mode=0600, resolve=0}, 24) = 7</srv/x>',
      '5 creat("/srv/y", 0644) = 8</srv/y>',
      '5 bind(9<socket:[1]>, {sa_family=AF_UNIX, sun_path="/run/app/app.sock"}, 110) = 0',
      '5 bind(9<socket:[2]>, {sa_family=AF_UNIX, sun_path=@"abstract"}, 12) = 0',
      '5 bind(9<socket:[3]>, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("0.0.0.0")}, 16) = 0',
      '5 mknodat(AT_FDCWD</srv>, "fifo", S_IFIFO|0600) = 0',
    ].join('\n');
    const ev = parseStraceLog(log, { cwd: '/srv' });
    const flags = (p: string) => {
      const e = ev.find((x) => x.path === p)!;
      return [e.kind, Boolean(e.write), Boolean(e.writeOnly), Boolean(e.directory), Boolean(e.creat)];
    };
    assert.deepEqual(flags('/srv/logs/a.log'), ['open', true, true, false, true]);
    assert.deepEqual(flags('/srv/db'), ['open', true, false, false, false], 'O_RDWR can read');
    assert.deepEqual(flags('/srv/out'), ['open', true, true, false, true], 'O_TRUNC discards first');
    assert.deepEqual(flags('/srv/conf.d'), ['open', false, false, true, false]);
    assert.deepEqual(flags('/srv/x'), ['open', true, true, false, true], 'openat2 flags');
    assert.deepEqual(flags('/srv/y'), ['open', true, true, false, true], 'creat');
    assert.deepEqual(
      ev.filter((e) => e.kind === 'create').map((e) => [e.syscall, e.path]),
      [
        ['bind', '/run/app/app.sock'],
        ['mknodat', '/srv/fifo'],
      ],
    );
  });

  it('decodes escapes to exact bytes (non-UTF-8 names survive)', () => {
    assert.deepEqual(
      decodeStraceString('a\\x2f\\xff\\"\\\\\\n\\0'),
      Buffer.from([0x61, 0x2f, 0xff, 0x22, 0x5c, 0x0a, 0x00]),
    );
    const ev = parseStraceLog('7 openat(AT_FDCWD</>, "\\x2f\\x74\\x2f\\x78\\xff", O_RDONLY) = 3</t/x\\xff>');
    assert.deepEqual(encodePath(ev[0]!.path), Buffer.from([0x2f, 0x74, 0x2f, 0x78, 0xff]));
  });

  it('resolves relative paths against dirfds, AT_FDCWD and the tracked cwd, inherited across fork', () => {
    const log = [
      '1 chdir("/srv")                     = 0',
      '1 open("rel.txt", O_RDONLY) = 3</srv/rel.txt>',
      '1 openat(4</usr/lib>, "libx.so", O_RDONLY) = 5</usr/lib/libx.so>',
      '1 clone(child_stack=NULL, flags=CLONE_CHILD_SETTID|SIGCHLD) = 2',
      '2 stat("sub/../b", {st_mode=S_IFREG|0644, ...}) = 0',
      '2 chdir("deeper")                   = 0',
      '2 access("c", R_OK)                 = -1 ENOENT (No such file or directory)',
      '1 readlink("l", 0x7ffc, 4096)       = 3',
    ].join('\n');
    const ev = parseStraceLog(log, { cwd: '/' });
    assert.deepEqual(
      ev.map((e) => [e.pid, e.kind, e.path, e.ok, e.errno ?? '']),
      [
        [1, 'open', '/srv/rel.txt', true, ''],
        [1, 'open', '/usr/lib/libx.so', true, ''],
        [2, 'stat', '/srv/b', true, ''],
        [2, 'access', '/srv/deeper/c', false, 'ENOENT'],
        [1, 'readlink', '/srv/l', true, ''],
      ],
    );
  });

  it('marks creates, deletes and O_CREAT opens', () => {
    const log = [
      '1 openat(AT_FDCWD</t>, "new", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3</t/new>',
      '1 unlinkat(AT_FDCWD</t>, "gone", 0) = 0',
      '1 renameat2(AT_FDCWD</t>, "a", AT_FDCWD</t>, "b", RENAME_NOREPLACE) = 0',
      '1 mkdir("/t/d", 0777) = 0',
    ].join('\n');
    const ev = parseStraceLog(log);
    assert.deepEqual(
      ev.map((e) => [e.kind, e.path, e.creat ?? false]),
      [
        ['open', '/t/new', true],
        ['delete', '/t/gone', false],
        ['delete', '/t/a', false],
        ['create', '/t/b', false],
        ['create', '/t/d', false],
      ],
    );
  });

  it('after pivot_root/chroot, paths are in the new root (inRoot) and forks inherit it', () => {
    const log = [
      '9 openat(AT_FDCWD</tmp/b/rootfs>, "/etc/x", O_RDONLY) = 3</etc/x>',
      '9 pivot_root(".", ".")              = 0',
      '9 chdir("/")                        = 0',
      '9 clone(child_stack=NULL, flags=SIGCHLD) = 10',
      '10 execve("/hello", ["/hello"], 0x1 /* 3 vars */) = 0',
      '10 openat(AT_FDCWD<\\x2f>, "/lib/libc.so.6", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)',
    ].join('\n');
    const ev = parseStraceLog(log);
    assert.deepEqual(
      ev.map((e) => [e.pid, e.kind, e.path, e.inRoot]),
      [
        [9, 'open', '/etc/x', false],
        [9, 'root', '/tmp/b/rootfs', false],
        [10, 'exec', '/hello', true],
        [10, 'open', '/lib/libc.so.6', true],
      ],
    );
  });

  it('ignores malformed lines and calls that never returned', () => {
    const ev = parseStraceLog(
      'garbage\n5 openat(AT_FDCWD</>, "/x", O_RDONLY <unfinished ...>\n5 exit_group(0) = ?\n',
    );
    assert.deepEqual(ev, []);
  });
});
