/**
 * run.test.ts — runImage with the real runc (and Docker): a static program compiled at test time, in a
 * hand-built image, prints its output; exit codes pass through; hostile configs are refused.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isFromscratchError } from '../../src/errors.ts';
import { writeOciLayout } from '../../src/oci/oci-layout.ts';
import { findTool, runImage } from '../../src/run/run.ts';
import { parseUserSpec, resolveIds, resolveProcessArgs } from '../../src/run/runtime-spec.ts';
import { compile, HELLO_C, makeImage } from './image-fixture.ts';

const hello = compile(HELLO_C, ['-static']);
const etc = [
  {
    name: 'etc/passwd',
    data: 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n',
  },
  { name: 'etc/group', data: 'root:x:0:\nnonroot:x:65532:\naudio:x:29:nonroot\n' },
];

function leftovers(): string[] {
  return fs.readdirSync(tmpdir()).filter((n) => n.startsWith('fromscratch-run-'));
}

describe('runImage with runc', () => {
  it('runc is installed', () => assert.ok(findTool('runc'), 'runc is required: apt-get install runc'));

  it('prints the static program output and returns its exit code', async () => {
    const before = leftovers();
    const img = await makeImage([{ name: 'hello', data: hello, mode: 0o755 }, ...etc], {
      Entrypoint: ['/hello'],
      Env: ['GREETING=hi'],
      WorkingDir: '/work',
    });
    const r = await runImage(img, undefined, { stdio: 'pipe' });
    assert.equal(r.exitCode, 0, r.stderr.toString());
    assert.equal(r.stdout.toString(), 'hello from scratch uid=0 gid=0 cwd=/work GREETING=hi\n');
    const r2 = await runImage(img, ['42', 'x y'], { stdio: 'pipe', env: ['GREETING=override'] });
    assert.equal(r2.exitCode, 42);
    assert.equal(
      r2.stdout.toString(),
      'hello from scratch uid=0 gid=0 [42] [x y] cwd=/work GREETING=override\n',
    );
    assert.deepEqual(leftovers(), before, 'bundle removed');
  });

  it('runs an image named by a transport reference (oci:DIR:TAG written by src/oci)', async () => {
    const img = await makeImage([{ name: 'hello', data: hello, mode: 0o755 }], {
      Entrypoint: ['/hello'],
      Cmd: ['5'],
    });
    const dir = fs.mkdtempSync(join(tmpdir(), 'fs-run-layout-'));
    await writeOciLayout(join(dir, 'layout'), [img.image], img.store, { tag: 'v1' });
    const r = await runImage(`oci:${join(dir, 'layout')}:v1`, undefined, { stdio: 'pipe' });
    assert.equal(r.exitCode, 5);
    assert.match(r.stdout.toString(), /hello from scratch uid=0 gid=0 \[5\]/);
    fs.rmSync(dir, { recursive: true });
  });

  it("runs as the image's user, resolved from its /etc/passwd and /etc/group", async () => {
    const img = await makeImage([{ name: 'hello', data: hello, mode: 0o755 }, ...etc], {
      Entrypoint: ['/hello'],
      User: 'nonroot',
    });
    const r = await runImage(img, undefined, { stdio: 'pipe' });
    assert.equal(r.stdout.toString(), 'hello from scratch uid=65532 gid=65532 cwd=/\n');
    const r2 = await runImage(img, undefined, { stdio: 'pipe', user: '1000:audio' });
    assert.match(r2.stdout.toString(), /uid=1000 gid=29/);
  });

  it("a missing program is RUN_FAILED with runc's message", async () => {
    const img = await makeImage(etc, { Entrypoint: ['/nothere'] });
    await assert.rejects(
      runImage(img, undefined, { stdio: 'pipe' }),
      (e) => isFromscratchError(e, 'RUN_FAILED') && /nothere/.test(e.message),
    );
  });

  it('refuses hostile config values (RELIABILITY D7)', async () => {
    for (const cfg of [
      { WorkingDir: '/proc/self/fd/7' },
      { WorkingDir: '/a/../../x' },
      { Volumes: { '/data/../../etc': {} } },
    ]) {
      const img = await makeImage([{ name: 'hello', data: hello, mode: 0o755 }], {
        Entrypoint: ['/hello'],
        ...cfg,
      });
      await assert.rejects(runImage(img, undefined, { stdio: 'pipe' }), (e) =>
        isFromscratchError(e, 'INVALID_IMAGE'),
      );
    }
  });

  it('a WorkingDir through a symlink chain with a missing component is created inside the root, never on the host', async () => {
    const victim = join(tmpdir(), `fs-run-victim-${process.pid}-${Date.now().toString(36)}`);
    const img = await makeImage(
      [
        { name: 'hello', data: hello, mode: 0o755 },
        { name: 'x', type: '2', linkname: 'nothere/../esc/pwned' },
        { name: 'esc', type: '2', linkname: victim },
      ],
      { Entrypoint: ['/hello'], WorkingDir: '/x' },
    );
    try {
      const r = await runImage(img, undefined, { stdio: 'pipe' });
      assert.equal(r.exitCode, 0, r.stderr.toString());
      assert.match(
        r.stdout.toString(),
        new RegExp(`cwd=${victim}/pwned\\n$`),
        'the container sees the re-rooted path',
      );
      assert.equal(fs.existsSync(victim), false, `run created ${victim} on the host`);
      const r2 = await runImage(img, undefined, { stdio: 'pipe', workdir: '/esc/other' });
      assert.match(r2.stdout.toString(), /cwd=.*\/other\n$/);
      assert.equal(fs.existsSync(victim), false, `run --workdir created ${victim} on the host`);
    } finally {
      fs.rmSync(victim, { recursive: true, force: true });
    }
  });

  it('a layer escaping the root fails the run and leaves nothing behind', async () => {
    const before = leftovers();
    const img = await makeImage([{ name: '../../escape', data: 'x' }], { Entrypoint: ['/hello'] });
    await assert.rejects(runImage(img, undefined, { stdio: 'pipe' }), (e) =>
      isFromscratchError(e, 'PATH_ESCAPE'),
    );
    assert.deepEqual(leftovers(), before);
  });

  it('a container that outlives the timeout is killed', async () => {
    const sleeper = compile('#include <unistd.h>\nint main(){sleep(60);return 0;}\n', ['-static']);
    const img = await makeImage([{ name: 'sleeper', data: sleeper, mode: 0o755 }], {
      Entrypoint: ['/sleeper'],
    });
    await assert.rejects(runImage(img, undefined, { stdio: 'pipe', timeoutSeconds: 2 }), (e) =>
      isFromscratchError(e, 'TIMEOUT'),
    );
  });

  it('runc missing is TOOL_MISSING with a hint', async () => {
    const img = await makeImage([], { Entrypoint: ['/hello'] });
    await assert.rejects(
      runImage(img, undefined, { runc: '/nonexistent/runc' }),
      (e) => isFromscratchError(e, 'TOOL_MISSING') && /apt-get install runc/.test(e.hint ?? ''),
    );
  });
});

describe('runImage with docker', () => {
  it('loads the image and runs it without network, exit code passed through', async () => {
    assert.ok(findTool('docker'), 'docker is required: apt-get install docker.io');
    const img = await makeImage([{ name: 'hello', data: hello, mode: 0o755 }, ...etc], {
      Entrypoint: ['/hello'],
      Env: ['GREETING=docker'],
    });
    const r = await runImage(img, ['3'], { runtime: 'docker', stdio: 'pipe' });
    assert.equal(r.exitCode, 3, r.stderr.toString());
    assert.equal(r.stdout.toString(), 'hello from scratch uid=0 gid=0 [3] cwd=/ GREETING=docker\n');
  });
});

describe('runtime spec helpers', () => {
  it('combines entrypoint and cmd as Docker does', () => {
    assert.deepEqual(resolveProcessArgs({ Entrypoint: ['/e'], Cmd: ['c'] }, undefined), ['/e', 'c']);
    assert.deepEqual(resolveProcessArgs({ Entrypoint: ['/e'], Cmd: ['c'] }, ['a']), ['/e', 'a']);
    assert.deepEqual(resolveProcessArgs({ Cmd: ['/c', 'x'] }, ['/other']), ['/other']);
    assert.deepEqual(resolveProcessArgs({ Entrypoint: ['/e'], Cmd: ['c'] }, undefined, ['/x']), ['/x']);
    assert.throws(
      () => resolveProcessArgs({}, undefined),
      (e) => isFromscratchError(e, 'RUN_FAILED'),
    );
  });
  it('resolves users and groups', () => {
    const passwd = 'root:x:0:0::/:/bin/sh\napp:x:1000:1001::/:/bin/sh\n';
    const group = 'root:x:0:\napp:x:1001:\nwheel:x:10:app,other\n';
    assert.deepEqual(resolveIds(parseUserSpec(''), passwd, group), { uid: 0, gid: 0, additionalGids: [] });
    assert.deepEqual(resolveIds(parseUserSpec('app'), passwd, group), {
      uid: 1000,
      gid: 1001,
      additionalGids: [10],
    });
    assert.deepEqual(resolveIds(parseUserSpec('1000'), passwd, group), {
      uid: 1000,
      gid: 1001,
      additionalGids: [10],
    });
    assert.deepEqual(resolveIds(parseUserSpec('4242'), passwd, group), {
      uid: 4242,
      gid: 0,
      additionalGids: [],
    });
    assert.deepEqual(resolveIds(parseUserSpec('app:wheel'), passwd, group), {
      uid: 1000,
      gid: 10,
      additionalGids: [],
    });
    assert.throws(
      () => resolveIds(parseUserSpec('ghost'), passwd, group),
      (e) => isFromscratchError(e, 'RUN_FAILED'),
    );
  });
});
