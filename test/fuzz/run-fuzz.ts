/**
 * run-fuzz.ts — runs fuzz targets in one worker thread under a watchdog: an input that makes no progress
 * for `hangMs` is a hang (the worker is terminated, the input named, and the remaining targets run in a
 * new worker), a worker over its heap limit or over `rssLimit` is runaway memory, and any thrown error
 * that is not a FromscratchError is a crash.
 */
import { Worker } from 'node:worker_threads';
import type { WorkerInput, WorkerJob } from './worker.ts';

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
  /** an input running longer than this is a hang (default 20 s) */
  hangMs?: number;
  /** V8 heap cap of the worker in MiB (default 512) */
  heapMb?: number;
  /** process RSS above which memory has run away (default 2 GiB) */
  rssLimit?: number;
}

const MAX_INPUT = 1024 * 1024;

/**
 * runFuzz runs `jobs` (a target with a number of inputs or a duration each) under the watchdog and
 * resolves with one report per job, in order (never rejects on a finding).
 */
export async function runFuzz(jobs: readonly WorkerJob[], opts: FuzzOptions = {}): Promise<FuzzReport[]> {
  const reports: FuzzReport[] = [];
  let rest = [...jobs];
  while (rest.length > 0) {
    const got = await runWorker(rest, opts);
    reports.push(...got);
    rest = rest.slice(got.length);
  }
  return reports;
}

/** BOOT_MS is how long a new worker may take to start its first input. */
const BOOT_MS = 120_000;

/** runWorker runs jobs until they are done or one of them dies; returns the reports of the jobs it ended. */
function runWorker(jobs: readonly WorkerJob[], opts: FuzzOptions): Promise<FuzzReport[]> {
  const shared = new SharedArrayBuffer(16 + MAX_INPUT);
  const head = new Int32Array(shared, 0, 4);
  const current = (): Uint8Array => new Uint8Array(shared, 16, Atomics.load(head, 3)).slice();
  const input: WorkerInput = { jobs, seed: opts.seed ?? 1, shared, rssLimit: opts.rssLimit ?? 2 * 1024 ** 3 };
  const hangMs = opts.hangMs ?? 20_000;
  const reports: FuzzReport[] = [];
  let findings: Finding[] = [];
  let jobStarted = Date.now();
  return new Promise((resolve) => {
    const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
      workerData: input,
      resourceLimits: { maxOldGenerationSizeMb: opts.heapMb ?? 512 },
    });
    let settled = false;
    let last = -1;
    let lastChange = Date.now();
    const end = (kind: 'hang' | 'memory' | 'crash', detail: string) => {
      // the job running now ends with this finding; later jobs go to a new worker
      const job = reports.length;
      findings.push({ kind, index: Atomics.load(head, 2), input: current(), detail });
      reports.push({
        target: jobs[job]!.target,
        execs: Atomics.load(head, 2),
        ms: Date.now() - jobStarted,
        outcomes: 0,
        findings,
      });
      stop();
    };
    const stop = () => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      void worker.terminate();
      resolve(reports);
    };
    const timer = setInterval(() => {
      const n = Atomics.load(head, 0);
      if (n !== last) {
        last = n;
        lastChange = Date.now();
        return;
      }
      // until its first input, the worker is starting (tsx and the targets load): seconds on a loaded
      // machine, which is not the hang of an input (a 2 s limit once flagged a worker still booting)
      const limit = n === 0 ? Math.max(hangMs, BOOT_MS) : hangMs;
      if (Date.now() - lastChange > limit) end('hang', `no progress for ${limit} ms`);
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
        else if (m.kind === 'done') {
          reports.push({
            target: jobs[reports.length]!.target,
            execs: m.execs ?? 0,
            ms: m.ms ?? 0,
            outcomes: m.outcomes ?? 0,
            findings,
          });
          findings = [];
          jobStarted = Date.now();
          if (reports.length === jobs.length) stop();
        }
      },
    );
    worker.on('error', (e) => {
      end(
        (e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory' : 'crash',
        e.stack ?? String(e),
      );
    });
    worker.on('exit', () => {
      if (!settled && reports.length < jobs.length) end('crash', 'the worker exited early');
    });
  });
}
