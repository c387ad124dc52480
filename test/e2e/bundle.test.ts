/**
 * bundle.test.ts — the esbuild bundle (scripts/bundle.mjs) runs a build and writes the same image as
 * the TypeScript sources: the bundle is what bin/fromscratch.js prefers once built, so it must not drift.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { fromscratch, ROOT } from './cli.ts';

test('the bundle builds the image the sources build, with the same digest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fromscratch-bundle-'));
  // inside the repository: the bundle's external packages (native add-ons) resolve from node_modules
  const out = join(ROOT, 'dist', `.bundle-test-${process.pid}`);
  try {
    const made = spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs'), out], {
      encoding: 'utf8',
    });
    assert.equal(made.status, 0, made.stderr);
    assert.ok(existsSync(join(out, 'main.mjs')), 'main.mjs written');
    // the source files it was built from, which bin/fromscratch.js compares with the bundle's mtime
    const inputs = JSON.parse(readFileSync(join(out, 'inputs.json'), 'utf8')) as string[];
    for (const f of ['src/cli/main.ts', 'src/orchestrate/build.ts', 'src/closure/closure.ts'])
      assert.ok(inputs.includes(f), `inputs.json lists ${f}`);
    for (const f of inputs) {
      assert.match(f, /^src\/.+\.ts$/);
      assert.ok(!f.endsWith('.test.ts') && existsSync(join(ROOT, f)), `${f} is a source file`);
    }
    const args = ['build', '-q', '--binary', '/bin/true'];
    const fromSource = await fromscratch([...args, '-o', `oci:${join(dir, 'src')}:x`]);
    assert.equal(fromSource.code, 0, fromSource.stderr);
    const runBundle = `const m = await import(${JSON.stringify(pathToFileURL(join(out, 'main.mjs')).href)}); m.run();`;
    const bundled = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', runBundle, 'fromscratch', ...args, '-o', `oci:${join(dir, 'bundle')}:x`],
      { encoding: 'utf8', env: { ...process.env, FROMSCRATCH_CACHE: join(dir, 'cache') } },
    );
    assert.equal(bundled.status, 0, bundled.stderr);
    assert.match(bundled.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(bundled.stdout, fromSource.stdout, 'same digest from the bundle and the sources');
  } finally {
    rmSync(out, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
