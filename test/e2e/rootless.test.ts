/**
 * rootless.test.ts — `run` and `build --verify` as a user who is not root (issue 15 item 10): runc's
 * rootless mode, in a user namespace mapping the container's root to the caller. The tests run the CLI
 * for real as nobody (uid 65534, via setpriv), with a cache and work directory of nobody's own.
 *
 * They need unprivileged user namespaces on this host and fail (never skip) when there are none.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { chownSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { isFromscratchError } from '../../src/errors.ts';
import { checkUserNamespaces } from '../../src/run/run.ts';
import { makeRuntimeSpec } from '../../src/run/runtime-spec.ts';
import { BIN, CODE_CACHE, ROOT } from './cli.ts';

const exec = promisify(execFile);
const NOBODY = 65534;
const AS_NOBODY = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];

let dir: string;

/** asNobody runs the CLI as uid/gid 65534 in `dir`, with nobody's own HOME and cache. */
async function asNobody(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return exec(
    AS_NOBODY[0] as string,
    [...AS_NOBODY.slice(1), 'env', `HOME=${dir}`, process.execPath, BIN, ...args],
    {
      cwd: dir,
      env: {
        ...process.env,
        FROMSCRATCH_CACHE: join(dir, 'cache'),
        FROMSCRATCH_CODE_CACHE: CODE_CACHE,
        TMPDIR: dir,
      },
      maxBuffer: 64 << 20,
      timeout: 300_000,
    },
  ).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    }),
  );
}

before(() => {
  assert.equal(process.getuid?.(), 0, 'these tests switch to uid 65534 with setpriv: run them as root');
  const probe = spawnSync(
    AS_NOBODY[0] as string,
    [...AS_NOBODY.slice(1), 'unshare', '--user', '--map-root-user', 'true'],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(
    probe.status,
    0,
    `uid ${NOBODY} cannot create a user namespace on this host (${probe.stderr.trim() || probe.error}): rootless run needs ` +
      'unprivileged user namespaces (sysctl user.max_user_namespaces > 0, kernel.unprivileged_userns_clone = 1)',
  );
  dir = mkdtempSync(join(tmpdir(), 'fromscratch-rootless-'));
  cpSync(join(ROOT, 'examples'), join(dir, 'examples'), { recursive: true });
  writeFileSync(join(dir, 'hello.txt'), 'hello from the image\n');
  mkdirSync(join(dir, 'cache'));
  for (const p of [
    '',
    'examples',
    'examples/hello-node',
    'examples/hello-node/app.js',
    'examples/hello-node/fromscratch.yaml',
    'hello.txt',
    'cache',
  ]) {
    chownSync(join(dir, p), NOBODY, NOBODY);
  }
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('as nobody, the demo image (node, user nonroot) builds and runs with runc in rootless mode', async () => {
  const built = await asNobody(['build', '-c', 'examples/hello-node/fromscratch.yaml', '-o', 'oci:img:demo']);
  assert.equal(built.code, 0, built.stderr);
  const ran = await asNobody(['run', 'oci:img:demo']);
  assert.equal(ran.code, 0, ran.stderr);
  // node read /app/app.js from the image and ran it inside the container
  assert.match(ran.stdout, /^hello from scratch: node v\d+\.\d+\.\d+ on linux\//);
  assert.match(
    ran.stderr,
    /rootless run: the process runs as the container's root \(uid 65534 on the host\), not as the image's user "nonroot"/,
  );
  assert.doesNotMatch(ran.stderr, /error\[/);
});

test('as nobody, build --verify runs the command in the image (rootless) and a failing one is reported', async () => {
  const ok = await asNobody([
    'build',
    '--binary',
    '/usr/bin/cat',
    '--add',
    'hello.txt:/hello.txt',
    '--verify',
    'cat /hello.txt',
    '-o',
    'oci:img:cat',
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /verify: `cat \/hello\.txt` works in the image/);
  const ran = await asNobody(['run', 'oci:img:cat', '/hello.txt']); // the entrypoint is /usr/bin/cat
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stdout.slice(0, 200), 'hello from the image\n');
  // a file that is not in the image: the container's cat fails, and verify says so
  const bad = await asNobody([
    'build',
    '--binary',
    '/usr/bin/cat',
    '--verify',
    'cat /not-in-the-image',
    '-o',
    'oci:img:bad',
  ]);
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stderr, /not-in-the-image/);
});

test('a system without unprivileged user namespaces gets RUN_FAILED naming the switch', () => {
  const proc = mkdtempSync(join(tmpdir(), 'fromscratch-proc-'));
  try {
    mkdirSync(join(proc, 'proc/sys/user'), { recursive: true });
    mkdirSync(join(proc, 'proc/sys/kernel'), { recursive: true });
    writeFileSync(join(proc, 'proc/sys/user/max_user_namespaces'), '15000\n');
    assert.doesNotThrow(() => checkUserNamespaces(proc));
    writeFileSync(join(proc, 'proc/sys/kernel/unprivileged_userns_clone'), '0\n');
    assert.throws(
      () => checkUserNamespaces(proc),
      (e) =>
        isFromscratchError(e) &&
        e.code === 'RUN_FAILED' &&
        /kernel\.unprivileged_userns_clone = 0/.test(e.message) &&
        /sysctl -w kernel\.unprivileged_userns_clone=1/.test(e.hint ?? ''),
    );
    writeFileSync(join(proc, 'proc/sys/user/max_user_namespaces'), '0\n');
    assert.throws(() => checkUserNamespaces(proc), /user\.max_user_namespaces = 0/);
  } finally {
    rmSync(proc, { recursive: true, force: true });
  }
});

test('the rootless runtime spec is what runc spec --rootless generates, plus no network', () => {
  const spec = makeRuntimeSpec({
    args: ['/x'],
    env: [],
    cwd: '/',
    ids: { uid: 65532, gid: 65532, additionalGids: [4] },
    rootless: { uid: 1000, gid: 100 },
  }) as {
    process: { user: Record<string, unknown> };
    mounts: { destination: string; type: string; source: string; options?: string[] }[];
    linux: Record<string, unknown> & { namespaces: { type: string }[] };
  };
  assert.deepEqual(spec.process.user, { uid: 0, gid: 0 });
  assert.deepEqual(spec.linux.uidMappings, [{ containerID: 0, hostID: 1000, size: 1 }]);
  assert.deepEqual(spec.linux.gidMappings, [{ containerID: 0, hostID: 100, size: 1 }]);
  assert.deepEqual(
    spec.linux.namespaces.map((n) => n.type),
    ['pid', 'network', 'ipc', 'uts', 'mount', 'user'],
  );
  assert.equal(spec.linux.resources, undefined);
  const sys = spec.mounts.find((m) => m.destination === '/sys');
  assert.deepEqual(sys, {
    destination: '/sys',
    type: 'none',
    source: '/sys',
    options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
  });
  assert.ok(!spec.mounts.some((m) => m.options?.includes('gid=5')));
  // as root nothing changes: no user namespace, the image's user, sysfs
  const rooted = makeRuntimeSpec({
    args: ['/x'],
    env: [],
    cwd: '/',
    ids: { uid: 65532, gid: 65532, additionalGids: [4] },
  }) as typeof spec;
  assert.deepEqual(rooted.process.user, { uid: 65532, gid: 65532, additionalGids: [4] });
  assert.equal(rooted.linux.uidMappings, undefined);
  assert.ok(!rooted.linux.namespaces.some((n) => n.type === 'user'));
});
