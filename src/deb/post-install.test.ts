// post-install.test.ts — pins parseAlternatives (continuations, variables, loops, refusals) and
// postInstall (CA bundle order and newline rule, .conf disabling, alternatives priority, no overwrite).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FileEntry } from '../fs/file-tree.ts';
import { parseAlternatives, postInstall } from './post-install.ts';

const file = (path: string, text: string): FileEntry => ({
  type: 'file',
  path,
  mode: 0o644,
  uid: 0,
  gid: 0,
  size: text.length,
  content: { kind: 'bytes', data: Buffer.from(text) },
});

test('parseAlternatives reads continuations, variables and for loops; skips what it cannot know', () => {
  const script = `#!/bin/sh
set -e
basedir=/usr/lib/jvm/java-17
priority=1711
tools='java keytool'
if [ "$1" = configure ]; then
    update-alternatives --install /usr/bin/awk awk /usr/bin/mawk 5 \\
        --slave /usr/share/man/man1/awk.1.gz awk.1.gz /usr/share/man/man1/mawk.1.gz
    for i in $tools; do
        unset slave1 || true
        update-alternatives \\
          --install \\
          /usr/bin/$i \\
          $i \\
          $basedir/bin/$i \\
          $priority \\
          $slave1
    done
    update-alternatives --install /usr/bin/x x "$(pwd)/x" 10
    update-alternatives --install /usr/bin/y y $unknown/y 10
fi
`;
  assert.deepEqual(parseAlternatives(script), [
    {
      link: '/usr/bin/awk',
      name: 'awk',
      path: '/usr/bin/mawk',
      priority: 5,
      slaves: [
        { link: '/usr/share/man/man1/awk.1.gz', name: 'awk.1.gz', path: '/usr/share/man/man1/mawk.1.gz' },
      ],
    },
    {
      link: '/usr/bin/java',
      name: 'java',
      path: '/usr/lib/jvm/java-17/bin/java',
      priority: 1711,
      slaves: [],
    },
    {
      link: '/usr/bin/keytool',
      name: 'keytool',
      path: '/usr/lib/jvm/java-17/bin/keytool',
      priority: 1711,
      slaves: [],
    },
  ]);
});

test('postInstall builds the CA bundle as update-ca-certificates does', () => {
  const have = new Map<string, FileEntry>();
  for (const e of [
    file('/usr/share/ca-certificates/mozilla/B.crt', 'B\n'),
    file('/usr/share/ca-certificates/mozilla/A (x),y.crt', 'A'), // no final newline: one is added
    file('/usr/share/ca-certificates/mozilla/Off.crt', 'OFF\n'),
    file('/usr/local/share/ca-certificates/0local.crt', 'L\n'),
    file('/etc/ca-certificates.conf', 'mozilla/A (x),y.crt\n!mozilla/Off.crt\n'),
  ])
    have.set(e.path, e);
  const r = postInstall([{ name: 'ca-certificates', version: '1', architecture: 'all' }], have);
  const bundle = r.entries.find((e) => e.path === '/etc/ssl/certs/ca-certificates.crt');
  assert.equal(
    bundle?.type === 'file' && Buffer.from((bundle.content as { data: Uint8Array }).data).toString(),
    'A\nB\nL\n',
  );
  const link = r.entries.find((e) => e.path === '/etc/ssl/certs/A_=x=_y.pem');
  assert.equal(link?.type === 'symlink' && link.target, '/usr/share/ca-certificates/mozilla/A (x),y.crt');
  assert.equal(r.origins.get('/etc/ssl/certs/ca-certificates.crt')?.[0]?.kind, 'package');
  assert.equal(postInstall([{ name: 'other', version: '1', architecture: 'all' }], have).entries.length, 0);
});

test('postInstall links the highest-priority alternative whose target exists, never over an entry', () => {
  const have = new Map<string, FileEntry>([
    ['/usr/bin/mawk', file('/usr/bin/mawk', 'm')],
    ['/usr/bin/gawk', file('/usr/bin/gawk', 'g')],
    ['/usr/bin/taken', file('/usr/bin/taken', 't')],
    ['/usr/bin/real', file('/usr/bin/real', 'r')],
  ]);
  const r = postInstall(
    [
      {
        name: 'mawk',
        version: '1',
        architecture: 'amd64',
        postinst:
          'update-alternatives --install /usr/bin/awk awk /usr/bin/mawk 5 --slave /usr/share/man/man1/awk.1.gz awk.1.gz /usr/share/man/man1/mawk.1.gz\n',
      },
      {
        name: 'gawk',
        version: '1',
        architecture: 'amd64',
        postinst:
          'update-alternatives --install /usr/bin/awk awk /usr/bin/gawk 10\nupdate-alternatives --install /usr/bin/taken t /usr/bin/real 1\nupdate-alternatives --install /usr/bin/nope n /usr/bin/missing 1\n',
      },
    ],
    have,
  );
  assert.deepEqual(
    r.entries.map((e) => `${e.path} -> ${e.type === 'symlink' ? e.target : ''}`),
    ['/usr/bin/awk -> /etc/alternatives/awk', '/etc/alternatives/awk -> /usr/bin/gawk'],
  );
});
