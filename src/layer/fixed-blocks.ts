/**
 * fixed-blocks.ts — re-cuts a byte stream into fixed-size blocks, so that what is computed per block
 * (compression) depends on the bytes only, never on how the producer happened to chunk them. PURE.
 */

/** FixedBlock is one block of a stream: full-size unless it is the last one. */
export interface FixedBlock {
  readonly data: Buffer;
  /** true for the final block, which holds the remaining 0..size-1 bytes (possibly none) */
  readonly last: boolean;
}

/**
 * fixedBlocks yields the input as blocks of exactly `size` bytes, then one final block (`last: true`)
 * with the rest, which is empty when the input length is a multiple of `size`. The block boundaries
 * depend only on the total length. A yielded buffer is either fresh or a view of an input chunk, so
 * the producer must not reuse its buffers (writeTar and readHostFile never do); the consumer may keep them.
 */
export async function* fixedBlocks(
  input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  size: number,
): AsyncGenerator<FixedBlock> {
  if (!Number.isSafeInteger(size) || size <= 0)
    throw new Error(`block size ${size} must be a positive integer`);
  let buf = Buffer.allocUnsafe(size);
  let fill = 0;
  for await (const chunk of input) {
    let off = 0;
    while (off < chunk.byteLength) {
      // whole blocks straight from a large chunk, without copying through buf
      if (fill === 0 && chunk.byteLength - off >= size) {
        yield { data: Buffer.from(chunk.buffer, chunk.byteOffset + off, size), last: false };
        off += size;
        continue;
      }
      const n = Math.min(size - fill, chunk.byteLength - off);
      buf.set(chunk.subarray(off, off + n), fill);
      fill += n;
      off += n;
      if (fill === size) {
        yield { data: buf, last: false };
        buf = Buffer.allocUnsafe(size);
        fill = 0;
      }
    }
  }
  yield { data: buf.subarray(0, fill), last: true };
}
