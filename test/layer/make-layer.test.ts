/**
 * makeLayer: one streaming pass into a real dirStore; diffId and blob agree with the tar; determinism
 * across umask, input mtimes, readdir order and runs (RELIABILITY.md I7); failures store nothing.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { dirStore } from '../../src/blob/dir-store.ts';
import { memoryStore } from '../../src/blob/memory-store.ts';
import { readBlob } from '../../src/blob/store.ts';
import { isFromscratchError } from '../../src/errors.ts';
import { type FileTree, FileTreeBuilder } from '../../src/fs/file-tree.ts';
import { decodePathBytes } from '../../src/fs/path.ts';
import { detectHardlinks } from '../../src/layer/hardlinks.ts';
import { type LayerProgress, makeLayer } from '../../src/layer/make-layer.ts';
import { parseSourceDateEpoch } from '../../src/layer/source-date-epoch.ts';
import { sha256 } from '../../src/model/digest.ts';
import { MediaType } from '../../src/model/media-type.ts';
import { tarOf, withTempDir } from './oracles.ts';

/** scan walks a host directory the way a front end would: readdir order as the OS gives it, lstat metadata. */
function scan(hostRoot: string, imageRoot = '/app'): FileTree {
  const b = new FileTreeBuilder();
  const walk = (host: string, image: string) => {
    for (const n of readdirSync(host, { encoding: 'buffer' })) {
      const name = decodePathBytes(n);
      const h = `${host}/${name}`;
      const p = `${image}/${name}`;
      const st = lstatSync(h);
      const meta = { path: p, mode: st.mode & 0o7777, uid: 0, gid: 0, mtime: Math.floor(st.mtimeMs / 1000) };
      if (st.isDirectory()) {
        b.add({ type: 'dir', ...meta });
        walk(h, p);
      } else if (st.isSymbolicLink())
        b.add({ type: 'symlink', ...meta, target: decodePathBytes(readlinkSync(h, { encoding: 'buffer' })) });
      else b.add({ type: 'file', ...meta, size: st.size, content: { kind: 'host', path: h } });
    }
  };
  walk(hostRoot, imageRoot);
  return b.build();
}

/** makeFixture writes the same content in a given creation order, with given mtimes; modes are explicit. */
function makeFixture(dir: string, order: 'forward' | 'reverse', mtime: number): void {
  const names = Array.from({ length: 30 }, (_, i) => `f${String(i).padStart(2, '0')}`);
  if (order === 'reverse') names.reverse();
  mkdirSync(join(dir, 'sub'), { recursive: true });
  for (const n of names) {
    writeFileSync(join(dir, 'sub', n), `content of ${n}\n`.repeat(200));
    chmodSync(join(dir, 'sub', n), n.endsWith('7') ? 0o755 : 0o644);
    utimesSync(join(dir, 'sub', n), mtime, mtime);
  }
  writeFileSync(join(dir, 'big'), Buffer.alloc(3 * 1024 * 1024 + 17, 'z'));
  chmodSync(join(dir, 'big'), 0o600);
  symlinkSync('sub/f01', join(dir, 'link'));
  chmodSync(join(dir, 'sub'), 0o755);
  utimesSync(join(dir, 'big'), mtime, mtime);
}

describe('makeLayer', () => {
  it('stores a gzip layer whose blob and diffId match the tar, with progress', async () => {
    await withTempDir(async (dir) => {
      makeFixture(join(dir, 'in'), 'forward', 1_000_000);
      const tree = scan(join(dir, 'in'));
      const store = dirStore(join(dir, 'blobs'));
      const events: LayerProgress[] = [];
      const layer = await makeLayer(tree, store, { onProgress: (e) => events.push(e) });
      assert.equal(layer.blob.mediaType, MediaType.OciLayerGzip);
      const blob = await readBlob(store, layer.blob.digest, layer.blob.size, 64 << 20);
      assert.equal(blob.length, layer.blob.size);
      const tar = gunzipSync(blob);
      assert.equal(sha256(tar), layer.diffId);
      assert.ok(tar.equals(await tarOf(tree)));
      const last = events.at(-1)!;
      assert.ok(
        last.done &&
          last.tarBytes === tar.length &&
          last.tarBytesTotal === tar.length &&
          last.compressedBytes === blob.length,
      );
      assert.ok(events.length > 2, 'progress is reported while writing');
    });
  });

  it('I7: same digests under another umask, input mtimes, creation/readdir order and run', async () => {
    await withTempDir(async (dir) => {
      const results: string[] = [];
      const variants = [
        { umask: 0o022, order: 'forward', mtime: 1_000_000 },
        { umask: 0o077, order: 'reverse', mtime: 1_700_000_000 },
      ] as const;
      const old = process.umask();
      try {
        for (const [i, v] of variants.entries()) {
          process.umask(v.umask);
          const input = join(dir, `in${i}`);
          makeFixture(input, v.order, v.mtime);
          const tree = await detectHardlinks(scan(input));
          const layer = await makeLayer(tree, dirStore(join(dir, `blobs${i}`)), {
            sourceDateEpoch: 1_600_000_000,
          });
          results.push(`${layer.diffId} ${layer.blob.digest} ${layer.blob.size}`);
        }
      } finally {
        process.umask(old);
      }
      assert.equal(results[0], results[1]);
      // the epoch is part of the identity
      const tree = scan(join(dir, 'in0'));
      const other = await makeLayer(tree, memoryStore(), { sourceDateEpoch: 1_600_000_001 });
      assert.notEqual(other.diffId, results[0]!.split(' ')[0]);
      assert.equal(parseSourceDateEpoch('1600000000'), 1_600_000_000);
      assert.throws(
        () => parseSourceDateEpoch('yesterday'),
        (e) => isFromscratchError(e, 'INVALID_ARGUMENT'),
      );
    });
  });

  it('compression none stores the tar itself; zstd gets the zstd media type and round-trips', async () => {
    const tree = new FileTreeBuilder()
      .add({
        type: 'file',
        path: '/a',
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: 2,
        content: { kind: 'bytes', data: Buffer.from('hi') },
      })
      .build();
    const store = memoryStore();
    const plain = await makeLayer(tree, store, { compression: 'none' });
    assert.equal(plain.blob.mediaType, MediaType.OciLayer);
    assert.equal(plain.blob.digest, plain.diffId);
    const z = await makeLayer(tree, store, { compression: 'zstd' });
    assert.equal(z.blob.mediaType, MediaType.OciLayerZstd);
    assert.equal(z.diffId, plain.diffId);
    assert.equal(sha256(zstdDecompress(await readBlob(store, z.blob.digest))), plain.diffId);
  });

  it('a file that changed since the scan fails the layer and leaves nothing in the store', async () => {
    await withTempDir(async (dir) => {
      makeFixture(join(dir, 'in'), 'forward', 1);
      const tree = scan(join(dir, 'in'));
      writeFileSync(join(dir, 'in', 'sub', 'f29'), 'changed');
      const blobs = join(dir, 'blobs');
      await assert.rejects(
        makeLayer(tree, dirStore(blobs)),
        (e) => isFromscratchError(e, 'FILE_CHANGED') && (e as Error).message.includes('f29'),
      );
      assert.deepEqual(readdirSync(join(blobs, 'sha256')), []);
      rmSync(blobs, { recursive: true });
      assert.ok(readFileSync(join(dir, 'in', 'big')).length > 0);
    });
  });
});
