/**
 * report.ts — `fromscratch report IMAGE -o FILE.html`: one self-contained HTML page about an image
 * (a treemap by package and origin, the layers, the config, why each file is there).
 */
import type { Command } from 'commander';
import { FromscratchError, writeReport } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { progressFor, withProgressOptions } from '../progress.ts';
import { collect } from './options.ts';

/** registerReport adds the report command. */
export function registerReport(program: Command, io: CliIo): void {
  withProgressOptions(program.command('report'))
    .description('write one self-contained HTML page about an image: treemap, layers, config, why')
    .argument('<image>', 'image reference with its transport')
    .option('-o, --output <file>', 'the HTML file to write')
    .option('--insecure-registry <host>', 'talk plain HTTP to this registry (repeatable)', collect)
    .action(async (image: string, f: { output?: string; insecureRegistry?: string[] }, cmd: Command) => {
      if (!f.output) {
        throw new FromscratchError('USAGE', 'report needs -o FILE.html', {
          hint: `write fromscratch report ${image} -o report.html`,
        });
      }
      const progress = progressFor(io, cmd);
      const r = await writeReport(image, f.output, {
        progress: progress.sink,
        ...(f.insecureRegistry ? { insecure: f.insecureRegistry } : {}),
      });
      progress.close(true);
      io.stderr.write(`report: ${r.files} files, ${r.bytes} bytes of HTML\n`);
      io.stdout.write(`${f.output}\n`);
    });
}
