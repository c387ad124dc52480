/**
 * deps.ts — benchmark: our closure of 300 ELF programs of /usr/bin (one shared ClosureCache, default
 * options as `fromscratch deps` uses them) against an `ldd` loop over the same files
 * (`for f in ...; do ldd "$f"; done`), in the same run. Prints both times, the ratio ours/ldd (target
 * ≤ 0.3×, stretch 0.1×) and how many programs map the same files as ldd.
 *
 *   node --import tsx bench/deps.ts [COUNT] [--runs N] [--parallel]   (default 300 programs, 3 runs)
 *
 * Each variant of ours runs in a fresh node process (`--child`), so each pays its own JIT warm-up and
 * fills its own cache, as one `fromscratch deps` run does; its time is taken inside the process, from
 * the first closure to the last (node's start-up, ~0.1 s, and loading our modules are not in it). Runs
 * are interleaved (ldd, then each variant, per round) and the median of each is reported.
 */
import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type ClosureResult, resolveClosure } from '../src/closure/closure.ts';
import { newClosureCache } from '../src/closure/closure-cache.ts';
import { hostFs } from '../src/fs/host-fs.ts';
import { elfPrograms, neededReals, parseLdd, sameView } from '../test/closure/ldd-oracle.ts';

/** Variant is one way of running ours. */
interface Variant {
  readonly name: string;
  readonly label: string;
  readonly infer: boolean;
  /** programs resolved at a time (one thread: file reads overlap only) */
  readonly parallel: number;
}

const VARIANTS: readonly Variant[] = [
  { name: 'full', label: 'ours, deps defaults (inference on)', infer: true, parallel: 1 },
  { name: 'needed', label: 'ours, DT_NEEDED only (--no-infer)', infer: false, parallel: 1 },
  // host reads are synchronous (src/fs/host-fs.ts): programs resolved 8 at a time only interleave,
  // which is slower; the variant stays for whoever wants to check (--parallel)
  { name: 'full8', label: 'ours, deps defaults, 8 at a time', infer: true, parallel: 8 },
];

/** ChildReport is what a child prints: its time and, when asked, each program's DT_NEEDED view. */
interface ChildReport {
  readonly ms: number;
  readonly cpuMs: number;
  readonly views?: { reals: string[]; missing: string[] }[];
}

/** child resolves each program on its own (as `fromscratch deps` would), `parallel` at a time, one shared cache. */
async function child(v: Variant, files: readonly string[], wantViews: boolean): Promise<ChildReport> {
  const fs = hostFs('/');
  const cache = newClosureCache(fs);
  const views: ChildReport['views'] & object = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // each result is reduced to the ldd view as soon as it is made: holding 300 full results (36k files
  // with origins) would measure the garbage collector, not the closure
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const r: ClosureResult = await resolveClosure([files[i]!], fs, {
        cache,
        strict: false,
        ...(v.infer
          ? {}
          : {
              infer: {
                nss: false,
                gconv: false,
                libgcc: false,
                caCerts: false,
                dlopenNotes: false,
                locales: false,
                launchers: false,
              },
            }),
      });
      const view = neededReals(r, files[i]!);
      if (wantViews) views[i] = { reals: [...view.reals], missing: view.missing };
    }
  };
  await Promise.all(Array.from({ length: v.parallel }, worker));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, ...(wantViews ? { views } : {}) };
}

function collect(cmd: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    p.stdout!.on('data', (c: Buffer) => chunks.push(c));
    p.on('error', reject);
    p.on('close', (code) =>
      code === 0
        ? resolve(Buffer.concat(chunks).toString('utf8'))
        : reject(new Error(`${cmd} exited ${code}`)),
    );
    if (input !== undefined) p.stdin!.end(input);
  });
}

async function lddLoop(files: readonly string[]): Promise<{ ms: number; out: string }> {
  const t0 = performance.now();
  const out = await collect('bash', [
    '-c',
    'for f in "$@"; do echo "@@ $f"; ldd "$f" 2>&1; done',
    'bench',
    ...files,
  ]);
  return { ms: performance.now() - t0, out };
}

async function runChild(v: Variant, files: readonly string[], wantViews: boolean): Promise<ChildReport> {
  const self = fileURLToPath(import.meta.url);
  const out = await collect(
    process.execPath,
    ['--import', 'tsx', self, '--child', v.name, ...(wantViews ? ['--views'] : [])],
    JSON.stringify(files),
  );
  return JSON.parse(out) as ChildReport;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const ci = args.indexOf('--child');
  if (ci >= 0) {
    const v = VARIANTS.find((x) => x.name === args[ci + 1]);
    if (!v) throw new Error(`unknown variant ${args[ci + 1]}`);
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const files = JSON.parse(Buffer.concat(chunks).toString('utf8')) as string[];
    process.stdout.write(JSON.stringify(await child(v, files, args.includes('--views'))));
    return;
  }
  const ri = args.indexOf('--runs');
  const runs = ri >= 0 ? Number(args[ri + 1]) : 3;
  const positional = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--runs');
  const count = Number(positional[0] ?? process.env.BENCH_DEPS_COUNT ?? 300);
  // real paths for both sides: ldd takes $ORIGIN from the path it is given (see ldd-oracle.ts)
  const programs = [
    ...new Set(elfPrograms('/usr/bin', Math.ceil(count * 1.2)).map((p) => realpathSync(p))),
  ].slice(0, count);

  const load0 = loadavg();
  const lddMs: number[] = [];
  const ours = new Map<string, ChildReport[]>(VARIANTS.map((v) => [v.name, []]));
  let lddOut = '';
  let views: ChildReport['views'];
  for (let round = 0; round < runs; round++) {
    const l = await lddLoop(programs);
    lddMs.push(l.ms);
    lddOut = l.out;
    for (const v of VARIANTS) {
      if (v.parallel > 1 && !args.includes('--parallel')) continue;
      const first = round === 0 && v.name === 'full';
      const rep = await runChild(v, programs, first);
      if (first) views = rep.views;
      ours.get(v.name)!.push(rep);
    }
  }

  const sections = new Map<string, string>();
  for (const part of lddOut.split(/^@@ /m).slice(1)) {
    const nl = part.indexOf('\n');
    sections.set(part.slice(0, nl), part.slice(nl + 1));
  }
  let compared = 0;
  let same = 0;
  const differ: string[] = [];
  programs.forEach((p, i) => {
    const view = parseLdd(p, sections.get(p) ?? '');
    if (!view) return;
    compared++;
    const mine = views![i]!;
    if (sameView({ reals: new Set(mine.reals), missing: mine.missing }, view)) same++;
    else differ.push(p);
  });

  const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const all = (xs: readonly number[]) => xs.map((x) => (x / 1000).toFixed(2)).join(' ');
  const lddMed = median(lddMs);
  console.log(
    `programs: ${programs.length} ELF files of /usr/bin (${compared} dynamic); median of ${runs} runs`,
  );
  console.log(`${'ldd loop (sequential, as a shell would)'.padEnd(40)} ${fmt(lddMed)}  [${all(lddMs)}]`);
  const ratios = new Map<string, number>();
  for (const v of VARIANTS) {
    const reps = ours.get(v.name)!;
    if (reps.length === 0) continue;
    const ms = median(reps.map((r) => r.ms));
    ratios.set(v.name, ms / lddMed);
    console.log(
      `${v.label.padEnd(40)} ${fmt(ms)}  ratio ${(ms / lddMed).toFixed(3)}x  cpu ${fmt(median(reps.map((r) => r.cpuMs)))}  [${all(reps.map((r) => r.ms))}]`,
    );
  }
  console.log(
    `match ldd: ${same}/${compared}${differ.length ? ` (differ: ${differ.slice(0, 10).join(' ')})` : ''}`,
  );
  const la = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  console.log(`load average: ${la(load0)} at start, ${la(loadavg())} at end (2 cores shared: ratios vary)`);
  console.log(
    `default-inference ratio ${ratios.get('full')!.toFixed(3)}x, no-inference ratio ${ratios.get('needed')!.toFixed(3)}x (sequential, medians); target <= 0.3x, stretch 0.1x`,
  );
}

await main();
