/**
 * inner-loop.ts — benchmark: the inner loop of a developer, one app file changed, rebuild + push to the
 * local registry, with fromscratch against docker and buildah using a two-layer Dockerfile, on the same
 * files, in the same run. Also the warm rebuild with nothing changed, and the cold build + push.
 *
 *   node --import tsx bench/inner-loop.ts [--runs 5] [--registry 127.0.0.1:5055]
 *
 * The image is node + its libraries + a small app (examples/hello-node/app.js, ≈ 100 MB). One
 * reference build (default layers) is unpacked into the peers' context: `rootfs/` (everything but
 * /app) and `app/`, built by
 *
 *     FROM scratch
 *     COPY rootfs/ /
 *     COPY app/ /app/
 *     ENTRYPOINT ["/usr/bin/node","/app/app.js"]
 *
 * so docker and buildah cache the first COPY and rebuild only the second, as fromscratch rebuilds only
 * its app layer. Each round appends a line to app/app.js (the same edit for every tool), then times:
 *
 *   - `fromscratch build … -o docker://REG/fs-inner:latest` (warm cache, bin/fromscratch.js run as the
 *     installed command is: the bundle when built, with the shebang's node flags);
 *   - `docker build -t REG/docker-inner:latest ctx && docker push …` (legacy builder, as bench/build.ts);
 *   - `buildah bud --layers -t REG/buildah-inner:latest ctx && buildah push …` (vfs, chroot isolation).
 *
 * After the rounds, the same edits under one `fromscratch build --watch` process (`-o docker://…`): the
 * time from appending the line to the digest line it prints once the push is done.
 *
 * Then nothing changed: `fromscratch build` again (warm, ≤ 0.5 s is the target) against docker and
 * buildah doing the same. Cold: a fresh cache and a fresh repository for fromscratch against `buildah
 * bud` (fresh storage) + push to a fresh repository, and `tar | pigz | sha256sum` of the same files.
 * Medians of --runs rounds, variants interleaved; the load average is printed with every round.
 * Below 1 means fromscratch is faster.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_GZIP_LEVEL } from '../src/layer/compress.ts';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CLI = join(ROOT, 'bin', 'fromscratch.js');
const APP = join(ROOT, 'examples', 'hello-node', 'app.js');
const NODE = '/usr/bin/node';
const ENTRYPOINT = `["${NODE}","/app/app.js"]`;
/** the `tar | pigz | sha256sum` limit at fromscratch's default level and at gzip's own default */
const LIMIT_LEVELS = [...new Set([DEFAULT_GZIP_LEVEL, 6])];
const MANIFEST_TYPES =
  'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

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
  if (r.status !== 0)
    throw new Error(`${cmd.join(' ')} failed (${r.status}): ${(r.stderr ?? '').slice(-2000)}`);
  const rss = Number(/BENCH_RSS_KIB=(\d+)/.exec(r.stderr)?.[1] ?? Number.NaN);
  const cpu = /BENCH_CPU=([\d.]+)\+([\d.]+)/.exec(r.stderr);
  return { wall, cpu: Number(cpu?.[1]) + Number(cpu?.[2]), rssKiB: rss };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** sleepMs blocks the thread (the bench is synchronous) */
function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function load(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

function main(): void {
  for (const tool of ['/usr/bin/time', 'docker', 'buildah', 'tar', 'pigz', 'sha256sum']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      throw new Error(`bench needs ${tool}: apt-get install -y time docker.io buildah tar pigz coreutils`);
  }
  const runs = Number(arg('runs', '5'));
  const registry = arg('registry', '127.0.0.1:5055');
  const id = randomBytes(4).toString('hex');
  const tmp = mkdtempSync(join(tmpdir(), 'fromscratch-bench-inner-'));
  if (spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' }).status !== 0)
    throw new Error('bench: tsc failed');
  // the bundle of these sources: bin/fromscratch.js never runs one older than a source file it was
  // built from, and would measure the ES-module chunks of dist/src instead (twice as slow to start)
  if (spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs')], { stdio: 'inherit' }).status !== 0)
    throw new Error('bench: the bundle failed');
  const ctx = join(tmp, 'ctx');
  mkdirSync(join(ctx, 'app'), { recursive: true });
  cpSync(APP, join(ctx, 'app', 'app.js'));
  const warmCache = join(tmp, 'fs-cache');
  /** the build of every fromscratch variant: node, the app, its entrypoint (then options and outputs) */
  const buildArgs = [
    'build',
    '-q',
    '--binary',
    NODE,
    '--add',
    `${join(ctx, 'app')}:/app`,
    '--entrypoint',
    ENTRYPOINT,
  ];
  const fs = (out: string, cache: string, extra: string[] = []) =>
    // as the installed command runs: the executable, so its shebang's node flags apply
    run([CLI, ...buildArgs, ...extra, '-o', out], { FROMSCRATCH_CACHE: cache });
  const docker = (args: string[]) => run(['docker', ...args], { DOCKER_BUILDKIT: '0' });
  const buildahRoot = join(tmp, 'buildah');
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
  const repo = (tool: string) => `${registry}/bench-inner-${id}/${tool}`;
  const dockerTag = `${repo('docker')}:latest`;
  try {
    console.log(`load at start: ${load()} (2 cores shared with other agents)`);
    // the reference image: its layers, applied in order, minus /app, are the peers' rootfs
    const ref = join(tmp, 'ref');
    fs(`oci:${ref}:latest`, warmCache);
    const index = JSON.parse(readFileSync(join(ref, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    const blob = (d: string) => join(ref, 'blobs', ...d.split(':'));
    const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), 'utf8')) as {
      layers: { digest: string; size: number }[];
    };
    mkdirSync(join(ctx, 'rootfs'));
    for (const l of manifest.layers)
      execFileSync('tar', ['-xpzf', blob(l.digest), '-C', join(ctx, 'rootfs')]);
    rmSync(join(ctx, 'rootfs', 'app'), { recursive: true, force: true });
    writeFileSync(
      join(ctx, 'Dockerfile'),
      `FROM scratch\nCOPY rootfs/ /\nCOPY app/ /app/\nENTRYPOINT ${ENTRYPOINT}\n`,
    );
    writeFileSync(join(ctx, '.dockerignore'), 'Dockerfile\n');
    const total = manifest.layers.reduce((n, l) => n + l.size, 0);
    console.log(
      `fromscratch image: ${manifest.layers.length} layers, ${(total / 1048576).toFixed(1)} MiB compressed; start-up (bundle, --version): ${median([0, 1, 2].map(() => run([CLI, '--version']).wall)).toFixed(2)} s`,
    );

    const fsPush = () => fs(`docker://${repo('fs')}:latest`, warmCache);
    const dockerPush = () => {
      const a = docker(['build', '-q', '-t', dockerTag, ctx]);
      const b = docker(['push', '-q', dockerTag]);
      return { wall: a.wall + b.wall, cpu: a.cpu + b.cpu, rssKiB: Math.max(a.rssKiB, b.rssKiB) };
    };
    const buildahPush = (root: string, r: string) => {
      const bud = buildah(root, ['bud', '-q', '--isolation', 'chroot', '--layers', '-t', 'bench-inner', ctx]);
      const push = buildah(root, ['push', '-q', '--tls-verify=false', 'bench-inner', `docker://${r}:latest`]);
      return run(['bash', '-c', `set -e; ${bud.join(' ')} >/dev/null; ${push.join(' ')}`]);
    };
    // prime: every tool has built and pushed the image once
    fsPush();
    dockerPush();
    buildahPush(buildahRoot, repo('buildah'));

    const results: Record<string, Sample[]> = {};
    const tarCmd = `tar -cf - -C ${join(ctx, 'rootfs')} . -C ${ctx} app`;
    let lastRound = '';
    const note = (name: string, ...s: Sample[]) => {
      results[name] ??= [];
      results[name].push(...s);
    };
    /** runs edits under one `build --watch` process: the time from each edit to its digest line */
    const watchRounds = (n: number): Sample[] => {
      const outFile = join(tmp, 'watch.out');
      const fd = openSync(outFile, 'w');
      const child = spawn(CLI, [...buildArgs, '--watch', '-o', `docker://${repo('fs')}:latest`], {
        stdio: ['ignore', fd, 'inherit'],
        env: { ...process.env, FROMSCRATCH_CACHE: warmCache },
      });
      closeSync(fd);
      const lines = () => readFileSync(outFile, 'utf8').split('\n').filter(Boolean).length;
      const waitLines = (k: number) => {
        const end = performance.now() + 120_000;
        while (lines() < k) {
          if (performance.now() > end || child.exitCode !== null)
            throw new Error(`bench: build --watch printed no digest (${readFileSync(outFile, 'utf8')})`);
          sleepMs(2);
        }
      };
      const out: Sample[] = [];
      try {
        waitLines(1);
        sleepMs(500); // armed
        for (let i = 0; i < n; i++) {
          const t0 = performance.now();
          appendFileSync(join(ctx, 'app', 'app.js'), `// watch edit ${i}\n`);
          waitLines(i + 2);
          out.push({ wall: (performance.now() - t0) / 1000, cpu: Number.NaN, rssKiB: Number.NaN });
          sleepMs(300);
        }
      } finally {
        child.kill('SIGINT');
      }
      return out;
    };
    for (let i = 0; i < runs; i++) {
      console.log(`round ${i + 1}/${runs}: load ${load()}`);
      appendFileSync(join(ctx, 'app', 'app.js'), `// edit ${i}\n`);
      note('fromscratch: edit, build + push', fsPush());
      note('docker: edit, build + push', dockerPush());
      note('buildah: edit, bud + push', buildahPush(buildahRoot, repo('buildah')));
      // nothing changed
      note('fromscratch: no change, build (oci)', fs(`oci:${join(tmp, 'warm-out')}:latest`, warmCache));
      note('fromscratch: no change, build + push', fsPush());
      note('docker: no change, build + push', dockerPush());
      note('buildah: no change, bud + push', buildahPush(buildahRoot, repo('buildah')));
      // cold: fresh caches and fresh repositories
      const n = `${i}-${randomBytes(2).toString('hex')}`;
      lastRound = n;
      note(
        'fromscratch: cold build + push',
        fs(`docker://${repo(`fs-cold-${n}`)}:latest`, join(tmp, `cold-${n}`)),
      );
      note(
        'fromscratch: cold build (oci)',
        fs(`oci:${join(tmp, `cold-out-${n}`)}:latest`, join(tmp, `cold2-${n}`)),
      );
      note(
        'buildah: cold bud + push',
        buildahPush(join(tmp, `buildah-cold-${n}`), repo(`buildah-cold-${n}`)),
      );
      // like for like: fromscratch at gzip's default level 6 against pigz -6
      note(
        'fromscratch: cold build (oci), level 6',
        fs(`oci:${join(tmp, `cold6-out-${n}`)}:latest`, join(tmp, `cold6-${n}`), [
          '--compression-level',
          '6',
        ]),
      );
      for (const level of LIMIT_LEVELS)
        note(
          `tar | pigz -${level} | sha256sum`,
          run(['bash', '-c', `${tarCmd} | pigz -${level} | sha256sum >/dev/null`]),
        );
      rmSync(join(tmp, `buildah-cold-${n}`), { recursive: true, force: true });
    }
    // the inner loop with `build --watch`: one process stays up; an edit → the digest line printed once
    // the push is done (its 25 ms settle included). Measured after the rounds above, so that its
    // rebuilds never run beside the other tools' builds
    note('fromscratch --watch: edit → pushed', ...watchRounds(runs));
    console.log('\nmedian wall s [each run] · cpu s · peak RSS MiB (docker: client only)');
    const med = (k: string) => median(results[k]!.map((s) => s.wall));
    for (const [k, v] of Object.entries(results)) {
      console.log(
        `${k.padEnd(40)} ${med(k).toFixed(2).padStart(6)} [${v.map((s) => s.wall.toFixed(2)).join(' ')}]${Number.isNaN(v[0]!.cpu) ? '  (a long-lived process: cpu and rss not per edit)' : `  cpu ${median(v.map((s) => s.cpu)).toFixed(2)}  rss ${(Math.max(...v.map((s) => s.rssKiB)) / 1024).toFixed(0)}`}`,
      );
    }
    const ratio = (a: string, b: string, target: string) =>
      console.log(`${`${a} / ${b}`.padEnd(76)} ${(med(a) / med(b)).toFixed(2)}×  (target ${target})`);
    console.log('\nratios fromscratch / peer (below 1: fromscratch is faster)');
    ratio('fromscratch: edit, build + push', 'docker: edit, build + push', '≤ 0.3');
    ratio('fromscratch: edit, build + push', 'buildah: edit, bud + push', '≤ 0.3');
    ratio('fromscratch --watch: edit → pushed', 'docker: edit, build + push', '≤ 0.3');
    ratio('fromscratch --watch: edit → pushed', 'buildah: edit, bud + push', '≤ 0.3');
    ratio('fromscratch: no change, build + push', 'docker: no change, build + push', '—');
    ratio('fromscratch: no change, build + push', 'buildah: no change, bud + push', '—');
    ratio('fromscratch: cold build + push', 'buildah: cold bud + push', '≤ 0.8');
    ratio(
      'fromscratch: cold build (oci)',
      `tar | pigz -${DEFAULT_GZIP_LEVEL} | sha256sum`,
      '≤ 1.2, same level',
    );
    ratio('fromscratch: cold build (oci), level 6', 'tar | pigz -6 | sha256sum', '≤ 1.2, same level');
    ratio('fromscratch: cold build (oci)', 'tar | pigz -6 | sha256sum', '—');
    // what the speed costs in bytes: compressed size of the same files by each
    const pigzBytes = (level: number) =>
      Number(execFileSync('bash', ['-c', `${tarCmd} | pigz -${level} | wc -c`], { encoding: 'utf8' }).trim());
    const layoutBytes = (dir: string) => {
      const ix = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
        manifests: { digest: string }[];
      };
      const m = JSON.parse(
        readFileSync(join(dir, 'blobs', ...ix.manifests[0]!.digest.split(':')), 'utf8'),
      ) as {
        layers: { size: number }[];
      };
      return m.layers.reduce((a, l) => a + l.size, 0);
    };
    const registryBytes = (r: string) => {
      const m = JSON.parse(
        execFileSync(
          'curl',
          [
            '-sf',
            '-H',
            `Accept: ${MANIFEST_TYPES}`,
            `http://${registry}/v2/${r.slice(registry.length + 1)}/manifests/latest`,
          ],
          { encoding: 'utf8' },
        ),
      ) as { layers: { size: number }[] };
      return m.layers.reduce((a, l) => a + l.size, 0);
    };
    const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
    console.log('\ncompressed bytes of the same files');
    console.log(
      `fromscratch (default, gzip ${DEFAULT_GZIP_LEVEL})`.padEnd(40),
      mb(layoutBytes(join(tmp, `cold-out-${lastRound}`))),
    );
    console.log(
      'fromscratch --compression-level 6'.padEnd(40),
      mb(layoutBytes(join(tmp, `cold6-out-${lastRound}`))),
    );
    console.log(
      'buildah push (its default gzip)'.padEnd(40),
      mb(registryBytes(repo(`buildah-cold-${lastRound}`))),
    );
    for (const level of LIMIT_LEVELS) console.log(`tar | pigz -${level}`.padEnd(40), mb(pigzBytes(level)));
    console.log(
      `fromscratch: no change, build (oci): ${med('fromscratch: no change, build (oci)').toFixed(2)} s (target ≤ 0.5 s)`,
    );
    console.log(`load at end: ${load()}`);
  } finally {
    spawnSync('docker', ['rmi', '-f', dockerTag], { stdio: 'ignore' });
    spawnSync('bash', ['-c', `chmod -R u+w ${tmp} 2>/dev/null; rm -rf ${tmp}`], { stdio: 'ignore' });
  }
}

main();
