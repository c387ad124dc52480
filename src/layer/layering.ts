/**
 * layering.ts — split one image's FileTree into layers chosen for reuse, within a layer budget. PURE.
 *
 * Every entry is put in a *group* by where it comes from (its origins in the build record):
 *
 * | group            | holds                                                                            |
 * | ---------------- | -------------------------------------------------------------------------------- |
 * | `package:NAME`   | the files of one Debian package: installed with --package, or host files dpkg owns (with its status.d record) |
 * | `host`           | host files no package owns that the closure, a trace or an inference brought in  |
 * | `base`           | the scratch defaults (/etc/passwd, /tmp, …) and links no other group claims      |
 * | `app`            | what the user named: --add, --binary, COPY, generated files, --fix              |
 *
 * Then the budget (apko's `layering: {strategy: origin, budget}`, chainguard-dev/apko pkg/build/layers.go):
 * `app` always keeps a layer of its own (it is what changes between rebuilds, as Jib's and ko's
 * application layer); the other groups are ranked by size, the largest keep their own layers, and the
 * rest share one layer, as do groups under 1 MiB (a layer costs a request and an overlay level, and a
 * small one saves little when it is reused). The layers are ordered bottom to top from the most shared to the least: libc6
 * (the loader and libc, in every image), the other packages by name, the shared rest, host files, base,
 * app. A symlink goes with the file it points to, a hard link with its file; each layer carries the
 * parent directories of its entries, with the same metadata in every layer.
 *
 * The result depends only on the tree and its origins (never on the clock, the cache or readdir order),
 * so the same inputs give the same layers; with a budget of 1 the single layer is the whole tree.
 */
import type { FileEntry, FileTree } from '../fs/file-tree.ts';
import type { Origin } from '../fs/origin.ts';
import { ancestors, comparePaths, joinImagePath, normalizeImagePath, parentPath } from '../fs/path.ts';

/** DEFAULT_LAYER_BUDGET is the default number of layers a build adds (base image layers not counted). */
export const DEFAULT_LAYER_BUDGET = 16;

/** MIN_LAYER_BYTES: groups with less file content than this share one layer instead of one each. */
export const MIN_LAYER_BYTES = 1024 * 1024;

/** STATUS_D is where dpkg status records of the image live: `<package>` and `<package>.md5sums` go with the package. */
const STATUS_D = '/var/lib/dpkg/status.d/';

/** PlannedLayer is one layer of a plan: the groups it holds and their entries with their parents. */
export interface PlannedLayer {
  /** the groups, e.g. `package:libc6`, `host`, `base`, `app` (sorted; several when the budget merged them) */
  readonly groups: readonly string[];
  /** a short human description for the image history and `inspect`: `packages libc6`, `app`, … */
  readonly holds: string;
  /** the entries of the layer, in tree order, with their parent directories */
  readonly tree: FileTree;
  /** bytes of regular file content in the layer */
  readonly bytes: number;
}

/** PlanLayersOptions configures planLayers. */
export interface PlanLayersOptions {
  /** most layers to make (default {@link DEFAULT_LAYER_BUDGET}); 1 gives the whole tree as one layer */
  budget?: number;
  /** groups with less file content share one layer (default {@link MIN_LAYER_BYTES}) */
  minLayerBytes?: number;
}

/**
 * planLayers splits `tree` into at most `budget` layers by origin (see the file header). Every entry of
 * the tree is in exactly one layer, except directories, which are repeated as parents wherever needed.
 * Throws nothing for a well-formed tree; a budget below 1 counts as 1.
 * @example
 * const layers = planLayers(col.tree(), col.origins(), { budget: 8 });
 */
export function planLayers(
  tree: FileTree,
  origins: ReadonlyMap<string, readonly Origin[]>,
  opts: PlanLayersOptions = {},
): PlannedLayer[] {
  const budget = Math.max(1, Math.floor(opts.budget ?? DEFAULT_LAYER_BUDGET));
  const all = tree.entries.filter((e) => e.path !== '/');
  if (budget === 1 || all.length === 0)
    return [{ groups: ['all'], holds: 'all files', tree, bytes: contentBytes(all) }];

  const groupOf = assignGroups(tree, origins);
  const members = new Map<string, FileEntry[]>();
  for (const e of all) {
    const g = groupOf.get(e.path);
    if (g === undefined) continue;
    const list = members.get(g) ?? [];
    list.push(e);
    members.set(g, list);
  }
  // a directory no group claims and no entry of a group lies under (an empty implicit dir): base
  const covered = new Set<string>();
  for (const [, list] of members) for (const e of list) for (const a of ancestors(e.path)) covered.add(a);
  for (const e of all) {
    if (groupOf.has(e.path) || covered.has(e.path)) continue;
    const list = members.get('base') ?? [];
    list.push(e);
    members.set('base', list);
  }

  const sized = [...members].map(([name, list]) => ({ names: [name], list, bytes: contentBytes(list) }));
  const app = sized.find((g) => g.names[0] === 'app');
  const others = sized
    .filter((g) => g !== app)
    .sort((a, b) => b.bytes - a.bytes || cmp(a.names[0]!, b.names[0]!));
  const room = budget - (app ? 1 : 0);
  if (room < 1) {
    // budget 1 is handled above, so only the app is left: it takes the one layer with everything
    return [{ groups: ['all'], holds: 'all files', tree, bytes: contentBytes(all) }];
  }
  // groups too small to be worth a layer (a request and an overlay level each), and those past the
  // budget, share one layer
  const minBytes = opts.minLayerBytes ?? MIN_LAYER_BYTES;
  const own = others.filter((g) => g.bytes >= minBytes);
  const rest = others.filter((g) => g.bytes < minBytes);
  while (own.length > 0 && own.length + (rest.length > 0 ? 1 : 0) > room) rest.push(own.pop()!);
  const kept =
    rest.length <= 1
      ? [...own, ...rest]
      : [
          ...own,
          {
            names: rest.flatMap((g) => g.names).sort(cmp),
            list: rest.flatMap((g) => g.list),
            bytes: rest.reduce((n, g) => n + g.bytes, 0),
          },
        ];
  const layers = [...kept, ...(app ? [app] : [])].sort(
    (a, b) => tier(a.names) - tier(b.names) || cmp(a.names[0]!, b.names[0]!),
  );
  return layers.map((g) => ({
    groups: g.names,
    holds: describeGroups(g.names),
    tree: subTree(tree, g.list),
    bytes: g.bytes,
  }));
}

/** tier orders layers bottom to top: libc6, packages, a shared rest, host, base, app. */
function tier(names: readonly string[]): number {
  if (names.length > 1) return names.includes('package:libc6') ? 0 : 2;
  const n = names[0]!;
  if (n === 'package:libc6') return 0;
  if (n.startsWith('package:')) return 1;
  if (n === 'host') return 3;
  if (n === 'base') return 4;
  return 5;
}

/** describeGroups names what a layer holds, for the history and `inspect`. */
export function describeGroups(names: readonly string[]): string {
  const pkgs = names.filter((n) => n.startsWith('package:')).map((n) => n.slice('package:'.length));
  const parts: string[] = [];
  if (pkgs.length > 0) parts.push(`${pkgs.length === 1 ? 'package' : 'packages'} ${pkgs.join(' ')}`);
  if (names.includes('host')) parts.push('host files');
  if (names.includes('base')) parts.push('scratch defaults');
  if (names.includes('app')) parts.push('app');
  return parts.join(', ');
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function contentBytes(entries: readonly FileEntry[]): number {
  let n = 0;
  for (const e of entries) if (e.type === 'file') n += e.size;
  return n;
}

/** ownGroup is the group an entry's own origins give it, or undefined when they say nothing. */
function ownGroup(e: FileEntry, list: readonly Origin[]): string | undefined {
  if (e.path.startsWith(STATUS_D)) {
    const name = e.path.slice(STATUS_D.length).replace(/\.(md5sums|list|conffiles)$/, '');
    if (name && !name.includes('/')) return `package:${name}`;
  }
  const pkgs = list
    .filter((o): o is Extract<Origin, { kind: 'package' }> => o.kind === 'package')
    .map((o) => o.name)
    .sort(cmp);
  if (pkgs.length > 0) return `package:${pkgs[0]}`;
  if (list.some((o) => o.kind === 'requested' || o.kind === 'fix')) return 'app';
  if (list.some((o) => o.kind === 'default')) return 'base';
  if (
    list.some(
      (o) =>
        o.kind === 'needed' ||
        o.kind === 'interpreter' ||
        o.kind === 'shebang' ||
        o.kind === 'inferred' ||
        o.kind === 'traced' ||
        o.kind === 'base',
    )
  )
    return 'host';
  return undefined;
}

/**
 * assignGroups gives every entry that needs one a group: own origins first; a hard link takes its file's
 * group (tar needs both in one layer); a symlink without a package or request of its own follows its
 * target within the tree. Directories without an origin of their own are left out (they are parents).
 */
function assignGroups(tree: FileTree, origins: ReadonlyMap<string, readonly Origin[]>): Map<string, string> {
  const groups = new Map<string, string>();
  const pending: FileEntry[] = [];
  for (const e of tree.entries) {
    if (e.path === '/') continue;
    const list = origins.get(e.path) ?? [];
    const own = ownGroup(e, list);
    if (e.type === 'hardlink') pending.push(e);
    else if (e.type === 'symlink' && (own === undefined || (own !== 'app' && !own.startsWith('package:'))))
      pending.push(e);
    else if (own !== undefined) groups.set(e.path, own);
    else if (e.type !== 'dir') groups.set(e.path, 'base');
  }
  for (const e of pending) {
    const target = e.type === 'hardlink' ? hardlinkFile(tree, e) : symlinkTarget(tree, e);
    const viaTarget = target === undefined ? undefined : groups.get(target.path);
    const own = ownGroup(e, origins.get(e.path) ?? []);
    groups.set(e.path, viaTarget ?? own ?? 'base');
  }
  return groups;
}

/** hardlinkFile follows a hard link (chains included) to its regular file in the tree. */
function hardlinkFile(tree: FileTree, e: FileEntry): FileEntry | undefined {
  let cur: FileEntry | undefined = e;
  for (let hops = 0; cur?.type === 'hardlink' && hops < 64; hops++) cur = safeGet(tree, cur.target);
  return cur?.type === 'file' ? cur : undefined;
}

/**
 * symlinkTarget resolves a symlink inside the tree to a non-symlink entry, following links met in the
 * parent directories too (`/usr/lib64/ld.so -> /lib/…` with `/lib -> usr/lib`), as the kernel would.
 */
function symlinkTarget(tree: FileTree, e: FileEntry): FileEntry | undefined {
  if (e.type !== 'symlink') return e;
  let hops = 0;
  let pending = safeJoin(parentPath(e.path), e.target);
  let at = '';
  while (pending.length > 0) {
    const next = `${at}/${pending.shift()!}`;
    const x = safeGet(tree, next);
    if (x?.type === 'symlink') {
      if (++hops > 40) return undefined;
      pending = [...safeJoin(at || '/', x.target), ...pending];
      at = '';
      continue;
    }
    if (x === undefined) return undefined;
    at = next;
  }
  return at === '' ? undefined : safeGet(tree, at);
}

/** safeJoin is joinImagePath split into components; a target that does not normalise gives none. */
function safeJoin(dir: string, target: string): string[] {
  try {
    return joinImagePath(dir, target).split('/').filter(Boolean);
  } catch {
    // NUL or over-long: such a link resolves to nothing in the tree
    return [];
  }
}

function safeGet(tree: FileTree, path: string): FileEntry | undefined {
  try {
    return tree.get(normalizeImagePath(path));
  } catch {
    // a target that does not normalise (too long, NUL) is simply not in the tree
    return undefined;
  }
}

/** subTree is the entries of one layer plus their parent directories (from the full tree), in tree order. */
function subTree(tree: FileTree, list: readonly FileEntry[]): FileTree {
  const paths = new Set<string>();
  for (const e of list) {
    paths.add(e.path);
    for (const a of ancestors(e.path)) paths.add(a);
  }
  const entries = tree.entries.filter((e) => paths.has(e.path));
  // tree.entries is sorted: keep the invariant explicit for readers of the plan
  for (let i = 1; i < entries.length; i++)
    if (comparePaths(entries[i - 1]!.path, entries[i]!.path) >= 0)
      throw new Error('layering: tree out of order');
  const byPath = new Map(entries.map((e) => [e.path, e]));
  return { entries, get: (p) => byPath.get(normalizeImagePath(p)) };
}
