/**
 * sbom.ts — `fromscratch sbom IMAGE [--format spdx|cyclonedx] [--platform OS/ARCH]`.
 */
import type { Command } from 'commander';
import { FromscratchError, makeSbom, parsePlatform } from '../../index.ts';
import type { CliIo } from '../io.ts';

/** registerSbom adds the sbom command. */
export function registerSbom(program: Command, io: CliIo): void {
  program
    .command('sbom')
    .description('print a software bill of materials of an image')
    .argument('<image>', 'image: a registry name (alpine:3.20) or a transport reference (oci:DIR[:TAG], …)')
    .option('--format <spdx|cyclonedx>', 'SBOM format', 'spdx')
    .option(
      '--platform <os/arch>',
      'the image of this platform in a multi-platform image (default: the host)',
    )
    .action(async (image: string, f: { format: string; platform?: string }) => {
      if (f.format !== 'spdx' && f.format !== 'cyclonedx') {
        throw new FromscratchError('USAGE', `unknown SBOM format ${JSON.stringify(f.format)}`, {
          hint: 'use --format spdx or --format cyclonedx',
        });
      }
      const doc = await makeSbom(image, f.format, {
        onSource: (_source, message) => io.stderr.write(`sbom: ${message}\n`),
        ...(f.platform ? { platform: parsePlatform(f.platform) } : {}),
      });
      io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    });
}
