/**
 * crash.test.ts — writers killed at random moments (RELIABILITY.md C7) and concurrent writers of one
 * layout (C8): the output is always the old or the new one, never a part; no tag is lost; the next run
 * cleans up what the killed one left.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { memoryStore } from '../../src/blob/memory-store.ts';
import { appendLayers } from '../../src/image/image.ts';
import { Annotation } from '../../src/model/documents.ts';
import { readDockerArchive } from '../../src/oci/docker-archive.ts';
import { readOciLayout, writeOciLayout } from '../../src/oci/oci-layout.ts';
import { validateImage } from '../../src/oci/validate.ts';
import { helloImage, makeTestLayer } from '../support/tiny-image.ts';
import { run, withTempDir } from '../support/validate-tools.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CHILD = join(ROOT, 'test', 'support', 'copy-image-child.ts');
/** kill rounds per test; each spawns a few node processes, so keep it small (FROMSCRATCH_CRASH_ROUNDS=20 for a soak) */
const ROUNDS = Number(process.env.FROMSCRATCH_CRASH_ROUNDS ?? 3);
/** the seed of the kill times (FROMSCRATCH_CRASH_SEED to vary them; a failure names the seed) */
const SEED = Number(process.env.FROMSCRATCH_CRASH_SEED ?? 17);

/** rng is a small seeded generator (LCG): the same kill times on every run with the same seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function startChild(src: string, dest: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, src, dest], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, output: () => out };
}

type Child = ReturnType<typeof startChild>;

/**
 * killWhileWriting waits for the child's "writing" marker, sleeps a seeded 0..maxMs (maxMs: most of a
 * measured write, writeWindow), and kills it.
 * Returns true when the kill landed mid-write: marker seen, "done" not yet printed, killed by the signal.
 */
async function killWhileWriting(c: Child, rand: () => number, maxMs: number): Promise<boolean> {
  for (let waited = 0; !c.output().includes('writing\n'); waited += 5) {
    if (c.child.exitCode !== null || waited > 120_000)
      assert.fail(`the child never started writing: ${c.output()}`);
    await sleep(5);
  }
  await sleep(Math.floor(rand() * maxMs));
  const before = !c.output().includes('done');
  c.child.kill('SIGKILL');
  const code = await c.exited;
  return before && code === null;
}

/**
 * writeWindow runs one writer to the end and returns how long it wrote (its "writing" marker to its "done"):
 * kills are then drawn inside that window, so that they land mid-write on a fast machine as on a slow one.
 */
async function writeWindow(src: string, dest: string): Promise<number> {
  const c = startChild(src, dest);
  let start: number | undefined;
  let end: number | undefined;
  for (let waited = 0; end === undefined; waited++) {
    if (c.child.exitCode !== null || waited > 120_000) break;
    if (start === undefined && c.output().includes('writing\n')) start = performance.now();
    if (start !== undefined && c.output().includes('done')) end = performance.now();
    await sleep(1);
  }
  assert.equal(await c.exited, 0, c.output());
  assert.ok(
    start !== undefined && end !== undefined,
    `the calibration writer printed no markers: ${c.output()}`,
  );
  return end - start;
}

/** a source layout with a few MiB of incompressible data, so a write takes long enough to be killed inside */
async function bigSource(dir: string) {
  const store = memoryStore();
  const base = await helloImage(store);
  const big = await makeTestLayer(store, [{ path: '/big', data: randomBytes(4 * 1024 * 1024) }]);
  const image = appendLayers(base, [big], [{ created_by: 'test: big' }]);
  await writeOciLayout(dir, [image], store, { tag: 'src' });
  return image;
}

async function assertValidLayout(dir: string, tags: readonly string[]) {
  for (const tag of tags) {
    const set = await readOciLayout(dir, tag);
    for (const img of set.images) await validateImage(img, set.store);
  }
}

test('C7: a layout writer killed at seeded moments of its write leaves the layout valid or absent, and the next run cleans up', async (t0) => {
  await withTempDir('crash', async (t) => {
    const src = join(t, 'src');
    await bigSource(src);
    const rand = rng(SEED);
    // kills drawn within 80 % of a measured write (at least 1 ms): inside it, whatever the machine's speed
    const calib = join(t, 'calibration');
    const window = Math.max(1, Math.floor(0.8 * (await writeWindow(`oci:${src}:src`, `oci:${calib}:new`))));
    await rm(calib, { recursive: true, force: true });
    let landed = 0;
    for (let i = 0; i < ROUNDS; i++) {
      // a new layout: valid or absent
      const fresh = join(t, `fresh${i}`);
      const a = startChild(`oci:${src}:src`, `oci:${fresh}:new`);
      if (await killWhileWriting(a, rand, window)) landed++;
      const names = await readdir(t);
      if (names.includes(`fresh${i}`)) await assertValidLayout(fresh, ['new']);
      // an existing layout: keeps its tag whatever happens, gains the new one only whole
      const existing = join(t, `existing${i}`);
      const store = memoryStore();
      await writeOciLayout(existing, [await helloImage(store)], store, { tag: 'old' });
      const b = startChild(`oci:${src}:src`, `oci:${existing}:new`);
      if (await killWhileWriting(b, rand, window)) landed++;
      const idx = JSON.parse(await readFile(join(existing, 'index.json'), 'utf8')) as {
        manifests: { annotations: Record<string, string> }[];
      };
      const tags = idx.manifests.map((m) => m.annotations[Annotation.RefName]!);
      assert.ok(tags.includes('old'), `the old tag survives (run ${i})`);
      await assertValidLayout(existing, tags);
      // the next run completes and removes the killed writer's temp files
      for (const [dest, dir] of [
        [`oci:${fresh}:new`, fresh],
        [`oci:${existing}:new`, existing],
      ] as const) {
        const c = startChild(`oci:${src}:src`, dest);
        assert.equal(await c.exited, 0, c.output());
        await assertValidLayout(dir, ['new']);
        assert.deepEqual(
          (await readdir(dir)).filter((n) => n.startsWith('.')),
          [],
          `no temp files in ${dir}`,
        );
        assert.ok(
          (await readdir(join(dir, 'blobs', 'sha256'))).every((n) => /^[0-9a-f]{64}$/.test(n)),
          `no temp blobs in ${dir}`,
        );
      }
    }
    assert.deepEqual(
      (await readdir(t)).filter((n) => n.startsWith('.')),
      [],
      'no temp layouts left in the parent',
    );
    // "valid or absent" means something only if a kill hit a writer at work
    t0.diagnostic(`${landed} of ${2 * ROUNDS} kills landed mid-write (seed ${SEED})`);
    assert.ok(landed >= 1, `no kill of ${2 * ROUNDS} landed while the child was writing (seed ${SEED})`);
  });
});

test('C7: a docker-archive writer killed at seeded moments of its write leaves no partial archive', async (t0) => {
  await withTempDir('crash', async (t) => {
    const src = join(t, 'src');
    await bigSource(src);
    const tar = join(t, 'img.tar');
    const rand = rng(SEED + 1);
    const calib = join(t, 'calibration.tar');
    const window = Math.max(
      1,
      Math.floor(
        0.8 * (await writeWindow(`oci:${src}:src`, `docker-archive:${calib}:crash-test:calibration`)),
      ),
    );
    await rm(calib, { force: true });
    let landed = 0;
    for (let i = 0; i < ROUNDS + 1; i++) {
      const a = startChild(`oci:${src}:src`, `docker-archive:${tar}:crash-test:${i}`);
      if (await killWhileWriting(a, rand, window)) landed++;
      if ((await readdir(t)).includes('img.tar')) {
        const set = await readDockerArchive(tar);
        await set.close();
      }
    }
    t0.diagnostic(`${landed} of ${ROUNDS + 1} kills landed mid-write (seed ${SEED})`);
    assert.ok(landed >= 1, `no kill of ${ROUNDS + 1} landed while the child was writing (seed ${SEED})`);
    const c = startChild(`oci:${src}:src`, `docker-archive:${tar}:crash-test:done`);
    assert.equal(await c.exited, 0, c.output());
    assert.deepEqual(
      (await readdir(t)).sort(),
      ['img.tar', 'src'],
      'temp archives of killed writers are removed',
    );
    const set = await readDockerArchive(tar, 'crash-test:done');
    await validateImage(set.images[0]!, set.store);
    await set.close();
  });
});

test('C8: two processes adding different tags to one layout at once lose neither tag', async () => {
  await withTempDir('concurrent', async (t) => {
    const src = join(t, 'src');
    const store = memoryStore();
    await writeOciLayout(src, [await helloImage(store)], store, { tag: 'a' });
    await writeOciLayout(src, [await helloImage(store, { extra: 'b\n' })], store, { tag: 'b' });
    for (let i = 0; i < 2; i++) {
      // round 0 races on creating the layout, later rounds on updating index.json
      const dest = join(t, 'shared');
      const x = startChild(`oci:${src}:a`, `oci:${dest}:a${i}`);
      const y = startChild(`oci:${src}:b`, `oci:${dest}:b${i}`);
      assert.equal(await x.exited, 0, x.output());
      assert.equal(await y.exited, 0, y.output());
      const idx = JSON.parse(await readFile(join(dest, 'index.json'), 'utf8')) as {
        manifests: { annotations: Record<string, string> }[];
      };
      const tags = idx.manifests.map((m) => m.annotations[Annotation.RefName]).sort();
      const want = Array.from({ length: i + 1 }, (_, k) => [`a${k}`, `b${k}`])
        .flat()
        .sort();
      assert.deepEqual(tags, want);
    }
    const dest = join(t, 'shared');
    await assertValidLayout(dest, ['a0', 'b0', 'a1']);
    await run('skopeo', ['inspect', `oci:${dest}:b1`]);
    assert.deepEqual((await readdir(dest)).sort(), ['blobs', 'index.json', 'oci-layout']);
  });
});
