/**
 * fault-proxy.ts — a node:http proxy on 127.0.0.1 in front of a real registry that injects the faults
 * of RELIABILITY.md section E: statuses with Retry-After, flapping 5xx, connection resets after N body
 * bytes, flipped bytes, stripped or wrong Docker-Content-Digest, cross-origin redirects, huge or
 * trickling bodies — and, optionally, bearer-token authentication with scopes and expiry, so the
 * client's token dance is exercised against real registry traffic.
 *
 * Only what a real component cannot produce is faked (STYLE.md §7).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Fault is what the proxy does with one request instead of forwarding it plainly. */
export type Fault =
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly headers?: Record<string, string>;
      readonly body?: string | Uint8Array;
    }
  /** forward, then cut the connection after `bytes` bytes of the response body */
  | { readonly kind: 'reset'; readonly bytes: number }
  /** forward with one byte of the response body flipped */
  | { readonly kind: 'corrupt' }
  /** forward with response headers replaced (undefined deletes) */
  | { readonly kind: 'headers'; readonly headers: Record<string, string | undefined> }
  /** answer a redirect to `location` */
  | { readonly kind: 'redirect'; readonly status: number; readonly location: string }
  /** answer 200 with an endless body trickling `bytesPerTick` every `tickMs` */
  | {
      readonly kind: 'trickle';
      readonly bytesPerTick: number;
      readonly tickMs: number;
      readonly headers?: Record<string, string>;
    }
  /** answer 200 with `body` (e.g. a huge manifest) */
  | { readonly kind: 'body'; readonly body: Uint8Array; readonly headers?: Record<string, string> }
  /** let a handler answer (Range handling tests) */
  | {
      readonly kind: 'custom';
      readonly handle: (
        req: http.IncomingMessage,
        res: http.ServerResponse,
        forward: () => Promise<ForwardedResponse>,
      ) => void | Promise<void>;
    };

/** ForwardedResponse is the upstream's answer, fully read. */
export interface ForwardedResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** SeenRequest records what the proxy received. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly authorization?: string;
  readonly range?: string;
}

/** ProxyRule picks a fault for a request; return undefined to forward plainly. */
export type ProxyRule = (req: SeenRequest, count: number) => Fault | undefined;

/** BearerOptions turns on token authentication at the proxy. */
export interface BearerOptions {
  readonly username: string;
  readonly password: string;
  /** a token stops working after this many uses (simulates expiry mid-push); a token only covers the scopes it was asked for */
  readonly usesPerToken?: number;
  /** an OAuth2 refresh (identity) token accepted with `POST /token grant_type=refresh_token` */
  readonly identityToken?: string;
  /** repositories whose scopes the token service never grants (a mount source the user may not read) */
  readonly deniedRepositories?: readonly string[];
}

/** FaultProxy is a running proxy. */
export interface FaultProxy {
  /** `127.0.0.1:PORT` */
  readonly address: string;
  readonly seen: SeenRequest[];
  /** token requests received (scope lists) */
  readonly tokenRequests: string[][];
  /** the rule in force; replace it between steps */
  rule: ProxyRule | undefined;
  /** forget the requests seen and the per-request counters */
  reset(): void;
  close(): Promise<void>;
}

/** readAll reads a stream into a Buffer. */
async function readAll(s: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c);
  return Buffer.concat(parts);
}

/** startFaultProxy starts a proxy to `upstream` (`host:port`). */
export async function startFaultProxy(upstream: string, bearer?: BearerOptions): Promise<FaultProxy> {
  const seen: SeenRequest[] = [];
  const tokenRequests: string[][] = [];
  const counts = new Map<string, number>();
  const tokens = new Map<string, { scopes: Set<string>; uses: number }>();
  const [uhost, uport] = [
    upstream.slice(0, upstream.lastIndexOf(':')),
    Number(upstream.slice(upstream.lastIndexOf(':') + 1)),
  ];
  let address = '';

  const forward = (req: http.IncomingMessage, body: Buffer): Promise<http.IncomingMessage> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers };
      delete headers.authorization;
      const up = http.request(
        { host: uhost, port: uport, method: req.method, path: req.url, headers },
        resolve,
      );
      up.on('error', reject);
      up.end(body);
    });

  function requiredScope(method: string, url: string): string | undefined {
    const m = /^\/v2\/(.+?)\/(manifests|blobs|tags)\//.exec(url);
    if (!m) return undefined;
    const write = method !== 'GET' && method !== 'HEAD';
    return `repository:${m[1]}:${write ? 'push' : 'pull'}`;
  }

  const server = http.createServer(async (req, res) => {
    try {
      const url = req.url ?? '/';
      const entry: SeenRequest = {
        method: req.method ?? 'GET',
        url,
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        ...(req.headers.range ? { range: req.headers.range } : {}),
      };
      seen.push(entry);
      const key = `${entry.method} ${url.split('?')[0]}`;
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);

      if (bearer && url.startsWith('/token')) {
        const u = new URL(url, 'http://x');
        let scopes = u.searchParams.getAll('scope');
        let ok =
          req.headers.authorization ===
          `Basic ${Buffer.from(`${bearer.username}:${bearer.password}`).toString('base64')}`;
        if (req.method === 'POST') {
          // OAuth2 refresh-token grant (identity tokens): https://distribution.github.io/distribution/spec/auth/oauth/
          const form = new URLSearchParams((await readAll(req)).toString('utf8'));
          scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
          ok =
            form.get('grant_type') === 'refresh_token' &&
            bearer.identityToken !== undefined &&
            form.get('refresh_token') === bearer.identityToken;
        }
        tokenRequests.push(scopes);
        if (!ok) {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}');
          return;
        }
        scopes = scopes.filter((sc) => !bearer.deniedRepositories?.includes(sc.split(':')[1] ?? ''));
        const token = randomBytes(16).toString('hex');
        const granted = new Set<string>();
        for (const s of scopes) {
          const [t, name, actions] = s.split(':');
          for (const a of (actions ?? '').split(',')) granted.add(`${t}:${name}:${a}`);
        }
        tokens.set(token, { scopes: granted, uses: 0 });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token, expires_in: 300 }));
        return;
      }
      if (bearer) {
        const challenge = (scope?: string, error?: string) =>
          `Bearer realm="http://${address}/token",service="fault-proxy"${scope ? `,scope="${scope}"` : ''}${error ? `,error="${error}"` : ''}`;
        const auth = req.headers.authorization;
        const tok = auth?.startsWith('Bearer ') ? tokens.get(auth.slice(7)) : undefined;
        const need = requiredScope(entry.method, url);
        if (!tok || (bearer.usesPerToken !== undefined && tok.uses >= bearer.usesPerToken)) {
          await readAll(req);
          res.writeHead(401, { 'www-authenticate': challenge(need), 'content-type': 'application/json' });
          res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
          return;
        }
        tok.uses++;
        const mountFrom = new URL(url, 'http://x').searchParams.get('from');
        const needs = [need, ...(mountFrom ? [`repository:${mountFrom}:pull`] : [])].filter(
          (s): s is string => !!s,
        );
        const missing = needs.find((s) => !tok.scopes.has(s));
        if (missing) {
          await readAll(req);
          res.writeHead(401, {
            'www-authenticate': challenge(missing, 'insufficient_scope'),
            'content-type': 'application/json',
          });
          res.end('{"errors":[{"code":"DENIED","message":"insufficient scope"}]}');
          return;
        }
      }

      const fault = proxy.rule?.(entry, count);
      const body = await readAll(req);
      if (fault?.kind === 'status') {
        res.writeHead(fault.status, fault.headers ?? {});
        res.end(fault.body ?? '');
        return;
      }
      if (fault?.kind === 'redirect') {
        res.writeHead(fault.status, { location: fault.location, 'content-length': '0' });
        res.end();
        return;
      }
      if (fault?.kind === 'body') {
        res.writeHead(200, { 'content-length': String(fault.body.byteLength), ...(fault.headers ?? {}) });
        res.end(fault.body);
        return;
      }
      if (fault?.kind === 'trickle') {
        res.writeHead(200, fault.headers ?? {});
        const timer = setInterval(() => {
          if (res.destroyed) clearInterval(timer);
          else res.write(Buffer.alloc(fault.bytesPerTick, 0x7b));
        }, fault.tickMs);
        res.on('close', () => clearInterval(timer));
        return;
      }
      const doForward = async (): Promise<ForwardedResponse> => {
        const up = await forward(req, body);
        return { status: up.statusCode ?? 502, headers: up.headers, body: await readAll(up) };
      };
      if (fault?.kind === 'custom') {
        await fault.handle(req, res, doForward);
        return;
      }
      const up = await doForward();
      const headers: http.OutgoingHttpHeaders = { ...up.headers };
      let out = up.body;
      if (fault?.kind === 'headers') {
        for (const [k, v] of Object.entries(fault.headers)) {
          if (v === undefined) delete headers[k];
          else headers[k] = v;
        }
      }
      if (fault?.kind === 'corrupt' && out.length > 0) {
        out = Buffer.from(out);
        out[Math.floor(out.length / 2)]! ^= 0xff;
      }
      if (fault?.kind === 'reset') {
        headers['content-length'] = String(out.length);
        res.writeHead(up.status, headers);
        res.write(out.subarray(0, fault.bytes), () => setTimeout(() => res.socket?.destroy(), 20));
        return;
      }
      res.writeHead(up.status, headers);
      res.end(req.method === 'HEAD' ? undefined : out);
    } catch (e) {
      if (!res.headersSent) res.writeHead(599);
      res.end(String(e));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const proxy: FaultProxy = {
    address,
    seen,
    tokenRequests,
    rule: undefined,
    reset() {
      seen.length = 0;
      tokenRequests.length = 0;
      counts.clear();
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return proxy;
}

/** startRecorder starts a plain server that records requests and answers 200 with `body` (a cross-origin redirect target). */
export async function startRecorder(
  body: Uint8Array = Buffer.alloc(0),
): Promise<{ address: string; seen: SeenRequest[]; close(): Promise<void> }> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    seen.push({
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    res.writeHead(200, {
      'content-length': String(body.byteLength),
      'content-type': 'application/octet-stream',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
