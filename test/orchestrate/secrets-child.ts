/**
 * secrets-child.ts — builds one image per case with the real buildImage and prints, as JSON, the error
 * code of each build ('' when it succeeded) and the paths of the written image (GNU tar's listing of its
 * layers). Run by secrets-policy.test.ts, inside a mount namespace where /etc is a private copy, so that
 * /etc-anchored rules (`/etc/shadow.bak`, `/etc/sudoers.d/x`) meet real files without touching the host.
 *
 * argv[2]: JSON [{ src, dest, allow? }]; argv[3]: a scratch directory for the outputs.
 */
import { join } from 'node:path';
import { memoryStore } from '../../src/blob/memory-store.ts';
import { isFromscratchError } from '../../src/errors.ts';
import { buildImage } from '../../src/orchestrate/build-image.ts';
import { layoutPaths } from './image-paths.ts';

const cases = JSON.parse(process.argv[2]!) as { src: string; dest: string; allow?: string[] }[];
const out: { src: string; code: string; paths: string[] }[] = [];
for (const [i, c] of cases.entries()) {
  const layout = join(process.argv[3]!, `out-${i}`);
  try {
    await buildImage(
      {
        contents: [{ kind: 'add', src: c.src, dest: c.dest, closure: false }],
        outputs: [`oci:${layout}:t`],
        defaults: { users: false, nsswitch: false, tmp: false },
      },
      {
        store: memoryStore(),
        recordDir: join(process.argv[3]!, 'records'),
        ...(c.allow ? { allowSecrets: c.allow } : {}),
      },
    );
    out.push({ src: c.src, code: '', paths: layoutPaths(layout, 't') });
  } catch (e) {
    if (!isFromscratchError(e)) throw e;
    out.push({ src: c.src, code: e.code, paths: [] });
  }
}
process.stdout.write(JSON.stringify(out));
