/**
 * proxy.test.ts — HTTP_PROXY / HTTPS_PROXY / NO_PROXY through a tiny recording proxy on loopback (the
 * one fake here: it stands for a corporate proxy, and records what it saw). Registry traffic of the CLI
 * goes through it as absolute-URI requests; HTTPS through a CONNECT tunnel (the proxy sees no content);
 * the apt downloads go through it; NO_PROXY and loopback targets go direct. The targets are named
 * `*.test`, names only the proxy resolves (to 127.0.0.1), as a proxy resolves names for its clients.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fetchBytes } from '../../src/deb/fetch-http.ts';
import { createTransport } from '../../src/registry/http.ts';
import { compileHello } from '../support/tiny-image.ts';
import { registryAddress, requireTool, run } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

interface RecordingProxy {
  readonly url: string;
  readonly seen: string[];
  close(): Promise<void>;
}

/** startProxy starts an HTTP proxy on 127.0.0.1 that resolves every host to 127.0.0.1 and records requests. */
async function startProxy(): Promise<RecordingProxy> {
  const seen: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const u = new URL(req.url ?? '/');
    const up = http.request(
      {
        host: '127.0.0.1',
        port: Number(u.port || 80),
        method: req.method,
        path: `${u.pathname}${u.search}`,
        headers: req.headers,
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req, client: net.Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    const port = Number((req.url ?? '').split(':').pop());
    const upstream = net.connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('proxies', () => {
  let proxy: RecordingProxy;
  let dir = '';
  before(async () => {
    proxy = await startProxy();
    dir = await mkdtemp(join(tmpdir(), 'e2e-proxy-'));
  });
  after(async () => {
    await proxy.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('registry traffic of the CLI goes through HTTP_PROXY as absolute-URI requests; NO_PROXY sends it direct', async () => {
    const reg = await registryAddress();
    const port = reg.split(':').pop();
    const name = `registry.test:${port}`;
    const repo = `proxy-${randomBytes(4).toString('hex')}/app`;
    await writeFile(join(dir, 'hello'), await compileHello(), { mode: 0o755 });
    const env = { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, NO_PROXY: 'other.example' };
    const built = await fromscratch(
      ['build', '--add', './hello:/hello', '--insecure-registry', name, '-o', `docker://${name}/${repo}:1`],
      { cwd: dir, env },
    );
    assert.equal(built.code, 0, built.stderr);
    const ours = proxy.seen.filter((l) => l.includes(`http://${name}/v2/${repo}/`));
    assert.ok(
      ours.some((l) => l.startsWith('PUT ') && l.includes('/manifests/1')),
      proxy.seen.join('\n'),
    );
    assert.ok(
      ours.some((l) => l.startsWith('POST ') && l.includes('/blobs/uploads/')),
      proxy.seen.join('\n'),
    );
    // the real registry has it (asked directly, on loopback)
    const tags = JSON.parse(
      (
        await run(requireTool('skopeo', 'skopeo'), [
          'list-tags',
          '--tls-verify=false',
          `docker://${reg}/${repo}`,
        ])
      ).stdout,
    ) as { Tags: string[] };
    assert.deepEqual(tags.Tags, ['1']);

    // reading it goes through the proxy too (inspect, as run, check, sbom and report, takes --insecure-registry)
    const seenBefore = proxy.seen.length;
    const read = await fromscratch(
      ['inspect', '--no-files', '--insecure-registry', name, `${name}/${repo}:1`],
      {
        cwd: dir,
        env,
      },
    );
    assert.equal(read.code, 0, read.stderr);
    assert.ok(
      proxy.seen.slice(seenBefore).some((l) => l === `GET http://${name}/v2/${repo}/manifests/1`),
      proxy.seen.slice(seenBefore).join('\n'),
    );

    // NO_PROXY names it (domain suffix with port): nothing reaches the proxy, and the name does not resolve
    const before = proxy.seen.length;
    const direct = await fromscratch(['inspect', '--no-files', `${name}/${repo}:1`], {
      cwd: dir,
      env: { ...env, NO_PROXY: `.test:${port}` },
    });
    assert.equal(proxy.seen.length, before, proxy.seen.slice(before).join('\n'));
    assert.notEqual(direct.code, 0);
    // a loopback registry is never proxied
    const loop = await fromscratch(['inspect', '--no-files', `${reg}/${repo}:1`], { cwd: dir, env });
    assert.equal(loop.code, 0, loop.stderr);
    assert.equal(proxy.seen.length, before);
  });

  it('HTTPS goes through a CONNECT tunnel, TLS end to end (the registry client transport)', async () => {
    requireTool('openssl', 'openssl');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'k.pem',
        '-out',
        'c.pem',
        '-days',
        '1',
        '-subj',
        '/CN=tls.test',
        '-addext',
        'subjectAltName=DNS:tls.test',
      ],
      { cwd: dir, stdio: 'pipe' },
    );
    const cert = await readFile(join(dir, 'c.pem'), 'utf8');
    const server = https.createServer(
      { cert, key: await readFile(join(dir, 'k.pem'), 'utf8') },
      (req, res) => {
        res.end(`secret for ${req.url}`);
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const t = createTransport({ ca: [cert] }, { HTTPS_PROXY: proxy.url });
    try {
      const res = await t.send({
        method: 'GET',
        url: new URL(`https://tls.test:${port}/v2/x`),
        headers: {},
        idleTimeoutMs: 10_000,
        totalTimeoutMs: 0,
      });
      let body = '';
      for await (const c of res.body) body += Buffer.from(c).toString();
      assert.equal(res.status, 200);
      assert.equal(body, 'secret for /v2/x');
      assert.ok(proxy.seen.includes(`CONNECT tls.test:${port}`), proxy.seen.join('\n'));
      assert.ok(
        !proxy.seen.some((l) => l.includes('/v2/x')),
        'the proxy saw no request line of the tunnelled exchange',
      );
    } finally {
      t.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('apt downloads go through HTTP_PROXY too', async () => {
    const server = http.createServer((req, res) => res.end(`deb ${req.url}`));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const saved = { ...process.env };
    process.env.HTTP_PROXY = proxy.url;
    delete process.env.http_proxy;
    delete process.env.NO_PROXY;
    delete process.env.no_proxy;
    try {
      const bytes = await fetchBytes(`http://mirror.test:${port}/debian/pool/x.deb`, { attempts: 1 });
      assert.equal(Buffer.from(bytes).toString(), 'deb /debian/pool/x.deb');
      assert.ok(
        proxy.seen.includes(`GET http://mirror.test:${port}/debian/pool/x.deb`),
        proxy.seen.join('\n'),
      );
    } finally {
      process.env = saved;
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
