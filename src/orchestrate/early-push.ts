/**
 * early-push.ts — send each layer to the registry outputs as soon as it is written, while the next
 * layer is still being compressed, so that the push after the build finds the blobs there (HEAD) and
 * only sends the config and the manifest.
 *
 * An early upload that fails is not an error of its own: the push at the end uploads the blob again
 * and reports what went wrong there.
 */
import pLimit from 'p-limit';
import type { BlobStore } from '../blob/store.ts';
import { isFromscratchError } from '../errors.ts';
import type { Layer } from '../image/image.ts';
import { createRegistryClient, type RegistryClientOptions } from '../registry/client.ts';
import { pushBlob } from '../registry/push.ts';
import type { Reference } from '../registry/reference.ts';
import type { BlobLocations } from './blob-locations.ts';

/**
 * uploads in flight in this process, by registry and digest: the images of one build (buildImages) push
 * at once, and a blob another image is uploading to the same registry is waited for, then mounted
 */
const uploading = new Map<string, Promise<void>>();

/** EarlyPush receives layers as they are made; settle() waits for their uploads. */
export interface EarlyPush {
  onLayer(layer: Layer): void;
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
  return {
    onLayer(layer) {
      const d = layer.blob;
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
          await t.limit(() =>
            pushBlob(t.client, t.ref.repository, d, () => store.open(d.digest, d.size), {
              ...(from !== undefined ? { mountFrom: from } : {}),
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
    },
    pushed: (registry, repository, digest) => done.has(`${registry}/${repository}@${digest}`),
    async settle() {
      await Promise.all(pending);
      for (const t of targets) t.client.close();
      return unanswered;
    },
  };
}
