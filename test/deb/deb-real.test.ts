// deb-real.test.ts — differential test: parseDeb on real .debs from the host's apt cache against
// `dpkg-deb --contents` (names, types, modes, sizes, symlink targets) and `dpkg-deb --field`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseDeb } from '../../src/deb/deb-file.ts';

const ARCHIVES = '/var/cache/apt/archives';

function pickDebs(): string[] {
  const all = readdirSync(ARCHIVES).filter((f) => f.endsWith('.deb'));
  const want = [/^jq_/, /^libjq1_/, /^attr_/, /^cgroupfs-mount_/, /^busybox_/];
  const picked = want.map((re) => all.find((f) => re.test(f))).filter((f): f is string => !!f);
  assert.ok(
    picked.length >= 3,
    `need a few .debs in ${ARCHIVES}; run: apt-get install --download-only jq attr busybox`,
  );
  return picked.map((f) => `${ARCHIVES}/${f}`);
}

test('parseDeb agrees with dpkg-deb on real packages', async () => {
  for (const file of pickDebs()) {
    const pkg = await parseDeb(readFileSync(file), { what: file, keepDocs: true });
    const listing = execFileSync('dpkg-deb', ['--contents', file], { encoding: 'utf8' });
    const want = new Map<string, string>();
    for (const line of listing.trim().split('\n')) {
      // drwxr-xr-x root/root         0 2023-01-01 00:00 ./usr/bin/ ; lrwxrwxrwx ... ./a -> b ; hrw-r--r-- ... ./a link to ./b
      const m = /^(\S)(\S{9}) \S+\s+(\d+) \S+ \S+ \.(\/.*?)\/?(?: -> (.*)| link to \.(.*))?$/.exec(line);
      assert.ok(m, `unparsed dpkg-deb line ${line}`);
      const [, t, , size, p, sym, hard] = m;
      if (p === '' || p === '/') continue;
      const type = { d: 'dir', '-': 'file', l: 'symlink', h: 'hardlink' }[t!] ?? t!;
      want.set(p!, `${type} ${type === 'file' ? size : ''} ${sym ?? hard ?? ''}`);
    }
    const got = new Map<string, string>();
    for (const e of pkg.entries) {
      const extra = e.type === 'symlink' || e.type === 'hardlink' ? e.target : '';
      got.set(e.path, `${e.type} ${e.type === 'file' ? e.size : ''} ${extra}`);
    }
    assert.deepEqual(got, want, file);
    const field = execFileSync('dpkg-deb', ['--field', file, 'Package', 'Version', 'Architecture'], {
      encoding: 'utf8',
    });
    assert.equal(
      field,
      `Package: ${pkg.origin.name}\nVersion: ${pkg.origin.version}\nArchitecture: ${pkg.origin.architecture}\n`,
    );
  }
});
