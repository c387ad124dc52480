/**
 * script-generators.test.ts — the real glib-compile-schemas and update-mime-database as oracles for
 * what script-effects.ts's warnings say an image lacks (issue 14): run as the warning tells the user
 * (over a copy of the directory, output elsewhere), each writes the files the warning names and nothing
 * the warning does not cover. fromscratch itself never runs them.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { notEmulatedWarning } from '../../src/deb/deb-entries.ts';
import { scriptEffects } from '../../src/deb/script-effects.ts';
import { requireTool, run, withTempDir } from '../support/validate-tools.ts';

const warningFor = (name: string, postinst: string): string => {
  const r = scriptEffects([{ name, version: '1', architecture: 'amd64', postinst }], new Map());
  assert.equal(r.notEmulated.length, 1);
  return notEmulatedWarning(r.notEmulated[0]!);
};

test('glib-compile-schemas writes exactly the gschemas.compiled the warning names, where its --add takes it', async () => {
  const tool = requireTool('glib-compile-schemas', 'libglib2.0-bin');
  await withTempDir('gschemas', async (t) => {
    const copy = join(t, 'schemas');
    mkdirSync(copy);
    writeFileSync(
      join(copy, 'org.example.test.gschema.xml'),
      `<schemalist><schema id="org.example.test" path="/org/example/test/"><key name="greeting" type="s"><default>'hello'</default></key></schema></schemalist>\n`,
    );
    const out = join(t, 'out');
    mkdirSync(out);
    const w = warningFor('libglib2.0-0', 'glib-compile-schemas /usr/share/glib-2.0/schemas\n');
    assert.match(w, /the image lacks \/usr\/share\/glib-2\.0\/schemas\/gschemas\.compiled /);
    assert.match(w, /`glib-compile-schemas --targetdir=OUT COPY`/);
    const r = await run(tool, [`--targetdir=${out}`, copy]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(out), ['gschemas.compiled']);
    assert.deepEqual(readdirSync(copy), ['org.example.test.gschema.xml'], 'the copy is left alone');
  });
});

test('update-mime-database writes mime.cache and the files the warning names beside packages/', async () => {
  const tool = requireTool('update-mime-database', 'shared-mime-info');
  await withTempDir('mime', async (t) => {
    const copy = join(t, 'mime');
    mkdirSync(join(copy, 'packages'), { recursive: true });
    cpSync('/usr/share/mime/packages/freedesktop.org.xml', join(copy, 'packages', 'freedesktop.org.xml'));
    const w = warningFor('shared-mime-info', 'update-mime-database /usr/share/mime\n');
    assert.match(w, /the image lacks \/usr\/share\/mime\/mime\.cache and /);
    const r = await run(tool, [copy], { env: { ...process.env, PKGSYSTEM_ENABLE_FSYNC: '0' } });
    assert.equal(r.code, 0, r.stderr);
    const made = readdirSync(copy).sort();
    for (const name of ['mime.cache', 'globs2', 'magic', 'aliases', 'subclasses', 'types'])
      assert.ok(made.includes(name), `${name} is generated (made: ${made.join(' ')})`);
    for (const name of ['globs2', 'magic', 'aliases', 'subclasses', 'types'])
      assert.match(w, new RegExp(`\\b${name}\\b`), `the warning names ${name}`);
    // one MEDIA/SUBTYPE.xml per type: the warning's MEDIA/SUBTYPE.xml
    assert.ok(existsSync(join(copy, 'text', 'plain.xml')));
  });
});
