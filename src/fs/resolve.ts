/**
 * resolve.ts — symlink resolution inside a RootFs with chroot semantics (SecureJoin-style). PURE over RootFs.
 *
 * Absolute symlink targets are re-rooted at the root, `..` never climbs above it and is taken after the
 * links before it are followed (`/lib/..` is the parent of what `/lib` points to, as the kernel has it), at most
 * {@link MAX_SYMLINK_HOPS} links are followed. Every symlink passed on the way is reported, so that an
 * image can reproduce the real shape of the path (Debian's `/lib -> usr/lib` stays a symlink).
 */
import { FromscratchError } from '../errors.ts';
import { normalizeImagePath } from './path.ts';
import type { RootFs, RootStat } from './root-fs.ts';

/** MAX_SYMLINK_HOPS is the number of links followed before ELOOP (Linux uses 40; SecureJoin 255). */
export const MAX_SYMLINK_HOPS = 255;

/** Resolved is the outcome of resolving a path inside a root. */
export interface Resolved {
  /** the path with every symlink resolved (the real file) */
  readonly path: string;
  /** lstat of the final path, or undefined when it does not exist */
  readonly stat: RootStat | undefined;
  /** each symlink traversed, in order, with its raw target */
  readonly links: readonly { readonly path: string; readonly target: string }[];
}

/** ResolveOptions tunes resolvePath. */
export interface ResolveOptions {
  /** follow a symlink in the last component too (default true) */
  followFinal?: boolean;
}

/**
 * resolvePath resolves `path` inside `fs`. It never leaves the root. Throws PATH_ESCAPE on a symlink
 * loop (more than MAX_SYMLINK_HOPS links). A missing component yields `stat: undefined` with the path
 * resolved so far joined with the rest.
 */
export async function resolvePath(fs: RootFs, path: string, opts: ResolveOptions = {}): Promise<Resolved> {
  const followFinal = opts.followFinal !== false;
  const links: { path: string; target: string }[] = [];
  normalizeImagePath(path); // NUL bytes and length limits only: `..` is not collapsed before links are
  // followed. Like the kernel and SecureJoin, `link/..` is the parent of the link's target, not of the link.
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
    const cur = `/${[...done, part].join('/')}`;
    const st = await fs.lstat(cur);
    if (!st) {
      const rest = [part, ...pending].filter((p) => p !== '.');
      return { path: normalizeImagePath(`/${[...done, ...rest].join('/')}`), stat: undefined, links };
    }
    if (st.type === 'symlink' && (pending.length > 0 || followFinal)) {
      hops += 1;
      if (hops > MAX_SYMLINK_HOPS) {
        throw new FromscratchError(
          'PATH_ESCAPE',
          `too many levels of symbolic links resolving ${path} in ${fs.name}`,
          {
            hint: 'the root contains a symlink loop',
          },
        );
      }
      const target = await fs.readlink(cur);
      links.push({ path: cur, target });
      const tparts = target.split('/').filter(Boolean);
      if (target.startsWith('/')) done = [];
      pending = [...tparts, ...pending];
      continue;
    }
    if (pending.length > 0 && st.type !== 'dir') {
      return {
        path: normalizeImagePath(`/${[...done, part, ...pending].join('/')}`),
        stat: undefined,
        links,
      };
    }
    done.push(part);
  }
  const final = `/${done.join('/')}`;
  return { path: final, stat: await fs.lstat(final), links };
}

/** resolveSymlinkTarget returns the image path a symlink at `linkPath` with raw `target` points to (not resolved further). */
export function resolveSymlinkTarget(linkPath: string, target: string): string {
  if (target.startsWith('/')) return normalizeImagePath(target);
  const dir = linkPath.slice(0, linkPath.lastIndexOf('/')) || '/';
  return normalizeImagePath(`${dir}/${target}`);
}
