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
import { type FuzzReport, runFuzz } from './run-fuzz.ts';
import { loadCorpus, TARGETS } from './targets.ts';

/** ITERATIONS is about 1–3 s of each target on a loaded 2-core machine (rates measured with main.ts). */
const ITERATIONS: Record<string, number> = {
  elf: 30_000,
  tar: 16_000,
  ar: 60_000,
  deb: 5_000,
  control: 50_000,
  packages: 20_000,
  dockerfile: 20_000,
  spec: 800,
  manifest: 20_000,
  index: 20_000,
  config: 10_000,
  'ld-cache': 1_600,
  gzip: 4_000,
  zstd: 200,
  xz: 2_400,
};

describe('fuzz: every parser survives mutated input (fixed seed)', () => {
  // one worker runs every target in turn (a worker costs seconds to start on a loaded machine)
  let reports: Promise<FuzzReport[]> | undefined;
  const all = () => {
    reports ??= runFuzz(
      TARGETS.map((t) => ({ target: t.name, iterations: ITERATIONS[t.name] ?? 1000 })),
      { seed: 1 },
    );
    return reports;
  };
  it('every target has a budget', () => {
    assert.deepEqual(Object.keys(ITERATIONS).sort(), TARGETS.map((t) => t.name).sort());
  });
  it('every seed of the corpus parses (the harness feeds the parsers what it means to)', async () => {
    for (const t of TARGETS) {
      for (const [i, seed] of loadCorpus(t.corpus ?? t.name).entries()) {
        // the three JSON targets share one corpus: each seed is one of the three documents
        if (t.corpus === 'oci-json' && i !== ['manifest', 'index', 'config'].indexOf(t.name)) continue;
        await assert.doesNotReject(async () => t.run(seed), `${t.name} seed ${i}`);
      }
    }
  });
  for (const [n, t] of TARGETS.entries()) {
    it(`${t.name}: ${ITERATIONS[t.name]} inputs, no crash, hang or runaway memory`, async (ctx) => {
      const r = (await all())[n]!;
      assert.equal(r.target, t.name);
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

describe('fuzz harness: findings are reported, with their input', () => {
  it('a crash, a warning on stderr, a hang and runaway memory are each found, and the next target still runs', async () => {
    const r = await runFuzz(
      [
        { target: 'check-crash', iterations: 30 },
        { target: 'check-warning', iterations: 3 },
        { target: 'check-hang', iterations: 5 },
        { target: 'check-memory', iterations: 5 },
        { target: 'control', iterations: 100 },
      ],
      { hangMs: 2000, heapMb: 64 },
    );
    assert.deepEqual(
      r.map((x) => [x.target, [...new Set(x.findings.map((f) => f.kind))]]),
      [
        ['check-crash', ['crash']],
        ['check-warning', ['crash']],
        ['check-hang', ['hang']],
        ['check-memory', ['memory']],
        ['control', []],
      ],
    );
    const crash = r[0]!.findings[0]!;
    assert.equal(crash.input.length % 3, 0, 'the crashing input is the one reported');
    assert.match(crash.detail, /TypeError: not a FromscratchError/);
    assert.match(r[1]!.findings[0]!.detail, /process warning on stderr: a parser wrote to stderr/);
    assert.equal(r[4]!.execs, 100);
  });
});
