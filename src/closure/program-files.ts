/**
 * program-files.ts — the configuration and state paths compiled into a program. PURE.
 *
 * A server reads its configuration at a path written into it at build time and writes its logs, pid
 * file and temporary files under paths written the same way: nginx holds `/etc/nginx/nginx.conf`,
 * `/var/log/nginx/access.log`, `/var/lib/nginx/body` and `/run/nginx.pid` (its `./configure --conf-path
 * …` options). Without them it stops at start (`open() "/etc/nginx/nginx.conf" failed`), as any program
 * of this class does. From the program's C strings (never by running it):
 * - its configuration: a directory of its own under /etc (`/etc/nginx/…` → `/etc/nginx`, whole, since a
 *   configuration includes its neighbours), or a file directly in /etc (`/etc/wgetrc`). What the system,
 *   other rules or the container runtime own (/etc/passwd, /etc/hosts, /etc/ssl, pam.d …) is not one;
 * - its state directories: the deepest directory the root has on a path under /run, /var/run, /var/log,
 *   /var/lib, /var/cache, /var/spool or /var/lock (`/var/log/nginx/access.log` → `/var/log/nginx`),
 *   shipped empty with its owner and mode: the program writes there, what the host wrote is not the
 *   image's;
 * - the modules its configuration loads by name (nginx's `load_module modules/x.so;`), found under the
 *   directories the program names or beside the configuration: loaded as libraries;
 * - what its configuration names in turn: state directories as above (tinyproxy's `PidFile
 *   "/run/tinyproxy/tinyproxy.pid"`), and the data files under /usr/share it serves (its error page).
 */

/** PROGRAM_PREFIXES are where the paths PROGRAM_PATH matches start. */
export const PROGRAM_PREFIXES = ['/etc/', '/run/', '/var/', '/usr/', '/opt/'];

/**
 * PROGRAM_SEARCH_PREFIXES are PROGRAM_PREFIXES and the same after a doubled slash: a program built
 * with `--localstatedir=/` holds `//run/named/named.pid` (bind9's named), the path the kernel reads
 * as `/run/named/named.pid`. programStrings turns them back into single-slash paths.
 */
export const PROGRAM_SEARCH_PREFIXES = [...PROGRAM_PREFIXES, ...PROGRAM_PREFIXES.map((p) => `/${p}`)];

/**
 * MAX_PROGRAM_BYTES bounds the programs the rule reads: servers that keep a configuration at a
 * compiled-in path are C programs of a few MiB (nginx 1.3, postgres 9, mariadbd 25); larger ones are
 * runtimes and bundles (node 99 MiB), read for no such path on every cold build.
 */
export const MAX_PROGRAM_BYTES = 32 * 1024 * 1024;

/**
 * CONFIG_REASON is in the reason of every configuration file the rule ships (build reads them for
 * accounts), followed by where the path came from: COMPILED_IN or ON_COMMAND_LINE.
 */
export const CONFIG_REASON = 'reads its configuration there';

/**
 * STATE_REASON is in the reason of every state directory the rule ships: build gives the image the
 * root's account that owns one (mosquitto's /var/log/mosquitto), the user the server drops to when
 * nothing names it (compiled in: mosquitto, unbound).
 */
export const STATE_REASON = 'writes under';
export const COMPILED_IN = '(a path compiled into it)';

/**
 * ACCOUNT_REASON is in the reason the rule gives a program that looks up a system account by a name
 * compiled into it (sshd's privilege-separation user `sshd`, mosquitto's and unbound's own): build
 * adds the account to the image's /etc/passwd (compiledAccountOf reads the name back).
 */
export const ACCOUNT_REASON = 'looks up the system account';

/** accountReason is the reason of a program that looks up `name`, compiled into it. */
export function accountReason(program: string, name: string): string {
  return `${program} ${ACCOUNT_REASON} ${name} (a name compiled into it): the account joins /etc/passwd`;
}

/** compiledAccountOf is the account name an accountReason names, undefined for another reason. */
export function compiledAccountOf(reason: string): string | undefined {
  return new RegExp(` ${ACCOUNT_REASON} ([A-Za-z_][A-Za-z0-9_.-]*) \\(`).exec(reason)?.[1];
}

/** ACCOUNT_SYMBOLS are the imports of a program that looks accounts up by name. */
export const ACCOUNT_SYMBOLS: ReadonlySet<string> = new Set([
  'getpwnam',
  'getpwnam_r',
  'getgrnam',
  'getgrnam_r',
]);

/**
 * compiledAccountCandidates are the accounts of a passwd text a program may have compiled in: the
 * system accounts the package scripts create (uid 100–999, Debian's dynamic range; those below 100 are
 * base-passwd's, named like common words: `list`, `mail`, `sync`), with the byte strings that show a
 * name compiled in: the C string itself, or its tail-merged form after a `/` (a linker stores sshd's
 * user `sshd` as the end of `/run/sshd`).
 */
export function compiledAccountCandidates(passwd: string): { name: string; needles: string[] }[] {
  const out: { name: string; needles: string[] }[] = [];
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    const uid = Number(f[2]);
    if (f.length < 7 || !Number.isInteger(uid) || uid < 100 || uid > 999) continue;
    const name = f[0]!;
    if (!/^[A-Za-z_][A-Za-z0-9_.-]{1,31}$/.test(name) || out.some((c) => c.name === name)) continue;
    out.push({ name, needles: [`\0${name}\0`, `/${name}\0`] });
  }
  return out;
}
export const ON_COMMAND_LINE = '(named on its command line)';

/**
 * commandAccounts lists the accounts a command's arguments tell the program to drop to: `-u NAME`,
 * `-u NAME:GROUP`, `--user NAME`, `--user=NAME`, `-g NAME`, `--group=NAME` (memcached -u memcache,
 * dnsmasq --user=dnsmasq), each a user or group name, in order, unique. Numeric ids need no entry. A
 * flag followed by an option takes no value (`named -g -u bind`: -g is named's foreground switch).
 */
export function commandAccounts(args: readonly string[]): { users: string[]; groups: string[] } {
  const users: string[] = [];
  const groups: string[] = [];
  const add = (list: string[], v: string | undefined) => {
    if (v !== undefined && /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(v) && !list.includes(v)) list.push(v);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = /^--(user|group)=(.*)$/.exec(a);
    const flag = eq ? undefined : /^(?:-u|--user|-g|--group)$/.test(a) ? a : undefined;
    const value = eq ? eq[2] : flag !== undefined ? args[i + 1] : undefined;
    // an option after the flag: the flag takes no value there (named's `-g` is "foreground")
    if (value === undefined || (flag !== undefined && value.startsWith('-'))) continue;
    const isGroup = eq ? eq[1] === 'group' : flag === '-g' || flag === '--group';
    const [name, grp] = value.split(':');
    add(isGroup ? groups : users, name);
    if (!isGroup) add(groups, grp);
    if (flag !== undefined) i++;
  }
  return { users, groups };
}

/**
 * commandPaths lists the paths a command's arguments name that PROGRAM_PATH matches: an argument that is
 * an absolute path (`-f /etc/lighttpd/lighttpd.conf`, `redis-server /etc/redis/redis.conf`) or an
 * option's value (`--conf-file=/etc/dnsmasq.conf`), in order, unique. The servers of this class take
 * their configuration there rather than at a path compiled into them.
 */
export function commandPaths(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    const v = a.startsWith('/') ? a : /^--?[A-Za-z0-9][A-Za-z0-9_.-]*=(\/.*)$/.exec(a)?.[1];
    if (v === undefined || v.split('/').some((c) => c === '.' || c === '..')) continue;
    if (PROGRAM_PATH.test(v) && !out.includes(v)) out.push(v);
  }
  return out;
}

/**
 * PROGRAM_PATH matches the C strings the rule looks at: absolute paths under /etc, /run and /var, and
 * directories (ending in `/`) under /usr and /opt, where module paths may start.
 */
export const PROGRAM_PATH =
  /^\/((etc|run|var)\/[A-Za-z0-9._+@-]+(\/[A-Za-z0-9._+@-]+)*\/?|(usr|opt)\/([A-Za-z0-9._+@-]+\/)+)$/;

/** PROGRAM_PATH_FOUND is PROGRAM_PATH after PROGRAM_SEARCH_PREFIXES: one more leading slash allowed. */
export const PROGRAM_PATH_FOUND = new RegExp(`^\\/?${PROGRAM_PATH.source.slice(1)}`);

/** FROM_DPKG is the reason's tail of a configuration file dpkg lists for the program's package. */
export const FROM_DPKG = "(dpkg lists it among its package's configuration files)";

/**
 * packageConffiles picks, from a package's `.conffiles` (dpkg's list of its configuration files: a path
 * per line, `obsolete` or `remove-on-upgrade` after it for those no longer shipped), the ones a program
 * of the package reads as its own: directly in /etc (enscript's /etc/enscript.cfg, which it finds as
 * SYSCONFDIR + a name, no string holding the path), or in an /etc directory named after the program
 * (the package bears its name: ownPackageConffiles). Another program's directory (a2ps's
 * /etc/emacs/site-start.d/50a2ps.el) is not one, and programFilesPlan leaves out the system's (init.d,
 * default, logrotate.d …). PURE.
 */
export function packageConffiles(text: string, program: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const [path, flag] = line.trim().split(/\s+/);
    if (!path?.startsWith('/etc/') || flag !== undefined) continue;
    const parts = path.split('/');
    if (parts.length === 3 || (parts.length > 3 && parts[2]!.startsWith(program))) out.push(path);
  }
  return out;
}

/** programStrings normalises the strings found with PROGRAM_SEARCH_PREFIXES: `//run/x` → `/run/x`, unique, in order. */
export function programStrings(found: readonly string[]): string[] {
  return [...new Set(found.map((s) => s.replace(/^\/\//, '/')))];
}

/**
 * SYSTEM_ETC matches /etc paths that are the system's, another rule's (/etc/perl is in Perl's @INC: the
 * interpreters rule's) or the container runtime's.
 */
const SYSTEM_ETC =
  /^\/etc\/(passwd|group|shadow|gshadow|subuid|subgid|hosts|hostname|resolv\.conf|nsswitch\.conf|localtime|timezone|mtab|fstab|ld\.so\.[a-z.]+|os-release|lsb-release|debian_version|issue|motd|machine-id|ssl|pki|ca-certificates(\.conf)?|alternatives|security|pam\.d|pam\.conf|sudoers(\.d)?|default|environment|profile(\.d)?|shells|login\.defs|services|protocols|rpc|networks|ethers|gai\.conf|host\.conf|magic(\.mime)?|terminfo|zoneinfo|locale\.(alias|gen|conf)|init\.d|rc[0-9S]\.d|systemd|udev|cron[a-z.]*|logrotate\.d|apt|dpkg|X11|xdg|fonts|ld\.so\.conf\.d|mke2fs\.conf|inputrc|bash\.bashrc|skel|selinux|apparmor(\.d)?|perl|sysctl\.(conf|d)|modprobe\.d|modules-load\.d|tmpfiles\.d|binfmt\.d|kernel|update-motd\.d|opt|gnutls|openssl)(\/|$)/;

/** STATE_ROOT matches the directories under which a program keeps its state, captured. */
const STATE_ROOT = /^(\/run|\/var\/(?:run|log|lib|cache|spool|lock))\/./;

/** ProgramFilesPlan is what a program's compiled-in paths name. */
export interface ProgramFilesPlan {
  /** directories of the program's own under /etc, shipped whole */
  readonly configDirs: readonly string[];
  /** paths directly in /etc: a file is shipped, a directory whole */
  readonly configFiles: readonly string[];
  /** paths under a state root: the deepest directory the root has is shipped empty */
  readonly statePaths: readonly string[];
  /** directories the program names (ending in `/`): where a configuration's relative module paths start */
  readonly prefixes: readonly string[];
}

/** programFilesPlan sorts a program's compiled-in paths (C strings matching PROGRAM_PATH). */
export function programFilesPlan(strings: readonly string[]): ProgramFilesPlan {
  const configDirs = new Set<string>();
  const configFiles = new Set<string>();
  const statePaths = new Set<string>();
  for (const s of strings) {
    const p = s.replace(/\/+$/, '');
    if (p.split('/').some((c) => c === '.' || c === '..')) continue;
    if (p.startsWith('/usr/') || p.startsWith('/opt/')) continue;
    if (p.startsWith('/etc/')) {
      if (SYSTEM_ETC.test(p)) continue;
      const parts = p.split('/');
      if (parts.length >= 4 || s.endsWith('/')) configDirs.add(parts.slice(0, 3).join('/'));
      else configFiles.add(p);
    } else if (STATE_ROOT.test(`${p}/`)) statePaths.add(p);
  }
  for (const f of configFiles) if (configDirs.has(f)) configFiles.delete(f);
  return {
    configDirs: [...configDirs].sort(),
    configFiles: [...configFiles].sort(),
    statePaths: [...statePaths].sort(),
    prefixes: [...new Set(strings.filter((s) => s.endsWith('/') && s.length > 1))].sort(),
  };
}

/** stateRootOf is the state root a path lies under (`/var/log` for `/var/log/nginx/x`), undefined if none. */
export function stateRootOf(path: string): string | undefined {
  return STATE_ROOT.exec(`${path}/`)?.[1];
}

/**
 * linePaths lists the absolute paths `re` (its first group) finds in the uncommented lines of a text,
 * each line first passed through `prepare`; those with a `.` or `..` component are left out. In order,
 * unique. The reading of a configuration (configPaths) and of a shell script (shell-script.ts).
 */
export function linePaths(text: string, re: RegExp, prepare: (code: string) => string = (c) => c): string[] {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    for (const m of prepare(line.replace(/(^|\s)#.*$/, '')).matchAll(re)) {
      const p = m[1]!;
      if (!p.split('/').some((c) => c === '.' || c === '..')) out.add(p);
    }
  }
  return [...out];
}

/** configPaths lists the absolute paths a configuration's uncommented lines name, in order, unique. */
export function configPaths(text: string): string[] {
  return linePaths(text, /(?:^|[\s"'=])(\/[A-Za-z0-9._+@/-]*[A-Za-z0-9_+@-])(?=$|[\s"';,])/g);
}

/**
 * HELPER_PATH matches where a program's strings name the helper programs it runs by path (squid's
 * built-in `unlinkd_program /usr/lib/squid/unlinkd`, a libexec directory).
 * A configuration's helpers may be anywhere under /usr, /opt, /bin or /sbin (lighttpd's `include_shell
 * "/usr/share/lighttpd/use-ipv6.pl"`, apache's `ErrorLog "|/usr/bin/rotatelogs …"`).
 */
export const HELPER_PATH = /^\/usr\/(lib|libexec)\/[A-Za-z0-9._+@-]+(\/[A-Za-z0-9._+@-]+)*$/;

/**
 * EMBEDDED_PREFIXES are where the paths the rule looks for inside a program's strings start (helpers
 * and state: squid's built-in `unlinkd_program /usr/lib/squid/unlinkd`, `cache_log
 * /var/log/squid/cache.log`); EMBEDDED_PATH matches one.
 */
export const EMBEDDED_PREFIXES = ['/usr/lib/', '/usr/libexec/', '/var/', '/run/'];
export const EMBEDDED_PATH = /^\/(usr\/(lib|libexec)|var|run)\/[A-Za-z0-9._+@-]+(\/[A-Za-z0-9._+@-]+)*$/;
export const CONFIG_HELPER = /^\/(usr|opt|bin|sbin)\/[A-Za-z0-9._+@/-]*[A-Za-z0-9_+@-]$/;

/** MAX_HELPERS bounds the helper programs one program or configuration brings. */
export const MAX_HELPERS = 64;

/** CONFIG_DATA matches the files a configuration may name that the rule ships with it (a page, a template). */
export const CONFIG_DATA = /^\/usr\/share\//;

/**
 * SERVED_ROOT matches the directories a configuration may name as what a server serves (Debian's
 * `DocumentRoot /var/www/html`, lighttpd's `server.document-root`): the rule ships the directory, empty
 * (apache stops when it is missing; what the site holds is the user's to add).
 */
export const SERVED_ROOT = /^\/(var\/www|srv)\/[^/]/;

/**
 * moduleNames lists the shared objects a configuration names by path (`load_module
 * modules/ngx_http_echo_module.so;`, `LoadModule x /usr/lib/apache2/modules/mod_x.so`), in order.
 */
export function moduleNames(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const code = line.replace(/(^|\s)#.*$/, '');
    for (const m of code.matchAll(
      /(?:^|[\s"'=])((?:\/|\.{0,2}\/?)[A-Za-z0-9._+@/-]*[A-Za-z0-9_+-]\.so)(?=$|[\s"';])/g,
    ))
      if (!out.includes(m[1]!)) out.push(m[1]!);
  }
  return out;
}
