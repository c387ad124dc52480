import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FromscratchError, isFromscratchError } from '../errors.ts';
import { describeWrites, outputLedger } from './output-ledger.ts';

test('describeWrites names what was written, what was not (failed step first), and stray uploads', () => {
  const cases: [Parameters<typeof describeWrites>[0], string][] = [
    [
      { written: [], failed: 'the image to oci:a:1', pending: [] },
      'nothing was written; not written: the image to oci:a:1',
    ],
    [
      {
        written: ['the image to oci:a:1'],
        failed: 'the SPDX SBOM to oci:a:1',
        pending: ['the image to oci:b:1'],
      },
      'written: the image to oci:a:1; not written: the SPDX SBOM to oci:a:1, the image to oci:b:1',
    ],
    [
      {
        written: [],
        pending: ['the image to docker://r/x:1'],
        partial: ['layers of the image to docker://r/x:1'],
      },
      'no output was written; not written: the image to docker://r/x:1; possibly uploaded, with no manifest referring to them: layers of the image to docker://r/x:1',
    ],
  ];
  for (const [w, want] of cases) assert.equal(describeWrites(w), want);
});

test('outputLedger: a failing step keeps its code and says which steps were done before it', async () => {
  const ledger = outputLedger(['the image to oci:a:1', 'the SPDX SBOM to oci:a:1', 'the image to oci:b:1']);
  assert.equal(await ledger.run('the image to oci:a:1', async () => 7), 7);
  await assert.rejects(
    ledger.run('the SPDX SBOM to oci:a:1', async () => {
      throw new FromscratchError('TOO_LARGE', 'too many entries', { hint: 'index.json was left as it was' });
    }),
    (e: unknown) =>
      isFromscratchError(e, 'TOO_LARGE') &&
      e.message === 'writing the SPDX SBOM to oci:a:1: too many entries' &&
      e.hint ===
        'index.json was left as it was. written: the image to oci:a:1; not written: the SPDX SBOM to oci:a:1, the image to oci:b:1',
  );
  // a bug is not dressed up as a user error
  const bug = new Error('bug');
  await assert.rejects(
    ledger.run('the image to oci:b:1', async () => {
      throw bug;
    }),
    (e: unknown) => e === bug,
  );
});
