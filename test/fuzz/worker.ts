/**
 * worker.ts — runs one fuzz target in a worker thread (run-fuzz.ts starts it): the seeded mutation loop.
 * Before each input it publishes the iteration number and the input bytes in shared memory, so that the
 * main thread's watchdog can name the input of a hang or of a worker killed for memory.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isFromscratchError } from '../../src/errors.ts';
import { mutate, Rng } from './mutate.ts';
import { loadCorpus, TARGETS } from './targets.ts';

/** WorkerInput is what run-fuzz.ts hands the worker. */
export interface WorkerInput {
  readonly target: string;
  readonly seed: number;
  /** stop after this many inputs (the suite: deterministic) */
  readonly iterations?: number;
  /** stop after this many ms (npm run fuzz) */
  readonly durationMs?: number;
  /** [0] iteration number, [1] input length, then the input bytes */
  readonly shared: SharedArrayBuffer;
  /** rss above which the worker reports runaway memory */
  readonly rssLimit: number;
}

const w = workerData as WorkerInput;
const target = TARGETS.find((t) => t.name === w.target);
if (!target) throw new Error(`no fuzz target ${w.target}`);
const head = new Int32Array(w.shared, 0, 2);
const body = new Uint8Array(w.shared, 8);
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
  if (w.iterations !== undefined && i >= w.iterations) break;
  if (w.durationMs !== undefined && Date.now() - started >= w.durationMs) break;
  const input =
    i < seeds ? corpus[i]! : fix(mutate(rng.pick(corpus), rng, rng.pick(corpus), { dictionary, maxLength }));
  body.set(input.subarray(0, body.length));
  Atomics.store(head, 1, Math.min(input.length, body.length));
  Atomics.store(head, 0, i + 1);
  let outcome: string;
  try {
    await target.run(input);
    outcome = 'ok';
  } catch (e) {
    if (!isFromscratchError(e)) {
      crashes += 1;
      const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
      parentPort!.postMessage({ kind: 'crash', index: i, input, error });
      if (crashes >= 20) break;
      continue;
    }
    // the outcome's shape without numbers: a new shape is kept as a seed (outcome-guided, a cheap
    // stand-in for coverage)
    outcome = `${e.code}:${e.message
      .replace(/"(?:[^"\\]|\\.)*"|'[^']*'|`[^`]*`/g, 'Q')
      .replace(/[0-9a-f]{8,}|\d+/g, '#')
      .slice(0, 60)}`;
  }
  if (!outcomes.has(outcome)) {
    outcomes.add(outcome);
    if (corpus.length < 2000) corpus.push(input);
  }
  if ((i & 63) === 0 && process.memoryUsage.rss() > w.rssLimit) {
    parentPort!.postMessage({ kind: 'memory', index: i, input, rss: process.memoryUsage.rss() });
    break;
  }
}
parentPort!.postMessage({
  kind: 'done',
  execs: i,
  ms: Date.now() - started,
  outcomes: outcomes.size,
  corpus: corpus.length,
});
