// alternatives-host.test.ts — differential test: parseAlternatives over every postinst on the host
// against update-alternatives' own database (/var/lib/dpkg/alternatives/NAME: link, then each
// alternative's path and priority). Every name we find must match exactly; we must find most names.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseAlternatives } from '../../src/deb/post-install.ts';

test('parseAlternatives reproduces the host alternatives database', () => {
  const found = new Map<string, Set<string>>();
  for (const f of readdirSync('/var/lib/dpkg/info').filter((n) => n.endsWith('.postinst'))) {
    for (const a of parseAlternatives(readFileSync(`/var/lib/dpkg/info/${f}`, 'utf8'))) {
      const s = found.get(a.name) ?? new Set<string>();
      s.add(`${a.link} ${a.path} ${a.priority}`);
      found.set(a.name, s);
    }
  }
  const names = readdirSync('/var/lib/dpkg/alternatives');
  assert.ok(
    names.length > 5,
    'the host should have alternatives (apt-get install mawk openjdk-17-jre-headless)',
  );
  let matched = 0;
  for (const name of names) {
    const lines = readFileSync(`/var/lib/dpkg/alternatives/${name}`, 'utf8').split('\n');
    const link = lines[1]!;
    let i = 2;
    let nslaves = 0;
    while (lines[i] !== '' && i < lines.length) {
      nslaves++;
      i += 2;
    }
    i++;
    const want = new Set<string>();
    while (lines[i]) {
      want.add(`${link} ${lines[i]} ${lines[i + 1]}`);
      i += 2 + nslaves;
    }
    const got = found.get(name);
    // set up by a helper script we do not read (mysql-common's configure-symlinks installs my.cnf's
    // mariadb.cnf at 200; the postinst's own call at 500 runs only when that one did not take)
    if (!got || [...want].some((w) => !got.has(w))) continue;
    // a call whose file the host lacks is a branch not taken here (mysql-common's my.cnf.migrated,
    // made only from an old release's my.cnf.dpkg-bak)
    const taken = [...got].filter((g) => existsSync(g.split(' ')[1]!));
    assert.deepEqual(taken.sort(), [...want].sort(), name);
    matched++;
  }
  assert.ok(matched >= names.length * 0.8, `only ${matched} of ${names.length} alternatives found`);
});
