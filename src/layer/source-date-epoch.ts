/**
 * source-date-epoch.ts — parsing SOURCE_DATE_EPOCH (https://reproducible-builds.org/specs/source-date-epoch/). PURE.
 */
import { FromscratchError } from '../errors.ts';

/** MAX_SOURCE_DATE_EPOCH is the largest accepted value (year 9999), far inside the PAX `mtime` range. */
export const MAX_SOURCE_DATE_EPOCH = 253402300799;

/**
 * parseSourceDateEpoch turns the text of `SOURCE_DATE_EPOCH` into seconds since the epoch.
 * `undefined` or an empty string give `undefined` (unset). Anything but decimal digits, or a value past
 * {@link MAX_SOURCE_DATE_EPOCH}, throws INVALID_ARGUMENT: the spec says to fail rather than guess.
 *
 * @example parseSourceDateEpoch(process.env.SOURCE_DATE_EPOCH) // 1700000000 or undefined
 */
export function parseSourceDateEpoch(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^[0-9]{1,12}$/.test(value) || Number(value) > MAX_SOURCE_DATE_EPOCH) {
    throw new FromscratchError(
      'INVALID_ARGUMENT',
      `SOURCE_DATE_EPOCH ${JSON.stringify(value.slice(0, 40))} is not a number of seconds since 1970`,
      {
        hint: 'set SOURCE_DATE_EPOCH to a decimal integer, e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct), or unset it',
      },
    );
  }
  return Number(value);
}
