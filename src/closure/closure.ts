/**
 * closure.ts — resolveClosure: the programs named, and every file the loader and the programs need at
 * run time, inside one root, with the reason for each file. PURE over RootFs: nothing is executed.
 *
 * Paths keep their real shape: every symlink passed while resolving (usr-merge `/lib -> usr/lib`, the
 * `/lib64/ld-linux-x86-64.so.2` loader link, soname links) is a symlink entry of the result beside the
 * file it leads to, so the image resolves the same paths the same way.
 */
import { machineName, sameAbi } from '../elf/abi.ts';
import { readElf as readElf_ } from '../elf/read-elf.ts';
import type { ElfInfo } from '../elf/types.ts';
import { FromscratchError, isFromscratchError } from '../errors.ts';
import type { ContentSource, FileEntry } from '../fs/file-tree.ts';
import type { Origin } from '../fs/origin.ts';
import { baseName, canonicalUsrPath, encodePath, normalizeImagePath, parentPath } from '../fs/path.ts';
import type { Resolved } from '../fs/resolve.ts';
import type { RootFs, RootStat } from '../fs/root-fs.ts';
import {
  type ClosureCache,
  cachedResolve,
  checkCacheRoot,
  type ElfReader,
  listDir,
  memo,
  newClosureCache,
  notFound,
  readElfCached,
  readHeader,
  readTextCached,
  resolveOrMissing,
  type SymbolNeed,
} from './closure-cache.ts';
import {
  CA_BUNDLES,
  FONTCONFIG_DIR,
  FONTCONFIG_FALLBACK_DIRS,
  FONTCONFIG_LIBRARY,
  fontconfigDirs,
  GCONV_SYMBOLS,
  GSETTINGS_SCHEMAS,
  GSETTINGS_SYMBOLS,
  INFER_SYMBOLS,
  type InferOptions,
  LIBGCC_SYMBOLS,
  LIBRARY_DATA,
  NSS_FILES_DATA,
  NSS_SYMBOLS,
  nssServices,
  parseNsswitch,
  TLS_LIBRARY,
} from './infer.ts';
import {
  bytesFound,
  cStrings,
  embeddedPaths,
  execPathPlan,
  findInterpreterHome,
  findJavaHome,
  findPythonHome,
  gemHomes,
  type InterpreterHome,
  interpreterRuntimePlan,
  javaRuntimePlan,
  LAUNCH_SYMBOLS,
  libraryDataFiles,
  otpRoot,
  otpRuntimePlan,
  perlInc,
  prefixedCStrings,
  programKind,
  pythonPackagesPlan,
  pythonRuntimePlan,
  type RuntimePlan,
  rubyCommands,
  rubyLibrariesPlan,
  rubyRequires,
  selfExeLauncher,
} from './launcher.ts';
import {
  COMPILED_LOCALES,
  findLocale,
  LOCALE_ALIAS,
  LOCALE_SYMBOLS,
  type LocaleRequest,
  localedefCommand,
  normalizeCodeset,
} from './locale.ts';
import {
  MAX_MODULE_ENTRIES,
  MAX_MODULE_LIBRARY_BYTES,
  MAX_SHARE_BYTES,
  MAX_SHARE_ENTRIES,
  MODULE_PATH,
  MODULE_PREFIXES,
  moduleDirCandidates,
  OWN_SHARE_DATA,
  OWN_SHARE_DATA_OF,
  RELATIVE_SHARE,
  RELATIVE_SHARE_PREFIX,
  SHARE_PREFIX,
  SHARE_STRING,
  SHARED_OBJECT,
  shareDataCandidates,
} from './module-dirs.ts';
import { MAX_PERL_MODULES, modulePath, perlCommands, perlUses, xsPath } from './perl-modules.ts';
import {
  ACCOUNT_SYMBOLS,
  accountReason,
  COMPILED_IN,
  CONFIG_DATA,
  CONFIG_HELPER,
  CONFIG_REASON,
  compiledAccountCandidates,
  configPaths,
  EMBEDDED_PATH,
  EMBEDDED_PREFIXES,
  FROM_DPKG,
  HELPER_PATH,
  MAX_HELPERS,
  MAX_PROGRAM_BYTES,
  moduleNames,
  ON_COMMAND_LINE,
  PROGRAM_PATH,
  PROGRAM_PATH_FOUND,
  PROGRAM_SEARCH_PREFIXES,
  packageConffiles,
  programFilesPlan,
  programStrings,
  SERVED_ROOT,
  STATE_REASON,
  stateRootOf,
} from './program-files.ts';
import {
  INIT_DECLARATION_DIRS,
  type InitDir,
  isDeclarationFile,
  MAX_DECLARATION_BYTES,
  tmpfilesDirs,
  type UnitPreparation,
  unitDirs,
  unitPreparations,
} from './runtime-dirs.ts';
import {
  acceptCandidate,
  type Candidate,
  isMuslReserved,
  type LoadedObject,
  muslArch,
  type SearchEnv,
  searchLibrary,
} from './search.ts';
import { envCommand, isShebang, parseShebang, SHEBANG_BYTES } from './shebang.ts';
import {
  MAX_SCRIPT_TEXT,
  MAX_SOURCED,
  SHELLS,
  scriptCommands,
  scriptPaths,
  sourcedFiles,
} from './shell-script.ts';
import { staticGlibcImports } from './static-glibc.ts';
import { defaultDirs, type ElfHeader, probeElfHeader, type Target, targetOf } from './target.ts';
import { type TimezoneRequest, TZ_SYMBOLS, ZONEINFO_DIR } from './timezone.ts';
import { type TreeWalk, walkTree } from './tree-walk.ts';

/** DEFAULT_PATH is the PATH used for `#!/usr/bin/env NAME` when the image sets none (Docker's default). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** MAX_SCRIPT_DEPTH bounds nested `#!` interpreters (Linux allows 4 levels of binfmt rewriting). */
export const MAX_SCRIPT_DEPTH = 8;
/** SHELL_RUNNERS are the libc calls that run a command line through `/bin/sh -c` (shellTemplatesRule). */
const SHELL_RUNNERS: ReadonlySet<string> = new Set(['popen', 'system']);
/**
 * CLOSURE_SYMBOLS is every import a rule of the closure looks for: INFER_SYMBOLS (NSS, gconv, libgcc),
 * the locale rule's and the launcher rule's. One set, so that the ELF reader's memo is shared.
 */
export const CLOSURE_SYMBOLS: ReadonlySet<string> = new Set([
  ...INFER_SYMBOLS,
  ...LOCALE_SYMBOLS,
  ...LAUNCH_SYMBOLS,
  ...TZ_SYMBOLS,
  ...ACCOUNT_SYMBOLS,
  ...SHELL_RUNNERS,
]);
/** MAX_OBJECTS bounds the ELF objects of one program's closure (a hostile root cannot make it unbounded). */
export const MAX_OBJECTS = 20000;

/** ClosureOptions tunes resolveClosure; every field is optional. */
export interface ClosureOptions {
  /** LD_LIBRARY_PATH of the image's environment, as directories (`:`-joined elements are split; default none) */
  readonly libraryPath?: readonly string[];
  /** PATH of the image as directories, for `#!/usr/bin/env NAME` (default {@link DEFAULT_PATH}) */
  readonly path?: readonly string[];
  /** run-time needs to infer (each default on) */
  readonly infer?: InferOptions;
  /**
   * throw LIBRARY_NOT_FOUND when a DT_NEEDED library (or a script's interpreter) cannot be found
   * (default true); when false, they are listed in `unresolved`. Libraries of inferred modules never throw.
   */
  readonly strict?: boolean;
  /**
   * the locales the image's environment names (locale.ts localeRequests): shipped for programs importing
   * setlocale or newlocale, a warning when the root lacks one (default none)
   */
  readonly locales?: readonly LocaleRequest[];
  /**
   * the zone file the image's TZ names (timezone.ts timezoneRequest): shipped for programs importing
   * tzset/localtime/mktime/strftime…, a warning when the root lacks it and glibc would fall back to UTC
   */
  readonly timezone?: TimezoneRequest;
  /**
   * the top-level module names the application's Python sources import (build reads the .py files it
   * added): the packages of the system's site directories that provide them come with the Python runtime
   * (launcher.ts pythonPackagesPlan; default none)
   */
  readonly pythonImports?: readonly string[];
  /**
   * the paths the image's command names on its command line (program-files.ts commandPaths), by the
   * program it runs (argv0): its configuration there ships as a compiled-in one does (default none)
   */
  readonly commandPaths?: Readonly<Record<string, readonly string[]>>;
  /**
   * programs the application's own sources run by name or path (a Node.js app's child_process calls,
   * launcher.ts nodeCommands), each with the source that runs it: found on the image's PATH and added
   * with their closures (default none)
   */
  readonly sourceCommands?: readonly { readonly command: string; readonly by: string }[];
  /**
   * what the application's Ruby sources require and its Gemfile names (launcher.ts rubyRequires:
   * `webrick`, `gem:rack`), resolved outside the standard library for a Ruby interpreter of the closure
   */
  readonly rubyRequires?: readonly string[];
  /**
   * roots whose run was traced (`--trace`): the launcher rules (a Java or Python runtime, the
   * /proc/self/exe warning) skip them and their interpreters, since the trace saw what the run loaded
   * (default none)
   */
  readonly tracedRoots?: ReadonlySet<string>;
  /** the `via` of the roots' `requested` origin (default `closure root`) */
  readonly requestedVia?: string;
  /** the ELF reader (default: src/elf readElf) */
  readonly readElf?: ElfReader;
  /** memoised reads of `fs`, shared across calls by the caller (default: a fresh one) */
  readonly cache?: ClosureCache;
}

/** ClosureFile is one path of the closure. */
export interface ClosureFile {
  readonly path: string;
  readonly kind: 'file' | 'symlink' | 'dir';
  /** lstat of the path in the root */
  readonly stat: RootStat;
  /** raw symlink target */
  readonly target?: string;
  readonly origins: readonly Origin[];
}

/** ClosureNeeded is one DT_NEEDED entry of an object and where it went. */
export interface ClosureNeeded {
  readonly name: string;
  /** the path the loader opens, undefined when not found */
  readonly path?: string;
  /** the real file */
  readonly real?: string;
  /** how it was found: `RUNPATH /x`, `ld.so.cache`, `default path /usr/lib`, `already loaded`, `interpreter` … */
  readonly via?: string;
}

/** ClosureObject is one ELF object of the closure. */
export interface ClosureObject {
  readonly path: string;
  readonly real: string;
  readonly soname?: string;
  readonly machine: string;
  readonly class: 32 | 64;
  /** as resolved for the first program that loaded it */
  readonly needed: readonly ClosureNeeded[];
  /** glibc-hwcaps variants kept beside it (real paths) */
  readonly variants: readonly string[];
}

/** ClosureRoot is one program given to resolveClosure. */
export interface ClosureRoot {
  /** as given */
  readonly path: string;
  readonly real: string;
  readonly kind: 'dynamic' | 'static' | 'library' | 'script';
  /** PT_INTERP, or the `#!` interpreter */
  readonly interpreter?: string;
  /** the program `#!/usr/bin/env NAME` runs, as found on PATH */
  readonly command?: string;
  readonly loader?: 'glibc' | 'musl';
  /** x86_64, aarch64 … for ELF programs */
  readonly machine?: string;
}

/** Unresolved is a library (or script interpreter) that could not be found. */
export interface Unresolved {
  readonly soname: string;
  readonly neededBy: string;
  /** directories (and `ld.so.cache`) looked in, in order */
  readonly searched: readonly string[];
  /** true when the object needing it was itself inferred (an NSS or gconv module) */
  readonly inferred?: boolean;
}

/** ClosureResult is the closure of some programs inside one root. */
export interface ClosureResult {
  /** the root's name (`/` or the sysroot directory) */
  readonly root: string;
  readonly roots: readonly ClosureRoot[];
  /** every path, in bytewise path order */
  readonly files: ReadonlyMap<string, ClosureFile>;
  /** ELF objects by real path */
  readonly objects: ReadonlyMap<string, ClosureObject>;
  readonly unresolved: readonly Unresolved[];
  /** things worth telling that did not stop the closure (sorted, unique) */
  readonly warnings: readonly string[];
}

/** LibraryNotFoundError is LIBRARY_NOT_FOUND with the structured facts. */
export class LibraryNotFoundError extends FromscratchError {
  readonly soname: string;
  readonly neededBy: string;
  readonly searched: readonly string[];
  constructor(u: Unresolved, root: string, more: number) {
    const where = u.searched.length > 0 ? ` (searched ${u.searched.join(', ')})` : '';
    const others = more > 0 ? `; ${more} more missing` : '';
    super(
      'LIBRARY_NOT_FOUND',
      `library "${u.soname}" needed by ${u.neededBy} not found in root ${root}${where}${others}`,
      {
        hint: `install the package that provides ${u.soname} in the root, resolve inside another root with --sysroot DIR, or add its directory with --env LD_LIBRARY_PATH=DIR`,
      },
    );
    this.soname = u.soname;
    this.neededBy = u.neededBy;
    this.searched = u.searched;
  }
}

interface MutableFile {
  path: string;
  kind: ClosureFile['kind'];
  stat: RootStat;
  target?: string;
  origins: Origin[];
  /** the originKey of each origin: the one key while there is one (most files), then a set */
  keys: string | Set<string>;
}

interface State {
  /**
   * the Ruby runtimes found by the launcher rule, by the interpreter's real path, with what the
   * libraries a Ruby script requires are resolved and loaded through
   */
  readonly rubyRuntimes: Map<string, { ih: InterpreterHome; apply(names: readonly string[]): Promise<void> }>;
  readonly fs: RootFs;
  readonly cache: ClosureCache;
  readonly readElf: ElfReader;
  /** which imported symbols an inference needs: those of CLOSURE_SYMBOLS, or none (false) */
  readonly symbols: SymbolNeed;
  readonly opts: ClosureOptions;
  readonly files: Map<string, MutableFile>;
  readonly objects: Map<string, ClosureObject>;
  readonly roots: ClosureRoot[];
  readonly unresolved: Unresolved[];
  readonly warnings: string[];
  /** when set, every addPathKnown call is logged here (a probe of the gconv group; see gconvDrain) */
  readonly log?: PathOp[];
  /**
   * unresolved entries whose needing object is loaded by dlopen (a rule's inferred object, or a library
   * given as a root): only those can be satisfied by an object loaded before them (bindSoname)
   */
  readonly dlopenNeeds: Set<Unresolved>;
  /** the root being added was traced (ClosureOptions.tracedRoots): the launcher rules leave it alone */
  traced?: boolean;
  /** the directories the root's init-system declarations make, by path (runtime-dirs.ts), read once */
  initDirs?: Promise<ReadonlyMap<string, InitDir>>;
  /** what the root's service units run before their programs (runtime-dirs.ts unitPreparations), read once */
  initPreparations?: Promise<readonly UnitPreparation[]>;
  /** a program that reads separate debug info (DEBUG_DIR) by build ID: the objects' debug files ship for it */
  debugInfoFor?: { readonly by: string; readonly name: string };
}

/** PathOp is one addPathKnown call, as logged: replaying the calls in order gives the same files. */
interface PathOp {
  readonly path: string;
  readonly kind: ClosureFile['kind'];
  readonly origin: Origin;
  readonly key: string;
  readonly stat: RootStat | undefined;
  readonly target?: string;
}

/** addPath adds a file of the root (lstat'ed unless `known` is its lstat) with one more origin. */
async function addPath(
  st: State,
  path: string,
  kind: ClosureFile['kind'],
  origin: Origin,
  target?: string,
  known?: RootStat,
): Promise<void> {
  const f = st.files.get(path);
  // a vanished path (no lstat) adds nothing
  addPathKnown(st, path, kind, origin, f ? f.stat : (known ?? (await st.cache.view.lstat(path))), target);
}

/**
 * originKey identifies an origin among those of one file: each field with its value, strings
 * length-prefixed (so no two different origins share a key). Cheaper than JSON.stringify: a closure
 * with gconv modules adds ~500 origins per program.
 */
function originKey(origin: Origin): string {
  let k = '';
  const o = origin as unknown as Record<string, string | number | undefined>;
  for (const f in o) {
    const v = o[f];
    if (v === undefined) continue; // as JSON: an absent field and an undefined one are the same
    k += typeof v === 'string' ? `${f}:${v.length}:${v};` : `${f}#${String(v)};`;
  }
  return k;
}

/** addResolved adds the symlinks passed on the way to a resolved path, then the path itself. */
async function addResolved(st: State, r: Resolved, origin: Origin): Promise<void> {
  for (const l of r.links) await addPath(st, l.path, 'symlink', { kind: 'path', to: r.path }, l.target);
  if (r.stat) await addPath(st, r.path, r.stat.type === 'dir' ? 'dir' : 'file', origin, undefined, r.stat);
}

/**
 * addReadable adds a regular file of the root that everyone may read, with `origin`; one only its owner
 * may read (a key, a password file) is named in `privates` instead. Returns the file and its size when
 * added, else undefined.
 */
async function addReadable(
  st: State,
  path: string,
  origin: Origin,
  privates: string[],
): Promise<{ readonly r: Resolved; readonly size: number } | undefined> {
  const r = await resolveOrMissing(st.cache, path);
  if (r.stat?.type !== 'file') return undefined;
  if ((r.stat.mode & 0o004) === 0) {
    privates.push(path);
    return undefined;
  }
  await addResolved(st, r, origin);
  return { r, size: r.stat.size };
}

/**
 * objectName names an ELF object of a closure in the reasons of the rules that read its strings: a
 * program by its path, a library by its soname (else its file name).
 */
function objectName(o: LoadedObject): string {
  return o.loader === undefined ? o.path : (o.info.soname ?? baseName(o.path));
}

/** libToken returns what `$LIB` expands to in this root for a target. */
export async function libToken(c: ClosureCache, t: Target): Promise<string> {
  if (t.triplet && ((await listDir(c, `/usr/lib/${t.triplet}`)) || (await listDir(c, `/lib/${t.triplet}`))))
    return `lib/${t.triplet}`;
  if (t.class === 64) {
    const r = await resolveOrMissing(c, '/usr/lib64');
    if (r.stat?.type === 'dir' && r.links.length === 0) return 'lib64';
  }
  return 'lib';
}

const ROOT_PROBES = ['/bin/sh', '/usr/bin/env', '/bin/busybox', '/sbin/init', '/usr/bin/ls'];

/** probeRootMachine names the architecture of the root's own programs, undefined when it has none. */
async function probeRootMachine(c: ClosureCache): Promise<ElfHeader | undefined> {
  for (const p of ROOT_PROBES) {
    const r = await resolveOrMissing(c, p);
    if (r.stat?.type !== 'file') continue;
    const h = await readHeader(c, r.path);
    if (h) return h;
  }
  return undefined;
}

function archMismatch(program: string, t: Target, fs: RootFs, detail: string): FromscratchError {
  return new FromscratchError(
    'ARCH_MISMATCH',
    `${program} is built for ${t.name} (${t.class}-bit) but ${detail} in root ${fs.name}`,
    {
      hint: `resolve it inside a root of its architecture with --sysroot DIR (an unpacked ${t.name} image, or debootstrap --arch); the host's libraries cannot serve it`,
    },
  );
}

async function readElfOrThrow(st: State, real: string, what: string): Promise<ElfInfo> {
  try {
    return await readElfCached(st.cache, st.readElf, real, st.symbols);
  } catch (e) {
    if (isFromscratchError(e))
      throw new FromscratchError(e.code, `reading ${what} ${real}: ${e.message}`, { hint: e.hint, cause: e });
    throw e;
  }
}

interface Program {
  readonly env: SearchEnv;
  readonly byReal: Map<string, LoadedObject>;
  readonly byName: Map<string, { obj: LoadedObject; via: string }>;
  readonly queue: LoadedObject[];
  readonly inferred: Set<string>;
  /** glibc-hwcaps variants found beside each object, until its needed list is recorded */
  readonly variants: Map<LoadedObject, string[]>;
  /** gconv groups replayed, by their first module in the queue: drain applies their memoised drain there */
  readonly groups: Map<LoadedObject, PendingGroup>;
  readonly interp?: LoadedObject;
  readonly rootName: string;
}

function recordObject(st: State, o: LoadedObject, needed: ClosureNeeded[], variants: string[]): void {
  if (st.objects.has(o.real)) return;
  const rec: ClosureObject = o.info.soname
    ? {
        path: o.path,
        real: o.real,
        soname: o.info.soname,
        machine: o.info.machineName,
        class: o.info.class,
        needed,
        variants,
      }
    : { path: o.path, real: o.real, machine: o.info.machineName, class: o.info.class, needed, variants };
  st.objects.set(o.real, rec);
}

/**
 * loadLibrary maps a found library into the program (or finds it already mapped) and adds its files.
 * Returns the object, or undefined when the file is not a readable ELF object.
 */
async function loadLibrary(
  st: State,
  pg: Program,
  name: string,
  loader: LoadedObject,
  hit: { via: string; primary: Candidate; variants: readonly Candidate[] },
  origin: Origin,
): Promise<LoadedObject | undefined> {
  const real = hit.primary.resolved.path;
  await addResolved(st, hit.primary.resolved, origin);
  const dir = parentPath(hit.primary.path);
  if (!defaultDirs(pg.env.target).includes(dir)) {
    if (hit.via === 'ld.so.cache') {
      // the image's loader finds this library only through the cache, as on the root
      await addRootFile(st, '/etc/ld.so.cache', {
        kind: 'inferred',
        by: real,
        reason: `${name} was found through ld.so.cache in ${dir}, outside the default directories: the loader needs the cache`,
      });
    } else if (hit.via.startsWith('ld.so.conf ')) {
      st.warnings.push(
        `${name} was found through ld.so.conf in ${dir} but the root has no ld.so.cache listing it: in the image the loader will not find it unless LD_LIBRARY_PATH includes ${dir}`,
      );
    }
  }
  const known = pg.byReal.get(real);
  if (known) {
    pg.byName.set(name, { obj: known, via: hit.via });
    return known;
  }
  if (pg.byReal.size >= MAX_OBJECTS) {
    throw new FromscratchError(
      'TOO_LARGE',
      `more than ${MAX_OBJECTS} libraries in the closure of ${pg.rootName}`,
      { hint: 'the root is hostile or broken' },
    );
  }
  let info: ElfInfo;
  try {
    info = await readElfCached(st.cache, st.readElf, real, st.symbols);
  } catch (e) {
    if (!isFromscratchError(e)) throw e;
    st.warnings.push(`${hit.primary.path} skipped: ${e.message}`);
    return undefined;
  }
  const obj: LoadedObject = {
    path: hit.primary.path,
    real,
    info,
    loader,
    origin: parentPath(hit.primary.path),
  };
  pg.byReal.set(real, obj);
  pg.byName.set(name, { obj, via: hit.via });
  // ld.so reuses a loaded object for a name matching its DT_SONAME (dl-load.c _dl_map_object); a
  // library loaded by path (a dlopen of its file) is found so by the libraries needing its SONAME
  if (info.soname && !pg.byName.has(info.soname))
    pg.byName.set(info.soname, {
      obj,
      via: info.soname === name ? hit.via : alreadyLoaded(hit.primary.path),
    });
  pg.byName.set(hit.primary.path, { obj, via: hit.via });
  pg.queue.push(obj);
  const variants: string[] = [];
  for (const v of hit.variants) {
    const vo: Origin =
      origin.kind === 'needed'
        ? { ...origin, via: `${origin.via} (glibc-hwcaps/${v.hwcaps ?? '?'})` }
        : origin;
    await addResolved(st, v.resolved, vo);
    variants.push(v.resolved.path);
    if (!pg.byReal.has(v.resolved.path)) {
      try {
        const vinfo = await readElfCached(st.cache, st.readElf, v.resolved.path, st.symbols);
        const vobj: LoadedObject = {
          path: v.path,
          real: v.resolved.path,
          info: vinfo,
          loader,
          origin: parentPath(v.path),
        };
        pg.byReal.set(vobj.real, vobj);
        pg.queue.push(vobj);
      } catch (e) {
        if (!isFromscratchError(e)) throw e;
        st.warnings.push(`${v.path} skipped: ${e.message}`);
      }
    }
  }
  pg.variants.set(obj, variants);
  return obj;
}

/** drain maps every DT_NEEDED of the queued objects, breadth first as ld.so does (_dl_map_object_deps). */
async function drain(st: State, pg: Program): Promise<void> {
  while (pg.queue.length > 0) {
    const obj = pg.queue.shift()!;
    const group = pg.groups.get(obj);
    if (group) {
      pg.groups.delete(obj);
      if (applyGconvDrain(st, pg, obj, group)) continue;
    }
    const needed: ClosureNeeded[] = [];
    const inferredObj = pg.inferred.has(obj.real);
    for (const name of obj.info.needed) {
      if (pg.env.flavor === 'musl' && pg.interp && isMuslReserved(name)) {
        needed.push({ name, path: pg.interp.path, real: pg.interp.real, via: 'musl loader (libc)' });
        continue;
      }
      const known = pg.byName.get(name);
      if (known) {
        const origin: Origin = { kind: 'needed', by: obj.real, soname: name, via: known.via };
        // a file already in the closure needs no lstat: no await (most DT_NEEDED of most objects)
        const have = st.files.get(known.obj.real);
        if (have) addPathKnown(st, known.obj.real, 'file', origin, have.stat);
        else await addPath(st, known.obj.real, 'file', origin);
        needed.push({ name, path: known.obj.path, real: known.obj.real, via: known.via });
        continue;
      }
      const r = await searchLibrary(name, obj, pg.env);
      if (!r.found) {
        st.unresolved.push({
          soname: name,
          neededBy: obj.real,
          searched: unique(r.searched),
          ...(inferredObj ? { inferred: true } : {}),
        });
        needed.push({ name });
        continue;
      }
      const lib = await loadLibrary(st, pg, name, obj, r, {
        kind: 'needed',
        by: obj.real,
        soname: name,
        via: r.via,
      });
      if (lib && inferredObj) pg.inferred.add(lib.real);
      needed.push(lib ? { name, path: lib.path, real: lib.real, via: r.via } : { name });
    }
    recordObject(st, obj, needed, pg.variants.get(obj) ?? []);
  }
}

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

/** loadInferred searches a library a rule asks for and maps it with an `inferred` origin. */
async function loadInferred(
  st: State,
  pg: Program,
  name: string,
  loader: LoadedObject,
  by: string,
  reason: string,
): Promise<boolean> {
  const known = pg.byName.get(name);
  if (known) {
    await addPath(st, known.obj.real, 'file', { kind: 'inferred', by, reason });
    return true;
  }
  const r = await searchLibrary(name, loader, pg.env);
  if (!r.found) return false;
  const before = pg.byReal.has(r.primary.resolved.path);
  const lib = await loadLibrary(st, pg, name, loader, r, { kind: 'inferred', by, reason });
  if (lib && !before) pg.inferred.add(lib.real);
  return lib !== undefined;
}

/**
 * loadInferredPath is loadInferred for a normalised absolute path without `$` (nothing to expand):
 * the same result without searchLibrary's expansion and normalisation, for the ~250 gconv modules.
 */
async function loadInferredPath(
  st: State,
  pg: Program,
  path: string,
  loader: LoadedObject,
  by: string,
  reason: string,
): Promise<boolean> {
  const known = pg.byName.get(path);
  if (known) {
    await addPath(st, known.obj.real, 'file', { kind: 'inferred', by, reason });
    return true;
  }
  const c = await acceptCandidate(path, pg.env);
  if (!c) return false;
  const before = pg.byReal.has(c.resolved.path);
  const hit = { via: 'path', primary: c, variants: [] };
  const lib = await loadLibrary(st, pg, path, loader, hit, { kind: 'inferred', by, reason });
  if (lib && !before) pg.inferred.add(lib.real);
  return lib !== undefined;
}

/** nsswitchCached parses the root's nsswitch.conf once per cache. */
function nsswitchCached(c: ClosureCache, text: string): Promise<Map<string, string[]>> {
  // derived holds one kind of value per key prefix
  const confs = c.derived as Map<string, Promise<Map<string, string[]>>>;
  return memo(confs, `nsswitch\0${text}`, async () => parseNsswitch(text));
}

/** GconvEntry is one entry of a gconv directory, in the order the gconv rule adds them. */
type GconvEntry =
  /** a regular file that is not a module (gconv-modules, gconv-modules.cache), or the gconv-modules.d directory */
  | { readonly kind: 'file'; readonly resolved: Resolved }
  /** a file of gconv-modules.d (added when it exists) */
  | { readonly kind: 'rootFile'; readonly resolved: Resolved }
  /** a `*.so` file: mapped as a library when it is one; `plain` when its path needs no expansion */
  | { readonly kind: 'module'; readonly path: string; readonly plain: boolean; readonly resolved: Resolved };

/** GconvPlan is what the gconv rule adds from a directory, derived once per cache (it depends on the root only). */
interface GconvPlan {
  readonly dir: Resolved;
  readonly entries: readonly GconvEntry[];
}

/**
 * gconvPlan lists and resolves the entries of a gconv directory once per cache, sorted by name. The
 * ~250 modules are resolved and read (header, then the ELF file as the closure will ask for it) a few
 * at a time, so that the file system's latency overlaps; each program then finds them in the cache.
 */
function gconvPlan(st: State, dir: string): Promise<GconvPlan> {
  const c = st.cache;
  // derived holds one kind of value per key prefix
  const plans = c.derived as Map<string, Promise<GconvPlan>>;
  return memo(plans, `gconv\0${dir}`, async (): Promise<GconvPlan> => {
    const names = [...((await listDir(c, dir)) ?? [])].sort();
    const resolved = await inBatches(names, (n) => resolveOrMissing(c, `${dir}/${n}`));
    const entries: GconvEntry[] = [];
    for (const [i, n] of names.entries()) {
      const p = `${dir}/${n}`;
      const e = resolved[i]!;
      if (e.stat?.type === 'dir' && n === 'gconv-modules.d') {
        entries.push({ kind: 'file', resolved: e });
        for (const m of [...((await listDir(c, p)) ?? [])].sort())
          entries.push({ kind: 'rootFile', resolved: await resolveOrMissing(c, `${p}/${m}`) });
      } else if (e.stat?.type === 'file') {
        if (n.endsWith('.so')) {
          let plain = false;
          try {
            plain = !p.includes('$') && normalizeImagePath(p) === p;
          } catch (err) {
            if (!isFromscratchError(err)) throw err;
          }
          entries.push({ kind: 'module', path: p, plain, resolved: e });
        } else entries.push({ kind: 'file', resolved: e });
      }
    }
    // warm the cache: errors stay memoised and are reported where a program maps the module
    await inBatches(entries, async (e) => {
      if (e.kind !== 'module') return;
      const h = await readHeader(c, e.resolved.path);
      if (h?.etype === ET_DYN_TYPE)
        await readElfCached(c, st.readElf, e.resolved.path, st.symbols).catch(() => undefined);
    });
    return { dir: await resolveOrMissing(c, dir), entries };
  });
}

/** ResolvedStats is a Resolved with the lstat of each symlink passed (addPath's `known`), for a synchronous replay. */
interface ResolvedStats {
  readonly resolved: Resolved;
  readonly linkStats: readonly (RootStat | undefined)[];
}

/** GconvStep is one step of the gconv rule as every program of one target takes it (see gconvLoads). */
type GconvStep =
  | { readonly kind: 'add'; readonly r: ResolvedStats }
  /** a module mapped as a library: its candidate and parsed file, or the warning that skipped it */
  | {
      readonly kind: 'module';
      readonly path: string;
      /** parentPath(path): the module's `$ORIGIN` */
      readonly dir: string;
      readonly r: ResolvedStats;
      readonly info?: ElfInfo;
      readonly skipped?: string;
    }
  /** a `*.so` file that is no library of the target: added as a plain file */
  | { readonly kind: 'notLibrary'; readonly r: ResolvedStats };

/** GconvLoads is the gconv rule's work for one directory and target, derived once per cache. */
interface GconvLoads {
  readonly steps: readonly GconvStep[];
  /** warnings the candidate checks gave (the closure dedupes them) */
  readonly warnings: readonly string[];
  /** module paths and real paths: a program that already mapped one of them takes the slow path */
  readonly paths: readonly string[];
  readonly reals: readonly string[];
  /** every name the modules' DT_NEEDED lists ask for (libc.so.6, libJIS.so …), sorted, unique */
  readonly neededNames: readonly string[];
  /** the names of neededNames no module provides (libc.so.6): a program must have mapped them for gconvDrain */
  readonly outside: readonly string[];
  /** no module gives an inference rule anything (no wanted import, no dlopen note, no TLS soname) */
  readonly inert: boolean;
  /** the memoised drain of the modules, per binding of `outside` (see gconvDrain) */
  readonly drains: Map<string, Promise<GconvDrain | undefined>>;
}

/** GconvBinding is what one name resolved to (ClosureNeeded's path, real and via). */
interface GconvBinding {
  readonly name: string;
  readonly path: string;
  readonly real: string;
  readonly via: string;
}

/**
 * GconvDrain is what drain does to the modules of a replayed gconv group: the addPathKnown calls in
 * order (each module's DT_NEEDED origins), the object records, the warnings. It holds when every name
 * the modules need resolves as in `bindings`, and nothing new is mapped (checked when probed).
 */
interface GconvDrain {
  readonly bindings: readonly GconvBinding[];
  readonly ops: readonly PathOp[];
  readonly records: readonly ClosureObject[];
  readonly warnings: readonly string[];
}

/** PendingGroup is a replayed gconv group in a program's queue: its modules in queue order, and their drain. */
interface PendingGroup {
  readonly modules: readonly LoadedObject[];
  readonly drain: GconvDrain;
}

/**
 * gconvLoads memoises, per gconv directory, target ABI and symbol need, what the gconv rule does that
 * does not depend on the program: which `*.so` files are libraries of the target (acceptCandidate),
 * their parsed ELF files, the lstat of every symlink passed. Undefined when the directory has a module
 * path that needs expansion (the rule then takes the general path). The modules' DT_NEEDED are still
 * resolved per program by drain (they depend on the program's search context and what it mapped).
 */
function gconvLoads(st: State, pg: Program, dir: string, plan: GconvPlan): Promise<GconvLoads | undefined> {
  const t = pg.env.target;
  const sym = st.symbols === false ? 'nosym' : st.symbols === true ? 'all' : 'want';
  const key = `gconvloads\0${dir}\0${t.class}\0${t.endian}\0${t.machine}\0${t.flags}\0${sym}`;
  const memos = st.cache.derived as Map<string, Promise<GconvLoads | undefined>>;
  return memo(memos, key, async () => {
    if (plan.entries.some((e) => e.kind === 'module' && !e.plain)) return undefined;
    const warnings: string[] = [];
    const env: SearchEnv = { ...pg.env, warnings };
    const withStats = async (r: Resolved): Promise<ResolvedStats> => ({
      resolved: r,
      linkStats: await Promise.all(r.links.map((l) => st.cache.view.lstat(l.path))),
    });
    const steps: GconvStep[] = [{ kind: 'add', r: await withStats(plan.dir) }];
    const paths: string[] = [];
    const reals: string[] = [];
    const provided = new Set<string>();
    const needed = new Set<string>();
    let inert = true;
    for (const e of plan.entries) {
      if (e.kind === 'file' || (e.kind === 'rootFile' && e.resolved.stat)) {
        steps.push({ kind: 'add', r: await withStats(e.resolved) });
        continue;
      }
      if (e.kind !== 'module') continue;
      paths.push(e.path);
      const c = await acceptCandidate(e.path, env);
      if (!c) {
        steps.push({ kind: 'notLibrary', r: await withStats(e.resolved) });
        continue;
      }
      reals.push(c.resolved.path);
      const module = {
        kind: 'module',
        path: e.path,
        dir: parentPath(e.path),
        r: await withStats(c.resolved),
      } as const;
      let info: ElfInfo;
      try {
        info = await readElfCached(st.cache, st.readElf, c.resolved.path, st.symbols);
      } catch (err) {
        if (!isFromscratchError(err)) throw err;
        steps.push({ ...module, skipped: `${e.path} skipped: ${err.message}` });
        continue;
      }
      steps.push({ ...module, info });
      provided.add(e.path);
      if (info.soname) provided.add(info.soname);
      for (const n of info.needed) needed.add(n);
      if (
        info.dlopen.length > 0 ||
        info.importedSymbols.some((x) => CLOSURE_SYMBOLS.has(x)) ||
        TLS_LIBRARY.test(info.soname ?? baseName(e.path))
      )
        inert = false;
    }
    const neededNames = [...needed].sort();
    return {
      steps,
      warnings,
      paths,
      reals,
      neededNames,
      outside: neededNames.filter((n) => !provided.has(n)),
      inert,
      drains: new Map(),
    };
  });
}

/** PROBE_ORIGIN stands for the importer's origin while a gconv group is probed (its ops are not kept). */
const PROBE_ORIGIN: Origin = { kind: 'inferred', by: '', reason: 'gconv probe' };

/**
 * gconvDrain memoises what drain does to a replayed gconv group, per binding of the names the modules
 * need from outside it (libc.so.6 → this libc, found this way). It is found by a probe: the group
 * replayed into an empty program that has only those names mapped, drained by the general code, every
 * addPathKnown call logged. Undefined (the general drain) when the program has not mapped one of those
 * names, or when the probe mapped anything new or missed a library: then the drain depends on the
 * program's search context.
 */
async function gconvDrain(
  st: State,
  pg: Program,
  loads: GconvLoads,
  libc: LoadedObject,
): Promise<GconvDrain | undefined> {
  const outside: { name: string; b: { obj: LoadedObject; via: string } }[] = [];
  for (const name of loads.outside) {
    const b = pg.byName.get(name);
    if (!b) return undefined;
    outside.push({ name, b });
  }
  const key = outside.map(({ name, b }) => `${name}\0${b.obj.path}\0${b.obj.real}\0${b.via}`).join('\0\0');
  return memo(loads.drains, key, async () => {
    const log: PathOp[] = [];
    const probeSt: State = {
      ...st,
      files: new Map(),
      objects: new Map(),
      roots: [],
      unresolved: [],
      warnings: [],
      log,
    };
    const probe: Program = {
      env: { ...pg.env, warnings: probeSt.warnings },
      byReal: new Map(outside.map(({ b }) => [b.obj.real, b.obj])),
      byName: new Map(outside.map(({ name, b }) => [name, b])),
      queue: [],
      inferred: new Set(),
      variants: new Map(),
      groups: new Map(),
      rootName: pg.rootName,
      ...(pg.interp ? { interp: pg.interp } : {}),
    };
    replayGconv(probeSt, probe, loads, libc, PROBE_ORIGIN);
    log.length = 0;
    probeSt.warnings.length = 0;
    const mapped = probe.byReal.size;
    await drain(probeSt, probe);
    if (probe.byReal.size !== mapped || probeSt.unresolved.length > 0) return undefined;
    const bindings: GconvBinding[] = [];
    for (const name of loads.neededNames) {
      const b = probe.byName.get(name);
      if (!b) return undefined;
      bindings.push({ name, path: b.obj.path, real: b.obj.real, via: b.via });
    }
    return { bindings, ops: log, records: [...probeSt.objects.values()], warnings: [...probeSt.warnings] };
  });
}

/**
 * applyGconvDrain does what drain would do to a replayed gconv group, from its memo, when drain has
 * reached the group's first module with the others right behind it and every name the modules need
 * still resolves as when probed. False (nothing done) otherwise: drain then takes them one by one.
 */
function applyGconvDrain(st: State, pg: Program, first: LoadedObject, g: PendingGroup): boolean {
  const { modules, drain: d } = g;
  if (modules[0] !== first || pg.queue.length < modules.length - 1) return false;
  for (let i = 1; i < modules.length; i++) if (pg.queue[i - 1] !== modules[i]) return false;
  for (const b of d.bindings) {
    const k = pg.byName.get(b.name);
    if (!k || k.obj.real !== b.real || k.obj.path !== b.path || k.via !== b.via) return false;
  }
  for (const op of d.ops) addPathKnown(st, op.path, op.kind, op.origin, op.stat, op.target, op.key);
  for (const r of d.records) if (!st.objects.has(r.real)) st.objects.set(r.real, r);
  st.warnings.push(...d.warnings);
  pg.queue.splice(0, modules.length - 1);
  return true;
}

/** canReplay says whether a program is in the state gconvLoads assumes: none of the modules mapped yet, room for all. */
function canReplay(pg: Program, loads: GconvLoads): boolean {
  if (pg.byReal.size + loads.reals.length >= MAX_OBJECTS) return false;
  for (const p of loads.paths) if (pg.byName.has(p)) return false;
  for (const r of loads.reals) if (pg.byReal.has(r)) return false;
  return true;
}

/** addPathKnown is addPath with the lstat known (undefined: vanished), synchronous. */
function addPathKnown(
  st: State,
  path: string,
  kind: ClosureFile['kind'],
  origin: Origin,
  stat: RootStat | undefined,
  target?: string,
  key = originKey(origin),
): void {
  let f = st.files.get(path);
  st.log?.push({
    path,
    kind,
    origin,
    key,
    stat: f ? f.stat : stat,
    ...(target !== undefined ? { target } : {}),
  });
  if (!f) {
    if (!stat) return;
    f = { path, kind, stat, origins: [origin], keys: key };
    if (target !== undefined) f.target = target;
    st.files.set(path, f);
    return;
  }
  if (typeof f.keys === 'string') {
    if (f.keys === key) return;
    f.keys = new Set([f.keys, key]);
  } else if (f.keys.has(key)) return;
  else f.keys.add(key);
  f.origins.push(origin);
}

/** addResolvedKnown is addResolved over a ResolvedStats, synchronous. */
function addResolvedKnown(st: State, rs: ResolvedStats, origin: Origin, key = originKey(origin)): void {
  const r = rs.resolved;
  for (const [i, l] of r.links.entries())
    addPathKnown(st, l.path, 'symlink', { kind: 'path', to: r.path }, rs.linkStats[i], l.target);
  if (r.stat)
    addPathKnown(st, r.path, r.stat.type === 'dir' ? 'dir' : 'file', origin, r.stat, undefined, key);
}

/**
 * replayGconv does what the gconv rule's loop does (addResolved, loadInferredPath, loadLibrary) from
 * memoised steps, for a program canReplay accepted: the same files, origins (with this program's
 * importer as `by`), objects and queue, in the same order.
 */
function replayGconv(st: State, pg: Program, loads: GconvLoads, libc: LoadedObject, origin: Origin): void {
  st.warnings.push(...loads.warnings);
  const key = originKey(origin); // one origin for every step: its key once
  for (const s of loads.steps) {
    if (s.kind === 'add' || s.kind === 'notLibrary') {
      addResolvedKnown(st, s.r, origin, key);
      continue;
    }
    // loadInferredPath: a path mapped earlier in this loop (two modules, one file) is known by name
    const known = pg.byName.get(s.path);
    if (known) {
      addPathKnown(st, known.obj.real, 'file', origin, st.files.get(known.obj.real)?.stat, undefined, key);
      continue;
    }
    // loadLibrary with via 'path' (no ld.so.cache rule applies)
    addResolvedKnown(st, s.r, origin, key);
    const real = s.r.resolved.path;
    const mapped = pg.byReal.get(real);
    if (mapped) {
      pg.byName.set(s.path, { obj: mapped, via: 'path' });
      continue;
    }
    if (!s.info) {
      st.warnings.push(s.skipped!);
      addResolvedKnown(st, s.r, origin, key); // loadInferredPath found nothing: the file itself
      continue;
    }
    const obj: LoadedObject = { path: s.path, real, info: s.info, loader: libc, origin: s.dir };
    pg.byReal.set(real, obj);
    const binding = { obj, via: 'path' };
    pg.byName.set(s.path, binding);
    // as loadLibrary binds the SONAME of a library loaded by path
    if (s.info.soname && !pg.byName.has(s.info.soname))
      pg.byName.set(s.info.soname, { obj, via: alreadyLoaded(s.path) });
    pg.queue.push(obj); // no glibc-hwcaps variants: drain records []
    pg.inferred.add(real);
  }
}

/** ET_DYN_TYPE is e_type of a shared object. */
const ET_DYN_TYPE = 3;
/** BATCH is how many files gconvPlan works on at once. */
const BATCH = 16;

/** inBatches maps xs through f, BATCH at a time, keeping the order. */
async function inBatches<X, Y>(xs: readonly X[], f: (x: X) => Promise<Y>): Promise<Y[]> {
  const out: Y[] = [];
  for (let i = 0; i < xs.length; i += BATCH) out.push(...(await Promise.all(xs.slice(i, i + BATCH).map(f))));
  return out;
}

/** importers lists the objects (in load order) importing one of the symbols, each with the first such symbol. */
/**
 * LIBSTDCXX is GCC's C++ library. Its one call of iconv_open (config/locale/gnu/numeric_members.cc
 * __narrow_multibyte_chars) converts a named locale's multibyte thousands separator to ASCII, from the
 * locale's codeset: UTF-8 and ASCII are glibc's built-in converters, so only a locale of another
 * codeset loads a gconv module. Every C++ program imports it through libstdc++; the gconv modules (8 MiB,
 * every charset) come for it only when the image's environment names such a locale (utf8Locales).
 */
const LIBSTDCXX = /^libstdc\+\+\.so\./;

/**
 * utf8Locales tells whether every locale the image's environment names is UTF-8 by name
 * (`C.UTF-8`, `en_US.utf8`): a name without a codeset (`de_DE`, `de_DE@euro`) has the locale's own,
 * often a legacy charset.
 */
function utf8Locales(requests: readonly LocaleRequest[]): boolean {
  return requests.every((r) => {
    const dot = r.name.indexOf('.');
    if (dot < 0) return false;
    const at = r.name.indexOf('@', dot);
    return normalizeCodeset(r.name.slice(dot + 1, at < 0 ? undefined : at)) === 'utf8';
  });
}

function importers(
  objs: Iterable<LoadedObject>,
  test: (s: string) => boolean,
): { obj: LoadedObject; sym: string }[] {
  const out: { obj: LoadedObject; sym: string }[] = [];
  for (const o of objs) {
    const sym = o.info.importedSymbols.find(test);
    if (sym) out.push({ obj: o, sym });
  }
  return out;
}

async function addRootFile(st: State, path: string, origin: Origin): Promise<boolean> {
  const r = await resolveOrMissing(st.cache, path);
  if (!r.stat) return false;
  await addResolved(st, r, origin);
  return true;
}

/**
 * addModuleDir ships a directory a library loads modules from (module-dirs.ts), when the root has it
 * and it holds shared objects: each one as a library (with its own closure), every other file (a
 * plugin list such as Graphviz's config6a, libtool's `.la` files ImageMagick reads) as it is; with
 * `ship` false, a warning instead. Returns whether it is a module directory (shipped or warned about).
 */
async function addModuleDir(
  st: State,
  pg: Program,
  dir: string,
  lib: LoadedObject,
  ship: boolean,
): Promise<boolean> {
  // a module directory holds shared objects itself, or only directories one of which does (zsh's
  // `zsh/5.9` holds `zsh/*.so`, loaded as `zsh/mathfunc`); a parent of module directories beside other
  // things (ImageMagick-6.9.11: config-Q16, modules-Q16/coders) is not one. Its listing says so before
  // anything under it is walked.
  const names = await listDir(st.cache, dir);
  if (!names) return false;
  let moduleDirs = [...names].some((n) => SHARED_OBJECT.test(n)) ? [dir] : [];
  if (moduleDirs.length === 0) {
    for (const n of names) {
      const sub = await listDir(st.cache, `${dir}/${n}`);
      if (sub === undefined) {
        moduleDirs = [];
        break; // a file beside the directories
      }
      if ([...sub].some((x) => SHARED_OBJECT.test(x))) moduleDirs.push(`${dir}/${n}`);
    }
  }
  if (moduleDirs.length === 0) return false;
  const w = await walkTree(st.cache, dir, { max: MAX_MODULE_ENTRIES + 1 });
  const files = w.entries.filter((e) => e.kind === 'file').map((e) => e.path);
  if (!files.some((f) => moduleDirs.includes(parentPath(f)) && SHARED_OBJECT.test(baseName(f)))) return false;
  const name = objectName(lib);
  if (!ship) {
    st.warnings.push(
      `${name} loads its modules from ${dir} (compiled into it), which is not added (--no-infer=modules): what needs one of them fails at run time; add the ones the program uses with --add`,
    );
    return true;
  }
  if (w.truncated) {
    st.warnings.push(
      `${name} loads its modules from ${dir} (compiled into it), which holds more than ${MAX_MODULE_ENTRIES} entries: not added; add the modules the program uses with --add`,
    );
    return true;
  }
  const reason = `${name} loads its modules from ${dir} (compiled into it) by dlopen`;
  const origin: Origin = { kind: 'inferred', by: lib.real, reason };
  for (const f of files) {
    if (SHARED_OBJECT.test(baseName(f)) && (await loadInferredPath(st, pg, f, lib, lib.real, reason)))
      continue;
    await addRootFile(st, f, origin);
  }
  return true;
}

/** OBJECT_PATHS matches the C strings the module and data rules read: MODULE_PATH or SHARE_STRING. */
const OBJECT_PATHS = new RegExp(`${MODULE_PATH.source}|${SHARE_STRING.source}|${RELATIVE_SHARE.source}`);

/**
 * addShareData ships data a program or library reads at a compiled-in path under /usr/share
 * (module-dirs.ts): a file alone, a directory whole when within MAX_SHARE_ENTRIES and MAX_SHARE_BYTES
 * (else a warning). A path the root lacks is nothing.
 */
async function addShareData(st: State, path: string, obj: LoadedObject): Promise<void> {
  const name = objectName(obj);
  await addDataTree(st, path, obj.real, `${name} reads its data from ${path} (compiled into it)`);
}

/**
 * boundedTree walks a directory shipped whole (walkTree; `skip` passed on) and sums its files' sizes:
 * `over` names the bound it passes, MAX entries or `maxBytes` (undefined within both), for the rule's
 * warning. The sizes are not summed past the entry bound.
 */
async function boundedTree(
  st: State,
  dir: string,
  maxBytes: number,
  opts: { max?: number; skip?: (path: string) => boolean } = {},
): Promise<{ w: TreeWalk; over?: string }> {
  const w = await walkTree(st.cache, dir, opts);
  if (w.truncated) return { w, over: `more than ${w.entries.length} entries` };
  let bytes = 0;
  for (const e of w.entries)
    if (e.kind === 'file') bytes += (await resolveOrMissing(st.cache, e.path)).stat?.size ?? 0;
  return bytes > maxBytes
    ? { w, over: `${(bytes / 1048576).toFixed(0)} MB, over ${maxBytes / 1048576} MB` }
    : { w };
}

/**
 * addDataTree ships a file, or a directory whole when within MAX_SHARE_ENTRIES and MAX_SHARE_BYTES
 * (else a warning that names `reason`), for `by`. A path the root lacks is nothing.
 */
async function addDataTree(st: State, path: string, by: string, reason: string): Promise<void> {
  const origin: Origin = { kind: 'inferred', by, reason };
  const r = await resolveOrMissing(st.cache, path);
  if (r.stat?.type === 'file') {
    await addResolved(st, r, origin);
    return;
  }
  if (r.stat?.type !== 'dir') return;
  const { w, over } = await boundedTree(st, path, MAX_SHARE_BYTES, { max: MAX_SHARE_ENTRIES + 1 });
  if (w.truncated || over !== undefined) {
    st.warnings.push(
      `${reason}, which holds more than ${w.truncated ? `${MAX_SHARE_ENTRIES} entries` : `${MAX_SHARE_BYTES / 1048576} MiB`}: not added; add what it reads with --add`,
    );
    return;
  }
  for (const e of w.entries) await addRootFile(st, e.path, origin);
}

/**
 * addFontconfig ships what fontconfig reads to find fonts (a program drawing text through it, Graphviz,
 * ImageMagick, Pango, draws empty boxes without them, and prints `Fontconfig error: Cannot load default
 * config file`): its configuration directory /etc/fonts whole (conf.d's links and what they name),
 * the font directories and the cache directory its configuration names (`<dir>`, `<cachedir>`;
 * without one, those of the configuration compiled into it: /usr/share/fonts, /var/cache/fontconfig),
 * each within the bounds of addDataTree.
 */
async function addFontconfig(st: State, obj: LoadedObject): Promise<void> {
  const name = objectName(obj);
  const conf = await walkTree(st.cache, FONTCONFIG_DIR);
  for (const e of conf.entries)
    await addRootFile(st, e.path, {
      kind: 'inferred',
      by: obj.real,
      reason: `${name} reads its configuration, ${FONTCONFIG_DIR}`,
    });
  const dirs = new Set<string>();
  for (const e of conf.entries) {
    if (e.kind !== 'file' || !e.path.endsWith('.conf')) continue;
    const text = await readTextCached(st.cache, e.path, 256 * 1024);
    for (const p of fontconfigDirs(text ?? '')) dirs.add(p);
  }
  if (dirs.size === 0) for (const p of FONTCONFIG_FALLBACK_DIRS) dirs.add(p);
  for (const d of [...dirs].sort())
    await addDataTree(
      st,
      d,
      obj.real,
      `${name} finds fonts and their cache in ${d} (its configuration names it)`,
    );
}

/** gconvDir finds the gconv module directory of the root, next to libc first. */
async function gconvDir(st: State, pg: Program, libc: LoadedObject | undefined): Promise<string | undefined> {
  const cands: string[] = [];
  if (libc) cands.push(`${parentPath(libc.real)}/gconv`, `${parentPath(libc.path)}/gconv`);
  if (pg.env.target.triplet) cands.push(`/usr/lib/${pg.env.target.triplet}/gconv`);
  cands.push('/usr/lib64/gconv', '/usr/lib/gconv');
  for (const c of cands) if ((await listDir(st.cache, c))?.has('gconv-modules')) return c;
  return undefined;
}

/**
 * launcherRules applies launcher.ts to a program: a Java launcher gets its runtime (libjvm.so and the
 * libraries, data and configuration of its home), CPython (the interpreter, or a program linking
 * libpython) its standard library and extension modules; another program that imports dlopen and
 * reads /proc/self/exe from a home of its own gets a warning naming --trace and --verify --fix.
 */
async function launcherRules(st: State, pg: Program): Promise<void> {
  const main = pg.env.main;
  const probe = {
    elf: async (path: string) => {
      const c = await acceptCandidate(path, pg.env);
      if (!c) return undefined;
      try {
        return await readElfCached(st.cache, st.readElf, c.resolved.path, st.symbols);
      } catch (e) {
        if (!isFromscratchError(e)) throw e;
        return undefined;
      }
    },
    // found by the library's own search, as if it were loaded alone (not the program's DT_RPATH): the
    // plan then depends on the root, the target and LD_LIBRARY_PATH only, and is made once per cache
    findable: async (name: string, path: string, info: ElfInfo) => {
      const obj: LoadedObject = { path, real: path, info, origin: parentPath(path) };
      return (await searchLibrary(name, obj, { ...pg.env, main: obj, warnings: [] })).found;
    },
    library: (request: string) => libraryByName(st, pg, request),
  };
  const t = pg.env.target;
  const key = `${t.class}\0${t.endian}\0${t.machine}\0${t.flags}\0${pg.env.libraryPath.join(':')}`;
  // derived holds one kind of value per key prefix
  const plans = st.cache.derived as Map<string, Promise<RuntimePlan>>;
  const jh = st.opts.infer?.java === false ? undefined : await findJavaHome(st.cache, main.real);
  if (jh) {
    const plan = await memo(plans, `launch-java\0${jh.home}\0${key}`, () =>
      javaRuntimePlan(st.cache, jh, probe),
    );
    // libjli.so dlopens libjvm.so; the JVM loads the others
    return applyRuntimePlan(st, pg, 'Java runtime', plan, pg.byName.get('libjli.so')?.obj ?? main);
  }
  const sonames = [...pg.byReal.values()].flatMap((o) => (o.info.soname ? [o.info.soname] : []));
  const ph = st.opts.infer?.python === false ? undefined : await findPythonHome(st.cache, main.real, sonames);
  if (ph) {
    const plan = await memo(plans, `launch-python\0${ph.prefix}\0${ph.version}\0${key}`, () =>
      pythonRuntimePlan(st.cache, ph, probe),
    );
    await applyRuntimePlan(st, pg, 'Python runtime', plan, main);
    // the packages of the system's site directories the application's sources import (python3-yaml …)
    const imports = st.opts.pythonImports ?? [];
    if (imports.length > 0) {
      const pkgs = await memo(
        plans,
        `python-packages\0${ph.prefix}\0${ph.version}\0${imports.join('\0')}\0${key}`,
        () => pythonPackagesPlan(st.cache, ph, imports, probe),
      );
      await applyRuntimePlan(st, pg, 'Python packages', pkgs, main);
    }
    // zoneinfo.ZoneInfo('Europe/Paris') reads the zone from its TZPATH, /usr/share/zoneinfo first
    await addZoneinfo(
      st,
      main.real,
      "CPython's zoneinfo module looks zones up by name in /usr/share/zoneinfo",
    );
    return;
  }
  const ih =
    st.opts.infer?.interpreters === false
      ? undefined
      : await findInterpreterHome(st.cache, main.real, [...pg.byReal.values()]);
  if (ih) {
    const plan = await memo(plans, `launch-lib-dirs\0${ih.object}\0${ih.dirs.join(':')}\0${key}`, () =>
      interpreterRuntimePlan(st.cache, ih, probe),
    );
    await applyRuntimePlan(st, pg, ih.what, plan, main);
    if (ih.what === 'Ruby runtime') {
      // the libraries outside the standard library that the application's sources and its scripts require
      const apply = async (names: readonly string[]) => {
        if (names.length === 0) return;
        const sorted = [...new Set(names)].sort();
        const libs = await memo(plans, `launch-ruby-libs\0${ih.object}\0${sorted.join('\0')}\0${key}`, () =>
          rubyLibrariesPlan(st.cache, ih, sorted, probe),
        );
        await applyRuntimePlan(st, pg, 'Ruby libraries', libs, main);
      };
      st.rubyRuntimes.set(main.real, { ih, apply });
      await apply(st.opts.rubyRequires ?? []);
    }
    // `clock format … -timezone :Europe/Paris` reads the zone from /usr/share/zoneinfo
    if (ih.what === 'Tcl runtime')
      await addZoneinfo(st, main.real, "Tcl's clock looks zones (-timezone :NAME) up in /usr/share/zoneinfo");
    return;
  }
  // Erlang/OTP: erlexec (what the erl script runs), escript, erlc find the emulator and the boot
  // files in the root they are part of
  const otp = st.opts.infer?.interpreters === false ? undefined : await otpRoot(st.cache, main.real);
  if (otp) {
    const plan = await memo(plans, `launch-otp\0${otp}\0${key}`, () => otpRuntimePlan(st.cache, otp, probe));
    await applyRuntimePlan(st, pg, 'Erlang/OTP runtime', plan, main);
    return;
  }
  // helpers run from a compiled-in directory or by name: git's remote helpers and templates, gpg-agent,
  // tar's compressors
  const ep = (await memo(plans, `exec-path\0${main.real}\0${key}`, () =>
    execPathPlan(st.cache, main.real),
  )) as Awaited<ReturnType<typeof execPathPlan>> | undefined;
  if (ep) {
    await applyRuntimePlan(st, pg, ep.what, ep, main);
    return;
  }
  // a launcher is a program: a shared library given as a root (a plugin, an addon) is not one
  if (main.info.interpreter === undefined && main.info.type !== 'exec') return;
  const dirs = defaultDirs(pg.env.target);
  const hit = await selfExeLauncher(st.cache, main.real, [...pg.byReal.values()], (d) =>
    dirs.some((x) => d === x || d.startsWith(`${x}/glibc-hwcaps/`)),
  );
  if (hit)
    st.warnings.push(
      `${pg.rootName} may load its runtime by a path found from its own: ${hit.path} imports dlopen and reads /proc/self/exe, and no rule knows this launcher; what it loads that way is in the image only if a run shows it: check with --verify 'CMD' --fix, or build with --trace 'CMD'`,
    );
}

/**
 * libraryByName is the path of the library `pg` would load at run time by `request`: a SONAME found as
 * its loader finds it (the program's own search: dlopen from the program), or a bare name as
 * ctypes.util.find_library finds one: the greatest `libNAME.so.N…` of the loader's directories, as
 * `ldconfig -p` lists it first. Undefined when the root has none.
 */
async function libraryByName(st: State, pg: Program, request: string): Promise<string | undefined> {
  let soname = request;
  if (!request.includes('.so')) {
    // `libNAME.so`, then version numbers only
    const stem = `lib${request}.so`;
    const names = new Set<string>();
    for (const d of [...pg.env.libraryPath, ...defaultDirs(pg.env.target)])
      for (const n of (await listDir(st.cache, d)) ?? [])
        if (n.startsWith(stem) && /^(\.[0-9]+)*$/.test(n.slice(stem.length))) names.add(n);
    // a SONAME first (`libpng16.so.16`: what `ldconfig -p` lists), the greatest; else a file of the name
    const isSoname = (n: string) => /\.so\.[0-9]+$/.test(n);
    const sorted = [...names].sort(
      (a, b) => Number(isSoname(b)) - Number(isSoname(a)) || b.localeCompare(a, 'en', { numeric: true }),
    );
    if (sorted[0] === undefined) return undefined;
    soname = sorted[0];
  }
  const main = pg.env.main;
  const r = await searchLibrary(soname, main, { ...pg.env, warnings: [] });
  return r.found ? r.primary.path : undefined;
}

/** applyRuntimePlan adds a launcher's runtime: files with their links, libraries mapped with their closures, programs. */
async function applyRuntimePlan(
  st: State,
  pg: Program,
  what: string,
  plan: RuntimePlan,
  loader: LoadedObject,
): Promise<void> {
  const by = pg.env.main.real;
  for (const item of plan.items) {
    const origin: Origin = { kind: 'inferred', by, reason: `${what}: ${item.reason}` };
    if (item.kind === 'library') {
      if (!(await loadInferredPath(st, pg, item.path, loader, by, origin.reason)))
        st.warnings.push(`${item.path} (${what} of ${pg.rootName}) could not be loaded as a library`);
    } else if (item.kind === 'program') await addProgram(st, item.path, origin, 1);
    else await addRootFile(st, item.path, origin);
  }
  for (const p of plan.problems) st.warnings.push(`${what} of ${pg.rootName}: ${p}`);
  if (plan.leftOut.length > 0)
    st.warnings.push(
      `${what} of ${pg.rootName}: left out ${plan.leftOut.map((l) => `${l.path} (${l.why})`).join(', ')}; add what the application needs with --add`,
    );
}

/** MAX_CONFIG_ENTRIES and MAX_CONFIG_BYTES bound a configuration directory shipped whole. */
const MAX_CONFIG_ENTRIES = 256;
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/**
 * addConfigDir adds a configuration directory whole, bounded (MAX_CONFIG_ENTRIES, MAX_CONFIG_BYTES):
 * its directories with `dirOrigin`, its files through `ship` (which leaves out, in `privates`, those
 * only their owner may read, and returns the bytes added). `who` names the reader in the warnings.
 */
async function addConfigDir(
  st: State,
  d: string,
  who: string,
  dirOrigin: Origin,
  ship: (path: string, dir: string, privates: string[]) => Promise<number>,
): Promise<void> {
  const w = await walkTree(st.cache, d, { max: MAX_CONFIG_ENTRIES + 1 });
  if (w.entries.length === 0) return;
  if (w.truncated) {
    st.warnings.push(
      `${who} names its configuration directory ${d}, which holds more than ${MAX_CONFIG_ENTRIES} entries: left out; add what it reads with --add`,
    );
    return;
  }
  const privates: string[] = [];
  let bytes = 0;
  for (const e of w.entries) {
    if (e.kind === 'dir') await addRootFile(st, e.path, dirOrigin);
    else bytes += await ship(e.path, d, privates);
    if (bytes > MAX_CONFIG_BYTES) {
      st.warnings.push(
        `${who} names its configuration directory ${d}, which holds more than ${MAX_CONFIG_BYTES / 1048576} MiB: only part of it is in the image; add what it reads with --add`,
      );
      break;
    }
  }
  if (privates.length > 0) {
    // said once for the directory, naming every program that reads it (a server and its clients)
    const tail = ` holds files only their owner may read, left out: ${privates.join(', ')} (keys or passwords: add those the image needs with --add)`;
    const head = `configuration directory ${d} of `;
    const i = st.warnings.findIndex((w) => w.startsWith(head) && w.endsWith(tail));
    const readers = i < 0 ? [] : st.warnings[i]!.slice(head.length, -tail.length).split(', ');
    if (i < 0) st.warnings.push(`${head}${who}${tail}`);
    else if (!readers.includes(who)) st.warnings[i] = `${head}${[...readers, who].join(', ')}${tail}`;
  }
}

/**
 * libraryConfig adds the configuration a module-hosting library reads from a directory of its own
 * under /etc (ImageMagick's /etc/ImageMagick-6: colors.xml, which `xc:red` reads, and policy.xml, the
 * host's security policy) as program-files.ts plans a program's: whole, world-readable files only.
 */
async function libraryConfig(st: State, lib: LoadedObject): Promise<void> {
  const strings = await prefixedCStrings(
    st.cache,
    lib.real,
    ['/etc/'],
    PROGRAM_PATH,
    MAX_MODULE_LIBRARY_BYTES,
  );
  const plan = programFilesPlan(strings ?? []);
  if (plan.configDirs.length === 0) return;
  const name = objectName(lib);
  for (const d of plan.configDirs) {
    const origin: Origin = {
      kind: 'inferred',
      by: lib.real,
      reason: `${name} loads its configuration from ${d} (compiled into it)`,
    };
    await addConfigDir(
      st,
      d,
      name,
      origin,
      async (path, _dir, privates) => (await addReadable(st, path, origin, privates))?.size ?? 0,
    );
  }
}

/** DPKG_ARCH_SUFFIXES are the `.list` name suffixes tried for a program's package (Multi-Arch: same ones carry the architecture). */
const DPKG_ARCH_SUFFIXES = ['', ':amd64', ':arm64', ':armhf', ':i386', ':ppc64el', ':s390x', ':riscv64'];

/**
 * ownPackageConffiles reads the configuration files dpkg lists for the package named as the program
 * (enscript's, a2ps's: most programs' packages bear their name), when the package's file list holds the
 * program (its path, real path or /usr-merged spelling), chosen by packageConffiles. Empty when the root
 * has no such package.
 */
async function ownPackageConffiles(st: State, main: LoadedObject): Promise<string[]> {
  const name = baseName(main.real);
  const info = '/var/lib/dpkg/info';
  const program = new Set([main.path, main.real].map(canonicalUsrPath));
  for (const suffix of DPKG_ARCH_SUFFIXES) {
    const list = await readTextCached(st.cache, `${info}/${name}${suffix}.list`, 4 * 1024 * 1024);
    if (list === undefined) continue;
    if (!list.split('\n').some((l) => program.has(canonicalUsrPath(l)))) return [];
    const text = await readTextCached(st.cache, `${info}/${name}${suffix}.conffiles`, 256 * 1024);
    return text === undefined ? [] : packageConffiles(text, name);
  }
  return [];
}

/**
 * programFilesRule applies program-files.ts to a program: its configuration directory under /etc
 * (world-readable files only: a key or a password file is left out, with a warning), its state
 * directories (empty, with their owner and mode), and the modules its configuration files name.
 */
async function programFilesRule(st: State, pg: Program): Promise<void> {
  const main = pg.env.main;
  if (main.info.interpreter === undefined && main.info.type !== 'exec') return;
  const found = await prefixedCStrings(
    st.cache,
    main.real,
    PROGRAM_SEARCH_PREFIXES,
    PROGRAM_PATH_FOUND,
    MAX_PROGRAM_BYTES,
  );
  const compiled = found && programStrings(found);
  await warnUnitPreparations(st, pg);
  if (found?.includes(DEBUG_BUILD_IDS)) st.debugInfoFor ??= { by: main.real, name: pg.rootName };
  // the paths the image's command gives it (lighttpd -f /etc/lighttpd/lighttpd.conf): the same plan
  const named = [pg.rootName, main.path, main.real].flatMap((p) => st.opts.commandPaths?.[p] ?? []);
  const conffiles = await ownPackageConffiles(st, main);
  if (compiled === undefined && named.length === 0 && conffiles.length === 0) return;
  const plan = programFilesPlan([...(compiled ?? []), ...named, ...conffiles]);
  const by = main.real;
  const onCommandLine = (p: string) => named.some((n) => n === p || n.startsWith(`${p}/`));
  const fromDpkg = (p: string) =>
    !compiled?.some((c) => c === p || c.startsWith(`${p}/`)) &&
    conffiles.some((c) => c === p || c.startsWith(`${p}/`));
  const confOf = (p: string): Origin => ({
    kind: 'inferred',
    by,
    reason: `${pg.rootName} ${CONFIG_REASON} ${onCommandLine(p) ? ON_COMMAND_LINE : fromDpkg(p) ? FROM_DPKG : COMPILED_IN}`,
  });
  const configTexts: { path: string; dir: string }[] = [];
  const ship = async (path: string, dir: string, privates: string[]): Promise<number> => {
    const added = await addReadable(st, path, confOf(dir === '/etc' ? path : dir), privates);
    if (added) configTexts.push({ path: added.r.path, dir });
    return added?.size ?? 0;
  };
  const dirs = [...plan.configDirs];
  for (const f of plan.configFiles) {
    const r = await resolveOrMissing(st.cache, f);
    if (r.stat?.type === 'dir') dirs.push(f);
    else if (r.stat?.type === 'file') await ship(f, '/etc', []);
  }
  for (const d of dirs) await addConfigDir(st, d, pg.rootName, confOf(d), ship);
  // a configuration file the command line names that the rule did not ship (one only its owner may
  // read, that the user adds with --add; redis-server's): read too, for the state it names
  for (const p of named) {
    const r = await resolveOrMissing(st.cache, p);
    if (r.stat?.type === 'file' && !configTexts.some((c) => c.path === r.path))
      configTexts.push({ path: r.path, dir: parentPath(p) });
  }
  // what the configuration names: more state, and the data files it serves (a page, a template)
  const statePaths = new Map(
    plan.statePaths.map((p) => [
      p,
      `${p} is ${named.includes(p) ? 'named on its command line' : 'compiled into it'}`,
    ]),
  );
  // paths inside its strings, not only at their start: a built-in default configuration (squid's
  // `cache_log /var/log/squid/cache.log`, `unlinkd_program /usr/lib/squid/unlinkd`)
  const embedded =
    compiled === undefined
      ? []
      : ((await embeddedPaths(st.cache, main.real, EMBEDDED_PREFIXES, EMBEDDED_PATH, MAX_PROGRAM_BYTES)) ??
        []);
  for (const p of embedded)
    if (stateRootOf(p) !== undefined && !statePaths.has(p)) statePaths.set(p, `${p} is compiled into it`);
  for (const { path } of [...configTexts]) {
    const text = await readTextCached(st.cache, path, 256 * 1024);
    for (const p of text === undefined ? [] : configPaths(text)) {
      if (stateRootOf(p) !== undefined) {
        if (!statePaths.has(p)) statePaths.set(p, `${path} names ${p}`);
      } else if (CONFIG_DATA.test(p)) {
        // a data file it serves (an error page, a template)
        const r = await resolveOrMissing(st.cache, p);
        if (r.stat?.type === 'file' && (r.stat.mode & 0o004) !== 0)
          await addResolved(st, r, { kind: 'inferred', by, reason: `${path} names it` });
      } else if (etcFile(p)) {
        // a file in /etc it reads (apache's TypesConfig /etc/mime.types): configuration, read by build
        // for secrets and accounts as the rest
        await addReadable(
          st,
          p,
          { kind: 'inferred', by, reason: `${pg.rootName} ${CONFIG_REASON} (${path} names it)` },
          [],
        );
      } else if (SERVED_ROOT.test(p)) {
        // a document root: the directory, empty (the server needs it to exist; the site is the user's)
        const r = await resolveOrMissing(st.cache, p);
        if (r.stat?.type === 'dir')
          await addResolved(st, r, {
            kind: 'inferred',
            by,
            reason: `${path} names it as what it serves: the directory, empty (add the site with --add)`,
          });
      }
    }
  }
  await addStatePaths(st, statePaths, pg.rootName, by);
  // helper programs it runs by a path in its strings (squid's unlinkd) or its configuration names
  // (lighttpd's include_shell script): each a program with its closure
  const helpers = new Map<string, string>();
  for (const p of embedded)
    if (HELPER_PATH.test(p)) helpers.set(p, `${pg.rootName} runs ${p} (a path compiled into it)`);
  for (const { path } of configTexts) {
    const text = await readTextCached(st.cache, path, 256 * 1024);
    for (const p of text === undefined ? [] : configPaths(text))
      if (CONFIG_HELPER.test(p) && !helpers.has(p)) helpers.set(p, `${path} runs ${p}`);
  }
  let helperCount = 0;
  let configHelper = false;
  for (const [p, reason] of helpers) {
    if (helperCount >= MAX_HELPERS) break;
    if (/\.so(\.|$)/.test(p) || p === main.path || p === main.real) continue;
    const r = await resolveOrMissing(st.cache, p);
    if (r.path === main.real) continue;
    // an executable ELF program (a shared object is the module rules') or a #! script
    const kind = await programKind(st.cache, p, (real) =>
      readElfCached(st.cache, st.readElf, real, st.symbols).catch(() => undefined),
    );
    if (kind === undefined) continue;
    helperCount++;
    if (!reason.includes('(a path compiled into it)')) configHelper = true;
    // a helper script's own files: those under /etc and /usr/share its text names (lighttpd's
    // create-mime.conf.pl reads /etc/mime.types)
    if (kind === 'script') {
      const text = await readTextCached(st.cache, r.path, 256 * 1024);
      const named = configPaths(text ?? '');
      const files = [...programFilesPlan(named).configFiles, ...named.filter((n) => CONFIG_DATA.test(n))];
      for (const f of files)
        await addReadable(
          st,
          f,
          {
            kind: 'inferred',
            by,
            reason: `${p} reads it (${reason})`,
          },
          [],
        );
    }
    try {
      await addProgram(st, p, { kind: 'inferred', by, reason }, 1);
    } catch (e) {
      // its closure fails (a library the root lacks): the helper is not the program's to stop on
      if (!isFromscratchError(e)) throw e;
      st.warnings.push(`${p} (${reason}) could not be added: ${(e as Error).message}`);
    }
  }
  // a private directory it runs tools from by names it makes (valgrind's
  // /usr/libexec/valgrind/memcheck-amd64-linux) or preloads a library from (stdbuf's libstdbuf.so):
  // the directory whole, its programs each with their closure, within a bound
  for (const p of new Set(embedded.map((e) => e.replace(/\/$/, '')))) {
    if (LIBEXEC_DIR.test(p))
      await addLibexecDir(st, pg, p, `${pg.rootName} runs what is in ${p} (a path compiled into it)`);
  }
  // a command its configuration gives is run through the shell when the program names one (lighttpd's
  // include_shell, apache's piped logs: popen, `/bin/sh -c`)
  if (configHelper && (await bytesFound(st.cache, main.real, ['\0/bin/sh\0'])).size > 0) {
    const sh = await resolveOrMissing(st.cache, '/bin/sh');
    if (sh.stat?.type === 'file')
      await addProgram(
        st,
        '/bin/sh',
        {
          kind: 'inferred',
          by,
          reason: `${pg.rootName} runs the commands its configuration gives through /bin/sh`,
        },
        1,
      ).catch((e: unknown) => {
        if (!isFromscratchError(e)) throw e;
      });
  }
  // a system account whose name is compiled into a program that looks accounts up (sshd's `sshd`)
  if (main.info.importedSymbols.some((s) => ACCOUNT_SYMBOLS.has(s))) {
    // a name in the dynamic string table is a symbol's or a library's (bind(2)), not an account's
    const candidates = compiledAccountCandidates((await readTextCached(st.cache, '/etc/passwd')) ?? '');
    const found = await bytesFound(
      st.cache,
      main.real,
      candidates.flatMap((c) => c.needles),
      main.info.dynamicStrings,
    );
    for (const c of candidates) {
      if (!c.needles.some((n) => found.has(n))) continue;
      await addPath(st, main.real, 'file', {
        kind: 'inferred',
        by,
        reason: accountReason(pg.rootName, c.name),
      });
    }
  }
  // modules a configuration loads by path (absolute, or under a directory the program names)
  for (const { path, dir } of configTexts) {
    const text = await readTextCached(st.cache, path, 256 * 1024);
    if (text === undefined) continue;
    for (const m of moduleNames(text)) {
      const bases = m.startsWith('/') ? [''] : [...plan.prefixes, `${dir}/`];
      for (const b of bases) {
        const cand = normalizeImagePath(`${b}${m}`);
        const r = await resolveOrMissing(st.cache, cand);
        if (r.stat?.type !== 'file') continue;
        await loadInferredPath(st, pg, cand, main, by, `${path} loads it as a module`);
        break;
      }
    }
  }
}

/** DEBUG_DIR is where debuggers and valgrind look for separate debug info (`.build-id/xx/rest.debug`). */
const DEBUG_DIR = '/usr/lib/debug';
/** DEBUG_BUILD_IDS in a program's strings: it reads debug info by build ID (gdb, valgrind's tools). */
const DEBUG_BUILD_IDS = `${DEBUG_DIR}/.build-id/`;

/**
 * addDebugInfo ships the separate debug info the root has for the objects of the image
 * (`/usr/lib/debug/.build-id/xx/rest.debug`, by each object's NT_GNU_BUILD_ID), for a program that
 * reads it (valgrind's memcheck stops at start without the dynamic loader's symbols: Debian's
 * libc6-dbg; gdb shows symbols with it). Only what the root has installed ships; nothing when none.
 */
async function addDebugInfo(st: State, p: { by: string; name: string }): Promise<void> {
  const origin: Origin = {
    kind: 'inferred',
    by: p.by,
    reason: `${p.name} reads the separate debug info of the objects it runs (${DEBUG_DIR}/.build-id)`,
  };
  for (const real of [...st.objects.keys()].sort()) {
    const info = await readElfCached(st.cache, st.readElf, real, st.symbols).catch(() => undefined);
    const id = info?.buildId;
    if (id === undefined || !/^[0-9a-f]{4,}$/.test(id)) continue;
    const path = `${DEBUG_DIR}/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`;
    if ((await resolveOrMissing(st.cache, path)).stat?.type === 'file') await addRootFile(st, path, origin);
  }
}

/** LIBEXEC_DIR is a program's private directory of helpers, tools and preloaded libraries. */
const LIBEXEC_DIR = /^\/usr\/libexec\/[A-Za-z0-9._+@-]+$/;
/** MAX_LIBEXEC_BYTES bounds a libexec directory shipped whole (valgrind's is 48 MB: its tools for two platforms). */
const MAX_LIBEXEC_BYTES = 96 * 1024 * 1024;

/**
 * addLibexecDir ships a private directory a program names, `dir` under /usr/libexec: its programs
 * (an executable ELF with an interpreter, or a `#!` script) with their closures, its shared objects
 * with theirs, everything else as it is (valgrind's static tools, suppressions and XML target
 * descriptions). A directory over MAX_LIBEXEC_BYTES or MAX_TREE_ENTRIES is a warning instead.
 */
async function addLibexecDir(st: State, pg: Program, dir: string, reason: string): Promise<void> {
  const top = await resolveOrMissing(st.cache, dir);
  if (top.stat?.type !== 'dir') return;
  const { w, over } = await boundedTree(st, dir, MAX_LIBEXEC_BYTES);
  if (over !== undefined) {
    st.warnings.push(
      `${pg.rootName} names ${dir}, which holds ${over} for a directory shipped whole: it is left out (add what ${pg.rootName} runs from it with --add or --binary)`,
    );
    return;
  }
  const by = pg.env.main.real;
  const origin: Origin = { kind: 'inferred', by, reason };
  for (const e of w.entries) {
    if (e.kind === 'dir') {
      await addRootFile(st, e.path, origin);
      continue;
    }
    const r = await resolveOrMissing(st.cache, e.path);
    const info = (await readHeader(st.cache, r.path))
      ? await readElfCached(st.cache, st.readElf, r.path, st.symbols).catch(() => undefined)
      : undefined;
    // an object for another machine (valgrind's x86 tools beside its amd64 ones) runs nothing here
    if (info !== undefined && !sameAbi(info, pg.env.main.info)) continue;
    const kind = await programKind(st.cache, e.path, async () => info);
    try {
      if (kind !== undefined) {
        await addProgram(st, e.path, origin, 1);
        continue;
      }
      if (info?.type === 'dyn' && info.interpreter === undefined) {
        if (await loadInferredPath(st, pg, e.path, pg.env.main, by, reason)) continue;
      }
      await addRootFile(st, e.path, origin);
      // a static tool that reads debug info by build ID (valgrind's memcheck needs ld.so's symbols)
      if (
        info?.type === 'exec' &&
        st.debugInfoFor === undefined &&
        (await bytesFound(st.cache, r.path, [DEBUG_BUILD_IDS])).size > 0
      )
        st.debugInfoFor = { by: r.path, name: e.path };
    } catch (err) {
      if (!isFromscratchError(err)) throw err;
      st.warnings.push(`${e.path} (${reason}) could not be added: ${(err as Error).message}`);
    }
  }
}

/** etcFile tells whether a path is a file directly in /etc that is no system file (programFilesPlan's configFiles). */
function etcFile(p: string): boolean {
  return programFilesPlan([p]).configFiles.length > 0;
}

/**
 * addStatePaths ships the state directories of `statePaths` (a path under a state root → why) for `by`:
 * the deepest directory the root has on each path, without what the host wrote there; a directory of its
 * own under the state root that the host lacks (made by the init system when the service starts:
 * /run/mosquitto, /run/sshd) is made as the root's declarations say (addInitDirs).
 */
async function addStatePaths(
  st: State,
  statePaths: ReadonlyMap<string, string>,
  rootName: string,
  by: string,
): Promise<void> {
  for (const [p, why] of statePaths) {
    const top = stateRootOf(p);
    for (let d = p; top !== undefined && d.length >= top.length; d = parentPath(d)) {
      const r = await resolveOrMissing(st.cache, d);
      if (r.stat?.type !== 'dir') continue;
      if (d === top && p !== top && (await addInitDirs(st, r, p.slice(top.length + 1), rootName, why, by)))
        break;
      await addResolved(st, r, {
        kind: 'inferred',
        by,
        reason: `${rootName} ${STATE_REASON} ${d} (${why}): the directory, empty`,
      });
      break;
    }
  }
}

/**
 * initDeclarations reads the directories the root's tmpfiles.d files and systemd service units make
 * (runtime-dirs.ts), by path; a path under /run is also known by its /var/run name. Read once per closure.
 */
function initDeclarations(st: State): Promise<ReadonlyMap<string, InitDir>> {
  st.initDirs ??= (async () => {
    const out = new Map<string, InitDir>();
    for (const dir of INIT_DECLARATION_DIRS) {
      const names = await listDir(st.cache, dir);
      for (const n of [...(names ?? [])].sort()) {
        if (!isDeclarationFile(dir, n)) continue;
        const text = await readTextCached(st.cache, `${dir}/${n}`, MAX_DECLARATION_BYTES);
        if (text === undefined) continue;
        const found = dir.endsWith('/tmpfiles.d') ? tmpfilesDirs(text, `${dir}/${n}`) : unitDirs(text, n);
        for (const d of found) {
          const paths = [d.path];
          if (d.path.startsWith('/run/')) paths.push(`/var${d.path}`);
          else if (d.path.startsWith('/var/run/')) paths.push(d.path.slice(4));
          // the first declaration wins: /etc's are read before /usr/lib's, which they override
          for (const q of paths) if (!out.has(q)) out.set(q, d);
        }
      }
    }
    return out;
  })();
  return st.initDirs;
}

/**
 * warnUnitPreparations warns of what the root's service unit of a program runs before it
 * (`ExecStartPre=`, unitPreparations) and the image does not do: unbound's unit writes the DNSSEC trust
 * anchor unbound reads at start. Nothing is run at build time; the user decides.
 */
async function warnUnitPreparations(st: State, pg: Program): Promise<void> {
  st.initPreparations ??= (async () => {
    const out: UnitPreparation[] = [];
    const seen = new Set<string>();
    for (const dir of INIT_DECLARATION_DIRS) {
      if (dir.endsWith('/tmpfiles.d')) continue;
      for (const n of [...((await listDir(st.cache, dir)) ?? [])].sort()) {
        // a unit in /etc overrides the one of the same name in /usr/lib
        if (!isDeclarationFile(dir, n) || seen.has(n)) continue;
        const text = await readTextCached(st.cache, `${dir}/${n}`, MAX_DECLARATION_BYTES);
        if (text === undefined) continue;
        seen.add(n);
        out.push(...unitPreparations(text, n));
      }
    }
    return out;
  })();
  const main = pg.env.main;
  for (const p of await st.initPreparations) {
    if (baseName(p.program) !== baseName(main.path) && baseName(p.program) !== baseName(main.real)) continue;
    if ((await resolveOrMissing(st.cache, p.program)).path !== main.real) continue;
    st.warnings.push(
      `${p.unit} runs \`${p.command}\` before ${p.program} (ExecStartPre=), and fromscratch runs nothing: what it prepares is not in the image; if ${pg.rootName} needs it, run that command in the entrypoint or add its result with --add`,
    );
  }
}

/** accountId finds a user's (or group's) id and primary group in the root's passwd (or group) text. */
function accountId(text: string | undefined, name: string): { id: number; gid?: number } | undefined {
  if (/^\d+$/.test(name)) return { id: Number(name) };
  for (const line of (text ?? '').split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 3 && /^\d+$/.test(f[2]!))
      return { id: Number(f[2]), ...(f.length >= 4 && /^\d+$/.test(f[3]!) ? { gid: Number(f[3]) } : {}) };
  }
  return undefined;
}

/**
 * addInitDirs makes the directories of a state path (`rest`, below the state root `top`, which the root
 * has) that the root lacks: those between the state root and the path's directory, and the path itself
 * when a declaration makes it a directory (sshd's `/run/sshd`). Each gets the owner and mode of the
 * root's declaration of it (tmpfiles.d, a unit's RuntimeDirectory= or ExecStartPre mkdir), else root's
 * and 0755; the state root itself is shipped empty. False when the path names nothing to make (a file
 * directly under the state root: `/run/sshd.pid`).
 */
async function addInitDirs(
  st: State,
  top: Resolved,
  rest: string,
  rootName: string,
  why: string,
  by: string,
): Promise<boolean> {
  const parts = rest.split('/').filter((c) => c !== '');
  const decl = await initDeclarations(st);
  const full = `${top.path}/${parts.join('/')}`;
  const chain = decl.has(full) ? parts : parts.slice(0, -1);
  if (chain.length === 0) return false;
  await addResolved(st, top, {
    kind: 'inferred',
    by,
    reason: `${rootName} ${STATE_REASON} ${top.path} (${why}): the directory, empty`,
  });
  let passwd: string | undefined;
  let group: string | undefined;
  for (let i = 1; i <= chain.length; i++) {
    const path = `${top.path}/${chain.slice(0, i).join('/')}`;
    if (st.files.has(path)) continue;
    const d = decl.get(path);
    let uid = 0;
    let gid = 0;
    const unknown: string[] = [];
    if (d?.user !== undefined) {
      passwd ??= await readTextCached(st.cache, '/etc/passwd');
      const u = accountId(passwd, d.user);
      if (u === undefined) unknown.push(`user ${d.user}`);
      else {
        uid = u.id;
        if (d.primaryGroup) gid = u.gid ?? 0;
      }
    }
    if (d?.group !== undefined) {
      group ??= await readTextCached(st.cache, '/etc/group');
      const g = accountId(group, d.group);
      if (g === undefined) unknown.push(`group ${d.group}`);
      else gid = g.id;
    }
    const mode = d?.mode ?? 0o755;
    const made = d
      ? `made as ${d.declared} makes it (${mode.toString(8).padStart(4, '0')}, ${uid}:${gid})`
      : 'made empty, root-owned (the host lacks it and declares nothing)';
    if (unknown.length > 0)
      st.warnings.push(
        `${path}: ${d?.declared} names ${unknown.join(' and ')}, which the root's /etc/passwd or /etc/group lacks; made root-owned`,
      );
    const stat: RootStat = {
      type: 'dir',
      mode,
      size: 0,
      uid,
      gid,
      mtime: 0,
      nlink: 2,
      dev: 0,
      ino: 0,
      rdev: 0,
    };
    addPathKnown(
      st,
      path,
      'dir',
      {
        kind: 'inferred',
        by,
        reason: `${rootName} ${STATE_REASON} ${path} (${why}): the directory, which the host lacks, ${made}`,
      },
      stat,
    );
  }
  return true;
}

/**
 * addZoneinfo adds the root's zone database (ZONEINFO_DIR, whole) for `by`, a runtime that looks zones up
 * by name at run time: which zones a program asks for is not in its bytes. Nothing when the root has
 * none (the runtime then reports the zone unknown, as on such a host) or the inference is off.
 */
async function addZoneinfo(st: State, by: string, reason: string): Promise<void> {
  if (st.opts.infer?.zoneinfo === false) return;
  await addRootTree(st, ZONEINFO_DIR, { kind: 'inferred', by, reason });
}

/** addRootTree adds every entry of the root's directory `dir` (walkTree's bounds), for `origin`. */
async function addRootTree(st: State, dir: string, origin: Origin): Promise<void> {
  const w = await walkTree(st.cache, dir);
  for (const e of w.entries) await addRootFile(st, e.path, origin);
}

/**
 * addLocales adds the data of every locale the environment names (locale.ts findLocale), for `by`
 * importing `sym`; a locale the root lacks is a warning.
 */
async function addLocales(st: State, by: string, sym: string): Promise<void> {
  let any = false;
  for (const req of st.opts.locales ?? []) {
    const found = await findLocale(st.cache, req.name);
    const reason = `imports ${sym}: locale "${req.name}" named by ${req.variable}`;
    const origin: Origin = { kind: 'inferred', by, reason };
    if (found.kind === 'missing') {
      st.warnings.push(
        `locale "${req.name}" named by ${req.variable} is not in root ${st.fs.name} (searched ${found.searched.join(', ')}): ${by} will fall back to the C locale; install it in the root (apt-get install locales, then locale-gen, or ${localedefCommand(req.name)})`,
      );
      continue;
    }
    any = true;
    if (found.kind === 'archive') {
      await addRootFile(st, found.path, origin);
      continue;
    }
    await addRootTree(st, found.path, origin);
  }
  if (any)
    await addRootFile(st, LOCALE_ALIAS, {
      kind: 'inferred',
      by,
      reason: `imports ${sym}: glibc expands locale names through locale.alias`,
    });
}

/**
 * SHELL_TEMPLATE matches a C string that is a command line with a quoted program path to fill in:
 * initdb's `"%s" --boot -X %d %s`, pg_ctl's `exec "%s" %s%s < "%s"`, pg_upgrade's `"%s" -V`.
 */
const SHELL_TEMPLATE = /^(exec )?"%s"([ \t]{1,8}[-%<>"]|[ \t]{0,8}$)/;

/**
 * shellTemplatesRule adds /bin/sh for a program that runs command lines it builds through popen or
 * system (SHELL_TEMPLATE in its strings): initdb runs `"…/postgres" -V` and `"…/postgres" --boot`
 * that way, and stops with `popen failure: Cannot allocate memory` in an image without a shell. A
 * program that only may call system() (an interpreter's os.system, awk's system()) gets none.
 */
async function shellTemplatesRule(st: State, pg: Program): Promise<void> {
  const main = pg.env.main;
  const sym = main.info.importedSymbols.find((s) => SHELL_RUNNERS.has(s));
  if (sym === undefined) return;
  const found = await prefixedCStrings(
    st.cache,
    main.real,
    ['"%s"', 'exec "%s"'],
    SHELL_TEMPLATE,
    MAX_PROGRAM_BYTES,
  );
  // whole command lines it runs (zip's `unzip -t`, postgres's `locale -a`): their programs, by name
  const own = new Set([baseName(main.path), baseName(main.real)]);
  const commands: { line: string; path: string }[] = [];
  // (a program over the scan bound, as prefixedCStrings says with undefined, is not read)
  for (const line of found === undefined ? [] : await commandLines(st, main.real, main.info)) {
    const name = line.split(' ')[0]!;
    if (own.has(name) || SHELL_BUILTINS.has(name) || commands.length >= MAX_COMMAND_LINES) continue;
    const path = (await lookPath(st, name)).found;
    if (path !== undefined && !commands.some((c) => c.path === path)) commands.push({ line, path });
  }
  const template = found?.[0] ?? commands[0]?.line;
  if (template === undefined) return;
  const add = (path: string, reason: string) =>
    addProgram(st, path, { kind: 'inferred', by: main.real, reason }, 1).catch((e: unknown) => {
      if (!isFromscratchError(e)) throw e;
    });
  if ((await resolveOrMissing(st.cache, '/bin/sh')).stat?.type === 'file')
    await add(
      '/bin/sh',
      `${pg.rootName} runs the command lines it builds through /bin/sh (${sym}: \`${template.slice(0, 60)}\`)`,
    );
  for (const c of commands) await add(c.path, `${pg.rootName} runs \`${c.line}\` through /bin/sh (${sym})`);
}

/** COMMAND_LINE matches a C string that is a whole command line: a program's name and options (`unzip -t`, `locale -a`). */
const COMMAND_LINE = /^[a-z][a-z0-9_.+-]*( --?[A-Za-z][A-Za-z0-9-]*)+$/;
/** SHELL_BUILTINS are the first words of command lines that run no program (`set -e`). */
const SHELL_BUILTINS = new Set([
  'set',
  'cd',
  'exec',
  'export',
  'trap',
  'ulimit',
  'umask',
  'test',
  'echo',
  'exit',
]);
/** MAX_COMMAND_LINES bounds the programs one program's command lines bring. */
const MAX_COMMAND_LINES = 8;
/** MAX_READ_ONLY_BYTES bounds the read-only data read for command lines. */
const MAX_READ_ONLY_BYTES = 8 * 1024 * 1024;

/** commandLines are the C strings of a program's read-only data that are whole command lines (COMMAND_LINE), in order, unique. */
async function commandLines(st: State, real: string, info: ElfInfo): Promise<string[]> {
  const out = new Set<string>();
  let left = MAX_READ_ONLY_BYTES;
  for (const r of info.readOnlyData ?? []) {
    const length = Math.min(r.size, left);
    if (length <= 0) break;
    left -= length;
    const b = Buffer.from(
      await st.cache.fs.read(real, { offset: r.offset, length }).catch(() => new Uint8Array()),
    );
    for (let at = 0; at < b.length; ) {
      let end = b.indexOf(0, at);
      if (end < 0) end = b.length;
      // a short string starting with a lower-case letter: `unzip -t`
      if (end - at >= 4 && end - at <= 64 && b[at]! >= 0x61 && b[at]! <= 0x7a) {
        const s = b.toString('latin1', at, end);
        if (COMMAND_LINE.test(s)) out.add(s);
      }
      at = end + 1;
    }
  }
  return [...out];
}

/**
 * compiledLocalesRule adds the data of the UTF-8 locale a program names in its own code
 * (COMPILED_LOCALES), for a program that imports setlocale or newlocale: tmux and fish switch to
 * `C.UTF-8` themselves when the environment's locale is not UTF-8 (tmux refuses to start without one),
 * ssh does for its output, python3 coerces the C locale to it (PEP 538). The environment does not name
 * it, so the environment's locale rule (addLocales) does not see it. Only a locale the root has as a
 * directory ships (C.utf8 is ~400 kB; a locale archive may hold every locale of the host).
 */
async function compiledLocalesRule(st: State, pg: Program): Promise<void> {
  const main = pg.env.main;
  const sym = main.info.importedSymbols.find((s) => LOCALE_SYMBOLS.has(s));
  if (sym === undefined) return;
  const size = (await st.cache.view.lstat(main.real))?.size ?? 0;
  if (size > MAX_PROGRAM_BYTES) return;
  const found = await bytesFound(
    st.cache,
    main.real,
    COMPILED_LOCALES.map((n) => `\0${n}\0`),
    main.info.dynamicStrings,
  );
  for (const name of COMPILED_LOCALES) {
    if (!found.has(`\0${name}\0`)) continue;
    const data = await findLocale(st.cache, name);
    if (data.kind !== 'dir') continue;
    const origin: Origin = {
      kind: 'inferred',
      by: main.real,
      reason: `${pg.rootName} imports ${sym} and names locale "${name}" in its code`,
    };
    await addRootTree(st, data.path, origin);
    return;
  }
}

/** alreadyLoaded is the `via` of a name bound to a loaded object by its DT_SONAME. */
function alreadyLoaded(path: string): string {
  return `already loaded: SONAME of ${path}`;
}

/**
 * bindLoadedSonames resolves the libraries that objects a program dlopen()s need, that the search did
 * not find but an object mapped later in the same program has as DT_SONAME (a library dlopen()ed by
 * path): ld.so reuses a loaded object whose DT_SONAME matches before searching (dl-load.c
 * _dl_map_object). The program's own startup objects are never bound so: nothing is loaded before
 * them. `from` is the index of the program's first entry in st.unresolved.
 */
function bindLoadedSonames(st: State, pg: Program, from: number): void {
  for (let i = st.unresolved.length - 1; i >= from; i--) {
    const u = st.unresolved[i]!;
    if (!st.dlopenNeeds.has(u) || !pg.byReal.has(u.neededBy)) continue;
    const b = pg.byName.get(u.soname);
    if (!b || b.obj.info.soname !== u.soname) continue;
    bindSoname(st, i, b.obj.path, b.obj.real);
  }
}

/**
 * bindSonamesAcrossPrograms resolves what objects loaded by dlopen still miss to an object of another
 * program of the closure (or added file) whose DT_SONAME is the name and whose ABI matches: a plugin
 * needing a library its host dlopen()s from a private directory. The first such object, in closure
 * order. A program's startup objects are never bound so (the image would fail to start).
 */
function bindSonamesAcrossPrograms(st: State): void {
  const bySoname = new Map<string, ClosureObject>();
  for (const o of st.objects.values()) if (o.soname && !bySoname.has(o.soname)) bySoname.set(o.soname, o);
  for (let i = st.unresolved.length - 1; i >= 0; i--) {
    const u = st.unresolved[i]!;
    if (!st.dlopenNeeds.has(u)) continue;
    const o = bySoname.get(u.soname);
    const needer = st.objects.get(u.neededBy);
    if (!o || !needer || o.machine !== needer.machine || o.class !== needer.class) continue;
    bindSoname(st, i, o.path, o.real);
  }
}

/** bindSoname turns st.unresolved[i] into a DT_NEEDED bound to the object at path (real) by its SONAME, with a note. */
function bindSoname(st: State, i: number, path: string, real: string): void {
  const u = st.unresolved[i]!;
  const via = alreadyLoaded(path);
  st.unresolved.splice(i, 1);
  const have = st.files.get(real);
  addPathKnown(st, real, 'file', { kind: 'needed', by: u.neededBy, soname: u.soname, via }, have?.stat);
  const rec = st.objects.get(u.neededBy);
  if (rec)
    st.objects.set(u.neededBy, {
      ...rec,
      needed: rec.needed.map((n) => (n.name === u.soname && !n.real ? { name: n.name, path, real, via } : n)),
    });
  st.warnings.push(
    `${u.soname} needed by ${u.neededBy} is not on the loader's search path; it resolves to ${path}, whose SONAME it is, when that library is loaded first (ld.so reuses a loaded object with a matching SONAME): true when the program dlopen()s it by path`,
  );
}

/** runInference applies the inference rules to every object of the program until nothing new comes in. */
async function runInference(st: State, pg: Program): Promise<void> {
  const on = (k: keyof InferOptions) => st.opts.infer?.[k] !== false;
  const done = new Set<string>();
  const nssDbs = new Set<string>();
  let gconvDone = false;
  let gccDone = false;
  let schemasDone = false;
  let caDone = false;
  const dataDone = new Set<string>();
  const moduleDirs = new Set<string>();
  const dirsSeen = new Set<string>();
  const shareSeen = new Set<string>();
  let zoneDbDone = false;
  const inModuleDir = (path: string) => [...moduleDirs].some((d) => path.startsWith(`${d}/`));
  let localeDone = false;
  let tzDone = false;
  for (let round = 0; round < 64; round++) {
    const fresh = [...pg.byReal.values()].filter((o) => !done.has(o.real));
    if (fresh.length === 0) return;
    for (const o of fresh) done.add(o.real);
    const libc = pg.byName.get('libc.so.6')?.obj ?? pg.interp ?? pg.env.main;

    if (on('nss')) {
      const imp = importers(fresh, (s) => NSS_SYMBOLS.has(s));
      const dbs = new Set(
        imp.flatMap((i) => i.obj.info.importedSymbols.flatMap((s) => NSS_SYMBOLS.get(s) ?? [])),
      );
      const newDbs = [...dbs].filter((d) => !nssDbs.has(d)).sort();
      if (newDbs.length > 0) {
        for (const d of newDbs) nssDbs.add(d);
        const { obj, sym } = imp[0]!;
        const confText = await readTextCached(st.cache, '/etc/nsswitch.conf');
        const reason = `${importVerb(obj)} ${sym}: name service switch (${newDbs.join(', ')})`;
        if (confText !== undefined)
          await addRootFile(st, '/etc/nsswitch.conf', { kind: 'inferred', by: obj.real, reason });
        const conf = confText === undefined ? undefined : await nsswitchCached(st.cache, confText);
        // the tables the files service reads (musl reads them directly)
        for (const d of newDbs) {
          const table = Object.hasOwn(NSS_FILES_DATA, d) ? NSS_FILES_DATA[d] : undefined;
          if (table !== undefined)
            await addRootFile(st, table, {
              kind: 'inferred',
              by: obj.real,
              reason: `${reason}: the ${d} table`,
            });
        }
        if (pg.env.flavor === 'glibc') {
          for (const svc of nssServices(conf, newDbs)) {
            // static glibc has files and dns built in (no dlopen, no libc.so.6 for them)
            if (obj.staticEvidence && (svc === 'files' || svc === 'dns')) continue;
            await loadInferred(
              st,
              pg,
              `libnss_${svc}.so.2`,
              libc,
              obj.real,
              `${reason}: NSS module "${svc}"`,
            );
          }
        }
      }
    }
    // a Go program resolves port names itself (package net reads /etc/services, not through NSS)
    if (on('nss') && !nssDbs.has('services')) {
      const go = fresh.find((o) => o.info.goBuildId !== undefined);
      if (go && (await bytesFound(st.cache, go.real, ['/etc/services'])).size > 0) {
        nssDbs.add('services');
        await addRootFile(st, NSS_FILES_DATA.services!, {
          kind: 'inferred',
          by: go.real,
          reason: 'a Go program: package net reads /etc/services for port names',
        });
      }
    }
    if (on('gconv') && !gconvDone && pg.env.flavor === 'glibc') {
      const imp = importers(fresh, (s) => GCONV_SYMBOLS.has(s)).filter(
        (i) => !(LIBSTDCXX.test(i.obj.info.soname ?? '') && utf8Locales(st.opts.locales ?? [])),
      );
      if (imp.length > 0) {
        gconvDone = true;
        const { obj, sym } = imp[0]!;
        const dir = await gconvDir(st, pg, pg.byName.get('libc.so.6')?.obj);
        if (dir) {
          const reason = `${importVerb(obj)} ${sym}: gconv modules (all of them: the charsets are chosen at run time)`;
          const origin: Origin = { kind: 'inferred', by: obj.real, reason };
          const plan = await gconvPlan(st, dir);
          const loads = await gconvLoads(st, pg, dir, plan);
          if (loads && canReplay(pg, loads)) {
            const drained = await gconvDrain(st, pg, loads, libc);
            const from = pg.queue.length;
            replayGconv(st, pg, loads, libc, origin);
            const modules = pg.queue.slice(from);
            if (drained && modules.length > 0) pg.groups.set(modules[0]!, { modules, drain: drained });
            // inert modules give the rules nothing: the next round need not look at them
            if (loads.inert) for (const m of modules) done.add(m.real);
          } else {
            await addResolved(st, plan.dir, origin);
            for (const e of plan.entries) {
              if (e.kind === 'file') await addResolved(st, e.resolved, origin);
              else if (e.kind === 'rootFile') {
                if (e.resolved.stat) await addResolved(st, e.resolved, origin);
              } else {
                const found = e.plain
                  ? await loadInferredPath(st, pg, e.path, libc, obj.real, reason)
                  : await loadInferred(st, pg, e.path, libc, obj.real, reason);
                if (!found) await addResolved(st, e.resolved, origin);
              }
            }
          }
        } else {
          st.warnings.push(
            `${obj.real} ${importVerb(obj)} ${sym} but the root has no gconv directory with gconv-modules`,
          );
        }
      }
    }
    if (on('libgcc') && !gccDone && pg.env.flavor === 'glibc') {
      const imp = importers(fresh, (s) => LIBGCC_SYMBOLS.has(s));
      if (imp.length > 0) {
        gccDone = true;
        const { obj, sym } = imp[0]!;
        const ok = await loadInferred(
          st,
          pg,
          'libgcc_s.so.1',
          libc,
          obj.real,
          `imports ${sym}: glibc loads libgcc_s.so.1 to unwind the stack`,
        );
        if (!ok) st.warnings.push(`${obj.real} imports ${sym} but libgcc_s.so.1 is not in the root`);
      }
    }
    // GLib's GSettings aborts without compiled schemas ("No schemas installed")
    if (on('libraryData') && !schemasDone) {
      const imp = importers(fresh, (s) => GSETTINGS_SYMBOLS.has(s));
      if (imp.length > 0) {
        schemasDone = true;
        const { obj, sym } = imp[0]!;
        const origin: Origin = {
          kind: 'inferred',
          by: obj.real,
          reason: `${importVerb(obj)} ${sym}: GLib's GSettings reads the compiled schemas of its data directories`,
        };
        let any = false;
        for (const p of GSETTINGS_SCHEMAS) if (await addRootFile(st, p, origin)) any = true;
        if (!any) {
          st.warnings.push(
            `${obj.real} ${importVerb(obj)} ${sym} but the root has no compiled GSettings schemas (${GSETTINGS_SCHEMAS.join(', ')}): it will stop with "No schemas installed"`,
          );
        }
      }
    }
    if (on('libraryData'))
      for (const o of fresh)
        for (const rule of LIBRARY_DATA) {
          const lib = o.info.soname ?? baseName(o.path);
          if (!rule.soname.test(lib) || dataDone.has(o.real)) continue;
          dataDone.add(o.real);
          const origin: Origin = { kind: 'inferred', by: o.real, reason: `${lib}: ${rule.reason}` };
          const files = await libraryDataFiles(st.cache, o.real, rule);
          let any = false;
          for (const p of files) {
            if (!rule.tree) {
              if (await addRootFile(st, p, origin)) any = true;
              continue;
            }
            // a directory of entries looked up by name: whole when small, else the common names
            const w = await walkTree(st.cache, p, { max: rule.tree.max });
            const entries = w.truncated
              ? rule.tree.common.map((n) => `${p}/${n[0]}/${n}`)
              : w.entries.map((e) => e.path);
            for (const e of entries) if (await addRootFile(st, e, origin)) any = true;
          }
          if (!any && files.length > 0)
            st.warnings.push(`${lib} is in the closure but the root has none of ${files.join(', ')}`);
        }
    if (on('fonts'))
      for (const o of fresh) {
        if (!FONTCONFIG_LIBRARY.test(o.info.soname ?? baseName(o.path)) || dataDone.has(o.real)) continue;
        dataDone.add(o.real);
        await addFontconfig(st, o);
      }
    // OpenSSL 3 loads its providers (legacy.so: RC4, DES, Blowfish …) by dlopen from the MODULESDIR
    // compiled into libcrypto, when a program or a config asks for them (cryptography always does)
    if (on('libraryData'))
      for (const o of fresh) {
        const lib = o.info.soname ?? baseName(o.path);
        if (!/^libcrypto\.so\.3(\.|$)/.test(lib) || dataDone.has(`providers\0${o.real}`)) continue;
        dataDone.add(`providers\0${o.real}`);
        for (const dir of await cStrings(st.cache, o.real, /^\/[!-~]*\/ossl-modules$/)) {
          for (const n of [...((await listDir(st.cache, dir)) ?? [])].sort()) {
            if (!n.endsWith('.so') || n === 'fips.so') continue;
            await loadInferredPath(
              st,
              pg,
              `${dir}/${n}`,
              o,
              o.real,
              `${lib} loads its provider ${n} from its MODULESDIR by dlopen`,
            );
          }
          break;
        }
      }
    // libraries that dlopen their modules from a directory compiled into them (ImageMagick's coders,
    // Graphviz's plugins, Cyrus SASL's mechanisms, SoX's formats: module-dirs.ts): the directory, whole;
    // with the rule off, a warning names what the image will lack (a build-time word, not a failed run)
    for (const o of fresh) {
      // programs too (php's extension_dir, postgres's pkglibdir); a module is not looked into again
      // (gconv's ~250 modules are the gconv rule's: none loads modules of its own)
      if (o.real.includes('/gconv/') || inModuleDir(o.real)) continue;
      if (dataDone.has(`modules\0${o.real}`)) continue;
      dataDone.add(`modules\0${o.real}`);
      let strings = await prefixedCStrings(
        st.cache,
        o.real,
        [...MODULE_PREFIXES, SHARE_PREFIX, RELATIVE_SHARE_PREFIX],
        OBJECT_PATHS,
        MAX_MODULE_LIBRARY_BYTES,
      );
      // a program too large to read for every path (pandoc: 164 MiB of Haskell) is read for its own data
      // directory when the root has one by its name (/usr/share/pandoc: without it pandoc stops with
      // "Could not find data file /usr/share/pandoc/data/abbreviations")
      const own = `${SHARE_PREFIX}${baseName(o.real)}`;
      if (
        strings === undefined &&
        on('shareData') &&
        o.loader === undefined &&
        (await listDir(st.cache, own))
      )
        strings = await prefixedCStrings(st.cache, o.real, [own], SHARE_STRING, Number.MAX_SAFE_INTEGER);
      strings ??= [];
      // a program reading zones by the names its configuration gives (php's date.timezone, postgres's
      // TimeZone) from the database it names: the database (libc's tzset is the zoneinfo rule's)
      if (
        on('zoneinfo') &&
        !zoneDbDone &&
        !/^libc\.(so|musl)/.test(o.info.soname ?? baseName(o.path)) &&
        strings.some((x) => x === ZONEINFO_DIR || x.startsWith(`${ZONEINFO_DIR}/`))
      ) {
        zoneDbDone = true;
        await addZoneinfo(
          st,
          o.real,
          `${objectName(o)} reads time zones by name from ${ZONEINFO_DIR} (compiled into it)`,
        );
      }
      // its data under /usr/share (vim's runtime, nmap's scripts, squid's error pages): whole
      // (a program's own directory by its name too, where the shared ones are left out for libraries
      // naming them: gdb's /usr/share/gdb holds its Python module)
      const ownDir = OWN_SHARE_DATA.test(own) ? own : OWN_SHARE_DATA_OF.get(baseName(o.real));
      const ownData =
        o.loader === undefined &&
        ownDir !== undefined &&
        strings.some((x) => x === ownDir || x.startsWith(`${ownDir}/`))
          ? [ownDir]
          : [];
      // a program at PREFIX/bin naming `/share/X` relative to its prefix: PREFIX/share/X (cmake)
      const bin = parentPath(o.real);
      const relative =
        o.loader === undefined && baseName(bin) === 'bin'
          ? shareDataCandidates(
              strings
                .filter((x) => RELATIVE_SHARE.test(x))
                .map((x) => `${parentPath(bin) === '/' ? '' : parentPath(bin)}${x}`),
            )
          : [];
      if (on('shareData'))
        for (const p of [...shareDataCandidates(strings), ...ownData, ...relative]) {
          if (shareSeen.has(p)) continue;
          shareSeen.add(p);
          await addShareData(st, p, o);
        }
      for (const dir of moduleDirCandidates(strings, defaultDirs(pg.env.target))) {
        if (dirsSeen.has(dir) || inModuleDir(dir)) continue;
        dirsSeen.add(dir);
        if (!(await addModuleDir(st, pg, dir, o, on('modules')))) continue;
        moduleDirs.add(dir);
        // a library that hosts modules: its own configuration directory under /etc too
        if (on('modules') && !dataDone.has(`config\0${o.real}`)) {
          dataDone.add(`config\0${o.real}`);
          await libraryConfig(st, o);
        }
      }
    }
    if (on('caCerts') && !caDone) {
      // a Go program verifies peers with its own crypto/x509, which reads the bundle at a path written
      // into the program (no TLS library in its closure): the bundle comes when the program names one
      for (const o of fresh) {
        if (caDone || o.info.goBuildId === undefined) continue;
        const found = await bytesFound(st.cache, o.real, CA_BUNDLES);
        if (found.size === 0) continue;
        caDone = true;
        const reason = `a Go program: crypto/x509 reads the CA bundle at ${[...found][0]} to verify peers`;
        let any = false;
        for (const p of CA_BUNDLES)
          if (await addRootFile(st, p, { kind: 'inferred', by: o.real, reason })) any = true;
        if (!any)
          st.warnings.push(
            `${o.real} is a Go program that verifies TLS peers, but the root has no CA bundle at ${CA_BUNDLES.join(', ')}`,
          );
      }
    }
    if (on('caCerts') && !caDone) {
      const tls = fresh.find((o) => TLS_LIBRARY.test(o.info.soname ?? baseName(o.path)));
      if (tls) {
        caDone = true;
        const lib = tls.info.soname ?? baseName(tls.path);
        const reason = `${lib} is a TLS library: CA certificates to verify peers`;
        let any = false;
        for (const p of CA_BUNDLES)
          if (await addRootFile(st, p, { kind: 'inferred', by: tls.real, reason })) any = true;
        if (!any)
          st.warnings.push(
            `${lib} is in the closure but the root has no CA bundle at ${CA_BUNDLES.join(', ')}`,
          );
        if (/^libnss3\.so/.test(lib))
          await loadInferred(
            st,
            pg,
            'libnssckbi.so',
            tls,
            tls.real,
            'libnss3 loads its built-in root certificates module',
          );
      }
    }
    if (round === 0 && on('launchers') && !st.traced) await launcherRules(st, pg);
    if (round === 0 && on('programFiles') && !st.traced) await programFilesRule(st, pg);
    if (round === 0 && on('locales') && !st.traced) await compiledLocalesRule(st, pg);
    if (round === 0 && on('programFiles') && !st.traced) await shellTemplatesRule(st, pg);
    if (on('locales') && !localeDone && (st.opts.locales?.length ?? 0) > 0) {
      const imp = importers(fresh, (s) => LOCALE_SYMBOLS.has(s));
      if (imp.length > 0) {
        localeDone = true;
        await addLocales(st, imp[0]!.obj.real, imp[0]!.sym);
      }
    }
    const tz = st.opts.timezone;
    if (on('zoneinfo') && !tzDone && tz) {
      // glibc's tzset, or Go's time package (which reads TZ and the same directory itself)
      const imp = importers(fresh, (s) => TZ_SYMBOLS.has(s));
      const go = fresh.find((o) => o.info.goBuildId !== undefined);
      const by = imp[0]?.obj.real ?? go?.real;
      if (by !== undefined) {
        tzDone = true;
        const reason = `${imp[0] ? `imports ${imp[0].sym}` : "a Go program: package time reads TZ's zone"}: the time zone file TZ=${tz.value} names`;
        // only a zone file (TZif): TZ may name any path, and glibc reads nothing else as a zone
        const r = await resolveOrMissing(st.cache, tz.file);
        const head =
          r.stat?.type === 'file'
            ? await st.fs.read(r.path, { length: 4 }).catch(() => undefined)
            : undefined;
        if (head !== undefined && Buffer.from(head).toString('latin1') !== 'TZif') {
          st.warnings.push(
            `TZ=${tz.value} names ${tz.file}, which is not a time zone file (no TZif header): left out; ${by} will give UTC times`,
          );
        } else if (!(await addRootFile(st, tz.file, { kind: 'inferred', by, reason })) && !tz.rule)
          st.warnings.push(
            `TZ=${tz.value} names ${tz.file}, which is not in root ${st.fs.name}: ${by} will give UTC times without an error; install the zone (apt-get install tzdata) or set TZ to a zone the root has`,
          );
      }
    }
    if (on('dlopenNotes')) {
      for (const o of fresh) {
        for (const note of o.info.dlopen) {
          const prio = note.priority ?? 'recommended';
          if (prio !== 'required' && prio !== 'recommended') continue;
          const reason = `.note.dlopen${note.feature ? ` feature "${note.feature}"` : ''} (${prio})`;
          let ok = false;
          for (const s of note.soname) {
            if (await loadInferred(st, pg, s, o, o.real, `${reason}: ${s}`)) {
              ok = true;
              break;
            }
          }
          if (!ok && prio === 'required')
            st.warnings.push(
              `${o.real}: dlopen note (required) ${note.soname.join(' | ')} not found in the root`,
            );
        }
      }
    }
    await drain(st, pg);
  }
}

/**
 * withStaticImports gives a static or static-pie glibc program the imports its NSS and gconv use
 * amounts to (closure/static-glibc.ts), so that the inference rules bring what glibc dlopens.
 */
async function withStaticImports(st: State, main: LoadedObject): Promise<LoadedObject> {
  const on = (k: keyof InferOptions) => st.opts.infer?.[k] !== false;
  const size = (await st.cache.view.lstat(main.real))?.size ?? 0;
  const s = await staticGlibcImports(st.cache.view, main, size, { nss: on('nss'), gconv: on('gconv') });
  if (!s) return main;
  const importedSymbols = [...new Set([...main.info.importedSymbols, ...s.symbols])].sort();
  return { ...main, info: { ...main.info, importedSymbols }, staticEvidence: s.evidence };
}

/** importVerb is how an object's use of a symbol is told in inference reasons. */
function importVerb(o: LoadedObject): string {
  return o.staticEvidence ?? 'imports';
}

/** loadElfProgram computes the closure of one ELF program (or shared object given as a root). */
async function loadElfProgram(st: State, path: string, real: string): Promise<void> {
  const info = await readElfOrThrow(st, real, 'program');
  if (info.type !== 'exec' && info.type !== 'dyn') {
    throw new FromscratchError(
      'NOT_EXECUTABLE',
      `${path} is an ELF ${info.type} file, not a program or shared library`,
      {
        hint: 'give a linked executable or shared object',
      },
    );
  }
  const target = targetOf(info);
  let main: LoadedObject = { path: real, real, info, origin: parentPath(real) };
  if (info.interpreter === undefined && info.needed.length === 0) main = await withStaticImports(st, main);
  let interp: LoadedObject | undefined;
  let flavor: 'glibc' | 'musl' = 'glibc';
  if (info.interpreter !== undefined) {
    const ipath = normalizeImagePath(
      info.interpreter.startsWith('/') ? info.interpreter : `/${info.interpreter}`,
    );
    flavor = muslArch(ipath) ? 'musl' : 'glibc';
    const r = await resolveOrMissing(st.cache, ipath);
    const h = r.stat?.type === 'file' ? await readHeader(st.cache, r.path) : undefined;
    const ok =
      h !== undefined &&
      h.class === target.class &&
      h.machine === target.machine &&
      h.endian === target.endian;
    if (!ok) {
      const rootH = await probeRootMachine(st.cache);
      if (h)
        throw archMismatch(
          path,
          target,
          st.fs,
          `its interpreter ${ipath} is ${machineName(h.machine, h.class)} (${h.class}-bit)`,
        );
      if (!rootH || rootH.machine !== target.machine || rootH.class !== target.class) {
        const rootDesc = rootH
          ? `the root's programs are ${machineName(rootH.machine, rootH.class)} (${rootH.class}-bit)`
          : 'the root has no programs to compare with';
        throw archMismatch(path, target, st.fs, `its interpreter ${ipath} is missing and ${rootDesc}`);
      }
      const u: Unresolved = { soname: ipath, neededBy: real, searched: [ipath] };
      if (st.opts.strict !== false) {
        throw new FromscratchError(
          'LIBRARY_NOT_FOUND',
          `program interpreter ${ipath} of ${real} not found in root ${st.fs.name}`,
          {
            hint: 'install the C library (libc6, musl) in the root, or resolve inside another root with --sysroot DIR',
          },
        );
      }
      st.unresolved.push(u);
    } else {
      await addResolved(st, r, { kind: 'interpreter', by: real });
      const iinfo = await readElfOrThrow(st, r.path, 'program interpreter');
      interp = { path: ipath, real: r.path, info: iinfo, origin: parentPath(ipath) };
    }
  }
  st.roots.push({
    path,
    real,
    kind:
      info.interpreter !== undefined
        ? 'dynamic'
        : info.type === 'dyn' && info.needed.length > 0
          ? 'library'
          : info.isStatic
            ? 'static'
            : info.type === 'dyn'
              ? 'library'
              : 'static',
    ...(info.interpreter !== undefined ? { interpreter: info.interpreter, loader: flavor } : {}),
    machine: target.name,
  });
  const env: SearchEnv = {
    cache: st.cache,
    target,
    flavor,
    lib: await libToken(st.cache, target),
    libraryPath: st.opts.libraryPath ?? [],
    main,
    ...(interp ? { interpreter: interp.path } : {}),
    warnings: st.warnings,
  };
  const pg: Program = {
    env,
    byReal: new Map([[real, main]]),
    byName: new Map(),
    queue: [main],
    inferred: new Set(),
    variants: new Map(),
    groups: new Map(),
    rootName: path,
    ...(interp ? { interp } : {}),
  };
  if (interp) {
    // ld.so maps itself first, under its PT_INTERP name and its soname: libc's DT_NEEDED on
    // ld-linux-x86-64.so.2 is this object.
    pg.byReal.set(interp.real, interp);
    pg.byName.set(interp.path, { obj: interp, via: 'interpreter' });
    if (interp.info.soname) pg.byName.set(interp.info.soname, { obj: interp, via: 'interpreter' });
    pg.queue.push(interp);
  }
  const before = st.unresolved.length;
  await drain(st, pg);
  await runInference(st, pg);
  // a library given as a root is loaded by a dlopen of its host, after the host's own objects
  const dlopened = info.interpreter === undefined && info.type === 'dyn';
  for (const u of st.unresolved.slice(before)) if (dlopened || u.inferred) st.dlopenNeeds.add(u);
  bindLoadedSonames(st, pg, before);
}

async function lookPath(st: State, name: string): Promise<{ found?: string; searched: string[] }> {
  const searched: string[] = [];
  for (const d of (st.opts.path ?? DEFAULT_PATH.split(':')).flatMap((x) => x.split(':'))) {
    if (!d.startsWith('/')) continue;
    const p = normalizeImagePath(`${d}/${name}`);
    searched.push(normalizeImagePath(d));
    const r = await resolveOrMissing(st.cache, p);
    if (r.stat?.type === 'file' && (r.stat.mode & 0o111) !== 0) return { found: p, searched };
  }
  return { searched };
}

/** addProgram adds a program (ELF or script) with its closure. */
async function addProgram(st: State, path: string, origin: Origin, depth: number): Promise<void> {
  if (depth > MAX_SCRIPT_DEPTH) {
    throw new FromscratchError(
      'NOT_EXECUTABLE',
      `${path}: more than ${MAX_SCRIPT_DEPTH} levels of #! interpreters`,
      { hint: 'a script interpreter loop?' },
    );
  }
  const p = normalizeImagePath(path);
  const r = await cachedResolve(st.cache, p); // a root that loops is an error (PATH_ESCAPE)
  if (!r.stat) throw notFound(p, st.fs);
  if (r.stat.type !== 'file') {
    throw new FromscratchError(
      'NOT_EXECUTABLE',
      `${p} is a ${r.stat.type === 'dir' ? 'directory' : r.stat.type}, not a program`,
      {
        hint: 'give an ELF program or a #! script (use --add for directories)',
      },
    );
  }
  await addResolved(st, r, origin);
  if (st.roots.some((x) => x.real === r.path) && depth > 0) return; // interpreter already resolved
  const head = await st.cache.view.read(r.path, { offset: 0, length: SHEBANG_BYTES });
  if (
    probeElfHeader(head) ||
    (head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46)
  ) {
    await loadElfProgram(st, p, r.path);
    return;
  }
  if (!isShebang(head)) {
    throw new FromscratchError('NOT_EXECUTABLE', `${p} is neither an ELF program nor a #! script`, {
      hint: 'give a compiled program or a script starting with #!/path/to/interpreter; plain data files go in with --add',
    });
  }
  const sb = parseShebang(head, p);
  const interp = normalizeImagePath(sb.interpreter.startsWith('/') ? sb.interpreter : `/${sb.interpreter}`);
  const ir = await resolveOrMissing(st.cache, interp);
  const cmd = baseName(interp) === 'env' ? envCommand(sb.arg) : undefined;
  const root: ClosureRoot = { path: p, real: r.path, kind: 'script', interpreter: sb.interpreter };
  if (!ir.stat) {
    const u: Unresolved = { soname: interp, neededBy: r.path, searched: [interp] };
    if (st.opts.strict !== false) {
      throw new FromscratchError(
        'FILE_NOT_FOUND',
        `interpreter ${interp} of script ${p} (#!${sb.line}) not found in root ${st.fs.name}`,
        {
          hint: 'install the interpreter in the root, or fix the #! line',
        },
      );
    }
    st.unresolved.push(u);
    st.roots.push(root);
    return;
  }
  const shebang: Origin = { kind: 'shebang', by: r.path, line: `#!${sb.line}` };
  await addProgram(st, interp, shebang, depth + 1);
  // a shell script: the programs it runs (shell-script.ts), unless a trace saw what it ran
  const shell = cmd === undefined ? baseName(interp) : baseName(cmd);
  if (SHELLS.has(shell) && st.opts.infer?.launchers !== false && !st.traced)
    await addScriptCommands(st, r.path, depth);
  // a Node.js script of a package (npm's bin/npm-cli.js): the package, for what it requires
  if (NODE_PROGRAM.test(shell) && st.opts.infer?.launchers !== false && !st.traced)
    await addNodePackage(st, r.path, depth);
  if (cmd === undefined) {
    st.roots.push(root);
    // a Perl script: the modules it loads from outside perl's standard library
    if (PERL_PROGRAM.test(baseName(interp)) && ir.stat.type === 'file') {
      await addPerlModules(st, r.path, ir.path, baseName(p));
      await addScriptRuns(st, r.path, perlCommands, 'Perl script', depth);
    }
    // a Ruby gem's executable stub (RubyGems' `load Gem.activate_bin_path('rake', 'rake', version)`)
    if (RUBY_PROGRAM.test(baseName(interp)) && st.opts.infer?.interpreters !== false && !st.traced) {
      await addRubyGems(st, r.path);
      await addRubyRequires(st, r.path, ir.path);
    }
    if (RUBY_PROGRAM.test(baseName(interp)))
      await addScriptRuns(st, r.path, rubyCommands, 'Ruby script', depth);
    return;
  }
  let target: string | undefined;
  let searched: string[] = [];
  if (cmd.includes('/')) {
    target = normalizeImagePath(cmd.startsWith('/') ? cmd : `/${cmd}`);
    if (!(await resolveOrMissing(st.cache, target)).stat) target = undefined;
    searched = [cmd];
  } else {
    const lp = await lookPath(st, cmd);
    target = lp.found;
    searched = lp.searched;
  }
  if (target === undefined) {
    if (st.opts.strict !== false) {
      throw new FromscratchError(
        'FILE_NOT_FOUND',
        `"${cmd}" run by script ${p} (#!${sb.line}) not found on PATH ${searched.join(':')} in root ${st.fs.name}`,
        {
          hint: `install ${cmd} in the root, or set the image's PATH (--env PATH=...) to the directory that has it`,
        },
      );
    }
    st.unresolved.push({ soname: cmd, neededBy: r.path, searched });
    st.roots.push(root);
    return;
  }
  st.roots.push({ ...root, command: target });
  await addProgram(st, target, shebang, depth + 1);
  if (PERL_PROGRAM.test(baseName(target))) {
    const perl = await resolveOrMissing(st.cache, target);
    if (perl.stat?.type === 'file') await addPerlModules(st, r.path, perl.path);
    await addScriptRuns(st, r.path, perlCommands, 'Perl script', depth);
  }
  if (RUBY_PROGRAM.test(baseName(target))) {
    if (st.opts.infer?.interpreters !== false && !st.traced)
      await addRubyRequires(st, r.path, (await resolveOrMissing(st.cache, target)).path);
    await addScriptRuns(st, r.path, rubyCommands, 'Ruby script', depth);
  }
}

/**
 * addRubyRequires adds what a Ruby script requires outside the standard library (launcher.ts
 * rubyLibrariesPlan), through the runtime the launcher rule found for its interpreter `ruby` (a real path).
 */
async function addRubyRequires(st: State, script: string, ruby: string): Promise<void> {
  const rt = st.rubyRuntimes.get(ruby);
  const text = rt && (await readTextCached(st.cache, script, 1024 * 1024));
  if (rt && text !== undefined) await rt.apply(rubyRequires(text));
}

/**
 * addScriptRuns adds the programs a Perl or Ruby script runs by a literal name, as `read` finds them
 * (perl-modules.ts perlCommands: helpztags's `open(GZ, '-|', 'zcat', $file)`; launcher.ts
 * rubyCommands: backquotes, `system`, `IO.popen`).
 */
async function addScriptRuns(
  st: State,
  script: string,
  read: (text: string) => string[],
  what: string,
  depth: number,
): Promise<void> {
  if (st.opts.infer?.launchers === false || st.traced) return;
  const text = await readTextCached(st.cache, script, 1024 * 1024);
  if (text !== undefined) await addCommandsRun(st, script, read(text), what, depth);
}

/** PERL_PROGRAM matches the names of perl interpreters (`perl`, `perl5.36.0`). */
const PERL_PROGRAM = /^perl(\d[\d.]*)?$/;

/**
 * addPerlModules adds the modules a Perl script loads (perl-modules.ts) that perl's standard library
 * does not hold: found on the script's @INC (its `use lib` directories, then perl's compiled-in ones),
 * each module read in turn for what it loads, its compiled part (`auto/…/X.so`) loaded as a library,
 * to MAX_PERL_MODULES. A module the root lacks is left: the script may load it in an `eval`.
 */
async function addPerlModules(st: State, script: string, perl: string, invoked?: string): Promise<void> {
  if (st.opts.infer?.interpreters === false || st.traced) return;
  const inc = await perlInc(st.cache, perl);
  const std = new Set(inc.std);
  const queue: { file: string; libs: readonly string[] }[] = [{ file: script, libs: [] }];
  const seen = new Set<string>();
  /** the version roots the script and its modules name (`$binroot = "/usr/lib/postgresql/"`) */
  const roots = new Set<string>();
  let count = 0;
  while (queue.length > 0 && count < MAX_PERL_MODULES) {
    const { file, libs } = queue.shift()!;
    const text = await readTextCached(st.cache, file, 1024 * 1024);
    if (text === undefined) continue;
    for (const m of text.matchAll(VERSION_ROOT)) roots.add(m[1]!);
    const uses = perlUses(text);
    const dirs = [...new Set([...uses.libs, ...libs, ...inc.all])];
    for (const m of uses.modules) {
      if (seen.has(m) || count >= MAX_PERL_MODULES) continue;
      seen.add(m);
      const rel = modulePath(m);
      for (const d of dirs) {
        const r = await resolveOrMissing(st.cache, `${d}/${rel}`);
        if (r.stat?.type !== 'file') continue;
        // the standard library comes whole with the interpreters rule
        if (std.has(d)) break;
        count++;
        const reason = `the Perl script ${script} uses ${m}, found in ${d}`;
        await addResolved(st, r, { kind: 'inferred', by: script, reason });
        queue.push({ file: r.path, libs: uses.libs });
        const xs = await resolveOrMissing(st.cache, `${d}/${xsPath(m)}`);
        // its compiled part: a shared object with the libraries it needs (perl loads it by path)
        if (xs.stat?.type === 'file')
          await addProgram(
            st,
            xs.path,
            { kind: 'inferred', by: script, reason: `${reason}: its compiled part` },
            1,
          ).catch((e: unknown) => {
            if (!isFromscratchError(e)) throw e;
            st.warnings.push(
              `${xs.path} (${m}'s compiled part, for ${script}) could not be added: ${(e as Error).message}`,
            );
          });
        break;
      }
    }
  }
  // a wrapper run under another program's name (Debian's pg_wrapper as psql, pg_dump …): the program
  // of that name in each version of the root it names (/usr/lib/postgresql/15/bin/psql)
  if (invoked === undefined || invoked === baseName(script)) return;
  for (const root of [...roots].sort())
    for (const v of [...((await listDir(st.cache, root)) ?? [])].sort()) {
      const p = `${root}/${v}/bin/${invoked}`;
      const r = await resolveOrMissing(st.cache, p);
      if (r.stat?.type !== 'file' || (r.stat.mode & 0o111) === 0) continue;
      await addProgram(
        st,
        p,
        {
          kind: 'inferred',
          by: script,
          reason: `the Perl script ${script}, run as ${invoked}, runs the ${invoked} of each version under ${root}`,
        },
        1,
      ).catch((e: unknown) => {
        if (!isFromscratchError(e)) throw e;
      });
    }
}

/** VERSION_ROOT is a directory string of a Perl text under which versions of programs live (`"/usr/lib/postgresql/"`: VERSION/bin/NAME). */
const VERSION_ROOT = /["'](\/usr\/(?:lib|libexec)\/[A-Za-z0-9._+-]+)\/["']/g;

/**
 * locatesItself tells whether a script finds its own directory: it names `$0` or BASH_SOURCE, and
 * dirname, readlink, realpath, `%/*` or `ls -ld` (two linear tests: a script is untrusted text).
 */
function locatesItself(text: string): boolean {
  return /\$\{?0\b|BASH_SOURCE/.test(text) && /dirname|readlink|realpath|%\/\*|ls -ld/.test(text);
}
/** NOT_APP_HOME are the prefixes whose bin/ holds the system's programs, not one application's. */
const NOT_APP_HOME = new Set(['', '/', '/usr', '/usr/local', '/opt', '/snap', '/var', '/etc']);
/** APP_HOME_SKIP are the directories of an application's home that nothing runs from: its manuals, documentation, sources. */
const APP_HOME_SKIP = /^(man|doc|docs|javadoc|api-docs|examples|samples|src|licenses?)$/;
/** MAX_APP_HOME_BYTES bounds an application's home shipped whole (a Java application with its jars). */
const MAX_APP_HOME_BYTES = 512 * 1024 * 1024;

/**
 * addAppHome ships the home of an application whose launcher script lives in HOME/bin and finds HOME
 * from its own path (maven's mvn: MAVEN_HOME/boot, conf and lib/*.jar, links into /usr/share/java
 * followed; a tarball in /opt: kafka's bin/kafka-server-start.sh, tomcat's catalina.sh): HOME whole,
 * within MAX_TREE_ENTRIES and MAX_APP_HOME_BYTES (else a warning), its manuals and sources left out;
 * the programs in HOME/bin each with its closure.
 */
async function addAppHome(st: State, script: string, text: string, depth: number): Promise<void> {
  const bin = parentPath(script);
  const home = parentPath(bin);
  if (baseName(bin) !== 'bin' || NOT_APP_HOME.has(home) || !locatesItself(text)) return;
  // a runtime whose own rule chooses what of its root ships (Erlang/OTP's erl)
  if ((await otpRoot(st.cache, script)) !== undefined) return;
  const { w, over } = await boundedTree(st, home, MAX_APP_HOME_BYTES, {
    skip: (p) => parentPath(p) === home && APP_HOME_SKIP.test(baseName(p)),
  });
  if (over !== undefined) {
    st.warnings.push(
      `${script} finds its home ${home} from its own path, which holds ${over} for a home shipped whole: it is left out; add it with --add ${home}:${home}`,
    );
    return;
  }
  const origin: Origin = {
    kind: 'inferred',
    by: script,
    reason: `${script} finds its home ${home} from its own path: the application's files`,
  };
  for (const e of w.entries) {
    if (e.kind === 'file' && parentPath(e.path) === bin && e.path !== script) {
      const r = await resolveOrMissing(st.cache, e.path);
      if (r.stat?.type === 'file' && (r.stat.mode & 0o111) !== 0) {
        try {
          await addProgram(st, e.path, origin, depth + 1);
          continue;
        } catch (err) {
          // neither ELF nor #! (a Windows .cmd beside the scripts): a file as it is
          if (!isFromscratchError(err)) throw err;
        }
      }
    }
    await addRootFile(st, e.path, origin);
  }
}

/** RUBY_PROGRAM matches the names of Ruby's interpreter. */
const RUBY_PROGRAM = /^ruby(\d[\d.]*)?$/;
/** GEM_ACTIVATION is a gem a Ruby script activates: `Gem.activate_bin_path('rake', 'rake', version)`, `gem "rake"`. */
const GEM_ACTIVATION =
  /(?:\bGem\.(?:activate_bin_path|bin_path)\([ \t]{0,16}|^[ \t]*gem[ \t]+|^[ \t]*gem\([ \t]{0,16})['"]([A-Za-z0-9][\w.-]{0,128})['"]/gm;
/**
 * addRubyGems ships what RubyGems needs to activate the gems a Ruby script names (a gem's executable
 * stub: `load Gem.activate_bin_path('rake', 'rake', version)`; without it `can't find gem rake`): the
 * specifications of the installed gems (RubyGems reads them all to choose one; `default/` holds those of
 * the standard library's gems, irb's and erb's), and each named gem's directory (`gems/NAME-VERSION`,
 * with its executable and library).
 */
async function addRubyGems(st: State, script: string): Promise<void> {
  const text = await readTextCached(st.cache, script, 256 * 1024);
  const names = new Set([...(text ?? '').matchAll(GEM_ACTIVATION)].map((m) => m[1]!));
  if (names.size === 0) return;
  const homes = await gemHomes(st.cache);
  const origin = (why: string): Origin => ({
    kind: 'inferred',
    by: script,
    reason: `the Ruby script ${script} activates the gem${names.size > 1 ? 's' : ''} ${[...names].join(', ')}: ${why}`,
  });
  for (const home of homes) {
    const w = await walkTree(st.cache, `${home}/specifications`);
    for (const e of w.entries)
      if (e.kind === 'dir' || e.path.endsWith('.gemspec'))
        await addRootFile(st, e.path, origin("RubyGems reads the installed gems' specifications"));
    for (const g of [...((await listDir(st.cache, `${home}/gems`)) ?? [])].sort()) {
      const name = /^(.+)-[0-9][^-]*$/.exec(g)?.[1];
      if (name === undefined || !names.has(name)) continue;
      const tree = await walkTree(st.cache, `${home}/gems/${g}`, {
        skip: (p) => parentPath(p) === `${home}/gems/${g}` && /^(doc|test|spec)$/.test(baseName(p)),
      });
      for (const e of tree.entries) {
        // a compiled extension (`lib/x.so`): a library with what it needs, as Ruby loads it by path
        if (e.kind === 'file' && e.path.endsWith('.so')) {
          const added = await addProgram(st, e.path, origin(`the gem's compiled extension`), 1).then(
            () => true,
            (err: unknown) => {
              if (!isFromscratchError(err)) throw err;
              return false;
            },
          );
          if (added) continue;
        }
        await addRootFile(st, e.path, origin(`the gem's files`));
      }
    }
  }
}

/** NODE_PROGRAM matches the names of Node.js. */
const NODE_PROGRAM = /^(node|nodejs)$/;
/** MAX_NODE_PACKAGE_BYTES bounds a Node.js package shipped whole for a script of it (npm: 19 MB). */
const MAX_NODE_PACKAGE_BYTES = 256 * 1024 * 1024;

/**
 * addNodePackage ships the package a Node.js script belongs to: the nearest directory above it with a
 * package.json (npm's /usr/lib/node_modules/npm for bin/npm-cli.js), or the application whose
 * node_modules holds that package; whole (what `require` reaches is decided at run time), within
 * MAX_TREE_ENTRIES and MAX_NODE_PACKAGE_BYTES (else a warning); its native addons (`.node`) each with
 * the libraries they need.
 */
async function addNodePackage(st: State, script: string, depth: number): Promise<void> {
  let home: string | undefined;
  for (let d = parentPath(script), n = 0; d !== '/' && n < 16; d = parentPath(d), n++) {
    if ((await resolveOrMissing(st.cache, `${d}/package.json`)).stat?.type === 'file') {
      home = d;
      break;
    }
  }
  if (home === undefined) return;
  // a dependency of an application (APP/node_modules/x, APP/node_modules/@scope/x): the application
  const nm = /^(.*)\/node_modules(\/@[^/]+)?\/[^/]+$/.exec(home);
  if (nm && nm[1] !== '' && (await resolveOrMissing(st.cache, `${nm[1]}/package.json`)).stat?.type === 'file')
    home = nm[1]!;
  const { w, over } = await boundedTree(st, home, MAX_NODE_PACKAGE_BYTES);
  if (over !== undefined) {
    st.warnings.push(
      `${script} is a script of the Node.js package ${home}, which holds ${over} for a package shipped whole: it is left out; add it with --add ${home}:${home}`,
    );
    return;
  }
  const origin: Origin = {
    kind: 'inferred',
    by: script,
    reason: `${script} is a script of the Node.js package ${home}: what it requires`,
  };
  for (const e of w.entries) {
    if (e.kind === 'file' && e.path.endsWith('.node')) {
      try {
        await addProgram(st, e.path, { ...origin, reason: `${origin.reason} (a native addon)` }, depth + 1);
        continue;
      } catch (err) {
        if (!isFromscratchError(err)) throw err;
      }
    }
    await addRootFile(st, e.path, origin);
  }
}

/** MAX_SCRIPT_DATA bounds the data files under /usr/share one shell script brings. */
const MAX_SCRIPT_DATA = 64;

/**
 * addScriptCommands adds the programs a shell script runs (shell-script.ts scriptCommands): an
 * absolute path the root has, or a name found on the image's PATH, each as a program with its own
 * closure (a script among them is read in turn, to MAX_SCRIPT_DEPTH). A name found nowhere is left:
 * it may be a function of a sourced file or a program the script tests for before running it.
 */
async function addScriptCommands(st: State, script: string, depth: number): Promise<void> {
  if (depth >= MAX_SCRIPT_DEPTH) return;
  const text = await readTextCached(st.cache, script, MAX_SCRIPT_TEXT);
  if (text === undefined) return;
  // the state directories it and the files it sources name (apache2ctl's `mktemp -d
  // $APACHE_LOCK_DIR.XXXX` under /var/lock, set by /etc/apache2/envvars): as a server's
  if (st.opts.infer?.programFiles !== false) {
    const texts = [text];
    for (const f of sourcedFiles(text).slice(0, MAX_SOURCED)) {
      const t = await readTextCached(st.cache, f, MAX_SCRIPT_TEXT);
      if (t !== undefined) texts.push(t);
    }
    const state = new Map<string, string>();
    const data: string[] = [];
    let zones = false;
    for (const t of texts)
      for (const p of scriptPaths(t)) {
        if (stateRootOf(p) !== undefined && !state.has(p)) state.set(p, `the shell script names ${p}`);
        else if (p === ZONEINFO_DIR || p.startsWith(`${ZONEINFO_DIR}/`)) zones = true;
        else if (p.startsWith('/usr/share/') && !data.includes(p)) data.push(p);
      }
    await addStatePaths(st, state, script, script);
    // zones by name from the database it names (tzselect's TZDIR), as a program's compiled-in one
    if (zones)
      await addZoneinfo(st, script, `the shell script reads time zones by name from ${ZONEINFO_DIR}`);
    // the data files it reads where it names them (tzselect's $TZDIR/iso3166.tab): files only, not
    // the directories (a whole /usr/share/zoneinfo for one table)
    for (const p of data.slice(0, MAX_SCRIPT_DATA)) {
      const r = await resolveOrMissing(st.cache, p);
      if (r.stat?.type === 'file')
        await addResolved(st, r, { kind: 'inferred', by: script, reason: 'the shell script reads it' });
    }
  }
  if (st.opts.infer?.launchers !== false && !st.traced) await addAppHome(st, script, text, depth);
  await addCommandsRun(st, script, scriptCommands(text, script), 'shell script', depth);
}

/**
 * addCommandsRun adds the programs a script runs (`commands`: absolute paths, or names found on the
 * image's PATH), each with its own closure, to MAX_SCRIPT_DEPTH. A name found nowhere, or a file that
 * is no program, is left: the script may test for it before running it.
 */
async function addCommandsRun(
  st: State,
  script: string,
  commands: readonly string[],
  what: string,
  depth: number,
): Promise<void> {
  for (const c of commands) {
    const path = c.startsWith('/') ? c : (await lookPath(st, c)).found;
    if (path === undefined || path === script) continue;
    const r = await resolveOrMissing(st.cache, path);
    if (r.stat?.type !== 'file' || (r.stat.mode & 0o111) === 0 || r.path === script) continue;
    if (st.files.has(path) && st.roots.some((x) => x.real === r.path)) continue;
    try {
      await addProgram(
        st,
        path,
        { kind: 'inferred', by: script, reason: `the ${what} runs ${c}` },
        depth + 1,
      );
    } catch (e) {
      // neither ELF nor #! (a data file named like a command), or its closure fails: not the script's
      if (!isFromscratchError(e)) throw e;
    }
  }
}

/**
 * resolveClosure computes every file the programs `roots` need to run, inside the root `fs`: the
 * programs (symlinks kept), their `#!` interpreters, the ELF loader, every DT_NEEDED library found as
 * ld.so (or musl) would find it, and the inferred run-time files, each with its origins.
 * Never executes anything and never leaves the root.
 *
 * Throws FILE_NOT_FOUND (a root path is missing), NOT_EXECUTABLE (neither ELF nor `#!` script),
 * MALFORMED_ELF, ARCH_MISMATCH (a foreign program without a root of its architecture), and, when
 * `strict` (the default), {@link LibraryNotFoundError} (LIBRARY_NOT_FOUND).
 *
 * @example
 * const result = await resolveClosure(['/usr/bin/curl'], hostFs('/'), { readElf });
 * for (const f of result.files.values()) console.log(f.kind, f.path);
 */
export async function resolveClosure(
  roots: readonly string[],
  fs: RootFs,
  opts: ClosureOptions = {},
): Promise<ClosureResult> {
  const cache = opts.cache ?? newClosureCache(fs);
  checkCacheRoot(cache, fs);
  const readElf: ElfReader = opts.readElf ?? ((f, p, o) => readElf_(f, p, o));
  // the rules test imports for membership in small sets only: the reader decodes no other name
  const symbols: SymbolNeed =
    opts.infer?.nss !== false ||
    opts.infer?.gconv !== false ||
    opts.infer?.libgcc !== false ||
    opts.infer?.locales !== false ||
    opts.infer?.launchers !== false ||
    opts.infer?.programFiles !== false
      ? CLOSURE_SYMBOLS
      : false;
  const st: State = {
    rubyRuntimes: new Map(),
    fs,
    cache,
    readElf,
    symbols,
    opts,
    files: new Map(),
    objects: new Map(),
    roots: [],
    unresolved: [],
    warnings: [],
    dlopenNeeds: new Set(),
  };
  for (const root of roots) {
    // a traced root's interpreters and helpers ran under the trace too
    st.traced = opts.tracedRoots?.has(root) === true;
    await addProgram(st, root, { kind: 'requested', via: opts.requestedVia ?? 'closure root' }, 0);
  }
  st.traced = false;
  if (opts.infer?.launchers !== false)
    for (const { command, by } of opts.sourceCommands ?? [])
      await addCommandsRun(st, by, [command], 'source', 0);
  bindSonamesAcrossPrograms(st);
  if (st.debugInfoFor) await addDebugInfo(st, st.debugInfoFor);
  const unresolved = dedupeUnresolved(st.unresolved);
  const hard = unresolved.filter((u) => !u.inferred);
  if (opts.strict !== false && hard.length > 0)
    throw new LibraryNotFoundError(hard[0]!, fs.name, hard.length - 1);
  const files = new Map<string, ClosureFile>();
  for (const k of sortedPaths(st.files.keys())) {
    const f = st.files.get(k)!;
    files.set(
      k,
      f.target !== undefined
        ? { path: f.path, kind: f.kind, stat: f.stat, target: f.target, origins: f.origins }
        : { path: f.path, kind: f.kind, stat: f.stat, origins: f.origins },
    );
  }
  return {
    root: fs.name,
    roots: st.roots,
    files,
    objects: st.objects,
    unresolved,
    warnings: [...new Set(st.warnings)].sort(),
  };
}

/**
 * sortedPaths sorts paths bytewise by their encoded bytes. ASCII strings compare as their bytes do, so
 * when every path is ASCII (nearly always) no path is encoded.
 */
function sortedPaths(paths: Iterable<string>): string[] {
  const all = [...paths];
  if (!NON_ASCII.test(all.join(''))) return all.sort();
  // each path encoded once (comparePaths encodes both sides on every comparison)
  const order = all.map((k) => ({ k, b: encodePath(k) }));
  order.sort((x, y) => Buffer.compare(x.b, y.b));
  return order.map((o) => o.k);
}

const NON_ASCII = /[^\x00-\x7f]/;

function dedupeUnresolved(us: readonly Unresolved[]): Unresolved[] {
  const seen = new Set<string>();
  const out: Unresolved[] = [];
  for (const u of us) {
    const k = `${u.soname}\0${u.neededBy}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(u);
  }
  return out;
}

/** ClosureEntry is one FileTree entry of a closure, with its reasons and the host file backing it. */
export interface ClosureEntry {
  readonly entry: FileEntry;
  readonly origins: readonly Origin[];
  /** the host path of a regular file when the root is host-backed */
  readonly hostPath?: string;
}

/**
 * closureToEntries turns a closure into FileTree entries for a FileTreeBuilder: regular files keep the
 * root's mode, owner, mtime and extended attributes (`security.capability` matters); their content is
 * the host file (`{kind:'host'}`) for host-backed roots, else the bytes read from the root. Symlinks keep
 * their raw target. Sorted by path.
 */
export async function closureToEntries(result: ClosureResult, fs: RootFs): Promise<ClosureEntry[]> {
  const out: ClosureEntry[] = [];
  for (const f of result.files.values()) {
    const base = { path: f.path, mode: f.stat.mode, uid: f.stat.uid, gid: f.stat.gid, mtime: f.stat.mtime };
    if (f.kind === 'symlink') {
      out.push({ entry: { ...base, type: 'symlink', target: f.target ?? '' }, origins: f.origins });
      continue;
    }
    const xattrs = await fs.xattrs(f.path);
    const withX = Object.keys(xattrs).length > 0 ? { ...base, xattrs } : base;
    if (f.kind === 'dir') {
      out.push({ entry: { ...withX, type: 'dir' }, origins: f.origins });
      continue;
    }
    const hostPath = fs.hostPath(f.path);
    const content: ContentSource =
      hostPath !== undefined
        ? { kind: 'host', path: hostPath, dev: f.stat.dev, ino: f.stat.ino }
        : { kind: 'bytes', data: await fs.read(f.path) };
    out.push({
      entry: { ...withX, type: 'file', size: f.stat.size, content },
      origins: f.origins,
      ...(hostPath !== undefined ? { hostPath } : {}),
    });
  }
  return out;
}
