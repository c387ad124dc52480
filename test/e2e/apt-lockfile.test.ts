/**
 * apt-lockfile.test.ts — `build --apt-source`, `--package`, `--lockfile` and `--locked` as a user runs
 * them (issue 17: none had a CLI test), against a signed fake repository on loopback (no network). The
 * image is listed by GNU tar. A lockfile pins what was resolved: a repository that changes the bytes of
 * a locked version is refused, and `--locked` never resolves anew.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type FakeRepo, startFakeRepo } from '../deb/fake-repo.ts';
import { makeDeb } from '../deb/make-deb.ts';
import { layoutPaths } from '../orchestrate/image-paths.ts';
import { withTempDir } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

let repo: FakeRepo;
before(async () => {
  repo = await startFakeRepo([
    {
      name: 'greeting',
      version: '1.0-1',
      fields: { Depends: 'greeting-data (>= 1)' },
      files: [{ name: './usr/share/greeting/README', body: 'hello\n' }],
    },
    {
      name: 'greeting-data',
      version: '2.0-1',
      files: [{ name: './usr/share/greeting/data.txt', body: 'data\n' }],
    },
  ]);
});
after(() => repo?.close());

const source = () => `deb [signed-by=${repo.keyring}] ${repo.uri} ${repo.suite} main`;

test('--apt-source and --package install a package and its dependency; --lockfile pins them', async () => {
  await withTempDir('e2e-apt-lock', async (dir) => {
    const env = { FROMSCRATCH_CACHE: join(dir, 'cache') };
    const r = await fromscratch(
      [
        'build',
        '--apt-source',
        source(),
        '--package',
        'greeting',
        '--lockfile',
        'app.lock',
        '-o',
        'oci:out:a',
      ],
      { cwd: dir, env },
    );
    assert.equal(r.code, 0, r.stderr);
    const paths = layoutPaths(join(dir, 'out'), 'a');
    assert.ok(paths.includes('/usr/share/greeting/README'), paths.join(' '));
    assert.ok(paths.includes('/usr/share/greeting/data.txt'), 'the dependency is installed too');
    const lock = readFileSync(join(dir, 'app.lock'), 'utf8');
    assert.match(lock, /greeting/);
    assert.match(lock, /2\.0-1/);
    assert.match(lock, /[0-9a-f]{64}/, 'the lockfile pins each .deb by sha256');

    // --locked with the same request: the same image, from the lockfile
    const again = await fromscratch(
      [
        'build',
        '--apt-source',
        source(),
        '--package',
        'greeting',
        '--lockfile',
        'app.lock',
        '--locked',
        '-o',
        'oci:out:b',
      ],
      { cwd: dir, env },
    );
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, r.stdout, 'the locked build gives the same digest');

    // --locked with a request the lockfile does not hold: refused, nothing resolved
    const other = await fromscratch(
      [
        'build',
        '--apt-source',
        source(),
        '--package',
        'greeting-data',
        '--package',
        'greeting',
        '--package',
        'nonexistent-pkg',
        '--lockfile',
        'app.lock',
        '--locked',
        '-o',
        'oci:out:c',
      ],
      { cwd: dir, env },
    );
    assert.equal(other.code, 1, other.stderr);
    assert.match(other.stderr, /^error\[[A-Z_]+\]: .*(lock|nonexistent-pkg)/m);

    // the repository now serves other bytes under the locked version: refused, never installed
    const path = [...repo.files.keys()].find((k) => /greeting-data_2\.0-1_amd64\.deb$/.test(k));
    assert.ok(path, [...repo.files.keys()].join(' '));
    repo.files.set(
      path,
      await makeDeb([{ name: './usr/share/greeting/data.txt', body: 'tampered\n' }], {
        control:
          'Package: greeting-data\nVersion: 2.0-1\nArchitecture: amd64\nMaintainer: T <t@example.org>\nDescription: test\n',
      }),
    );
    const fresh = { FROMSCRATCH_CACHE: join(dir, 'cache2') };
    const tampered = await fromscratch(
      [
        'build',
        '--apt-source',
        source(),
        '--package',
        'greeting',
        '--lockfile',
        'app.lock',
        '--locked',
        '-o',
        'oci:out:d',
      ],
      { cwd: dir, env: fresh },
    );
    assert.equal(tampered.code, 1, tampered.stderr);
    // a longer file is cut at the locked size (TOO_LARGE), one of the same size fails its digest
    assert.match(tampered.stderr, /^error\[(DIGEST_MISMATCH|SIZE_MISMATCH|TOO_LARGE)\]: .*greeting-data/m);
    const idx = readFileSync(join(dir, 'out', 'index.json'), 'utf8');
    assert.ok(!idx.includes('"d"'), 'no image tagged d was written');
  });
});
