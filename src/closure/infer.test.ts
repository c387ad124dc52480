import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fontconfigDirs } from './infer.ts';

test("fontconfig's font and cache directories: absolute ones, not a home's, an XDG one, nor a commented one", () => {
  const xml = `<?xml version="1.0"?>
<fontconfig>
  <dir>/usr/share/fonts</dir>
  <dir>/usr/local/share/fonts/</dir>
  <dir prefix="xdg">fonts</dir>
  <dir>~/.fonts</dir>
  <!-- <dir>/opt/commented</dir> -->
  <dir prefix="default" salt="x">/opt/fonts</dir>
  <dir>/usr/share/fonts</dir>
  <dir>/opt/../etc</dir>
  <cachedir>/var/cache/fontconfig</cachedir>
  <cachedir prefix="xdg">fontconfig</cachedir>
  <include ignore_missing="yes">conf.d</include>
</fontconfig>`;
  assert.deepEqual(fontconfigDirs(xml), [
    '/usr/share/fonts',
    '/usr/local/share/fonts',
    '/opt/fonts',
    '/var/cache/fontconfig',
  ]);
});
