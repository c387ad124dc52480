/**
 * registry-cache.ts — benchmark of issue 16's targets, against a private docker-registry on loopback
 * (its access log counts uploads):
 *
 * 1. fresh machine: an empty FROMSCRATCH_CACHE, `--cache-from` a warm registry cache, output to the same
 *    registry, nothing changed — vs the cold build + push of the same image (target ≤ 0.2×, and zero
 *    layer bytes uploaded);
 * 2. 8 images sharing node and its libraries, each with its own app: one `build -c` vs eight separate
 *    cold builds (target ≤ 0.35×, the shared layers uploaded once).
 *
 *   node --import tsx bench/registry-cache.ts [--part 1|2]
 *
 * Every build runs the CLI as users do after `npm ci` (the compiled dist/, built here if missing), as its
 * own process, one at a time. Uploaded bytes: the sizes of the blobs whose upload completed (a `PUT` or
 * `POST` with `?digest=` answered 201) in the registry's access log; a cross-repository mount is not an
 * upload.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RegistryInstance, startRegistry } from '../test/registry/registry-instance.ts';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'fromscratch.js');
const NODE = realpathSync(process.execPath);

function uploads(log: string): string[] {
  const out: string[] = [];
  for (const m of log.matchAll(/"(?:PUT|POST) (\/v2\/\S*\/blobs\/uploads\/\S*) HTTP\/[\d.]+" (\d{3})/g)) {
    const d = new URL(m[1]!, 'http://x').searchParams.get('digest');
    if (d && m[2] === '201') out.push(d);
  }
  return out;
}

/** syncLog returns the access log once every request made so far is in it (a marker request is awaited). */
async function syncLog(r: RegistryInstance): Promise<string> {
  const marker = `sync-${Math.random().toString(36).slice(2)}`;
  await (await fetch(`http://${r.address}/v2/?${marker}`)).arrayBuffer();
  for (let i = 0; i < 400 && !r.accessLog().includes(marker); i++)
    await new Promise((ok) => setTimeout(ok, 25));
  return r.accessLog();
}

function cli(
  args: string[],
  cwd: string,
  cache: string,
  env: Record<string, string> = {},
): { ms: number; cpu: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'BENCH_CPU=%U+%S', process.execPath, CLI, ...args], {
    cwd,
    env: { ...process.env, FROMSCRATCH_CACHE: cache, SOURCE_DATE_EPOCH: '0', ...env },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`fromscratch ${args.join(' ')} failed:\n${r.stderr}`);
  const m = /BENCH_CPU=([\d.]+)\+([\d.]+)/.exec(r.stderr);
  const cpu = m ? (Number(m[1]) + Number(m[2])) * 1000 : Number.NaN;
  return { ms, cpu, stdout: r.stdout };
}

async function layerSizes(reg: string, repoTag: string): Promise<Map<string, number>> {
  const [repo, tag] = repoTag.split(':') as [string, string];
  const res = await fetch(`http://${reg}/v2/${repo}/manifests/${tag}`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  const m = (await res.json()) as { layers: { digest: string; size: number }[] };
  return new Map(m.layers.map((l) => [l.digest, l.size]));
}

function bytesOf(digests: string[], sizes: Map<string, number>): number {
  return digests.reduce((n, d) => n + (sizes.get(d) ?? 0), 0);
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  if (spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' }).status !== 0)
    throw new Error('bench: tsc failed');
  const reg = await startRegistry({ accessLog: true });
  const work = mkdtempSync(join(tmpdir(), 'bench-regcache-'));
  try {
    const R = reg.address;
    writeFileSync(join(work, 'app.js'), 'console.log("hello")\n');
    const app = [
      'build',
      '--binary',
      NODE,
      '--add',
      'app.js:/app/app.js',
      '--entrypoint',
      `["${NODE}","/app/app.js"]`,
    ];

    const part = process.argv.includes('--part') ? process.argv[process.argv.indexOf('--part') + 1] : 'all';
    // 1. cold build + push (empty cache), the run that fills the registry cache, then a fresh machine
    if (part !== '2') {
      const cold = cli([...app, '-o', `docker://${R}/one/cold:1`], work, join(work, 'c-cold'));
      cli(
        [...app, '-o', `docker://${R}/one/seed:1`, '--cache-to', `docker://${R}/one/cache:main`],
        work,
        join(work, 'c-seed'),
      );
      const mark = (await syncLog(reg)).length;
      const fresh = cli(
        [...app, '-o', `docker://${R}/one/fresh:1`, '--cache-from', `docker://${R}/one/cache:main`],
        work,
        join(work, 'c-fresh'),
      );
      const sizes = await layerSizes(R, 'one/fresh:1');
      const freshBytes = bytesOf(uploads((await syncLog(reg)).slice(mark)), sizes);
      if (fresh.stdout !== cold.stdout) throw new Error(`digests differ: ${cold.stdout} vs ${fresh.stdout}`);
      const total = [...sizes.values()].reduce((a, b) => a + b, 0);
      console.log(`image: node + app, ${sizes.size} layers, ${mb(total)} compressed`);
      console.log(`cold build + push (empty cache):              ${s(cold.ms)} wall, ${s(cold.cpu)} CPU`);
      console.log(
        `fresh machine, --cache-from warm registry:    ${s(fresh.ms)} wall, ${s(fresh.cpu)} CPU; ratio ${(fresh.ms / cold.ms).toFixed(3)} wall, ${(fresh.cpu / cold.cpu).toFixed(3)} CPU (target <= 0.2)`,
      );
      console.log(`layer bytes uploaded by the fresh machine:    ${freshBytes} (target 0)`);
    }
    if (part === '1') return;

    // 2. eight images sharing node: eight separate cold builds vs one build -c
    const names = Array.from({ length: 8 }, (_, i) => `svc${i}`);
    for (const n of names) {
      mkdirSync(join(work, n));
      writeFileSync(join(work, n, 'main.js'), `console.log(${JSON.stringify(n)})\n`);
    }
    let separate = 0;
    let separateCpu = 0;
    const m2 = (await syncLog(reg)).length;
    for (const n of names) {
      const r = cli(
        ['build', '--binary', NODE, '--add', `${n}/main.js:/app/main.js`, '-o', `docker://${R}/sep/${n}:1`],
        work,
        join(work, `c-sep-${n}`),
      );
      separate += r.ms;
      separateCpu += r.cpu;
    }
    const sepUploaded = uploads((await syncLog(reg)).slice(m2));
    writeFileSync(
      join(work, 'monorepo.yaml'),
      [
        'contents:',
        `  - binary: ${NODE}`,
        `outputs: docker://${R}/mono/{name}:1`,
        'images:',
        ...names.flatMap((n) => [
          `  - name: ${n}`,
          '    contents:',
          `      - add: ${n}/main.js`,
          '        to: /app/main.js',
        ]),
        '',
      ].join('\n'),
    );
    const m3 = (await syncLog(reg)).length;
    const mono = cli(['build', '-c', 'monorepo.yaml'], work, join(work, 'c-mono'));
    const monoUploaded = uploads((await syncLog(reg)).slice(m3));
    const shared = await layerSizes(R, 'mono/svc0:1');
    const other = await layerSizes(R, 'mono/svc1:1');
    const sharedDigests = [...shared.keys()].filter((d) => other.has(d));
    const times = (list: string[], d: string) => list.filter((x) => x === d).length;
    console.log(
      `8 images sharing node: ${sharedDigests.length} shared layers (${mb(bytesOf(sharedDigests, shared))})`,
    );
    console.log(
      `eight separate cold builds:                   ${s(separate)} wall, ${s(separateCpu)} CPU; shared layers uploaded ${sharedDigests.map((d) => times(sepUploaded, d)).join('/')} times`,
    );
    console.log(
      `one build -c monorepo.yaml:                   ${s(mono.ms)} wall, ${s(mono.cpu)} CPU; ratio ${(mono.ms / separate).toFixed(3)} wall, ${(mono.cpu / separateCpu).toFixed(3)} CPU (target <= 0.35); shared layers uploaded ${sharedDigests.map((d) => times(monoUploaded, d)).join('/')} times`,
    );
  } finally {
    await reg.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
