/**
 * modules.test.ts — the module-directory rule (closure/module-dirs.ts) on a small root built with gcc: a
 * library with a plugin directory compiled into it gets the directory whole (each module with its own
 * closure, the plugin list beside them); directories other rules or nobody should ship are left; with
 * the rule off, a warning names the directory. The real libraries of the class (ImageMagick, Graphviz,
 * SoX) are test/e2e/real-launch-data.test.ts's.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveClosure } from '../../src/closure/closure.ts';
import { moduleDirCandidates, shareDataCandidates } from '../../src/closure/module-dirs.ts';
import { hostFs } from '../../src/fs/host-fs.ts';
import { gcc, glibcRoot, LIB, putFile } from './glibc-root.ts';

const MODS = `${LIB}/hostmods`;

let parent: string;
let root: string;

before(() => {
  parent = mkdtempSync(join(tmpdir(), 'fromscratch-modules-'));
  root = join(parent, 'root');
  const b = join(parent, 'build');
  mkdirSync(b);
  const put = (from: string, to: string) => putFile(root, from, to);
  glibcRoot(root);
  const src = (name: string, text: string) => writeFileSync(join(b, name), text);
  // the host library: its module directory, a parent of modules, a directory left to GIO, all compiled in
  src(
    'host.c',
    `const char *dirs[] = {"${MODS}", "${LIB}/parentonly/", "${LIB}/gio/modules", "${LIB}", "/usr/share/hostdata/v1/init:/usr/share/doc/hostdata", "/usr/share/zoneinfo", "${LIB}/zshlike/5.9"};
     const char *host_dir(int i) { return dirs[i]; }\n`,
  );
  gcc(['-shared', '-fPIC', '-Wl,-soname,libhost.so.1', '-o', 'libhost.so.1', 'host.c'], b);
  src('extra.c', 'int extra(void) { return 1; }\n');
  gcc(['-shared', '-fPIC', '-Wl,-soname,libextra.so.1', '-o', 'libextra.so.1', 'extra.c'], b);
  src('gone.c', 'int gone(void) { return 1; }\n');
  gcc(['-shared', '-fPIC', '-Wl,-soname,libgone.so.1', '-o', 'libgone.so.1', 'gone.c'], b);
  src('mod.c', 'int mod(void) { return 0; }\n');
  gcc(['-shared', '-fPIC', '-o', 'a.so', 'mod.c'], b);
  src('b.c', 'int extra(void); int modb(void) { return extra(); }\n');
  gcc(['-shared', '-fPIC', '-o', 'b.so', 'b.c', './libextra.so.1'], b);
  src('c.c', 'int gone(void); int modc(void) { return gone(); }\n');
  gcc(['-shared', '-fPIC', '-o', 'c.so', 'c.c', './libgone.so.1'], b);
  src('prog.c', 'const char *host_dir(int); int main(void) { return host_dir(0)[0] == 0; }\n');
  gcc(['-o', 'prog', 'prog.c', './libhost.so.1'], b);
  put(join(b, 'prog'), '/usr/bin/prog');
  put(join(b, 'libhost.so.1'), `${LIB}/libhost.so.1`);
  put(join(b, 'libextra.so.1'), `${LIB}/libextra.so.1`); // libgone.so.1 stays out of the root
  put(join(b, 'a.so'), `${MODS}/a.so.1.0`);
  symlinkSync('a.so.1.0', join(root, MODS, 'a.so'));
  put(join(b, 'b.so'), `${MODS}/b.so`);
  put(join(b, 'c.so'), `${MODS}/c.so`);
  writeFileSync(join(root, MODS, 'plugins.conf'), 'a.so\nb.so\nc.so\n');
  // a parent of module directories beside other things (ImageMagick-6.9.11: config-Q16, modules-Q16/coders)
  put(join(b, 'a.so'), `${LIB}/parentonly/modules/coders/x.so`);
  mkdirSync(join(root, LIB.slice(1), 'parentonly/config'), { recursive: true });
  writeFileSync(join(root, LIB.slice(1), 'parentonly/config/policy.xml'), '<policy/>\n');
  // a directory of module directories only (zsh's zsh/5.9 holds zsh/*.so, loaded as zsh/mathfunc)
  put(join(b, 'a.so'), `${LIB}/zshlike/5.9/zsh/mathfunc.so`);
  put(join(b, 'a.so'), `${LIB}/gio/modules/libgiofake.so`);
  // its data: named at v1/init, reached from there as ../icc (a link into another data directory)
  mkdirSync(join(root, 'usr/share/hostdata/v1/init'), { recursive: true });
  writeFileSync(join(root, 'usr/share/hostdata/v1/init/start.dat'), 'start\n');
  mkdirSync(join(root, 'usr/share/color/icc'), { recursive: true });
  writeFileSync(join(root, 'usr/share/color/icc/gray.icc'), 'icc\n');
  symlinkSync('../../color/icc', join(root, 'usr/share/hostdata/v1/icc'));
  mkdirSync(join(root, 'usr/share/doc/hostdata'), { recursive: true });
  writeFileSync(join(root, 'usr/share/doc/hostdata/README'), 'doc\n');
  // the zone database it reads zones from by name (php's date.timezone, postgres's TimeZone)
  mkdirSync(join(root, 'usr/share/zoneinfo/Europe'), { recursive: true });
  copyFileSync('/usr/share/zoneinfo/Europe/Paris', join(root, 'usr/share/zoneinfo/Europe/Paris'));
});
after(() => rmSync(parent, { recursive: true, force: true }));

describe('the module directories compiled into a library', () => {
  it('candidates: normalised, unique, without the search directories, other rules and GPU drivers', () => {
    assert.deepEqual(
      moduleDirCandidates(
        [
          `${LIB}/ImageMagick-6.9.11//modules-Q16/coders`,
          `${LIB}/ImageMagick-6.9.11//modules-Q16/coders/`,
          `${LIB}/`,
          '/usr/lib',
          `${LIB}/gconv`,
          `${LIB}/ossl-modules`,
          `${LIB}/engines-3`,
          `${LIB}/gio/modules`,
          `${LIB}/dri`,
          `${LIB}/security`,
          `${LIB}/perl5/5.36`,
          '/usr/lib/python3.11/lib-dynload',
          `${LIB}/../../etc`,
          `${LIB}/sasl2`,
          '/usr/lib/has space',
          // data strings are the data rule's: never walked as module directories
          '/usr/share/zoneinfo',
          '/usr/share/locale',
        ],
        [LIB, '/usr/lib', '/lib'],
      ),
      [`${LIB}/ImageMagick-6.9.11/modules-Q16/coders`, `${LIB}/sasl2`],
    );
  });

  it('a library naming its module directory gets every module, with their libraries, and the files beside them', async () => {
    const r = await resolveClosure(['/usr/bin/prog'], hostFs(root));
    for (const p of [
      `${MODS}/a.so`,
      `${MODS}/a.so.1.0`,
      `${MODS}/b.so`,
      `${MODS}/c.so`,
      `${MODS}/plugins.conf`,
    ])
      assert.ok(r.files.has(p), p);
    // a module's own libraries come with it
    assert.ok(r.files.has(`${LIB}/libextra.so.1`));
    assert.ok(
      r.files
        .get(`${MODS}/plugins.conf`)
        ?.origins.some(
          (o) =>
            o.kind === 'inferred' &&
            o.by === `${LIB}/libhost.so.1` &&
            o.reason === `libhost.so.1 loads its modules from ${MODS} (compiled into it) by dlopen`,
        ),
    );
    // a module whose library the root lacks is listed unresolved, never an error
    assert.ok(r.unresolved.some((u) => u.soname === 'libgone.so.1' && u.neededBy === `${MODS}/c.so`));
    // a directory whose subdirectory holds the modules: the modules, by their subdirectory
    assert.ok(r.files.has(`${LIB}/zshlike/5.9/zsh/mathfunc.so`));
    // a parent of a module directory, GIO's optional modules and the search directory are not shipped
    assert.ok(![...r.files.keys()].some((p) => p.includes('/parentonly/') || p.includes('/gio/')));
    assert.deepEqual(
      r.warnings.filter((w) => w.includes('modules')),
      [],
    );
  });

  it('data candidates: lists split, each as its /usr/share directory, documentation and other rules left', () => {
    assert.deepEqual(
      shareDataCandidates([
        '/usr/share/ghostscript/10.00.0/Resource/Init:/usr/share/ghostscript/fonts:/usr/share/fonts',
        '/usr/share/hunspell:/usr/share/myspell:/usr/share/myspell/dicts:/Library/Spelling',
        '/usr/share/vim',
        '/usr/share/doc/vim/README',
        '/usr/share/locale',
        '/usr/share/zoneinfo/UTC',
        '/usr/share/perl/5.36',
        '/usr/share/',
        '/usr/share/../../etc',
      ]),
      [
        '/usr/share/ghostscript',
        '/usr/share/fonts',
        '/usr/share/hunspell',
        '/usr/share/myspell',
        '/usr/share/vim',
      ],
    );
  });

  it('a library naming its data under /usr/share gets that data directory whole, links followed; not the documentation', async () => {
    const r = await resolveClosure(['/usr/bin/prog'], hostFs(root));
    for (const p of [
      '/usr/share/hostdata/v1/init/start.dat',
      '/usr/share/hostdata/v1/icc',
      '/usr/share/color/icc/gray.icc',
    ])
      assert.ok(r.files.has(p), p);
    assert.ok(
      r.files
        .get('/usr/share/hostdata/v1/init/start.dat')
        ?.origins.some(
          (o) =>
            o.kind === 'inferred' &&
            o.reason === 'libhost.so.1 reads its data from /usr/share/hostdata (compiled into it)',
        ),
    );
    assert.ok(![...r.files.keys()].some((p) => p.startsWith('/usr/share/doc')));
    // a library naming the zone database (not libc: tzset is the zoneinfo rule's) gets it whole
    assert.ok(
      r.files
        .get('/usr/share/zoneinfo/Europe/Paris')
        ?.origins.some(
          (o) => o.kind === 'inferred' && /libhost\.so\.1 reads time zones by name/.test(o.reason),
        ),
    );
    const off = await resolveClosure(['/usr/bin/prog'], hostFs(root), {
      infer: { shareData: false, zoneinfo: false },
    });
    assert.ok(![...off.files.keys()].some((p) => p.startsWith('/usr/share/')));
  });

  it('with the rule off nothing is added, and a warning names the directory', async () => {
    const r = await resolveClosure(['/usr/bin/prog'], hostFs(root), { infer: { modules: false } });
    assert.ok(![...r.files.keys()].some((p) => p.startsWith(`${MODS}/`)));
    assert.ok(
      r.warnings.includes(
        `libhost.so.1 loads its modules from ${MODS} (compiled into it), which is not added (--no-infer=modules): what needs one of them fails at run time; add the ones the program uses with --add`,
      ),
      r.warnings.join('\n'),
    );
  });
});
