/**
 * run.ts — `fromscratch run [OPTIONS] IMAGE [ARG...]`: run an image with runc (default) or the Docker
 * Engine. As with `docker run`, options come before the image and everything after it goes to the
 * container (`run curl:1 --version` runs curl's --version).
 */
import type { Command } from 'commander';
import { FromscratchError, runImageRef } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { progressFor, withProgressOptions } from '../progress.ts';
import { collect, parseKeyValue, parseSeconds } from './options.ts';

/** options of `run` that take a value as the next word (the image is the first word that is neither) */
const VALUE_OPTIONS = new Set([
  '--runtime',
  '--entrypoint',
  '-e',
  '--env',
  '--user',
  '--workdir',
  '--timeout',
  '--progress',
  '--insecure-registry',
]);

/** global options (before the command) that take a value as the next word */
const GLOBAL_VALUE_OPTIONS = new Set(['--progress']);

/**
 * separateRunArgs puts `--` after the image of a `run` command line, so that the words after it reach the
 * container as they are, options included, as docker run does. Any other command line is returned as it
 * is, and so is one that already has `--` right after the image.
 * @example separateRunArgs(['run', 'curl:1', '--version']) // ['run', 'curl:1', '--', '--version']
 */
export function separateRunArgs(argv: readonly string[]): string[] {
  let k = 0;
  // global options: --debug, -q and --progress=MODE take no next word, --progress MODE does
  while (k < argv.length && argv[k]!.startsWith('-')) k += GLOBAL_VALUE_OPTIONS.has(argv[k]!) ? 2 : 1;
  if (argv[k] !== 'run') return [...argv];
  for (let j = k + 1; j < argv.length; j++) {
    const w = argv[j]!;
    if (w === '--') return [...argv];
    if (w.startsWith('-') && w !== '-') {
      if (VALUE_OPTIONS.has(w)) j++;
      continue;
    }
    if (j + 1 >= argv.length || argv[j + 1] === '--') return [...argv];
    return [...argv.slice(0, j + 1), '--', ...argv.slice(j + 1)];
  }
  return [...argv];
}

/** registerRun adds the run command. */
export function registerRun(program: Command, io: CliIo): void {
  withProgressOptions(program.command('run'))
    .description("run an image (runc with a generated bundle, or docker); exits with the container's code")
    .argument(
      '<image>',
      'image: a registry name (alpine:3.20, 127.0.0.1:5000/app:1), oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE, docker-daemon:NAME:TAG, docker://…',
    )
    .argument(
      '[args...]',
      "arguments replacing the image's Cmd: every word after the image, options included",
    )
    .option('--runtime <runc|docker>', 'container runtime', 'runc')
    .option('--entrypoint <path>', 'override the entrypoint')
    .option('-e, --env <k=v>', 'extra environment variable', collect)
    .option('--user <user>', 'run as this user')
    .option('--workdir <dir>', 'working directory')
    .option('--timeout <seconds>', 'kill the container after this many seconds')
    .option('--insecure-registry <host>', 'talk plain HTTP to this registry (repeatable)', collect)
    .action(
      async (
        image: string,
        args: string[],
        f: {
          runtime: string;
          entrypoint?: string;
          env?: string[];
          user?: string;
          workdir?: string;
          timeout?: string;
          insecureRegistry?: string[];
        },
        cmd: Command,
      ) => {
        if (f.runtime !== 'runc' && f.runtime !== 'docker') {
          throw new FromscratchError('USAGE', `unknown runtime ${JSON.stringify(f.runtime)}`, {
            hint: 'use --runtime runc or --runtime docker',
          });
        }
        // a registry image's pull is shown; the progress output ends before the container starts
        const progress = progressFor(io, cmd);
        const code = await runImageRef(image, args, {
          progress: progress.sink,
          ...(f.insecureRegistry ? { insecure: f.insecureRegistry } : {}),
          onImageRead: () => progress.close(true),
          runtime: f.runtime,
          ...(f.entrypoint !== undefined ? { entrypoint: [f.entrypoint] } : {}),
          ...(f.env ? { env: f.env.map((kv) => parseKeyValue('--env', kv).join('=')) } : {}),
          ...(f.user !== undefined ? { user: f.user } : {}),
          ...(f.workdir !== undefined ? { workdir: f.workdir } : {}),
          ...(f.timeout !== undefined ? { timeoutSeconds: parseSeconds('--timeout', f.timeout) } : {}),
          stdio: 'inherit',
          onWarning: (m) => io.stderr.write(`warning: ${m}\n`),
        });
        process.exitCode = code;
      },
    );
}
