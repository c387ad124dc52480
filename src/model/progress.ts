/**
 * progress.ts — the progress events long steps report (downloads, the closure, layers, blob transfers,
 * retries). PURE: the library only emits events through a ProgressSink passed in its options; the CLI
 * renders them (src/cli/progress.ts). The default is noProgress, so a library caller sees nothing.
 */

/** ProgressEvent is one thing a long step reports; `id` ties a task's start, advances and end together. */
export type ProgressEvent =
  /** a task starts; `total` is its size in `unit` when known */
  | {
      readonly kind: 'start';
      readonly id: string;
      readonly label: string;
      readonly total?: number;
      readonly unit?: 'bytes' | 'files';
    }
  /** `amount` more units of the task are done (bytes transferred, files resolved); `total` when it became known */
  | { readonly kind: 'advance'; readonly id: string; readonly amount: number; readonly total?: number }
  /** the task ended; `detail` says how (e.g. "exists", "cached", "mounted from app") */
  | { readonly kind: 'done'; readonly id: string; readonly detail?: string }
  /** something the user should see while waiting (e.g. "retrying in 2 s: 503") */
  | { readonly kind: 'note'; readonly message: string };

/** ProgressSink receives progress events. It must not throw; it is called synchronously from hot loops. */
export type ProgressSink = (e: ProgressEvent) => void;

/** noProgress is the default ProgressSink: it drops every event. */
export const noProgress: ProgressSink = () => {};

/** ProgressTask is a started task, reporting to the sink it was started on. */
export interface ProgressTask {
  advance(amount: number): void;
  /** ends the task; later calls do nothing, so `done` may sit in a finally */
  done(detail?: string): void;
}

/**
 * startTask reports the start of a task on `sink` and returns a handle for its advances and its end.
 * @example
 * const t = startTask(opts.progress, `fetch ${url}`, `fetching ${url}`, size);
 * t.advance(chunk.byteLength); … t.done();
 */
export function startTask(
  sink: ProgressSink | undefined,
  id: string,
  label: string,
  total?: number,
  unit: 'bytes' | 'files' = 'bytes',
): ProgressTask {
  const s = sink ?? noProgress;
  let ended = false;
  s({ kind: 'start', id, label, ...(total !== undefined ? { total } : {}), unit });
  return {
    advance(amount) {
      if (!ended && amount > 0) s({ kind: 'advance', id, amount });
    },
    done(detail) {
      if (ended) return;
      ended = true;
      s({ kind: 'done', id, ...(detail !== undefined ? { detail } : {}) });
    },
  };
}

/** formatBytes writes a size for people in SI units, as docker and skopeo do: `512 B`, `1.2 MB`, `31 MB`. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}
