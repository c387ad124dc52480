/**
 * unpack-limits.test.ts — issue 15.8 for src/unpack: symlink chains cost work linear in the layer, not
 * entries × hops. No time is asserted: the test counts the lstat calls unpacking makes (node:fs patched
 * through syncBuiltinESMExports), which the old algorithm multiplied by the chain length.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isFromscratchError } from '../../src/errors.ts';
import { unpackImage } from '../../src/unpack/unpack.ts';
import { type GenEntry, makeTar } from './tar-gen.ts';

/** the CommonJS node:fs object, whose members the ESM bindings mirror after syncBuiltinESMExports */
const cjsFs = createRequire(import.meta.url)('node:fs') as { lstatSync: typeof fs.lstatSync };

const boxes: string[] = [];
after(() => {
  for (const b of boxes) fs.rmSync(b, { recursive: true, force: true });
});

function freshRoot(): string {
  const box = fs.mkdtempSync(join(tmpdir(), 'fs-unpack-limits-'));
  boxes.push(box);
  const root = join(box, 'root');
  fs.mkdirSync(root, { mode: 0o700 });
  return root;
}

/** countingLstat runs fn while counting fs.lstatSync calls (the ESM bindings are re-synced both ways). */
async function countingLstat<T>(fn: () => Promise<T>): Promise<{ result: T; calls: number }> {
  const real = cjsFs.lstatSync;
  let calls = 0;
  cjsFs.lstatSync = ((...args: Parameters<typeof real>) => {
    calls += 1;
    return real(...args);
  }) as typeof real;
  syncBuiltinESMExports();
  try {
    const result = await fn();
    return { result, calls };
  } finally {
    cjsFs.lstatSync = real;
    syncBuiltinESMExports();
  }
}

/** chain makes d/ and links l0 -> l1 -> … -> l{hops-1} -> d. */
function chain(hops: number): GenEntry[] {
  const out: GenEntry[] = [{ name: 'd/', type: '5' }];
  for (let i = 0; i < hops; i++)
    out.push({ name: `l${i}`, type: '2', linkname: i === hops - 1 ? 'd' : `l${i + 1}` });
  return out;
}

describe('issue 15.8: symlink chains unpack in linear work', () => {
  it('2,000 entries behind a 250-hop chain (through one head and through 2,000 heads)', async (t) => {
    const hops = 250;
    const n = 2000;
    const entries = [
      ...chain(hops),
      ...Array.from({ length: n }, (_, i): GenEntry => ({ name: `l0/f${i}`, data: 'x' })),
      // distinct heads pointing at the chain: each one is a new path, the chain behind it is known
      ...Array.from({ length: n }, (_, i): GenEntry => ({ name: `h${i}`, type: '2', linkname: 'l0' })),
      ...Array.from({ length: n }, (_, i): GenEntry => ({ name: `h${i}/g${i}`, data: 'y' })),
      // replacing a file over and over keeps the memo (only directories and links can change a walk)
      ...Array.from({ length: n }, (_, i): GenEntry => ({ name: `l0/same`, data: `${i}` })),
      ...Array.from({ length: n }, (_, i): GenEntry => ({ name: `l${i % hops}/k${i}`, data: 'z' })),
    ];
    const root = freshRoot();
    const { calls } = await countingLstat(() =>
      unpackImage([{ data: [makeTar(entries)] }], root, { strictDuplicates: false }),
    );
    assert.equal(fs.readFileSync(join(root, 'd', 'f1999'), 'utf8'), 'x');
    assert.equal(fs.readFileSync(join(root, 'd', 'g1999'), 'utf8'), 'y');
    assert.equal(fs.readFileSync(join(root, 'd', 'same'), 'utf8'), String(n - 1));
    assert.equal(fs.readlinkSync(join(root, 'h7')), 'l0');
    // entries × hops would be 1,000,000 lstat calls; linear is a small multiple of the entries
    const budget = 8 * entries.length + 4 * hops;
    t.diagnostic(`${calls} lstat calls for ${entries.length} entries`);
    assert.ok(calls < budget, `${calls} lstat calls for ${entries.length} entries (budget ${budget})`);
  });

  it('the memo never outlives a removal: a chain retargeted by a later layer is followed anew', async () => {
    const root = freshRoot();
    const l1 = makeTar([...chain(3), { name: 'e/', type: '5' }, { name: 'l0/a', data: '1' }]);
    // the next layer replaces the last link (l2 -> d becomes l2 -> e) and writes through the chain again
    const l2 = makeTar([
      { name: 'l0/b', data: '2' },
      { name: 'l2', type: '2', linkname: 'e' },
      { name: 'l0/c', data: '3' },
    ]);
    await unpackImage([{ data: [l1] }, { data: [l2] }], root);
    assert.deepEqual(fs.readdirSync(join(root, 'd')).sort(), ['a', 'b']);
    assert.deepEqual(fs.readdirSync(join(root, 'e')), ['c']);
  });

  it('a layer that keeps replacing a link and walking the chain again stops at the hop budget', async () => {
    const entries = [...chain(200)];
    for (let i = 0; i < 50; i++) {
      entries.push({ name: 'l199', type: '2', linkname: 'd' }); // replaces the link: the memo is dropped
      entries.push({ name: `l0/x${i}`, data: 'x' });
    }
    await assert.rejects(
      unpackImage([{ data: [makeTar(entries)] }], freshRoot(), { maxTotalHops: 5000 }),
      (e: unknown) =>
        isFromscratchError(e, 'TOO_LARGE') && /more than 5000 symbolic links followed/.test(e.message),
    );
    // the default budget (2^20) lets the same layer through
    await unpackImage([{ data: [makeTar(entries)] }], freshRoot());
  });

  it('a layer of 3,000 duplicate names keeps 1,000 warnings and one summary line', async () => {
    const entries = Array.from({ length: 3000 }, (_, i): GenEntry => ({ name: 'dup', data: `${i}` }));
    const seen: string[] = [];
    const r = await unpackImage([{ data: [makeTar(entries)] }], freshRoot(), {
      onWarning: (m) => seen.push(m),
    });
    assert.equal(r.warnings.length, 1001);
    assert.equal(r.warnings.at(-1), '1999 more warnings not shown');
    assert.deepEqual(seen, r.warnings);
  });

  it('a symlink loop is still refused, and a chain of 256 hops too', async () => {
    const loop = makeTar([
      { name: 'a', type: '2', linkname: 'b' },
      { name: 'b', type: '2', linkname: 'a' },
      { name: 'a/x', data: 'x' },
    ]);
    await assert.rejects(
      unpackImage([{ data: [loop] }], freshRoot()),
      (e: unknown) => isFromscratchError(e, 'PATH_ESCAPE') && /too many levels/.test(e.message),
    );
    const long = makeTar([...chain(256), { name: 'l0/x', data: 'x' }]);
    await assert.rejects(unpackImage([{ data: [long] }], freshRoot()), (e: unknown) =>
      isFromscratchError(e, 'PATH_ESCAPE'),
    );
    const ok = freshRoot();
    await unpackImage([{ data: [makeTar([...chain(255), { name: 'l0/x', data: 'x' }])] }], ok);
    assert.equal(fs.readFileSync(join(ok, 'd', 'x'), 'utf8'), 'x');
  });
});
