/**
 * secrets.ts — the secrets policy: paths that must never be put in an image unless asked for on purpose.
 * PURE. Used for traced files (src/trace) and added files (--add in src/build).
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
  /** absolute paths (or directory prefixes ending in '/') allowed even though they look like secrets */
  allow?: readonly string[];
}

interface Rule {
  readonly test: RegExp;
  readonly reason: string;
}

// a home directory: /root, /home/NAME, or any path component before the dotfile (a HOME elsewhere)
const HOME = '(?:/root|/home/[^/]+|/[^\\0]*?)';

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
  { test: /(^|\/)\.netrc$/, reason: 'a .netrc with login credentials' },
  { test: /(^|\/)\.docker\/config\.json$/, reason: 'Docker registry credentials' },
  { test: /(^|\/)\.aws\/(credentials|config)$/, reason: 'AWS credentials' },
  { test: /(^|\/)\.config\/gcloud(\/|$)/, reason: 'Google Cloud credentials' },
  { test: /(^|\/)\.azure(\/|$)/, reason: 'Azure credentials' },
  { test: /(^|\/)\.kube\/config$/, reason: 'a Kubernetes config with cluster credentials' },
  { test: /(^|\/)\.git-credentials$/, reason: 'git credentials' },
  { test: /(^|\/)\.pgpass$/, reason: 'PostgreSQL passwords' },
  { test: /(^|\/)\.my\.cnf$/, reason: 'MySQL credentials' },
  {
    test: /(^|\/)\.(bash|zsh|sh|python|node_repl|mysql|psql|lesshst|sqlite)_history$|(^|\/)\.history$|(^|\/)\.local\/share\/fish\/fish_history$/,
    reason: 'a shell or REPL history',
  },
  { test: /(^|\/)\.gnupg\/(private-keys-v1\.d(\/|$)|secring\.gpg$)/, reason: 'GnuPG private keys' },
  {
    test: /(^|\/)\.npmrc$|(^|\/)\.pypirc$|(^|\/)\.config\/gh\/hosts\.yml$/,
    reason: 'package registry or GitHub tokens',
  },
  {
    test: /^\/(proc|sys|dev)(\/|$)/,
    reason: 'a kernel or device file system (not a file an image can carry)',
  },
];

/**
 * checkSecret tells whether `path` (absolute, normalised) must be refused from an image. A path listed in
 * `opts.allow` (exactly, or under an allowed directory prefix ending in '/') is never refused.
 *
 * @example
 * checkSecret('/etc/shadow') // { refuse: true, reason: 'password hashes' }
 */
export function checkSecret(path: string, opts: SecretOptions = {}): SecretVerdict {
  for (const a of opts.allow ?? []) {
    if (path === a || (a.endsWith('/') && path.startsWith(a))) return { refuse: false, reason: '' };
  }
  for (const r of RULES) {
    if (r.test.test(path)) return { refuse: true, reason: r.reason };
  }
  return { refuse: false, reason: '' };
}
