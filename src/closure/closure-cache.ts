/**
 * closure-cache.ts — memoised reads of one RootFs for the closure engine: symlink resolution, directory
 * listings, ELF headers, parsed ELF files, ld.so.cache, ld.so.conf. PURE over RootFs.
 *
 * There is no module-level cache: a ClosureCache is made by the caller and passed in, so a batch
 * (`fromscratch deps` over many programs, the benchmark) shares one, and a test gets a fresh one.
 */
import type { ElfInfo } from '../elf/types.ts';
import { FromscratchError, isFromscratchError } from '../errors.ts';
import { type Resolved, resolvePath } from '../fs/resolve.ts';
import type { RootFs, RootStat } from '../fs/root-fs.ts';
import {
  indexLdCache,
  type LdCache,
  type LdCacheIndex,
  MAX_LD_CACHE_BYTES,
  parseLdCache,
} from './ld-cache.ts';
import { type LdSoConf, readLdSoConf } from './ld-conf.ts';
import { ELF_HEADER_BYTES, type ElfHeader, probeElfHeader } from './target.ts';

/**
 * ElfReaderOptions are the parts of src/elf's ReadElfOptions the closure passes. `symbols: false` says
 * importedSymbols/exportedSymbols are not needed (no inference asks for them), which spares decoding
 * .dynsym, most of the cost for big programs; `wantSymbols` says only imports in that set are looked
 * at (exportedSymbols is then not needed). A reader may ignore both and return full lists.
 */
export interface ElfReaderOptions {
  readonly symbols?: boolean;
  readonly wantSymbols?: ReadonlySet<string>;
}

/** ElfReader reads and parses the ELF file at a (resolved, regular) path of a root; src/elf's readElf. */
export type ElfReader = (fs: RootFs, path: string, opts?: ElfReaderOptions) => Promise<ElfInfo>;

/**
 * SymbolNeed is what the closure needs of an object's symbols: everything (`true`), nothing
 * (`false`), or only whether it imports names of a set.
 */
export type SymbolNeed = boolean | ReadonlySet<string>;

/** LdCacheState is what the loader would find at /etc/ld.so.cache of a root. */
export interface LdCacheState {
  readonly path: string;
  /** undefined when the file is absent or unusable */
  readonly cache?: LdCache;
  readonly index?: LdCacheIndex;
  /** why an existing cache was ignored */
  readonly warning?: string;
}

/** ClosureCache memoises reads of one RootFs. Use one per root; it refuses another. */
export interface ClosureCache {
  readonly fs: RootFs;
  /** `fs` with lstat, readlink and readdir memoised: the closure treats a root as unchanging while it runs */
  readonly view: RootFs;
  readonly resolved: Map<string, Promise<Resolved>>;
  readonly dirs: Map<string, Promise<ReadonlySet<string> | undefined>>;
  readonly headers: Map<string, Promise<ElfHeader | undefined>>;
  readonly elf: Map<string, Promise<ElfInfo>>;
  readonly ldCache: Map<string, Promise<LdCacheState>>;
  readonly ldConf: Map<string, Promise<LdSoConf>>;
  readonly text: Map<string, Promise<string | undefined>>;
  /** what the closure's rules derive from the root alone, once per cache (e.g. the gconv directory's entries), keyed by rule and argument */
  readonly derived: Map<string, Promise<unknown>>;
  /** parsed ELF files read for a wanted symbol set (`wantSymbols`), per set */
  readonly elfWant: Map<ReadonlySet<string>, Map<string, Promise<ElfInfo>>>;
}

/** newClosureCache returns an empty cache for `fs`. */
export function newClosureCache(fs: RootFs): ClosureCache {
  const lstats = new Map<string, Promise<RootStat | undefined>>();
  const links = new Map<string, Promise<string>>();
  const view: RootFs = {
    ...fs,
    name: fs.name,
    lstat: (p) => memo(lstats, p, () => fs.lstat(p)),
    readlink: (p) => memo(links, p, () => fs.readlink(p)),
    readdir: (p) => fs.readdir(p),
    read: (p, o) => fs.read(p, o),
    xattrs: (p) => fs.xattrs(p),
    hostPath: (p) => fs.hostPath(p),
    ...(fs.listingHostPath ? { listingHostPath: (p: string) => fs.listingHostPath?.(p) } : {}),
  };
  return {
    fs,
    view,
    resolved: new Map(),
    dirs: new Map(),
    headers: new Map(),
    elf: new Map(),
    ldCache: new Map(),
    ldConf: new Map(),
    text: new Map(),
    derived: new Map(),
    elfWant: new Map(),
  };
}

/** memo returns the promise stored under key, making and storing it first when absent. */
export function memo<T>(m: Map<string, Promise<T>>, key: string, f: () => Promise<T>): Promise<T> {
  let p = m.get(key);
  if (!p) {
    p = f();
    m.set(key, p);
  }
  return p;
}

/** cachedResolve is resolvePath (chroot semantics, final link followed) through the cache. */
export function cachedResolve(c: ClosureCache, path: string): Promise<Resolved> {
  return memo(c.resolved, path, () => resolvePath(c.view, path));
}

/**
 * resolveOrMissing is cachedResolve for paths the root may have made hostile (a symlink loop, an
 * over-long chain): those read as missing, as the loader's open() fails on them.
 */
export async function resolveOrMissing(c: ClosureCache, path: string): Promise<Resolved> {
  try {
    return await cachedResolve(c, path);
  } catch (e) {
    if (!isFromscratchError(e)) throw e;
    return { path, stat: undefined, links: [] };
  }
}

/** listDir returns the names in a directory of the root (symlinks on the way followed), undefined when it is not one. */
export function listDir(c: ClosureCache, dir: string): Promise<ReadonlySet<string> | undefined> {
  return memo(c.dirs, dir, async () => {
    let r: Resolved;
    try {
      r = await cachedResolve(c, dir);
    } catch (e) {
      // a symlink loop or an over-long path in a search directory: the loader cannot search it either
      if (isFromscratchError(e)) return undefined;
      throw e;
    }
    if (r.stat?.type !== 'dir') return undefined;
    try {
      return new Set(await c.view.readdir(r.path));
    } catch (e) {
      // unreadable directory: the loader cannot search it either
      if (isFromscratchError(e) || (e as NodeJS.ErrnoException).code !== undefined) return undefined;
      throw e;
    }
  });
}

/** readHeader returns the ELF header of a regular file at a real path, undefined when it is not ELF or unreadable. */
export function readHeader(c: ClosureCache, real: string): Promise<ElfHeader | undefined> {
  return memo(c.headers, real, async () => {
    try {
      return probeElfHeader(await c.view.read(real, { offset: 0, length: ELF_HEADER_BYTES }));
    } catch (e) {
      if (isFromscratchError(e) || (e as NodeJS.ErrnoException).code !== undefined) return undefined;
      throw e;
    }
  });
}

/**
 * readElfCached parses an ELF file once per cache and per symbol need. A full read (symbols: true)
 * serves every need; a read for a wanted set serves that set and `false`.
 */
export function readElfCached(
  c: ClosureCache,
  read: ElfReader,
  real: string,
  symbols: SymbolNeed = true,
): Promise<ElfInfo> {
  const full = c.elf.get(real);
  if (full || symbols === true) return full ?? memo(c.elf, real, () => read(c.view, real));
  if (symbols !== false)
    return memo(wantMap(c, symbols), real, () => read(c.view, real, { wantSymbols: symbols }));
  for (const m of c.elfWant.values()) {
    const w = m.get(real);
    if (w) return w;
  }
  return memo(c.elf, `\0nosym:${real}`, () => read(c.view, real, { symbols: false }));
}

/** wantMap returns the parsed files read for one wanted symbol set (a set is compared by identity). */
function wantMap(c: ClosureCache, set: ReadonlySet<string>): Map<string, Promise<ElfInfo>> {
  let m = c.elfWant.get(set);
  if (!m) {
    m = new Map();
    c.elfWant.set(set, m);
  }
  return m;
}

/** readTextCached reads a small text file of the root (resolved), undefined when absent. */
export function readTextCached(
  c: ClosureCache,
  path: string,
  limit = 1024 * 1024,
): Promise<string | undefined> {
  return memo(c.text, path, async () => {
    const r = await resolveOrMissing(c, path);
    if (r.stat?.type !== 'file') return undefined;
    try {
      return Buffer.from(await c.fs.read(r.path, { limit })).toString('utf8');
    } catch (e) {
      if (isFromscratchError(e) || (e as NodeJS.ErrnoException).code !== undefined) return undefined;
      throw e;
    }
  });
}

/**
 * readLdCacheState reads and parses the root's /etc/ld.so.cache. A malformed cache is ignored with a
 * warning, as ld.so ignores a cache it cannot validate (it then searches the default directories).
 */
export function readLdCacheState(c: ClosureCache, path = '/etc/ld.so.cache'): Promise<LdCacheState> {
  return memo(c.ldCache, path, async () => {
    const r = await resolveOrMissing(c, path);
    if (r.stat?.type !== 'file') return { path };
    try {
      const cache = parseLdCache(await c.fs.read(r.path, { limit: MAX_LD_CACHE_BYTES }));
      return { path, cache, index: indexLdCache(cache) };
    } catch (e) {
      if (!isFromscratchError(e)) throw e;
      return { path, warning: `${path} in ${c.fs.name} ignored: ${e.message}` };
    }
  });
}

/** readLdConfCached reads ld.so.conf with its includes once per cache. */
export function readLdConfCached(c: ClosureCache, path = '/etc/ld.so.conf'): Promise<LdSoConf> {
  return memo(c.ldConf, path, () => readLdSoConf(c.view, path));
}

/** checkCacheRoot throws (a bug) when a cache made for one root is used with another. */
export function checkCacheRoot(c: ClosureCache, fs: RootFs): void {
  if (c.fs !== fs) throw new Error(`closure cache made for root ${c.fs.name} used with root ${fs.name}`);
}

/** notFound is the FromscratchError for a missing root path. */
export function notFound(path: string, fs: RootFs): FromscratchError {
  return new FromscratchError('FILE_NOT_FOUND', `${path} not found in root ${fs.name}`, {
    hint: 'check the path; with --sysroot DIR, paths are inside DIR',
  });
}
