// bundle.mjs — bundles the CLI and the library into a few ES modules, dist/bundle/main.mjs and its chunks, with esbuild.
// bin/fromscratch.js prefers it: one file to read and compile instead of ~200 modules and their
// resolution, which is most of a command's start-up (README "Start-up"). Native and WASM-carrying
// packages stay external (they load their own files next to them from node_modules).
//   node scripts/bundle.mjs [OUTDIR]     # default dist/bundle (emptied first)
import { rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url);
// OUTDIR must lie inside the repository: the external packages are found from it in node_modules
const outdir = resolve(root.pathname, process.argv[2] ?? 'dist/bundle');
rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root.pathname,
  entryPoints: ['src/cli/main.ts'],
  outdir,
  outExtension: { '.js': '.mjs' },
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  // chunks keep the CLI's lazy loading: `--version` does not load the library
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // zstd-napi and @napi-rs/xattr are native add-ons; xz-decompress reads its WASM file beside it;
  // tsx is only the source fallback of bin/fromscratch.js
  external: ['zstd-napi', 'zstd-napi/*', '@napi-rs/xattr', 'xz-decompress', 'tsx', 'tsx/*'],
  // CommonJS dependencies (commander) require node built-ins: give the module a real require
  banner: {
    js: "import { createRequire as __fromscratchCreateRequire } from 'node:module'; const require = __fromscratchCreateRequire(import.meta.url);",
  },
  // the closure memo keys its entries by the code that computes closures (build/closure-memo.ts)
  define: { 'process.env.FROMSCRATCH_BUNDLED': '"1"' },
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});
// the source files the bundle was built from: bin/fromscratch.js compares their mtimes with the
// bundle's in a checkout (a few stats instead of listing and stat'ing the whole src/ tree at start-up).
// A new source file matters only once a bundled file imports it, and that edit is caught.
const inputs = Object.keys(result.metafile.inputs)
  .filter((f) => f.startsWith('src/'))
  .sort();
writeFileSync(resolve(outdir, 'inputs.json'), `${JSON.stringify(inputs)}\n`);
