/**
 * main.ts — `npm run fuzz`: the longer fuzz run. Every target (or those named) runs for --seconds each
 * (default 60) from --seed (default: a fixed 1, so a run can be repeated; pass another to explore).
 * Findings are written to test/fuzz/findings/<target>-<kind>-<n>.bin with the error beside them; once
 * fixed, move the input into test/fuzz/corpus/<target>/ so that the suite keeps trying it.
 *   npm run fuzz -- --seconds 300 --seed 7 tar elf
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runFuzz } from './run-fuzz.ts';
import { TARGETS } from './targets.ts';

const { values, positionals } = parseArgs({
  options: { seconds: { type: 'string', default: '60' }, seed: { type: 'string', default: '1' } },
  allowPositionals: true,
});
const names = positionals.length > 0 ? positionals : TARGETS.map((t) => t.name);
const unknown = names.filter((n) => !TARGETS.some((t) => t.name === n));
if (unknown.length > 0) {
  console.error(`fuzz: no target ${unknown.join(', ')}; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
  process.exit(2);
}
const findingsDir = join(import.meta.dirname, 'findings');
let bad = 0;
const reports = await runFuzz(
  names.map((target) => ({ target, durationMs: Number(values.seconds) * 1000 })),
  { seed: Number(values.seed) },
);
for (const r of reports) {
  const name = r.target;
  const rate = r.ms > 0 ? Math.round((r.execs * 1000) / r.ms) : 0;
  console.log(
    `${name.padEnd(11)} ${String(r.execs).padStart(9)} execs ${String(rate).padStart(7)}/s ${String(r.outcomes).padStart(5)} outcomes ${r.findings.length} findings`,
  );
  for (const [n, f] of r.findings.entries()) {
    bad += 1;
    mkdirSync(findingsDir, { recursive: true });
    const base = join(findingsDir, `${name}-${f.kind}-${n}`);
    writeFileSync(`${base}.bin`, f.input);
    writeFileSync(`${base}.txt`, `${f.kind} at input ${f.index} (seed ${values.seed})\n${f.detail}\n`);
    console.log(`  ${f.kind} at input ${f.index}: ${f.detail.split('\n')[0]} -> ${base}.bin`);
  }
}
process.exit(bad > 0 ? 1 : 0);
