/**
 * verify.test.ts — verifyStream at its boundaries (issue 17, RELIABILITY.md 1): exact, one byte short,
 * one byte long, the same size with one byte changed, an unknown size, the empty blob, and a source
 * that never ends — which must be abandoned as soon as it passes the expected size (a source that counts
 * what it was asked for fails the test instead of hanging it).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it, test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import type { Digest } from '../model/digest.ts';
import { verifyStream } from './verify.ts';

function digestOf(b: Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest;
}

/** chunks splits bytes into chunks of `n` (the last one shorter). */
function* chunks(b: Uint8Array, n: number): Generator<Uint8Array> {
  for (let i = 0; i < b.length; i += n) yield b.subarray(i, i + n);
}

async function drain(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

const DATA = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz'.repeat(30)); // 1080 bytes
const D = digestOf(DATA);

describe('verifyStream', () => {
  for (const size of [1, 7, 512, DATA.length]) {
    it(`passes the exact bytes through, in chunks of ${size}`, async () => {
      const out = await drain(verifyStream(chunks(DATA, size), { digest: D, size: DATA.length }));
      assert.deepEqual(out, DATA);
    });
  }

  it('one byte short is SIZE_MISMATCH naming both sizes and the blob', async () => {
    const short = DATA.subarray(0, DATA.length - 1);
    await assert.rejects(
      drain(verifyStream(chunks(short, 100), { digest: D, size: DATA.length }, 'layer x')),
      (e) =>
        isFromscratchError(e, 'SIZE_MISMATCH') &&
        e.message.includes('layer x') &&
        e.message.includes(`got ${DATA.length - 1} bytes`) &&
        e.message.includes(String(DATA.length)),
    );
  });

  it('one byte long is SIZE_MISMATCH, even when the chunk that passes the size is the last', async () => {
    const long = Buffer.concat([DATA, Buffer.from('!')]);
    for (const n of [1, 100, long.length]) {
      await assert.rejects(drain(verifyStream(chunks(long, n), { digest: D, size: DATA.length })), (e) =>
        isFromscratchError(e, 'SIZE_MISMATCH'),
      );
    }
  });

  it('yields nothing past the expected size: the bytes after the limit never reach the consumer', async () => {
    const long = Buffer.concat([DATA, Buffer.from('EXTRA')]);
    const got: Uint8Array[] = [];
    await assert.rejects(async () => {
      for await (const c of verifyStream(chunks(long, 1), { digest: D, size: DATA.length })) got.push(c);
    });
    assert.equal(Buffer.concat(got).length, DATA.length);
  });

  it('stops reading a source that never ends as soon as it passed the size', async () => {
    let pulled = 0;
    function* endless(): Generator<Uint8Array> {
      for (;;) {
        pulled += 1;
        // a hung verifier would pull forever: fail the test instead
        if (pulled > 10_000) throw new Error('verifyStream kept reading past the expected size');
        yield Buffer.alloc(64, 0x61);
      }
    }
    await assert.rejects(drain(verifyStream(endless(), { digest: D, size: 1000 })), (e) =>
      isFromscratchError(e, 'SIZE_MISMATCH'),
    );
    assert.equal(pulled, Math.floor(1000 / 64) + 1, 'one chunk past the size, and not one more');
  });

  it('the same size with one byte changed is DIGEST_MISMATCH', async () => {
    for (const at of [0, 500, DATA.length - 1]) {
      const bad = Buffer.from(DATA);
      bad[at] = bad[at]! ^ 1;
      await assert.rejects(
        drain(verifyStream(chunks(bad, 64), { digest: D, size: DATA.length })),
        (e) => isFromscratchError(e, 'DIGEST_MISMATCH') && e.message.includes(digestOf(bad)),
      );
    }
  });

  it('with the size unknown, the digest alone decides', async () => {
    assert.deepEqual(await drain(verifyStream(chunks(DATA, 50), { digest: D })), DATA);
    await assert.rejects(drain(verifyStream(chunks(DATA.subarray(1), 50), { digest: D })), (e) =>
      isFromscratchError(e, 'DIGEST_MISMATCH'),
    );
    await assert.rejects(drain(verifyStream(chunks(Buffer.concat([DATA, DATA]), 50), { digest: D })), (e) =>
      isFromscratchError(e, 'DIGEST_MISMATCH'),
    );
  });

  it('the empty blob: size 0 passes, one byte fails, and the empty stream fails a non-empty descriptor', async () => {
    const E = digestOf(new Uint8Array(0));
    assert.equal((await drain(verifyStream([], { digest: E, size: 0 }))).length, 0);
    await assert.rejects(drain(verifyStream([Buffer.from('x')], { digest: E, size: 0 })), (e) =>
      isFromscratchError(e, 'SIZE_MISMATCH'),
    );
    await assert.rejects(drain(verifyStream([], { digest: D, size: DATA.length })), (e) =>
      isFromscratchError(e, 'SIZE_MISMATCH'),
    );
    await assert.rejects(drain(verifyStream([new Uint8Array(0)], { digest: D, size: 0 })), (e) =>
      isFromscratchError(e, 'DIGEST_MISMATCH'),
    );
  });
});

test('each failure names the blob and the sizes or digest it found, and says what to do (STYLE.md §5)', async () => {
  const cases: [Iterable<Uint8Array>, { digest: Digest; size?: number }, RegExp, RegExp][] = [
    [
      [DATA, Buffer.from('!')],
      { digest: D, size: DATA.length },
      /^blob b: size mismatch: more than the expected 1080 bytes$/,
      /modified.*fetch or rebuild/,
    ],
    [
      [DATA.subarray(1)],
      { digest: D, size: DATA.length },
      /^blob b: size mismatch: got 1079 bytes, expected 1080$/,
      /truncated.*fetch or rebuild/,
    ],
    [
      [DATA.subarray(1)],
      { digest: D },
      new RegExp(`^blob b: digest mismatch: content hashes to ${digestOf(DATA.subarray(1))}$`),
      /corrupt.*fetch or rebuild/,
    ],
  ];
  for (const [source, expected, message, hint] of cases) {
    await assert.rejects(drain(verifyStream(source, expected, 'blob b')), (e) => {
      assert.ok(isFromscratchError(e));
      assert.match(e.message, message);
      assert.match(e.hint ?? '', hint);
      return true;
    });
  }
});
