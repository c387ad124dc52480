/**
 * launcher.ts — programs that find their runtime through their own path and load it by path. PURE over
 * RootFs (through the ClosureCache).
 *
 * A launcher reads `/proc/self/exe`, goes up to its home directory and `dlopen()`s a library there by
 * path: no DT_NEEDED names it, so the loader's rules cannot find it. The OpenJDK launcher is the common
 * case (java.base/unix/native/libjli/java_md.c): `H/bin/java` → `GetApplicationHome` → reads
 * `H/lib/jvm.cfg`, dlopens `H/lib/VM/libjvm.so` for the default VM, which maps `H/lib/modules`, loads
 * `H/lib/lib*.so` (libjava.so, libzip.so, libnio.so …, each needing `libjvm.so` by SONAME, see
 * closure.ts) and reads `H/conf/**`, `H/lib/security/*` (cacerts), `H/lib/tzdb.dat`.
 *
 * - {@link javaRuntimePlan}: the files of a Java home the JVM needs (not the whole JDK: no jmods,
 *   include, man, legal, src.zip, ct.sym, demo). Desktop libraries (needing X11, GTK or ATK) and
 *   libraries whose own DT_NEEDED the root lacks are left out, each with a note.
 * - {@link findInterpreterHome} / {@link interpreterRuntimePlan}: Perl, Ruby and Tcl, whose library
 *   directories (@INC, $LOAD_PATH, tcl_library) are absolute paths compiled into perl, libruby or libtcl: read from those
 *   bytes, the standard library's directories are mapped (native modules as libraries); vendor, site
 *   and /usr/local directories are the application's.
 * - {@link selfExeLauncher}: where no rule knows a launcher, an object of the program importing
 *   `dlopen` whose bytes hold `/proc/self/exe` is worth a warning naming --trace / --verify --fix.
 */
import type { ElfInfo } from '../elf/types.ts';
import { baseName, parentPath } from '../fs/path.ts';
import { type ClosureCache, listDir, readHeader, readTextCached, resolveOrMissing } from './closure-cache.ts';
import { isShebang } from './shebang.ts';
import { commandWord, envDefaultPrograms, needsShell } from './shell-script.ts';
import { walkTree } from './tree-walk.ts';

/** LAUNCH_SYMBOLS are the imports the launcher rules look for. */
export const LAUNCH_SYMBOLS: ReadonlySet<string> = new Set(['dlopen']);

/** JvmCfgEntry is one line of jvm.cfg: `-NAME FLAG [-ALIAS]`. */
export interface JvmCfgEntry {
  readonly name: string;
  /** KNOWN, ALIASED_TO, IGNORE, WARN, ERROR, IF_SERVER_CLASS */
  readonly flag: string;
  readonly alias?: string;
}

/** parseJvmCfg reads jvm.cfg as the launcher does (java.c ReadKnownVMs): `#` comments, one VM a line. */
export function parseJvmCfg(text: string): JvmCfgEntry[] {
  const out: JvmCfgEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [name, flag, alias] = line.split(/\s+/);
    if (!name?.startsWith('-') || flag === undefined) continue;
    out.push({
      name: name.slice(1),
      flag,
      ...(alias?.startsWith('-') ? { alias: alias.slice(1) } : {}),
    });
  }
  return out;
}

/**
 * defaultVm is the VM the launcher runs without `-server`/`-client`/`-XXaltjvm`: the first line of
 * jvm.cfg (java.c CheckJvmType: `knownVMs[0]`), aliases followed. Undefined for an empty file or an
 * alias loop.
 */
export function defaultVm(entries: readonly JvmCfgEntry[]): string | undefined {
  let e = entries[0];
  for (let hops = 0; e && e.flag === 'ALIASED_TO' && hops < entries.length; hops++) {
    const to = e.alias;
    e = entries.find((x) => x.name === to);
  }
  return e && e.flag !== 'ALIASED_TO' ? e.name : undefined;
}

/** JavaHome is a Java installation recognised from its launcher. */
export interface JavaHome {
  /** the home directory (real path): the parent of `bin/` */
  readonly home: string;
  /** the default VM of jvm.cfg (`server`, `client`, `zero` …), undefined when jvm.cfg names none */
  readonly vm?: string;
}

/**
 * findJavaHome recognises a Java launcher from its real path: `H/bin/NAME` where `H/lib/jvm.cfg` is a
 * file (JDK 9 and later, and every JRE built from it; the JDK 8 layout `jre/lib/ARCH/jvm.cfg` is not
 * recognised). Undefined otherwise.
 */
export async function findJavaHome(c: ClosureCache, real: string): Promise<JavaHome | undefined> {
  const bin = parentPath(real);
  if (baseName(bin) !== 'bin') return undefined;
  const home = parentPath(bin);
  if (!(await listDir(c, `${home}/lib`))?.has('jvm.cfg')) return undefined;
  const text = await readTextCached(c, `${home}/lib/jvm.cfg`, 64 * 1024);
  if (text === undefined) return undefined;
  const vm = defaultVm(parseJvmCfg(text));
  return vm !== undefined ? { home, vm } : { home };
}

/** RuntimeItem is one path a runtime plan adds: a data file or directory, a library to map, a program. */
export interface RuntimeItem {
  readonly path: string;
  readonly kind: 'file' | 'dir' | 'library' | 'program';
  readonly reason: string;
}

/** RuntimePlan is what a launcher's runtime needs, in the order to add it (libjvm.so first). */
export interface RuntimePlan {
  readonly items: readonly RuntimeItem[];
  /** files of the home left out on purpose, each with why */
  readonly leftOut: readonly { readonly path: string; readonly why: string }[];
  /** what the runtime needs and the root lacks */
  readonly problems: readonly string[];
}

/** RuntimeProbe is what javaRuntimePlan asks of the closure about a candidate library. */
export interface RuntimeProbe {
  /** the parsed ELF file at a path, undefined when it is not a readable ELF object of the program's ABI */
  elf(path: string): Promise<ElfInfo | undefined>;
  /** whether the loader finds `name` for the object at `path` (its search rules, the root's files) */
  findable(name: string, path: string, info: ElfInfo): Promise<boolean>;
  /**
   * the path of the shared library the program would load by `request` at run time, undefined when the
   * root has none: a SONAME (`libpng16.so.16`) found as the loader finds it, or a bare name (`png16`)
   * as ctypes.util.find_library finds it (the versioned `libNAME.so.N` of the loader's directories)
   */
  library?(request: string): Promise<string | undefined>;
}

/** JAVA_LIB_FILES are the data files of `H/lib` the JVM reads (the rest of `lib/` is for tools). */
const JAVA_LIB_FILES: readonly [string, string][] = [
  ['jvm.cfg', 'the launcher reads jvm.cfg to choose the VM'],
  ['modules', 'the JVM maps the runtime image of the class library'],
  ['tzdb.dat', 'java.time reads its time-zone rules'],
];
/** JAVA_LIB_TREES are the directories of `H/lib` the JVM reads, whole. */
const JAVA_LIB_TREES: readonly [string, string][] = [
  ['security', 'the security providers read cacerts, blocked.certs, default.policy, public_suffix_list.dat'],
  ['jfr', 'Flight Recorder settings'],
];
/** DESKTOP_SONAME matches what desktop libraries need (X11, GTK, ATK): a container has no display. */
const DESKTOP_SONAME = /^lib(X11|gtk-[0-9.]+|gdk-[0-9.]+|atk-[0-9.]+|atk-bridge-[0-9.]+)\.so(\.|$)/;

/**
 * javaRuntimePlan lists what the JVM of a Java home needs at run time: `lib/jvm.cfg`, the default VM's
 * directory (libjvm.so first, its CDS archives), `lib/modules`, `lib/tzdb.dat`, `lib/security/`,
 * `lib/jfr/`, the native libraries of `lib/` (but X11 desktop ones and those whose DT_NEEDED the root
 * lacks), `lib/jspawnhelper` (Runtime.exec), `conf/` and `release`.
 */
export async function javaRuntimePlan(
  c: ClosureCache,
  jh: JavaHome,
  probe: RuntimeProbe,
): Promise<RuntimePlan> {
  const { home } = jh;
  const items: RuntimeItem[] = [];
  const leftOut: { path: string; why: string }[] = [];
  const problems: string[] = [];
  const lib = `${home}/lib`;
  const names = [...((await listDir(c, lib)) ?? [])].sort();
  const libs: string[] = [];
  if (jh.vm === undefined) problems.push(`${lib}/jvm.cfg names no VM: the launcher will not start a JVM`);
  else {
    const vmDir = `${lib}/${jh.vm}`;
    const vmNames = [...((await listDir(c, vmDir)) ?? [])].sort();
    if (!vmNames.includes('libjvm.so'))
      problems.push(`${vmDir}/libjvm.so (the default VM "${jh.vm}" of ${lib}/jvm.cfg) is not in the root`);
    const why = `the launcher dlopens the default VM "${jh.vm}" named by jvm.cfg`;
    // libjvm.so first: every other library of the JDK needs it by SONAME, as in the running process
    const ordered = vmNames.includes('libjvm.so')
      ? ['libjvm.so', ...vmNames.filter((n) => n !== 'libjvm.so')]
      : vmNames;
    for (const n of ordered) {
      const p = `${vmDir}/${n}`;
      const r = await resolveOrMissing(c, p);
      if (r.stat?.type !== 'file') continue;
      if (n.endsWith('.so')) libs.push(p);
      else
        items.push({
          path: p,
          kind: 'file',
          reason: `${why} (${n === 'classes.jsa' || n.endsWith('.jsa') ? 'class data sharing archive' : 'VM file'})`,
        });
    }
  }
  for (const [n, reason] of JAVA_LIB_FILES)
    if (names.includes(n)) items.push({ path: `${lib}/${n}`, kind: 'file', reason });
    else if (n !== 'tzdb.dat') problems.push(`${lib}/${n} is not in the root: the JVM will not start`);
  for (const n of names) {
    if (n.endsWith('.so')) {
      const r = await resolveOrMissing(c, `${lib}/${n}`);
      if (r.stat?.type === 'file') libs.push(`${lib}/${n}`);
    }
  }
  const sel = await selectLibraries(libs, probe);
  leftOut.push(...sel.leftOut);
  for (const p of sel.kept) {
    const reason = p.startsWith(`${lib}/${jh.vm}/`)
      ? `the launcher dlopens the default VM "${jh.vm}" named by jvm.cfg`
      : 'a native library of the Java class library (System.loadLibrary from the JDK home)';
    items.push({ path: p, kind: 'library', reason });
  }
  if (names.includes('jspawnhelper'))
    items.push({
      path: `${lib}/jspawnhelper`,
      kind: 'program',
      reason: 'Runtime.exec and ProcessBuilder start processes through it',
    });
  const tree = async (dir: string, reason: string) => {
    const w = await walkTree(c, dir);
    for (const e of w.entries) items.push({ path: e.path, kind: e.kind, reason });
    for (const d of w.dangling) leftOut.push({ path: d, why: 'a symlink to nothing in the root' });
    if (w.truncated) problems.push(`${dir} has too many entries: the rest left out`);
  };
  for (const [n, reason] of JAVA_LIB_TREES) if (names.includes(n)) await tree(`${lib}/${n}`, reason);
  const top = await listDir(c, home);
  if (top?.has('conf'))
    await tree(`${home}/conf`, 'the JVM reads its configuration (java.security, policies, logging, net)');
  if (top?.has('release'))
    items.push({
      path: `${home}/release`,
      kind: 'file',
      reason: 'describes the runtime (version, modules) to tools',
    });
  return { items, leftOut, problems };
}

/** PythonHome is a CPython installation recognised from its interpreter or from libpython. */
export interface PythonHome {
  /** `sys.prefix`: the directory holding `lib/pythonX.Y` */
  readonly prefix: string;
  /** X.Y */
  readonly version: string;
}

/** PYTHON_PROGRAM and LIBPYTHON tell the Python version of an interpreter or of a program embedding it. */
const PYTHON_PROGRAM = /^python(\d+\.\d+)$/;
const LIBPYTHON = /^libpython(\d+\.\d+)\.so(\.|$)/;

/**
 * findPythonHome recognises CPython as its startup does (Modules/getpath.py): the version from the
 * program's real name (`python3.11`) or from the libpython it links (`libpython3.11.so.1.0`: gdb,
 * uwsgi, vim embed Python); the prefix is the first directory up from the program's real directory
 * holding the landmark `lib/pythonX.Y/os.py`, else `/usr/local`, else `/usr` (the compiled-in prefix
 * of distributions). Undefined when no standard library is found.
 */
export async function findPythonHome(
  c: ClosureCache,
  real: string,
  sonames: Iterable<string>,
): Promise<PythonHome | undefined> {
  let version = PYTHON_PROGRAM.exec(baseName(real))?.[1];
  if (version === undefined)
    for (const s of sonames) {
      const m = LIBPYTHON.exec(s);
      if (m) {
        version = m[1]!;
        break;
      }
    }
  if (version === undefined) return undefined;
  const tried: string[] = [];
  for (let d = parentPath(real); ; d = parentPath(d)) {
    tried.push(d);
    if (d === '/') break;
  }
  tried.push('/usr/local', '/usr');
  for (const d of tried) {
    const prefix = d === '/' ? '' : d;
    if ((await listDir(c, `${prefix}/lib/python${version}`))?.has('os.py')) return { prefix: d, version };
  }
  return undefined;
}

/**
 * PYTHON_SKIP are the directories of the standard library that are not the runtime (tests, IDLE, Tk,
 * build files), and the third-party packages a Python not laid out by Debian keeps inside it
 * (`/usr/local/lib/python3.11/site-packages` of the python images, pyenv's and a source build's): those
 * come as the application imports them (pythonLibrariesPlan), not whole.
 */
const PYTHON_SKIP = /^(test|idlelib|tkinter|turtledemo|ensurepip|config-.*|site-packages|dist-packages)$/;
/** PYTHON_OPTIMIZED_BYTECODE are the bytecode files of `python -O` and `-OO` (`os.cpython-311.opt-1.pyc`). */
const PYTHON_OPTIMIZED_BYTECODE = /\.opt-[12]\.pyc$/;

/**
 * PYTHON_TEST_MODULES are extension modules only CPython's own test suite imports, and _tkinter, the
 * module of the tkinter package left out above (a Python built from source has it in lib-dynload; it
 * would bring Tk, X11, fontconfig and every font of the host).
 */
const PYTHON_TEST_MODULES = /^(_test|_ctypes_test|_xxtestfuzz|xxlimited|_xxsubinterpreters|_tkinter\.)/;

/**
 * pythonRuntimePlan lists what CPython needs at run time: its standard library `PREFIX/lib/pythonX.Y`
 * (with the compiled `__pycache__`, `sitecustomize.py` and the sysconfig data), but not the test suite,
 * IDLE, tkinter, turtledemo, ensurepip, the `config-*` build directory nor its `site-packages`; the extension modules of
 * `lib-dynload` are mapped as libraries (the interpreter dlopens them by path), left out as
 * selectLibraries says. Third-party packages (`dist-packages`, `site-packages` outside the standard
 * library) are the application's: --add or --trace them.
 */
export async function pythonRuntimePlan(
  c: ClosureCache,
  ph: PythonHome,
  probe: RuntimeProbe,
): Promise<RuntimePlan> {
  const stdlib = `${ph.prefix === '/' ? '' : ph.prefix}/lib/python${ph.version}`;
  const dynload = `${stdlib}/lib-dynload`;
  const w = await walkTree(c, stdlib, {
    skip: (p) => {
      const parent = parentPath(p);
      const name = baseName(p);
      return (
        (parent === stdlib && PYTHON_SKIP.test(name)) ||
        (parent === dynload && PYTHON_TEST_MODULES.test(name)) ||
        // the test suites of its packages (unittest/test, ctypes/test, lib2to3/tests …): Debian puts
        // them in libpython3.X-testsuite, a source build (pyenv, the python images) installs them
        ((name === 'test' || name === 'tests') && parentPath(parent) === stdlib) ||
        // bytecode for `python -O`/`-OO` only (compileall's -o 1 -o 2 of a source build; Debian's
        // python writes none): such a run compiles what it imports from the sources
        PYTHON_OPTIMIZED_BYTECODE.test(name)
      );
    },
  });
  const reason = `the interpreter finds its standard library from its own path (getpath: ${stdlib}/os.py)`;
  const { items, leftOut: modulesLeftOut } = await withNativeModules(
    w.entries.map((e) => ({ ...e, reason })),
    (p) => parentPath(p) === dynload && p.endsWith('.so'),
    'an extension module of the standard library (imported by dlopen of its path)',
    probe,
  );
  const leftOut = [
    ...modulesLeftOut,
    ...w.dangling.map((d) => ({ path: d, why: 'a symlink to nothing in the root' })),
  ];
  return {
    items,
    leftOut,
    problems: w.truncated ? [`${stdlib} has too many entries: the rest left out`] : [],
  };
}

/**
 * withNativeModules turns a standard library's files into plan items: native modules (`isNative`) mapped
 * as libraries, those selectLibraries keeps, after the other files; the rest are left out with why.
 */
async function withNativeModules(
  entries: readonly { path: string; kind: 'file' | 'dir' | 'program'; reason: string }[],
  isNative: (path: string) => boolean,
  nativeReason: string,
  probe: RuntimeProbe,
): Promise<{ items: RuntimeItem[]; leftOut: { path: string; why: string }[] }> {
  const items: RuntimeItem[] = [];
  const libs: string[] = [];
  for (const e of entries) {
    if (e.kind === 'file' && isNative(e.path)) libs.push(e.path);
    else items.push(e);
  }
  const sel = await selectLibraries(libs, probe);
  for (const p of sel.kept) items.push({ path: p, kind: 'library', reason: nativeReason });
  return { items, leftOut: sel.leftOut };
}

/**
 * selectLibraries chooses which of a runtime's native libraries to map: not those that are no library
 * of the program's ABI, desktop libraries (they need X11, GTK or ATK: a container has no display),
 * those needing a soname that neither the set nor the root provides, and, until nothing changes, those
 * needing one left out (libjawt.so needs libawt_xawt.so). Order kept.
 */
async function selectLibraries(
  libs: readonly string[],
  probe: RuntimeProbe,
): Promise<{ kept: string[]; leftOut: { path: string; why: string }[] }> {
  // which libraries the plan maps, by SONAME: a library needing another of them is satisfied in-process
  const infos = new Map<string, ElfInfo>();
  const provided = new Set<string>();
  for (const p of libs) {
    const info = await probe.elf(p);
    if (!info) continue;
    infos.set(p, info);
    provided.add(info.soname ?? baseName(p));
  }
  // left out: not a library, a desktop library, or needing what the root lacks or what was left out
  // (libjawt.so needs libawt_xawt.so): until nothing more is left out
  const out = new Map<string, string>();
  for (const p of libs) {
    const info = infos.get(p);
    if (!info) out.set(p, "not a library of the program's architecture");
    else if (info.needed.some((n) => DESKTOP_SONAME.test(n)))
      out.set(p, 'desktop library (X11, GTK, ATK): a container has no display');
    else {
      const missing: string[] = [];
      for (const n of info.needed)
        if (!provided.has(n) && !(await probe.findable(n, p, info))) missing.push(n);
      if (missing.length > 0) out.set(p, `needs ${missing.join(', ')}, not in the root`);
    }
  }
  for (let changed = true; changed; ) {
    changed = false;
    const gone = new Map<string, string>();
    for (const p of out.keys()) {
      const info = infos.get(p);
      if (info) gone.set(info.soname ?? baseName(p), baseName(p));
    }
    for (const p of libs) {
      const info = infos.get(p);
      if (!info || out.has(p)) continue;
      const dep = info.needed.find((n) => gone.has(n));
      if (dep !== undefined) {
        out.set(p, `needs ${dep}, left out`);
        changed = true;
      }
    }
  }
  const kept: string[] = [];
  const leftOut: { path: string; why: string }[] = [];
  for (const p of libs) {
    const why = out.get(p);
    if (why !== undefined) leftOut.push({ path: p, why });
    else kept.push(p);
  }
  return { kept, leftOut };
}

/** SELF_EXE is what a launcher reads to find itself. */
const SELF_EXE = Buffer.from('/proc/self/exe');
/** SYSTEM_BIN_DIRS hold programs whose home is the system itself: their runtime is in the loader's directories. */
const SYSTEM_BIN_DIRS = new Set([
  '/bin',
  '/sbin',
  '/usr/bin',
  '/usr/sbin',
  '/usr/local/bin',
  '/usr/local/sbin',
  '/usr/games',
  '/usr/libexec',
]);
/** SCAN_CHUNK is how much of a file is searched at once for SELF_EXE. */
const SCAN_CHUNK = 4 * 1024 * 1024;

/** LauncherObject is an ELF object of a program, as selfExeLauncher looks at it. */
export interface LauncherObject {
  readonly path: string;
  readonly real: string;
  readonly info: ElfInfo;
}

/**
 * selfExeLauncher finds, among the objects of a program that lives in a home of its own (not a system
 * bin directory: `node`, `perl`, `vim` in /usr/bin also read /proc/self/exe and import dlopen, but
 * their runtime is where the loader looks), one that imports `dlopen` and whose bytes hold
 * `/proc/self/exe`: a launcher that may load its runtime by a path relative to itself. Objects in
 * `systemDir` directories (libc …) are not looked at. Returns that object, undefined when none.
 */
export async function selfExeLauncher(
  c: ClosureCache,
  program: string,
  objects: readonly LauncherObject[],
  systemDir: (dir: string) => boolean,
): Promise<LauncherObject | undefined> {
  if (SYSTEM_BIN_DIRS.has(parentPath(program))) return undefined;
  for (const o of objects) {
    if (o.real !== program && systemDir(parentPath(o.path))) continue;
    if (!o.info.importedSymbols.includes('dlopen')) continue;
    if (await holdsBytes(c, o.real, SELF_EXE)) return o;
  }
  return undefined;
}

/** holdsBytes tells whether a regular file of the root contains `needle`, read in chunks. */
async function holdsBytes(c: ClosureCache, real: string, needle: Uint8Array): Promise<boolean> {
  const st = await c.view.lstat(real);
  if (st?.type !== 'file') return false;
  const overlap = needle.length - 1;
  for (let off = 0; off < st.size; off += SCAN_CHUNK) {
    const b = Buffer.from(await c.fs.read(real, { offset: off, length: SCAN_CHUNK + overlap }));
    if (b.indexOf(needle) >= 0) return true;
  }
  return false;
}

/**
 * LibraryDirsInterpreter describes an interpreter whose library directories are compiled into its binary
 * or its shared library as absolute paths (Perl's @INC, Ruby's $LOAD_PATH, Tcl's library): the rule reads those strings
 * from the bytes, as the interpreter itself would use them, and maps the standard library's directories.
 */
interface LibraryDirsInterpreter {
  /** what the image gets, in origins and warnings */
  readonly what: string;
  /** the program's real name */
  readonly program: RegExp;
  /** the SONAME of the library holding the interpreter (an embedding program links it) */
  readonly soname: RegExp;
  /** a compiled-in library directory, as a NUL-terminated string of the binary */
  readonly dir: RegExp;
  /** directories of third-party modules (vendor, site, /usr/local): the application's, not mapped */
  readonly thirdParty: RegExp;
  /** names, under a library directory, that are not the runtime (C headers, documentation) */
  readonly skip: RegExp;
  /** native extension modules, loaded by dlopen of their path */
  readonly native: RegExp;
}

const LIBRARY_DIRS_INTERPRETERS: readonly LibraryDirsInterpreter[] = [
  {
    what: 'Perl runtime',
    program: /^perl(\d[\d.]*)?$/,
    soname: /^libperl\.so(\.|$)/,
    dir: /^\/[!-~]*perl[!-~]*$/,
    thirdParty: /(^\/usr\/local\/|\/perl5(\/|$)|site_perl|\/debug\/)/,
    skip: /^(CORE|pod)$|\.pod$/,
    native: /\/auto\/.*\.so$/,
  },
  {
    what: 'Ruby runtime',
    program: /^ruby(\d[\d.]*)?$/,
    soname: /^libruby(-\d[\d.]*)?\.so(\.|$)/,
    dir: /^\/[!-~]*\/ruby\/[!-~]+$/,
    thirdParty: /(^\/usr\/local\/|vendor_ruby|site_ruby|\/gems(\/|$))/,
    skip: /^$/,
    native: /\.so$/,
  },
  {
    // tclsh: init.tcl and the script library, found from TCL_LIBRARY compiled into libtcl
    what: 'Tcl runtime',
    program: /^tclsh(\d[\d.]*)?$/,
    soname: /^libtcl\d[\d.]*\.so(\.|$)/,
    dir: /^\/[!-~]*\/tcl\d[\d.]*$/,
    thirdParty: /^\/usr\/(local|include)\//,
    skip: /^$/,
    native: /\.so$/,
  },
  {
    // guile: its Scheme library (%load-path) and the compiled .go files beside it (%load-compiled-path,
    // ELF files of machine EM_NONE: without them guile compiles every module it loads at each start)
    what: 'Guile runtime',
    program: /^guile(-?\d[\d.]*)?$/,
    soname: /^libguile-\d[\d.]*\.so(\.|$)/,
    dir: /^\/[!-~]*\/guile\/\d[\d.]*(\/ccache|\/extensions)?$/,
    thirdParty: /(^\/usr\/local\/|\/site(-ccache)?(\/|$))/,
    skip: /^$/,
    native: /\/extensions\/[^/]*\.so$/,
  },
];

/**
 * perlInc reads the @INC compiled into a perl program: every directory (`all`, in perl's order, those
 * the root has) and those of its standard library (`std`: what the interpreters rule ships whole; the
 * vendor, site and /usr/local directories are not).
 */
export async function perlInc(c: ClosureCache, perl: string): Promise<{ all: string[]; std: string[] }> {
  const rule = LIBRARY_DIRS_INTERPRETERS.find((r) => r.what === 'Perl runtime')!;
  const all: string[] = [];
  for (const d of await cStrings(c, perl, rule.dir))
    if ((await resolveOrMissing(c, d)).stat?.type === 'dir') all.push(d);
  return { all, std: all.filter((d) => !rule.thirdParty.test(d)) };
}

/** InterpreterHome is an interpreter recognised by its compiled-in library directories. */
export interface InterpreterHome {
  readonly what: string;
  /** the object whose bytes name the directories (the program, or its libperl/libruby/libtcl) */
  readonly object: string;
  /** the directories of the standard library, in the interpreter's order, that exist in the root */
  readonly dirs: readonly string[];
  /** its other compiled-in directories that exist in the root (vendor, site, /usr/local), in its order */
  readonly thirdParty: readonly string[];
  readonly rule: LibraryDirsInterpreter;
}

/** interpreterObjects are the objects naming a rule's directories: the program (perl), or the library it links (ruby → libruby-3.1.so). */
function interpreterObjects(
  rule: LibraryDirsInterpreter,
  real: string,
  objects: readonly { readonly real: string; readonly info: ElfInfo }[],
): string[] {
  return [
    ...(rule.program.test(baseName(real)) ? [real] : []),
    ...objects
      .filter((o) => o.info.soname !== undefined && rule.soname.test(o.info.soname))
      .map((o) => o.real),
  ];
}

/**
 * findInterpreterHome recognises Perl, Ruby, Tcl or Guile from the program's real name or the SONAME of a library
 * it links, and reads that object's compiled-in library directories (NUL-terminated absolute paths).
 * Undefined when it is neither, or when none of the directories exists in the root.
 */
export async function findInterpreterHome(
  c: ClosureCache,
  real: string,
  objects: readonly { readonly real: string; readonly info: ElfInfo }[],
): Promise<InterpreterHome | undefined> {
  for (const rule of LIBRARY_DIRS_INTERPRETERS) {
    for (const object of interpreterObjects(rule, real, objects)) {
      // third-party directories (vendor, site, /usr/local) are the application's: --add them
      const dirs: string[] = [];
      const thirdParty: string[] = [];
      for (const d of await cStrings(c, object, rule.dir))
        if ((await resolveOrMissing(c, d)).stat?.type === 'dir')
          (rule.thirdParty.test(d) ? thirdParty : dirs).push(d);
      if (dirs.length > 0) return { what: rule.what, object, dirs, thirdParty, rule };
    }
  }
  return undefined;
}

/** MAX_CSTRING is the longest compiled-in path looked at. */
const MAX_CSTRING = 4096;

/** cStrings returns the NUL-terminated printable strings of a root file that match `re`, unique, in file order. */
export async function cStrings(c: ClosureCache, real: string, re: RegExp): Promise<string[]> {
  const st = await c.view.lstat(real);
  if (st?.type !== 'file') return [];
  const out: string[] = [];
  let carry = Buffer.alloc(0);
  for (let off = 0; off < st.size; off += SCAN_CHUNK) {
    const b = Buffer.concat([carry, Buffer.from(await c.fs.read(real, { offset: off, length: SCAN_CHUNK }))]);
    let start = 0;
    for (let i = b.indexOf(0); i >= 0; i = b.indexOf(0, start)) {
      if (i - start > 1 && i - start <= MAX_CSTRING && b[start] === 0x2f) {
        const s = b.toString('latin1', start, i);
        if (re.test(s) && !out.includes(s)) out.push(s);
      }
      start = i + 1;
    }
    carry = b.subarray(Math.max(start, b.length - MAX_CSTRING));
  }
  return out;
}

/**
 * overlappingChunks reads a root file of `size` bytes by SCAN_CHUNK (a 30 MiB library is not held at
 * once), each chunk after the first with the MAX_CSTRING + 1 bytes before it, so that a string across a
 * boundary is whole in one of them: `from` is the chunk's file offset, `start` where a match may begin
 * in it (after the first chunk, the byte before a match is in the chunk too).
 */
async function* overlappingChunks(
  c: ClosureCache,
  real: string,
  size: number,
): AsyncGenerator<{ from: number; start: number; b: Buffer }> {
  for (let off = 0; off < size; off += SCAN_CHUNK) {
    const from = Math.max(0, off - MAX_CSTRING - 1);
    const b = Buffer.from(await c.fs.read(real, { offset: from, length: off + SCAN_CHUNK - from }));
    yield { from, start: off === 0 ? 0 : 1, b };
  }
}

/**
 * prefixedCStrings is cStrings for strings that start with one of `prefixes` (`/etc/`): the file is
 * searched for the prefixes (a native byte search) instead of split into every string, which costs
 * ~7 ms per MiB; a program's paths are few. Unique, in order of prefix then file. Files above `maxSize`
 * are not read (undefined).
 */
export async function prefixedCStrings(
  c: ClosureCache,
  real: string,
  prefixes: readonly string[],
  re: RegExp,
  maxSize: number,
): Promise<string[] | undefined> {
  const st = await c.view.lstat(real);
  if (st?.type !== 'file') return [];
  if (st.size > maxSize) return undefined;
  const found: { prefix: number; at: number; str: string }[] = [];
  const seen = new Set<number>();
  const needles = prefixes.map((p) => Buffer.from(p, 'latin1'));
  for await (const { from, start, b } of overlappingChunks(c, real, st.size)) {
    needles.forEach((p, k) => {
      for (let i = b.indexOf(p, start); i >= 0; i = b.indexOf(p, i + 1)) {
        // a C string starts after a NUL (or at the file's start) and ends at the next one
        if (from + i > 0 && b[i - 1] !== 0) continue;
        const end = b.indexOf(0, i);
        if (end < 0 || end - i > MAX_CSTRING) continue;
        const at = from + i;
        const str = b.toString('latin1', i, end);
        if (seen.has(at) || !re.test(str)) continue;
        seen.add(at);
        found.push({ prefix: k, at, str });
      }
    });
  }
  // unique, in order of prefix then file, as one read of the whole file gave them
  found.sort((x, y) => x.prefix - y.prefix || x.at - y.at);
  return [...new Set(found.map((f) => f.str))];
}

/**
 * embeddedPaths finds the paths starting with one of `prefixes` anywhere inside the C strings of a root
 * file, not only at a string's start (squid's built-in default `unlinkd_program /usr/lib/squid/unlinkd`):
 * each a run of path characters from the prefix, matching `re`. Unique, in file order; at most `max`.
 * Files above `maxSize` are not read (undefined).
 */
export async function embeddedPaths(
  c: ClosureCache,
  real: string,
  prefixes: readonly string[],
  re: RegExp,
  maxSize: number,
  max = 256,
): Promise<string[] | undefined> {
  const st = await c.view.lstat(real);
  if (st?.type !== 'file') return [];
  if (st.size > maxSize) return undefined;
  const found: { at: number; str: string }[] = [];
  const seen = new Set<string>();
  const needles = prefixes.map((p) => Buffer.from(p, 'latin1'));
  const pathByte = (b: number) =>
    (b >= 0x30 && b <= 0x39) ||
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x61 && b <= 0x7a) ||
    b === 0x2f ||
    b === 0x2e ||
    b === 0x5f ||
    b === 0x2d ||
    b === 0x2b ||
    b === 0x40;
  for await (const { from, start, b } of overlappingChunks(c, real, st.size)) {
    if (seen.size >= max) break;
    for (const p of needles) {
      for (let i = b.indexOf(p, start); i >= 0 && seen.size < max; i = b.indexOf(p, i + 1)) {
        // inside a longer path (/x/usr/lib/…) is not one
        if (i > 0 && pathByte(b[i - 1]!)) continue;
        let end = i + p.length;
        while (end < b.length && end - i <= MAX_CSTRING && pathByte(b[end]!)) end++;
        const str = b.toString('latin1', i, end);
        if (seen.has(str) || !re.test(str)) continue;
        seen.add(str);
        found.push({ at: from + i, str });
      }
    }
  }
  found.sort((x, y) => x.at - y.at);
  return found.map((f) => f.str);
}

/**
 * libraryDataFiles lists the files a LIBRARY_DATA rule names for a library: the `:`-separated compiled-in
 * paths its bytes hold, each expanded by the rule (`magic` → `magic.mgc`, `magic`), unique, in order.
 */
export async function libraryDataFiles(
  c: ClosureCache,
  real: string,
  rule: { readonly path: RegExp; readonly files: (p: string) => readonly string[] },
): Promise<string[]> {
  return [...new Set((await cStrings(c, real, rule.path)).flatMap((s) => s.split(':').flatMap(rule.files)))];
}

/**
 * bytesFound returns which of `needles` (ASCII) occur anywhere in a root file (outside the range
 * `outside` when given): for strings a language does not NUL-terminate (Go's string table). Read in
 * chunks, so a 100 MB program is not held at once.
 */
export async function bytesFound(
  c: ClosureCache,
  real: string,
  needles: readonly string[],
  outside?: { readonly offset: number; readonly end: number },
): Promise<Set<string>> {
  const found = new Set<string>();
  const st = await c.view.lstat(real);
  if (st?.type !== 'file' || needles.length === 0) return found;
  const longest = Math.max(...needles.map((n) => n.length));
  let carry = Buffer.alloc(0);
  for (let off = 0; off < st.size && found.size < needles.length; off += SCAN_CHUNK) {
    const b = Buffer.concat([carry, Buffer.from(await c.fs.read(real, { offset: off, length: SCAN_CHUNK }))]);
    const base = off - carry.length;
    for (const n of needles) {
      if (found.has(n)) continue;
      // an occurrence inside the `outside` range (the dynamic string table: a symbol's name) does not count
      for (let i = b.indexOf(n, 0, 'latin1'); i >= 0; i = b.indexOf(n, i + 1, 'latin1')) {
        if (outside && base + i >= outside.offset && base + i < outside.end) continue;
        found.add(n);
        break;
      }
    }
    carry = b.subarray(Math.max(0, b.length - longest + 1));
  }
  return found;
}

/**
 * interpreterRuntimePlan lists the standard library of an interpreter found by findInterpreterHome: every
 * file of its directories (not C headers nor documentation), native extension modules mapped as
 * libraries (loaded by dlopen of their path), left out as selectLibraries says.
 */
export async function interpreterRuntimePlan(
  c: ClosureCache,
  ih: InterpreterHome,
  probe: RuntimeProbe,
): Promise<RuntimePlan> {
  const entries: { path: string; kind: 'file' | 'dir'; reason: string }[] = [];
  const problems: string[] = [];
  for (const dir of ih.dirs) {
    const w = await walkTree(c, dir, { skip: (p) => ih.rule.skip.test(baseName(p)) });
    const reason = `the interpreter searches ${dir}, compiled into ${ih.object}`;
    entries.push(...w.entries.map((e) => ({ ...e, reason })));
    // a symlink to nothing is broken in the root too (ruby's rdoc fonts): nothing to warn about
    if (w.truncated) problems.push(`${dir} has too many entries: the rest left out`);
  }
  if (ih.rule.what === 'Ruby runtime') entries.push(...(await rubyGemsRuntime(c, ih)));
  const { items, leftOut } = await withNativeModules(
    entries,
    (p) => ih.rule.native.test(p),
    'a native module of the standard library (loaded by dlopen of its path)',
    probe,
  );
  return { items, leftOut, problems };
}

/** GEM_HOMES are where RubyGems looks for installed gems (Gem.path on Debian: `VERSION` and `all` below each), `*` a directory of /usr/lib (the multiarch triplet). */
const GEM_HOMES = [
  '/var/lib/gems',
  '/usr/local/lib/ruby/gems',
  '/usr/lib/ruby/gems',
  '/usr/lib/*/ruby/gems',
  '/usr/share/rubygems-integration',
  '/usr/lib/*/rubygems-integration',
];

/** gemHomes are the root's gem homes (GEM_HOMES' `VERSION` and `all` directories holding `specifications`), in order. */
export async function gemHomes(c: ClosureCache): Promise<string[]> {
  const homes: string[] = [];
  for (const pattern of GEM_HOMES) {
    const [before, after] = pattern.split('/*/');
    const bases =
      after === undefined
        ? [pattern]
        : [...((await listDir(c, before!)) ?? [])].sort().map((d) => `${before}/${d}/${after}`);
    for (const base of bases)
      for (const v of [...((await listDir(c, base)) ?? [])].sort())
        if ((await listDir(c, `${base}/${v}/specifications`)) !== undefined) homes.push(`${base}/${v}`);
  }
  return homes;
}

/**
 * rubyGemsRuntime is what ruby loads at every start besides its standard library: RubyGems from the
 * first directory of its $LOAD_PATH holding rubygems.rb (Debian's ruby-rubygems in vendor_ruby, with
 * rubygems-integration's defaults/operating_system.rb, which adds Debian's gem homes), and the
 * specifications of the installed gems (`gem list`, Bundler and a `require` outside $LOAD_PATH read them).
 */
async function rubyGemsRuntime(
  c: ClosureCache,
  ih: InterpreterHome,
): Promise<{ path: string; kind: 'file' | 'dir'; reason: string }[]> {
  const out: { path: string; kind: 'file' | 'dir'; reason: string }[] = [];
  for (const dir of ih.thirdParty) {
    if ((await resolveOrMissing(c, `${dir}/rubygems.rb`)).stat?.type !== 'file') continue;
    const reason = `ruby loads RubyGems at start from ${dir}, the first directory of its $LOAD_PATH holding rubygems.rb`;
    out.push({ path: `${dir}/rubygems.rb`, kind: 'file', reason });
    out.push(...(await walkTree(c, `${dir}/rubygems`)).entries.map((e) => ({ ...e, reason })));
    break;
  }
  for (const home of await gemHomes(c)) {
    const w = await walkTree(c, `${home}/specifications`);
    const reason = `RubyGems reads the specifications of the gems installed in ${home}`;
    for (const e of w.entries)
      if (e.kind === 'dir' || e.path.endsWith('.gemspec')) out.push({ ...e, reason });
    // which gems' compiled extensions are built: without the marker RubyGems ignores the gem, and says so
    const x = await walkTree(c, `${home}/extensions`);
    const built = 'RubyGems takes a gem with compiled extensions for built when gem.build_complete is there';
    for (const e of x.entries)
      if (e.kind === 'dir' || baseName(e.path) === 'gem.build_complete') out.push({ ...e, reason: built });
  }
  return out;
}

/** gemExtensionDirs are where a gem's compiled extensions were built: `HOME/extensions/PLATFORM/VERSION/GEM`. */
async function gemExtensionDirs(c: ClosureCache, home: string, gem: string): Promise<string[]> {
  const out: string[] = [];
  for (const platform of [...((await listDir(c, `${home}/extensions`)) ?? [])].sort())
    for (const v of [...((await listDir(c, `${home}/extensions/${platform}`)) ?? [])].sort())
      if ((await listDir(c, `${home}/extensions/${platform}/${v}/${gem}`)) !== undefined)
        out.push(`${home}/extensions/${platform}/${v}/${gem}`);
  return out;
}

/** GEM_PREFIX starts the names rubyRequires gives a gem an application names (Gemfile): `gem:rack`. */
export const GEM_PREFIX = 'gem:';
/** RUBY_REQUIRE is a `require` of a literal name (not require_relative: the application's own files). */
const RUBY_REQUIRE = /(?<![\w.])require\s{0,16}\(?\s{0,16}(['"])([A-Za-z0-9_][\w./+-]{0,128})\1/g;
/** GEMFILE_GEM is a gem a Gemfile names (`gem 'rack', '~> 2.0'`); GEMFILE_LOCK_SPEC one a Gemfile.lock's specs list. */
const GEMFILE_GEM = /^[ \t]{0,16}gem[ \t(]{1,16}['"]([A-Za-z0-9][\w.-]{0,128})['"]/gm;
const GEMFILE_LOCK_SPEC = /^ {4}([A-Za-z0-9][\w.-]{0,128}) \(/gm;

/**
 * rubyRequires are the libraries a Ruby source requires by a literal name (`require 'webrick'`,
 * `require "xmlrpc/client"`), and, for a Gemfile or Gemfile.lock (`path`), the gems it names as
 * `gem:NAME`. Whole-line comments and what follows __END__ are not read.
 */
export function rubyRequires(text: string, path = ''): string[] {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (name === 'Gemfile.lock')
    return [...new Set([...text.matchAll(GEMFILE_LOCK_SPEC)].map((m) => `${GEM_PREFIX}${m[1]}`))];
  const code = text.split(/^__END__\s*$/m)[0]!.replace(/^\s*#.*$/gm, '');
  if (name === 'Gemfile' || name === 'gems.rb')
    return [...new Set([...code.matchAll(GEMFILE_GEM)].map((m) => `${GEM_PREFIX}${m[1]}`))];
  // (a name climbing out with `..` is no library of a load path)
  return [...new Set([...code.matchAll(RUBY_REQUIRE)].map((m) => m[2]!))].filter(
    (n) => !n.split('/').some((c) => c === '..' || c === '.' || c === ''),
  );
}

/** MAX_RUBY_LIBRARY_FILES bounds the files of third-party libraries and gems read for what they require in turn. */
const MAX_RUBY_LIBRARY_FILES = 2000;
/** MAX_RUBY_NAMES bounds the distinct names looked up (each costs a few lookups per gem installed). */
const MAX_RUBY_NAMES = 4000;

/**
 * rubyLibrariesPlan finds what an application's requires and Gemfile name outside Ruby's standard
 * library (which comes whole): a library of a vendor or site directory of its $LOAD_PATH
 * (`xmlrpc.rb` and `xmlrpc/`), or the installed gem whose `lib` holds it (webrick, from Debian's
 * rubygems-integration), shipped whole, its compiled extensions as libraries, and read in turn for what
 * it requires. A name found nowhere is left to the run (an optional require in a `rescue LoadError`).
 */
export async function rubyLibrariesPlan(
  c: ClosureCache,
  ih: InterpreterHome,
  names: readonly string[],
  probe: RuntimeProbe,
): Promise<RuntimePlan> {
  const entries: { path: string; kind: 'file' | 'dir' | 'program'; reason: string }[] = [];
  const homes = await gemHomes(c);
  const gemsOf = new Map<string, string[]>();
  const gems = async (home: string) => {
    const known = gemsOf.get(home);
    if (known !== undefined) return known;
    const g = [...((await listDir(c, `${home}/gems`)) ?? [])].sort();
    gemsOf.set(home, g);
    return g;
  };
  const has = async (p: string) => (await resolveOrMissing(c, p)).stat?.type === 'file';
  const shipped = new Set<string>();
  const queue: { name: string; by: string }[] = names.map((name) => ({ name, by: 'the application' }));
  const seen = new Set<string>();
  let read = 0;
  const ship = async (root: string, reason: string, skip?: (p: string) => boolean) => {
    if (shipped.has(root)) return;
    shipped.add(root);
    const found = (await has(root))
      ? [{ path: root, kind: 'file' as const }]
      : (await walkTree(c, root, skip ? { skip } : {})).entries;
    for (const e of found) {
      entries.push({ ...e, reason });
      if (e.kind !== 'file' || !e.path.endsWith('.rb') || read >= MAX_RUBY_LIBRARY_FILES) continue;
      read++;
      const text = await readTextCached(c, e.path, 1024 * 1024);
      for (const n of text === undefined ? [] : rubyRequires(text)) queue.push({ name: n, by: e.path });
    }
  };
  while (queue.length > 0) {
    const { name, by } = queue.shift()!;
    if (seen.has(name)) continue;
    if (seen.size >= MAX_RUBY_NAMES) break;
    seen.add(name);
    const gem = name.startsWith(GEM_PREFIX) ? name.slice(GEM_PREFIX.length) : undefined;
    if (gem === undefined) {
      // the standard library comes whole; a vendor or site library: its file and its directory
      let std = false;
      for (const d of ih.dirs) {
        std = (await has(`${d}/${name}.rb`)) || (await has(`${d}/${name}.so`));
        if (std) break;
      }
      if (std) continue;
      let found = false;
      for (const d of ih.thirdParty) {
        const ext = (await has(`${d}/${name}.rb`))
          ? '.rb'
          : (await has(`${d}/${name}.so`))
            ? '.so'
            : undefined;
        if (ext === undefined) continue;
        found = true;
        const reason = `${by} requires ${name}, found in ${d}`;
        const top = name.split('/')[0]!;
        if (await has(`${d}/${top}.rb`)) await ship(`${d}/${top}.rb`, reason);
        if ((await listDir(c, `${d}/${top}`)) !== undefined) await ship(`${d}/${top}`, reason);
        if (ext === '.so') await ship(`${d}/${name}.so`, reason);
        break;
      }
      if (found) continue;
    }
    // a gem: the one named, or the installed gem whose lib holds the required file (its newest version)
    for (const home of homes) {
      const candidates = (await gems(home)).filter((g) =>
        gem !== undefined ? /^(.+)-[0-9][^-]*$/.exec(g)?.[1] === gem : true,
      );
      let hit: { gem: string; ext: string[] } | undefined;
      for (const g of candidates.reverse()) {
        const ext = await gemExtensionDirs(c, home, g);
        if (
          gem !== undefined ||
          (await has(`${home}/gems/${g}/lib/${name}.rb`)) ||
          (await has(`${home}/gems/${g}/lib/${name}.so`)) ||
          (await Promise.all(ext.map((d) => has(`${d}/${name}.so`)))).some(Boolean)
        ) {
          hit = { gem: g, ext };
          break;
        }
      }
      if (hit === undefined) continue;
      const dir = `${home}/gems/${hit.gem}`;
      const reason = `${by} ${gem !== undefined ? `names the gem ${gem}` : `requires ${name}`}: the gem ${hit.gem}`;
      await ship(dir, reason, (p) => parentPath(p) === dir && /^(doc|test|tests|spec)$/.test(baseName(p)));
      for (const d of hit.ext) await ship(d, `${reason}, its compiled extensions`);
      break;
    }
  }
  const { items, leftOut } = await withNativeModules(
    entries,
    (p) => p.endsWith('.so'),
    'a compiled extension of a Ruby library (loaded by dlopen of its path)',
    probe,
  );
  return { items, leftOut, problems: [] };
}

/** MissingRuntime is an interpreter of an image whose standard library the image lacks. */
export interface MissingRuntime {
  /** `Python runtime`, `Perl runtime` … */
  readonly what: string;
  /** the object the expectation comes from (the program, its libpython/libperl/…) */
  readonly object: string;
  /** where the interpreter looks for it */
  readonly expected: readonly string[];
  /** how it shows at run time */
  readonly effect: string;
  /** whether the interpreter cannot start at all without it (Python, Java) or only loads no module (Perl, Ruby, Tcl) */
  readonly fatal: boolean;
}

/**
 * missingRuntime tells, for a root that is an image, whether its program is an interpreter recognised
 * as the closure recognises it (Java's launcher, CPython by its name or libpython, Perl, Ruby and Tcl by
 * their names or libraries) whose standard library is absent: what the inferences add when they run,
 * missing because they did not (`--no-infer`) or the image was built by other means. Undefined when the
 * program is no such interpreter, or its standard library is there.
 */
export async function missingRuntime(
  c: ClosureCache,
  real: string,
  objects: readonly { readonly real: string; readonly info: ElfInfo }[],
): Promise<MissingRuntime | undefined> {
  // Java: H/bin/java linking libjli.so; the launcher reads H/lib/jvm.cfg first thing
  const bin = parentPath(real);
  if (
    baseName(bin) === 'bin' &&
    objects.some((o) => o.info.soname === 'libjli.so') &&
    !(await listDir(c, `${parentPath(bin)}/lib`))?.has('jvm.cfg')
  ) {
    const cfg = `${parentPath(bin)}/lib/jvm.cfg`;
    return {
      what: 'Java runtime',
      object: real,
      expected: [cfg],
      effect: `the launcher stops with "Error: could not open \`${cfg}'"`,
      fatal: true,
    };
  }
  // CPython: the version from the program's name or libpython, the landmark lib/pythonX.Y/os.py
  const sonames = objects.flatMap((o) => (o.info.soname ? [o.info.soname] : []));
  let version = PYTHON_PROGRAM.exec(baseName(real))?.[1];
  for (const s of sonames) version ??= LIBPYTHON.exec(s)?.[1];
  if (version !== undefined && !(await findPythonHome(c, real, sonames))) {
    return {
      what: 'Python runtime',
      object: real,
      expected: [`/usr/lib/python${version}/os.py`],
      effect: `Python stops at start with "Fatal Python error: … No module named 'encodings'"`,
      fatal: true,
    };
  }
  // Perl, Ruby, Tcl: the directories compiled into the program or its library, none of them present
  for (const rule of LIBRARY_DIRS_INTERPRETERS) {
    for (const object of interpreterObjects(rule, real, objects)) {
      const dirs = (await cStrings(c, object, rule.dir)).filter((d) => !rule.thirdParty.test(d));
      if (dirs.length === 0) continue;
      for (const d of dirs) if ((await resolveOrMissing(c, d)).stat?.type === 'dir') return undefined;
      return {
        what: rule.what,
        object,
        expected: dirs,
        effect: 'it starts, but any script that loads a module of its standard library fails',
        fatal: false,
      };
    }
  }
  return undefined;
}

/**
 * ExecPathProgram describes a program that runs helper programs from a directory compiled into it (git's
 * GIT_EXEC_PATH) and reads data relative to its prefix: the helpers a container needs, and that data.
 */
interface ExecPathProgram {
  readonly what: string;
  readonly program: RegExp;
  /** the exec directory, as a NUL-terminated string of the program; absent: the helpers are run by name
   * from PATH, and those the root lacks are left out silently (optional, like tar's compressors) */
  readonly dir?: RegExp;
  /** helpers of that directory, with what they do */
  readonly helpers: readonly (readonly [string, string])[];
  /** directories relative to the prefix (the parent of the program's bin/), with what reads them */
  readonly data: readonly (readonly [string, string])[];
  /** helpers run by name from PATH by a program that also has an exec directory (git's ssh): those the
   * root lacks are left out silently */
  readonly pathHelpers?: readonly (readonly [string, string])[];
  /** why the program needs /bin/sh, when it runs commands through it */
  readonly shell?: string;
}

/** PATH_DIRS are where a helper run by name is looked for (Docker's default PATH, the usual part). */
const PATH_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];

const EXEC_PATH_PROGRAMS: readonly ExecPathProgram[] = [
  {
    what: 'git helpers',
    program: /^git$/,
    dir: /^\/[!-~]*\/git-core$/,
    // the other subcommands are git itself (links) or scripts needing a shell and perl: --add them
    helpers: [
      ['git-remote-http', 'git runs it to clone and fetch over http'],
      ['git-remote-https', 'git runs it to clone and fetch over https'],
      // links to git: git runs them (for local paths, and on the far side of ssh) by name
      ['git-upload-pack', 'git runs it to clone and fetch from a local path'],
      ['git-receive-pack', 'git runs it to push to a local path'],
      ['git-upload-archive', 'git runs it for git archive --remote'],
    ],
    // by name from PATH, for ssh:// and host:path remotes (GIT_SSH and core.sshCommand replace it)
    pathHelpers: [['ssh', 'git runs it to clone, fetch and push over ssh (git@host:repo)']],
    data: [['share/git-core/templates', 'git init and clone copy the templates (hooks, info/exclude)']],
    shell: 'git runs local transports (clone of a path), hooks, aliases and the editor through /bin/sh',
  },
  {
    what: 'gpg helpers',
    program: /^gpg2?$/,
    // GnuPG's bindir, compiled in: it starts gpg-agent from there (common/homedir.c gnupg_module_name)
    dir: /^\/[!-~]*\/bin$/,
    helpers: [
      [
        'gpg-agent',
        'gpg starts it for every secret-key operation (--symmetric, --sign, --decrypt, key generation)',
      ],
    ],
    data: [],
  },
  {
    what: 'tar compressors',
    program: /^g?tar$/,
    // tar runs the compressor of -z/-j/-J/--zstd by name: each one the root has
    helpers: [
      ['gzip', 'tar -z (and -xf of a .tar.gz) runs it'],
      ['bzip2', 'tar -j runs it'],
      ['xz', 'tar -J runs it'],
      ['zstd', 'tar --zstd runs it'],
    ],
    data: [],
    // GNU tar runs the compressor as `/bin/sh -c NAME` (src/system.c xexec)
    shell: 'tar runs its compressor through /bin/sh -c',
  },
  {
    // a driver of a formatting pipeline: it runs each stage by name from PATH, the output stage's name
    // made from the device (`gro` + `tty`), so no string of it names them all
    what: 'groff pipeline',
    program: /^groff$/,
    helpers: [
      ['troff', 'groff runs it to format, for every device'],
      ['grotty', 'groff runs it for -Tascii, -Tutf8 and -Tlatin1 (what nroff and man ask for)'],
      ['grops', 'groff runs it for -Tps, its default device'],
      ['tbl', 'groff -t runs it (tables)'],
      ['eqn', 'groff -e runs it (equations)'],
      ['pic', 'groff -p runs it (pictures)'],
      ['preconv', 'groff -k runs it (input encoding)'],
      ['soelim', 'groff -s runs it (.so requests)'],
    ],
    data: [],
  },
  {
    // man-db formats a page through a pipeline of programs it runs by name: nroff (a script running
    // groff, whose own stages come by the rule above), tbl for a page with tables, col -b for output
    // that is not a terminal
    what: 'man pipeline',
    program: /^man$/,
    helpers: [
      ['nroff', 'man formats a page for the terminal with it'],
      ['tbl', 'man runs it for a page with tables (every page in section 1 of many packages)'],
      ['eqn', 'man runs it for a page with equations'],
      ['col', 'man runs col -b when its output is not a terminal'],
    ],
    data: [],
  },
  {
    // zip -T tests the archive it wrote with `unzip -tqq`, through system(): the command is written
    // into zip's code as immediate operands, so no string of zip names unzip
    what: 'zip tester',
    program: /^zip$/,
    helpers: [['unzip', 'zip -T runs unzip -tqq to test the archive it wrote']],
    data: [],
    shell: 'zip -T runs unzip through /bin/sh -c (system())',
  },
  {
    // glibc's localedef reads the character maps of /usr/share/i18n/charmaps, which Debian ships
    // gzipped (UTF-8.gz): it opens a compressed one through popen("gzip -dc …")
    what: 'localedef decompressor',
    program: /^localedef$/,
    helpers: [['gzip', 'localedef runs gzip -dc to read a gzipped character map (UTF-8.gz)']],
    data: [],
    shell: 'localedef runs gzip through /bin/sh -c (popen())',
  },
  {
    what: 'rsync remote shell',
    program: /^rsync$/,
    // rsync's default remote shell (-e, RSYNC_RSH), run by name from PATH for host:path
    helpers: [['ssh', 'rsync runs it for host:path transfers (its default remote shell)']],
    data: [],
  },
  {
    // programs whose work is running shell command lines: make's recipes, watch's command
    what: 'shell of make',
    program: /^g?make$/,
    helpers: [],
    data: [],
    shell: 'make runs every recipe line through /bin/sh -c (its default SHELL)',
  },
  {
    what: 'shell of watch',
    program: /^watch$/,
    helpers: [],
    data: [],
    shell: 'watch runs its command through /bin/sh -c (unless -x)',
  },
];

/**
 * execPathPlan lists the helpers and data of a program of EXEC_PATH_PROGRAMS (git): the helpers of its
 * compiled-in exec directory as programs (each with its closure: libcurl and the CA bundle for
 * git-remote-https), /bin/sh when it runs commands through it, the data directories whole. Undefined for other programs, or when the root has
 * neither.
 */
export async function execPathPlan(
  c: ClosureCache,
  real: string,
): Promise<(RuntimePlan & { readonly what: string }) | undefined> {
  const rule = EXEC_PATH_PROGRAMS.find((r) => r.program.test(baseName(real)));
  if (!rule) return undefined;
  const items: RuntimeItem[] = [];
  const problems: string[] = [];
  // helpers run by name: the first of PATH_DIRS holding each one
  for (const [name, why] of rule.dir ? (rule.pathHelpers ?? []) : rule.helpers) {
    for (const d of PATH_DIRS) {
      if ((await resolveOrMissing(c, `${d}/${name}`)).stat?.type !== 'file') continue;
      items.push({ path: `${d}/${name}`, kind: 'program', reason: why });
      break;
    }
  }
  for (const dir of rule.dir ? await cStrings(c, real, rule.dir) : []) {
    // the first directory named that holds the first helper (a binary names other bin/ directories too)
    const first = rule.helpers[0];
    if (!first || (await resolveOrMissing(c, `${dir}/${first[0]}`)).stat?.type !== 'file') continue;
    for (const [name, why] of rule.helpers) {
      const p = `${dir}/${name}`;
      if ((await resolveOrMissing(c, p)).stat?.type === 'file')
        items.push({ path: p, kind: 'program', reason: why });
      else problems.push(`${p} is not in the root: ${why}`);
    }
    break;
  }
  if (rule.shell) {
    if ((await resolveOrMissing(c, '/bin/sh')).stat?.type === 'file')
      items.push({ path: '/bin/sh', kind: 'program', reason: rule.shell });
    else problems.push(`/bin/sh is not in the root: ${rule.shell}`);
  }
  const bin = parentPath(real);
  const prefix = baseName(bin) === 'bin' ? parentPath(bin) : undefined;
  for (const [rel, why] of prefix === undefined ? [] : rule.data) {
    const w = await walkTree(c, `${prefix === '/' ? '' : prefix}/${rel}`);
    items.push(...w.entries.map((e) => ({ ...e, reason: why })));
  }
  if (items.length === 0) return undefined;
  return { what: rule.what, items, leftOut: [], problems };
}

/**
 * programKind tells whether a root file is one the closure adds as a program: an executable ELF
 * program (a PT_INTERP and no SONAME: a shared object is the module rules') or an executable `#!`
 * script. `elf` parses the file at its real path (the caller's reader); only a file with an ELF header
 * is given to it. Undefined for anything else.
 */
export async function programKind(
  c: ClosureCache,
  path: string,
  elf: (real: string) => Promise<ElfInfo | undefined>,
): Promise<'elf' | 'script' | undefined> {
  const r = await resolveOrMissing(c, path);
  if (r.stat?.type !== 'file' || (r.stat.mode & 0o111) === 0) return undefined;
  if (await readHeader(c, r.path)) {
    const info = await elf(r.path);
    return info?.soname === undefined && info?.interpreter !== undefined ? 'elf' : undefined;
  }
  const head = await c.fs.read(r.path, { offset: 0, length: 2 }).catch(() => undefined);
  return head !== undefined && isShebang(head) ? 'script' : undefined;
}

/** OTP_SKIP are the names under an Erlang/OTP root that are not its runtime: sources, headers, documentation. */
const OTP_SKIP = /^(src|c_src|include|examples|doc|man|html|info|usr|misc)$|\.(erl|hrl|c|h|pdf)$/;

/**
 * otpRoot finds the Erlang/OTP root of a program of it: `R/erts-V/bin/erlexec` (what the `erl` script
 * runs), `R/bin/escript`, `R/erts-V/bin/beam.smp` … where R holds `bin/start.boot` and an `erts-V/bin`
 * with erlexec. Undefined for any other program.
 */
export async function otpRoot(c: ClosureCache, real: string): Promise<string | undefined> {
  const bin = parentPath(real);
  if (baseName(bin) !== 'bin') return undefined;
  const up = parentPath(bin);
  const root = /^erts-[0-9][0-9.]*$/.test(baseName(up)) ? parentPath(up) : up;
  if (root === '/' || !(await listDir(c, `${root}/bin`))?.has('start.boot')) return undefined;
  for (const n of (await listDir(c, root)) ?? [])
    if (/^erts-[0-9][0-9.]*$/.test(n) && (await listDir(c, `${root}/${n}/bin`))?.has('erlexec')) return root;
  return undefined;
}

/**
 * otpRuntimePlan lists an Erlang/OTP root: the emulator and its helpers (`erts-V/bin`: beam.smp, which
 * erlexec runs by path, erl_child_setup, inet_gethost, epmd) as programs with their own closures, the
 * boot scripts of `bin/`, every application's `ebin` (and `priv`, whose NIFs and drivers are loaded by
 * dlopen of their path) and `releases/`; not sources, headers or documentation. Without it `erl` stops
 * with `erlexec: The emulator 'smp' does not exist`.
 */
export async function otpRuntimePlan(
  c: ClosureCache,
  root: string,
  probe: RuntimeProbe,
): Promise<RuntimePlan> {
  const w = await walkTree(c, root, { skip: (p) => OTP_SKIP.test(baseName(p)) });
  const entries: { path: string; kind: 'file' | 'dir'; reason: string }[] = [];
  const programs: RuntimeItem[] = [];
  const reason = `the Erlang/OTP root ${root}`;
  for (const e of w.entries) {
    // the ELF programs and the scripts of a bin/ (escript runs bin/erl, a shell script): programs, each
    // with its closure
    const inBin = e.kind === 'file' && baseName(parentPath(e.path)) === 'bin';
    if (inBin && (await programKind(c, e.path, () => probe.elf(e.path))))
      programs.push({ path: e.path, kind: 'program', reason: `${reason}: a program of its emulator` });
    else entries.push({ ...e, reason });
  }
  // escript and erlc run `erl` by name: the links of PATH's directories into the root (/usr/bin/erl)
  for (const d of PATH_DIRS)
    for (const n of [...((await listDir(c, d)) ?? [])].sort()) {
      const r = await resolveOrMissing(c, `${d}/${n}`);
      if (
        r.links.length > 0 &&
        r.stat?.type === 'file' &&
        r.path.startsWith(`${root}/`) &&
        programs.some((p) => p.path === r.path)
      )
        programs.push({
          path: `${d}/${n}`,
          kind: 'program',
          reason: `${reason}: its programs run it by name (on PATH)`,
        });
    }
  const { items, leftOut } = await withNativeModules(
    entries,
    (p) => p.endsWith('.so') && p.includes('/priv/'),
    `${reason}: a NIF or driver (loaded by dlopen of its path)`,
    probe,
  );
  return {
    items: [...items, ...programs],
    leftOut,
    problems: w.truncated ? [`${root} has too many entries: the rest left out`] : [],
  };
}

/** PYTHON_COMMAND_PATH is where a program a Python source runs by name is looked for (Docker's default PATH). */
const PYTHON_COMMAND_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** MAX_PYTHON_SCANNED bounds the Python files whose imports are read (an application and its packages). */
const MAX_PYTHON_SCANNED = 5000;

/** RUNS starts the name pythonImports gives a program a script runs by name: `runs:jq`. */
export const RUNS = 'runs:';
/**
 * LIBRARY starts the name pythonLibraries gives a C library a source loads at run time through ctypes
 * or cffi: `library:png16` (a name for find_library), `library:libpng16.so.16` (a SONAME).
 */
export const LIBRARY = 'library:';
/** PY_FIND_LIBRARY is ctypes.util.find_library of a literal name: `find_library("magic")`. */
const PY_FIND_LIBRARY = /\bfind_library\(\s{0,16}['"]([A-Za-z0-9][\w.+-]{0,64})['"]/g;
/** PY_LOAD_LIBRARY is a library loaded by its SONAME: `CDLL("libpng16.so.16")`, `cdll.LoadLibrary(…)`, cffi's `ffi.dlopen(…)`. */
const PY_LOAD_LIBRARY =
  /\b(?:CDLL|PyDLL|LoadLibrary|dlopen)\(\s{0,16}['"](lib[\w+-][\w.+-]{0,96}\.so(?:\.[0-9]{1,8}){0,4})['"]/g;

/**
 * pythonLibraries are the C libraries a Python source loads at run time by a literal name, as LIBRARY
 * names: `ctypes.util.find_library("magic")` (`library:magic`), `ctypes.CDLL("libpng16.so.16")`,
 * cffi's `ffi.dlopen("libz.so.1")` (`library:libz.so.1`).
 */
export function pythonLibraries(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(PY_FIND_LIBRARY)) out.add(`${LIBRARY}${m[1]}`);
  for (const m of text.matchAll(PY_LOAD_LIBRARY)) out.add(`${LIBRARY}${m[1]}`);
  return [...out];
}

/** LDCONFIG is where ctypes.util.find_library runs ldconfig (`/sbin/ldconfig -p`, reading /etc/ld.so.cache). */
const LDCONFIG = '/sbin/ldconfig';
/** SUBPROCESS_CALL is a subprocess call whose command is a list starting with a literal name: `Popen(["jq", …` */
/** PY_SUBPROCESS is the calls that run a command: subprocess's and their names imported alone. */
const PY_SUBPROCESS = String.raw`subprocess\.(?:run|call|check_call|check_output|Popen)|Popen|check_call|check_output`;
const SUBPROCESS_CALL = new RegExp(
  String.raw`\b(?:${PY_SUBPROCESS}|os\.(?:exec|spawn)[lv]pe?)\(\s{0,16}\[?\s{0,16}['"]([A-Za-z0-9][\w.+-]{0,64})['"]`,
  'g',
);

/**
 * pythonCommands are the programs a Python source runs by name through subprocess or os.exec*p
 * (`subprocess.Popen(["jq"] + args)`: yq, a jq wrapper) or looks up with `shutil.which("ffmpeg")`,
 * found on PATH when it runs, also through a list built in a variable first (`cmd = ["ffmpeg", …]`
 * then `subprocess.run(cmd)`); and for a command line it gives the shell (`os.system("gzip -k x")`,
 * `shell=True`), /bin/sh and the program the line starts with.
 */
export function pythonCommands(text: string): string[] {
  const out = new Set([...text.matchAll(SUBPROCESS_CALL)].map((m) => m[1]!));
  // a program looked up to be run (`shutil.which("ffmpeg")`), as a shell script's `command -v`
  for (const m of text.matchAll(/\bshutil\.which\(\s{0,16}['"]([A-Za-z0-9][\w.+-]{0,64})['"]/g))
    out.add(m[1]!);
  // a command list built in a variable, then run (`cmd = ["ffmpeg", "-i", f]` … `subprocess.run(cmd)`)
  const lists = new Map<string, string>();
  for (const m of text.matchAll(PY_LIST_ASSIGN)) lists.set(m[1]!, m[2]!);
  for (const m of text.matchAll(PY_CALL_VARIABLE)) {
    const program = lists.get(m[1]!);
    if (program !== undefined) out.add(program);
  }
  // a command line run by the shell: /bin/sh, and the program it starts with
  const lines = [...text.matchAll(SHELL_CALL)].map((m) => m.groups!.c ?? m.groups!.d ?? '');
  if (lines.length > 0) out.add('/bin/sh');
  for (const w of lines.map(commandWord)) if (w !== undefined) out.add(w);
  // a program from the environment with a default (`os.environ.get("FFMPEG_BIN", "ffmpeg")`)
  if (/\b(?:subprocess|Popen|os\.(?:system|popen|exec[lv]p?e?|spawn[lv]p?e?))\b/.test(text))
    for (const w of envDefaultPrograms(text, PY_ENV_DEFAULT)) out.add(w);
  return [...out];
}

/** PY_ENV_DEFAULT is a value from the environment with a literal default: `os.getenv("GIT", "git")`, `os.environ.get("X") or "x"`. */
const PY_ENV_DEFAULT = [
  /\bos\.(?:environ\.get|getenv)\(\s{0,16}(?<a>['"])(?<n>[A-Za-z_]\w{0,64})\k<a>\s{0,16}(?:,\s{0,16}|\)\s{0,16}or\s{1,16})(?<q>['"])(?<v>[^'"\n]{1,128})\k<q>/g,
];

/** PY_LIST_ASSIGN is a name given a list that starts with a literal program: `cmd = ["ffmpeg", …`. */
const PY_LIST_ASSIGN =
  /^[ \t]{0,64}([A-Za-z_]\w{0,64})\s{0,16}=\s{0,16}\[\s{0,16}['"]([A-Za-z0-9][\w.+-]{0,64}|\/[\w.+@/-]{1,128})['"]/gm;
/** PY_CALL_VARIABLE is a subprocess call whose command is a name: `subprocess.run(cmd, check=True)`. */
const PY_CALL_VARIABLE = new RegExp(
  String.raw`\b(?:${PY_SUBPROCESS})\(\s{0,16}([A-Za-z_]\w{0,64})\s{0,16}[,)]`,
  'g',
);

/**
 * RUBY_RUNS find where a Ruby source runs a program by a literal command (group `c`): `system`, `exec`,
 * `spawn`, `IO.popen` and Open3's calls with a string or an array starting with one, backquotes and
 * `%x(…)`.
 */
const RUBY_RUNS: readonly RegExp[] = [
  /(?<![.\w])(?:system|exec|spawn|IO\.popen|Open3\.(?:capture2e?|capture3|popen2e?|popen3|pipeline\w{0,8}))\s{0,16}\(?\s{0,16}\[?\s{0,16}(['"])(?<c>[^'"\n]{1,256})\1/g,
  /`(?<c>[^`\n]{1,256})`/g,
  /%x(?:\((?<c>[^)\n]{1,256})\)|\{(?<d>[^}\n]{1,256})\}|\[(?<e>[^\]\n]{1,256})\])/g,
];

/**
 * rubyCommands are the programs a Ruby source runs by a literal name (RUBY_RUNS), and /bin/sh first
 * when a command string holds shell metacharacters (Ruby then runs it as `/bin/sh -c`, as Perl does);
 * whole-line comments and what follows __END__ are not read.
 */
export function rubyCommands(text: string): string[] {
  const code = text
    .split(/^__END__\s*$/m)[0]!
    .replace(/^\s*#.*$/gm, '')
    .replace(/^=begin\b[\s\S]*?^=end\b.*$/gm, '');
  const commands: string[] = [];
  for (const re of RUBY_RUNS)
    for (const m of code.matchAll(re)) commands.push(m.groups!.c ?? m.groups!.d ?? m.groups!.e ?? '');
  const out = new Set<string>();
  // (an interpolation `#{tool}` is Ruby's, not the shell's)
  if (commands.some((c) => needsShell(c) && !c.includes('#{'))) out.add('/bin/sh');
  for (const w of commands.map(commandWord)) if (w !== undefined) out.add(w);
  // a program from the environment with a default (`ENV['GIT'] || 'git'`, `ENV.fetch('EDITOR', 'vi')`)
  if (/\b(?:system|exec|spawn|IO\.popen|Open3)\b|`|%x/.test(code))
    for (const w of envDefaultPrograms(code, RUBY_ENV_DEFAULT)) out.add(w);
  return [...out];
}

/** RUBY_ENV_DEFAULT is a value from the environment with a literal default: `ENV['GIT'] || 'git'`, `ENV.fetch('GIT', 'git')`. */
const RUBY_ENV_DEFAULT = [
  /\bENV\[\s{0,8}(?<a>['"])(?<n>[A-Za-z_]\w{0,64})\k<a>\s{0,8}\]\s{0,16}(?:\|\||\bor\b)\s{0,16}(?<q>['"])(?<v>[^'"\n]{1,128})\k<q>/g,
  /\bENV\.fetch\(\s{0,8}(?<a>['"])(?<n>[A-Za-z_]\w{0,64})\k<a>\s{0,8},\s{0,8}(?<q>['"])(?<v>[^'"\n]{1,128})\k<q>/g,
];

/** PHP_SHELL_CALL is a command line a PHP source gives the shell: shell_exec, exec, system, passthru, popen, proc_open, backquotes. */
const PHP_SHELL_CALL =
  /\b(?:shell_exec|exec|system|passthru|popen|proc_open)\s{0,16}\(\s{0,16}(['"])(?<c>[^'"\n]{1,256})\1|`(?<d>[^`\n]{1,256})`/g;
/** PHP_RUN_CALL is a program proc_open runs itself, named first in an array (PHP 7.4). */
const PHP_RUN_CALL = /\bproc_open\s{0,16}\(\s{0,16}\[\s{0,16}(['"])(?<p>[^'"\n]{1,128})\1/g;

/**
 * phpCommands are the programs a PHP source runs by a literal name: what its shell_exec, exec, system,
 * passthru, popen, proc_open and backquotes give `/bin/sh -c` (with /bin/sh, which PHP always runs
 * them through), and the program of a proc_open array.
 */
export function phpCommands(text: string): string[] {
  const out = new Set<string>();
  const lines = [...text.matchAll(PHP_SHELL_CALL)].map((m) => m.groups!.c ?? m.groups!.d!);
  if (lines.length > 0) out.add('/bin/sh');
  for (const w of [...lines, ...[...text.matchAll(PHP_RUN_CALL)].map((m) => m.groups!.p!)].map(commandWord))
    if (w !== undefined) out.add(w);
  // a program from the environment with a default (`getenv('GIT_BIN') ?: 'git'`)
  if (/\b(?:shell_exec|exec|system|passthru|popen|proc_open)\s{0,16}\(|`/.test(text))
    for (const w of envDefaultPrograms(text, PHP_ENV_DEFAULT)) out.add(w);
  return [...out];
}

/** PHP_ENV_DEFAULT is a value from the environment with a literal default: `getenv('GIT') ?: 'git'`, `$_ENV['GIT'] ?? 'git'`. */
const PHP_ENV_DEFAULT = [
  /(?:\bgetenv\(\s{0,8}(?<a>['"])(?<n>[A-Za-z_]\w{0,64})\k<a>\s{0,8}\)|\$_(?:ENV|SERVER)\[\s{0,8}(?<b>['"])(?<m>[A-Za-z_]\w{0,64})\k<b>\s{0,8}\])\s{0,16}(?:\?:|\?\?|\|\|)\s{0,16}(?<q>['"])(?<v>[^'"\n]{1,128})\k<q>/g,
];

/** NODE_RUNNERS are child_process's calls that run a program themselves, without a shell. */
const NODE_RUNNERS = 'spawn|spawnSync|execFile|execFileSync';
/** NODE_SHELL_CALL is a command line a Node.js source gives the shell: child_process `exec`/`execSync`. */
const NODE_SHELL_CALL = /\bexec(?:Sync)?\(\s{0,16}(['"`])(?<c>[^'"`\n]{1,256})\1/g;
/** NODE_RUN_CALL is a program a Node.js source runs itself: `spawn`, `spawnSync`, `execFile`, `execFileSync`. */
const NODE_RUN_CALL = new RegExp(
  String.raw`\b(?:${NODE_RUNNERS})\(\s{0,16}(['"${'`'}])(?<p>[A-Za-z0-9/][\w./+@-]{0,128})\1`,
  'g',
);

/**
 * nodeCommands are the programs a Node.js source runs through child_process by a literal name:
 * `spawn('ffmpeg', …)`, `execFileSync('git', …)`, also through a constant (`const FFMPEG = 'ffmpeg'`
 * then `spawn(FFMPEG, …)`), and for a command line given to the shell
 * (`exec('convert a.png b.jpg')`, `execSync(…)`, `shell: true`) /bin/sh and the program it starts
 * with. Only in a source that names child_process (a RegExp's exec is no such call).
 */
export function nodeCommands(text: string): string[] {
  if (!text.includes('child_process')) return [];
  const out = new Set<string>();
  const lines = [...text.matchAll(NODE_SHELL_CALL)].map((m) => m.groups!.c!);
  if (lines.length > 0 || /\bshell\s{0,16}:\s{0,16}(?:true|['"]\/bin\/sh['"])/.test(text)) out.add('/bin/sh');
  for (const w of [...lines, ...[...text.matchAll(NODE_RUN_CALL)].map((m) => m.groups!.p!)].map(commandWord))
    if (w !== undefined) out.add(w);
  // a program in a constant, then run (`const FFMPEG = 'ffmpeg'` … `spawn(FFMPEG, args)`)
  const names = new Map<string, string>();
  for (const m of text.matchAll(NODE_CONST)) names.set(m[1]!, m[3]!);
  for (const m of text.matchAll(NODE_RUN_VARIABLE)) {
    const w = commandWord(names.get(m[1]!) ?? '');
    if (w !== undefined) out.add(w);
  }
  // a program from the environment with a default (`process.env.FFMPEG_PATH || 'ffmpeg'`)
  for (const w of envDefaultPrograms(text, NODE_ENV_DEFAULT)) out.add(w);
  return [...out];
}

/** NODE_ENV_DEFAULT is a value from the environment with a literal default: `process.env.GIT || 'git'`. */
const NODE_ENV_DEFAULT = [
  /\bprocess\.env(?:\.(?<n>[A-Za-z_$][\w$]{0,64})|\[\s{0,8}(?<a>['"])(?<m>[A-Za-z_]\w{0,64})\k<a>\s{0,8}\])\s{0,16}(?:\|\||\?\?)\s{0,16}(?<q>['"`])(?<v>[^'"`\n$]{1,128})\k<q>/g,
];

/** NODE_CONST is a name given a literal string: `const FFMPEG = 'ffmpeg'`. */
const NODE_CONST =
  /\b(?:const|let|var)\s{1,16}([A-Za-z_$][\w$]{0,64})\s{0,16}=\s{0,16}(['"`])([^'"`\n$]{1,128})\2/g;
/** NODE_RUN_VARIABLE is a spawn or execFile whose program is a name: `spawn(FFMPEG, args)`. */
const NODE_RUN_VARIABLE = new RegExp(
  String.raw`\b(?:${NODE_RUNNERS})\(\s{0,16}([A-Za-z_$][\w$]{0,64})\s{0,16}[,)]`,
  'g',
);

/**
 * SHELL_CALL is a command line a Python source gives the shell: `os.system("…")`, `os.popen("…")`,
 * `subprocess.getoutput("…")` / `getstatusoutput`, or a subprocess call with a string and `shell=True`
 * on the same line.
 */
const SHELL_CALL = new RegExp(
  String.raw`\b(?:os\.(?:system|popen)|subprocess\.(?:getoutput|getstatusoutput))\(\s{0,16}[rbf]?(['"])(?<c>[^'"\n]{1,256})\1` +
    String.raw`|\b(?:${PY_SUBPROCESS})\(\s{0,16}[rbf]?(['"])(?<d>[^'"\n]{1,256})\3[^\n]{0,256}\bshell\s{0,4}=\s{0,4}True`,
  'g',
);

/** ENTRY_POINT starts the name pythonImports gives an entry point a script loads: `entry-point:DIST:GROUP:NAME`. */
export const ENTRY_POINT = 'entry-point:';
const ENTRY_POINT_CALL =
  /\bload_entry_point\(\s{0,16}['"]([A-Za-z0-9][A-Za-z0-9._ -]{0,128}?)(?:\s{0,8}[=<>!~][^'"]{0,64})?['"]\s{0,16},\s{0,16}['"]([\w.-]{1,128})['"]\s{0,16},\s{0,16}['"]([\w.-]{1,128})['"]\s{0,16}\)/g;

/**
 * pythonImports returns the top-level module names a Python source imports: `import a.b, c as d` and
 * `from a.b import x` (not relative `from . import`), read line by line as CPython's modulefinder would
 * see them at the start of a statement (imports inside functions and `try:` blocks count too: a missing
 * optional module is the same ImportError the host would raise without it).
 */
export function pythonImports(text: string): string[] {
  const out = new Set<string>();
  // a console script of setuptools' EASY-INSTALL form loads its module through the distribution's
  // entry points: `load_entry_point('Pygments==2.14.0', 'console_scripts', 'pygmentize')`
  for (const m of text.matchAll(ENTRY_POINT_CALL)) out.add(`${ENTRY_POINT}${m[1]!.trim()}:${m[2]}:${m[3]}`);
  for (const line of text.split('\n')) {
    const m =
      /^\s*(?:import\s+([\w.]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*)|from\s+([\w][\w.]*)\s+import\b)/.exec(
        line,
      );
    if (!m) continue;
    const names = m[1] ? m[1].split(',').map((s) => s.trim().split(/\s+/)[0]!) : [m[2]!];
    for (const n of names) if (n) out.add(n.split('.')[0]!);
  }
  return [...out];
}

/**
 * pythonCommandLineImports are what a python command line loads by name: the module of `-m NAME`
 * (`python3 -m pip`, `-m uvicorn main:app`: its top-level package) and the imports of `-c CODE`. Read
 * from the first python of the argv (the image's entrypoint then cmd); its options before are skipped.
 */
export function pythonCommandLineImports(argv: readonly string[]): string[] {
  const at = argv.findIndex((a) => /^python[\d.]*$/.test(baseName(a)));
  if (at === -1) return [];
  for (let i = at + 1; i < argv.length; i++) {
    const a = argv[i]!;
    // the options taking a value (-W, -X, -Q) and those that do not (-u, -B, -I …), grouped or not
    const m = /^-([bBdEhiIOPqRsSuvVx]*)([mcWX])(.*)$/.exec(a);
    if (m === null) {
      if (/^-[bBdEhiIOPqRsSuvVx]+$/.test(a)) continue;
      return []; // a script, `--`, or an option this reader does not know: python runs that
    }
    const value = m[3] !== '' ? m[3]! : argv[++i];
    if (value === undefined) return [];
    if (m[2] === 'm') return [value.split('.')[0]!].filter((n) => /^[A-Za-z_]\w*$/.test(n));
    // (statements on one line, as a shell command line writes them)
    if (m[2] === 'c') return pythonImports(value.replace(/;/g, '\n'));
  }
  return [];
}

/**
 * pythonPackagesPlan lists the third-party packages an application imports (`imports`: the top-level
 * names its sources import, read by the build) from the system's site directories (Debian's `/usr/lib/python3/dist-packages`, `/usr/local/lib/pythonX.Y/
 * dist-packages`, `PREFIX/lib/pythonX.Y/site-packages`) — what `apt install python3-yaml` put there:
 * each package whole (a directory with its `*.dist-info`/`*.egg-info`, or a module file), its extension
 * modules mapped as libraries, and, in turn, what its own sources import. Imports are resolved as
 * CPython's path finder does, in sys.path order: the standard library (already in the image), then the
 * site directories; names found nowhere are left to the run (an optional import, or a module the
 * application ships itself). The application's own files are not read here, so an edit of one does not
 * void the closure memo (the build reads them; the names are in the memo key).
 */
export async function pythonPackagesPlan(
  c: ClosureCache,
  ph: PythonHome,
  imports: readonly string[],
  probe: RuntimeProbe,
): Promise<RuntimePlan> {
  const prefix = ph.prefix === '/' ? '' : ph.prefix;
  const stdlib = `${prefix}/lib/python${ph.version}`;
  const sites = [
    `/usr/local/lib/python${ph.version}/dist-packages`,
    `${prefix}/lib/python3/dist-packages`,
    `${stdlib}/site-packages`,
  ];
  const ext = (n: string) => new RegExp(`^${n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\.[\\w-]+)?\\.so$`);
  const entries: { path: string; kind: 'file' | 'dir' | 'program'; reason: string }[] = [];
  const problems: string[] = [];
  const done = new Set<string>();
  const metadata = new Map<string, Promise<Map<string, string[]>>>();
  /** module names to resolve, with who imports them; then the sources of the packages added */
  const names: { name: string; by: string }[] = imports.map((name) => ({ name, by: 'the application' }));
  const libraries: RuntimeItem[] = [];
  let ldconfig = false;
  const queue: string[] = [];
  const scanned = new Set<string>();
  while (names.length > 0 || (queue.length > 0 && scanned.size < MAX_PYTHON_SCANNED)) {
    if (names.length === 0) {
      const file = queue.shift()!;
      if (scanned.has(file)) continue;
      scanned.add(file);
      const text = await readTextCached(c, file, 4 * 1024 * 1024);
      for (const name of text === undefined ? [] : [...pythonImports(text), ...pythonLibraries(text)])
        names.push({ name, by: file });
      continue;
    }
    const { name, by } = names.shift()!;
    if (done.has(name)) continue;
    done.add(name);
    if (name.startsWith(RUNS)) {
      // a program it runs by name: the first of PATH's directories (Docker's default) that has it
      const command = name.slice(RUNS.length);
      for (const d of command.startsWith('/') ? [''] : PYTHON_COMMAND_PATH) {
        const p = `${d}${d === '' ? '' : '/'}${command}`;
        const r = await resolveOrMissing(c, p);
        if (r.stat?.type !== 'file' || (r.stat.mode & 0o111) === 0) continue;
        entries.push({ path: p, kind: 'program', reason: `${by} runs ${command} by name (subprocess)` });
        break;
      }
      continue;
    }
    if (name.startsWith(LIBRARY)) {
      // a C library loaded through ctypes or cffi: mapped with what it needs; for find_library, the
      // ldconfig it runs (the build writes the image's ld.so.cache for it to read)
      const request = name.slice(LIBRARY.length);
      const path = await probe.library?.(request);
      if (path === undefined) continue;
      libraries.push({ path, kind: 'library', reason: `${by} loads ${request} at run time (ctypes, cffi)` });
      if (!request.includes('.so') && !ldconfig) {
        const r = await resolveOrMissing(c, LDCONFIG);
        if (r.stat?.type === 'file' && (r.stat.mode & 0o111) !== 0) {
          ldconfig = true;
          entries.push({
            path: LDCONFIG,
            kind: 'program',
            reason: `${by} calls ctypes.util.find_library, which runs ${LDCONFIG} -p to read /etc/ld.so.cache`,
          });
        }
      }
      continue;
    }
    if (name.startsWith(ENTRY_POINT)) {
      // the distribution's metadata, and the module its entry point names, imported in turn
      const [dist = '', group = '', entry = ''] = name.slice(ENTRY_POINT.length).split(':');
      for (const site of sites) {
        const meta = await distributionInfo(c, site, dist);
        if (meta === undefined) continue;
        const reason = `${by} loads its entry point ${group}/${entry}: the metadata of distribution ${dist}`;
        const w = await walkTree(c, `${site}/${meta}`);
        entries.push(...w.entries.map((e) => ({ ...e, reason })));
        const text = await readTextCached(c, `${site}/${meta}/entry_points.txt`, 1024 * 1024);
        const target = text === undefined ? undefined : entryPointModule(text, group, entry);
        if (target !== undefined) {
          names.push({ name: target.split('.')[0]!, by: `${site}/${meta}/entry_points.txt` });
          // the programs the entry point's own module runs by name (yq's `jq`)
          const base = `${site}/${target.replace(/\./g, '/')}`;
          const file = await firstEntry(c, [`${base}.py`, `${base}/__init__.py`]);
          const code = file === undefined ? undefined : await readTextCached(c, file, 4 * 1024 * 1024);
          for (const cmd of code === undefined ? [] : pythonCommands(code))
            names.push({ name: `${RUNS}${cmd}`, by: file! });
        }
        break;
      }
      continue;
    }
    // the standard library is in the image already
    if (await firstEntry(c, [`${stdlib}/${name}.py`, `${stdlib}/${name}`])) continue;
    if ([...((await listDir(c, `${stdlib}/lib-dynload`)) ?? [])].some((f) => ext(name).test(f))) continue;
    for (const site of sites) {
      const listing = await listDir(c, site);
      if (!listing) continue;
      const reason = `imported by ${by}: a package of ${site}`;
      if (listing.has(name) && (await resolveOrMissing(c, `${site}/${name}`)).stat?.type === 'dir') {
        const w = await walkTree(c, `${site}/${name}`, { skip: (p) => baseName(p) === '__pycache__' });
        entries.push(...w.entries.map((e) => ({ ...e, reason })));
        if (w.truncated) problems.push(`${site}/${name} has too many entries: the rest left out`);
        for (const e of w.entries) if (e.kind === 'file' && e.path.endsWith('.py')) queue.push(e.path);
      } else if (listing.has(`${name}.py`)) {
        entries.push({ path: `${site}/${name}.py`, kind: 'file', reason });
        queue.push(`${site}/${name}.py`);
      } else {
        const so = [...listing].find((f) => ext(name).test(f));
        if (so === undefined) continue;
        entries.push({ path: `${site}/${so}`, kind: 'file', reason });
      }
      // the distribution's metadata (importlib.metadata reads versions and entry points from it)
      for (const meta of (await siteMetadata(c, site, metadata)).get(name) ?? []) {
        const w = await walkTree(c, `${site}/${meta}`);
        entries.push(...w.entries.map((e) => ({ ...e, reason: `${reason} (its metadata)` })));
      }
      break;
    }
  }
  if (queue.length > 0)
    problems.push(`more than ${MAX_PYTHON_SCANNED} Python files import one another: the rest not read`);
  // extension modules import from C, not from Python sources (cffi's generated modules import
  // `_cffi_backend`): a top-level extension module of a site directory named in an added module's bytes
  const added = new Set(entries.map((e) => e.path));
  for (const site of sites) {
    const tops = [...((await listDir(c, site)) ?? [])].filter((f) => /^[A-Za-z_]\w*(\.[\w-]+)?\.so$/.test(f));
    const wanted = tops.filter((f) => !added.has(`${site}/${f}`));
    if (wanted.length === 0) continue;
    const names = wanted.map((f) => f.split('.')[0]!);
    for (const so of [...added].filter((p) => p.endsWith('.so'))) {
      const found = await bytesFound(c, so, names);
      for (const f of wanted) {
        const p = `${site}/${f}`;
        if (added.has(p) || !found.has(f.split('.')[0]!)) continue;
        added.add(p);
        entries.push({
          path: p,
          kind: 'file',
          reason: `${so} imports it from C (its name is in the module's bytes)`,
        });
      }
    }
  }
  const { items, leftOut } = await withNativeModules(
    entries,
    (p) => p.endsWith('.so'),
    'an extension module of a package (imported by dlopen of its path)',
    probe,
  );
  return { items: [...items, ...libraries], leftOut, problems };
}

/**
 * siteMetadata maps the top-level module names of a site directory to the `*.dist-info` / `*.egg-info`
 * directories that installed them (their top_level.txt, else the first components of RECORD).
 */
function siteMetadata(
  c: ClosureCache,
  site: string,
  memo: Map<string, Promise<Map<string, string[]>>>,
): Promise<Map<string, string[]>> {
  let got = memo.get(site);
  if (!got) {
    got = (async () => {
      const out = new Map<string, string[]>();
      for (const n of [...((await listDir(c, site)) ?? [])].sort()) {
        if (!/\.(dist|egg)-info$/.test(n)) continue;
        const top = await readTextCached(c, `${site}/${n}/top_level.txt`, 64 * 1024);
        const record =
          top === undefined ? await readTextCached(c, `${site}/${n}/RECORD`, 4 * 1024 * 1024) : undefined;
        const mods = new Set(
          (top ?? record ?? '')
            .split('\n')
            .map((l) => l.split(',')[0]!.split('/')[0]!.replace(/\.py$/, '').trim())
            .filter((m) => m !== '' && !m.endsWith('-info') && !m.startsWith('..')),
        );
        for (const m of mods) out.set(m, [...(out.get(m) ?? []), n]);
      }
      return out;
    })();
    memo.set(site, got);
  }
  return got;
}

/** normalDistName is a distribution name as PEP 503 compares them: lower case, runs of `-_.` as one `-`. */
function normalDistName(n: string): string {
  return n.toLowerCase().replace(/[-_.]+/g, '-');
}

/** distributionInfo is the `*.dist-info` / `*.egg-info` directory of a site directory for distribution `dist`. */
async function distributionInfo(c: ClosureCache, site: string, dist: string): Promise<string | undefined> {
  const want = normalDistName(dist);
  for (const n of [...((await listDir(c, site)) ?? [])].sort()) {
    // NAME-VERSION[-pyX.Y].egg-info, NAME-VERSION.dist-info: a `-` in NAME is written `_` there
    const m = /^([^-]+)(?:-.*)?\.(dist|egg)-info$/.exec(n);
    if (m && normalDistName(m[1]!) === want) return n;
  }
  return undefined;
}

/**
 * entryPointModule is the module an entry point names in an `entry_points.txt` (INI: `[group]`, then
 * `name = module.path:attr [extras]`), undefined when it has none of that name.
 */
export function entryPointModule(text: string, group: string, name: string): string | undefined {
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1]!.trim();
      continue;
    }
    if (section !== group) continue;
    const m = /^([^=\s]+)\s*=\s*([\w.]+)/.exec(line);
    if (m && m[1] === name) return m[2];
  }
  return undefined;
}

async function firstEntry(c: ClosureCache, paths: readonly string[]): Promise<string | undefined> {
  for (const p of paths) if ((await resolveOrMissing(c, p)).stat !== undefined) return p;
  return undefined;
}
