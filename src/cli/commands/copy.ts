/**
 * copy.ts — `fromscratch copy SRC DEST`: copy an image between transports (push, pull, save).
 */
import type { Command } from 'commander';
import { copyImageRef, retryAfterCacheHeal } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { progressFor } from '../progress.ts';

/** registerCopy adds the copy command. */
export function registerCopy(program: Command, io: CliIo): void {
  program
    .command('copy')
    .description('copy an image between transports, keeping digests where formats allow')
    .argument('<src>', 'source image')
    .argument('<dest>', 'destination')
    .option(
      '--insecure-registry <host>',
      'allow plain HTTP to this registry',
      (v: string, p: string[] = []) => [...p, v],
    )
    .option('--cert-dir <dir>', 'CA certificates and client pairs for registries, as skopeo --cert-dir')
    .option('-q, --quiet', 'no progress on stderr')
    .option(
      '--progress <auto|tty|plain|quiet>',
      'progress on stderr (default auto; also FROMSCRATCH_PROGRESS)',
    )
    .action(
      async (
        src: string,
        dest: string,
        f: { insecureRegistry?: string[]; certDir?: string },
        cmd: Command,
      ) => {
        const progress = progressFor(io, cmd);
        const digest = await retryAfterCacheHeal(
          () =>
            copyImageRef(src, dest, {
              ...(f.insecureRegistry ? { insecure: f.insecureRegistry } : {}),
              ...(f.certDir ? { certDir: f.certDir } : {}),
              progress: progress.sink,
            }),
          (m) => progress.log(m),
        );
        progress.close(true);
        io.stdout.write(`${digest}\n`);
      },
    );
}
