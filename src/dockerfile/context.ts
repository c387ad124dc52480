/**
 * context.ts — build-context safety for Dockerfile COPY/ADD sources (RELIABILITY.md F1–F4, F8). FILE I/O.
 *
 * Policy (documented in README.md):
 * - a source that climbs out of the context with `..` is an error ("outside the build context"); a
 *   leading `/` means the context root, as in `docker build` (`COPY /etc/passwd /` reads
 *   CONTEXT/etc/passwd, never the host's /etc/passwd);
 * - symlinks met while resolving a source stay inside the context; one whose target leaves the context
 *   (absolute, or `..` above the root) is an error naming the link, never followed;
 * - inside a copied directory symlinks are copied AS symlinks, whatever they point to;
 * - regular files are opened with O_NOFOLLOW|O_NONBLOCK and fstat'ed (same inode as lstat) before they
 *   are listed; FIFOs and devices are never opened (they become entries), sockets are skipped;
 * - `.dockerignore` excludes paths before anything else: an ignored source is "not found".
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { FromscratchError } from '../errors.ts';
import type { FileEntry } from '../fs/file-tree.ts';
import { hostFs, splitRdev } from '../fs/host-fs.ts';
import { ancestors, encodePath, normalizeImagePath } from '../fs/path.ts';
import type { RootFs, RootStat } from '../fs/root-fs.ts';
import type { Ownership } from '../orchestrate/build-spec.ts';
import {
  compileIgnore,
  globComponentRegExp,
  hasGlobMeta,
  type IgnorePattern,
  isIgnored,
  parseDockerignore,
} from './patterns.ts';

/** MAX_CONTEXT_ENTRIES bounds the entries one COPY may list. */
export const MAX_CONTEXT_ENTRIES = 1_000_000;
/** MAX_SYMLINK_HOPS bounds symlinks followed while resolving one source. */
const MAX_HOPS = 255;

/** ContextRecord is one entry a COPY/ADD puts in the image, ready to become a FileEntry. */
export interface ContextRecord {
  /** path relative to the context root (`app/main.py`; `.` for the root) */
  readonly relPath: string;
  /** absolute host path of the entry */
  readonly hostPath: string;
  /** lstat of the entry (never of a symlink's target) */
  readonly stat: RootStat;
  /** normalised absolute image path */
  readonly dest: string;
  /** raw target, for symlinks */
  readonly linkTarget?: string;
}

/** CollectOptions tunes collectContextSources. */
export interface CollectOptions {
  /**
   * destination as the Dockerfile item carries it: absolute, WORKDIR applied, a trailing `/` meaning a
   * directory (default `/`)
   */
  dest?: string;
  /** COPY --exclude patterns (Docker .dockerignore syntax), matched against paths relative to each source */
  exclude?: readonly string[];
  /** .dockerignore patterns (parseDockerignore output), matched against context-relative paths */
  dockerignore?: readonly string[];
  /** tells whether an image path is already a directory (`COPY file /usr/bin` copies into it) */
  isDir?: (imagePath: string) => boolean;
  /** called for each skipped entry (sockets) */
  warn?: (message: string) => void;
}

/**
 * collectContextSources resolves COPY/ADD sources inside `context` and lists every entry they copy with
 * its image path, following Docker's rules: a directory's contents are copied (not the directory
 * itself), a file lands at `dest` or, when `dest` is a directory, at `dest/<name>`; several sources (or
 * a glob matching several) need a directory destination. Throws PATH_ESCAPE for a source leaving the
 * context, FILE_NOT_FOUND for a missing (or ignored) source, INVALID_ARGUMENT for a bad destination.
 *
 * @example
 * const recs = await collectContextSources('/src/app', ['bin/*'], { dest: '/usr/local/bin/' });
 * const entries = toCopyEntries(recs, { uid: 0, gid: 0 });
 */
export async function collectContextSources(
  context: string,
  srcPatterns: readonly string[],
  opts: CollectOptions = {},
): Promise<ContextRecord[]> {
  const fs = hostFs(context);
  const ignore = compileIgnore(opts.dockerignore ?? []);
  const exclude = compileIgnore(opts.exclude ?? []);
  const destRaw = opts.dest ?? '/';
  const destIsDirMarked = destRaw === '/' || destRaw.endsWith('/') || destRaw.endsWith('/.');
  const dest = normalizeImagePath(destRaw);
  const matches: string[] = [];
  for (const src of srcPatterns) {
    const rel = toContextRel(src);
    const found = await expandSource(fs, rel, ignore);
    if (found.length === 0) {
      throw new FromscratchError(
        'FILE_NOT_FOUND',
        `COPY source ${JSON.stringify(src)} not found in build context ${context}`,
        {
          hint: hasGlobMeta(rel)
            ? 'no file matches the pattern (paths are relative to the context; .dockerignore may exclude them)'
            : 'paths are relative to the build context; check the name and .dockerignore',
        },
      );
    }
    matches.push(...found);
  }
  const destDir = destIsDirMarked || matches.length > 1 || (opts.isDir?.(dest) ?? false);
  if (matches.length > 1 && !destIsDirMarked && !(opts.isDir?.(dest) ?? false)) {
    throw new FromscratchError(
      'INVALID_ARGUMENT',
      `COPY of ${matches.length} sources to ${destRaw}: the destination must be a directory and end with a /`,
      {
        hint: `write ${destRaw}/ as the destination`,
      },
    );
  }
  const out: ContextRecord[] = [];
  const seen = new Map<string, number>();
  const push = (r: ContextRecord) => {
    if (out.length >= MAX_CONTEXT_ENTRIES) {
      throw new FromscratchError(
        'TOO_LARGE',
        `COPY lists more than ${MAX_CONTEXT_ENTRIES} entries from ${context}`,
      );
    }
    // two sources landing on one path: the later one wins, as in docker build
    const at = seen.get(r.dest);
    if (at !== undefined) {
      out[at] = r;
      return;
    }
    seen.set(r.dest, out.length);
    out.push(r);
  };
  for (const match of matches) {
    const resolved = await resolveInContext(fs, match, context);
    const st = resolved.stat;
    const name = match === '.' ? '' : match.slice(match.lastIndexOf('/') + 1);
    if (st.type === 'dir') {
      // the directory's contents go into dest; dest itself takes the directory's metadata
      if (dest !== '/')
        push({
          relPath: resolved.rel,
          hostPath: fs.hostPath(`/${resolved.rel === '.' ? '' : resolved.rel}`)!,
          stat: st,
          dest,
        });
      await walk(fs, resolved.rel, dest, ignore, exclude, push, opts.warn);
      continue;
    }
    const target = destDir ? normalizeImagePath(`${dest}/${name}`) : dest;
    if (st.type === 'socket') {
      opts.warn?.(`skipping socket ${match} in the build context`);
      continue;
    }
    if (isIgnored(exclude, name)) continue;
    push(await record(fs, resolved.rel, st, target));
  }
  return out;
}

/** toContextRel checks one source against the F1 policy and returns it relative to the context root. */
function toContextRel(src: string): string {
  const parts: string[] = [];
  for (const part of src.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) {
        throw new FromscratchError(
          'PATH_ESCAPE',
          `COPY source ${JSON.stringify(src)} is outside the build context`,
          {
            hint: 'COPY reads only files inside the context directory; move the file into it or pass a wider context',
          },
        );
      }
      parts.pop();
    } else parts.push(part);
  }
  return parts.length ? parts.join('/') : '.';
}

/** expandSource expands a (possibly globbed) context-relative source into matching context-relative paths. */
async function expandSource(fs: RootFs, rel: string, ignore: readonly IgnorePattern[]): Promise<string[]> {
  if (rel === '.') return ['.'];
  const comps = rel.split('/');
  let cur: string[] = [''];
  for (let k = 0; k < comps.length; k++) {
    const comp = comps[k]!;
    const next: string[] = [];
    for (const base of cur) {
      if (!hasGlobMeta(comp)) {
        next.push(base ? `${base}/${comp}` : comp);
        continue;
      }
      const re = globComponentRegExp(comp);
      // list the directory the pattern applies to (resolved inside the context)
      let dir: { rel: string; stat: RootStat } | undefined;
      try {
        dir = await resolveInContext(fs, base || '.', fs.name);
      } catch (e) {
        if ((e as FromscratchError).code === 'FILE_NOT_FOUND') continue;
        throw e;
      }
      if (dir.stat.type !== 'dir') continue;
      const names = (await fs.readdir(`/${dir.rel === '.' ? '' : dir.rel}`)).sort();
      for (const n of names) if (re.test(n)) next.push(base ? `${base}/${n}` : n);
    }
    cur = next;
  }
  const out: string[] = [];
  for (const p of cur) {
    if (isIgnored(ignore, p)) continue;
    const st = await lstatChain(fs, p);
    if (st !== undefined) out.push(p);
  }
  return out;
}

/** lstatChain tells whether a context-relative path exists, following in-context symlinks (undefined if not). */
async function lstatChain(fs: RootFs, rel: string): Promise<RootStat | undefined> {
  try {
    return (await resolveInContext(fs, rel, fs.name)).stat;
  } catch (e) {
    if ((e as FromscratchError).code === 'FILE_NOT_FOUND') return undefined;
    throw e;
  }
}

/**
 * resolveInContext resolves a context-relative path, following symlinks only while they stay inside the
 * context (chroot semantics). Throws PATH_ESCAPE naming a link whose target leaves it, FILE_NOT_FOUND
 * when a component is missing.
 */
export async function resolveInContext(
  fs: RootFs,
  rel: string,
  context: string,
): Promise<{ rel: string; stat: RootStat }> {
  let pending = rel === '.' ? [] : rel.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let hops = 0;
  while (pending.length) {
    const part = pending.shift()!;
    if (part === '..') {
      if (done.length === 0) {
        throw new FromscratchError('PATH_ESCAPE', `${rel} leads outside the build context ${context}`);
      }
      done.pop();
      continue;
    }
    const cur = `/${[...done, part].join('/')}`;
    const st = await fs.lstat(cur);
    if (!st) {
      throw new FromscratchError('FILE_NOT_FOUND', `${rel} not found in build context ${context}`, {
        hint: 'paths are relative to the build context',
      });
    }
    if (st.type === 'symlink') {
      if (++hops > MAX_HOPS)
        throw new FromscratchError(
          'PATH_ESCAPE',
          `too many levels of symbolic links resolving ${rel} in ${context}`,
        );
      const target = await fs.readlink(cur);
      if (target.startsWith('/') || climbsOut(done.length, target)) {
        throw new FromscratchError(
          'PATH_ESCAPE',
          `${cur.slice(1)} is a symlink to ${target}, outside the build context ${context}`,
          {
            hint: 'fromscratch never follows a context symlink out of the context; copy the directory holding the link to keep it as a symlink, or put the real file in the context',
          },
        );
      }
      pending = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...pending];
      continue;
    }
    if (pending.length && st.type !== 'dir') {
      throw new FromscratchError(
        'FILE_NOT_FOUND',
        `${rel} not found in build context ${context}: ${cur.slice(1)} is not a directory`,
      );
    }
    done.push(part);
  }
  const path = done.join('/') || '.';
  const st = await fs.lstat(`/${done.join('/')}`);
  if (!st) throw new FromscratchError('FILE_NOT_FOUND', `${rel} not found in build context ${context}`);
  return { rel: path, stat: st };
}

/** climbsOut tells whether a relative link target, read in a directory `depth` levels below the root, climbs above it. */
function climbsOut(depth: number, target: string): boolean {
  let d = depth;
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      d -= 1;
      if (d < 0) return true;
    } else d += 1;
  }
  return false;
}

async function walk(
  fs: RootFs,
  rel: string,
  dest: string,
  ignore: readonly IgnorePattern[],
  exclude: readonly IgnorePattern[],
  push: (r: ContextRecord) => void,
  warn: ((m: string) => void) | undefined,
): Promise<void> {
  // an explicit stack, not recursion: depth is bounded by path limits, not by the JS stack
  const stack: { rel: string; sub: string }[] = [{ rel, sub: '' }];
  while (stack.length) {
    const { rel: dirRel, sub } = stack.pop()!;
    const names = (await fs.readdir(`/${dirRel === '.' ? '' : dirRel}`)).sort();
    const children: { rel: string; sub: string }[] = [];
    for (const n of names) {
      const childRel = dirRel === '.' ? n : `${dirRel}/${n}`;
      const childSub = sub ? `${sub}/${n}` : n;
      if (isIgnored(ignore, childRel) || isIgnored(exclude, childSub)) {
        // an excluded directory is still walked when a later `!` pattern may re-include something below
        const st = await fs.lstat(`/${childRel}`);
        if (st?.type === 'dir' && (ignore.some((p) => p.exclusion) || exclude.some((p) => p.exclusion))) {
          children.push({ rel: childRel, sub: childSub });
        }
        continue;
      }
      const st = await fs.lstat(`/${childRel}`);
      if (!st) continue; // vanished while listing
      if (st.type === 'socket') {
        warn?.(`skipping socket ${childRel} in the build context`);
        continue;
      }
      push(await record(fs, childRel, st, normalizeImagePath(`${dest}/${childSub}`)));
      if (st.type === 'dir') children.push({ rel: childRel, sub: childSub });
    }
    // push in reverse so that the walk visits directories in sorted order
    for (let k = children.length - 1; k >= 0; k--) stack.push(children[k]!);
  }
}

async function record(fs: RootFs, rel: string, st: RootStat, dest: string): Promise<ContextRecord> {
  const hostPath = fs.hostPath(`/${rel === '.' ? '' : rel}`)!;
  if (st.type === 'symlink')
    return { relPath: rel, hostPath, stat: st, dest, linkTarget: await fs.readlink(`/${rel}`) };
  if (st.type === 'file') await checkRegularFile(hostPath, st);
  return { relPath: rel, hostPath, stat: st, dest };
}

/**
 * checkRegularFile opens a file with O_NOFOLLOW|O_NONBLOCK and checks with fstat that it is still the
 * regular file lstat saw (RELIABILITY.md F2/F8: never a symlink swapped in, never a FIFO that blocks).
 */
export async function checkRegularFile(hostPath: string, st: RootStat): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(encodePath(hostPath), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const now = await fh.stat();
    if (!now.isFile() || now.ino !== st.ino || now.dev !== st.dev) {
      throw new FromscratchError('FILE_CHANGED', `${hostPath} changed while the build context was read`, {
        hint: 'do not modify the build context during a build',
      });
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP')
      throw new FromscratchError(
        'FILE_CHANGED',
        `${hostPath} became a symlink while the build context was read`,
        {
          hint: 'do not modify the build context during a build',
        },
      );
    if (code === 'EACCES')
      throw new FromscratchError(
        'FILE_UNREADABLE',
        `${hostPath} in the build context cannot be read (permission denied)`,
        {
          hint: `give the user running fromscratch read access to ${hostPath}, or leave it out (.dockerignore)`,
        },
      );
    throw e;
  } finally {
    await fh?.close();
  }
}

/** CopyOwnership is resolved ownership for toCopyEntries: numbers only (names resolved by the caller). */
export interface CopyOwnership {
  readonly uid?: number;
  readonly gid?: number;
  /** --chmod: applied to files and directories */
  readonly mode?: number;
}

/**
 * toCopyEntries turns records into FileEntries: uid/gid 0 unless --chown (Docker's COPY default),
 * permission bits kept unless --chmod, symlinks with their raw target, FIFOs and devices as entries.
 * Throws INVALID_ARGUMENT when `own` still carries user or group names (resolve them with
 * resolveOwnership first).
 */
export function toCopyEntries(
  records: readonly ContextRecord[],
  own: CopyOwnership | Ownership = {},
  opts: ToCopyEntriesOptions = {},
): FileEntry[] {
  if ('user' in own && own.user !== undefined)
    throw new FromscratchError(
      'INVALID_ARGUMENT',
      `--chown user "${own.user}" must be resolved to a number first`,
    );
  if ('group' in own && own.group !== undefined)
    throw new FromscratchError(
      'INVALID_ARGUMENT',
      `--chown group "${own.group}" must be resolved to a number first`,
    );
  const uid = own.uid ?? 0;
  const gid = own.gid ?? 0;
  const out: FileEntry[] = [];
  for (const r of records) {
    const base = { path: r.dest, uid, gid, mtime: r.stat.mtime };
    const mode = r.stat.type === 'symlink' ? 0o777 : (own.mode ?? r.stat.mode);
    switch (r.stat.type) {
      case 'file':
        out.push({
          ...base,
          type: 'file',
          mode,
          size: r.stat.size,
          content: { kind: 'host', path: r.hostPath, dev: r.stat.dev, ino: r.stat.ino },
        });
        break;
      case 'dir':
        out.push({ ...base, type: 'dir', mode });
        break;
      case 'symlink':
        out.push({ ...base, type: 'symlink', mode, target: r.linkTarget ?? '' });
        break;
      case 'fifo':
        out.push({ ...base, type: 'fifo', mode });
        break;
      case 'char':
      case 'block':
        out.push({ ...base, type: r.stat.type, mode, ...splitRdev(r.stat.rdev) });
        break;
      case 'socket':
        break;
    }
  }
  if (opts.exists) {
    // docker build creates missing parent directories of a COPY destination with the --chown owner
    const have = new Set(out.map((e) => e.path));
    const parents = new Set<string>();
    for (const r of records)
      for (const a of ancestors(r.dest)) if (!have.has(a) && !opts.exists(a)) parents.add(a);
    for (const p of [...parents].sort()) out.push({ type: 'dir', path: p, mode: 0o755, uid, gid });
  }
  return out;
}

/** ToCopyEntriesOptions tunes toCopyEntries. */
export interface ToCopyEntriesOptions {
  /**
   * tells whether an image path already exists; when given, missing parent directories of the
   * destinations are emitted (0755, owned like the copied files), as docker build creates them
   */
  exists?: (imagePath: string) => boolean;
}

/**
 * resolveOwnership turns `--chown` names into numbers using the image's /etc/passwd and /etc/group text.
 * A user given without a group gets its uid as gid, as Docker documents ("Providing a username without
 * groupname or a UID without GID will use the same numeric UID as the GID"). Throws INVALID_ARGUMENT
 * for an unknown name.
 */
export function resolveOwnership(o: Ownership, passwd: string, group: string): CopyOwnership {
  let uid = o.uid;
  let gid = o.gid;
  if (o.user !== undefined) {
    const row = passwd
      .split('\n')
      .map((l) => l.split(':'))
      .find((f) => f[0] === o.user);
    if (!row || row.length < 4 || !/^\d+$/.test(row[2]!) || !/^\d+$/.test(row[3]!)) {
      throw new FromscratchError(
        'INVALID_ARGUMENT',
        `--chown user "${o.user}" is not in the image's /etc/passwd`,
        {
          hint: 'use a numeric uid, or add the user to /etc/passwd first',
        },
      );
    }
    uid = Number(row[2]);
    if (gid === undefined && o.group === undefined) gid = uid;
  }
  if (o.group !== undefined) {
    const row = group
      .split('\n')
      .map((l) => l.split(':'))
      .find((f) => f[0] === o.group);
    if (!row || row.length < 3 || !/^\d+$/.test(row[2]!)) {
      throw new FromscratchError(
        'INVALID_ARGUMENT',
        `--chown group "${o.group}" is not in the image's /etc/group`,
        {
          hint: 'use a numeric gid, or add the group to /etc/group first',
        },
      );
    }
    gid = Number(row[2]);
  }
  return {
    ...(uid !== undefined ? { uid } : {}),
    ...(gid !== undefined ? { gid } : {}),
    ...(o.mode !== undefined ? { mode: o.mode } : {}),
  };
}

/** MAX_BUILD_FILE_BYTES bounds a Dockerfile or .dockerignore read from the context. */
export const MAX_BUILD_FILE_BYTES = 1024 * 1024;

/**
 * readContextFile reads a small file of the context (the Dockerfile, `.dockerignore`), refusing one that
 * is — or passes through — a symlink leaving the context (RELIABILITY.md F4). Returns undefined when it
 * does not exist. Throws PATH_ESCAPE, TOO_LARGE, INVALID_ARGUMENT (not a regular file).
 */
export async function readContextFile(
  context: string,
  rel: string,
  maxBytes = MAX_BUILD_FILE_BYTES,
): Promise<string | undefined> {
  const fs = hostFs(context);
  let res: { rel: string; stat: RootStat };
  try {
    res = await resolveInContext(fs, toContextRel(rel), context);
  } catch (e) {
    if ((e as FromscratchError).code === 'FILE_NOT_FOUND') return undefined;
    throw e;
  }
  if (res.stat.type !== 'file')
    throw new FromscratchError('INVALID_ARGUMENT', `${rel} in ${context} is not a regular file`);
  if (res.stat.size > maxBytes)
    throw new FromscratchError(
      'TOO_LARGE',
      `${rel} is ${res.stat.size} bytes, over the ${maxBytes}-byte limit`,
    );
  const hostPath = fs.hostPath(`/${res.rel}`)!;
  const fh = await open(
    encodePath(hostPath),
    constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
  );
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.ino !== res.stat.ino)
      throw new FromscratchError('PATH_ESCAPE', `${rel} changed while it was read`);
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got > maxBytes) throw new FromscratchError('TOO_LARGE', `${rel} is over the ${maxBytes}-byte limit`);
    return buf.subarray(0, got).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** readDockerignore reads CONTEXT/.dockerignore (refusing a symlink out of the context) into patterns; [] when absent. */
export async function readDockerignore(context: string): Promise<string[]> {
  const text = await readContextFile(context, '.dockerignore');
  return text === undefined ? [] : parseDockerignore(text);
}

/** CopyItemOptions is what collectCopyItem needs to know about the image being built. */
export interface CopyItemOptions {
  /** .dockerignore patterns of the context (readDockerignore) */
  dockerignore?: readonly string[];
  /** tells whether an image path is already a directory */
  isDir?: (imagePath: string) => boolean;
  /** tells whether an image path already exists (missing parents are then created with the owner) */
  exists?: (imagePath: string) => boolean;
  /** the image's /etc/passwd and /etc/group text, to resolve `--chown` names */
  passwd?: string;
  group?: string;
  warn?: (message: string) => void;
}

/**
 * collectCopyItem materialises one Dockerfile COPY/ADD `add` item (one with `context`) into FileEntries:
 * collectContextSources, then resolveOwnership (names need `passwd`/`group`), then toCopyEntries.
 * Local tar extraction (`item.extract`) and URLs (fetchAddUrl) are the caller's. Throws
 * INVALID_ARGUMENT for an item without context or with unresolvable owner names, plus everything
 * collectContextSources throws.
 */
export async function collectCopyItem(
  item: {
    readonly src: string;
    readonly dest?: string;
    readonly context?: string;
    readonly ownership?: Ownership;
    readonly exclude?: readonly string[];
  },
  opts: CopyItemOptions = {},
): Promise<{ records: ContextRecord[]; entries: FileEntry[] }> {
  if (item.context === undefined) {
    throw new Error(`collectCopyItem: item ${item.src} has no context (it is not a Dockerfile COPY)`);
  }
  if (/^https?:\/\//i.test(item.src))
    throw new Error(`collectCopyItem: ${item.src} is a URL: use fetchAddUrl`);
  const records = await collectContextSources(item.context, [item.src], {
    dest: item.dest ?? '/',
    ...(item.exclude ? { exclude: item.exclude } : {}),
    ...(opts.dockerignore ? { dockerignore: opts.dockerignore } : {}),
    ...(opts.isDir ? { isDir: opts.isDir } : {}),
    ...(opts.warn ? { warn: opts.warn } : {}),
  });
  let own: CopyOwnership = item.ownership ?? {};
  if (item.ownership && (item.ownership.user !== undefined || item.ownership.group !== undefined)) {
    own = resolveOwnership(item.ownership, opts.passwd ?? '', opts.group ?? '');
  }
  return { records, entries: toCopyEntries(records, own, opts.exists ? { exists: opts.exists } : {}) };
}
