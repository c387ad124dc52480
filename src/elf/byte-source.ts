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

/** ByteRange is a range of a file: `length` bytes at `offset`. */
export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

/**
 * MissingBytes is thrown by a partial source for bytes it does not hold yet; readElf reads them and
 * parses again. It never escapes read-elf.ts (a whole-file source never throws it).
 */
export class MissingBytes extends Error {
  readonly ranges: readonly ByteRange[];
  constructor(ranges: readonly ByteRange[]) {
    // thrown on every partial-read round of a big file and always caught by readElf: no stack trace
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`bytes ${ranges.map((r) => `${r.offset}+${r.length}`).join(', ')} not read yet`);
    Error.stackTraceLimit = limit;
    this.name = 'MissingBytes';
    this.ranges = ranges;
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
  /**
   * prefetch announces ranges about to be read, so that a partial source asks for all of them in one
   * round (it throws MissingBytes listing those it lacks). Ranges outside the file are ignored here:
   * the read itself reports them. A whole source does nothing.
   */
  prefetch(ranges: readonly ByteRange[]): void;
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
    prefetch() {
      // everything is here
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
  const holding = (off: number, len: number): number => {
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      if (off >= c.start && off + len <= c.start + c.data.byteLength) return i;
    }
    return -1;
  };
  const find = (off: number, len: number, what: string): number => {
    checkRange(off, len, size, what);
    const i = holding(off, len);
    if (i < 0) throw new MissingBytes([{ offset: off, length: len }]);
    return i;
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
    prefetch(ranges) {
      const missing = ranges.filter(
        (r) => r.length > 0 && inFile(r.offset, r.length, size) && holding(r.offset, r.length) < 0,
      );
      if (missing.length > 0) throw new MissingBytes(missing);
    },
  };
}
