/**
 * deps.ts — benchmark: our closure of 300 ELF programs of /usr/bin (one process, one shared
 * ClosureCache, default options as `fromscratch deps` uses them) against an `ldd` loop over the same
 * files (`for f in ...; do ldd "$f"; done`), in the same run. Prints both times, the ratio ours/ldd
 * (target ≤ 0.3×, stretch 0.1×) and how many programs map the same files as ldd.
 *
 *   node --import tsx bench/deps.ts [COUNT]      (default 300; BENCH_DEPS_COUNT also works)
 */
import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { loadavg } from 'node:os';
import { type ClosureResult, resolveClosure } from '../src/closure/closure.ts';
import { newClosureCache } from '../src/closure/closure-cache.ts';
import { hostFs } from '../src/fs/host-fs.ts';
import { elfPrograms, neededReals, parseLdd, sameView } from '../test/closure/ldd-oracle.ts';

const count = Number(process.argv[2] ?? process.env.BENCH_DEPS_COUNT ?? 300);
// real paths for both sides: ldd takes $ORIGIN from the path it is given (see ldd-oracle.ts)
const programs = [
  ...new Set(elfPrograms('/usr/bin', Math.ceil(count * 1.2)).map((p) => realpathSync(p))),
].slice(0, count);

async function lddLoop(files: readonly string[]): Promise<{ ms: number; out: string }> {
  const t0 = performance.now();
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn(
      'bash',
      ['-c', 'for f in "$@"; do echo "@@ $f"; ldd "$f" 2>&1; done', 'bench', ...files],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const chunks: Buffer[] = [];
    p.stdout.on('data', (c: Buffer) => chunks.push(c));
    p.on('error', reject);
    p.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
  return { ms: performance.now() - t0, out };
}

/** ours resolves each program on its own (as `fromscratch deps` would), `parallel` at a time, one shared cache. */
async function ours(files: readonly string[], infer: boolean, parallel: number) {
  const fs = hostFs('/');
  const cache = newClosureCache(fs);
  const t0 = performance.now();
  // each result is reduced to what the ldd comparison needs as soon as it is made: holding 300 full
  // results (36k files with origins) would measure the garbage collector, not the closure
  const results: ReturnType<typeof neededReals>[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const r: ClosureResult = await resolveClosure([files[i]!], fs, {
        cache,
        strict: false,
        ...(infer
          ? {}
          : { infer: { nss: false, gconv: false, libgcc: false, caCerts: false, dlopenNotes: false } }),
      });
      results[i] = neededReals(r, files[i]!);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { ms: performance.now() - t0, results };
}

const load0 = loadavg();
const ldd = await lddLoop(programs);
const full = await ours(programs, true, 1);
const needed = await ours(programs, false, 1);
const fullPar = await ours(programs, true, 8);
const neededPar = await ours(programs, false, 8);

const sections = new Map<string, string>();
for (const part of ldd.out.split(/^@@ /m).slice(1)) {
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
  if (sameView(full.results[i]!, view)) same++;
  else differ.push(p);
});

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
console.log(`programs: ${programs.length} ELF files of /usr/bin (${compared} dynamic)`);
console.log(`${'ldd loop (sequential, as a shell would)'.padEnd(48)} ${fmt(ldd.ms)}`);
const line = (what: string, ms: number) =>
  console.log(`${what.padEnd(48)} ${fmt(ms)}  ratio ${(ms / ldd.ms).toFixed(3)}x`);
line('ours, deps defaults (inference on), sequential', full.ms);
line('ours, DT_NEEDED only, sequential', needed.ms);
line('ours, deps defaults, 8 programs at a time', fullPar.ms);
line('ours, DT_NEEDED only, 8 programs at a time', neededPar.ms);
console.log(
  `match ldd: ${same}/${compared}${differ.length ? ` (differ: ${differ.slice(0, 10).join(' ')})` : ''}`,
);
const la = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
console.log(`load average: ${la(load0)} at start, ${la(loadavg())} at end (2 cores shared: ratios vary)`);
console.log(
  `default-inference ratio ${(full.ms / ldd.ms).toFixed(3)}x, no-inference ratio ${(needed.ms / ldd.ms).toFixed(3)}x (sequential); target <= 0.3x, stretch 0.1x`,
);
