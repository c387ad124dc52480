/**
 * runtime-spec.ts — the OCI runtime config.json for running an image with runc, and the checks on the
 * image config values it is made from. PURE.
 *
 * Based on `runc spec` (runc 1.1) minus what fails in this kind of sandbox (rlimits, terminal), with
 * Docker's default capability set and no network (a fresh network namespace has only a down loopback).
 * https://github.com/opencontainers/runtime-spec/blob/main/config.md
 */
import { FromscratchError } from '../errors.ts';
import type { RuntimeConfig } from '../model/documents.ts';

/** RunIds are the numeric identity the container process runs as. */
export interface RunIds {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids: readonly number[];
}

/** HostIds are the caller's host uid and gid, which a rootless container's user namespace maps. */
export interface HostIds {
  readonly uid: number;
  readonly gid: number;
}

/** RuntimeSpecInput is what a container run needs besides the image. */
export interface RuntimeSpecInput {
  /** process.args: entrypoint + cmd (already combined) */
  readonly args: readonly string[];
  /** KEY=VALUE strings */
  readonly env: readonly string[];
  /** absolute working directory inside the container */
  readonly cwd: string;
  readonly ids: RunIds;
  /** container hostname (default `fromscratch`) */
  readonly hostname?: string;
  /**
   * rootless (runc's rootless mode, for a caller who is not root): the caller's host ids. The spec then
   * has what `runc spec --rootless` generates: a user namespace mapping root (0:0) to the caller's ids,
   * /sys bind-mounted read-only instead of a sysfs mount, no cgroup device rules and no devpts gid. runc
   * requires root to be mapped and only one id can be without newuidmap, so the process runs as the
   * container's root (the caller on the host) whatever `ids` say: rootlessIds tells the caller.
   */
  readonly rootless?: HostIds;
}

/** DOCKER_DEFAULT_CAPS is the capability set Docker gives a container (moby oci/caps/defaults.go). */
export const DOCKER_DEFAULT_CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
] as const;

/** DEFAULT_PATH is the PATH Docker sets when the image has none. */
export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const MAX_ENV_BYTES = 1024 * 1024;
const MAX_ENV_ENTRIES = 10_000;

/**
 * checkRunConfig rejects hostile image config values before a run (RELIABILITY.md D7, runc
 * CVE-2024-21626): a relative or `..`-laden working directory, one under /proc, /sys or /dev, volumes
 * with `..`, an environment over 1 MiB or 10 000 entries. Throws INVALID_IMAGE naming the value.
 */
export function checkRunConfig(config: Readonly<RuntimeConfig>, cwd: string, env: readonly string[]): void {
  const bad = (what: string): never => {
    throw new FromscratchError('INVALID_IMAGE', `refusing to run: ${what}`, {
      hint: 'the image config is hostile or broken (runc CVE-2024-21626 class); fix WorkingDir/Volumes/Env in the image',
    });
  };
  if (!cwd.startsWith('/')) bad(`working directory ${JSON.stringify(cwd)} is not absolute`);
  if (cwd.includes('\0')) bad('working directory contains a NUL byte');
  const parts = cwd.split('/');
  if (parts.includes('..')) bad(`working directory ${JSON.stringify(cwd)} contains '..'`);
  if (/^\/+(proc|sys|dev)(\/|$)/.test(cwd))
    bad(`working directory ${JSON.stringify(cwd)} is inside /proc, /sys or /dev`);
  for (const v of Object.keys(config.Volumes ?? {})) {
    if (!v.startsWith('/') || v.split('/').includes('..') || v.includes('\0'))
      bad(`volume ${JSON.stringify(v)} is not a clean absolute path`);
  }
  let bytes = 0;
  if (env.length > MAX_ENV_ENTRIES) bad(`environment has ${env.length} entries (limit ${MAX_ENV_ENTRIES})`);
  for (const e of env) {
    bytes += e.length;
    if (e.includes('\0')) bad('an environment entry contains a NUL byte');
    if (!/^[^=]+=/.test(e)) bad(`environment entry ${JSON.stringify(e.slice(0, 60))} is not KEY=VALUE`);
  }
  if (bytes > MAX_ENV_BYTES) bad(`environment is ${bytes} bytes (limit ${MAX_ENV_BYTES})`);
}

/**
 * resolveProcessArgs combines Entrypoint and Cmd as Docker does: `args` given on the command line
 * replace Cmd; `entrypoint` given replaces Entrypoint (and then Cmd is dropped unless args are given).
 */
export function resolveProcessArgs(
  config: Readonly<RuntimeConfig>,
  args: readonly string[] | undefined,
  entrypoint?: readonly string[],
): string[] {
  const ep = entrypoint ?? config.Entrypoint ?? [];
  const cmd =
    args !== undefined && args.length > 0 ? args : entrypoint !== undefined ? [] : (config.Cmd ?? []);
  const out = [...ep, ...cmd];
  if (out.length === 0) {
    throw new FromscratchError('RUN_FAILED', 'the image has no entrypoint or cmd, and no command was given', {
      hint: 'give the command after --: fromscratch run IMAGE -- /bin/prog args',
    });
  }
  return out;
}

/** makeEnv merges the image Env with extra KEY=VALUE entries and adds Docker's default PATH when absent. */
export function makeEnv(imageEnv: readonly string[] | undefined, extra: readonly string[] = []): string[] {
  const out: string[] = [];
  const index = new Map<string, number>();
  for (const kv of [...(imageEnv ?? []), ...extra]) {
    const k = kv.split('=', 1)[0]!;
    const i = index.get(k);
    if (i === undefined) {
      index.set(k, out.length);
      out.push(kv);
    } else out[i] = kv;
  }
  if (!index.has('PATH')) out.unshift(DEFAULT_PATH);
  return out;
}

/** makeRuntimeSpec returns the config.json object of a bundle whose root is `rootfs` (relative to the bundle). */
export function makeRuntimeSpec(input: RuntimeSpecInput): Record<string, unknown> {
  const rootless = input.rootless;
  const ids: RunIds = rootless ? { uid: 0, gid: 0, additionalGids: [] } : input.ids;
  const caps = ids.uid === 0 ? [...DOCKER_DEFAULT_CAPS] : [];
  const additionalGids = ids.additionalGids;
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: {
        uid: ids.uid,
        gid: ids.gid,
        ...(additionalGids.length > 0 ? { additionalGids: [...additionalGids] } : {}),
      },
      args: [...input.args],
      env: [...input.env],
      cwd: input.cwd,
      capabilities: { bounding: [...DOCKER_DEFAULT_CAPS], effective: caps, permitted: caps },
      // rlimits are left out: setrlimit fails in this sandbox (RELIABILITY.md §3.3)
      noNewPrivileges: false,
    },
    root: { path: 'rootfs', readonly: false },
    hostname: input.hostname ?? 'fromscratch',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      {
        destination: '/dev',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
      },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        // gid 5 (tty) is not mapped in a rootless user namespace
        options: [
          'nosuid',
          'noexec',
          'newinstance',
          'ptmxmode=0666',
          'mode=0620',
          ...(rootless ? [] : ['gid=5']),
        ],
      },
      {
        destination: '/dev/shm',
        type: 'tmpfs',
        source: 'shm',
        options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
      },
      {
        destination: '/dev/mqueue',
        type: 'mqueue',
        source: 'mqueue',
        options: ['nosuid', 'noexec', 'nodev'],
      },
      // a user namespace may not mount sysfs: rootless binds the host's /sys read-only, as runc spec --rootless
      rootless
        ? {
            destination: '/sys',
            type: 'none',
            source: '/sys',
            options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
          }
        : {
            destination: '/sys',
            type: 'sysfs',
            source: 'sysfs',
            options: ['nosuid', 'noexec', 'nodev', 'ro'],
          },
      {
        destination: '/sys/fs/cgroup',
        type: 'cgroup',
        source: 'cgroup',
        options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
      },
    ],
    linux: {
      // rootless: no cgroup is written (runc's rootless mode cannot), so no device rules either
      ...(rootless ? {} : { resources: { devices: [{ allow: false, access: 'rwm' }] } }),
      ...(rootless
        ? {
            // the container's root is the caller on the host: what it writes belongs to the caller
            uidMappings: [{ containerID: 0, hostID: rootless.uid, size: 1 }],
            gidMappings: [{ containerID: 0, hostID: rootless.gid, size: 1 }],
          }
        : {}),
      // a new network namespace: no interface but a down loopback, so no network (`--network none`)
      namespaces: [
        { type: 'pid' },
        { type: 'network' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
        ...(rootless ? [{ type: 'user' }] : []),
      ],
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/** UserSpec is a parsed `user[:group]` string (names or numbers). */
export interface UserSpec {
  readonly user: string;
  readonly group?: string;
}

/** parseUserSpec splits a config User value (`name`, `uid`, `name:group`, `uid:gid`); '' means root. */
export function parseUserSpec(s: string): UserSpec {
  if (s === '') return { user: '0' };
  const i = s.indexOf(':');
  const user = i < 0 ? s : s.slice(0, i);
  const group = i < 0 ? undefined : s.slice(i + 1);
  if (user === '' || group === '' || /[\s\0]/.test(s)) {
    throw new FromscratchError('INVALID_IMAGE', `user ${JSON.stringify(s)} is not USER[:GROUP]`, {
      hint: 'set User to a name or uid, optionally :group or :gid',
    });
  }
  return group === undefined ? { user } : { user, group };
}

/** resolveIds resolves a UserSpec against the text of the image's /etc/passwd and /etc/group (either may be empty). */
export function resolveIds(spec: UserSpec, passwd: string, group: string): RunIds {
  const users = passwd
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4);
  const groups = group
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 3);
  const num = (s: string): number | undefined =>
    /^\d+$/.test(s) && Number(s) <= 0xffffffff ? Number(s) : undefined;
  let uid = num(spec.user);
  let gid: number | undefined;
  let name: string | undefined;
  const entry = users.find((f) => (uid === undefined ? f[0] === spec.user : num(f[2]!) === uid));
  if (uid === undefined) {
    if (!entry) {
      throw new FromscratchError(
        'RUN_FAILED',
        `user ${JSON.stringify(spec.user)} is not in the image's /etc/passwd`,
        { hint: 'use a numeric uid, or add the user to /etc/passwd in the image' },
      );
    }
    uid = num(entry[2]!);
    if (uid === undefined)
      throw new FromscratchError(
        'INVALID_IMAGE',
        `the image's /etc/passwd has a bad uid for ${JSON.stringify(spec.user)}`,
        { hint: 'fix /etc/passwd in the image' },
      );
  }
  if (entry) {
    name = entry[0];
    gid = num(entry[3]!);
  }
  if (spec.group !== undefined) {
    gid = num(spec.group);
    if (gid === undefined) {
      const g = groups.find((f) => f[0] === spec.group);
      if (!g || num(g[2]!) === undefined) {
        throw new FromscratchError(
          'RUN_FAILED',
          `group ${JSON.stringify(spec.group)} is not in the image's /etc/group`,
          { hint: 'use a numeric gid, or add the group to /etc/group in the image' },
        );
      }
      gid = num(g[2]!);
    }
  }
  const additional = new Set<number>();
  if (name !== undefined && spec.group === undefined) {
    for (const g of groups) {
      const members = (g[3] ?? '').split(',').filter(Boolean);
      const n = num(g[2]!);
      if (members.includes(name) && n !== undefined && n !== gid) additional.add(n);
    }
  }
  return { uid, gid: gid ?? 0, additionalGids: [...additional].sort((a, b) => a - b) };
}
