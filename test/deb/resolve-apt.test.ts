// resolve-apt.test.ts — differential test: resolvePackages against apt itself. `apt-get -s install
// --no-install-recommends` with an empty dpkg status file simulates installing into an empty root, which
// is exactly the closure fromscratch must compute (same names, same versions), from the host's lists.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readHostAptSources } from '../../src/deb/apt-sources.ts';
import { fetchPackagesIndex } from '../../src/deb/fetch-index.ts';
import { resolvePackages } from '../../src/deb/resolve.ts';
import { hostListsClock, offline, sharedTestCacheDir } from './host-lists.ts';

const PACKAGES = [
  'jq',
  'curl',
  'python3',
  'perl',
  'ruby3.1',
  'ca-certificates',
  'bash',
  'git',
  'busybox',
  'nodejs',
  'openjdk-17-jre-headless',
  'nginx-light',
];

test('resolvePackages picks the same packages and versions as apt on an empty system', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'deb-apt-'));
  try {
    const status = join(dir, 'status');
    writeFileSync(status, '');
    const sources = (await readHostAptSources()).filter((s) => s.uri.includes('deb.debian.org'));
    const idx = await fetchPackagesIndex(sources, {
      arch: 'amd64',
      cacheDir: sharedTestCacheDir(),
      fetch: offline,
      now: hostListsClock(),
    });
    assert.ok(
      idx.indexes.every((i) => i.fromHost || i.fromCache),
      'every index comes from the host lists (or their earlier parse), none from the network',
    );
    for (const name of PACKAGES) {
      const ours = resolvePackages([{ name }], idx, { arch: 'amd64' })
        .packages.map((p) => `${p.name} ${p.version}`)
        .sort();
      let out: string;
      try {
        out = execFileSync(
          'apt-get',
          [
            '-s',
            '-o',
            `Dir::State::status=${status}`,
            '-o',
            'APT::Architecture=amd64',
            'install',
            '--no-install-recommends',
            name,
          ],
          { encoding: 'utf8' },
        );
      } catch (e) {
        throw new Error('apt-get -s failed: this test needs apt with up-to-date lists (apt-get update)', {
          cause: e,
        });
      }
      const apt = [...out.matchAll(/^Inst (\S+) \((\S+)/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
      assert.deepEqual(ours, apt, name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
