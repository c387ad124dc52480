/**
 * run-fuzz.ts — runs a fuzz target in a worker thread under a watchdog: an input that makes no progress
 * for `hangMs` is a hang (the worker is terminated and the input named), a worker over its heap limit or
 * over `rssLimit` is runaway memory, and any thrown error that is not a FromscratchError is a crash.
 */
import { Worker } from 'node:worker_threads';
import type { WorkerInput } from './worker.ts';

/** Finding is one failure the fuzzer found, with the input that shows it. */
export interface Finding {
  readonly kind: 'crash' | 'hang' | 'memory';
  readonly index: number;
  readonly input: Uint8Array;
  readonly detail: string;
}

/** FuzzReport is the outcome of one target's run. */
export interface FuzzReport {
  readonly target: string;
  readonly execs: number;
  readonly ms: number;
  /** distinct outcome shapes seen (ok, or error code + message shape) */
  readonly outcomes: number;
  readonly findings: readonly Finding[];
}

/** FuzzOptions configures runFuzz. */
export interface FuzzOptions {
  /** PRNG seed (default 1) */
  seed?: number;
  /** inputs to run (deterministic); one of iterations and durationMs is required */
  iterations?: number;
  durationMs?: number;
  /** an input running longer than this is a hang (default 20 s) */
  hangMs?: number;
  /** V8 heap cap of the worker in MiB (default 512) */
  heapMb?: number;
  /** process RSS above which memory has run away (default 2 GiB) */
  rssLimit?: number;
}

const MAX_INPUT = 1024 * 1024;

/** runFuzz runs `target` under the watchdog and resolves with its report (never rejects on a finding). */
export function runFuzz(target: string, opts: FuzzOptions): Promise<FuzzReport> {
  const shared = new SharedArrayBuffer(8 + MAX_INPUT);
  const head = new Int32Array(shared, 0, 2);
  const current = (): Uint8Array => new Uint8Array(shared, 8, Atomics.load(head, 1)).slice();
  const input: WorkerInput = {
    target,
    seed: opts.seed ?? 1,
    shared,
    rssLimit: opts.rssLimit ?? 2 * 1024 ** 3,
    ...(opts.iterations !== undefined ? { iterations: opts.iterations } : {}),
    ...(opts.durationMs !== undefined ? { durationMs: opts.durationMs } : {}),
  };
  const hangMs = opts.hangMs ?? 20_000;
  const findings: Finding[] = [];
  const started = Date.now();
  return new Promise((resolve) => {
    const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
      workerData: input,
      resourceLimits: { maxOldGenerationSizeMb: opts.heapMb ?? 512 },
    });
    let settled = false;
    let last = -1;
    let lastChange = Date.now();
    const finish = (r: Omit<FuzzReport, 'target' | 'findings'>) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      void worker.terminate();
      resolve({ target, findings, ...r });
    };
    const timer = setInterval(() => {
      const i = Atomics.load(head, 0);
      if (i !== last) {
        last = i;
        lastChange = Date.now();
        return;
      }
      if (Date.now() - lastChange > hangMs) {
        findings.push({
          kind: 'hang',
          index: i - 1,
          input: current(),
          detail: `no progress for ${hangMs} ms`,
        });
        finish({ execs: i, ms: Date.now() - started, outcomes: 0 });
      }
    }, 250);
    worker.on(
      'message',
      (m: {
        kind: string;
        index: number;
        input: Uint8Array;
        error?: string;
        rss?: number;
        execs?: number;
        ms?: number;
        outcomes?: number;
      }) => {
        if (m.kind === 'crash')
          findings.push({ kind: 'crash', index: m.index, input: m.input, detail: m.error ?? '' });
        else if (m.kind === 'memory')
          findings.push({ kind: 'memory', index: m.index, input: m.input, detail: `rss ${m.rss} bytes` });
        else if (m.kind === 'done') finish({ execs: m.execs ?? 0, ms: m.ms ?? 0, outcomes: m.outcomes ?? 0 });
      },
    );
    worker.on('error', (e) => {
      const i = Atomics.load(head, 0);
      findings.push({
        kind: (e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory' : 'crash',
        index: i - 1,
        input: current(),
        detail: e.stack ?? String(e),
      });
      finish({ execs: i, ms: Date.now() - started, outcomes: 0 });
    });
    worker.on('exit', () => finish({ execs: Atomics.load(head, 0), ms: Date.now() - started, outcomes: 0 }));
  });
}
