/**
 * secret-file.ts — the whole secrets policy for one host file: its path (secrets.ts), its name (.env)
 * and its content (secret-content.ts). IO: reads the head of regular files.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { encodePath } from '../fs/path.ts';
import { SECRET_HEAD_BYTES, secretByName, secretInContent } from './secret-content.ts';
import { checkSecret, isAllowedSecret, type SecretOptions, type SecretVerdict } from './secrets.ts';

/**
 * checkSecretFile tells whether the host file at `path` must be refused from an image: by the path rules,
 * by name, then (for a regular file) by its first SECRET_HEAD_BYTES. A path allowed by `opts.allow` is
 * never refused. A file that cannot be read is not refused here (the layer writer reports it).
 */
export function checkSecretFile(path: string, opts: SecretOptions = {}): SecretVerdict {
  const byPath = checkSecret(path, opts);
  if (byPath.refuse || isAllowedSecret(path, opts.allow ?? [])) return byPath;
  const byName = secretByName(path);
  if (byName) return { refuse: true, reason: byName };
  const head = readHead(path);
  const reason = head ? secretInContent(head) : undefined;
  return reason ? { refuse: true, reason } : byPath;
}

function readHead(path: string): Uint8Array | undefined {
  let fd: number;
  try {
    fd = openSync(encodePath(path), constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    const buf = Buffer.alloc(SECRET_HEAD_BYTES);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
