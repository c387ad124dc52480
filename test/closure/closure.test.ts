/**
 * closure.test.ts — resolveClosure over a gcc-built sysroot: the loader's search rules, symlink shape,
 * scripts, inference, errors, and RELIABILITY.md G2 (cycles, diamonds), G6 (DT_NEEDED with '/',
 * RUNPATH /root/.ssh, $ORIGIN/../../.. never escaping), G7 (PT_INTERP validated). Each program that
 * ld.so can load is also checked against the loader itself (`chroot ROOT ld.so --list`, a test oracle).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { type ClosureResult, closureToEntries, resolveClosure } from '../../src/closure/closure.ts';
import { newClosureCache } from '../../src/closure/closure-cache.ts';
import { formatDepsTree, toDepsJson } from '../../src/closure/deps-format.ts';
import { isFromscratchError } from '../../src/errors.ts';
import { hostFs } from '../../src/fs/host-fs.ts';
import type { Origin } from '../../src/fs/origin.ts';
import { resolvePath } from '../../src/fs/resolve.ts';
import type { RootFs } from '../../src/fs/root-fs.ts';
import { buildSysroot, type Sysroot, TRIPLET } from './sysroot-fixture.ts';

const LIBDIR = `/usr/lib/${TRIPLET}`;
let sys: Sysroot;
let fs: RootFs;

before(async () => {
  sys = await buildSysroot();
  fs = hostFs(sys.root);
});
after(() => sys?.cleanup());

/** hiding returns a view of fs without the given paths (a root whose ld.so.cache was never built). */
function hiding(inner: RootFs, hidden: readonly string[]): RootFs {
  return {
    ...inner,
    name: `${inner.name} (without ${hidden.join(', ')})`,
    lstat: async (p) => (hidden.includes(p) ? undefined : inner.lstat(p)),
  };
}

const loose = { strict: false } as const;

function neededVia(r: ClosureResult, by: string, soname: string): string | undefined {
  return r.objects.get(by)?.needed.find((n) => n.name === soname)?.via;
}

function realFiles(r: ClosureResult): string[] {
  return [...r.objects.keys()].sort();
}

async function oracle(prog: string): Promise<{ ok: true; reals: string[] } | { ok: false; missing: string }> {
  let out: string;
  try {
    out = execFileSync('chroot', [sys.root, '/lib64/ld-linux-x86-64.so.2', '--list', prog], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const msg = String((e as { stderr?: string }).stderr ?? e);
    const m = /error while loading shared libraries: ([^:]+):/.exec(msg);
    if (!m) throw new Error(`ld.so --list ${prog} failed: ${msg}`);
    return { ok: false, missing: m[1]! };
  }
  const reals = new Set<string>([(await resolvePath(fs, prog)).path]);
  for (const line of out.split('\n')) {
    const m = /=> (\/\S+)/.exec(line) ?? /^\s+(\/\S+) \(/.exec(line);
    if (m) reals.add((await resolvePath(fs, m[1]!)).path);
  }
  return { ok: true, reals: [...reals].sort() };
}

describe('glibc search rules', () => {
  it('G2: a DT_NEEDED cycle terminates, each library once, via RUNPATH $ORIGIN/../lib and $ORIGIN', async () => {
    const r = await resolveClosure(['/opt/cyc/bin/cyc'], fs);
    assert.equal(neededVia(r, '/opt/cyc/bin/cyc', 'libA.so'), 'RUNPATH /opt/cyc/lib');
    assert.equal(neededVia(r, '/opt/cyc/lib/libA.so', 'libB.so'), 'RUNPATH /opt/cyc/lib');
    assert.equal(neededVia(r, '/opt/cyc/lib/libB.so', 'libA.so'), 'RUNPATH /opt/cyc/lib');
    assert.equal(r.files.get('/opt/cyc/lib/libA.so')?.kind, 'file');
    const o = await oracle('/opt/cyc/bin/cyc');
    assert.deepEqual(o, { ok: true, reals: realFiles(r) });
  });

  it('G2: a diamond maps the shared library once', async () => {
    const r = await resolveClosure(['/opt/dia/bin/dia'], fs);
    const base = [...r.objects.keys()].filter((k) => k.endsWith('libBase.so'));
    assert.deepEqual(base, ['/opt/dia/lib/libBase.so']);
    assert.deepEqual(await oracle('/opt/dia/bin/dia'), { ok: true, reals: realFiles(r) });
  });

  it('DT_RPATH is inherited by dependencies; DT_RUNPATH is not; an object with RUNPATH ignores inherited RPATH', async () => {
    const rp = await resolveClosure(['/opt/rp/bin/rp'], fs);
    assert.equal(neededVia(rp, '/opt/rp/bin/rp', 'libX.so'), 'RPATH /opt/rp');
    assert.equal(neededVia(rp, '/opt/rp/libX.so', 'libY.so'), 'RPATH /opt/rp (of /opt/rp/bin/rp)');
    assert.deepEqual(await oracle('/opt/rp/bin/rp'), { ok: true, reals: realFiles(rp) });

    const run = await resolveClosure(['/opt/rp/bin/run'], fs, loose);
    assert.equal(neededVia(run, '/opt/rp/bin/run', 'libX.so'), 'RUNPATH /opt/rp');
    assert.deepEqual(
      run.unresolved.map((u) => [u.soname, u.neededBy]),
      [['libY.so', '/opt/rp/libX.so']],
    );
    assert.deepEqual(await oracle('/opt/rp/bin/run'), { ok: false, missing: 'libY.so' });

    const rp2 = await resolveClosure(['/opt/rp/bin/rp2'], fs, loose);
    assert.deepEqual(
      rp2.unresolved.map((u) => [u.soname, u.neededBy]),
      [['libY.so', '/opt/rp2/libX2.so']],
    );
    assert.ok(
      !rp2.unresolved[0]!.searched.includes('/opt/rp'),
      'RPATH of the program must not be searched for an object with RUNPATH',
    );
    assert.deepEqual(await oracle('/opt/rp/bin/rp2'), { ok: false, missing: 'libY.so' });
  });

  it('DF_1_NODEFLIB refuses default directories and their cache entries; LD_LIBRARY_PATH still works', async () => {
    const r = await resolveClosure(['/opt/nodef/nodef'], fs, loose);
    assert.deepEqual(r.unresolved.map((u) => u.soname).sort(), ['libc.so.6', 'libz.so.1']);
    assert.deepEqual(await oracle('/opt/nodef/nodef'), { ok: false, missing: 'libz.so.1' });
    const withLd = await resolveClosure(['/opt/nodef/nodef'], fs, { libraryPath: [`/lib/${TRIPLET}`] });
    assert.equal(neededVia(withLd, '/opt/nodef/nodef', 'libz.so.1'), `LD_LIBRARY_PATH /lib/${TRIPLET}`);
  });

  it('a wrong-class library earlier in the path is skipped, a non-ELF one skipped with a warning', async () => {
    const r = await resolveClosure(['/opt/mm/mm'], fs);
    assert.equal(neededVia(r, '/opt/mm/mm', 'libz.so.1'), 'ld.so.cache');
    assert.ok(!r.files.has('/opt/mm32/libz.so.1') && !r.files.has('/opt/mmtxt/libz.so.1'));
    assert.ok(r.warnings.some((w) => w.includes('/opt/mmtxt/libz.so.1 is not an ELF file')));
  });

  it('ld.so.cache of the root is used; without it, ld.so.conf (with include globs) stands in', async () => {
    const r = await resolveClosure(['/opt/cd/cd'], fs);
    assert.equal(neededVia(r, '/opt/cd/cd', 'libcd.so.1'), 'ld.so.cache');
    assert.deepEqual(await oracle('/opt/cd/cd'), { ok: true, reals: realFiles(r) });
    assert.match(
      JSON.stringify(r.files.get('/etc/ld.so.cache')?.origins),
      /outside the default directories/,
      'the image needs the cache to find /opt/cachedir',
    );
    const plain = await resolveClosure(['/opt/dia/bin/dia'], fs);
    assert.ok(
      !plain.files.has('/etc/ld.so.cache'),
      'not needed when everything is in RUNPATH or default directories',
    );
    const noCache = hiding(fs, ['/etc/ld.so.cache']);
    const r2 = await resolveClosure(['/opt/cd/cd'], noCache);
    assert.equal(neededVia(r2, '/opt/cd/cd', 'libcd.so.1'), 'ld.so.conf /opt/cachedir');
    assert.equal(neededVia(r2, '/opt/cd/cd', 'libc.so.6'), `default path /lib/${TRIPLET}`);
    assert.ok(r2.warnings.some((w) => w.includes('libcd.so.1 was found through ld.so.conf')));
  });

  it('glibc-hwcaps: every variant present is kept (the target CPU is unknown), from the cache and from directories', async () => {
    for (const root of [fs, hiding(fs, ['/etc/ld.so.cache'])]) {
      const r = await resolveClosure(['/opt/hw/hw'], root);
      assert.ok(r.files.has(`${LIBDIR}/libhw.so.1`));
      assert.ok(r.files.has(`${LIBDIR}/glibc-hwcaps/x86-64-v3/libhw.so.1`), root.name);
      assert.deepEqual(r.objects.get(`${LIBDIR}/libhw.so.1`)?.variants, [
        `${LIBDIR}/glibc-hwcaps/x86-64-v3/libhw.so.1`,
      ]);
      const o = await oracle('/opt/hw/hw');
      assert.ok(
        o.ok && o.reals.every((p) => r.files.has(p)),
        'whatever ld.so picked on this CPU is in the closure',
      );
    }
  });
});

describe('paths keep their shape and stay in the root', () => {
  it('usr-merge and loader links are symlinks beside the real files; PT_INTERP path exists', async () => {
    const r = await resolveClosure(['/opt/cyc/bin/cyc'], fs);
    assert.deepEqual(
      [
        ['/lib64', r.files.get('/lib64')?.kind, r.files.get('/lib64')?.target],
        ['/lib', r.files.get('/lib')?.kind, r.files.get('/lib')?.target],
      ],
      [
        ['/lib64', 'symlink', 'usr/lib64'],
        ['/lib', 'symlink', 'usr/lib'],
      ],
    );
    assert.equal(
      r.files.get('/usr/lib64/ld-linux-x86-64.so.2')?.target,
      `/lib/${TRIPLET}/ld-linux-x86-64.so.2`,
    );
    const interp = r.files.get(`${LIBDIR}/ld-linux-x86-64.so.2`);
    assert.equal(interp?.kind, 'file');
    assert.ok(interp?.origins.some((o) => o.kind === 'interpreter' && o.by === '/opt/cyc/bin/cyc'));
    assert.ok(!r.files.has(`/lib/${TRIPLET}/libc.so.6`), 'no file under a symlinked directory');
    assert.equal(r.files.get(`${LIBDIR}/libc.so.6`)?.kind, 'file');
  });

  it('G6: DT_NEEDED with a slash is a path inside the root; /etc/shadow is never taken', async () => {
    const r = await resolveClosure(['/opt/p/slash'], fs);
    assert.equal(neededVia(r, '/opt/p/slash', 'opt/p/libp.so'), 'path');
    const s = await resolveClosure(['/opt/evil/shadow'], fs, loose);
    assert.deepEqual(
      s.unresolved.map((u) => u.soname),
      ['/etc/shadow'],
    );
    assert.ok(!s.files.has('/etc/shadow'));
  });

  it('G6: RUNPATH /root/.ssh offers a non-ELF file: skipped, never copied', async () => {
    const r = await resolveClosure(['/opt/evil/ssh'], fs, loose);
    assert.deepEqual(
      r.unresolved.map((u) => u.soname),
      ['libsecret.so'],
    );
    assert.ok(![...r.files.keys()].some((p) => p.startsWith('/root')));
  });

  it('G6: $ORIGIN/../../../.. is clamped at the root; a library planted beside the root is not found', async () => {
    const r = await resolveClosure(['/opt/evil/bin/esc'], fs, loose);
    assert.deepEqual(
      r.unresolved.map((u) => u.soname),
      ['libesc.so'],
    );
    assert.ok(r.unresolved[0]!.searched.includes('/'));
    for (const f of r.files.values()) assert.ok(fs.hostPath(f.path)!.startsWith(`${sys.root}/`), f.path);
  });

  it('closureToEntries keeps modes, symlink targets and security.capability, and points at host files', async () => {
    const r = await resolveClosure(['/opt/cap/capprog'], fs);
    const entries = await closureToEntries(r, fs);
    const prog = entries.find((e) => e.entry.path === '/opt/cap/capprog')!;
    assert.equal(prog.entry.type, 'file');
    assert.equal(prog.entry.mode, 0o755);
    assert.ok(prog.entry.xattrs?.['security.capability'], 'capability kept');
    assert.equal(prog.hostPath, `${sys.root}/opt/cap/capprog`);
    const link = entries.find((e) => e.entry.path === '/lib64')!;
    assert.deepEqual(
      [link.entry.type, link.entry.type === 'symlink' && link.entry.target],
      ['symlink', 'usr/lib64'],
    );
    assert.deepEqual(
      entries.map((e) => e.entry.path),
      [...entries.map((e) => e.entry.path)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    );
  });
});

describe('scripts and errors', () => {
  it('#!/usr/bin/env -S NAME brings env and NAME found on PATH, with their closures', async () => {
    const r = await resolveClosure(['/usr/local/bin/tool'], fs, loose);
    assert.ok(
      r.files
        .get('/usr/bin/env')
        ?.origins.some((o) => o.kind === 'shebang' && o.by === '/usr/local/bin/tool'),
    );
    assert.ok(r.files.get('/usr/bin/mytool')?.origins.some((o) => o.kind === 'shebang'));
    assert.ok(r.files.has('/opt/dia/lib/libBase.so'), 'closure of the command');
    assert.equal(r.roots.find((x) => x.path === '/usr/local/bin/tool')?.command, '/usr/bin/mytool');
  });

  it('#!/bin/sh brings the /bin -> usr/bin link, the sh -> dash link and dash', async () => {
    const r = await resolveClosure(['/usr/local/bin/shscript'], fs);
    assert.equal(r.files.get('/bin')?.target, 'usr/bin');
    assert.equal(r.files.get('/usr/bin/sh')?.target, 'dash');
    assert.ok(
      r.files
        .get('/usr/bin/dash')
        ?.origins.some((o: Origin) => o.kind === 'shebang' && o.line === '#!/bin/sh -e'),
    );
  });

  it('a missing env command: FILE_NOT_FOUND naming it and PATH (strict), unresolved otherwise', async () => {
    await assert.rejects(
      resolveClosure(['/usr/local/bin/noenv'], fs),
      (e) => isFromscratchError(e, 'FILE_NOT_FOUND') && /"missingtool".*PATH/.test(e.message),
    );
    const r = await resolveClosure(['/usr/local/bin/noenv'], fs, loose);
    assert.equal(r.unresolved[0]?.soname, 'missingtool');
  });

  it('a file neither ELF nor script: NOT_EXECUTABLE naming it; a missing path: FILE_NOT_FOUND', async () => {
    await assert.rejects(
      resolveClosure(['/data.txt'], fs),
      (e) =>
        isFromscratchError(e, 'NOT_EXECUTABLE') && e.message.includes('/data.txt') && e.hint !== undefined,
    );
    await assert.rejects(
      resolveClosure(['/nope'], fs),
      (e) => isFromscratchError(e, 'FILE_NOT_FOUND') && e.message.includes('/nope'),
    );
  });

  it('strict: LIBRARY_NOT_FOUND names the library, who needs it, where we looked, and how to fix it', async () => {
    await assert.rejects(resolveClosure(['/opt/rp/bin/run'], fs), (e) => {
      assert.ok(isFromscratchError(e, 'LIBRARY_NOT_FOUND'));
      assert.match(
        e.message,
        /^library "libY\.so" needed by \/opt\/rp\/libX\.so not found in root .* \(searched .*ld\.so\.cache.*\/usr\/lib/,
      );
      assert.match(e.hint ?? '', /--sysroot/);
      assert.equal((e as unknown as { soname: string }).soname, 'libY.so');
      return true;
    });
  });

  it('G7: PT_INTERP naming a non-ELF file or a directory is refused, never copied', async () => {
    for (const prog of ['/opt/evil/interp-shadow', '/opt/evil/interp-dir']) {
      await assert.rejects(
        resolveClosure([prog], fs),
        (e) => isFromscratchError(e, 'LIBRARY_NOT_FOUND') && /program interpreter \/etc/.test(e.message),
      );
      const r = await resolveClosure([prog], fs, loose);
      assert.deepEqual(
        r.unresolved.map((u) => u.neededBy),
        [prog],
      );
      assert.ok(!r.files.has('/etc/shadow') && !r.files.has('/etc'));
    }
  });

  it('G7: a foreign-architecture program: ARCH_MISMATCH with a --sysroot hint', async () => {
    await assert.rejects(
      resolveClosure(['/opt/arm/prog'], fs),
      (e) =>
        isFromscratchError(e, 'ARCH_MISMATCH') && /aarch64/.test(e.message) && /--sysroot/.test(e.hint ?? ''),
    );
  });
});

describe('musl', () => {
  it('uses /etc/ld-musl-ARCH.path, and libc.* is the loader itself', async () => {
    const r = await resolveClosure(['/opt/musl/bin/mus'], fs);
    assert.equal(r.roots[0]?.loader, 'musl');
    assert.equal(neededVia(r, '/opt/musl/bin/mus', 'libmus.so'), 'default path /opt/musl/lib');
    assert.equal(neededVia(r, '/opt/musl/bin/mus', 'libc.so.6'), 'musl loader (libc)');
    assert.ok(!r.files.has(`${LIBDIR}/libc.so.6`));
    assert.equal(r.files.get('/usr/lib/ld-musl-x86_64.so.1')?.kind, 'file');
  });
});

describe('inference', () => {
  it('getaddrinfo → nsswitch.conf + NSS modules; iconv_open → gconv; pthread_cancel → libgcc_s; dlopen notes', async () => {
    const r = await resolveClosure(['/opt/infer/infer'], fs);
    const why = (p: string) => r.files.get(p)?.origins.find((o) => o.kind === 'inferred');
    assert.match(JSON.stringify(why('/etc/nsswitch.conf')), /getaddrinfo/);
    assert.ok(why(`${LIBDIR}/libnss_files.so.2`) && why(`${LIBDIR}/libnss_dns.so.2`));
    for (const p of ['gconv/gconv-modules', 'gconv/gconv-modules.d/extra.conf', 'gconv/FAKE.so'])
      assert.match(JSON.stringify(why(`${LIBDIR}/${p}`)), /iconv_open/, p);
    assert.match(JSON.stringify(why(`${LIBDIR}/libgcc_s.so.1`)), /pthread_cancel/);
    assert.match(JSON.stringify(why('/opt/infer/lib/libfx.so.1')), /dlopen.*fx/);
    assert.ok(!r.files.has('/opt/infer/lib/libsugg.so.1'), 'suggested dlopen entries are left out');
    assert.ok(r.warnings.some((w) => w.includes('libgone.so.1')));
    assert.ok(!r.files.has('/etc/hosts'), 'runtimes mount /etc/hosts');
  });

  it("libstdc++'s iconv_open brings gconv only for a locale of the environment that is not UTF-8 by name (its one conversion is from the locale's codeset)", async () => {
    const gconv = (r: Awaited<ReturnType<typeof resolveClosure>>) =>
      [...r.files.keys()].filter((p) => p.includes('/gconv/'));
    assert.ok((await resolveClosure(['/opt/cxx/cxx'], fs)).files.has('/opt/cxx/libstdc++.so.6'));
    assert.deepEqual(gconv(await resolveClosure(['/opt/cxx/cxx'], fs)), []);
    const utf8 = await resolveClosure(['/opt/cxx/cxx'], fs, {
      locales: [
        { name: 'C.UTF-8', variable: 'LANG' },
        { name: 'de_DE.utf8@euro', variable: 'LC_NUMERIC' },
      ],
    });
    assert.deepEqual(gconv(utf8), []);
    for (const name of ['de_DE', 'de_DE.ISO-8859-15@euro']) {
      const legacy = await resolveClosure(['/opt/cxx/cxx'], fs, { locales: [{ name, variable: 'LANG' }] });
      assert.ok(gconv(legacy).includes(`${LIBDIR}/gconv/gconv-modules`), name);
    }
  });

  it('each inference can be switched off', async () => {
    const r = await resolveClosure(['/opt/infer/infer'], fs, {
      infer: { nss: false, gconv: false, libgcc: false, dlopenNotes: false },
    });
    assert.ok([...r.files.values()].every((f) => f.origins.every((o) => o.kind !== 'inferred')));
  });

  it('a TLS library brings the CA bundle and its conventional symlinks', async () => {
    const r = await resolveClosure(['/opt/tls/tls'], fs);
    assert.equal(r.files.get('/etc/ssl/certs/ca-certificates.crt')?.kind, 'file');
    assert.equal(r.files.get('/usr/lib/ssl/cert.pem')?.target, '/etc/ssl/certs/ca-certificates.crt');
    const off = await resolveClosure(['/opt/tls/tls'], fs, { infer: { caCerts: false } });
    assert.ok(!off.files.has('/etc/ssl/certs/ca-certificates.crt'));
  });
});

describe('output', () => {
  it('formatDepsTree and toDepsJson describe the same closure; several roots share one cache', async () => {
    const cache = newClosureCache(fs);
    const r = await resolveClosure(['/opt/rp/bin/rp', '/opt/cyc/bin/cyc'], fs, { cache });
    const text = formatDepsTree(r);
    assert.match(
      text,
      /^\/opt\/rp\/bin\/rp \(interpreter => \/lib64\/ld-linux-x86-64\.so\.2\)\n {4}libX\.so => \/opt\/rp\/libX\.so \[RPATH \/opt\/rp\]\n {8}libY\.so => /,
    );
    assert.match(text, /\n\/opt\/cyc\/bin\/cyc /);
    const json = toDepsJson(r);
    assert.equal(json.version, 1);
    assert.deepEqual(
      json.files.map((f) => f.path),
      [...r.files.keys()],
    );
    assert.ok(json.objects.some((o) => o.real === '/opt/rp/libY.so'));
    JSON.parse(JSON.stringify(json));
    const again = await resolveClosure(['/opt/rp/bin/rp', '/opt/cyc/bin/cyc'], fs, { cache });
    assert.deepEqual(toDepsJson(again), json, 'same inputs, same result');
  });
});
