/**
 * inspect.ts — `fromscratch inspect IMAGE [--json]`: config, layers, files and sizes.
 */
import type { Command } from 'commander';
import { inspectImage } from '../../index.ts';
import { formatInspect } from '../format-inspect.ts';
import type { CliIo } from '../io.ts';

/** registerInspect adds the inspect command. */
export function registerInspect(program: Command, io: CliIo): void {
  program
    .command('inspect')
    .description("show an image's config, layers, files and sizes")
    .argument('<image>', 'image reference with its transport')
    .option('--json', 'print JSON')
    .option('--no-files', 'leave out the file list')
    .action(async (image: string, f: { json?: boolean; files: boolean }) => {
      const info = await inspectImage(image, { files: f.files });
      io.stdout.write(f.json ? `${JSON.stringify(info, null, 2)}\n` : formatInspect(info));
    });
}
