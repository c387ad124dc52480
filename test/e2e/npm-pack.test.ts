/**
 * npm-pack.test.ts — the npm package ships what a user runs, and it runs once installed.
 *
 * The package is packed from a copy of the sources (so `prepack`, which compiles dist/, never
 * touches the checkout), its file list is checked (compiled code, bin, schema, LICENSE, README, no
 * tests, no TypeScript sources), and it is installed into a fresh directory with npm itself,
 * without the network: `npm ci --offline --omit=dev` from a lockfile made of the repository's
 * run-time entries, so every tarball comes from the npm cache that `npm ci` filled. (An
 * `npm i -g FILE.tgz --offline` needs the registry's package documents, which `npm ci` does not
 * cache; the lockfile install places the same files from the same tarball.) The installed
 * `fromscratch` then prints its version and builds a small image, with no TypeScript runner installed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from './cli.ts';

const run = promisify(execFile);
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  files: string[];
};

let work: string;
let packed: { filename: string; integrity: string; files: { path: string }[] };
let installed: string;

/** npm runs npm with a private log directory, never asking the network. */
async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run('npm', [...args, '--no-audit', '--no-fund', '--no-update-notifier'], {
    cwd,
    env: { ...process.env, npm_config_logs_dir: join(work, 'npm-logs') },
    maxBuffer: 64 << 20,
  });
  return stdout;
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'fromscratch-pack-'));
  // a copy of what `npm pack` reads, so that prepack's dist/ lands outside the checkout
  const stage = join(work, 'stage');
  mkdirSync(stage);
  for (const f of [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'scripts',
    'bin',
    'src',
    'schema',
    'LICENSE',
    'README.md',
  ]) {
    cpSync(join(ROOT, f), join(stage, f), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(stage, 'node_modules'));
  const out = await npm(['pack', '--json', '--pack-destination', work], stage);
  packed = (JSON.parse(out.slice(out.indexOf('['))) as (typeof packed)[])[0] as typeof packed;

  // a fresh project whose lockfile holds the package and the repository's run-time dependencies
  installed = join(work, 'install');
  mkdirSync(installed);
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, Record<string, unknown> & { dev?: boolean }>;
  };
  const root = lock.packages[''] as Record<string, unknown>;
  const packages: Record<string, unknown> = {
    '': { name: 'pack-smoke', version: '1.0.0', dependencies: { [PKG.name]: `file:../${packed.filename}` } },
    [`node_modules/${PKG.name}`]: {
      version: PKG.version,
      resolved: `file:../${packed.filename}`,
      integrity: packed.integrity,
      license: root.license,
      dependencies: root.dependencies,
      optionalDependencies: root.optionalDependencies,
      bin: root.bin,
      engines: root.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path.startsWith('node_modules/') && !entry.dev) packages[path] = entry;
  }
  writeFileSync(
    join(installed, 'package.json'),
    JSON.stringify({
      name: 'pack-smoke',
      version: '1.0.0',
      private: true,
      dependencies: { [PKG.name]: `file:../${packed.filename}` },
    }),
  );
  writeFileSync(
    join(installed, 'package-lock.json'),
    JSON.stringify({ name: 'pack-smoke', version: '1.0.0', lockfileVersion: 3, requires: true, packages }),
  );
  // --ignore-scripts: zstd-napi's install script downloads a prebuilt binding (gzip needs none)
  await npm(['ci', '--offline', '--omit=dev', '--ignore-scripts'], installed);
});

after(() => rmSync(work, { recursive: true, force: true }));

test('the package name is not the taken bare name and the README installs it', () => {
  assert.notEqual(PKG.name, 'fromscratch', 'the bare name fromscratch belongs to another project on npm');
  assert.match(
    readFileSync(join(ROOT, 'README.md'), 'utf8'),
    new RegExp(`npm (i|install) -g ${PKG.name}\\b`),
  );
});

test('the TypeScript runner is a development dependency only, and every run-time dependency is used by src/', () => {
  assert.equal(PKG.dependencies.tsx, undefined);
  assert.ok(PKG.devDependencies.tsx, 'bin/fromscratch.js runs the sources through tsx in a checkout');
  const sources = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => readFileSync(join(ROOT, 'src', f), 'utf8'))
    .join('\n');
  const unused = Object.keys(PKG.dependencies).filter(
    (d) => !sources.includes(`'${d}'`) && !sources.includes(`'${d}/`),
  );
  assert.deepEqual(unused, [], 'dependencies that src/ never imports belong in devDependencies');
});

test('npm pack ships the compiled CLI, the schema, LICENSE and README, and no tests or sources', () => {
  const paths = packed.files.map((f) => f.path).sort();
  for (const want of [
    'LICENSE',
    'README.md',
    'package.json',
    'bin/fromscratch.js',
    'bin/package.json',
    'schema/fromscratch.schema.json',
    'dist/src/cli/main.js',
    'dist/src/index.js',
    'dist/src/index.d.ts',
    'dist/bundle/main.cjs',
  ]) {
    assert.ok(paths.includes(want), `${want} is missing from the package: ${paths.length} files`);
  }
  const unwanted = paths.filter((p) =>
    /(^|\/)(test|tests|bench|fixtures)\/|\.test\.|\.map$|(?<!\.d)\.ts$/.test(p),
  );
  assert.deepEqual(
    unwanted,
    [],
    'tests, benchmarks, source maps and TypeScript sources stay out of the package',
  );
  assert.match(readFileSync(join(ROOT, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/);
});

test('the installed package runs without the TypeScript runner: --version and a small build', async () => {
  const bin = join(installed, 'node_modules', '.bin', 'fromscratch');
  assert.ok(
    !existsSync(join(installed, 'node_modules', 'tsx')),
    'tsx was installed as a run-time dependency',
  );
  const env: NodeJS.ProcessEnv = { ...process.env, FROMSCRATCH_CACHE: join(work, 'cache') };
  delete env.FROMSCRATCH_FROM_SOURCE; // the package's bundle, not the sources
  const version = await run(bin, ['--version'], { env });
  assert.equal(version.stdout.trim(), PKG.version);

  writeFileSync(join(work, 'hello.txt'), 'hello\n');
  const built = await run(
    bin,
    ['build', '--add', `${join(work, 'hello.txt')}:/hello.txt`, '-o', `oci:${join(work, 'img')}:1`],
    {
      env,
      cwd: work,
    },
  );
  assert.match(built.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
  const listed = await run(bin, ['inspect', `oci:${join(work, 'img')}:1`, '--json'], { env, cwd: work });
  assert.match(listed.stdout, /"\/?hello\.txt"/);
});
