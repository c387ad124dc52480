/**
 * verify.ts — `--verify CMD [--fix]`: prove the built image runs CMD; name what it misses; with --fix,
 * add the missing files (and their closures) and build again until CMD works or nothing more can be added.
 */

import type { BlobStore } from '../blob/store.ts';
import { FromscratchError } from '../errors.ts';
import { hostFs } from '../fs/host-fs.ts';
import { resolvePath } from '../fs/resolve.ts';
import type { RootFs } from '../fs/root-fs.ts';
import { hostPlatform, platformMatches } from '../model/platform.ts';
import { splitShellWords } from '../spec/shell-words.ts';
import { traceCommand } from '../trace/trace.ts';
import { findMissingFiles, traceImageRun } from '../trace/verify.ts';
import type { BuildResult } from './build.ts';
import { recordFs } from './record.ts';
import type { BuildSpec } from './spec.ts';

/** IMAGE_PATH is the PATH a container gets when the image sets none (runc, docker). */
const IMAGE_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

async function findInRoot(root: RootFs, name: string): Promise<string> {
  for (const dir of IMAGE_PATH) {
    const r = await resolvePath(root, `${dir}/${name}`);
    if (r.stat?.type === 'file' && (r.stat.mode & 0o111) !== 0) return `${dir}/${name}`;
  }
  return name;
}

/** MAX_FIX_ROUNDS bounds the verify–fix loop. */
export const MAX_FIX_ROUNDS = 8;

/** VerifyReport says what verification did. */
export interface VerifyReport {
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
 * verifyBuild runs each command inside the host-platform image of `result`. On failure it names the files
 * the run looked up in vain that exist on the source root; with `fix` it adds them and rebuilds. Returns
 * the final build and a report per command. Throws VERIFY_FAILED when a command still fails.
 */
export async function verifyBuild(
  spec: BuildSpec,
  result: BuildResult,
  commands: readonly string[],
  o: VerifyOptions,
): Promise<{ spec: BuildSpec; result: BuildResult; reports: VerifyReport[] }> {
  const reports: VerifyReport[] = [];
  const root = hostFs(spec.sysroot ?? '/');
  for (const command of commands) {
    const words = splitShellWords(command);
    if (words.length === 0)
      throw new FromscratchError('USAGE', '--verify was given an empty command', {
        hint: "write --verify 'CMD ARG…'",
      });
    const added: string[] = [];
    for (let round = 1; ; round++) {
      const built =
        result.images.find((i) => platformMatches(i.platform, hostPlatform())) ?? result.images[0]!;
      const run = await traceImageRun({ image: built.image, store: o.store }, words.slice(1), {
        entrypoint: [words[0]!],
        timeoutSeconds: o.timeoutSeconds ?? 120,
      });
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
      if (o.fix && round === 1 && !spec.sysroot && missing.length > 0) {
        // one failed import at a time would take a round per file (an interpreter's standard library):
        // run the same command on the host under strace once and take everything it used
        o.log?.(`verify: tracing \`${command}\` on the host to learn what it uses`);
        // the image's program, not whatever the host user's PATH finds first (pyenv shims, ~/bin)
        const program = words[0]!.includes('/') ? words[0]! : await findInRoot(root, words[0]!);
        // from the image's working directory (or /), so the host's cwd does not end up in the image
        const workdir = built.image.config.WorkingDir;
        const cwd = workdir && (await root.lstat(workdir))?.type === 'dir' ? workdir : '/';
        const traced = await traceCommand([program, ...words.slice(1)], {
          cwd,
          allowFailure: true,
          secrets: 'omit',
          timeoutSeconds: o.timeoutSeconds ?? 120,
        });
        missing = [...new Set([...missing, ...traced.files.map((f) => f.path)])].filter(
          (p) => !added.includes(p),
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
