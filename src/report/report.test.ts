/**
 * report.test.ts — the size views, the origin groups, the dpkg owners, the treemap and the page's escaping.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Origin } from '../fs/origin.ts';
import { toDpkgOwners } from './dpkg-owners.ts';
import { escapeHtml, toReportHtml } from './html.ts';
import { groupOrigins } from './origin-group.ts';
import { formatSpaceTree, type ImageSpace, spaceTree, topFiles } from './space.ts';
import { squarify } from './treemap.ts';

const space: ImageSpace = {
  reference: 'oci:x:1',
  platform: 'linux/amd64',
  source: 'record',
  files: [
    { path: '/usr/bin/app', size: 100, layer: 1, origin: '/usr/bin/app (--binary)' },
    { path: '/usr/lib/libc.so.6', size: 600, layer: 0, package: 'libc6', origin: '/usr/bin/app (--binary)' },
    { path: '/usr/lib/gconv/A.so', size: 200, layer: 0, package: 'libc6', origin: 'inferred: gconv' },
    { path: '/usr/lib/gconv/B.so', size: 50, layer: 0, package: 'libc6', origin: 'inferred: gconv' },
    { path: '/etc/passwd', size: 10, layer: 1, origin: 'scratch defaults' },
  ],
  layers: [
    {
      digest: 'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      size: 400,
      holds: 'package libc6',
      fileBytes: 850,
      files: [
        { path: '/usr/lib/libc.so.6', size: 600, group: 'package libc6' },
        { path: '/usr/lib/gconv/A.so', size: 200, group: 'package libc6' },
        { path: '/usr/lib/gconv/B.so', size: 50, group: 'package libc6' },
      ],
    },
    {
      digest: 'sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
      size: 90,
      holds: 'host files',
      fileBytes: 110,
      files: [
        { path: '/usr/bin/app', size: 100, group: '/usr/bin/app (--binary)' },
        { path: '/etc/passwd', size: 10, group: 'scratch defaults' },
      ],
    },
  ],
};

describe('spaceTree', () => {
  it('sums directories cumulatively, children largest first, cut at the depth', () => {
    const t = spaceTree(space, 'dir', 2);
    assert.equal(t.size, 960);
    assert.equal(t.files, 5);
    assert.deepEqual(
      t.children?.map((c) => [c.name, c.size, c.files]),
      [
        ['usr', 950, 4],
        ['etc', 10, 1],
      ],
    );
    const usr = t.children![0]!;
    assert.deepEqual(
      usr.children?.map((c) => [c.name, c.size]),
      [
        ['lib', 850],
        ['bin', 100],
      ],
    );
    assert.equal(usr.children![0]!.children, undefined, 'depth 2 stops below /usr/lib');
    const lib4 = spaceTree(space, 'dir', 4).children![0]!.children![0]!;
    assert.deepEqual(
      lib4.children?.map((c) => [c.name, c.size, c.children?.length]),
      [
        ['libc.so.6', 600, undefined],
        ['gconv', 250, 2],
      ],
      'depth 4 reaches the files of /usr/lib/gconv',
    );
  });

  it('groups by package (unknown when none) and by origin', () => {
    const p = spaceTree(space, 'package');
    assert.deepEqual(
      p.children?.map((c) => [c.name, c.size, c.files]),
      [
        ['libc6', 850, 3],
        ['unknown', 110, 2],
      ],
    );
    assert.equal(p.children![0]!.children, undefined, 'depth 1: the groups only');
    const o = spaceTree(space, 'origin', 2);
    assert.deepEqual(
      o.children?.map((c) => [c.name, c.size]),
      [
        ['/usr/bin/app (--binary)', 700],
        ['inferred: gconv', 250],
        ['scratch defaults', 10],
      ],
    );
    assert.deepEqual(
      o.children![1]!.children?.map((c) => c.name),
      ['/usr/lib/gconv/A.so', '/usr/lib/gconv/B.so'],
    );
  });

  it('keeps layers in order with what each holds', () => {
    const l = spaceTree(space, 'layer');
    assert.equal(l.children?.length, 2);
    assert.match(l.children![0]!.name, /^layer 1 sha256:aaaaaaaaaaaa \(400B compressed\): package libc6$/);
    assert.equal(l.children![0]!.size, 850);
    assert.match(l.children![1]!.name, /^layer 2 .*: host files$/);
    assert.deepEqual(
      l.children![1]!.children?.map((c) => [c.name, c.size]),
      [
        ['/usr/bin/app (--binary)', 100],
        ['scratch defaults', 10],
      ],
    );
  });

  it('renders as du does, with shares of the total', () => {
    const text = formatSpaceTree(spaceTree(space, 'dir', 1));
    assert.equal(
      text,
      '    960B 100%  /  (5 files)\n    950B  99%  ├─ usr  (4 files)\n     10B   1%  └─ etc\n',
    );
  });

  it('topFiles gives the largest first, ties by path', () => {
    assert.deepEqual(
      topFiles(space, 2).map((f) => f.path),
      ['/usr/lib/libc.so.6', '/usr/lib/gconv/A.so'],
    );
    assert.equal(topFiles(space, 0).length, 0);
  });
});

describe('groupOrigins', () => {
  it('counts a library for the program it serves, a module and its libraries for the inference', () => {
    const o = (x: Origin) => x;
    const g = groupOrigins([
      { path: '/usr/bin/curl', origins: [o({ kind: 'requested', via: '--binary' })] },
      {
        path: '/lib/libc.so.6',
        origins: [
          o({ kind: 'package', name: 'libc6', version: '2.36', architecture: 'amd64' }),
          o({ kind: 'needed', by: '/usr/bin/curl', soname: 'libc.so.6', via: 'ld.so.cache' }),
        ],
      },
      {
        path: '/gconv/EUC-TW.so',
        origins: [
          o({ kind: 'inferred', by: '/lib/libidn2.so', reason: 'imports iconv_open: gconv modules' }),
        ],
      },
      {
        path: '/gconv/libCNS.so',
        origins: [o({ kind: 'needed', by: '/gconv/EUC-TW.so', soname: 'libCNS.so', via: 'x' })],
      },
      { path: '/a', origins: [o({ kind: 'needed', by: '/b', soname: 'a', via: 'x' })] },
      { path: '/b', origins: [o({ kind: 'needed', by: '/a', soname: 'b', via: 'x' })] },
    ]);
    assert.deepEqual(g.get('/lib/libc.so.6'), { origin: '/usr/bin/curl (--binary)', package: 'libc6' });
    assert.equal(g.get('/gconv/EUC-TW.so')?.origin, 'inferred: gconv');
    assert.equal(g.get('/gconv/libCNS.so')?.origin, 'inferred: gconv');
    assert.match(g.get('/a')?.origin ?? '', /needed by|unknown/, 'a cycle ends');
  });
});

describe('toDpkgOwners', () => {
  it('reads info/*.list and status.d/*.md5sums, in the merged-/usr spelling too', () => {
    const owners = toDpkgOwners(
      new Map([
        [
          '/var/lib/dpkg/info/libc6:amd64.list',
          '/.\n/lib/x86_64-linux-gnu/libc.so.6\n/usr/share/doc/libc6\n',
        ],
        ['/var/lib/dpkg/status.d/curl.md5sums', `${'0'.repeat(32)}  usr/bin/curl\nnot a line\n`],
      ]),
    );
    assert.equal(owners.get('/lib/x86_64-linux-gnu/libc.so.6'), 'libc6');
    assert.equal(owners.get('/usr/lib/x86_64-linux-gnu/libc.so.6'), 'libc6');
    assert.equal(owners.get('/usr/bin/curl'), 'curl');
    assert.equal(owners.has('/.'), false);
  });
});

describe('squarify', () => {
  it('fills the rectangle with areas proportional to sizes, without overlap', () => {
    const sizes = [600, 200, 50, 100, 10, 0];
    const rects = squarify(
      sizes.map((s, i) => ({ size: s, value: i })),
      { x: 0, y: 0, w: 300, h: 200 },
    );
    assert.equal(rects.length, 5, 'a size of 0 gets no cell');
    const total = 960;
    for (const r of rects) {
      assert.ok(Math.abs(r.rect.w * r.rect.h - (sizes[r.value]! / total) * 60000) < 1e-6);
      assert.ok(r.rect.x >= -1e-9 && r.rect.y >= -1e-9);
      assert.ok(r.rect.x + r.rect.w <= 300 + 1e-6 && r.rect.y + r.rect.h <= 200 + 1e-6);
    }
    for (const a of rects)
      for (const b of rects) {
        if (a === b) continue;
        const ox = Math.min(a.rect.x + a.rect.w, b.rect.x + b.rect.w) - Math.max(a.rect.x, b.rect.x);
        const oy = Math.min(a.rect.y + a.rect.h, b.rect.y + b.rect.h) - Math.max(a.rect.y, b.rect.y);
        assert.ok(ox <= 1e-6 || oy <= 1e-6, `cells ${a.value} and ${b.value} overlap`);
      }
    // squarified: no cell of this input is thinner than 1:4
    for (const r of rects) assert.ok(Math.max(r.rect.w / r.rect.h, r.rect.h / r.rect.w) < 4);
  });
});

describe('report page', () => {
  it('escapes names, origins and the config', () => {
    assert.equal(
      escapeHtml(`<a href="x">'&\u0000\uD800`),
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;\uFFFD\uFFFD',
    );
    const evil = '/app/<script>alert(1)</script>"\'.txt';
    const html = toReportHtml({
      space: {
        ...space,
        files: [...space.files, { path: evil, size: 5000, layer: 1, origin: `${evil} (--add)` }],
      },
      manifestDigest: 'sha256:0',
      config: { config: { Env: ['X=</pre><b>'] } },
      why: new Map([[evil, `${evil}\n└─ requested with --add`]]),
      toolVersion: '0',
    });
    assert.equal(html.includes('<script>alert'), false);
    assert.equal(html.includes('</pre><b>'), false);
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;.txt'));
    assert.equal((html.match(/<script>/g) ?? []).length, 1, 'only the page script');
    assert.doesNotMatch(html, /https?:\/\//, 'nothing is fetched');
    const again = (x: ImageSpace) =>
      toReportHtml({ space: x, manifestDigest: 'sha256:0', config: {}, toolVersion: '0' });
    assert.equal(again(space), again(space), 'same input, same page');
  });
});
