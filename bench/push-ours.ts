/**
 * push-ours.ts — the fromscratch side of bench/push.ts, kept to what a `fromscratch copy oci:… docker://…`
 * would load: read the image of an OCI layout (tag in index.json) and push it. Prints JSON timings.
 *
 *   node push-ours.mjs LAYOUT_DIR REGISTRY/REPO:TAG
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dirStore } from '../src/blob/dir-store.ts';
import { readBlob } from '../src/blob/store.ts';
import type { Digest } from '../src/model/digest.ts';
import { parseImageConfig, parseImageManifest } from '../src/model/json.ts';
import { toImage } from '../src/oci/to-image.ts';
import { pushImage } from '../src/registry/push.ts';

const [dir, ref] = process.argv.slice(2);
if (!dir || !ref) throw new Error('usage: push-ours LAYOUT_DIR REF');
const store = dirStore(join(dir, 'blobs'), { fsync: false });
const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
  manifests: { digest: Digest }[];
};
const manifest = parseImageManifest(await readBlob(store, index.manifests[0]!.digest));
const config = parseImageConfig(await readBlob(store, manifest.config.digest));
const t0 = performance.now();
const r = await pushImage(ref, [toImage(manifest, config)], store);
process.stdout.write(
  `${JSON.stringify({ ms: performance.now() - t0, digest: r.digest, blobs: r.blobs, uptimeMs: process.uptime() * 1000 })}\n`,
);
