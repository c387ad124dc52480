/**
 * space.ts — where the space of an image goes: its files grouped by directory, package, origin or
 * layer as a sorted tree with totals (du's and dive's job), and the largest files. PURE.
 */

/** SpaceFile is one regular file of the image (the merged view: a later layer's copy wins). */
export interface SpaceFile {
  /** absolute path in the image (non-UTF-8 bytes shown as U+FFFD) */
  readonly path: string;
  /** content bytes */
  readonly size: number;
  /** index of the layer the file comes from (0 = the first) */
  readonly layer: number;
  /** the Debian package that shipped it, when known */
  readonly package?: string;
  /** what brought it into the image: `/usr/bin/curl (--binary)`, `inferred: gconv`, … or `unknown` */
  readonly origin: string;
}

/** SpaceLayer is one layer: its blob, what it holds and the bytes of its regular files. */
export interface SpaceLayer {
  readonly digest: string;
  /** compressed size (what a pull transfers) */
  readonly size: number;
  /** the layer's history `created_by`, without fromscratch's `fromscratch layer: ` prefix */
  readonly holds?: string;
  /** bytes of the regular files the layer's tar holds (overwritten ones included) */
  readonly fileBytes: number;
  /** the layer's regular files, as its tar holds them */
  readonly files: readonly { readonly path: string; readonly size: number; readonly group: string }[];
}

/** ImageSpace is what the size views need of one image. */
export interface ImageSpace {
  readonly reference: string;
  readonly platform: string;
  /** where packages and origins come from: the fromscratch build record, the image's dpkg data, or nothing */
  readonly source: 'record' | 'dpkg' | 'none';
  readonly files: readonly SpaceFile[];
  readonly layers: readonly SpaceLayer[];
}

/** SpaceBy names a view. */
export type SpaceBy = 'dir' | 'package' | 'origin' | 'layer';

/** SPACE_BY lists the views, for usage messages. */
export const SPACE_BY: readonly SpaceBy[] = ['dir', 'package', 'origin', 'layer'];

/** SpaceNode is one node of a size tree: its cumulative size and file count, children largest first. */
export interface SpaceNode {
  readonly name: string;
  readonly size: number;
  readonly files: number;
  /** absent below the depth limit (the sizes still count everything under the node) */
  readonly children?: readonly SpaceNode[];
}

/** UNKNOWN is the group of files whose package or origin is not known. */
export const UNKNOWN = 'unknown';

interface MutableNode {
  name: string;
  size: number;
  files: number;
  children: Map<string, MutableNode>;
}

function newNode(name: string): MutableNode {
  return { name, size: 0, files: 0, children: new Map() };
}

/** bySizeThenName orders largest first, then bytewise by name, so equal inputs give equal output. */
function bySizeThenName(a: SpaceNode, b: SpaceNode): number {
  return b.size - a.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function freeze(n: MutableNode, depth: number, maxDepth: number): SpaceNode {
  const base = { name: n.name, size: n.size, files: n.files };
  if (n.children.size === 0 || depth >= maxDepth) return base;
  return {
    ...base,
    children: [...n.children.values()].map((c) => freeze(c, depth + 1, maxDepth)).sort(bySizeThenName),
  };
}

/** add counts a file into `root` under the path of names `parts`. */
function add(root: MutableNode, parts: readonly string[], size: number): void {
  let n = root;
  n.size += size;
  n.files += 1;
  for (const p of parts) {
    let c = n.children.get(p);
    if (!c) {
      c = newNode(p);
      n.children.set(p, c);
    }
    c.size += size;
    c.files += 1;
    n = c;
  }
}

/** DEFAULT_DEPTH is the depth each view shows unless told (dir: three levels; groups: the groups only). */
export const DEFAULT_DEPTH: Readonly<Record<SpaceBy, number>> = { dir: 3, package: 1, origin: 1, layer: 2 };

/**
 * spaceTree groups the files of `space` into a tree of cumulative sizes: by `dir` the directories
 * (`/` the root), by `package` or `origin` the groups then their files, by `layer` each layer then the
 * groups of its files (package when known, else origin). Nodes deeper than `depth` are left out.
 */
export function spaceTree(space: ImageSpace, by: SpaceBy, depth = DEFAULT_DEPTH[by]): SpaceNode {
  const root = newNode('/');
  if (by === 'dir') {
    for (const f of space.files) add(root, f.path.split('/').filter(Boolean), f.size);
  } else if (by === 'layer') {
    root.name = space.reference;
    space.layers.forEach((l, i) => {
      const name = layerName(l, i);
      const ln = newNode(name);
      root.children.set(name, ln);
      for (const f of l.files) add(ln, [f.group, f.path], f.size);
      root.size += ln.size;
      root.files += ln.files;
    });
  } else {
    root.name = space.reference;
    for (const f of space.files)
      add(root, [by === 'package' ? (f.package ?? UNKNOWN) : f.origin, f.path], f.size);
  }
  const tree = freeze(root, 0, Math.max(0, depth));
  // layers keep their order: the first is the base
  if (by === 'layer' && tree.children) {
    const order = new Map(space.layers.map((l, i) => [layerName(l, i), i] as const));
    return {
      ...tree,
      children: [...tree.children].sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0)),
    };
  }
  return tree;
}

/** layerName is how a layer is shown: its number, digest, compressed size and what it holds. */
export function layerName(l: SpaceLayer, i: number): string {
  const holds = l.holds ? `: ${l.holds.length > 100 ? `${l.holds.slice(0, 99)}…` : l.holds}` : '';
  return `layer ${i + 1} ${l.digest.slice(0, 19)} (${formatBytes(l.size)} compressed)${holds}`;
}

/** topFiles returns the `n` largest files, largest first (ties by path). */
export function topFiles(space: ImageSpace, n: number): SpaceFile[] {
  return [...space.files]
    .sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .slice(0, Math.max(0, n));
}

/** formatBytes renders a byte count as docker does (kB, MB: powers of 1000). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n}B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u += 1;
  }
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)}${units[u]}`;
}

function percent(part: number, whole: number): string {
  return `${whole > 0 ? Math.round((part * 100) / whole) : 0}%`;
}

/**
 * formatSpaceTree renders a size tree as du does, one node a line with its size, its share of the
 * total and its file count, children indented under their parent, largest first:
 *
 * ```
 *   12.3MB 100%  /  (413 files)
 *    8.9MB  72%  └─ usr  (390 files)
 * ```
 */
export function formatSpaceTree(tree: SpaceNode): string {
  const lines: string[] = [];
  const total = tree.size;
  const line = (n: SpaceNode, prefix: string) =>
    `${formatBytes(n.size).padStart(8)} ${percent(n.size, total).padStart(4)}  ${prefix}${n.name}${n.files > 1 || n.children ? `  (${n.files} file${n.files === 1 ? '' : 's'})` : ''}`;
  lines.push(line(tree, ''));
  const walk = (n: SpaceNode, indent: string) => {
    const kids = n.children ?? [];
    kids.forEach((c, i) => {
      const last = i === kids.length - 1;
      lines.push(line(c, `${indent}${last ? '└─ ' : '├─ '}`));
      walk(c, `${indent}${last ? '   ' : '│  '}`);
    });
  };
  walk(tree, '');
  return `${lines.join('\n')}\n`;
}

/** formatTop renders the largest files with their size, package and origin. */
export function formatTop(files: readonly SpaceFile[], total: number): string {
  return files
    .map(
      (f) =>
        `${formatBytes(f.size).padStart(8)} ${percent(f.size, total).padStart(4)}  ${f.path}  [${f.package ? `package ${f.package}; ` : ''}${f.origin}]\n`,
    )
    .join('');
}

/** totalBytes is the sum of the sizes of the image's files. */
export function totalBytes(space: ImageSpace): number {
  return space.files.reduce((n, f) => n + f.size, 0);
}
