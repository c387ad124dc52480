// program-files.test.ts — which compiled-in paths name a program's configuration and state, and what
// a configuration names in turn (modules, state, served files).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  commandAccounts,
  commandPaths,
  configPaths,
  moduleNames,
  PROGRAM_PATH,
  PROGRAM_PATH_FOUND,
  PROGRAM_SEARCH_PREFIXES,
  packageConffiles,
  programFilesPlan,
  programStrings,
  stateRootOf,
} from './program-files.ts';

test("nginx's compiled-in paths: its /etc directory, its state paths, its prefix; the system's paths left to others", () => {
  const strings = [
    '/etc/nginx/nginx.conf',
    '/etc/nginx/',
    '/var/log/nginx/access.log',
    '/var/lib/nginx/body',
    '/run/nginx.pid',
    '/var/lock/nginx.lock',
    '/usr/share/nginx/',
    '/etc/passwd',
    '/etc/ssl/certs/ca-certificates.crt',
    '/etc/hosts',
    '/etc/wgetrc',
    '/etc/perl',
    '/etc/perl/Net',
    '/etc/../etc/shadow',
    '/var/tmp',
  ].filter((s) => PROGRAM_PATH.test(s));
  // a path with a dot-dot component names nothing (below: not in the plan)
  assert.deepEqual(programFilesPlan(strings), {
    configDirs: ['/etc/nginx'],
    configFiles: ['/etc/wgetrc'],
    statePaths: [
      '/run/nginx.pid',
      '/var/lib/nginx/body',
      '/var/lock/nginx.lock',
      '/var/log/nginx/access.log',
    ],
    prefixes: ['/etc/nginx/', '/usr/share/nginx/'],
  });
  // a bare state root is not a program's own (/var/tmp, /run): only what lies under one
  assert.deepEqual(programFilesPlan(['/var/log', '/run', '/var/tmp/x']).statePaths, []);
  assert.equal(stateRootOf('/var/log/nginx/access.log'), '/var/log');
  assert.equal(stateRootOf('/run/nginx.pid'), '/run');
  assert.equal(stateRootOf('/var/www/html'), undefined);
  assert.equal(stateRootOf('/run'), undefined);
});

test('a configuration names the modules it loads and the paths it writes or serves; comments do not count', () => {
  const conf = [
    'load_module modules/ngx_http_echo_module.so;',
    '# load_module modules/commented_out.so;',
    'LoadModule rewrite_module /usr/lib/apache2/modules/mod_rewrite.so',
    'PidFile "/run/tinyproxy/tinyproxy.pid"',
    'LogFile "/var/log/tinyproxy/tinyproxy.log" # the log',
    "DefaultErrorFile '/usr/share/tinyproxy/default.html'",
    'error_log /var/log/nginx/error.log;',
    'include /etc/nginx/../../etc/shadow;',
    'listen 127.0.0.1:80; root /var/www/html;',
  ].join('\n');
  assert.deepEqual(moduleNames(conf), [
    'modules/ngx_http_echo_module.so',
    '/usr/lib/apache2/modules/mod_rewrite.so',
  ]);
  assert.deepEqual(configPaths(conf), [
    '/usr/lib/apache2/modules/mod_rewrite.so',
    '/run/tinyproxy/tinyproxy.pid',
    '/var/log/tinyproxy/tinyproxy.log',
    '/usr/share/tinyproxy/default.html',
    '/var/log/nginx/error.log',
    '/var/www/html',
  ]);
});

test('the paths a command line names: absolute arguments and option values, not relative ones or escapes', () => {
  assert.deepEqual(commandPaths(['-D', '-f', '/etc/lighttpd/lighttpd.conf']), [
    '/etc/lighttpd/lighttpd.conf',
  ]);
  assert.deepEqual(commandPaths(['/etc/redis/redis.conf', '--daemonize', 'no']), ['/etc/redis/redis.conf']);
  assert.deepEqual(
    commandPaths([
      '--conf-file=/etc/dnsmasq.conf',
      '-C=/etc/x/y.conf',
      '--pid-file=/run/dnsmasq/dnsmasq.pid',
    ]),
    ['/etc/dnsmasq.conf', '/etc/x/y.conf', '/run/dnsmasq/dnsmasq.pid'],
  );
  assert.deepEqual(
    commandPaths([
      '-f',
      'haproxy.cfg',
      '/etc/../etc/shadow',
      '/home/me/app.conf',
      'daemon off;',
      '/etc/haproxy/haproxy.cfg',
      '/etc/haproxy/haproxy.cfg',
    ]),
    ['/etc/haproxy/haproxy.cfg'],
  );
  // the plan a command line makes: the server's /etc directory, its state
  const plan = programFilesPlan(commandPaths(['-f', '/etc/haproxy/haproxy.cfg', '-p', '/run/haproxy.pid']));
  assert.deepEqual(plan.configDirs, ['/etc/haproxy']);
  assert.deepEqual(plan.statePaths, ['/run/haproxy.pid']);
});

test('the accounts a command line names: -u, --user, -g, --group, user:group; not numbers, not option-like values', () => {
  assert.deepEqual(commandAccounts(['-u', 'memcache', '-m', '64']), { users: ['memcache'], groups: [] });
  assert.deepEqual(commandAccounts(['--keep-in-foreground', '--user=dnsmasq', '--group=nogroup']), {
    users: ['dnsmasq'],
    groups: ['nogroup'],
  });
  assert.deepEqual(commandAccounts(['-u', 'ntp:ntp', '--user', 'bind', '-g', 'daemon']), {
    users: ['ntp', 'bind'],
    groups: ['ntp', 'daemon'],
  });
  // nginx -g 'daemon off;' is a directive, not a group; numeric ids need no entry; a flag at the end
  assert.deepEqual(commandAccounts(['-g', 'daemon off;', '-u', '1000', '--user=0:0', '-u']), {
    users: [],
    groups: [],
  });
  // named -g -u bind: -g is named's foreground switch, followed by an option; -u bind still counts
  assert.deepEqual(commandAccounts(['-g', '-u', 'bind']), { users: ['bind'], groups: [] });
});

test("a doubled leading slash (bind9's //run/named, built with --localstatedir=/) is found and read as one", () => {
  assert.ok(PROGRAM_SEARCH_PREFIXES.includes('//run/'));
  assert.ok(PROGRAM_PATH_FOUND.test('//run/named/named.pid'));
  assert.ok(PROGRAM_PATH_FOUND.test('/etc/bind/named.conf'));
  assert.ok(!PROGRAM_PATH_FOUND.test('///run/named'));
  const strings = programStrings(['//run/named/named.pid', '/run/named/named.pid', '//etc/bind/named.conf']);
  assert.deepEqual(strings, ['/run/named/named.pid', '/etc/bind/named.conf']);
  const plan = programFilesPlan(strings);
  assert.deepEqual(plan.statePaths, ['/run/named/named.pid']);
  assert.deepEqual(plan.configDirs, ['/etc/bind']);
});

test("packageConffiles: a package's configuration files in /etc or in an /etc directory named after the program or package; not another program's directory, nor those dpkg no longer ships", () => {
  const text = [
    '/etc/a2ps.cfg',
    '/etc/a2ps-site.cfg',
    '/etc/emacs/site-start.d/50a2ps.el',
    '/etc/a2ps/extra.cfg',
    '/etc/a2ps-old.cfg obsolete',
    '/etc/a2ps-gone.cfg remove-on-upgrade',
    '/usr/share/a2ps/not-etc',
    '',
  ].join('\n');
  assert.deepEqual(packageConffiles(text, 'a2ps'), [
    '/etc/a2ps.cfg',
    '/etc/a2ps-site.cfg',
    '/etc/a2ps/extra.cfg',
  ]);
  // the directory bears the program's name; another program's (ufw's) is not one
  assert.deepEqual(packageConffiles('/etc/nginx/nginx.conf\n/etc/ufw/applications.d/nginx\n', 'nginx'), [
    '/etc/nginx/nginx.conf',
  ]);
  // and the plan leaves the system's out (init scripts, defaults, logrotate)
  assert.deepEqual(
    programFilesPlan(
      packageConffiles('/etc/init.d/rsync\n/etc/default/rsync\n/etc/logrotate.d/rsync\n', 'rsync'),
    ),
    { configDirs: [], configFiles: [], statePaths: [], prefixes: [] },
  );
});
