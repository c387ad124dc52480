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

/** CODE_CACHE is the code cache of the command for the test run (not the user's, not per test file). */
export const CODE_CACHE = join(tmpdir(), 'fromscratch-test-v8');

/** ROOT is the repository root. */
export const ROOT = join(import.meta.dirname, '..', '..');
/**
 * BIN is the `fromscratch` command as a user runs it: the bundle (scripts/test.sh builds it first), which
 * bin/fromscratch.js passes over for the sources when a source file is newer. Its V8 code cache is kept
 * for the test run in CODE_CACHE, shared by the test files.
 */
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
      env: {
        ...process.env,
        FROMSCRATCH_CACHE: CACHE,
        FROMSCRATCH_CODE_CACHE: CODE_CACHE,
        ...(opts.env ?? {}),
      },
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
