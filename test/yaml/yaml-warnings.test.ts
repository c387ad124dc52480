/**
 * yaml-warnings.test.ts — a spec whose keys are collections (`? [a, b]`) is a SPEC_INVALID error and
 * nothing is written to stderr: the yaml library emitted a process warning for it (found by the fuzzer,
 * issue 15), and the library never writes to stderr (STYLE.md 6).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFromscratchError } from '../../src/errors.ts';
import { parseSpecFile } from '../../src/yaml/parse-spec.ts';

test('collection keys are refused without a process warning', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  try {
    for (const text of ['? [a, b]\n: c\n', 'contents:\n  - ? {binary: x}\n    : y\n', '{[1]: 2}\n']) {
      assert.throws(
        () => parseSpecFile(text, 'fromscratch.yaml'),
        (e: unknown) => isFromscratchError(e, 'SPEC_INVALID'),
        text,
      );
    }
    // warnings are emitted on the next tick
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', onWarning);
  }
  assert.deepEqual(warnings, []);
});
