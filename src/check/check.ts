/**
 * check.ts — the static start check: can a container of this image start? PURE over the RootFs port.
 *
 * Nothing is executed. What a runtime (runc, crun, Docker) and the kernel do before the program's
 * main() runs is replayed against the image's files:
 * 1. the command: `Entrypoint` + `Cmd` (argv0 of the entrypoint, else of the cmd); a name without `/`
 *    is looked up on the config's PATH (Docker's default PATH when the config sets none), a relative
 *    path is taken from `WorkingDir`; it must be a regular file after symlinks (resolved inside the
 *    image) with an execute bit;
 * 2. its `#!` chain (binfmt_script, at most 5 levels), `#!/usr/bin/env NAME` looked up on PATH;
 * 3. for the ELF program at the end: its architecture, its `PT_INTERP` loader, and its DT_NEEDED;
 * 4. every other ELF object of the image's architecture: programs (PT_INTERP) and their libraries, then
 *    libraries no program maps, each as the loader maps it (load.ts over closure/search.ts) with the
 *    image's LD_LIBRARY_PATH. A library that needs a soname no search finds but that the image holds
 *    elsewhere is a note, not a problem: ld.so reuses an object already loaded by soname (a JVM library
 *    needing libjvm.so, a plugin linking to what its host dlopen()ed);
 * 5. `User`: a name must be in /etc/passwd (a group name in /etc/group), as runc requires;
 * 6. locales named by LANG / LC_* / LC_ALL (when the image has glibc): in the locale-archive or as a
 *    directory of /usr/lib/locale (or LOCPATH).
 * ELF files that are not loadable objects of the image's architecture (relocatable `.o`, core files,
 * foreign binaries, truncated files) are counted and skipped.
 */

import {
  type ClosureCache,
  type ElfReader,
  newClosureCache,
  readElfCached,
  readHeader,
  readTextCached,
  resolveOrMissing,
} from '../closure/closure-cache.ts';
import { LIBRARY_DATA } from '../closure/infer.ts';
import { libraryDataFiles, missingRuntime, prefixedCStrings } from '../closure/launcher.ts';
import {
  commandAccounts,
  commandPaths,
  MAX_PROGRAM_BYTES,
  PROGRAM_PATH_FOUND,
  PROGRAM_SEARCH_PREFIXES,
  programFilesPlan,
  programStrings,
} from '../closure/program-files.ts';
import { envCommand, isShebang, parseShebang, SHEBANG_BYTES } from '../closure/shebang.ts';
import { MAX_SCRIPT_TEXT, runsArguments, SHELLS } from '../closure/shell-script.ts';
import { timezoneRequest, ZONEINFO_DIR } from '../closure/timezone.ts';
import { wrappedCommand } from '../closure/wrappers.ts';
import { elfMachineToOciArch } from '../elf/abi.ts';
import { readElf as readElf_ } from '../elf/read-elf.ts';
import type { ElfInfo } from '../elf/types.ts';
import { isFromscratchError } from '../errors.ts';
import type { Origin } from '../fs/origin.ts';
import { baseName, normalizeImagePath, parentPath } from '../fs/path.ts';
import type { RootFs } from '../fs/root-fs.ts';
import type { RuntimeConfig } from '../model/documents.ts';
import { type LoadResult, loadObject, type MissingLibrary } from './load.ts';
import { archiveLocaleNames, canonicalLocaleName, envValue, localeDirNames, namedLocales } from './locale.ts';
import { checkUser, namesIn, permits, runtimeIdentity } from './user.ts';

/** DOCKER_DEFAULT_PATH is the PATH Docker gives a container whose image sets none. */
export const DOCKER_DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** MAX_SCRIPT_LEVELS is how many `#!` rewrites the kernel allows before ELOOP (fs/exec.c exec_binprm). */
export const MAX_SCRIPT_LEVELS = 5;
/** MUSL_LIBC matches the DT_NEEDED name of musl's libc (Alpine's `libc.musl-x86_64.so.1`, or `libc.so`). */
const MUSL_LIBC = /^(libc\.musl-[^/]+\.so\.1|libc\.so)$/;
/** octal is a mode's permission bits as `ls -l`'s numbers show them: `0700`. */
function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** MUSL_LOADER matches musl's loader, `/lib/ld-musl-ARCH.so.1`. */
const MUSL_LOADER = /(?:^|\/)ld-musl-[^/]+\.so\.1$/;
/** MAX_FILES bounds the walk of an image's tree. */
const MAX_FILES = 2_000_000;

/** CheckProblemKind says what would stop the container. */
export type CheckProblemKind =
  | 'command'
  | 'not-executable'
  | 'interpreter'
  | 'format'
  | 'loader'
  | 'library'
  | 'user'
  | 'locale'
  | 'timezone'
  | 'runtime';

/** CheckProblem is one reason the image would fail to start (or a program in it fail to load). */
export interface CheckProblem {
  readonly kind: CheckProblemKind;
  /** the image path at fault: the program, the object needing a library, /etc/passwd … */
  readonly path: string;
  /** what goes wrong, naming the file */
  readonly message: string;
  /** what to do about it */
  readonly fix: string;
  /** true when the entrypoint itself is concerned (the container cannot start at all) */
  readonly fatal: boolean;
}

/** CheckReport is the outcome of checkImageRoot. `problems` empty means the image can start. */
export interface CheckReport {
  /** argv the container runs (entrypoint + cmd), undefined when the image names none */
  readonly command?: readonly string[];
  /** argv0 resolved in the image */
  readonly program?: string;
  /** the `#!` interpreters run, in order (the last one is the ELF program that runs) */
  readonly interpreters: readonly string[];
  /** how the final program is linked */
  readonly linkage?: 'dynamic' | 'static' | 'static-pie';
  /** PT_INTERP of the final program */
  readonly loader?: string;
  /** libraries the final program maps at start */
  readonly libraries: number;
  /** the user it runs as (the config's `User`, `root` when unset) */
  readonly user: string;
  /** ELF objects of the image's architecture checked */
  readonly elfFiles: number;
  /** ELF files skipped: relocatable, core, foreign architecture or unreadable */
  readonly skipped: number;
  readonly problems: readonly CheckProblem[];
  /** facts worth telling that are not problems */
  readonly notes: readonly string[];
}

/** CheckOptions tunes checkImageRoot; every field is optional. */
export interface CheckOptions {
  /** the image's OCI architecture (`amd64`); default: the entrypoint's, else every ELF is checked */
  readonly architecture?: string;
  /** the regular files of the image (default: the tree is walked) */
  readonly files?: readonly string[];
  /** with `files`: the symlinks of the image */
  readonly links?: readonly string[];
  /** why each file is in the image (a build's record), to tailor the fixes */
  readonly origins?: ReadonlyMap<string, readonly Origin[]>;
  /**
   * image paths of ELF objects whose libraries the caller has already found inside this image by the same
   * rules (a build's closure): counted, not searched again
   */
  readonly resolved?: readonly string[];
  /** the ELF reader (default src/elf readElf) */
  readonly readElf?: ElfReader;
  /** memoised reads of `fs` (default a fresh one) */
  readonly cache?: ClosureCache;
  /**
   * whether the root the image was built from has a path (a build's): a configuration compiled into a
   * program that the root lacks too is one the program does without there (memcached's /etc/sasl2)
   */
  readonly rootHas?: (path: string) => Promise<boolean>;
  /** the user and group names of the root's /etc/passwd and /etc/group (a build's) */
  readonly rootAccounts?: ReadonlySet<string>;
  /**
   * why a path is a secret no image gets (an SSH host private key), undefined for others: a program
   * naming only such files is told to get them at run time, not that its configuration is missing
   */
  readonly secretReason?: (path: string) => string | undefined;
}

/** lackedByRoot says whether no directory a search for a missing library looked in holds it in the build's root. */
async function lackedByRoot(
  m: { readonly name: string; readonly searched: readonly string[] },
  rootHas: (path: string) => Promise<boolean>,
): Promise<boolean> {
  const dirs = m.searched.filter((d) => d.startsWith('/'));
  if (dirs.length === 0 || m.name.includes('/')) return false;
  for (const d of dirs) if (await rootHas(`${d}/${m.name}`)) return false;
  return true;
}

/**
 * checkImageRoot checks, without running anything, that a container of the image whose files `fs` shows
 * and whose runtime config is `config` can start (see the module header for what is checked).
 * Returns every problem at once; throws only for bugs (a RootFs failing in an unexpected way).
 * @example
 * const report = await checkImageRoot(fs, { Entrypoint: ['/hello'] }, { architecture: 'amd64' });
 * if (report.problems.length > 0) console.error(formatCheck(report).join('\n'));
 */
export async function checkImageRoot(
  fs: RootFs,
  config: RuntimeConfig | undefined,
  opts: CheckOptions = {},
): Promise<CheckReport> {
  const cache = opts.cache ?? newClosureCache(fs);
  const readElf: ElfReader = opts.readElf ?? ((f, p, o) => readElf_(f, p, o));
  const env = config?.Env ?? [];
  const pathDirs = (envValue(env, 'PATH') ?? DOCKER_DEFAULT_PATH).split(':').filter((d) => d.startsWith('/'));
  const libraryPath = (envValue(env, 'LD_LIBRARY_PATH') ?? '').split(':').filter(Boolean);
  const problems: CheckProblem[] = [];
  const notes: string[] = [];
  const walked = opts.files ? undefined : await walkFiles(fs);
  const files = walked ? walked.files : (opts.files ?? []).map(normalizeImagePath);
  const links = walked ? walked.links : (opts.links ?? []).map(normalizeImagePath);
  // every name in the image, for "the image has it elsewhere" (soname links included)
  const byBase = new Map<string, string[]>();
  for (const f of [...files, ...links]) {
    const b = baseName(f);
    const l = byBase.get(b);
    if (l) l.push(f);
    else byBase.set(b, [f]);
  }
  const fixFor = (path: string) => closureFix(path, opts.origins);

  // 1–3: the command
  const entry = config?.Entrypoint?.length ? config.Entrypoint : undefined;
  const command = [...(entry ?? []), ...(config?.Cmd ?? [])];
  const interpreters: string[] = [];
  let program: string | undefined;
  let finalElf: { real: string; info: ElfInfo } | undefined;
  let arch = opts.architecture;
  if (command.length === 0) {
    notes.push('the image names no entrypoint or cmd: a command must be given at run time');
  } else {
    const argv0 = command[0]!;
    const where = entry ? 'entrypoint' : 'cmd';
    const found = await lookCommand(cache, argv0, pathDirs, config?.WorkingDir);
    if (!found.path) {
      problems.push({
        kind: 'command',
        path: argv0,
        message: `the ${where} ${JSON.stringify(argv0)} is not in the image${argv0.includes('/') ? '' : ` (PATH ${found.searched.join(':')})`}`,
        fix: `add the program (--binary SRC:DEST, or COPY with \`# ${CLOSURE_DIRECTIVE}\` above it) or name a program the image has with --entrypoint`,
        fatal: true,
      });
    } else {
      program = found.path;
      let cur = found.path;
      for (let level = 0; ; level++) {
        const r = await resolveOrMissing(cache, cur);
        if (r.stat?.type !== 'file') {
          problems.push({
            kind: level === 0 ? 'command' : 'interpreter',
            path: cur,
            message: r.stat
              ? `${cur} is a ${r.stat.type === 'dir' ? 'directory' : r.stat.type}, not a program`
              : `${level === 0 ? `the ${where}` : 'the #! interpreter'} ${cur} is not in the image${level > 0 ? ` (run by ${interpreters[interpreters.length - 1] ?? program})` : ''}`,
            fix:
              level === 0
                ? 'name a regular file with --entrypoint'
                : `add the interpreter (--binary ${cur}), or add the script with --add/--binary so that its interpreter comes along`,
            fatal: true,
          });
          break;
        }
        if ((r.stat.mode & 0o111) === 0) {
          problems.push({
            kind: 'not-executable',
            path: cur,
            message: `${cur} is not executable (mode ${(r.stat.mode & 0o7777).toString(8).padStart(4, '0')}): exec fails with "permission denied"`,
            fix: 'make it executable before adding it (chmod +x), or COPY --chmod=755',
            fatal: true,
          });
        }
        const head = await readHead(fs, r.path);
        if (!head) {
          problems.push({
            kind: 'command',
            path: cur,
            message: `${cur} cannot be read`,
            fix: 'check the file in the image (permissions, size)',
            fatal: true,
          });
          break;
        }
        const h = await readHeader(cache, r.path);
        if (h) {
          let info: ElfInfo | undefined;
          try {
            info = await readElfCached(cache, readElf, r.path, false);
          } catch (e) {
            if (!isFromscratchError(e)) throw e;
            problems.push({
              kind: 'format',
              path: cur,
              message: `${cur} is not a valid ELF program: ${e.message}`,
              fix: 'add a complete program file',
              fatal: true,
            });
            break;
          }
          const fileArch = elfMachineToOciArch(info);
          arch ??= fileArch;
          if (info.type !== 'exec' && info.type !== 'dyn') {
            problems.push({
              kind: 'format',
              path: cur,
              message: `${cur} is an ELF ${info.type} file, not a program: exec fails with "exec format error"`,
              fix: 'name a linked executable',
              fatal: true,
            });
          } else if (opts.architecture && fileArch !== opts.architecture) {
            problems.push({
              kind: 'format',
              path: cur,
              message: `${cur} is a ${info.machineName} program in a ${opts.architecture} image: exec fails with "exec format error"`,
              fix: `build the image for its platform (--platform linux/${fileArch ?? info.machineName}), or add the ${opts.architecture} build of the program`,
              fatal: true,
            });
          } else finalElf = { real: r.path, info };
          break;
        }
        if (!isShebang(head)) {
          problems.push({
            kind: 'format',
            path: cur,
            message: `${cur} is neither an ELF program nor a #! script: exec fails with "exec format error"`,
            fix: 'name a program, or start the script with a #!/path/to/interpreter line',
            fatal: true,
          });
          break;
        }
        if (level >= MAX_SCRIPT_LEVELS) {
          problems.push({
            kind: 'interpreter',
            path: cur,
            message: `${program} runs more than ${MAX_SCRIPT_LEVELS} levels of #! interpreters: exec fails with ELOOP`,
            fix: 'point the #! line at the final interpreter',
            fatal: true,
          });
          break;
        }
        let next: string;
        let viaEnv: string | undefined;
        try {
          const sb = parseShebang(head, cur);
          if (sb.crlf) {
            problems.push({
              kind: 'format',
              path: cur,
              message:
                sb.arg === undefined
                  ? `${cur} has DOS line endings: its #! line ends with a carriage return, which the kernel keeps: it runs "${sb.interpreter}\\r", and exec fails with "no such file or directory"`
                  : baseName(sb.interpreter) === 'env'
                    ? `${cur} has DOS line endings: its #! line ends with a carriage return, which the kernel keeps: env looks for "${sb.arg}\\r" and fails with "No such file or directory"`
                    : `${cur} has DOS line endings: its #! line ends with a carriage return, which the kernel keeps: ${sb.interpreter} is given "${sb.arg}\\r" as its option, and stops (sh: "Illegal option")`,
              fix: `convert the script to Unix line endings (dos2unix ${baseName(cur)}, or sed -i 's/\\r$//' ${baseName(cur)}) before adding it`,
              fatal: true,
            });
            break;
          }
          next = normalizeImagePath(
            sb.interpreter.startsWith('/')
              ? sb.interpreter
              : `${config?.WorkingDir || '/'}/${sb.interpreter}`,
          );
          const cmd = baseName(next) === 'env' ? envCommand(sb.arg) : undefined;
          if (cmd !== undefined) {
            // /usr/bin/env runs NAME found on PATH: env must be there, then the chain goes on with NAME
            const found = await lookCommand(cache, cmd, pathDirs, config?.WorkingDir);
            if (!found.path) {
              problems.push({
                kind: 'interpreter',
                path: cur,
                message: `${cur} runs "${cmd}" through #!${sb.line}, and the image has no ${cmd} on PATH ${pathDirs.join(':')}`,
                fix: `add ${cmd} (--binary /usr/bin/${cmd}), or set PATH (--env PATH=…) to its directory`,
                fatal: true,
              });
            } else viaEnv = found.path;
          }
        } catch (e) {
          if (!isFromscratchError(e)) throw e;
          problems.push({
            kind: 'format',
            path: cur,
            message: e.message,
            fix: e.hint ?? 'fix the #! line',
            fatal: true,
          });
          break;
        }
        interpreters.push(next);
        if (viaEnv !== undefined) {
          const env = await resolveOrMissing(cache, next);
          if (env.stat?.type !== 'file' || (env.stat.mode & 0o111) === 0) {
            problems.push({
              kind: 'interpreter',
              path: cur,
              message: `the #! interpreter ${next} of ${cur} is not an executable file in the image`,
              fix: `add it (--binary ${next}), or add the script with --add/--binary so that its interpreter comes along`,
              fatal: true,
            });
            break;
          }
          interpreters.push(viaEnv);
          cur = viaEnv;
        } else cur = next;
      }
    }
  }

  // 3b: the program a wrapper runs (tini, dumb-init, su-exec, gosu, env, timeout…): exec'd by the wrapper
  // once the container has started, so a missing one fails only then
  /**
   * requireExecuted reports `argv0`, a program run only once the container has started (by a wrapper,
   * by an entrypoint script), when the image lacks it (`missing`, given the PATH searched) or has it as
   * no executable file (`notExecutable`, given where it is); `fixTail` ends the fix.
   */
  const requireExecuted = async (
    argv0: string,
    missing: (where: string) => string,
    notExecutable: (path: string) => string,
    fixTail: string,
  ): Promise<void> => {
    const found = await lookCommand(cache, argv0, pathDirs, config?.WorkingDir);
    const r = found.path ? await resolveOrMissing(cache, found.path) : undefined;
    if (found.path && r?.stat?.type === 'file' && (r.stat.mode & 0o111) !== 0) return;
    problems.push({
      kind: 'command',
      path: argv0,
      message: !found.path
        ? missing(argv0.includes('/') ? '' : ` (PATH ${found.searched.join(':')})`)
        : notExecutable(found.path),
      fix: `add the program (--binary SRC:${argv0.includes('/') ? argv0 : `/usr/bin/${argv0}`}), ${fixTail}`,
      fatal: true,
    });
  };
  const wrapped = program !== undefined && finalElf !== undefined ? wrappedCommand(command) : undefined;
  if (wrapped)
    await requireExecuted(
      wrapped.program,
      (path) =>
        `the ${entry ? 'entrypoint' : 'cmd'} runs ${JSON.stringify(wrapped.program)} through ${wrapped.wrapper}, and it is not in the image${path}: ${wrapped.wrapper} fails to exec it once the container has started`,
      (found) => `${wrapped.wrapper} runs ${found}, which is not an executable file`,
      'or name one the image has',
    );

  // 3c: an entrypoint script that runs its arguments (`exec "$@"`, docker-entrypoint.sh): the image's
  // CMD is the program it becomes once it has prepared the container, and fails only then
  const cmd = config?.Cmd ?? [];
  if (entry && cmd.length > 0 && program !== undefined && interpreters.length > 0) {
    const shell = SHELLS.has(baseName(interpreters.at(-1)!));
    const real = (await resolveOrMissing(cache, program)).path;
    const text = shell ? await readTextCached(cache, real, MAX_SCRIPT_TEXT) : undefined;
    // (a cmd of options only, `-g 'daemon off;'`: the script puts its program before them, as the
    // official images' entrypoints do with `set -- nginx "$@"`)
    if (text !== undefined && runsArguments(text) && !cmd[0]!.startsWith('-'))
      await requireExecuted(
        cmd[0]!,
        (path) =>
          `the entrypoint ${program} runs its arguments (exec "$@"), and the cmd's ${JSON.stringify(cmd[0])} is not in the image${path}: it fails once the script has run`,
        (found) =>
          `the entrypoint ${program} runs its arguments, and the cmd's ${found} is not an executable file`,
        'or give a cmd naming one the image has',
      );
  }

  // 4: every ELF object
  const elves: { path: string; info: ElfInfo }[] = [];
  const muslLoader = files.some((f) => MUSL_LOADER.test(f));
  const finalElfIs = (f: string) => f === finalElf?.real;
  const vouched = new Set(opts.resolved ?? []);
  let skipped = 0;
  let known = 0;
  for (const f of files) {
    if (vouched.has(f) && f !== finalElf?.real) {
      known++;
      continue;
    }
    const h = await readHeader(cache, f);
    if (!h) continue;
    if (h.etype !== 2 && h.etype !== 3) {
      skipped++;
      continue;
    }
    let info: ElfInfo;
    try {
      info = await readElfCached(cache, readElf, f, false);
    } catch (e) {
      if (!isFromscratchError(e)) throw e;
      skipped++;
      continue;
    }
    if (arch !== undefined && elfMachineToOciArch(info) !== arch) {
      skipped++;
      continue;
    }
    // built for the other C library of the same machine (a `-musl` prebuilt addon in node_modules beside
    // the glibc one): this image's loader never maps it
    if (!muslLoader && !finalElfIs(f) && info.needed.some((n) => MUSL_LIBC.test(n))) {
      skipped++;
      continue;
    }
    elves.push({ path: f, info });
  }
  const missing: MissingLibrary[] = [];
  const mapped = new Set<string>();
  const load = (real: string, info: ElfInfo, asLibrary = false) =>
    loadObject(cache, readElf, real, info, { libraryPath, asLibrary });
  // a program is what exec() runs: ET_EXEC, or ET_DYN with PT_INTERP and no soname (PIE); libc.so.6 has
  // PT_INTERP too, but it is a library
  const isProgram = (i: ElfInfo) =>
    i.type === 'exec' || (i.interpreter !== undefined && i.soname === undefined);
  let finalLoad: LoadResult | undefined;
  if (finalElf?.info.dynamic) finalLoad = await load(finalElf.real, finalElf.info);
  const loaderProblem = (path: string, r: LoadResult, fatal: boolean) => {
    if (!r.badInterpreter || r.interpreter === undefined) return;
    problems.push({
      kind: 'loader',
      path,
      message:
        r.badInterpreter === 'missing'
          ? `${path} needs the loader ${r.interpreter} (PT_INTERP), which is not in the image: exec fails with "no such file or directory"`
          : `the loader ${r.interpreter} of ${path} is of another architecture`,
      fix: fixFor(path),
      fatal,
    });
  };
  if (finalElf && finalLoad) {
    loaderProblem(finalElf.real, finalLoad, true);
    for (const l of finalLoad.libraries) mapped.add(l);
    missing.push(...finalLoad.missing);
  }
  for (const e of elves) {
    if (e.path === finalElf?.real || !isProgram(e.info) || !e.info.dynamic) continue;
    const r = await load(e.path, e.info);
    loaderProblem(e.path, r, false);
    for (const l of r.libraries) mapped.add(l);
    missing.push(...r.missing);
  }
  for (const e of elves) {
    if (e.path === finalElf?.real || isProgram(e.info) || mapped.has(e.path) || e.info.needed.length === 0)
      continue;
    const r = await load(e.path, e.info, true);
    for (const m of r.missing) {
      // a soname the image holds elsewhere: ld.so takes the object already loaded under that soname
      const elsewhere = await holdsSoname(cache, byBase.get(m.name) ?? []);
      if (elsewhere) {
        const n = `${m.neededBy} needs ${m.name}, found by no search but at ${elsewhere}: resolved when that library is already loaded (ld.so reuses it by soname)`;
        if (!notes.includes(n)) notes.push(n);
      } else missing.push(m);
    }
  }
  const seen = new Set<string>();
  for (const m of missing) {
    const key = `${m.name}\0${m.neededBy}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const fatal = finalLoad?.missing.some((x) => x.name === m.name && x.neededBy === m.neededBy) ?? false;
    // a module loaded later whose library the build's root lacks as well (a SoX plugin for libao's
    // NAS output, without libaudio on the host): it fails there too; the image lost nothing
    if (!fatal && opts.rootHas && (await lackedByRoot(m, opts.rootHas))) {
      const n = `${m.neededBy} needs ${m.name}, which the root it was built from lacks as well: loading it fails there too`;
      if (!notes.includes(n)) notes.push(n);
      continue;
    }
    const others = (byBase.get(m.name) ?? []).filter((p) => p !== m.neededBy);
    const where = others[0] ? parentPath(others[0]) : undefined;
    problems.push({
      kind: 'library',
      path: m.neededBy,
      message: m.onlyInLdConf
        ? `${m.neededBy} needs ${m.name}, which is only in ${m.onlyInLdConf} (an ld.so.conf directory; the loader reads only ld.so.cache)`
        : `${m.neededBy} needs ${m.name}, which the loader does not find in the image${m.searched.length ? ` (searched ${m.searched.join(', ')})` : ''}`,
      fix:
        m.onlyInLdConf || where
          ? `the image has it in ${m.onlyInLdConf ?? where}: add --env LD_LIBRARY_PATH=${m.onlyInLdConf ?? where} (or build with --lib-path ${m.onlyInLdConf ?? where})`
          : fixFor(m.neededBy),
      fatal,
    });
  }

  // 4b: the standard library of an interpreter (what the launcher inferences add)
  if (finalElf && finalLoad) {
    const objects: { real: string; info: ElfInfo }[] = [finalElf];
    for (const l of finalLoad.libraries) {
      try {
        objects.push({ real: l, info: await readElfCached(cache, readElf, l, false) });
      } catch (e) {
        if (!isFromscratchError(e)) throw e;
      }
    }
    // a library that opens a data file at a compiled-in path (libmagic's magic.mgc) needs one of them
    for (const o of objects) {
      const rule = LIBRARY_DATA.find((r) => o.info.soname !== undefined && r.soname.test(o.info.soname));
      if (!rule) continue;
      const wanted = await libraryDataFiles(cache, o.real, rule);
      if (wanted.length === 0) continue;
      // a file (magic.mgc), or a directory of entries (terminfo)
      const kind = rule.tree ? 'dir' : 'file';
      let found = false;
      for (const w of wanted) if ((await resolveOrMissing(cache, w)).stat?.type === kind) found = true;
      if (!found)
        problems.push({
          kind: 'runtime',
          path: o.real,
          message: `${o.real} (${rule.reason}) finds none of ${wanted.join(', ')} in the image: ${finalElf.real} fails when it first uses it`,
          fix: `build without --no-infer=library-data, or add the file with --add ${wanted[0]}`,
          fatal: false,
        });
    }
    // a program that reads its configuration from a directory of its own (nginx's /etc/nginx/nginx.conf)
    const strings = programStrings(
      (await prefixedCStrings(
        cache,
        finalElf.real,
        PROGRAM_SEARCH_PREFIXES,
        PROGRAM_PATH_FOUND,
        MAX_PROGRAM_BYTES,
      )) ?? [],
    );
    for (const d of programFilesPlan(strings).configDirs) {
      const files = strings.filter((f) => f.startsWith(`${d}/`) && !f.endsWith('/'));
      if (files.length === 0) continue;
      if (opts.rootHas && !(await opts.rootHas(d))) continue;
      // a file it reads, or a directory it reads from (php's /etc/php/8.2/cli/conf.d)
      let found = false;
      for (const f of files) if ((await resolveOrMissing(cache, f)).stat !== undefined) found = true;
      const secrets = files.map((f) => opts.secretReason?.(f));
      if (!found && secrets.every((r) => r !== undefined))
        // only secrets (ssh's host keys), left out of images: given to the container when it runs
        problems.push({
          kind: 'runtime',
          path: files[0]!,
          message: `${finalElf.real} names ${files.join(', ')} (${[...new Set(secrets)].join(', ')}: secrets left out of images), which a container must be given if the program needs one at start (sshd does)`,
          fix: `give them when it runs (a volume or a secret: docker run -v ./keys:${d}), make them in the entrypoint before the program starts, or ship them with --allow-secret PATH`,
          fatal: false,
        });
      else if (!found)
        problems.push({
          kind: 'runtime',
          path: files[0]!,
          message: `${finalElf.real} reads its configuration at ${files.join(', ')} (compiled into it), which the image lacks: it stops at start if it needs one (nginx does)`,
          fix: `build without --no-infer=program-files, or add the directory with --add ${d}:${d}`,
          fatal: false,
        });
    }
    // a server given its configuration on the command line (lighttpd -f /etc/lighttpd/lighttpd.conf)
    const named = commandPaths(command.slice(1));
    const plan = programFilesPlan(named);
    for (const p of named) {
      const shipped = plan.configFiles.includes(p) || plan.configDirs.some((d) => p.startsWith(`${d}/`));
      if (!shipped || (await resolveOrMissing(cache, p)).stat !== undefined) continue;
      problems.push({
        kind: 'runtime',
        path: p,
        message: `${finalElf.real} is given ${p} on its command line, which the image lacks: it stops at start if it reads its configuration there (lighttpd, redis-server and haproxy do)`,
        fix: `build without --no-infer=program-files, or add it with --add ${p}:${p}`,
        fatal: false,
      });
    }
    const m = await missingRuntime(cache, finalElf.real, objects);
    if (m) {
      problems.push({
        kind: 'runtime',
        path: m.object,
        message: `${finalElf.real} is an interpreter whose standard library is not in the image (${m.what}: ${m.expected.join(', ')}): ${m.effect}`,
        fix: `build without leaving out its inference (--no-infer: launchers, python, java, interpreters), or add the directory with --add ${m.expected[0]}`,
        fatal: m.fatal,
      });
    }
  }

  // 5: the user
  const user = config?.User || 'root';
  const passwd = await readText(cache, '/etc/passwd');
  const group = await readText(cache, '/etc/group');
  for (const u of checkUser(config?.User, passwd, group)) {
    problems.push({
      kind: 'user',
      path: u.file,
      message: u.fileMissing
        ? `the image runs as ${u.part} "${u.name}" but has no ${u.file}: the runtime fails with "unable to find ${u.part} ${u.name}"`
        : `the image runs as ${u.part} "${u.name}", which is not in ${u.file}: the runtime fails with "unable to find ${u.part} ${u.name}"`,
      fix: `use a numeric --user (uid[:gid]), or add ${u.file} with the ${u.part} (--add ./passwd:${u.file})`,
      fatal: true,
    });
  }

  // 5b: what the user must open to start: the command, its interpreters and loader (execute; a script
  // is also read by its interpreter), the directories on their way and the working directory (search)
  const id = runtimeIdentity(config?.User, passwd, group);
  if (id !== undefined && id.uid !== 0 && program !== undefined) {
    const denied: { path: string; text: string }[] = [];
    const who = `the image's user ${id.name} (uid ${id.uid}, gid ${id.gid})`;
    const seen = new Set<string>();
    const need = async (path: string, want: 4 | 1 | 5, what: string): Promise<void> => {
      const r = await resolveOrMissing(cache, path);
      if (!r.stat || seen.has(`file:${r.path}`)) return;
      seen.add(`file:${r.path}`);
      // the directories on the way (their real paths), then the file
      const parts = r.path.split('/').filter(Boolean);
      for (let i = 0; i < parts.length - 1; i++) {
        const d = `/${parts.slice(0, i + 1).join('/')}`;
        const ds = (await resolveOrMissing(cache, d)).stat;
        if (ds?.type !== 'dir' || permits(id, ds, 1)) continue;
        if (!seen.has(`dir:${d}`))
          denied.push({
            path: d,
            text: `${d} (mode ${octal(ds.mode)}, owner ${ds.uid}:${ds.gid}): ${who} cannot enter it, on the way to ${what} ${path}`,
          });
        seen.add(`dir:${d}`);
        return;
      }
      const verbs = [
        ...(want & 4 ? ['read'] : []),
        ...(want & 1 ? [r.stat.type === 'dir' ? 'enter' : 'execute'] : []),
      ];
      const lacks = verbs.filter((w) => !permits(id, r.stat!, w === 'read' ? 4 : 1));
      if (lacks.length > 0)
        denied.push({
          path,
          text: `${what} ${path} (mode ${octal(r.stat.mode)}, owner ${r.stat.uid}:${r.stat.gid}): ${who} cannot ${lacks.join(' or ')} it`,
        });
    };
    const chain = [program, ...interpreters];
    // a script is read by its interpreter too
    for (const [i, f] of chain.entries())
      await need(
        f,
        i < chain.length - 1 ? 5 : 1,
        i === 0 ? `the ${entry ? 'entrypoint' : 'cmd'}` : 'the #! interpreter',
      );
    if (finalElf?.info.interpreter) await need(finalElf.info.interpreter, 1, 'the loader');
    if (config?.WorkingDir) await need(config.WorkingDir, 1, 'the working directory');
    for (const d of denied)
      problems.push({
        kind: 'user',
        path: d.path,
        message: `${d.text}: the container fails with "permission denied"`,
        fix: `let ${id.name} in (chmod 755 before adding it, or COPY --chmod=755 / --chown=${id.uid}:${id.gid} in a Dockerfile), or run as its owner (--user)`,
        fatal: true,
      });
  }

  // a program told on its command line to drop to an account of the root (memcached -u memcache)
  if (opts.rootAccounts && command.length > 1) {
    const named = commandAccounts(command.slice(1));
    for (const [part, file, names, text] of [
      ['user', '/etc/passwd', named.users, passwd],
      ['group', '/etc/group', named.groups, group],
    ] as const) {
      const image = namesIn(text ?? '');
      for (const n of names) {
        if (!opts.rootAccounts.has(n) || image.has(n)) continue;
        problems.push({
          kind: 'user',
          path: file,
          message: `${command[0]} is told on its command line to run as ${part} "${n}", which ${file} of the image lacks: it stops at start (memcached: "can't find the user")`,
          fix: `build without --no-infer=program-files, or add ${file} with the ${part} (--add ./${file.slice(5)}:${file})`,
          fatal: false,
        });
      }
    }
  }

  // 6: locales, when a glibc is there to load them
  const glibc = (byBase.get('libc.so.6') ?? []).length > 0;
  if (glibc) {
    const locpath = (envValue(env, 'LOCPATH') ?? '').split(':').filter((d) => d.startsWith('/'));
    let archive: Set<string> | undefined | null = null;
    for (const { name, variable } of namedLocales(env)) {
      const names = localeDirNames(name);
      let ok = false;
      for (const dir of [...locpath, '/usr/lib/locale']) {
        for (const n of names) {
          const r = await resolveOrMissing(cache, `${dir}/${n}`);
          if (r.stat?.type === 'dir') ok = true;
        }
      }
      if (!ok && locpath.length === 0) {
        if (archive === null) archive = await readArchiveNames(cache);
        if (archive && names.some((n) => archive?.has(n))) ok = true;
      }
      if (!ok) {
        problems.push({
          kind: 'locale',
          path: `/usr/lib/locale/${names[0]}`,
          message: `${variable}=${name} names a locale the image does not have: programs fall back to the C locale (no UTF-8)`,
          fix: `add the locale's directory (--add /usr/lib/locale/${canonicalLocaleName(name)}, after locale-gen or localedef on the host), or use ${variable}=C.UTF-8 with /usr/lib/locale/C.utf8 in the image`,
          fatal: false,
        });
      }
    }
    // TZ naming a zone file the image lacks: glibc gives UTC, silently
    const tz = timezoneRequest(env);
    if (tz && !tz.rule && (await resolveOrMissing(cache, tz.file)).stat?.type !== 'file') {
      problems.push({
        kind: 'timezone',
        path: tz.file,
        message: `TZ=${tz.value} names ${tz.file}, which is not in the image: glibc gives UTC times, without an error`,
        fix: tz.file.startsWith(`${ZONEINFO_DIR}/`)
          ? `add the zone (--add ${tz.file}; fromscratch adds it for a program calling localtime/strftime/mktime unless --no-infer=zoneinfo), or set TZ to a POSIX rule (TZ=CET-1CEST,M3.5.0,M10.5.0/3)`
          : `set TZ to a zone name (TZ=Europe/Paris: ${ZONEINFO_DIR}/Europe/Paris) or a POSIX rule (TZ=CET-1CEST,M3.5.0,M10.5.0/3)`,
        fatal: false,
      });
    }
  }

  const linkage = finalElf
    ? finalElf.info.interpreter !== undefined
      ? 'dynamic'
      : finalElf.info.dynamic
        ? 'static-pie'
        : 'static'
    : undefined;
  return {
    ...(command.length ? { command } : {}),
    ...(program ? { program } : {}),
    interpreters,
    ...(linkage ? { linkage } : {}),
    ...(finalElf?.info.interpreter !== undefined ? { loader: finalElf.info.interpreter } : {}),
    libraries: finalLoad?.libraries.size ?? 0,
    user,
    elfFiles: elves.length + known,
    skipped,
    problems,
    notes,
  };
}

/** CLOSURE_DIRECTIVE is the Dockerfile comment asking for a COPY's closure (dockerfile/parse.ts). */
const CLOSURE_DIRECTIVE = 'fromscratch: closure';

/** closureFix is the fix for a program copied without its libraries, told by how it came in. */
function closureFix(path: string, origins: ReadonlyMap<string, readonly Origin[]> | undefined): string {
  const os = origins?.get(path) ?? [];
  const copy = os.find((o) => o.kind === 'requested' && /^(COPY|ADD)/.test(o.via));
  if (copy)
    return `put the line \`# ${CLOSURE_DIRECTIVE}\` above the Dockerfile COPY of ${path}, so that its loader and libraries are copied with it (or add it with --binary SRC:${path})`;
  if (os.some((o) => o.kind === 'base'))
    return `the base image's ${path} lacks them: add its libraries (--binary ${path}) or use another base`;
  return `add the program with its closure: --binary SRC:${path}, or \`# ${CLOSURE_DIRECTIVE}\` above its Dockerfile COPY`;
}

/** lookCommand finds argv0 as runc does: a path (relative to the working directory), or a name on PATH. */
async function lookCommand(
  cache: ClosureCache,
  argv0: string,
  pathDirs: readonly string[],
  workdir: string | undefined,
): Promise<{ path?: string; searched: string[] }> {
  if (argv0.includes('/')) {
    const p = normalizeImagePath(argv0.startsWith('/') ? argv0 : `${workdir || '/'}/${argv0}`);
    const r = await resolveOrMissing(cache, p);
    return r.stat ? { path: p, searched: [p] } : { searched: [p] };
  }
  const searched: string[] = [];
  for (const d of pathDirs) {
    const p = normalizeImagePath(`${d}/${argv0}`);
    searched.push(normalizeImagePath(d));
    const r = await resolveOrMissing(cache, p);
    if (r.stat?.type === 'file' && (r.stat.mode & 0o111) !== 0) return { path: p, searched };
  }
  return { searched };
}

/** holdsSoname returns the first of `paths` that is an ELF shared object (the image holds that soname), if any. */
async function holdsSoname(cache: ClosureCache, paths: readonly string[]): Promise<string | undefined> {
  for (const p of paths) {
    const r = await resolveOrMissing(cache, p);
    if (r.stat?.type !== 'file') continue;
    const h = await readHeader(cache, r.path);
    if (h?.etype === 3) return p;
  }
  return undefined;
}

/** readHead reads the first bytes of a file, as the kernel's exec does; undefined when it cannot be read. */
async function readHead(fs: RootFs, path: string): Promise<Uint8Array | undefined> {
  try {
    return await fs.read(path, { offset: 0, length: SHEBANG_BYTES });
  } catch (e) {
    if (isFromscratchError(e) || (e as NodeJS.ErrnoException).code !== undefined) return undefined;
    throw e;
  }
}

/** readText reads a small text file of the image; undefined when absent, unreadable or over 16 MiB. */
async function readText(cache: ClosureCache, path: string): Promise<string | undefined> {
  const r = await resolveOrMissing(cache, path);
  if (r.stat?.type !== 'file') return undefined;
  try {
    return Buffer.from(await cache.fs.read(r.path, { limit: 16 * 1024 * 1024 })).toString('utf8');
  } catch (e) {
    if (isFromscratchError(e) || (e as NodeJS.ErrnoException).code !== undefined) return undefined;
    throw e;
  }
}

async function readArchiveNames(cache: ClosureCache): Promise<Set<string> | undefined> {
  const r = await resolveOrMissing(cache, '/usr/lib/locale/locale-archive');
  if (r.stat?.type !== 'file') return undefined;
  return archiveLocaleNames(r.stat.size, (offset, length) => cache.fs.read(r.path, { offset, length }));
}

/** walkFiles lists the regular files and the symlinks of a root, depth first, bounded. */
async function walkFiles(fs: RootFs): Promise<{ files: string[]; links: string[] }> {
  const out: string[] = [];
  const links: string[] = [];
  const stack = ['/'];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch (e) {
      // an unreadable directory holds nothing the check can see; a runtime could not exec from it either
      if (isFromscratchError(e) || (e as NodeJS.ErrnoException).code !== undefined) continue;
      throw e;
    }
    for (const n of names.sort()) {
      const p = dir === '/' ? `/${n}` : `${dir}/${n}`;
      const st = await fs.lstat(p);
      if (st?.type === 'dir') stack.push(p);
      else if (st?.type === 'symlink') links.push(p);
      else if (st?.type === 'file') {
        out.push(p);
        if (out.length + links.length >= MAX_FILES) return { files: out, links };
      }
    }
  }
  return { files: out, links };
}

/**
 * formatCheck renders a report for stderr: one line when the image can start
 * (`check: /usr/bin/curl starts: loader, 23 libraries, user nonroot`), else one line per problem with its fix.
 */
export function formatCheck(r: CheckReport): string[] {
  const lines: string[] = [];
  const what = r.program ?? r.command?.[0] ?? '(no command)';
  if (r.problems.length === 0) {
    const parts: string[] = [];
    if (r.interpreters.length > 0) parts.push(`#! ${r.interpreters.join(' → ')}`);
    if (r.linkage === 'dynamic')
      parts.push(`loader, ${r.libraries} ${r.libraries === 1 ? 'library' : 'libraries'}`);
    else if (r.linkage) parts.push(r.linkage);
    parts.push(`user ${r.user}`);
    const elf = `${r.elfFiles} ELF ${r.elfFiles === 1 ? 'file' : 'files'} resolve${r.elfFiles === 1 ? 's' : ''}`;
    lines.push(
      r.command
        ? `check: ${what} starts: ${parts.join(', ')}; ${elf}`
        : `check: no entrypoint or cmd; ${elf}, user ${r.user}`,
    );
    return lines;
  }
  const fatal = r.problems.filter((p) => p.fatal).length;
  lines.push(
    fatal > 0
      ? `check: ${what} cannot start: ${r.problems.length} ${r.problems.length === 1 ? 'problem' : 'problems'}`
      : `check: ${what} starts, but ${r.problems.length} ${r.problems.length === 1 ? 'problem' : 'problems'} found`,
  );
  for (const p of r.problems) lines.push(`  ${p.message}\n    fix: ${p.fix}`);
  return lines;
}
