/**
 * run-image.ts — `fromscratch run`: any transport (registries included) handed to run/'s runner.
 */
import { hostPlatform } from '../model/platform.ts';
import { pickOne } from '../oci/image-io.ts';
import { type RunOptions, runImage } from '../run/run.ts';
import { cliTransport } from './commands.ts';
import { readAnyImage } from './transports.ts';

/**
 * runImageRef runs the image `ref` names (the host's platform) with `args` replacing its Cmd, and
 * returns the container's exit code.
 */
export async function runImageRef(
  ref: string,
  args: readonly string[],
  opts: RunOptions & { insecure?: readonly string[] } = {},
): Promise<number> {
  const { insecure, ...runOpts } = opts;
  const set = await readAnyImage(ref, cliTransport(insecure), { platform: hostPlatform() });
  try {
    const image = pickOne(set.images, hostPlatform(), ref);
    const r = await runImage({ image, store: set.store }, args.length > 0 ? args : undefined, runOpts);
    return r.exitCode;
  } finally {
    await set.close();
  }
}
