/**
 * generated-caches.ts — the caches Debian's triggers generate that a program needs to find its
 * libraries and plugins, made without running the trigger (nothing inspected is executed).
 * generatedCaches is PURE over the assembled entries (read through a memory RootFs); readHostPixbufLoaders
 * does the IO of reading the build host's loaders.cache.
 *
 * | trigger (postinst command) | rule |
 * |---|---|
 * | `ldconfig` (libc-bin's trigger, `activate-noawait ldconfig` of every library package) | `/etc/ld.so.cache` as ldconfig writes it (closure/ldconfig.ts), when a directory named by ld.so.conf outside the system ones holds a library; otherwise none is needed: the loader searches the system directories itself |
 * | `gdk-pixbuf-query-loaders` (libgdk-pixbuf-2.0-0's postinst and its trigger on the loaders directory) | `LIBDIR/gdk-pixbuf-2.0/2.10.0/loaders.cache` for the modules of `LIBDIR/gdk-pixbuf-2.0/2.10.0/loaders/*.so`, in the order of the postinst (`find … \| LC_ALL=C sort`) |
 *
 * gdk-pixbuf-query-loaders learns a module's formats by loading it and calling its `fill_info`, which
 * fills a structure at run time: nothing in the file can be read statically. So the entry of a module is
 * taken from a loaders.cache that describes the same bytes: the build host's (`known`: its modules are
 * hashed), the path line rewritten. A module no known cache describes is left out of the cache and
 * reported (`unknownLoaders`, a build warning naming its package and the fix): the program would not
 * load that format, as with a stale cache.
 *
 * Commands these rules stand for are not warned about (script-effects.ts, `NOT_NEEDED`).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { FileEntry } from '../fs/file-tree.ts';
import { type MemoryNode, memoryFs } from '../fs/memory-fs.ts';
import type { Origin } from '../fs/origin.ts';
import type { RootFs } from '../fs/root-fs.ts';

/** GeneratedCaches holds the generated entries and why each exists. */
export interface GeneratedCaches {
  readonly entries: FileEntry[];
  readonly origins: Map<string, Origin[]>;
  /** gdk-pixbuf loader modules no known loaders.cache describes (left out of the generated cache) */
  readonly unknownLoaders: readonly UnknownLoader[];
}

/** UnknownLoader is a gdk-pixbuf loader module left out of loaders.cache. */
export interface UnknownLoader {
  readonly path: string;
  /** the package that ships it, when known */
  readonly package?: string;
  readonly cache: string;
}

/** PixbufKnown maps the sha256 (hex) of a loader module to its loaders.cache entry, without the path line. */
export type PixbufKnown = ReadonlyMap<string, string>;

/** GeneratedCachesOptions gives what the rules know beyond the entries. */
export interface GeneratedCachesOptions {
  /** loaders.cache entries by module digest (readHostPixbufLoaders) */
  readonly pixbufKnown?: PixbufKnown;
  /**
   * the ldconfig rule: the ld.so.cache ldconfig would write for a root, or undefined when none is needed
   * (closure/ldconfig.ts's ldconfigCache, passed in by orchestrate since deb/ does not read ELF files);
   * without it no ld.so.cache is generated
   */
  readonly ldconfig?: LdconfigRule;
}

/** LdconfigRule computes the ld.so.cache of a root (closure/ldconfig.ts's ldconfigCache has this shape). */
export type LdconfigRule = (fs: RootFs) => Promise<
  | {
      readonly data: Uint8Array;
      readonly entries: readonly unknown[];
      readonly extraDirs: readonly string[];
      readonly confFiles: readonly string[];
    }
  | undefined
>;

const PIXBUF_MODULE = /^((?:\/usr)?\/lib(?:\/[^/]+)?)\/gdk-pixbuf-2\.0\/2\.10\.0\/loaders\/[^/]+\.so$/;
const PIXBUF_HEADER =
  '# GdkPixbuf Image Loader Modules file\n# Automatically generated file, do not edit\n# Created by fromscratch from the loaders.cache entries of identical modules (gdk-pixbuf-query-loaders is not run)\n#\n';

const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * parseLoadersCache splits a loaders.cache into its module entries: path → the entry's lines after the
 * path line (each ending in a newline). Comment lines are dropped.
 */
export function parseLoadersCache(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const block of text.split(/\n[ \t]*\n/)) {
    const lines = block.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    const m = /^"(\/[^"]+)"\s*$/.exec(lines[0] ?? '');
    if (!m || lines.length < 2) continue;
    out.set(m[1]!, `${lines.slice(1).join('\n')}\n`);
  }
  return out;
}

/**
 * readHostPixbufLoaders reads the build host's loaders.cache files (`/usr/lib/*\/gdk-pixbuf-2.0/2.10.0/`
 * and `/usr/lib/gdk-pixbuf-2.0/2.10.0/`) and hashes the modules they describe. IO; a file that cannot be
 * read contributes nothing.
 */
export async function readHostPixbufLoaders(root = '/'): Promise<Map<string, string>> {
  const known = new Map<string, string>();
  const libdirs = ['/usr/lib'];
  try {
    for (const d of (await readdir(`${root}usr/lib`, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    ))
      if (d.isDirectory() && /-linux-/.test(d.name)) libdirs.push(`/usr/lib/${d.name}`);
  } catch {
    return known;
  }
  for (const dir of libdirs) {
    let text: string;
    try {
      text = await readFile(`${root}${dir.slice(1)}/gdk-pixbuf-2.0/2.10.0/loaders.cache`, 'utf8');
    } catch {
      continue;
    }
    for (const [path, entry] of parseLoadersCache(text)) {
      try {
        const k = hex(await readFile(`${root}${path.slice(1)}`));
        if (!known.has(k)) known.set(k, entry);
      } catch {
        // a module the host's cache names but no longer has
      }
    }
  }
  return known;
}

function rootOf(entries: ReadonlyMap<string, FileEntry>) {
  const nodes: Record<string, MemoryNode> = {};
  for (const [p, e] of entries) {
    if (e.type === 'dir') nodes[p] = { type: 'dir', mode: e.mode };
    else if (e.type === 'symlink') nodes[p] = { type: 'symlink', target: e.target };
    else if (e.type === 'file' && e.content.kind === 'bytes')
      nodes[p] = { type: 'file', data: e.content.data, mode: e.mode };
  }
  for (const [p, e] of entries) {
    if (e.type !== 'hardlink') continue;
    const t = nodes[e.target];
    if (t?.type === 'file') nodes[p] = t;
  }
  return memoryFs(nodes);
}

/**
 * generatedCaches computes the trigger-generated files for the entries of a package install (`have`:
 * path → entry). A file already in `have` is kept (a package that ships its own cache).
 */
export async function generatedCaches(
  have: ReadonlyMap<string, FileEntry>,
  opts: GeneratedCachesOptions = {},
  owners: ReadonlyMap<string, readonly Origin[]> = new Map(),
): Promise<GeneratedCaches> {
  const entries: FileEntry[] = [];
  const origins = new Map<string, Origin[]>();
  const unknownLoaders: UnknownLoader[] = [];
  const fs = rootOf(have);
  if (opts.ldconfig && !have.has('/etc/ld.so.cache')) {
    const c = await opts.ldconfig(fs);
    if (c) {
      entries.push({
        type: 'file',
        path: '/etc/ld.so.cache',
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: 0,
        size: c.data.byteLength,
        content: { kind: 'bytes', data: c.data },
      });
      origins.set('/etc/ld.so.cache', [
        {
          kind: 'default',
          what: `ldconfig (Debian's ldconfig trigger): ${c.entries.length} libraries of ${c.extraDirs.join(', ')} (named by ${c.confFiles.join(', ')}) and of the system directories, as ldconfig lists them`,
        },
      ]);
    }
  }
  pixbufLoaders(have, opts.pixbufKnown ?? new Map(), owners, entries, origins, unknownLoaders);
  return { entries, origins, unknownLoaders };
}

function pixbufLoaders(
  have: ReadonlyMap<string, FileEntry>,
  known: PixbufKnown,
  owners: ReadonlyMap<string, readonly Origin[]>,
  entries: FileEntry[],
  origins: Map<string, Origin[]>,
  unknown: UnknownLoader[],
): void {
  const byLibdir = new Map<string, string[]>();
  for (const p of have.keys()) {
    const m = PIXBUF_MODULE.exec(p);
    if (m) byLibdir.set(m[1]!, [...(byLibdir.get(m[1]!) ?? []), p]);
  }
  for (const [libdir, modules] of [...byLibdir].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const cache = `${libdir}/gdk-pixbuf-2.0/2.10.0/loaders.cache`;
    if (have.has(cache)) continue;
    const bytesOf = (p: string, hops = 0): Uint8Array | undefined => {
      const e = have.get(p);
      if (e?.type === 'file' && e.content.kind === 'bytes') return e.content.data;
      if (e?.type === 'hardlink') return bytesOf(e.target, hops + 1);
      if (e?.type === 'symlink' && hops < 8) {
        const t = e.target.startsWith('/') ? e.target : `${p.slice(0, p.lastIndexOf('/'))}/${e.target}`;
        return bytesOf(t, hops + 1);
      }
      return undefined;
    };
    let text = PIXBUF_HEADER;
    let n = 0;
    // the postinst's order: find … | LC_ALL=C sort (bytewise)
    for (const p of modules.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) {
      const data = bytesOf(p);
      const entry = data && known.get(hex(data));
      if (entry === undefined) {
        const pkg = owners.get(p)?.find((o) => o.kind === 'package');
        unknown.push({ path: p, cache, ...(pkg?.kind === 'package' ? { package: pkg.name } : {}) });
        continue;
      }
      text += `"${p}"\n${entry}\n`;
      n++;
    }
    if (n === 0) continue;
    const data = new Uint8Array(Buffer.from(text));
    entries.push({
      type: 'file',
      path: cache,
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: 0,
      size: data.byteLength,
      content: { kind: 'bytes', data },
    });
    origins.set(cache, [
      {
        kind: 'default',
        what: `gdk-pixbuf-query-loaders (trigger of libgdk-pixbuf-2.0-0): ${n} ${n === 1 ? 'loader' : 'loaders'} of ${libdir}/gdk-pixbuf-2.0/2.10.0/loaders, entries of the build host's loaders.cache for identical modules`,
      },
    ]);
  }
}
