/**
 * sbom.ts — `fromscratch sbom IMAGE [--format spdx|cyclonedx] [--platform OS/ARCH]`.
 */
import type { Command } from 'commander';
import { FromscratchError, makeSbom, parsePlatform } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { progressFor, withProgressOptions } from '../progress.ts';
import { collect } from './options.ts';

/** registerSbom adds the sbom command. */
export function registerSbom(program: Command, io: CliIo): void {
  withProgressOptions(program.command('sbom'))
    .description('print a software bill of materials of an image')
    .argument('<image>', 'image: a registry name (alpine:3.20) or a transport reference (oci:DIR[:TAG], …)')
    .option('--format <spdx|cyclonedx>', 'SBOM format', 'spdx')
    .option(
      '--platform <os/arch>',
      'the image of this platform in a multi-platform image (default: the host)',
    )
    .option('--insecure-registry <host>', 'talk plain HTTP to this registry (repeatable)', collect)
    .action(
      async (
        image: string,
        f: { format: string; platform?: string; insecureRegistry?: string[] },
        cmd: Command,
      ) => {
        if (f.format !== 'spdx' && f.format !== 'cyclonedx') {
          throw new FromscratchError('USAGE', `unknown SBOM format ${JSON.stringify(f.format)}`, {
            hint: 'use --format spdx or --format cyclonedx',
          });
        }
        const progress = progressFor(io, cmd);
        const doc = await makeSbom(image, f.format, {
          progress: progress.sink,
          ...(f.insecureRegistry ? { insecure: f.insecureRegistry } : {}),
          onSource: (_source, message) => progress.log(`sbom: ${message}`),
          ...(f.platform ? { platform: parsePlatform(f.platform) } : {}),
        });
        progress.close(true);
        io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
      },
    );
}
