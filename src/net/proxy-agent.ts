/**
 * proxy-agent.ts — requests through an HTTP proxy, as Go's net/http sends them: a plain-HTTP request is
 * sent to the proxy with its absolute URI (`GET http://host/path`), an HTTPS request goes through a
 * `CONNECT host:port` tunnel, with TLS end to end between us and the server (the proxy sees no content).
 * IO, on node:http, node:https and node:tls; the registry client and the apt downloads share it.
 */
import http from 'node:http';
import https from 'node:https';
import { type Duplex, Readable } from 'node:stream';
import tls from 'node:tls';
import { FromscratchError } from '../errors.ts';
import { type ProxyConfig, proxyFor } from './proxy.ts';

/** proxyAuthorization is the Proxy-Authorization header for a proxy URL with credentials, if any. */
export function proxyAuthorization(proxy: URL): Record<string, string> {
  if (proxy.username === '') return {};
  const user = decodeURIComponent(proxy.username);
  const pass = decodeURIComponent(proxy.password);
  return { 'proxy-authorization': `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` };
}

/**
 * proxiedHttpRequest sends a plain-HTTP request for `url` to the proxy, with the absolute URI as the
 * request target (RFC 9112 §3.2.2) and the origin's Host header.
 */
export function proxiedHttpRequest(
  proxy: URL,
  url: URL,
  opts: { method: string; headers: Record<string, string>; agent?: http.Agent },
): http.ClientRequest {
  return http.request({
    host: proxy.hostname.replace(/^\[|\]$/g, ''),
    port: Number(proxy.port || 80),
    method: opts.method,
    path: url.href,
    headers: { ...opts.headers, host: url.host, ...proxyAuthorization(proxy) },
    ...(opts.agent ? { agent: opts.agent } : {}),
  });
}

/**
 * tunnelAgent returns an https.Agent whose connections are CONNECT tunnels through `proxy`, with TLS to
 * the server on top (certificate checked against the server's name, with `tlsOptions`). Throws (through
 * the request) NETWORK_ERROR when the proxy refuses the tunnel.
 */
export function tunnelAgent(proxy: URL, tlsOptions: https.AgentOptions = {}): https.Agent {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 32, ...tlsOptions });
  type Callback = (err: Error | null, socket?: Duplex) => void;
  const create = (options: https.RequestOptions & tls.ConnectionOptions, cb: Callback): undefined => {
    const host = String(options.hostname ?? options.host ?? 'localhost').replace(/^\[|\]$/g, '');
    const port = Number(options.port ?? 443);
    const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const req = http.request({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: Number(proxy.port || 80),
      method: 'CONNECT',
      path: target,
      headers: { host: target, ...proxyAuthorization(proxy) },
      agent: false,
    });
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        cb(
          new FromscratchError(
            'NETWORK_ERROR',
            `proxy ${proxy.host} refused the tunnel to ${target}: ${res.statusCode} ${res.statusMessage ?? ''}`.trim(),
            { hint: 'check HTTPS_PROXY and NO_PROXY, and that the proxy allows CONNECT to this port' },
          ),
        );
        return;
      }
      const { agent: _agent, ...rest } = options as tls.ConnectionOptions & { agent?: unknown };
      const t = tls.connect({
        ...rest,
        socket,
        ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }),
      });
      cb(null, t);
    });
    req.once('error', (e) => cb(e));
    req.end();
    return undefined;
  };
  (agent as unknown as { createConnection: typeof create }).createConnection = create;
  return agent;
}

/**
 * fetchWithProxy is a GET like global fetch (redirects followed, up to 10) that goes through the proxy
 * `cfg` names for each URL (src/net/proxy.ts), and directly where none applies. Node 20's fetch has no
 * proxy support, so the apt downloads use this. Rejects like fetch on network errors and on `signal`.
 */
export async function fetchWithProxy(
  url: string,
  init: { signal?: AbortSignal },
  cfg: ProxyConfig,
): Promise<Response> {
  let u = new URL(url);
  for (let hop = 0; hop <= 10; hop++) {
    const proxy = proxyFor(u, cfg);
    if (!proxy) return fetch(u, { redirect: 'follow', ...(init.signal ? { signal: init.signal } : {}) });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req =
        u.protocol === 'http:'
          ? proxiedHttpRequest(proxy, u, { method: 'GET', headers: {} })
          : https.request(u, { method: 'GET', agent: tunnelAgent(proxy, {}) });
      const onAbort = () =>
        req.destroy(init.signal?.reason instanceof Error ? init.signal.reason : new Error('aborted'));
      init.signal?.addEventListener('abort', onAbort, { once: true });
      req.once('response', (r) => {
        init.signal?.removeEventListener('abort', onAbort);
        resolve(r);
      });
      req.once('error', reject);
      req.end();
    });
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (status >= 300 && status < 400 && location) {
      res.resume();
      u = new URL(location, u);
      continue;
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
    const body = Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>;
    return new Response(status === 204 || status === 304 ? null : body, { status, headers });
  }
  throw new FromscratchError('NETWORK_ERROR', `GET ${url}: more than 10 redirects`, {
    hint: 'the mirror redirects in a loop; check the apt source URL',
  });
}
