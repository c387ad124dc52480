/**
 * early-push.ts — send each layer to the registry outputs as soon as it is written, while the next
 * layer is still being compressed, so that the push after the build finds the blobs there (HEAD) and
 * only sends the manifest. The image's config follows the last layers as soon as the build has made it
 * (onConfig), beside their uploads rather than after them.
 *
 * An early upload that fails is not an error of its own: the push at the end uploads the blob again
 * and reports what went wrong there.
 */
import pLimit from 'p-limit';
import { type BlobStore, readBlob } from '../blob/store.ts';
import { isFromscratchError } from '../errors.ts';
import type { Layer } from '../image/image.ts';
import type { Descriptor } from '../model/descriptor.ts';
import { createRegistryClient, type RegistryClientOptions } from '../registry/client.ts';
import { type BlobSource, pushBlob } from '../registry/push.ts';
import type { Reference } from '../registry/reference.ts';
import type { BlobLocations } from './blob-locations.ts';

/**
 * uploads in flight in this process, by registry and digest: the images of one build (buildImages) push
 * at once, and a blob another image is uploading to the same registry is waited for, then mounted
 */
const uploading = new Map<string, Promise<void>>();

/** SMALL_LAYER: a layer up to this size just made is read into memory and sent in one request */
const SMALL_LAYER = 256 * 1024;

/** EarlyPush receives layers as they are made; settle() waits for their uploads. */
export interface EarlyPush {
  /** uploads a layer; `fresh`: just made by this build, not found in a cache (push.ts PushBlobOptions.fresh) */
  onLayer(layer: Layer, fresh?: boolean): void;
  /** uploads a config (its bytes in hand) as onLayer does a layer; `fresh`: it lists a fresh layer */
  onConfig(desc: Descriptor, bytes: Uint8Array, fresh?: boolean): void;
  /** whether a layer is in `registry/repository` by this early push (its upload or HEAD succeeded) */
  pushed(registry: string, repository: string, digest: string): boolean;
  /**
   * waits for every upload started and closes. Failures are dropped (the final push retries them),
   * except a registry that never answered (TIMEOUT contacting it): that error is returned, so that the
   * build fails with it rather than wait as long again in the final push (issue 15.11: bounded in total)
   */
  settle(): Promise<unknown>;
}

/** EarlyPushOptions configures earlyPush. */
export interface EarlyPushOptions {
  registry?: RegistryClientOptions;
  blobLocations?: BlobLocations;
  /** uploads at once per registry output (default 4) */
  concurrency?: number;
}

/** earlyPush starts uploading every layer handed to onLayer to each registry reference. */
export function earlyPush(refs: readonly Reference[], store: BlobStore, o: EarlyPushOptions = {}): EarlyPush {
  const targets = refs.map((ref) => ({
    ref,
    client: createRegistryClient(ref, o.registry),
    limit: pLimit(o.concurrency ?? 4),
  }));
  const pending: Promise<void>[] = [];
  const sent = new Set<string>();
  const done = new Set<string>();
  let unanswered: unknown;
  const send = (d: Descriptor, source: () => BlobSource | Promise<BlobSource>, fresh = false) => {
    if (unanswered !== undefined) return;
    for (const t of targets) {
      const key = `${t.ref.registry}/${t.ref.repository}@${d.digest}`;
      if (sent.has(key)) continue;
      sent.add(key);
      const shared = `${t.ref.registry}@${d.digest}`;
      const before = uploading.get(shared);
      const job = (async () => {
        if (before) await before.catch(() => {});
        const from = o.blobLocations?.find(t.ref.registry, d.digest, t.ref.repository);
        const src = await source();
        await t.limit(() =>
          pushBlob(t.client, t.ref.repository, d, src, {
            ...(from !== undefined ? { mountFrom: from } : {}),
            ...(fresh ? { fresh } : {}),
          }),
        );
        o.blobLocations?.note(t.ref.registry, t.ref.repository, d.digest);
        done.add(key);
      })();
      uploading.set(shared, job);
      pending.push(
        job.then(
          () => {
            if (uploading.get(shared) === job) uploading.delete(shared);
          },
          (e: unknown) => {
            if (uploading.get(shared) === job) uploading.delete(shared);
            // the final push uploads it again and reports the error, unless the registry is silent
            if (
              unanswered === undefined &&
              isFromscratchError(e, 'TIMEOUT') &&
              e.message.startsWith('contacting registry ')
            )
              unanswered = e;
          },
        ),
      );
    }
  };
  return {
    onLayer(layer, fresh = false) {
      const d = layer.blob;
      // a small layer just made (an app edit's) goes up in one request, its bytes read first
      if (fresh && d.size <= SMALL_LAYER) send(d, () => readBlob(store, d.digest, d.size), true);
      else send(d, () => () => store.open(d.digest, d.size));
    },
    onConfig: (desc, bytes, fresh = false) => send(desc, () => bytes, fresh),
    pushed: (registry, repository, digest) => done.has(`${registry}/${repository}@${digest}`),
    async settle() {
      await Promise.all(pending);
      for (const t of targets) t.client.close();
      return unanswered;
    },
  };
}
