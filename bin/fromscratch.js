#!/usr/bin/env node
// Entry point of the `fromscratch` command: the compiled CLI in dist/ when it is built (npm ci runs
// `prepare`), else the TypeScript sources through tsx. FROMSCRATCH_FROM_SOURCE=1 forces the sources.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/src/cli/main.js', import.meta.url);
let mod;
if (existsSync(dist) && !process.env.FROMSCRATCH_FROM_SOURCE) {
  mod = await import(dist.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  mod = await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
mod.run();
