/**
 * copy-image-child.ts — a child process for crash and concurrency tests: copies SRC to DEST with
 * readImage/writeImage, prints "writing" when the source is read and the write begins, then "done" and
 * exits 0 (or prints the error code and exits 1). The crash tests kill it between the two markers.
 *   node --import tsx test/support/copy-image-child.ts SRC DEST
 */
import { isFromscratchError } from '../../src/errors.ts';
import { readImage, writeImage } from '../../src/oci/image-io.ts';

const [src, dest] = process.argv.slice(2);
if (!src || !dest) throw new Error('usage: copy-image-child.ts SRC DEST');
try {
  const set = await readImage(src);
  try {
    process.stdout.write('writing\n');
    await writeImage(dest, set.images, set.store);
  } finally {
    await set.close();
  }
  process.stdout.write('done\n');
} catch (e) {
  process.stdout.write(`${isFromscratchError(e) ? e.code : 'BUG'} ${(e as Error).message}\n`);
  process.exitCode = 1;
}
