/**
 * run-image.ts — `fromscratch run`: any transport (registries included) handed to run/'s runner.
 */
import { hostPlatform } from '../model/platform.ts';
import type { ProgressSink } from '../model/progress.ts';
import { pickOne } from '../oci/image-io.ts';
import { type RunOptions, runImage } from '../run/run.ts';
import { cliTransport } from './commands.ts';
import { readAnyImage } from './transports.ts';

/**
 * runImageRef runs the image `ref` names (the host's platform) with `args` replacing its Cmd, and
 * returns the container's exit code. A registry image's pull is reported on `progress`; `onImageRead`
 * is called once the image is read, before the container starts (the CLI ends its progress output there).
 */
export async function runImageRef(
  ref: string,
  args: readonly string[],
  opts: RunOptions & { insecure?: readonly string[]; progress?: ProgressSink; onImageRead?: () => void } = {},
): Promise<number> {
  const { insecure, progress, onImageRead, ...runOpts } = opts;
  const set = await readAnyImage(ref, cliTransport(insecure, undefined, progress), {
    platform: hostPlatform(),
  });
  try {
    const image = pickOne(set.images, hostPlatform(), ref);
    onImageRead?.();
    const r = await runImage({ image, store: set.store }, args.length > 0 ? args : undefined, runOpts);
    return r.exitCode;
  } finally {
    await set.close();
  }
}
