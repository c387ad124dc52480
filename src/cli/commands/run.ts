/**
 * run.ts — `fromscratch run IMAGE [-- ARG...]`: run an image with runc (default) or the Docker Engine.
 */
import type { Command } from 'commander';
import { FromscratchError, runImageRef } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { collect, parseKeyValue, parseSeconds } from './options.ts';

/** registerRun adds the run command. */
export function registerRun(program: Command, io: CliIo): void {
  program
    .command('run')
    .description("run an image (runc with a generated bundle, or docker); exits with the container's code")
    .argument(
      '<image>',
      'image: oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE, docker-daemon:NAME:TAG, docker://…',
    )
    .argument('[args...]', "arguments replacing the image's Cmd")
    .option('--runtime <runc|docker>', 'container runtime', 'runc')
    .option('--entrypoint <path>', 'override the entrypoint')
    .option('-e, --env <k=v>', 'extra environment variable', collect)
    .option('--user <user>', 'run as this user')
    .option('--workdir <dir>', 'working directory')
    .option('--timeout <seconds>', 'kill the container after this many seconds')
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
        },
      ) => {
        if (f.runtime !== 'runc' && f.runtime !== 'docker') {
          throw new FromscratchError('USAGE', `unknown runtime ${JSON.stringify(f.runtime)}`, {
            hint: 'use --runtime runc or --runtime docker',
          });
        }
        const code = await runImageRef(image, args, {
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
