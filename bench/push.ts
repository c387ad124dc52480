/**
 * push.ts — benchmark: pushing a ~100 MB image (the node binary and its DT_NEEDED libraries, one
 * gzip layer made by makeLayer) to the local registry with fromscratch's pushImage, `skopeo copy
 * oci:… docker://…` and `docker push`, in the same run; cold (fresh repository, every blob uploaded)
 * and warm (same repository again, every blob already present). Prints wall times and ratios.
 *
 *   node --import tsx bench/push.ts [--runs 1] [--registry 127.0.0.1:5055]
 *
 * Every run makes a fresh image (a random file in the layer), so no tool can mount or skip blobs from
 * an earlier run; docker's push of the same image recompresses the layer (that is how docker works).
 * Each variant runs as its own process, so process start-up is counted for all alike; ours runs from
 * an esbuild bundle of push-ours.ts (as the compiled CLI would, not through tsx's on-the-fly compiler), and
 * its in-process push time is printed too.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dirStore } from '../src/blob/dir-store.ts';
import { FileTreeBuilder } from '../src/fs/file-tree.ts';
import { emptyImage, type Image, serializeImage } from '../src/image/image.ts';
import { makeLayer } from '../src/layer/make-layer.ts';
import type { Digest } from '../src/model/digest.ts';
import { hostPlatform } from '../src/model/platform.ts';

const LIB_DIR = '/usr/lib/x86_64-linux-gnu';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}

/** nodeFiles lists the node binary and its DT_NEEDED libraries. */
function nodeFiles(): string[] {
  const node = realpathSync(process.execPath);
  const needed = execFileSync('readelf', ['-d', node], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /\(NEEDED\).*\[(.+)\]/.exec(l)?.[1])
    .filter((x): x is string => !!x);
  const out = [node];
  for (const n of needed) {
    try {
      out.push(realpathSync(join(LIB_DIR, n)));
    } catch {
      // not in this directory: skipped
    }
  }
  return [...new Set(out)];
}

/** buildLayout writes a fresh one-layer image as an OCI layout at dir (tag `bench`) and returns its manifest digest. */
async function buildLayout(dir: string): Promise<{ digest: Digest; bytes: number }> {
  const store = dirStore(join(dir, 'blobs'), { fsync: false });
  const b = new FileTreeBuilder();
  let bytes = 0;
  for (const f of nodeFiles()) {
    const st = statSync(f);
    bytes += st.size;
    b.add({
      type: 'file',
      path: f,
      mode: st.mode & 0o7777,
      uid: 0,
      gid: 0,
      size: st.size,
      content: { kind: 'host', path: f },
    });
  }
  const nonce = randomBytes(32);
  b.add({
    type: 'file',
    path: '/bench-nonce',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: nonce.byteLength,
    content: { kind: 'bytes', data: nonce },
  });
  const layer = await makeLayer(b.build(), store);
  const img: Image = {
    ...emptyImage(hostPlatform()),
    config: { Entrypoint: [realpathSync(process.execPath)] },
    layers: [layer],
    history: [{ created_by: 'bench/push.ts' }],
  };
  const s = serializeImage(img);
  await store.put(s.config);
  await store.put(s.manifest);
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const { platform: _p, ...desc } = s.descriptor;
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ ...desc, annotations: { 'org.opencontainers.image.ref.name': 'bench' } }],
    }),
  );
  return { digest: s.descriptor.digest, bytes };
}

function timed(cmd: string[]): { s: number; out: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', maxBuffer: 1 << 24 });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}${r.stdout}`);
  return { s, out: r.stdout.trim() };
}

/** bundle bundles push-ours.ts with esbuild (tsx's own dependency) so ours starts like compiled code; falls back to tsx. */
async function bundle(self: string, dir: string): Promise<string[]> {
  try {
    const esbuild = (await import('esbuild' as string)) as {
      build(o: Record<string, unknown>): Promise<unknown>;
    };
    const out = join(dir, 'push-bench.mjs');
    await esbuild.build({
      entryPoints: [self],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: out,
      logLevel: 'silent',
    });
    return [process.execPath, out];
  } catch (e) {
    console.error(
      `esbuild bundle failed (${(e as Error).message}); running ours through tsx, start-up included`,
    );
    return [process.execPath, '--import', 'tsx', self];
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  for (const tool of ['skopeo', 'docker', 'readelf']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      throw new Error(`bench needs ${tool}: apt-get install -y skopeo docker.io binutils`);
  }
  const registry = arg('registry', '127.0.0.1:5055');
  const runs = Number(arg('runs', '1'));
  const child = join(dirname(fileURLToPath(import.meta.url)), 'push-ours.ts');
  const bundleDir = mkdtempSync(join(tmpdir(), 'fromscratch-bench-bundle-'));
  const ourCmd = await bundle(child, bundleDir);
  const results: Record<string, number[]> = {};
  const add = (k: string, v: number) => {
    results[k] = [...(results[k] ?? []), v];
  };
  for (let run = 0; run < runs; run++) {
    const tmp = mkdtempSync(join(tmpdir(), 'fromscratch-bench-push-'));
    const id = randomBytes(4).toString('hex');
    const dockerTags: string[] = [];
    try {
      const layout = join(tmp, 'layout');
      const { digest, bytes } = await buildLayout(layout);
      const blobBytes = Number(
        execFileSync('du', ['-sb', join(layout, 'blobs')], { encoding: 'utf8' }).split('\t')[0],
      );
      if (run === 0)
        console.error(
          `image: ${(bytes / 1e6).toFixed(1)} MB of files, ${(blobBytes / 1e6).toFixed(1)} MB of blobs, manifest ${digest}`,
        );
      // the same image in the Docker Engine, for docker push (not timed)
      const local = `registry-bench/push-${id}:bench`;
      execFileSync('skopeo', ['copy', '-q', `oci:${layout}:bench`, `docker-daemon:${local}`]);
      dockerTags.push(local);

      const ours = (repo: string) => {
        const t = timed([...ourCmd, layout, `${registry}/${repo}:v1`]);
        const j = JSON.parse(t.out) as { ms: number; blobs: Record<string, number> };
        return { s: t.s, inProcess: j.ms / 1000, blobs: j.blobs };
      };
      const skopeo = (repo: string) =>
        timed([
          'skopeo',
          'copy',
          '-q',
          '--dest-tls-verify=false',
          `oci:${layout}:bench`,
          `docker://${registry}/${repo}:v1`,
        ]).s;
      const docker = (repo: string) => {
        const tag = `${registry}/${repo}:v1`;
        execFileSync('docker', ['tag', local, tag]);
        dockerTags.push(tag);
        return timed(['docker', 'push', tag]).s;
      };

      const repos = {
        ours: `registry-bench/ours-${id}`,
        skopeo: `registry-bench/skopeo-${id}`,
        docker: `registry-bench/docker-${id}`,
      };
      const oc = ours(repos.ours);
      add('ours cold', oc.s);
      add('ours cold (in-process)', oc.inProcess);
      add('skopeo cold', skopeo(repos.skopeo));
      add('docker cold', docker(repos.docker));
      const ow = ours(repos.ours);
      add('ours warm', ow.s);
      add('ours warm (in-process)', ow.inProcess);
      add('skopeo warm', skopeo(repos.skopeo));
      add('docker warm', docker(repos.docker));
      if (run === 0)
        console.error(`ours cold blobs ${JSON.stringify(oc.blobs)}, warm blobs ${JSON.stringify(ow.blobs)}`);
    } finally {
      for (const t of dockerTags) spawnSync('docker', ['rmi', '-f', t]);
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  rmSync(bundleDir, { recursive: true, force: true });
  console.log(`push of the node image to ${registry}, median of ${runs} run(s), seconds:`);
  for (const [k, v] of Object.entries(results)) console.log(`  ${k.padEnd(24)} ${median(v).toFixed(2)}`);
  for (const phase of ['cold', 'warm']) {
    const o = median(results[`ours ${phase}`]!);
    console.log(
      `  ${phase}: docker/ours ${(median(results[`docker ${phase}`]!) / o).toFixed(2)}x, skopeo/ours ${(median(results[`skopeo ${phase}`]!) / o).toFixed(2)}x`,
    );
  }
}

await main();
