/**
 * proxy.test.ts — pins NO_PROXY matching to Go's httpproxy (golang.org/x/net/http/httpproxy proxy_test.go
 * cases) and the choice of proxy per scheme.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { bypassProxy, proxyFor, proxyFromEnv } from './proxy.ts';

// [NO_PROXY, host, port, bypass?]
const table: [string, string, string, boolean][] = [
  // loopback is never proxied, whatever NO_PROXY says
  ['', 'localhost', '80', true],
  ['', '127.0.0.1', '5000', true],
  ['', '127.1.2.3', '80', true],
  ['', '::1', '443', true],
  ['', '[::1]', '443', true],
  ['', 'example.com', '80', false],
  ['*', 'example.com', '80', true],
  // a name matches itself and its subdomains
  ['example.com', 'example.com', '80', true],
  ['example.com', 'www.example.com', '80', true],
  ['example.com', 'notexample.com', '80', false],
  ['EXAMPLE.com', 'Www.Example.COM', '80', true],
  // a leading dot or *. : subdomains only
  ['.example.com', 'example.com', '80', false],
  ['.example.com', 'a.example.com', '80', true],
  ['*.example.com', 'example.com', '80', false],
  ['*.example.com', 'a.b.example.com', '80', true],
  // ports
  ['example.com:443', 'example.com', '443', true],
  ['example.com:443', 'example.com', '80', false],
  ['10.0.0.1:8080', '10.0.0.1', '8080', true],
  ['10.0.0.1:8080', '10.0.0.1', '80', false],
  ['[2001:db8::1]:443', '2001:db8::1', '443', true],
  // IPs and CIDRs
  ['10.0.0.1', '10.0.0.1', '80', true],
  ['10.0.0.1', '10.0.0.2', '80', false],
  ['10.0.0.0/8', '10.200.3.4', '80', true],
  ['10.0.0.0/8', '11.0.0.1', '80', false],
  ['192.168.0.0/16', '192.168.255.1', '80', true],
  ['2001:db8::/32', '2001:db8:ffff::1', '80', true],
  ['2001:db8::/32', '2001:db9::1', '80', false],
  ['10.0.0.0/8', 'example.com', '80', false],
  // lists, blanks and junk entries
  [' foo.com , bar.com ', 'x.bar.com', '80', true],
  [',,', 'example.com', '80', false],
  [':80', 'example.com', '80', false],
];

for (const [noProxy, host, port, want] of table) {
  test(`NO_PROXY=${JSON.stringify(noProxy)}: ${host}:${port} ${want ? 'goes direct' : 'is proxied'}`, () => {
    assert.equal(bypassProxy(host, port, noProxy), want);
  });
}

test('proxyFromEnv: upper case first, scheme by URL, default scheme http, only http proxies', () => {
  const cfg = proxyFromEnv({
    HTTP_PROXY: 'proxy.local:3128',
    http_proxy: 'http://ignored:1',
    https_proxy: 'http://sec:3129',
    no_proxy: 'internal.example',
  });
  assert.equal(proxyFor(new URL('http://reg.example/v2/'), cfg)?.href, 'http://proxy.local:3128/');
  assert.equal(proxyFor(new URL('https://reg.example/v2/'), cfg)?.href, 'http://sec:3129/');
  assert.equal(proxyFor(new URL('https://a.internal.example/v2/'), cfg), undefined);
  assert.equal(proxyFor(new URL('http://127.0.0.1:5000/v2/'), cfg), undefined);
  // the default port takes part in NO_PROXY port matching
  assert.equal(
    proxyFor(new URL('https://x.test/'), proxyFromEnv({ HTTPS_PROXY: 'p:1', NO_PROXY: 'x.test:443' })),
    undefined,
  );
  assert.equal(proxyFor(new URL('http://x.test/'), proxyFromEnv({})), undefined);
  assert.throws(
    () => proxyFromEnv({ HTTPS_PROXY: 'socks5://p:1080' }),
    (e: unknown) => isFromscratchError(e, 'USAGE') && /only http:\/\/ proxies/.test(e.message),
  );
});
