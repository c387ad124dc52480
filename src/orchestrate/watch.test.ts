// watch.test.ts — `build --watch`'s loop over a stand-in build: one rebuild per burst of changes, a new file
// in an --add directory counts, writes under an output or an ignored path do not, a failed rebuild is told
// and the watch goes on, and an abort ends it.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BuiltImage } from './build-image.ts';
import type { BuildSpec } from './build-spec.ts';
import { watchBuild, watchSet } from './watch.ts';

/** a BuiltImage as far as the watch reads it: the host files of the image */
const builtImage = (n: number, inputs: string[]): BuiltImage =>
  ({
    digest: `sha256:${String(n).padStart(64, '0')}`,
    result: { images: [{ inputs }] },
  }) as unknown as BuiltImage;

/** waitFor polls `cond` every 10 ms, failing after 5 s */
async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('watchBuild rebuilds once per burst of changes, sees new files in --add directories, ignores outputs, survives a failed build', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'watch-'));
  try {
    const lib = join(dir, 'lib');
    const app = join(dir, 'app');
    mkdirSync(lib);
    mkdirSync(join(app, 'sub'), { recursive: true });
    writeFileSync(join(lib, 'libx.so'), 'x');
    writeFileSync(join(lib, 'unrelated'), 'u');
    writeFileSync(join(app, 'main.js'), '1');
    const spec: BuildSpec = {
      contents: [{ kind: 'add', src: app, dest: '/app' }],
      outputs: [`oci:${join(app, 'out')}:latest`],
    };
    let builds = 0;
    let fail = false;
    const errors: unknown[] = [];
    const changes: string[] = [];
    const stop = new AbortController();
    let loads = 0;
    const done = watchBuild(
      async () => {
        loads++;
        return spec;
      },
      async () => {
        builds++;
        if (fail) throw new Error('the build failed');
        return builtImage(builds, [join(lib, 'libx.so'), join(app, 'main.js')]);
      },
      {
        signal: stop.signal,
        settleMs: 50,
        ignore: [join(app, 'cache')],
        onBuilt: () => {},
        onError: (e) => errors.push(e),
        onChange: (p) => changes.push(p),
      },
    );
    await waitFor(() => builds === 1, 'the first build');
    // a burst of writes to an input: one rebuild
    for (let i = 0; i < 5; i++) writeFileSync(join(app, 'main.js'), `v${i}`);
    await waitFor(() => builds === 2, 'the rebuild after the edit');
    assert.equal(changes[0], join(app, 'main.js'));
    // a file of a watched library directory that is not an input: nothing
    writeFileSync(join(lib, 'unrelated'), 'v2');
    // outputs and ignored paths inside the --add directory: nothing
    mkdirSync(join(app, 'out'));
    writeFileSync(join(app, 'out', 'index.json'), '{}');
    mkdirSync(join(app, 'cache'));
    writeFileSync(join(app, 'cache', 'x'), 'x');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(builds, 2, 'no rebuild for an unrelated name, an output or an ignored path');
    // a new file in a subdirectory of the --add directory
    writeFileSync(join(app, 'sub', 'new.js'), 'n');
    await waitFor(() => builds === 3, 'the rebuild after a new file');
    assert.equal(changes.at(-1), join(app, 'sub', 'new.js'));
    // a library replaced (apt writes a new file and renames it over the old one)
    writeFileSync(join(lib, 'libx.so.tmp'), 'x2');
    renameSync(join(lib, 'libx.so.tmp'), join(lib, 'libx.so'));
    await waitFor(() => builds === 4, 'the rebuild after a replaced library');
    // a failed rebuild is told, and the next change builds again
    fail = true;
    writeFileSync(join(app, 'main.js'), 'broken');
    await waitFor(() => errors.length === 1, 'the failed rebuild');
    fail = false;
    writeFileSync(join(app, 'main.js'), 'fixed');
    await waitFor(() => builds === 6, 'the rebuild after the failure');
    assert.equal(loads, builds, 'the spec is loaded again before each build');
    stop.abort();
    await done;
    writeFileSync(join(app, 'main.js'), 'after the end');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(builds, 6, 'no build after the watch ended');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a watched directory removed and made again (a checkout) is watched anew, even when a build failed meanwhile', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'watch-replace-'));
  try {
    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'main.js'), '1');
    const spec: BuildSpec = { contents: [{ kind: 'add', src: app, dest: '/app' }] };
    let builds = 0;
    const errors: unknown[] = [];
    const stop = new AbortController();
    const done = watchBuild(
      async () => spec,
      async () => {
        builds++;
        // the --add directory must be there, as for a real build
        readFileSync(join(app, 'main.js'));
        return builtImage(builds, [join(app, 'main.js')]);
      },
      { signal: stop.signal, settleMs: 30, onBuilt: () => {}, onError: (e) => errors.push(e) },
    );
    await waitFor(() => builds === 1, 'the first build');
    rmSync(app, { recursive: true });
    await waitFor(() => errors.length >= 1, 'the build without the directory fails');
    const before = builds;
    mkdirSync(app);
    writeFileSync(join(app, 'main.js'), '2');
    await waitFor(() => builds > before && errors.length + 1 <= builds, 'a build once the directory is back');
    const after = builds;
    await new Promise((r) => setTimeout(r, 100));
    writeFileSync(join(app, 'main.js'), '3');
    await waitFor(() => builds > after, 'an edit in the new directory is seen');
    stop.abort();
    await done;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the first build failing ends the watch with its error', async () => {
  await assert.rejects(
    watchBuild(
      async () => ({ contents: [] }),
      async () => {
        throw new Error('first build');
      },
      { signal: new AbortController().signal, onBuilt: () => {}, onError: () => {} },
    ),
    /first build/,
  );
});

test('a spec that fails to load (an edit half-written) is told, and its next change builds with the new spec', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'watch-spec-'));
  try {
    const specFile = join(dir, 'spec.yaml');
    writeFileSync(specFile, 'v1');
    const built: string[] = [];
    const errors: unknown[] = [];
    const stop = new AbortController();
    const done = watchBuild(
      async () => {
        const text = readFileSync(specFile, 'utf8');
        if (text.startsWith('broken')) throw new Error(`cannot parse ${specFile}`);
        return { contents: [], annotations: { text } };
      },
      async (s) => {
        built.push(s.annotations?.text ?? '');
        return builtImage(built.length, []);
      },
      {
        signal: stop.signal,
        settleMs: 30,
        extra: [specFile],
        onBuilt: () => {},
        onError: (e) => errors.push(e),
      },
    );
    await waitFor(() => built.length === 1, 'the first build');
    writeFileSync(specFile, 'broken: [');
    await waitFor(() => errors.length === 1, 'the spec error');
    writeFileSync(specFile, 'v2');
    await waitFor(() => built.length === 2, 'the build of the new spec');
    assert.deepEqual(built, ['v1', 'v2']);
    stop.abort();
    await done;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('watchSet watches the directories of the inputs for their names, and --add trees whole', () => {
  const dir = mkdtempSync(join(tmpdir(), 'watch-set-'));
  try {
    mkdirSync(join(dir, 'add', 'a', 'b'), { recursive: true });
    const set = watchSet(
      { contents: [{ kind: 'add', src: 'add', dest: '/x' }] },
      builtImage(1, ['/usr/lib/libc.so.6', '/usr/lib/libm.so.6', join(dir, 'add', 'a', 'f')]),
      ['spec.yaml'],
      dir,
    );
    assert.deepEqual([...(set.get('/usr/lib') ?? [])].sort(), ['libc.so.6', 'libm.so.6']);
    for (const d of ['add', 'add/a', 'add/a/b']) {
      assert.ok(set.has(join(dir, d)), d);
      assert.equal(set.get(join(dir, d)), undefined, `${d}: every name counts`);
    }
    assert.deepEqual([...(set.get(dir) ?? [])], ['spec.yaml']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
