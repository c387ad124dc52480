/**
 * download-progress.test.ts — a .deb download reports itself on the progress sink: one task
 * `fetching URL` whose total is the package size and whose advances add up to it, and a 503 answered
 * once is retried with a note saying how long it waits and why. A loopback HTTP server plays the mirror.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fetchDeb } from '../../src/deb/fetch-deb.ts';
import type { ProgressEvent } from '../../src/model/progress.ts';

test('a .deb download is a task with its bytes; a 503 is retried and announced', async () => {
  const body = randomBytes(300_000);
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    if (requests === 1) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length) });
    // in pieces, as a mirror sends them
    for (let i = 0; i < body.length; i += 64 * 1024) res.write(body.subarray(i, i + 64 * 1024));
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const cache = mkdtempSync(join(tmpdir(), 'deb-progress-'));
  try {
    const port = (server.address() as { port: number }).port;
    const url = `http://127.0.0.1:${port}/pool/t/tiny_1.0_amd64.deb`;
    const events: ProgressEvent[] = [];
    const bytes = await fetchDeb(
      {
        name: 'tiny',
        version: '1.0',
        architecture: 'amd64',
        forArch: 'amd64',
        url,
        size: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
      },
      { cacheDir: cache, hostArchives: false, progress: (e) => events.push(e) },
    );
    assert.equal(bytes.length, body.length);
    const start = events.find((e) => e.kind === 'start');
    assert.deepEqual(start, {
      kind: 'start',
      id: `fetch ${url}`,
      label: `fetching ${url}`,
      total: body.length,
      unit: 'bytes',
    });
    const sum = events.reduce((n, e) => n + (e.kind === 'advance' ? e.amount : 0), 0);
    assert.equal(sum, body.length, 'the advances add up to the size');
    assert.ok(events.filter((e) => e.kind === 'advance').length > 1, 'reported as it arrives');
    assert.deepEqual(events.at(-1), { kind: 'done', id: `fetch ${url}` });
    const notes = events.flatMap((e) => (e.kind === 'note' ? [e.message] : []));
    assert.deepEqual(notes, [`fetching ${url}: retrying in 0.5 s: 503`]);
  } finally {
    server.close();
    rmSync(cache, { recursive: true, force: true });
  }
});
