// dpkg-status.test.ts — pins the status.d records (distroless layout) and readHostDpkgOwners against
// a generated dpkg database and, differentially, against `dpkg -S` on the host.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { canonicalUsrPath, dpkgStatusEntries, readHostDpkgOwners } from './dpkg-status.ts';

test('dpkgStatusEntries writes the control record and md5sums of the files present', () => {
  const { entries, origins } = dpkgStatusEntries([
    {
      name: 'jq',
      controlText: 'Package: jq\nVersion: 1.6\nArchitecture: amd64\n',
      files: [
        { path: '/usr/bin/jq', data: Buffer.from('') },
        { path: '/a', data: Buffer.from('a') },
      ],
    },
  ]);
  const text = (p: string) => {
    const e = entries.find((x) => x.path === p);
    return e?.type === 'file' && e.content.kind === 'bytes'
      ? Buffer.from(e.content.data).toString()
      : undefined;
  };
  assert.equal(text('/var/lib/dpkg/status.d/jq'), 'Package: jq\nVersion: 1.6\nArchitecture: amd64\n');
  assert.equal(
    text('/var/lib/dpkg/status.d/jq.md5sums'),
    '0cc175b9c0f1b6a831c399e269772661  a\nd41d8cd98f00b204e9800998ecf8427e  usr/bin/jq\n',
  );
  assert.deepEqual(origins.get('/var/lib/dpkg/status.d/jq')?.[0], {
    kind: 'package',
    name: 'jq',
    version: '1.6',
    architecture: 'amd64',
  });
  assert.ok(entries.every((e) => e.mode === 0o644 && e.uid === 0));
});

test('readHostDpkgOwners maps files to installed packages, merged-/usr aliases included', async () => {
  const root = mkdtempSync(join(tmpdir(), 'deb-dpkg-'));
  try {
    mkdirSync(join(root, 'var/lib/dpkg/info'), { recursive: true });
    writeFileSync(
      join(root, 'var/lib/dpkg/status'),
      'Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\nSource: glibc\nVersion: 2.36-9\n\nPackage: gone\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1\n',
    );
    writeFileSync(
      join(root, 'var/lib/dpkg/info/libc6:amd64.list'),
      '/.\n/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libc.so.6\n',
    );
    writeFileSync(join(root, 'var/lib/dpkg/info/gone.list'), '/etc/gone.conf\n');
    const o = await readHostDpkgOwners(root);
    assert.deepEqual(o.owner('/usr/lib/x86_64-linux-gnu/libc.so.6'), {
      name: 'libc6',
      version: '2.36-9',
      architecture: 'amd64',
      source: 'glibc',
    });
    assert.equal(o.owner('/lib/x86_64-linux-gnu/libc.so.6')?.name, 'libc6');
    assert.equal(o.owner('/etc/gone.conf'), undefined);
    assert.equal(o.files('libc6').length, 4);
    assert.equal(canonicalUsrPath('/lib64/ld'), '/usr/lib64/ld');
    assert.equal(canonicalUsrPath('/library'), '/library');
    assert.equal(o.paragraph('libc6:amd64')?.get('Multi-Arch'), 'same');
    assert.equal(o.paragraph('gone:amd64'), undefined, 'not installed: no paragraph');
    // only the paths asked for (either spelling), and no .list kept
    const some = await readHostDpkgOwners(root, { paths: ['/lib/x86_64-linux-gnu/libc.so.6'] });
    assert.equal(some.owner('/usr/lib/x86_64-linux-gnu/libc.so.6')?.name, 'libc6');
    assert.equal(some.owner('/lib/x86_64-linux-gnu'), undefined, 'a path not asked for');
    assert.deepEqual(some.files('libc6'), []);
    // a .list naming the /usr spelling answers the alias spelling asked for, and the reverse
    writeFileSync(
      join(root, 'var/lib/dpkg/status'),
      `${readFileSync(join(root, 'var/lib/dpkg/status'), 'utf8')}\nPackage: usrpkg\nStatus: install ok installed\nArchitecture: all\nVersion: 2\n`,
    );
    writeFileSync(
      join(root, 'var/lib/dpkg/info/usrpkg.list'),
      '/usr/sbin/tool\n/lib/x86_64-linux-gnu/libc.so.6\n',
    );
    const both = await readHostDpkgOwners(root, {
      paths: ['/sbin/tool', '/usr/lib/x86_64-linux-gnu/libc.so.6', '/.'],
    });
    assert.equal(both.owner('/usr/sbin/tool')?.name, 'usrpkg');
    assert.equal(both.owner('/sbin/tool')?.name, 'usrpkg');
    assert.equal(
      both.owner('/lib/x86_64-linux-gnu/libc.so.6')?.name,
      'libc6',
      'the first .list in order wins',
    );
    assert.equal(both.owner('/.'), undefined);
    const empty = await readHostDpkgOwners(join(root, 'nothing'));
    assert.equal(empty.packages.size, 0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('readHostDpkgOwners agrees with dpkg -S on host files, whole or for the paths asked', async () => {
  const paths = ['/usr/bin/dpkg', '/bin/ls', '/usr/bin/jq', '/lib/x86_64-linux-gnu/libc.so.6', '/bin/tar'];
  const o = await readHostDpkgOwners('/');
  const some = await readHostDpkgOwners('/', { paths });
  for (const path of paths) {
    let want: string;
    try {
      want = execFileSync('dpkg', ['-S', path], { encoding: 'utf8' }).split(':')[0]!;
    } catch (e) {
      throw new Error(`dpkg -S ${path} failed: the host needs dpkg and that file's package`, { cause: e });
    }
    assert.equal(o.owner(path)?.name, want, path);
    assert.equal(some.owner(path)?.name, want, path);
  }
});

test("readHostDpkgOwners with paths answers as the whole map does, on this host's database", async () => {
  const all = await readHostDpkgOwners('/');
  if (all.packages.size === 0) return; // not a Debian host
  // every 97th path of every package, in both spellings, and a few no package owns
  const asked: string[] = ['/nonexistent/x', '/usr/lib/not-a-file'];
  for (const p of new Set([...all.packages.values()].map((h) => h.name)))
    for (const [i, f] of all.files(p).entries()) if (i % 97 === 0) asked.push(f, canonicalUsrPath(f));
  const some = await readHostDpkgOwners('/', { paths: asked });
  for (const p of asked) assert.deepEqual(some.owner(p), all.owner(p), p);
});

test('readHostDpkgOwners with paths answers as the whole map does: architectures, states, field order', async () => {
  const root = mkdtempSync(join(tmpdir(), 'deb-dpkg-'));
  try {
    mkdirSync(join(root, 'var/lib/dpkg/info'), { recursive: true });
    writeFileSync(
      join(root, 'var/lib/dpkg/status'),
      [
        'Package: libfoo\nStatus: install ok installed\nArchitecture: i386\nVersion: 1\n',
        'Package: libfoo\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\nSource: foo (1)\n',
        // Package not first, another case of its name, a blank line of spaces before it
        'Status: install ok installed\nVersion: 3\narchitecture: all\npackage: tools\n',
        ' \t',
        'Package: half\nStatus: install reinstreq half-installed\nArchitecture: amd64\nVersion: 2\n',
        'Package: both\nStatus: install ok installed\nArchitecture: amd64\nVersion: 4\n',
        'Package: both\nStatus: install ok installed\nArchitecture: all\nVersion: 4\n',
        'Package: utf\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5\nDescription: caf\u00e9\n',
      ].join('\n'),
    );
    const list = (name: string, lines: string[]) =>
      writeFileSync(join(root, 'var/lib/dpkg/info', `${name}.list`), `${lines.join('\n')}\n`);
    list('libfoo:i386', ['/usr/lib/i386-linux-gnu/libfoo.so.1', '/usr/share/doc/libfoo/copyright']);
    list('libfoo:amd64', ['/usr/lib/x86_64-linux-gnu/libfoo.so.1', '/usr/share/doc/libfoo/copyright']);
    list('tools', ['/usr/bin/tool', '/bin/tool2']);
    list('half', ['/usr/bin/half', '/usr/bin/tool']);
    list('both', ['/usr/bin/both']);
    list('both:amd64', ['/usr/bin/both-amd64']);
    list('removed', ['/usr/bin/removed']);
    list('utf', ['/usr/share/utf/caf\u00e9.txt', '/usr/share/utf/x']);
    const asked = [
      '/usr/lib/i386-linux-gnu/libfoo.so.1',
      '/lib/x86_64-linux-gnu/libfoo.so.1',
      '/usr/share/doc/libfoo/copyright',
      '/usr/bin/tool',
      '/usr/bin/tool2',
      '/usr/bin/half',
      '/usr/bin/both',
      '/usr/bin/both-amd64',
      '/usr/bin/removed',
      '/usr/share/utf/caf\u00e9.txt',
      '/usr/share/utf/y',
    ];
    const all = await readHostDpkgOwners(root);
    const some = await readHostDpkgOwners(root, { paths: asked });
    for (const p of asked) assert.deepEqual(some.owner(p), all.owner(p), p);
    assert.equal(some.owner('/usr/bin/both')?.architecture, 'all');
    assert.equal(
      some.owner('/usr/share/doc/libfoo/copyright')?.architecture,
      'amd64',
      'the first list in order',
    );
    assert.equal(some.owner('/usr/bin/tool')?.name, 'tools', 'a half-installed package owns nothing');
    assert.equal(some.owner('/usr/share/utf/caf\u00e9.txt')?.name, 'utf', 'a path in UTF-8');
    assert.equal(some.paragraph('libfoo:amd64')?.get('Source'), 'foo (1)');
    assert.equal(some.installed, true);
    assert.equal((await readHostDpkgOwners(join(root, 'none'), { paths: asked })).installed, false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
