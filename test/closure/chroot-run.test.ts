/**
 * chroot-run.test.ts — the closure is enough to run: host programs and a `#!/bin/bash` script are
 * materialised from closureToEntries into an empty directory (symlinks as symlinks) and run there with
 * chroot(8), comparing their output with the host's. Needs root (the test runner is root here).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { closureToEntries, resolveClosure } from '../../src/closure/closure.ts';
import { newClosureCache } from '../../src/closure/closure-cache.ts';
import { hostFs } from '../../src/fs/host-fs.ts';

const fs = hostFs('/');
const cache = newClosureCache(fs);

async function materialise(programs: string[]): Promise<string> {
  const r = await resolveClosure(programs, fs, { cache, infer: { gconv: false } });
  const dir = mkdtempSync(join(tmpdir(), 'fromscratch-closure-run-'));
  for (const { entry } of await closureToEntries(r, fs)) {
    const p = dir + entry.path;
    mkdirSync(dirname(p), { recursive: true });
    if (entry.type === 'symlink') symlinkSync(entry.target, p);
    else if (entry.type === 'dir') mkdirSync(p, { recursive: true });
    else if (entry.type === 'file' && entry.content.kind === 'host') {
      copyFileSync(entry.content.path, p);
      chmodSync(p, entry.mode);
    }
  }
  return dir;
}

function run(root: string | undefined, argv: string[]): string {
  const [cmd, args] = root ? ['chroot', [root, ...argv]] : [argv[0]!, argv.slice(1)];
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new Error(`${cmd} is missing: apt-get install coreutils`);
    throw new Error(`${argv.join(' ')} in ${root ?? 'host'} failed: ${err.stderr ?? err.message}`);
  }
}

describe('a closure runs on its own', () => {
  const cases: string[][] = [
    ['/usr/bin/ls', '--version'],
    ['/usr/bin/sort', '--version'],
    ['/usr/bin/curl', '--version'],
    ['/usr/bin/ldd', '--version'], // a #!/bin/bash script: bash, its libraries, the /bin -> usr/bin link
  ];
  for (const argv of cases) {
    it(`${argv.join(' ')} prints the same in an empty root holding only its closure`, async () => {
      const root = await materialise([argv[0]!]);
      try {
        assert.equal(run(root, argv), run(undefined, argv));
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }
});
