/**
 * why.ts — `fromscratch why IMAGE PATH`: the chain of reasons a file is in the image.
 */
import type { Command } from 'commander';
import { explainImagePath, formatExplanation } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { progressFor, withProgressOptions } from '../progress.ts';

/** registerWhy adds the why command. */
export function registerWhy(program: Command, io: CliIo): void {
  withProgressOptions(program.command('why'))
    .description('explain why a file is in an image')
    .argument('<image>', 'image reference with its transport')
    .argument('<path>', 'absolute path inside the image')
    .option('--json', 'print JSON')
    .action(async (image: string, path: string, f: { json?: boolean }, cmd: Command) => {
      const progress = progressFor(io, cmd);
      const chain = await explainImagePath(image, path, { progress: progress.sink });
      progress.close(true);
      io.stdout.write(f.json ? `${JSON.stringify(chain, null, 2)}\n` : formatExplanation(chain));
    });
}
