/**
 * defaults.ts — the files every scratch image needs, generated. PURE.
 *
 * distroless ships the same: root, nonroot (65532) and nobody users with their homes (/root 0700,
 * /home/nonroot); a tiny nsswitch.conf; /tmp 1777.
 */
import type { FileEntry } from '../fs/file-tree.ts';
import type { Origin } from '../fs/origin.ts';
import type { ScratchDefaults } from './build-spec.ts';

/** DefaultFile is a generated entry with its reason. */
export interface DefaultFile {
  readonly entry: FileEntry;
  readonly origin: Origin;
}

/** DEFAULT_PASSWD is the /etc/passwd of a scratch image. */
export const DEFAULT_PASSWD = [
  'root:x:0:0:root:/root:/sbin/nologin',
  'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin',
  'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin',
  '',
].join('\n');

/** SystemAccounts are passwd and group lines of the root's system accounts an image needs beside the defaults. */
export interface SystemAccounts {
  readonly users: readonly string[];
  readonly groups: readonly string[];
}

/** DEFAULT_GROUP is the /etc/group of a scratch image. */
export const DEFAULT_GROUP = ['root:x:0:', 'nobody:x:65534:', 'nonroot:x:65532:', ''].join('\n');

// files first: a scratch image has no other NSS source configured; dns for hosts as glibc's default
const NSSWITCH = [
  'passwd:         files',
  'group:          files',
  'shadow:         files',
  'hosts:          files dns',
  'networks:       files',
  'protocols:      files',
  'services:       files',
  'ethers:         files',
  'rpc:            files',
  '',
].join('\n');

/**
 * systemAccountsNamed picks the root's system accounts (uid 1–999) that `texts` (a server's
 * configuration) name after a user or group keyword — nginx's `user www-data;`, haproxy's `user
 * haproxy`, lighttpd's `server.username = "www-data"`, squid's `cache_effective_user proxy`, which they
 * look up when they start — with their primary groups. Group lines lose their member lists (those name
 * the host's people). PURE.
 */
export function systemAccountsNamed(passwd: string, group: string, texts: readonly string[]): SystemAccounts {
  const words = new Set<string>();
  const named =
    /(?:^|[^A-Za-z0-9])[A-Za-z_]*(?:user|group|owner|runas)(?:name)?[ \t]*[=: \t"'][ \t"']*([A-Za-z_][A-Za-z0-9_.-]*)/gim;
  for (const t of texts) for (const m of t.matchAll(named)) words.add(m[1]!);
  const users: string[] = [];
  const gids = new Set<string>();
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length < 7) continue;
    const uid = Number(f[2]);
    if (!Number.isInteger(uid) || uid < 1 || uid > 999 || !words.has(f[0]!)) continue;
    if (DEFAULT_PASSWD.includes(`\n${f[0]}:`) || users.some((u) => u.startsWith(`${f[0]}:`))) continue;
    users.push([f[0], 'x', f[2], f[3], f[4], f[5], f[6]].join(':'));
    gids.add(f[3]!);
  }
  const groups: string[] = [];
  for (const line of group.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || !gids.has(f[2]!) || groups.some((g) => g.split(':')[2] === f[2])) continue;
    groups.push(`${f[0]}:x:${f[2]}:`);
  }
  return { users, groups };
}

function text(path: string, body: string, what: string, mode = 0o644): DefaultFile {
  const data = Buffer.from(body, 'utf8');
  return {
    entry: {
      type: 'file',
      path,
      mode,
      uid: 0,
      gid: 0,
      size: data.byteLength,
      content: { kind: 'bytes', data },
    },
    origin: { kind: 'default', what },
  };
}

/**
 * scratchDefaults returns the default files a FROM-scratch image gets, minus those turned off in `opts`
 * and minus those whose path `present(path)` says the image already has (a base image or the user's
 * own /etc/passwd wins).
 */
export function scratchDefaults(
  opts: ScratchDefaults = {},
  present: (path: string) => boolean = () => false,
  more: SystemAccounts = { users: [], groups: [] },
): DefaultFile[] {
  const out: DefaultFile[] = [];
  if (opts.users !== false) {
    const names = (lines: readonly string[]) => lines.map((l) => l.split(':', 1)[0]).join(', ');
    if (!present('/etc/passwd'))
      out.push(
        text(
          '/etc/passwd',
          DEFAULT_PASSWD + more.users.map((l) => `${l}\n`).join(''),
          `users root, nonroot (65532) and nobody${more.users.length > 0 ? `; ${names(more.users)}, named by the configuration of a program in the image` : ''}`,
        ),
      );
    if (!present('/etc/group'))
      out.push(
        text(
          '/etc/group',
          DEFAULT_GROUP + more.groups.map((l) => `${l}\n`).join(''),
          `groups root, nonroot (65532) and nobody${more.groups.length > 0 ? `; ${names(more.groups)}, of the users a program's configuration names` : ''}`,
        ),
      );
    // root's home, as distroless has it: programs write under $HOME (gpg's ~/.gnupg, git config, caches)
    if (!present('/root')) {
      out.push({
        entry: { type: 'dir', path: '/root', mode: 0o700, uid: 0, gid: 0 },
        origin: { kind: 'default', what: 'home directory of root' },
      });
    }
    if (!present('/home/nonroot')) {
      out.push({
        entry: { type: 'dir', path: '/home/nonroot', mode: 0o700, uid: 65532, gid: 65532 },
        origin: { kind: 'default', what: 'home directory of nonroot' },
      });
    }
  }
  if (opts.nsswitch !== false && !present('/etc/nsswitch.conf')) {
    out.push(text('/etc/nsswitch.conf', NSSWITCH, 'name service switch configuration'));
  }
  if (opts.tmp !== false && !present('/tmp')) {
    out.push({
      entry: { type: 'dir', path: '/tmp', mode: 0o1777, uid: 0, gid: 0 },
      origin: { kind: 'default', what: '/tmp, world-writable with the sticky bit' },
    });
  }
  return out;
}

/** USER_IDS maps the default user and group names to ids, for --user nonroot and COPY --chown. */
export const DEFAULT_USERS: Readonly<Record<string, number>> = { root: 0, nobody: 65534, nonroot: 65532 };
