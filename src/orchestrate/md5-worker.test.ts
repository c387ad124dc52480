// md5-worker.test.ts — the worker's MD5 is createHash('md5') of the file's bytes, for many files at once,
// and a read error arrives with its code (host-packages.ts tells the file's errors from the worker's by it).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { md5OnWorker, releaseMd5Worker } from './md5-worker.ts';

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

test('releaseMd5Worker ends the worker once its results are in; a later request starts another', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'md5-worker-'));
  try {
    const f = join(dir, 'big');
    writeFileSync(f, Buffer.alloc(8 * 1024 * 1024, 7));
    const want = createHash('md5').update(readFileSync(f)).digest('hex');
    // the threads of this process without a worker (an earlier test's is let go of first)
    releaseMd5Worker();
    await new Promise((r) => setTimeout(r, 300));
    const base = threads();
    // released while a result is awaited: the result still arrives, then the worker goes
    const pending = md5OnWorker(f);
    assert.equal(threads(), base + 1, 'a worker thread');
    releaseMd5Worker();
    assert.equal(await pending, want);
    await waitFor(() => threads() === base);
    // released when idle: at once; a request after it is answered by a new worker
    assert.equal(await md5OnWorker(f), want);
    releaseMd5Worker();
    await waitFor(() => threads() === base);
    assert.equal(await md5OnWorker(f), want);
    // a request after a release asked for while busy cancels that release
    const a = md5OnWorker(f);
    releaseMd5Worker();
    const b = md5OnWorker(f);
    assert.deepEqual(await Promise.all([a, b]), [want, want]);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(threads(), base + 1, 'kept: a request came after the release');
    releaseMd5Worker();
    await waitFor(() => threads() === base);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** threads is the number of threads of this process (a worker thread is one of them). */
function threads(): number {
  return readdirSync('/proc/self/task').length;
}

async function waitFor(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(ok(), 'in time');
}
