// biome-ignore-all lint/suspicious/noTemplateCurlyInString: shell scripts under test hold shell expansions
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runsArguments, scriptCommands, scriptPaths, sourcedFiles } from './shell-script.ts';

test('the commands of a launcher: literal variables expanded, defaults taken, exec and && followed', () => {
  const text = [
    '#!/bin/sh',
    'ROOTDIR="/usr/lib/erlang"',
    'BINDIR=$ROOTDIR/erts-13.1.5/bin',
    'HTTPD=${APACHE_HTTPD:-/usr/sbin/apache2}',
    "PROGNAME=`echo $0 | sed 's/.*\\///'`",
    'mkdir -p /run/x && chown www-data /run/x # not: rm',
    'if [ -x "$HTTPD" ]; then "$HTTPD" -t; fi',
    'LC_ALL=C sort file | uniq -c',
    'x=$(id -u)',
    'exec "$BINDIR/erlexec" ${1+"$@"}',
  ].join('\n');
  // echo is a builtin; sed runs in the backquotes
  assert.deepEqual(scriptCommands(text), [
    'sed',
    'mkdir',
    'chown',
    '/usr/sbin/apache2',
    'sort',
    'uniq',
    'id',
    '/usr/lib/erlang/erts-13.1.5/bin/erlexec',
  ]);
});

test('a program named by a variable given a default where unset (tzselect: `: ${AWK=awk}`, then `$AWK …`)', () => {
  const text = [
    ': ${AWK=awk}',
    ': "${PAGER:=less}"',
    'SED=/bin/sed',
    ': ${SED=sed}',
    "($AWK -v x=y 'BEGIN { exit 123 }') </dev/null",
    'out=`$SED -n p file`',
    'echo "$x" | $PAGER',
    '${CC:=cc} -o x x.c',
    ': ${UNKNOWN=$HOME/bin/x}',
    '$UNKNOWN',
  ].join('\n');
  // SED was set before its default: the assignment wins, as in the shell
  assert.deepEqual(scriptCommands(text), ['awk', '/bin/sed', 'less', 'cc']);
  // what a trap's action and `sh -c` run (tzselect's `trap 'status=$?; rm -fr -- "$tmp"; exit $status' 0`)
  assert.deepEqual(
    scriptCommands(
      [
        'trap \'status=$?; rm -fr -- "$tmp"; exit $status\' 0 HUP INT PIPE TERM &&',
        '  tmp=`mktemp -d`',
        'trap "kill $pid" EXIT', // kill: the builtin
        "sh -c 'chown -R www-data /srv && logger done'",
        '/bin/bash -c "sleep 1"',
      ].join('\n'),
    ),
    ['rm', 'mktemp', 'sh', 'chown', 'logger', '/bin/bash', 'sleep'],
  );
  // what runners and find -exec run (a docker-entrypoint.sh's `find . \! -user redis -exec chown …`)
  assert.deepEqual(
    scriptCommands(
      [
        "find . \\! -user redis -exec chown redis '{}' +",
        'ls *.log | xargs -r -n 1 gzip -9',
        'exec gosu redis "$0" "$@"',
        'env LANG=C sort x',
        'xargs echo < list',
      ].join('\n'),
    ),
    ['chown', 'find', 'ls', 'gzip', 'xargs', 'gosu', 'sort', 'env', 'echo'],
  );
  // a command in a variable assigned in a case branch, run through eval (zdiff)
  assert.deepEqual(
    scriptCommands(
      [
        'case $1 in',
        "  *cmp) prog=cmp;  cmp='${CMP-cmp}'  ;;",
        "  *)    prog=diff; cmp='${DIFF-diff}';;",
        'esac',
        'eval "$cmp" -- "$1" "$2"',
      ].join('\n'),
    ),
    ['diff'],
  );
  // exec replaces the shell with a program: `exec echo` runs /usr/bin/echo (tzselect --version)
  assert.deepEqual(scriptCommands('echo a\n-version) exec echo "tzselect $V" ;;\nnohup true &\n'), [
    'echo',
    'true',
  ]);
});

test('what runs nothing is not a command: comments, heredocs, usage text across lines, case patterns, functions, builtins, unknown variables', () => {
  const text = [
    'usage() {',
    '  cat <<EOF',
    'Usage: prog [options]',
    "  start    don't run this",
    'EOF',
    '}',
    'msg="Report bugs to',
    'the maintainers of this"',
    'case "$1" in',
    '  start|restart) daemon --start ;;',
    '  stop) usage ;;',
    'esac',
    '# tar -x',
    'test -n "$X" && cd /tmp',
    '"$UNKNOWN/bin/x" --go',
    'exit 2',
  ].join('\n');
  assert.deepEqual(scriptCommands(text), ['cat', 'daemon']);
});

test('the files a script sources: by literal path, and through a variable assigned a literal before (also after &&)', () => {
  const text = [
    '#!/bin/sh',
    '. /lib/lsb/init-functions',
    'if test -z "$APACHE_CONFDIR" ; then',
    '  APACHE_CONFDIR=/etc/apache2',
    'fi',
    'test -z "$APACHE_ENVVARS" && APACHE_ENVVARS="$APACHE_CONFDIR/envvars"',
    'if test -f $APACHE_ENVVARS; then',
    '  . $APACHE_ENVVARS',
    'fi',
    'source "$UNKNOWN/x"',
    '. ./relative',
    '. /etc/../shadow',
  ].join('\n');
  assert.deepEqual(sourcedFiles(text), ['/lib/lsb/init-functions', '/etc/apache2/envvars']);
});

test("the paths a script names: a variable's default value, a path up to the variable after it", () => {
  const text = [
    '[ ! -d ${APACHE_LOCK_DIR:-/var/lock/apache2} ] && mkdir -p "$DIR"',
    'export APACHE_LOG_DIR=/var/log/apache2$SUFFIX',
    'PIDFILE=/run/x.pid # not /var/commented',
    'cd /srv/../etc',
  ].join('\n');
  assert.deepEqual(scriptPaths(text), ['/var/lock/apache2', '/var/log/apache2', '/run/x.pid']);
  // through variables assigned a literal or a default before (tzselect)
  const tzselect = [
    ': ${TZDIR=/usr/share/zoneinfo}',
    'zonetabtype=zone1970',
    'TZ_COUNTRY_TABLE=$TZDIR/iso3166.tab',
    'TZ_ZONE_TABLE="${TZDIR}/$zonetabtype.tab"',
    'cat $NOWHERE/x.tab',
  ].join('\n');
  assert.deepEqual(scriptPaths(tzselect), [
    '/usr/share/zoneinfo',
    '/usr/share/zoneinfo/iso3166.tab',
    '/usr/share/zoneinfo/zone1970.tab',
  ]);
});

test("$0 is the script's own path when given (valgrind's wrapper: exec $0.bin)", () => {
  assert.deepEqual(scriptCommands('#!/bin/sh\nexec $0.bin "$@"\n', '/usr/bin/valgrind'), [
    '/usr/bin/valgrind.bin',
  ]);
  assert.deepEqual(scriptCommands('#!/bin/sh\nexec $0.bin "$@"\n'), []);
});

test('programs looked up to be run, command substitutions inside quotes, ${…} words, continued lines', () => {
  const text = [
    '#!/bin/sh',
    'if [ -z "$JAVA_HOME" ] ; then',
    '  JAVACMD="`\\\\unset -f command; \\\\command -v java`"',
    'fi',
    'X="$(id -u)"',
    'which gpg >/dev/null && type -p node',
    'hash curl 2>/dev/null',
    'LAUNCHER=org.example.Main',
    'if [ ${found} -eq 1 ]; then :; fi',
    'exec "$JAVACMD" \\',
    '  ${LAUNCHER} "$@"',
  ].join('\n');
  assert.deepEqual(scriptCommands(text), ['java', 'id', 'gpg', 'which', 'node', 'curl']);
});

test('a script that runs its arguments (the docker-entrypoint.sh idiom exec "$@"), and ones that only pass them on', () => {
  for (const t of [
    '#!/bin/sh\nset -e\nmkdir -p /run/x\nexec "$@"\n',
    '#!/bin/sh\nif [ "$1" = serve ]; then exec app; fi\n"$@"\n',
    '#!/bin/bash\n[ -n "$1" ] && exec ${@}\n',
    '#!/bin/sh\nchown -R app /data\nexec gosu app "$@"\n',
    '#!/bin/sh\nexec /usr/bin/tini -- "$@"\n',
  ])
    assert.ok(runsArguments(t), t);
  for (const t of [
    '#!/bin/sh\nexec /usr/bin/app "$@"\n',
    '#!/bin/sh\necho "$@"\nset -- "$@" --verbose\n',
    '#!/bin/sh\ncat <<EOF\nexec "$@"\nEOF\n',
    '#!/bin/sh\n# exec "$@" in a comment\n',
  ])
    assert.ok(!runsArguments(t), t);
});
