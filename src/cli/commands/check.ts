/**
 * check.ts — `fromscratch check IMAGE [--json]`: would a container of this image start?
 *
 * The static start check every build runs, on any image (ours, docker's, a registry's). stdout carries
 * the result: the report's lines, or JSON. Exit 0 when every platform can start, 1 when a problem was
 * found (the same exit code as a user error: scripts test `fromscratch check IMG || …`).
 */
import type { Command } from 'commander';
import { checkImageStart, formatCheck, parsePlatform } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { progressFor, withProgressOptions } from '../progress.ts';
import { collect } from './options.ts';

/** registerCheck adds the check command. */
export function registerCheck(program: Command, io: CliIo): void {
  withProgressOptions(program.command('check'))
    .description(
      'static "can this image start?" check, without running it: entrypoint, #! interpreters, loader, libraries of every ELF file, user, locale (exit 1 when a problem is found)',
    )
    .argument('<image>', 'image reference with its transport (a plain name means a registry image)')
    .option('--platform <os/arch>', 'check only this platform of a multi-platform image')
    .option('--json', 'print JSON')
    .option('--insecure-registry <host>', 'talk plain HTTP to this registry', collect)
    .action(
      async (
        image: string,
        f: { json?: boolean; platform?: string; insecureRegistry?: string[] },
        cmd: Command,
      ) => {
        const progress = progressFor(io, cmd);
        const result = await checkImageStart(image, {
          progress: progress.sink,
          ...(f.insecureRegistry ? { insecure: f.insecureRegistry } : {}),
          ...(f.platform ? { platform: parsePlatform(f.platform) } : {}),
        });
        progress.close(true);
        if (f.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else {
          for (const img of result.images) {
            const lines = formatCheck(img.report);
            const prefix = result.images.length > 1 ? `${img.platform}: ` : '';
            io.stdout.write(`${prefix}${lines.join('\n')}\n`);
            for (const n of img.report.notes) io.stdout.write(`  note: ${n}\n`);
          }
        }
        if (result.images.some((i) => !i.starts)) process.exitCode = 1;
      },
    );
}
