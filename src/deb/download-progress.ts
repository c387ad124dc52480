/**
 * download-progress.ts — an apt download as a progress task: `fetching URL` with its bytes, and the
 * retries fetchBytes makes. Without a ProgressSink nothing is reported.
 */
import { type ProgressSink, startTask } from '../model/progress.ts';
import type { FetchBytesOptions } from './fetch-http.ts';

/** download runs one fetch as a progress task `fetching URL` (a no-op without opts.progress). */
export async function download<T>(
  url: string,
  size: number | undefined,
  opts: { progress?: ProgressSink },
  f: () => Promise<T>,
): Promise<T> {
  const task = startTask(opts.progress, `fetch ${url}`, `fetching ${url}`, size);
  try {
    const r = await f();
    task.done();
    return r;
  } catch (e) {
    task.done('failed');
    throw e;
  }
}

/** downloadHooks reports a download's bytes and retries to opts.progress. */
export function downloadHooks(
  url: string,
  opts: { progress?: ProgressSink },
): Pick<FetchBytesOptions, 'onBytes' | 'onRetry'> {
  const p = opts.progress;
  if (!p) return {};
  return {
    onBytes: (n) => p({ kind: 'advance', id: `fetch ${url}`, amount: n }),
    onRetry: (why, ms) => p({ kind: 'note', message: `fetching ${url}: retrying in ${ms / 1000} s: ${why}` }),
  };
}
