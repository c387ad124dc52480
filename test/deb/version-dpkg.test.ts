// version-dpkg.test.ts — differential test: compareDebVersions against the real `dpkg --compare-versions`
// on ~2500 pairs: real versions from the host's apt lists (adjacent and random pairs) plus generated
// edge cases (~, +, ., letters, leading zeros, epochs, revisions).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { compareDebVersions } from '../../src/deb/version.ts';
import { hostPackagesText } from './host-lists.ts';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('compareDebVersions agrees with dpkg --compare-versions', () => {
  const text = hostPackagesText();
  const versions = [...new Set([...text.matchAll(/^Version: (.+)$/gm)].map((m) => m[1]!))].sort();
  assert.ok(versions.length > 1000, 'host lists should hold thousands of versions');
  const r = rng(42);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const pairs: [string, string][] = [];
  // neighbours in string order share prefixes and so exercise the fine rules
  for (let i = 0; i < 800; i++) {
    const k = Math.floor(r() * (versions.length - 1));
    pairs.push([versions[k]!, versions[k + 1]!]);
  }
  for (let i = 0; i < 700; i++) pairs.push([pick(versions), pick(versions)]);
  const alphabet = ['0', '1', '9', '00', '10', 'a', 'z', 'A', '~', '~~', '+', '.', 'b1', '~rc1'];
  const gen = () => {
    let up = pick(['0', '1', '2', '10']);
    const n = Math.floor(r() * 5);
    for (let i = 0; i < n; i++) up += pick(alphabet);
    const epoch = r() < 0.2 ? `${pick(['0', '1', '2'])}:` : '';
    const rev = r() < 0.5 ? `-${pick(['0', '1', '1~', '1+b1', '1.1', 'a', '0~'])}` : '';
    return `${epoch}${up}${rev}`;
  };
  for (let i = 0; i < 1000; i++) {
    const a = gen();
    pairs.push([a, r() < 0.3 ? a.replace(/0/, '00') : gen()]);
  }
  // one dpkg call per pair: ask dpkg whether the relation we predict holds
  const script = pairs
    .map(([a, b]) => {
      const c = compareDebVersions(a, b);
      const op = c < 0 ? 'lt' : c > 0 ? 'gt' : 'eq';
      return `dpkg --compare-versions '${a}' ${op} '${b}' 2>/dev/null && echo ok || echo 'FAIL ${a} ${op} ${b}'`;
    })
    .join('\n');
  let out: string;
  try {
    out = execFileSync('sh', [], { input: script, encoding: 'utf8', maxBuffer: 1 << 24 });
  } catch (e) {
    throw new Error('running dpkg failed; this test needs dpkg (install the "dpkg" package)', { cause: e });
  }
  const fails = out.split('\n').filter((l) => l.startsWith('FAIL'));
  assert.deepEqual(fails, [], `${fails.length} of ${pairs.length} pairs disagree with dpkg`);
  assert.equal(out.split('\n').filter((l) => l === 'ok').length, pairs.length);
});

test('property: versions sorted by compareDebVersions are in dpkg order, pair by pair (seeded, 400 versions)', () => {
  const r = rng(1717);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const num = () =>
    pick(['0', '1', '9', '10', '19', '21', '99', '100', '007', String(Math.floor(r() * 1000))]);
  const sep = () => pick(['.', '+', '~', '', 'a', 'z', 'A', '.~', '~~', '-']);
  // upstream versions from numbers and separators (a '-' only when there is a revision), an epoch now
  // and then, and revisions of the same shape: every rule of the comparison meets its neighbours
  const part = (allowDash: boolean) => {
    let s = num();
    for (let i = Math.floor(r() * 4); i > 0; i--) {
      const x = sep();
      s += (x === '-' && !allowDash ? '.' : x) + (r() < 0.7 ? num() : '');
    }
    return s;
  };
  const versions = new Set<string>();
  while (versions.size < 400) {
    const epoch = r() < 0.15 ? `${pick(['0', '1', '2', '10'])}:` : '';
    const rev = r() < 0.5 ? `-${part(false)}` : '';
    versions.add(`${epoch}${part(rev !== '')}${rev}`);
  }
  const sorted = [...versions].sort(compareDebVersions);
  // compareDebVersions is a total preorder: antisymmetric on every pair tried
  for (let i = 0; i < 400; i++) {
    const a = pick(sorted);
    const b = pick(sorted);
    assert.equal(
      Math.sign(compareDebVersions(a, b)) + Math.sign(compareDebVersions(b, a)),
      0,
      `${a} vs ${b}`,
    );
  }
  const script = sorted
    .slice(1)
    .map((b, i) => {
      const a = sorted[i]!;
      const op = compareDebVersions(a, b) === 0 ? 'eq' : 'lt';
      return `dpkg --compare-versions '${a}' ${op} '${b}' 2>/dev/null && echo ok || echo 'FAIL ${a} ${op} ${b}'`;
    })
    .join('\n');
  const out = execFileSync('sh', [], { input: script, encoding: 'utf8', maxBuffer: 1 << 24 });
  const fails = out.split('\n').filter((l) => l.startsWith('FAIL'));
  assert.deepEqual(fails, [], `${fails.length} adjacent pairs out of dpkg order`);
  assert.equal(out.split('\n').filter((l) => l === 'ok').length, sorted.length - 1);
});
