/**
 * infer-names.test.ts — the names `--no-infer` and the spec's `no-infer` take.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { INFER_NAMES, inferOptionsWithout, parseInferNames } from './infer-names.ts';

describe('parseInferNames', () => {
  it('splits commas, repeats, dedupes and keeps a fixed order', () => {
    assert.deepEqual(parseInferNames(['gconv,nss', ' nss ', 'java'], 'x'), ['nss', 'gconv', 'java']);
    assert.deepEqual(parseInferNames(['all'], 'x'), INFER_NAMES);
  });

  it('refuses an unknown name with the code asked, naming it and listing the valid ones', () => {
    assert.throws(
      () => parseInferNames(['gconv,iconv'], '--no-infer=gconv,iconv'),
      (e: unknown) =>
        isFromscratchError(e, 'USAGE') &&
        /--no-infer=gconv,iconv: unknown inference "iconv"/.test(e.message) &&
        INFER_NAMES.every((n) => e.hint?.includes(n)),
    );
    assert.throws(
      () => parseInferNames(['x'], 'no-infer', 'SPEC_INVALID'),
      (e: unknown) => isFromscratchError(e, 'SPEC_INVALID'),
    );
  });

  it('maps names to the closure switches', () => {
    assert.deepEqual(inferOptionsWithout(['ca-certificates', 'locale', 'dlopen-notes']), {
      caCerts: false,
      locales: false,
      dlopenNotes: false,
    });
    assert.deepEqual(inferOptionsWithout([]), {});
  });
});
