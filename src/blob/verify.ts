/**
 * verify.ts — a verifying pass-through for byte streams (umoci pkg/hardening/verified_reader.go).
 */
import { FromscratchError } from '../errors.ts';
import { type Digest, newHasher } from '../model/digest.ts';

/**
 * verifyStream yields the chunks of `source` while hashing them, and throws at EOF when the digest or
 * size differ from `expected`. It stops reading as soon as more than `size` bytes arrived (SIZE_MISMATCH),
 * so a hostile source cannot make it read without bound. `what` names the blob in messages.
 */
export async function* verifyStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  expected: { digest: Digest; size?: number | undefined },
  what: string = expected.digest,
): AsyncGenerator<Uint8Array> {
  const h = newHasher();
  let n = 0;
  for await (const chunk of source) {
    n += chunk.byteLength;
    if (expected.size !== undefined && n > expected.size) {
      throw new FromscratchError(
        'SIZE_MISMATCH',
        `${what}: size mismatch: more than the expected ${expected.size} bytes`,
        {
          hint: 'the blob was modified or the descriptor is wrong; fetch or rebuild it',
        },
      );
    }
    h.update(chunk);
    yield chunk;
  }
  if (expected.size !== undefined && n !== expected.size) {
    throw new FromscratchError(
      'SIZE_MISMATCH',
      `${what}: size mismatch: got ${n} bytes, expected ${expected.size}`,
      {
        hint: 'the blob is truncated or the descriptor is wrong; fetch or rebuild it',
      },
    );
  }
  const got = h.digest().digest;
  if (got !== expected.digest) {
    throw new FromscratchError('DIGEST_MISMATCH', `${what}: digest mismatch: content hashes to ${got}`, {
      hint: 'the blob is corrupt or was tampered with; fetch or rebuild it',
    });
  }
}
