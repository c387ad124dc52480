/**
 * deps.ts — `fromscratch deps PATH...`: the closure of programs, without building (a safe lddtree).
 */
import type { Command } from 'commander';
import { INFER_NAMES, resolveDeps } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { collect, collectNoInfer, noInferOptions } from './options.ts';

/** registerDeps adds the deps command. */
export function registerDeps(program: Command, io: CliIo): void {
  program
    .command('deps')
    .description('print what programs need at run time, and why, without executing them')
    .argument('<paths...>', 'programs (ELF or #! scripts)')
    .option('--sysroot <dir>', 'resolve inside another root')
    .option('--lib-path <dir>', 'extra library directory inside the root', collect)
    .option('--json', 'print JSON (every file)')
    .option('-v, --verbose', 'list every inferred file (default: one line for a rule that adds many)')
    .option(
      '--no-infer [names]',
      `leave out inferences: --no-infer=gconv,nss (repeatable; ${INFER_NAMES.join(', ')}, all); bare: nss, gconv, libgcc, ca-certificates, dlopen-notes`,
      collectNoInfer,
    )
    .action(
      async (
        paths: string[],
        f: {
          sysroot?: string;
          libPath?: string[];
          json?: boolean;
          verbose?: boolean;
          infer: boolean | string[];
        },
      ) => {
        const infer = noInferOptions(f.infer);
        const result = await resolveDeps(paths, {
          cwd: io.cwd,
          ...(f.sysroot !== undefined ? { sysroot: f.sysroot } : {}),
          ...(f.libPath ? { libraryPath: f.libPath } : {}),
          ...(infer ? { infer } : {}),
          ...(f.verbose ? { verbose: true } : {}),
        });
        io.stdout.write(f.json ? `${JSON.stringify(result.json, null, 2)}\n` : result.text);
      },
    );
}
