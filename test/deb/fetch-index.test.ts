// fetch-index.test.ts — InRelease verification, Packages digests and the cache, against a signed fake
// mirror on 127.0.0.1 and against the host's real apt lists (offline).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseAptSourceLine, readHostAptSources } from '../../src/deb/apt-sources.ts';
import { fetchPackagesIndex } from '../../src/deb/fetch-index.ts';
import { isFromscratchError } from '../../src/errors.ts';
import { type FakeRepo, startFakeRepo } from './fake-repo.ts';
import { hostListsClock, offline } from './host-lists.ts';

let repo: FakeRepo;
let cacheDir: string;
before(async () => {
  repo = await startFakeRepo([
    { name: 'hello', version: '1.0-1', fields: { Depends: 'libc6 (>= 2.34)' } },
    { name: 'hello', version: '1.0-2' },
    { name: 'hello', version: '1.0-1', arch: 'arm64' },
    { name: 'data', version: '3', arch: 'all' },
  ]);
  cacheDir = mkdtempSync(join(tmpdir(), 'deb-cache-'));
});
after(async () => {
  await repo.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

const source = () => parseAptSourceLine(`deb ${repo.uri} ${repo.suite} main`, 'test')!;
const opts = (extra = {}) => ({
  arch: 'amd64',
  cacheDir,
  keyrings: [repo.keyring],
  hostListsDir: false as const,
  ...extra,
});

test('fetchPackagesIndex verifies InRelease and Packages.xz, then serves from the cache', async () => {
  const idx = await fetchPackagesIndex([source()], opts());
  assert.deepEqual(
    idx.byName.get('hello')!.map((r) => r.version),
    ['1.0-2', '1.0-1'],
  );
  assert.equal(idx.byName.get('data')![0]!.architecture, 'all');
  assert.equal(idx.byName.get('hello')![0]!.baseUrl, repo.uri);
  assert.ok(repo.requests.includes(`dists/${repo.suite}/main/binary-amd64/Packages.xz`));
  const arm = await fetchPackagesIndex([source()], opts({ arch: 'arm64' }));
  assert.deepEqual(
    arm.byName.get('hello')!.map((r) => `${r.version} ${r.architecture}`),
    ['1.0-1 arm64'],
  );
  const n = repo.requests.length;
  await fetchPackagesIndex([source()], opts());
  assert.equal(
    repo.requests.length,
    n,
    'second run is served from the cache (InRelease within max age, Packages by digest)',
  );
});

test('a tampered InRelease is SIGNATURE_INVALID; a wrong keyring too', async () => {
  const path = `dists/${repo.suite}/InRelease`;
  const good = repo.files.get(path)!;
  try {
    repo.files.set(
      path,
      Buffer.from(Buffer.from(good).toString().replace('Components: main', 'Components: mainx')),
    );
    await assert.rejects(
      fetchPackagesIndex([source()], opts({ inReleaseMaxAge: 0 })),
      (e) => isFromscratchError(e, 'SIGNATURE_INVALID') && e.message.includes(repo.uri),
    );
    repo.files.set(path, Buffer.from('Origin: unsigned\n'));
    await assert.rejects(
      fetchPackagesIndex([source()], opts({ inReleaseMaxAge: 0 })),
      (e) => isFromscratchError(e, 'SIGNATURE_INVALID') && /not an OpenPGP/.test(e.message),
    );
  } finally {
    repo.files.set(path, good);
  }
  await assert.rejects(
    fetchPackagesIndex(
      [source()],
      opts({ inReleaseMaxAge: 0, keyrings: ['/usr/share/keyrings/debian-archive-keyring.gpg'] }),
    ),
    (e) => isFromscratchError(e, 'SIGNATURE_INVALID'),
  );
});

test('a tampered Packages.xz is DIGEST_MISMATCH and is not cached', async () => {
  const path = `dists/${repo.suite}/main/binary-amd64/Packages.xz`;
  const good = repo.files.get(path)!;
  const fresh = mkdtempSync(join(tmpdir(), 'deb-cache-'));
  try {
    const bad = Buffer.from(good);
    bad[bad.length - 20]! ^= 1;
    repo.files.set(path, bad);
    await assert.rejects(fetchPackagesIndex([source()], opts({ cacheDir: fresh })), (e) =>
      isFromscratchError(e, 'DIGEST_MISMATCH'),
    );
    repo.files.set(path, good);
    const idx = await fetchPackagesIndex([source()], opts({ cacheDir: fresh }));
    assert.equal(idx.byName.get('hello')!.length, 2);
  } finally {
    repo.files.set(path, good);
    rmSync(fresh, { recursive: true, force: true });
  }
});

test('an unreachable mirror is NETWORK_ERROR naming the URL', async () => {
  const s = parseAptSourceLine('deb http://127.0.0.1:9/debian stable main', 'test')!;
  await assert.rejects(
    fetchPackagesIndex([s], opts({ timeoutMs: 2000, cacheDir: mkdtempSync(join(tmpdir(), 'deb-cache-')) })),
    (e) =>
      isFromscratchError(e, 'NETWORK_ERROR') &&
      e.message.includes('http://127.0.0.1:9/debian/dists/stable/InRelease') &&
      !!e.hint,
  );
});

test('the host apt lists are used offline and verified (amd64)', async () => {
  const sources = (await readHostAptSources()).filter((s) => s.uri.includes('deb.debian.org'));
  assert.ok(sources.length > 0, 'the host needs Debian apt sources (deb.debian.org)');
  const idx = await fetchPackagesIndex(sources, {
    arch: 'amd64',
    cacheDir,
    fetch: offline,
    now: hostListsClock(),
  });
  assert.ok(idx.indexes.every((i) => i.fromHost));
  assert.ok(idx.byName.has('jq'));
});

test('an expired InRelease (Valid-Until in the past) is refused unless allowExpired', async () => {
  const old = await startFakeRepo([{ name: 'a', version: '1' }], {
    validUntil: 'Mon, 01 Jan 2024 00:00:00 UTC',
  });
  const dir = mkdtempSync(join(tmpdir(), 'deb-cache-'));
  const until = Date.parse('Mon, 01 Jan 2024 00:00:00 UTC');
  try {
    const s = parseAptSourceLine(`deb ${old.uri} ${old.suite} main`, 'test')!;
    const o = { arch: 'amd64', cacheDir: dir, keyrings: [old.keyring], hostListsDir: false as const };
    // the clock is injected: one millisecond past Valid-Until is refused, the instant itself is not
    await assert.rejects(
      fetchPackagesIndex([s], { ...o, now: () => until + 1 }),
      (e) => isFromscratchError(e, 'SIGNATURE_INVALID') && /expired on Mon, 01 Jan 2024/.test(e.message),
    );
    assert.equal((await fetchPackagesIndex([s], { ...o, now: () => until })).byName.get('a')?.length, 1);
    assert.equal(
      (await fetchPackagesIndex([s], { ...o, now: () => until + 1, allowExpired: true })).byName.get('a')
        ?.length,
      1,
    );
  } finally {
    await old.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
