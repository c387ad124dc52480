/**
 * search-order.test.ts — the glibc library search order at every boundary, with the real ld.so as the
 * oracle (issue 17). One small root holds a program and `libprobe.so` in up to six places: the
 * program's DT_RPATH directory, an LD_LIBRARY_PATH directory, a DT_RUNPATH directory, the RUNPATH or
 * RPATH directory of an intermediate library, a directory known only through ld.so.cache, and the
 * default directory. For every subset of those places (so every pairwise order, both ways), the file
 * our closure picks must be the one `ld.so --list` maps in a chroot of that root. Needs root (chroot).
 *
 * Chains: `p-rpath` (RPATH /r) and `p-runpath` (RUNPATH /u) need libprobe directly; `p-inherit`
 * (RPATH /r) needs libmid (no paths) which needs libprobe: the program's RPATH is inherited;
 * `p-midrun` (RPATH /r) needs libmidrun (RUNPATH /m): RUNPATH stops every RPATH; `p-midboth` (RPATH /r)
 * needs libmidboth (RPATH and RUNPATH /m) needs libleaf (none) needs libprobe: an object with RUNPATH
 * gives no RPATH to the chain (glibc get-dynamic-info.h drops DT_RPATH when DT_RUNPATH is present);
 * `p-midrpath` (RPATH /r) needs libmidrp (RPATH /m) needs libleaf needs libprobe: RPATHs are searched
 * from the needing object up its chain of loaders, /m before /r.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveClosure } from '../../src/closure/closure.ts';
import { newClosureCache } from '../../src/closure/closure-cache.ts';
import { hostFs } from '../../src/fs/host-fs.ts';
import { requireTool } from '../support/validate-tools.ts';

const TRIPLET = 'x86_64-linux-gnu';
const LIBDIR = `/usr/lib/${TRIPLET}`;

/** the places libprobe.so can be, by the directory each mechanism names */
const PLACES = {
  rpath: '/r',
  ldlp: '/l',
  runpath: '/u',
  mid: '/m',
  cache: '/c',
  default: LIBDIR,
} as const;
type Place = keyof typeof PLACES;

interface Program {
  readonly name: string;
  /** the places this program's chain can reach (the others are never searched for it) */
  readonly places: readonly Place[];
}

const PROGRAMS: readonly Program[] = [
  { name: 'p-rpath', places: ['rpath', 'ldlp', 'cache', 'default', 'runpath'] },
  { name: 'p-runpath', places: ['runpath', 'ldlp', 'cache', 'default', 'rpath'] },
  { name: 'p-inherit', places: ['rpath', 'ldlp', 'cache', 'default'] },
  { name: 'p-midrun', places: ['rpath', 'mid', 'ldlp', 'cache', 'default'] },
  { name: 'p-midboth', places: ['rpath', 'mid', 'ldlp', 'cache', 'default'] },
  { name: 'p-midrpath', places: ['rpath', 'mid', 'ldlp', 'cache', 'default'] },
];

let parent: string;
let root: string;

function sh(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

before(() => {
  requireTool('gcc', 'gcc');
  requireTool('chroot', 'coreutils');
  requireTool('ldconfig', 'libc-bin');
  parent = mkdtempSync(join(tmpdir(), 'fromscratch-search-order-'));
  root = join(parent, 'root');
  const b = join(parent, 'build');
  mkdirSync(b);
  for (const d of ['usr/bin', `usr/lib/${TRIPLET}`, 'usr/lib64', 'etc', 'r', 'l', 'u', 'm', 'c', 'opt'])
    mkdirSync(join(root, d), { recursive: true });
  symlinkSync('usr/lib', join(root, 'lib'));
  symlinkSync('usr/lib64', join(root, 'lib64'));
  for (const l of ['libc.so.6', 'ld-linux-x86-64.so.2'])
    copyFileSync(realpathSync(`${LIBDIR}/${l}`), join(root, LIBDIR, l));
  symlinkSync(`/lib/${TRIPLET}/ld-linux-x86-64.so.2`, join(root, 'usr/lib64/ld-linux-x86-64.so.2'));
  writeFileSync(join(root, 'etc/ld.so.conf'), '/c\n');
  const gcc = (...args: string[]) => sh('gcc', args, b);
  writeFileSync(join(b, 'probe.c'), 'const char *probe(void) { return WHERE; }\n');
  for (const [place, dir] of Object.entries(PLACES))
    gcc(
      '-shared',
      '-fPIC',
      `-DWHERE="${place}"`,
      '-o',
      `probe-${place}.so`,
      'probe.c',
      '-Wl,-soname,libprobe.so',
    );
  copyFileSync(join(b, 'probe-default.so'), join(b, 'libprobe.so'));
  writeFileSync(join(b, 'mid.c'), 'const char *probe(void);\nconst char *mid(void) { return probe(); }\n');
  const shared = ['-shared', '-fPIC', '-Wl,--no-as-needed', '-L.', '-Wl,-rpath-link,.'];
  gcc(...shared, '-o', 'libmid.so', 'mid.c', '-lprobe');
  gcc(...shared, '-o', 'libmidrun.so', 'mid.c', '-lprobe', '-Wl,-rpath,/m', '-Wl,--enable-new-dtags');
  gcc(...shared, '-o', 'libleaf.so', 'mid.c', '-lprobe');
  writeFileSync(join(b, 'both.c'), 'const char *mid(void);\nconst char *both(void) { return mid(); }\n');
  // binutils writes DT_RUNPATH alone: DT_HASH (unused beside DT_GNU_HASH) becomes a DT_RPATH naming /m too
  gcc(
    ...shared,
    '-o',
    'libmidboth.so',
    'both.c',
    '-lleaf',
    '-Wl,-rpath,/m',
    '-Wl,--enable-new-dtags',
    '-Wl,--hash-style=both',
  );
  addRpathBesideRunpath(join(b, 'libmidboth.so'));
  gcc(...shared, '-o', 'libmidrp.so', 'both.c', '-lleaf', '-Wl,-rpath,/m', '-Wl,--disable-new-dtags');
  const main = (call: string) =>
    `#include <stdio.h>\nconst char *${call}(void);\nint main(void) { puts(${call}()); return 0; }\n`;
  writeFileSync(join(b, 'p.c'), main('probe'));
  writeFileSync(join(b, 'pm.c'), main('mid'));
  writeFileSync(join(b, 'pb.c'), main('both'));
  const prog = ['-Wl,--no-as-needed', '-L.', '-Wl,-rpath-link,.'];
  const RP = ['-Wl,-rpath,/r', '-Wl,--disable-new-dtags'];
  gcc(...prog, '-o', 'p-rpath', 'p.c', '-lprobe', ...RP);
  gcc(...prog, '-o', 'p-runpath', 'p.c', '-lprobe', '-Wl,-rpath,/u', '-Wl,--enable-new-dtags');
  gcc(...prog, '-o', 'p-inherit', 'pm.c', '-lmid', ...RP);
  gcc(...prog, '-o', 'p-midrun', 'pm.c', '-lmidrun', ...RP);
  gcc(...prog, '-o', 'p-midboth', 'pb.c', '-lmidboth', ...RP);
  gcc(...prog, '-o', 'p-midrpath', 'pb.c', '-lmidrp', ...RP);
  for (const p of PROGRAMS) copyFileSync(join(b, p.name), join(root, 'usr/bin', p.name));
  execFileSync('chmod', ['755', ...PROGRAMS.map((p) => join(root, 'usr/bin', p.name))]);
  // the intermediate libraries live in the default directory: they are found the same way every time
  for (const l of ['libmid.so', 'libmidrun.so', 'libleaf.so', 'libmidboth.so', 'libmidrp.so'])
    copyFileSync(join(b, l), join(root, LIBDIR, l));
  // the check that the fixture is what the comments say
  const dyn = sh('readelf', ['-d', join(root, LIBDIR, 'libmidboth.so')]);
  assert.match(dyn, /\(RPATH\).*\/m/);
  assert.match(dyn, /\(RUNPATH\).*\/m/);
});
after(() => {
  if (parent) rmSync(parent, { recursive: true, force: true });
});

/** addRpathBesideRunpath turns the DT_HASH entry of an x86-64 library into a DT_RPATH with the DT_RUNPATH string. */
function addRpathBesideRunpath(file: string): void {
  const m = /Dynamic section at offset (0x[0-9a-f]+)/.exec(sh('readelf', ['-d', file]));
  assert.ok(m, 'a dynamic section');
  const buf = readFileSync(file);
  const DT_HASH = 4n;
  const DT_RPATH = 15n;
  const DT_RUNPATH = 29n;
  let runpath: bigint | undefined;
  let hashAt: number | undefined;
  for (let off = Number(m[1]); ; off += 16) {
    const tag = buf.readBigInt64LE(off);
    if (tag === 0n) break;
    if (tag === DT_RUNPATH) runpath = buf.readBigUInt64LE(off + 8);
    if (tag === DT_HASH) hashAt = off;
  }
  assert.ok(runpath !== undefined && hashAt !== undefined, 'DT_RUNPATH and DT_HASH present');
  buf.writeBigInt64LE(DT_RPATH, hashAt);
  buf.writeBigUInt64LE(runpath, hashAt + 8);
  writeFileSync(file, buf);
}

/** place puts libprobe.so in exactly the given places and rebuilds the root's ld.so.cache. */
function place(at: readonly Place[]): void {
  for (const [p, dir] of Object.entries(PLACES) as [Place, string][]) {
    const f = join(root, dir, 'libprobe.so');
    rmSync(f, { force: true });
    if (at.includes(p)) copyFileSync(join(parent, 'build', `probe-${p}.so`), f);
  }
  sh('ldconfig', ['-r', root]);
}

/** oracle runs the program in a chroot of the root, as the real ld.so loads it: which libprobe it printed. */
function oracle(program: string, ldlp: boolean): string {
  try {
    return execFileSync('chroot', [root, `/usr/bin/${program}`], {
      encoding: 'utf8',
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...(ldlp ? { LD_LIBRARY_PATH: PLACES.ldlp } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch (e) {
    if (/libprobe\.so: cannot open shared object file/.test(String((e as { stderr?: string }).stderr)))
      return 'none';
    throw e;
  }
}

/** ours is the place of the libprobe.so our closure maps for the program. */
async function ours(program: string, ldlp: boolean): Promise<string> {
  const fs = hostFs(root);
  const r = await resolveClosure([`/usr/bin/${program}`], fs, {
    cache: newClosureCache(fs),
    strict: false,
    infer: { nss: false, gconv: false, libgcc: false, caCerts: false, dlopenNotes: false },
    ...(ldlp ? { libraryPath: [PLACES.ldlp] } : {}),
  });
  const hits = [...r.objects.keys()].filter((p) => p.endsWith('/libprobe.so'));
  assert.ok(hits.length <= 1, `one libprobe at most: ${hits.join(' ')}`);
  if (hits.length === 0) return 'none';
  const dir = hits[0]!.slice(0, -'/libprobe.so'.length);
  const found = (Object.entries(PLACES) as [Place, string][]).find(([, d]) => d === dir);
  assert.ok(found, `libprobe found in an unexpected directory ${dir}`);
  return found[0];
}

function subsets<T>(xs: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let m = 1; m < 1 << xs.length; m++) out.push(xs.filter((_, i) => (m >> i) & 1));
  return out;
}

describe('glibc search order against the real ld.so, every subset of places', () => {
  requireTool('gcc', 'gcc');
  for (const p of PROGRAMS) {
    it(`${p.name}: the same libprobe.so as ld.so for each of the ${2 * ((1 << p.places.length) - 1)} layouts`, async () => {
      const seen = new Set<string>();
      const wrong: string[] = [];
      for (const at of subsets(p.places)) {
        place(at);
        for (const ldlp of [false, true]) {
          const want = oracle(p.name, ldlp);
          const got = await ours(p.name, ldlp);
          seen.add(want);
          if (got !== want)
            wrong.push(
              `libprobe in {${at.join(', ')}}${ldlp ? ' with LD_LIBRARY_PATH=/l' : ''}: ld.so maps ${want}, we chose ${got}`,
            );
        }
      }
      assert.deepEqual(wrong, []);
      // the layouts reach several winners: the test compares orders, not one lucky case
      assert.ok(seen.size >= 3, `winners seen: ${[...seen].join(' ')}`);
    });
  }
});
