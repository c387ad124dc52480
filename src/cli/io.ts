/**
 * io.ts — the CLI's streams, injected so commands can be tested without a process.
 */

/** CliIo carries the streams a command writes to. stdout is for the result only. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** whether stderr is a terminal (progress bars) */
  readonly isTty: boolean;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

/** processIo returns the real process streams. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    isTty: Boolean(process.stderr.isTTY),
    cwd: process.cwd(),
    env: process.env,
  };
}

/** stderrLogger returns a Logger writing `warning: …` / progress lines to stderr. */
export function stderrLogger(io: CliIo, quiet = false): { info(m: string): void; warn(m: string): void } {
  return {
    info(m) {
      if (!quiet) io.stderr.write(`${m}\n`);
    },
    warn(m) {
      io.stderr.write(`warning: ${m}\n`);
    },
  };
}
