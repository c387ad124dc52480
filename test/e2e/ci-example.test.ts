/**
 * ci-example.test.ts — the command line of examples/ci/k8s-job.yaml (the same as the GitHub Actions
 * workflow's), run as that job runs it: as an unprivileged user (uid 10001, when the tests run as
 * root), on a fresh cache directory, against the loopback registry. The second run, on another fresh
 * cache directory, takes every layer from the registry cache.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { registryAddress, withTempDir } from '../support/validate-tools.ts';
import { BIN, CODE_CACHE, ROOT } from './cli.ts';

interface Container {
  command: string[];
  args: string[];
  env: { name: string; value: string }[];
}

function runAs(
  uid: number | undefined,
  argv: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, ...rest] =
    uid === undefined
      ? [process.execPath, BIN, ...argv]
      : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath, BIN, ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, rest, { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

test('examples/ci/k8s-job.yaml: its command line, unprivileged, on a fresh cache dir, twice against the loopback registry', async () => {
  const job = parse(await readFile(join(ROOT, 'examples', 'ci', 'k8s-job.yaml'), 'utf8'));
  const c = job.spec.template.spec.containers[0] as Container;
  const uid = job.spec.template.spec.securityContext.runAsUser as number;
  assert.deepEqual(c.command, ['fromscratch']);
  const gha = await readFile(join(ROOT, 'examples', 'ci', 'github-actions.yml'), 'utf8');
  assert.match(
    gha,
    /fromscratch build -c fromscratch\.yaml -o "docker:\/\/\$IMAGE:/,
    'the workflow runs the same build',
  );
  const reg = `${await registryAddress()}/ci-${randomBytes(4).toString('hex')}`;
  await withTempDir('e2e-ci-job', async (dir) => {
    await chmod(dir, 0o755);
    await writeFile(
      join(dir, 'fromscratch.yaml'),
      'contents:\n  - binary: /usr/bin/env\n  - add: app.txt\n    to: /app/app.txt\n',
    );
    await writeFile(join(dir, 'app.txt'), 'app\n');
    await writeFile(join(dir, 'auth.json'), '{"auths":{}}\n');
    const asUser = process.getuid?.() === 0 ? uid : undefined;
    const runJob = async (cache: string) => {
      await mkdir(join(dir, cache));
      if (asUser !== undefined) await chown(join(dir, cache), asUser, asUser);
      // the job's env, in order, with $(VAR) expanded as Kubernetes does; the registry and the mounts are here
      const overrides: Record<string, string> = {
        REGISTRY: reg,
        FROMSCRATCH_CACHE: join(dir, cache),
        REGISTRY_AUTH_FILE: join(dir, 'auth.json'),
      };
      const env: Record<string, string> = { HOME: join(dir, cache), FROMSCRATCH_CODE_CACHE: CODE_CACHE };
      for (const { name, value } of c.env)
        env[name] = overrides[name] ?? value.replace(/\$\((\w+)\)/g, (m, k: string) => env[k] ?? m);
      const argv = c.args.map((a) => a.replace(/\$\((\w+)\)/g, (m, k: string) => env[k] ?? m));
      return runAs(asUser, argv, env, dir);
    };
    const first = await runJob('cache1');
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /no cache there yet/);
    assert.match(first.stderr, /cache exported: 3 layer\(s\)/);
    const second = await runJob('cache2');
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, first.stdout, 'same digest');
    assert.equal((second.stderr.match(/layer from the registry cache/g) ?? []).length, 3, second.stderr);
    assert.doesNotMatch(second.stderr, /writing layer/);
  });
});
