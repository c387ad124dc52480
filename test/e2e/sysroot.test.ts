/**
 * sysroot.test.ts — `fromscratch deps` and `build --sysroot` as a user runs them (issue 17: neither had a
 * test). A small root holds a program whose library exists only there (/opt/lib/libprobe.so, RUNPATH);
 * the real ld.so in a chroot of that root is the oracle for deps, and `docker run --network none` of the
 * built image for build. `--trace` with `--sysroot` is refused, and a missing program is named.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { dockerLoadAndRun, dockerRemoveImage, requireTool, withTempDir } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

const LIBDIR = '/usr/lib/x86_64-linux-gnu';

/** makeRoot lays out the root: the host's libc and loader, libprobe only under /opt/lib, the program. */
function makeRoot(dir: string): string {
  requireTool('gcc', 'gcc');
  const root = join(dir, 'root');
  const b = join(dir, 'build');
  for (const d of [
    b,
    join(root, 'usr/bin'),
    join(root, LIBDIR),
    join(root, 'usr/lib64'),
    join(root, 'opt/lib'),
  ])
    mkdirSync(d, { recursive: true });
  symlinkSync('usr/lib', join(root, 'lib'));
  symlinkSync('usr/lib64', join(root, 'lib64'));
  for (const l of ['libc.so.6', 'ld-linux-x86-64.so.2'])
    copyFileSync(realpathSync(`${LIBDIR}/${l}`), join(root, LIBDIR, l));
  symlinkSync(`/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2`, join(root, 'usr/lib64/ld-linux-x86-64.so.2'));
  writeFileSync(join(b, 'probe.c'), 'const char *probe(void) { return "from the sysroot"; }\n');
  writeFileSync(
    join(b, 'main.c'),
    '#include <stdio.h>\nconst char *probe(void);\nint main(void) { puts(probe()); return 0; }\n',
  );
  const gcc = (...a: string[]) => execFileSync('gcc', a, { cwd: b, stdio: ['ignore', 'ignore', 'pipe'] });
  gcc('-shared', '-fPIC', '-o', 'libprobe.so', 'probe.c', '-Wl,-soname,libprobe.so');
  gcc('-o', 'probe', 'main.c', '-L.', '-lprobe', '-Wl,-rpath,/opt/lib', '-Wl,--enable-new-dtags');
  copyFileSync(join(b, 'libprobe.so'), join(root, 'opt/lib/libprobe.so'));
  copyFileSync(join(b, 'probe'), join(root, 'usr/bin/probe'));
  execFileSync('chmod', ['755', join(root, 'usr/bin/probe')]);
  assert.ok(!existsSync('/opt/lib/libprobe.so'), 'the host has no libprobe: only the sysroot can provide it');
  return root;
}

test('deps --sysroot finds the library the root provides, as ld.so in a chroot does', async () => {
  await withTempDir('e2e-sysroot-deps', async (dir) => {
    const root = makeRoot(dir);
    const oracle = execFileSync('chroot', [root, '/usr/bin/probe'], { encoding: 'utf8' });
    assert.equal(oracle, 'from the sysroot\n');
    const json = await fromscratch(['deps', '--sysroot', root, '/usr/bin/probe', '--json'], { cwd: dir });
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as { root: string; objects: unknown[] };
    assert.equal(doc.root, root);
    const text = JSON.stringify(doc.objects);
    assert.ok(text.includes('/opt/lib/libprobe.so'), text);
    assert.ok(text.includes(`${LIBDIR}/libc.so.6`), text);
    assert.ok(!text.includes(dir), "paths are the root's, never the host directory holding it");
    const tree = await fromscratch(['deps', '--sysroot', root, '/usr/bin/probe'], { cwd: dir });
    assert.equal(tree.code, 0, tree.stderr);
    assert.match(tree.stdout, /libprobe\.so => \/opt\/lib\/libprobe\.so \[RUNPATH \/opt\/lib\]/);
    // without the sysroot the host has no libprobe: reported as not found with where it was searched (as
    // ldd does, the listing is the result), never taken from somewhere else
    const host = await fromscratch(['deps', join(root, 'usr/bin/probe')], { cwd: dir });
    assert.equal(host.code, 0, host.stderr);
    assert.match(host.stdout, /^ {4}libprobe\.so => not found$/m);
    assert.match(host.stdout, /libprobe\.so needed by .*\(searched \/opt\/lib, ld\.so\.cache, /);
    const missing = await fromscratch(['deps', '/nonexistent/prog'], { cwd: dir });
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /^error\[[A-Z_]+\]: .*\/nonexistent\/prog/m);
  });
});

test("build --sysroot puts the root's files in the image, which runs FROM scratch; --trace is refused with it", async () => {
  await withTempDir('e2e-sysroot-build', async (dir) => {
    const root = makeRoot(dir);
    const r = await fromscratch(
      [
        'build',
        '--sysroot',
        root,
        '--binary',
        '/usr/bin/probe',
        '--entrypoint',
        '["/usr/bin/probe"]',
        '-o',
        'docker-archive:img.tar:e2e/sysroot:1',
      ],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await dockerLoadAndRun(join(dir, 'img.tar'), 'e2e/sysroot:1'), 'from the sysroot\n');
    await dockerRemoveImage('e2e/sysroot:1');
    const t = await fromscratch(['build', '--sysroot', root, '--trace', 'true', '-o', 'oci:out:x'], {
      cwd: dir,
    });
    assert.equal(t.code, 1, t.stderr);
    assert.match(t.stderr, /^error\[INVALID_ARGUMENT\]: .*--trace .*--sysroot/m);
  });
});
