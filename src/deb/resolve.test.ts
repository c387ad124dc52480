// resolve.test.ts — pins the resolver's rules on small synthetic indexes: alternatives, versions,
// Provides, Multi-Arch qualifiers, Essential, Conflicts/Breaks, pins, and the error explanations.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { formatLockfile, mergeLockfiles, parseLockfile } from './lockfile.ts';
import { indexPackages, parsePackages } from './packages-index.ts';
import { parsePackageRequest, resolvePackages } from './resolve.ts';

const H = 'b'.repeat(64);
function index(spec: string) {
  // spec: paragraphs of "Field: value" lines without the download fields, separated by blank lines
  const text = spec
    .trim()
    .split(/\n\s*\n/)
    .map((p) => {
      const lines = p
        .trim()
        .split('\n')
        .map((l) => l.trim());
      const name = lines.find((l) => l.startsWith('Package:'))!.slice(9);
      if (!lines.some((l) => l.startsWith('Architecture:'))) lines.push('Architecture: amd64');
      return `${lines.join('\n')}\nFilename: pool/${name}.deb\nSize: 1\nSHA256: ${H}\n`;
    })
    .join('\n');
  return indexPackages(parsePackages(text, { baseUrl: 'http://m/debian' }));
}
const names = (idx: ReturnType<typeof index>, req: string[], arch = 'amd64') =>
  resolvePackages(req.map(parsePackageRequest), idx, { arch }).packages.map((p) => `${p.name}=${p.version}`);

test('depends with versions take the highest satisfying version; first installable alternative wins', () => {
  const idx = index(`
    Package: app
    Version: 1
    Depends: lib (>= 2), missing | alt2 | alt3, libc6
    Pre-Depends: pre

    Package: lib
    Version: 1

    Package: lib
    Version: 3

    Package: lib
    Version: 2

    Package: alt2
    Version: 1

    Package: alt3
    Version: 1

    Package: pre
    Version: 1

    Package: libc6
    Version: 2.36
    Essential: yes

    Package: unrelated-essential
    Version: 1
    Essential: yes
  `);
  assert.deepEqual(names(idx, ['app']), ['alt2=1', 'app=1', 'lib=3', 'libc6=2.36', 'pre=1']);
  const lock = resolvePackages([{ name: 'app' }], idx, { arch: 'amd64' });
  assert.equal(lock.packages[0]!.url, 'http://m/debian/pool/alt2.deb');
  assert.deepEqual(lock.requests, { amd64: ['app'] });
});

test('an alternative already chosen satisfies the relation', () => {
  const idx = index(`
    Package: app
    Version: 1
    Depends: b, a | b

    Package: a
    Version: 1

    Package: b
    Version: 1
  `);
  assert.deepEqual(names(idx, ['app']), ['app=1', 'b=1']);
});

test('virtual packages: real name first, versioned Provides for versioned deps, Priority then name among providers', () => {
  const idx = index(`
    Package: app
    Version: 1
    Depends: mta, awk (>= 2), real-or-virt

    Package: z-mta
    Version: 1
    Provides: mta
    Priority: standard

    Package: a-mta
    Version: 1
    Provides: mta
    Priority: optional

    Package: mawk
    Version: 1
    Provides: awk

    Package: gawk
    Version: 1
    Provides: awk (= 5)

    Package: real-or-virt
    Version: 1

    Package: prov
    Version: 1
    Provides: real-or-virt
  `);
  assert.deepEqual(names(idx, ['app']), ['app=1', 'gawk=1', 'real-or-virt=1', 'z-mta=1']);
});

test('Multi-Arch: :any needs allowed, arch all is fine, foreign-arch packages are ignored', () => {
  const idx = index(`
    Package: app
    Version: 1
    Depends: perl:any, data, tool:native

    Package: perl
    Version: 5
    Multi-Arch: allowed

    Package: data
    Version: 1
    Architecture: all

    Package: tool
    Version: 1

    Package: tool
    Version: 2
    Architecture: arm64

    Package: bad
    Version: 1
    Depends: python3:any

    Package: python3
    Version: 3
  `);
  assert.deepEqual(names(idx, ['app']), ['app=1', 'data=1', 'perl=5', 'tool=1']);
  assert.throws(
    () => names(idx, ['bad']),
    (e) =>
      isFromscratchError(e, 'DEB_UNSATISFIABLE') &&
      /python3:any but python3 is not Multi-Arch: allowed/.test(e.message),
  );
  assert.throws(
    () => names(idx, ['tool'], 'riscv64'),
    (e) => isFromscratchError(e, 'DEB_NOT_FOUND') && /exists for amd64, arm64 only/.test(e.hint ?? ''),
  );
});

test('Conflicts and Breaks steer alternatives and explain failures', () => {
  const idx = index(`
    Package: app
    Version: 1
    Depends: x, y1 | y2

    Package: x
    Version: 1
    Conflicts: y1

    Package: y1
    Version: 1

    Package: y2
    Version: 1
    Breaks: x (<< 1)

    Package: other
    Version: 1
    Depends: x, only-y1

    Package: only-y1
    Version: 1
    Depends: y1

    Package: self
    Version: 1
    Provides: vv
    Conflicts: vv
  `);
  assert.deepEqual(names(idx, ['app']), ['app=1', 'x=1', 'y2=1']);
  assert.throws(
    () => names(idx, ['other']),
    (e) =>
      isFromscratchError(e, 'DEB_UNSATISFIABLE') &&
      /requested other → only-y1: only-y1 1 depends on y1 y1 1 conflicts with the chosen x 1 \(x conflicts with y1\)/.test(
        e.message,
      ),
  );
  assert.deepEqual(names(idx, ['self']), ['self=1']); // conflicting with what it provides itself is fine
  assert.throws(
    () => names(idx, ['x', 'y1']),
    (e) => isFromscratchError(e, 'DEB_UNSATISFIABLE') && /conflict/.test(e.message),
  );
});

test('pins and unsatisfiable versions name the chain and the versions available', () => {
  const idx = index(`
    Package: ruby3.1
    Version: 3.1.2-7
    Depends: libruby3.1 (= 3.1.2-7)

    Package: libruby3.1
    Version: 3.1.2-8

    Package: jq
    Version: 1.6-2

    Package: jq
    Version: 1.6-1
  `);
  assert.throws(
    () => names(idx, ['ruby3.1']),
    (e) =>
      isFromscratchError(e, 'DEB_UNSATISFIABLE') &&
      e.message ===
        'requested ruby3.1: ruby3.1 3.1.2-7 depends on libruby3.1 (= 3.1.2-7) but only 3.1.2-8 is available',
  );
  assert.deepEqual(names(idx, ['jq=1.6-1']), ['jq=1.6-1']);
  assert.throws(
    () => names(idx, ['jq=9']),
    (e) => isFromscratchError(e, 'DEB_NOT_FOUND') && /available versions: 1.6-2, 1.6-1/.test(e.hint ?? ''),
  );
  assert.throws(
    () => names(idx, ['nope']),
    (e) => isFromscratchError(e, 'DEB_NOT_FOUND') && /package nope not found for amd64/.test(e.message),
  );
  assert.throws(
    () => parsePackageRequest('Bad Name'),
    (e) => isFromscratchError(e, 'INVALID_ARGUMENT'),
  );
});

test('lockfiles round-trip byte for byte, merge per architecture and reject garbage', () => {
  const idx = index(`
    Package: jq
    Version: 1.6-2
    Source: jq-src (1.6-1)
    Multi-Arch: foreign
    Installed-Size: 100

    Package: jq
    Version: 1.6-2
    Architecture: arm64
  `);
  const a = resolvePackages([{ name: 'jq' }], idx, { arch: 'amd64' });
  const b = resolvePackages([{ name: 'jq' }], idx, { arch: 'arm64' });
  const merged = mergeLockfiles(b, a);
  const text = formatLockfile(merged);
  assert.equal(formatLockfile(parseLockfile(text)), text);
  assert.deepEqual(Object.keys(parseLockfile(text).requests), ['amd64', 'arm64']);
  assert.match(text, /"source": "jq-src",\n\s+"sourceVersion": "1.6-1"/);
  assert.equal(parseLockfile(text).packages.length, 2);
  for (const bad of [
    '{',
    '[]',
    '{"lockfileVersion":2}',
    text.replace(/"sha256": "b+"/, '"sha256": "x"'),
    text.replace('http://m', 'file://m'),
  ]) {
    assert.throws(
      () => parseLockfile(bad, 'x.lock'),
      (e) => isFromscratchError(e, 'INVALID_ARGUMENT') && /x\.lock/.test(e.message),
    );
  }
});

test('checkLockfile and debianArch', async () => {
  const { checkLockfile } = await import('./lockfile.ts');
  const { debianArch, ociPlatform } = await import('./arch.ts');
  const lock = { lockfileVersion: 1 as const, requests: { amd64: ['jq', 'curl'] }, packages: [] };
  checkLockfile(lock, ['curl', 'jq'], ['amd64']);
  assert.throws(
    () => checkLockfile(lock, ['jq'], ['amd64']),
    (e) => isFromscratchError(e, 'LOCKFILE_MISMATCH'),
  );
  assert.throws(
    () => checkLockfile(lock, ['jq', 'curl'], ['arm64']),
    (e) => isFromscratchError(e, 'LOCKFILE_MISMATCH') && /arm64/.test(e.message),
  );
  assert.equal(debianArch({ os: 'linux', architecture: 'arm', variant: 'v7' }), 'armhf');
  assert.equal(debianArch({ os: 'linux', architecture: 'ppc64le' }), 'ppc64el');
  assert.equal(debianArch({ os: 'linux', architecture: '386' }), 'i386');
  assert.deepEqual(ociPlatform('armhf'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.throws(
    () => debianArch({ os: 'windows', architecture: 'amd64' }),
    (e) => isFromscratchError(e, 'INVALID_ARGUMENT'),
  );
});
