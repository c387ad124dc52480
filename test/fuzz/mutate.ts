/**
 * mutate.ts — a seeded PRNG and byte-level mutations for the fuzz loop (AFL's havoc stage, cut down):
 * bit flips, interesting integers written at random offsets in both byte orders (sizes and offsets of
 * ELF, tar and ar headers), block deletion, duplication and insertion, splicing with another corpus entry,
 * and dictionary tokens for the text formats. Same seed → same sequence of inputs.
 */

/** Rng is a small seeded PRNG (mulberry32): deterministic, never Math.random(). */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** next returns a 32-bit unsigned integer. */
  next(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** below returns an integer in [0, n). */
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.below(a.length)]!;
  }
}

const INTERESTING = [
  0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff,
];

/** MutateOptions tunes mutate. */
export interface MutateOptions {
  /** tokens inserted or overwritten whole (keywords, magic numbers, separators) */
  dictionary?: readonly Uint8Array[];
  /** longest output (default 1 MiB) */
  maxLength?: number;
}

function writeInt(out: Uint8Array, at: number, v: number, width: number, le: boolean): void {
  for (let i = 0; i < width && at + i < out.length; i++) {
    const shift = 8 * (le ? i : width - 1 - i);
    out[at + i] = shift >= 32 ? 0 : (v >>> shift) & 0xff;
  }
}

/**
 * mutate returns a mutated copy of `input`: 1 to 8 stacked mutations drawn from `rng`, `other` being a
 * second corpus entry for splicing.
 */
export function mutate(input: Uint8Array, rng: Rng, other: Uint8Array, opts: MutateOptions = {}): Uint8Array {
  const max = opts.maxLength ?? 1024 * 1024;
  let b: Uint8Array = Uint8Array.from(input);
  const rounds = 1 << rng.below(4);
  for (let r = 0; r < rounds; r++) {
    const op = rng.below(opts.dictionary && opts.dictionary.length > 0 ? 11 : 10);
    const at = rng.below(b.length + 1);
    switch (op) {
      case 0: // flip one bit
        if (b.length > 0) b[rng.below(b.length)]! ^= 1 << rng.below(8);
        break;
      case 1: // random byte
        if (b.length > 0) b[rng.below(b.length)] = rng.below(256);
        break;
      case 2: // interesting 8-bit value
        if (b.length > 0) b[rng.below(b.length)] = rng.pick(INTERESTING) & 0xff;
        break;
      case 3: // interesting 16/32/64-bit value, either byte order
        if (b.length > 0) {
          const width = rng.pick([2, 4, 8]);
          const v = rng.pick(INTERESTING) + (rng.below(2) ? 0 : rng.below(3) - 1);
          writeInt(b, rng.below(b.length), v >>> 0, width, rng.below(2) === 0);
        }
        break;
      case 4: {
        // delete a block
        const len = 1 + rng.below(Math.max(1, Math.min(b.length - at, 64 << rng.below(6))));
        b = concat(b.subarray(0, at), b.subarray(at + len));
        break;
      }
      case 5: {
        // duplicate a block at another place
        if (b.length === 0) break;
        const from = rng.below(b.length);
        const len = 1 + rng.below(Math.min(b.length - from, 512));
        const chunk = b.slice(from, from + len);
        b = concat(b.subarray(0, at), chunk, b.subarray(at));
        break;
      }
      case 6: {
        // insert random bytes
        const len = 1 + rng.below(32);
        const chunk = new Uint8Array(len);
        for (let i = 0; i < len; i++) chunk[i] = rng.below(256);
        b = concat(b.subarray(0, at), chunk, b.subarray(at));
        break;
      }
      case 7: {
        // splice: a prefix of this input and a suffix of another
        const cut = rng.below(other.length + 1);
        b = concat(b.subarray(0, at), other.subarray(cut));
        break;
      }
      case 8: // truncate
        b = b.slice(0, at);
        break;
      case 9: {
        // overwrite a block with a repeated byte (long runs: zero padding, 0xff sizes)
        const len = 1 + rng.below(Math.min(Math.max(b.length - at, 1), 256));
        const v = rng.pick([0, 0xff, 0x20, 0x30, 0x0a]);
        for (let i = at; i < Math.min(b.length, at + len); i++) b[i] = v;
        break;
      }
      default: {
        // dictionary token, inserted or overwriting
        const tok = rng.pick(opts.dictionary!);
        if (rng.below(2) === 0) b = concat(b.subarray(0, at), tok, b.subarray(at));
        else {
          b = b.length >= at + tok.length ? b : concat(b, new Uint8Array(at + tok.length - b.length));
          b.set(tok, at);
        }
      }
    }
    if (b.length > max) b = b.slice(0, max);
  }
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
