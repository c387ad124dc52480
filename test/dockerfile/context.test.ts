/**
 * context.test.ts — build-context safety (RELIABILITY.md F1–F4, F8), COPY destination rules, globs and
 * .dockerignore semantics. Hostile contexts are made in a temp dir at test time.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  collectContextSources,
  readContextFile,
  readDockerignore,
  resolveOwnership,
  toCopyEntries,
} from '../../src/dockerfile/context.ts';
import { compileIgnore, goClean, isIgnored, parseDockerignore } from '../../src/dockerfile/patterns.ts';
import { isFromscratchError } from '../../src/errors.ts';

let root: string;
let ctx: string;

async function rejects(p: Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(isFromscratchError(e), `expected FromscratchError, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return;
  }
  assert.fail(`expected ${code}`);
}

function dests(recs: { dest: string }[]): string[] {
  return recs.map((r) => r.dest);
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'fs-dockerfile-ctx-'));
  ctx = join(root, 'ctx');
  mkdirSync(join(ctx, 'app/sub'), { recursive: true });
  mkdirSync(join(ctx, 'docs'), { recursive: true });
  writeFileSync(join(root, 'secret'), 'TOP SECRET');
  writeFileSync(join(ctx, 'hello'), 'hi');
  chmodSync(join(ctx, 'hello'), 0o755);
  writeFileSync(join(ctx, 'app/main.py'), 'print(1)');
  writeFileSync(join(ctx, 'app/README.md'), '#');
  writeFileSync(join(ctx, 'app/sub/x.txt'), 'x');
  writeFileSync(join(ctx, 'docs/a.md'), 'a');
  writeFileSync(join(ctx, 'docs/b.md'), 'b');
  writeFileSync(join(ctx, 'docs/c.txt'), 'c');
  // hostile entries
  symlinkSync('/etc/shadow', join(ctx, 'leak'));
  symlinkSync('../secret', join(ctx, 'leak-rel'));
  symlinkSync('/etc', join(ctx, 'etcdir'));
  symlinkSync('app', join(ctx, 'applink'));
  symlinkSync('../../secret', join(ctx, 'app/up'));
  execFileSync('mkfifo', [join(ctx, 'app/fifo')]);
});

after(() => rmSync(root, { recursive: true, force: true }));

describe('F1: sources never leave the context', () => {
  it('refuses ../ with "outside the build context"', async () => {
    await rejects(
      collectContextSources(ctx, ['../secret'], { dest: '/' }),
      'PATH_ESCAPE',
      /outside the build context/,
    );
    await rejects(
      collectContextSources(ctx, ['app/../../secret'], { dest: '/' }),
      'PATH_ESCAPE',
      /outside the build context/,
    );
  });
  it('reads /etc/passwd as CONTEXT/etc/passwd (never the host file), as docker build does', async () => {
    await rejects(
      collectContextSources(ctx, ['/etc/passwd'], { dest: '/' }),
      'FILE_NOT_FOUND',
      /not found in build context/,
    );
    const r = await collectContextSources(ctx, ['/hello'], { dest: '/bin/' });
    assert.deepEqual(dests(r), ['/bin/hello']);
    assert.equal(r[0]!.hostPath, join(ctx, 'hello'));
  });
});

describe('F2/F3: symlinks', () => {
  it('copies a symlink to a host secret AS a symlink when its directory is copied', async () => {
    const r = await collectContextSources(ctx, ['.'], { dest: '/app/' });
    const leak = r.find((x) => x.dest === '/app/leak')!;
    assert.equal(leak.stat.type, 'symlink');
    assert.equal(leak.linkTarget, '/etc/shadow');
    const up = r.find((x) => x.dest === '/app/app/up')!;
    assert.equal(up.stat.type, 'symlink');
    const entries = toCopyEntries(r);
    const e = entries.find((x) => x.path === '/app/leak')!;
    assert.deepEqual(
      { type: e.type, target: e.type === 'symlink' ? e.target : '' },
      { type: 'symlink', target: '/etc/shadow' },
    );
    assert.ok(
      !entries.some((x) => x.type === 'file' && x.content.kind === 'host' && !x.content.path.startsWith(ctx)),
    );
  });
  it('refuses COPY of a symlink pointing outside (absolute or ../)', async () => {
    await rejects(
      collectContextSources(ctx, ['leak'], { dest: '/x' }),
      'PATH_ESCAPE',
      /leak is a symlink to \/etc\/shadow, outside the build context/,
    );
    await rejects(
      collectContextSources(ctx, ['leak-rel'], { dest: '/x' }),
      'PATH_ESCAPE',
      /outside the build context/,
    );
    await rejects(
      collectContextSources(ctx, ['app/up'], { dest: '/x' }),
      'PATH_ESCAPE',
      /outside the build context/,
    );
  });
  it('refuses an escaping symlinked directory component (dir -> /etc, COPY dir/passwd)', async () => {
    await rejects(
      collectContextSources(ctx, ['etcdir/passwd'], { dest: '/' }),
      'PATH_ESCAPE',
      /etcdir is a symlink to \/etc/,
    );
    await rejects(collectContextSources(ctx, ['etcdir/*'], { dest: '/' }), 'PATH_ESCAPE');
  });
  it('follows symlinks that stay inside the context', async () => {
    const r = await collectContextSources(ctx, ['applink/main.py'], { dest: '/m.py' });
    assert.deepEqual(dests(r), ['/m.py']);
    assert.equal(r[0]!.hostPath, join(ctx, 'app/main.py'));
  });
});

describe('F4: Dockerfile and .dockerignore that link out of the context', () => {
  it('refuses them, and reads normal ones', async () => {
    const c2 = join(root, 'c2');
    mkdirSync(c2);
    symlinkSync(join(root, 'secret'), join(c2, 'Dockerfile'));
    symlinkSync('/etc/passwd', join(c2, '.dockerignore'));
    await rejects(readContextFile(c2, 'Dockerfile'), 'PATH_ESCAPE', /outside the build context/);
    await rejects(readDockerignore(c2), 'PATH_ESCAPE');
    const c3 = join(root, 'c3');
    mkdirSync(c3);
    writeFileSync(join(c3, 'real'), 'FROM scratch\n');
    symlinkSync('real', join(c3, 'Dockerfile'));
    writeFileSync(join(c3, '.dockerignore'), '# c\n*.md\n!README.md\n');
    assert.equal(await readContextFile(c3, 'Dockerfile'), 'FROM scratch\n');
    assert.deepEqual(await readDockerignore(c3), ['*.md', '!README.md']);
    assert.equal(await readContextFile(c3, 'missing'), undefined);
  });
});

describe('F8: special files', () => {
  it('never opens a FIFO (it becomes an entry) and skips sockets', async () => {
    const sockDir = join(root, 'sock');
    mkdirSync(sockDir);
    writeFileSync(join(sockDir, 'f'), 'f');
    const server = createServer();
    await new Promise<void>((res) => server.listen(join(sockDir, 's.sock'), res));
    try {
      const warnings: string[] = [];
      const r = await collectContextSources(sockDir, ['.'], { dest: '/d/', warn: (m) => warnings.push(m) });
      assert.deepEqual(dests(r), ['/d', '/d/f']);
      assert.match(warnings.join(), /skipping socket s.sock/);
    } finally {
      server.close();
    }
    const r = await collectContextSources(ctx, ['app/fifo'], { dest: '/p' });
    assert.equal(r[0]!.stat.type, 'fifo');
    assert.equal(toCopyEntries(r)[0]!.type, 'fifo');
  });
});

describe('COPY destination rules and globs', () => {
  it("copies a directory's contents, not the directory", async () => {
    const r = await collectContextSources(ctx, ['app/sub'], { dest: '/opt' });
    assert.deepEqual(dests(r), ['/opt', '/opt/x.txt']);
  });
  it('copies a file to dest, or into dest when it ends with / or is an existing directory', async () => {
    assert.deepEqual(dests(await collectContextSources(ctx, ['hello'], { dest: '/usr/bin/hi' })), [
      '/usr/bin/hi',
    ]);
    assert.deepEqual(dests(await collectContextSources(ctx, ['hello'], { dest: '/usr/bin/' })), [
      '/usr/bin/hello',
    ]);
    assert.deepEqual(
      dests(
        await collectContextSources(ctx, ['hello'], { dest: '/usr/bin', isDir: (p) => p === '/usr/bin' }),
      ),
      ['/usr/bin/hello'],
    );
  });
  it('lets a later source win when two land on one path, as docker build does', async () => {
    const r = await collectContextSources(ctx, ['docs/a.md', 'app/sub/x.txt', 'docs/b.md'], {
      dest: '/same/',
    });
    assert.deepEqual(dests(r), ['/same/a.md', '/same/x.txt', '/same/b.md']);
    const r2 = await collectContextSources(ctx, ['app/sub', 'app/sub'], { dest: '/d/' });
    assert.deepEqual(dests(r2), ['/d', '/d/x.txt']);
  });
  it('expands filepath.Match globs and needs a directory destination for several matches', async () => {
    assert.deepEqual(dests(await collectContextSources(ctx, ['docs/*.md'], { dest: '/d/' })), [
      '/d/a.md',
      '/d/b.md',
    ]);
    assert.deepEqual(
      dests(await collectContextSources(ctx, ['docs/[ab].md', 'docs/?.txt'], { dest: '/d/' })),
      ['/d/a.md', '/d/b.md', '/d/c.txt'],
    );
    await rejects(
      collectContextSources(ctx, ['docs/*.md'], { dest: '/d' }),
      'INVALID_ARGUMENT',
      /must be a directory and end with a \//,
    );
    await rejects(
      collectContextSources(ctx, ['docs/*.none'], { dest: '/d/' }),
      'FILE_NOT_FOUND',
      /not found/,
    );
  });
  it('applies --exclude relative to the source and .dockerignore relative to the context', async () => {
    const r = await collectContextSources(ctx, ['app'], { dest: '/app/', exclude: ['*.md', 'fifo'] });
    assert.deepEqual(dests(r).sort(), ['/app', '/app/main.py', '/app/sub', '/app/sub/x.txt', '/app/up']);
    const ign = parseDockerignore('app/sub\n**/*.md\n!docs/b.md\n');
    const r2 = await collectContextSources(ctx, ['.'], { dest: '/c/', dockerignore: ign });
    const d = dests(r2);
    assert.ok(
      !d.includes('/c/app/sub') &&
        !d.includes('/c/app/sub/x.txt') &&
        !d.includes('/c/app/README.md') &&
        !d.includes('/c/docs/a.md'),
    );
    assert.ok(d.includes('/c/docs/b.md') && d.includes('/c/app/main.py'));
    await rejects(
      collectContextSources(ctx, ['app/README.md'], { dest: '/r', dockerignore: ign }),
      'FILE_NOT_FOUND',
    );
  });
  it('keeps permission bits, sets root ownership, and applies --chown/--chmod', async () => {
    const r = await collectContextSources(ctx, ['hello'], { dest: '/hello' });
    const [plain] = toCopyEntries(r);
    assert.equal(plain!.mode, 0o755);
    assert.equal(plain!.uid, 0);
    const [own] = toCopyEntries(r, { uid: 10, gid: 20, mode: 0o700 });
    assert.deepEqual([own!.uid, own!.gid, own!.mode], [10, 20, 0o700]);
    assert.throws(() => toCopyEntries(r, { user: 'app' }), /must be resolved/);
  });
  it('resolves --chown names against /etc/passwd and /etc/group', () => {
    const passwd = 'root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n';
    const group = 'root:x:0:\nstaff:x:50:\n';
    assert.deepEqual(resolveOwnership({ user: 'app' }, passwd, group), { uid: 1000, gid: 1000 });
    assert.deepEqual(resolveOwnership({ user: 'app', group: 'staff', mode: 0o600 }, passwd, group), {
      uid: 1000,
      gid: 50,
      mode: 0o600,
    });
    assert.throws(
      () => resolveOwnership({ user: 'nobody' }, passwd, group),
      /not in the image's \/etc\/passwd/,
    );
  });
});

describe('.dockerignore semantics (moby/patternmatcher)', () => {
  const rows: [string[], string, boolean][] = [
    [['*.md'], 'README.md', true],
    [['*.md'], 'docs/README.md', false],
    [['**/*.md'], 'docs/deep/README.md', true],
    [['**/*.md'], 'README.md', true],
    [['docs'], 'docs/a/b.txt', true],
    [['docs/**'], 'docs/a/b.txt', true],
    [['/docs'], 'docs/x', true],
    [['./docs/'], 'docs/x', true],
    [['*.md', '!README.md'], 'README.md', false],
    [['*.md', '!README.md', 'README*'], 'README.md', true],
    [['a?c'], 'abc', true],
    [['a?c'], 'a/c', false],
    [['[a-c]x'], 'bx', true],
    [['[a-c]x'], 'dx', false],
    [['file\\*'], 'file*', true],
    [['file\\*'], 'filex', false],
    [['**'], 'anything/at/all', true],
    [['a/**/b'], 'a/b', true],
    [['a/**/b'], 'a/x/y/b', true],
    [['dir', '!dir/keep'], 'dir/keep', false],
    [['dir', '!dir/keep'], 'dir/drop', true],
  ];
  for (const [pats, path, want] of rows) {
    it(`${JSON.stringify(pats)} ${want ? 'excludes' : 'keeps'} ${path}`, () => {
      assert.equal(isIgnored(compileIgnore(parseDockerignore(pats.join('\n'))), path), want);
    });
  }
  it('cleans patterns like Go', () => {
    assert.equal(goClean('a//b/./c/..'), 'a/b');
    assert.equal(goClean('/../x'), '/x');
    assert.equal(goClean('./'), '.');
    assert.deepEqual(parseDockerignore('\ufeff# comment\n  spaced  \n\n! keep\n/abs/\n'), [
      'spaced',
      '!keep',
      'abs',
    ]);
  });
});
