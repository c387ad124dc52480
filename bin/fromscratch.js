#!/usr/bin/env node
// Entry point of the `fromscratch` command: the compiled CLI in dist/ (what the npm package ships;
// `npm pack` builds it), else, in a development checkout, the TypeScript sources through tsx (a
// devDependency). FROMSCRATCH_FROM_SOURCE=1 forces the sources.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/src/cli/main.js', import.meta.url);
let mod;
if (existsSync(dist) && !process.env.FROMSCRATCH_FROM_SOURCE) {
  mod = await import(dist.href);
} else {
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
  mod = await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
mod.run();
