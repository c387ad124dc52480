/**
 * secrets.test.ts — every rule of the secrets policy at its boundaries: the path it refuses, the
 * near miss it lets through (one character more or less, a sibling with a shared prefix, the parent
 * directory), and --allow-secret compared by whole path components, never as a string prefix.
 * The real path (build --add, --trace, Dockerfile COPY) is tested in test/orchestrate/secrets-policy.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSecret, checkSecretDestination, isAllowedSecret } from './secrets.ts';

/** [rule, refused paths, paths that must pass] */
const RULES: readonly [string, readonly string[], readonly string[]][] = [
  [
    'password hashes and their backups',
    ['/etc/shadow', '/etc/gshadow', '/etc/shadow-', '/etc/gshadow-', '/etc/shadow.bak', '/etc/shadow.old'],
    [
      '/etc/shadowx',
      '/etc/shadow--',
      '/etc/shadow.bak2',
      '/etc/passwd',
      '/etc/passwd-',
      '/x/etc/shadow',
      '/etc',
    ],
  ],
  [
    'system credentials',
    ['/etc/security/opasswd', '/etc/sudoers.d/admins', '/etc/sudoers.d/a/b', '/etc/ssl/private/k.pem'],
    [
      '/etc/sudoers.d',
      '/etc/sudoers.d/',
      '/etc/sudoers',
      '/etc/ssl/private',
      '/etc/ssl/privatex/k',
      '/etc/ssl/certs/ca.pem',
    ],
  ],
  [
    'SSH host keys',
    ['/etc/ssh/ssh_host_rsa_key', '/etc/ssh/ssh_host_ed25519_key'],
    ['/etc/ssh/ssh_host_rsa_key.pub', '/etc/ssh/ssh_config', '/etc/ssh/ssh_host_rsa_key/x'],
  ],
  [
    'SSH keys and trust files in any home',
    [
      '/root/.ssh/id_rsa',
      '/home/u/.ssh/id_ed25519',
      '/home/u/.ssh/id_rsa.pub',
      '/home/u/.ssh/identity',
      '/home/u/.ssh/deploy.pem',
      '/home/u/.ssh/authorized_keys',
      '/home/u/.ssh/known_hosts',
      '/srv/ci/.ssh/id_ecdsa',
      '/tmp/build/ctx/.ssh/id_rsa',
    ],
    ['/root/.ssh', '/root/.ssh/config', '/root/.sshx/id_rsa', '/root/ssh/id_rsa', '/home/u/.ssh/pem'],
  ],
  [
    'dotfiles with credentials',
    [
      '/root/.netrc',
      '/app/.netrc',
      '/home/u/.docker/config.json',
      '/root/.aws/credentials',
      '/root/.aws/config',
      '/home/u/.config/gcloud',
      '/home/u/.config/gcloud/application_default_credentials.json',
      '/root/.azure',
      '/root/.azure/msal_token_cache.json',
      '/root/.kube/config',
      '/root/.git-credentials',
      '/root/.pgpass',
      '/root/.my.cnf',
    ],
    [
      '/root/netrc',
      '/root/x.netrc',
      '/root/.netrc.d/x',
      '/home/u/.docker/daemon.json',
      '/root/.aws/cli/cache',
      '/home/u/.config/gcloudx/a',
      '/root/.azurex',
      '/root/.kube/cache/x',
      '/root/.my.cnf.d/x',
    ],
  ],
  [
    'shell and REPL histories',
    [
      '/root/.bash_history',
      '/home/u/.zsh_history',
      '/home/u/.python_history',
      '/home/u/.node_repl_history',
      '/home/u/.psql_history',
      '/home/u/.history',
      '/home/u/.local/share/fish/fish_history',
    ],
    [
      '/root/.bash_historyx',
      '/root/bash_history',
      '/root/.bashrc',
      '/home/u/.local/share/fish/fish_variables',
    ],
  ],
  [
    'GnuPG private keys',
    [
      '/root/.gnupg/private-keys-v1.d',
      '/root/.gnupg/private-keys-v1.d/ABC.key',
      '/home/u/.gnupg/secring.gpg',
    ],
    ['/root/.gnupg/pubring.kbx', '/root/.gnupg/trustdb.gpg', '/root/.gnupg/secring.gpg.lock', '/root/.gnupg'],
  ],
  [
    'package registry and GitHub tokens',
    ['/root/.npmrc', '/app/.npmrc', '/home/u/.pypirc', '/home/u/.config/gh/hosts.yml'],
    [
      '/app/npmrc',
      '/app/x.npmrc',
      '/app/.npmrc.example',
      '/usr/lib/node_modules/npm/npmrc',
      '/home/u/.config/gh/config.yml',
    ],
  ],
  [
    'kernel and device file systems',
    ['/proc', '/proc/', '/proc/self/environ', '/sys', '/sys/kernel/x', '/dev', '/dev/null', '/dev/shm/f'],
    ['/devices', '/device/x', '/process/x', '/system/x', '/srv/dev/null', '/usr/share/proc/x', '/develop'],
  ],
];

for (const [rule, refused, passed] of RULES) {
  test(`secrets policy: ${rule} — refused at the boundary, near misses pass`, () => {
    for (const p of refused) {
      const v = checkSecret(p);
      assert.equal(v.refuse, true, `${p} must be refused`);
      assert.ok(v.reason.length > 0, `${p} is refused with a reason`);
    }
    for (const p of passed) {
      assert.deepEqual(checkSecret(p), { refuse: false, reason: '' }, `${p} must pass`);
    }
  });
}

test('isAllowedSecret compares whole path components, never a raw string prefix', () => {
  // an exact path
  assert.equal(isAllowedSecret('/etc/shadow', ['/etc/shadow']), true);
  assert.equal(isAllowedSecret('/etc/shadow-', ['/etc/shadow']), false, 'a backup is not the file allowed');
  assert.equal(isAllowedSecret('/etc/shadow.bak', ['/etc/shadow']), false);
  assert.equal(isAllowedSecret('/etc/shado', ['/etc/shadow']), false);
  // a directory, with or without the trailing slash
  for (const dir of ['/home/u/.ssh', '/home/u/.ssh/', '/home/u/.ssh//']) {
    assert.equal(isAllowedSecret('/home/u/.ssh/id_rsa', [dir]), true, dir);
    assert.equal(isAllowedSecret('/home/u/.ssh/keys/id_rsa', [dir]), true, dir);
    assert.equal(
      isAllowedSecret('/home/u/.ssh-old/id_rsa', [dir]),
      false,
      `${dir} is not a prefix of .ssh-old`,
    );
    assert.equal(isAllowedSecret('/home/u/.sshid_rsa', [dir]), false, dir);
  }
  assert.equal(isAllowedSecret('/home/u/.ssh/id_rsa', ['/home/u/.ss']), false);
  // the empty entry allows nothing; the root allows everything (the user said so)
  assert.equal(isAllowedSecret('/etc/shadow', ['']), false);
  assert.equal(isAllowedSecret('/etc/shadow', ['/']), true);
  assert.equal(isAllowedSecret('/etc/shadow', []), false);
  // any entry of several
  assert.equal(isAllowedSecret('/root/.netrc', ['/etc/shadow', '/root/.netrc']), true);
});

test('checkSecret: an allowed path passes, its siblings with a shared prefix do not', () => {
  assert.equal(checkSecret('/root/.netrc', { allow: ['/root/.netrc'] }).refuse, false);
  assert.equal(checkSecret('/root/.aws/credentials', { allow: ['/root/.aws'] }).refuse, false);
  assert.equal(checkSecret('/root/.aws/credentials', { allow: ['/root/.aws/'] }).refuse, false);
  assert.equal(checkSecret('/etc/shadow-', { allow: ['/etc/shadow'] }).refuse, true);
  assert.equal(checkSecret('/dev/null', { allow: ['/de'] }).refuse, true);
  assert.equal(checkSecret('/root/.ssh/id_rsa', { allow: ['/root/.ssh/id'] }).refuse, true);
  assert.equal(checkSecret('/root/.ssh/id_rsa', { allow: ['/root/.s'] }).refuse, true);
  assert.equal(checkSecret('/root/.ssh/id_rsa', { allow: ['/root'] }).refuse, false);
});

// Added after the first Stryker run (65.3 %): each path pins an anchor (`^`, `$`) or a character class
// that a surviving mutant changed. Paths are absolute (the contract), so a rule's `(^|/)` and `/` forms are
// equivalent and not pinned here.
test('secrets policy: the anchors of each rule (suffixes, other roots, the root .ssh)', () => {
  const refused = ['/.ssh/id_rsa', '/.ssh/id_', '/.ssh/id_ed25519_sk'];
  const passed = [
    '/etc/security/opasswdx',
    '/srv/etc/security/opasswd',
    '/srv/etc/sudoers.d/admins',
    '/srv/etc/ssl/private/k.pem',
    '/srv/etc/ssh/ssh_host_rsa_key',
    '/.ssh/id_rsa/notes',
    '/home/u/.docker/config.json.sample',
    '/root/.aws/credentials.example',
    '/root/.aws/config.d/x',
    '/root/.kube/config.example',
    '/root/.git-credentials.sample',
    '/root/.pgpass.example',
    '/root/.history.d/x',
    '/root/.local/share/fish/fish_history.bak',
    '/app/.pypirc.example',
    '/home/u/.config/gh/hosts.yml.orig',
  ];
  for (const p of refused) {
    const v = checkSecret(p);
    assert.equal(v.refuse, true, p);
    assert.ok(v.reason.length > 0, `${p} has a reason`);
  }
  for (const p of passed) assert.deepEqual(checkSecret(p), { refuse: false, reason: '' }, p);
  // an allowed path passes with no reason at all
  assert.deepEqual(checkSecret('/root/.netrc', { allow: ['/root'] }), { refuse: false, reason: '' });
});

// checkSecretDestination judges where a file lands in the image (`--add ./rootfs:/`): every rule but the
// host-only ones (/proc, /sys, /dev), with the same verdicts and reasons as checkSecret on the host path.
test('checkSecretDestination: every rule but the kernel file systems, with the same verdict and reason', () => {
  for (const [rule, refused, passed] of RULES) {
    const hostOnly = rule === 'kernel and device file systems';
    for (const p of refused) {
      const want = hostOnly ? { refuse: false, reason: '' } : checkSecret(p);
      assert.deepEqual(checkSecretDestination(p), want, `${rule}: ${p}`);
    }
    for (const p of passed) assert.deepEqual(checkSecretDestination(p), { refuse: false, reason: '' }, p);
  }
  // an image may carry a /dev of its own; a secret under it is still a secret
  assert.deepEqual(checkSecretDestination('/dev/null'), { refuse: false, reason: '' });
  assert.deepEqual(checkSecretDestination('/proc/self/environ'), { refuse: false, reason: '' });
  assert.deepEqual(checkSecretDestination('/etc/shadow'), { refuse: true, reason: 'password hashes' });
  assert.deepEqual(checkSecretDestination('/dev/.ssh/id_rsa'), {
    refuse: true,
    reason: 'an SSH key or SSH trust file',
  });
});
