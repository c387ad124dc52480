/**
 * render-error.ts — the one place errors become text and exit codes.
 *
 * `error[CODE]: message` then `hint: …`; with --debug the cause chain. Bugs (anything that is not a
 * FromscratchError, nor a system error the environment caused: see fromSystemError) print their stack and
 * ask for a report, exit 70.
 */
import { fromSystemError, isFromscratchError } from '../index.ts';

/** EXIT holds the process exit codes of the CLI contract. */
export const EXIT = { ok: 0, user: 1, usage: 2, bug: 70 } as const;

/** renderError formats an error for stderr and returns the exit code it deserves. */
export function renderError(
  e: unknown,
  debug = false,
  ctx: { cacheDir?: string } = {},
): { text: string; exitCode: number } {
  // the environment's failures (a full disk, permissions, a file removed meanwhile) are the user's to fix
  const mapped = fromSystemError(e, ctx);
  if (mapped) return renderError(mapped, debug);
  if (isFromscratchError(e)) {
    const lines = [`error[${e.code}]: ${e.message}`];
    if (e.hint) lines.push(`hint: ${e.hint}`);
    if (debug) {
      let c: unknown = e.cause;
      let depth = 0;
      while (c !== undefined && depth < 10) {
        lines.push(`caused by: ${c instanceof Error ? (c.stack ?? c.message) : String(c)}`);
        c = c instanceof Error ? c.cause : undefined;
        depth += 1;
      }
    }
    return { text: `${lines.join('\n')}\n`, exitCode: e.code === 'USAGE' ? EXIT.usage : EXIT.user };
  }
  const stack = e instanceof Error ? (e.stack ?? e.message) : String(e);
  return {
    text: `internal error: ${stack}\nthis is a bug in fromscratch, please report it with the command you ran\n`,
    exitCode: EXIT.bug,
  };
}
