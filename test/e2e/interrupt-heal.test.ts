/**
 * interrupt-heal.test.ts — hard stops and damaged caches (issue 15.4, 15.7): a corrupt cache blob is
 * dropped and the build still succeeds; SIGTERM/SIGINT remove a build's temp files and a run's bundle and
 * container; what SIGKILL leaves behind is collected by the next run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compile } from '../run/image-fixture.ts';
import { requireTool, run, withTempDir } from '../support/validate-tools.ts';
import { BIN, CODE_CACHE, fromscratch } from './cli.ts';

/** startCli spawns the CLI and resolves `seen` once stderr matched `re`; `done` gives the exit code. */
function startCli(args: string[], env: NodeJS.ProcessEnv, cwd: string, re: RegExp) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, FROMSCRATCH_CODE_CACHE: CODE_CACHE, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let onSeen: () => void;
  const seen = new Promise<void>((r) => {
    onSeen = r;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
    if (re.test(stderr)) onSeen();
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, seen, done };
}

const temps = (cache: string) => {
  try {
    return readdirSync(join(cache, 'blobs', 'sha256')).filter((n) => n.startsWith('.tmp-'));
  } catch {
    return [];
  }
};

/** bigApp writes incompressible files, so that writing their layer takes a while. */
function bigApp(dir: string): void {
  mkdirSync(join(dir, 'app'), { recursive: true });
  for (let i = 0; i < 6; i++)
    writeFileSync(
      join(dir, 'app', `blob${i}`),
      Buffer.alloc(16 << 20, i).map((_, j) => (j * 2654435761 + i) >>> 24),
    );
}

test('a corrupt blob in the cache is dropped and the build succeeds with the same digest, warning about it', async () => {
  await withTempDir('e2e-heal', async (dir) => {
    const env = { FROMSCRATCH_CACHE: join(dir, 'cache') };
    const args = ['build', '--binary', '/usr/bin/env', '-o', 'oci:out:x'];
    const first = await fromscratch(args, { cwd: dir, env });
    assert.equal(first.code, 0, first.stderr);
    const algo = join(dir, 'cache', 'blobs', 'sha256');
    const biggest = readdirSync(algo)
      .filter((n) => /^[0-9a-f]{64}$/.test(n))
      .map((n) => ({ n, size: readFileSync(join(algo, n)).length }))
      .sort((a, b) => b.size - a.size)[0]!.n;
    // bit rot: one byte flipped in place, size and mtime (to the nanosecond) as they were, so that the
    // file's stat data cannot tell; only reading it can
    const blob = join(algo, biggest);
    await run('cp', ['-p', blob, join(dir, 'stamp')]);
    const bytes = readFileSync(blob);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x40;
    writeFileSync(blob, bytes);
    await run('touch', ['-r', join(dir, 'stamp'), blob]);
    const second = await fromscratch([...args.slice(0, -1), 'oci:out2:x'], { cwd: dir, env });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, first.stdout, 'same digest');
    assert.match(second.stderr, /corrupt copy in the cache .* now removed/);
    await run(requireTool('skopeo', 'skopeo'), ['inspect', `oci:${join(dir, 'out2')}:x`]);
    // umoci checks every blob against its digest: the corrupt bytes were not linked into the output
    await run(requireTool('umoci', 'umoci'), [
      'unpack',
      '--image',
      `${join(dir, 'out2')}:x`,
      join(dir, 'bundle'),
    ]);
  });
});

test('SIGTERM and SIGINT during a build remove its temp files; a SIGKILLed build leaves some, and the next run collects them', async () => {
  await withTempDir('e2e-interrupt', async (dir) => {
    bigApp(dir);
    for (const [signal, code] of [
      ['SIGTERM', 143],
      ['SIGINT', 130],
    ] as const) {
      const cache = join(dir, `cache-${signal}`);
      const b = startCli(
        ['build', '--add', './app:/app', '-o', 'oci:out:x'],
        { FROMSCRATCH_CACHE: cache },
        dir,
        /writing layer/,
      );
      await b.seen;
      await new Promise((r) => setTimeout(r, 300));
      b.child.kill(signal);
      const r = await b.done;
      assert.equal(r.code, code, `exit ${code} after ${signal}: ${r.stderr}`);
      assert.deepEqual(temps(cache), [], `no temp file left after ${signal}`);
      assert.doesNotMatch(r.stderr, /internal error/);
    }
    // SIGKILL: nothing can clean up; at least one kill must land mid-write (a temp file is left)
    const cache = join(dir, 'cache-kill');
    let left: string[] = [];
    for (let round = 0; round < 5 && left.length === 0; round++) {
      const b = startCli(
        ['build', '--add', './app:/app', '-o', 'oci:out:x'],
        { FROMSCRATCH_CACHE: cache },
        dir,
        /writing layer/,
      );
      await b.seen;
      await new Promise((r) => setTimeout(r, 200 + round * 150));
      b.child.kill('SIGKILL');
      await b.done;
      left = temps(cache);
    }
    assert.ok(left.length > 0, 'a SIGKILL landed while the layer was written');
    const again = await fromscratch(['build', '--add', './app:/app', '-o', 'oci:out:x'], {
      cwd: dir,
      env: { FROMSCRATCH_CACHE: cache },
    });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(temps(cache), [], 'the next run collected the dead writer’s temp files');
  });
});

test('SIGTERM during `run` kills the container and removes its bundle; a SIGKILLed run’s bundle is collected next time', async () => {
  await withTempDir('e2e-run-interrupt', async (dir) => {
    const runc = requireTool('runc', 'runc');
    writeFileSync(
      join(dir, 'sleeper'),
      compile('#include <unistd.h>\nint main(){sleep(120);return 0;}\n', ['-static']),
      {
        mode: 0o755,
      },
    );
    const built = await fromscratch(
      ['build', '--add', './sleeper:/sleeper', '--entrypoint', '["/sleeper"]', '-o', 'oci:img:x'],
      {
        cwd: dir,
      },
    );
    assert.equal(built.code, 0, built.stderr);
    const tmp = mkdtempSync(join(tmpdir(), 'fs-run-tmp-'));
    try {
      const stale = join(tmp, 'fromscratch-run-4194305-abcdef'); // pid above pid_max: its run is dead
      mkdirSync(join(stale, 'rootfs'), { recursive: true });
      const r = startCli(['run', 'oci:img:x'], { TMPDIR: tmp }, dir, /./);
      // wait until the container runs (runc lists it), then stop the CLI
      let id: string | undefined;
      for (let i = 0; i < 100 && !id; i++) {
        await new Promise((res) => setTimeout(res, 100));
        const list = await run(runc, ['list', '-q'], { allowFail: true });
        id = list.stdout.split('\n').find((l) => l.startsWith(`fromscratch-${r.child.pid}-`));
      }
      assert.ok(id, 'the container started');
      assert.deepEqual(
        readdirSync(tmp).filter((n) => n.includes('4194305')),
        [],
        'the stale bundle was collected',
      );
      r.child.kill('SIGTERM');
      const res = await r.done;
      assert.equal(res.code, 143, res.stderr);
      const after = await run(runc, ['list', '-q'], { allowFail: true });
      assert.ok(!after.stdout.includes(id), `container ${id} is gone`);
      assert.deepEqual(
        readdirSync(tmp).filter((n) => n.startsWith('fromscratch-run-')),
        [],
        'no bundle left',
      );
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
