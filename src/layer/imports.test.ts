import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';

const here = import.meta.dirname;
/** what layer/ must never import (README.md): no network, no processes, nothing above it in the dependency order */
const FORBIDDEN =
  /from '(node:(net|http|https|http2|child_process|worker_threads|dgram|tls)|\.\.\/(oci|registry|build|cli|run|trace|closure|deb|dockerfile|spec|sbom)\/[^']*)'/;

it('layer/ sources import no network, process or higher-level modules', () => {
  const bad: string[] = [];
  for (const f of readdirSync(here)) {
    if (!f.endsWith('.ts') || f.endsWith('.test.ts')) continue;
    for (const line of readFileSync(join(here, f), 'utf8').split('\n')) {
      if (FORBIDDEN.test(line)) bad.push(`${f}: ${line.trim()}`);
    }
  }
  assert.deepEqual(bad, []);
});
