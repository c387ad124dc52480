/**
 * inspect.ts — `fromscratch inspect IMAGE [--json]`: config, layers, files and sizes;
 * `--by dir|package|origin|layer [--depth N]` and `--top N`: where the space goes.
 */
import type { Command } from 'commander';
import {
  DEFAULT_DEPTH,
  FromscratchError,
  formatSpaceTree,
  formatTop,
  imageSpace,
  inspectImage,
  inspectRawDocument,
  SPACE_BY,
  type SpaceBy,
  spaceTree,
  topFiles,
  totalBytes,
} from '../../index.ts';
import { formatInspect } from '../format-inspect.ts';
import type { CliIo } from '../io.ts';
import { progressFor, withProgressOptions } from '../progress.ts';
import { collect } from './options.ts';

/** parseCount reads a non-negative whole number for `flag`, throwing USAGE otherwise. */
function parseCount(flag: string, s: string): number {
  if (!/^\d{1,9}$/.test(s)) {
    throw new FromscratchError('USAGE', `${flag} ${JSON.stringify(s)} is not a whole number`, {
      hint: `write ${flag} 20`,
    });
  }
  return Number(s);
}

/** registerInspect adds the inspect command. */
export function registerInspect(program: Command, io: CliIo): void {
  withProgressOptions(program.command('inspect'))
    .description("show an image's config, layers, files and sizes")
    .argument(
      '<image>',
      'image: a registry name (alpine:3.20, 127.0.0.1:5000/app:1) or a transport reference (oci:DIR[:TAG], …)',
    )
    .option('--json', 'print JSON')
    .option('--no-files', 'leave out the file list')
    .option('--by <view>', `where the space goes, as a sorted tree with totals: ${SPACE_BY.join('|')}`)
    .option('--depth <n>', 'levels of the --by tree (default: dir 3, package and origin 1, layer 2)')
    .option('--top <n>', 'the N largest files with their package and origin')
    .option('--raw', 'print the manifest (or index) bytes exactly as stored')
    .option('--config', 'print the config JSON (its digest is the image ID)')
    .option('--insecure-registry <host>', 'talk plain HTTP to this registry (repeatable)', collect)
    .action(
      async (
        image: string,
        f: {
          json?: boolean;
          files: boolean;
          by?: string;
          depth?: string;
          top?: string;
          raw?: boolean;
          config?: boolean;
          insecureRegistry?: string[];
        },
        cmd: Command,
      ) => {
        const insecure = f.insecureRegistry ? { insecure: f.insecureRegistry } : {};
        if (f.raw && f.config)
          throw new FromscratchError('USAGE', '--raw and --config print different documents', {
            hint: 'give one of them',
          });
        if (f.raw || f.config) {
          const progress = progressFor(io, cmd);
          const doc = await inspectRawDocument(image, f.raw ? 'manifest' : 'config', {
            progress: progress.sink,
            ...insecure,
          });
          progress.close(true);
          if (!doc.stored)
            io.stderr.write('note: the source stores no manifest; this is the OCI manifest it is read as\n');
          io.stdout.write(doc.bytes);
          return;
        }
        if (f.by !== undefined && !(SPACE_BY as readonly string[]).includes(f.by)) {
          throw new FromscratchError('USAGE', `unknown --by view ${JSON.stringify(f.by)}`, {
            hint: `use --by ${SPACE_BY.join(', --by ')}`,
          });
        }
        const depth = f.depth !== undefined ? parseCount('--depth', f.depth) : undefined;
        const top = f.top !== undefined ? parseCount('--top', f.top) : undefined;
        if (depth !== undefined && f.by === undefined) {
          throw new FromscratchError('USAGE', '--depth needs --by', { hint: 'write --by dir --depth 2' });
        }
        if (f.by === undefined && top === undefined) {
          const progress = progressFor(io, cmd);
          const info = await inspectImage(image, {
            files: f.files,
            progress: progress.sink,
            ...insecure,
          });
          progress.close(true);
          io.stdout.write(f.json ? `${JSON.stringify(info, null, 2)}\n` : formatInspect(info));
          return;
        }
        const progress = progressFor(io, cmd);
        const space = await imageSpace(image, { progress: progress.sink, ...insecure });
        progress.close(true);
        const by = f.by as SpaceBy | undefined;
        const tree = by ? spaceTree(space, by, depth ?? DEFAULT_DEPTH[by]) : undefined;
        const largest = top !== undefined ? topFiles(space, top) : undefined;
        const total = totalBytes(space);
        if (f.json) {
          const doc = {
            reference: space.reference,
            platform: space.platform,
            source: space.source,
            totalBytes: total,
            files: space.files.length,
            ...(by && tree ? { by, tree } : {}),
            ...(largest ? { top: largest } : {}),
          };
          io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
          return;
        }
        const parts: string[] = [];
        if (tree) parts.push(formatSpaceTree(tree));
        if (largest) parts.push(formatTop(largest, total));
        if (space.source !== 'record' && by !== 'dir' && by !== 'layer')
          io.stderr.write(
            space.source === 'dpkg'
              ? "packages and origins come from the image's dpkg data (no fromscratch build record)\n"
              : 'no build record and no dpkg data in the image: packages and origins are unknown\n',
          );
        io.stdout.write(parts.join('\n'));
      },
    );
}
