// packages-host.test.ts — parses the host's real bookworm Packages list (~60k paragraphs) and checks it
// against an independent count (grep of the text).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { indexPackages, PackagesParser } from '../../src/deb/packages-index.ts';
import { hostPackagesText } from './host-lists.ts';

test('the real bookworm Packages list parses completely', () => {
  const text = hostPackagesText();
  const expected = (text.match(/^Package: /gm) ?? []).length;
  const p = new PackagesParser({ what: 'host Packages' });
  for (let i = 0; i < text.length; i += 65536) p.push(text.slice(i, i + 65536));
  const recs = p.end();
  assert.equal(recs.length, expected);
  const idx = indexPackages(recs);
  assert.ok(idx.byName.get('libc6')?.[0]?.version.startsWith('2.36'));
  assert.ok((idx.providers.get('mail-transport-agent') ?? []).length > 3);
});
