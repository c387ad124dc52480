/**
 * zstd-frames.test.ts — the zstd frame guard (issue 15, found by the fuzzer): a frame header declaring a
 * huge content size or window is refused before fzstd allocates it, and thousands of tiny frames that each
 * declare a large buffer stop at the ratio cap. Real zstd output (the Debian zstd CLI) as the oracle that
 * ordinary streams, multi-frame streams and skippable frames still decode.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { decompressBytes, ZSTD_MAX_FRAME_ALLOC } from './decompress.ts';

/** FOUND is the fuzzer's input: 31 bytes whose single-segment frame declares 1,281,885,186 bytes. */
const FOUND = Buffer.from('28b52ffdb40204684c5a0034c9d378fa5ac5e2e004684c5a0034c9d3785f0d', 'hex');

/** frame encodes a zstd frame holding one raw block of `data`, declaring `fcs` as its content size. */
function frame(data: Buffer, fcs: number): Buffer {
  // descriptor: FCS flag 3 (8 bytes), not single segment; window descriptor 0 (1 KiB)
  const head = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xc0, 0x00]);
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(fcs));
  const block = (data.length << 3) | 1; // last block, raw
  return Buffer.concat([head, size, Buffer.from([block & 0xff, (block >> 8) & 0xff, block >> 16]), data]);
}

function zstd(args: string[], input: Buffer): Buffer {
  return execFileSync('zstd', ['-c', '-q', ...args], { input });
}

test('a frame declaring 1.3 GB is refused before it is allocated (fuzzer finding)', async () => {
  await assert.rejects(
    decompressBytes(FOUND, 'zstd', 'found'),
    (e: unknown) => isFromscratchError(e, 'TOO_LARGE') && /declares 1281885186 bytes/.test(e.message),
  );
  await assert.rejects(
    decompressBytes(frame(Buffer.from('x'), ZSTD_MAX_FRAME_ALLOC + 1), 'zstd', 'big'),
    (e: unknown) => isFromscratchError(e, 'TOO_LARGE'),
  );
});

test('many small frames that each declare a large buffer stop at the ratio cap', async () => {
  const one = frame(Buffer.from('x'), 64 * 1024 * 1024);
  const many = Buffer.concat(Array.from({ length: 200 }, () => one));
  await assert.rejects(
    decompressBytes(many, 'zstd', 'many'),
    (e: unknown) => isFromscratchError(e, 'TOO_LARGE') && /frames declare/.test(e.message),
  );
});

test('real zstd streams still decode: one frame, several frames, skippable frames, content sizes', async () => {
  const data = Buffer.alloc(3 * 1024 * 1024, 'fromscratch ');
  assert.deepEqual(await decompressBytes(zstd([], data), 'zstd', 'one'), data);
  const two = Buffer.concat([zstd([], data), zstd(['--no-content-size'], data)]);
  assert.deepEqual(await decompressBytes(two, 'zstd', 'two'), Buffer.concat([data, data]));
  // a skippable frame between two frames (one first would fail the magic-number check)
  const skippable = Buffer.concat([
    zstd([], data),
    Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]),
    zstd([], data),
  ]);
  assert.deepEqual(await decompressBytes(skippable, 'zstd', 'skippable'), Buffer.concat([data, data]));
  const small = frame(Buffer.from('hello'), 5);
  assert.equal((await decompressBytes(small, 'zstd', 'hand-made')).toString(), 'hello');
});
