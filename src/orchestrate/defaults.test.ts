import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scratchDefaults, systemAccountsNamed } from './defaults.ts';

test('scratch defaults: passwd, group, nsswitch, /tmp 1777, each switchable and never over an existing file', () => {
  const all = scratchDefaults();
  const paths = all.map((d) => d.entry.path);
  assert.deepEqual(paths, [
    '/etc/passwd',
    '/etc/group',
    '/root',
    '/home/nonroot',
    '/etc/nsswitch.conf',
    '/tmp',
  ]);
  // root's home exists (gpg, git, caches write under $HOME), private as distroless has it
  const root = all.find((d) => d.entry.path === '/root')!.entry;
  assert.deepEqual([root.type, root.mode, root.uid, root.gid], ['dir', 0o700, 0, 0]);
  assert.ok(!scratchDefaults({}, (p) => p === '/root').some((d) => d.entry.path === '/root'));
  const passwd = all[0]!.entry;
  assert.ok(
    passwd.type === 'file' &&
      passwd.content.kind === 'bytes' &&
      Buffer.from(passwd.content.data).toString().includes('nonroot:x:65532:65532'),
  );
  assert.equal(all.find((d) => d.entry.path === '/tmp')?.entry.mode, 0o1777);
  assert.deepEqual(scratchDefaults({ users: false, nsswitch: false, tmp: false }), []);
  assert.ok(!scratchDefaults({}, (p) => p === '/etc/passwd').some((d) => d.entry.path === '/etc/passwd'));
});

test('system accounts a configuration names after a user keyword join the defaults, groups without members', () => {
  const passwd = [
    'root:x:0:0:root:/root:/bin/bash',
    'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
    'proxy:x:13:13:proxy:/bin:/usr/sbin/nologin',
    'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin',
    'tinyproxy:x:103:107:Tinyproxy daemon:/run/tinyproxy:/bin/false',
    'alice:x:1000:1000:Alice:/home/alice:/bin/bash',
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
    'broken-line',
  ].join('\n');
  const group = ['root:x:0:', 'proxy:x:13:', 'www-data:x:33:alice', 'tinyproxy:x:107:', 'alice:x:1000:'].join(
    '\n',
  );
  const got = systemAccountsNamed(passwd, group, [
    'user www-data;\nworker_processes auto;\n# daemon off is for the foreground\n',
    'User tinyproxy\nGroup tinyproxy\n',
    'server.username = "alice"\ncache_effective_user proxy\nuser nobody;\nuser root;\n',
  ]);
  assert.deepEqual(got, {
    users: [
      'proxy:x:13:13:proxy:/bin:/usr/sbin/nologin',
      'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin',
      'tinyproxy:x:103:107:Tinyproxy daemon:/run/tinyproxy:/bin/false',
    ],
    // alice (uid 1000) is a person, not a system account; www-data's member list is dropped
    groups: ['proxy:x:13:', 'www-data:x:33:', 'tinyproxy:x:107:'],
  });
  const [passwdFile, groupFile] = scratchDefaults({}, () => false, got);
  const text = (d: typeof passwdFile) =>
    d?.entry.type === 'file' && d.entry.content.kind === 'bytes'
      ? Buffer.from(d.entry.content.data).toString()
      : '';
  assert.match(
    text(passwdFile),
    /^root:x:0:0:[^\n]*\n(?:.*\n){2}proxy:x:13:13:[^\n]*\nwww-data:x:33:33:[^\n]*\ntinyproxy:x:103:107:[^\n]*\n$/,
  );
  assert.match(text(groupFile), /\nwww-data:x:33:\ntinyproxy:x:107:\n$/);
  assert.match(
    passwdFile!.origin.kind === 'default' ? passwdFile!.origin.what : '',
    /proxy, www-data, tinyproxy, named by the configuration/,
  );
});
