/**
 * load.ts — what the image's own loader would map for one ELF object, inside the image. PURE over RootFs.
 *
 * The search itself is closure/search.ts (glibc's and musl's rules: RPATH, LD_LIBRARY_PATH, RUNPATH,
 * ld.so.cache, default directories, glibc-hwcaps, `$ORIGIN`); this module only walks DT_NEEDED breadth
 * first as `_dl_map_object_deps` does, without the closure's bookkeeping (origins, inference). One
 * deliberate difference from the closure: a library found only through an `/etc/ld.so.conf` directory
 * outside the default ones is NOT found here — ld.so never reads ld.so.conf, only the cache ldconfig
 * makes from it.
 */

import { libToken } from '../closure/closure.ts';
import {
  type ClosureCache,
  type ElfReader,
  readElfCached,
  readHeader,
  resolveOrMissing,
} from '../closure/closure-cache.ts';
import {
  isMuslReserved,
  type LoadedObject,
  muslArch,
  type SearchEnv,
  searchLibrary,
} from '../closure/search.ts';
import { defaultDirs, targetOf } from '../closure/target.ts';
import type { ElfInfo } from '../elf/types.ts';
import { isFromscratchError } from '../errors.ts';
import { normalizeImagePath, parentPath } from '../fs/path.ts';

/** MissingLibrary is one DT_NEEDED the loader would not find. */
export interface MissingLibrary {
  readonly name: string;
  /** the real path of the object that needs it */
  readonly neededBy: string;
  /** where it was looked for, in order */
  readonly searched: readonly string[];
  /** set when only a directory of /etc/ld.so.conf has it (the loader does not read ld.so.conf) */
  readonly onlyInLdConf?: string;
}

/** LoadResult is what the loader would map for one object given as the main program. */
export interface LoadResult {
  /** PT_INTERP as written, when the object has one */
  readonly interpreter?: string;
  /** set when PT_INTERP names no usable loader: missing, or of another class or machine */
  readonly badInterpreter?: 'missing' | 'foreign';
  /** real paths of the libraries mapped (the main object and the loader excluded) */
  readonly libraries: ReadonlySet<string>;
  readonly missing: readonly MissingLibrary[];
}

/** LoadOptions tunes loadObject. */
export interface LoadOptions {
  /** LD_LIBRARY_PATH of the image's environment, split on `:` (default none) */
  readonly libraryPath?: readonly string[];
  /**
   * map the object as a library (dlopen()ed, or a dependency): its PT_INTERP is not used (libc.so.6 and
   * libcap.so have one, to print their version when executed) (default false)
   */
  readonly asLibrary?: boolean;
  /** at most this many objects are mapped (default 20 000): a hostile image cannot make it unbounded */
  readonly maxObjects?: number;
}

/**
 * loadObject maps the ELF object at real path `real` (already parsed as `info`) and every DT_NEEDED
 * library breadth first, as the image's loader would, and reports the names it would not find. An object
 * mapped once is reused by name, soname and path, as ld.so does. Never throws for what the image holds:
 * unreadable libraries are skipped as ld.so skips them.
 */
export async function loadObject(
  cache: ClosureCache,
  readElf: ElfReader,
  real: string,
  info: ElfInfo,
  opts: LoadOptions = {},
): Promise<LoadResult> {
  const target = targetOf(info);
  const main: LoadedObject = { path: real, real, info, origin: parentPath(real) };
  const byName = new Map<string, LoadedObject>();
  const byReal = new Map<string, LoadedObject>([[real, main]]);
  const queue: LoadedObject[] = [main];
  let interp: LoadedObject | undefined;
  let badInterpreter: LoadResult['badInterpreter'];
  let flavor: 'glibc' | 'musl' = info.needed.includes('libc.so') ? 'musl' : 'glibc';
  if (info.interpreter !== undefined && !opts.asLibrary) {
    const ipath = normalizeImagePath(
      info.interpreter.startsWith('/') ? info.interpreter : `/${info.interpreter}`,
    );
    flavor = muslArch(ipath) ? 'musl' : 'glibc';
    const r = await resolveOrMissing(cache, ipath);
    const h = r.stat?.type === 'file' ? await readHeader(cache, r.path) : undefined;
    if (!h) badInterpreter = 'missing';
    else if (h.class !== target.class || h.machine !== target.machine || h.endian !== target.endian)
      badInterpreter = 'foreign';
    else {
      try {
        const iinfo = await readElfCached(cache, readElf, r.path, false);
        interp = { path: ipath, real: r.path, info: iinfo, origin: parentPath(ipath) };
        byReal.set(r.path, interp);
        byName.set(ipath, interp);
        if (iinfo.soname) byName.set(iinfo.soname, interp);
        queue.push(interp);
      } catch (e) {
        if (!isFromscratchError(e)) throw e;
        badInterpreter = 'missing'; // a loader that is not a readable ELF file cannot start anything
      }
    }
  }
  const warnings: string[] = [];
  const env: SearchEnv = {
    cache,
    target,
    flavor,
    lib: await libToken(cache, target),
    libraryPath: opts.libraryPath ?? [],
    main,
    ...(interp ? { interpreter: interp.path } : {}),
    warnings,
  };
  const defaults = defaultDirs(target);
  const max = opts.maxObjects ?? 20_000;
  const missing: MissingLibrary[] = [];
  const libraries = new Set<string>();
  while (queue.length > 0) {
    const obj = queue.shift()!;
    for (const name of obj.info.needed) {
      if (byName.has(name)) continue;
      if (flavor === 'musl' && isMuslReserved(name) && (interp || info.interpreter === undefined)) continue;
      const r = await searchLibrary(name, obj, env);
      if (!r.found) {
        missing.push({ name, neededBy: obj.real, searched: [...new Set(r.searched)] });
        continue;
      }
      const dir = parentPath(r.primary.path);
      if (r.via.startsWith('ld.so.conf ') && !defaults.includes(dir)) {
        missing.push({ name, neededBy: obj.real, searched: [...new Set(r.searched)], onlyInLdConf: dir });
        continue;
      }
      const libReal = r.primary.resolved.path;
      const known = byReal.get(libReal);
      if (known) {
        byName.set(name, known);
        continue;
      }
      if (byReal.size >= max) break;
      let linfo: ElfInfo;
      try {
        linfo = await readElfCached(cache, readElf, libReal, false);
      } catch (e) {
        if (!isFromscratchError(e)) throw e;
        missing.push({ name, neededBy: obj.real, searched: [r.primary.path] });
        continue;
      }
      const lib: LoadedObject = {
        path: r.primary.path,
        real: libReal,
        info: linfo,
        loader: obj,
        origin: parentPath(r.primary.path),
      };
      byReal.set(libReal, lib);
      byName.set(name, lib);
      byName.set(r.primary.path, lib);
      if (linfo.soname) byName.set(linfo.soname, lib);
      libraries.add(libReal);
      queue.push(lib);
    }
  }
  return {
    ...(info.interpreter !== undefined && !opts.asLibrary ? { interpreter: info.interpreter } : {}),
    ...(badInterpreter ? { badInterpreter } : {}),
    libraries,
    missing,
  };
}
