/**
 * silent-registry.test.ts — issue 15.11: a registry output that accepts connections and never answers
 * fails the build with TIMEOUT after one time budget in total: the early layer uploads find it silent,
 * and the push at the end does not contact it again (before: once per phase, twice the wait).
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { withTempDir } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

test('a silent registry output is contacted once: the build fails with TIMEOUT without a second wait in the final push', async () => {
  const sockets: Socket[] = [];
  let pings = 0;
  const server = createServer((s) => {
    sockets.push(s);
    s.on('data', (d) => {
      pings += (d.toString('latin1').match(/^GET \/v2\/ HTTP/gm) ?? []).length;
    });
    s.on('error', () => {});
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;
  try {
    await withTempDir('e2e-silent-registry', async (dir) => {
      const r = await fromscratch(
        ['build', '--binary', '/bin/true', '-o', `docker://127.0.0.1:${port}/app:1`],
        {
          cwd: dir,
          env: { FROMSCRATCH_REGISTRY_TIMEOUT: '2' },
        },
      );
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /^error\[TIMEOUT\]: contacting registry 127\.0\.0\.1:\d+: no answer within 2 s/m,
      );
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(pings, 1, 'the registry was asked once (GET /v2/), not again by the final push');
    });
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
});
