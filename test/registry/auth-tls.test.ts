/**
 * auth-tls.test.ts — authentication and TLS against real docker-registry instances started here:
 * htpasswd (basic) with credentials from a docker config.json, TLS with a CA made by openssl, and
 * bearer tokens (scopes, insufficient_scope, expiry) through the fault proxy's token service in front
 * of the shared registry. Wrong or missing credentials must say which registry and where the
 * credentials came from, and never show the secret.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { memoryStore } from '../../src/blob/memory-store.ts';
import { isFromscratchError } from '../../src/errors.ts';
import type { RegistryClientOptions } from '../../src/registry/client.ts';
import { pullImage } from '../../src/registry/pull.ts';
import { pushImage } from '../../src/registry/push.ts';
import { type FaultProxy, startFaultProxy } from '../fakes/fault-proxy.ts';
import { REGISTRY, requireTool, smallImage, uniqueRepo } from './fixtures.ts';
import { makeTestCa, type RegistryInstance, startRegistry, type TestCa } from './registry-instance.ts';

const PASSWORD = 'correct-horse-battery';
let work: string;
let basicReg: RegistryInstance;
let tlsReg: RegistryInstance;
let ca: TestCa;
let proxy: FaultProxy;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'registry-auth-tls-'));
  mkdirSync(join(work, 'ca'));
  ca = makeTestCa(join(work, 'ca'));
  [basicReg, tlsReg, proxy] = await Promise.all([
    startRegistry({ users: { alice: PASSWORD } }),
    startRegistry({ users: { alice: PASSWORD }, tls: ca }),
    startFaultProxy(REGISTRY, { username: 'bob', password: 'bob-pw-123' }),
  ]);
});
after(async () => {
  await Promise.all([basicReg?.stop(), tlsReg?.stop(), proxy?.close()]);
  rmSync(work, { recursive: true, force: true });
});

/** dockerConfig writes a docker config.json with one auths entry and returns client options using only it. */
function dockerConfig(
  name: string,
  registry: string,
  user: string,
  password: string,
): { opts: RegistryClientOptions; file: string } {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'config.json');
  writeFileSync(
    file,
    JSON.stringify({
      auths: { [registry]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } },
    }),
  );
  return { file, opts: { credentials: { env: { HOME: dir, DOCKER_CONFIG: dir } } } };
}

test('htpasswd registry: credentials from docker config.json push and pull; skopeo reads it with the same file', async () => {
  const store = memoryStore();
  const img = await smallImage(store);
  const { opts, file } = dockerConfig('good', basicReg.address, 'alice', PASSWORD);
  const ref = `${basicReg.address}/${uniqueRepo('basic')}:v1`;
  const pushed = await pushImage(ref, [img], store, { clientOptions: opts });
  const pulled = await pullImage(ref, memoryStore(), { clientOptions: opts });
  assert.equal(pulled.manifestDigest, pushed.digest);
  requireTool('skopeo', 'skopeo');
  const info = JSON.parse(
    execFileSync('skopeo', ['inspect', '--tls-verify=false', '--authfile', file, `docker://${ref}`], {
      encoding: 'utf8',
    }),
  ) as { Digest: string };
  assert.equal(info.Digest, pushed.digest);
});

test('htpasswd registry: wrong password → REGISTRY_UNAUTHORIZED naming the registry and the config file, no secret shown', async () => {
  const store = memoryStore();
  const img = await smallImage(store);
  const { opts, file } = dockerConfig('bad', basicReg.address, 'alice', 'wrong-password-42');
  await assert.rejects(
    pushImage(`${basicReg.address}/${uniqueRepo('basic')}:v1`, [img], store, { clientOptions: opts }),
    (e) => {
      assert.ok(isFromscratchError(e, 'REGISTRY_UNAUTHORIZED'), String(e));
      const text = `${e.message}\n${e.hint}`;
      assert.match(text, new RegExp(basicReg.address.replace(/\./g, '\\.')));
      assert.ok(text.includes(file), text);
      assert.match(text, /user "alice"/);
      assert.doesNotMatch(text, /wrong-password-42/);
      assert.doesNotMatch(text, new RegExp(Buffer.from('alice:wrong-password-42').toString('base64')));
      return true;
    },
  );
});

test('htpasswd registry: no credentials anywhere → REGISTRY_UNAUTHORIZED saying where it looked', async () => {
  const dir = join(work, 'empty');
  mkdirSync(dir, { recursive: true });
  await assert.rejects(
    pullImage(`${basicReg.address}/${uniqueRepo('basic')}:v1`, memoryStore(), {
      clientOptions: { credentials: { env: { HOME: dir, DOCKER_CONFIG: dir } } },
    }),
    (e) => {
      assert.ok(isFromscratchError(e, 'REGISTRY_UNAUTHORIZED'), String(e));
      assert.match(e.hint ?? '', /none were found/);
      assert.ok((e.hint ?? '').includes(join(dir, 'config.json')));
      return true;
    },
  );
});

test('TLS registry with a local CA: --cert-dir with ca.crt works; skopeo agrees with the same cert dir', async () => {
  const certDir = join(work, 'certs');
  mkdirSync(certDir, { recursive: true });
  writeFileSync(join(certDir, 'ca.crt'), execFileSync('cat', [ca.caCert]));
  const store = memoryStore();
  const img = await smallImage(store);
  const { opts, file } = dockerConfig('tls', tlsReg.address, 'alice', PASSWORD);
  const clientOptions = { ...opts, certDir };
  const ref = `${tlsReg.address}/${uniqueRepo('tls')}:v1`;
  const pushed = await pushImage(ref, [img], store, { clientOptions });
  const pulled = await pullImage(ref, memoryStore(), { clientOptions });
  assert.equal(pulled.manifestDigest, pushed.digest);
  const info = JSON.parse(
    execFileSync('skopeo', ['inspect', '--cert-dir', certDir, '--authfile', file, `docker://${ref}`], {
      encoding: 'utf8',
    }),
  ) as { Digest: string };
  assert.equal(info.Digest, pushed.digest);
});

test('TLS registry whose CA is not trusted → NETWORK_ERROR with a --cert-dir hint', async () => {
  const other = join(work, 'other-ca');
  mkdirSync(other, { recursive: true });
  const otherCa = makeTestCa(other);
  const certDir = join(work, 'wrong-certs');
  mkdirSync(certDir, { recursive: true });
  writeFileSync(join(certDir, 'ca.crt'), execFileSync('cat', [otherCa.caCert]));
  await assert.rejects(
    pullImage(`${tlsReg.address}/${uniqueRepo('tls')}:v1`, memoryStore(), {
      clientOptions: { certDir, retry: { attempts: 2, baseDelayMs: 1 } },
    }),
    (e) => {
      assert.ok(isFromscratchError(e, 'NETWORK_ERROR'), String(e));
      assert.match(e.message, /TLS/);
      assert.match(e.hint ?? '', /--cert-dir/);
      return true;
    },
  );
});

test('bearer tokens: scoped per repository, a mount asks for the source repo pull scope too, push and pull succeed', async () => {
  const store = memoryStore();
  const img = await smallImage(store);
  const { opts } = dockerConfig('bearer', proxy.address, 'bob', 'bob-pw-123');
  const src = uniqueRepo('bearer-src');
  const dst = uniqueRepo('bearer-dst');
  await pushImage(`${proxy.address}/${src}:v1`, [img], store, { clientOptions: opts });
  proxy.tokenRequests.length = 0;
  const pushed = await pushImage(`${proxy.address}/${dst}:v1`, [img], store, {
    clientOptions: opts,
    mountFrom: () => src,
  });
  assert.deepEqual(pushed.blobs, { exists: 0, mounted: 2, uploaded: 0 });
  assert.ok(
    proxy.tokenRequests.some(
      (s) => s.includes(`repository:${src}:pull`) && s.includes(`repository:${dst}:pull,push`),
    ),
    JSON.stringify(proxy.tokenRequests),
  );
  const pulled = await pullImage(`${proxy.address}/${dst}:v1`, memoryStore(), { clientOptions: opts });
  assert.equal(pulled.manifestDigest, pushed.digest);
  // tokens went only to the proxy's own origin, never in a URL
  assert.ok(proxy.seen.every((r) => !/token=|password/.test(r.url.split('?')[1] ?? '')));
});

test('bearer tokens: an expired token mid-push is renewed once and the push completes (E10)', async () => {
  const expiring = await startFaultProxy(REGISTRY, {
    username: 'bob',
    password: 'bob-pw-123',
    usesPerToken: 2,
  });
  try {
    const store = memoryStore();
    const img = await smallImage(store);
    const { opts } = dockerConfig('expiry', expiring.address, 'bob', 'bob-pw-123');
    const ref = `${expiring.address}/${uniqueRepo('expiry')}:v1`;
    const pushed = await pushImage(ref, [img], store, { clientOptions: opts, concurrency: 1 });
    assert.ok(expiring.tokenRequests.length >= 3, `tokens fetched: ${expiring.tokenRequests.length}`);
    const pulled = await pullImage(ref, memoryStore(), { clientOptions: opts });
    assert.equal(pulled.manifestDigest, pushed.digest);
  } finally {
    await expiring.close();
  }
});

test('bearer tokens: wrong password at the token service → REGISTRY_UNAUTHORIZED naming the source, no secret', async () => {
  const { opts, file } = dockerConfig('bearer-bad', proxy.address, 'bob', 'not-the-password');
  await assert.rejects(
    pullImage(`${proxy.address}/${uniqueRepo('bearer')}:v1`, memoryStore(), { clientOptions: opts }),
    (e) => {
      assert.ok(isFromscratchError(e, 'REGISTRY_UNAUTHORIZED'), String(e));
      const text = `${e.message}\n${e.hint}`;
      assert.ok(text.includes(file));
      assert.doesNotMatch(text, /not-the-password/);
      return true;
    },
  );
});

test('bearer tokens: an identity token (docker login with OAuth) is exchanged with the refresh_token grant', async () => {
  const oauth = await startFaultProxy(REGISTRY, {
    username: 'x',
    password: 'unused-pw-1',
    identityToken: 'refresh-token-xyz',
  });
  try {
    const dir = join(work, 'oauth');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ auths: { [oauth.address]: { identitytoken: 'refresh-token-xyz' } } }),
    );
    const clientOptions = { credentials: { env: { HOME: dir, DOCKER_CONFIG: dir } } };
    const store = memoryStore();
    const img = await smallImage(store);
    const ref = `${oauth.address}/${uniqueRepo('oauth')}:v1`;
    const pushed = await pushImage(ref, [img], store, { clientOptions });
    assert.equal((await pullImage(ref, memoryStore(), { clientOptions })).manifestDigest, pushed.digest);
    assert.ok(oauth.seen.every((r) => !r.url.includes('refresh-token-xyz')));
  } finally {
    await oauth.close();
  }
});

test('bearer tokens: a mount source the user may not read (E9, 401 on the source) falls back to an upload', async () => {
  const src = uniqueRepo('secret-src');
  const store = memoryStore();
  const img = await smallImage(store);
  await pushImage(`${REGISTRY}/${src}:v1`, [img], store);
  const denying = await startFaultProxy(REGISTRY, {
    username: 'bob',
    password: 'bob-pw-123',
    deniedRepositories: [src],
  });
  try {
    const { opts } = dockerConfig('denied', denying.address, 'bob', 'bob-pw-123');
    const pushed = await pushImage(`${denying.address}/${uniqueRepo('mount-denied')}:v1`, [img], store, {
      clientOptions: opts,
      mountFrom: () => src,
    });
    assert.deepEqual(pushed.blobs, { exists: 0, mounted: 0, uploaded: 2 });
  } finally {
    await denying.close();
  }
});
