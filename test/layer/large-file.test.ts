/**
 * RELIABILITY.md I1: a file over 8 GiB (sparse on the host, made with `truncate`) is streamed, never
 * buffered, with a PAX `size` record; GNU tar and Python's tarfile agree on the size and the framing.
 * Uncompressed only (gzip of 8 GiB would take minutes here); the archive is written sparse to disk.
 */
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { FileTreeBuilder } from '../../src/fs/file-tree.ts';
import { tarSize, writeTar } from '../../src/layer/tar-writer.ts';
import { requireTool, run, withTempDir } from './oracles.ts';

/** just over 8 GiB (the largest ustar size is 8 GiB − 1): the PAX path at the least streaming cost */
const SIZE = 8 * 1024 ** 3 + 1024 * 1024;
const ZERO = Buffer.alloc(1024 * 1024);

function isZero(c: Uint8Array): boolean {
  return c.byteLength <= ZERO.length && Buffer.compare(c, ZERO.subarray(0, c.byteLength)) === 0;
}

it('I1: an 8 GiB + 1 MiB sparse file streams through GNU tar with a PAX size, in bounded memory', async () => {
  requireTool('truncate', 'coreutils');
  requireTool('tar', 'tar');
  requireTool('python3', 'python3');
  await withTempDir(async (dir) => {
    const big = join(dir, 'big');
    run('truncate', ['-s', String(SIZE), big]);
    const tree = new FileTreeBuilder()
      .add({
        type: 'file',
        path: '/data/big',
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: SIZE,
        content: { kind: 'host', path: big },
      })
      .add({
        type: 'file',
        path: '/data/small',
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: 2,
        content: { kind: 'bytes', data: Buffer.from('ok') },
      })
      .build();

    // Stream the tar into a file, skipping all-zero chunks so the 8 GiB archive stays sparse on disk;
    // GNU tar and Python then read it and seek over the data, as they do with any regular file.
    const out = join(dir, 'layer.tar');
    const fh = await open(out, 'w');
    let total = 0;
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    try {
      for await (const c of writeTar(tree)) {
        if (!isZero(c)) await fh.write(c, 0, c.byteLength, total);
        total += c.byteLength;
        if ((total & 0xfffffff) < c.byteLength) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      }
      await fh.truncate(total);
    } finally {
      await fh.close();
    }
    assert.equal(total, tarSize(tree));
    assert.equal(
      total,
      512 + 512 * 3 + SIZE + 512 + 512 + 1024,
      'dir header, PAX header+records, header, data, small entry + padding, end',
    );
    assert.ok(
      rssPeak - rssBefore < 200 * 1024 * 1024,
      `memory grew by ${rssPeak - rssBefore} bytes while streaming over 8 GiB`,
    );

    const listing = run('tar', ['--numeric-owner', '-tvvf', out]).toString();
    assert.match(listing, new RegExp(`-rw-r--r-- 0/0\\s+${SIZE} 1970-01-01 00:00 data/big`));
    assert.equal(
      run('tar', ['-xOf', out, 'data/small']).toString(),
      'ok',
      'framing after the > 8 GiB entry is intact',
    );
    const py = JSON.parse(
      run('python3', [
        '-c',
        'import json,sys,tarfile; print(json.dumps([[m.name, m.size, m.pax_headers.get("size")] for m in tarfile.open(sys.argv[1])]))',
        out,
      ]).toString(),
    ) as [string, number, string | undefined][];
    assert.deepEqual(py, [
      ['data', 0, null],
      ['data/big', SIZE, String(SIZE)],
      ['data/small', 2, null],
    ]);
  });
});
