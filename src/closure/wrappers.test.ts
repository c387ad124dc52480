// wrappers.test.ts — wrappedCommand finds the program each wrapper execs, past its options, their values
// and its own positional words, as the wrappers' own parsers do.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wrappedCommand } from './wrappers.ts';

test('wrappedCommand: the program after each wrapper grammar', () => {
  const cases: [string[], string | undefined][] = [
    [['/sbin/tini', '--', '/app/server', '-p', '80'], '/app/server'],
    [['/tini', '-g', '-p', 'SIGTERM', '--', 'app'], 'app'],
    [['tini', '-s', '/app'], '/app'],
    [['/usr/bin/dumb-init', '--rewrite', '15:2', '--', 'nginx', '-g', 'daemon off;'], 'nginx'],
    [['/usr/bin/dumb-init', '-c', '/app'], '/app'],
    [['catatonit', '-g', '--', '/app'], '/app'],
    [['su-exec', 'app:app', '/usr/bin/node', 'main.js'], '/usr/bin/node'],
    [['/usr/local/bin/gosu', 'nobody', 'redis-server'], 'redis-server'],
    [['/usr/bin/env', '-i', 'PATH=/bin', 'LANG=C', 'python3', '-u', 'x.py'], 'python3'],
    [['env', '-u', 'HOME', '--chdir', '/srv', 'app'], 'app'],
    [['/usr/bin/timeout', '-s', 'KILL', '-k', '5', '30', '/app', '--flag'], '/app'],
    [['timeout', '--preserve-status', '10s', 'app'], 'app'],
    [['nice', '-n', '10', 'app'], 'app'],
    [['nice', '-5', 'app'], 'app'],
    [['nohup', '/app'], '/app'],
    [['setsid', '-w', '/app'], '/app'],
    [['stdbuf', '-o', 'L', '/app'], '/app'],
    [['xargs', '-0', '-n', '1', '-P', '4', 'gzip', '-9'], 'gzip'],
    [['xargs', '-I', '{}', 'cp', '{}', '/dst'], 'cp'],
    // no program: the wrapper runs nothing, or prints
    [['/usr/bin/env'], undefined],
    [['env', 'A=1'], undefined],
    [['tini', '--version'], undefined],
    [['timeout', '5'], undefined],
    [['su-exec', 'app'], undefined],
    // not a wrapper
    [['/usr/bin/node', 'tini'], undefined],
    [['/app/constructor', 'x'], undefined],
    [[], undefined],
  ];
  for (const [argv, want] of cases) assert.equal(wrappedCommand(argv)?.program, want, argv.join(' '));
});
