/**
 * check-output.ts — checkOutput: can an output be written at all? Run before any work (a build checks
 * every `-o` first), so that an unwritable or non-layout target fails in a moment instead of after the
 * layers are built. The sinks check again when they write (the file system may change in between).
 */
import { constants } from 'node:fs';
import { access, lstat, readdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { TEMP_FILE_RE } from '../blob/temp-files.ts';
import { FromscratchError, isFromscratchError } from '../errors.ts';
import { checkOutputFile } from './archive-file.ts';
import { formatImageRef, type ImageRef } from './transport.ts';

const LOCK_NAME = '.fromscratch.lock';

function unwritable(ref: ImageRef, reason: string, hint: string, cause?: unknown): FromscratchError {
  return new FromscratchError('OUTPUT_UNWRITABLE', `cannot write ${formatImageRef(ref)}: ${reason}`, {
    hint,
    ...(cause === undefined ? {} : { cause }),
  });
}

async function lstatOrNull(p: string) {
  try {
    return await lstat(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw e;
  }
}

/** writableDir checks that `dir`, or the nearest directory above it that exists, can be written. */
async function writableDir(ref: ImageRef, dir: string, what: string, hint: string): Promise<void> {
  let d = resolve(dir);
  for (;;) {
    let st: Awaited<ReturnType<typeof lstatOrNull>>;
    try {
      st = await lstatOrNull(d);
    } catch (e) {
      throw unwritable(ref, `${what} ${d}: ${(e as Error).message}`, hint, e);
    }
    if (st !== null) {
      if (!st.isDirectory() && !st.isSymbolicLink())
        throw unwritable(ref, `${d} is not a directory, so ${what} cannot be made there`, hint);
      try {
        await access(d, constants.W_OK | constants.X_OK);
      } catch (e) {
        throw unwritable(ref, `${what} ${d} is not writable (${(e as NodeJS.ErrnoException).code})`, hint, e);
      }
      return;
    }
    const up = dirname(d);
    if (up === d) return;
    d = up;
  }
}

/**
 * checkOutput checks, without writing anything, that an output can be written: an `oci:DIR` must be an
 * OCI layout, an empty directory or a path that can be created; an archive must be a regular file (or
 * nothing) in a writable directory that exists. Registries and the Docker Engine are checked when they
 * are written. Throws OUTPUT_UNWRITABLE naming the output and the reason, with a hint.
 * @example await checkOutput(parseOutputRef('oci:out:1'))
 */
export async function checkOutput(ref: ImageRef): Promise<void> {
  switch (ref.kind) {
    case 'oci': {
      const hint =
        'write to a new directory, an empty one or an existing OCI layout (one with an oci-layout file) you can write';
      const st = await lstatOrNull(ref.dir).catch((e: unknown) => {
        throw unwritable(ref, (e as Error).message, hint, e);
      });
      if (st === null) return writableDir(ref, dirname(resolve(ref.dir)), 'its parent directory', hint);
      if (st.isSymbolicLink())
        throw unwritable(ref, `${ref.dir} is a symlink (refused: it could point anywhere)`, hint);
      if (!st.isDirectory()) throw unwritable(ref, `${ref.dir} exists and is not a directory`, hint);
      let names: string[];
      try {
        names = (await readdir(ref.dir)).filter((n) => n !== LOCK_NAME && !TEMP_FILE_RE.test(n));
      } catch (e) {
        throw unwritable(ref, `${ref.dir}: ${(e as Error).message}`, hint, e);
      }
      if (names.length > 0 && !names.includes('oci-layout'))
        throw unwritable(ref, `${ref.dir} is not empty and is not an OCI layout (no oci-layout file)`, hint);
      return writableDir(ref, ref.dir, 'the layout directory', hint);
    }
    case 'oci-archive':
    case 'docker-archive': {
      const hint = 'write the archive into a directory that exists and that you can write';
      try {
        await checkOutputFile(ref.file);
      } catch (e) {
        if (!isFromscratchError(e)) throw e;
        throw unwritable(ref, e.message, e.hint ?? hint, e);
      }
      const parent = dirname(resolve(ref.file));
      const st = await lstatOrNull(parent).catch(() => null);
      if (st === null || !st.isDirectory())
        throw unwritable(
          ref,
          `the directory ${parent} does not exist`,
          `create it first (mkdir -p ${parent})`,
        );
      return writableDir(ref, parent, 'the directory', hint);
    }
    case 'docker-daemon':
    case 'registry':
      return;
  }
}
