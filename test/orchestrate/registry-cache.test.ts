/**
 * registry-cache.test.ts — the registry cache's format and bounds against a real docker-registry:
 * entries merged with the previous export, dropped after 14 days and past 512, configs refused
 * when malformed, and a hit downloaded (verified) only when read.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { isCacheEntryRemoved } from '../../src/blob/dir-store.ts';
import { memoryStore } from '../../src/blob/memory-store.ts';
import { readBlob } from '../../src/blob/store.ts';
import { isFromscratchError } from '../../src/errors.ts';
import type { Layer } from '../../src/image/image.ts';
import { sha256 } from '../../src/model/digest.ts';
import { MediaType } from '../../src/model/media-type.ts';
import {
  MAX_AGE_MS,
  MAX_ENTRIES,
  openRegistryCache,
  parseCacheConfig,
  parseCacheRef,
} from '../../src/orchestrate/registry-cache.ts';
import { type RegistryInstance, startRegistry } from '../registry/registry-instance.ts';

let reg: RegistryInstance;
before(async () => {
  reg = await startRegistry();
});
after(async () => {
  await reg?.stop();
});

const quiet = { info: () => {}, warn: () => {} };
const key = (n: number) => sha256(`key ${n}`).slice(7);

/** fakeLayer is a gzip layer whose diffID is the digest of its uncompressed bytes (an import checks it). */
async function fakeLayer(store: ReturnType<typeof memoryStore>, n: number): Promise<Layer> {
  const raw = new TextEncoder().encode(`layer ${n}\n`);
  const b = await store.put(gzipSync(raw));
  return {
    blob: { mediaType: MediaType.OciLayerGzip, digest: b.digest, size: b.size },
    diffId: sha256(raw),
  };
}

test('parseCacheRef: docker:// optional, tag defaulted, digests and other transports refused', () => {
  assert.equal(parseCacheRef('127.0.0.1:5000/team/c', '--cache-to').tag, 'fromscratch-cache');
  assert.equal(parseCacheRef('docker://127.0.0.1:5000/team/c:main', '--cache-to').tag, 'main');
  assert.throws(() => parseCacheRef('oci:dir', '--cache-from'), { code: 'USAGE' });
  assert.throws(() => parseCacheRef(`127.0.0.1:5000/c@${sha256('x')}`, '--cache-from'), { code: 'USAGE' });
});

test('parseCacheConfig refuses malformed configs and keeps only entries whose blob the manifest lists', () => {
  const e = (n: number) => ({
    key: key(n),
    digest: sha256(`b${n}`),
    size: 3,
    mediaType: MediaType.OciLayerGzip,
    diffId: sha256(`d${n}`),
    used: '2026-01-01T00:00:00.000Z',
  });
  const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  const listed = new Set([`${e(1).digest}:3`]);
  assert.deepEqual(parseCacheConfig(bytes({ version: 2, entries: [e(1), e(2)] }), listed), {
    entries: [e(1)],
    results: [],
    blobs: [],
  });
  assert.throws(() => parseCacheConfig(bytes({ version: 1, entries: [] }), listed), /not version 2/);
  assert.throws(
    () => parseCacheConfig(bytes({ version: 2, entries: [{ ...e(1), size: -1 }] }), listed),
    /malformed/,
  );
  assert.throws(
    () => parseCacheConfig(bytes({ version: 2, entries: [{ ...e(1), mediaType: 'text/html' }] }), listed),
    /malformed/,
  );
  const used = '2026-01-01T00:00:00.000Z';
  // a result is inline or a listed blob, never both; package files must be listed
  assert.throws(
    () =>
      parseCacheConfig(
        bytes({
          version: 2,
          entries: [],
          results: [{ kind: 'md5', key: key(1), value: 'AA==', digest: e(1).digest, size: 3, used }],
        }),
        listed,
      ),
    /result is malformed/,
  );
  assert.throws(
    () =>
      parseCacheConfig(
        bytes({ version: 2, entries: [], blobs: [{ kind: 'rpm', digest: e(1).digest, size: 3, used }] }),
        listed,
      ),
    /package file entry is malformed/,
  );
  assert.deepEqual(
    parseCacheConfig(
      bytes({
        version: 2,
        entries: [],
        results: [{ kind: 'closure', key: key(2), digest: e(2).digest, size: 3, used }],
        blobs: [
          { kind: 'deb', digest: e(1).digest, size: 3, used },
          { kind: 'deb', digest: e(2).digest, size: 3, used },
        ],
      }),
      listed,
    ),
    { entries: [], results: [], blobs: [{ kind: 'deb', digest: e(1).digest, size: 3, used }] },
    'unlisted blobs are left out',
  );
  assert.throws(() => parseCacheConfig(new Uint8Array([0xff, 0xfe]), listed), /not JSON/);
});

test('results (inline and as blobs) and package files are exported, imported lazily and verified; a bad result blob is a warning and a miss', async () => {
  const to = `docker://${reg.address}/results:main`;
  const store = memoryStore();
  const big = new TextEncoder().encode('x'.repeat(4000));
  const deb = new TextEncoder().encode('!<arch>\nnot really a deb\n');
  const debInfo = await store.put(deb);
  let c = await openRegistryCache({ from: [], to, store, log: quiet });
  c.recordResult('md5', key(1), new TextEncoder().encode('0123456789abcdef0123456789abcdef'));
  c.recordResult('closure', key(2), async () => big);
  c.recordBlob('deb', debInfo.digest, debInfo.size, store);
  const out = await c.export();
  c.close();
  assert.equal(out?.results, 2);
  assert.equal(out?.blobs, 1);

  // a fresh machine: results come back; the .deb is downloaded (verified) only when read
  const fresh = memoryStore();
  const warnings: string[] = [];
  c = await openRegistryCache({
    from: [to],
    store: fresh,
    log: { info: () => {}, warn: (m) => warnings.push(m) },
  });
  assert.equal(new TextDecoder().decode(await c.result('md5', key(1))), '0123456789abcdef0123456789abcdef');
  assert.deepEqual(Buffer.from((await c.result('closure', key(2)))!), Buffer.from(big));
  assert.equal(await c.result('closure', key(3)), undefined);
  const debs = memoryStore();
  const ps = c.packageStore(debs);
  assert.equal(await debs.has(debInfo.digest), false);
  assert.equal(await ps.has(debInfo.digest, debInfo.size), true);
  assert.equal(await ps.has(debInfo.digest, debInfo.size + 1), false, 'the size is part of the identity');
  assert.equal(await debs.has(debInfo.digest), false, 'not downloaded by has()');
  assert.deepEqual(Buffer.from(await readBlob(ps, debInfo.digest, debInfo.size)), Buffer.from(deb));
  assert.equal(await debs.has(debInfo.digest, debInfo.size), true, 'downloaded into the package cache');
  c.close();
  assert.equal(warnings.length, 0, warnings.join('\n'));

  // the result blob replaced by other bytes under the same manifest: refused by digest, a warning, a miss
  const m = (await (
    await fetch(`http://${reg.address}/v2/results/manifests/main`, {
      headers: { accept: MediaType.OciManifest },
    })
  ).json()) as { layers: { digest: string; size: number; mediaType: string }[] };
  const resultLayer = m.layers.find((l) => l.size === big.byteLength)!;
  assert.ok(resultLayer, 'the large result is a blob of the manifest');
  const del = await fetch(`http://${reg.address}/v2/results/blobs/${resultLayer.digest}`, {
    method: 'DELETE',
  });
  assert.equal(del.status, 202);
  c = await openRegistryCache({
    from: [to],
    store: memoryStore(),
    log: { info: () => {}, warn: (m) => warnings.push(m) },
  });
  assert.equal(await c.result('closure', key(2)), undefined);
  assert.match(warnings.join('\n'), /which its repository does not hold: that closure result is built cold/);
  c.close();
});

test('exports merge with the previous one, drop entries older than 14 days and keep at most 512', async () => {
  const to = `docker://${reg.address}/bounds:main`;
  const t0 = Date.parse('2026-03-01T00:00:00Z');
  const store = memoryStore();
  // first export: layers 0..2
  let c = await openRegistryCache({ from: [], to, store, log: quiet, now: () => t0 });
  for (let i = 0; i < 3; i++) c.record(key(i), await fakeLayer(store, i));
  assert.equal((await c.export())?.entries, 3);
  c.close();
  // a day later another builder adds layer 3: merged
  c = await openRegistryCache({ from: [], to, store, log: quiet, now: () => t0 + 86400e3 });
  c.record(key(3), await fakeLayer(store, 3));
  assert.equal((await c.export())?.entries, 4);
  c.close();

  // a fresh machine imports: a hit has no bytes until read, then they are downloaded and verified
  const fresh = memoryStore();
  c = await openRegistryCache({ from: [to], store: fresh, log: quiet, now: () => t0 + 2 * 86400e3 });
  const hit = await c.lookup(key(1));
  assert.ok(hit);
  assert.equal(await fresh.has(hit.blob.digest), false, 'not downloaded by the lookup');
  assert.equal(await c.store.has(hit.blob.digest, hit.blob.size), true);
  assert.equal(
    new TextDecoder().decode(gunzipSync(await readBlob(c.store, hit.blob.digest, hit.blob.size))),
    'layer 1\n',
  );
  assert.equal(await fresh.has(hit.blob.digest), true);
  assert.equal(await c.lookup(key(99)), undefined);
  c.close();

  // 14 days after the first export: layers 0..2 are dropped, layer 3 (a day younger) stays
  c = await openRegistryCache({ from: [], to, store, log: quiet, now: () => t0 + MAX_AGE_MS + 3600e3 });
  assert.equal((await c.export())?.entries, 1);
  c.close();

  // more layers than the bound (512; 8 here, to keep the test light): the newest are kept
  assert.equal(MAX_ENTRIES, 512);
  c = await openRegistryCache({
    from: [],
    to,
    store,
    log: quiet,
    maxEntries: 8,
    now: () => t0 + MAX_AGE_MS + 7200e3,
  });
  for (let i = 100; i < 110; i++) c.record(key(i), await fakeLayer(store, i));
  assert.equal((await c.export())?.entries, 8);
  c.close();
});

test('an imported layer is checked against its diffID when downloaded: a mismatch drops the entry (a miss from then on), nothing is stored', async () => {
  const to = `docker://${reg.address}/diffid:main`;
  const store = memoryStore();
  let c = await openRegistryCache({ from: [], to, store, log: quiet });
  const good = await fakeLayer(store, 1);
  c.record(key(1), { ...good, diffId: sha256('not its tar') });
  assert.equal((await c.export())?.entries, 1);
  c.close();
  const fresh = memoryStore();
  c = await openRegistryCache({ from: [to], store: fresh, log: quiet });
  const hit = await c.lookup(key(1));
  assert.ok(hit, 'listed: a hit until its bytes are read');
  await assert.rejects(
    readBlob(c.store, hit.blob.digest, hit.blob.size),
    (e) => isFromscratchError(e, 'DIGEST_MISMATCH') && isCacheEntryRemoved(e) && /diff_id/.test(e.message),
  );
  assert.equal(await fresh.has(hit.blob.digest), false, 'nothing stored');
  assert.equal(await c.lookup(key(1)), undefined, 'a miss from then on');
  c.close();
});
