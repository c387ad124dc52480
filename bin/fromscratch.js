#!/usr/bin/env -S node --max-semi-space-size=4
// Entry point of the `fromscratch` command. In order:
// - the bundle dist/bundle/main.mjs (scripts/bundle.mjs: a few modules to read and compile instead of
//   ~200, the fastest start-up; `npm ci` builds it through `prepare`, `npm pack` ships it),
// - else the compiled CLI in dist/src (`npm run build`),
// - else the TypeScript sources through tsx (a devDependency: a development checkout).
// In a checkout (src/ beside bin/), a compiled form older than any source file is never used: an
// edit is run as written, not as it was when the bundle was built. For the bundle, "any source file" is
// any file it was built from (dist/bundle/inputs.json): a few stats, not a walk of src/ at every start.
// FROMSCRATCH_FROM_SOURCE=1 forces the sources; FROMSCRATCH_NO_BUNDLE=1 skips the bundle.
// The shebang caps V8's semi-spaces at 4 MiB (default 16 MiB on 64-bit): a build streams file data
// through short-lived buffers and the scavenger keeps up at the same CPU, with ~20 MiB less peak RSS
// (README "Start-up and memory"). `node bin/fromscratch.js` runs without it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/bundle/main.mjs', import.meta.url);
const dist = new URL('../dist/src/cli/main.js', import.meta.url);
const srcDir = fileURLToPath(new URL('../src/', import.meta.url));
const checkout = existsSync(`${srcDir}cli/main.ts`);

let mod;
if (process.env.FROMSCRATCH_FROM_SOURCE) {
  mod = await fromSource();
} else if (!process.env.FROMSCRATCH_NO_BUNDLE && usable(bundle)) {
  // Node ≥ 22.1 keeps V8's compiled code of the bundle on disk; Node 20 has no such API
  nodeModule.enableCompileCache?.();
  mod = await import(bundle.href);
} else if (usable(dist)) {
  mod = await import(dist.href);
} else {
  mod = await fromSource();
}
mod.run();

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
  return import(new URL('../src/cli/main.ts', import.meta.url).href);
}
