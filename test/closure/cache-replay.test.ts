/**
 * cache-replay.test.ts — a closure computed with a warm shared ClosureCache (other programs resolved
 * first, the gconv rule's work memoised and replayed) equals one computed with a fresh cache: files,
 * kinds, symlink targets, stats, origins (in order), objects, roots, unresolved, warnings. The
 * reference is computed by the gconv rule's general path (no memo), so the replay is checked against it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { type ClosureResult, resolveClosure } from '../../src/closure/closure.ts';
import { type ClosureCache, newClosureCache } from '../../src/closure/closure-cache.ts';
import { hostFs } from '../../src/fs/host-fs.ts';
import type { RootFs } from '../../src/fs/root-fs.ts';

const PROGRAMS = ['/usr/bin/curl', '/usr/bin/git', '/usr/bin/python3.11', '/usr/bin/ls', '/usr/bin/tar'];

/** plain turns a result into comparable data (Maps become arrays in their order). */
function plain(r: ClosureResult) {
  return {
    root: r.root,
    roots: r.roots,
    files: [...r.files.values()],
    objects: [...r.objects.values()],
    unresolved: r.unresolved,
    warnings: r.warnings,
  };
}

/**
 * NoReplay is a derived-results map that never holds the gconv rule's memo (its key starts with
 * `gconvloads`): a cache with it takes the rule's general path every time, the reference to compare with.
 */
class NoReplay extends Map<string, Promise<unknown>> {
  override get(k: string): Promise<unknown> | undefined {
    return k.startsWith('gconvloads\0') ? Promise.resolve(undefined) : super.get(k);
  }
}

/** referenceCache is a fresh cache whose gconv rule takes the general path (no replay). */
function referenceCache(fs: RootFs): ClosureCache {
  return { ...newClosureCache(fs), derived: new NoReplay() };
}

describe('closure with a warm shared cache', () => {
  for (const p of PROGRAMS) {
    it(`host program ${p} exists (install it: apt-get install curl git python3.11 coreutils tar)`, () => {
      assert.ok(existsSync(p), `${p} missing: apt-get install the package that has it`);
    });
  }

  it('equals a fresh-cache closure for several host programs, in two orders', async () => {
    const fs = hostFs('/');
    const fresh = new Map<string, ReturnType<typeof plain>>();
    for (const p of PROGRAMS)
      fresh.set(p, plain(await resolveClosure([p], fs, { strict: false, cache: referenceCache(fs) })));
    let gconvPrograms = 0;
    for (const order of [PROGRAMS, [...PROGRAMS].reverse()]) {
      const cache = newClosureCache(fs);
      // warm: every program once, then each again (the second time every rule's memo is hot)
      for (const p of order) await resolveClosure([p], fs, { strict: false, cache });
      for (const p of order) {
        const warm = plain(await resolveClosure([p], fs, { strict: false, cache }));
        assert.deepEqual(warm, fresh.get(p), `${p}: warm-cache closure differs from a fresh one`);
        if (warm.files.some((f) => f.path.includes('/gconv/'))) gconvPrograms++;
      }
      assert.ok(
        [...cache.derived.keys()].some((k) => k.startsWith('gconvloads\0')),
        'the gconv rule memoised its work in the cache',
      );
    }
    assert.ok(gconvPrograms >= 2, 'at least one of the programs imports iconv_open');
  });

  it('equals a fresh-cache closure when programs share one call and when inference options differ', async () => {
    const fs = hostFs('/');
    const cache = newClosureCache(fs);
    const off = { nss: false, gconv: false, libgcc: false, caCerts: false, dlopenNotes: false };
    for (const p of PROGRAMS) await resolveClosure([p], fs, { strict: false, cache, infer: off });
    const both = ['/usr/bin/git', '/usr/bin/curl'];
    const warm = plain(await resolveClosure(both, fs, { strict: false, cache }));
    const cold = plain(await resolveClosure(both, fs, { strict: false, cache: referenceCache(fs) }));
    assert.deepEqual(warm, cold);
    const warmOff = plain(await resolveClosure(both, fs, { strict: false, cache, infer: off }));
    const coldOff = plain(
      await resolveClosure(both, fs, { strict: false, cache: referenceCache(fs), infer: off }),
    );
    assert.deepEqual(warmOff, coldOff);
  });
});
