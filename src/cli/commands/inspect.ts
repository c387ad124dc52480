/**
 * inspect.ts — `fromscratch inspect IMAGE [--json]`: config, layers, files and sizes.
 */
import type { Command } from 'commander';
import { FromscratchError, inspectImage, inspectRawDocument } from '../../index.ts';
import { formatInspect } from '../format-inspect.ts';
import type { CliIo } from '../io.ts';

/** registerInspect adds the inspect command. */
export function registerInspect(program: Command, io: CliIo): void {
  program
    .command('inspect')
    .description("show an image's config, layers, files and sizes")
    .argument(
      '<image>',
      'image: a registry name (alpine:3.20, 127.0.0.1:5000/app:1) or a transport reference (oci:DIR[:TAG], …)',
    )
    .option('--json', 'print JSON')
    .option('--no-files', 'leave out the file list')
    .option('--raw', 'print the manifest (or index) bytes exactly as stored')
    .option('--config', 'print the config JSON (its digest is the image ID)')
    .action(async (image: string, f: { json?: boolean; files: boolean; raw?: boolean; config?: boolean }) => {
      if (f.raw && f.config)
        throw new FromscratchError('USAGE', '--raw and --config print different documents', {
          hint: 'give one of them',
        });
      if (f.raw || f.config) {
        const doc = await inspectRawDocument(image, f.raw ? 'manifest' : 'config');
        if (!doc.stored)
          io.stderr.write('note: the source stores no manifest; this is the OCI manifest it is read as\n');
        io.stdout.write(doc.bytes);
        return;
      }
      const info = await inspectImage(image, { files: f.files });
      io.stdout.write(f.json ? `${JSON.stringify(info, null, 2)}\n` : formatInspect(info));
    });
}
