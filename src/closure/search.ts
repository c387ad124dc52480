/**
 * search.ts — where the dynamic loader finds a library, glibc's ld.so and musl's. PURE over RootFs.
 *
 * glibc (elf/dl-load.c _dl_map_object, ld.so(8)), for a name without `/`:
 *  1. DT_RPATH of the object that needs it, then of *its* loader, and so on up to the program, then the
 *     program's — all skipped when the needing object has DT_RUNPATH;
 *  2. LD_LIBRARY_PATH (the image's environment);
 *  3. DT_RUNPATH of the needing object only (not inherited);
 *  4. /etc/ld.so.cache of the root (entries under the default directories are refused when the needing
 *     object has DF_1_NODEFLIB);
 *  5. the default directories, unless DF_1_NODEFLIB.
 * Each directory is searched as ld.so does: its `glibc-hwcaps/<name>/` subdirectories first, then the
 * directory itself. A candidate is accepted only if it is a regular ELF ET_DYN file of the program's
 * class, byte order and machine (sameAbi); others are skipped and the search goes on, as ld.so skips
 * wrong-class files. A name with `/` is a path (relative ones are taken from `/`, the working directory
 * being unknown).
 *
 * Our extension: directories of /etc/ld.so.conf (with includes) are searched in the cache's place when
 * the root has no usable cache, and after everything else when it has one (a stale cache: packages
 * unpacked without running ldconfig). The `via` says `ld.so.conf DIR` so that it is visible.
 *
 * musl (ldso/dynlink.c load_library): LD_LIBRARY_PATH, then the RUNPATH-or-RPATH of the needing object
 * and of each object up its chain of loaders, then the lines of /etc/ld-musl-ARCH.path (next to the
 * loader's prefix) or /lib:/usr/local/lib:/usr/lib. No cache. `libc.so`, `libpthread.so` … are the
 * loader itself.
 */

import { sameAbi } from '../elf/abi.ts';
import type { ElfInfo } from '../elf/types.ts';
import { isFromscratchError } from '../errors.ts';
import { normalizeImagePath, parentPath } from '../fs/path.ts';
import type { Resolved } from '../fs/resolve.ts';
import {
  type ClosureCache,
  cachedResolve,
  listDir,
  readHeader,
  readLdCacheState,
  readLdConfCached,
  readTextCached,
} from './closure-cache.ts';
import { expandDst, splitSearchPath } from './dst.ts';
import { cacheFlagsFor } from './ld-cache.ts';
import { defaultDirs, type Target } from './target.ts';

/** LoadedObject is an ELF object of one program's closure, as the loader would have it mapped. */
export interface LoadedObject {
  /** the path the loader opened (may contain symlinks), an image path */
  readonly path: string;
  /** the path with every symlink resolved: the regular file */
  readonly real: string;
  readonly info: ElfInfo;
  /** the object whose DT_NEEDED (or dlopen) brought this one in; undefined for the program */
  readonly loader?: LoadedObject;
  /** what `$ORIGIN` means for this object */
  readonly origin: string;
  /**
   * set on a static glibc program whose imports were inferred from its symbols or strings
   * (closure/static-glibc.ts): the verb the inference reasons use instead of "imports"
   */
  readonly staticEvidence?: string;
}

/** SearchEnv is what a search needs to know about the program being loaded. */
export interface SearchEnv {
  readonly cache: ClosureCache;
  readonly target: Target;
  readonly flavor: 'glibc' | 'musl';
  /** `$LIB` for this root */
  readonly lib: string;
  /** LD_LIBRARY_PATH elements, unexpanded */
  readonly libraryPath: readonly string[];
  /** the program (for the program's own DT_RPATH rule and LD_LIBRARY_PATH tokens) */
  readonly main: LoadedObject;
  /** musl only: the loader's path, to find /etc/ld-musl-ARCH.path */
  readonly interpreter?: string;
  /** problems found while searching (non-ELF files where a library was expected) */
  readonly warnings: string[];
}

/** Candidate is one file a search accepted. */
export interface Candidate {
  /** the path as opened: DIR/NAME */
  readonly path: string;
  readonly resolved: Resolved;
  /** glibc-hwcaps subdirectory it came from */
  readonly hwcaps?: string;
}

/** SearchResult is a hit (with the glibc-hwcaps variants found beside it) or the list of places searched. */
export type SearchResult =
  | {
      readonly found: true;
      readonly via: string;
      readonly primary: Candidate;
      readonly variants: readonly Candidate[];
      readonly searched: readonly string[];
    }
  | { readonly found: false; readonly searched: readonly string[] };

/** DF_1_NODEFLIB: do not search the default directories (and not cache entries in them). */
const DF_1_NODEFLIB = 0x800;
const ET_DYN = 3;

interface Dir {
  readonly dir: string;
  readonly via: string;
}

function expandList(list: readonly string[], obj: LoadedObject, env: SearchEnv, via: string): Dir[] {
  const out: Dir[] = [];
  for (const raw of list) {
    if (raw === '') continue;
    const e = expandDst(
      raw,
      { origin: obj.origin, lib: env.lib, platform: env.target.platform },
      env.flavor === 'musl',
    );
    if (e === undefined) continue;
    const dir = normalizeImagePath(e.startsWith('/') ? e : `/${e}`);
    out.push({ dir, via: `${via} ${dir}` });
  }
  return out;
}

/** acceptCandidate resolves `path` in the root and checks it is a regular ELF shared object loadable by the target. */
/**
 * acceptCandidate tells whether the library file at a normalised root path is one the loader of `env`
 * would map (an ELF shared object of the target's ABI), with the symlinks on the way; undefined when not.
 */
export async function acceptCandidate(
  path: string,
  env: SearchEnv,
  hwcaps?: string,
): Promise<Candidate | undefined> {
  let resolved: Resolved;
  try {
    resolved = await cachedResolve(env.cache, path);
  } catch (e) {
    // a symlink loop or an over-long path: open() fails with ELOOP/ENAMETOOLONG and ld.so searches on
    if (!isFromscratchError(e)) throw e;
    env.warnings.push(`${path} skipped: ${e.message}`);
    return undefined;
  }
  if (resolved.stat?.type !== 'file') return undefined;
  const h = await readHeader(env.cache, resolved.path);
  if (!h) {
    // ld.so would stop with "invalid ELF header" here; we refuse to copy a non-ELF file and search on
    env.warnings.push(`${path} is not an ELF file; skipped where a library was searched`);
    return undefined;
  }
  if (h.etype !== ET_DYN || !sameAbi(h, env.target)) return undefined;
  return hwcaps === undefined ? { path, resolved } : { path, resolved, hwcaps };
}

/** hwcapsOrder sorts glibc-hwcaps subdirectory names best first (x86-64-v4, v3, v2; power10, power9; z16 …). */
export function hwcapsOrder(names: Iterable<string>): string[] {
  return [...names].sort((a, b) => b.localeCompare(a, 'en', { numeric: true }));
}

/** searchDir looks for `name` in one directory and its glibc-hwcaps subdirectories. */
async function searchDir(
  name: string,
  dir: string,
  env: SearchEnv,
  hwcapsOn: boolean,
): Promise<{ primary: Candidate; variants: Candidate[] } | undefined> {
  const names = await listDir(env.cache, dir);
  if (!names) return undefined;
  const variants: Candidate[] = [];
  if (hwcapsOn && names.has('glibc-hwcaps')) {
    const sub = await listDir(env.cache, `${dir}/glibc-hwcaps`);
    for (const h of hwcapsOrder(sub ?? [])) {
      const hd = `${dir}/glibc-hwcaps/${h}`;
      if (!(await listDir(env.cache, hd))?.has(name)) continue;
      const c = await acceptCandidate(`${hd}/${name}`, env, h);
      if (c) variants.push(c);
    }
  }
  const base = names.has(name)
    ? await acceptCandidate(dir === '/' ? `/${name}` : `${dir}/${name}`, env)
    : undefined;
  // The target CPU is unknown: every variant present is kept; the baseline file is the primary one.
  if (base) return { primary: base, variants };
  const [first, ...rest] = variants;
  return first ? { primary: first, variants: rest } : undefined;
}

async function searchDirs(
  name: string,
  dirs: readonly Dir[],
  env: SearchEnv,
  searched: string[],
): Promise<SearchResult | undefined> {
  for (const d of dirs) {
    searched.push(d.dir);
    const hit = await searchDir(name, d.dir, env, env.flavor === 'glibc');
    if (hit) return { found: true, via: d.via, ...hit, searched };
  }
  return undefined;
}

/** musl's reserved names: `libc.*`, `libpthread.*` … resolve to the loader itself (musl ldso/dynlink.c load_library). */
const MUSL_RESERVED = /^lib(c|pthread|rt|m|dl|util|xnet)\./;

/** isMuslReserved tells whether musl's loader satisfies this DT_NEEDED with itself. */
export function isMuslReserved(name: string): boolean {
  return MUSL_RESERVED.test(name);
}

/** muslArch returns ARCH of a musl interpreter path `…/ld-musl-ARCH.so.1`, undefined for other loaders. */
export function muslArch(interpreter: string): string | undefined {
  return /(?:^|\/)ld-musl-([^/]+)\.so\.1$/.exec(interpreter)?.[1];
}

/** muslSysPath reads musl's system path for an interpreter: PREFIX/etc/ld-musl-ARCH.path or the default. */
async function muslSysPath(env: SearchEnv): Promise<string[]> {
  const interp = env.interpreter ?? '/lib/ld-musl.so.1';
  const arch = muslArch(interp) ?? 'unknown';
  // prefix: the loader's path minus its last two components (/lib/ld-musl-x86_64.so.1 → "")
  const prefix = parentPath(parentPath(normalizeImagePath(interp)));
  const file = `${prefix === '/' ? '' : prefix}/etc/ld-musl-${arch}.path`;
  const text = await readTextCached(env.cache, file, 64 * 1024);
  if (text === undefined) return ['/lib', '/usr/local/lib', '/usr/lib'];
  return text
    .split(/[:\n]/)
    .map((s) => s.trim())
    .filter((s) => s.startsWith('/'));
}

/**
 * rpathOf is the DT_RPATH an object gives to a glibc search: none when it also has DT_RUNPATH (glibc
 * elf/get-dynamic-info.h drops DT_RPATH then, so such an object passes no RPATH down its chain either).
 */
function rpathOf(info: ElfInfo): readonly string[] {
  return info.runpath.length > 0 ? [] : info.rpath;
}

function systemDirPrefix(value: string, dirs: readonly string[]): boolean {
  return dirs.some((d) => value.startsWith(`${d}/`));
}

/**
 * searchLibrary finds the file the loader would map for DT_NEEDED `name` of `loader` (or a dlopen by
 * it). Never leaves the root: every path is resolved with chroot semantics.
 */
export async function searchLibrary(
  name: string,
  loader: LoadedObject,
  env: SearchEnv,
): Promise<SearchResult> {
  const searched: string[] = [];
  if (name.includes('/')) {
    const e = expandDst(
      name,
      { origin: loader.origin, lib: env.lib, platform: env.target.platform },
      env.flavor === 'musl',
    );
    if (e === undefined) return { found: false, searched };
    const p = normalizeImagePath(e.startsWith('/') ? e : `/${e}`);
    searched.push(p);
    const c = await acceptCandidate(p, env);
    return c ? { found: true, via: 'path', primary: c, variants: [], searched } : { found: false, searched };
  }
  const lib = env.libraryPath.flatMap((s) => splitSearchPath(s, env.flavor === 'glibc'));
  const ldLibraryPath = expandList(lib, env.main, env, 'LD_LIBRARY_PATH');

  if (env.flavor === 'musl') {
    const dirs: Dir[] = [...ldLibraryPath];
    for (let l: LoadedObject | undefined = loader; l; l = l.loader) {
      const rp = l.info.runpath.length > 0 ? l.info.runpath : l.info.rpath;
      const kind = l.info.runpath.length > 0 ? 'RUNPATH' : 'RPATH';
      const inherited = l === loader ? '' : ` (of ${l.real})`;
      dirs.push(...expandList(rp, l, env, kind).map((d) => ({ dir: d.dir, via: d.via + inherited })));
    }
    dirs.push(
      ...(await muslSysPath(env)).map((d) => ({
        dir: normalizeImagePath(d),
        via: `default path ${normalizeImagePath(d)}`,
      })),
    );
    return (await searchDirs(name, dirs, env, searched)) ?? { found: false, searched };
  }

  const nodeflib = (loader.info.flags1 & DF_1_NODEFLIB) !== 0;
  const dirs: Dir[] = [];
  if (loader.info.runpath.length === 0) {
    let didMain = false;
    for (let l: LoadedObject | undefined = loader; l; l = l.loader) {
      const inherited = l === loader ? '' : ` (of ${l.real})`;
      dirs.push(
        ...expandList(rpathOf(l.info), l, env, 'RPATH').map((d) => ({ dir: d.dir, via: d.via + inherited })),
      );
      if (l === env.main) didMain = true;
    }
    if (!didMain)
      dirs.push(
        ...expandList(rpathOf(env.main.info), env.main, env, 'RPATH').map((d) => ({
          dir: d.dir,
          via: `${d.via} (of ${env.main.real})`,
        })),
      );
  }
  dirs.push(...ldLibraryPath);
  dirs.push(...expandList(loader.info.runpath, loader, env, 'RUNPATH'));
  // Past this point the search depends on the name, these directories, DF_1_NODEFLIB and the target
  // only: memoised per cache, with the warnings it gave told again at each use. Most searches are
  // the same few names from objects without RPATH (libc.so.6 from every program).
  const t = env.target;
  let key = `search\0${name}\0${nodeflib ? 1 : 0}\0${t.class}\0${t.endian}\0${t.machine}\0${t.flags}\0${env.lib}`;
  for (const d of dirs) key += `\0${d.dir}\0${d.via}`;
  const memos = env.cache.derived as Map<string, Promise<{ result: SearchResult; warnings: string[] }>>;
  let m = memos.get(key);
  if (!m) {
    const warnings: string[] = [];
    m = glibcSearch(name, dirs, nodeflib, { ...env, warnings }, searched).then((result) => ({
      result,
      warnings,
    }));
    memos.set(key, m);
  }
  const { result, warnings } = await m;
  env.warnings.push(...warnings);
  return result;
}

/** glibcSearch is searchLibrary for glibc from the early directories (RPATH, LD_LIBRARY_PATH, RUNPATH) on. */
async function glibcSearch(
  name: string,
  dirs: readonly Dir[],
  nodeflib: boolean,
  env: SearchEnv,
  searched: string[],
): Promise<SearchResult> {
  const defaults = defaultDirs(env.target);
  const early = await searchDirs(name, dirs, env, searched);
  if (early) return early;

  const state = await readLdCacheState(env.cache);
  if (state.index) {
    searched.push('ld.so.cache');
    const id = cacheFlagsFor(env.target.class, env.target.machine, env.target.flags);
    const entries = (state.index.get(name) ?? []).filter(
      (e) =>
        (id === undefined || e.flags === id || e.flags === 1 || ((id & 0xff00) === 0 && e.flags === 3)) &&
        !e.legacyHwcap &&
        !(nodeflib && systemDirPrefix(e.value, defaults)),
    );
    let primary: Candidate | undefined;
    const variants: Candidate[] = [];
    for (const e of entries) {
      const c = await acceptCandidate(e.value, env, e.hwcaps);
      if (!c) continue;
      if (e.hwcaps === undefined) primary ??= c;
      else variants.push(c);
    }
    if (primary) return { found: true, via: 'ld.so.cache', primary, variants, searched };
    const [first, ...rest] = variants;
    if (first) return { found: true, via: 'ld.so.cache', primary: first, variants: rest, searched };
  } else if (state.warning && !env.warnings.includes(state.warning)) {
    env.warnings.push(state.warning);
  }

  const conf = await readLdConfCached(env.cache);
  const confDirs = conf.dirs.map((d) => ({ dir: d, via: `ld.so.conf ${d}` }));
  if (!state.index) {
    const hit = await searchDirs(name, confDirs, env, searched);
    if (hit) return hit;
  }
  if (!nodeflib) {
    const hit = await searchDirs(
      name,
      defaults.map((d) => ({ dir: d, via: `default path ${d}` })),
      env,
      searched,
    );
    if (hit) return hit;
  }
  if (state.index) {
    const hit = await searchDirs(name, confDirs, env, searched);
    if (hit?.found) {
      env.warnings.push(
        `${name} found only through ld.so.conf (${hit.primary.path}): the root's ld.so.cache is stale; the image will not find it without LD_LIBRARY_PATH`,
      );
      return hit;
    }
  }
  return { found: false, searched };
}
