/**
 * app-home.test.ts — an application whose launcher script lives in HOME/bin and finds HOME from its
 * own path (maven's mvn, a tarball in /opt): HOME ships whole, its manuals and sources left out, the
 * programs of HOME/bin with their closures, links out of HOME followed; a launcher that does not
 * locate itself, or a script in /usr/bin, ships no home. Maven itself is test/e2e/real-launch-runtimes.test.ts's.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveClosure } from '../../src/closure/closure.ts';
import { hostFs } from '../../src/fs/host-fs.ts';
import { glibcRoot, putFile } from './glibc-root.ts';

let root: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'fromscratch-app-home-'));
  glibcRoot(root);
  putFile(root, '/usr/bin/dash', '/usr/bin/dash');
  symlinkSync('dash', join(root, 'usr/bin/sh'));
  symlinkSync('usr/bin', join(root, 'bin'));
  const text = (to: string, body: string, mode = 0o644) => {
    mkdirSync(dirname(join(root, to)), { recursive: true });
    writeFileSync(join(root, to), body);
    chmodSync(join(root, to), mode);
  };
  // /opt/myapp: a launcher finding its home, a second script beside it, its jars (one a link into
  // /usr/share/java), configuration, manuals and sources
  text(
    '/opt/myapp/bin/myapp',
    '#!/bin/sh\nAPP_HOME=$(cd "$(dirname "$0")/.." && pwd)\nexec "$APP_HOME/bin/helper" "$APP_HOME/conf/app.conf"\n',
    0o755,
  );
  text('/opt/myapp/bin/helper', '#!/bin/sh\necho "$1"\n', 0o755);
  text('/opt/myapp/bin/myapp.cmd', '@echo off\r\n', 0o644);
  text('/opt/myapp/lib/app.jar', 'jar\n');
  text('/usr/share/java/dep.jar', 'dep\n');
  mkdirSync(join(root, 'opt/myapp/lib'), { recursive: true });
  symlinkSync('../../../usr/share/java/dep.jar', join(root, 'opt/myapp/lib/dep.jar'));
  text('/opt/myapp/conf/app.conf', 'x=1\n');
  text('/opt/myapp/man/myapp.1', '.TH\n');
  text('/opt/myapp/src/Main.java', 'class Main {}\n');
  // a launcher that does not locate itself
  text('/opt/fixed/bin/fixed', '#!/bin/sh\nexec /opt/fixed/lib/run\n', 0o755);
  text('/opt/fixed/lib/data', 'data\n');
});

after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("an application's home found by its launcher", () => {
  it('ships whole: its programs with their closures, its jars (links followed), not its manuals or sources', async () => {
    const r = await resolveClosure(['/opt/myapp/bin/myapp'], hostFs(root));
    for (const p of [
      '/opt/myapp/lib/app.jar',
      '/opt/myapp/lib/dep.jar',
      '/usr/share/java/dep.jar',
      '/opt/myapp/conf/app.conf',
      '/opt/myapp/bin/myapp.cmd',
    ])
      assert.ok(r.files.has(p), p);
    assert.ok(
      r.roots.some((x) => x.path === '/opt/myapp/bin/helper'),
      'the script beside it, a program',
    );
    assert.equal(r.files.has('/opt/myapp/man/myapp.1'), false);
    assert.equal(r.files.has('/opt/myapp/src/Main.java'), false);
    assert.match(
      (r.files.get('/opt/myapp/conf/app.conf')?.origins ?? [])
        .map((o) => ('reason' in o ? o.reason : ''))
        .join('\n'),
      /\/opt\/myapp\/bin\/myapp finds its home \/opt\/myapp from its own path/,
    );
  });

  it('not for a launcher that does not locate itself, nor with the launcher rules off', async () => {
    const r = await resolveClosure(['/opt/fixed/bin/fixed'], hostFs(root), { strict: false });
    assert.equal(r.files.has('/opt/fixed/lib/data'), false);
    const off = await resolveClosure(['/opt/myapp/bin/myapp'], hostFs(root), {
      infer: { launchers: false },
    });
    assert.equal(off.files.has('/opt/myapp/lib/app.jar'), false);
  });
});
