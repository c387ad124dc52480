/**
 * build.ts — orchestration: BuildSpec → Image(s) + BuildRecord(s), layers materialised in a BlobStore.
 *
 * Per platform: start from the base image (or scratch), gather every requested item with its closure
 * into one FileTree (each path with its reasons), add the scratch defaults, write the layer, and patch
 * the runtime config. Writing outputs is left to the caller (sinks in oci/ and registry/).
 */

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve as resolveHostPath } from 'node:path';
import type { BlobStore } from '../blob/store.ts';
import { type CheckReport, formatCheck } from '../check/check.ts';
import { namesIn } from '../check/user.ts';
import { type ClosureOptions, closureToEntries, resolveClosure } from '../closure/closure.ts';
import {
  nodeCommands,
  phpCommands,
  pythonCommandLineImports,
  pythonCommands,
  pythonImports,
  pythonLibraries,
  RUNS,
  rubyCommands,
  rubyRequires,
} from '../closure/launcher.ts';
import { localeRequests } from '../closure/locale.ts';
import { perlCommands } from '../closure/perl-modules.ts';
import {
  CONFIG_REASON,
  commandAccounts,
  commandPaths,
  compiledAccountOf,
  STATE_REASON,
} from '../closure/program-files.ts';
import { timezoneRequest } from '../closure/timezone.ts';
import { notEmulatedWarning } from '../deb/deb-entries.ts';
import { ELF_DATA_KIND_LABEL, type ElfRole, readElfRole } from '../elf/elf-role.ts';
import { isElf } from '../elf/parse-elf.ts';
import { FromscratchError, withContext } from '../errors.ts';
import type { FileEntry } from '../fs/file-tree.ts';
import { hostFs } from '../fs/host-fs.ts';
import type { Origin } from '../fs/origin.ts';
import { overlayFs } from '../fs/overlay-fs.ts';
import { baseName, encodePath, normalizeImagePath, parentPath } from '../fs/path.ts';
import { resolvePath } from '../fs/resolve.ts';
import type { RootFs } from '../fs/root-fs.ts';
import { type StatSnapshot, statSnapshot } from '../fs/stat-snapshot.ts';
import { appendLayers, emptyImage, type Image, type Layer, withConfig } from '../image/image.ts';
import { checkCompressionLevel } from '../layer/compress.ts';
import { formatPlatform, hostPlatform, type Platform } from '../model/platform.ts';
import { type ProgressSink, startTask } from '../model/progress.ts';
import { checkSecret, isAllowedSecret } from '../trace/secrets.ts';
import { toArgv, traceCommand } from '../trace/trace.ts';
import { binaryDest, withDefaultEntrypoint } from './binary-dest.ts';
import type { BuildSpec, ContentItem } from './build-spec.ts';
import {
  type Call_,
  encodeSharedMemo,
  type MemoValue,
  memoKey,
  observe,
  readClosureMemoWithCalls,
  readSharedMemo,
  recordingFs,
  sharedMemoKey,
  writeClosureMemo,
} from './closure-memo.ts';
import { Collector } from './collector.ts';
import { type SystemAccounts, scratchDefaults, systemAccountsNamed } from './defaults.ts';
import {
  addDirectories,
  gatherContextAdd,
  gatherCopyFrom,
  type ItemContext,
  removeAll,
} from './docker-items.ts';
import { type ElfDataFiles, elfDataNote, elfDataOrigin } from './elf-data.ts';
import { assertNotSecret, collectHostPath, type SecretCheck } from './host-add.ts';
import { attributeHostFiles, openHostAttribution } from './host-packages.ts';
import { inferOptionsWithout } from './infer-names.ts';
import { checkLibraryPaths, libraryPathCache, libraryPathEnv, systemLibDirs } from './lib-path.ts';
import { packageEntries, toRecordedPackages } from './packages.ts';
import { type BuildRecord, type RecordedPackage, toRecordedFiles } from './record.ts';
import { shimProgram } from './shims.ts';
import { checkBuiltTree, startCheckError } from './start-check.ts';
import { type SharedLayers, writeLayers } from './write-layers.ts';

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
  /** progress of the long steps: downloads, the closure, each layer (default none) */
  progress?: ProgressSink;
  /** secrets policy for added and traced files */
  checkSecret?: SecretCheck;
  /** host paths the user allows despite the secrets policy */
  allowSecrets?: readonly string[];
  /** run-time inferences of the closure engine */
  infer?: ClosureOptions['infer'];
  /** reuse the layer of an identical earlier build from the local layer cache (default true) */
  layerCache?: boolean;
  /** called with each layer of the images as soon as it is in the store (to start pushing it early) */
  onLayer?: (layer: Layer, fresh?: boolean) => void;
  /** the registry cache (--cache-from/--cache-to): layers by content key shared across machines */
  sharedLayers?: SharedLayers;
  /** read the base image (any transport); required when spec.from is set */
  readBase?: (ref: string, platform: Platform) => Promise<Image>;
  /**
   * the stat data of host files that memo and cache keys are taken from (default: a fresh snapshot per
   * build, one lstat per file shared by all of them, fs/stat-snapshot.ts)
   */
  stats?: StatSnapshot;
}

/** PlatformBuild is the result for one platform. */
export interface PlatformBuild {
  readonly platform: Platform;
  readonly image: Image;
  readonly record: BuildRecord;
  /** the static start check of the image (src/check); absent for a Dockerfile stage built for COPY --from */
  readonly check?: CheckReport;
  /** the host files the image's files were read from (what `build --watch` watches) */
  readonly inputs?: readonly string[];
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
export function build(requested: BuildSpec, opts: BuildOptions): Promise<BuildResult> {
  // one lstat per host file for the memo and cache keys of the whole build (fs/stat-snapshot.ts)
  return buildUnscoped(requested, opts.stats ? opts : { ...opts, stats: statSnapshot() });
}

async function buildUnscoped(requested: BuildSpec, opts: BuildOptions): Promise<BuildResult> {
  const { spec, entrypoint } = withDefaultEntrypoint(requested);
  if (spec.compressionLevel !== undefined)
    checkCompressionLevel(spec.compression ?? 'gzip', spec.compressionLevel);
  if (entrypoint !== undefined)
    opts.logger?.info(
      `note: entrypoint ${JSON.stringify([entrypoint])}: the one --binary of the build (set --entrypoint or --cmd to choose another)`,
    );
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
  stage = false,
): Promise<PlatformBuild> {
  const log = opts.logger ?? silent;
  const host = hostFs('/');
  const root: RootFs = spec.sysroot ? hostFs(spec.sysroot) : host;
  checkArch(spec, platform);
  const libDirs = spec.libraryPaths?.length ? await checkLibraryPaths(spec.libraryPaths, root) : [];
  const base =
    spec.from && spec.from !== 'scratch' ? await readBase(opts, spec.from, platform) : emptyImage(platform);
  const warnings: string[] = [];
  const ctx: GatherContext = {
    col: new Collector(),
    closureRoots: [],
    resolvedObjects: new Set(),
    platform,
    elfData: new Map(),
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
    isProgram: (hostPath, mode, imagePath) => isProgram(ctx, hostPath, imagePath ?? hostPath, mode),
    addLinkedPrograms: (entries, dest, via) => addLinkedPrograms(ctx, entries, dest, via),
    secrets: {
      ...(opts.checkSecret ? { checkSecret: opts.checkSecret } : {}),
      ...(opts.allowSecrets ? { allowSecrets: opts.allowSecrets } : {}),
    },
    imageOf: async (from) => {
      if ('image' in from) return { image: await readBase(opts, from.image, platform), store: opts.store };
      const built = await buildPlatform({ ...from.stage, platforms: [platform] }, platform, opts, true);
      return { image: built.image, store: opts.store };
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
        withContext(`adding ${whatItem(item)}`, e);
      }
    }
    const note = elfDataNote(ctx.elfData, formatPlatform(platform));
    if (note) log.info(note);
    // the md5s of the named host files start on the worker thread while the closure is computed
    const attribution =
      spec.packageRecords !== false
        ? openHostAttribution(spec.sysroot ?? '/', {
            ...(ctx.opts.sharedLayers ? { shared: ctx.opts.sharedLayers } : {}),
            ...(ctx.opts.stats ? { stats: ctx.opts.stats } : {}),
          })
        : undefined;
    // the roots resolved once: the md5 prefetch and the Python script rule read the same files
    const resolved = ctx.closureRoots.length > 0 ? await resolveRoots(ctx) : undefined;
    if (attribution && resolved) attribution.prefetch(ctx.col, rootHostFiles(resolved));
    await gatherClosure(spec, ctx, resolved);
    // --lib-path: the image's loader must find those directories too (an ld.so.cache, else LD_LIBRARY_PATH);
    // an image with ldconfig (ctypes.util.find_library runs `ldconfig -p`): the cache it reads
    const ldconfig = ['/usr/sbin/ldconfig', '/sbin/ldconfig'].find((p) => ctx.col.get(p)?.type === 'file');
    const cacheDirs = [...libDirs, ...(ldconfig ? systemLibDirs(ctx.col) : [])];
    const libCache =
      cacheDirs.length > 0 &&
      (await libraryPathCache(
        [...new Set(cacheDirs)],
        ctx.col,
        overlayFs(ctx.root, ctx.col.overlay, ctx.host),
        base.layers.length > 0,
        log,
        libDirs.length === 0 ? ldconfig : undefined,
      )) &&
      libDirs.length > 0;
    if (spec.packageRecords !== false) {
      const task = startTask(
        opts.progress,
        'dpkg',
        'finding the Debian packages of host files',
        undefined,
        'files',
      );
      packages.push(
        ...(await attributeHostFiles(ctx.col, spec.sysroot ?? '/', packages, {
          warn: ctx.warn,
          ...(ctx.opts.sharedLayers ? { shared: ctx.opts.sharedLayers } : {}),
          ...(attribution ? { attribution } : {}),
        })),
      );
      task.done(`${packages.length} package${packages.length === 1 ? '' : 's'}`);
    }
    const programFiles =
      ctx.opts.infer?.programFiles !== false &&
      inferOptionsWithout(spec.noInfer ?? []).programFiles !== false;
    // the accounts the command tells its program to drop to (memcached -u memcache); the root's
    // /etc/passwd and /etc/group read once, for them and for those the configurations name
    // and the account the image runs as (--user postgres, USER postgres), which the runtime looks up
    const imageUser = imageUserAccounts(spec.config?.User ?? undefined);
    const commandNamed = withAccounts(commandAccounts(commandLine(spec).slice(1)), imageUser);
    let rootFiles: Promise<RootAccountFiles> | undefined;
    const rootAccounts = () => {
      rootFiles ??= readRootAccountFiles(ctx);
      return rootFiles;
    };
    // the command line's accounts are the program-files rule's; the image's user is always looked up
    const accounts = await configAccounts(ctx, programFiles ? commandNamed : imageUser, rootAccounts);
    for (const d of scratchDefaults(spec.defaults, (p) => ctx.col.has(p) || base.layers.length > 0, accounts))
      ctx.col.addIfAbsent(d.entry, d.origin);

    const tree = ctx.col.tree();
    const epoch = opts.sourceDateEpoch ?? 0;
    const created = new Date(epoch * 1000).toISOString().replace(/\.000Z$/, 'Z');
    const config =
      libDirs.length > 0 && !libCache
        ? {
            ...(spec.config ?? {}),
            Env: [
              ...(spec.config?.Env ?? []).filter((e) => !e.startsWith('LD_LIBRARY_PATH=')),
              libraryPathEnv(libDirs, spec.config?.Env ?? undefined, base.config.Env, log),
            ],
          }
        : (spec.config ?? {});
    const meta = {
      created,
      ...(spec.author ? { author: spec.author } : {}),
      ...(spec.annotations ? { annotations: { ...(base.annotations ?? {}), ...spec.annotations } } : {}),
    };
    // the static start check: the image can start, or the build says why not (an error with --strict);
    // a Dockerfile stage only read by COPY --from is never started, so it is not checked. It needs the
    // tree and the config, not the layers' bytes: it runs while they are compressed (the main thread
    // waits on the thread pool's deflate most of that time)
    const checking = stage
      ? undefined
      : checkBuiltTree(tree, withConfig(base, config, meta), base, opts.store, {
          origins: ctx.col.origins(),
          rootHas: async (p) => (await ctx.root.lstat(p).catch(() => undefined)) !== undefined,
          ...(commandNamed.users.length + commandNamed.groups.length > 0
            ? { rootAccounts: await rootAccounts().then((f) => f.names) }
            : {}),
          resolved: [...ctx.resolvedObjects].filter((p) => {
            const e = tree.get(p);
            return e?.type === 'file' && e.content.kind === 'host' && e.content.path === root.hostPath(p);
          }),
        });
    // a failed write is what the build reports; the check's outcome is then not asked for
    checking?.catch(() => undefined);
    const written = await writeLayers(tree, ctx.col.origins(), {
      store: opts.store,
      compression: spec.compression ?? 'gzip',
      ...(spec.compressionLevel !== undefined ? { compressionLevel: spec.compressionLevel } : {}),
      sourceDateEpoch: epoch,
      ...(spec.layers !== undefined ? { budget: spec.layers } : {}),
      ...(opts.layerCache === false ? { cache: false } : {}),
      log: (m) => log.info(m),
      ...(opts.progress ? { progress: opts.progress } : {}),
      ...(opts.onLayer ? { onLayer: opts.onLayer } : {}),
      ...(opts.sharedLayers ? { shared: opts.sharedLayers } : {}),
      ...(opts.stats ? { stats: opts.stats } : {}),
    });
    const createdBy = spec.history?.join(' && ') || `fromscratch build ${describeContents(spec.contents)}`;
    const image = withConfig(
      appendLayers(
        base,
        written.map((w) => w.layer),
        // one layer: the build's own history, as before layering; several: each names what it holds
        written.map((w) => ({
          created,
          created_by: written.length === 1 ? createdBy : `fromscratch layer: ${w.holds}`,
          ...(written.length > 1 && w.holds === 'app' ? { comment: createdBy } : {}),
        })),
      ),
      config,
      meta,
    );
    const check = await checking;
    if (check) reportCheck(check, spec, platform, log, warnings);
    const record: BuildRecord = {
      version: 1,
      platform: formatPlatform(platform),
      files: toRecordedFiles(tree.entries, ctx.col.origins()),
      packages,
      traces: ctx.traces,
      warnings,
    };
    const inputs = tree.entries.flatMap((e) =>
      e.type === 'file' && e.content.kind === 'host' ? [e.content.path] : [],
    );
    return { platform, image, record, inputs, ...(check ? { check } : {}) };
  } finally {
    await removeAll(ctx.cleanup);
  }
}

/**
 * reportCheck tells the start check's outcome: one info line when the image can start, else a warning
 * per problem with its fix (kept in the record's warnings), or IMAGE_CANNOT_START under `strict`.
 */
function reportCheck(
  check: CheckReport,
  spec: BuildSpec,
  platform: Platform,
  log: Logger,
  warnings: string[],
): void {
  const lines = formatCheck(check);
  if (check.problems.length === 0) {
    log.info(lines.join('\n'));
    return;
  }
  for (const l of lines) log.warn(l);
  if (spec.strict) throw startCheckError(check, formatPlatform(platform));
  for (const p of check.problems) warnings.push(`check: ${p.message} (fix: ${p.fix})`);
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
      ...(ctx.opts.sharedLayers ? { shared: ctx.opts.sharedLayers } : {}),
      ...(ctx.opts.progress
        ? { progress: ctx.opts.progress }
        : { onProgress: (m: string) => ctx.opts.logger?.info(m) }),
    });
    for (const entry of debs.entries) {
      for (const o of debs.origins.get(entry.path) ?? [{ kind: 'requested', via: '--package' } as const])
        ctx.col.addIfAbsent(entry, o);
    }
    for (const n of debs.notEmulated) ctx.warn(notEmulatedWarning(n));
    return toRecordedPackages(debs);
  } catch (e) {
    return withContext(`adding ${wanted.map(whatItem).join(' ')}`, e);
  }
}

/** MAX_PYTHON_SOURCES bounds the application's Python files read for imports, MAX_PYTHON_SOURCE_BYTES each one. */
const MAX_PYTHON_SOURCES = 5000;
const MAX_PYTHON_SOURCE_BYTES = 4 * 1024 * 1024;

/**
 * pythonImportsOf reads the application's Python sources — the scripts the entrypoint and cmd name and
 * the .py files the build added itself (--add, COPY) — and returns the top-level module names they import,
 * sorted, for the closure's site-package rule (closure/launcher.ts pythonPackagesPlan). Read here rather
 * than by the closure, so that an edit of the application changes the closure's memo key only when its
 * imports change.
 */
async function pythonImportsOf(
  spec: BuildSpec,
  ctx: GatherContext,
  resolved: RootFiles,
): Promise<{ pythonImports?: string[] }> {
  // a root that is a Python script by its #! line, whatever its name (a console script: /usr/bin/yq,
  // pip3), is a source too; read through the root (the closure adds its roots to the image at its end)
  const { fs, files: roots } = resolved;
  const scripts: string[] = [];
  for (const real of roots) {
    if (real.size > MAX_PYTHON_SOURCE_BYTES) continue;
    const head = await fs.read(real.path, { offset: 0, length: 256 }).catch(() => undefined);
    if (head === undefined || !/^#![^\n]*\bpython[\d.]*\b/.test(Buffer.from(head).toString('latin1')))
      continue;
    const text = await fs.read(real.path, { limit: MAX_PYTHON_SOURCE_BYTES }).catch(() => undefined);
    if (text !== undefined) scripts.push(Buffer.from(text).toString('utf8'));
  }
  // only for a build with a Python program or script among its roots: a node image holding a few .py
  // tools does not read them on every build
  if (scripts.length === 0 && !ctx.closureRoots.some((r) => /^python[\d.]*$|\.py$/.test(baseName(r.path))))
    return {};
  const files = new Set<string>();
  const cwd = spec.config?.WorkingDir || '/';
  for (const a of [...(spec.config?.Entrypoint ?? []), ...(spec.config?.Cmd ?? [])]) {
    if (!a.endsWith('.py')) continue;
    const p = normalizeImagePath(a.startsWith('/') ? a : `${cwd}/${a}`);
    if (ctx.col.has(p)) files.add(p);
  }
  const origins = ctx.col.origins();
  for (const e of ctx.col.tree().entries) {
    if (files.size >= MAX_PYTHON_SOURCES) break;
    if (
      e.type === 'file' &&
      e.path.endsWith('.py') &&
      origins.get(e.path)?.some((o) => o.kind === 'requested')
    )
      files.add(e.path);
  }
  // what they import, and the programs they run by name (closure/launcher.ts RUNS)
  const names = new Set<string>(
    scripts.flatMap((t) => [
      ...pythonImports(t),
      ...pythonLibraries(t),
      ...pythonCommands(t).map((c) => `${RUNS}${c}`),
    ]),
  );
  // the image's command run by python itself: `python3 -m pip`, `-m gunicorn app:app`, `-c 'import yaml'`
  for (const n of pythonCommandLineImports([...(spec.config?.Entrypoint ?? []), ...(spec.config?.Cmd ?? [])]))
    names.add(n);
  for (const p of files) {
    const text = entryText(ctx.col.get(p), MAX_PYTHON_SOURCE_BYTES);
    for (const n of text === undefined ? [] : [...pythonImports(text), ...pythonLibraries(text)])
      names.add(n);
    for (const c of text === undefined ? [] : pythonCommands(text)) names.add(`${RUNS}${c}`);
  }
  return names.size > 0 ? { pythonImports: [...names].sort() } : {};
}

/**
 * entryText is the text of a regular file the build holds, up to `max` bytes (else undefined), from
 * memory or from the host; a host file unreadable now is undefined (the layer's read reports it).
 */
function entryText(e: FileEntry | undefined, max: number): string | undefined {
  if (e?.type !== 'file' || e.size > max) return undefined;
  if (e.content.kind === 'bytes') return Buffer.from(e.content.data).toString('utf8');
  try {
    return readFileSync(encodePath(e.content.path), 'utf8');
  } catch {
    return undefined;
  }
}

/** MAX_APP_SOURCES bounds the app's own sources read for the programs they run. */
const MAX_APP_SOURCES = 2000;
/** MAX_APP_SOURCE_BYTES: a bigger file is a bundle or generated code, not read. */
const MAX_APP_SOURCE_BYTES = 1024 * 1024;

/**
 * SOURCE_READERS are, by runtime, the sources of an application and the reader of the programs they
 * run (launcher.ts, perl-modules.ts); Python's are read with its imports (pythonImportsOf).
 */
const SOURCE_READERS: readonly {
  runtime: RegExp;
  source: RegExp;
  read: (text: string) => string[];
}[] = [
  { runtime: /^node(js)?$/, source: /\.[cm]?js$/, read: nodeCommands },
  { runtime: /^php[\d.]*$/, source: /\.php$/, read: phpCommands },
  { runtime: /^ruby[\d.]*$/, source: /\.rb$/, read: rubyCommands },
  { runtime: /^perl[\d.]*$/, source: /\.p[lm]$/, read: perlCommands },
];

/** GEMFILES are the files naming an application's gems (Bundler's), read for rubyRequires. */
const GEMFILES = /\/(Gemfile|Gemfile\.lock|gems\.rb)$/;

/**
 * appSourcesOf is what the closure is told of the application's own sources, read once each from the
 * files the user added (not under node_modules or vendor, whose packages are many and read on every
 * build), for a build whose roots include their runtime:
 * - `sourceCommands`, the programs they run (a Node.js app's child_process calls, a PHP app's
 *   shell_exec, a Ruby or Perl app's system and backquotes). Without them the app's `exec('git …')`
 *   fails with `spawn /bin/sh ENOENT`;
 * - `rubyRequires`, what its Ruby sources require and its Gemfile names (launcher.ts rubyRequires).
 *   Without them an app's `require 'webrick'` (a gem since Ruby 3) fails with `cannot load such file`,
 *   and `require 'bundler/setup'` with `Could not find json-2.6.1 … in any of the sources`.
 */
function appSourcesOf(ctx: GatherContext): {
  sourceCommands?: { command: string; by: string }[];
  rubyRequires?: string[];
} {
  const readers = SOURCE_READERS.filter((r) =>
    ctx.closureRoots.some((c) => r.runtime.test(baseName(c.path))),
  );
  const ruby = ctx.closureRoots.some((c) => /^ruby[\d.]*$/.test(baseName(c.path)));
  if (readers.length === 0 && !ruby) return {};
  const commands: { command: string; by: string }[] = [];
  const requires = new Set<string>();
  let read = 0;
  for (const [path, origins] of ctx.col.origins()) {
    if (read >= MAX_APP_SOURCES) break;
    const reader = readers.find((r) => r.source.test(path));
    const required = ruby && (path.endsWith('.rb') || GEMFILES.test(path));
    if ((reader === undefined && !required) || /\/(node_modules|vendor)\//.test(path)) continue;
    if (!origins.some((o) => o.kind === 'requested')) continue;
    const e = ctx.col.get(path);
    if (e?.type !== 'file' || e.size > MAX_APP_SOURCE_BYTES) continue;
    read++;
    const text = entryText(e, MAX_APP_SOURCE_BYTES);
    if (text === undefined) continue;
    for (const command of reader?.read(text) ?? [])
      if (!commands.some((c) => c.command === command)) commands.push({ command, by: path });
    for (const n of required ? rubyRequires(text, path) : []) requires.add(n);
  }
  return {
    ...(commands.length > 0 ? { sourceCommands: commands } : {}),
    ...(requires.size > 0 ? { rubyRequires: [...requires].sort() } : {}),
  };
}

/**
 * configAccounts are the root's system accounts the configuration files of the image's programs name
 * (program-files.ts ships them; nginx's `user www-data;` is looked up when it starts), those `named`
 * (the command line's and the image's user) and those owning the state directories it ships, for
 * /etc/passwd and /etc/group beside the default users.
 */
async function configAccounts(
  ctx: GatherContext,
  named: { readonly users: readonly string[]; readonly groups: readonly string[] },
  rootAccounts: () => Promise<RootAccountFiles>,
): Promise<SystemAccounts> {
  const texts: string[] = [];
  // the accounts the command names, as a configuration would name them
  if (named.users.length + named.groups.length > 0)
    texts.push([...named.users.map((u) => `user ${u}`), ...named.groups.map((g) => `group ${g}`)].join('\n'));
  // the owners of the state directories the servers write to (mosquitto's /var/log/mosquitto is
  // mosquitto's): the account one drops to when nothing names it, written into it (mosquitto, unbound)
  const owners = new Set<number>();
  // the tree is built once here (tree() builds it afresh at each call)
  let tree: ReturnType<typeof ctx.col.tree> | undefined;
  for (const [path, origins] of ctx.col.origins()) {
    const inferred = origins.filter((o) => o.kind === 'inferred');
    // an account whose name is compiled into a program that looks it up (sshd's privilege separation user)
    for (const o of inferred) {
      const name = compiledAccountOf(o.reason);
      if (name !== undefined) texts.push(`user ${name}`);
    }
    const state = inferred.some((o) => o.reason.includes(STATE_REASON));
    const config = inferred.some((o) => o.reason.includes(CONFIG_REASON));
    if (!state && !config) continue;
    tree ??= ctx.col.tree();
    const e = tree.get(path);
    if (state && e?.type === 'dir' && e.uid > 0) owners.add(e.uid);
    if (!config) continue;
    if (e?.type !== 'file' || e.content.kind !== 'host') continue;
    const text = await readFile(e.content.path)
      .then((b) => (b.length <= 256 * 1024 ? b.toString('utf8') : ''))
      .catch(() => '');
    texts.push(text);
  }
  if (texts.length === 0 && owners.size === 0) return { users: [], groups: [] };
  const { passwd, group } = await rootAccounts();
  for (const line of owners.size > 0 ? passwd.split('\n') : []) {
    const f = line.split(':');
    if (f.length >= 7 && owners.has(Number(f[2]))) texts.push(`user ${f[0]}`);
  }
  return systemAccountsNamed(passwd, group, texts);
}

/**
 * imageUserAccounts are the names the image's User gives (`postgres`, `www-data:www-data`), read as
 * commandAccounts reads `--user=USER[:GROUP]`: numeric ids need no entry, and root and nonroot are
 * the defaults' own.
 */
function imageUserAccounts(user: string | undefined): { users: string[]; groups: string[] } {
  const { users, groups } = commandAccounts(user ? [`--user=${user}`] : []);
  const own = (n: string) => n !== 'root' && n !== 'nonroot';
  return { users: users.filter(own), groups: groups.filter(own) };
}

/** withAccounts is the union of two account lists, in order, unique. */
function withAccounts(
  a: { readonly users: readonly string[]; readonly groups: readonly string[] },
  b: { readonly users: readonly string[]; readonly groups: readonly string[] },
): { users: string[]; groups: string[] } {
  return { users: [...new Set([...a.users, ...b.users])], groups: [...new Set([...a.groups, ...b.groups])] };
}

/** RootAccountFiles are the root's /etc/passwd and /etc/group ('' when absent) and the names they hold. */
interface RootAccountFiles {
  readonly passwd: string;
  readonly group: string;
  readonly names: ReadonlySet<string>;
}

async function readRootAccountFiles(ctx: GatherContext): Promise<RootAccountFiles> {
  const read = (p: string) =>
    ctx.root
      .read(p, { limit: 1024 * 1024 })
      .then((b) => Buffer.from(b).toString('utf8'))
      .catch(() => '');
  const passwd = await read('/etc/passwd');
  const group = await read('/etc/group');
  return { passwd, group, names: new Set([...namesIn(passwd), ...namesIn(group)]) };
}

/**
 * rootHostFiles are the host files of the closure's roots (symlinks resolved within the root): the
 * program a build names is the largest file to hash, and the closure adds it to the collector only at
 * its end.
 */
function rootHostFiles(roots: RootFiles): string[] {
  return roots.files.flatMap((f) => roots.fs.hostPath(f.path) ?? []);
}

/** RootFiles are the closure's roots as regular files, with the overlay they were resolved through. */
interface RootFiles {
  readonly fs: ReturnType<typeof overlayFs>;
  readonly files: readonly { path: string; size: number }[];
}

/**
 * resolveRoots resolves the closure's roots through the root with the added files laid on it: the regular
 * files they are (symlinks followed).
 */
async function resolveRoots(ctx: GatherContext): Promise<RootFiles> {
  const fs = overlayFs(ctx.root, ctx.col.overlay, ctx.host);
  const files: { path: string; size: number }[] = [];
  for (const r of ctx.closureRoots) {
    const real = await resolvePath(fs, r.path).catch(() => undefined);
    if (real?.stat?.type === 'file') files.push({ path: real.path, size: real.stat.size });
  }
  return { fs, files };
}

/** commandLine is the image's command as the spec gives it: its entrypoint, then its cmd. */
function commandLine(spec: BuildSpec): string[] {
  return [...(spec.config?.Entrypoint ?? []), ...(spec.config?.Cmd ?? [])];
}

/**
 * commandPathsOf is the closure option naming the paths the image's command gives its program
 * (`["/usr/sbin/lighttpd","-D","-f","/etc/lighttpd/lighttpd.conf"]`), by that program.
 */
function commandPathsOf(spec: BuildSpec): { commandPaths?: Record<string, string[]> } {
  const command = commandLine(spec);
  const argv0 = command[0];
  if (argv0 === undefined || !argv0.startsWith('/')) return {};
  const paths = commandPaths(command.slice(1));
  return paths.length > 0 ? { commandPaths: { [argv0]: paths } } : {};
}

/** gatherClosure resolves the closure of every program gathered, over the root with the added files laid on it. */
async function gatherClosure(spec: BuildSpec, ctx: GatherContext, resolved?: RootFiles): Promise<void> {
  if (ctx.closureRoots.length === 0) return;
  const fs = overlayFs(ctx.root, ctx.col.overlay, ctx.host);
  const env = spec.config?.Env ?? undefined;
  const envVar = (k: string) => env?.find((e) => e.startsWith(`${k}=`))?.slice(k.length + 1);
  const ldPath = [...(spec.libraryPaths ?? []), ...(envVar('LD_LIBRARY_PATH')?.split(':') ?? [])];
  const pathVar = envVar('PATH');
  const infer = {
    ...(ctx.opts.infer ?? {}),
    ...(spec.defaults?.caCertificates === false ? { caCerts: false } : {}),
    ...inferOptionsWithout(spec.noInfer ?? []),
  };
  const roots = ctx.closureRoots.map((r) => r.path);
  const tracedRoots = ctx.closureRoots
    .filter((r) => r.origin.kind === 'traced' || r.origin.kind === 'fix')
    .map((r) => r.path);
  const closureOpts = {
    infer,
    strict: true,
    ...(ldPath.length ? { libraryPath: ldPath } : {}),
    ...(pathVar ? { path: pathVar.split(':') } : {}),
    locales: localeRequests(env ?? []),
    ...(timezoneRequest(env ?? []) ? { timezone: timezoneRequest(env ?? []) } : {}),
    ...(await pythonImportsOf(spec, ctx, resolved ?? (await resolveRoots(ctx)))),
    ...appSourcesOf(ctx),
    ...commandPathsOf(spec),
  };
  // the closure of an earlier build is reused while nothing it looked at has changed (closure-memo.ts)
  const key =
    ctx.opts.layerCache === false
      ? undefined
      : await memoKey({ roots, closureOpts, tracedRoots, root: ctx.root.name });
  const task = startTask(
    ctx.opts.progress,
    `closure ${formatPlatform(ctx.platform)}`,
    `resolving the closure of ${roots.length} program${roots.length === 1 ? '' : 's'} (${formatPlatform(ctx.platform)})`,
  );
  let closure: MemoValue | undefined =
    key === undefined ? undefined : await readClosureMemoWithCalls(key, fs, undefined, ctx.opts.stats);
  let calls = (closure as { calls?: readonly Call_[] } | undefined)?.calls;
  const memo = closure !== undefined;
  // the registry cache: a closure another machine computed, reused when every file it read is the same here
  const shared = key === undefined ? undefined : ctx.opts.sharedLayers;
  const sharedKey =
    shared?.result === undefined
      ? undefined
      : await sharedMemoKey({ roots, closureOpts, tracedRoots, root: ctx.root.name });
  let fromShared = false;
  if (!closure && sharedKey !== undefined && shared?.result) {
    const bytes = await shared.result('closure', sharedKey);
    const got = bytes ? await readSharedMemo(bytes, fs) : undefined;
    if (got) {
      closure = got;
      calls = got.calls;
      fromShared = true;
      if (key !== undefined) await writeClosureMemo(key, await observe(fs, got.calls, ctx.opts.stats), got);
    }
  }
  if (!closure) {
    const rec = recordingFs(fs, ctx.opts.stats);
    // a traced run (--trace, and --verify --fix's host runs) saw what a launcher loaded
    const result = await resolveClosure(roots, rec.fs, { ...closureOpts, tracedRoots: new Set(tracedRoots) });
    // objects whose every DT_NEEDED the closure found (in this root, with the image's LD_LIBRARY_PATH, not
    // through ld.so.conf): the start check need not search for them again when the image holds that file
    const resolved: string[] = [];
    for (const o of result.objects.values()) {
      if (o.needed.every((n) => n.path !== undefined && !n.via?.startsWith('ld.so.conf ')))
        resolved.push(o.real);
    }
    closure = { entries: await closureToEntries(result, rec.fs), warnings: result.warnings, resolved };
    calls = rec.calls();
    if (key !== undefined) await writeClosureMemo(key, await rec.observations(), closure);
  }
  if (sharedKey !== undefined && calls !== undefined && shared?.recordResult) {
    // encoded only when the cache is exported (it reads every file the closure read)
    const value = closure;
    const c = calls;
    shared.recordResult('closure', sharedKey, () => encodeSharedMemo(fs, c, value));
  }
  task.done(
    `${closure.entries.length} files${memo ? ', unchanged since the last build' : fromShared ? ', from the registry cache' : ''}`,
  );
  for (const { path, origin } of ctx.closureRoots) ctx.col.note(path, origin);
  // what a rule brings from the root passes the secrets policy's path rules as --add does (no content
  // read: a closure is libraries and data, hundreds of files on every build): a path the environment
  // names (TZ, TZDIR) or a link in the root must not carry /etc/shadow or a key in silently
  const byPath = ctx.secrets.checkSecret
    ? { checkSecret: (p: string) => checkSecret(p), allowSecrets: ctx.secrets.allowSecrets ?? [] }
    : undefined;
  const full = ctx.secrets.checkSecret;
  for (const { entry, origins, hostPath } of closure.entries) {
    // a configuration file the program-files rule brings is read whole (a few small files): one holding
    // a key or a token is left out with a warning, as nobody named it (--allow-secret ships it)
    if (
      full &&
      entry.type === 'file' &&
      hostPath !== undefined &&
      origins.some((o) => o.kind === 'inferred' && o.reason.includes(CONFIG_REASON)) &&
      !isAllowedSecret(hostPath, ctx.secrets.allowSecrets ?? [])
    ) {
      const verdict = full(hostPath);
      if (verdict.refuse) {
        ctx.warn(
          `left out ${hostPath}, a configuration file of a program in the image: ${verdict.reason || 'it looks like a secret'} (--allow-secret ${hostPath} ships it)`,
        );
        continue;
      }
    }
    if (byPath && entry.type === 'file' && hostPath !== undefined)
      assertNotSecret(hostPath, byPath, entry.path);
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
  for (const w of closure.warnings) ctx.warn(w);
  for (const r of closure.resolved ?? []) ctx.resolvedObjects.add(r);
}

/** GatherContext is the state of one platform's build while its items are gathered. */
interface GatherContext extends ItemContext {
  readonly traces: { command: string; exitCode: number; cwd: string }[];
  /** where programs and libraries are resolved (the host's / or a sysroot) */
  readonly root: RootFs;
  readonly host: RootFs;
  readonly cwd: string;
  readonly opts: BuildOptions;
  /** real paths of the ELF objects whose libraries the closure found (see gatherClosure) */
  readonly resolvedObjects: Set<string>;
  /** the platform being built: ELF files of other architectures are data */
  readonly platform: Platform;
  /** ELF files added as plain data (not closure roots), for the build's one summary note */
  readonly elfData: ElfDataFiles;
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
      const dest = item.dest ?? binaryDest(item.path, undefined) ?? normalizeImagePath(p);
      // a version manager's shim (pyenv and its kin, asdf, rustup) cannot run in an image: the program it
      // runs here takes its place, the shim's path a link to it
      const shim =
        r.stat.type === 'file' && ctx.root === ctx.host
          ? await shimProgram(ctx.root, item.path, r.path, r.stat.size, {
              env: process.env,
              cwd: ctx.cwd,
            })
          : undefined;
      if (shim) {
        ctx.opts.logger?.info(
          `${item.path} is a shim: the image gets the program it runs here, ${shim.program} (${shim.chosen}), with ${dest} a link to it`,
        );
        ctx.col.add(
          { type: 'symlink', path: dest, mode: 0o777, uid: 0, gid: 0, target: shim.program },
          { kind: 'requested', via: '--binary', source: r.path },
        );
        const real = await resolvePath(ctx.root, shim.program);
        if (real.stat?.type === 'file') await refuseElfData(ctx, shim.program, real.path);
        ctx.closureRoots.push({ path: shim.program, origin: { kind: 'requested', via: '--binary' } });
        return;
      }
      if (r.stat.type === 'file') await refuseElfData(ctx, item.path, r.path);
      if (dest !== normalizeImagePath(p)) await placeBinary(ctx, item.path, r, dest);
      ctx.closureRoots.push({ path: dest, origin: { kind: 'requested', via: '--binary' } });
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
          if (await isProgram(ctx, hostPath, entry.path, entry.mode)) {
            ctx.closureRoots.push({
              path: entry.path,
              origin: { kind: 'requested', via: '--add', source: hostPath },
            });
          }
        }
        await addLinkedPrograms(
          ctx,
          entries.map((e) => e.entry),
          normalizeImagePath(dest),
          '--add',
        );
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
      if (toArgv(item.command).shell)
        ctx.opts.logger?.info(`trace: \`${item.command}\` uses shell syntax; running it as /bin/sh -c`);
      const t = await traceCommand(item.command, {
        cwd: ctx.cwd,
        ...(item.allowFailure ? { allowFailure: true } : {}),
        ...(item.timeoutSeconds !== undefined ? { timeoutSeconds: item.timeoutSeconds } : {}),
        ...(ctx.opts.allowSecrets ? { allowSecrets: ctx.opts.allowSecrets } : {}),
      });
      if (t.stopped)
        ctx.opts.logger?.info(`trace: stopped \`${item.command}\` after ${item.timeoutSeconds ?? 120} s`);
      ctx.traces.push({ command: item.command, exitCode: t.exitCode, cwd: t.cwd });
      for (const f of t.files) {
        const origin: Origin = {
          kind: 'traced',
          command: item.command,
          pid: f.pid,
          syscall: f.syscall,
          ...(f.wrote ? { wrote: f.wrote } : {}),
        };
        if (f.wrote === 'file') {
          await addRootPath(ctx, f.path, origin, { empty: true }); // the host's content never leaks through a write
          continue;
        }
        const real = await addRootPath(ctx, f.path, origin);
        if (real && (await isProgram(ctx, real.path, real.imagePath, real.mode, f.kind === 'exec')))
          ctx.closureRoots.push({ path: f.path, origin });
      }
      return;
    }
    case 'root-paths':
      for (const path of item.paths) {
        const origin: Origin = { kind: 'fix', command: item.command };
        const real = await addRootPath(ctx, path, origin);
        if (real && (await isProgram(ctx, real.path, real.imagePath, real.mode, true)))
          ctx.closureRoots.push({ path, origin });
      }
      return;
    case 'package':
      return; // resolved together, before the other items
  }
}

/**
 * placeBinary puts the program found at `r` (symlinks resolved: the file itself) at `dest` in the image,
 * with its mode and extended attributes; its closure is then computed there (build/binary-dest.ts).
 */
async function placeBinary(
  ctx: GatherContext,
  named: string,
  r: Awaited<ReturnType<typeof resolvePath>>,
  dest: string,
): Promise<void> {
  const st = r.stat;
  if (st?.type !== 'file') {
    throw new FromscratchError(
      'NOT_EXECUTABLE',
      `${named} is a ${st?.type ?? 'missing file'}, not a program`,
      {
        hint: 'give an ELF program or a #! script (use --add for directories)',
      },
    );
  }
  const hostPath = ctx.root.hostPath(r.path);
  const xattrs = await ctx.root.xattrs(r.path);
  ctx.col.add(
    {
      type: 'file',
      path: dest,
      mode: st.mode,
      uid: 0,
      gid: 0,
      mtime: st.mtime,
      size: st.size,
      content:
        hostPath !== undefined
          ? { kind: 'host', path: hostPath }
          : { kind: 'bytes', data: await ctx.root.read(r.path) },
      ...(Object.keys(xattrs).length ? { xattrs } : {}),
    },
    { kind: 'requested', via: '--binary', source: hostPath ?? r.path },
    hostPath,
  );
}

/**
 * refuseElfData throws when `--binary` names an ELF file that is not a program or library of the
 * image: ARCH_MISMATCH for another architecture, NOT_EXECUTABLE for the rest (objects, core and debug
 * files, truncated or malformed ELF, other OS ABIs). Scripts and non-ELF files are left to the closure.
 */
async function refuseElfData(ctx: GatherContext, named: string, path: string): Promise<void> {
  if (!isElf(await ctx.root.read(path, { offset: 0, length: 4 }))) return;
  const role = await readElfRole(ctx.root, path, ctx.platform.architecture, undefined, ctx.root);
  if (role.role === 'program') return;
  const label = ELF_DATA_KIND_LABEL[role.kind];
  const what = `${named} is ${/^[aeiou]/i.test(label) ? 'an' : 'a'} ${label} (${role.detail})`;
  if (role.kind === 'foreign-arch') {
    throw new FromscratchError(
      'ARCH_MISMATCH',
      `${named} is ${role.detail}, not for ${formatPlatform(ctx.platform)}`,
      {
        hint: 'build for its platform (--platform OS/ARCH with --sysroot DIR, a root of that architecture), or copy it as data with --add SRC:DEST',
      },
    );
  }
  if (role.kind === 'foreign-libc') {
    throw new FromscratchError('NOT_EXECUTABLE', `${what}, not a program of this root`, {
      hint: 'resolve it inside a root that has musl (--sysroot DIR, e.g. an unpacked Alpine image), or copy it as data with --add SRC:DEST',
    });
  }
  throw new FromscratchError('NOT_EXECUTABLE', `${what}, not a program or shared library`, {
    hint: '--binary takes a linked program or shared library; copy other files as data with --add SRC:DEST',
  });
}

/**
 * isProgram tells whether a host file is an ELF program or library of the image's architecture, or a
 * `#!` script that is executable (or was executed, for traced files). Any other ELF file (a `.o`, a
 * core or debug file, a truncated or foreign one: elf/elf-role.ts) is data: it is recorded in
 * `ctx.elfData`, `why` says so, and no closure is attempted.
 */
async function isProgram(
  ctx: GatherContext,
  hostPath: string,
  imagePath: string,
  mode: number,
  executed = false,
): Promise<boolean> {
  const kind = await programKind(ctx, hostPath, mode, executed);
  if (kind !== undefined && typeof kind !== 'boolean') {
    const path = normalizeImagePath(imagePath);
    ctx.elfData.set(path, { kind: kind.kind, detail: kind.detail });
    ctx.col.note(path, elfDataOrigin(kind.kind, kind.detail, formatPlatform(ctx.platform)));
    return false;
  }
  return kind === true;
}

/**
 * programKind reads what a host file is to run: true for an ELF program or library of the image's
 * architecture or an executable (or `executed`) `#!` script, false for another non-ELF file, or the
 * role of an ELF file that is data (isProgram records it; addLinkedPrograms passes over it).
 */
async function programKind(
  ctx: GatherContext,
  hostPath: string,
  mode: number,
  executed = false,
): Promise<boolean | Extract<ElfRole, { role: 'data' }>> {
  const head = await ctx.host.read(hostPath, { offset: 0, length: 4 });
  if (isElf(head)) {
    const role = await readElfRole(ctx.host, hostPath, ctx.platform.architecture, undefined, ctx.root);
    return role.role === 'program' ? true : role;
  }
  return head[0] === 0x23 && head[1] === 0x21 && (executed || (mode & 0o111) !== 0);
}

/** MAX_LINKED_PROGRAMS bounds the programs outside an added tree that its symlinks bring (addLinkedPrograms). */
const MAX_LINKED_PROGRAMS = 32;

/**
 * addLinkedPrograms makes closure roots of the programs outside an added tree (`dest` in the image) that
 * its symlinks point to, as the root has them: a Python virtual environment's `bin/python` is a link to
 * `/usr/bin/python3`, and the image's command through it found nothing to run. ELF programs and
 * executable scripts only, at most MAX_LINKED_PROGRAMS; a link to nothing or to data stays a link.
 */
async function addLinkedPrograms(
  ctx: GatherContext,
  entries: readonly FileEntry[],
  dest: string,
  via: string,
): Promise<void> {
  const seen = new Set<string>();
  for (const entry of entries) {
    if (entry.type !== 'symlink' || seen.size >= MAX_LINKED_PROGRAMS) continue;
    const to = normalizeImagePath(
      entry.target.startsWith('/') ? entry.target : `${parentPath(entry.path)}/${entry.target}`,
    );
    if (to === dest || to.startsWith(`${dest}/`) || seen.has(to)) continue;
    const r = await resolvePath(ctx.root, to).catch(() => undefined);
    if (r?.stat?.type !== 'file') continue;
    const real = ctx.root.hostPath(r.path);
    if (real === undefined || (await programKind(ctx, real, r.stat.mode).catch(() => false)) !== true)
      continue;
    seen.add(to);
    ctx.closureRoots.push({
      path: to,
      origin: { kind: 'requested', via, source: `${entry.path} -> ${entry.target}` },
    });
  }
}

/**
 * addRootPath adds a path of the root as the image must have it: every symlink passed on the way
 * (`/lib -> usr/lib`) as a symlink, then the real entry (a directory is added alone, without its
 * contents; with `empty`, a regular file is added with its mode and owner but no content). Returns the
 * real file, or undefined when it is not a regular file or is added empty.
 */
async function addRootPath(
  ctx: GatherContext,
  path: string,
  origin: Origin,
  opts: { empty?: boolean } = {},
): Promise<{ path: string; imagePath: string; mode: number } | undefined> {
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
  if (opts.empty) {
    ctx.col.addIfAbsent(
      { ...base, type: 'file', size: 0, content: { kind: 'bytes', data: new Uint8Array(0) } },
      origin,
    );
    return undefined;
  }
  const hostPath = ctx.root.hostPath(r.path);
  if (hostPath === undefined) return undefined;
  const xattrs = await ctx.root.xattrs(r.path);
  ctx.col.addIfAbsent(
    {
      ...base,
      type: 'file',
      size: st.size,
      content: { kind: 'host', path: hostPath, dev: st.dev, ino: st.ino },
      ...(Object.keys(xattrs).length ? { xattrs } : {}),
    },
    origin,
    hostPath,
  );
  return { path: hostPath, imagePath: r.path, mode: st.mode };
}

/**
 * whatItem names an item in an error: a Dockerfile's COPY/ADD (an add with a build context) as written
 * there, not as the --add it becomes; otherwise as describeItem (which also names history, so unchanged)
 */
function whatItem(item: ContentItem): string {
  if (item.kind === 'add' && item.context !== undefined)
    return `${item.extract ? 'ADD' : 'COPY'} ${item.src}${item.dest ? ` ${item.dest}` : ''}`;
  return describeItem(item);
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
      if (item.kind === 'binary' && item.dest !== undefined) return `--binary :${item.dest}`;
      return describeItem(item);
    })
    .join(' ');
}
