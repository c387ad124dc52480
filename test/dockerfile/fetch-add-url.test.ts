/**
 * fetch-add-url.test.ts — ADD https://… downloads (RELIABILITY.md F7) against a loopback node:http server.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fetchAddUrl } from '../../src/dockerfile/fetch-add-url.ts';
import { isFromscratchError } from '../../src/errors.ts';

let server: Server;
let base: string;
const body = Buffer.from('hello from ADD\n');
const sum = `sha256:${createHash('sha256').update(body).digest('hex')}`;

before(async () => {
  server = createServer((req, res) => {
    switch (req.url) {
      case '/file':
        res.end(body);
        return;
      case '/redirect':
        res.writeHead(302, { location: '/file' });
        res.end();
        return;
      case '/to-file':
        res.writeHead(302, { location: 'file:///etc/passwd' });
        res.end();
        return;
      case '/to-metadata':
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
        res.end();
        return;
      case '/big-header':
        res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) });
        res.end();
        return;
      case '/endless': {
        // no Content-Length, never ends: the size cap must stop it
        res.writeHead(200);
        const chunk = Buffer.alloc(64 * 1024);
        const pump = () => {
          while (res.write(chunk)) {
            /* keep writing until the socket buffer is full */
          }
        };
        res.on('drain', pump);
        pump();
        req.on('close', () => res.destroy());
        return;
      }
      case '/stall':
        res.writeHead(200);
        res.write('x');
        req.on('close', () => res.destroy());
        return;
      default:
        res.writeHead(404);
        res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

async function rejects(p: Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(isFromscratchError(e), `expected FromscratchError, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return;
  }
  assert.fail(`expected ${code}`);
}

describe('fetchAddUrl', () => {
  it('downloads and verifies --checksum, following redirects', async () => {
    const r = await fetchAddUrl(`${base}/redirect`, sum);
    assert.deepEqual(Buffer.from(r.data), body);
    assert.equal(r.digest, sum);
    assert.equal(r.finalUrl, `${base}/file`);
  });
  it('fails on a checksum mismatch', async () => {
    await rejects(
      fetchAddUrl(`${base}/file`, `sha256:${'0'.repeat(64)}`),
      'DIGEST_MISMATCH',
      /not the --checksum/,
    );
  });
  it('refuses non-http schemes, redirects to file:// and to link-local metadata addresses', async () => {
    await rejects(fetchAddUrl('file:///etc/passwd'), 'INVALID_ARGUMENT', /only http and https/);
    await rejects(fetchAddUrl(`${base}/to-file`), 'NETWORK_ERROR', /refusing file: URL/);
    await rejects(fetchAddUrl(`${base}/to-metadata`), 'NETWORK_ERROR', /link-local/);
    await rejects(fetchAddUrl('http://user:pw@127.0.0.1/x'), 'INVALID_ARGUMENT', /credentials/);
  });
  it('caps the size by Content-Length and while streaming an endless body', async () => {
    await rejects(fetchAddUrl(`${base}/big-header`, undefined, { maxBytes: 1024 * 1024 }), 'TOO_LARGE');
    await rejects(fetchAddUrl(`${base}/endless`, undefined, { maxBytes: 1024 * 1024 }), 'TOO_LARGE');
  });
  it('stops a stalled download at the idle limit', async () => {
    await rejects(fetchAddUrl(`${base}/stall`, undefined, { idleTimeoutMs: 300 }), 'TIMEOUT');
  });
  it('reports HTTP errors', async () => {
    await rejects(fetchAddUrl(`${base}/missing`), 'NETWORK_ERROR', /HTTP 404/);
  });
});
