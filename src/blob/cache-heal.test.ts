import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { digestHex } from '../model/digest.ts';
import { dirStore, retryAfterCacheHeal } from './dir-store.ts';
import { readBlob } from './store.ts';

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-cache-heal-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  'a cache drops a blob that no longer matches its digest, naming the cache; the next put heals it',
  withDir(async (dir) => {
    const store = dirStore(join(dir, 'blobs'), { fsync: false, cache: true });
    const data = Buffer.from('layer bytes '.repeat(1000));
    const info = await store.put(data);
    const file = join(dir, 'blobs', 'sha256', digestHex(info.digest));
    const bytes = readFileSync(file);
    bytes[100] = bytes[100]! ^ 1;
    writeFileSync(file, bytes);
    await assert.rejects(
      readBlob(store, info.digest, info.size, info.size),
      (e) =>
        isFromscratchError(e, 'DIGEST_MISMATCH') &&
        e.message.includes(join(dir, 'blobs')) &&
        /cache/.test(e.hint ?? ''),
    );
    assert.equal(existsSync(file), false, 'the corrupt entry is removed');
    assert.equal(await store.has(info.digest), false);
    await store.put(data, info);
    assert.deepEqual(Buffer.from(await readBlob(store, info.digest, info.size, info.size)), data);
  }),
);

test(
  'a store that is not a cache (a layout the user gave) is never modified by a read',
  withDir(async (dir) => {
    const store = dirStore(join(dir, 'blobs'), { fsync: false });
    const info = await store.put(Buffer.from('abc'));
    const file = join(dir, 'blobs', 'sha256', digestHex(info.digest));
    writeFileSync(file, 'abd');
    await assert.rejects(readBlob(store, info.digest, info.size, info.size), (e) =>
      isFromscratchError(e, 'DIGEST_MISMATCH'),
    );
    assert.equal(readFileSync(file, 'utf8'), 'abd', 'left as it was');
  }),
);

test(
  'temp files of dead writers in a cache are collected on the first write; live ones are kept',
  withDir(async (dir) => {
    const algo = join(dir, 'blobs', 'sha256');
    mkdirSync(algo, { recursive: true });
    const dead = 4194305; // above pid_max: never alive
    writeFileSync(join(algo, `.tmp-blob-${dead}-x-1`), 'partial');
    writeFileSync(join(algo, `.tmp-blob-${process.pid}-x-1`), 'mine, in progress');
    await dirStore(join(dir, 'blobs'), { fsync: false, cache: true }).put(Buffer.from('x'));
    const names = readdirSync(algo).filter((n) => n.startsWith('.tmp-'));
    assert.deepEqual(names, [`.tmp-blob-${process.pid}-x-1`]);
  }),
);

test(
  'retryAfterCacheHeal runs again as long as each run drops another corrupt cache blob (two damaged layers heal in one command)',
  withDir(async (dir) => {
    const store = dirStore(join(dir, 'blobs'), { fsync: false, cache: true });
    const datas = [Buffer.from('first layer '.repeat(500)), Buffer.from('second layer '.repeat(500))];
    const infos = [await store.put(datas[0]!), await store.put(datas[1]!)];
    for (const info of infos) {
      const file = join(dir, 'blobs', 'sha256', digestHex(info.digest));
      const bytes = readFileSync(file);
      bytes[10] = bytes[10]! ^ 1;
      writeFileSync(file, bytes);
    }
    const warnings: string[] = [];
    let runs = 0;
    // a "build": re-puts a dropped blob (as a rebuild would), then reads every blob
    const out = await retryAfterCacheHeal(
      async () => {
        runs++;
        for (const [i, info] of infos.entries())
          if (!(await store.has(info.digest))) await store.put(datas[i]!, info);
        const got = [];
        for (const info of infos)
          got.push(Buffer.from(await readBlob(store, info.digest, info.size, info.size)));
        return got;
      },
      (m) => warnings.push(m),
    );
    assert.deepEqual(out, datas);
    assert.equal(runs, 3);
    assert.equal(warnings.length, 2);
    assert.ok(warnings.every((w) => w.includes(join(dir, 'blobs'))));
  }),
);

test(
  'retryAfterCacheHeal does not retry other errors',
  withDir(async () => {
    let runs = 0;
    await assert.rejects(
      retryAfterCacheHeal(
        async () => {
          runs++;
          throw new Error('boom');
        },
        () => {},
      ),
      /boom/,
    );
    assert.equal(runs, 1);
  }),
);
