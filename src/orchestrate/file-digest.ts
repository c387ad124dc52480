/**
 * file-digest.ts — the SHA-256 (and, when asked, MD5) of a host file, read once per process: the
 * registry cache's closure check, the layer content key and the package credit of host files all want
 * the digest of the same large files (a 100 MB program), so each file is read once, in large chunks,
 * and the digests are kept by its stat data (size, mtime, ctime, inode, device) for the process.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

/** CHUNK is the read size: large reads keep a 100 MB file to a hundred reads and little garbage. */
const CHUNK = 1024 * 1024;

/** FileDigests are the hex digests of one file's bytes. */
export interface FileDigests {
  readonly sha256: string;
  readonly md5?: string;
}

const memo = new Map<string, Promise<FileDigests>>();

/**
 * fileDigests returns the SHA-256 of a host file (and its MD5 with `md5`), reading it at most once per
 * process while its stat data stays the same. Throws what stat and read throw.
 */
export async function fileDigests(path: string | Buffer, o: { md5?: boolean } = {}): Promise<FileDigests> {
  const s = await stat(path, { bigint: true });
  const key = [Buffer.from(path).toString('hex'), s.size, s.mtimeNs, s.ctimeNs, s.ino, s.dev].join(':');
  const known = memo.get(key);
  if (known) {
    const d = await known;
    if (d.md5 !== undefined || !o.md5) return d;
  }
  const p = (async (): Promise<FileDigests> => {
    const sha = createHash('sha256');
    const md5 = o.md5 ? createHash('md5') : undefined;
    for await (const c of createReadStream(path, { highWaterMark: CHUNK })) {
      sha.update(c as Buffer);
      md5?.update(c as Buffer);
    }
    return { sha256: sha.digest('hex'), ...(md5 ? { md5: md5.digest('hex') } : {}) };
  })();
  memo.set(key, p);
  p.catch(() => memo.delete(key));
  return p;
}
