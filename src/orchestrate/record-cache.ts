/**
 * record-cache.ts — build records kept on this machine, keyed by the image's manifest digest, so that
 * `why` and `sbom` can explain images sent to a daemon, an archive or a registry.
 */
import { link, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tempName, writeFileAtomic } from '../blob/dir-store.ts';
import { FromscratchError } from '../errors.ts';
import { type Digest, digestHex, parseDigest } from '../model/digest.ts';
import { cacheDir } from './cache-dir.ts';
import type { BuildRecord } from './record.ts';

const MAX_RECORD_BYTES = 256 * 1024 * 1024;

function recordPath(dir: string, digest: Digest): string {
  return join(dir, 'records', 'sha256', `${digestHex(parseDigest(digest))}.json`);
}

/**
 * writeRecord stores a record under the manifest digest it describes (atomic; idempotent), and under
 * each of `also` (the config digest: the Docker Engine keeps the config, not the manifest) as a hard
 * link to the same file where the filesystem allows, else a copy.
 */
export async function writeRecord(
  record: BuildRecord,
  digest: Digest,
  dir: string = cacheDir(),
  also: readonly Digest[] = [],
): Promise<void> {
  const p = recordPath(dir, digest);
  await mkdir(join(p, '..'), { recursive: true });
  // a local cache file, not a digest-bearing document: the native encoder (canonicalJson costs ~0.1 s
  // per write for a node image's record, on every rebuild)
  const bytes = Buffer.from(JSON.stringify({ ...record, manifestDigest: digest }));
  await writeFileAtomic(p, bytes, { fsync: false });
  for (const d of also) {
    const q = recordPath(dir, d);
    const tmp = join(q, '..', tempName('r'));
    try {
      await link(p, tmp);
      await rename(tmp, q);
      // rename between two links of one file does nothing: the temporary name must not stay
      await rm(tmp, { force: true });
    } catch {
      await rm(tmp, { force: true });
      await writeFileAtomic(q, bytes, { fsync: false });
    }
  }
}

/** readRecord returns the record of a manifest digest, or undefined when this machine has none. */
export async function readRecord(digest: Digest, dir: string = cacheDir()): Promise<BuildRecord | undefined> {
  let text: string;
  try {
    const buf = await readFile(recordPath(dir, digest));
    if (buf.byteLength > MAX_RECORD_BYTES)
      throw new FromscratchError('TOO_LARGE', `build record of ${digest} is too large`);
    text = buf.toString('utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return parseRecord(
    text,
    `the build record of ${digest} in ${dir}`,
    `delete ${recordPath(dir, digest)} and rebuild the image`,
  );
}

/** parseRecord parses a build record's JSON; INVALID_IMAGE naming `what` when it is not one. */
export function parseRecord(text: string, what: string, hint: string): BuildRecord {
  try {
    const r = JSON.parse(text) as BuildRecord;
    if (r.version !== 1 || !Array.isArray(r.files)) throw new Error('unknown record version');
    return r;
  } catch (e) {
    throw new FromscratchError('INVALID_IMAGE', `${what} is corrupt`, { hint, cause: e });
  }
}
