// script-effects.test.ts — pins the maintainer-script scanner (quotes, loops, heredocs, case patterns,
// functions, redirections, substitutions) and each emulation rule (ucf, phpenmod/php_invoke with
// priorities and SAPIs, a2enmod, ln -s, mkdir, mv, touch, dpkg-statoverride), the dependency order, the
// one warning per (package, command), and the typed error for a missing ucf source.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import type { FileEntry } from '../fs/file-tree.ts';
import { scanScript, UNKNOWN } from './maintainer-script.ts';
import { type ScriptPackage, scriptEffects } from './script-effects.ts';

const file = (path: string, text: string, mode = 0o644): FileEntry => ({
  type: 'file',
  path,
  mode,
  uid: 0,
  gid: 0,
  mtime: 0,
  size: text.length,
  content: { kind: 'bytes', data: Buffer.from(text) },
});
const dir = (path: string): FileEntry => ({ type: 'dir', path, mode: 0o755, uid: 0, gid: 0, mtime: 0 });
const tree = (...es: FileEntry[]) => new Map(es.map((e) => [e.path, e]));
const pkg = (name: string, postinst: string, depends: string[] = []): ScriptPackage => ({
  name,
  version: '1.0',
  architecture: 'amd64',
  postinst,
  depends,
});
const words = (s: string) =>
  scanScript(s).commands.map((c) => c.words.map((w) => w.replaceAll(UNKNOWN, '?')).join(' '));

test('scanScript splits commands, expands known variables, unrolls for loops, skips comments and heredocs', () => {
  const script = `#!/bin/sh
set -e
# ucf /not/a/command
dir=/etc/x; name="a b"
if [ "$1" = configure ] && ! grep -q foo /etc/y; then
  for m in one two; do mkdir -p $dir/$m; done
  cat > /etc/z <<-'EOF'
	ucf /inside/heredoc /x
	EOF
  echo "$name" >&2 2>/dev/null
  ln -s '/usr/lib/$literal' "$dir"/link || true
fi
case "$1" in
  configure|abort-upgrade)
    touch /var/lib/t ;;
  *) ;;
esac
helper() {
  phpenmod -v 8.2 x
}
helper
x=$(cat /etc/q)
chmod 644 "$x"
echo a \\
  b
`;
  assert.deepEqual(words(script), [
    'set -e',
    '[ ? = configure ]',
    'grep -q foo /etc/y',
    'mkdir -p /etc/x/one',
    'mkdir -p /etc/x/two',
    'cat',
    'echo a b',
    'ln -s /usr/lib/$literal /etc/x/link',
    'true',
    'touch /var/lib/t',
    'phpenmod -v 8.2 x',
    'chmod 644 ?',
    'echo a b',
  ]);
  const cat = scanScript(script).commands.find((c) => c.words[0] === 'cat');
  assert.deepEqual(cat?.writes, ['/etc/z']);
  assert.deepEqual([...scanScript(script).functions], ['helper']);
});

test('scanScript runs a function body where it is called, not where it is defined', () => {
  const script = `#!/bin/sh
never() {
  rm -f /etc/never
}
twice() { mkdir -p /etc/$1; touch /etc/t; }
setup()
{
  twice one
}
setup
function named { chmod 600 /etc/named; }
named
`;
  assert.deepEqual(words(script), ['mkdir -p /etc/?', 'touch /etc/t', 'chmod 600 /etc/named']);
  assert.deepEqual([...scanScript(script).functions].sort(), ['named', 'never', 'setup', 'twice']);
  // a recursive function ends
  assert.deepEqual(words('f() { touch /x; f; }\nf\n'), ['touch /x']);
});

test('scanScript reads a sourced library: its functions are not commands, their bodies are, named by file and line', () => {
  const lib = `setup_colors() { USE_COLORS=no; }
warning() { echo "warning: $*" >&2; }
configure_version() {
  update-alternatives --install /usr/bin/pg pg /usr/lib/pg/$1 10
}
remove_version() { update-alternatives --remove pg /usr/lib/pg/$1; }
. /usr/lib/lib.sh
`;
  const texts: Record<string, string> = { '/usr/lib/lib.sh': lib };
  const script =
    '#!/bin/sh\n. /usr/lib/lib.sh\nsetup_colors\nwarning "merged /usr"\nconfigure_version 15\n. /usr/lib/gone.sh\nfrom_gone\n';
  const r = scanScript(script, { source: (p) => texts[p] });
  assert.deepEqual(
    r.commands.map((c) => [c.words.join(' ').replaceAll(UNKNOWN, '?'), c.line, c.source]),
    [
      // the library sourcing itself is not followed again
      ['. /usr/lib/lib.sh', 7, '/usr/lib/lib.sh'],
      ['echo warning: ?', 2, '/usr/lib/lib.sh'],
      ['update-alternatives --install /usr/bin/pg pg /usr/lib/pg/? 10', 4, '/usr/lib/lib.sh'],
      // a library the image does not hold stays a command, and so do the calls it would define
      ['. /usr/lib/gone.sh', 6, undefined],
      ['from_gone', 7, undefined],
    ],
  );
  // without `source`, the calls are commands (reported, never dropped)
  assert.deepEqual(words(script).slice(0, 3), ['. /usr/lib/lib.sh', 'setup_colors', 'warning merged /usr']);
});

test("dpkg's real postinst with its real dpkg-error.sh: setup_colors, warning and error are not reported", () => {
  const postinst = readFileSync('/var/lib/dpkg/info/dpkg.postinst', 'utf8');
  const lib = '/usr/share/dpkg/sh/dpkg-error.sh';
  const r = scriptEffects([pkg('dpkg', postinst)], tree(dir('/usr'), file(lib, readFileSync(lib, 'utf8'))));
  const reported = r.notEmulated.map((n) => n.command);
  for (const f of ['setup_colors', 'warning', 'error', '.'])
    assert.ok(!reported.includes(f), `${f}: ${reported}`);
  const without = scriptEffects([pkg('dpkg', postinst)], tree(dir('/usr'))).notEmulated.map((n) => n.command);
  assert.ok(without.includes('setup_colors'), 'without the library its functions are reported');
});

test('scanScript asks `substitute` for the output of a $(…) assigned to a variable', () => {
  const s = scanScript('mods=$(phpquery -M -v 8.2)\nfor m in $mods; do php_invoke enmod 8.2 cli $m; done\n', {
    substitute: (w) => (w.join(' ') === 'phpquery -M -v 8.2' ? 'ctype posix' : undefined),
  });
  assert.deepEqual(
    s.commands.map((c) => c.words.join(' ')),
    ['php_invoke enmod 8.2 cli ctype', 'php_invoke enmod 8.2 cli posix'],
  );
});

const phpTree = () =>
  tree(
    dir('/etc/php/8.2'),
    dir('/etc/php/8.2/mods-available'),
    dir('/etc/php/8.2/cli'),
    dir('/etc/php/8.2/cli/conf.d'),
    dir('/etc/php/8.2/fpm'),
    dir('/etc/php/8.2/fpm/conf.d'),
    dir('/etc/php/8.2/phpdbg'), // no conf.d: not a SAPI to enable for
    file(
      '/usr/share/php8.2-common/common/ctype.ini',
      '; configuration for php ctype module\n; priority=20\nextension=ctype.so\n',
    ),
    file('/usr/share/php8.2-opcache/opcache/opcache.ini', '; priority=10\nzend_extension=opcache.so\n'),
    file('/usr/share/php8.2-common/common/noprio.ini', 'extension=noprio.so\n'),
    file('/usr/lib/php/8.2/php.ini-production.cli', '[PHP]\n'),
  );

test('ucf copies the conffile; php_invoke/phpenmod link each module into every SAPI conf.d with its priority', () => {
  const common = pkg(
    'php8.2-common',
    `inidir=/etc/php/8.2/mods-available
for dsoname in ctype noprio; do
  inifile=\${dsoname}.ini
  ucf /usr/share/php8.2-common/common/\${inifile} \${inidir}/\${inifile}
  ucfr --force php8.2-common \${inidir}/\${inifile}
  if [ -f "\${inidir}/\${inifile}.dpkg-new" ]; then
    mv "\${inidir}/\${inifile}.dpkg-new" "\${inidir}/\${inifile}"
  fi
  php_invoke enmod 8.2 ALL \${dsoname}
done
`,
  );
  const opcache = pkg(
    'php8.2-opcache',
    'ucf /usr/share/php8.2-opcache/opcache/opcache.ini /etc/php/8.2/mods-available/opcache.ini\nphpenmod -v 8.2 -s cli opcache\n',
    ['php8.2-common'],
  );
  const cli = pkg(
    'php8.2-cli',
    'phpini="/etc/php/8.2/cli/php.ini"\nucf /usr/lib/php/8.2/php.ini-production.cli $phpini\nucf /usr/lib/php/8.2/php.ini-production $phpini\n',
    ['php8.2-common'],
  );
  // listed out of dependency order on purpose: php8.2-common is configured first
  const r = scriptEffects([opcache, cli, common], phpTree());
  assert.deepEqual(r.notEmulated, []);
  const got = new Map(r.entries.map((e) => [e.path, e]));
  const target = (p: string) => {
    const e = got.get(p);
    return e?.type === 'symlink' ? e.target : e?.type;
  };
  assert.equal(target('/etc/php/8.2/cli/conf.d/20-ctype.ini'), '/etc/php/8.2/mods-available/ctype.ini');
  assert.equal(target('/etc/php/8.2/fpm/conf.d/20-ctype.ini'), '/etc/php/8.2/mods-available/ctype.ini');
  assert.equal(target('/etc/php/8.2/cli/conf.d/20-noprio.ini'), '/etc/php/8.2/mods-available/noprio.ini');
  assert.equal(target('/etc/php/8.2/cli/conf.d/10-opcache.ini'), '/etc/php/8.2/mods-available/opcache.ini');
  assert.equal(got.has('/etc/php/8.2/fpm/conf.d/10-opcache.ini'), false, '-s cli only');
  assert.equal(got.has('/etc/php/8.2/phpdbg/conf.d/20-ctype.ini'), false);
  const ini = got.get('/etc/php/8.2/mods-available/ctype.ini');
  assert.ok(ini?.type === 'file' && ini.content.kind === 'bytes');
  assert.match(Buffer.from(ini.content.data).toString(), /extension=ctype\.so/);
  const php = got.get('/etc/php/8.2/cli/php.ini');
  assert.ok(php?.type === 'file' && php.content.kind === 'bytes');
  assert.equal(
    Buffer.from(php.content.data).toString(),
    '[PHP]\n',
    'the first ucf wins; the second finds DST there',
  );
  assert.deepEqual(r.origins.get('/etc/php/8.2/cli/conf.d/20-ctype.ini')?.[0], {
    kind: 'package',
    name: 'php8.2-common',
    version: '1.0',
    architecture: 'amd64',
  });
});

test('a ucf source missing from the package is DEB_INVALID naming the package and the file', () => {
  assert.throws(
    () => scriptEffects([pkg('broken', 'ucf /usr/share/broken/x.conf /etc/x.conf\n')], tree()),
    (e: unknown) =>
      isFromscratchError(e) &&
      e.code === 'DEB_INVALID' &&
      e.message.includes('broken') &&
      e.message.includes('/usr/share/broken/x.conf'),
  );
});

test('a2enmod, ln -s, mkdir -m, touch, mv and dpkg-statoverride change the tree; an existing file is kept', () => {
  const have = tree(
    dir('/etc'),
    dir('/etc/apache2'),
    dir('/etc/apache2/mods-available'),
    dir('/var'),
    dir('/var/lib'),
    dir('/var/lib/php'),
    file('/etc/apache2/mods-available/rewrite.load', 'LoadModule\n'),
    dir('/etc/alt'),
    file('/etc/keep', 'old\n'),
    dir('/var/lib/php/sessions'),
    file('/etc/passwd', 'root:x:0:0::/root:/bin/sh\nwww-data:x:33:33::/var/www:/bin/false\n'),
    file('/etc/group', 'root:x:0:\nwww-data:x:33:\n'),
    file('/etc/a.new', 'A\n'),
  );
  const r = scriptEffects(
    [
      pkg(
        'p',
        `a2enmod -q rewrite
ln -s /usr/bin/x /etc/alt
ln -sf /new /etc/keep-link
ln -s /x /etc/keep
mkdir -p -m 0700 /var/cache/p/sub
touch /var/lib/p/state
mv /etc/a.new /etc/a
mv /etc/missing.dpkg-new /etc/missing
dpkg-statoverride --update --add www-data www-data 01733 /var/lib/php/sessions
`,
      ),
    ],
    have,
  );
  assert.deepEqual(r.notEmulated, []);
  const got = new Map(r.entries.map((e) => [e.path, e]));
  assert.deepEqual(
    [...got.keys()].sort(),
    [
      '/etc/a',
      '/etc/alt/x',
      '/etc/apache2/mods-enabled',
      '/etc/apache2/mods-enabled/rewrite.load',
      '/etc/keep-link',
      '/var/cache',
      '/var/cache/p',
      '/var/cache/p/sub',
      '/var/lib/p',
      '/var/lib/p/state',
      '/var/lib/php/sessions',
    ].sort(),
  );
  const en = got.get('/etc/apache2/mods-enabled/rewrite.load');
  assert.ok(en?.type === 'symlink' && en.target === '../mods-available/rewrite.load');
  assert.equal(got.get('/var/cache/p/sub')?.mode, 0o700);
  const s = got.get('/var/lib/php/sessions');
  assert.deepEqual([s?.uid, s?.gid, s?.mode], [33, 33, 0o1733]);
  assert.deepEqual(r.removed, ['/etc/a.new']);
});

test('what is not emulated is reported once per (package, command), with the reason', () => {
  const r = scriptEffects(
    [
      pkg(
        'db',
        `adduser --system postgres
adduser --system other
echo x > /etc/db.conf
ucf $1 /etc/x
deb-systemd-helper enable db.service
update-rc.d db defaults
py3compile -p db
db_get db/question
`,
      ),
      pkg('other', 'adduser --system postgres\n'),
    ],
    tree(),
  );
  assert.deepEqual(
    r.notEmulated.map((n) => [n.package, n.command, n.example, n.reason]),
    [
      ['db', 'adduser', 'adduser --system postgres', 'not emulated'],
      ['db', 'echo', 'echo x > /etc/db.conf', 'it writes a file'],
      ['db', 'ucf', 'ucf ? /etc/x', 'its arguments are not known statically'],
      ['other', 'adduser', 'adduser --system postgres', 'not emulated'],
    ],
  );
});

test('cache generators an image does without (fc-cache, gio-querymodules, ldconfig) are not warned about; why notes the reason on their directory', () => {
  const fontconfig = pkg(
    'fontconfig',
    `#!/bin/sh
set -e
if [ "$1" = configure ]; then
  mkdir -p /var/cache/fontconfig
  fc-cache -s -f -v 1>/var/log/fontconfig.log 2>&1 || (printf "failed.\\n"; exit 1)
fi`,
  );
  const glib = pkg(
    'libglib2.0-0',
    `#!/bin/sh
set -e
install -d "/usr/lib/x86_64-linux-gnu/gio/modules"
"/usr/lib/x86_64-linux-gnu/glib-2.0/gio-querymodules" "/usr/lib/x86_64-linux-gnu/gio/modules" || true
ldconfig`,
  );
  const fx = scriptEffects([fontconfig, glib], tree(dir('/usr/lib/x86_64-linux-gnu/gio/modules')));
  assert.deepEqual(
    fx.notEmulated.map((n) => `${n.package} ${n.command}`),
    [],
    'the generators are passed over (and install -d is mkdir)',
  );
  assert.ok(fx.entries.some((e) => e.path === '/var/cache/fontconfig' && e.type === 'dir'));
  const note = (p: string) =>
    (fx.notes.get(p) ?? []).map((o) => (o.kind === 'default' ? o.what : o.kind)).join('\n');
  assert.match(
    note('/var/cache/fontconfig'),
    /^fc-cache not run \(postinst of fontconfig\): fontconfig scans/,
  );
  assert.match(
    note('/usr/lib/x86_64-linux-gnu/gio/modules'),
    /^gio-querymodules not run \(postinst of libglib2\.0-0\): GIO opens every module/,
  );
  assert.equal(fx.notes.size, 2, 'ldconfig names no directory');
});

test('glib-compile-schemas and update-mime-database stay warned, naming the files the image lacks and how to --add them', () => {
  // the commands as libglib2.0-0's and shared-mime-info's postinsts run them (Debian 12)
  const glib = pkg(
    'libglib2.0-0',
    `#!/bin/sh
set -e
"/usr/lib/x86_64-linux-gnu/glib-2.0/glib-compile-schemas" /usr/share/glib-2.0/schemas || true
`,
  );
  const mime = pkg(
    'shared-mime-info',
    `#!/bin/sh
set -e
if which update-mime-database >/dev/null 2>&1; then
    update-mime-database /usr/share/mime
fi
`,
  );
  const other = pkg(
    'other',
    'glib-compile-schemas --targetdir=/opt/x/ /opt/s\nglib-compile-schemas --dry-run /opt/t\n',
  );
  const unknown = pkg('unknown', 'glib-compile-schemas "$dir"\n');
  const r = scriptEffects([glib, mime, other, unknown], tree());
  const by = new Map(r.notEmulated.map((n) => [n.package, n]));
  assert.deepEqual(
    r.notEmulated.map((n) => [n.package, n.command, n.reason]),
    [
      ['libglib2.0-0', '/usr/lib/x86_64-linux-gnu/glib-2.0/glib-compile-schemas', 'not emulated'],
      ['shared-mime-info', 'update-mime-database', 'not emulated'],
      ['other', 'glib-compile-schemas', 'not emulated'],
      ['unknown', 'glib-compile-schemas', 'not emulated'],
    ],
  );
  assert.match(
    by.get('libglib2.0-0')!.lacks ?? '',
    /^\/usr\/share\/glib-2\.0\/schemas\/gschemas\.compiled \(without it GSettings .*--add OUT\/gschemas\.compiled:\/usr\/share\/glib-2\.0\/schemas\/gschemas\.compiled$/,
  );
  assert.match(
    by.get('shared-mime-info')!.lacks ?? '',
    /^\/usr\/share\/mime\/mime\.cache and .*--add COPY\/NAME:\/usr\/share\/mime\/NAME$/,
  );
  // --targetdir decides where the file goes (the first command of a package is the one reported)
  assert.match(by.get('other')!.lacks ?? '', /^\/opt\/x\/gschemas\.compiled /);
  // a directory not known statically: no guess, the generic warning
  assert.equal(by.get('unknown')!.lacks, undefined);
});

test('commands named like Object.prototype members (constructor, toString, __proto__) are warned, never called', () => {
  const r = scriptEffects(
    [pkg('odd', 'constructor x\ntoString y\nhasOwnProperty z\n__proto__ w\n')],
    tree(dir('/usr')),
  );
  assert.deepEqual(r.notEmulated.map((n) => n.command).sort(), [
    '__proto__',
    'constructor',
    'hasOwnProperty',
    'toString',
  ]);
  assert.deepEqual(r.entries, []);
});
