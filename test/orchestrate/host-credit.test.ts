// host-credit.test.ts — package credit by content (issue 14): a host file is credited to a Debian package
// only when its bytes match the md5sum dpkg recorded; a copy of a packaged file elsewhere keeps its credit;
// status.d md5sums are the package's; conffiles are checked against the status Conffiles field; a corrupt
// md5sums file credits nothing of its package, with a warning. Over a generated dpkg root.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FileEntry } from '../../src/fs/file-tree.ts';
import { Collector } from '../../src/orchestrate/collector.ts';
import { attributeHostFiles, openHostAttribution } from '../../src/orchestrate/host-packages.ts';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

function makeRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'host-credit-'));
  const put = (rel: string, text: string) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  put('usr/bin/tool', 'the real tool\n');
  put('etc/tool.conf', 'conf=1\n');
  put('usr/bin/other', 'other\n');
  put(
    'var/lib/dpkg/status',
    `Package: tool\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0-1\nConffiles:\n /etc/tool.conf ${md5('conf=1\n')}\n\nPackage: broken\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.0\n`,
  );
  put('var/lib/dpkg/info/tool.list', '/usr\n/usr/bin\n/usr/bin/tool\n/etc/tool.conf\n');
  put('var/lib/dpkg/info/tool.md5sums', `${md5('the real tool\n')}  usr/bin/tool\n`);
  put('var/lib/dpkg/info/broken.list', '/usr/bin/other\n');
  put('var/lib/dpkg/info/broken.md5sums', `${md5('other\n')}  usr/bin/other\nthis is not an md5sums line\n`);
  put('work/fake', 'not the tool\n');
  put('work/copy-of-tool', 'the real tool\n');
  return root;
}

const hostFile = (path: string, host: string, size: number): FileEntry => ({
  type: 'file',
  path,
  mode: 0o755,
  uid: 0,
  gid: 0,
  mtime: 0,
  size,
  content: { kind: 'host', path: host },
});

test('credit by content: a fake at a packaged path is no package; a copy elsewhere keeps it; a corrupt md5sums credits nothing', async () => {
  const root = makeRoot();
  try {
    const col = new Collector();
    const req = { kind: 'requested', via: '--add' } as const;
    col.add(hostFile('/usr/bin/tool', join(root, 'work/fake'), 13), req); // --add ./fake:/usr/bin/tool
    col.add(hostFile('/app/tool', join(root, 'usr/bin/tool'), 14), req); // --add /usr/bin/tool:/app/tool
    col.add(hostFile('/opt/tool', join(root, 'work/copy-of-tool'), 14), req); // same bytes, unowned source
    col.add(hostFile('/etc/tool.conf', join(root, 'etc/tool.conf'), 7), req);
    col.add(hostFile('/usr/bin/other', join(root, 'usr/bin/other'), 6), req);
    const warnings: string[] = [];
    const pkgs = await attributeHostFiles(col, root, [], {
      cacheDir: join(root, 'cache'),
      warn: (m) => warnings.push(m),
    });
    assert.deepEqual(
      pkgs.map((p) => `${p.name} ${p.version}`),
      ['tool 1.0-1'],
    );
    const credited = (p: string) =>
      (col.origins().get(p) ?? []).flatMap((o) => (o.kind === 'package' ? [o.name] : []));
    assert.deepEqual(
      credited('/usr/bin/tool'),
      [],
      'a different file at the packaged path is not the package',
    );
    assert.deepEqual(credited('/app/tool'), ['tool'], 'a packaged file copied elsewhere keeps its credit');
    assert.deepEqual(credited('/opt/tool'), [], 'an unowned file at an unowned path is no package');
    assert.deepEqual(credited('/etc/tool.conf'), ['tool'], 'a conffile matches its Conffiles md5');
    assert.deepEqual(credited('/usr/bin/other'), [], 'a corrupt md5sums credits nothing');
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /corrupt .*broken\.md5sums.*broken 2\.0/);
    const sums = col.get('/var/lib/dpkg/status.d/tool.md5sums');
    assert.ok(sums?.type === 'file' && sums.content.kind === 'bytes');
    assert.equal(
      Buffer.from(sums.content.data).toString(),
      [`${md5('conf=1\n')}  etc/tool.conf`, `${md5('the real tool\n')}  app/tool`, ''].join('\n'), // sorted by line
    );
    assert.equal(col.has('/var/lib/dpkg/status.d/broken'), false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('an attribution opened before the closure (prefetch) credits the same, files added after it included', async () => {
  const root = makeRoot();
  try {
    const req = { kind: 'requested', via: '--add' } as const;
    const col = new Collector();
    col.add(hostFile('/usr/bin/tool', join(root, 'work/fake'), 13), req);
    const attribution = openHostAttribution(root, { cacheDir: join(root, 'cache') });
    attribution.prefetch(col);
    // what the closure adds later
    col.add(hostFile('/app/tool', join(root, 'usr/bin/tool'), 14), req);
    col.add(hostFile('/etc/tool.conf', join(root, 'etc/tool.conf'), 7), req);
    const pkgs = await attributeHostFiles(col, root, [], { cacheDir: join(root, 'cache'), attribution });
    assert.deepEqual(
      pkgs.map((p) => p.name),
      ['tool'],
    );
    const credited = (p: string) =>
      (col.origins().get(p) ?? []).flatMap((o) => (o.kind === 'package' ? [o.name] : []));
    assert.deepEqual(credited('/usr/bin/tool'), []);
    assert.deepEqual(credited('/app/tool'), ['tool']);
    assert.deepEqual(credited('/etc/tool.conf'), ['tool']);
    // an attribution of another root is not used for this one
    const other = openHostAttribution(join(root, 'work'), { cacheDir: join(root, 'cache') });
    assert.equal(await other.memo, undefined, 'no dpkg database there');
    const again = new Collector();
    again.add(hostFile('/app/tool', join(root, 'usr/bin/tool'), 14), req);
    const viaOther = await attributeHostFiles(again, root, [], {
      cacheDir: join(root, 'cache'),
      attribution: other,
    });
    assert.deepEqual(
      viaOther.map((p) => p.name),
      ['tool'],
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a file at its own packaged path: unchanged since dpkg wrote the file list, its recorded md5 is taken without reading it; changed after, it is read', async () => {
  const root = makeRoot();
  try {
    const req = { kind: 'requested', via: '--add' } as const;
    const tool = join(root, 'usr/bin/tool');
    const list = join(root, 'var/lib/dpkg/info/tool.list');
    const credit = async () => {
      const col = new Collector();
      col.add(hostFile('/usr/bin/tool', tool, 14), req);
      await attributeHostFiles(col, root, [], { cacheDir: join(root, 'cache', String(Math.random())) });
      return (col.origins().get('/usr/bin/tool') ?? []).flatMap((o) =>
        o.kind === 'package' ? [o.name] : [],
      );
    };
    // other bytes of the same size, written before the list: the stat data says dpkg wrote them, so
    // they are not read (as git's index trusts an unchanged stat)
    writeFileSync(tool, 'THE REAL TOOL\n');
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(list, '/usr\n/usr/bin\n/usr/bin/tool\n/etc/tool.conf\n');
    assert.deepEqual(await credit(), ['tool']);
    // changed after the list was written: read, and other bytes are no package's
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(tool, 'THE REAL TOOL\n');
    assert.deepEqual(await credit(), []);
    // the package's bytes again: read, and credited
    writeFileSync(tool, 'the real tool\n');
    assert.deepEqual(await credit(), ['tool']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
