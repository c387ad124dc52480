/**
 * ldd-diff.test.ts — differential test: our closure of host programs against `ldd` (a test oracle
 * only). For each dynamic ELF program of /usr/bin (evenly spread, at most FROMSCRATCH_LDD_MAX, default
 * 150, to stay well under a minute), the set of real files reached through DT_NEEDED and the names not
 * found must be the same.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveClosure } from '../../src/closure/closure.ts';
import { newClosureCache } from '../../src/closure/closure-cache.ts';
import { hostFs } from '../../src/fs/host-fs.ts';
import { elfPrograms, lddView, neededReals, sameView } from './ldd-oracle.ts';

const MAX = Number(process.env.FROMSCRATCH_LDD_MAX ?? 150);

describe('closure vs ldd on host programs', () => {
  it(`maps the same files as ldd for up to ${MAX} programs of /usr/bin`, async (t) => {
    const fs = hostFs('/');
    const cache = newClosureCache(fs);
    const programs = elfPrograms('/usr/bin', MAX);
    assert.ok(programs.length > 10, 'expected dynamic programs in /usr/bin');
    let compared = 0;
    const differ: string[] = [];
    for (const p of programs) {
      const ldd = await lddView(p);
      if (!ldd) continue; // static
      const r = await resolveClosure([p], fs, {
        cache,
        strict: false,
        infer: { nss: false, gconv: false, libgcc: false, caCerts: false, dlopenNotes: false },
      });
      compared++;
      const ours = neededReals(r, p);
      if (!sameView(ours, ldd)) {
        const only = [...ours.reals].filter((x) => !ldd.reals.has(x));
        const missing = [...ldd.reals].filter((x) => !ours.reals.has(x));
        differ.push(
          `${p}: ours only ${JSON.stringify(only)}, ldd only ${JSON.stringify(missing)}, not found ours ${ours.missing} ldd ${ldd.missing}`,
        );
      }
    }
    t.diagnostic(`${compared - differ.length}/${compared} programs match ldd`);
    // an ldd that answers nothing (missing, or every program taken for static) must not pass as a match
    const least = Math.min(50, Math.floor(programs.length / 2));
    assert.ok(
      compared >= least,
      `only ${compared} of ${programs.length} programs compared with ldd (at least ${least})`,
    );
    assert.deepEqual(differ, []);
  });
});
