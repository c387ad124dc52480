/**
 * fetch-add-url.ts — download the source of a Dockerfile `ADD https://…` safely (RELIABILITY.md F7). NETWORK.
 *
 * http(s) only, redirects followed by hand (each hop must be http(s), and never a link-local address
 * such as the 169.254.169.254 cloud metadata service), a size cap checked against Content-Length and
 * while streaming, a total and an idle time limit, and `--checksum` verified before the bytes are used.
 */
import { createHash } from 'node:crypto';
import { FromscratchError } from '../errors.ts';
import { type Digest, parseDigest } from '../model/digest.ts';

/** FetchAddUrlOptions tunes fetchAddUrl. */
export interface FetchAddUrlOptions {
  /** largest accepted body (default 256 MiB) */
  maxBytes?: number;
  /** total time limit in ms (default 300 000) */
  timeoutMs?: number;
  /** longest pause between two chunks in ms (default 30 000) */
  idleTimeoutMs?: number;
  /** redirects followed (default 5) */
  maxRedirects?: number;
  /** fetch implementation (default the global fetch) */
  fetch?: typeof fetch;
}

/** FetchedUrl is a downloaded ADD source. */
export interface FetchedUrl {
  readonly data: Uint8Array;
  readonly digest: Digest;
  /** the URL the bytes came from after redirects */
  readonly finalUrl: string;
}

/**
 * fetchAddUrl downloads `url` for ADD. With `checksum` (`sha256:<hex>`) the bytes must hash to it.
 * Throws INVALID_ARGUMENT (not http(s)), NETWORK_ERROR (status, refused redirect, connection),
 * TOO_LARGE, TIMEOUT, DIGEST_MISMATCH.
 *
 * @example
 * const { data } = await fetchAddUrl('https://example.org/tool.tar.gz', 'sha256:…');
 */
export async function fetchAddUrl(
  url: string,
  checksum?: string,
  opts: FetchAddUrlOptions = {},
): Promise<FetchedUrl> {
  const maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const idleMs = opts.idleTimeoutMs ?? 30_000;
  const maxRedirects = opts.maxRedirects ?? 5;
  const doFetch = opts.fetch ?? fetch;
  const want = checksum === undefined ? undefined : parseDigest(checksum);
  // validate before any timer exists: a throw here must not leave a timer holding the process open
  let current = checkUrl(url, url);
  const ctl = new AbortController();
  let timedOut = false;
  const total = setTimeout(() => {
    timedOut = true;
    ctl.abort();
  }, timeoutMs);
  let idle: NodeJS.Timeout | undefined;
  const armIdle = () => {
    if (idle) clearTimeout(idle);
    idle = setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, idleMs);
  };
  try {
    for (let hop = 0; ; hop++) {
      armIdle();
      let res: Response;
      try {
        res = await doFetch(current, { redirect: 'manual', signal: ctl.signal });
      } catch (e) {
        if (timedOut) throw timeoutError(url, timeoutMs);
        throw new FromscratchError('NETWORK_ERROR', `downloading ${url}: ${(e as Error).message}`, {
          cause: e,
          hint: 'check the URL and the network',
        });
      }
      if (res.status >= 300 && res.status < 400 && res.headers.has('location')) {
        await res.body?.cancel();
        if (hop >= maxRedirects)
          throw new FromscratchError(
            'NETWORK_ERROR',
            `downloading ${url}: more than ${maxRedirects} redirects`,
          );
        current = checkUrl(new URL(res.headers.get('location')!, current).toString(), url);
        continue;
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new FromscratchError(
          'NETWORK_ERROR',
          `downloading ${url}: HTTP ${res.status} ${res.statusText}`,
          { hint: 'check the URL' },
        );
      }
      const len = res.headers.get('content-length');
      if (len !== null && Number(len) > maxBytes) {
        await res.body?.cancel();
        throw tooLarge(url, maxBytes);
      }
      const chunks: Uint8Array[] = [];
      let size = 0;
      const hash = createHash('sha256');
      if (res.body) {
        const reader = res.body.getReader();
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            armIdle();
            size += value.byteLength;
            if (size > maxBytes) {
              ctl.abort();
              throw tooLarge(url, maxBytes);
            }
            hash.update(value);
            chunks.push(value);
          }
        } catch (e) {
          if (timedOut) throw timeoutError(url, timeoutMs);
          if (e instanceof FromscratchError) throw e;
          throw new FromscratchError('NETWORK_ERROR', `downloading ${url}: ${(e as Error).message}`, {
            cause: e,
          });
        }
      }
      const digest = `sha256:${hash.digest('hex')}` as Digest;
      if (want !== undefined && digest !== want) {
        throw new FromscratchError(
          'DIGEST_MISMATCH',
          `ADD ${url}: downloaded bytes hash to ${digest}, not the --checksum ${want}`,
          {
            hint: 'the file changed upstream or the checksum is wrong; check it before updating --checksum',
          },
        );
      }
      return { data: Buffer.concat(chunks, size), digest, finalUrl: current };
    }
  } finally {
    clearTimeout(total);
    if (idle) clearTimeout(idle);
  }
}

function checkUrl(u: string, original: string): string {
  let parsed: URL;
  try {
    parsed = new URL(u);
  } catch {
    throw new FromscratchError('INVALID_ARGUMENT', `ADD source ${JSON.stringify(u)} is not a valid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new FromscratchError(
      u === original ? 'INVALID_ARGUMENT' : 'NETWORK_ERROR',
      `ADD ${original}: refusing ${parsed.protocol} URL ${u}: only http and https are fetched`,
    );
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (/^169\.254\./.test(host) || /^fe80:/i.test(host)) {
    throw new FromscratchError(
      'NETWORK_ERROR',
      `ADD ${original}: refusing link-local address ${host} (cloud metadata services live there)`,
    );
  }
  if (parsed.username || parsed.password) {
    throw new FromscratchError(
      'INVALID_ARGUMENT',
      `ADD ${original}: credentials in URLs would be recorded in the image history`,
      {
        hint: 'download the file outside the build and COPY it',
      },
    );
  }
  return parsed.toString();
}

function tooLarge(url: string, max: number): FromscratchError {
  return new FromscratchError('TOO_LARGE', `downloading ${url}: body is over the ${max}-byte limit`, {
    hint: 'download large files outside the build and COPY them from the context',
  });
}

function timeoutError(url: string, ms: number): FromscratchError {
  return new FromscratchError(
    'TIMEOUT',
    `downloading ${url}: no progress or not done within the time limit (${ms} ms total)`,
    {
      hint: 'check the server, or download the file outside the build and COPY it',
    },
  );
}
