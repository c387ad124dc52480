/**
 * retry.ts — when and how long to wait before retrying a registry request. PURE.
 *
 * Retried statuses follow go-containerregistry's defaults and RELIABILITY.md §1.8 / E1–E2:
 * 408, 429, 500, 502, 503, 504. `Retry-After` is honoured (seconds or HTTP-date) up to a cap,
 * otherwise exponential backoff with full jitter
 * (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
 */

/** RETRY_STATUSES are the HTTP statuses worth retrying. */
export const RETRY_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** RetryOptions bounds retries. Every field is optional; defaults are documented per field. */
export interface RetryOptions {
  /** total attempts per request, first included (default 5) */
  attempts?: number;
  /** first backoff delay in ms (default 200) */
  baseDelayMs?: number;
  /** largest backoff delay in ms (default 10 000) */
  maxDelayMs?: number;
  /** largest wait honoured from a Retry-After header, in ms (default 60 000) */
  retryAfterCapMs?: number;
}

/** ResolvedRetryOptions is RetryOptions with every default filled in. */
export type ResolvedRetryOptions = Required<RetryOptions>;

/** resolveRetryOptions fills in the defaults of RetryOptions. */
export function resolveRetryOptions(o: RetryOptions = {}): ResolvedRetryOptions {
  return {
    attempts: Math.max(1, o.attempts ?? 5),
    baseDelayMs: Math.max(0, o.baseDelayMs ?? 200),
    maxDelayMs: Math.max(0, o.maxDelayMs ?? 10_000),
    retryAfterCapMs: Math.max(0, o.retryAfterCapMs ?? 60_000),
  };
}

/**
 * parseRetryAfter reads a `Retry-After` value (delta seconds or an HTTP-date) as milliseconds from
 * `now`, or undefined when it is absent or malformed. Dates in the past give 0.
 */
export function parseRetryAfter(value: string | undefined | null, now: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const v = value.trim();
  if (/^[0-9]{1,10}$/.test(v)) return Number(v) * 1000;
  // HTTP-date (IMF-fixdate, also obsolete RFC 850 / asctime forms Date.parse understands)
  if (!/[a-zA-Z]/.test(v)) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

/**
 * retryDelay is how long to wait before attempt `attempt + 1` (attempt counts from 1): the
 * Retry-After wait capped at `retryAfterCapMs` when given, else full-jitter exponential backoff.
 * `random` is injectable for tests (defaults to Math.random; no digest depends on it).
 */
export function retryDelay(
  attempt: number,
  o: ResolvedRetryOptions,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, o.retryAfterCapMs);
  const ceiling = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(ceiling / 2 + (random() * ceiling) / 2);
}
