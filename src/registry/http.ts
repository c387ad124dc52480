/**
 * http.ts — the one place fromscratch speaks HTTP/1.1 to registries, on node:http and node:https.
 *
 * Why not global fetch: Node 20 bundles undici but does not export its `Agent`, and a custom CA,
 * client certificates (skopeo's `--cert-dir`) and socket-level idle timeouts need one. node:https
 * gives all three, streams request bodies with back-pressure, never follows redirects by itself
 * (so credentials cannot leak to another origin), and reports connection resets precisely.
 */
import http from 'node:http';
import https from 'node:https';
import { FromscratchError } from '../errors.ts';
import { proxyFor, proxyFromEnv } from '../net/proxy.ts';
import { proxiedHttpRequest, tunnelAgent } from '../net/proxy-agent.ts';

/** TlsSettings configures certificate checking for HTTPS. */
export interface TlsSettings {
  /** CA certificates (PEM) to trust; when given they replace Node's bundled roots, so include them if wanted */
  readonly ca?: readonly string[];
  /** client certificate chain (PEM) */
  readonly cert?: string;
  /** client private key (PEM) */
  readonly key?: string;
  /** verify the server certificate (default true) */
  readonly verify?: boolean;
}

/** HttpRequest is one request as sent on the wire. */
export interface HttpRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  /** body bytes; an iterable is consumed once */
  readonly body?: Uint8Array | AsyncIterable<Uint8Array>;
  /** abort when the socket is idle this long, in ms */
  readonly idleTimeoutMs: number;
  /** abort when the whole exchange (body included) takes longer, in ms; 0 = no limit */
  readonly totalTimeoutMs: number;
}

/** HttpResponse is a response whose body has not been read yet. */
export interface HttpResponse {
  readonly status: number;
  readonly url: URL;
  /** header value by lower-case name (repeated headers joined with ", ") */
  header(name: string): string | undefined;
  /** every value of a header (for WWW-Authenticate) */
  headerAll(name: string): string[];
  /** the body; iterate it once */
  readonly body: AsyncIterable<Uint8Array>;
  /** discard the body (keeps the connection reusable when small) */
  discard(): void;
}

/** Transport sends requests through one keep-alive connection pool per scheme. */
export interface Transport {
  send(req: HttpRequest): Promise<HttpResponse>;
  /** close idle connections */
  close(): void;
}

/** NETWORK_CODES are socket error codes that mean "the network failed", worth a retry. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** TransportError marks a failure below HTTP (reset, refused, timeout); `temporary` says a retry may help. */
export class TransportError extends FromscratchError {
  readonly temporary: boolean;
  readonly bytesRead: number;
  constructor(
    code: 'NETWORK_ERROR' | 'TIMEOUT',
    message: string,
    temporary: boolean,
    bytesRead: number,
    cause?: unknown,
  ) {
    super(code, message, {
      hint:
        code === 'TIMEOUT'
          ? 'the registry is slow or stalled; try again, or raise the timeouts'
          : 'check that the registry is reachable and try again',
      cause,
    });
    this.temporary = temporary;
    this.bytesRead = bytesRead;
  }
}

/** isTransportError tells whether e is a TransportError. */
export function isTransportError(e: unknown): e is TransportError {
  return e instanceof TransportError;
}

function describeSocketError(e: unknown): { message: string; temporary: boolean } {
  const err = e as NodeJS.ErrnoException;
  const code = err?.code ?? '';
  const temporary =
    NETWORK_CODES.has(code) || err?.message === 'aborted' || err?.message === 'socket hang up';
  return { message: `${code ? `${code} ` : ''}${err?.message ?? String(e)}`.trim(), temporary };
}

/**
 * createTransport returns a Transport; TLS settings apply to every HTTPS request it sends. Requests go
 * through the proxy HTTP_PROXY / HTTPS_PROXY name unless NO_PROXY exempts them (src/net/proxy.ts, read
 * from `env`, default process.env): plain HTTP as absolute-URI requests, HTTPS in CONNECT tunnels.
 */
export function createTransport(
  tls: TlsSettings = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): Transport {
  const proxies = proxyFromEnv(env);
  const tlsOptions = {
    ...(tls.ca ? { ca: [...tls.ca] } : {}),
    ...(tls.cert ? { cert: tls.cert } : {}),
    ...(tls.key ? { key: tls.key } : {}),
    rejectUnauthorized: tls.verify !== false,
  };
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  // made on the first HTTPS request: a push to a plain-HTTP registry never loads TLS (the bundle
  // loads node:https and node:tls on first use, scripts/bundle.mjs)
  let httpsAgent: https.Agent | undefined;
  const httpsAgentOf = () => {
    httpsAgent ??= new https.Agent({ keepAlive: true, maxSockets: 32, ...tlsOptions });
    return httpsAgent;
  };
  const tunnels = new Map<string, https.Agent>();
  const tunnelFor = (proxy: URL): https.Agent => {
    let a = tunnels.get(proxy.href);
    if (!a) {
      a = tunnelAgent(proxy, tlsOptions);
      tunnels.set(proxy.href, a);
    }
    return a;
  };

  function send(r: HttpRequest): Promise<HttpResponse> {
    const isHttps = r.url.protocol === 'https:';
    if (!isHttps && r.url.protocol !== 'http:') {
      return Promise.reject(
        new FromscratchError('NETWORK_ERROR', `refusing to fetch ${r.url.protocol} URL ${r.url.origin}`, {
          hint: 'only http and https are spoken',
        }),
      );
    }
    const mod = isHttps ? https : http;
    const headers: Record<string, string> = { ...r.headers };
    if (r.body instanceof Uint8Array) headers['content-length'] = String(r.body.byteLength);
    const where = `${r.method} ${r.url.origin}${r.url.pathname}`;

    return new Promise<HttpResponse>((resolve, reject) => {
      let bytesRead = 0;
      let settled = false;
      let totalTimer: NodeJS.Timeout | undefined;
      const proxy = proxyFor(r.url, proxies);
      const req =
        proxy && !isHttps
          ? proxiedHttpRequest(proxy, r.url, { method: r.method, headers, agent: httpAgent })
          : mod.request(r.url, {
              method: r.method,
              headers,
              agent: proxy ? tunnelFor(proxy) : isHttps ? httpsAgentOf() : httpAgent,
            });
      const fail = (e: unknown) => {
        if (totalTimer) clearTimeout(totalTimer);
        if (settled) return;
        settled = true;
        reject(e);
      };
      // our own timeout errors, so the body iterator reports TIMEOUT rather than "aborted"
      let ownError: TransportError | undefined;
      const abortWith = (what: string) => {
        ownError = new TransportError('TIMEOUT', `${where}: ${what}`, true, bytesRead);
        req.destroy(ownError);
      };
      req.setTimeout(r.idleTimeoutMs, () => abortWith(`no data for ${r.idleTimeoutMs} ms`));
      if (r.totalTimeoutMs > 0) {
        totalTimer = setTimeout(
          () => abortWith(`not finished after ${r.totalTimeoutMs} ms`),
          r.totalTimeoutMs,
        );
        totalTimer.unref();
      }
      req.on('error', (e) => {
        // our own errors: a timeout, or the request body's source failing (a corrupt local blob)
        if (e instanceof FromscratchError) return fail(e);
        const d = describeSocketError(e);
        if (
          (e as NodeJS.ErrnoException).code?.startsWith('ERR_TLS') ||
          /certificate|self.signed|SSL/i.test(d.message)
        ) {
          return fail(
            new FromscratchError('NETWORK_ERROR', `${where}: TLS: ${d.message}`, {
              hint: 'trust the registry CA with --cert-dir DIR (holding ca.crt) or list the registry as insecure if it speaks plain HTTP',
              cause: e,
            }),
          );
        }
        fail(new TransportError('NETWORK_ERROR', `${where}: ${d.message}`, d.temporary, bytesRead, e));
      });
      req.on('response', (res) => {
        if (settled) {
          res.resume();
          return;
        }
        settled = true;
        res.on('end', () => totalTimer && clearTimeout(totalTimer));
        res.on('close', () => totalTimer && clearTimeout(totalTimer));
        const body = (async function* () {
          try {
            for await (const chunk of res) {
              bytesRead += (chunk as Buffer).byteLength;
              yield chunk as Uint8Array;
            }
            if (!res.complete) throw new Error('aborted');
          } catch (e) {
            if (e instanceof FromscratchError) throw e;
            const d = describeSocketError(e);
            if (ownError) throw ownError;
            throw new TransportError(
              'NETWORK_ERROR',
              `${where}: reading the body: ${d.message} after ${bytesRead} bytes`,
              true,
              bytesRead,
              e,
            );
          } finally {
            if (!res.complete) req.destroy();
          }
        })();
        resolve({
          status: res.statusCode ?? 0,
          url: r.url,
          header: (name) => {
            const v = res.headers[name.toLowerCase()];
            return Array.isArray(v) ? v.join(', ') : v;
          },
          headerAll: (name) => {
            const out: string[] = [];
            const raw = res.rawHeaders;
            for (let i = 0; i + 1 < raw.length; i += 2)
              if (raw[i]!.toLowerCase() === name.toLowerCase()) out.push(raw[i + 1]!);
            return out;
          },
          body,
          discard: () => {
            res.resume();
          },
        });
      });
      if (r.body === undefined) req.end();
      else if (r.body instanceof Uint8Array) req.end(r.body);
      else {
        const src = r.body;
        (async () => {
          for await (const c of src) {
            if (req.destroyed) return;
            if (!req.write(c)) {
              // one-shot listeners removed again: `once` on both would leak the loser per chunk
              await new Promise<void>((resolve) => {
                const done = () => {
                  req.off('drain', done);
                  req.off('close', done);
                  resolve();
                };
                req.on('drain', done);
                req.on('close', done);
              });
            }
          }
          req.end();
        })().catch((e) => req.destroy(e instanceof Error ? e : new Error(String(e))));
      }
    });
  }

  return {
    send,
    close() {
      httpAgent.destroy();
      httpsAgent?.destroy();
      for (const a of tunnels.values()) a.destroy();
    },
  };
}

/**
 * readBodyLimited reads a whole response body into memory, refusing more than `limit` bytes
 * (FromscratchError TOO_LARGE) so a hostile registry cannot exhaust memory (RELIABILITY E11, C6).
 */
export async function readBodyLimited(res: HttpResponse, limit: number, what: string): Promise<Buffer> {
  const len = res.header('content-length');
  if (len !== undefined && /^[0-9]+$/.test(len) && Number(len) > limit) {
    res.discard();
    throw new FromscratchError('TOO_LARGE', `${what} is ${len} bytes, over the ${limit}-byte limit`, {
      hint: 'documents over the limit are refused to bound memory',
    });
  }
  const chunks: Buffer[] = [];
  let n = 0;
  const it = res.body[Symbol.asyncIterator]();
  while (true) {
    const { value, done } = await it.next();
    if (done) break;
    n += value.byteLength;
    if (n > limit) {
      await it.return?.(undefined);
      throw new FromscratchError('TOO_LARGE', `${what} is over the ${limit}-byte limit`, {
        hint: 'documents over the limit are refused to bound memory',
      });
    }
    chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }
  return Buffer.concat(chunks);
}
