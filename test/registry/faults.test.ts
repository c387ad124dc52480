/**
 * faults.test.ts — RELIABILITY.md sections D and E through the fault-injecting proxy in front of the
 * real registry: push and pull complete, or fail cleanly with a typed error and nothing corrupt or
 * partial in the store. Backoff is kept short through options; no test asserts on time.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { dirStore } from '../../src/blob/dir-store.ts';
import { memoryStore } from '../../src/blob/memory-store.ts';
import { isFromscratchError } from '../../src/errors.ts';
import { canonicalJson } from '../../src/image/canonical-json.ts';
import { serializeImage } from '../../src/image/image.ts';
import { type Digest, sha256 } from '../../src/model/digest.ts';
import { MediaType } from '../../src/model/media-type.ts';
import { createRegistryClient, type RegistryClientOptions } from '../../src/registry/client.ts';
import { RegistryError } from '../../src/registry/errors.ts';
import { pullImage } from '../../src/registry/pull.ts';
import { pushImage } from '../../src/registry/push.ts';
import { fetchTags } from '../../src/registry/tags.ts';
import { type FaultProxy, type ProxyRule, startFaultProxy, startRecorder } from '../fakes/fault-proxy.ts';
import { REGISTRY, smallImage, uniqueRepo } from './fixtures.ts';

const FAST: RegistryClientOptions = {
  retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 5, retryAfterCapMs: 20 },
};

let proxy: FaultProxy;
let work: string;
/** an image pushed straight to the registry, pulled through the proxy by the tests */
let repo: string;
let manifestDigest: Digest;
let layerDigest: Digest;
let layerBytes: Uint8Array;

before(async () => {
  proxy = await startFaultProxy(REGISTRY);
  work = mkdtempSync(join(tmpdir(), 'registry-faults-'));
  const store = memoryStore();
  const img = await smallImage(store);
  repo = uniqueRepo('faults');
  manifestDigest = (await pushImage(`${REGISTRY}/${repo}:v1`, [img], store)).digest;
  layerDigest = img.layers[0]!.blob.digest;
  layerBytes = store.blobs.get(layerDigest)!;
});
after(async () => {
  await proxy.close();
  rmSync(work, { recursive: true, force: true });
});

/** withRule runs fn with a proxy rule in force and the request log cleared. */
async function withRule<T>(rule: ProxyRule | undefined, fn: () => Promise<T>): Promise<T> {
  proxy.rule = rule;
  proxy.reset();
  try {
    return await fn();
  } finally {
    proxy.rule = undefined;
  }
}

/** oneShot applies a rule's fault only the first time it matches. */
function oneShot(rule: ProxyRule): ProxyRule {
  let fired = false;
  return (r, n) => {
    if (fired) return undefined;
    const f = rule(r, n);
    if (f) fired = true;
    return f;
  };
}

const isBlobGet = (r: { method: string; url: string }) =>
  r.method === 'GET' && r.url.includes(`/blobs/${layerDigest}`);
const isManifestGet = (r: { method: string; url: string }) =>
  r.method === 'GET' && r.url.includes('/manifests/');

/** freshDir returns an empty dirStore and a check that it holds no temp files and only verified blobs. */
function freshDir() {
  const dir = mkdtempSync(join(work, 'store-'));
  const store = dirStore(join(dir, 'blobs'), { fsync: false });
  const files = () => {
    try {
      return readdirSync(join(dir, 'blobs', 'sha256'));
    } catch {
      return [];
    }
  };
  return {
    store,
    files,
    noTemp: () =>
      assert.deepEqual(
        files().filter((f) => f.startsWith('.tmp')),
        [],
      ),
  };
}

test('E1: 429 with Retry-After in seconds, then success', async () => {
  await withRule(
    (r, n) =>
      isManifestGet(r) && n <= 2
        ? { kind: 'status', status: 429, headers: { 'retry-after': '1' } }
        : undefined,
    async () => {
      const p = await pullImage(`${proxy.address}/${repo}:v1`, memoryStore(), { clientOptions: FAST });
      assert.equal(p.manifestDigest, manifestDigest);
      assert.equal(proxy.seen.filter(isManifestGet).length, 3);
    },
  );
});

test('E1: 429 with an HTTP-date Retry-After, then success', async () => {
  const date = new Date(Date.now() + 2000).toUTCString();
  await withRule(
    (r, n) =>
      isBlobGet(r) && n === 1 ? { kind: 'status', status: 429, headers: { 'retry-after': date } } : undefined,
    async () => {
      const p = await pullImage(`${proxy.address}/${repo}:v1`, memoryStore(), { clientOptions: FAST });
      assert.equal(p.manifestDigest, manifestDigest);
    },
  );
});

test('E1: 429 forever → bounded attempts, then a temporary RegistryError', async () => {
  await withRule(
    (r) =>
      isManifestGet(r)
        ? {
            kind: 'status',
            status: 429,
            body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}',
          }
        : undefined,
    async () => {
      await assert.rejects(
        pullImage(`${proxy.address}/${repo}:v1`, memoryStore(), { clientOptions: FAST }),
        (e) => {
          assert.ok(e instanceof RegistryError, String(e));
          assert.equal(e.status, 429);
          assert.equal(e.temporary, true);
          assert.equal(e.code, 'REGISTRY_ERROR');
          assert.ok(e.hasCode('TOOMANYREQUESTS'));
          assert.match(e.message, /TOOMANYREQUESTS: slow down/);
          return true;
        },
      );
      assert.equal(proxy.seen.filter(isManifestGet).length, 4);
    },
  );
});

test('E2: 500/502/503/504 flapping on GET and PUT, then success; push and pull complete', async () => {
  const flaps = [500, 502, 503, 504];
  // every other request of each kind fails (upload sessions have fresh URLs, so count per kind)
  const kinds = new Map<string, number>();
  const rule: ProxyRule = (r) => {
    const kind = `${r.method} ${r.url.includes('/manifests/') ? 'manifest' : r.url.includes('/uploads/') ? 'upload' : 'blob'}`;
    const n = (kinds.get(kind) ?? 0) + 1;
    kinds.set(kind, n);
    return r.method !== 'POST' && n % 2 === 1 ? { kind: 'status', status: flaps[n % 4]! } : undefined;
  };
  await withRule(rule, async () => {
    const store = memoryStore();
    const img = await smallImage(store);
    const ref = `${proxy.address}/${uniqueRepo('flap')}:v1`;
    const pushed = await pushImage(ref, [img], store, { clientOptions: FAST });
    const pulled = await pullImage(ref, memoryStore(), { clientOptions: FAST });
    assert.equal(pulled.manifestDigest, pushed.digest);
  });
});

test('E2: a failing POST to start an upload is retried (restartable); PATCH is never blindly resent', async () => {
  const store = memoryStore();
  const img = await smallImage(store, { files: { big: { data: randomBytes(200 * 1024) } } });
  const ref = `${proxy.address}/${uniqueRepo('patch')}:v1`;
  const rule: ProxyRule = (r, n) => {
    if (r.method === 'POST' && n === 1) return { kind: 'status', status: 503 };
    if (r.method === 'PATCH' && n === 2) return { kind: 'status', status: 500 };
    return undefined;
  };
  await withRule(rule, async () => {
    const pushed = await pushImage(ref, [img], store, {
      clientOptions: FAST,
      chunkSize: 64 * 1024,
      concurrency: 1,
    });
    // after the failed PATCH the client asked the upload status before continuing
    const afterFail = proxy.seen.findIndex(
      (r, i) => r.method === 'PATCH' && proxy.seen.slice(0, i).some((p) => p.method === 'PATCH'),
    );
    assert.ok(
      proxy.seen.slice(afterFail).some((r) => r.method === 'GET' && r.url.includes('/blobs/uploads/')),
    );
    const pulled = await pullImage(`${REGISTRY}/${ref.slice(proxy.address.length + 1)}`, memoryStore());
    assert.equal(pulled.manifestDigest, pushed.digest);
  });
});

test('E3: connection reset mid-blob → resumed with Range, 206 with exact Content-Range, digest verified', async () => {
  await withRule(
    (r, n) => (isBlobGet(r) && n === 1 ? { kind: 'reset', bytes: 1000 } : undefined),
    async () => {
      const s = freshDir();
      const p = await pullImage(`${proxy.address}/${repo}:v1`, s.store, { clientOptions: FAST });
      assert.equal(p.manifestDigest, manifestDigest);
      const ranges = proxy.seen.filter(isBlobGet).map((r) => r.range);
      assert.deepEqual(ranges, [undefined, 'bytes=1000-']);
      assert.ok(await s.store.has(layerDigest, layerBytes.byteLength));
      s.noTemp();
    },
  );
});

test('E3: a resume answered with the wrong Content-Range restarts the download from 0', async () => {
  const rule: ProxyRule = (r, n) => {
    if (!isBlobGet(r)) return undefined;
    if (n === 1) return { kind: 'reset', bytes: 500 };
    if (n === 2)
      return {
        kind: 'status',
        status: 206,
        headers: { 'content-range': `bytes 0-10/${layerBytes.byteLength}` },
        body: Buffer.from(layerBytes.subarray(0, 11)),
      };
    return undefined;
  };
  await withRule(rule, async () => {
    const s = freshDir();
    const p = await pullImage(`${proxy.address}/${repo}:v1`, s.store, { clientOptions: FAST });
    assert.equal(p.manifestDigest, manifestDigest);
    assert.deepEqual(
      proxy.seen.filter(isBlobGet).map((r) => r.range),
      [undefined, 'bytes=500-', undefined],
    );
    s.noTemp();
  });
});

test('E3: resets on every attempt → NETWORK_ERROR after bounded attempts, nothing stored', async () => {
  await withRule(
    (r) => (isBlobGet(r) ? { kind: 'reset', bytes: 100 } : undefined),
    async () => {
      const s = freshDir();
      await assert.rejects(pullImage(`${proxy.address}/${repo}:v1`, s.store, { clientOptions: FAST }), (e) =>
        isFromscratchError(e, 'NETWORK_ERROR'),
      );
      assert.equal(await s.store.has(layerDigest), false);
      assert.equal(await s.store.has(manifestDigest), false);
      s.noTemp();
    },
  );
});

test('wrong bytes in a blob → DIGEST_MISMATCH, nothing stored (B3, C1)', async () => {
  await withRule(
    (r) => (isBlobGet(r) ? { kind: 'corrupt' } : undefined),
    async () => {
      const s = freshDir();
      await assert.rejects(
        pullImage(`${proxy.address}/${repo}:v1`, s.store, { clientOptions: FAST }),
        (e) => {
          assert.ok(isFromscratchError(e, 'DIGEST_MISMATCH'), String(e));
          assert.ok(e.message.includes(layerDigest));
          return true;
        },
      );
      assert.equal(await s.store.has(layerDigest), false);
      assert.equal(await s.store.has(manifestDigest), false);
      s.noTemp();
    },
  );
});

test('wrong bytes in a manifest pulled by digest → DIGEST_MISMATCH (RELIABILITY §1.2)', async () => {
  await withRule(
    (r) => (isManifestGet(r) ? { kind: 'corrupt' } : undefined),
    async () => {
      await assert.rejects(
        pullImage(`${proxy.address}/${repo}@${manifestDigest}`, memoryStore(), { clientOptions: FAST }),
        (e) => isFromscratchError(e, 'DIGEST_MISMATCH'),
      );
    },
  );
});

test('E5: a wrong Docker-Content-Digest is an error; a stripped one is fine', async () => {
  await withRule(
    (r) =>
      isManifestGet(r)
        ? { kind: 'headers', headers: { 'docker-content-digest': sha256('other') } }
        : undefined,
    async () => {
      await assert.rejects(
        pullImage(`${proxy.address}/${repo}:v1`, memoryStore(), { clientOptions: FAST }),
        (e) => isFromscratchError(e, 'DIGEST_MISMATCH') && /Docker-Content-Digest/.test(e.message),
      );
    },
  );
  await withRule(
    (r) =>
      isManifestGet(r) ? { kind: 'headers', headers: { 'docker-content-digest': undefined } } : undefined,
    async () => {
      const p = await pullImage(`${proxy.address}/${repo}:v1`, memoryStore(), { clientOptions: FAST });
      assert.equal(p.manifestDigest, manifestDigest);
    },
  );
  // on push: the registry's answer to the manifest PUT must name our digest
  await withRule(
    (r) =>
      r.method === 'PUT' && r.url.includes('/manifests/')
        ? { kind: 'headers', headers: { 'docker-content-digest': sha256('other') } }
        : undefined,
    async () => {
      const store = memoryStore();
      const img = await smallImage(store);
      await assert.rejects(
        pushImage(`${proxy.address}/${uniqueRepo('e5')}:v1`, [img], store, { clientOptions: FAST }),
        (e) => isFromscratchError(e, 'DIGEST_MISMATCH'),
      );
    },
  );
});

test('E6: chunked push answered 416 → the client asks the upload status and resumes', async () => {
  const store = memoryStore();
  const img = await smallImage(store, { files: { big: { data: randomBytes(300 * 1024) } } });
  const ref = `${proxy.address}/${uniqueRepo('e6')}:v1`;
  await withRule(
    (r, n) => (r.method === 'PATCH' && n === 2 ? { kind: 'status', status: 416 } : undefined),
    async () => {
      const pushed = await pushImage(ref, [img], store, {
        clientOptions: FAST,
        chunkSize: 64 * 1024,
        concurrency: 1,
      });
      assert.ok(proxy.seen.some((r) => r.method === 'GET' && r.url.includes('/blobs/uploads/')));
      const pulled = await pullImage(ref, memoryStore(), { clientOptions: FAST });
      assert.deepEqual(pulled.image.layers, img.layers);
      assert.equal(pulled.manifestDigest, pushed.digest);
    },
  );
});

test('E7: upload session gone (404 BLOB_UPLOAD_INVALID) → the upload restarts once and completes', async () => {
  const store = memoryStore();
  const img = await smallImage(store, { files: { big: { data: randomBytes(300 * 1024) } } });
  const ref = `${proxy.address}/${uniqueRepo('e7')}:v1`;
  const invalid = {
    kind: 'status' as const,
    status: 404,
    headers: { 'content-type': 'application/json' },
    body: '{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"blob upload invalid"}]}',
  };
  await withRule(
    oneShot((r, n) => (r.method === 'PATCH' && n === 2 ? invalid : undefined)),
    async () => {
      await pushImage(ref, [img], store, { clientOptions: FAST, chunkSize: 64 * 1024, concurrency: 1 });
      assert.ok(proxy.seen.filter((r) => r.method === 'POST').length >= 3); // layer twice, config once
    },
  );
  // monolithic: the final PUT finds the session unknown
  const ref2 = `${proxy.address}/${uniqueRepo('e7m')}:v1`;
  const unknown = {
    ...invalid,
    body: '{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN","message":"blob upload unknown"}]}',
  };
  await withRule(
    oneShot((r) => (r.method === 'PUT' && r.url.includes('/blobs/uploads/') ? unknown : undefined)),
    async () => {
      const pushed = await pushImage(ref2, [img], store, { clientOptions: FAST, concurrency: 1 });
      const pulled = await pullImage(ref2, memoryStore(), { clientOptions: FAST });
      assert.equal(pulled.manifestDigest, pushed.digest);
    },
  );
});

test('E6: DIGEST_INVALID from the registry fails the push with DIGEST_MISMATCH', async () => {
  const store = memoryStore();
  const img = await smallImage(store);
  await withRule(
    (r) =>
      r.method === 'PUT' && r.url.includes('/blobs/uploads/')
        ? {
            kind: 'status',
            status: 400,
            body: '{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"}]}',
          }
        : undefined,
    async () => {
      await assert.rejects(
        pushImage(`${proxy.address}/${uniqueRepo('digest-invalid')}:v1`, [img], store, {
          clientOptions: FAST,
        }),
        (e) => isFromscratchError(e, 'DIGEST_MISMATCH') && /DIGEST_INVALID/.test(e.message),
      );
    },
  );
});

test('E8: small blobs go up with POST ?digest=; the 202 of registry 2.8 is followed by a PUT', async () => {
  const store = memoryStore();
  const img = await smallImage(store);
  await withRule(undefined, async () => {
    await pushImage(`${proxy.address}/${uniqueRepo('e8')}:v1`, [img], store, { clientOptions: FAST });
    const i = proxy.seen.findIndex((r) => r.method === 'POST' && r.url.includes('?digest='));
    assert.ok(i >= 0);
    assert.ok(proxy.seen.slice(i + 1).some((r) => r.method === 'PUT' && r.url.includes('/blobs/uploads/')));
  });
});

test('E10/D6: a blob GET redirected to another origin is followed without the Authorization header', async () => {
  const bearer = await startFaultProxy(REGISTRY, { username: 'u', password: 'pw-secret-1' });
  const elsewhere = await startRecorder(layerBytes);
  try {
    bearer.rule = (r) =>
      isBlobGet(r)
        ? { kind: 'redirect', status: 307, location: `http://${elsewhere.address}/storage/blob` }
        : undefined;
    const opts = { ...FAST, credential: { username: 'u', password: 'pw-secret-1' } };
    const p = await pullImage(`${bearer.address}/${repo}:v1`, memoryStore(), { clientOptions: opts });
    assert.equal(p.manifestDigest, manifestDigest);
    assert.equal(elsewhere.seen.length, 1);
    assert.equal(elsewhere.seen[0]!.authorization, undefined);
    // the registry itself did get the token
    assert.ok(bearer.seen.some((r) => r.authorization?.startsWith('Bearer ')));
  } finally {
    await bearer.close();
    await elsewhere.close();
  }
});

test('D6: descriptor urls are never fetched (the blob comes from the registry)', async () => {
  const elsewhere = await startRecorder(Buffer.from('attacker'));
  try {
    // registry 2.8 refuses to store manifests with urls, so the proxy serves one
    const store = memoryStore();
    const img = await smallImage(store);
    const pushedRepoImg = {
      ...img,
      layers: [
        { ...img.layers[0]!, blob: { ...img.layers[0]!.blob, urls: [`http://${elsewhere.address}/layer`] } },
      ],
    };
    await pushImage(`${REGISTRY}/${repo}:urls-base`, [img], store);
    const ser = serializeImage(pushedRepoImg);
    await withRule(serve(new Map([['urls', [MediaType.OciManifest, ser.manifest]]])), async () => {
      const p = await pullImage(`${proxy.address}/${repo}:urls`, memoryStore(), { clientOptions: FAST });
      assert.deepEqual(p.image.layers[0]!.blob.urls, [`http://${elsewhere.address}/layer`]);
    });
    assert.equal(elsewhere.seen.length, 0);
  } finally {
    await elsewhere.close();
  }
});

test('E11: a manifest over the 8 MiB cap → TOO_LARGE; an endless trickle → TIMEOUT; nothing stored', async () => {
  const huge = Buffer.alloc(9 * 1024 * 1024, 0x20);
  await withRule(
    (r) =>
      isManifestGet(r)
        ? { kind: 'body', body: huge, headers: { 'content-type': MediaType.OciManifest } }
        : undefined,
    async () => {
      await assert.rejects(
        pullImage(`${proxy.address}/${repo}:v1`, memoryStore(), { clientOptions: FAST }),
        (e) => isFromscratchError(e, 'TOO_LARGE'),
      );
    },
  );
  // no Content-Length: the cap applies while reading
  await withRule(
    (r) =>
      isManifestGet(r)
        ? {
            kind: 'trickle',
            bytesPerTick: 1 << 20,
            tickMs: 1,
            headers: { 'content-type': MediaType.OciManifest },
          }
        : undefined,
    async () => {
      await assert.rejects(
        pullImage(`${proxy.address}/${repo}:v1`, memoryStore(), { clientOptions: FAST }),
        (e) => isFromscratchError(e, 'TOO_LARGE'),
      );
    },
  );
  await withRule(
    (r) => (isBlobGet(r) ? { kind: 'trickle', bytesPerTick: 1, tickMs: 50 } : undefined),
    async () => {
      const s = freshDir();
      const opts = {
        ...FAST,
        retry: { attempts: 2, baseDelayMs: 1 },
        timeouts: { blobBaseMs: 300, idleMs: 1000 },
      };
      await assert.rejects(pullImage(`${proxy.address}/${repo}:v1`, s.store, { clientOptions: opts }), (e) =>
        isFromscratchError(e, 'TIMEOUT'),
      );
      assert.equal(await s.store.has(layerDigest), false);
      s.noTemp();
    },
  );
});

test('E11: a silent registry fails with TIMEOUT within one time budget for all retries, not per attempt', async () => {
  const held: import('node:http').ServerResponse[] = [];
  await withRule(
    // accept the request, never answer: each attempt can only end by the client's own time limit
    (r) => (isManifestGet(r) ? { kind: 'custom', handle: (_req, res) => void held.push(res) } : undefined),
    async () => {
      const opts: RegistryClientOptions = {
        retry: { attempts: 6, baseDelayMs: 1, maxDelayMs: 5 },
        timeouts: { requestMs: 1500, idleMs: 1000 },
      };
      await assert.rejects(
        pullImage(`${proxy.address}/${repo}:v1`, memoryStore(), { clientOptions: opts }),
        (e) => isFromscratchError(e, 'TIMEOUT') && /no answer within/.test(e.message),
      );
      const asked = proxy.seen.filter((r) => isManifestGet(r)).length;
      // 6 attempts of 1 s idle each would be allowed per attempt; the 1.5 s budget leaves room for 2
      assert.ok(asked >= 1 && asked <= 2, `the budget bounds the attempts: ${asked}`);
    },
  );
  for (const res of held) res.destroy();
});

/** serve answers manifest GETs from a map of path suffix → [content-type, body]. */
function serve(docs: Map<string, [string, Uint8Array]>): ProxyRule {
  return (r) => {
    if (!isManifestGet(r)) return undefined;
    const key = r.url.slice(r.url.lastIndexOf('/') + 1);
    const d = docs.get(key);
    return d ? { kind: 'body', body: d[1], headers: { 'content-type': d[0] } } : undefined;
  };
}

test('D1: a manifest that is also an index → AMBIGUOUS_MANIFEST', async () => {
  const store = memoryStore();
  const ser = serializeImage(await smallImage(store));
  const doc = { ...JSON.parse(Buffer.from(ser.manifest).toString()), manifests: [] };
  await withRule(serve(new Map([['amb', [MediaType.OciManifest, canonicalJson(doc)]]])), async () => {
    await assert.rejects(
      pullImage(`${proxy.address}/${repo}:amb`, memoryStore(), { clientOptions: FAST }),
      (e) => isFromscratchError(e, 'AMBIGUOUS_MANIFEST'),
    );
  });
});

test('D2: Content-Type contradicting the document mediaType → AMBIGUOUS_MANIFEST', async () => {
  const store = memoryStore();
  const ser = serializeImage(await smallImage(store));
  await withRule(serve(new Map([['ct', [MediaType.OciIndex, ser.manifest]]])), async () => {
    await assert.rejects(
      pullImage(`${proxy.address}/${repo}:ct`, memoryStore(), { clientOptions: FAST }),
      (e) => isFromscratchError(e, 'AMBIGUOUS_MANIFEST'),
    );
  });
});

test('D5: duplicate JSON keys in a manifest → INVALID_IMAGE', async () => {
  const store = memoryStore();
  const ser = serializeImage(await smallImage(store));
  const text = Buffer.from(ser.manifest)
    .toString()
    .replace('"schemaVersion":2', '"schemaVersion":2,"schemaVersion":2');
  await withRule(serve(new Map([['dup', [MediaType.OciManifest, Buffer.from(text)]]])), async () => {
    await assert.rejects(
      pullImage(`${proxy.address}/${repo}:dup`, memoryStore(), { clientOptions: FAST }),
      (e) => isFromscratchError(e, 'INVALID_IMAGE') && /duplicate key/.test(e.message),
    );
  });
});

test('D8: an index with thousands of entries, or nested too deep → TOO_LARGE', async () => {
  const entry = {
    mediaType: MediaType.OciManifest,
    digest: manifestDigest,
    size: 500,
    platform: { os: 'linux', architecture: 'amd64' },
  };
  const wide = canonicalJson({
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: Array.from({ length: 2000 }, () => entry),
  });
  // a chain of indexes, each pointing at the next
  const docs = new Map<string, [string, Uint8Array]>([['wide', [MediaType.OciIndex, wide]]]);
  let next = canonicalJson({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [entry] });
  for (let i = 0; i < 8; i++) {
    const d = sha256(next);
    docs.set(d, [MediaType.OciIndex, next]);
    next = canonicalJson({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [{ mediaType: MediaType.OciIndex, digest: d, size: next.byteLength }],
    });
  }
  docs.set('deep', [MediaType.OciIndex, next]);
  await withRule(serve(docs), async () => {
    await assert.rejects(
      pullImage(`${proxy.address}/${repo}:wide`, memoryStore(), { clientOptions: FAST }),
      (e) => isFromscratchError(e, 'TOO_LARGE') && /2000 manifests/.test(e.message),
    );
    await assert.rejects(
      pullImage(`${proxy.address}/${repo}:deep`, memoryStore(), { clientOptions: FAST }),
      (e) => isFromscratchError(e, 'TOO_LARGE') && /deeper/.test(e.message),
    );
  });
});

test('E10: insufficient_scope → one new token with the union of scopes, then success', async () => {
  const bearer = await startFaultProxy(REGISTRY, { username: 'u', password: 'pw-secret-2' });
  const client = createRegistryClient(bearer.address, {
    ...FAST,
    credential: { username: 'u', password: 'pw-secret-2' },
  });
  try {
    // ask with no scope at all: the proxy answers insufficient_scope naming the one it needs
    const res = await client.request({
      method: 'GET',
      url: `/v2/${repo}/manifests/v1`,
      scopes: [],
      headers: { accept: MediaType.OciManifest },
      doing: 'test',
    });
    assert.equal(res.status, 200);
    res.discard();
    assert.ok(bearer.tokenRequests.some((s) => s.includes(`repository:${repo}:pull`)));
  } finally {
    client.close();
    await bearer.close();
  }
});

test('E12: tag pagination follows Link within bounds; a Link loop or endless pages fail cleanly', async () => {
  const store = memoryStore();
  const img = await smallImage(store);
  const tagRepo = uniqueRepo('tags');
  for (const t of ['a', 'b', 'c']) await pushImage(`${REGISTRY}/${tagRepo}:${t}`, [img], store);
  const client = createRegistryClient(proxy.address, FAST);
  try {
    assert.deepEqual((await fetchTags(client, tagRepo)).sort(), ['a', 'b', 'c']);
    // registry 2.8 does not paginate tag lists: the proxy adds one Link on the first page
    await withRule(
      oneShot((r) =>
        r.url.includes('/tags/list')
          ? { kind: 'headers', headers: { link: `</v2/${tagRepo}/tags/list?n=1000&last=zz>; rel="next"` } }
          : undefined,
      ),
      async () => {
        assert.equal((await fetchTags(client, tagRepo)).length, 6);
        assert.equal(proxy.seen.filter((r) => r.url.includes('/tags/list')).length, 2);
      },
    );
    const loop = `</v2/${tagRepo}/tags/list?n=1&last=a>; rel="next"`;
    await withRule(
      (r) => (r.url.includes('/tags/list') ? { kind: 'headers', headers: { link: loop } } : undefined),
      async () => {
        await assert.rejects(
          fetchTags(client, tagRepo, { pageSize: 1 }),
          (e) => isFromscratchError(e, 'REGISTRY_ERROR') && /loops/.test(e.message),
        );
      },
    );
    let page = 0;
    await withRule(
      (r) =>
        r.url.includes('/tags/list')
          ? {
              kind: 'headers',
              headers: { link: `</v2/${tagRepo}/tags/list?n=1&last=x${page++}>; rel="next"` },
            }
          : undefined,
      async () => {
        await assert.rejects(fetchTags(client, tagRepo, { pageSize: 1, maxPages: 5 }), (e) =>
          isFromscratchError(e, 'TOO_LARGE'),
        );
      },
    );
    await withRule(
      (r) =>
        r.url.includes('/tags/list')
          ? { kind: 'headers', headers: { link: '<http://169.254.169.254/v2/x/tags/list>; rel="next"' } }
          : undefined,
      async () => {
        await assert.rejects(
          fetchTags(client, tagRepo),
          (e) => isFromscratchError(e, 'REGISTRY_ERROR') && /another origin/.test(e.message),
        );
      },
    );
  } finally {
    client.close();
  }
});
