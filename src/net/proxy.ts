/**
 * proxy.ts — which proxy, if any, a request goes through: `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY`
 * (upper case first, then lower case), with the semantics of Go's golang.org/x/net/http/httpproxy, which
 * docker, skopeo and containerd use. PURE.
 *
 *   - `http:` URLs use HTTP_PROXY, `https:` URLs HTTPS_PROXY; a proxy without a scheme is `http://`
 *   - `localhost` and loopback addresses are never proxied
 *   - NO_PROXY is a comma-separated list: `*` (nothing is proxied), an IP or CIDR (`10.0.0.0/8`), a host
 *     name that matches itself and its subdomains (`example.com`), a leading `.` or `*.` that matches
 *     subdomains only (`.example.com`), each optionally with `:port` (then the port must match too)
 *
 * https://pkg.go.dev/golang.org/x/net/http/httpproxy#Config.ProxyFunc
 */
import { FromscratchError } from '../errors.ts';

/** ProxyConfig is the proxy settings read from the environment. */
export interface ProxyConfig {
  readonly httpProxy?: URL;
  readonly httpsProxy?: URL;
  /** the NO_PROXY list as given */
  readonly noProxy: string;
}

function envAny(env: Readonly<Record<string, string | undefined>>, ...names: string[]): string {
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v !== '') return v;
  }
  return '';
}

function parseProxyUrl(v: string, name: string): URL | undefined {
  if (v === '') return undefined;
  let u: URL;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `http://${v}`);
  } catch (e) {
    throw new FromscratchError('USAGE', `${name}=${JSON.stringify(v)} is not a proxy URL`, {
      hint: `write ${name}=http://HOST:PORT`,
      cause: e,
    });
  }
  if (u.protocol !== 'http:') {
    throw new FromscratchError('USAGE', `${name}=${JSON.stringify(v)}: only http:// proxies are supported`, {
      hint: `write ${name}=http://HOST:PORT (HTTPS requests still go through it, tunnelled with CONNECT)`,
    });
  }
  return u;
}

/**
 * proxyFromEnv reads HTTP_PROXY, HTTPS_PROXY and NO_PROXY (or their lower-case forms) from `env`.
 * Throws USAGE for a proxy that is not an http:// URL.
 */
export function proxyFromEnv(env: Readonly<Record<string, string | undefined>>): ProxyConfig {
  const httpProxy = parseProxyUrl(envAny(env, 'HTTP_PROXY', 'http_proxy'), 'HTTP_PROXY');
  const httpsProxy = parseProxyUrl(envAny(env, 'HTTPS_PROXY', 'https_proxy'), 'HTTPS_PROXY');
  return {
    ...(httpProxy ? { httpProxy } : {}),
    ...(httpsProxy ? { httpsProxy } : {}),
    noProxy: envAny(env, 'NO_PROXY', 'no_proxy'),
  };
}

/** parseIp returns the bytes of an IPv4 or IPv6 address, or undefined. */
export function parseIp(s: string): number[] | undefined {
  const h = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  if (v4) {
    const b = v4.slice(1).map(Number);
    return b.every((x) => x <= 255) ? b : undefined;
  }
  if (!h.includes(':') || !/^[0-9a-fA-F:.]+$/.test(h)) return undefined;
  const halves = h.split('::');
  if (halves.length > 2) return undefined;
  const words = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const w of part.split(':')) {
      if (w.includes('.')) {
        const ip4 = parseIp(w);
        if (!ip4 || ip4.length !== 4) return undefined;
        out.push((ip4[0]! << 8) | ip4[1]!, (ip4[2]! << 8) | ip4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return undefined;
        out.push(Number.parseInt(w, 16));
      }
    }
    return out;
  };
  const head = words(halves[0]!);
  const tail = halves.length === 2 ? words(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const v4mapped = all.slice(0, 5).every((x) => x === 0) && all[5] === 0xffff;
  if (v4mapped) return [all[6]! >> 8, all[6]! & 255, all[7]! >> 8, all[7]! & 255];
  return all.flatMap((w) => [w >> 8, w & 255]);
}

function isLoopback(ip: number[]): boolean {
  if (ip.length === 4) return ip[0] === 127;
  return ip.slice(0, 15).every((b) => b === 0) && ip[15] === 1;
}

function inCidr(ip: number[], net: number[], bits: number): boolean {
  if (ip.length !== net.length) return false;
  for (let i = 0; i < bits; i++) {
    const bit = (b: number[]) => (b[i >> 3]! >> (7 - (i & 7))) & 1;
    if (bit(ip) !== bit(net)) return false;
  }
  return true;
}

function sameIp(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** splitHostPort splits `host:port` / `[v6]:port`; undefined when there is no port. */
function splitHostPort(s: string): [string, string] | undefined {
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0 || s[end + 1] !== ':') return undefined;
    return [s.slice(1, end), s.slice(end + 2)];
  }
  const i = s.lastIndexOf(':');
  if (i < 0 || s.indexOf(':') !== i) return undefined; // a bare IPv6 address has no port
  return [s.slice(0, i), s.slice(i + 1)];
}

/**
 * bypassProxy says whether a request to `host` (a name or an IP, IPv6 with or without brackets) on
 * `port` goes direct: loopback, or matched by the NO_PROXY list `noProxy`.
 */
export function bypassProxy(host: string, port: string, noProxy: string): boolean {
  const h = (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host).toLowerCase();
  if (h === 'localhost') return true;
  const ip = parseIp(h);
  if (ip && isLoopback(ip)) return true;
  for (const raw of noProxy.split(',')) {
    const p = raw.trim().toLowerCase();
    if (p === '') continue;
    if (p === '*') return true;
    const slash = p.indexOf('/');
    if (slash >= 0) {
      const net = parseIp(p.slice(0, slash));
      const bits = Number(p.slice(slash + 1));
      if (net && ip && /^\d+$/.test(p.slice(slash + 1)) && bits <= net.length * 8 && inCidr(ip, net, bits))
        return true;
      continue;
    }
    const hp = splitHostPort(p);
    let phost = hp ? hp[0] : p;
    const pport = hp ? hp[1] : '';
    if (phost === '') continue;
    if (phost.startsWith('[') && phost.endsWith(']')) phost = phost.slice(1, -1);
    const pip = parseIp(phost);
    if (pip) {
      if (ip && sameIp(ip, pip) && (pport === '' || pport === port)) return true;
      continue;
    }
    if (phost.startsWith('*.')) phost = phost.slice(1);
    const matchHost = !phost.startsWith('.');
    const suffix = matchHost ? `.${phost}` : phost;
    if ((h.endsWith(suffix) || (matchHost && h === phost)) && (pport === '' || pport === port)) return true;
  }
  return false;
}

/**
 * proxyFor returns the proxy a request to `url` goes through, or undefined to go direct.
 * @example proxyFor(new URL('http://reg.example:5000/v2/'), proxyFromEnv({ HTTP_PROXY: 'http://p:3128' }))
 */
export function proxyFor(url: URL, cfg: ProxyConfig): URL | undefined {
  const proxy =
    url.protocol === 'https:' ? cfg.httpsProxy : url.protocol === 'http:' ? cfg.httpProxy : undefined;
  if (!proxy) return undefined;
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return bypassProxy(url.hostname, port, cfg.noProxy) ? undefined : proxy;
}
