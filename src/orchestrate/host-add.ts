/**
 * host-add.ts — `--add SRC[:DEST]`: host files and directories copied as they are.
 *
 * Symlinks are copied as symlinks (never followed), hard links inside the copied set become tar hard
 * links, modes (setuid/setgid/sticky) and `security.*` xattrs are kept, sockets are skipped, FIFOs and
 * devices become entries without being read. Ownership is kept only when asked (default root).
 */
import { lstat, readdir, readlink } from 'node:fs/promises';
import { resolve as resolveHost } from 'node:path';
import { FromscratchError } from '../errors.ts';
import type { FileEntry } from '../fs/file-tree.ts';
import { hostFs, splitRdev, toRootStat } from '../fs/host-fs.ts';
import { decodePathBytes, encodePath, joinImagePath, normalizeImagePath } from '../fs/path.ts';
import { checkSecretDestination, isAllowedSecret } from '../trace/secrets.ts';

/** MAX_ADD_ENTRIES bounds one --add walk (a runaway `--add /` should fail, not fill memory). */
export const MAX_ADD_ENTRIES = 1_000_000;

/** SecretCheck tells whether a host path must not enter an image silently. */
export type SecretCheck = (hostPath: string) => { refuse: boolean; reason?: string };

/** CollectHostOptions tunes collectHostPath. */
export interface CollectHostOptions {
  /** keep host uid/gid (default false: root-owned, as docker COPY does) */
  keepOwnership?: boolean;
  /** override uid/gid/mode (COPY --chown/--chmod) */
  ownership?: { uid?: number; gid?: number; mode?: number };
  /** secrets policy; a refused file throws SECRET_REFUSED */
  checkSecret?: SecretCheck;
  /** host paths explicitly allowed despite the policy */
  allowSecrets?: readonly string[];
  /** called for skipped entries (sockets) */
  warn?: (message: string) => void;
}

/**
 * assertNotSecret throws SECRET_REFUSED when the secrets policy refuses `hostPath`, or the place `imagePath`
 * it lands at in the image (`./rootfs/etc/shadow` added at `/etc/shadow`), and no `allowSecrets` entry
 * allows the host path (the path itself or a directory above it, by whole components).
 */
export function assertNotSecret(
  hostPath: string,
  opts: { checkSecret?: SecretCheck; allowSecrets?: readonly string[] },
  imagePath?: string,
): void {
  if (!opts.checkSecret || isAllowedSecret(hostPath, opts.allowSecrets ?? [])) return;
  const verdict = opts.checkSecret(hostPath);
  const atDest =
    !verdict.refuse && imagePath !== undefined && imagePath !== hostPath
      ? checkSecretDestination(imagePath)
      : undefined;
  if (!verdict.refuse && !atDest?.refuse) return;
  const what = atDest?.refuse ? `${hostPath} (at ${imagePath} in the image)` : hostPath;
  throw new FromscratchError(
    'SECRET_REFUSED',
    `refusing to put ${what} in the image: ${(atDest ?? verdict).reason || 'it looks like a secret'}`,
    { hint: `if you really mean to ship it, pass --allow-secret ${hostPath}` },
  );
}

/** HostEntry is a collected entry with the host path it came from. */
export interface HostEntry {
  readonly entry: FileEntry;
  readonly hostPath: string;
}

/** parseAddArg splits `SRC[:DEST]`; DEST defaults to the absolute host path of SRC, and must be absolute. */
export function parseAddArg(arg: string, cwd: string = process.cwd()): { src: string; dest: string } {
  const i = arg.lastIndexOf(':');
  const src = i > 0 ? arg.slice(0, i) : arg;
  const destRaw = i > 0 ? arg.slice(i + 1) : undefined;
  if (src === '')
    throw new FromscratchError('USAGE', `--add ${JSON.stringify(arg)} names no source`, {
      hint: 'write --add SRC[:DEST]',
    });
  if (destRaw !== undefined && !destRaw.startsWith('/')) {
    throw new FromscratchError(
      'USAGE',
      `--add ${JSON.stringify(arg)}: destination ${JSON.stringify(destRaw)} is not absolute`,
      {
        hint: 'destinations in the image are absolute paths, e.g. --add ./app:/app',
      },
    );
  }
  const abs = resolveHost(cwd, src);
  return { src: abs, dest: normalizeImagePath(destRaw ?? abs) };
}

/**
 * collectHostPath walks `src` on the host (without following any symlink, the top one included) and
 * returns entries placed under `dest` in the image. Throws FILE_NOT_FOUND when src is missing and
 * SECRET_REFUSED for files the secrets policy refuses.
 */
export async function collectHostPath(
  src: string,
  dest: string,
  opts: CollectHostOptions = {},
): Promise<HostEntry[]> {
  const out: HostEntry[] = [];
  const firstByInode = new Map<string, string>();
  const srcBytes = encodePath(src);
  let top: import('node:fs').Stats;
  try {
    top = await lstat(srcBytes);
  } catch (e) {
    throw new FromscratchError('FILE_NOT_FOUND', `${src} does not exist`, {
      hint: "check the path: a relative --add path is relative to the working directory, a relative `add:` of a YAML spec to the spec file's directory",
      cause: e,
    });
  }
  const xfs = hostFs('/');

  async function visit(hostPath: string, imagePath: string, st: import('node:fs').Stats): Promise<void> {
    if (out.length >= MAX_ADD_ENTRIES) {
      throw new FromscratchError('TOO_LARGE', `${src} has more than ${MAX_ADD_ENTRIES} entries`, {
        hint: 'add a smaller directory',
      });
    }
    const rs = toRootStat(st);
    const owner = {
      uid: opts.ownership?.uid ?? (opts.keepOwnership ? rs.uid : 0),
      gid: opts.ownership?.gid ?? (opts.keepOwnership ? rs.gid : 0),
    };
    const base = { path: imagePath, ...owner, mtime: rs.mtime };
    const mode = opts.ownership?.mode ?? rs.mode;
    // files and the nodes a kernel file system holds (/dev/null, a FIFO) are checked; directories and
    // symlinks carry no content of their own
    if (rs.type !== 'dir' && rs.type !== 'symlink') assertNotSecret(hostPath, opts, imagePath);
    switch (rs.type) {
      case 'dir': {
        out.push({ hostPath, entry: { ...base, type: 'dir', mode } });
        const names = (await readdir(encodePath(hostPath), { encoding: 'buffer' }))
          .map((b) => decodePathBytes(b))
          .sort();
        for (const name of names) {
          const child = `${hostPath}/${name}`;
          await visit(child, joinImagePath(imagePath, name), await lstat(encodePath(child)));
        }
        return;
      }
      case 'symlink':
        out.push({
          hostPath,
          entry: {
            ...base,
            type: 'symlink',
            mode: 0o777,
            target: decodePathBytes(await readlink(encodePath(hostPath), { encoding: 'buffer' })),
          },
        });
        return;
      case 'file': {
        const key = `${rs.dev}:${rs.ino}`;
        const first = rs.nlink > 1 ? firstByInode.get(key) : undefined;
        if (first !== undefined) {
          out.push({ hostPath, entry: { ...base, type: 'hardlink', mode, target: first } });
          return;
        }
        if (rs.nlink > 1) firstByInode.set(key, imagePath);
        const xattrs = await xfs.xattrs(hostPath);
        out.push({
          hostPath,
          entry: {
            ...base,
            type: 'file',
            mode,
            size: rs.size,
            content: { kind: 'host', path: hostPath, dev: rs.dev, ino: rs.ino },
            ...(Object.keys(xattrs).length > 0 ? { xattrs } : {}),
          },
        });
        return;
      }
      case 'char':
      case 'block':
        out.push({
          hostPath,
          entry: {
            ...base,
            type: rs.type,
            mode,
            ...splitRdev(rs.rdev),
          },
        });
        return;
      case 'fifo':
        out.push({ hostPath, entry: { ...base, type: 'fifo', mode } });
        return;
      case 'socket':
        opts.warn?.(`skipping socket ${hostPath}`);
        return;
    }
  }

  await visit(src, dest, top);
  // hard links must follow their target in path order; the walk is sorted per directory, which is not
  // global bytewise order, so re-point each link group at its bytewise-first member
  return fixHardlinkOrder(out);
}

function fixHardlinkOrder(entries: HostEntry[]): HostEntry[] {
  const groups = new Map<string, HostEntry[]>();
  for (const h of entries) {
    if (h.entry.type === 'hardlink') {
      const g = groups.get(h.entry.target) ?? [];
      g.push(h);
      groups.set(h.entry.target, g);
    }
  }
  if (groups.size === 0) return entries;
  const byPath = new Map(entries.map((h) => [h.entry.path, h] as const));
  const replaced = new Map<string, HostEntry>();
  for (const [target, links] of groups) {
    const file = byPath.get(target)!;
    const members = [file, ...links].sort((a, b) =>
      Buffer.compare(encodePath(a.entry.path), encodePath(b.entry.path)),
    );
    const head = members[0]!;
    if (head === file) continue;
    const f = file.entry as Extract<FileEntry, { type: 'file' }>;
    replaced.set(head.entry.path, { hostPath: head.hostPath, entry: { ...f, path: head.entry.path } });
    for (const m of members.slice(1)) {
      replaced.set(m.entry.path, {
        hostPath: m.hostPath,
        entry: { ...m.entry, type: 'hardlink', target: head.entry.path } as FileEntry,
      });
    }
  }
  return entries.map((h) => replaced.get(h.entry.path) ?? h);
}
