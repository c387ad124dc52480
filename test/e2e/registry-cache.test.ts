/**
 * registry-cache.test.ts — the build cache in a real registry (issue 16): export, import on an empty
 * cache directory with zero layer uploads, faults (corrupt manifest, other version, missing blobs,
 * unreachable registry), and two exports racing on one tag.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { startFakeRepo } from '../deb/fake-repo.ts';
import { type RegistryInstance, startRegistry } from '../registry/registry-instance.ts';
import { withTempDir } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

let reg: RegistryInstance;
before(async () => {
  reg = await startRegistry({ accessLog: true });
});
after(async () => {
  await reg?.stop();
});

/** uploads lists the digests whose upload completed in the access log (mounts are not uploads). */
export function uploads(log: string): string[] {
  const out: string[] = [];
  for (const m of log.matchAll(/"(?:PUT|POST) (\/v2\/\S*\/blobs\/uploads\/\S*) HTTP\/[\d.]+" (\d{3})/g)) {
    const u = new URL(m[1]!, 'http://x');
    const d = u.searchParams.get('digest');
    if (d && m[2] === '201') out.push(d);
  }
  return out;
}

/**
 * syncLog returns the access log once every request made so far is in it: the registry writes it
 * through a pipe, so a marker request is sent and awaited (no sleeping on a guess).
 */
export async function syncLog(r: RegistryInstance): Promise<string> {
  const marker = `sync-${Math.random().toString(36).slice(2)}`;
  await (await fetch(`http://${r.address}/v2/?${marker}`)).arrayBuffer();
  for (let i = 0; i < 200 && !r.accessLog().includes(marker); i++)
    await new Promise((ok) => setTimeout(ok, 25));
  assert.ok(r.accessLog().includes(marker), 'the access log shows the marker request');
  return r.accessLog();
}

const APP = ['--binary', '/usr/bin/env', '--add', 'app.txt:/app/app.txt'];

async function manifestOf(
  repoTag: string,
): Promise<{ layers: { digest: string }[]; config: { digest: string } }> {
  const [repo, tag] = repoTag.split(':') as [string, string];
  const res = await fetch(`http://${reg.address}/v2/${repo}/manifests/${tag}`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  assert.equal(res.status, 200, `${repoTag} is there`);
  return (await res.json()) as { layers: { digest: string }[]; config: { digest: string } };
}

async function putManifest(repoTag: string, body: unknown): Promise<void> {
  const [repo, tag] = repoTag.split(':') as [string, string];
  const res = await fetch(`http://${reg.address}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 201, await res.text());
}

test('--cache-to exports; a fresh cache dir with --cache-from pushes the same digest uploading no layer; an OCI output downloads them verified', async () => {
  await withTempDir('e2e-regcache', async (dir) => {
    await writeFile(join(dir, 'app.txt'), 'one\n');
    const env1 = { FROMSCRATCH_CACHE: join(dir, 'c1') };
    const cold = await fromscratch(
      [
        'build',
        ...APP,
        '-o',
        `docker://${reg.address}/app:1`,
        '--cache-to',
        `docker://${reg.address}/cache:main`,
      ],
      { cwd: dir, env: env1 },
    );
    assert.equal(cold.code, 0, cold.stderr);
    assert.match(cold.stderr, /cache exported: 3 layer\(s\)/);
    assert.match(cold.stderr, /cache exported: .*\b[1-9]\d* result\(s\)/, 'the closure result is exported');
    const image = await manifestOf('app:1');
    const cache = await manifestOf('cache:main');
    const resultType = 'application/vnd.fromscratch.cache.result.v1+json';
    assert.deepEqual(
      cache.layers
        .filter((l) => (l as { mediaType?: string }).mediaType !== resultType)
        .map((l) => l.digest)
        .sort(),
      image.layers.map((l) => l.digest).sort(),
      'the cache holds the layers of the image, and results beside them',
    );

    // a fresh machine: empty cache dir, output to another repository of the same registry
    const before = (await syncLog(reg)).length;
    const warm = await fromscratch(
      [
        'build',
        ...APP,
        '-o',
        `docker://${reg.address}/other:1`,
        '--cache-from',
        `docker://${reg.address}/cache:main`,
      ],
      { cwd: dir, env: { FROMSCRATCH_CACHE: join(dir, 'c2') } },
    );
    assert.equal(warm.code, 0, warm.stderr);
    assert.equal(warm.stdout, cold.stdout, 'same digest as the cold build');
    assert.equal((warm.stderr.match(/layer from the registry cache/g) ?? []).length, 3, warm.stderr);
    const uploaded = uploads((await syncLog(reg)).slice(before));
    assert.ok(/mount=/.test((await syncLog(reg)).slice(before)), 'the layers were mounted from the cache');
    for (const l of image.layers)
      assert.ok(!uploaded.includes(l.digest), `layer ${l.digest} not uploaded again`);
    assert.ok(!/writing layer/.test(warm.stderr), 'no layer written');
    assert.match(warm.stderr, /\d+ files, from the registry cache/, 'the closure came from the cache');

    // the env names the cache; an OCI layout output needs the bytes: downloaded and verified
    const oci = await fromscratch(['build', ...APP, '-o', 'oci:out:1'], {
      cwd: dir,
      env: {
        FROMSCRATCH_CACHE: join(dir, 'c3'),
        FROMSCRATCH_CACHE_FROM: `docker://${reg.address}/cache:main`,
      },
    });
    assert.equal(oci.code, 0, oci.stderr);
    assert.equal(oci.stdout, cold.stdout);
    assert.match(oci.stderr, /layer from the registry cache/);

    // a change of content is a miss for that layer only, and the next export keeps both versions
    await writeFile(join(dir, 'app.txt'), 'two\n');
    const changed = await fromscratch(
      [
        'build',
        ...APP,
        '-o',
        `docker://${reg.address}/app:2`,
        '--cache-from',
        `docker://${reg.address}/cache:main`,
        '--cache-to',
        `docker://${reg.address}/cache:main`,
      ],
      { cwd: dir, env: { FROMSCRATCH_CACHE: join(dir, 'c4') } },
    );
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal((changed.stderr.match(/layer from the registry cache/g) ?? []).length, 2, changed.stderr);
    assert.match(changed.stderr, /writing layer \(app\)/);
    assert.match(changed.stderr, /cache exported: 4 layer\(s\)/);
  });
});

test('a corrupt cache, another version, missing blobs and an unreachable --cache-from are warnings; an unreachable --cache-to is an error', async () => {
  await withTempDir('e2e-regcache-bad', async (dir) => {
    await writeFile(join(dir, 'app.txt'), 'bad\n');
    const env = { FROMSCRATCH_CACHE: join(dir, 'c') };
    // a valid export to start from, whose config is then replaced
    const first = await fromscratch(
      ['build', ...APP, '-o', 'oci:out:1', '--cache-to', `docker://${reg.address}/bad:good`],
      { cwd: dir, env },
    );
    assert.equal(first.code, 0, first.stderr);
    const good = (await manifestOf('bad:good')) as unknown as Record<string, unknown> & {
      config: { digest: string; size: number; mediaType: string };
      layers: { digest: string; size: number; mediaType: string }[];
    };
    // another version of the format
    await putManifest('bad:v2', { ...good, artifactType: 'application/vnd.fromscratch.cache.v1+json' });
    // a corrupt config (a blob that is not the cache's JSON): push it, point the manifest at it
    const junk = new TextEncoder().encode('{"version":2,"entries":[{"key":"zz"}]}');
    const jd = `sha256:${createHash('sha256').update(junk).digest('hex')}`;
    const up = await fetch(`http://${reg.address}/v2/bad/blobs/uploads/?digest=${jd}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: junk,
    });
    assert.ok(up.status === 201 || up.status === 202, String(up.status));
    if (up.status === 202) {
      const loc = up.headers.get('location')!;
      const put = await fetch(
        new URL(`${loc}${loc.includes('?') ? '&' : '?'}digest=${jd}`, `http://${reg.address}`),
        {
          method: 'PUT',
          headers: { 'content-type': 'application/octet-stream' },
          body: junk,
        },
      );
      assert.equal(put.status, 201);
    }
    await putManifest('bad:corrupt', {
      ...good,
      config: { ...good.config, digest: jd, size: junk.byteLength },
    });
    // entries naming blobs the repository does not hold (the manifest lists them, the blob is deleted)
    const victim = good.layers[0]!.digest;
    const del = await fetch(`http://${reg.address}/v2/bad/blobs/${victim}`, { method: 'DELETE' });
    assert.equal(del.status, 202, 'the test registry allows deletes');

    for (const [tag, why] of [
      ['v2', /another version of the cache format/],
      ['corrupt', /an entry is malformed/],
    ] as const) {
      await rm(join(dir, 'c'), { recursive: true, force: true });
      const r = await fromscratch(
        ['build', ...APP, '-o', 'oci:o2:1', '--cache-from', `docker://${reg.address}/bad:${tag}`],
        { cwd: dir, env },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /warning: cache .* ignored \(building without it\)/);
      assert.match(r.stderr, why);
      assert.equal(r.stdout, first.stdout, 'built cold, same digest');
    }
    await rm(join(dir, 'c'), { recursive: true, force: true });
    const missing = await fromscratch(
      ['build', ...APP, '-o', 'oci:o3:1', '--cache-from', `docker://${reg.address}/bad:good`],
      { cwd: dir, env },
    );
    assert.equal(missing.code, 0, missing.stderr);
    assert.match(missing.stderr, /which its repository does not hold: that layer is built cold/);
    assert.equal(missing.stdout, first.stdout);

    // nothing listens on port 9: a warning for --cache-from, an error (before building) for --cache-to
    const away = await fromscratch(
      ['build', ...APP, '-o', 'oci:o4:1', '--cache-from', 'docker://127.0.0.1:9/c'],
      {
        cwd: dir,
        env: { ...env, FROMSCRATCH_REGISTRY_RETRIES: '0' },
      },
    );
    assert.equal(away.code, 0, away.stderr);
    assert.match(away.stderr, /warning: cache 127\.0\.0\.1:9\/c:fromscratch-cache not used/);
    const to = await fromscratch(
      ['build', ...APP, '-o', 'oci:o5:1', '--cache-to', 'docker://127.0.0.1:9/c'],
      {
        cwd: dir,
        env,
      },
    );
    assert.equal(to.code, 1, to.stderr);
    assert.match(to.stderr, /error\[CACHE_UNAVAILABLE\]: --cache-to 127\.0\.0\.1:9\/c:fromscratch-cache/);
    assert.doesNotMatch(to.stderr, /\n\s+at /, 'no stack trace');
  });
});

test('two builds exporting to one cache tag at once leave one complete, valid cache', async () => {
  await withTempDir('e2e-regcache-race', async (dir) => {
    const runs = ['a', 'b'].map(async (n) => {
      const d = join(dir, n);
      await mkdir(d);
      await writeFile(join(d, 'app.txt'), `${n}\n`);
      return fromscratch(
        ['build', ...APP, '-o', 'oci:out:1', '--cache-to', `docker://${reg.address}/race:main`],
        {
          cwd: d,
          env: { FROMSCRATCH_CACHE: join(d, 'c') },
        },
      );
    });
    const [a, b] = await Promise.all(runs);
    assert.equal(a!.code, 0, a!.stderr);
    assert.equal(b!.code, 0, b!.stderr);
    const m = await manifestOf('race:main');
    assert.equal(m.layers.length >= 3, true);
    for (const l of [...m.layers, m.config]) {
      const h = await fetch(`http://${reg.address}/v2/race/blobs/${l.digest}`, { method: 'HEAD' });
      assert.equal(h.status, 200, `${l.digest} present`);
    }
    // the cache is usable: a fresh build of either app finds at least the shared layers in it
    const again = await fromscratch(
      ['build', ...APP, '-o', 'oci:o:1', '--cache-from', `docker://${reg.address}/race:main`],
      { cwd: join(dir, 'a'), env: { FROMSCRATCH_CACHE: join(dir, 'fresh') } },
    );
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, a!.stdout);
    assert.ok((again.stderr.match(/layer from the registry cache/g) ?? []).length >= 2, again.stderr);
    assert.doesNotMatch(again.stderr, /warning: cache/);
  });
});

test('a multi-image spec builds every image in one run: shared layers written once and uploaded once per registry, digests equal to single builds', async () => {
  await withTempDir('e2e-monorepo', async (dir) => {
    for (const n of ['alpha', 'beta', 'gamma']) await writeFile(join(dir, `${n}.txt`), `${n}\n`);
    await writeFile(
      join(dir, 'monorepo.yaml'),
      [
        'contents:',
        '  - binary: /usr/bin/env',
        `outputs: docker://${reg.address}/mono/{name}:1`,
        `cache: {to: "docker://${reg.address}/mono/cache:main"}`,
        'images:',
        ...['alpha', 'beta', 'gamma'].flatMap((n) => [
          `  - name: ${n}`,
          '    contents:',
          `      - add: ${n}.txt`,
          `        to: /app/${n}.txt`,
        ]),
        '',
      ].join('\n'),
    );
    const start = (await syncLog(reg)).length;
    const r = await fromscratch(['build', '-c', 'monorepo.yaml', '--json'], {
      cwd: dir,
      env: { FROMSCRATCH_CACHE: join(dir, 'c') },
    });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { name: string; digest: string }[];
    assert.deepEqual(
      out.map((o) => o.name),
      ['alpha', 'beta', 'gamma'],
    );
    // the shared layers (libc6, coreutils + defaults) are written once
    assert.equal(
      (r.stderr.match(/writing layer \(package libc6\): \d+ entries$/gm) ?? []).length,
      1,
      r.stderr,
    );
    const alpha = await manifestOf('mono/alpha:1');
    const gamma = await manifestOf('mono/gamma:1');
    const shared = alpha.layers.map((l) => l.digest).filter((d) => gamma.layers.some((g) => g.digest === d));
    assert.equal(shared.length, 2);
    const uploaded = uploads((await syncLog(reg)).slice(start));
    for (const d of shared)
      assert.equal(uploaded.filter((u) => u === d).length, 1, `${d} uploaded once (then mounted)`);
    assert.match(r.stderr, /cache exported: 5 layer\(s\)/, 'the spec cache: key exports every layer');

    // the images are built at once (bounded): each starts before any has done its work
    assert.match(r.stderr, /^image alpha:\nimage beta:\nimage gamma:\n/, r.stderr);
    // every image built alone gives the same digest; the plain output is one line per image
    for (const [i, n] of ['alpha', 'beta', 'gamma'].entries()) {
      const single = await fromscratch(
        ['build', '--binary', '/usr/bin/env', '--add', `${n}.txt:/app/${n}.txt`, '-o', `oci:one-${n}:1`],
        {
          cwd: dir,
          env: { FROMSCRATCH_CACHE: join(dir, 'c2') },
        },
      );
      assert.equal(single.code, 0, single.stderr);
      assert.equal(single.stdout.trim(), out[i]!.digest, `${n}: same digest built alone`);
    }
    const plain = await fromscratch(['build', '-c', 'monorepo.yaml'], {
      cwd: dir,
      env: { FROMSCRATCH_CACHE: join(dir, 'c') },
    });
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout, out.map((o) => `${o.name} ${o.digest}\n`).join(''));
  });
});

test('a registry cache whose layers the registry serves damaged is a miss: the layers are built, with a warning, and the output verifies (issue 15.4)', async () => {
  await withTempDir('e2e-regcache-flip', async (dir) => {
    await writeFile(join(dir, 'app.txt'), 'flip\n');
    const first = await fromscratch(
      ['build', ...APP, '-o', 'oci:out:1', '--cache-to', `docker://${reg.address}/flip:main`],
      { cwd: dir, env: { FROMSCRATCH_CACHE: join(dir, 'c1') } },
    );
    assert.equal(first.code, 0, first.stderr);
    const cache = await manifestOf('flip:main');
    assert.ok(cache.layers.length >= 2);
    // every cached layer damaged in the registry's storage: it serves wrong bytes under the right digest
    // (restored afterwards: the registry's blob store is shared by the tests of this file)
    const saved: [string, Buffer][] = [];
    try {
      for (const l of cache.layers) {
        const hex = l.digest.slice(7);
        const file = join(reg.dir, 'data/docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
        const bytes = await readFile(file);
        saved.push([file, Buffer.from(bytes)]);
        bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 1;
        await writeFile(file, bytes);
      }
      const r = await fromscratch(
        ['build', ...APP, '-o', 'oci:out2:1', '--cache-from', `docker://${reg.address}/flip:main`],
        { cwd: dir, env: { FROMSCRATCH_CACHE: join(dir, 'c2') } },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, first.stdout, 'the same image, built');
      assert.match(
        r.stderr,
        /warning: .*digest mismatch.*registry cache .*flip:main, not used: built instead/,
      );
    } finally {
      for (const [file, bytes] of saved) await writeFile(file, bytes);
    }
    const blobs = join(dir, 'out2', 'blobs', 'sha256');
    for (const name of await readdir(blobs)) {
      const h = createHash('sha256')
        .update(await readFile(join(blobs, name)))
        .digest('hex');
      assert.equal(h, name, `blob ${name} of the output matches its digest`);
    }
  });
});

/** pushBlobBytes uploads bytes as a blob of `repo` (monolithic upload) and returns its digest. */
async function pushBlobBytes(repo: string, bytes: Uint8Array): Promise<string> {
  const d = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const up = await fetch(`http://${reg.address}/v2/${repo}/blobs/uploads/?digest=${d}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  if (up.status === 202) {
    const loc = up.headers.get('location')!;
    const put = await fetch(
      new URL(`${loc}${loc.includes('?') ? '&' : '?'}digest=${d}`, `http://${reg.address}`),
      {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body: bytes,
      },
    );
    assert.equal(put.status, 201);
  } else assert.equal(up.status, 201);
  return d;
}

test('a registry cache entry whose layer is a gzip bomb or does not match its diffID is a miss: built instead, with a warning (issue 15.4, 15.8)', async () => {
  await withTempDir('e2e-regcache-poison', async (dir) => {
    await writeFile(join(dir, 'app.txt'), 'poison\n');
    const first = await fromscratch(
      ['build', ...APP, '-o', 'oci:out:1', '--cache-to', `docker://${reg.address}/poison:main`],
      { cwd: dir, env: { FROMSCRATCH_CACHE: join(dir, 'c1') } },
    );
    assert.equal(first.code, 0, first.stderr);
    const m = (await manifestOf('poison:main')) as unknown as {
      config: { digest: string; size: number };
      layers: { digest: string; size: number; mediaType: string }[];
    };
    const cfg = (await (await fetch(`http://${reg.address}/v2/poison/blobs/${m.config.digest}`)).json()) as {
      entries: { digest: string; size: number; diffId: string }[];
    };
    assert.ok(cfg.entries.length >= 2);
    // entry 0: a gzip bomb (80 MiB of zeros in a tar, ~80 kB) under its own, correct digest
    const tar = Buffer.alloc(512 + 80 * 1024 * 1024 + 1024);
    tar.write('zeros', 0);
    const bomb = gzipSync(tar, { level: 9 });
    cfg.entries[0] = {
      ...cfg.entries[0]!,
      digest: await pushBlobBytes('poison', bomb),
      size: bomb.byteLength,
      diffId: `sha256:${createHash('sha256').update(tar).digest('hex')}`,
    };
    // entry 1: its own blob, but another diffID than its tar's
    const d1 = cfg.entries[1]!.diffId;
    cfg.entries[1] = { ...cfg.entries[1]!, diffId: `${d1.slice(0, -1)}${d1.endsWith('0') ? '1' : '0'}` };
    const cfgBytes = new TextEncoder().encode(JSON.stringify(cfg));
    const cfgDigest = await pushBlobBytes('poison', cfgBytes);
    await putManifest('poison:bad', {
      ...m,
      config: { ...m.config, digest: cfgDigest, size: cfgBytes.byteLength },
      layers: cfg.entries.map((e) => ({ mediaType: m.layers[0]!.mediaType, digest: e.digest, size: e.size })),
    });
    const r = await fromscratch(
      ['build', ...APP, '-o', 'oci:out2:1', '--cache-from', `docker://${reg.address}/poison:bad`],
      { cwd: dir, env: { FROMSCRATCH_CACHE: join(dir, 'c2') } },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, first.stdout, 'the same image as a build without the cache');
    assert.match(r.stderr, /warning: .*decompresses more than 1000 times.*not used: built instead/);
    assert.match(
      r.stderr,
      /warning: .*registry cache .*poison:bad: the uncompressed layer hashes to .*diff_id.*not used: built instead/,
    );
  });
});

test('--package builds: the .debs and the index go to the registry cache, and a fresh machine reads them from there, not from the mirror', async () => {
  const repo = await startFakeRepo([
    {
      name: 'greeting',
      version: '1.0-1',
      fields: { Depends: 'greeting-data (>= 1)' },
      files: [{ name: './usr/share/greeting/README', body: 'hello\n' }],
    },
    {
      name: 'greeting-data',
      version: '2.0-1',
      files: [{ name: './usr/share/greeting/data.txt', body: 'data\n' }],
    },
  ]);
  try {
    await withTempDir('e2e-regcache-debs', async (dir) => {
      const args = [
        'build',
        '--apt-source',
        `deb [signed-by=${repo.keyring}] ${repo.uri} ${repo.suite} main`,
        '--package',
        'greeting',
      ];
      const cold = await fromscratch(
        [...args, '-o', 'oci:out:1', '--cache-to', `docker://${reg.address}/debs:main`],
        { cwd: dir, env: { FROMSCRATCH_CACHE: join(dir, 'c1') } },
      );
      assert.equal(cold.code, 0, cold.stderr);
      // two .debs and the amd64 index (the `all` index too when the release lists one)
      const m = /cache exported: \d+ layer\(s\), \d+ result\(s\), (\d+) package file\(s\)/.exec(cold.stderr);
      assert.ok(m && Number(m[1]) >= 3, cold.stderr);
      assert.ok(
        repo.requests.some((r) => r.endsWith('.deb')),
        'the cold build downloaded the .debs',
      );

      const mark = repo.requests.length;
      const fresh = await fromscratch(
        [...args, '-o', 'oci:out2:1', '--cache-from', `docker://${reg.address}/debs:main`],
        { cwd: dir, env: { FROMSCRATCH_CACHE: join(dir, 'c2') } },
      );
      assert.equal(fresh.code, 0, fresh.stderr);
      assert.equal(fresh.stdout, cold.stdout, 'same digest');
      const asked = repo.requests.slice(mark);
      assert.deepEqual(
        asked.filter((r) => r.endsWith('.deb') || /\/Packages(\.xz|\.gz)?$/.test(r)),
        [],
        `the mirror is asked only for InRelease: ${asked.join(' ')}`,
      );
      assert.doesNotMatch(fresh.stderr, /warning: cache/);
    });
  } finally {
    await repo.close();
  }
});
