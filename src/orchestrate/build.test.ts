/**
 * build.test.ts — build() itself, on a memory store: an added script brings its interpreter's closure
 * with the reasons recorded; the same inputs give the same image whatever the input mtimes and modes of
 * the directories around them; the secrets policy applies when given and stays out when not; and
 * mergeSpecs lays flags over a file as documented.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { memoryStore } from '../blob/memory-store.ts';
import { isFromscratchError } from '../errors.ts';
import { checkSecret } from '../trace/secrets.ts';
import { build } from './build.ts';
import type { BuildSpec } from './build-spec.ts';
import { mergeSpecs } from './load-spec.ts';

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'fs-build-unit-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('an added #! script brings its interpreter and libraries, each with its reason', async () => {
  await withDir(async (dir) => {
    await writeFile(join(dir, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    const { images } = await build(
      { contents: [{ kind: 'add', src: join(dir, 'run.sh'), dest: '/app/run.sh' }] },
      { store: memoryStore() },
    );
    const files = images[0]!.record.files;
    const by = (p: string) => files.find((f) => f.path === p);
    assert.deepEqual(by('/app/run.sh')?.origins, [
      { kind: 'requested', via: '--add', source: join(dir, 'run.sh') },
    ]);
    const sh = files.find((f) => f.type === 'file' && f.origins.some((o) => o.kind === 'shebang'));
    assert.ok(sh, 'the interpreter is in, recorded as the shebang of the script');
    assert.ok(
      files.some(
        (f) =>
          /\/libc\.so\.6$/.test(f.path) && f.origins.some((o) => o.kind === 'needed' || o.kind === 'path'),
      ),
      'libc is in, as a needed library',
    );
    assert.ok(
      by('/etc/passwd')?.origins.some((o) => o.kind === 'default'),
      'the scratch defaults are added',
    );
    assert.equal(by('/tmp')?.type, 'dir');
  });
});

test('the same inputs give the same image whatever their mtimes and the modes of the directories around them', async () => {
  await withDir(async (dir) => {
    await mkdir(join(dir, 'app/sub'), { recursive: true });
    await writeFile(join(dir, 'app/a.txt'), 'a');
    await writeFile(join(dir, 'app/sub/b.txt'), 'b');
    const spec: BuildSpec = {
      contents: [{ kind: 'add', src: join(dir, 'app'), dest: '/app', closure: false }],
    };
    const one = await build(spec, { store: memoryStore() });
    await utimes(join(dir, 'app/a.txt'), 1, 1);
    await utimes(join(dir, 'app/sub'), 2_000_000_000, 2_000_000_000);
    await chmod(dir, 0o700);
    const two = await build(spec, { store: memoryStore() });
    assert.deepEqual(
      two.images[0]!.image.layers.map((l) => l.diffId),
      one.images[0]!.image.layers.map((l) => l.diffId),
    );
    // and a changed byte changes it: the comparison is not vacuous
    await writeFile(join(dir, 'app/a.txt'), 'A');
    const three = await build(spec, { store: memoryStore() });
    assert.notDeepEqual(
      three.images[0]!.image.layers.map((l) => l.diffId),
      one.images[0]!.image.layers.map((l) => l.diffId),
    );
  });
});

test('the secrets policy given to build refuses an added key; allowSecrets lets it in by path', async () => {
  await withDir(async (dir) => {
    await mkdir(join(dir, '.ssh'));
    await writeFile(join(dir, '.ssh/id_ed25519'), 'KEY');
    const spec: BuildSpec = {
      contents: [{ kind: 'add', src: join(dir, '.ssh'), dest: '/k', closure: false }],
    };
    const policy = { checkSecret: (p: string) => checkSecret(p) };
    await assert.rejects(
      build(spec, { store: memoryStore(), ...policy }),
      (e) => isFromscratchError(e, 'SECRET_REFUSED') && e.message.includes(join(dir, '.ssh/id_ed25519')),
    );
    await assert.rejects(
      build(spec, { store: memoryStore(), ...policy, allowSecrets: [join(dir, '.ss')] }),
      (e) => isFromscratchError(e, 'SECRET_REFUSED'),
    );
    const ok = await build(spec, { store: memoryStore(), ...policy, allowSecrets: [join(dir, '.ssh')] });
    assert.ok(ok.images[0]!.record.files.some((f) => f.path === '/k/id_ed25519'));
  });
});

test('mergeSpecs: contents appended, Env appended, Labels merged, other config and outputs overridden', () => {
  const base: BuildSpec = {
    contents: [{ kind: 'binary', path: '/usr/bin/env' }],
    config: { Env: ['A=1'], Labels: { a: '1', b: '1' }, User: 'nobody', Entrypoint: ['/a'] },
    outputs: ['oci:base'],
  };
  const over: BuildSpec = {
    contents: [{ kind: 'binary', path: '/usr/bin/true' }],
    config: { Env: ['B=2'], Labels: { b: '2' }, Entrypoint: ['/b'] },
    outputs: ['oci:flags'],
  };
  const m = mergeSpecs(base, over);
  assert.deepEqual(
    m.contents.map((c) => (c.kind === 'binary' ? c.path : c.kind)),
    ['/usr/bin/env', '/usr/bin/true'],
  );
  assert.deepEqual(m.config?.Env, ['A=1', 'B=2']);
  assert.deepEqual(m.config?.Labels, { a: '1', b: '2' });
  assert.equal(m.config?.User, 'nobody', 'a field the flags do not set is kept');
  assert.deepEqual(m.config?.Entrypoint, ['/b']);
  assert.deepEqual(m.outputs, ['oci:flags']);
});
