/**
 * progress.test.ts — what the registry client reports through RegistryClientOptions.progress: each blob
 * pushed and pulled as a task whose advances add up to the blob's size, and a retry as a note saying
 * how long it waits and why ("retrying in 0.1 s: 503"), through a fault proxy in front of the real registry.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { memoryStore } from '../../src/blob/memory-store.ts';
import type { ProgressEvent } from '../../src/model/progress.ts';
import { pullImage } from '../../src/registry/pull.ts';
import { pushImage } from '../../src/registry/push.ts';
import { type FaultProxy, startFaultProxy } from '../fakes/fault-proxy.ts';
import { REGISTRY, smallImage, uniqueRepo } from './fixtures.ts';

let proxy: FaultProxy;
before(async () => {
  proxy = await startFaultProxy(REGISTRY);
});
after(async () => {
  await proxy.close();
});

/** tasks folds events into one entry per task: its label, total, summed advances and end detail */
function tasks(events: readonly ProgressEvent[]) {
  const m = new Map<string, { label: string; total?: number; sum: number; ended?: string }>();
  for (const e of events) {
    if (e.kind === 'start')
      m.set(e.id, { label: e.label, ...(e.total !== undefined ? { total: e.total } : {}), sum: 0 });
    else if (e.kind === 'advance') m.get(e.id)!.sum += e.amount;
    else if (e.kind === 'done') m.get(e.id)!.ended = e.detail ?? 'done';
  }
  return [...m.values()];
}

test('blobs pushed and pulled are tasks with their bytes; a 503 is retried with a note saying so', async () => {
  const store = memoryStore();
  const img = await smallImage(store);
  const repo = uniqueRepo('progress');
  const ref = `${proxy.address}/${repo}:1`;
  const events: ProgressEvent[] = [];
  const clientOptions = {
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    progress: (e: ProgressEvent) => events.push(e),
  };
  let failed = false;
  proxy.rule = (r) => {
    if (!failed && r.method === 'PUT' && r.url.includes('/manifests/')) {
      failed = true;
      return { kind: 'status', status: 503 };
    }
    return undefined;
  };
  try {
    await pushImage(ref, [img], store, { clientOptions });
  } finally {
    proxy.rule = undefined;
  }
  const layer = img.layers[0]!.blob;
  const pushed = tasks(events).filter((t) => t.label.startsWith('pushing '));
  const pushedLayer = pushed.find((t) =>
    t.label.startsWith(`pushing ${layer.digest.slice(7, 19)} to ${proxy.address}/${repo}`),
  );
  assert.ok(pushedLayer, JSON.stringify(pushed));
  assert.deepEqual(pushedLayer, {
    label: pushedLayer.label,
    total: layer.size,
    sum: layer.size,
    ended: 'done',
  });
  assert.equal(pushed.length, 2, 'the layer and the config');
  const notes = events.flatMap((e) => (e.kind === 'note' ? [e.message] : []));
  assert.equal(notes.length, 1, notes.join('\n'));
  assert.match(notes[0]!, /^pushing manifest .*: retrying in \d+(\.\d)? s: 503$/);

  events.length = 0;
  await pullImage(ref, memoryStore(), { clientOptions });
  const pulled = tasks(events).filter((t) => t.label.startsWith('pulling '));
  const pulledLayer = pulled.find((t) =>
    t.label.startsWith(`pulling ${layer.digest.slice(7, 19)} from ${proxy.address}/${repo}`),
  );
  assert.deepEqual(pulledLayer, {
    label: pulledLayer?.label,
    total: layer.size,
    sum: layer.size,
    ended: 'done',
  });
  assert.ok(
    pulled.every((t) => t.ended === 'done'),
    JSON.stringify(pulled),
  );
});

test('a blob download that breaks mid-body says so, resumes, and counts each byte once', async () => {
  const store = memoryStore();
  // random bytes do not compress: the layer is large enough to be cut in the middle
  const img = await smallImage(store, { files: { 'data/big.bin': { data: randomBytes(300_000) } } });
  const layer = img.layers[0]!.blob;
  const repo = uniqueRepo('progress-resume');
  const ref = `${proxy.address}/${repo}:1`;
  await pushImage(ref, [img], store, {});
  const events: ProgressEvent[] = [];
  const cut = 100_000;
  proxy.reset();
  proxy.rule = (r, n) =>
    r.method === 'GET' && r.url.endsWith(`/blobs/${layer.digest}`) && n === 1
      ? { kind: 'reset', bytes: cut }
      : undefined;
  try {
    await pullImage(ref, memoryStore(), {
      clientOptions: {
        retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
        progress: (e: ProgressEvent) => events.push(e),
      },
    });
  } finally {
    proxy.rule = undefined;
  }
  const notes = events.flatMap((e) => (e.kind === 'note' ? [e.message] : []));
  assert.equal(notes.length, 1, notes.join('\n'));
  assert.match(
    notes[0]!,
    new RegExp(
      `^fetching blob ${layer.digest} from ${proxy.address}/${repo}: the connection broke after [\\d.]+ kB of [\\d.]+ kB \\(.+\\); resuming$`,
    ),
  );
  // the second request asked for the rest only
  const ranges = proxy.seen.filter((s) => s.url.endsWith(`/blobs/${layer.digest}`)).map((s) => s.range);
  assert.equal(ranges.length, 2, JSON.stringify(ranges));
  assert.match(ranges[1] ?? '', /^bytes=\d+-$/);
  const pulled = tasks(events).find((t) => t.label.startsWith(`pulling ${layer.digest.slice(7, 19)} `));
  assert.deepEqual(pulled, { label: pulled?.label, total: layer.size, sum: layer.size, ended: 'done' });
});
