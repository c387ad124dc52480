/**
 * secret-content.ts — secrets recognised by what a file holds, not by its name (issue 15.9): private keys
 * in PEM or OpenSSH form (`server.key`, `id_ed25519` outside `.ssh/`, a `.pem` anywhere), private JSON Web
 * Keys (Docker's `/etc/docker/key.json`), and the token formats of the common services. PURE.
 *
 * Only the head of a file is looked at (SECRET_HEAD_BYTES): keys and token files are small. ELF files are
 * not looked into (their bytes are code; a token compiled into a program is the program's business).
 */

/** SECRET_HEAD_BYTES is how much of a file the content check reads. */
export const SECRET_HEAD_BYTES = 64 * 1024;

interface ContentRule {
  readonly test: RegExp;
  readonly reason: string;
}

/**
 * KEY_BODY follows an armour header when a key follows it: a line break, or an escaped one (`\\n`, a
 * key inside a JSON string such as a service account's). A header named as a string (ImageMagick's
 * mime.xml matches files by `pattern="-----BEGIN PGP PRIVATE KEY BLOCK-----"`) is not a key.
 */
const KEY_BODY = String.raw`(?:\r?\n|\\(?:r\\)?n|[ \t]*$)`;

const RULES: readonly ContentRule[] = [
  {
    test: new RegExp(`-----BEGIN (?:(?:RSA|DSA|EC|OPENSSH|ENCRYPTED|ANY) )?PRIVATE KEY-----${KEY_BODY}`, 'm'),
    reason: 'a private key (PEM or OpenSSH)',
  },
  {
    test: new RegExp(`-----BEGIN PGP PRIVATE KEY BLOCK-----${KEY_BODY}`, 'm'),
    reason: 'an OpenPGP private key',
  },
  { test: /PuTTY-User-Key-File-\d+:/, reason: 'a PuTTY private key' },
  {
    test: /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{60,}/,
    reason: 'a GitHub token',
  },
  { test: /\bglpat-[A-Za-z0-9_-]{20}\b/, reason: 'a GitLab token' },
  { test: /\bnpm_[A-Za-z0-9]{36}\b/, reason: 'an npm token' },
  { test: /\bxox[abprs]-[A-Za-z0-9-]{10,}/, reason: 'a Slack token' },
  { test: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/, reason: 'an AWS access key' },
  { test: /\bsk_live_[0-9A-Za-z]{24,}/, reason: 'a Stripe secret key' },
  { test: /\bAIza[0-9A-Za-z_-]{35}\b/, reason: 'a Google API key' },
];

/** a JSON Web Key with a private member: {"kty": "EC"|"RSA"|"OKP", …, "d": "…"} */
const JWK_KTY = /"kty"\s*:\s*"(?:RSA|EC|OKP)"/;
const JWK_D = /"d"\s*:\s*"[A-Za-z0-9_-]{16,}/;

/**
 * secretInContent returns why the bytes `head` (the start of a file) hold a secret, or undefined.
 *
 * @example secretInContent(Buffer.from('-----BEGIN OPENSSH PRIVATE KEY-----\n…')) // 'a private key (PEM or OpenSSH)'
 */
export function secretInContent(head: Uint8Array): string | undefined {
  if (head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46)
    return undefined;
  const text = Buffer.from(head.buffer, head.byteOffset, Math.min(head.length, SECRET_HEAD_BYTES)).toString(
    'latin1',
  );
  for (const r of RULES) if (r.test.test(text)) return r.reason;
  if (JWK_KTY.test(text) && JWK_D.test(text)) return 'a private JSON Web Key';
  return undefined;
}

/** a `.env` file of an app (not its committed example) holds the app's secrets */
const DOTENV = /(^|\/)\.env(\.(?!example$|sample$|template$|dist$|defaults$)[^/]+)?$/;

/** secretByName returns why a path's name alone marks an app secret the path rules do not cover, or undefined. */
export function secretByName(path: string): string | undefined {
  return DOTENV.test(path) ? 'an environment file (.env) with app secrets' : undefined;
}
