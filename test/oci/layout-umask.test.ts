/**
 * layout-umask.test.ts — a new OCI layout gets the modes the umask gives, as skopeo's do (issue 15 item
 * 10): 0755 directories and 0644 files under umask 022 (exactly what `skopeo copy` writes), 0700/0600
 * under umask 077; 0700 is never forced. The layout's contents are the same whatever the umask.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { memoryStore } from '../../src/blob/memory-store.ts';
import { writeOciLayout } from '../../src/oci/oci-layout.ts';
import { helloImage } from '../support/tiny-image.ts';

/** modes lists every path of a tree with its permission bits, directories marked with a trailing /. */
function modes(root: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (p: string): void => {
    const st = lstatSync(p);
    const rel = relative(root, p) || '.';
    out.set(st.isDirectory() ? `${rel}/` : rel, st.mode & 0o7777);
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
  };
  walk(root);
  return out;
}

async function writeUnder(umask: number, dir: string): Promise<void> {
  const store = memoryStore();
  const image = await helloImage(store);
  const old = process.umask(umask);
  try {
    // the parent is missing too: it is made with the same rule
    await writeOciLayout(dir, [image], store, { tag: '1' });
  } finally {
    process.umask(old);
  }
}

for (const [umask, dirMode, fileMode] of [
  [0o022, 0o755, 0o644],
  [0o077, 0o700, 0o600],
] as const) {
  test(`under umask ${umask.toString(8).padStart(3, '0')} a new layout is ${dirMode.toString(8)}/${fileMode.toString(8)}`, async () => {
    const work = mkdtempSync(join(tmpdir(), 'fromscratch-umask-'));
    try {
      const layout = join(work, 'parent', 'layout');
      await writeUnder(umask, layout);
      const got = modes(join(work, 'parent'));
      assert.ok(got.size >= 7, [...got.keys()].join(' '));
      for (const [path, mode] of got) {
        const want = path.endsWith('/') ? dirMode : fileMode;
        assert.equal(mode.toString(8), want.toString(8), `${path} has mode ${mode.toString(8)}`);
      }
      if (umask === 0o022) {
        // skopeo writes the same modes for the same layout under the same umask
        const viaSkopeo = join(work, 'skopeo');
        execFileSync('sh', ['-c', `umask 022 && exec skopeo copy -q oci:${layout}:1 oci:${viaSkopeo}:1`]);
        const ours = modes(layout);
        const theirs = modes(viaSkopeo);
        assert.deepEqual(
          [...theirs]
            .map(([p, m]) => [p.replace(/^blobs\/sha256\/[0-9a-f]+$/, 'blob'), m.toString(8)])
            .sort(),
          [...ours]
            .filter(([p]) => theirs.has(p))
            .map(([p, m]) => [p.replace(/^blobs\/sha256\/[0-9a-f]+$/, 'blob'), m.toString(8)])
            .sort(),
        );
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}
