import assert from 'node:assert/strict';
import { test } from 'node:test';
import { modulePath, perlUses, xsPath } from './perl-modules.ts';

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
