/**
 * fetch-http.ts — bounded HTTP GETs against apt mirrors: time limit, size cap, a few retries, and
 * NETWORK_ERROR naming the URL. IO.
 */
import { FromscratchError } from '../errors.ts';
import { proxyFromEnv } from '../net/proxy.ts';
import { fetchWithProxy } from '../net/proxy-agent.ts';

/** FetchBytesOptions bounds one download. */
export interface FetchBytesOptions {
  /** refuse bodies larger than this (default 512 MiB) */
  maxBytes?: number;
  /** time limit for the whole request, per attempt (default 120 s) */
  timeoutMs?: number;
  /** attempts for network errors and 5xx answers (default 3) */
  attempts?: number;
  /** the fetch implementation (default global fetch) */
  fetch?: typeof fetch;
  /** called with each chunk's size as it arrives (a retried download reports its bytes again) */
  onBytes?: (n: number) => void;
  /** called before waiting to retry, with what failed (`503`, `ECONNRESET`) and the wait in ms */
  onRetry?: (why: string, waitMs: number) => void;
}

const HINT =
  'check that the Debian mirror is reachable (apt sources in /etc/apt/sources.list.d, or --apt-source), then retry';

/**
 * fetchBytes downloads `url` into memory. Throws NETWORK_ERROR (unreachable, timeout, HTTP error status,
 * with the URL and status) or TOO_LARGE past maxBytes; 404 throws NETWORK_ERROR with `status` 404 in the message.
 */
export async function fetchBytes(url: string, opts: FetchBytesOptions = {}): Promise<Uint8Array> {
  const max = opts.maxBytes ?? 512 * 1024 * 1024;
  const attempts = opts.attempts ?? 3;
  // Node 20's fetch ignores HTTP_PROXY/HTTPS_PROXY/NO_PROXY: go through the proxy they name, as apt does
  const proxies = proxyFromEnv(process.env);
  const f: typeof fetch =
    opts.fetch ??
    (proxies.httpProxy || proxies.httpsProxy
      ? (u, init) => fetchWithProxy(String(u), init?.signal ? { signal: init.signal } : {}, proxies)
      : fetch);
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    if (i > 0) {
      opts.onRetry?.(retryReason(last), 250 * 2 ** i);
      await new Promise((r) => setTimeout(r, 250 * 2 ** i));
    }
    let res: Response;
    const signal = AbortSignal.timeout(opts.timeoutMs ?? 120_000);
    try {
      res = await f(url, { signal, redirect: 'follow' });
    } catch (e) {
      last = e;
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {
        /* nothing left to read */
      });
      const err = new FromscratchError(
        'NETWORK_ERROR',
        `GET ${url}: HTTP ${res.status} ${res.statusText}`.trim(),
        {
          hint:
            res.status === 404
              ? 'the mirror does not have this file; the index may be stale: retry, or check the apt source'
              : HINT,
        },
      );
      if (res.status < 500) throw err;
      last = err;
      continue;
    }
    const len = Number(res.headers.get('content-length') ?? Number.NaN);
    if (len > max) {
      await res.body?.cancel().catch(() => {
        /* refused */
      });
      throw new FromscratchError('TOO_LARGE', `GET ${url}: ${len} bytes is over the limit of ${max}`);
    }
    try {
      const parts: Uint8Array[] = [];
      let n = 0;
      if (res.body) {
        for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
          n += c.byteLength;
          opts.onBytes?.(c.byteLength);
          if (n > max) throw new FromscratchError('TOO_LARGE', `GET ${url}: more than ${max} bytes`);
          parts.push(c);
        }
      }
      return Buffer.concat(parts);
    } catch (e) {
      if (e instanceof FromscratchError) throw e;
      last = e;
    }
  }
  if (last instanceof FromscratchError) throw last;
  const why =
    last instanceof Error ? ((last.cause as Error | undefined)?.message ?? last.message) : String(last);
  throw new FromscratchError('NETWORK_ERROR', `GET ${url}: ${why}`, { hint: HINT, cause: last });
}

/** retryReason says in a word why an attempt failed: the HTTP status, else the network error's code or message. */
function retryReason(e: unknown): string {
  if (e instanceof FromscratchError) return /HTTP (\d{3})/.exec(e.message)?.[1] ?? e.message;
  const cause = (e as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
}
