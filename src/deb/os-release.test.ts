// os-release.test.ts — pins the OS identity of an image of Debian packages: base-files' os-release text for
// the release of the packages' InRelease, the /etc/os-release link, debian_version, and the cases where
// nothing is generated (not Debian, no version, already present).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { FileEntry } from '../fs/file-tree.ts';
import { debianOsRelease, osIdentityEntries } from './os-release.ts';

const deb = { uri: 'http://deb.debian.org/debian', origin: 'Debian', codename: 'bookworm', version: '12.12' };

test('osIdentityEntries writes os-release, the /etc link and debian_version of the packages’ release', () => {
  const r = osIdentityEntries(
    [deb, deb, { uri: 'https://deb.nodesource.com/node_20.x', origin: 'Node Source' }],
    new Map(),
  );
  const by = new Map(r.entries.map((e) => [e.path, e]));
  const text = (p: string) => {
    const e = by.get(p);
    return e?.type === 'file' && e.content.kind === 'bytes'
      ? Buffer.from(e.content.data).toString()
      : undefined;
  };
  assert.equal(text('/etc/debian_version'), '12.12\n');
  const link = by.get('/etc/os-release');
  assert.ok(link?.type === 'symlink' && link.target === '../usr/lib/os-release');
  assert.equal(text('/usr/lib/os-release'), debianOsRelease('12', 'bookworm'));
  // the same text as base-files ships on a bookworm host
  const host = readFileSync('/usr/lib/os-release', 'utf8');
  if (/^VERSION_CODENAME=bookworm$/m.test(host)) assert.equal(debianOsRelease('12', 'bookworm'), host);
});

test('osIdentityEntries: nothing for other origins or an unversioned suite; kept when the image has it', () => {
  assert.deepEqual(
    osIdentityEntries([{ uri: 'http://x/n', origin: 'Node Source', version: '1' }], new Map()).entries,
    [],
  );
  assert.deepEqual(
    osIdentityEntries([{ ...deb, version: undefined as unknown as string }], new Map()).entries,
    [],
  );
  const have = new Map<string, FileEntry>([
    [
      '/usr/lib/os-release',
      {
        type: 'file',
        path: '/usr/lib/os-release',
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: 0,
        size: 0,
        content: { kind: 'bytes', data: new Uint8Array() },
      },
    ],
  ]);
  assert.deepEqual(
    osIdentityEntries([{ ...deb, codename: 'bookworm-security' }], have).entries.map((e) => e.path),
    ['/etc/debian_version'],
  );
});
