/**
 * release.ts — InRelease files: OpenPGP cleartext signature verification and the Release fields. PURE
 * (keys are passed in as bytes; openpgp does the cryptography in-process).
 *
 * https://wiki.debian.org/DebianRepository/Format#A.22Release.22_files
 */
import type * as openpgp from 'openpgp';
import { FromscratchError } from '../errors.ts';
import { parseControl } from './control.ts';

/** ReleaseFile is one line of the SHA256 field: a file of the suite with its hash and size. */
export interface ReleaseFile {
  readonly sha256: string;
  readonly size: number;
}

/** Release holds the fields of a (verified) Release text that fetching needs. */
export interface Release {
  readonly suite?: string;
  readonly codename?: string;
  /** `Origin` (Debian, Ubuntu, Node Source …) */
  readonly origin?: string;
  /** `Version` of the release (12.12), when the suite is a release */
  readonly version?: string;
  readonly date?: string;
  readonly validUntil?: string;
  readonly architectures: readonly string[];
  readonly components: readonly string[];
  /** `No-Support-for-Architecture-all: Packages`: arch `all` packages are in each binary-ARCH index */
  readonly allInArchIndexes: boolean;
  /** files by path relative to `dists/SUITE/`, from the SHA256 field */
  readonly files: ReadonlyMap<string, ReleaseFile>;
}

/** parseRelease reads a Release text (the signed content of InRelease). Throws DEB_INVALID. */
export function parseRelease(text: string, what = 'Release'): Release {
  const [p] = parseControl(text, { what });
  if (!p) throw new FromscratchError('DEB_INVALID', `parsing ${what}: it is empty`);
  const files = new Map<string, ReleaseFile>();
  for (const line of (p.get('SHA256') ?? '').split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    const m = /^([0-9a-fA-F]{64})\s+([0-9]+)\s+(\S+)$/.exec(t);
    if (!m)
      throw new FromscratchError(
        'DEB_INVALID',
        `parsing ${what}: bad SHA256 line ${JSON.stringify(t.slice(0, 100))}`,
      );
    files.set(m[3]!, { sha256: m[1]!.toLowerCase(), size: Number(m[2]) });
  }
  if (files.size === 0) {
    throw new FromscratchError('DEB_INVALID', `parsing ${what}: no SHA256 file list`, {
      hint: 'the repository must publish SHA256 hashes',
    });
  }
  const words = (f: string) => (p.get(f) ?? '').split(/\s+/).filter(Boolean);
  const r: { -readonly [K in keyof Release]: Release[K] } = {
    architectures: words('Architectures'),
    components: words('Components'),
    allInArchIndexes: (p.get('No-Support-for-Architecture-all') ?? '') === 'Packages',
    files,
  };
  for (const [k, f] of [
    ['suite', 'Suite'],
    ['codename', 'Codename'],
    ['origin', 'Origin'],
    ['version', 'Version'],
    ['date', 'Date'],
    ['validUntil', 'Valid-Until'],
  ] as const) {
    const v = p.get(f);
    if (v !== undefined) r[k] = v;
  }
  return r;
}

/** loadOpenpgp loads openpgp on first use: it takes ~0.1 s, which commands without packages need not pay. */
function loadOpenpgp(): Promise<typeof openpgp> {
  return import('openpgp');
}

/** loadKeys parses OpenPGP keyrings given as bytes (binary `.gpg` keyrings or armored `.asc`). */
export async function loadKeys(
  keyrings: readonly { name: string; data: Uint8Array }[],
): Promise<openpgp.Key[]> {
  const keys: openpgp.Key[] = [];
  const pgp = await loadOpenpgp();
  for (const k of keyrings) {
    const text = Buffer.from(k.data).toString('latin1');
    try {
      if (text.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----'))
        keys.push(...(await pgp.readKeys({ armoredKeys: text })));
      else keys.push(...(await pgp.readKeys({ binaryKeys: k.data })));
    } catch (e) {
      throw new FromscratchError('SIGNATURE_INVALID', `reading keyring ${k.name}: ${(e as Error).message}`, {
        hint: 'the keyring is not an OpenPGP public keyring (.gpg or .asc)',
        cause: e,
      });
    }
  }
  return keys;
}

/**
 * verifyInRelease checks the cleartext signature of an InRelease file against `keys` and returns the
 * signed text — only that text may be trusted, never the file around it. Throws SIGNATURE_INVALID naming
 * `what` when the file is not signed, is tampered with, or no signature is by a key of the keyrings.
 */
export async function verifyInRelease(
  data: Uint8Array,
  keys: readonly openpgp.Key[],
  what: string,
): Promise<string> {
  const bad = (why: string, cause?: unknown) =>
    new FromscratchError('SIGNATURE_INVALID', `verifying ${what}: ${why}`, {
      hint: 'the mirror or a proxy served a modified file, or the keyring is wrong (install debian-archive-keyring, or give the key with signed-by / --apt-keyring)',
      cause,
    });
  if (keys.length === 0) throw bad('no keys to verify against');
  const pgp = await loadOpenpgp();
  let message: openpgp.CleartextMessage;
  try {
    message = await pgp.readCleartextMessage({ cleartextMessage: Buffer.from(data).toString('utf8') });
  } catch (e) {
    throw bad(`not an OpenPGP cleartext-signed file: ${(e as Error).message}`, e);
  }
  let result: openpgp.VerifyMessageResult<string>;
  try {
    result = await pgp.verify({ message, verificationKeys: [...keys], format: 'utf8' });
  } catch (e) {
    throw bad((e as Error).message, e);
  }
  const failures: string[] = [];
  for (const s of result.signatures) {
    try {
      if (await s.verified) return result.data;
    } catch (e) {
      failures.push(`key ${s.keyID.toHex()}: ${(e as Error).message}`);
    }
  }
  throw bad(failures.length ? failures.join('; ') : 'no valid signature');
}
