/**
 * why.ts — `fromscratch why IMAGE PATH`: the chain of reasons a file is in the image.
 */
import type { Command } from 'commander';
import { explainImagePath, formatExplanation } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { progressFor, withProgressOptions } from '../progress.ts';
import { collect } from './options.ts';

/** registerWhy adds the why command. */
export function registerWhy(program: Command, io: CliIo): void {
  withProgressOptions(program.command('why'))
    .description('explain why a file is in an image')
    .argument('<image>', 'image reference with its transport')
    .argument('<path>', 'absolute path inside the image')
    .option('--json', 'print JSON')
    .option('--insecure-registry <host>', 'talk plain HTTP to this registry (repeatable)', collect)
    .action(
      async (
        image: string,
        path: string,
        f: { json?: boolean; insecureRegistry?: string[] },
        cmd: Command,
      ) => {
        const progress = progressFor(io, cmd);
        const chain = await explainImagePath(image, path, {
          progress: progress.sink,
          ...(f.insecureRegistry ? { insecure: f.insecureRegistry } : {}),
        });
        progress.close(true);
        io.stdout.write(f.json ? `${JSON.stringify(chain, null, 2)}\n` : formatExplanation(chain));
      },
    );
}
