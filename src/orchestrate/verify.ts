/**
 * verify.ts — `--verify CMD [--fix]`: prove the built image runs CMD (a bare `--verify`: the image's
 * entrypoint and cmd); name what it misses; with --fix, add the missing files (and their closures) and
 * build again until CMD works or nothing more can be added.
 *
 * What --fix adds, each round the command fails:
 * 1. the ENOENT look-ups of the run inside the image that exist on the source root (trace/verify.ts);
 * 2. in the first round, everything the same command uses when run on the host under strace — seeing the
 *    image's paths: the unpacked image is laid over the host's / in a private mount namespace
 *    (trace/image-view.ts, as root), so `python3 /app/main.py` finds the script that only the image has,
 *    in the image's WORKDIR; without root, the plain host is traced;
 * 3. when a round found nothing, the host entries of the directories the run listed (opendir) that the
 *    image lacks: Python imports, conf.d globs and plugin directories never look a missing name up.
 */

import { rm } from 'node:fs/promises';
import type { BlobStore } from '../blob/store.ts';
import { FromscratchError, isFromscratchError } from '../errors.ts';
import { hostFs } from '../fs/host-fs.ts';
import { resolvePath } from '../fs/resolve.ts';
import type { RootFs } from '../fs/root-fs.ts';
import type { Image } from '../image/image.ts';
import { hostPlatform, platformMatches } from '../model/platform.ts';
import { checkSecret } from '../trace/secrets.ts';
import { toArgv, traceCommand } from '../trace/trace.ts';
import { findMissingFiles, type ImageRunTrace, traceImageRun } from '../trace/verify.ts';
import { makeUnpackDir, unpackImage } from '../unpack/unpack.ts';
import type { BuildResult, PlatformBuild } from './build.ts';
import type { BuildSpec } from './build-spec.ts';

/** IMAGE_PATH is the PATH a container gets when the image sets none (runc, docker). */
const IMAGE_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** MAX_FIX_ROUNDS bounds the verify–fix loop. */
export const MAX_FIX_ROUNDS = 8;

/** VerifyReport says what verification did. */
export interface VerifyReport {
  /** the command as given; for a bare --verify, the image's entrypoint and cmd joined by spaces */
  readonly command: string;
  readonly exitCode: number;
  /** files added by --fix, in the order they were found */
  readonly added: readonly string[];
  readonly rounds: number;
}

/** VerifyOptions configures verifyBuild. */
export interface VerifyOptions {
  fix?: boolean;
  store: BlobStore;
  /** builds a spec (the caller's build with its options) */
  rebuild: (spec: BuildSpec) => Promise<BuildResult>;
  log?: (message: string) => void;
  timeoutSeconds?: number;
}

/**
 * verifyBuild runs each command inside the host-platform image of `result`; an empty command runs the
 * image's own entrypoint and cmd. On failure it names the files the run looked up in vain that exist on
 * the source root; with `fix` it adds them (and what the host trace and the listed directories offer) and
 * rebuilds. Returns the final build and a report per command. Throws VERIFY_FAILED when a command still
 * fails, USAGE for a bare --verify of an image with no entrypoint or cmd.
 */
export async function verifyBuild(
  spec: BuildSpec,
  result: BuildResult,
  commands: readonly string[],
  o: VerifyOptions,
): Promise<{ spec: BuildSpec; result: BuildResult; reports: VerifyReport[] }> {
  const reports: VerifyReport[] = [];
  const root = hostFs(spec.sysroot ?? '/');
  for (const given of commands) {
    const own = given.trim() === '';
    // shell syntax (`a && b`, `$VAR`) runs as /bin/sh -c, as with --trace; --fix adds the host's sh if need be
    const words = own ? imageCommand(hostImage(result).image) : toArgv(given).argv;
    if (words.length === 0)
      throw new FromscratchError('USAGE', '--verify was given an empty command', {
        hint: "write --verify 'CMD ARG…'",
      });
    const command = own ? words.join(' ') : given;
    const added: string[] = [];
    for (let round = 1; ; round++) {
      const built = hostImage(result);
      const run = await traceImageRun(
        { image: built.image, store: o.store },
        own ? undefined : words.slice(1),
        {
          ...(own ? {} : { entrypoint: [words[0]!] }),
          timeoutSeconds: o.timeoutSeconds ?? 120,
        },
      );
      if (run.exitCode === 0) {
        o.log?.(
          `verify: \`${command}\` works in the image${added.length ? ` after adding ${added.length} files` : ''}`,
        );
        reports.push({ command, exitCode: 0, added, rounds: round });
        break;
      }
      let missing = (await findMissingFiles(run, root, { includeDirectories: Boolean(o.fix) }))
        .map((m) => m.path)
        .filter((p) => !added.includes(p));
      if (o.fix && round === 1 && !spec.sysroot) {
        // one failed import at a time would take a round per file (an interpreter's standard library):
        // run the same command on the host under strace once and take everything it used
        const inImage = new Set(built.record.files.map((f) => f.path));
        const traced = (await traceOnHost(built, words, command, o)).filter((p) => !inImage.has(p));
        missing = [...new Set([...missing, ...traced])].filter((p) => !added.includes(p));
      }
      if (o.fix && missing.length === 0) {
        missing = (await listedEntries(run, root, built)).filter((p) => !added.includes(p));
        if (missing.length > 0)
          o.log?.(
            `verify: \`${command}\` looked nothing up in vain; offering the host entries of the ${new Set(missing.map(parentOf)).size} directories it listed`,
          );
      }
      const output = Buffer.concat([run.stderr, run.stdout])
        .toString('utf8')
        .trim()
        .split('\n')
        .slice(-5)
        .join('\n');
      if (missing.length === 0 || !o.fix || round >= MAX_FIX_ROUNDS) {
        const what =
          missing.length > 0
            ? `; it looked for ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''}, which the source root has`
            : '';
        throw new FromscratchError(
          'VERIFY_FAILED',
          `\`${command}\` exited ${run.exitCode} inside the image${what}${run.runError ? ` (${run.runError})` : ''}${output ? `\n${output}` : ''}`,
          {
            hint:
              missing.length > 0 && !o.fix
                ? 'add --fix to add the missing files and build again'
                : 'add what it needs with --add, --binary or --trace',
          },
        );
      }
      o.log?.(
        `verify: \`${command}\` failed; adding ${missing.length} missing files: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ' …' : ''}`,
      );
      added.push(...missing);
      spec = { ...spec, contents: [...spec.contents, { kind: 'root-paths', paths: missing, command }] };
      result = await o.rebuild(spec);
    }
  }
  return { spec, result, reports };
}

/** hostImage is the image of a build that runs here (the host's platform, else the first). */
function hostImage(result: BuildResult): PlatformBuild {
  return result.images.find((i) => platformMatches(i.platform, hostPlatform())) ?? result.images[0]!;
}

/** imageCommand is what a container of the image runs with no arguments: entrypoint, then cmd. */
function imageCommand(image: Image): string[] {
  const argv = [...(image.config.Entrypoint ?? []), ...(image.config.Cmd ?? [])];
  if (argv.length === 0)
    throw new FromscratchError(
      'USAGE',
      '--verify without a command, but the image has no entrypoint or cmd',
      {
        hint: "set --entrypoint or --cmd, or say what to run: --verify 'CMD ARG…'",
      },
    );
  return argv;
}

/**
 * traceOnHost runs the command on the host under strace and returns the host files it used. As root,
 * the built image is laid over the host (trace/image-view.ts) so that paths only the image has (an added
 * app, the WORKDIR, an entrypoint script) are there; otherwise, or when that cannot be set up, the plain
 * host is traced from the image's WORKDIR when the host has it (else /).
 */
async function traceOnHost(
  built: PlatformBuild,
  words: readonly string[],
  command: string,
  o: VerifyOptions,
): Promise<string[]> {
  const host = hostFs('/');
  const config = built.image.config;
  const workdir = config.WorkingDir || '/';
  const env = imageEnv(config.Env ?? []);
  const common = {
    allowFailure: true,
    secrets: 'omit' as const,
    timeoutSeconds: o.timeoutSeconds ?? 120,
    env,
  };
  if (process.getuid?.() === 0) {
    const dir = await makeUnpackDir();
    try {
      await unpackImage({ image: built.image, store: o.store }, dir);
      // the image's program, not whatever the host user's PATH finds first (pyenv shims, ~/bin)
      const program = words[0]!.includes('/')
        ? words[0]!
        : await findInRoots([hostFs(dir), host], words[0]!, env.PATH);
      o.log?.(`verify: tracing \`${command}\` on the host, seeing the image's paths, to learn what it uses`);
      const traced = await traceCommand([program, ...words.slice(1)], {
        ...common,
        cwd: workdir,
        imageRoot: dir,
      });
      return traced.files.map((f) => f.path).filter((p) => p !== '/');
    } catch (e) {
      if (!isFromscratchError(e, 'TRACE_FAILED')) throw e;
      o.log?.(`verify: ${e.message}; tracing the plain host instead`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  o.log?.(`verify: tracing \`${command}\` on the host to learn what it uses`);
  const program = words[0]!.includes('/') ? words[0]! : await findInRoots([host], words[0]!, env.PATH);
  // from the image's working directory (or /), so the host's cwd does not end up in the image
  const cwd = (await host.lstat(workdir))?.type === 'dir' ? workdir : '/';
  const traced = await traceCommand([program, ...words.slice(1)], { ...common, cwd });
  return traced.files.map((f) => f.path).filter((p) => p !== '/');
}

/** imageEnv is the environment a container of the image gets: this process's, with the image's Env and PATH. */
function imageEnv(list: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.PATH = IMAGE_PATH.join(':');
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}

/** findInRoots finds a program name on PATH in the first root that has it (the name itself otherwise). */
async function findInRoots(
  roots: readonly RootFs[],
  name: string,
  pathVar: string | undefined,
): Promise<string> {
  const dirs = pathVar ? pathVar.split(':').filter((d) => d.startsWith('/')) : IMAGE_PATH;
  for (const root of roots) {
    for (const dir of dirs) {
      const r = await resolvePath(root, `${dir}/${name}`);
      if (r.stat?.type === 'file' && (r.stat.mode & 0o111) !== 0) return `${dir}/${name}`;
    }
  }
  return name;
}

/**
 * listedEntries returns the host entries of the directories the run opened for listing (O_DIRECTORY)
 * that the image lacks, each as `DIR/NAME` (secret-looking ones left out).
 */
async function listedEntries(run: ImageRunTrace, root: RootFs, built: PlatformBuild): Promise<string[]> {
  const inImage = new Set(built.record.files.map((f) => f.path));
  const dirs = [
    ...new Set(
      run.events
        .filter((e) => e.inRoot && e.ok && e.kind === 'open' && e.directory)
        .map((e) => e.path)
        .filter((p) => !/^\/(proc|sys|dev)(\/|$)/.test(p)),
    ),
  ];
  const out: string[] = [];
  for (const dir of dirs) {
    const r = await resolvePath(root, dir);
    if (r.stat?.type !== 'dir') continue;
    const names = (await root.readdir(r.path)).sort();
    for (const name of names) {
      const path = dir === '/' ? `/${name}` : `${dir}/${name}`;
      const real = r.path === '/' ? `/${name}` : `${r.path}/${name}`;
      if (inImage.has(path) || inImage.has(real)) continue;
      if (checkSecret(path).refuse) continue;
      out.push(path);
    }
  }
  return out;
}

function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}
