import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { parseDigest, sha256 } from '../model/digest.ts';
import { dirStore } from './dir-store.ts';
import { memoryStore } from './memory-store.ts';
import { readBlob } from './store.ts';

async function drain(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const c: Uint8Array[] = [];
  for await (const x of it) c.push(x);
  return Buffer.concat(c);
}

for (const [name, make] of [
  ['memoryStore', async () => ({ store: memoryStore(), dir: undefined as string | undefined })],
  [
    'dirStore',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'fs-blob-'));
      return { store: dirStore(join(dir, 'blobs')), dir };
    },
  ],
] as const) {
  test(`${name}: put is idempotent and open verifies`, async () => {
    const { store, dir } = await make();
    const a = await store.put(Buffer.from('hello'));
    const b = await store.put(
      (async function* () {
        yield Buffer.from('hel');
        yield Buffer.from('lo');
      })(),
    );
    assert.deepEqual(a, b);
    assert.equal(a.digest, sha256('hello'));
    assert.equal((await drain(store.open(a.digest, 5))).toString(), 'hello');
    assert.ok(await store.has(a.digest, 5));
    assert.ok(!(await store.has(a.digest, 6)));
    await assert.rejects(drain(store.open(sha256('nope'))), (e) => isFromscratchError(e, 'BLOB_NOT_FOUND'));
    await assert.rejects(store.put(Buffer.from('x'), { digest: sha256('y'), size: 1 }), (e) =>
      isFromscratchError(e, 'DIGEST_MISMATCH'),
    );
    if (dir) await rm(dir, { recursive: true });
  });
}

test('dirStore: flipped byte → DIGEST_MISMATCH; trailing bytes → SIZE_MISMATCH; put rewrites a poisoned blob (C1, C2, C9)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fs-blob-'));
  const store = dirStore(join(dir, 'blobs'));
  const { digest, size } = await store.put(Buffer.from('abcdef'));
  const p = store.pathOf(digest);
  await writeFile(p, 'abcdeX');
  await assert.rejects(drain(store.open(digest, size)), (e) => isFromscratchError(e, 'DIGEST_MISMATCH'));
  await writeFile(p, 'abcdef+trailing');
  await assert.rejects(drain(store.open(digest, size)), (e) => isFromscratchError(e, 'SIZE_MISMATCH'));
  await truncate(p, 3);
  await assert.rejects(drain(store.open(digest, size)), (e) => isFromscratchError(e, 'SIZE_MISMATCH'));
  await writeFile(p, 'abcdeX');
  await store.put(Buffer.from('abcdef'), { digest, size });
  assert.equal((await drain(store.open(digest, size))).toString(), 'abcdef');
  assert.deepEqual(
    (await readdir(join(dir, 'blobs', 'sha256'))).filter((n) => n.startsWith('.tmp')),
    [],
    'no temp files left',
  );
  await rm(dir, { recursive: true });
});

test('digest syntax is checked before any path use (C4)', async () => {
  const store = dirStore('/nonexistent/blobs');
  for (const bad of [
    'sha256:../../etc/passwd',
    `sha256:${'A'.repeat(64)}`,
    'sha256:abc',
    `md5:${'a'.repeat(32)}`,
    '',
  ]) {
    assert.throws(
      () => parseDigest(bad),
      (e) => isFromscratchError(e, 'INVALID_DIGEST'),
    );
    await assert.rejects(drain(store.open(bad as never)), (e) => isFromscratchError(e, 'INVALID_DIGEST'));
  }
});

test('readBlob refuses blobs over its limit (C6)', async () => {
  const store = memoryStore();
  const { digest } = await store.put(Buffer.alloc(100));
  await assert.rejects(readBlob(store, digest, undefined, 50), (e) => isFromscratchError(e, 'TOO_LARGE'));
});
