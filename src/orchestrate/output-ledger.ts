/**
 * output-ledger.ts — what a build has written so far, so that an error says what was written and what
 * was not (issue 15).
 *
 * A build writes in turn: each `-o` output, then the build records and SBOMs attached to layouts and
 * registries, then the registry cache. A step that fails leaves the earlier ones in place (DESIGN.md: a
 * failed run leaves earlier outputs intact), so the sink's own words ("the image was not written",
 * "index.json was left as it was") are true of that step only. The ledger adds the rest: the step that
 * failed, the steps done before it, and the steps never started.
 */
import { FromscratchError, isFromscratchError } from '../errors.ts';

/** OutputLedger runs a build's planned writes in turn and keeps which of them are done. */
export interface OutputLedger {
  /**
   * run performs the planned `step`. A FromscratchError it throws is re-thrown with the same code, the
   * message prefixed with "writing STEP: " and the hint followed by what was and was not written;
   * any other error (a bug) passes through untouched.
   */
  run<T>(step: string, write: () => Promise<T>): Promise<T>;
  /** fail re-throws `e` as run does, for a failure before any planned step (nothing of the plan written) */
  fail(doing: string, e: unknown): never;
}

/**
 * outputLedger plans `steps` (each named as "the image to oci:out:1", in the order they run). `partial`
 * names what may already be written outside the plan (layers pushed to a registry as they were made).
 */
export function outputLedger(steps: readonly string[], partial: readonly string[] = []): OutputLedger {
  const done = new Set<string>();
  const fail = (doing: string, failed: string | undefined, e: unknown): never => {
    if (!isFromscratchError(e)) throw e;
    const pending = steps.filter((s) => !done.has(s) && s !== failed);
    const account = describeWrites({
      written: steps.filter((s) => done.has(s)),
      failed,
      pending,
      partial,
    });
    throw new FromscratchError(e.code, `${doing}: ${e.message}`, {
      hint: e.hint === undefined ? account : `${e.hint}. ${account}`,
      cause: e,
    });
  };
  return {
    async run(step, write) {
      if (!steps.includes(step))
        throw new Error(`output ledger: step ${JSON.stringify(step)} was not planned`);
      try {
        const r = await write();
        done.add(step);
        return r;
      } catch (e) {
        return fail(`writing ${step}`, step, e);
      }
    },
    fail: (doing, e) => fail(doing, undefined, e),
  };
}

/**
 * describeWrites is the sentence that accounts for a build's outputs after a failure: what was written,
 * what was not (the failed step first), and what may have been written without anything referring to it.
 */
export function describeWrites(w: {
  readonly written: readonly string[];
  readonly failed?: string | undefined;
  readonly pending: readonly string[];
  readonly partial?: readonly string[];
}): string {
  const notWritten = [...(w.failed !== undefined ? [w.failed] : []), ...w.pending];
  const parts = [
    w.written.length > 0
      ? `written: ${w.written.join(', ')}`
      : w.partial && w.partial.length > 0
        ? 'no output was written'
        : 'nothing was written',
    ...(notWritten.length > 0 ? [`not written: ${notWritten.join(', ')}`] : []),
    ...(w.partial && w.partial.length > 0
      ? [`possibly uploaded, with no manifest referring to them: ${w.partial.join(', ')}`]
      : []),
  ];
  return parts.join('; ');
}
