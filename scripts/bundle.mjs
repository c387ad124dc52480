// bundle.mjs — bundles the CLI and the library into one CommonJS file, dist/bundle/main.cjs, with esbuild.
// bin/fromscratch.js prefers it: one file to read instead of ~200 modules and their resolution, and, being
// a classic script, one V8 can compile from a code cache (bin/fromscratch.js keeps one per command in the
// cache directory): Node 20 has no code cache for ES modules. Modules reached by a dynamic import()
// (commands, openpgp, the YAML/zod parsers) stay lazy: esbuild runs their top level on first use only.
// Native and WASM-carrying packages stay external (they load their own files next to them from
// node_modules). Node built-ins that only some commands use (LAZY_BUILTINS: the HTTP stack, TLS, child
// processes, workers) are loaded on first use of one of their exports, not at start-up: an esbuild
// bundle runs every import of the modules a command reaches at once, and these cost ~15 ms of a build
// to an OCI layout that never speaks HTTP nor spawns a program (npm run bench's one-shot inner loop).
//   node scripts/bundle.mjs [OUTDIR]     # default dist/bundle (emptied first)
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { build } from 'esbuild';

/** LAZY_BUILTINS are the node built-ins loaded on first use (`node:http` and `http` alike). */
const LAZY_BUILTINS = ['http', 'https', 'tls', 'net', 'dgram', 'child_process', 'worker_threads', 'readline'];

/**
 * lazyBuiltins stands each LAZY_BUILTINS import for a module of getters, one per export of the
 * built-in (as this node has them), that loads it on first read: `import { request } from 'node:http'`
 * and `import http from 'node:http'` alike (esbuild reads members at the call, `(0, m.request)(…)`).
 * Exports a later node adds are read through `default`, the module itself.
 */
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    const names = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`);
    b.onResolve({ filter: names }, (args) =>
      args.namespace === 'lazy-builtin'
        ? undefined // the real one, inside its stand-in: external
        : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' },
    );
    const req = createRequire(import.meta.url);
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
      const keys = Object.keys(req(`node:${args.path}`)).filter(
        (k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default',
      );
      const getters = keys.map((k) => `get ${k}() { return load().${k}; }`).join(',\n');
      return {
        loader: 'js',
        contents: `let m;\nconst load = () => (m ??= require('node:${args.path}'));\nmodule.exports = {\n${getters}${getters ? ',\n' : ''}get default() { return load(); }\n};\n`,
      };
    });
  },
};

const root = new URL('..', import.meta.url);
// OUTDIR must lie inside the repository: the external packages are found from it in node_modules
const outdir = resolve(root.pathname, process.argv[2] ?? 'dist/bundle');
rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root.pathname,
  entryPoints: ['src/cli/main.ts'],
  outfile: resolve(outdir, 'main.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // zstd-napi and @napi-rs/xattr are native add-ons; xz-decompress reads its WASM file beside it;
  // tsx is only the source fallback of bin/fromscratch.js
  external: ['zstd-napi', 'zstd-napi/*', '@napi-rs/xattr', 'xz-decompress', 'tsx', 'tsx/*'],
  // the closure memo keys its entries by the code that computes closures (build/closure-memo.ts);
  // import.meta.url is the bundle's own URL (module-relative paths: the schema, the memo's code stamp)
  define: { 'process.env.FROMSCRATCH_BUNDLED': '"1"', 'import.meta.url': '__fromscratchModuleUrl' },
  // strict first: a banner before esbuild's own "use strict" would make that a plain expression
  banner: {
    js: "'use strict';\nconst __fromscratchModuleUrl = require('node:url').pathToFileURL(__filename).href;",
  },
  legalComments: 'none',
  // ASCII only, no comments (they may hold any character): bin/fromscratch.js reads the file as
  // latin1, a one-byte string that is read and hashed for the code cache several times faster
  charset: 'ascii',
  minifyWhitespace: true,
  logLevel: 'warning',
  metafile: true,
  plugins: [lazyBuiltins],
});
const code = readFileSync(resolve(outdir, 'main.cjs'));
const wide = code.findIndex((b) => b > 0x7f);
if (wide >= 0) throw new Error(`bundle: main.cjs has a non-ASCII byte at offset ${wide}`);
// main.ts's `#!` line made a comment: bin/fromscratch.js wraps the text in a function as it is read
if (code[0] === 0x23 && code[1] === 0x21) {
  code.write('//', 0, 'latin1');
  writeFileSync(resolve(outdir, 'main.cjs'), code);
}
// the source files the bundle was built from: bin/fromscratch.js compares their mtimes with the
// bundle's in a checkout (a few stats instead of listing and stat'ing the whole src/ tree at start-up).
// A new source file matters only once a bundled file imports it, and that edit is caught.
const inputs = Object.keys(result.metafile.inputs)
  .filter((f) => f.startsWith('src/'))
  .sort();
writeFileSync(resolve(outdir, 'inputs.json'), `${JSON.stringify(inputs)}\n`);
