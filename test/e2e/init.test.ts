/**
 * init.test.ts — `fromscratch init` (issue 13): the fromscratch.yaml it writes references the shipped
 * JSON Schema, is refused over an existing file without --force, is guessed from the directory (a
 * package.json → a Node.js app; a Dockerfile → says to use -f), and `build -c fromscratch.yaml`
 * builds it as written, into an image that runs.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { withTempDir } from '../support/validate-tools.ts';
import { fromscratch, ROOT } from './cli.ts';

const SCHEMA = join(ROOT, 'schema', 'fromscratch.schema.json');

interface Layer {
  files: { path: string }[];
}
async function imageOf(dir: string, ref: string) {
  const r = await fromscratch(['inspect', '--json', ref], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const img = JSON.parse(r.stdout).images[0] as {
    config: { config: Record<string, unknown> };
    layers: Layer[];
  };
  return { config: img.config.config, paths: new Set(img.layers.flatMap((l) => l.files.map((f) => f.path))) };
}

test('init writes a spec that references the schema, refuses to overwrite, and builds as written into an image that runs', async () => {
  await withTempDir('e2e-init', async (dir) => {
    const first = await fromscratch(['init'], { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    const file = join(dir, 'fromscratch.yaml');
    assert.equal(first.stdout, `${file}\n`);
    const text = readFileSync(file, 'utf8');
    const m = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text);
    assert.ok(m, text);
    assert.equal(fileURLToPath(m[1]!), SCHEMA, 'the schema shipped in schema/');
    assert.ok(text.split('\n').filter((l) => l.startsWith('#')).length >= 5, 'commented');

    const again = await fromscratch(['init'], { cwd: dir });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^error\[OUTPUT_UNWRITABLE\]: .*fromscratch\.yaml already exists$/m);
    assert.match(again.stderr, /^hint: .*--force/m);
    assert.equal(readFileSync(file, 'utf8'), text, 'the file is left as it was');
    const forced = await fromscratch(['init', '--force'], { cwd: dir });
    assert.equal(forced.code, 0, forced.stderr);

    const built = await fromscratch(['build', '-q', '-c', 'fromscratch.yaml', '-o', 'oci:out:1'], {
      cwd: dir,
    });
    assert.equal(built.code, 0, built.stderr);
    const ran = await fromscratch(['run', 'oci:out:1', '-c', 'echo init-ok'], {
      cwd: dir,
    });
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout.trim(), 'init-ok');
  });
});

test('init guesses a Node.js app from package.json (node, the directory as /app, main) and the build takes it as written', async () => {
  await withTempDir('e2e-init-node', async (dir) => {
    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'hello', main: './lib/server.js' }));
    mkdirSync(join(app, 'lib'));
    writeFileSync(join(app, 'lib', 'server.js'), 'console.log("hi")\n');
    writeFileSync(join(app, 'Dockerfile'), 'FROM scratch\nCOPY lib /app\n');
    // the node found on PATH goes into the spec: a small stand-in keeps this build quick
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    copyFileSync('/usr/bin/env', join(bin, 'node'));
    const r = await fromscratch(['init', 'app'], { cwd: dir, env: { PATH: `${bin}:/usr/bin:/bin` } });
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(join(app, 'fromscratch.yaml'), 'utf8');
    assert.match(text, new RegExp(`^  - binary: ${bin}/node$`, 'm'));
    assert.match(text, /^entrypoint: \[.*\/bin\/node, \/app\/lib\/server\.js\]$/m);
    assert.match(text, /^#\s+fromscratch build -f Dockerfile \. /m, 'the Dockerfile is pointed out, with -f');

    const built = await fromscratch(['build', '-q', '-c', 'app/fromscratch.yaml', '-o', 'oci:out:1'], {
      cwd: dir,
    });
    assert.equal(built.code, 0, built.stderr);
    const img = await imageOf(dir, 'oci:out:1');
    assert.deepEqual(img.config.Entrypoint, [`${bin}/node`, '/app/lib/server.js']);
    assert.equal(img.config.WorkingDir, '/app');
    for (const p of ['/app/package.json', '/app/lib/server.js', `${bin}/node`])
      assert.ok(img.paths.has(p), p);
  });
});

test('a package.json that is not JSON is a clear error naming it', async () => {
  await withTempDir('e2e-init-bad', async (dir) => {
    writeFileSync(join(dir, 'package.json'), '{ nope');
    const r = await fromscratch(['init'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error\[FILE_UNREADABLE\]: .*package\.json is not valid JSON$/m);
  });
});
