/**
 * memory-io.ts — a CliIo that keeps what a command writes, for running the CLI in-process (tests, the
 * completion and help checks).
 */
import { Writable } from 'node:stream';
import type { CliIo } from './io.ts';

/** MemoryIo is a CliIo whose outputs are read back with out() and err(). */
export interface MemoryIo extends CliIo {
  out(): string;
  err(): string;
}

/** memoryIo returns a CliIo writing into strings; `cwd` and `env` default to the process's. */
export function memoryIo(opts: { cwd?: string; env?: NodeJS.ProcessEnv; isTty?: boolean } = {}): MemoryIo {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, cb) {
        append(String(chunk));
        cb();
      },
    });
  return {
    stdout: sink((s) => (out += s)),
    stderr: sink((s) => (err += s)),
    isTty: opts.isTty ?? false,
    cwd: opts.cwd ?? process.cwd(),
    env: opts.env ?? process.env,
    out: () => out,
    err: () => err,
  };
}
