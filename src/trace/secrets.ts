/**
 * secrets.ts — the secrets policy: paths that must never be put in an image unless asked for on purpose.
 * PURE. Used for traced files (src/trace) and added files (--add in src/orchestrate).
 *
 * DESIGN.md "Rules that never bend": `--trace` and `--add` refuse /etc/shadow, SSH keys, .netrc,
 * cloud credentials, /proc, /sys, /dev.
 */

/** SecretVerdict says whether a path is refused and why. */
export interface SecretVerdict {
  readonly refuse: boolean;
  /** why it is refused ('' when it is not) */
  readonly reason: string;
}

/** SecretOptions lets the user include secret-looking paths on purpose. */
export interface SecretOptions {
  /** absolute paths allowed even though they look like secrets; a directory allows everything under it */
  allow?: readonly string[];
}

interface Rule {
  readonly test: RegExp;
  readonly reason: string;
  /** the rule is about the host (its kernel file systems), not about what a path in an image holds */
  readonly hostOnly?: boolean;
}

// a home directory: /root, /home/NAME, or any path component before the dotfile (a HOME elsewhere)
const HOME = '(?:/root|/home/[^/]+|/[^\\0]*?)';

// paths are absolute and normalised, so "at the start or after a /" is just "after a /"
const RULES: readonly Rule[] = [
  { test: /^\/etc\/(shadow|gshadow)(-|\.bak|\.old)?$/, reason: 'password hashes' },
  {
    test: /^\/etc\/(security\/opasswd|sudoers\.d\/.+|ssl\/private\/.+)$/,
    reason: 'system credentials or private keys',
  },
  { test: /^\/etc\/ssh\/ssh_host_[^/]*_key$/, reason: 'an SSH host private key' },
  {
    test: new RegExp(`^${HOME}/\\.ssh/(id_[^/]*|identity|[^/]*\\.pem|authorized_keys|known_hosts)$`),
    reason: 'an SSH key or SSH trust file',
  },
  { test: /\/\.ssh\/id_[^/]*$/, reason: 'an SSH private key' },
  { test: /\/\.netrc$/, reason: 'a .netrc with login credentials' },
  { test: /\/\.docker\/config\.json$/, reason: 'Docker registry credentials' },
  { test: /\/\.aws\/(credentials|config)$/, reason: 'AWS credentials' },
  { test: /\/\.config\/gcloud(\/|$)/, reason: 'Google Cloud credentials' },
  { test: /\/\.azure(\/|$)/, reason: 'Azure credentials' },
  { test: /\/\.kube\/config$/, reason: 'a Kubernetes config with cluster credentials' },
  { test: /\/\.git-credentials$/, reason: 'git credentials' },
  { test: /\/\.pgpass$/, reason: 'PostgreSQL passwords' },
  { test: /\/\.my\.cnf$/, reason: 'MySQL credentials' },
  {
    test: /\/\.(bash|zsh|sh|python|node_repl|mysql|psql|lesshst|sqlite)_history$|\/\.history$|\/\.local\/share\/fish\/fish_history$/,
    reason: 'a shell or REPL history',
  },
  { test: /\/\.gnupg\/(private-keys-v1\.d(\/|$)|secring\.gpg$)/, reason: 'GnuPG private keys' },
  {
    test: /\/\.npmrc$|\/\.pypirc$|\/\.config\/gh\/hosts\.yml$/,
    reason: 'package registry or GitHub tokens',
  },
  {
    test: /^\/(proc|sys|dev)(\/|$)/,
    reason: 'a kernel or device file system (not a file an image can carry)',
    hostOnly: true,
  },
];

/**
 * isAllowedSecret tells whether `path` is one of `allow` or lies under one of them, compared by whole path
 * components: allowing `/home/u/.ssh` allows `/home/u/.ssh/id_rsa` but not `/home/u/.ssh-old/id_rsa`, and
 * allowing `/etc/shadow` does not allow `/etc/shadow-`.
 */
export function isAllowedSecret(path: string, allow: readonly string[]): boolean {
  for (const raw of allow) {
    if (raw === '') continue; // an empty entry allows nothing (it is not the root)
    const a = raw.replace(/\/+$/, ''); // '/' becomes '', under which every absolute path lies
    if (path === a || path.startsWith(`${a}/`)) return true;
  }
  return false;
}

/**
 * checkSecret tells whether `path` (absolute, normalised) must be refused from an image. A path allowed by
 * `opts.allow` (see isAllowedSecret) is never refused.
 *
 * @example
 * checkSecret('/etc/shadow') // { refuse: true, reason: 'password hashes' }
 */
export function checkSecret(path: string, opts: SecretOptions = {}): SecretVerdict {
  if (opts.allow && isAllowedSecret(path, opts.allow)) return { refuse: false, reason: '' };
  for (const r of RULES) {
    if (r.test.test(path)) return { refuse: true, reason: r.reason };
  }
  return { refuse: false, reason: '' };
}

/**
 * checkSecretDestination tells whether a file placed at `imagePath` in an image would be a secret by where
 * it lands, whatever its host path: `--add ./rootfs:/` puts `./rootfs/etc/shadow` at `/etc/shadow`, which
 * the host-path rules alone never see. The host-only rules (/proc, /sys, /dev) do not apply: an image may
 * carry a `/dev` directory of its own.
 *
 * @example
 * checkSecretDestination('/etc/shadow') // { refuse: true, reason: 'password hashes' }
 * checkSecretDestination('/dev/null') // { refuse: false, reason: '' }
 */
export function checkSecretDestination(imagePath: string): SecretVerdict {
  for (const r of RULES) {
    if (!r.hostOnly && r.test.test(imagePath)) return { refuse: true, reason: r.reason };
  }
  return { refuse: false, reason: '' };
}
