// apt-sources.test.ts — pins the three source formats and readHostAptSources' file selection.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import {
  parseAptSourceLine,
  parseDeb822Sources,
  parseSourcesList,
  readHostAptSources,
} from './apt-sources.ts';

test('parseAptSourceLine reads options, URI, suite and components', () => {
  assert.deepEqual(
    parseAptSourceLine(
      'deb [arch=arm64,amd64 signed-by=/k.gpg] http://deb.debian.org/debian/ bookworm main contrib',
      'x',
    ),
    {
      uri: 'http://deb.debian.org/debian',
      suite: 'bookworm',
      components: ['main', 'contrib'],
      architectures: ['arm64', 'amd64'],
      signedBy: ['/k.gpg'],
      from: 'x',
    },
  );
  assert.equal(parseAptSourceLine('deb-src http://x/debian bookworm main'), undefined);
  const bad: [string, RegExp][] = [
    ['rpm http://x a b', /expected "deb"/],
    ['deb ftp://x/debian bookworm main', /scheme ftp/],
    ['deb http://u:p@x/debian bookworm main', /credentials/],
    ['deb http://x/debian ./ ', /flat|components/],
    ['deb http://x/debian bookworm', /no components/],
    ['deb [arch=amd64 http://x bookworm main', /unterminated/],
  ];
  for (const [line, re] of bad)
    assert.throws(
      () => parseAptSourceLine(line, '--apt-source'),
      (e) =>
        isFromscratchError(e, 'INVALID_ARGUMENT') && re.test(e.message) && /--apt-source/.test(e.message),
      line,
    );
});

test('parseSourcesList skips comments and names the line of an error', () => {
  const list = parseSourcesList(
    '# c\n\ndeb http://a/debian bookworm main # trailing\ndeb-src http://a/debian bookworm main\n',
    'f.list',
  );
  assert.equal(list.length, 1);
  assert.equal(list[0]!.from, 'f.list:3');
  assert.throws(
    () => parseSourcesList('\n\nbad line\n', 'f.list'),
    (e) => isFromscratchError(e) && /f\.list:3/.test(e.message),
  );
});

test('parseDeb822Sources expands URIs × Suites and honours Enabled and Types', () => {
  const text = `Types: deb deb-src
# a comment, as Debian's own debian.sources has
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://x/debian
Suites: sid
Components: main
Enabled: no

Types: deb-src
URIs: http://y/debian
Suites: sid
Components: main
`;
  const s = parseDeb822Sources(text, 'debian.sources');
  assert.deepEqual(
    s.map((x) => `${x.uri} ${x.suite} ${x.components.join(',')} ${x.signedBy?.join(',')}`),
    [
      'http://deb.debian.org/debian bookworm main /usr/share/keyrings/debian-archive-keyring.gpg',
      'http://deb.debian.org/debian bookworm-updates main /usr/share/keyrings/debian-archive-keyring.gpg',
    ],
  );
});

test('readHostAptSources reads sources.list, *.list and *.sources in order and ignores other suffixes', async () => {
  const root = mkdtempSync(join(tmpdir(), 'deb-sources-'));
  try {
    mkdirSync(join(root, 'etc/apt/sources.list.d'), { recursive: true });
    writeFileSync(join(root, 'etc/apt/sources.list'), 'deb http://one/debian bookworm main\n');
    writeFileSync(
      join(root, 'etc/apt/sources.list.d/b.sources'),
      'Types: deb\nURIs: http://three/debian\nSuites: s\nComponents: main\n',
    );
    writeFileSync(join(root, 'etc/apt/sources.list.d/a.list'), 'deb http://two/debian bookworm main\n');
    writeFileSync(
      join(root, 'etc/apt/sources.list.d/c.list.disabled'),
      'deb http://nope/debian bookworm main\n',
    );
    const s = await readHostAptSources(root);
    assert.deepEqual(
      s.map((x) => x.uri),
      ['http://one/debian', 'http://two/debian', 'http://three/debian'],
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
