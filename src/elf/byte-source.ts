/**
 * byte-source.ts — bounds-checked access to the bytes of an ELF file, whole or partly read. PURE.
 *
 * The parser never indexes a Uint8Array directly: every access names what it reads and goes through
 * {@link ElfSource}, which checks `offset + length <= size` before anything is allocated or read
 * (RELIABILITY.md G3/G4). A partial source (read-elf.ts) holds only the ranges read so far and throws
 * {@link MissingBytes} for the rest, so the same pure parser can drive cheap positioned reads.
 */
import { FromscratchError } from '../errors.ts';

/** MALFORMED_HINT is the hint of every malformed-ELF error. */
export const MALFORMED_HINT =
  'the file is truncated, corrupt or not a real object file; inspect it with `readelf -a FILE`, or leave it out of the image';

/** malformedElf returns the FromscratchError for a malformed part of an ELF file ("malformed ELF <what>: <why>"). */
export function malformedElf(what: string, why: string): FromscratchError {
  return new FromscratchError('MALFORMED_ELF', `malformed ELF ${what}: ${why}`, { hint: MALFORMED_HINT });
}

/**
 * MissingBytes is thrown by a partial source for bytes it does not hold yet; readElf reads them and
 * parses again. It never escapes read-elf.ts (a whole-file source never throws it).
 */
export class MissingBytes extends Error {
  readonly offset: number;
  readonly length: number;
  constructor(offset: number, length: number) {
    super(`bytes ${offset}+${length} not read yet`);
    this.name = 'MissingBytes';
    this.offset = offset;
    this.length = length;
  }
}

/** ElfView is a DataView holding a requested range, and where that range starts in it. */
export interface ElfView {
  readonly dv: DataView;
  readonly at: number;
}

/** ElfSource gives bounds-checked access to the bytes of one file of `size` bytes. */
export interface ElfSource {
  readonly size: number;
  /** view returns a DataView covering [off, off+len); throws MALFORMED_ELF naming `what` past the end. */
  view(off: number, len: number, what: string): ElfView;
  /** bytes returns the bytes [off, off+len) (a view, not a copy); same checks as view. */
  bytes(off: number, len: number, what: string): Uint8Array;
}

/** inFile tells whether [off, off+len) lies inside a file of `size` bytes (false for NaN, negatives, overflow). */
export function inFile(off: number, len: number, size: number): boolean {
  return off >= 0 && len >= 0 && off + len <= size && Number.isSafeInteger(off + len);
}

/** checkRange throws MALFORMED_ELF unless [off, off+len) lies inside the file. */
export function checkRange(off: number, len: number, size: number, what: string): void {
  if (!inFile(off, len, size)) {
    throw malformedElf(
      what,
      `offset ${fmt(off)} length ${fmt(len)} extends past the end of the file (${size} bytes)`,
    );
  }
}

function fmt(n: number): string {
  return Number.isSafeInteger(n) && n >= 0 ? `0x${n.toString(16)}` : String(n);
}

/** wholeSource returns an ElfSource over all the bytes of a file. */
export function wholeSource(bytes: Uint8Array): ElfSource {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = bytes.byteLength;
  return {
    size,
    view(off, len, what) {
      checkRange(off, len, size, what);
      return { dv, at: off };
    },
    bytes(off, len, what) {
      checkRange(off, len, size, what);
      return bytes.subarray(off, off + len);
    },
  };
}

/** Chunk is one range of a partly read file. */
export interface Chunk {
  readonly start: number;
  readonly data: Uint8Array;
}

/**
 * partialSource returns an ElfSource over the chunks read so far of a file of `size` bytes; a range
 * inside the file but not inside one chunk throws {@link MissingBytes}.
 */
export function partialSource(size: number, chunks: readonly Chunk[]): ElfSource {
  const views = chunks.map((c) => new DataView(c.data.buffer, c.data.byteOffset, c.data.byteLength));
  const find = (off: number, len: number, what: string): number => {
    checkRange(off, len, size, what);
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      if (off >= c.start && off + len <= c.start + c.data.byteLength) return i;
    }
    throw new MissingBytes(off, len);
  };
  return {
    size,
    view(off, len, what) {
      const i = find(off, len, what);
      return { dv: views[i]!, at: off - chunks[i]!.start };
    },
    bytes(off, len, what) {
      const c = chunks[find(off, len, what)]!;
      return c.data.subarray(off - c.start, off - c.start + len);
    },
  };
}
