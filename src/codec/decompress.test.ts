/**
 * decompress.test.ts — the shared decoder: formats, magic-number checks (B4), caps (B1/B2/H3), corrupt
 * input, and a source's own error winning over the decoder's complaint (B3).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { FromscratchError, isFromscratchError } from '../errors.ts';
import { decompressBytes, decompressStream, sniffCompression } from './decompress.ts';

const code = (c: string, re?: RegExp) => (e: unknown) =>
  isFromscratchError(e, c as never) && (re === undefined || re.test((e as Error).message));

test('sniffCompression knows the magic numbers', () => {
  assert.equal(sniffCompression(gzipSync('x')), 'gzip');
  assert.equal(sniffCompression(Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0)), 'zstd');
  assert.equal(sniffCompression(Uint8Array.of(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)), 'xz');
  assert.equal(sniffCompression(Uint8Array.of(0x04, 0x22, 0x4d, 0x18)), 'lz4');
  assert.equal(sniffCompression(Buffer.from('BZh91AY&SY')), 'bzip2');
  assert.equal(sniffCompression(Buffer.from('hello')), 'none');
  assert.equal(sniffCompression(new Uint8Array(0)), 'none');
});

test('gzip round trip, declared and auto, in chunks of any size', async () => {
  const data = Buffer.alloc(100_000, 'abc');
  const gz = gzipSync(data);
  assert.deepEqual(await decompressBytes(gz, 'gzip', 't'), data);
  assert.deepEqual(await decompressBytes(gz, 'auto', 't'), data);
  const bytes = [...gz].map((b) => Uint8Array.of(b)); // one byte at a time: the magic spans chunks
  const out: Uint8Array[] = [];
  for await (const c of decompressStream(bytes, 'gzip', 't')) out.push(c);
  assert.deepEqual(Buffer.concat(out), data);
  assert.deepEqual(await decompressBytes(Buffer.from('plain'), 'auto', 't'), Buffer.from('plain'));
});

test('B4: a declaration the magic number contradicts is INVALID_COMPRESSION', async () => {
  const gz = gzipSync('x');
  await assert.rejects(
    decompressBytes(gz, 'zstd', 'L'),
    code('INVALID_COMPRESSION', /L: declared zstd but the bytes are gzip/),
  );
  await assert.rejects(
    decompressBytes(gz, 'none', 'L'),
    code('INVALID_COMPRESSION', /declared none but the bytes are gzip/),
  );
  await assert.rejects(
    decompressBytes(Buffer.from('tar'), 'gzip', 'L'),
    code('INVALID_COMPRESSION', /not compressed/),
  );
  // checkMagic false decodes as declared: a plain tar that starts with magic bytes is still a tar
  assert.deepEqual(await decompressBytes(gz, 'none', 'L', { checkMagic: false }), gz);
});

test('corrupt data is INVALID_COMPRESSION naming the format', async () => {
  const bad = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]);
  await assert.rejects(decompressBytes(bad, 'gzip', 'L'), code('INVALID_COMPRESSION', /corrupt gzip/));
  const badZstd = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff]);
  await assert.rejects(decompressBytes(badZstd, 'zstd', 'L'), code('INVALID_COMPRESSION', /corrupt zstd/));
  const badXz = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3, 4, 5, 6, 7, 8]);
  await assert.rejects(decompressBytes(badXz, 'xz', 'L'), code('INVALID_COMPRESSION', /corrupt xz/));
  await assert.rejects(
    decompressBytes(Buffer.from([4, 0x22, 0x4d, 0x18, 0]), 'lz4', 'L'),
    code('INVALID_COMPRESSION', /corrupt lz4/),
  );
  await assert.rejects(
    decompressBytes(Buffer.from('BZh91AY&SY'), 'bzip2', 'L'),
    code('UNSUPPORTED_COMPRESSION', /bzip2/),
  );
});

test('B1/B2: bombs stop at the absolute and the ratio caps', async () => {
  const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024));
  await assert.rejects(
    decompressBytes(bomb, 'gzip', 'bomb', { maxBytes: 1024 * 1024 }),
    code('TOO_LARGE', /bomb decompresses to more than 1048576 bytes/),
  );
  await assert.rejects(
    decompressBytes(bomb, 'gzip', 'bomb', { maxRatio: 100, ratioFloor: 1024 * 1024 }),
    code('TOO_LARGE', /times its compressed size.*ratio/),
  );
  // no ratio cap at all
  assert.equal(
    (await decompressBytes(bomb, 'gzip', 'bomb', { maxRatio: Number.POSITIVE_INFINITY, ratioFloor: 0 }))
      .length,
    8 * 1024 * 1024,
  );
});

test('B3: an error of the source wins over the decompression error it caused', async () => {
  const gz = gzipSync(Buffer.alloc(10_000, 'z'));
  const flipped = Buffer.from(gz);
  flipped[20] = flipped[20]! ^ 0xff;
  async function* verified(): AsyncGenerator<Uint8Array> {
    yield flipped.subarray(0, 30);
    yield flipped.subarray(30);
    throw new FromscratchError('DIGEST_MISMATCH', 'blob hashes wrong');
  }
  await assert.rejects(async () => {
    for await (const _ of decompressStream(verified(), 'gzip', 'L')) {
      /* drain */
    }
  }, code('DIGEST_MISMATCH'));
});
