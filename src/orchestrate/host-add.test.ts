import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { collectHostPath, parseAddArg } from './host-add.ts';

test('parseAddArg: DEST defaults to the absolute source path and must be absolute', () => {
  assert.deepEqual(parseAddArg('./app:/srv/app', '/home/u'), { src: '/home/u/app', dest: '/srv/app' });
  assert.deepEqual(parseAddArg('bin/x', '/w'), { src: '/w/bin/x', dest: '/w/bin/x' });
  assert.throws(
    () => parseAddArg('./app:srv', '/w'),
    (e) => isFromscratchError(e, 'USAGE') && e.message.includes('srv'),
  );
});

test('collectHostPath keeps symlinks as symlinks, hard links as links, modes and sorts entries', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fs-add-'));
  try {
    await mkdir(join(dir, 'app/bin'), { recursive: true });
    await writeFile(join(dir, 'app/bin/b'), 'same inode');
    await link(join(dir, 'app/bin/b'), join(dir, 'app/a-link'));
    await symlink('/etc/shadow', join(dir, 'app/leak'));
    await writeFile(join(dir, 'app/suid'), 'x', { mode: 0o4755 });
    execFileSync('chmod', ['4755', join(dir, 'app/suid')]);
    execFileSync('mkfifo', [join(dir, 'app/fifo')]);
    const got = await collectHostPath(join(dir, 'app'), '/app');
    const by = new Map(got.map((h) => [h.entry.path, h.entry] as const));
    assert.equal(by.get('/app/leak')?.type, 'symlink');
    assert.equal(
      (by.get('/app/leak') as { target: string }).target,
      '/etc/shadow',
      'the link target is never read',
    );
    assert.equal(
      by.get('/app/a-link')?.type,
      'file',
      'the bytewise-first path of a hard-link group holds the data',
    );
    assert.equal(by.get('/app/bin/b')?.type, 'hardlink');
    assert.equal((by.get('/app/bin/b') as { target: string }).target, '/app/a-link');
    assert.equal(by.get('/app/suid')?.mode, 0o4755);
    assert.equal(by.get('/app/fifo')?.type, 'fifo');
    assert.equal(by.get('/app')?.uid, 0);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('collectHostPath: a missing source is FILE_NOT_FOUND; a refused secret is SECRET_REFUSED unless allowed', async () => {
  await assert.rejects(
    collectHostPath('/nonexistent/x', '/x'),
    (e) => isFromscratchError(e, 'FILE_NOT_FOUND') && e.message.includes('/nonexistent/x'),
  );
  const dir = await mkdtemp(join(tmpdir(), 'fs-add-'));
  try {
    await writeFile(join(dir, 'id_rsa'), 'key');
    const checkSecret = (p: string) => ({ refuse: p.endsWith('id_rsa'), reason: 'an SSH private key' });
    await assert.rejects(
      collectHostPath(dir, '/d', { checkSecret }),
      (e) => isFromscratchError(e, 'SECRET_REFUSED') && e.message.includes('id_rsa'),
    );
    const ok = await collectHostPath(dir, '/d', { checkSecret, allowSecrets: [join(dir, 'id_rsa')] });
    assert.ok(ok.some((h) => h.entry.path === '/d/id_rsa'));
  } finally {
    await rm(dir, { recursive: true });
  }
});
