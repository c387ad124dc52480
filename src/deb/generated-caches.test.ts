/**
 * generated-caches.test.ts — the gdk-pixbuf loaders.cache rule over entries: an entry is reused only for a
 * module whose bytes a known cache describes (digest), with the path line rewritten, in the postinst's
 * `LC_ALL=C sort` order; a module none describes is left out and reported with its package; a cache a
 * package ships is kept; parseLoadersCache reads what gdk-pixbuf-query-loaders writes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { FileEntry } from '../fs/file-tree.ts';
import type { Origin } from '../fs/origin.ts';
import { generatedCaches, parseLoadersCache } from './generated-caches.ts';

const DIR = '/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0';
const file = (path: string, text: string): FileEntry => ({
  type: 'file',
  path,
  mode: 0o644,
  uid: 0,
  gid: 0,
  mtime: 0,
  size: text.length,
  content: { kind: 'bytes', data: Buffer.from(text) },
});
const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const CACHE = `# GdkPixbuf Image Loader Modules file
# Created by gdk-pixbuf-query-loaders

"/elsewhere/libpixbufloader-gif.so"
"gif" 4 "gdk-pixbuf" "GIF" "LGPL"
"image/gif" ""
"gif" ""
"GIF8" "" 100

"/elsewhere/libpixbufloader-bmp.so"
"bmp" 5 "gdk-pixbuf" "BMP" "LGPL"
"image/bmp" ""
"bmp" ""
"BM" "" 100
`;

test('parseLoadersCache splits the entries of a loaders.cache by module path', () => {
  const m = parseLoadersCache(CACHE);
  assert.deepEqual([...m.keys()], ['/elsewhere/libpixbufloader-gif.so', '/elsewhere/libpixbufloader-bmp.so']);
  assert.equal(
    m.get('/elsewhere/libpixbufloader-bmp.so'),
    '"bmp" 5 "gdk-pixbuf" "BMP" "LGPL"\n"image/bmp" ""\n"bmp" ""\n"BM" "" 100\n',
  );
});

test('loaders.cache: known modules by digest, sorted bytewise, path rewritten; an unknown module is reported with its package', async () => {
  const parsed = parseLoadersCache(CACHE);
  const known = new Map([
    [hex('GIF MODULE'), parsed.get('/elsewhere/libpixbufloader-gif.so')!],
    [hex('BMP MODULE'), parsed.get('/elsewhere/libpixbufloader-bmp.so')!],
  ]);
  const have = new Map<string, FileEntry>([
    [`${DIR}/loaders/libpixbufloader-gif.so`, file(`${DIR}/loaders/libpixbufloader-gif.so`, 'GIF MODULE')],
    [`${DIR}/loaders/libpixbufloader-bmp.so`, file(`${DIR}/loaders/libpixbufloader-bmp.so`, 'BMP MODULE')],
    [
      `${DIR}/loaders/libpixbufloader-odd.so`,
      file(`${DIR}/loaders/libpixbufloader-odd.so`, 'BMP MODULE, patched'),
    ],
  ]);
  const owners = new Map<string, Origin[]>([
    [
      `${DIR}/loaders/libpixbufloader-odd.so`,
      [{ kind: 'package', name: 'odd-loader', version: '1', architecture: 'amd64' }],
    ],
  ]);
  const g = await generatedCaches(have, { pixbufKnown: known }, owners);
  const cache = g.entries.find((e) => e.path === `${DIR}/loaders.cache`);
  assert.ok(cache?.type === 'file' && cache.content.kind === 'bytes');
  const text = Buffer.from(cache.content.data).toString('utf8');
  const blocks = [...parseLoadersCache(text)];
  assert.deepEqual(
    blocks.map(([p]) => p),
    [`${DIR}/loaders/libpixbufloader-bmp.so`, `${DIR}/loaders/libpixbufloader-gif.so`],
  );
  assert.equal(blocks[0]![1], parsed.get('/elsewhere/libpixbufloader-bmp.so'));
  assert.deepEqual(g.unknownLoaders, [
    { path: `${DIR}/loaders/libpixbufloader-odd.so`, cache: `${DIR}/loaders.cache`, package: 'odd-loader' },
  ]);
  assert.match(JSON.stringify(g.origins.get(`${DIR}/loaders.cache`)), /2 loaders of /);

  // a shipped cache is kept; with nothing known no cache is written and every module is reported
  const shipped = new Map(have).set(`${DIR}/loaders.cache`, file(`${DIR}/loaders.cache`, CACHE));
  assert.equal((await generatedCaches(shipped, { pixbufKnown: known })).entries.length, 0);
  const none = await generatedCaches(have, { pixbufKnown: new Map() });
  assert.equal(none.entries.length, 0);
  assert.equal(none.unknownLoaders.length, 3);
});
