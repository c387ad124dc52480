/**
 * build.ts — benchmark: a whole image build of the node binary and its closure (≈ 110 MB, one layer)
 * with fromscratch against its peers, on the same files, in the same run:
 *
 *   a. `fromscratch build … -o oci:DIR:latest`, cold (fresh FROMSCRATCH_CACHE) and warm (primed cache);
 *   b. `docker build` of `FROM scratch` + `COPY rootfs/ /` (cold: --no-cache; warm: cached);
 *   c. `buildah bud` of the same context + `buildah push … oci:DIR:latest` (cold: fresh storage; warm:
 *      primed storage with --layers);
 *   d. the limit: `tar -c | pigz | sha256sum` and `tar -c | gzip -6 | sha256sum` of the same files;
 *   e. push to the local registry: `fromscratch build -o docker://…` against `docker build` + `docker
 *      push`, cold (fresh repository AND a fresh random file in the image, so no blob can be skipped
 *      or mounted) and warm (the same image to the same repository again).
 *
 *   node --import tsx bench/build.ts [--runs 3] [--registry 127.0.0.1:5055] [--only a,b,c,d,e]
 *
 * The docker/buildah context is the layer fromscratch wrote, extracted (`tar -xp`): exactly the
 * same paths, modes, symlinks and bytes. fromscratch runs from the TypeScript sources
 * (compiled dist/, as after `npm ci`): its start-up cost is measured and printed separately.
 * Every command runs under /usr/bin/time: wall time is measured here, peak RSS is GNU time's %M —
 * the largest max-RSS of the process and its waited-for descendants (for a pipeline: its largest
 * member, not the sum). For docker the work happens in dockerd, so the RSS and CPU shown are the
 * docker client's only ("client"). Each measurement is repeated --runs times (variants interleaved,
 * so load drifts hit all alike) and the median is reported.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CLI = join(ROOT, 'bin', 'fromscratch.js');
const APP = join(ROOT, 'examples', 'hello-node', 'app.js');
const ENTRYPOINT = '["/usr/bin/node","/app/app.js"]';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}

interface Sample {
  wall: number;
  cpu: number;
  rssKiB: number;
}

function run(cmd: string[], env: NodeJS.ProcessEnv = {}): Sample {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'BENCH_RSS_KIB=%M BENCH_CPU=%U+%S', ...cmd], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 1 << 26,
  });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) {
    throw new Error(`${cmd.join(' ')} failed (${r.status}): ${(r.stderr ?? '').slice(-2000)}`);
  }
  const rss = Number(/BENCH_RSS_KIB=(\d+)/.exec(r.stderr)?.[1] ?? Number.NaN);
  const cpu = /BENCH_CPU=([\d.]+)\+([\d.]+)/.exec(r.stderr);
  return { wall, cpu: Number(cpu?.[1]) + Number(cpu?.[2]), rssKiB: rss };
}

function sh(script: string): string {
  return execFileSync('bash', ['-c', script], { encoding: 'utf8', maxBuffer: 1 << 26 });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function load(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/** ociLayerBytes reads an OCI layout's first manifest and returns the compressed size of its layers. */
function ociLayerBytes(dir: string): number {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
    manifests: { digest: string }[];
  };
  const blob = (d: string) => join(dir, 'blobs', ...d.split(':'));
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), 'utf8')) as {
    layers: { size: number }[];
  };
  return manifest.layers.reduce((n, l) => n + l.size, 0);
}

async function registryLayerBytes(registry: string, repo: string, tag: string): Promise<number> {
  const r = await fetch(`http://${registry}/v2/${repo}/manifests/${tag}`, {
    headers: {
      accept:
        'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json',
    },
  });
  if (!r.ok) throw new Error(`GET manifest ${repo}:${tag}: HTTP ${r.status}`);
  const m = (await r.json()) as { layers: { size: number }[] };
  return m.layers.reduce((n, l) => n + l.size, 0);
}

const MiB = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

async function main(): Promise<void> {
  for (const tool of ['/usr/bin/time', 'docker', 'buildah', 'tar', 'gzip', 'pigz', 'sha256sum']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      throw new Error(
        `bench needs ${tool}: apt-get install -y time docker.io buildah tar gzip pigz coreutils`,
      );
    }
  }
  const runs = Number(arg('runs', '3'));
  const registry = arg('registry', '127.0.0.1:5055');
  const only = new Set(arg('only', 'a,b,c,d,e').split(','));
  const tmp = mkdtempSync(join(tmpdir(), 'fromscratch-bench-build-'));
  // measure the command as users run it after `npm ci`: the compiled dist/ (built here if missing)
  if (spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' }).status !== 0)
    throw new Error('bench: tsc failed');
  const fsEnv: Record<string, string> = {};
  const id = randomBytes(4).toString('hex');
  const dockerImages = new Set<string>();
  const t00 = performance.now();
  let n = 0;
  const fresh = (what: string) => join(tmp, `${what}-${n++}`);
  const build = (out: string, cache: string, extra: string[] = []) =>
    run(
      [
        process.execPath,
        CLI,
        'build',
        '--binary',
        '/usr/bin/node',
        '--add',
        `${APP}:/app/app.js`,
        ...extra,
        '--entrypoint',
        ENTRYPOINT,
        '-o',
        out,
      ],
      { ...fsEnv, FROMSCRATCH_CACHE: cache },
    );
  const docker = (args: string[]) => run(['docker', ...args], { DOCKER_BUILDKIT: '0' });
  try {
    console.log(`load at start: ${load()} (2 cores shared with other agents)`);
    // the reference image and the build context made from it
    const warmCache = join(tmp, 'warm-cache');
    const ref = join(tmp, 'ref');
    build(`oci:${ref}:latest`, warmCache); // also primes the warm cache
    const layerBytes = ociLayerBytes(ref);
    const info = JSON.parse(
      execFileSync(process.execPath, [CLI, 'inspect', `oci:${ref}:latest`, '--json'], {
        encoding: 'utf8',
        env: { ...process.env, ...fsEnv },
        maxBuffer: 1 << 26,
      }),
    ) as {
      images: { layers: { digest: string; uncompressedSize: number; files: unknown[] }[] }[];
    };
    // the image's layers applied in order (fromscratch writes no whiteouts) make the peers' context
    const layers = info.images[0]!.layers;
    const layer = {
      files: layers.flatMap((l) => l.files),
      uncompressedSize: layers.reduce((n, l) => n + l.uncompressedSize, 0),
    };
    const ctx = join(tmp, 'ctx');
    mkdirSync(join(ctx, 'rootfs'), { recursive: true });
    for (const l of layers)
      execFileSync('tar', ['-xpzf', join(ref, 'blobs', ...l.digest.split(':')), '-C', join(ctx, 'rootfs')]);
    const dockerfile = `FROM scratch\nCOPY rootfs/ /\nENTRYPOINT ${ENTRYPOINT}\n`;
    writeFileSync(join(ctx, 'Dockerfile'), dockerfile);
    sh(`cat ${join(ctx, 'rootfs')}/usr/bin/node > /dev/null; tar -cf - -C ${ctx} . > /dev/null`); // page cache
    const startup = median([0, 1, 2].map(() => run([process.execPath, CLI, '--version'], fsEnv).wall));
    console.log(
      `files: ${layer.files.length} entries, ${MiB(layer.uncompressedSize)} tar, ${MiB(layerBytes)} gzip (fromscratch); fromscratch start-up (node dist, --version): ${startup.toFixed(2)} s`,
    );

    // per-variant setup (untimed) and timed command
    type Variant = { group: string; name: string; peerOf?: string; client?: boolean; once: () => Sample };
    const variants: Variant[] = [];
    const add = (v: Variant) => {
      if (only.has(v.group)) variants.push(v);
    };
    add({
      group: 'a',
      name: 'fromscratch build oci (cold)',
      once: () => build(`oci:${fresh('fs-out')}:latest`, fresh('fs-cache')),
    });
    add({
      group: 'a',
      name: 'fromscratch build oci (warm)',
      once: () => build(`oci:${fresh('fs-out')}:latest`, warmCache),
    });
    const dTag = `bench-build/node:${id}`;
    dockerImages.add(dTag);
    if (only.has('b')) docker(['build', '-q', '-t', dTag, ctx]); // prime the warm build
    add({
      group: 'b',
      name: 'docker build (cold, --no-cache)',
      peerOf: 'fromscratch build oci (cold)',
      client: true,
      once: () => {
        const t = `bench-build/node:${id}-cold`;
        dockerImages.add(t);
        spawnSync('docker', ['rmi', '-f', t], { stdio: 'ignore' });
        return docker(['build', '-q', '--no-cache', '-t', t, ctx]);
      },
    });
    add({
      group: 'b',
      name: 'docker build (warm)',
      peerOf: 'fromscratch build oci (warm)',
      client: true,
      once: () => docker(['build', '-q', '-t', dTag, ctx]),
    });
    const buildah = (root: string, args: string[]) => [
      'buildah',
      '--root',
      root,
      '--runroot',
      `${root}-run`,
      '--storage-driver',
      'vfs',
      ...args,
    ];
    const buildahBoth = (root: string, layers: boolean) => {
      const out = fresh('buildah-out');
      const bud = buildah(root, [
        'bud',
        '-q',
        '--isolation',
        'chroot',
        ...(layers ? ['--layers'] : []),
        '-t',
        'bench-build',
        ctx,
      ]);
      const push = buildah(root, ['push', '-q', 'bench-build', `oci:${out}:latest`]);
      const s = run(['bash', '-c', `set -e; ${bud.join(' ')} >/dev/null; ${push.join(' ')}`]);
      lastBuildahOut = out;
      return s;
    };
    let lastBuildahOut = '';
    const buildahWarm = join(tmp, 'buildah-warm');
    if (only.has('c')) buildahBoth(buildahWarm, true);
    add({
      group: 'c',
      name: 'buildah bud + push oci (cold)',
      peerOf: 'fromscratch build oci (cold)',
      once: () => buildahBoth(fresh('buildah-root'), false),
    });
    add({
      group: 'c',
      name: 'buildah bud + push oci (warm)',
      peerOf: 'fromscratch build oci (warm)',
      once: () => buildahBoth(buildahWarm, true),
    });
    const sizes: Record<string, number> = {};
    const tarCmd = `tar -C ${join(ctx, 'rootfs')} -cf - .`;
    const sizeFile = join(tmp, 'pipe-size');
    for (const [name, z] of [
      ['tar | pigz | sha256sum', 'pigz -6 -n'],
      ['tar | gzip -6 | sha256sum', 'gzip -6 -n'],
    ] as const) {
      add({
        group: 'd',
        name,
        peerOf: 'fromscratch build oci (cold)',
        once: () => {
          const s = run([
            'bash',
            '-c',
            `set -o pipefail; ${tarCmd} | ${z} | tee >(wc -c > ${sizeFile}) | sha256sum`,
          ]);
          sizes[name] = Number(readFileSync(sizeFile, 'utf8'));
          return s;
        },
      });
    }
    // e. push: cold = fresh repository and a fresh random file (no blob to skip or mount)
    const nonceCtx = (nonce: string) => {
      const c = fresh('ctx-nonce');
      mkdirSync(c);
      cpSync(join(ctx, 'Dockerfile'), join(c, 'Dockerfile'));
      sh(`cp -al ${join(ctx, 'rootfs')} ${join(c, 'rootfs')}`);
      writeFileSync(join(c, 'rootfs', 'bench-nonce'), nonce);
      return c;
    };
    const nonceFile = (nonce: string) => {
      const f = fresh('nonce');
      writeFileSync(f, nonce);
      return f;
    };
    const warmRepo = `bench-build/node-warm-${id}`;
    let fsPushRepo = '';
    let dockerPushRepo = '';
    if (only.has('e')) {
      build(`docker://${registry}/${warmRepo}:fs`, warmCache);
      const t = `${registry}/${warmRepo}:docker`;
      dockerImages.add(t);
      docker(['build', '-q', '-t', t, ctx]);
      docker(['push', '-q', t]);
    }
    add({
      group: 'e',
      name: 'fromscratch build -o docker:// (cold)',
      once: () => {
        const nonce = randomBytes(16).toString('hex');
        fsPushRepo = `bench-build/node-${nonce.slice(0, 12)}`;
        return build(`docker://${registry}/${fsPushRepo}:fs`, fresh('fs-cache'), [
          '--add',
          `${nonceFile(nonce)}:/bench-nonce`,
        ]);
      },
    });
    add({
      group: 'e',
      name: 'fromscratch build -o docker:// (warm)',
      once: () => build(`docker://${registry}/${warmRepo}:fs`, warmCache),
    });
    add({
      group: 'e',
      name: 'docker build + push (cold)',
      peerOf: 'fromscratch build -o docker:// (cold)',
      client: true,
      once: () => {
        const nonce = randomBytes(16).toString('hex');
        dockerPushRepo = `bench-build/node-${nonce.slice(0, 12)}`;
        const t = `${registry}/${dockerPushRepo}:docker`;
        dockerImages.add(t);
        const c = nonceCtx(nonce);
        const s1 = docker(['build', '-q', '--no-cache', '-t', t, c]);
        const s2 = docker(['push', '-q', t]);
        return { wall: s1.wall + s2.wall, cpu: s1.cpu + s2.cpu, rssKiB: Math.max(s1.rssKiB, s2.rssKiB) };
      },
    });
    add({
      group: 'e',
      name: 'docker build + push (warm)',
      peerOf: 'fromscratch build -o docker:// (warm)',
      client: true,
      once: () => {
        const t = `${registry}/${warmRepo}:docker`;
        const s1 = docker(['build', '-q', '-t', t, ctx]);
        const s2 = docker(['push', '-q', t]);
        return { wall: s1.wall + s2.wall, cpu: s1.cpu + s2.cpu, rssKiB: Math.max(s1.rssKiB, s2.rssKiB) };
      },
    });

    const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
    const loads: string[] = [];
    for (let r = 0; r < runs; r++) {
      loads.push(load());
      for (const v of variants) {
        samples.get(v.name)!.push(v.once());
        process.stderr.write('.');
      }
    }
    process.stderr.write('\n');
    loads.push(load());
    const med = new Map(
      [...samples].map(([k, ss]) => [
        k,
        {
          wall: median(ss.map((s) => s.wall)),
          cpu: median(ss.map((s) => s.cpu)),
          rssKiB: median(ss.map((s) => s.rssKiB)),
          all: ss.map((s) => s.wall.toFixed(1)).join('/'),
        },
      ]),
    );

    // sizes
    if (only.has('c') && lastBuildahOut && existsSync(lastBuildahOut))
      sizes['buildah (oci, gzip)'] = ociLayerBytes(lastBuildahOut);
    let dockerLs = Number.NaN;
    if (only.has('b')) dockerLs = Number(sh(`docker image inspect -f '{{.Size}}' ${dTag}`));
    if (only.has('e') && dockerPushRepo)
      sizes['docker push (registry, gzip)'] = await registryLayerBytes(registry, dockerPushRepo, 'docker');
    if (only.has('e') && fsPushRepo)
      sizes['fromscratch push (registry)'] = await registryLayerBytes(registry, fsPushRepo, 'fs');

    // table
    console.log(
      `\nmedian of ${runs} runs (all runs' wall times in brackets); load average per round: ${loads.join(' → ')}`,
    );
    console.log(
      `${'variant'.padEnd(40)} ${'wall s'.padStart(7)} ${'cpu s'.padStart(7)} ${'peak RSS'.padStart(10)}  ratio fromscratch/peer`,
    );
    for (const v of variants) {
      const m = med.get(v.name)!;
      const base = v.peerOf ? med.get(v.peerOf) : undefined;
      const ratio = base ? `${(base.wall / m.wall).toFixed(2)}× (${v.peerOf})` : '';
      const cpu = `${m.cpu.toFixed(1)}${v.client ? '*' : ''}`;
      const rss = `${MiB(m.rssKiB * 1024)}${v.client ? '*' : ''}`;
      console.log(
        `${v.name.padEnd(40)} ${m.wall.toFixed(2).padStart(7)} ${cpu.padStart(7)} ${rss.padStart(10)}  ${ratio} [${m.all}]`,
      );
    }
    console.log('* docker: CPU and RSS of the docker client only (the work runs in dockerd, not measured).');
    console.log(
      `fromscratch runs from the compiled dist/: about ${startup.toFixed(2)} s of each fromscratch wall time is start-up.`,
    );
    console.log('\nimage sizes');
    console.log(`  fromscratch layer (oci, gzip)          ${MiB(layerBytes)} (${layerBytes} B)`);
    console.log(`  fromscratch layer uncompressed (tar)   ${MiB(layer.uncompressedSize)}`);
    for (const [k, b] of Object.entries(sizes)) console.log(`  ${k.padEnd(38)} ${MiB(b)} (${b} B)`);
    if (!Number.isNaN(dockerLs)) console.log(`  docker image ls size (uncompressed)    ${MiB(dockerLs)}`);
    console.log(
      `\ndocker builder: legacy (DOCKER_BUILDKIT=0; buildx is not installed, BuildKit refuses to start); buildah: --storage-driver vfs --isolation chroot`,
    );
    console.log(
      `total bench time ${((performance.now() - t00) / 1000).toFixed(0)} s; load at end: ${load()}`,
    );
  } finally {
    // by image id too: a pushed image keeps its repo@digest reference after its tag is removed
    const repos = new Set([...dockerImages].map((t) => t.slice(0, t.lastIndexOf(':'))));
    for (const repo of repos) {
      const ids = spawnSync('docker', ['image', 'ls', '-q', repo], { encoding: 'utf8' }).stdout ?? '';
      for (const i of new Set(ids.split('\n').filter(Boolean))) {
        spawnSync('docker', ['rmi', '-f', i], { stdio: 'ignore' });
      }
    }
    for (const t of dockerImages) spawnSync('docker', ['rmi', '-f', t], { stdio: 'ignore' });
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
