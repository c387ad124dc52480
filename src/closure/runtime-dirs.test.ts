import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDeclarationFile, tmpfilesDirs, unitDirs } from './runtime-dirs.ts';

test('tmpfiles.d: d and D lines with their mode and owner; other types, specifiers and comments skipped', () => {
  const text = [
    '# Debian squid',
    'd /run/squid 0755 proxy proxy -',
    'D! /run/tinyproxy 0750 tinyproxy tinyproxy -',
    'd /run/named 2775 root bind - -',
    'd /run/plain',
    'd /run/dash - - -',
    'f /run/file.pid 0644 root root -',
    'L /var/run - - - - ../run',
    'd %t/user 0700 - - -',
    'd relative 0700 - - -',
    '',
  ].join('\n');
  assert.deepEqual(tmpfilesDirs(text, 'x.conf'), [
    { path: '/run/squid', mode: 0o755, user: 'proxy', group: 'proxy', declared: 'x.conf' },
    { path: '/run/tinyproxy', mode: 0o750, user: 'tinyproxy', group: 'tinyproxy', declared: 'x.conf' },
    { path: '/run/named', mode: 0o2775, user: 'root', group: 'bind', declared: 'x.conf' },
    { path: '/run/plain', mode: 0o755, declared: 'x.conf' },
    { path: '/run/dash', mode: 0o755, declared: 'x.conf' },
  ]);
});

test("a unit's RuntimeDirectory= and friends, owned by its User= (the user's primary group without Group=)", () => {
  const ssh = [
    '[Unit]',
    'RuntimeDirectory=not-service',
    '[Service]',
    'RuntimeDirectory=sshd',
    'RuntimeDirectoryMode=0755',
  ];
  assert.deepEqual(unitDirs(ssh.join('\n'), 'ssh.service'), [
    { path: '/run/sshd', mode: 0o755, declared: 'ssh.service RuntimeDirectory=' },
  ]);
  const redis = [
    '[Service]',
    'User=redis',
    'RuntimeDirectory=redis',
    'RuntimeDirectoryMode=2755',
    'StateDirectory=redis other/sub ../escape %i',
    'LogsDirectory=redis:redis-link',
  ];
  assert.deepEqual(unitDirs(redis.join('\n'), 'redis.service'), [
    {
      path: '/run/redis',
      mode: 0o2755,
      user: 'redis',
      primaryGroup: true,
      declared: 'redis.service RuntimeDirectory=',
    },
    {
      path: '/var/lib/redis',
      mode: 0o755,
      user: 'redis',
      primaryGroup: true,
      declared: 'redis.service StateDirectory=',
    },
    {
      path: '/var/lib/other/sub',
      mode: 0o755,
      user: 'redis',
      primaryGroup: true,
      declared: 'redis.service StateDirectory=',
    },
    {
      path: '/var/log/redis',
      mode: 0o755,
      user: 'redis',
      primaryGroup: true,
      declared: 'redis.service LogsDirectory=',
    },
  ]);
  const grouped = ['[Service]', 'User=a', 'Group=b', 'CacheDirectory=c'];
  assert.deepEqual(unitDirs(grouped.join('\n'), 'c.service'), [
    { path: '/var/cache/c', mode: 0o755, user: 'a', group: 'b', declared: 'c.service CacheDirectory=' },
  ]);
});

test("a unit's ExecStartPre mkdir, owned as its chown says (mosquitto's unit)", () => {
  const text = [
    '[Service]',
    'ExecStartPre=/bin/mkdir -m 740 -p /var/log/mosquitto',
    'ExecStartPre=/bin/chown mosquitto /var/log/mosquitto',
    'ExecStartPre=-/bin/mkdir -m 740 -p \\',
    '  /run/mosquitto',
    'ExecStartPre=/bin/chown -R mosquitto:mosq /run/mosquitto/',
    'ExecStartPre=/bin/mkdir -p /run/$NAME /run/%i',
    'ExecStart=/bin/mkdir /not/pre',
  ].join('\n');
  assert.deepEqual(unitDirs(text, 'mosquitto.service'), [
    {
      path: '/var/log/mosquitto',
      mode: 0o740,
      user: 'mosquitto',
      declared: 'mosquitto.service ExecStartPre=mkdir',
    },
    {
      path: '/run/mosquitto',
      mode: 0o740,
      user: 'mosquitto',
      group: 'mosq',
      declared: 'mosquitto.service ExecStartPre=mkdir',
    },
  ]);
});

test('which files are read: tmpfiles.d *.conf, units that are services and not templates', () => {
  assert.equal(isDeclarationFile('/usr/lib/tmpfiles.d', 'squid.conf'), true);
  assert.equal(isDeclarationFile('/usr/lib/tmpfiles.d', 'squid.service'), false);
  assert.equal(isDeclarationFile('/lib/systemd/system', 'ssh.service'), true);
  assert.equal(isDeclarationFile('/lib/systemd/system', 'getty@.service'), false);
  assert.equal(isDeclarationFile('/lib/systemd/system', 'ssh.socket'), false);
});
