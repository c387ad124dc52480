/**
 * fixtures.ts — small images for the registry tests, built at test time: layers are tars written by
 * Python's tarfile (an independent writer), gzipped with node:zlib; the hello program is `gcc -static`.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { BlobStore } from '../../src/blob/store.ts';
import { emptyImage, type Image, type Layer } from '../../src/image/image.ts';
import { sha256 } from '../../src/model/digest.ts';
import { MediaType } from '../../src/model/media-type.ts';
import type { Platform } from '../../src/model/platform.ts';

/** REGISTRY is the shared docker-registry the services script starts. */
export const REGISTRY = (() => {
  try {
    return readFileSync(
      join(process.env.FROMSCRATCH_SERVICES ?? '/tmp/fromscratch-services', 'registry-address'),
      'utf8',
    ).trim();
  } catch {
    return '127.0.0.1:5055';
  }
})();

/** uniqueRepo names a fresh repository under registry-test/. */
export function uniqueRepo(prefix = 'r'): string {
  return `registry-test/${prefix}-${randomBytes(5).toString('hex')}`;
}

/** requireTool fails (never skips) when a tool is missing, saying how to install it. */
export function requireTool(tool: string, pkg: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'pipe' });
  } catch {
    throw new Error(
      `${tool} is missing: install it with apt-get install -y ${pkg} (or run scripts/services.sh)`,
    );
  }
}

/** tarOf writes a tar of files {path: {data, mode}} with Python's tarfile (uid/gid 0, mtime 0). */
export function tarOf(files: Record<string, { data: Uint8Array; mode?: number }>): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'registry-fixture-'));
  try {
    const spec: [string, string, number][] = [];
    let i = 0;
    for (const [p, f] of Object.entries(files)) {
      const src = join(dir, `f${i++}`);
      writeFileSync(src, f.data);
      spec.push([p, src, f.mode ?? 0o644]);
    }
    const out = join(dir, 'layer.tar');
    const py = `
import json, sys, tarfile
spec = json.loads(sys.argv[2])
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as t:
    for name, src, mode in spec:
        ti = t.gettarinfo(src, arcname=name)
        ti.uid = ti.gid = 0; ti.uname = ti.gname = ''; ti.mtime = 0; ti.mode = mode
        with open(src, 'rb') as f:
            t.addfile(ti, f)
`;
    execFileSync('python3', ['-c', py, out, JSON.stringify(spec)]);
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** makeGzipLayer stores gzip(tar) in the store and returns the Layer. */
export async function makeGzipLayer(
  store: BlobStore,
  tar: Uint8Array,
  mediaType: string = MediaType.OciLayerGzip,
): Promise<Layer> {
  const gz = gzipSync(tar);
  const info = await store.put(gz);
  return { blob: { mediaType, digest: info.digest, size: info.size }, diffId: sha256(tar) };
}

/** staticHello compiles a static program printing `msg` (cached per process). */
let helloCache: Buffer | undefined;
export function staticHello(): Buffer {
  if (helloCache) return helloCache;
  requireTool('gcc', 'gcc libc6-dev');
  const dir = mkdtempSync(join(tmpdir(), 'registry-hello-'));
  try {
    writeFileSync(
      join(dir, 'h.c'),
      '#include <stdio.h>\nint main(void){puts("hello from the registry test");return 0;}\n',
    );
    execFileSync('gcc', ['-static', '-Os', '-s', '-o', join(dir, 'h'), join(dir, 'h.c')]);
    helloCache = readFileSync(join(dir, 'h'));
    return helloCache;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** smallImage builds an image with one layer holding `files` (random content unless given). */
export async function smallImage(
  store: BlobStore,
  opts: {
    platform?: Platform;
    files?: Record<string, { data: Uint8Array; mode?: number }>;
    entrypoint?: string[];
  } = {},
): Promise<Image> {
  const files = opts.files ?? { 'data/random.bin': { data: randomBytes(2048) } };
  const layer = await makeGzipLayer(store, tarOf(files));
  const base = emptyImage(opts.platform ?? { os: 'linux', architecture: 'amd64' });
  return {
    ...base,
    config: { Env: ['PATH=/'], ...(opts.entrypoint ? { Entrypoint: opts.entrypoint } : {}) },
    layers: [layer],
    history: [{ created_by: 'registry test' }],
    created: '2024-01-01T00:00:00Z',
  };
}
