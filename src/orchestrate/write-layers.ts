/**
 * write-layers.ts — the layers of one platform's build: plan them by origin (layer/layering.ts), then
 * reuse each one the layer cache holds for the same files (stat key) and write only the others.
 */
import pLimit from 'p-limit';
import type { BlobStore } from '../blob/store.ts';
import type { FileTree } from '../fs/file-tree.ts';
import type { Origin } from '../fs/origin.ts';
import type { StatSnapshot } from '../fs/stat-snapshot.ts';
import type { Layer } from '../image/image.ts';
import { defaultLevel } from '../layer/compress.ts';
import { planLayers } from '../layer/layering.ts';
import { makeLayer } from '../layer/make-layer.ts';
import type { Digest } from '../model/digest.ts';
import type { Compression } from '../model/media-type.ts';
import { formatBytes, type ProgressSink, startTask } from '../model/progress.ts';
import { cachedLayer, contentKeyOf, layerCacheKey, layerContentKey, rememberLayer } from './layer-cache.ts';

/** SharedLayers is a cache of layers by content key shared with other machines (registry-cache.ts). */
export interface SharedLayers {
  lookup(key: string): Promise<Layer | undefined>;
  record(key: string, layer: Layer): void;
  /** a result of `kind` cached under `key` (closure-memo.ts's shared form), or undefined */
  result?(kind: string, key: string): Promise<Uint8Array | undefined>;
  /** notes a result for the export (a function is called only when the cache is exported) */
  recordResult?(kind: string, key: string, value: Uint8Array | (() => Promise<Uint8Array>)): void;
  /** the package cache plus the `.deb` files and indexes the shared cache holds (read lazily) */
  packageStore?(base: BlobStore): BlobStore;
  /** notes a `.deb` or index used, for the export */
  recordBlob?(kind: 'deb' | 'index', digest: Digest, size: number, store: BlobStore): void;
}

/** LAYERS_AT_ONCE is how many layers of one build are looked up at the same time (one is written at a time). */
const LAYERS_AT_ONCE = 4;

/** layers being made, by stat key: an image built at the same time waits for it instead of making it again */
const making = new Map<string, Promise<Layer>>();

/** content keys by stat key, for this process: hashing a layer's files once is enough */
const contentKeys = new Map<string, Promise<string>>();

/** WrittenLayer is a layer of the build with what it holds (for the history and `inspect`). */
export interface WrittenLayer {
  readonly layer: Layer;
  /** `package libc6`, `host files`, `app` … */
  readonly holds: string;
  readonly entries: number;
  /** true when the layer came from the layer cache (nothing was read or compressed) */
  readonly cached: boolean;
}

/** WriteLayersOptions configures writeLayers. */
export interface WriteLayersOptions {
  readonly store: BlobStore;
  readonly compression: Compression;
  /** the compression level (default the compression's: gzip 4, zstd 3) */
  readonly compressionLevel?: number;
  readonly sourceDateEpoch: number;
  /** the layer budget (default: layering's default) */
  readonly budget?: number;
  /** reuse layers of earlier builds (default true) */
  readonly cache?: boolean;
  /** the layer cache directory (default the user's cache) */
  readonly cacheDir?: string;
  readonly log?: (message: string) => void;
  /** each layer written is a task `writing layer (HOLDS): N entries` over its tar bytes (replaces that log line) */
  readonly progress?: ProgressSink;
  /** called with each layer as soon as it is made or found in the cache (to start pushing it) */
  /** each layer of the image as it is ready; `fresh`: made now, not found in a cache */
  readonly onLayer?: (layer: Layer, fresh?: boolean) => void;
  /** the registry cache: looked up (by content key) after a local miss, told every layer made or reused */
  readonly shared?: SharedLayers;
  /** the stat data of host files for the cache keys (default: asked afresh) */
  readonly stats?: StatSnapshot;
}

/**
 * writeLayers splits the tree into layers and makes each one: from the layer cache when the key of its
 * entries (host files by stat data) matches and the store still holds the blob, else by writing it.
 * Throws what makeLayer throws (FILE_CHANGED …).
 */
export async function writeLayers(
  tree: FileTree,
  origins: ReadonlyMap<string, readonly Origin[]>,
  o: WriteLayersOptions,
): Promise<WrittenLayer[]> {
  const plan = planLayers(tree, origins, o.budget === undefined ? {} : { budget: o.budget });
  const dir = o.cacheDir === undefined ? {} : { dir: o.cacheDir };
  const level = o.compressionLevel ?? defaultLevel(o.compression);
  // the level decides the bytes: it is part of every key (`gzip/4`)
  const settings = { compression: `${o.compression}/${level}`, sourceDateEpoch: o.sourceDateEpoch };
  const writeOne = async (p: (typeof plan)[number]): Promise<WrittenLayer> => {
    const key = o.cache === false ? undefined : await layerCacheKey(p.tree, settings, o.stats);
    let hit = key ? await cachedLayer(key, o.store, dir) : undefined;
    const inFlight = key && !hit ? making.get(key) : undefined;
    if (inFlight) hit = await inFlight.catch(() => undefined);
    // no await between the look above and this: an image built at the same time finds it
    let made: (l: Layer | undefined) => void = () => {};
    if (key && !hit) {
      const k = key;
      const waiting = new Promise<Layer>((ok, no) => {
        made = (l) => {
          if (making.get(k) === waiting) making.delete(k);
          if (l) ok(l);
          else no(new Error('not made'));
        };
      });
      waiting.catch(() => {});
      making.set(k, waiting);
    }
    try {
      const contentKey = (): Promise<string> => {
        if (key === undefined) return layerContentKey(p.tree, settings);
        let c = contentKeys.get(key);
        if (!c) {
          c = contentKeyOf(key, p.tree, { ...settings, ...dir });
          contentKeys.set(key, c);
          c.catch(() => contentKeys.delete(key));
        }
        return c;
      };
      if (hit) o.shared?.record(await contentKey(), hit);
      const remote = !hit && o.shared ? await o.shared.lookup(await contentKey()) : undefined;
      if (remote) {
        o.log?.(
          `layer from the registry cache (${p.holds}, ${p.tree.entries.length} entries): ${remote.blob.digest}`,
        );
        o.shared?.record(await contentKey(), remote);
        made(remote);
        o.onLayer?.(remote);
        return { layer: remote, holds: p.holds, entries: p.tree.entries.length, cached: true };
      }
      if (hit) {
        o.log?.(`layer unchanged (${p.holds}, ${p.tree.entries.length} entries): ${hit.blob.digest}`);
        o.onLayer?.(hit);
        return { layer: hit, holds: p.holds, entries: p.tree.entries.length, cached: true };
      }
      let layer: Layer;
      try {
        // its task starts when its turn to be written comes, not while it waits for it
        layer = await making1(async () => {
          const what = `writing layer (${p.holds}): ${p.tree.entries.length} entries`;
          if (!o.progress) o.log?.(what);
          const task = startTask(o.progress, `layer ${p.holds}`, what);
          let tarDone = 0;
          let compressed = 0;
          try {
            const l = await makeLayer(p.tree, o.store, {
              compression: o.compression,
              ...(o.compression === 'none' ? {} : { level }),
              sourceDateEpoch: o.sourceDateEpoch,
              ...(o.progress
                ? {
                    onProgress: (e) => {
                      // the tar's size is known once makeLayer has measured the tree: it comes with the first advance
                      o.progress?.({
                        kind: 'advance',
                        id: `layer ${p.holds}`,
                        amount: e.tarBytes - tarDone,
                        total: e.tarBytesTotal,
                      });
                      tarDone = Math.max(tarDone, e.tarBytes);
                      compressed = e.compressedBytes;
                    },
                  }
                : {}),
            });
            task.done(`${formatBytes(compressed)} ${o.compression === 'none' ? 'stored' : o.compression}`);
            return l;
          } catch (e) {
            task.done('failed');
            throw e;
          }
        });
      } catch (e) {
        made(undefined);
        throw e;
      }
      // the blob is in the store: its upload starts while the cache entry is written
      o.onLayer?.(layer, true);
      if (key) {
        try {
          await rememberLayer(key, layer, { ...dir, store: o.store });
        } finally {
          made(layer);
        }
      }
      if (o.shared) o.shared.record(await contentKey(), layer);
      return { layer, holds: p.holds, entries: p.tree.entries.length, cached: false };
    } catch (e) {
      // an image waiting for this layer makes it itself
      made(undefined);
      throw e;
    }
  };
  // LAYERS_AT_ONCE layers are looked up at a time (their stat keys, the cache, the registry cache):
  // a warm build's lookups overlap; a layer is written one at a time (making1): two compressions at
  // once cost a cold node build 10-20 MB of peak RSS for 0.15 s (measured), over issue 12's bound
  const limit = pLimit(LAYERS_AT_ONCE);
  const making1 = pLimit(1);
  let failed = false;
  const settled = await Promise.allSettled(
    plan.map((p) =>
      limit(async () => {
        // after a failure no other layer is started (those under way finish: their blobs stay valid)
        if (failed) return undefined;
        try {
          return await writeOne(p);
        } catch (e) {
          failed = true;
          throw e;
        }
      }),
    ),
  );
  const out: WrittenLayer[] = [];
  for (const r of settled) {
    if (r.status === 'rejected') throw r.reason;
    if (r.value) out.push(r.value);
  }
  return out;
}
