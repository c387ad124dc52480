#!/usr/bin/env -S node --max-semi-space-size=4
// Entry point of the `fromscratch` command. In order:
// - the bundle dist/bundle/main.cjs (scripts/bundle.mjs: one file to read instead of ~200 modules,
//   compiled from a V8 code cache kept per command, the fastest start-up; `npm ci` builds it through
//   `prepare`, `npm pack` ships it),
// - else the compiled CLI in dist/src (`npm run build`),
// - else the TypeScript sources through tsx (a devDependency: a development checkout).
// In a checkout (src/ beside bin/), a compiled form older than any source file is never used: an
// edit is run as written, not as it was when the bundle was built. For the bundle, "any source file" is
// any file it was built from (dist/bundle/inputs.json): a few stats, not a walk of src/ at every start.
// FROMSCRATCH_FROM_SOURCE=1 forces the sources; FROMSCRATCH_NO_BUNDLE=1 skips the bundle;
// FROMSCRATCH_NO_CODE_CACHE=1 compiles the bundle afresh and keeps no code cache.
// The shebang caps V8's semi-spaces at 4 MiB (default 16 MiB on 64-bit): a build streams file data
// through short-lived buffers and the scavenger keeps up at the same CPU, with ~20 MiB less peak RSS
// (README "Start-up and memory"). `node bin/fromscratch.js` runs without it.
'use strict';
// a CommonJS script (bin/package.json): node starts it without its ES module loader (~5 ms)
const {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} = require('node:fs');
const { createRequire } = require('node:module');
const { homedir } = require('node:os');
const { dirname, join } = require('node:path');
const { fileURLToPath, pathToFileURL } = require('node:url');
const vm = require('node:vm');

/** GENERATIONS is how many first runs of a command write its code cache (loadBundle). */
const GENERATIONS = 3;
/**
 * REFRESH_EVERY: after those, every so many runs compare the code compiled by then with the cache and
 * write it when it holds more (loadBundle).
 */
const REFRESH_EVERY = 16;

const self = pathToFileURL(__filename);
const bundle = new URL('../dist/bundle/main.cjs', self);
const dist = new URL('../dist/src/cli/main.js', self);
const srcDir = fileURLToPath(new URL('../src/', self));
const checkout = existsSync(`${srcDir}cli/main.ts`);

if (process.env.FROMSCRATCH_FROM_SOURCE) {
  fromSource().then(start);
} else if (!process.env.FROMSCRATCH_NO_BUNDLE && usable(bundle)) {
  start(loadBundle(fileURLToPath(bundle)));
} else if (usable(dist)) {
  import(dist.href).then(start);
} else {
  fromSource().then(start);
}

function start(mod) {
  mod.run();
}

/**
 * loadBundle runs the CommonJS bundle as node's require would, but compiled with V8's code cache of
 * an earlier run of the same command (Node 20 keeps none for ES modules, and none on disk by itself).
 * The cache lives in FROMSCRATCH_CODE_CACHE, else $XDG_CACHE_HOME/fromscratch/v8 (~/.cache/…),
 * named by the bundle's stat data, node's version and flags, and the command: a rebuilt
 * bundle or another node never meets an old cache, and V8 rejects one that does not fit anyway. A
 * missing or rejected cache is written when the command ends, so it holds the code the command
 * compiled, not only the top level, and again by the next runs up to GENERATIONS (its `.gen` file
 * counts them); every failure to read or write it is ignored. Caches unused for 30 days are dropped
 * when another is written.
 */
function loadBundle(file) {
  // ASCII by construction (scripts/bundle.mjs checks it): latin1 is the cheapest way to a string
  // (its `#!` line is a comment already: scripts/bundle.mjs)
  const source = readFileSync(file, 'latin1');
  const cache = process.env.FROMSCRATCH_NO_CODE_CACHE ? undefined : codeCachePath(file);
  let cachedData;
  let generation = 0;
  if (cache) {
    try {
      cachedData = readFileSync(cache.path);
      generation = Number(readFileSync(cache.gen, 'latin1')) || 1;
      // a cache in use is kept fresh (once a day): only caches unused for STALE_MS are dropped
      const day = Date.now() - 86_400_000;
      if (statSync(cache.path).mtimeMs < day) utimesSync(cache.path, new Date(), new Date());
    } catch {
      // none yet (or not readable, or not ours to touch): compiled afresh
    }
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
    ...(vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER
      ? { importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER }
      : {}),
  });
  // written again by the first GENERATIONS runs of the command, not only the first: each write holds
  // what that run compiled besides what it loaded, so the cache comes to cover the paths the command
  // takes (a cold build's compression, a warm one's cache replay, a push's HTTP client); one written
  // by a cold build alone left a warm push compiling ~60 ms of its code at every run. Later, every
  // REFRESH_EVERY runs, the code compiled by then is written when it is more than the cache held: three
  // cold builds first no longer leave every later edit-and-push loop compiling its push (~40 ms each)
  const fresh = !cachedData || script.cachedDataRejected;
  if (cache && (fresh || generation < GENERATIONS)) {
    process.once('exit', () => writeCodeCache(cache, script, fresh ? 1 : generation + 1));
  } else if (cache) {
    process.once('exit', () => {
      const next = generation + 1;
      if (next % REFRESH_EVERY !== 0) return writeGeneration(cache, next);
      const data = script.createCachedData();
      if (data.length > cachedData.length * 1.01) writeCodeCache(cache, script, next, data);
      else writeGeneration(cache, next);
    });
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}

/** codeCachePath names the code cache of this bundle, node and command ({ dir, prefix, path }). */
function codeCachePath(file) {
  let st;
  try {
    st = statSync(file);
  } catch {
    return undefined;
  }
  // the tool's own compiled code, not build state: apart from FROMSCRATCH_CACHE (a build with a fresh
  // cache directory still starts from it, as an installed docker or buildah binary does)
  const dir =
    process.env.FROMSCRATCH_CODE_CACHE ||
    join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'fromscratch', 'v8');
  const prefix = hash64(
    [file, st.size, st.mtimeMs, st.ino, process.version, process.arch, ...process.execArgv].join('\0'),
  );
  const command = process.argv.slice(2).find((a) => !a.startsWith('-'));
  const name = command !== undefined && /^[a-z][a-z-]{0,31}$/.test(command) ? command : 'none';
  return {
    dir,
    prefix,
    path: join(dir, `${prefix}-${name}.bin`),
    gen: join(dir, `${prefix}-${name}.gen`),
  };
}

/**
 * hash64 is a 64-bit string hash (two 32-bit FNV-1a lanes) as 16 hex digits: a name for the cache,
 * without loading node:crypto for it (~10 ms of `--version`). V8 checks a cache's fit on its own.
 */
function hash64(text) {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/** STALE_MS: a code cache unused this long (a bundle since rebuilt, or removed) is dropped. */
const STALE_MS = 30 * 86_400_000;

/**
 * writeCodeCache writes the script's code cache atomically, and drops the stale caches of other
 * bundles (two installs in use, a global and a project's, keep theirs side by side).
 */
function writeCodeCache(cache, script, generation, data = script.createCachedData()) {
  try {
    mkdirSync(cache.dir, { recursive: true });
    const tmp = `${cache.path}.${process.pid}.tmp`;
    writeFileSync(tmp, data);
    renameSync(tmp, cache.path);
    writeFileSync(cache.gen, String(generation));
    const stale = Date.now() - STALE_MS;
    for (const n of readdirSync(cache.dir)) {
      if (n.startsWith(`${cache.prefix}-`) || !/^[0-9a-f]{16}-[a-z-]+\.(bin|gen)$/.test(n)) continue;
      const p = join(cache.dir, n);
      if (statSync(p).mtimeMs < stale) unlinkSync(p);
    }
  } catch {
    // a cache only: the next run compiles again
  }
}

/** writeGeneration counts a run of the command that kept its code cache as it was. */
function writeGeneration(cache, generation) {
  try {
    writeFileSync(cache.gen, String(generation));
  } catch {
    // a cache only
  }
}

/** usable says whether a compiled entry exists and, in a checkout, is newer than every source file. */
function usable(entry) {
  let built;
  try {
    built = statSync(entry).mtimeMs;
  } catch {
    return false;
  }
  if (!checkout) return true;
  if (entry === bundle) {
    // the bundle lists the source files it was built from (scripts/bundle.mjs): stat only those
    let inputs;
    try {
      inputs = JSON.parse(readFileSync(new URL('inputs.json', bundle), 'utf8'));
    } catch {
      inputs = undefined;
    }
    if (Array.isArray(inputs)) {
      for (const name of inputs) {
        // a listed file that is gone: the sources changed
        const st = statSync(`${srcDir}../${name}`, { throwIfNoEntry: false });
        if (st === undefined || st.mtimeMs > built) return false;
      }
      return true;
    }
  }
  for (const name of readdirSync(srcDir, { recursive: true })) {
    if (!name.endsWith('.ts') || name.endsWith('.test.ts')) continue;
    if (statSync(srcDir + name).mtimeMs > built) return false;
  }
  return true;
}

async function fromSource() {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write(
      'fromscratch: error: neither the compiled CLI (dist/) nor the TypeScript runner (tsx) is installed\n' +
        '  hint: in a checkout, run `npm ci` (development) or `npm run build`; the npm package ships dist/\n',
    );
    process.exit(1);
  }
  register();
  return import(new URL('../src/cli/main.ts', self).href);
}
