/**
 * run.ts — run an image: unpack it safely into a private runtime bundle and execute it with runc (or load
 * it into the Docker Engine and `docker run` it), without network. IO, Linux only.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { BlobStore } from '../blob/store.ts';
import { removeDeadTemps, trackTemp, whileInterruptible } from '../blob/temp-files.ts';
import { FromscratchError, isFromscratchError } from '../errors.ts';
import { hostFs } from '../fs/host-fs.ts';
import { resolvePath } from '../fs/resolve.ts';
import type { Image } from '../image/image.ts';
import { hostPlatform } from '../model/platform.ts';
import { writeDockerDaemon } from '../oci/docker-daemon.ts';
import { pickOne, readImage } from '../oci/image-io.ts';
import type { ImageRef } from '../oci/transport.ts';
import { unpackImage } from '../unpack/unpack.ts';
import { mkdirInRoot } from './root-dir.ts';
import {
  checkRunConfig,
  makeEnv,
  makeRuntimeSpec,
  parseUserSpec,
  type RunIds,
  resolveIds,
  resolveProcessArgs,
} from './runtime-spec.ts';

/** RunSource is the image to run: a value with its store, or a reference readable by src/oci. */
export type RunSource = { readonly image: Image; readonly store: BlobStore } | ImageRef | string;

/** RunOptions tunes runImage. */
export interface RunOptions {
  /** 'runc' (default) runs a generated bundle; 'docker' loads the image into the Docker Engine */
  runtime?: 'runc' | 'docker';
  /** only 'none' is supported: the container has no network */
  network?: 'none';
  /** extra KEY=VALUE environment entries (override the image's) */
  env?: readonly string[];
  /** USER[:GROUP] overriding the image's User */
  user?: string;
  /** working directory overriding the image's WorkingDir */
  workdir?: string;
  /** entrypoint overriding the image's (argv) */
  entrypoint?: readonly string[];
  /** seconds before the container is killed with TIMEOUT (default none) */
  timeoutSeconds?: number;
  /** 'inherit' (default) passes the terminal's stdio through; 'pipe' captures stdout and stderr */
  stdio?: 'inherit' | 'pipe';
  /** where the bundle is made (default os.tmpdir()) */
  tmpDir?: string;
  /** receives unpack warnings */
  onWarning?: (message: string) => void;
  /**
   * a command prefix for runc (runc runtime only), e.g. strace and its options followed by `--`:
   * `[...prefix, runc, '--log', …, 'run', …]`. Used by --verify to trace the container process.
   */
  wrap?: readonly string[];
  /** the runc binary (default: `runc` from PATH) */
  runc?: string;
}

/** RunResult is how the container ended. */
export interface RunResult {
  /** the container's exit code (128 + signal number when it was killed by a signal) */
  readonly exitCode: number;
  /** captured output when stdio is 'pipe' (empty otherwise) */
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

/** findTool finds an executable on PATH (and the sbin directories runc lives in). */
export function findTool(name: string): string | undefined {
  const dirs =
    `${process.env.PATH ?? ''}${delimiter}/usr/local/sbin${delimiter}/usr/sbin${delimiter}/sbin${delimiter}/usr/bin${delimiter}/bin`.split(
      delimiter,
    );
  for (const d of dirs) {
    if (!d.startsWith('/')) continue;
    const p = join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * runImage runs an image's entrypoint + cmd (or `args` replacing cmd) in a container without network and
 * returns its exit code (and output when piped). The image is unpacked with every rule of
 * RELIABILITY.md section A into a fresh private bundle, which is removed afterwards together with the
 * runc container state. Throws TOOL_MISSING (runc/docker absent), INVALID_IMAGE (hostile config, D7),
 * RUN_FAILED (the runtime could not start the process, with its message), TIMEOUT, and the unpack errors.
 *
 * @example
 * const { exitCode } = await runImage('oci:out:latest', ['--version']);
 */
export async function runImage(
  source: RunSource,
  args: readonly string[] | undefined,
  opts: RunOptions = {},
): Promise<RunResult> {
  if (opts.network !== undefined && opts.network !== 'none') {
    throw new FromscratchError(
      'INVALID_ARGUMENT',
      `network ${JSON.stringify(opts.network)} is not supported`,
      { hint: "only 'none' is supported" },
    );
  }
  const runtime = opts.runtime ?? 'runc';
  const tool = runtime === 'runc' ? (opts.runc ?? findTool('runc')) : findTool('docker');
  if (!tool || !fs.existsSync(tool)) {
    throw new FromscratchError('TOOL_MISSING', `${runtime} is not installed`, {
      hint:
        runtime === 'runc'
          ? 'install it: apt-get install runc (or use --runtime docker)'
          : 'install the Docker Engine: apt-get install docker.io, and start dockerd',
    });
  }
  let close = async (): Promise<void> => {};
  let image: Image;
  let store: BlobStore;
  if (typeof source === 'string' || 'kind' in source) {
    const set = await readImage(source as ImageRef | string, { platform: hostPlatform() });
    close = () => set.close();
    try {
      image = pickOne(set.images, hostPlatform(), typeof source === 'string' ? source : 'image');
    } catch (e) {
      await close();
      throw e;
    }
    store = set.store;
  } else {
    ({ image, store } = source);
  }
  try {
    return runtime === 'runc'
      ? await runWithRunc(tool, image, store, args, opts)
      : await runWithDocker(tool, image, store, args, opts);
  } finally {
    await close();
  }
}

async function readInRoot(root: string, path: string): Promise<string> {
  const fsys = hostFs(root);
  const r = await resolvePath(fsys, path);
  if (r.stat?.type !== 'file') return '';
  return Buffer.from(await fsys.read(r.path, { limit: 16 * 1024 * 1024 })).toString('utf8');
}

/** resolveRunIds resolves USER[:GROUP] against /etc/passwd and /etc/group inside an unpacked root (chroot semantics). */
export async function resolveRunIds(root: string, user: string): Promise<RunIds> {
  const spec = parseUserSpec(user);
  const numeric = /^\d+$/.test(spec.user) && (spec.group === undefined || /^\d+$/.test(spec.group));
  const passwd = await readInRoot(root, '/etc/passwd');
  const group = numeric && spec.group !== undefined ? '' : await readInRoot(root, '/etc/group');
  return resolveIds(spec, passwd, group);
}

/** processOf works out the container's argv, environment and working directory, refusing hostile values (D7). */
function processOf(image: Image, args: readonly string[] | undefined, opts: RunOptions) {
  const config = image.config;
  const argv = resolveProcessArgs(config, args, opts.entrypoint);
  const env = makeEnv(config.Env, opts.env);
  const cwd = opts.workdir ?? (config.WorkingDir || '/');
  checkRunConfig(config, cwd, env);
  return { config, argv, env, cwd };
}

/** USERNS_SYSCTLS are the switches that disable unprivileged user namespaces, with the value that does. */
const USERNS_SYSCTLS: readonly { path: string; name: string; off: string; on: string }[] = [
  { path: '/proc/sys/user/max_user_namespaces', name: 'user.max_user_namespaces', off: '0', on: '15000' },
  {
    path: '/proc/sys/kernel/unprivileged_userns_clone',
    name: 'kernel.unprivileged_userns_clone',
    off: '0',
    on: '1',
  },
  {
    path: '/proc/sys/kernel/apparmor_restrict_unprivileged_userns',
    name: 'kernel.apparmor_restrict_unprivileged_userns',
    off: '1',
    on: '0',
  },
];

/**
 * checkUserNamespaces throws RUN_FAILED, naming the switch, when this system does not let a user who is
 * not root create user namespaces (which runc's rootless mode needs). `procRoot` is for tests.
 */
export function checkUserNamespaces(procRoot = '/'): void {
  for (const s of USERNS_SYSCTLS) {
    let value: string;
    try {
      value = fs.readFileSync(join(procRoot, s.path), 'utf8').trim();
    } catch {
      continue; // this kernel has no such switch
    }
    if (value === s.off) {
      throw new FromscratchError(
        'RUN_FAILED',
        `running an image without root needs user namespaces (runc's rootless mode), and this system disables them: ${s.name} = ${value}`,
        {
          hint: `enable them as root (sysctl -w ${s.name}=${s.on}), or run as root, or use --runtime docker`,
        },
      );
    }
  }
}

/** BUNDLE_RE matches run bundle directories and captures the pid of the run that made them. */
const BUNDLE_RE = /^fromscratch-run-(\d+)-/;

async function runWithRunc(
  runc: string,
  image: Image,
  store: BlobStore,
  args: readonly string[] | undefined,
  opts: RunOptions,
): Promise<RunResult> {
  const { config, argv, env, cwd } = processOf(image, args, opts);
  // not root: runc's rootless mode, in a user namespace that maps the image's user to the caller
  const rootless =
    process.geteuid?.() !== 0 ? { uid: process.geteuid!(), gid: process.getegid!() } : undefined;
  if (rootless) checkUserNamespaces();
  const tmp = opts.tmpDir ?? tmpdir();
  await removeDeadTemps(tmp, BUNDLE_RE); // bundles of runs that were SIGKILLed
  const bundle = await mkdtemp(join(tmp, `fromscratch-run-${process.pid}-`));
  const id = `fromscratch-${process.pid}-${randomBytes(4).toString('hex')}`;
  // rootless runc keeps its state in the bundle ($XDG_RUNTIME_DIR may be unset or not writable)
  const global = rootless ? ['--root', join(bundle, 'state'), '--rootless', 'true'] : [];
  let started = false;
  const untrackBundle = trackTemp(bundle);
  // interrupted (Ctrl-C, SIGTERM): the container is killed and deleted before its bundle is removed
  const untrackContainer = whileInterruptible(() => {
    if (!started) return;
    spawnSync(runc, [...global, 'kill', id, 'KILL'], { stdio: 'ignore', timeout: 10_000 });
    spawnSync(runc, [...global, 'delete', '-f', id], { stdio: 'ignore', timeout: 30_000 });
  });
  try {
    const rootfs = join(bundle, 'rootfs');
    await mkdir(rootfs, { mode: 0o755 });
    await chmod(rootfs, 0o755); // whatever the umask: the container's user must be able to traverse /
    await unpackImage({ image, store }, rootfs, opts.onWarning ? { onWarning: opts.onWarning } : {});
    const user = opts.user ?? config.User ?? '';
    const ids = await resolveRunIds(rootfs, user);
    if (rootless && ids.uid !== 0) {
      opts.onWarning?.(
        `rootless run: the process runs as the container's root (uid ${rootless.uid} on the host), not as the image's user ${JSON.stringify(user)} (uid ${ids.uid}): without root, runc maps one id`,
      );
    }
    // the working directory must exist for runc; Docker creates it too
    // (created inside the root, component by component: an image's symlinks never lead outside it)
    await mkdirInRoot(rootfs, cwd);
    const spec = makeRuntimeSpec({ args: argv, env, cwd, ids, ...(rootless ? { rootless } : {}) });
    await writeFile(join(bundle, 'config.json'), `${JSON.stringify(spec, null, 2)}\n`, { mode: 0o600 });
    const log = join(bundle, 'runc.log');
    const cmd = [
      ...(opts.wrap ?? []),
      runc,
      ...global,
      '--log',
      log,
      '--log-format',
      'json',
      'run',
      '--bundle',
      bundle,
      id,
    ];
    started = true;
    const res = await spawnCollect(cmd, opts, () => {
      spawnSync(runc, [...global, 'kill', id, 'KILL'], { stdio: 'ignore', timeout: 10_000 });
    });
    const runcError = await readRuncError(log);
    if (runcError !== undefined) {
      throw new FromscratchError(
        'RUN_FAILED',
        `runc could not start ${JSON.stringify(argv[0])}: ${runcError}`,
        {
          hint:
            rootless &&
            /user ?namespace|uid_map|gid_map|operation not permitted|permission denied/i.test(runcError)
              ? "runc's rootless mode (you are not root) could not set the container up: check that `unshare --user --map-root-user true` works for you, or run as root, or use --runtime docker"
              : 'the program (or its loader/libraries) is missing from the image, or the image config is wrong',
        },
      );
    }
    return res;
  } finally {
    if (started) spawnSync(runc, [...global, 'delete', '-f', id], { stdio: 'ignore', timeout: 30_000 });
    await rm(bundle, { recursive: true, force: true }).catch(() => undefined);
    untrackContainer();
    untrackBundle();
  }
}

async function readRuncError(log: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(log, 'utf8');
  } catch {
    return undefined; // no log: runc never got to write one
  }
  for (const line of text.split('\n')) {
    try {
      const j = JSON.parse(line) as { level?: string; msg?: string };
      if (j.level === 'error' && typeof j.msg === 'string') return j.msg.replace(/^runc run failed: /, '');
    } catch {
      // not a JSON line
    }
  }
  return undefined;
}

/** spawnCollect runs argv, passing or capturing stdio, with an optional timeout that calls `kill` then SIGKILLs the group. */
async function spawnCollect(argv: readonly string[], opts: RunOptions, kill: () => void): Promise<RunResult> {
  const pipe = opts.stdio === 'pipe';
  const child = spawn(argv[0]!, argv.slice(1), {
    stdio: pipe ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    // captured runs get their own process group (killed as a whole on timeout); a run on the terminal
    // stays in the foreground group, so that it can read stdin and Ctrl-C reaches runc, which forwards it
    detached: pipe,
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (b: Buffer) => out.push(b));
  child.stderr?.on('data', (b: Buffer) => err.push(b));
  let timedOut = false;
  const timer =
    opts.timeoutSeconds !== undefined
      ? setTimeout(() => {
          timedOut = true;
          kill();
          try {
            if (child.pid !== undefined) process.kill(pipe ? -child.pid : child.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }, opts.timeoutSeconds * 1000)
      : undefined;
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.on('error', (e) =>
        reject(
          new FromscratchError('RUN_FAILED', `starting ${argv[0]}: ${e.message}`, {
            hint: 'check that the runtime is installed and runs',
            cause: e,
          }),
        ),
      );
      child.on('close', (c, s) => resolve({ code: c, signal: s }));
    },
  );
  if (timer) clearTimeout(timer);
  if (timedOut) {
    throw new FromscratchError(
      'TIMEOUT',
      `the container did not exit within ${opts.timeoutSeconds} s; it was killed`,
      { hint: 'raise the timeout, or check that the program exits' },
    );
  }
  const sigNum = signal
    ? ((fs.constants as unknown as { signals?: Record<string, number> }).signals?.[signal] ?? 9)
    : 0;
  return { exitCode: code ?? 128 + sigNum, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}

async function runWithDocker(
  docker: string,
  image: Image,
  store: BlobStore,
  args: readonly string[] | undefined,
  opts: RunOptions,
): Promise<RunResult> {
  const { argv } = processOf(image, args, opts);
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tag = `fromscratch-run/${suffix}:latest`;
  const name = `fromscratch-run-${suffix}`;
  try {
    await writeDockerDaemon(tag, image, store);
  } catch (e) {
    if (isFromscratchError(e)) throw e;
    throw new FromscratchError(
      'DAEMON_ERROR',
      `loading the image into the Docker Engine: ${(e as Error).message}`,
      { hint: 'check that dockerd runs', cause: e },
    );
  }
  try {
    const cmd = [docker, 'run', '--rm', '--name', name, '--network', 'none'];
    if (opts.stdio !== 'pipe') cmd.push('-i');
    for (const e of opts.env ?? []) cmd.push('-e', e);
    if (opts.user !== undefined) cmd.push('--user', opts.user);
    if (opts.workdir !== undefined) cmd.push('--workdir', opts.workdir);
    // the full argv is given explicitly, so entrypoint and cmd are exactly what runc would run
    cmd.push('--entrypoint', argv[0]!, tag, ...argv.slice(1));
    const res = await spawnCollect(cmd, opts, () => {
      spawnSync(docker, ['kill', name], { stdio: 'ignore', timeout: 30_000 });
    });
    // docker run exits 125 when the daemon failed, 126/127 when the command could not be invoked / found
    if (res.exitCode === 125) {
      throw new FromscratchError(
        'RUN_FAILED',
        `docker could not run the image: ${res.stderr.toString('utf8').trim() || 'exit status 125'}`,
        { hint: 'see the Docker Engine message above' },
      );
    }
    return res;
  } finally {
    spawnSync(docker, ['rm', '-f', name], { stdio: 'ignore', timeout: 30_000 });
    spawnSync(docker, ['rmi', '-f', tag], { stdio: 'ignore', timeout: 30_000 });
  }
}
