/**
 * report.test.ts — where the space goes: `inspect --by/--top`, `report -o page.html` opened in a real
 * headless Chromium, and `deps`'s inference summaries and `--no-infer`. One small image (curl, from a
 * spec that leaves NSS out, with an app directory whose file names are hostile), built once.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodePng, distinctColours } from '../support/png.ts';
import { fromscratch } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'fromscratch-report-'));
const image = `oci:${join(dir, 'img')}:1`;
const EVIL = `<b>x<i>"'&.txt`;
const NON_UTF8 = Buffer.concat([
  Buffer.from(join(dir, 'app', 'caf')),
  Buffer.from([0xe9]),
  Buffer.from('.txt'),
]);

interface SpaceNode {
  name: string;
  size: number;
  files: number;
  children?: SpaceNode[];
}

function chromium(args: string[]): { status: number | null; stdout: string } {
  const r = spawnSync(
    'chromium',
    ['--headless', '--no-sandbox', '--disable-gpu', `--user-data-dir=${join(dir, 'chromium')}`, ...args],
    { encoding: 'utf8', env: { ...process.env, HOME: dir }, timeout: 120_000, maxBuffer: 64 << 20 },
  );
  return { status: r.status, stdout: r.stdout };
}

before(async () => {
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'app', EVIL), 'hostile name\n');
  writeFileSync(NON_UTF8, 'latin-1 name\n');
  writeFileSync(join(dir, 'app', 'big.bin'), Buffer.alloc(300_000, 7));
  writeFileSync(
    join(dir, 'fromscratch.yaml'),
    `contents:\n  - binary: /usr/bin/curl\n  - add: ./app\n    to: /app\nno-infer: [nss]\noutputs: ["${image}"]\n`,
  );
  const r = await fromscratch(['build', '-c', join(dir, 'fromscratch.yaml'), '-q'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('inspect --by / --top', () => {
  it('--by dir: a du-like tree whose root is the sum of the files', async () => {
    const r = await fromscratch(['inspect', image, '--by', 'dir', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as {
      totalBytes: number;
      files: number;
      tree: SpaceNode;
      source: string;
    };
    assert.equal(doc.source, 'record');
    assert.equal(doc.tree.size, doc.totalBytes);
    assert.equal(doc.tree.files, doc.files);
    const kids = doc.tree.children ?? [];
    assert.deepEqual(
      kids.map((k) => k.size),
      [...kids.map((k) => k.size)].sort((a, b) => b - a),
      'children are sorted by size',
    );
    assert.equal(
      kids.reduce((n, k) => n + k.size, 0),
      doc.tree.size,
    );
    const text = await fromscratch(['inspect', image, '--by', 'dir', '--depth', '1']);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^\s+[\d.]+[kMG]?B 100% {2}\/ {2}\(\d+ files\)$/);
    assert.ok(lines.some((l) => /├─ usr|└─ usr/.test(l)));
    assert.ok(!lines.some((l) => /x86_64-linux-gnu/.test(l)), 'depth 1 stops at the top directories');
  });

  it('--by package and --by origin come from the build record', async () => {
    const p = JSON.parse((await fromscratch(['inspect', image, '--by', 'package', '--json'])).stdout) as {
      tree: SpaceNode;
    };
    const names = p.tree.children!.map((c) => c.name);
    assert.ok(
      names.includes('libc6') && names.includes('libssl3') && names.includes('unknown'),
      names.join(),
    );
    const o = await fromscratch(['inspect', image, '--by', 'origin', '--depth', '2']);
    assert.equal(o.code, 0, o.stderr);
    assert.match(o.stdout, /\/usr\/bin\/curl \(--binary\)/);
    assert.match(o.stdout, /inferred: gconv {2}\(2\d\d files\)/);
    assert.doesNotMatch(o.stdout, /inferred: nss/, 'the spec left NSS out');
    assert.match(o.stdout, /big\.bin/);
  });

  it('--by layer shows each layer with what it holds and its size', async () => {
    const info = JSON.parse((await fromscratch(['inspect', image, '--json', '--no-files'])).stdout) as {
      images: { layers: { digest: string }[] }[];
    };
    const layers = info.images[0]!.layers;
    const r = await fromscratch(['inspect', image, '--by', 'layer', '--depth', '1']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => / layer \d+ sha256:/.test(l));
    assert.equal(lines.length, layers.length);
    lines.forEach((l, i) => {
      assert.ok(l.includes(`layer ${i + 1} ${layers[i]!.digest.slice(0, 19)}`), l);
      assert.match(l, /compressed\): (package|packages|host files|app)/);
    });
  });

  it('--top N lists the largest files with their origin', async () => {
    const r = await fromscratch(['inspect', image, '--top', '3', '--json']);
    const doc = JSON.parse(r.stdout) as { top: { path: string; size: number; origin: string }[] };
    assert.equal(doc.top.length, 3);
    assert.ok(doc.top[0]!.size >= doc.top[1]!.size && doc.top[1]!.size >= doc.top[2]!.size);
    assert.equal(doc.top[0]!.path, '/usr/lib/x86_64-linux-gnu/libcrypto.so.3');
    const text = await fromscratch(['inspect', image, '--top', '2']);
    assert.equal(text.stdout.trimEnd().split('\n').length, 2);
    assert.match(text.stdout, /libcrypto\.so\.3 {2}\[package libssl3; \/usr\/bin\/curl \(--binary\)\]/);
  });

  it('an image without a build record gets packages from its dpkg data', async () => {
    const r = await fromscratch(['inspect', image, '--by', 'package', '--json'], {
      env: { FROMSCRATCH_CACHE: join(dir, 'other-cache') },
    });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { source: string; tree: SpaceNode };
    assert.equal(doc.source, 'dpkg');
    assert.ok(doc.tree.children!.some((c) => c.name === 'curl'));
  });

  it("a Debian-style image's info/*.list names the packages; what no package lists is unknown", async () => {
    const root = join(dir, 'rootfs');
    mkdirSync(join(root, 'var/lib/dpkg/info'), { recursive: true });
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    writeFileSync(join(root, 'usr/bin/tool'), Buffer.alloc(5000, 1));
    writeFileSync(join(root, 'usr/bin/stray'), Buffer.alloc(700, 2));
    writeFileSync(join(root, 'var/lib/dpkg/info/tool:amd64.list'), '/.\n/bin/tool\n/usr/share/doc/tool\n');
    const out = `oci:${join(dir, 'debianish')}:1`;
    const b = await fromscratch(['build', '--add', `${root}:/`, '-o', out, '-q'], { cwd: dir });
    assert.equal(b.code, 0, b.stderr);
    const r = await fromscratch(['inspect', out, '--top', '5', '--json'], {
      env: { FROMSCRATCH_CACHE: join(dir, 'other-cache') },
    });
    assert.equal(r.code, 0, r.stderr);
    const top = (JSON.parse(r.stdout) as { top: { path: string; package?: string; origin: string }[] }).top;
    const tool = top.find((f) => f.path === '/usr/bin/tool');
    assert.deepEqual(
      [tool?.package, tool?.origin],
      ['tool', 'package tool'],
      '/bin/tool is /usr/bin/tool once /usr is merged',
    );
    const stray = top.find((f) => f.path === '/usr/bin/stray');
    assert.deepEqual([stray?.package, stray?.origin], [undefined, 'unknown']);
  });

  it('bad views and counts are usage errors', async () => {
    const r = await fromscratch(['inspect', image, '--by', 'size']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /USAGE.*--by view "size"/s);
    assert.match(r.stderr, /--by dir/);
    assert.equal((await fromscratch(['inspect', image, '--top', '-1'])).code, 2);
  });
});

describe('report -o page.html in headless Chromium', () => {
  const page = join(dir, 'report.html');
  before(async () => {
    const r = await fromscratch(['report', image, '-o', page]);
    assert.equal(r.code, 0, r.stderr);
  });

  it('is self-contained and escapes hostile names', () => {
    const html = readFileSync(page, 'utf8');
    assert.doesNotMatch(html, /(src|href)=|https?:\/\/|@import/, 'nothing is fetched');
    assert.ok(html.includes('&lt;b&gt;x&lt;i&gt;&quot;&#39;&amp;.txt'));
    assert.equal(html.includes('<b>x<i>'), false);
    assert.ok(html.includes('caf\uFFFD.txt'), 'a non-UTF-8 name is shown with U+FFFD');
  });

  it('renders: the DOM has the treemap cells and every file, the screenshot is not blank', () => {
    const dom = chromium(['--dump-dom', `file://${page}`]);
    assert.equal(dom.status, 0);
    const groups = (dom.stdout.match(/class="group"/g) ?? []).length;
    const cells = (dom.stdout.match(/class="cell"/g) ?? []).length;
    const rows = (dom.stdout.match(/<tr class="file"/g) ?? []).length;
    const files = JSON.parse(readFileSync(page, 'utf8').match(/ in (\d+) files/)?.[1] ?? '0') as number;
    assert.ok(groups >= 10, `${groups} group cells`);
    assert.ok(cells >= 50, `${cells} file cells`);
    assert.equal(rows, files);
    assert.ok(dom.stdout.includes('data-group="libc6"'));
    assert.ok(dom.stdout.includes('&lt;b&gt;x&lt;i&gt;'), 'the hostile name is text, not markup');
    const shot = join(dir, 'shot.png');
    // headless Chromium on a loaded machine has exited 0 without writing the file: a few tries
    for (let i = 0; i < 3 && !existsSync(shot); i++) {
      const s = chromium([`--screenshot=${shot}`, '--window-size=1100,1300', `file://${page}`]);
      assert.equal(s.status, 0);
    }
    const png = decodePng(readFileSync(shot));
    assert.equal(png.width, 1100);
    assert.ok(distinctColours(png) > 100, `${distinctColours(png)} colours`);
  });

  it('an unwritable output is a typed error', async () => {
    const r = await fromscratch(['report', image, '-o', join(dir, 'no', 'such', 'dir', 'r.html')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /OUTPUT_UNWRITABLE/);
    assert.equal((await fromscratch(['report', image])).code, 2);
  });
});

describe('deps: inference summaries and --no-infer', () => {
  it('summarises gconv in one line; --verbose lists it; --no-infer=gconv leaves it out', async () => {
    const r = await fromscratch(['deps', '/usr/bin/curl']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {4}gconv modules: \d{3} files, \d+\.\d MB \(--no-infer=gconv to leave out/m);
    assert.ok(r.stdout.split('\n').filter((l) => l.includes('/gconv/')).length === 0);
    const v = await fromscratch(['deps', '/usr/bin/curl', '--verbose']);
    assert.ok(v.stdout.split('\n').filter((l) => l.includes('/gconv/')).length > 100);
    const j = JSON.parse((await fromscratch(['deps', '/usr/bin/curl', '--json'])).stdout) as {
      files: { path: string }[];
    };
    assert.ok(j.files.filter((f) => f.path.includes('/gconv/')).length > 100, '--json keeps every file');
    const off = await fromscratch([
      'deps',
      '/usr/bin/curl',
      '--no-infer=gconv',
      '--no-infer=ca-certificates',
    ]);
    assert.equal(off.code, 0, off.stderr);
    assert.doesNotMatch(off.stdout, /gconv|ca-certificates\.crt/);
    assert.match(off.stdout, /nsswitch\.conf/);
  });

  it('the Python rule is one line too, and --no-infer=python leaves the standard library out', async () => {
    const r = await fromscratch(['deps', '/usr/bin/python3']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^ {4}Python standard library: \d+ files, [\d.]+ MB \(--no-infer=python to leave out/m,
    );
    const off = await fromscratch(['deps', '/usr/bin/python3', '--no-infer=python']);
    assert.equal(off.code, 0, off.stderr);
    assert.doesNotMatch(off.stdout, /Python standard library|\/os\.py/);
    const json = JSON.parse(
      (await fromscratch(['deps', '/usr/bin/python3', '--no-infer=python', '--json'])).stdout,
    ) as {
      files: { path: string }[];
    };
    assert.equal(json.files.filter((f) => f.path.endsWith('/os.py')).length, 0);
  });

  it('an unknown inference name is an error listing the valid ones', async () => {
    const build = await fromscratch([
      'build',
      '--binary',
      '/usr/bin/curl',
      '--no-infer=gconvv',
      '-o',
      `oci:${join(dir, 'never')}:1`,
    ]);
    assert.equal(build.code, 2);
    assert.match(build.stderr, /unknown inference "gconvv"/);
    assert.equal(existsSync(join(dir, 'never')), false, 'nothing is written');
    const r = await fromscratch(['deps', '/usr/bin/curl', '--no-infer=gconv,iconv']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown inference "iconv"/);
    assert.match(r.stderr, /nss, gconv, libgcc, ca-certificates/);
    writeFileSync(join(dir, 'bad.yaml'), 'contents:\n  - binary: /usr/bin/curl\nno-infer: [iconv]\n');
    const b = await fromscratch(['build', '-c', join(dir, 'bad.yaml')]);
    assert.equal(b.code, 1);
    assert.match(b.stderr, /SPEC_INVALID.*no-infer\[0\].*"gconv"/s);
  });
});
