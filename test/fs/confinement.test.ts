/**
 * confinement.test.ts — path confinement at its boundaries (issue 17): symlink loops (relative,
 * absolute, self, through directories), `..` at and above the root (leading, trailing, after a link),
 * absolute links at every depth, and chains of links at the hop limit and one past it. The oracle is the
 * kernel: Python chroot()s into the same tree and resolves each path with os.path.realpath (lstat and
 * readlink of the real file system, `..` of the root being the root). Every case runs on a RootFs that
 * counts its calls and throws past a bound, so a resolver that loops fails at once, not at the test
 * time-out.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isFromscratchError } from '../../src/errors.ts';
import { hostFs } from '../../src/fs/host-fs.ts';
import { MAX_SYMLINK_HOPS, resolvePath } from '../../src/fs/resolve.ts';
import type { RootFs } from '../../src/fs/root-fs.ts';
import { requireTool } from '../support/validate-tools.ts';

/** CALL_BOUND is far above what any case needs (a 256-link chain is ~520 calls) and far below a hang. */
const CALL_BOUND = 5_000;

/** bounded wraps a RootFs so that more than CALL_BOUND lstat/readlink calls throw (a loop fails fast). */
function bounded(inner: RootFs): RootFs & { calls: () => number } {
  let n = 0;
  const tick = (what: string, p: string) => {
    n += 1;
    if (n > CALL_BOUND)
      throw new Error(
        `resolver made more than ${CALL_BOUND} file system calls (last: ${what} ${p}): it loops`,
      );
  };
  return {
    ...inner,
    lstat: (p) => {
      tick('lstat', p);
      return inner.lstat(p);
    },
    readlink: (p) => {
      tick('readlink', p);
      return inner.readlink(p);
    },
    calls: () => n,
  };
}

let root: string;

/** the tree: [path, target] for symlinks, [path] for files, [path/] for directories */
const TREE: readonly (readonly [string, string?])[] = [
  ['/etc/passwd'],
  ['/a/b/c/file'],
  ['/a/b/c/d/'],
  ['/target/file'],
  // loops
  ['/loop1', 'loop2'],
  ['/loop2', 'loop1'],
  ['/self', 'self'],
  ['/dotself', './dotself'],
  ['/absloop', '/absloop'],
  ['/a/b/dirloop', '../b/dirloop'],
  ['/a/up', '../a/up/x'],
  ['/viadir', 'a/b/c/../../../viadir'],
  // `..` and escapes
  ['/esc', '../../../../etc'],
  ['/a/b/esc', '../../../../../../etc/passwd'],
  ['/a/b/c/deepup', '../../../../../../../../..'],
  ['/a/dotdot', '..'],
  ['/tolink', 'a/b/c/d'],
  // absolute links at every depth
  ['/l0', '/target'],
  ['/a/l1', '/target'],
  ['/a/b/l2', '/target/file'],
  ['/a/b/c/l3', '/'],
  ['/a/b/c/d/l4', '/../../../target'],
  ['/a/b/c/d/l5', '//target/./file'],
];

/** PATHS are resolved by both: every link, through it, and the `..` forms. */
const PATHS: readonly string[] = [
  '/loop1',
  '/loop1/x',
  '/self',
  '/dotself',
  '/absloop',
  '/a/b/dirloop',
  '/a/up',
  '/viadir',
  '/esc/passwd',
  '/a/b/esc',
  '/a/b/c/deepup',
  '/a/b/c/deepup/etc/passwd',
  '/a/dotdot/b/c/file',
  '/..',
  '/../..',
  '/../etc/passwd',
  '/a/..',
  '/a/b/c/..',
  '/a/b/c/../../../..',
  '/tolink/..',
  '/tolink/../file',
  '/l0/file',
  '/a/l1/file',
  '/a/b/l2',
  '/a/b/c/l3/etc/passwd',
  '/a/b/c/l3/..',
  '/a/b/c/d/l4/file',
  '/a/b/c/d/l5',
  '/a/./b/./c/./file',
];

const PY_REALPATH = `
import errno, json, os, sys
paths = json.loads(sys.argv[2])
os.chroot(sys.argv[1])
os.chdir('/')
out = {}
for p in paths:
    try:
        out[p] = os.path.realpath(p, strict=True)
    except OSError as e:
        out[p] = 'ELOOP' if e.errno == errno.ELOOP else 'ENOENT'
print(json.dumps(out))
`;

before(() => {
  requireTool('python3', 'python3');
  root = mkdtempSync(join(tmpdir(), 'fromscratch-confine-'));
  for (const [p, target] of TREE) {
    const at = join(root, p);
    if (target !== undefined) {
      mkdirSync(dirname(at), { recursive: true });
      symlinkSync(target, at);
    } else if (p.endsWith('/')) mkdirSync(at, { recursive: true });
    else {
      mkdirSync(dirname(at), { recursive: true });
      writeFileSync(at, p);
    }
  }
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('resolvePath against the kernel in a chroot, every case bounded', () => {
  it('each path resolves where the kernel resolves it, or is a loop for both', async () => {
    const kernel = JSON.parse(
      execFileSync('python3', ['-c', PY_REALPATH, root, JSON.stringify(PATHS)], { encoding: 'utf8' }),
    ) as Record<string, string>;
    const wrong: string[] = [];
    for (const p of PATHS) {
      const fs = bounded(hostFs(root));
      const want = kernel[p]!;
      let got: string;
      try {
        const r = await resolvePath(fs, p);
        got = r.stat ? r.path : 'ENOENT';
      } catch (e) {
        if (!isFromscratchError(e, 'PATH_ESCAPE')) throw e;
        got = 'ELOOP';
      }
      if (got !== want) wrong.push(`${p}: kernel ${want}, ours ${got}`);
    }
    assert.deepEqual(wrong, []);
    // the oracle saw loops, escapes held at the root and plain hits: the cases are not all one kind
    const kinds = new Set(Object.values(kernel).map((v) => (v.startsWith('/') ? 'path' : v)));
    assert.deepEqual([...kinds].sort(), ['ELOOP', 'ENOENT', 'path']);
  });

  it('a loop of relative links fails with PATH_ESCAPE after a bounded number of calls', async () => {
    for (const p of ['/loop1', '/self', '/dotself', '/a/b/dirloop', '/a/up', '/viadir', '/absloop']) {
      const fs = bounded(hostFs(root));
      await assert.rejects(
        resolvePath(fs, p),
        (e) => isFromscratchError(e, 'PATH_ESCAPE') && e.message.includes(p),
        p,
      );
      assert.ok(fs.calls() <= 8 * (MAX_SYMLINK_HOPS + 2), `${p}: ${fs.calls()} calls`);
    }
  });

  it(`a chain of ${MAX_SYMLINK_HOPS} links resolves; one more is a loop`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fromscratch-chain-'));
    try {
      writeFileSync(join(dir, 'end'), 'end');
      // c0 -> c1 -> … -> c(N-1) -> end, alternating relative and absolute targets
      const chain = (prefix: string, n: number) => {
        for (let i = 0; i < n; i++) {
          const next = i === n - 1 ? 'end' : `${prefix}${i + 1}`;
          symlinkSync(i % 2 === 0 ? next : `/${next}`, join(dir, `${prefix}${i}`));
        }
      };
      chain('ok', MAX_SYMLINK_HOPS);
      chain('over', MAX_SYMLINK_HOPS + 1);
      const fs = bounded(hostFs(dir));
      const r = await resolvePath(fs, '/ok0');
      assert.equal(r.path, '/end');
      assert.equal(r.links.length, MAX_SYMLINK_HOPS);
      await assert.rejects(resolvePath(bounded(hostFs(dir)), '/over0'), (e) =>
        isFromscratchError(e, 'PATH_ESCAPE'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
