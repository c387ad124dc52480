/**
 * closure-memo.ts — reuse the closure of an earlier build while nothing it looked at has changed.
 *
 * The closure engine reads a root through the RootFs port. A recording RootFs notes every call (lstat,
 * readlink, readdir, read, xattrs) with a stamp of what it saw: for host-backed entries the lstat data
 * with nanosecond mtime and ctime and the inode (as git's index and the layer cache do), for entries in
 * memory their bytes' digest, for a directory listing the host directory's stat data (its sorted names
 * when it is in memory or changed in the last two seconds), for an absent path "absent". A
 * later build with the same roots and options replays the stamps: when every one is the same, the
 * recorded entries are used and no ELF file is opened. Missing files that would appear in a library
 * search directory are caught because their absence was recorded too. The key also covers the closure
 * and ELF modules themselves (their files' stat data), so a changed rule never meets an old result.
 *
 * A memo decides only whether the closure is computed again, never what it contains.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../blob/dir-store.ts';
import type { ClosureEntry } from '../closure/closure.ts';
import type { RootFs, RootStat } from '../fs/root-fs.ts';
import { liveStats, type StatSnapshot } from '../fs/stat-snapshot.ts';
import { cacheDir } from './cache-dir.ts';
import { fileDigests } from './file-digest.ts';

/** MEMO_FORMAT changes when the memo file's shape or the stamps change. */
const MEMO_FORMAT = 'fromscratch-closure-memo-3';

/** RACY_NS: a directory changed this recently (or in the future) is stamped by its names, not its mtime. */
const RACY_NS = 2_000_000_000n;

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
export function recordingFs(
  fs: RootFs,
  stats: StatSnapshot = liveStats,
): {
  fs: RootFs;
  observations(): Promise<Observation[]>;
  /** the calls made so far (for the shared form, sharedMemo) */
  calls(): Call_[];
} {
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
    ...(fs.listingHostPath ? { listingHostPath: (p: string) => fs.listingHostPath?.(p) } : {}),
  };
  return {
    fs: wrapped,
    observations: () => observe(fs, [...seen.values()], stats),
    calls: () => [...seen.values()],
  };
}

/** Call_ is one call a closure made: its kind and path. */
export type Call_ = readonly [Call, string];

/** observe stamps `calls` on `fs` as the local memo does (stat data). */
export async function observe(
  fs: RootFs,
  calls: readonly Call_[],
  stats: StatSnapshot = liveStats,
): Promise<Observation[]> {
  const stamps = stamper(fs, stats);
  const got = await inBatches(calls, ([call, path]) => stamps(call, path));
  return calls.map(([call, path], i): Observation => [call, path, got[i]!]);
}

/**
 * BATCH is how many stamps are taken at once: the thread pool stats while the main thread compares. A
 * closure makes a few hundred to a few thousand calls: one batch for most, with a bound for the rest.
 */
const BATCH = 1024;

/** inBatches maps `xs` through `f`, BATCH calls in flight at a time, results in order. */
async function inBatches<T, R>(xs: readonly T[], f: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < xs.length; i += BATCH) out.push(...(await Promise.all(xs.slice(i, i + BATCH).map(f))));
  return out;
}

/**
 * stamper returns stampOf for `fs`, memoised per path and kind of call: lstat, read and xattrs of one
 * path share a stamp (a closure asks all three of most files), so each path is stat'ed once.
 */
function stamper(fs: RootFs, stats: StatSnapshot): (call: Call, path: string) => Promise<string> {
  const memo = new Map<string, Promise<string>>();
  // the two stamps of a path (its bytes', its stat data's) share one lstat through the RootFs
  const lstats = new Map<string, Promise<RootStat | undefined>>();
  const once: RootFs = {
    name: fs.name,
    readlink: (p) => fs.readlink(p),
    readdir: (p) => fs.readdir(p),
    read: (p, o) => fs.read(p, o),
    xattrs: (p) => fs.xattrs(p),
    hostPath: (p) => fs.hostPath(p),
    ...(fs.listingHostPath ? { listingHostPath: (p: string) => fs.listingHostPath?.(p) } : {}),
    lstat(p) {
      let st = lstats.get(p);
      if (st === undefined) {
        st = fs.lstat(p);
        lstats.set(p, st);
      }
      return st;
    },
  };
  return (call, path) => {
    // readdir stamps the listing; read and lstat of an in-memory file its bytes; the others its stat data
    const kind = call === 'readdir' ? 'd' : call === 'read' || call === 'lstat' ? 'r' : 'o';
    const k = `${kind}\0${path}`;
    let p = memo.get(k);
    if (p === undefined) {
      p = stampOf(once, call, path, stats);
      memo.set(k, p);
    }
    return p;
  };
}

/**
 * stampOf is what a call depends on, as a short string (see the file header). A directory's stamp is
 * its type and mode only: its mtime moves whenever any name in it comes or goes, and what the closure
 * saw of it (the names it listed, the entries it looked up, present or absent) is stamped on its own.
 */
async function stampOf(fs: RootFs, call: Call, path: string, stats: StatSnapshot): Promise<string> {
  try {
    if (call === 'readdir') {
      // a host directory by its stat data: its mtime moves whenever a name in it comes or goes (git's
      // untracked cache relies on the same), so a library directory of a thousand names is one lstat,
      // not a listing. Unless it changed in the last RACY_NS: a second change within the same clock
      // tick would leave the mtime as it is (git's "racy" entries), so its names are stamped instead.
      const host = fs.listingHostPath?.(path);
      if (host !== undefined) {
        const h = await stats.lstat(host);
        if (h.isDirectory() && BigInt(Date.now()) * 1_000_000n - h.mtimeNs > RACY_NS)
          return ['dir', h.mtimeNs, h.ctimeNs, h.ino, h.dev].join(':');
      }
      const names = [...(await fs.readdir(path))].sort();
      return createHash('sha256').update(names.join('\0')).digest('base64');
    }
    const st = await fs.lstat(path);
    if (!st) return 'absent';
    const host = fs.hostPath(path);
    if (host !== undefined) {
      if (st.type === 'dir') return `${st.type}:${st.mode}`;
      const h = await stats.lstat(host);
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
  stats: StatSnapshot = liveStats,
): Promise<MemoValue | undefined> {
  const v = await readClosureMemoWithCalls(key, fs, dir, stats);
  if (!v) return undefined;
  const { calls: _, ...value } = v;
  return value;
}

/** readClosureMemoWithCalls is readClosureMemo with the calls the memo was made from (for the shared form). */
export async function readClosureMemoWithCalls(
  key: string,
  fs: RootFs,
  dir: string = cacheDir(),
  stats: StatSnapshot = liveStats,
): Promise<(MemoValue & { readonly calls: readonly Call_[] }) | undefined> {
  let v: MemoValue & { observations: Observation[] };
  try {
    const text = await readFile(join(dir, 'closures', `${key}.json`), 'utf8');
    // the reviver is called for every value: only a memo holding bytes needs it
    v = text.includes('"$b64"') ? JSON.parse(text, reviver) : JSON.parse(text);
  } catch {
    // none yet, or unreadable: compute the closure
    return undefined;
  }
  if (!Array.isArray(v?.observations) || !Array.isArray(v.entries) || !Array.isArray(v.warnings))
    return undefined;
  const stamps = stamper(fs, stats);
  for (let i = 0; i < v.observations.length; i += BATCH) {
    const batch = v.observations.slice(i, i + BATCH);
    const now = await Promise.all(batch.map(([call, path]) => stamps(call, path)));
    if (now.some((s, j) => s !== batch[j]![2])) return undefined;
  }
  return {
    entries: v.entries,
    warnings: v.warnings,
    ...(Array.isArray(v.resolved) ? { resolved: v.resolved } : {}),
    calls: v.observations.map(([call, path]): Call_ => [call, path]),
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

/**
 * The shared form of a memo (the registry cache, registry-cache.ts): what another machine may reuse.
 * Stat data (inodes, ctimes) means nothing there, so each call is stamped by what decides it: a file
 * the closure read by its mode, owner, size and SHA-256, one it only looked up by its mode, owner and
 * size, a symlink by its target, a listing by its names, an absent path as absent. The key covers the
 * roots and options and the *content* of the closure rules' modules. A machine whose every stamp is the
 * same reuses the entries (with its own inode numbers and mtimes) and never parses an ELF file.
 */
const SHARED_FORMAT = 'fromscratch-closure-shared-1';

let codeDigestMemo: Promise<string> | undefined;

/** codeDigest hashes the content of the modules whose rules shape a closure (the bundle's when bundled). */
function codeDigest(): Promise<string> {
  codeDigestMemo ??= (async () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const h = createHash('sha256');
    const dirs = process.env.FROMSCRATCH_BUNDLED === '1' ? ['.'] : ['closure', 'elf', 'fs'];
    for (const d of dirs) {
      const dir = d === '.' ? here : join(here, '..', d);
      const names = (await readdir(dir).catch(() => [] as string[]))
        .filter((n) => !n.endsWith('.test.ts'))
        .sort();
      for (const n of names) {
        const bytes = await readFile(join(dir, n)).catch(() => undefined);
        h.update(`${d}/${n}:${bytes ? createHash('sha256').update(bytes).digest('hex') : '-'}\n`);
      }
    }
    return h.digest('hex');
  })();
  return codeDigestMemo;
}

/** sharedMemoKey is the key of a closure in the registry cache: roots, options and code, all portable. */
export async function sharedMemoKey(parts: unknown): Promise<string> {
  return createHash('sha256')
    .update(`${SHARED_FORMAT}\n${await codeDigest()}\n${JSON.stringify(parts)}`)
    .digest('hex');
}

/** sharedStampOf is the portable stamp of a call (see SHARED_FORMAT). */
async function sharedStampOf(fs: RootFs, call: Call, path: string): Promise<string> {
  try {
    if (call === 'readdir') {
      const names = [...(await fs.readdir(path))].sort();
      return createHash('sha256').update(names.join('\0')).digest('base64');
    }
    if (call === 'xattrs') {
      const x = await fs.xattrs(path);
      const parts = Object.keys(x)
        .sort()
        .map((k) => `${k}=${Buffer.from(x[k]!).toString('hex')}`);
      return createHash('sha256').update(parts.join('\0')).digest('base64');
    }
    const st = await fs.lstat(path);
    if (!st) return 'absent';
    const base = [st.type, st.mode, st.uid, st.gid].join(':');
    if (st.type === 'symlink') return `${base}:${await fs.readlink(path)}`;
    if (st.type !== 'file') return base;
    if (call !== 'read') return `${base}:${st.size}`;
    const host = fs.hostPath(path);
    const digest =
      host !== undefined
        ? (await fileDigests(host)).sha256
        : createHash('sha256')
            .update(await fs.read(path))
            .digest('hex');
    return `${base}:${st.size}:${digest}`;
  } catch (e) {
    return `error:${(e as { code?: string }).code ?? 'unknown'}`;
  }
}

async function sharedStamps(fs: RootFs, calls: readonly Call_[]): Promise<string[]> {
  return inBatches(calls, ([call, path]) => sharedStampOf(fs, call, path));
}

/** encodeSharedMemo is a computed closure in its shared form: the calls with portable stamps, and the entries. */
export async function encodeSharedMemo(
  fs: RootFs,
  calls: readonly Call_[],
  value: MemoValue,
): Promise<Uint8Array> {
  const stamps = await sharedStamps(fs, calls);
  const observations = calls.map(([call, path], i): Observation => [call, path, stamps[i]!]);
  const { entries, warnings, resolved } = value;
  return Buffer.from(
    JSON.stringify(
      { format: SHARED_FORMAT, observations, entries, warnings, ...(resolved ? { resolved } : {}) },
      replacer,
    ),
  );
}

/**
 * readSharedMemo checks a closure in its shared form against `fs`: when every stamp is the same, its
 * entries with this machine's inode numbers and mtimes, and its calls (for the local memo); else
 * undefined (something differs here, or the bytes are not a shared memo).
 */
export async function readSharedMemo(
  bytes: Uint8Array,
  fs: RootFs,
): Promise<(MemoValue & { readonly calls: readonly Call_[] }) | undefined> {
  let v: MemoValue & { format?: unknown; observations: Observation[] };
  try {
    v = JSON.parse(Buffer.from(bytes).toString('utf8'), reviver);
  } catch {
    return undefined;
  }
  if (
    v?.format !== SHARED_FORMAT ||
    !Array.isArray(v.observations) ||
    !Array.isArray(v.entries) ||
    !Array.isArray(v.warnings) ||
    !v.observations.every(
      (o) => Array.isArray(o) && o.length === 3 && o.every((x) => typeof x === 'string') && CALLS.has(o[0]),
    )
  )
    return undefined;
  const calls = v.observations.map(([call, path]): Call_ => [call, path]);
  for (let i = 0; i < calls.length; i += BATCH) {
    const batch = calls.slice(i, i + BATCH);
    const now = await sharedStamps(fs, batch);
    if (now.some((s, j) => s !== v.observations[i + j]![2])) return undefined;
  }
  // this machine's inode numbers and mtimes (the layer writer checks it reads the file it scanned)
  const entries: ClosureEntry[] = [];
  for (const e of v.entries) {
    if (typeof e?.entry?.path !== 'string') return undefined;
    const st = await fs.lstat(e.entry.path).catch(() => undefined);
    if (!st || st.mode !== e.entry.mode || st.uid !== e.entry.uid || st.gid !== e.entry.gid) return undefined;
    const entry = e.entry;
    if (entry.type === 'file') {
      if (st.type !== 'file' || st.size !== entry.size) return undefined;
      const content =
        entry.content.kind === 'host' ? { ...entry.content, dev: st.dev, ino: st.ino } : entry.content;
      entries.push({ ...e, entry: { ...entry, mtime: st.mtime, content } });
    } else entries.push({ ...e, entry: { ...entry, mtime: st.mtime } as typeof entry });
  }
  return {
    entries,
    warnings: v.warnings,
    ...(Array.isArray(v.resolved) ? { resolved: v.resolved } : {}),
    calls,
  };
}

const CALLS = new Set<string>(['lstat', 'readlink', 'readdir', 'read', 'xattrs']);
