/**
 * digest.ts — content digests. PURE (node:crypto hashing only, no I/O).
 * https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests
 */
import { createHash } from 'node:crypto';
import { FromscratchError } from '../errors.ts';

/** Digest is a validated `sha256:<64 lowercase hex>` string. */
export type Digest = `sha256:${string}` & { readonly __brand: 'Digest' };

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/**
 * parseDigest validates s before it is used in any path or URL (CVE-2024-3727).
 * Throws FromscratchError('INVALID_DIGEST') on anything but sha256 with 64 lowercase hex digits.
 */
export function parseDigest(s: unknown): Digest {
  if (typeof s !== 'string' || !DIGEST_RE.test(s)) {
    const shown = typeof s === 'string' ? JSON.stringify(s.slice(0, 100)) : String(s);
    throw new FromscratchError('INVALID_DIGEST', `invalid digest ${shown}`, {
      hint: 'digests must be "sha256:" followed by 64 lowercase hex digits',
    });
  }
  return s as Digest;
}

/** isDigest tells whether s is a valid sha256 digest string. */
export function isDigest(s: unknown): s is Digest {
  return typeof s === 'string' && DIGEST_RE.test(s);
}

/** sha256 hashes bytes into a Digest. */
export function sha256(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;
}

/** digestHex returns the 64 hex digits of a digest (safe to use as a file name). */
export function digestHex(d: Digest): string {
  return d.slice(7);
}

/** Hasher incrementally hashes a stream and counts its bytes. */
export interface Hasher {
  update(chunk: Uint8Array): void;
  /** the digest and byte count so far; call once */
  digest(): { digest: Digest; size: number };
}

/** newHasher returns a sha256 Hasher. */
export function newHasher(): Hasher {
  const h = createHash('sha256');
  let size = 0;
  return {
    update(chunk) {
      h.update(chunk);
      size += chunk.byteLength;
    },
    digest() {
      return { digest: `sha256:${h.digest('hex')}` as Digest, size };
    },
  };
}
