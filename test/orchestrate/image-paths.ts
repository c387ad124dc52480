/**
 * image-paths.ts — the paths of an image in an OCI layout, as GNU tar lists its layers (an oracle
 * independent of fromscratch's own tar reader).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function blob(layout: string, digest: string): string {
  return join(layout, 'blobs', ...digest.split(':'));
}

/** layoutPaths lists every path of the image tagged `tag` in `layout`, layer by layer, without `./` or a trailing `/`. */
export function layoutPaths(layout: string, tag: string): string[] {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const desc = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!desc) throw new Error(`no image tagged ${tag} in ${layout}`);
  const manifest = JSON.parse(readFileSync(blob(layout, desc.digest), 'utf8')) as {
    layers: { digest: string }[];
  };
  const paths: string[] = [];
  for (const l of manifest.layers) {
    const list = execFileSync('tar', ['-tzf', blob(layout, l.digest)], { encoding: 'utf8' });
    for (const line of list.split('\n')) {
      if (line !== '') paths.push(`/${line.replace(/^\.?\//, '').replace(/\/$/, '')}`);
    }
  }
  return paths;
}
