/**
 * closure-memo.ts — reuse the closure of an earlier build while nothing it looked at has changed.
 *
 * The closure engine reads a root through the RootFs port. A recording RootFs notes every call (lstat,
 * readlink, readdir, read, xattrs) with a stamp of what it saw: for host-backed entries the lstat data
 * with nanosecond mtime and ctime and the inode (as git's index and the layer cache do), for entries in
 * memory their bytes' digest, for a directory listing the sorted names, for an absent path "absent". A
 * later build with the same roots and options replays the stamps: when every one is the same, the
 * recorded entries are used and no ELF file is opened. Missing files that would appear in a library
 * search directory are caught because their absence was recorded too. The key also covers the closure
 * and ELF modules themselves (their files' stat data), so a changed rule never meets an old result.
 *
 * A memo decides only whether the closure is computed again, never what it contains.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../blob/dir-store.ts';
import type { ClosureEntry } from '../closure/closure.ts';
import type { RootFs } from '../fs/root-fs.ts';
import { cacheDir } from './cache-dir.ts';

/** MEMO_FORMAT changes when the memo file's shape or the stamps change. */
const MEMO_FORMAT = 'fromscratch-closure-memo-1';

type Call = 'lstat' | 'readlink' | 'readdir' | 'read' | 'xattrs';

/** Observation is one call the closure made and the stamp of what it saw. */
type Observation = readonly [Call, string, string];

/** MemoValue is what a memo keeps: the observations and the closure's output. */
export interface MemoValue {
  readonly entries: readonly ClosureEntry[];
  readonly warnings: readonly string[];
  /** real paths of the objects whose every DT_NEEDED the closure found (the start check skips them) */
  readonly resolved?: readonly string[];
}

/** recordingFs wraps a RootFs and stamps every call it answers. */
export function recordingFs(fs: RootFs): { fs: RootFs; observations(): Promise<Observation[]> } {
  const seen = new Map<string, [Call, string]>();
  const note = (call: Call, path: string) => {
    const k = `${call}\0${path}`;
    if (!seen.has(k)) seen.set(k, [call, path]);
  };
  const wrapped: RootFs = {
    name: fs.name,
    lstat(p) {
      note('lstat', p);
      return fs.lstat(p);
    },
    readlink(p) {
      note('readlink', p);
      return fs.readlink(p);
    },
    readdir(p) {
      note('readdir', p);
      return fs.readdir(p);
    },
    read(p, o) {
      note('read', p);
      return fs.read(p, o);
    },
    xattrs(p) {
      note('xattrs', p);
      return fs.xattrs(p);
    },
    hostPath: (p) => fs.hostPath(p),
  };
  return {
    fs: wrapped,
    async observations() {
      const out: Observation[] = [];
      for (const [call, path] of seen.values()) out.push([call, path, await stampOf(fs, call, path)]);
      return out;
    },
  };
}

/** stampOf is what a call depends on, as a short string (see the file header). */
async function stampOf(fs: RootFs, call: Call, path: string): Promise<string> {
  try {
    if (call === 'readdir') {
      const names = [...(await fs.readdir(path))].sort();
      return createHash('sha256').update(names.join('\0')).digest('base64');
    }
    const st = await fs.lstat(path);
    if (!st) return 'absent';
    const host = fs.hostPath(path);
    if (host !== undefined) {
      const h = await lstat(host, { bigint: true });
      return [st.type, st.mode, h.size, h.mtimeNs, h.ctimeNs, h.ino, h.dev].join(':');
    }
    const base = [st.type, st.mode, st.size, st.uid, st.gid, st.mtime].join(':');
    if (st.type === 'file' && (call === 'read' || call === 'lstat')) {
      // an entry held in memory (a generated file): its bytes are what counts
      return `${base}:${createHash('sha256')
        .update(await fs.read(path))
        .digest('base64')}`;
    }
    if (st.type === 'symlink') return `${base}:${await fs.readlink(path)}`;
    return base;
  } catch (e) {
    // an unreadable entry: its error is part of what the closure saw
    return `error:${(e as { code?: string }).code ?? 'unknown'}`;
  }
}

/** codeStamp is the stat data of the modules whose rules shape a closure (closure/, elf/, fs/; the bundle's files when bundled). */
async function codeStamp(): Promise<string> {
  const here = dirname(fileURLToPath(import.meta.url));
  const h = createHash('sha256');
  // in the bundle (scripts/bundle.mjs defines FROMSCRATCH_BUNDLED) the rules live in its own files
  const dirs = process.env.FROMSCRATCH_BUNDLED === '1' ? ['.'] : ['closure', 'elf', 'fs'];
  for (const d of dirs) {
    const dir = d === '.' ? here : join(here, '..', d);
    const names = (await readdir(dir).catch(() => [] as string[])).sort();
    for (const n of names) {
      const s = await stat(join(dir, n), { bigint: true }).catch(() => undefined);
      h.update(`${d}/${n}:${s?.size}:${s?.mtimeNs}\n`);
    }
  }
  return h.digest('hex');
}

/** memoKey hashes what a closure is computed from besides the root's content: roots, options, code. */
export async function memoKey(parts: unknown): Promise<string> {
  return createHash('sha256')
    .update(`${MEMO_FORMAT}\n${await codeStamp()}\n${JSON.stringify(parts)}`)
    .digest('hex');
}

/** bytes in the memo file: Uint8Array values (generated contents, xattrs) as base64 */
function replacer(_k: string, v: unknown): unknown {
  return v instanceof Uint8Array ? { $b64: Buffer.from(v).toString('base64') } : v;
}

function reviver(_k: string, v: unknown): unknown {
  if (v && typeof v === 'object' && '$b64' in v && typeof (v as { $b64: unknown }).$b64 === 'string')
    return new Uint8Array(Buffer.from((v as { $b64: string }).$b64, 'base64'));
  return v;
}

/**
 * readClosureMemo returns the memoised closure for `key` when every recorded observation still holds
 * on `fs`, else undefined (no memo, a damaged one, or something changed).
 */
export async function readClosureMemo(
  key: string,
  fs: RootFs,
  dir: string = cacheDir(),
): Promise<MemoValue | undefined> {
  let v: MemoValue & { observations: Observation[] };
  try {
    v = JSON.parse(await readFile(join(dir, 'closures', `${key}.json`), 'utf8'), reviver);
  } catch {
    // none yet, or unreadable: compute the closure
    return undefined;
  }
  if (!Array.isArray(v?.observations) || !Array.isArray(v.entries) || !Array.isArray(v.warnings))
    return undefined;
  for (const [call, path, stamp] of v.observations) {
    if ((await stampOf(fs, call, path)) !== stamp) return undefined;
  }
  return {
    entries: v.entries,
    warnings: v.warnings,
    ...(Array.isArray(v.resolved) ? { resolved: v.resolved } : {}),
  };
}

/** writeClosureMemo records a computed closure with the observations it was made from (a cache: errors are dropped). */
export async function writeClosureMemo(
  key: string,
  observations: readonly Observation[],
  value: MemoValue,
  dir: string = cacheDir(),
): Promise<void> {
  try {
    await mkdir(join(dir, 'closures'), { recursive: true });
    await writeFileAtomic(
      join(dir, 'closures', `${key}.json`),
      Buffer.from(JSON.stringify({ observations, ...value }, replacer)),
      { fsync: false },
    );
  } catch {
    // a cache only: the next build computes the closure again
  }
}
