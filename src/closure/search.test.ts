/**
 * search.test.ts — searchLibrary's order and rules over a fake root of ELF header stubs (fast: no
 * compiler, no chroot). The oracle for the order itself is the real ld.so in
 * test/closure/search-order.test.ts; this file pins every rule at its boundary so that a change to
 * search.ts is caught in a second (mutation testing, issue 17).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ElfInfo } from '../elf/types.ts';
import { FromscratchError } from '../errors.ts';
import { type MemoryNode, memoryFs } from '../fs/memory-fs.ts';
import type { RootFs } from '../fs/root-fs.ts';
import { newClosureCache } from './closure-cache.ts';
import { toLdCache } from './ld-cache-write.ts';
import {
  acceptCandidate,
  hwcapsOrder,
  isMuslReserved,
  type LoadedObject,
  muslArch,
  type SearchEnv,
  type SearchResult,
  searchLibrary,
} from './search.ts';
import { targetOf } from './target.ts';

const EM_X86_64 = 62;
const EM_AARCH64 = 183;
const DEFAULT = '/usr/lib/x86_64-linux-gnu';

/** elf returns a 64-byte ELF header: class 64 little-endian unless told, ET_DYN x86-64 unless told. */
function elf(o: { cls?: 1 | 2; type?: number; machine?: number } = {}): MemoryNode {
  const b = Buffer.alloc(64);
  b.set([0x7f, 0x45, 0x4c, 0x46, o.cls ?? 2, 1, 1], 0);
  b.writeUInt16LE(o.type ?? 3, 16);
  b.writeUInt16LE(o.machine ?? EM_X86_64, 18);
  return { type: 'file', data: b };
}

function info(o: Partial<ElfInfo> = {}): ElfInfo {
  return {
    class: 64,
    endian: 'little',
    machine: EM_X86_64,
    machineName: 'x86_64',
    osabi: 0,
    type: 'dyn',
    flags: 0,
    dynamic: true,
    needed: [],
    rpath: [],
    runpath: [],
    flags1: 0,
    dtFlags: 0,
    importedSymbols: [],
    exportedSymbols: [],
    ...o,
  } as ElfInfo;
}

function obj(path: string, o: Partial<ElfInfo> = {}, loader?: LoadedObject): LoadedObject {
  const origin = path.slice(0, path.lastIndexOf('/')) || '/';
  return { path, real: path, info: info(o), origin, ...(loader ? { loader } : {}) };
}

interface World {
  nodes: Record<string, MemoryNode>;
  /** ld.so.cache entries (soname → path), x86-64 flags unless told */
  cache?: { key: string; value: string; flags?: number }[];
  libraryPath?: string[];
  flavor?: 'glibc' | 'musl';
  interpreter?: string;
}

function envFor(w: World, main: LoadedObject): SearchEnv {
  const nodes = { ...w.nodes };
  if (w.cache)
    nodes['/etc/ld.so.cache'] = {
      type: 'file',
      data: toLdCache(w.cache.map((e) => ({ flags: 0x0303, ...e }))),
    };
  return {
    cache: newClosureCache(memoryFs(nodes)),
    target: targetOf(main.info),
    flavor: w.flavor ?? 'glibc',
    lib: 'lib64',
    libraryPath: w.libraryPath ?? [],
    main,
    ...(w.interpreter ? { interpreter: w.interpreter } : {}),
    warnings: [],
  };
}

const hit = (r: SearchResult) => (r.found ? `${r.primary.path} via ${r.via}` : 'not found');

async function find(w: World, loader: LoadedObject, main = loader, name = 'libp.so') {
  const env = envFor(w, main);
  const r = await searchLibrary(name, loader, env);
  return { r, env, hit: hit(r) };
}

describe('glibc order: RPATH, LD_LIBRARY_PATH, RUNPATH, cache, defaults (every subset of places)', () => {
  // place → where libp.so is put, and how the program reaches it
  const PLACES = ['rpath', 'ldlp', 'runpath', 'cache', 'default'] as const;
  const DIR = { rpath: '/r', ldlp: '/l', runpath: '/u', cache: '/c', default: DEFAULT } as const;
  const VIA = {
    rpath: 'RPATH /r',
    ldlp: 'LD_LIBRARY_PATH /l',
    runpath: 'RUNPATH /u',
    cache: 'ld.so.cache',
    default: `default path ${DEFAULT}`,
  } as const;
  for (const program of ['rpath', 'runpath'] as const) {
    it(`a program with DT_${program.toUpperCase()}`, async () => {
      // with RUNPATH, the program's RPATH is not searched at all: the order without it
      const order =
        program === 'rpath' ? PLACES.filter((p) => p !== 'runpath') : PLACES.filter((p) => p !== 'rpath');
      for (let mask = 1; mask < 1 << PLACES.length; mask++) {
        const present = PLACES.filter((_, i) => mask & (1 << i));
        const nodes: Record<string, MemoryNode> = {};
        for (const p of present) nodes[`${DIR[p]}/libp.so`] = elf();
        const main = obj(
          '/bin/p',
          program === 'rpath' ? { rpath: ['/r'] } : { runpath: ['/u'], rpath: ['/r'] },
        );
        const { hit: got } = await find(
          {
            nodes,
            libraryPath: ['/l'],
            cache: present.includes('cache') ? [{ key: 'libp.so', value: '/c/libp.so' }] : [],
          },
          main,
        );
        const first = order.find((p) => present.includes(p));
        const want = first ? `${DIR[first]}/libp.so via ${VIA[first]}` : 'not found';
        assert.equal(got, want, present.join(','));
      }
    });
  }

  it('lists every place searched, in order, when not found', async () => {
    const main = obj('/bin/p', { rpath: ['/r'] });
    const { r } = await find({ nodes: {}, libraryPath: ['/l'], cache: [] }, main);
    assert.deepEqual(r, {
      found: false,
      searched: [
        '/r',
        '/l',
        'ld.so.cache',
        '/lib/x86_64-linux-gnu',
        DEFAULT,
        '/lib64',
        '/usr/lib64',
        '/lib',
        '/usr/lib',
      ],
    });
  });

  it('defaults: multiarch, then lib64 for 64-bit only, then lib (a 32-bit target skips lib64)', async () => {
    const nodes = { '/lib64/libp.so': elf(), '/usr/lib/libp.so': elf() };
    assert.equal((await find({ nodes }, obj('/bin/p'))).hit, '/lib64/libp.so via default path /lib64');
    const nodes32 = {
      '/lib64/libp.so': elf({ cls: 1, machine: 3 }),
      '/lib/libp.so': elf({ cls: 1, machine: 3 }),
    };
    const p32 = obj('/bin/p', { class: 32, machine: 3 });
    const r = await find({ nodes: nodes32 }, p32);
    assert.equal(r.hit, '/lib/libp.so via default path /lib');
    assert.ok(!r.r.searched.includes('/lib64'), r.r.searched.join(' '));
  });
});

describe('RPATH inheritance', () => {
  const lib = { '/r/libp.so': elf(), '/m/libp.so': elf() };

  it('RPATHs are searched from the needing object up its chain of loaders, then the program', async () => {
    const main = obj('/bin/p', { rpath: ['/r'] });
    const mid = obj('/x/libmid.so', { rpath: ['/m'] }, main);
    assert.equal((await find({ nodes: lib }, mid, main)).hit, '/m/libp.so via RPATH /m');
    const { r } = await find({ nodes: { '/r/libp.so': elf() } }, mid, main);
    assert.equal(hit(r), '/r/libp.so via RPATH /r (of /bin/p)');
    assert.deepEqual(r.searched.slice(0, 2), ['/m', '/r']);
  });

  it('an object without paths inherits its loader’s RPATH', async () => {
    const main = obj('/bin/p', { rpath: ['/r'] });
    const mid = obj('/x/libmid.so', {}, main);
    const leaf = obj('/x/libleaf.so', {}, mid);
    assert.equal((await find({ nodes: lib }, leaf, main)).hit, '/r/libp.so via RPATH /r (of /bin/p)');
  });

  it('DT_RUNPATH on the needing object stops every RPATH, its own and inherited', async () => {
    const main = obj('/bin/p', { rpath: ['/r'] });
    const mid = obj('/x/libmid.so', { runpath: ['/u'], rpath: ['/m'] }, main);
    const { r } = await find({ nodes: lib }, mid, main);
    assert.equal(r.found, false);
    assert.ok(!r.searched.includes('/r') && !r.searched.includes('/m'), r.searched.join(' '));
  });

  it('an object with DT_RUNPATH up the chain gives no RPATH, but the others still do', async () => {
    const main = obj('/bin/p', { rpath: ['/r'] });
    const mid = obj('/x/libmid.so', { runpath: ['/u'], rpath: ['/m'] }, main);
    const leaf = obj('/x/libleaf.so', {}, mid);
    const { r } = await find({ nodes: lib }, leaf, main);
    assert.equal(hit(r), '/r/libp.so via RPATH /r (of /bin/p)');
    assert.deepEqual(r.searched, ['/r']);
  });

  it('RUNPATH is not inherited', async () => {
    const main = obj('/bin/p', { runpath: ['/u'] });
    const mid = obj('/x/libmid.so', {}, main);
    const { r } = await find({ nodes: { '/u/libp.so': elf() } }, mid, main);
    assert.equal(r.found, false);
    assert.ok(!r.searched.includes('/u'));
  });

  it('the program’s RPATH applies when the chain does not reach it (dlopen from a library)', async () => {
    const main = obj('/bin/p', { rpath: ['/r'] });
    const stray = obj('/x/libstray.so', { rpath: ['/m'] });
    const { r } = await find({ nodes: { '/r/libp.so': elf() } }, stray, main);
    assert.equal(hit(r), '/r/libp.so via RPATH /r (of /bin/p)');
    // … searched once, after the chain's own
    assert.deepEqual(r.searched.slice(0, 2), ['/m', '/r']);
    assert.equal(r.searched.filter((d) => d === '/r').length, 1);
    // and not when the program has RUNPATH
    const mainRun = obj('/bin/p', { rpath: ['/r'], runpath: ['/u'] });
    assert.equal((await find({ nodes: { '/r/libp.so': elf() } }, stray, mainRun)).r.found, false);
  });

  it('the program’s RPATH is searched once when the chain reaches it', async () => {
    const main = obj('/bin/p', { rpath: ['/r'] });
    const mid = obj('/x/libmid.so', {}, main);
    const { r } = await find({ nodes: {} }, mid, main);
    assert.equal(r.searched.filter((d) => d === '/r').length, 1);
  });
});

describe('paths and tokens', () => {
  it('$ORIGIN is the directory of the object whose path it is; $LIB the root’s; empty elements dropped', async () => {
    const main = obj('/opt/app/bin/p', { runpath: ['', '$ORIGIN/../lib'] });
    assert.equal(
      (await find({ nodes: { '/opt/app/lib/libp.so': elf() } }, main)).hit,
      '/opt/app/lib/libp.so via RUNPATH /opt/app/lib',
    );
    const lp = obj('/bin/p', { rpath: ['/$LIB'] });
    assert.equal((await find({ nodes: { '/lib64/libp.so': elf() } }, lp)).r.searched[0], '/lib64');
  });

  it('an element whose token has no value is ignored; a relative element is taken from /', async () => {
    const arm = obj('/bin/p', {
      machine: EM_AARCH64,
      machineName: 'aarch64',
      runpath: ['$PLATFORM/x', 'rel'],
    });
    // aarch64's $PLATFORM is known: kept
    assert.deepEqual((await find({ nodes: {} }, arm)).r.searched.slice(0, 2), ['/aarch64/x', '/rel']);
    const ppc = obj('/bin/p', { machine: 21, machineName: 'ppc64', runpath: ['/$PLATFORM/x', '/k'] });
    assert.equal((await find({ nodes: {} }, ppc)).r.searched[0], '/k');
  });

  it('LD_LIBRARY_PATH splits on : and ; for glibc, expands $ORIGIN from the program', async () => {
    const main = obj('/opt/bin/p');
    const mid = obj('/x/libmid.so', {}, main);
    const { r } = await find({ nodes: {}, libraryPath: ['/a;/b:$ORIGIN/l', ''] }, mid, main);
    assert.deepEqual(r.searched.slice(0, 3), ['/a', '/b', '/opt/bin/l']);
  });

  it('a name with a slash is a path in the root, relative ones from /, $ORIGIN of the needing object', async () => {
    const nodes = { '/opt/x/libq.so': elf(), '/libq.so': elf() };
    const main = obj('/opt/x/p');
    assert.equal((await find({ nodes }, main, main, '$ORIGIN/libq.so')).hit, '/opt/x/libq.so via path');
    assert.equal((await find({ nodes }, main, main, './libq.so')).hit, '/libq.so via path');
    assert.equal((await find({ nodes }, main, main, '/opt/x/libq.so')).hit, '/opt/x/libq.so via path');
    const none = await find({ nodes }, main, main, '/nope/libq.so');
    assert.deepEqual(none.r, { found: false, searched: ['/nope/libq.so'] });
    const noToken = await find({ nodes }, obj('/bin/p', { machine: 21 }), undefined, '$PLATFORM/libq.so');
    assert.deepEqual(noToken.r, { found: false, searched: [] });
  });

  it('a library in / itself is opened as /NAME', async () => {
    const main = obj('/bin/p', { rpath: ['/'] });
    assert.equal((await find({ nodes: { '/libp.so': elf() } }, main)).hit, '/libp.so via RPATH /');
  });
});

describe('candidates', () => {
  it('wrong class, wrong machine, ET_EXEC and directories are skipped silently; non-ELF with a warning', async () => {
    const nodes = {
      '/a/libp.so': elf({ cls: 1 }),
      '/b/libp.so': elf({ machine: EM_AARCH64 }),
      '/c/libp.so': elf({ type: 2 }),
      '/d/libp.so/x': { type: 'file', data: Buffer.from('x') } as MemoryNode,
      '/e/libp.so': { type: 'file', data: Buffer.from('#!/bin/sh\n'.padEnd(64)) } as MemoryNode,
      '/f/libp.so': elf(),
    };
    const main = obj('/bin/p', { rpath: ['/a', '/b', '/c', '/d', '/e', '/f'] });
    const { r, env } = await find({ nodes }, main);
    assert.equal(hit(r), '/f/libp.so via RPATH /f');
    assert.deepEqual(env.warnings, ['/e/libp.so is not an ELF file; skipped where a library was searched']);
  });

  it('a symlink is followed (path kept as opened); a loop is skipped with a warning', async () => {
    const nodes: Record<string, MemoryNode> = {
      '/a/libp.so': { type: 'symlink', target: 'libp.so' },
      '/b/libp.so': { type: 'symlink', target: '../real/libp.so.1' },
      '/real/libp.so.1': elf(),
    };
    const main = obj('/bin/p', { rpath: ['/a', '/b'] });
    const { r, env } = await find({ nodes }, main);
    assert.ok(r.found);
    assert.equal(r.primary.path, '/b/libp.so');
    assert.equal(r.primary.resolved.path, '/real/libp.so.1');
    assert.equal(env.warnings.length, 1);
    assert.match(env.warnings[0]!, /^\/a\/libp\.so skipped: /);
  });

  it('acceptCandidate keeps the hwcaps name it is given, and none otherwise', async () => {
    const main = obj('/bin/p');
    const env = envFor({ nodes: { '/a/libp.so': elf() } }, main);
    assert.deepEqual(Object.keys((await acceptCandidate('/a/libp.so', env))!).sort(), ['path', 'resolved']);
    assert.equal((await acceptCandidate('/a/libp.so', env, 'x86-64-v3'))?.hwcaps, 'x86-64-v3');
  });
});

describe('glibc-hwcaps', () => {
  it('orders subdirectories best first, numerically', () => {
    assert.deepEqual(hwcapsOrder(['x86-64-v2', 'x86-64-v4', 'x86-64-v3']), [
      'x86-64-v4',
      'x86-64-v3',
      'x86-64-v2',
    ]);
    assert.deepEqual(hwcapsOrder(['power9', 'power10']), ['power10', 'power9']);
  });

  it('keeps every variant; the directory’s own file is the primary, else the best variant', async () => {
    const nodes = {
      '/a/glibc-hwcaps/x86-64-v2/libp.so': elf(),
      '/a/glibc-hwcaps/x86-64-v3/libp.so': elf(),
      '/a/glibc-hwcaps/x86-64-v4/other.so': elf(),
      '/a/glibc-hwcaps/x86-64-v4/libp.so': elf({ cls: 1 }),
      '/a/libp.so': elf(),
      '/b/glibc-hwcaps/x86-64-v2/libp.so': elf(),
      '/b/glibc-hwcaps/x86-64-v3/libp.so': elf(),
    };
    const main = obj('/bin/p', { rpath: ['/a'] });
    const { r } = await find({ nodes }, main);
    assert.ok(r.found);
    assert.equal(r.primary.path, '/a/libp.so');
    assert.equal(r.primary.hwcaps, undefined);
    assert.deepEqual(
      r.variants.map((v) => [v.path, v.hwcaps]),
      [
        ['/a/glibc-hwcaps/x86-64-v3/libp.so', 'x86-64-v3'],
        ['/a/glibc-hwcaps/x86-64-v2/libp.so', 'x86-64-v2'],
      ],
    );
    const onlyVariants = await find({ nodes }, obj('/bin/p', { rpath: ['/b'] }));
    assert.ok(onlyVariants.r.found);
    assert.equal(onlyVariants.r.primary.path, '/b/glibc-hwcaps/x86-64-v3/libp.so');
    assert.deepEqual(
      onlyVariants.r.variants.map((v) => v.path),
      ['/b/glibc-hwcaps/x86-64-v2/libp.so'],
    );
  });

  it('musl has no glibc-hwcaps', async () => {
    const nodes = { '/a/glibc-hwcaps/x86-64-v3/libp.so': elf() };
    const main = obj('/bin/p', { rpath: ['/a'] });
    const { r } = await find({ nodes, flavor: 'musl' }, main);
    assert.equal(r.found, false);
  });
});

describe('ld.so.cache and ld.so.conf', () => {
  it('cache entries must carry the target’s id or FLAG_ELF (1); an unknown machine takes any entry', async () => {
    const nodes = { '/d/libp.so': elf() };
    const main = obj('/bin/p');
    for (const [flags, ok] of [
      [1, true],
      [0x0303, true],
      [3, false], // plain libc6: the i386 id, not x86-64's
      [0x0a03, false], // aarch64
    ] as const) {
      const r = await find({ nodes, cache: [{ key: 'libp.so', value: '/d/libp.so', flags }] }, main);
      assert.equal(r.hit, ok ? '/d/libp.so via ld.so.cache' : 'not found', `flags ${flags}`);
    }
    // i386's id is plain 3 (no architecture byte)
    const i386 = obj('/bin/p', { class: 32, machine: 3 });
    const n32 = { '/d/libp.so': elf({ cls: 1, machine: 3 }) };
    for (const [flags, ok] of [
      [3, true],
      [0x0303, false],
    ] as const) {
      const r = await find({ nodes: n32, cache: [{ key: 'libp.so', value: '/d/libp.so', flags }] }, i386);
      assert.equal(r.hit, ok ? '/d/libp.so via ld.so.cache' : 'not found', `i386 flags ${flags}`);
    }
    // a machine cacheFlagsFor does not know (EM_ALPHA 0x9026): every entry's file is checked instead
    const alpha = obj('/bin/p', { machine: 0x9026 });
    const na = { '/d/libp.so': elf({ machine: 0x9026 }) };
    const r = await find(
      { nodes: na, cache: [{ key: 'libp.so', value: '/d/libp.so', flags: 0x7703 }] },
      alpha,
    );
    assert.equal(r.hit, '/d/libp.so via ld.so.cache');
  });

  it('the first usable cache entry wins; unusable files are skipped', async () => {
    const nodes = { '/c/libp.so': elf({ machine: EM_AARCH64 }), '/d/libp.so': elf(), '/e/libp.so': elf() };
    const cache = [
      { key: 'libp.so', value: '/c/libp.so' },
      { key: 'libp.so', value: '/d/libp.so', flags: 1 },
      { key: 'libp.so', value: '/e/libp.so', flags: 3 },
    ];
    const r = await find({ nodes, cache }, obj('/bin/p'));
    assert.equal(r.hit, '/d/libp.so via ld.so.cache');
  });

  it('DF_1_NODEFLIB: no default directories, no cache entry in them; other cache entries and LD_LIBRARY_PATH still', async () => {
    const nodes = {
      [`${DEFAULT}/libp.so`]: elf(),
      '/lib/libq.so': elf(),
      '/c/libp.so': elf(),
      '/l/libq.so': elf(),
    };
    const nodeflib = obj('/bin/p', { flags1: 0x800 });
    const inDefault = await find(
      { nodes, cache: [{ key: 'libp.so', value: `${DEFAULT}/libp.so` }] },
      nodeflib,
    );
    assert.equal(inDefault.r.found, false);
    assert.deepEqual(inDefault.r.searched, ['ld.so.cache']);
    const outside = await find({ nodes, cache: [{ key: 'libp.so', value: '/c/libp.so' }] }, nodeflib);
    assert.equal(outside.hit, '/c/libp.so via ld.so.cache');
    // a directory that only starts like a default one is not one
    const lookalike = { '/library/libp.so': elf() };
    const lk = await find(
      { nodes: lookalike, cache: [{ key: 'libp.so', value: '/library/libp.so' }] },
      nodeflib,
    );
    assert.equal(lk.hit, '/library/libp.so via ld.so.cache');
    const ldlp = await find({ nodes, libraryPath: ['/l'] }, nodeflib, nodeflib, 'libq.so');
    assert.equal(ldlp.hit, '/l/libq.so via LD_LIBRARY_PATH /l');
    // without the flag (other bits set), the defaults are searched
    const other = obj('/bin/p', { flags1: 0x8000001 });
    assert.equal((await find({ nodes }, other)).hit, `${DEFAULT}/libp.so via default path ${DEFAULT}`);
  });

  it('without a cache, ld.so.conf directories come before the defaults', async () => {
    const nodes: Record<string, MemoryNode> = {
      '/etc/ld.so.conf': { type: 'file', data: Buffer.from('/k\n') },
      '/k/libp.so': elf(),
      [`${DEFAULT}/libp.so`]: elf(),
    };
    const { r, env } = await find({ nodes }, obj('/bin/p'));
    assert.equal(hit(r), '/k/libp.so via ld.so.conf /k');
    assert.deepEqual(env.warnings, []);
    assert.deepEqual(r.searched, ['/k']);
  });

  it('with a cache, ld.so.conf directories come last, with a warning that the cache is stale', async () => {
    const nodes: Record<string, MemoryNode> = {
      '/etc/ld.so.conf': { type: 'file', data: Buffer.from('/k\n') },
      '/k/libp.so': elf(),
    };
    const { r, env } = await find({ nodes, cache: [] }, obj('/bin/p'));
    assert.equal(hit(r), '/k/libp.so via ld.so.conf /k');
    assert.equal(r.searched.at(-1), '/k');
    assert.equal(r.searched[0], 'ld.so.cache');
    assert.equal(env.warnings.length, 1);
    assert.match(env.warnings[0]!, /^libp\.so found only through ld\.so\.conf \(\/k\/libp\.so\): .*stale/);
    // the defaults still win over a stale conf directory
    nodes[`${DEFAULT}/libp.so`] = elf();
    const d = await find({ nodes, cache: [] }, obj('/bin/p'));
    assert.equal(d.hit, `${DEFAULT}/libp.so via default path ${DEFAULT}`);
    assert.deepEqual(d.env.warnings, []);
  });

  it('a malformed cache is ignored with one warning; the defaults are searched', async () => {
    const nodes: Record<string, MemoryNode> = {
      '/etc/ld.so.cache': { type: 'file', data: Buffer.from('not a cache') },
      [`${DEFAULT}/libp.so`]: elf(),
    };
    const main = obj('/bin/p');
    const env = envFor({ nodes }, main);
    const r1 = await searchLibrary('libp.so', main, env);
    const r2 = await searchLibrary('libq.so', main, env);
    assert.equal(hit(r1), `${DEFAULT}/libp.so via default path ${DEFAULT}`);
    assert.equal(r2.found, false);
    // told by each search (the closure dedupes its warnings)
    assert.equal(new Set(env.warnings).size, 1, env.warnings.join('\n'));
    assert.match(env.warnings[0]!, /^\/etc\/ld\.so\.cache in memory ignored: /);
  });

  it('a memoised search tells its warnings again to each caller, and distinguishes the search inputs', async () => {
    const nodes: Record<string, MemoryNode> = {
      '/e/libp.so': { type: 'file', data: Buffer.alloc(64) },
      [`${DEFAULT}/libp.so`]: elf(),
      '/r/libp.so': elf(),
    };
    const main = obj('/bin/p', { rpath: ['/e'] });
    const env = envFor({ nodes }, main);
    const first = await searchLibrary('libp.so', main, env);
    const second = await searchLibrary('libp.so', main, { ...env, warnings: [] });
    assert.equal(hit(first), `${DEFAULT}/libp.so via default path ${DEFAULT}`);
    assert.deepEqual(second, first);
    assert.equal(env.warnings.length, 1);
    // another directory list, or NODEFLIB, is another search
    const viaR = await searchLibrary('libp.so', obj('/bin/p', { rpath: ['/r'] }), env);
    assert.equal(hit(viaR), '/r/libp.so via RPATH /r');
    const nodefl = await searchLibrary('libp.so', obj('/bin/p', { rpath: ['/e'], flags1: 0x800 }), env);
    assert.equal(nodefl.found, false);
  });
});

describe('musl', () => {
  it('LD_LIBRARY_PATH first, then RUNPATH-or-RPATH up the chain, then the path file', async () => {
    const nodes: Record<string, MemoryNode> = {
      '/etc/ld-musl-x86_64.path': { type: 'file', data: Buffer.from('/s1:/s2\n relative\n/s3 \n') },
    };
    const main = obj('/bin/p', { rpath: ['/r'] });
    const mid = obj('/x/libmid.so', { runpath: ['/u'], rpath: ['/m'] }, main);
    const w = {
      nodes,
      flavor: 'musl' as const,
      libraryPath: ['/l;x'],
      interpreter: '/lib/ld-musl-x86_64.so.1',
    };
    const { r } = await find(w, mid, main);
    assert.deepEqual(r.searched, ['/l;x', '/u', '/r', '/s1', '/s2', '/s3']);
    nodes['/r/libp.so'] = elf();
    assert.equal((await find(w, mid, main)).hit, '/r/libp.so via RPATH /r (of /bin/p)');
    nodes['/u/libp.so'] = elf();
    assert.equal((await find(w, mid, main)).hit, '/u/libp.so via RUNPATH /u');
    nodes['/l;x/libp.so'] = elf();
    assert.equal((await find(w, mid, main)).hit, '/l;x/libp.so via LD_LIBRARY_PATH /l;x');
  });

  it('the path file is PREFIX/etc/ld-musl-ARCH.path; without it /lib:/usr/local/lib:/usr/lib', async () => {
    const nodes: Record<string, MemoryNode> = {
      '/opt/m/etc/ld-musl-x86_64.path': { type: 'file', data: Buffer.from('/z') },
      '/usr/local/lib/libp.so': elf(),
    };
    const main = obj('/bin/p');
    const pre = await find({ nodes, flavor: 'musl', interpreter: '/opt/m/lib/ld-musl-x86_64.so.1' }, main);
    assert.deepEqual(pre.r.searched, ['/z']);
    const dflt = await find({ nodes, flavor: 'musl', interpreter: '/lib/ld-musl-aarch64.so.1' }, main);
    assert.equal(dflt.hit, '/usr/local/lib/libp.so via default path /usr/local/lib');
    assert.deepEqual(dflt.r.searched, ['/lib', '/usr/local/lib']);
    const noInterp = await find({ nodes, flavor: 'musl' }, main);
    assert.deepEqual(noInterp.r.searched, ['/lib', '/usr/local/lib']);
  });

  it('only $ORIGIN is a token for musl', async () => {
    const main = obj('/opt/bin/p', { rpath: ['$ORIGIN/l', '/$LIB'] });
    const { r } = await find({ nodes: {}, flavor: 'musl', interpreter: '/lib/ld-musl-x86_64.so.1' }, main);
    assert.deepEqual(r.searched.slice(0, 2), ['/opt/bin/l', '/$LIB']);
    // … in a name with a slash too
    const w = { nodes: {}, flavor: 'musl' as const, interpreter: '/lib/ld-musl-x86_64.so.1' };
    assert.deepEqual((await find(w, main, main, '$ORIGIN/$LIB/libq.so')).r, {
      found: false,
      searched: ['/opt/bin/$LIB/libq.so'],
    });
  });

  it('reserved names and the loader’s ARCH', () => {
    for (const n of [
      'libc.so',
      'libpthread.so.0',
      'librt.so.1',
      'libm.so.6',
      'libdl.so.2',
      'libutil.so',
      'libxnet.so',
    ])
      assert.ok(isMuslReserved(n), n);
    for (const n of ['libcrypt.so.1', 'libcurl.so', 'xlibc.so', 'libc', 'libmagic.so'])
      assert.ok(!isMuslReserved(n), n);
    assert.equal(muslArch('/lib/ld-musl-x86_64.so.1'), 'x86_64');
    assert.equal(muslArch('ld-musl-armhf.so.1'), 'armhf');
    assert.equal(muslArch('/lib/ld-linux-x86-64.so.2'), undefined);
    assert.equal(muslArch('/lib/xld-musl-x86_64.so.1'), undefined);
    assert.equal(muslArch('/lib/ld-musl-x86_64.so.1.bak'), undefined);
  });
});

/**
 * ldCacheBytes lays out a new-format ld.so.cache in the given entry order, with the glibc-hwcaps
 * extension (entries with hwcap bit 62 name a subdirectory) and legacy hwcap-bit entries, which
 * toLdCache does not write (ld-cache.ts is the reader; its own tests hold it against ldconfig).
 */
function ldCacheBytes(
  entries: { key: string; value: string; flags?: number; hwcaps?: string; legacy?: boolean }[],
): Buffer {
  const names = [...new Set(entries.flatMap((e) => (e.hwcaps ? [e.hwcaps] : [])))];
  const strings: Buffer[] = [];
  let off = 48 + entries.length * 24;
  const str = (s: string) => {
    const at = off;
    strings.push(Buffer.from(`${s}\0`, 'latin1'));
    off += s.length + 1;
    return at;
  };
  const table = Buffer.alloc(entries.length * 24);
  entries.forEach((e, i) => {
    table.writeInt32LE(e.flags ?? 0x0303, i * 24);
    table.writeUInt32LE(str(e.key), i * 24 + 4);
    table.writeUInt32LE(str(e.value), i * 24 + 8);
    if (e.hwcaps) {
      table.writeUInt32LE(names.indexOf(e.hwcaps), i * 24 + 16);
      table.writeUInt32LE(0x40000000, i * 24 + 20);
    } else if (e.legacy) table.writeUInt32LE(1 << 12, i * 24 + 16);
  });
  const nameOffs = names.map(str);
  const strLen = off - (48 + entries.length * 24);
  const pad = Buffer.alloc((4 - (off % 4)) % 4);
  const ext = off + pad.length;
  const extBytes = Buffer.alloc(8 + 16 + 4 * nameOffs.length);
  extBytes.writeUInt32LE(0xeaa42174, 0);
  extBytes.writeUInt32LE(1, 4);
  extBytes.writeUInt32LE(1, 8); // tag 1: glibc-hwcaps names
  extBytes.writeUInt32LE(ext + 24, 16);
  extBytes.writeUInt32LE(4 * nameOffs.length, 20);
  for (const [j, o] of nameOffs.entries()) extBytes.writeUInt32LE(o, 24 + 4 * j);
  const header = Buffer.alloc(48);
  header.write('glibc-ld.so.cache1.1', 0, 'latin1');
  header.writeUInt32LE(entries.length, 20);
  header.writeUInt32LE(strLen, 24);
  header[28] = 2;
  header.writeUInt32LE(ext, 32);
  return Buffer.concat([header, table, ...strings, pad, extBytes]);
}

describe('ld.so.cache glibc-hwcaps and legacy hwcap entries', () => {
  const cacheNode = (e: Parameters<typeof ldCacheBytes>[0]): MemoryNode => ({
    type: 'file',
    data: ldCacheBytes(e),
  });

  it('the plain entry is the primary, hwcaps entries are its variants, in cache order', async () => {
    const nodes: Record<string, MemoryNode> = {
      '/etc/ld.so.cache': cacheNode([
        { key: 'libp.so', value: '/c/glibc-hwcaps/x86-64-v3/libp.so', hwcaps: 'x86-64-v3' },
        { key: 'libp.so', value: '/c/glibc-hwcaps/x86-64-v2/libp.so', hwcaps: 'x86-64-v2' },
        { key: 'libp.so', value: '/c/libp.so' },
        { key: 'libp.so', value: '/d/libp.so' },
      ]),
      '/c/glibc-hwcaps/x86-64-v3/libp.so': elf(),
      '/c/glibc-hwcaps/x86-64-v2/libp.so': elf(),
      '/c/libp.so': elf(),
      '/d/libp.so': elf(),
    };
    const { r } = await find({ nodes }, obj('/bin/p'));
    assert.ok(r.found);
    assert.equal(r.via, 'ld.so.cache');
    assert.deepEqual([r.primary.path, r.primary.hwcaps], ['/c/libp.so', undefined]);
    assert.deepEqual(
      r.variants.map((v) => [v.path, v.hwcaps]),
      [
        ['/c/glibc-hwcaps/x86-64-v3/libp.so', 'x86-64-v3'],
        ['/c/glibc-hwcaps/x86-64-v2/libp.so', 'x86-64-v2'],
      ],
    );
  });

  it('without a usable plain entry the first usable hwcaps entry is the primary; unusable ones are skipped', async () => {
    const nodes: Record<string, MemoryNode> = {
      '/etc/ld.so.cache': cacheNode([
        { key: 'libp.so', value: '/c/glibc-hwcaps/x86-64-v4/libp.so', hwcaps: 'x86-64-v4' },
        { key: 'libp.so', value: '/c/glibc-hwcaps/x86-64-v3/libp.so', hwcaps: 'x86-64-v3' },
        { key: 'libp.so', value: '/c/glibc-hwcaps/x86-64-v2/libp.so', hwcaps: 'x86-64-v2' },
        { key: 'libp.so', value: '/c/libp.so' },
      ]),
      // v4 and the plain file are missing
      '/c/glibc-hwcaps/x86-64-v3/libp.so': elf(),
      '/c/glibc-hwcaps/x86-64-v2/libp.so': elf(),
    };
    const { r } = await find({ nodes }, obj('/bin/p'));
    assert.ok(r.found);
    assert.equal(r.via, 'ld.so.cache');
    assert.deepEqual([r.primary.path, r.primary.hwcaps], ['/c/glibc-hwcaps/x86-64-v3/libp.so', 'x86-64-v3']);
    assert.deepEqual(
      r.variants.map((v) => v.path),
      ['/c/glibc-hwcaps/x86-64-v2/libp.so'],
    );
    assert.deepEqual(r.searched, ['ld.so.cache']);
  });

  it('legacy hwcap-bit entries are not used (they need CPU features of the target)', async () => {
    const nodes: Record<string, MemoryNode> = {
      '/etc/ld.so.cache': cacheNode([{ key: 'libp.so', value: '/c/tls/libp.so', legacy: true }]),
      '/c/tls/libp.so': elf(),
    };
    const { r } = await find({ nodes }, obj('/bin/p'));
    assert.equal(r.found, false);
  });
});

describe('boundaries of the directory search', () => {
  it('a dangling symlink where the library should be is skipped silently', async () => {
    const nodes: Record<string, MemoryNode> = {
      '/a/libp.so': { type: 'symlink', target: '/nowhere/libp.so' },
      '/b/libp.so': elf(),
    };
    const { r, env } = await find({ nodes }, obj('/bin/p', { rpath: ['/a', '/b'] }));
    assert.equal(hit(r), '/b/libp.so via RPATH /b');
    assert.deepEqual(env.warnings, []);
  });

  it('files beside the hwcaps subdirectories, or a glibc-hwcaps that is a file, are no hwcaps', async () => {
    const nodes: Record<string, MemoryNode> = {
      '/a/glibc-hwcaps/README': { type: 'file', data: Buffer.from('x') },
      '/a/glibc-hwcaps/x86-64-v3/libp.so': elf(),
      '/b/glibc-hwcaps': { type: 'file', data: Buffer.from('x') },
      '/b/libp.so': elf(),
    };
    const a = await find({ nodes }, obj('/bin/p', { rpath: ['/a'] }));
    assert.equal(a.hit, '/a/glibc-hwcaps/x86-64-v3/libp.so via RPATH /a');
    assert.deepEqual(a.env.warnings, []);
    const b = await find({ nodes }, obj('/bin/p', { rpath: ['/b'] }));
    assert.ok(b.r.found);
    assert.deepEqual([b.r.primary.path, b.r.variants], ['/b/libp.so', []]);
  });

  it('a glibc-hwcaps subdirectory that is a symlink loop is skipped silently, as one without the name', async () => {
    const nodes: Record<string, MemoryNode> = {
      '/a/glibc-hwcaps/x86-64-v3': { type: 'symlink', target: 'x86-64-v3' },
      '/a/libp.so': elf(),
    };
    const { r, env } = await find({ nodes }, obj('/bin/p', { rpath: ['/a'] }));
    assert.ok(r.found);
    assert.deepEqual([r.primary.path, r.variants], ['/a/libp.so', []]);
    assert.deepEqual(env.warnings, []);
  });

  it('an empty RPATH/RUNPATH element searches nothing (not /)', async () => {
    const nodes = { '/libp.so': elf(), '/x/libp.so': elf() };
    const run = await find({ nodes }, obj('/bin/p', { runpath: ['', '/x'] }));
    assert.equal(run.hit, '/x/libp.so via RUNPATH /x');
    assert.deepEqual(run.r.searched, ['/x']);
    const rp = await find({ nodes }, obj('/bin/p', { rpath: [''] }));
    assert.equal(rp.r.searched[0], '/lib/x86_64-linux-gnu');
    assert.equal(rp.hit, 'not found');
  });

  it('without a cache, ld.so.conf directories are searched once, before the defaults', async () => {
    const nodes: Record<string, MemoryNode> = {
      '/etc/ld.so.conf': { type: 'file', data: Buffer.from('/k\n') },
    };
    const { r, env } = await find({ nodes }, obj('/bin/p'));
    assert.deepEqual(r, {
      found: false,
      searched: ['/k', '/lib/x86_64-linux-gnu', DEFAULT, '/lib64', '/usr/lib64', '/lib', '/usr/lib'],
    });
    assert.deepEqual(env.warnings, []);
  });

  it('a NODEFLIB object with a stale cache: ld.so.conf directories still come last', async () => {
    const nodes: Record<string, MemoryNode> = {
      '/etc/ld.so.conf': { type: 'file', data: Buffer.from('/k\n') },
      '/k/libp.so': elf(),
      [`${DEFAULT}/libp.so`]: elf(),
    };
    const { r } = await find({ nodes, cache: [] }, obj('/bin/p', { flags1: 0x800 }));
    assert.equal(hit(r), '/k/libp.so via ld.so.conf /k');
    assert.deepEqual(r.searched, ['ld.so.cache', '/k']);
  });
});

/** boundedFs is memoryFs with host-fs's read limit (a whole-file read past `limit` is TOO_LARGE). */
function boundedFs(nodes: Record<string, MemoryNode>): RootFs {
  const fs = memoryFs(nodes);
  return {
    ...fs,
    async read(p, opts = {}) {
      const data = await fs.read(p, opts);
      if (opts.length === undefined && data.byteLength > (opts.limit ?? 256 * 1024 * 1024))
        throw new FromscratchError('TOO_LARGE', `${p} is over the ${opts.limit}-byte read limit`);
      return data;
    },
  };
}

describe('more boundaries', () => {
  it('a cache entry in a default directory is used (via the cache) when the object has no NODEFLIB', async () => {
    const nodes = { [`${DEFAULT}/libp.so`]: elf() };
    const r = await find({ nodes, cache: [{ key: 'libp.so', value: `${DEFAULT}/libp.so` }] }, obj('/bin/p'));
    assert.equal(r.hit, `${DEFAULT}/libp.so via ld.so.cache`);
  });

  it('a name missing from the cache falls through to the defaults, for a machine without a cache id too', async () => {
    const alpha = obj('/bin/p', { machine: 0x9026 });
    const nodes = { '/usr/lib/libp.so': elf({ machine: 0x9026 }) };
    const r = await find(
      { nodes, cache: [{ key: 'libother.so', value: '/lib/libother.so', flags: 0x7703 }] },
      alpha,
    );
    assert.equal(r.hit, '/usr/lib/libp.so via default path /usr/lib');
    assert.deepEqual(r.env.warnings, []);
  });

  it('musl without a path file searches /lib, /usr/local/lib, /usr/lib, and no other', async () => {
    const { r } = await find(
      { nodes: {}, flavor: 'musl', interpreter: '/lib/ld-musl-x86_64.so.1' },
      obj('/bin/p'),
    );
    assert.deepEqual(r, { found: false, searched: ['/lib', '/usr/local/lib', '/usr/lib'] });
  });

  it('a loader not named ld-musl-ARCH.so.1 has no ARCH: no /etc/ld-musl-.path is read', async () => {
    const nodes: Record<string, MemoryNode> = {
      '/etc/ld-musl-.path': { type: 'file', data: Buffer.from('/z') },
    };
    const { r } = await find({ nodes, flavor: 'musl', interpreter: '/lib/ld.so' }, obj('/bin/p'));
    assert.deepEqual(r.searched, ['/lib', '/usr/local/lib', '/usr/lib']);
  });

  it('a musl path file is read up to 64 KiB; a bigger one is refused and the default path used', async () => {
    const interpreter = '/lib/ld-musl-x86_64.so.1';
    const pathFile = (n: number) => ({
      '/etc/ld-musl-x86_64.path': { type: 'file', data: Buffer.from('/z\n'.padEnd(n, ' ')) } as MemoryNode,
    });
    for (const [size, want] of [
      [64 * 1024, ['/z']],
      [64 * 1024 + 1, ['/lib', '/usr/local/lib', '/usr/lib']],
    ] as const) {
      const main = obj('/bin/p');
      const env = { ...envFor({ nodes: {}, flavor: 'musl', interpreter }, main) };
      env.cache = newClosureCache(boundedFs(pathFile(size)));
      const r = await searchLibrary('libp.so', main, env);
      assert.deepEqual(r.searched, want, `${size} bytes`);
    }
  });

  it('a failure that is not the root’s (a bug) is thrown, not taken for an unusable candidate', async () => {
    const fs = memoryFs({ '/a/libp.so': elf(), '/b/libp.so': elf() });
    const broken: RootFs = {
      ...fs,
      async lstat(p) {
        if (p === '/a/libp.so') throw new Error('bug in the root');
        return fs.lstat(p);
      },
    };
    const main = obj('/bin/p', { rpath: ['/a', '/b'] });
    const env = { ...envFor({ nodes: {} }, main), cache: newClosureCache(broken) };
    await assert.rejects(searchLibrary('libp.so', main, env), /bug in the root/);
  });
});
