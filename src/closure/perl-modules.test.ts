import assert from 'node:assert/strict';
import { test } from 'node:test';
import { modulePath, perlCommands, perlUses, xsPath } from './perl-modules.ts';

test('what a Perl source loads: use, require, use parent/base, use lib; not POD, not after __END__, not no', () => {
  const text = [
    '#!/usr/bin/perl',
    'use strict; use warnings;',
    "use lib '/usr/share/postgresql-common', qw(/opt/app/lib relative/lib);",
    'use PgCommon;',
    'use JSON 2.0 qw(encode_json);',
    "use parent -norequire, 'Local::Base';",
    'use base qw(Exporter Foo::Bar);',
    'require Data::Dumper;',
    'no warnings "once";',
    'use 5.010;',
    'my $x = 1; require $x;',
    '',
    '=head1 SYNOPSIS',
    '',
    '  use Not::Loaded;',
    '',
    '=cut',
    '',
    'XSLoader::load();',
    '__END__',
    'use After::End;',
  ].join('\n');
  const u = perlUses(text);
  assert.deepEqual(u.libs, ['/usr/share/postgresql-common', '/opt/app/lib']);
  assert.deepEqual(u.modules, [
    'strict',
    'warnings',
    'PgCommon',
    'JSON',
    'Local::Base',
    'Exporter',
    'Foo::Bar',
    'Data::Dumper',
  ]);
  assert.equal(u.xs, true);
  assert.equal(perlUses('use JSON;').xs, false);
});

test('where a module and its compiled part live under an @INC directory', () => {
  assert.equal(modulePath('Image::ExifTool'), 'Image/ExifTool.pm');
  assert.equal(xsPath('DBI'), 'auto/DBI/DBI.so');
  assert.equal(xsPath('List::Util'), 'auto/List/Util/Util.so');
});

test('the programs a Perl source runs by a literal name: system, exec, backquotes, qx, piped open; not a variable, a file open or POD', () => {
  const text = [
    '#!/usr/bin/perl',
    'my $pid = `pidof x`;',
    'open(LIST, "vgdb -l|") or die;',
    'open(my $out, "| /usr/sbin/sendmail -t");',
    "open(my $fh, '-|', 'git', 'log') || die;",
    'open(my $in, "<", "/etc/passwd");',
    'open(CONF, "/etc/x.conf") or die;',
    'system("gzip -d $f");',
    "system 'tar', '-xf', $f;",
    'exec { "ls" } "ls", "-l";',
    'my $v = qx(uname -r);',
    'system("$prog --help");',
    'system($cmd);',
    '  # system("in-a-comment") runs nothing',
    '=pod',
    '',
    'Run C<`fake-in-pod`> to see.',
    '',
    '=cut',
    '__END__',
    '`after-end`',
  ].join('\n');
  // `system("gzip -d $f")` has a `$`: perl runs it through /bin/sh
  assert.deepEqual(perlCommands(text), [
    '/bin/sh',
    'gzip',
    'tar',
    'ls',
    'pidof',
    'uname',
    'git',
    'vgdb',
    '/usr/sbin/sendmail',
  ]);
});

test('a command string without shell metacharacters is run by perl itself: no /bin/sh', () => {
  assert.deepEqual(
    perlCommands("my $k = `uname -s`;\nsystem('gzip', '-9', $f);\nopen(my $d, '-|', 'date', '-u');\n"),
    ['gzip', 'uname', 'date'],
  );
  assert.deepEqual(perlCommands('system("gzip -c x > y.gz");'), ['/bin/sh', 'gzip']);
});

test("a program from the environment with a default (c_rehash's), in a script that runs programs through a list", () => {
  const text = [
    'my $openssl = $ENV{OPENSSL} || "openssl";',
    "my $ed = $ENV{'EDITOR'} // 'vi';",
    'my $lang = $ENV{LANG} || "C";',
    'sub compute_hash { open(my $fh, "-|", @_) or return; }',
  ].join('\n');
  assert.deepEqual(perlCommands(text), ['openssl', 'vi']);
  // a script that runs nothing names no program
  assert.deepEqual(perlCommands('my $openssl = $ENV{OPENSSL} || "openssl";\nprint $openssl;'), []);
});
