/**
 * watch.test.ts — `build --watch` through the real CLI (issue 12's inner loop): the first build's digest,
 * then one new digest per edit of the app, each pushed to a real registry (the registry's access log shows
 * only the app layer and the config uploaded on a rebuild) and readable by skopeo; the OCI layout output,
 * written on each build, never starts a build itself; a failed rebuild is told and waited out; SIGINT
 * ends the watch as it ends any command (130).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { startRegistry } from '../registry/registry-instance.ts';
import { requireTool, run, validateOciLayoutWithTools, withTempDir } from '../support/validate-tools.ts';
import { BIN, CACHE, CODE_CACHE } from './cli.ts';

const PROGRAM = '/usr/bin/env';

/** lines collects a stream's lines; next() waits for the line after the ones already taken */
function lines(child: ChildProcess, stream: 'stdout' | 'stderr') {
  const got: string[] = [];
  let buf = '';
  let waiter: (() => void) | undefined;
  child[stream]!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    got.push(...parts);
    waiter?.();
  });
  let taken = 0;
  return {
    all: () => got.join('\n'),
    async next(timeoutMs = 120_000): Promise<string> {
      const end = Date.now() + timeoutMs;
      while (taken >= got.length) {
        if (Date.now() > end) throw new Error(`no new ${stream} line in ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          waiter = r;
          setTimeout(r, 200);
        });
      }
      return got[taken++]!;
    },
    count: () => got.length,
  };
}

test('build --watch rebuilds and pushes on each app edit, only the app layer uploaded; SIGINT ends it as any command (130)', async () => {
  requireTool('skopeo', 'skopeo');
  const reg = await startRegistry({ accessLog: true });
  try {
    await withTempDir('e2e-watch', async (dir) => {
      await mkdir(join(dir, 'app'));
      await writeFile(join(dir, 'app', 'main.sh'), '#!/bin/sh\necho one\n');
      const ref = `${reg.address}/team/watch:dev`;
      const child = spawn(
        process.execPath,
        [
          BIN,
          'build',
          '--watch',
          '--binary',
          PROGRAM,
          '--add',
          './app:/app',
          '--entrypoint',
          JSON.stringify([PROGRAM]),
          '-o',
          `docker://${ref}`,
          // written on every build, beside the watched app: must not start one
          '-o',
          'oci:out:dev',
          '--progress',
          'plain',
        ],
        {
          cwd: dir,
          env: { ...process.env, FROMSCRATCH_CACHE: CACHE, FROMSCRATCH_CODE_CACHE: CODE_CACHE },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      const out = lines(child, 'stdout');
      const err = lines(child, 'stderr');
      try {
        const d1 = await out.next();
        assert.match(d1, /^sha256:[0-9a-f]{64}$/, err.all());
        // armed once the first build is out
        for (let i = 0; i < 100 && !/watching \d+ files/.test(err.all()); i++)
          await new Promise((r) => setTimeout(r, 50));
        assert.match(err.all(), /watching \d+ files in \d+ directories/);

        const mark = reg.accessLog().length;
        await writeFile(join(dir, 'app', 'main.sh'), '#!/bin/sh\necho two\n');
        const d2 = await out.next();
        assert.match(d2, /^sha256:[0-9a-f]{64}$/);
        assert.notEqual(d2, d1, 'the edit is in the new image');
        assert.match(err.all(), /changed: .*app\/main\.sh: building again/);
        // the registry holds the new image: skopeo reads it, and only the app layer and the config were uploaded
        const inspect = await run('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${ref}`]);
        assert.equal(inspect.code, 0, inspect.stderr);
        const manifest = JSON.parse(inspect.stdout) as {
          layers: { digest: string }[];
          config: { digest: string };
        };
        const puts = [
          ...reg
            .accessLog()
            .slice(mark)
            .matchAll(/"PUT \/v2\/team\/watch\/blobs\/uploads\/[^ ]*digest=(sha256(?:%3A|:)[0-9a-f]{64})/g),
        ].map((m) => decodeURIComponent(m[1]!));
        assert.deepEqual(puts.sort(), [manifest.config.digest, manifest.layers.at(-1)!.digest].sort());
        await validateOciLayoutWithTools(join(dir, 'out'), 'dev');

        // the layout written by that build started nothing: no third digest
        await new Promise((r) => setTimeout(r, 1000));
        assert.equal(out.count(), 2, `no build after its own output: ${out.all()}`);

        // a rebuild that fails (a private key dropped into the app: the secrets policy refuses it) is told,
        // and the watch goes on: removing it builds again
        await writeFile(join(dir, 'app', 'id_rsa'), '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n');
        for (let i = 0; i < 600 && !/watching for the next change/.test(err.all()); i++)
          await new Promise((r) => setTimeout(r, 100));
        assert.match(err.all(), /^error\[SECRET[A-Z_]*\]: .*id_rsa/m);
        assert.equal(out.count(), 2, 'no digest for a failed build');
        await rm(join(dir, 'app', 'id_rsa'));
        assert.match(await out.next(), /^sha256:[0-9a-f]{64}$/);
      } finally {
        child.kill('SIGINT');
      }
      // interrupted as any command: 128 + SIGINT
      assert.equal(await exited, 130, err.all());
    });
  } finally {
    await reg.stop();
  }
});
