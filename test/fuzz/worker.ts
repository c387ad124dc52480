/**
 * worker.ts — runs fuzz targets one after the other in a worker thread (run-fuzz.ts starts it): the
 * seeded mutation loop. Before each input it publishes a global progress counter, the target's number
 * and the input bytes in shared memory, so that the main thread's watchdog can name the input of a hang
 * or of a worker killed for memory.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isFromscratchError } from '../../src/errors.ts';
import { mutate, Rng } from './mutate.ts';
import { type FuzzTarget, HARNESS_CHECKS, loadCorpus, TARGETS } from './targets.ts';

/** WorkerJob is one target's run: a number of inputs (the suite: deterministic) or a duration. */
export interface WorkerJob {
  readonly target: string;
  readonly iterations?: number;
  readonly durationMs?: number;
}

/** WorkerInput is what run-fuzz.ts hands the worker. */
export interface WorkerInput {
  readonly jobs: readonly WorkerJob[];
  readonly seed: number;
  /** Int32 [0] inputs started (all targets), [1] job number, [2] input number, [3] input length; bytes from 16 */
  readonly shared: SharedArrayBuffer;
  /** rss above which the worker reports runaway memory */
  readonly rssLimit: number;
}

const w = workerData as WorkerInput;
/** the input running now, for a process warning (the library must never write to stderr) */
let now: { job: number; index: number; input: Uint8Array } | undefined;
process.on('warning', (warning) => {
  if (!now) return;
  parentPort!.postMessage({ kind: 'crash', ...now, error: `process warning on stderr: ${warning.message}` });
});
const head = new Int32Array(w.shared, 0, 4);
const body = new Uint8Array(w.shared, 16);

async function runJob(job: number, target: FuzzTarget, spec: WorkerJob): Promise<void> {
  const corpus = loadCorpus(target.corpus ?? target.name);
  const seeds = corpus.length;
  const rng = new Rng(w.seed);
  const dictionary = target.dictionary.map((s) => new Uint8Array(Buffer.from(s, 'latin1')));
  const maxLength = Math.min(target.maxLength ?? 64 * 1024, body.length);
  const fix = target.fixup ?? ((b: Uint8Array) => b);
  const outcomes = new Set<string>();
  const started = Date.now();
  let crashes = 0;
  let i = 0;
  for (; ; i++) {
    if (spec.iterations !== undefined && i >= spec.iterations) break;
    if (spec.durationMs !== undefined && Date.now() - started >= spec.durationMs) break;
    const input =
      i < seeds
        ? corpus[i]!
        : fix(mutate(rng.pick(corpus), rng, rng.pick(corpus), { dictionary, maxLength }));
    body.set(input.subarray(0, body.length));
    Atomics.store(head, 3, Math.min(input.length, body.length));
    Atomics.store(head, 2, i);
    Atomics.store(head, 1, job);
    Atomics.add(head, 0, 1);
    now = { job, index: i, input };
    let outcome: string;
    try {
      await target.run(input);
      outcome = 'ok';
    } catch (e) {
      if (!isFromscratchError(e)) {
        crashes += 1;
        const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
        parentPort!.postMessage({ kind: 'crash', job, index: i, input, error });
        if (crashes >= 20) break;
        continue;
      }
      // the outcome's shape without quoted text and numbers: a new shape is kept as a seed
      // (outcome-guided, a cheap stand-in for coverage)
      outcome = `${e.code}:${e.message
        .replace(/"(?:[^"\\]|\\.)*"|'[^']*'|`[^`]*`/g, 'Q')
        .replace(/[0-9a-f]{8,}|\d+/g, '#')
        .slice(0, 60)}`;
    }
    // process warnings are emitted on the next tick: let them fire while this input is still `now`
    await new Promise((r) => process.nextTick(r));
    if (!outcomes.has(outcome)) {
      outcomes.add(outcome);
      if (corpus.length < 2000) corpus.push(input);
    }
    if ((i & 63) === 0 && process.memoryUsage.rss() > w.rssLimit) {
      parentPort!.postMessage({ kind: 'memory', job, index: i, input, rss: process.memoryUsage.rss() });
      break;
    }
  }
  parentPort!.postMessage({ kind: 'done', job, execs: i, ms: Date.now() - started, outcomes: outcomes.size });
}

for (const [job, spec] of w.jobs.entries()) {
  const target = [...TARGETS, ...HARNESS_CHECKS].find((t) => t.name === spec.target);
  if (!target) throw new Error(`no fuzz target ${spec.target}`);
  await runJob(job, target, spec);
}
