/**
 * deps.ts — `fromscratch deps PATH...`: the closure of programs, without building (a safe lddtree).
 */
import type { Command } from 'commander';
import { resolveDeps } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { collect } from './options.ts';

/** registerDeps adds the deps command. */
export function registerDeps(program: Command, io: CliIo): void {
  program
    .command('deps')
    .description('print what programs need at run time, and why, without executing them')
    .argument('<paths...>', 'programs (ELF or #! scripts)')
    .option('--sysroot <dir>', 'resolve inside another root')
    .option('--lib-path <dir>', 'extra library directory inside the root', collect)
    .option('--json', 'print JSON')
    .option('--no-infer', 'do not infer run-time files (NSS, gconv, …)')
    .action(
      async (
        paths: string[],
        f: { sysroot?: string; libPath?: string[]; json?: boolean; infer: boolean },
      ) => {
        const result = await resolveDeps(paths, {
          cwd: io.cwd,
          ...(f.sysroot !== undefined ? { sysroot: f.sysroot } : {}),
          ...(f.libPath ? { libraryPath: f.libPath } : {}),
          infer: f.infer,
        });
        io.stdout.write(f.json ? `${JSON.stringify(result.json, null, 2)}\n` : result.text);
      },
    );
}
