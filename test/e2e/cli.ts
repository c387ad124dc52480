/**
 * cli.ts — spawn the fromscratch CLI from the sources, as a user would run it.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** CACHE keeps the blob cache and build records of the test run out of the user's home. */
export const CACHE = join(tmpdir(), `fromscratch-test-cache-${process.pid}`);
process.on('exit', () => rmSync(CACHE, { recursive: true, force: true }));

/** ROOT is the repository root. */
export const ROOT = join(import.meta.dirname, '..', '..');
/** BIN is the `fromscratch` command, run from the TypeScript sources (FROMSCRATCH_FROM_SOURCE=1). */
export const BIN = join(ROOT, 'bin', 'fromscratch.js');

/** CliResult is what a CLI run printed and returned. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** fromscratch runs the CLI with args and returns its exit code and output. */
export function fromscratch(
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, FROMSCRATCH_CACHE: CACHE, FROMSCRATCH_FROM_SOURCE: '1', ...(opts.env ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}
