// deb-entries.test.ts — the whole path offline, against a signed fake mirror on 127.0.0.1:
// resolveDebs → lockfile → debEntries (download, sha256 check, cache, read, merged /usr, CA bundle,
// alternatives, status.d), per architecture; a tampered .deb is DIGEST_MISMATCH.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { debEntries } from '../../src/deb/deb-entries.ts';
import { fetchDeb } from '../../src/deb/fetch-deb.ts';
import { formatLockfile, parseLockfile } from '../../src/deb/lockfile.ts';
import { resolveDebs } from '../../src/deb/resolve-debs.ts';
import { isFromscratchError } from '../../src/errors.ts';
import { type FakeRepo, startFakeRepo } from './fake-repo.ts';

let repo: FakeRepo;
let cacheDir: string;
before(async () => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
  repo = await startFakeRepo([
    {
      name: 'app',
      version: '1.0',
      fields: { Depends: 'libfoo (>= 1), ca-certificates, mawk' },
      files: [{ name: './usr/bin/app', body: 'ELF-amd64', mode: 0o755 }],
    },
    {
      name: 'app',
      version: '1.0',
      arch: 'arm64',
      fields: { Depends: 'libfoo (>= 1), ca-certificates, mawk' },
      files: [{ name: './usr/bin/app', body: 'ELF-arm64', mode: 0o755 }],
    },
    {
      name: 'libfoo',
      version: '1:2.0-1',
      fields: { 'Multi-Arch': 'same', Source: 'foo (2.0-1)' },
      files: [
        { name: './lib/', type: 'directory', mode: 0o755 },
        { name: './lib/x86_64-linux-gnu/libfoo.so.2', body: 'lib' },
        { name: './usr/share/doc/libfoo/copyright', body: 'License: MIT\n' },
        { name: './usr/share/doc/libfoo/changelog.Debian.gz', body: 'x' },
      ],
    },
    {
      name: 'libfoo',
      version: '1:2.0-1',
      arch: 'arm64',
      fields: { 'Multi-Arch': 'same' },
      files: [{ name: './lib/aarch64-linux-gnu/libfoo.so.2', body: 'lib' }],
    },
    {
      name: 'ca-certificates',
      version: '20230311',
      arch: 'all',
      files: [
        { name: './usr/share/ca-certificates/mozilla/Z.crt', body: pem },
        { name: './usr/share/ca-certificates/mozilla/A.crt', body: `${pem}\n` },
      ],
    },
    {
      name: 'mawk',
      version: '1.3.4',
      fields: { 'Multi-Arch': 'foreign', Essential: 'yes' },
      files: [{ name: './usr/bin/mawk', body: 'mawk', mode: 0o755 }],
      postinst:
        '#!/bin/sh\nset -e\nupdate-alternatives --install /usr/bin/awk awk /usr/bin/mawk 5 \\\n  --slave /usr/share/man/man1/awk.1.gz awk.1.gz /usr/share/man/man1/mawk.1.gz\n',
    },
    {
      name: 'mawk',
      version: '1.3.4',
      arch: 'arm64',
      files: [{ name: './usr/bin/mawk', body: 'mawk-arm', mode: 0o755 }],
    },
  ]);
  cacheDir = mkdtempSync(join(tmpdir(), 'deb-cache-'));
});
after(async () => {
  await repo.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

const common = () => ({
  cacheDir,
  keyrings: [repo.keyring],
  hostListsDir: false as const,
  hostArchives: false as const,
});

test('resolve, lock, download and assemble for amd64 and arm64', async () => {
  const lock = await resolveDebs([{ name: 'app' }], {
    ...common(),
    arches: ['amd64', 'arm64'],
    sources: [`deb ${repo.uri} ${repo.suite} main`],
  });
  const text = formatLockfile(lock);
  assert.equal(formatLockfile(parseLockfile(text)), text);
  assert.deepEqual(
    lock.packages.map((p) => `${p.forArch} ${p.name} ${p.architecture}`),
    [
      'amd64 app amd64',
      'amd64 ca-certificates all',
      'amd64 libfoo amd64',
      'amd64 mawk amd64',
      'arm64 app arm64',
      'arm64 ca-certificates all',
      'arm64 libfoo arm64',
      'arm64 mawk arm64',
    ],
  );
  assert.ok(
    lock.packages.find((p) => p.name === 'libfoo')!.url.endsWith('/pool/main/libfoo_2.0-1_amd64.deb'),
  );

  const amd = await debEntries(lock, { ...common(), forArch: 'amd64' });
  const get = (p: string) => amd.entries.find((e) => e.path === p);
  const text2 = (p: string) => {
    const e = get(p);
    return e?.type === 'file' && e.content.kind === 'bytes'
      ? Buffer.from(e.content.data).toString()
      : undefined;
  };
  assert.equal(text2('/usr/bin/app'), 'ELF-amd64');
  assert.equal(text2('/usr/lib/x86_64-linux-gnu/libfoo.so.2'), 'lib'); // merged /usr
  assert.deepEqual(get('/lib'), {
    type: 'symlink',
    path: '/lib',
    target: 'usr/lib',
    mode: 0o777,
    uid: 0,
    gid: 0,
    mtime: 0,
  });
  assert.equal(get('/usr/share/doc/libfoo/changelog.Debian.gz'), undefined);
  assert.equal(text2('/usr/share/doc/libfoo/copyright'), 'License: MIT\n');
  assert.equal(text2('/etc/ssl/certs/ca-certificates.crt')?.split('-----BEGIN').length, 3);
  assert.equal((get('/usr/bin/awk') as { target?: string }).target, '/etc/alternatives/awk');
  assert.equal((get('/etc/alternatives/awk') as { target?: string }).target, '/usr/bin/mawk');
  assert.match(text2('/var/lib/dpkg/status.d/libfoo') ?? '', /^Package: libfoo\nVersion: 1:2.0-1\n/);
  assert.match(
    text2('/var/lib/dpkg/status.d/libfoo.md5sums') ?? '',
    / {2}usr\/lib\/x86_64-linux-gnu\/libfoo\.so\.2\n/,
  );
  assert.deepEqual(amd.origins.get('/usr/bin/app'), [
    { kind: 'package', name: 'app', version: '1.0', architecture: 'amd64' },
  ]);
  const libfoo = amd.packages.find((p) => p.name === 'libfoo')!;
  assert.equal(libfoo.copyright, 'License: MIT\n');
  assert.equal(libfoo.source, 'foo');
  assert.equal(libfoo.sourceVersion, '2.0-1');
  assert.ok(
    amd.entries.every((e, i, a) => i === 0 || a[i - 1]!.path < e.path),
    'sorted, each path once',
  );

  const arm = await debEntries(lock, { ...common(), forArch: 'arm64' });
  assert.equal(arm.entries.find((e) => e.path === '/usr/bin/app')?.type === 'file' && 'ok', 'ok');
  assert.ok(arm.entries.some((e) => e.path === '/usr/lib/aarch64-linux-gnu/libfoo.so.2'));
  await assert.rejects(debEntries(lock, common()), (e) => isFromscratchError(e, 'INVALID_ARGUMENT'));

  // everything is cached now: no more requests for .debs
  const n = repo.requests.filter((r) => r.endsWith('.deb')).length;
  await debEntries(lock, { ...common(), forArch: 'amd64' });
  assert.equal(repo.requests.filter((r) => r.endsWith('.deb')).length, n);
});

test('a tampered .deb is DIGEST_MISMATCH naming the package, and is not cached', async () => {
  const lock = await resolveDebs([{ name: 'mawk' }], {
    ...common(),
    arches: ['amd64'],
    sources: [`deb ${repo.uri} ${repo.suite} main`],
  });
  const pkg = lock.packages[0]!;
  const path = new URL(pkg.url).pathname.replace(/^\/debian\//, '');
  const good = repo.files.get(path)!;
  const fresh = mkdtempSync(join(tmpdir(), 'deb-cache-'));
  try {
    const bad = Buffer.from(good);
    bad[bad.length - 30]! ^= 0xff;
    repo.files.set(path, bad);
    await assert.rejects(
      fetchDeb(pkg, { cacheDir: fresh, hostArchives: false }),
      (e) => isFromscratchError(e, 'DIGEST_MISMATCH') && /mawk 1\.3\.4/.test(e.message),
    );
    repo.files.set(path, good);
    assert.equal((await fetchDeb(pkg, { cacheDir: fresh, hostArchives: false })).length, good.length);
  } finally {
    repo.files.set(path, good);
    rmSync(fresh, { recursive: true, force: true });
  }
  await assert.rejects(
    fetchDeb(
      { ...pkg, url: `${repo.uri}/pool/none.deb`, sha256: 'c'.repeat(64) },
      { cacheDir, hostArchives: false },
    ),
    (e) => isFromscratchError(e, 'NETWORK_ERROR') && /404/.test(e.message),
  );
});
