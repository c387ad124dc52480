/**
 * lib-path.ts — `--lib-path DIR`: the closure searches DIR, and the image's loader must find it too.
 *
 * Two ways, said on stderr:
 * - glibc images with no ld.so.cache of their own (FROM scratch, the usual case): write
 *   `/etc/ld.so.cache` listing the libraries of DIR that are in the image (closure/ld-cache-write.ts,
 *   ldconfig's layout). Nothing is set in the environment: child processes, setuid programs and a
 *   `docker run -e LD_LIBRARY_PATH=…` are unaffected, as with ldconfig on a real system;
 * - otherwise (musl, a base image, a cache already in the image, or no library of DIR in the image):
 *   `LD_LIBRARY_PATH=DIR[:…]` in the image's config, before the value the spec or base sets.
 * A directory that cannot be named to a loader (relative, or with `:`, `;`, `$`, blanks) or that is not a
 * directory of the root is refused.
 */
import { cacheFlagsFor } from '../closure/ld-cache.ts';
import { type LdCacheWriteEntry, toLdCache } from '../closure/ld-cache-write.ts';
import { readElf } from '../elf/read-elf.ts';
import { FromscratchError, isFromscratchError } from '../errors.ts';
import { baseName, normalizeImagePath, parentPath } from '../fs/path.ts';
import { resolvePath } from '../fs/resolve.ts';
import type { RootFs } from '../fs/root-fs.ts';
import type { Collector } from './collector.ts';

/** Logger is where the choice is told. */
interface Logger {
  info(message: string): void;
}

/** checkLibraryPaths refuses `--lib-path` directories the image's loader could not be given; returns them normalised. */
export async function checkLibraryPaths(dirs: readonly string[], root: RootFs): Promise<string[]> {
  for (const d of dirs) {
    if (!d.startsWith('/') || /[:;\s]/.test(d) || d.includes('$')) {
      throw new FromscratchError(
        'INVALID_ARGUMENT',
        `--lib-path ${JSON.stringify(d)} cannot be given to the image's loader`,
        {
          hint: 'give an absolute directory without ":", ";", "$" or blanks, as it is inside the root (and will be in the image)',
        },
      );
    }
    const r = await resolvePath(root, d);
    if (r.stat?.type !== 'dir') {
      throw new FromscratchError('FILE_NOT_FOUND', `--lib-path ${d} is not a directory in ${root.name}`, {
        hint: 'give a directory that holds the libraries, inside the root (--sysroot) when there is one',
      });
    }
  }
  return [...new Set(dirs.map(normalizeImagePath))];
}

/**
 * libraryPathCache adds `/etc/ld.so.cache` listing the ELF shared libraries the build put directly in
 * `dirs` (read through `fs`, the root with the added files), when the image can take one: no cache yet,
 * no base image, not musl. Returns true when it did (then no LD_LIBRARY_PATH is needed). For `--lib-path`,
 * or `forLdconfig`: the image's ldconfig, which `ldconfig -p` reads the cache with.
 */
export async function libraryPathCache(
  dirs: readonly string[],
  col: Collector,
  fs: RootFs,
  hasBase: boolean,
  log: Logger,
  forLdconfig?: string,
): Promise<boolean> {
  if (hasBase || col.has('/etc/ld.so.cache')) return false;
  if (col.overlay.some((e) => /(?:^|\/)ld-musl-[^/]+\.so\.1$/.test(e.entry.path))) return false;
  const entries: LdCacheWriteEntry[] = [];
  const inDirs = new Set(dirs);
  for (const { entry } of col.overlay) {
    if ((entry.type !== 'file' && entry.type !== 'symlink') || !inDirs.has(parentPath(entry.path))) continue;
    const r = await resolvePath(fs, entry.path);
    if (r.stat?.type !== 'file') continue;
    try {
      const info = await readElf(fs, r.path, { symbols: false });
      const flags = cacheFlagsFor(info.class, info.machine, info.flags);
      if (info.type !== 'dyn' || flags === undefined) continue;
      const key = info.soname ?? baseName(entry.path);
      // ldconfig lists a library under its soname link when there is one: prefer that path
      const i = entries.findIndex((e) => e.key === key && e.flags === flags);
      const value = entry.path;
      if (i < 0) entries.push({ key, value, flags });
      else if (baseName(value) === key) entries[i] = { key, value, flags };
    } catch (e) {
      // not an ELF library (a linker script, a data file): ldconfig skips it too
      if (!isFromscratchError(e)) throw e;
    }
  }
  if (entries.length === 0) return false;
  const data = toLdCache(entries);
  col.add(
    {
      type: 'file',
      path: '/etc/ld.so.cache',
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: data.byteLength,
      content: { kind: 'bytes', data },
    },
    forLdconfig === undefined
      ? { kind: 'requested', via: '--lib-path (ld.so.cache written as ldconfig would)' }
      : {
          kind: 'inferred',
          by: forLdconfig,
          reason: `${forLdconfig} -p reads it (ctypes.util.find_library runs it): written as ldconfig would, with the image's libraries`,
        },
  );
  const count = `${entries.length} ${entries.length === 1 ? 'library' : 'libraries'} of ${dirs.join(', ')}`;
  log.info(
    forLdconfig === undefined
      ? `--lib-path: /etc/ld.so.cache written with ${count}, so that the image's loader finds them`
      : `/etc/ld.so.cache written with ${count}, for ${forLdconfig} -p (ctypes.util.find_library)`,
  );
  return true;
}

/**
 * libraryPathEnv is the image's `LD_LIBRARY_PATH=…` for `--lib-path` directories: the directories first,
 * then the value the spec (or else the base image) sets.
 */
export function libraryPathEnv(
  dirs: readonly string[],
  specEnv: readonly string[] | undefined,
  baseEnv: readonly string[] | undefined,
  log: Logger,
): string {
  const get = (env: readonly string[] | undefined) =>
    env?.find((e) => e.startsWith('LD_LIBRARY_PATH='))?.slice('LD_LIBRARY_PATH='.length);
  const rest = get(specEnv) ?? get(baseEnv);
  const value = [...new Set([...dirs, ...(rest ? rest.split(':') : [])])].join(':');
  log.info(
    `--lib-path: the image's config sets LD_LIBRARY_PATH=${value}, so that its loader finds ${dirs.join(', ')}`,
  );
  return `LD_LIBRARY_PATH=${value}`;
}

/**
 * systemLibDirs are the directories ldconfig scans without an ld.so.conf (its trusted directories, with
 * Debian's multiarch ones) for the multiarch triplets the image's libraries live under.
 */
export function systemLibDirs(col: Collector): string[] {
  const triplets = new Set<string>();
  for (const { entry } of col.overlay) {
    const m = /^\/(?:usr\/)?lib\/([a-z0-9_]+-linux-[a-z0-9_]+)\//.exec(entry.path);
    if (m) triplets.add(m[1]!);
  }
  return [
    ...[...triplets].sort().flatMap((t) => [`/lib/${t}`, `/usr/lib/${t}`]),
    '/lib64',
    '/usr/lib64',
    '/lib',
    '/usr/lib',
  ];
}
