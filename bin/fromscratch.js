#!/usr/bin/env -S node --max-semi-space-size=4
// Entry point of the `fromscratch` command: the one-file bundle dist/bundle/main.mjs when it is built
// (scripts/bundle.mjs: one module to read and compile, the fastest start-up), else the compiled CLI in
// dist/ (npm ci runs `prepare`), else the TypeScript sources through tsx. FROMSCRATCH_FROM_SOURCE=1
// forces the sources; FROMSCRATCH_NO_BUNDLE=1 skips the bundle.
// The shebang caps V8's semi-spaces at 4 MiB (default 16 MiB on 64-bit): a build streams file data
// through short-lived buffers and the scavenger keeps up at the same CPU, with ~20 MiB less peak RSS
// (README "Start-up and memory"). `node bin/fromscratch.js` runs without it.
import { existsSync } from 'node:fs';
import * as nodeModule from 'node:module';

const bundle = new URL('../dist/bundle/main.mjs', import.meta.url);
const dist = new URL('../dist/src/cli/main.js', import.meta.url);
let mod;
if (process.env.FROMSCRATCH_FROM_SOURCE) {
  mod = await fromSource();
} else if (existsSync(bundle) && !process.env.FROMSCRATCH_NO_BUNDLE) {
  // Node ≥ 22.1 keeps V8's compiled code of the bundle on disk (in its own tmpdir cache); Node 20 has
  // no such API and compiles it each time
  nodeModule.enableCompileCache?.();
  mod = await import(bundle.href);
} else if (existsSync(dist)) {
  mod = await import(dist.href);
} else {
  mod = await fromSource();
}
mod.run();

async function fromSource() {
  const { register } = await import('tsx/esm/api');
  register();
  return import(new URL('../src/cli/main.ts', import.meta.url).href);
}
