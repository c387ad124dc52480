/**
 * build-image.ts — the `build` command's library entry: build, write every output, keep the records.
 */
import { join } from 'node:path';
import pLimit from 'p-limit';
import { dirStore } from '../blob/dir-store.ts';
import type { BlobStore } from '../blob/store.ts';
import { FromscratchError } from '../errors.ts';
import { canonicalJson } from '../image/canonical-json.ts';
import { type Layer, serializeImage } from '../image/image.ts';
import type { Descriptor } from '../model/descriptor.ts';
import { MediaType } from '../model/media-type.ts';
import { formatPlatform } from '../model/platform.ts';
import { formatBytes, type ProgressSink } from '../model/progress.ts';
import { checkOutput } from '../oci/check-output.ts';
import { copyCheckedLayer } from '../oci/diff-id.ts';
import { parseTagNames } from '../oci/image-io.ts';
import type { ImageSet } from '../oci/image-set.ts';
import { attachToOciLayout, serializeImages } from '../oci/oci-layout.ts';
import { formatImageRef, type ImageRef, parseImageRef, parseOutputRef } from '../oci/transport.ts';
import type { RegistryClientOptions } from '../registry/client.ts';
import { pushReferrer } from '../registry/push.ts';
import { parseReference } from '../registry/reference.ts';
import { checkSecretFile } from '../trace/secret-file.ts';
import { type BlobLocations, readBlobLocations } from './blob-locations.ts';
import { type BuildOptions, type BuildResult, build } from './build.ts';
import type { BuildSpec } from './build-spec.ts';
import { cacheDir } from './cache-dir.ts';
import { maybePruneCache } from './cache-prune.ts';
import { earlyPush } from './early-push.ts';
import { sbomOf } from './explain.ts';
import { outputLedger } from './output-ledger.ts';
import { writeRecord } from './record-cache.ts';
import { openRegistryCache, type RegistryCache } from './registry-cache.ts';
import { readAnyImage, writeAnyImage } from './transports.ts';
import { type VerifyReport, verifyBuild } from './verify.ts';

/** BuildImageOptions configures buildImage. */
export interface BuildImageOptions extends Omit<BuildOptions, 'store' | 'readBase' | 'checkSecret'> {
  /** where layers are kept (default the blob cache under {@link cacheDir}) */
  store?: BlobStore;
  /** registry client settings */
  registry?: RegistryClientOptions;
  /** directory for build records (default {@link cacheDir}) */
  recordDir?: string;
  /** commands run inside the built image before it is written */
  verify?: readonly string[];
  /** with verify: add what the commands miss and build again */
  fix?: boolean;
  /** attach an SBOM of this format to OCI layout and registry outputs (an OCI 1.1 artifact with the image as subject; on a registry without the referrers API, listed under the tag sha256-HEX) */
  sbom?: 'spdx' | 'cyclonedx';
  /**
   * attach each platform's build record to OCI layout and registry outputs (an OCI 1.1 artifact with the
   * platform's manifest as subject), so that `why` and `sbom` work where the image goes, not only here
   */
  attachRecord?: boolean;
  /** the record of which repositories hold which blobs (shared by the images of one build) */
  blobLocations?: BlobLocations;
  /** an opened registry cache shared by several images (buildImages): used here, exported by the caller */
  registryCache?: RegistryCache;
  /** registry caches to import layers from (default the spec's `cache.from`) */
  cacheFrom?: readonly string[];
  /** registry cache to export this build's layers to (default the spec's `cache.to`) */
  cacheTo?: string;
  /** buildImages: images built at once (default {@link IMAGE_CONCURRENCY}) */
  imageConcurrency?: number;
}

/** BuildSummary is the machine-readable result of a build (`--json`). */
export interface BuildSummary {
  /** the manifest digest (one platform) or index digest (several) */
  readonly digest: string;
  readonly mediaType: string;
  readonly platforms: readonly {
    readonly platform: string;
    readonly digest: string;
    readonly layers: number;
    readonly files: number;
    /** the static start check: whether the image can start, and what would stop it */
    readonly check?: {
      readonly starts: boolean;
      readonly problems: readonly {
        readonly kind: string;
        readonly path: string;
        readonly message: string;
        readonly fix: string;
      }[];
    };
  }[];
  readonly outputs: readonly { readonly output: string; readonly digest: string }[];
  /** what --verify ran and what --fix added */
  readonly verified?: readonly VerifyReport[];
  readonly warnings: readonly string[];
}

/** BuiltImage is what buildImage returns. */
export interface BuiltImage {
  readonly digest: string;
  readonly summary: BuildSummary;
  readonly result: BuildResult;
  readonly store: BlobStore;
}

/**
 * buildImage builds a spec and writes it to every output of `spec.outputs`, named by every `spec.tags`
 * name in each output that takes one (an untagged `oci:DIR` gets the `-t` tags, not a made-up one), and keeps a build record per platform for `why` and `sbom`.
 * Throws USAGE when there is no output, and every error of the build and the sinks. An output that fails
 * leaves earlier outputs of the same run written and an existing layout as it was.
 */
export async function buildImage(spec: BuildSpec, opts: BuildImageOptions = {}): Promise<BuiltImage> {
  const outputs = (spec.outputs ?? []).map((o) => ({ text: o, ref: parseOutputRef(o) }));
  parseTagNames(spec.tags ?? []);
  // outputs are checked before any work: an unwritable or non-layout target fails now, not after the layers
  for (const o of outputs) await checkOutput(o.ref);

  if (outputs.length === 0) {
    throw new FromscratchError('USAGE', 'no output given', {
      hint: 'say where to write the image, e.g. -o oci:out:latest, -o docker-archive:img.tar:app:1 or -o docker-daemon:app:1',
    });
  }
  const localStore =
    opts.store ?? dirStore(join(cacheDir(), 'blobs'), { fsync: false, cache: true, trusted: true });
  const registryOutputs = outputs.flatMap((o) => (o.ref.kind === 'registry' ? [o.ref.reference] : []));
  const cacheFrom = opts.cacheFrom ?? spec.cache?.from ?? [];
  const cacheTo = opts.cacheTo ?? spec.cache?.to;
  const useCache = opts.registryCache === undefined && (cacheFrom.length > 0 || cacheTo !== undefined);
  // which repositories hold which blobs: pushes mount from them (only when a registry is involved)
  const blobLocations =
    registryOutputs.length > 0 || useCache || opts.blobLocations || fromRegistry(spec.from)
      ? (opts.blobLocations ?? (await readBlobLocations()))
      : undefined;
  // the registry cache: read before anything is built (an unreachable --cache-to fails here)
  const cache = useCache
    ? await openRegistryCache({
        from: cacheFrom,
        ...(cacheTo !== undefined ? { to: cacheTo } : {}),
        store: localStore,
        ...(opts.registry ? { registry: opts.registry } : {}),
        ...(blobLocations ? { blobLocations } : {}),
        log: { info: (m) => opts.logger?.info(m), warn: (m) => opts.logger?.warn(m) },
      })
    : undefined;
  const store = opts.registryCache?.store ?? cache?.store ?? localStore;
  const shared = opts.registryCache ?? cache;
  const transport = {
    store,
    ...(opts.registry ? { registry: opts.registry } : {}),
    ...(blobLocations ? { blobLocations } : {}),
  };
  // layers go to the registry outputs while the next one is compressed
  const early =
    registryOutputs.length > 0
      ? earlyPush(
          registryOutputs.map((r) => parseReference(r)),
          store,
          {
            ...(opts.registry ? { registry: opts.registry } : {}),
            ...(blobLocations ? { blobLocations } : {}),
          },
        )
      : undefined;
  /** whether a layer was made anew (not found in a cache): then the configs are new too */
  let madeLayers = false;
  const buildOpts: BuildOptions = {
    ...opts,
    store,
    checkSecret: (p) => checkSecretFile(p),
    ...(early
      ? {
          onLayer: (l: Layer, fresh?: boolean) => {
            if (fresh) madeLayers = true;
            early.onLayer(l, fresh);
          },
        }
      : {}),
    ...(shared ? { sharedLayers: shared } : {}),
    readBase: async (ref, platform) => {
      const set = await readAnyImage(ref, transport, { platform });
      // the base image's layers are reused as they are: copy them into our store once, checked against
      // the config's diff_ids on the way (an image umoci and docker refuse is never built, issue 15.6)
      try {
        for (const [i, l] of set.images[0]!.layers.entries())
          await copyCheckedLayer(store, set.store, l, `base image ${ref}: layers[${i}] ${l.blob.digest}`);
        return set.images[0]!;
      } finally {
        await set.close();
      }
    },
  };
  let result: BuildResult;
  let silent: unknown;
  const created = new Date((opts.sourceDateEpoch ?? 0) * 1000).toISOString().replace(/\.000Z$/, 'Z');
  try {
    result = await build(spec, buildOpts);
    // each image's config goes up beside the last layers' uploads: the push below only PUTs the
    // manifest (--verify may build again: its configs are the push's own)
    if (early && !opts.verify?.length) {
      for (const p of result.images) {
        const s = serializeImage(p.image, { created });
        early.onConfig(s.configDescriptor, s.config, madeLayers);
      }
    }
  } finally {
    silent = await early?.settle();
  }
  // a registry output that never answered the early uploads would only time out again in the push
  if (silent !== undefined) throw silent;
  let reports: VerifyReport[] = [];
  if (opts.verify && opts.verify.length > 0) {
    const v = await verifyBuild(spec, result, opts.verify, {
      store,
      ...(opts.fix ? { fix: true } : {}),
      rebuild: (s) => build(s, buildOpts),
      log: (m) => opts.logger?.info(m),
    });
    result = v.result;
    reports = v.reports;
  }
  const images = result.images.map((p) => p.image);
  const tag = spec.tags?.[0];
  const named = outputs.map((o) => {
    const ref = withDefaultTag(o.ref, tag);
    return { ref, name: formatImageRef(ref) };
  });
  const platformNames = result.images.map((p) => formatPlatform(p.platform));
  const steps = writeSteps(named, platformNames, {
    attachRecord: opts.attachRecord === true,
    ...(opts.sbom ? { sbom: opts.sbom } : {}),
    ...(cache && cacheTo !== undefined ? { cacheTo } : {}),
  });
  // what a failure leaves is named in its error: the outputs done before it, and those not written
  const ledger = outputLedger(
    [
      ...steps.images,
      ...platformNames.flatMap((_, i) => steps.records.flatMap((r) => r[i] ?? [])),
      ...steps.sboms.flat(),
      ...steps.cache,
    ],
    early ? registryOutputs.map((r) => `layers of the image to docker://${r}`) : [],
  );
  const serialized = (() => {
    try {
      return serializeImages(images, { created });
    } catch (e) {
      return ledger.fail('writing the image', e);
    }
  })();
  const written: { output: string; digest: string }[] = [];
  const tops: Descriptor[] = [];
  for (const [n, o] of outputs.entries()) {
    // every -t names the image in every output that takes a name (writeImage's `tags`)
    const w = await ledger.run(steps.images[n]!, () =>
      // the layers the early push put there are neither asked for again nor sent
      writeAnyImage(o.ref, images, store, early ? { ...transport, pushed: early.pushed } : transport, {
        created,
        ...(spec.tags?.length ? { tags: spec.tags } : {}),
      }),
    );
    written.push({ output: named[n]!.name, digest: w.descriptor.digest });
    tops.push(w.descriptor);
  }
  for (const [i, p] of result.images.entries()) {
    const digest = serialized.manifests[i]!.digest;
    const record = { ...p.record, manifestDigest: digest };
    // the Docker Engine keeps the config bytes but not the manifest: find the record by config digest too
    await writeRecord(record, digest, opts.recordDir, [
      serializeImage(p.image, { created }).configDescriptor.digest,
    ]);
    if (opts.attachRecord) {
      const artifact = { artifactType: MediaType.BuildRecord, data: canonicalJson(record) };
      for (const [n, { ref }] of named.entries()) {
        const step = steps.records[n]?.[i];
        if (step === undefined) continue;
        await ledger.run(step, async () => {
          if (ref.kind === 'oci') await attachToOciLayout(ref.dir, serialized.manifests[i]!, artifact);
          else if (ref.kind === 'registry')
            await pushReferrer(ref.reference, serialized.manifests[i]!, artifact, {
              ...(opts.registry ? { clientOptions: opts.registry } : {}),
            });
        });
      }
    }
  }
  const sbom = opts.sbom;
  if (sbom) {
    const artifactType = sbom === 'spdx' ? MediaType.SpdxJson : MediaType.CycloneDxJson;
    // the SBOM is made from the images here (nothing is pulled back), named after each output
    const built: ImageSet = {
      images,
      manifests: serialized.manifests,
      descriptor: serialized.top,
      store,
      close: async () => {},
    };
    // one SBOM per platform, each with its platform's manifest as subject (as buildx attests each
    // platform); a single-platform image is its own top
    const multi = images.length > 1;
    for (const [n, { ref }] of named.entries()) {
      if (ref.kind !== 'oci' && ref.kind !== 'registry') continue;
      for (let i = 0; i < images.length; i++) {
        await ledger.run(steps.sboms[n]![i]!, async () => {
          const doc = await sbomOf(built, formatImageRef(ref), sbom, opts.recordDir, { index: i });
          const artifact = { artifactType, data: canonicalJson(doc) };
          const subject = multi ? serialized.manifests[i]! : ref.kind === 'oci' ? serialized.top : tops[n]!;
          if (ref.kind === 'oci') await attachToOciLayout(ref.dir, subject, artifact);
          else
            await pushReferrer(ref.reference, subject, artifact, {
              ...(opts.registry ? { clientOptions: opts.registry } : {}),
            });
        });
      }
    }
  }
  if (cache) {
    try {
      const exported = await (steps.cache[0] === undefined
        ? cache.export()
        : ledger.run(steps.cache[0], () => cache.export()));
      if (exported)
        opts.logger?.info(
          `cache exported: ${exported.entries} layer(s), ${exported.results} result(s), ${exported.blobs} package file(s) to ${exported.reference}`,
        );
    } finally {
      cache.close();
    }
  }
  await blobLocations?.save().catch(() => {
    /* a hint only */
  });
  // the cache of this machine stays bounded (cache-prune.ts); a caller's own store is its own affair
  if (opts.store === undefined) await trimCache(opts.logger);
  const summary: BuildSummary = {
    digest: serialized.top.digest,
    mediaType: serialized.top.mediaType,
    platforms: result.images.map((p, i) => ({
      platform: formatPlatform(p.platform),
      digest: serialized.manifests[i]!.digest,
      layers: p.image.layers.length,
      files: p.record.files.length,
      ...(p.check
        ? {
            check: {
              starts: p.check.problems.length === 0,
              problems: p.check.problems.map(({ kind, path, message, fix }) => ({
                kind,
                path,
                message,
                fix,
              })),
            },
          }
        : {}),
    })),
    outputs: written,
    ...(reports.length > 0 ? { verified: reports } : {}),
    warnings: result.warnings,
  };
  return { digest: serialized.top.digest, summary, result, store };
}

/**
 * writeSteps names, in the order buildImage performs them, every write of a build to its outputs: the
 * image to each output, then each platform's build record and SBOM to each layout or registry output
 * (`records[output][platform]`, `sboms[output][platform]`; empty for the other transports), then the
 * registry cache.
 */
function writeSteps(
  outputs: readonly { readonly ref: ImageRef; readonly name: string }[],
  platforms: readonly string[],
  o: { attachRecord: boolean; sbom?: 'spdx' | 'cyclonedx'; cacheTo?: string },
): { images: string[]; records: string[][]; sboms: string[][]; cache: string[] } {
  const attachable = (ref: ImageRef) => ref.kind === 'oci' || ref.kind === 'registry';
  const of = (i: number) => (platforms.length > 1 ? ` of ${platforms[i]}` : '');
  const sbomName = o.sbom === 'spdx' ? 'SPDX SBOM' : 'CycloneDX SBOM';
  return {
    images: outputs.map((x) => `the image to ${x.name}`),
    records: outputs.map((x) =>
      o.attachRecord && attachable(x.ref)
        ? platforms.map((_, i) => `the build record${of(i)} to ${x.name}`)
        : [],
    ),
    sboms: outputs.map((x) =>
      o.sbom && attachable(x.ref) ? platforms.map((_, i) => `the ${sbomName}${of(i)} to ${x.name}`) : [],
    ),
    cache: o.cacheTo !== undefined ? [`the layer cache to ${o.cacheTo}`] : [],
  };
}

/** fromRegistry says whether a base image is read from a registry (`docker://…` or a plain docker name). */
function fromRegistry(from: string | undefined): boolean {
  if (from === undefined || from === 'scratch') return false;
  try {
    return parseImageRef(from).kind === 'registry';
  } catch {
    return false; // the build reports a bad name where it reads the base image
  }
}

function withDefaultTag(ref: ImageRef, tag: string | undefined): ImageRef {
  if (tag === undefined) return ref;
  switch (ref.kind) {
    case 'oci':
    case 'oci-archive':
      return ref.tag === undefined
        ? { ...ref, tag: tag.includes(':') ? tag.slice(tag.lastIndexOf(':') + 1) : tag }
        : ref;
    case 'docker-archive':
      return ref.name === undefined ? { ...ref, name: tag } : ref;
    default:
      return ref;
  }
}

/** IMAGE_CONCURRENCY is how many images of one spec are built at once (default of imageConcurrency). */
export const IMAGE_CONCURRENCY = 3;

/** taggedProgress keeps the tasks of concurrent images apart: ids and labels carry the image's name. */
function taggedProgress(sink: ProgressSink, name: string): ProgressSink {
  return (e) => {
    if (e.kind === 'note') sink(e);
    else if (e.kind === 'start') sink({ ...e, id: `${name} ${e.id}`, label: `${name}: ${e.label}` });
    else sink({ ...e, id: `${name} ${e.id}` });
  };
}

/** BuiltImages is what buildImages returns: one entry per image of the spec, in its order. */
export interface BuiltImages {
  readonly images: readonly {
    readonly name: string;
    readonly digest: string;
    readonly summary: BuildSummary;
  }[];
}

/**
 * buildImages builds every image of a multi-image spec (`images:`) in this process, a few at a time:
 * one blob store, one layer cache (a layer shared by several images is written once, then found by the
 * next image), one record of which repository holds which blob (a layer already pushed to a registry
 * is mounted into the other repositories, not uploaded again; each image's uploads run concurrently,
 * bounded per registry), and one registry cache, read before the first image and exported after the
 * last. Throws USAGE for an image without outputs, and every error of buildImage.
 */
export async function buildImages(spec: BuildSpec, opts: BuildImageOptions = {}): Promise<BuiltImages> {
  const images = spec.images ?? [];
  for (const im of images) {
    if (!im.spec.outputs?.length)
      throw new FromscratchError('USAGE', `image ${JSON.stringify(im.name)} has no output`, {
        hint: 'give it outputs:, or top-level outputs: with {name} in them (docker://HOST/team/{name}:1)',
      });
  }
  const store =
    opts.store ?? dirStore(join(cacheDir(), 'blobs'), { fsync: false, cache: true, trusted: true });
  const blobLocations = opts.blobLocations ?? (await readBlobLocations());
  const cacheFrom = opts.cacheFrom ?? spec.cache?.from ?? [];
  const cacheTo = opts.cacheTo ?? spec.cache?.to;
  const cache =
    cacheFrom.length > 0 || cacheTo !== undefined
      ? await openRegistryCache({
          from: cacheFrom,
          ...(cacheTo !== undefined ? { to: cacheTo } : {}),
          store,
          ...(opts.registry ? { registry: opts.registry } : {}),
          blobLocations,
          log: { info: (m) => opts.logger?.info(m), warn: (m) => opts.logger?.warn(m) },
        })
      : undefined;
  // images are built concurrently, a few at a time: one waits on the registry while another compresses;
  // a layer two images share is made once (write-layers.ts) and uploaded once per registry (early-push.ts)
  const limit = pLimit(Math.max(1, opts.imageConcurrency ?? IMAGE_CONCURRENCY));
  let out: { name: string; digest: string; summary: BuildSummary }[];
  try {
    out = await Promise.all(
      images.map((im) =>
        limit(async () => {
          opts.logger?.info(`image ${im.name}:`);
          const tag = (m: string) => (images.length > 1 ? `${im.name}: ${m}` : m);
          const r = await buildImage(im.spec, {
            ...opts,
            store: cache?.store ?? store,
            blobLocations,
            ...(cache ? { registryCache: cache } : {}),
            ...(opts.logger
              ? { logger: { info: (m) => opts.logger?.info(tag(m)), warn: (m) => opts.logger?.warn(tag(m)) } }
              : {}),
            ...(opts.progress ? { progress: taggedProgress(opts.progress, im.name) } : {}),
          });
          return { name: im.name, digest: r.digest, summary: r.summary };
        }),
      ),
    );
    const exported = await cache?.export();
    if (exported)
      opts.logger?.info(
        `cache exported: ${exported.entries} layer(s), ${exported.results} result(s), ${exported.blobs} package file(s) to ${exported.reference}`,
      );
  } finally {
    cache?.close();
  }
  if (opts.store === undefined) await trimCache(opts.logger);
  return { images: out };
}

/** trimCache prunes the default cache when it is time (at most hourly), saying what went. */
async function trimCache(logger: BuildImageOptions['logger']): Promise<void> {
  const r = await maybePruneCache(cacheDir()).catch(() => undefined);
  if (r === undefined) return;
  const parts = [
    r.records > 0 ? `${r.records} build record(s)` : '',
    r.closures > 0 ? `${r.closures} closure memo(s)` : '',
    r.layerEntries > 0 ? `${r.layerEntries} layer cache entr${r.layerEntries === 1 ? 'y' : 'ies'}` : '',
    r.blobs > 0 ? `${r.blobs} blob(s), ${formatBytes(r.blobBytes)}` : '',
  ].filter(Boolean);
  if (parts.length > 0) logger?.info(`cache trimmed to its bounds: ${parts.join(', ')} removed`);
}
