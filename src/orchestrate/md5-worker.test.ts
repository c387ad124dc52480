// md5-worker.test.ts — the worker's MD5 is createHash('md5') of the file's bytes, for many files at once,
// and a read error arrives with its code (host-packages.ts tells the file's errors from the worker's by it).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { md5OnWorker } from './md5-worker.ts';

test('md5OnWorker hashes files on the worker thread, in any number at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'md5-worker-'));
  try {
    // sizes at the worker's 1 MiB read buffer's edges, and an empty file
    const sizes = [0, 1, 1024 * 1024 - 1, 1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024 + 7];
    const files = sizes.map((n, i) => {
      const p = join(dir, `f${i}`);
      writeFileSync(p, Buffer.alloc(n, i + 1));
      return p;
    });
    files.push(process.execPath);
    const got = await Promise.all(files.map((f) => md5OnWorker(f)));
    assert.deepEqual(
      got,
      files.map((f) => createHash('md5').update(readFileSync(f)).digest('hex')),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('md5OnWorker rejects with the read error code, and keeps working after it', async () => {
  await assert.rejects(md5OnWorker('/nonexistent/fromscratch-md5'), { code: 'ENOENT' });
  await assert.rejects(md5OnWorker('/'), { code: 'EISDIR' });
  assert.equal(await md5OnWorker('/dev/null'), createHash('md5').digest('hex'));
});
