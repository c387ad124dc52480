/**
 * static-glibc.test.ts — static and static-pie glibc programs get what glibc dlopens at run time (issue
 * 11): gcc builds the programs in the test; the closure over the host root must hold the gconv modules,
 * the NSS modules, libc.so.6 and the loader, with reasons that say how they were inferred. A static
 * program that uses neither NSS nor iconv gets nothing; with the rules switched off, nothing either.
 * (test/e2e/real-elfdata.test.ts runs such a program FROM scratch in docker.)
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type ClosureResult, resolveClosure } from '../../src/closure/closure.ts';
import { hostFs } from '../../src/fs/host-fs.ts';
import { memoryFs } from '../../src/fs/memory-fs.ts';
import { requireTool } from '../support/validate-tools.ts';

const dir = mkdtempSync(join(tmpdir(), 'fromscratch-static-glibc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const USES = `#include <iconv.h>
#include <pwd.h>
#include <netdb.h>
#include <stdio.h>
int main(void) {
  iconv_t cd = iconv_open("ISO-8859-1", "UTF-8");
  struct passwd *pw = getpwnam("root");
  struct addrinfo *res;
  int rc = getaddrinfo("localhost", "80", 0, &res);
  printf("%d %s %d\\n", cd != (iconv_t)-1, pw ? pw->pw_dir : "-", rc);
  return 0;
}
`;

function compile(name: string, src: string, flags: string[]): string {
  const gcc = requireTool('gcc', 'gcc');
  writeFileSync(join(dir, `${name}.c`), src);
  execFileSync(gcc, [...flags, '-O2', `${name}.c`, '-o', name], { cwd: dir, stdio: 'ignore' });
  return join(dir, name);
}

function reasonsOf(r: ClosureResult, test: (path: string) => boolean): string[] {
  return [...r.files.values()]
    .filter((f) => test(f.path))
    .flatMap((f) => f.origins.map((o) => (o.kind === 'inferred' ? o.reason : o.kind)));
}

test('a static-pie glibc program using iconv, getpwnam and getaddrinfo gets gconv, NSS, libc.so.6 and ld.so', async () => {
  const prog = compile('uses', USES, ['-static-pie']);
  const stripped = join(dir, 'uses.stripped');
  execFileSync(requireTool('strip', 'binutils'), ['-o', stripped, prog]);
  const fs = hostFs('/');
  for (const [p, verb] of [
    [prog, 'has statically linked'],
    [stripped, 'is stripped; its strings'],
  ] as const) {
    const r = await resolveClosure([p], fs);
    const paths = [...r.files.keys()];
    const has = (re: RegExp) => paths.some((x) => re.test(x));
    assert.ok(has(/\/gconv\/gconv-modules$/), `${p}: gconv-modules`);
    assert.ok(has(/\/gconv\/ISO8859-1\.so$/), `${p}: the ISO-8859-1 module`);
    assert.ok(has(/\/libc\.so\.6$/), `${p}: libc.so.6, which the modules need`);
    assert.ok(has(/\/ld-linux-x86-64\.so\.2$/), `${p}: the loader libc.so.6 needs`);
    assert.ok(paths.includes('/etc/nsswitch.conf'), `${p}: nsswitch.conf`);
    const why = reasonsOf(r, (x) => x === '/etc/nsswitch.conf').join('\n');
    assert.ok(why.includes(verb), `${p}: the reason says how it was found: ${why}`);
    if (p === prog) {
      // symbols tell the databases: passwd (getpwnam), hosts and services (getaddrinfo), not ethers
      assert.match(why, /\(hosts, passwd, services\)/);
    } else assert.match(why, /ethers/, 'stripped: every database');
  }
});

test('a static glibc program without NSS or iconv gets nothing more; nor does one with the rules off', async () => {
  const fs = hostFs('/');
  const hello = compile('hello', 'int main(void) { return 0; }\n', ['-static']);
  const r = await resolveClosure([hello], fs);
  assert.deepEqual([...r.files.keys()], [hello]);
  const uses = join(dir, 'uses');
  const off = await resolveClosure([uses], fs, { infer: { nss: false, gconv: false } });
  assert.deepEqual([...off.files.keys()], [uses]);
});

test('NSS of a static program: files and dns are built in; another service brings its module, libc.so.6 and ld.so', async () => {
  const prog = compile('pw', '#include <pwd.h>\nint main(void) { return getpwnam("root") == 0; }\n', [
    '-static-pie',
  ]);
  const lib = '/usr/lib/x86_64-linux-gnu';
  const host = (p: string) => ({ type: 'file' as const, data: readFileSync(p), mode: 0o755 });
  const root = (conf: string) =>
    memoryFs({
      '/pw': host(prog),
      '/etc/nsswitch.conf': { type: 'file', data: Buffer.from(conf) },
      [`${lib}/libnss_files.so.2`]: host(`${lib}/libnss_files.so.2`),
      [`${lib}/libnss_compat.so.2`]: host(`${lib}/libnss_compat.so.2`),
      [`${lib}/libc.so.6`]: host(`${lib}/libc.so.6`),
      [`${lib}/ld-linux-x86-64.so.2`]: host(`${lib}/ld-linux-x86-64.so.2`),
    });
  const files = await resolveClosure(['/pw'], root('passwd: files\nhosts: files dns\n'));
  assert.deepEqual([...files.files.keys()], ['/etc/nsswitch.conf', '/pw']);
  const compat = await resolveClosure(['/pw'], root('passwd: compat files\n'));
  const paths = [...compat.files.keys()];
  for (const want of [`${lib}/libnss_compat.so.2`, `${lib}/libc.so.6`, `${lib}/ld-linux-x86-64.so.2`])
    assert.ok(paths.includes(want), `${want} in ${paths.join(' ')}`);
  assert.match(
    reasonsOf(compat, (p) => p.endsWith('libnss_compat.so.2')).join(),
    /has statically linked getpwnam/,
  );
});
