/**
 * validate-tools.ts — shared test helpers that hand images to the real tools (skopeo, umoci,
 * oci-image-tool, the Docker Engine) and run commands with a timeout. A missing tool FAILS the test with
 * the Debian package to install (never a silent skip).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** RunResult is what a finished command printed and how it ended. */
export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** RunOptions configures run. */
export interface RunOptions {
  /** kill the command after this many ms (default 120 000) */
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** bytes written to stdin */
  input?: string | Uint8Array;
  /** return a non-zero exit instead of failing (default false) */
  allowFail?: boolean;
}

/** which finds an executable on PATH (plus the sbin directories tools live in), or undefined. */
export function which(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** requireTool returns the path of a tool, or fails the test with how to install it. */
export function requireTool(name: string, debPackage: string): string {
  const p = which(name);
  if (!p) {
    assert.fail(
      `${name} is not installed; install it with: apt-get install -y ${debPackage} (or run scripts/services.sh)`,
    );
  }
  return p;
}

/** run spawns a command without a shell, captures its output, and fails on a non-zero exit or a timeout. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const r: RunResult = {
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (timedOut)
        reject(new Error(`${cmd} ${args.join(' ')} timed out after ${timeoutMs} ms\n${r.stderr}`));
      else if (code !== 0 && !opts.allowFail) {
        reject(
          new Error(
            `${cmd} ${args.join(' ')} exited ${code ?? signal}\nstdout: ${r.stdout.slice(0, 2000)}\nstderr: ${r.stderr.slice(0, 4000)}`,
          ),
        );
      } else resolve(r);
    });
    child.stdin.on('error', () => {
      // the command may exit without reading its input
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** withTempDir runs fn with a fresh temp directory and removes it afterwards. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `fromscratch-${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** ToolValidation selects the checks of validateOciLayoutWithTools. */
export interface ToolValidation {
  /** also `umoci unpack` into a bundle (default true; `--rootless` when not running as root) */
  unpack?: boolean;
  /** run umoci (0.4.7 handles one platform per tag only; default true) */
  umoci?: boolean;
}

/**
 * validateOciLayoutWithTools checks an OCI layout with every independent tool: oci-image-tool validate,
 * skopeo inspect and copy, umoci stat and umoci unpack (rootless when not root). Returns skopeo inspect's JSON.
 */
export async function validateOciLayoutWithTools(
  dir: string,
  tag: string,
  opts: ToolValidation = {},
): Promise<Record<string, unknown>> {
  const oit = requireTool('oci-image-tool', 'oci-image-tool');
  const skopeo = requireTool('skopeo', 'skopeo');
  await run(oit, ['validate', '--type', 'image', '--ref', `name=${tag}`, dir]);
  const inspected = JSON.parse((await run(skopeo, ['inspect', `oci:${dir}:${tag}`])).stdout) as Record<
    string,
    unknown
  >;
  await withTempDir('skopeo-copy', async (t) => {
    await run(skopeo, ['copy', '--quiet', `oci:${dir}:${tag}`, `dir:${join(t, 'out')}`]);
  });
  if (opts.umoci !== false) {
    const umoci = requireTool('umoci', 'umoci');
    const stat = JSON.parse((await run(umoci, ['stat', '--json', '--image', `${dir}:${tag}`])).stdout) as {
      history?: unknown[];
    };
    assert.ok(Array.isArray(stat.history), 'umoci stat reports a history');
    if (opts.unpack !== false) {
      // never skipped for want of root: an unprivileged run unpacks rootless (owners mapped to the caller)
      const rootless = process.getuid?.() !== 0 ? ['--rootless'] : [];
      await withTempDir('umoci-unpack', async (t) => {
        await run(umoci, ['unpack', ...rootless, '--image', `${dir}:${tag}`, join(t, 'bundle')]);
      });
    }
  }
  return inspected;
}

/** dockerRun runs an image with no network and returns its stdout; the container is removed. */
export async function dockerRun(
  image: string,
  args: readonly string[] = [],
  entrypoint?: string,
): Promise<string> {
  const docker = requireTool('docker', 'docker.io');
  const ep = entrypoint === undefined ? [] : ['--entrypoint', entrypoint];
  return (await run(docker, ['run', '--rm', '--network', 'none', ...ep, image, ...args])).stdout;
}

/** dockerLoadAndRun loads a docker-archive with `docker load`, runs `name` and returns its stdout. */
export async function dockerLoadAndRun(
  archive: string,
  name: string,
  args: readonly string[] = [],
): Promise<string> {
  const docker = requireTool('docker', 'docker.io');
  await run(docker, ['load', '-i', archive]);
  return dockerRun(name, args);
}

/** dockerRemoveImage removes an image from the Docker Engine, ignoring one that is not there. */
export async function dockerRemoveImage(name: string): Promise<void> {
  const docker = requireTool('docker', 'docker.io');
  await run(docker, ['rmi', '--force', name], { allowFail: true });
}

/** registryAddress is the address of the docker-registry scripts/services.sh started (fails when none runs). */
export async function registryAddress(): Promise<string> {
  const file = join(process.env.FROMSCRATCH_SERVICES ?? '/tmp/fromscratch-services', 'registry-address');
  const addr = (await readFile(file, 'utf8').catch(() => '')).trim();
  assert.ok(addr, `no registry address in ${file}: start the services with bash scripts/services.sh`);
  return addr;
}
