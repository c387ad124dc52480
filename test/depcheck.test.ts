/**
 * depcheck.test.ts — the dependency direction of DESIGN.md, enforced (as GGCR's depcheck does):
 * each src/ folder may import only the folders listed for it, PURE modules never import I/O
 * modules, and the CLI reaches the library only through src/index.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const SRC = join(import.meta.dirname, '..', 'src');

/** which src/ folders each folder may import (besides itself and errors.ts) */
const ALLOWED: Record<string, string[]> = {
  model: [],
  blob: ['model'],
  image: ['model', 'blob'],
  fs: ['model'],
  codec: ['model', 'fs'],
  elf: ['fs', 'model'],
  closure: ['elf', 'fs', 'model'],
  check: ['closure', 'elf', 'fs', 'model'],
  layer: ['fs', 'model', 'blob', 'image', 'codec'],
  oci: ['model', 'blob', 'image', 'layer', 'fs', 'unpack', 'codec'],
  net: [],
  registry: ['model', 'blob', 'image', 'layer', 'oci', 'net'],
  deb: ['model', 'fs', 'blob', 'codec', 'net'],
  dockerfile: ['model', 'fs', 'orchestrate', 'image', 'yaml'],
  yaml: ['model', 'fs', 'orchestrate', 'image'],
  sbom: ['model', 'fs'],
  report: ['model', 'fs'],
  trace: ['fs', 'model', 'yaml', 'run'],
  unpack: ['fs', 'model', 'blob', 'image', 'layer', 'codec'],
  run: ['fs', 'model', 'blob', 'image', 'layer', 'oci', 'unpack', 'trace'],
  orchestrate: ['*'],
  cli: [],
};

/** modules that must do no I/O */
const PURE = [
  /^net\/proxy\.ts$/,
  /^model\//,
  /^codec\//,
  /^image\//,
  /^sbom\//,
  /^fs\/(path|file-tree|root-fs|resolve|memory-fs|overlay-fs|origin)\.ts$/,
  /^elf\//,
  /^check\//,
  /^report\//,
];
const IO_MODULES = /^(node:)?(fs|fs\/promises|net|http|https|child_process|dgram|tls)$/;

function* walk(dir: string): Generator<string> {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) yield p;
  }
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(
      /^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm,
    ),
  ].map((m) => m[1] ?? m[2]!);
}

test('src/ folders import only what DESIGN.md allows', () => {
  const problems: string[] = [];
  for (const file of walk(SRC)) {
    const rel = relative(SRC, file);
    const folder = rel.includes('/') ? rel.split('/')[0]! : '';
    for (const spec of imports(file)) {
      if (!spec.startsWith('.')) {
        if (PURE.some((re) => re.test(rel)) && IO_MODULES.test(spec))
          problems.push(`${rel}: PURE module imports ${spec}`);
        if (fetchUse(file) && PURE.some((re) => re.test(rel)))
          problems.push(`${rel}: PURE module uses fetch`);
        continue;
      }
      const target = relative(SRC, join(file, '..', spec));
      const tFolder = target.includes('/') ? target.split('/')[0]! : target;
      if (folder === '' || tFolder === folder || target === 'errors.ts') continue;
      if (folder === 'cli') {
        if (target !== 'index.ts')
          problems.push(`${rel}: the CLI imports ${target}; it may import only src/index.ts`);
        continue;
      }
      const allowed = ALLOWED[folder];
      if (!allowed) problems.push(`${rel}: folder ${folder} has no entry in depcheck's table`);
      else if (!allowed.includes('*') && !allowed.includes(tFolder))
        problems.push(`${rel}: ${folder}/ must not import ${target}`);
    }
  }
  assert.deepEqual(problems, []);
});

function fetchUse(file: string): boolean {
  return /\bfetch\(/.test(readFileSync(file, 'utf8'));
}
