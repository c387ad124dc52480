/**
 * root-dir.ts — create a directory inside an unpacked root, as the container will see it, never outside.
 * IO.
 *
 * The path is walked one component at a time with chroot semantics (SecureJoin / runc's MkdirAllInRoot):
 * a symlink is followed with its target re-rooted at the root, `..` never climbs above it, and a missing
 * component is created as a directory where it is (one `mkdir` of one name, under a parent that is a real
 * directory of the root), so no symlink of the image can make `run` create anything on the host.
 */
import { lstat, mkdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { FromscratchError } from '../errors.ts';
import { MAX_SYMLINK_HOPS } from '../fs/resolve.ts';

/**
 * mkdirInRoot makes `path` (absolute, as the container sees it) a directory inside `root`, creating what
 * is missing with `mode`, and returns the resolved path inside the root. Throws RUN_FAILED when a
 * component is not a directory or the links loop.
 */
export async function mkdirInRoot(root: string, path: string, mode = 0o755): Promise<string> {
  const fail = (why: string) =>
    new FromscratchError('RUN_FAILED', `cannot create ${JSON.stringify(path)} in the image: ${why}`, {
      hint: 'fix WorkingDir (or --workdir) so that it names a directory of the image',
    });
  let pending = path.split('/').filter(Boolean);
  let done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = join(root, ...done, part); // every component of `done` is a real directory of the root
    let st = await lstat(host).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw fail(`${e.code ?? 'error'} at /${[...done, part].join('/')}`);
    });
    if (!st) {
      await mkdir(host, { mode }).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw fail(`${e.code ?? 'error'} creating /${[...done, part].join('/')}`);
      });
      st = await lstat(host);
    }
    if (st.isSymbolicLink()) {
      if (++hops > MAX_SYMLINK_HOPS) throw fail('too many levels of symbolic links');
      const target = await readlink(host);
      if (target.startsWith('/')) done = [];
      pending = [...target.split('/').filter(Boolean), ...pending];
      continue;
    }
    if (!st.isDirectory()) throw fail(`/${[...done, part].join('/')} is not a directory`);
    done.push(part);
  }
  return `/${done.join('/')}`;
}
