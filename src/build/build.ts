/**
 * build.ts — orchestration: BuildSpec → Image(s) + BuildRecord(s), layers materialised in a BlobStore.
 *
 * Per platform: start from the base image (or scratch), gather every requested item with its closure
 * into one FileTree (each path with its reasons), add the scratch defaults, write the layer, and patch
 * the runtime config. Writing outputs is left to the caller (sinks in oci/ and registry/).
 */
import { resolve as resolveHostPath } from 'node:path';
import type { BlobStore } from '../blob/store.ts';
import { type ClosureOptions, closureToEntries, resolveClosure } from '../closure/closure.ts';
import { isElf } from '../elf/parse-elf.ts';
import { FromscratchError, withContext } from '../errors.ts';
import { hostFs } from '../fs/host-fs.ts';
import type { Origin } from '../fs/origin.ts';
import { overlayFs } from '../fs/overlay-fs.ts';
import { normalizeImagePath } from '../fs/path.ts';
import { resolvePath } from '../fs/resolve.ts';
import type { RootFs } from '../fs/root-fs.ts';
import { appendLayers, emptyImage, type Image, withConfig } from '../image/image.ts';
import { makeLayer } from '../layer/make-layer.ts';
import { formatPlatform, hostPlatform, type Platform } from '../model/platform.ts';
import { traceCommand } from '../trace/trace.ts';
import { Collector } from './collector.ts';
import { scratchDefaults } from './defaults.ts';
import {
  addDirectories,
  gatherContextAdd,
  gatherCopyFrom,
  type ItemContext,
  removeAll,
} from './docker-items.ts';
import { collectHostPath, type SecretCheck } from './host-add.ts';
import { attributeHostFiles } from './host-packages.ts';
import { cachedLayer, layerCacheKey, rememberLayer } from './layer-cache.ts';
import { packageEntries, toRecordedPackages } from './packages.ts';
import { type BuildRecord, type RecordedPackage, toRecordedFiles } from './record.ts';
import type { BuildSpec, ContentItem } from './spec.ts';

/** Logger receives progress and warnings; the library never writes to stdout/stderr itself. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

const silent: Logger = { info: () => {}, warn: () => {} };

/** BuildOptions are the inputs of a build that are not part of the spec. */
export interface BuildOptions {
  /** where layers are written */
  store: BlobStore;
  /** working directory for relative host paths (default process.cwd()) */
  cwd?: string;
  /** SOURCE_DATE_EPOCH: mtime of every entry and `created` of the image (default 0) */
  sourceDateEpoch?: number;
  logger?: Logger;
  /** secrets policy for added and traced files */
  checkSecret?: SecretCheck;
  /** host paths the user allows despite the secrets policy */
  allowSecrets?: readonly string[];
  /** run-time inferences of the closure engine */
  infer?: ClosureOptions['infer'];
  /** reuse the layer of an identical earlier build from the local layer cache (default true) */
  layerCache?: boolean;
  /** read the base image (any transport); required when spec.from is set */
  readBase?: (ref: string, platform: Platform) => Promise<Image>;
}

/** PlatformBuild is the result for one platform. */
export interface PlatformBuild {
  readonly platform: Platform;
  readonly image: Image;
  readonly record: BuildRecord;
}

/** BuildResult is what build() returns: one image per platform, layers in the store. */
export interface BuildResult {
  readonly images: readonly PlatformBuild[];
  readonly warnings: readonly string[];
}

/**
 * build turns a BuildSpec into images. Throws FromscratchError for every user-fixable problem (missing
 * inputs, libraries not found, conflicting paths); writes nothing but blobs in `opts.store`.
 * @example
 * const { images } = await build({ contents: [{ kind: 'binary', path: '/usr/bin/env' }] }, { store: memoryStore() });
 */
export async function build(spec: BuildSpec, opts: BuildOptions): Promise<BuildResult> {
  const platforms = spec.platforms && spec.platforms.length > 0 ? spec.platforms : [hostPlatform()];
  const images: PlatformBuild[] = [];
  const warnings: string[] = [];
  for (const platform of platforms) {
    const r = await buildPlatform(spec, platform, opts);
    images.push(r);
    warnings.push(...r.record.warnings);
  }
  return { images, warnings };
}

async function buildPlatform(
  spec: BuildSpec,
  platform: Platform,
  opts: BuildOptions,
): Promise<PlatformBuild> {
  const log = opts.logger ?? silent;
  const host = hostFs('/');
  const root: RootFs = spec.sysroot ? hostFs(spec.sysroot) : host;
  checkArch(spec, platform);
  const base =
    spec.from && spec.from !== 'scratch' ? await readBase(opts, spec.from, platform) : emptyImage(platform);
  const warnings: string[] = [];
  const ctx: GatherContext = {
    col: new Collector(),
    closureRoots: [],
    traces: [],
    cleanup: [],
    root,
    host,
    cwd: opts.cwd ?? process.cwd(),
    opts,
    warn: (m) => {
      warnings.push(m);
      log.warn(m);
    },
    isProgram: (hostPath, mode) => isProgram(host, hostPath, mode),
    secrets: {
      ...(opts.checkSecret ? { checkSecret: opts.checkSecret } : {}),
      ...(opts.allowSecrets ? { allowSecrets: opts.allowSecrets } : {}),
    },
    imageOf: async (from) => {
      if ('image' in from) return { image: await readBase(opts, from.image, platform), store: opts.store };
      const stage = await buildPlatform({ ...from.stage, platforms: [platform] }, platform, opts);
      return { image: stage.image, store: opts.store };
    },
  };
  try {
    const packages = await gatherPackages(spec, platform, ctx);
    if (spec.directories) await addDirectories(ctx, spec.directories);
    for (const item of spec.contents) {
      if (item.kind === 'package') continue;
      try {
        await gatherItem(item, ctx);
      } catch (e) {
        withContext(`adding ${describeItem(item)}`, e);
      }
    }
    await gatherClosure(spec, ctx);
    if (spec.packageRecords !== false)
      packages.push(...(await attributeHostFiles(ctx.col, spec.sysroot ?? '/', packages)));
    for (const d of scratchDefaults(spec.defaults, (p) => ctx.col.has(p) || base.layers.length > 0))
      ctx.col.addIfAbsent(d.entry, d.origin);

    const tree = ctx.col.tree();
    const epoch = opts.sourceDateEpoch ?? 0;
    const compression = spec.compression ?? 'gzip';
    const key =
      opts.layerCache === false
        ? undefined
        : await layerCacheKey(tree, { compression, sourceDateEpoch: epoch });
    let layer = key ? await cachedLayer(key, opts.store) : undefined;
    if (layer) log.info(`layer unchanged (${tree.entries.length} entries): ${layer.blob.digest}`);
    else {
      log.info(`writing layer: ${tree.entries.length} entries`);
      layer = await makeLayer(tree, opts.store, { compression, sourceDateEpoch: epoch });
      if (key) await rememberLayer(key, layer);
    }
    const created = new Date(epoch * 1000).toISOString().replace(/\.000Z$/, 'Z');
    const image = withConfig(
      appendLayers(
        base,
        [layer],
        [
          {
            created,
            created_by: spec.history?.join(' && ') || `fromscratch build ${describeContents(spec.contents)}`,
          },
        ],
      ),
      spec.config ?? {},
      {
        created,
        ...(spec.author ? { author: spec.author } : {}),
        ...(spec.annotations ? { annotations: { ...(base.annotations ?? {}), ...spec.annotations } } : {}),
      },
    );
    const record: BuildRecord = {
      version: 1,
      platform: formatPlatform(platform),
      files: toRecordedFiles(tree.entries, ctx.col.origins()),
      packages,
      traces: ctx.traces,
      warnings,
    };
    return { platform, image, record };
  } finally {
    await removeAll(ctx.cleanup);
  }
}

/** checkArch refuses to resolve host programs for another architecture without a sysroot. */
function checkArch(spec: BuildSpec, platform: Platform): void {
  const needsRoot = spec.contents.some((c) => c.kind === 'binary' || c.kind === 'trace');
  if (spec.sysroot || !needsRoot || formatPlatform(platform) === formatPlatform(hostPlatform())) return;
  throw new FromscratchError(
    'ARCH_MISMATCH',
    `cannot resolve programs for ${formatPlatform(platform)} on this ${formatPlatform(hostPlatform())} host without a sysroot`,
    {
      hint: 'pass --sysroot DIR holding a root filesystem of that architecture, or use --package for Debian packages',
    },
  );
}

function readBase(opts: BuildOptions, ref: string, platform: Platform): Promise<Image> {
  if (!opts.readBase) throw new Error('build: a base image is named but no readBase was given');
  return opts.readBase(ref, platform);
}

/** gatherPackages resolves every --package of the spec together (one apt resolution) and adds their files. */
async function gatherPackages(
  spec: BuildSpec,
  platform: Platform,
  ctx: GatherContext,
): Promise<RecordedPackage[]> {
  const wanted = spec.contents.filter(
    (c): c is Extract<ContentItem, { kind: 'package' }> => c.kind === 'package',
  );
  if (wanted.length === 0) return [];
  try {
    const debs = await packageEntries(wanted, platform, {
      ...(spec.aptSources ? { sources: spec.aptSources } : {}),
      ...(spec.lockfile ? { lockfile: resolveHostPath(ctx.cwd, spec.lockfile) } : {}),
      ...(spec.locked ? { locked: true } : {}),
      onProgress: (m) => ctx.opts.logger?.info(m),
    });
    for (const entry of debs.entries) {
      for (const o of debs.origins.get(entry.path) ?? [{ kind: 'requested', via: '--package' } as const])
        ctx.col.addIfAbsent(entry, o);
    }
    return toRecordedPackages(debs);
  } catch (e) {
    return withContext(`adding ${wanted.map(describeItem).join(' ')}`, e);
  }
}

/** gatherClosure resolves the closure of every program gathered, over the root with the added files laid on it. */
async function gatherClosure(spec: BuildSpec, ctx: GatherContext): Promise<void> {
  if (ctx.closureRoots.length === 0) return;
  const fs = overlayFs(ctx.root, ctx.col.overlay, ctx.host);
  const env = spec.config?.Env ?? undefined;
  const envVar = (k: string) => env?.find((e) => e.startsWith(`${k}=`))?.slice(k.length + 1);
  const ldPath = [...(spec.libraryPaths ?? []), ...(envVar('LD_LIBRARY_PATH')?.split(':') ?? [])];
  const pathVar = envVar('PATH');
  const infer = {
    ...(ctx.opts.infer ?? {}),
    ...(spec.defaults?.caCertificates === false ? { caCerts: false } : {}),
  };
  const result = await resolveClosure(
    ctx.closureRoots.map((r) => r.path),
    fs,
    {
      infer,
      strict: true,
      ...(ldPath.length ? { libraryPath: ldPath } : {}),
      ...(pathVar ? { path: pathVar.split(':') } : {}),
    },
  );
  for (const { path, origin } of ctx.closureRoots) ctx.col.note(path, origin);
  for (const { entry, origins, hostPath } of await closureToEntries(result, fs)) {
    // the roots' own `requested` reasons are the ones noted above (--binary, --add, --trace)
    const reasons = origins.filter((o) => o.kind !== 'requested');
    if (reasons.length === 0) {
      const own = ctx.closureRoots.find((r) => r.path === entry.path)?.origin ?? {
        kind: 'requested',
        via: 'closure',
      };
      ctx.col.addIfAbsent(entry, own, hostPath);
    }
    for (const o of reasons) ctx.col.addIfAbsent(entry, o, hostPath);
  }
  for (const w of result.warnings) ctx.warn(w);
}

/** GatherContext is the state of one platform's build while its items are gathered. */
interface GatherContext extends ItemContext {
  readonly traces: { command: string; exitCode: number; cwd: string }[];
  /** where programs and libraries are resolved (the host's / or a sysroot) */
  readonly root: RootFs;
  readonly host: RootFs;
  readonly cwd: string;
  readonly opts: BuildOptions;
}

async function gatherItem(item: ContentItem, ctx: GatherContext): Promise<void> {
  const { col } = ctx;
  switch (item.kind) {
    case 'copy-from':
      return gatherCopyFrom(ctx, item);
    case 'binary': {
      const p = item.path.startsWith('/') ? item.path : `${ctx.cwd}/${item.path}`;
      const r = await resolvePath(ctx.root, p);
      if (!r.stat) {
        throw new FromscratchError('FILE_NOT_FOUND', `program ${item.path} not found in ${ctx.root.name}`, {
          hint: 'give the full path of the program, e.g. --binary /usr/bin/curl',
        });
      }
      ctx.closureRoots.push({ path: normalizeImagePath(p), origin: { kind: 'requested', via: '--binary' } });
      return;
    }
    case 'add': {
      if (item.context !== undefined) return gatherContextAdd(ctx, { ...item, context: item.context });
      const src = item.src.startsWith('/') ? item.src : `${item.context ?? ctx.cwd}/${item.src}`;
      const dest = item.dest ?? src;
      const entries = await collectHostPath(src, dest, {
        ...(item.ownership ? { ownership: item.ownership } : {}),
        ...(ctx.opts.checkSecret ? { checkSecret: ctx.opts.checkSecret } : {}),
        ...(ctx.opts.allowSecrets ? { allowSecrets: ctx.opts.allowSecrets } : {}),
        warn: ctx.warn,
      });
      for (const { entry, hostPath } of entries) {
        col.add(
          entry,
          { kind: 'requested', via: '--add', source: hostPath },
          entry.type === 'file' ? hostPath : undefined,
        );
      }
      if (item.closure !== false) {
        for (const { entry, hostPath } of entries) {
          if (entry.type !== 'file') continue;
          if (await isProgram(ctx.host, hostPath, entry.mode)) {
            ctx.closureRoots.push({
              path: entry.path,
              origin: { kind: 'requested', via: '--add', source: hostPath },
            });
          }
        }
      }
      return;
    }
    case 'file':
      col.add(
        {
          type: 'file',
          path: item.dest,
          mode: item.mode ?? item.ownership?.mode ?? 0o644,
          uid: item.ownership?.uid ?? 0,
          gid: item.ownership?.gid ?? 0,
          size: item.data.byteLength,
          content: { kind: 'bytes', data: item.data },
        },
        { kind: 'requested', via: 'generated file' },
      );
      return;
    case 'trace': {
      if (ctx.root !== ctx.host) {
        throw new FromscratchError(
          'INVALID_ARGUMENT',
          '--trace runs commands on the host and cannot be combined with --sysroot',
          {
            hint: 'trace on the machine that holds the files, or list them with --add',
          },
        );
      }
      const t = await traceCommand(item.command, {
        cwd: ctx.cwd,
        ...(item.allowFailure ? { allowFailure: true } : {}),
        ...(item.timeoutSeconds !== undefined ? { timeoutSeconds: item.timeoutSeconds } : {}),
        ...(ctx.opts.allowSecrets ? { allowSecrets: ctx.opts.allowSecrets } : {}),
      });
      ctx.traces.push({ command: item.command, exitCode: t.exitCode, cwd: t.cwd });
      for (const f of t.files) {
        const origin: Origin = { kind: 'traced', command: item.command, pid: f.pid, syscall: f.syscall };
        const real = await addRootPath(ctx, f.path, origin);
        if (real && (await isProgram(ctx.host, real.path, real.mode, f.kind === 'exec')))
          ctx.closureRoots.push({ path: f.path, origin });
      }
      return;
    }
    case 'root-paths':
      for (const path of item.paths) {
        const origin: Origin = { kind: 'fix', command: item.command };
        const real = await addRootPath(ctx, path, origin);
        if (real && (await isProgram(ctx.host, real.path, real.mode, true)))
          ctx.closureRoots.push({ path, origin });
      }
      return;
    case 'package':
      return; // resolved together, before the other items
  }
}

/**
 * isProgram tells whether a host file is an ELF object, or a `#!` script that is executable (or was
 * executed, for traced files).
 */
async function isProgram(host: RootFs, hostPath: string, mode: number, executed = false): Promise<boolean> {
  const head = await host.read(hostPath, { offset: 0, length: 4 });
  if (isElf(head)) return true;
  return head[0] === 0x23 && head[1] === 0x21 && (executed || (mode & 0o111) !== 0);
}

/**
 * addRootPath adds a path of the root as the image must have it: every symlink passed on the way
 * (`/lib -> usr/lib`) as a symlink, then the real entry (a directory is added alone, without its
 * contents). Returns the real file, or undefined when it is not a regular file.
 */
async function addRootPath(
  ctx: GatherContext,
  path: string,
  origin: Origin,
): Promise<{ path: string; mode: number } | undefined> {
  const r = await resolvePath(ctx.root, path);
  for (const l of r.links) {
    ctx.col.addIfAbsent(
      { type: 'symlink', path: l.path, mode: 0o777, uid: 0, gid: 0, target: l.target },
      { kind: 'path', to: path },
    );
  }
  if (!r.stat) return undefined;
  const st = r.stat;
  const base = { path: r.path, mode: st.mode, uid: st.uid, gid: st.gid, mtime: st.mtime };
  if (r.path !== normalizeImagePath(path)) ctx.col.note(r.path, origin);
  if (st.type === 'dir') {
    ctx.col.addIfAbsent({ ...base, type: 'dir' }, origin);
    return undefined;
  }
  if (st.type !== 'file') return undefined;
  const hostPath = ctx.root.hostPath(r.path);
  if (hostPath === undefined) return undefined;
  const xattrs = await ctx.root.xattrs(r.path);
  ctx.col.addIfAbsent(
    {
      ...base,
      type: 'file',
      size: st.size,
      content: { kind: 'host', path: hostPath },
      ...(Object.keys(xattrs).length ? { xattrs } : {}),
    },
    origin,
    hostPath,
  );
  return { path: hostPath, mode: st.mode };
}

function describeItem(item: ContentItem): string {
  switch (item.kind) {
    case 'binary':
      return `--binary ${item.path}`;
    case 'add':
      return `--add ${item.src}${item.dest ? `:${item.dest}` : ''}`;
    case 'file':
      return `file ${item.dest}`;
    case 'trace':
      return `--trace ${JSON.stringify(item.command)}`;
    case 'package':
      return `--package ${item.name}${item.version ? `=${item.version}` : ''}`;
    case 'root-paths':
      return `files missing for \`${item.command}\``;
    case 'copy-from':
      return `COPY --from ${'image' in item.from ? item.from.image : item.from.name}`;
  }
}

/**
 * describeContents is the history `created_by` of a build. It names image paths, packages and commands,
 * never host paths: the same build from another checkout directory must give the same digest.
 */
function describeContents(items: readonly ContentItem[]): string {
  return items
    .map((item) => {
      if (item.kind === 'add') return `--add :${item.dest ?? '(same path)'}`;
      if (item.kind === 'copy-from' && 'stage' in item.from)
        return `COPY --from=${item.from.name} ${item.dest}`;
      return describeItem(item);
    })
    .join(' ');
}
