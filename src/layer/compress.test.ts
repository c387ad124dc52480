import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { isFromscratchError } from '../errors.ts';
import {
  checkCompressionLevel,
  compressionAvailable,
  compressStream,
  DEFAULT_GZIP_LEVEL,
  DEFAULT_ZSTD_LEVEL,
  defaultLevel,
  gzipStream,
  zstdStream,
} from './compress.ts';
import { fixedBlocks } from './fixed-blocks.ts';

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

/** a 3.3 MiB mix of compressible text and random bytes, so blocks differ and cross-block matches exist */
function sample(): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < 40; i++) {
    parts.push(Buffer.from(`line ${i % 7} of a fairly repetitive text block\n`.repeat(1500)));
    parts.push(randomBytes(12_000));
  }
  return Buffer.concat(parts);
}

function chunked(b: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size));
  return out;
}

describe('fixedBlocks', () => {
  it('cuts at fixed offsets whatever the input chunks, with a final (possibly empty) block', async () => {
    const data = Buffer.from('abcdefghij');
    for (const parts of [
      [data],
      chunked(data, 1),
      chunked(data, 3),
      [Buffer.alloc(0), data, Buffer.alloc(0)],
    ]) {
      const blocks: string[] = [];
      for await (const b of fixedBlocks(parts, 4)) blocks.push(`${b.data.toString()}${b.last ? '$' : ''}`);
      assert.deepEqual(blocks, ['abcd', 'efgh', 'ij$']);
    }
    const exact: string[] = [];
    for await (const b of fixedBlocks([Buffer.from('abcd')], 4))
      exact.push(`${b.data.toString()}${b.last ? '$' : ''}`);
    assert.deepEqual(exact, ['abcd', '$']);
  });
});

describe('gzipStream (parallel, single member)', () => {
  const data = sample();

  it('B: same bytes however the input is chunked and whatever the concurrency', async () => {
    const ref = await collect(gzipStream([data], { blockSize: 256 * 1024 }));
    for (const [size, concurrency] of [
      [1, 1],
      [4093, 3],
      [256 * 1024, 2],
      [1 << 20, 8],
    ] as const) {
      const parts =
        size === 1
          ? chunked(data.subarray(0, 70_000), 1).concat([data.subarray(70_000)])
          : chunked(data, size);
      assert.ok(
        (await collect(gzipStream(parts, { blockSize: 256 * 1024, concurrency }))).equals(ref),
        `chunks of ${size}, concurrency ${concurrency}`,
      );
    }
  });

  it('B: decompresses to the input with node, python gzip (one member: nothing after its trailer) and gzip -t', async () => {
    const gz = await collect(gzipStream(chunked(data, 100_000), { blockSize: 256 * 1024 }));
    assert.ok(gunzipSync(gz).equals(data));
    const py = spawnSync(
      'python3',
      [
        '-c',
        'import gzip,sys,hashlib,zlib; raw=sys.stdin.buffer.read(); d=gzip.decompress(raw); o=zlib.decompressobj(31); one=o.decompress(raw); assert o.eof and o.unused_data==b"" and one==d, "not one member"; print(len(d), hashlib.sha256(d).hexdigest())',
      ],
      { input: gz },
    );
    assert.equal(py.status, 0, `python3 failed (apt-get install -y python3): ${py.stderr}`);
    const { createHash } = await import('node:crypto');
    assert.equal(
      py.stdout.toString().trim(),
      `${data.length} ${createHash('sha256').update(data).digest('hex')}`,
    );
    const t = spawnSync('gzip', ['-t'], { input: gz });
    assert.equal(t.status, 0, `gzip -t failed (apt-get install -y gzip): ${t.stderr}`);
  });

  it('fixed header: no name, mtime 0, OS 3; one block is byte-identical to zlib.gzipSync', async () => {
    const small = Buffer.from('hello\n'.repeat(100));
    const gz = await collect(gzipStream([small]));
    assert.deepEqual([...gz.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    assert.ok(gz.equals(gzipSync(small, { level: DEFAULT_GZIP_LEVEL })));
    assert.equal(DEFAULT_GZIP_LEVEL, 4);
    for (const level of [1, 6, 9])
      assert.ok(
        (await collect(gzipStream([small], { level }))).equals(gzipSync(small, { level })),
        `level ${level}`,
      );
    assert.ok((await collect(gzipStream([], {}))).equals(gzipSync(Buffer.alloc(0), { level: 4 })));
    assert.equal((await collect(gzipStream([small], { level: 9 })))[8], 2);
  });

  it('propagates an input error instead of ending the stream', async () => {
    async function* failing() {
      yield Buffer.alloc(300_000);
      throw new Error('boom');
    }
    await assert.rejects(collect(gzipStream(failing(), { blockSize: 64 * 1024 })), /boom/);
  });

  it('refuses a bad level with INVALID_ARGUMENT', async () => {
    await assert.rejects(collect(gzipStream([data], { level: 0 })), (e) =>
      isFromscratchError(e, 'INVALID_ARGUMENT'),
    );
  });

  it('checkCompressionLevel: gzip 1..9, zstd 1..19, none takes no level', () => {
    for (const [c, ok, bad] of [
      ['gzip', [1, 4, 9], [0, 10, 4.5, -1]],
      ['zstd', [1, 3, 19], [0, 20]],
    ] as const) {
      for (const l of ok) checkCompressionLevel(c, l);
      for (const l of bad)
        assert.throws(
          () => checkCompressionLevel(c, l),
          (e) => isFromscratchError(e, 'INVALID_ARGUMENT'),
          `${c} ${l}`,
        );
    }
    assert.throws(() => checkCompressionLevel('none', 1), /compression none/);
    assert.equal(defaultLevel('gzip'), DEFAULT_GZIP_LEVEL);
    assert.equal(defaultLevel('zstd'), DEFAULT_ZSTD_LEVEL);
  });
});

describe('zstdStream', () => {
  it('zstd-napi loads here, and the output round-trips and ignores input chunking', async () => {
    assert.ok(
      compressionAvailable('zstd'),
      'zstd-napi did not load; install optional dependencies (npm ci --include=optional)',
    );
    const data = sample();
    const a = await collect(zstdStream([data]));
    const b = await collect(zstdStream(chunked(data, 7777)));
    assert.ok(a.equals(b));
    assert.ok(Buffer.from(zstdDecompress(a)).equals(data));
  });
});

describe('compressStream', () => {
  it('none passes bytes through; an unknown compression is UNSUPPORTED_COMPRESSION', async () => {
    async function* one() {
      yield Buffer.from('x');
    }
    assert.equal((await collect(compressStream(one(), 'none'))).toString(), 'x');
    assert.throws(
      () => compressStream(one(), 'lz4' as never),
      (e) => isFromscratchError(e, 'UNSUPPORTED_COMPRESSION'),
    );
  });
});
