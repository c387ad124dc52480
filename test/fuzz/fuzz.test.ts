/**
 * fuzz.test.ts — the bounded fuzz run of the suite (issue 15, "Fuzzing"): every parser that reads
 * untrusted bytes gets a fixed number of mutated inputs from a fixed seed (so every run tries the same
 * inputs), each in a worker under a watchdog. Zero findings allowed: no crash (a thrown error that is
 * not a FromscratchError), no hang (an input without progress for 20 s), no runaway memory (a heap over
 * 512 MiB or an RSS over 2 GiB). The longer run is `npm run fuzz` (test/fuzz/main.ts). Execution rates are
 * reported as diagnostics, never asserted.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runFuzz } from './run-fuzz.ts';
import { TARGETS } from './targets.ts';

/** ITERATIONS is about 1 s of each target on a loaded 2-core machine (rates measured with main.ts). */
const ITERATIONS: Record<string, number> = {
  elf: 15_000,
  tar: 8_000,
  ar: 30_000,
  deb: 2_500,
  control: 25_000,
  packages: 10_000,
  dockerfile: 10_000,
  spec: 400,
  manifest: 10_000,
  index: 10_000,
  config: 5_000,
  'ld-cache': 800,
  gzip: 2_000,
  zstd: 100,
  xz: 1_200,
};

describe('fuzz: every parser survives mutated input (fixed seed)', () => {
  it('every target has a budget', () => {
    assert.deepEqual(Object.keys(ITERATIONS).sort(), TARGETS.map((t) => t.name).sort());
  });
  for (const t of TARGETS) {
    it(`${t.name}: ${ITERATIONS[t.name]} inputs, no crash, hang or runaway memory`, async (ctx) => {
      const r = await runFuzz(t.name, { seed: 1, iterations: ITERATIONS[t.name] ?? 1000 });
      ctx.diagnostic(
        `${t.name}: ${r.execs} execs in ${r.ms} ms (${Math.round((r.execs * 1000) / Math.max(r.ms, 1))}/s), ${r.outcomes} distinct outcomes`,
      );
      const shown = r.findings.map(
        (f) =>
          `${f.kind} at input ${f.index} (${f.input.length} bytes, base64 ${Buffer.from(f.input.subarray(0, 4096)).toString('base64')}): ${f.detail}`,
      );
      assert.deepEqual(shown, [], `${t.name}: findings`);
      assert.equal(r.execs, ITERATIONS[t.name], 'every input ran');
    });
  }
});
