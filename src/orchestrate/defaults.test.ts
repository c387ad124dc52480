import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scratchDefaults } from './defaults.ts';

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
