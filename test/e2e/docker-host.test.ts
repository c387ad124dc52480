/**
 * docker-host.test.ts — docker-daemon: reads and writes reach the Docker Engine named by
 * DOCKER_HOST=tcp://… and by the current docker context, as the docker CLI finds it. A loopback TCP
 * listener forwards to the real engine's unix socket and counts the connections it carries.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compileHello } from '../support/tiny-image.ts';
import { dockerRemoveImage, requireTool, run } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

describe('DOCKER_HOST and docker contexts', () => {
  let dir = '';
  let port = 0;
  let connections = 0;
  let server: net.Server;
  const sockets = new Set<net.Socket>();
  const name = `names-dh-${randomBytes(4).toString('hex')}/app:1`;

  before(async () => {
    requireTool('docker', 'docker.io');
    dir = await mkdtemp(join(tmpdir(), 'e2e-docker-host-'));
    await writeFile(join(dir, 'hello'), await compileHello(), { mode: 0o755 });
    server = net.createServer((client) => {
      connections++;
      const engine = net.connect('/var/run/docker.sock');
      for (const s of [client, engine]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          engine.destroy();
        });
      }
      client.pipe(engine);
      engine.pipe(client);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    await dockerRemoveImage(name);
    await rm(dir, { recursive: true, force: true });
  });

  it('DOCKER_HOST=tcp://127.0.0.1:PORT loads an image into the engine and reads it back', async () => {
    const env = { DOCKER_HOST: `tcp://127.0.0.1:${port}` };
    const built = await fromscratch(['build', '--add', './hello:/hello', '-o', `docker-daemon:${name}`], {
      cwd: dir,
      env,
    });
    assert.equal(built.code, 0, built.stderr);
    assert.ok(connections > 0, 'the load went through the tcp listener');
    // the engine has it (asked over its unix socket by the docker CLI)
    const id = (
      await run('docker', ['image', 'inspect', '--format', '{{.Id}}', name], {
        env: { ...process.env, DOCKER_HOST: '' },
      })
    ).stdout.trim();
    const before = connections;
    const read = await fromscratch(['inspect', `docker-daemon:${name}`, '--no-files'], { cwd: dir, env });
    assert.equal(read.code, 0, read.stderr);
    assert.match(read.stdout, new RegExp(`image id: ${id}`));
    assert.ok(connections > before);
  });

  it('the current docker context (config.json currentContext → meta.json) names the engine', async () => {
    const home = join(dir, 'home');
    const ctx = 'fromscratch-test';
    const meta = join(home, '.docker', 'contexts', 'meta', createHash('sha256').update(ctx).digest('hex'));
    await mkdir(meta, { recursive: true });
    await writeFile(join(home, '.docker', 'config.json'), JSON.stringify({ currentContext: ctx }));
    await writeFile(
      join(meta, 'meta.json'),
      JSON.stringify({
        Name: ctx,
        Metadata: {},
        Endpoints: { docker: { Host: `tcp://127.0.0.1:${port}`, SkipTLSVerify: false } },
      }),
    );
    const before = connections;
    const read = await fromscratch(['inspect', `docker-daemon:${name}`, '--no-files'], {
      cwd: dir,
      env: { HOME: home, DOCKER_HOST: '', DOCKER_CONTEXT: '', DOCKER_CONFIG: '' },
    });
    assert.equal(read.code, 0, read.stderr);
    assert.ok(connections > before, 'the read went through the context endpoint');
    // a context that names nothing usable is a typed error naming it
    const bad = await fromscratch(['inspect', `docker-daemon:${name}`], {
      cwd: dir,
      env: { HOME: home, DOCKER_HOST: '', DOCKER_CONTEXT: 'nope', DOCKER_CONFIG: '' },
    });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /DAEMON_ERROR[\s\S]*docker context "nope"/);
  });
});
