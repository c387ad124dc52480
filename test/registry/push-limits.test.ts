/**
 * push-limits.test.ts — a push refuses, before its first request, what the layout writer refuses and
 * every reader would (issue 15.5): more layers per image than MAX_IMAGE_LAYERS, a config or manifest
 * over the JSON cap. A loopback HTTP server counts the requests: there must be none.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { memoryStore } from '../../src/blob/memory-store.ts';
import { isFromscratchError } from '../../src/errors.ts';
import type { Image } from '../../src/image/image.ts';
import { DEFAULT_JSON_LIMIT, MAX_IMAGE_LAYERS } from '../../src/model/json.ts';
import { pushImage } from '../../src/registry/push.ts';
import { helloImage } from '../support/tiny-image.ts';

test('pushing an image over the readers limits sends nothing and names the limit', async () => {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const store = memoryStore();
    const image = await helloImage(store);
    const manyLayers: Image = {
      ...image,
      layers: Array.from({ length: MAX_IMAGE_LAYERS + 1 }, () => image.layers[0]!),
      history: [],
    };
    await assert.rejects(
      pushImage(`${address}/limits/layers:1`, [manyLayers], store),
      (e: unknown) =>
        isFromscratchError(e, 'TOO_LARGE') &&
        new RegExp(`${MAX_IMAGE_LAYERS + 1} layers`).test(e.message) &&
        /the image was not written/.test(e.hint ?? ''),
    );
    const hugeConfig: Image = {
      ...image,
      config: { ...image.config, Env: [`BIG=${'x'.repeat(DEFAULT_JSON_LIMIT)}`] },
    };
    await assert.rejects(
      pushImage(`${address}/limits/config:1`, [hugeConfig], store),
      (e: unknown) => isFromscratchError(e, 'TOO_LARGE') && /byte limit/.test(e.message),
    );
    assert.deepEqual(requests, [], 'the registry was asked nothing');
    // within the limits the same server is asked (and answers 404): the check is not a refusal of everything
    await assert.rejects(pushImage(`${address}/limits/ok:1`, [image], store, { clientOptions: {} }));
    assert.ok(requests.length > 0);
  } finally {
    server.close();
  }
});
