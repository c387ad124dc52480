/**
 * cache-prune.ts — keep the local cache bounded: an inner loop of edits adds a layer, a layer cache
 * entry and a build record (~135 KB for a node image) at every build, and nothing took them away.
 *
 * After a build, at most once per {@link PRUNE_EVERY_MS} (one stat of a stamp file otherwise), the cache
 * is trimmed, newest kept (as BuildKit's garbage collection keeps its build cache under a size):
 *
 *  - build records: the newest {@link MAX_RECORDS} (`why` and `sbom` of an older image then say that
 *    this machine has no record of it);
 *  - closure memos: the newest {@link MAX_CLOSURES};
 *  - layer cache entries: the newest {@link MAX_LAYER_ENTRIES}, and only as many as keep their blobs
 *    within {@link BLOB_BUDGET} bytes; an older entry is dropped with its content key (a later build
 *    of that tree writes the layer again);
 *  - blobs: while the store holds more than the budget, the blobs no kept entry names, oldest first
 *    (a base image pulled long ago is pulled again);
 *  - temporary files of interrupted runs.
 *
 * What a build running at the same time may use is never taken: nothing written or used within
 * {@link MIN_AGE_MS} (a layer cache hit renews its entry's mtime, layer-cache.ts), and a blob only
 * when no kept entry names it. Every failure is ignored: a cache is only a cache.
 */
import { lstat, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** PRUNE_EVERY_MS: how often the cache is trimmed at most (the stamp file's mtime says when it last was). */
export const PRUNE_EVERY_MS = 3_600_000;
/** MIN_AGE_MS: a file written or used more recently than this is never removed. */
export const MIN_AGE_MS = 3_600_000;
/** MAX_RECORDS: build records kept. */
export const MAX_RECORDS = 512;
/** MAX_CLOSURES: closure memos kept (each the closure of one set of programs). */
export const MAX_CLOSURES = 128;
/** MAX_LAYER_ENTRIES: layer cache entries kept. */
export const MAX_LAYER_ENTRIES = 2048;
/** BLOB_BUDGET: bytes of blobs the cache keeps (10 GiB). */
export const BLOB_BUDGET = 10 * 1024 ** 3;
/** TEMP_AGE_MS: a temporary file older than this belongs to a run that was interrupted. */
const TEMP_AGE_MS = 86_400_000;
const STAMP = 'pruned';

/** PruneOptions override the bounds (tests). */
export interface PruneOptions {
  readonly now?: number;
  readonly every?: number;
  readonly minAge?: number;
  readonly records?: number;
  readonly closures?: number;
  readonly layerEntries?: number;
  readonly blobBudget?: number;
}

/** PruneResult counts what was removed. */
export interface PruneResult {
  readonly records: number;
  readonly closures: number;
  readonly layerEntries: number;
  readonly blobs: number;
  readonly blobBytes: number;
  readonly temps: number;
}

interface Item {
  readonly path: string;
  readonly name: string;
  readonly mtime: number;
  readonly size: number;
}

/**
 * maybePruneCache trims the cache in `dir` when it was last trimmed more than `every` ago (or never).
 * Returns what it removed, or undefined when it was not time yet.
 */
export async function maybePruneCache(dir: string, o: PruneOptions = {}): Promise<PruneResult | undefined> {
  const now = o.now ?? Date.now();
  const stamp = join(dir, STAMP);
  const last = await lstat(stamp).catch(() => undefined);
  // a stamp that is not a plain file (a symlink planted there): not a cache this build trims
  if (last !== undefined && !last.isFile()) return undefined;
  if (last !== undefined && now - last.mtimeMs < (o.every ?? PRUNE_EVERY_MS)) return undefined;
  // a cache made less than MIN_AGE ago (the first build with it) holds nothing old enough to go: it
  // is stamped, not scanned (where the file system keeps no birth time, it is scanned)
  const born = last === undefined ? (await lstat(dir).catch(() => undefined))?.birthtimeMs : undefined;
  const young = born !== undefined && born > 0 && now >= born && now - born < (o.minAge ?? MIN_AGE_MS);
  // the stamp first: a second build finishing now does not prune as well
  try {
    if (last === undefined) await writeFile(stamp, '', { flag: 'wx' });
    await utimes(stamp, now / 1000, now / 1000);
  } catch {
    return undefined; // a cache we cannot write to is not ours to trim
  }
  return young ? undefined : pruneCache(dir, { ...o, now });
}

/** pruneCache trims the cache in `dir` now (see the file header). */
export async function pruneCache(dir: string, o: PruneOptions = {}): Promise<PruneResult> {
  const now = o.now ?? Date.now();
  const old = (i: Item) => now - i.mtime >= (o.minAge ?? MIN_AGE_MS);
  let temps = 0;
  const list = async (sub: string, keep: (name: string) => boolean): Promise<Item[]> => {
    const d = join(dir, sub);
    const names = await readdir(d).catch(() => [] as string[]);
    const out: Item[] = [];
    for (const name of names) {
      const path = join(d, name);
      // lstat: a symlink in the cache is never followed, nor removed
      const st = await lstat(path).catch(() => undefined);
      if (!st?.isFile()) continue;
      const item = { path, name, mtime: st.mtimeMs, size: st.size };
      if (name.startsWith('.tmp-')) {
        if (now - item.mtime >= TEMP_AGE_MS && (await remove(path))) temps++;
      } else if (keep(name)) out.push(item);
    }
    // newest first
    return out.sort((a, b) => b.mtime - a.mtime || (a.name < b.name ? -1 : 1));
  };
  const dropOld = async (items: readonly Item[], max: number): Promise<Item[]> => {
    const gone: Item[] = [];
    for (const i of items.slice(max)) if (old(i) && (await remove(i.path))) gone.push(i);
    return gone;
  };

  const records = await dropOld(
    await list(join('records', 'sha256'), (n) => n.endsWith('.json')),
    o.records ?? MAX_RECORDS,
  );
  const closures = await dropOld(
    await list('closures', (n) => n.endsWith('.json')),
    o.closures ?? MAX_CLOSURES,
  );

  // layer entries, newest first: kept while within the count and the blob budget (a blob two entries
  // name counts once); the content key recorded beside an entry goes with it
  const blobItems = await list(join('blobs', 'sha256'), (n) => /^[0-9a-f]{64}$/.test(n));
  const blobSize = new Map(blobItems.map((b) => [`sha256:${b.name}`, b.size]));
  const entries = await list('layers', (n) => n.endsWith('.json'));
  const budget = o.blobBudget ?? BLOB_BUDGET;
  const maxEntries = o.layerEntries ?? MAX_LAYER_ENTRIES;
  const named = new Set<string>();
  let namedBytes = 0;
  let layerEntries = 0;
  for (const [n, e] of entries.entries()) {
    const digest = await entryBlob(e.path);
    const extra = digest !== undefined && !named.has(digest) ? (blobSize.get(digest) ?? 0) : 0;
    const within = n < maxEntries && namedBytes + extra <= budget;
    if (within || !old(e)) {
      if (digest !== undefined && !named.has(digest)) {
        named.add(digest);
        namedBytes += extra;
      }
      continue;
    }
    if (await remove(e.path)) {
      layerEntries++;
      await remove(e.path.replace(/\.json$/, '.content'));
    }
  }

  // blobs no kept entry names, oldest first, while the store is over the budget
  let total = blobItems.reduce((n, b) => n + b.size, 0);
  let blobs = 0;
  let blobBytes = 0;
  for (const b of [...blobItems].reverse()) {
    if (total <= budget) break;
    if (named.has(`sha256:${b.name}`) || !old(b)) continue;
    if (await remove(b.path)) {
      total -= b.size;
      blobs++;
      blobBytes += b.size;
    }
  }
  return { records: records.length, closures: closures.length, layerEntries, blobs, blobBytes, temps };
}

/** entryBlob reads the blob digest a layer cache entry names (undefined for an unreadable entry). */
async function entryBlob(path: string): Promise<string | undefined> {
  try {
    const v = JSON.parse(await readFile(path, 'utf8')) as { blob?: { digest?: unknown } };
    return typeof v?.blob?.digest === 'string' ? v.blob.digest : undefined;
  } catch {
    return undefined;
  }
}

async function remove(path: string): Promise<boolean> {
  try {
    await rm(path);
    return true;
  } catch {
    return false;
  }
}
