/**
 * watch.ts — `build --watch`: build, then build again whenever an input changes, until stopped (the
 * inner loop of `skaffold dev` or `docker compose watch`, without a daemon: one process keeps its
 * modules loaded and its caches warm, so an edit costs the changed layer and the push, not a start-up).
 *
 * What is watched: the host file behind every file of the image (a library upgraded by apt, an edited
 * app file), every directory below an `--add` directory (a new file there belongs in the image), and
 * what the caller adds (the spec file, the Dockerfile, the build context). Directories are watched,
 * not files (inotify through node:fs.watch, one watch per directory): an editor that saves by writing a
 * new file and renaming it over the old one is seen. Events under an output or the cache are ignored
 * (`--add .:/app -o oci:out` must not rebuild because it wrote out/).
 *
 * A change waits `settleMs` of quiet (an editor's save is several events), then loads the spec again
 * (an edited fromscratch.yaml or Dockerfile counts) and rebuilds; a change during a build rebuilds again
 * after it. Each build is the same build as without --watch (same digests); the watch only decides when
 * to run one.
 */
import { type FSWatcher, readdirSync, statSync, watch } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { parseOutputRef } from '../oci/transport.ts';
import type { BuiltImage } from './build-image.ts';
import type { BuildSpec } from './build-spec.ts';

/** POLL_MS is how often a missing watched directory is looked for. */
const POLL_MS = 500;

/** MAX_TREE_DIRS bounds the directories watched below `--add` directories (a node_modules is large). */
const MAX_TREE_DIRS = 10_000;

/** WatchBuildOptions configures watchBuild. */
export interface WatchBuildOptions {
  /** stops the watch (the build in progress finishes first) */
  readonly signal: AbortSignal;
  /** more paths whose change rebuilds: files, or directories any name of which counts */
  readonly extra?: readonly string[];
  /** paths whose changes never rebuild (the cache directory; outputs are added from the spec) */
  readonly ignore?: readonly string[];
  /** quiet time after a change before the rebuild (default 25 ms) */
  readonly settleMs?: number;
  /** what relative paths of the spec are relative to (default the process's working directory) */
  readonly cwd?: string;
  /** a build finished: the first one, then one per change */
  onBuilt(r: BuiltImage): void;
  /** a rebuild failed: the watch goes on (the first build's error is thrown instead) */
  onError(e: unknown): void;
  /** a change starts a rebuild: the first path seen changed */
  onChange?(path: string): void;
  /** the watch is (re)armed over this many files and directories; `skipped` could not be watched */
  onWatching?(w: { files: number; directories: number; skipped: readonly string[] }): void;
}

/**
 * watchBuild loads the spec and builds it once (an error is thrown), then does both again after each
 * change of an input, until `o.signal` aborts. Resolves when stopped.
 */
export async function watchBuild(
  load: () => Promise<BuildSpec>,
  build: (spec: BuildSpec) => Promise<BuiltImage>,
  o: WatchBuildOptions,
): Promise<void> {
  const settleMs = o.settleMs ?? 25;
  const cwd = o.cwd ?? process.cwd();
  let ignore: string[] = [];
  const ignored = (p: string) => ignore.some((i) => p === i || p.startsWith(i.endsWith(sep) ? i : i + sep));
  /** the first path changed since the last build, and how many events came */
  let first: string | undefined;
  let events = 0;
  let wake: (() => void) | undefined;
  const changed = (path: string) => {
    if (ignored(path)) return;
    first ??= path;
    events++;
    wake?.();
  };
  /** a watch per directory, with the inode it was made on (a directory replaced needs a new one) */
  const watchers = new Map<string, { w: FSWatcher; ino: number }>();
  /** what counts in each directory, as of the last build (the watches read it when an event comes) */
  let want = new Map<string, Set<string> | undefined>();
  /** polls for directories that could not be watched (missing for now): their return starts a build */
  let poll: NodeJS.Timeout | undefined;
  const close = () => {
    for (const { w } of watchers.values()) w.close();
    watchers.clear();
    if (poll) clearInterval(poll);
    poll = undefined;
  };
  const arm = (spec: BuildSpec, r: BuiltImage) => {
    ignore = [...(o.ignore ?? []), ...outputPaths(spec)].map((p) => resolve(cwd, p));
    want = watchSet(spec, r, o.extra ?? [], cwd);
    const skipped: string[] = [];
    for (const [dir, { w, ino }] of watchers) {
      // gone from the set, or the directory was replaced (rm -rf and checkout again)
      if (!want.has(dir) || statSync(dir, { throwIfNoEntry: false })?.ino !== ino) {
        w.close();
        watchers.delete(dir);
      }
    }
    for (const dir of want.keys()) {
      if (watchers.has(dir) || ignored(dir)) continue;
      try {
        const ino = statSync(dir).ino;
        const w = watch(dir, { persistent: true }, (_event, name) => {
          const n = name?.toString();
          const names = want.get(dir);
          // a directory watched for its own files: only those; a whole directory (names undefined): any
          if (names === undefined || n === undefined || names.has(n)) changed(n ? join(dir, n) : dir);
        });
        w.on('error', () => {
          // the directory went away: the next build names what is missing
          watchers.delete(dir);
          changed(dir);
        });
        watchers.set(dir, { w, ino });
      } catch {
        skipped.push(dir);
      }
    }
    if (poll) clearInterval(poll);
    poll = undefined;
    const absent = skipped.filter((d) => statSync(d, { throwIfNoEntry: false }) === undefined);
    if (absent.length > 0) {
      poll = setInterval(() => {
        const back = absent.find((d) => statSync(d, { throwIfNoEntry: false }) !== undefined);
        if (back !== undefined) changed(back);
      }, POLL_MS);
      poll.unref();
    }
    let files = 0;
    for (const names of want.values()) files += names?.size ?? 0;
    o.onWatching?.({
      files,
      directories: watchers.size,
      skipped: skipped.filter((d) => !absent.includes(d)),
    });
  };

  let spec = await load();
  let result = await build(spec);
  o.onBuilt(result);
  if (o.signal.aborted) return;
  const stopped = new Promise<void>((res) => o.signal.addEventListener('abort', () => res(), { once: true }));
  try {
    arm(spec, result);
    for (;;) {
      if (first === undefined) {
        await Promise.race([new Promise<void>((res) => (wake = res)), stopped]);
        wake = undefined;
      }
      if (o.signal.aborted) return;
      // quiet for settleMs: an editor's save is several events
      let seen: number;
      do {
        seen = events;
        await Promise.race([sleep(settleMs), stopped]);
        if (o.signal.aborted) return;
      } while (events !== seen);
      const path = first;
      first = undefined;
      if (path !== undefined) o.onChange?.(path);
      try {
        const next = await load();
        const r = await build(next);
        o.onBuilt(r);
        spec = next;
        result = r;
      } catch (e) {
        o.onError(e);
      }
      // again after a failure too: a directory removed and made again needs a new watch
      arm(spec, result);
    }
  } finally {
    close();
  }
}

/**
 * watchSet is what to watch: directory → the names in it that count (undefined: every name). The host
 * files behind the image's files, every directory below an `--add` directory, and `extra`.
 */
export function watchSet(
  spec: BuildSpec,
  r: BuiltImage,
  extra: readonly string[],
  cwd: string = process.cwd(),
): Map<string, Set<string> | undefined> {
  const out = new Map<string, Set<string> | undefined>();
  const file = (p: string) => {
    const dir = dirname(p);
    if (out.has(dir) && out.get(dir) === undefined) return;
    const names = out.get(dir) ?? new Set<string>();
    names.add(basename(p));
    out.set(dir, names);
  };
  let budget = MAX_TREE_DIRS;
  const tree = (dir: string) => {
    const todo = [dir];
    while (todo.length > 0 && budget > 0) {
      const d = todo.pop()!;
      budget--;
      out.set(d, undefined);
      let entries: { name: string; isDirectory(): boolean }[];
      try {
        entries = readdirSync(d, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries) if (e.isDirectory()) todo.push(join(d, e.name));
    }
  };
  for (const img of r.result.images) for (const p of img.inputs ?? []) file(p);
  for (const item of spec.contents) {
    if (item.kind !== 'add') continue;
    const src = resolve(cwd, item.src);
    if (isDirectory(src)) tree(src);
    else file(src);
  }
  for (const p of extra) {
    const abs = resolve(cwd, p);
    if (isDirectory(abs)) tree(abs);
    else file(abs);
  }
  return out;
}

function isDirectory(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
}

/** outputPaths are the files and directories the outputs write (never a reason to rebuild). */
function outputPaths(spec: BuildSpec): string[] {
  const out: string[] = [];
  for (const o of spec.outputs ?? []) {
    try {
      const r = parseOutputRef(o);
      if (r.kind === 'oci') out.push(r.dir);
      else if (r.kind === 'oci-archive' || r.kind === 'docker-archive') out.push(r.file);
    } catch {
      // the build reports a bad output
    }
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}
