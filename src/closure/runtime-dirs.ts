/**
 * runtime-dirs.ts — the directories the init system makes for a service before it starts it. PURE.
 *
 * A daemon's pid file, socket or privilege-separation directory is often a directory of its own under
 * /run (`/run/mosquitto/mosquitto.pid`, sshd's `/run/sshd`, redis's `/run/redis`), and /run is a tmpfs
 * the host empties at boot: the directory exists only while the service runs, because systemd or
 * systemd-tmpfiles makes it (`RuntimeDirectory=sshd`, `d /run/memcached 0755 memcache memcache -`,
 * `ExecStartPre=/bin/mkdir -m 740 -p /run/mosquitto`). A host where the service is not running (a build
 * machine, a CI runner) lacks it, and the program stops at start (`Missing privilege separation
 * directory: /run/sshd`, `Error: Unable to write pid file`). These functions read the declarations, so
 * that the image gets the directory with the owner and mode the service would have given it.
 */

/** InitDir is a directory an init-system declaration makes, with its owner and mode when declared. */
export interface InitDir {
  readonly path: string;
  /** permission bits (default 0o755 when the declaration gives none) */
  readonly mode: number;
  /** user and group names or numbers; undefined means root */
  readonly user?: string;
  readonly group?: string;
  /** the group is the user's primary group (a unit's `User=` without `Group=`) */
  readonly primaryGroup?: boolean;
  /** where it was declared, for the reason (`/usr/lib/tmpfiles.d/squid.conf`, `ssh.service RuntimeDirectory=`) */
  readonly declared: string;
}

/** INIT_DECLARATION_DIRS are where the root's tmpfiles.d and systemd unit files are read from, /etc's (the administrator's overrides) first. */
export const INIT_DECLARATION_DIRS = [
  '/etc/tmpfiles.d',
  '/usr/lib/tmpfiles.d',
  '/etc/systemd/system',
  '/usr/lib/systemd/system',
  '/lib/systemd/system',
];

/** MAX_DECLARATION_BYTES bounds one unit or tmpfiles.d file read (they are a few KiB). */
export const MAX_DECLARATION_BYTES = 64 * 1024;

/** isDeclarationFile tells which names of INIT_DECLARATION_DIRS are read: `*.conf` and non-template `*.service`. */
export function isDeclarationFile(dir: string, name: string): boolean {
  if (dir.endsWith('/tmpfiles.d')) return name.endsWith('.conf');
  return name.endsWith('.service') && !name.includes('@');
}

const DEFAULT_MODE = 0o755;

/** parseMode reads an octal mode (`0755`, `2775`, `740`), undefined when it is not one. */
function parseMode(s: string | undefined): number | undefined {
  if (s === undefined || !/^[0-7]{3,4}$/.test(s)) return undefined;
  return Number.parseInt(s, 8) & 0o7777;
}

/** accountField is a tmpfiles.d user or group field: undefined for `-` or empty. */
function accountField(s: string | undefined): string | undefined {
  return s === undefined || s === '-' || s === '' ? undefined : s;
}

/**
 * tmpfilesDirs lists the directories a tmpfiles.d file creates: lines of type `d` or `D` (`d /run/squid
 * 0755 proxy proxy -`), with `!`/`-`/`=` modifiers allowed; a path with a specifier (`%t`) is skipped.
 */
export function tmpfilesDirs(text: string, declared: string): InitDir[] {
  const out: InitDir[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(/\s+/);
    const type = f[0]!.replace(/[!\-=+^~]+$/, '');
    if (type !== 'd' && type !== 'D') continue;
    const path = f[1];
    if (path === undefined || !path.startsWith('/') || path.includes('%')) continue;
    const user = accountField(f[3]);
    const group = accountField(f[4]);
    out.push({
      path: path.replace(/\/+$/, ''),
      mode: parseMode(f[2]) ?? DEFAULT_MODE,
      ...(user !== undefined ? { user } : {}),
      ...(group !== undefined ? { group } : {}),
      declared,
    });
  }
  return out;
}

/** UNIT_DIRECTORIES are the unit settings that make directories, with the root their names are under. */
const UNIT_DIRECTORIES: Readonly<Record<string, string>> = {
  RuntimeDirectory: '/run',
  StateDirectory: '/var/lib',
  CacheDirectory: '/var/cache',
  LogsDirectory: '/var/log',
};

/** serviceSettings are the `[Service]` settings of a unit file, in order (continued lines joined). */
function serviceSettings(text: string): [string, string][] {
  const settings: [string, string][] = [];
  let section = '';
  // a line ending in a backslash continues on the next
  for (const raw of text.replace(/\\\n/g, ' ').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1]!;
      continue;
    }
    if (section !== 'Service') continue;
    const eq = line.indexOf('=');
    if (eq > 0) settings.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return settings;
}

/** UnitPreparation is a command a service unit runs before its program that an image does not reproduce. */
export interface UnitPreparation {
  /** the unit's file name */
  readonly unit: string;
  /** the program its `ExecStart=` runs, as written (absolute) */
  readonly program: string;
  /** the `ExecStartPre=` command line, without systemd's prefixes (`-`, `+`, `@`, `!`, `:`) */
  readonly command: string;
}

/**
 * REPRODUCED are the ExecStartPre commands whose effect an image has without them: directories
 * (unitDirs), or what concerns the host and not the container (loading a kernel module, a boot splash,
 * other units).
 */
const REPRODUCED = new Set([
  'mkdir',
  'chown',
  'chmod',
  'install',
  'true',
  'modprobe',
  'plymouth',
  'systemctl',
  'systemd-tmpfiles',
]);

/**
 * unitPreparations lists what a service unit runs before its program (`ExecStartPre=`) that fromscratch
 * does not do for an image: unbound's `unbound-helper root_trust_anchor_update`, which writes the DNSSEC
 * trust anchor unbound then reads. A command running the program itself (nginx -t, sshd -t: a check of
 * its configuration) and the REPRODUCED ones are left out. `name` is the unit's file name.
 */
export function unitPreparations(text: string, name: string): UnitPreparation[] {
  const settings = serviceSettings(text);
  const start = settings.filter(([k]) => k === 'ExecStart').at(-1)?.[1];
  const program = start?.replace(/^[-@:+!]+/, '').split(/\s+/)[0];
  if (program === undefined || !program.startsWith('/')) return [];
  const out: UnitPreparation[] = [];
  for (const [k, v] of settings) {
    if (k !== 'ExecStartPre') continue;
    const command = v.replace(/^[-@:+!]+/, '');
    const first = command.split(/\s+/)[0] ?? '';
    if (first === program || REPRODUCED.has(first.split('/').at(-1) ?? '')) continue;
    out.push({ unit: name, program, command });
  }
  return out;
}

/**
 * unitDirs lists the directories a systemd service unit makes before it starts: `RuntimeDirectory=`,
 * `StateDirectory=`, `CacheDirectory=`, `LogsDirectory=` (names under /run, /var/lib, /var/cache,
 * /var/log; mode from `…DirectoryMode=`, owner the unit's `User=`/`Group=`), and the directories its
 * `ExecStartPre=` lines make with `mkdir [-m MODE] [-p] DIR…`, owned as their `chown OWNER[:GROUP] DIR`
 * lines say (mosquitto's unit). `name` is the unit's file name.
 */
export function unitDirs(text: string, name: string): InitDir[] {
  const settings = serviceSettings(text);
  const last = (k: string) => settings.filter(([n]) => n === k).at(-1)?.[1];
  const user = last('User') || undefined;
  const group = last('Group') || undefined;
  const out: InitDir[] = [];
  const owned = (
    path: string,
    mode: number,
    declared: string,
    u?: string,
    g?: string,
    primary?: boolean,
  ): InitDir => ({
    path,
    mode,
    ...(u !== undefined ? { user: u } : {}),
    ...(g !== undefined ? { group: g } : {}),
    ...(primary && g === undefined && u !== undefined ? { primaryGroup: true } : {}),
    declared,
  });
  for (const [key, root] of Object.entries(UNIT_DIRECTORIES)) {
    const mode = parseMode(last(`${key}Mode`)) ?? DEFAULT_MODE;
    for (const [k, v] of settings) {
      if (k !== key) continue;
      for (const n of v.split(/\s+/)) {
        // `name:symlink` makes a symlink too; the directory is the part before the colon
        const d = n.split(':')[0]!;
        if (d === '' || d.includes('%') || d.split('/').some((c) => c === '' || c === '.' || c === '..'))
          continue;
        out.push(owned(`${root}/${d}`, mode, `${name} ${key}=`, user, group, true));
      }
    }
  }
  // ExecStartPre=/bin/mkdir -m 740 -p /run/mosquitto, then ExecStartPre=/bin/chown mosquitto /run/mosquitto
  const chowns = new Map<string, { user?: string; group?: string }>();
  const made: { path: string; mode: number }[] = [];
  for (const [k, v] of settings) {
    if (k !== 'ExecStartPre') continue;
    const words = v.replace(/^[-@:+!]+/, '').split(/\s+/);
    const cmd = words[0]?.split('/').at(-1);
    if (cmd === 'mkdir') {
      let mode = DEFAULT_MODE;
      for (let i = 1; i < words.length; i++) {
        const w = words[i]!;
        if (w === '-m' || w === '--mode') mode = parseMode(words[++i]) ?? mode;
        else if (w.startsWith('--mode=')) mode = parseMode(w.slice(7)) ?? mode;
        else if (w.startsWith('/') && !w.includes('%') && !w.includes('$'))
          made.push({ path: w.replace(/\/+$/, ''), mode });
      }
    } else if (cmd === 'chown') {
      const args = words.slice(1).filter((w) => !w.startsWith('-'));
      const [owner, ...paths] = args;
      if (owner === undefined) continue;
      const [u, g] = owner.split(':');
      for (const p of paths)
        chowns.set(p.replace(/\/+$/, ''), { ...(u ? { user: u } : {}), ...(g ? { group: g } : {}) });
    }
  }
  for (const m of made) {
    const c = chowns.get(m.path);
    out.push(owned(m.path, m.mode, `${name} ExecStartPre=mkdir`, c?.user, c?.group));
  }
  return out;
}
