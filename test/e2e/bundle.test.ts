/**
 * bundle.test.ts — the esbuild bundle (scripts/bundle.mjs) runs a build and writes the same image as
 * the TypeScript sources: the bundle is what bin/fromscratch.js prefers once built, so it must not drift.
 * And bin/fromscratch.js's V8 code cache of it: written once per command, used after, rewritten when
 * damaged, dropped with its bundle, never needed for a correct run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REGISTRY, uniqueRepo } from '../registry/fixtures.ts';
import { fromscratch, ROOT } from './cli.ts';

test('the bundle builds the image the sources build, with the same digest, from a code cache kept per command', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fromscratch-bundle-'));
  // an installed layout inside the repository (bin/ and dist/bundle/, no src/ beside them): the
  // bundle's external packages (native add-ons) resolve from the repository's node_modules
  const inst = join(ROOT, 'dist', `.bundle-test-${process.pid}`);
  const out = join(inst, 'dist', 'bundle');
  try {
    const made = spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs'), out], {
      encoding: 'utf8',
    });
    assert.equal(made.status, 0, made.stderr);
    assert.ok(existsSync(join(out, 'main.cjs')), 'main.cjs written');
    const code = readFileSync(join(out, 'main.cjs'));
    assert.equal(
      code.findIndex((b) => b > 0x7f),
      -1,
      'ASCII only (bin/fromscratch.js reads it as latin1)',
    );
    // the source files it was built from, which bin/fromscratch.js compares with the bundle's mtime
    const inputs = JSON.parse(readFileSync(join(out, 'inputs.json'), 'utf8')) as string[];
    for (const f of ['src/cli/main.ts', 'src/orchestrate/build.ts', 'src/closure/closure.ts'])
      assert.ok(inputs.includes(f), `inputs.json lists ${f}`);
    for (const f of inputs) {
      assert.match(f, /^src\/.+\.ts$/);
      assert.ok(!f.endsWith('.test.ts') && existsSync(join(ROOT, f)), `${f} is a source file`);
    }
    mkdirSync(join(inst, 'bin'));
    copyFileSync(join(ROOT, 'bin', 'fromscratch.js'), join(inst, 'bin', 'fromscratch.js'));
    copyFileSync(join(ROOT, 'bin', 'package.json'), join(inst, 'bin', 'package.json'));
    const cache = join(dir, 'cache');
    const v8 = join(dir, 'v8');
    const bin = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(process.execPath, [join(inst, 'bin', 'fromscratch.js'), ...args], {
        encoding: 'utf8',
        env: { ...process.env, FROMSCRATCH_CACHE: cache, FROMSCRATCH_CODE_CACHE: v8, ...env },
      });

    const args = ['build', '-q', '--binary', '/bin/true'];
    const fromSource = await fromscratch([...args, '-o', `oci:${join(dir, 'src')}:x`]);
    assert.equal(fromSource.code, 0, fromSource.stderr);
    const bundled = bin([...args, '-o', `oci:${join(dir, 'bundle')}:x`]);
    assert.equal(bundled.status, 0, bundled.stderr);
    assert.match(bundled.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(bundled.stdout, fromSource.stdout, 'same digest from the bundle and the sources');
    const bins = () => readdirSync(v8).filter((n) => n.endsWith('.bin'));
    const [buildCache] = bins();
    assert.match(buildCache ?? '', /^[0-9a-f]{16}-build\.bin$/, 'the build command left its code cache');
    const generation = () => readFileSync(join(v8, buildCache!.replace(/\.bin$/, '.gen')), 'utf8');
    assert.equal(generation(), '1');

    // the built-ins only some commands use are loaded on first use (scripts/bundle.mjs LAZY_BUILTINS):
    // --version and a build to a layout load no HTTP stack, TLS or child processes; a push loads HTTP
    // (not TLS, to a plain-HTTP registry) and writes the same image
    const probe = join(dir, 'probe.cjs');
    writeFileSync(
      probe,
      "process.on('exit', () => require('node:fs').writeFileSync(process.env.PROBE_OUT, process.moduleLoadList.join('\\n')));\n",
    );
    const loaded = (cmd: string[]) => {
      const list = join(dir, 'modules.txt');
      const r = spawnSync(
        process.execPath,
        ['--require', probe, join(inst, 'bin', 'fromscratch.js'), ...cmd],
        {
          encoding: 'utf8',
          // (node's flags name a code cache of their own: kept apart from the ones checked below)
          env: {
            ...process.env,
            FROMSCRATCH_CACHE: cache,
            FROMSCRATCH_CODE_CACHE: `${v8}-probe`,
            PROBE_OUT: list,
          },
        },
      );
      assert.equal(r.status, 0, r.stderr);
      return { stdout: r.stdout, modules: new Set(readFileSync(list, 'utf8').split('\n')) };
    };
    for (const cmd of [['--version'], [...args, '-o', `oci:${join(dir, 'probe')}:x`]]) {
      const { modules } = loaded(cmd);
      for (const m of ['http', 'https', 'tls', 'child_process'])
        assert.ok(!modules.has(`NativeModule ${m}`), `${cmd.join(' ')} loaded node:${m}`);
    }
    const pushed = loaded([...args, '-o', `docker://${REGISTRY}/${uniqueRepo('bundle')}:x`]);
    assert.equal(pushed.stdout, fromSource.stdout, 'the same image pushed');
    assert.ok(pushed.modules.has('NativeModule http'));
    assert.ok(!pushed.modules.has('NativeModule tls'), 'no TLS for a plain-HTTP registry');

    // the next runs compile from it and write it again, with what they compiled besides, up to the
    // third (bin/fromscratch.js GENERATIONS); a later one leaves it as it is, and writes the same image
    for (const n of [2, 3]) {
      const r = bin([...args, '-o', `oci:${join(dir, `gen${n}`)}:x`]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, fromSource.stdout);
      assert.equal(generation(), String(n));
    }
    const before = statSync(join(v8, buildCache!)).mtimeMs;
    const again = bin([...args, '-o', `oci:${join(dir, 'again')}:x`]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout, fromSource.stdout);
    assert.equal(statSync(join(v8, buildCache!)).mtimeMs, before, 'a usable cache is not rewritten');
    assert.equal(generation(), '4', 'the run is counted');
    // every 16th run (bin/fromscratch.js REFRESH_EVERY) compares: a build like the first three compiled
    // nothing new, the cache stays; a push compiled its HTTP client, the cache is written with it
    const refresh = (out: string) => {
      writeFileSync(join(v8, buildCache!.replace(/\.bin$/, '.gen')), '15');
      const size = statSync(join(v8, buildCache!)).size;
      const r = bin([...args, '-o', out]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, fromSource.stdout);
      assert.equal(generation(), '16');
      return statSync(join(v8, buildCache!)).size - size;
    };
    assert.equal(refresh(`oci:${join(dir, 'same')}:x`), 0, 'nothing new compiled: not rewritten');
    const grown = refresh(`docker://${REGISTRY}/${uniqueRepo('bundle')}:x`);
    assert.ok(grown > 0, `a push's code is added to the cache (${grown} bytes)`);

    // each command has its own; a damaged one is rejected by V8, the run is right, the cache rewritten
    assert.equal(bin(['--version']).stdout.trim(), bin(['--version']).stdout.trim());
    const none = bins().find((n) => n.endsWith('-none.bin'));
    assert.ok(none, `--version left a cache of its own: ${readdirSync(v8)}`);
    writeFileSync(join(v8, none), 'not a code cache');
    const damaged = bin(['--version']);
    assert.equal(damaged.status, 0, damaged.stderr);
    assert.match(damaged.stdout, /^\d+\.\d+\.\d+\n$/);
    assert.ok(statSync(join(v8, none)).size > 1000, 'the damaged cache was rewritten');

    // a rebuilt bundle (other stat data) gets caches of its own; the old ones stay while used in
    // the last 30 days (two installs side by side), and go once unused for longer
    const old = readdirSync(v8);
    const oldBins = bins();
    const later = new Date(Date.now() + 5000);
    utimesSync(join(out, 'main.cjs'), later, later);
    assert.equal(bin(['--version']).status, 0);
    const both = bins();
    assert.equal(both.length, oldBins.length + 1, `a cache of the rebuilt bundle beside the old: ${both}`);
    const longAgo = new Date(Date.now() - 40 * 86_400_000);
    for (const n of old) utimesSync(join(v8, n), longAgo, longAgo);
    assert.equal(bin(['build', '--help']).status, 0);
    const left = readdirSync(v8);
    assert.equal(bins().length, 2, `the old bundle's unused caches were dropped: ${left}`);
    assert.ok(!left.some((n) => old.includes(n)), `${left}`);
    // one in use is kept fresh: its mtime moves once a day
    const inUse = left.find((n) => n.endsWith('-none.bin'))!;
    const dayAgo = new Date(Date.now() - 2 * 86_400_000);
    utimesSync(join(v8, inUse), dayAgo, dayAgo);
    assert.equal(bin(['--version']).status, 0);
    assert.ok(statSync(join(v8, inUse)).mtimeMs > Date.now() - 60_000, 'a used cache is touched');
    assert.equal(bin(['--version']).status, 0); // its third run: written for the last time

    // apart from the build cache: a fresh FROMSCRATCH_CACHE still starts from it
    const kept = statSync(join(v8, inUse)).mtimeMs;
    const fresh = bin(['--version'], { FROMSCRATCH_CACHE: join(dir, 'fresh') });
    assert.equal(fresh.status, 0, fresh.stderr);
    assert.deepEqual(readdirSync(v8), left);
    assert.equal(statSync(join(v8, inUse)).mtimeMs, kept, 'the code cache was used, not written again');
    assert.equal(existsSync(join(dir, 'fresh', 'v8')), false);

    // a cache directory that cannot be made (a file in its place): the run is as good, nothing written
    const blocked = join(dir, 'blocked');
    writeFileSync(blocked, 'a file');
    const noDir = bin(['--version'], { FROMSCRATCH_CODE_CACHE: join(blocked, 'v8') });
    assert.equal(noDir.status, 0, noDir.stderr);
    assert.equal(noDir.stderr, '');
    assert.equal(readFileSync(blocked, 'utf8'), 'a file');

    // FROMSCRATCH_NO_CODE_CACHE=1: compiled afresh, nothing kept
    const plain = join(dir, 'plain');
    const off = bin(['--version'], { FROMSCRATCH_CODE_CACHE: plain, FROMSCRATCH_NO_CODE_CACHE: '1' });
    assert.equal(off.status, 0, off.stderr);
    assert.equal(existsSync(plain), false, 'no code cache written');
  } finally {
    rmSync(inst, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
