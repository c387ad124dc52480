/**
 * init.ts — `fromscratch init [DIR]`: write a commented fromscratch.yaml guessed from the directory.
 */
import type { Command } from 'commander';
import { initSpec } from '../../index.ts';
import type { CliIo } from '../io.ts';

/** registerInit adds the init command. */
export function registerInit(program: Command, io: CliIo): void {
  program
    .command('init')
    .description(
      'write a commented fromscratch.yaml for this directory (a package.json makes it a Node.js app)',
    )
    .argument('[dir]', 'directory to write it in (default: the current one)')
    .option('--force', 'replace an existing fromscratch.yaml')
    .action(async (dir: string | undefined, f: { force?: boolean }) => {
      const r = await initSpec(dir === undefined ? io.cwd : resolvePath(io.cwd, dir), {
        ...(f.force ? { force: true } : {}),
        ...(io.env.PATH !== undefined ? { path: io.env.PATH } : {}),
      });
      io.stderr.write(
        `wrote ${r.file} (${r.guessed}); build it with: fromscratch build -c ${r.file} -o oci:out:1\n`,
      );
      io.stdout.write(`${r.file}\n`);
    });
}

function resolvePath(cwd: string, p: string): string {
  return p.startsWith('/') ? p : `${cwd}/${p}`;
}
