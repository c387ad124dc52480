/**
 * docker-daemon.test.ts — loading into and reading from the real Docker Engine over its API socket (no
 * docker CLI in the product; the CLI is used here only as an independent check).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { memoryStore } from '../../src/blob/memory-store.ts';
import { isFromscratchError } from '../../src/errors.ts';
import { readDockerDaemon, resolveDockerEndpoint, writeDockerDaemon } from '../../src/oci/docker-daemon.ts';
import { readImage, writeImage } from '../../src/oci/image-io.ts';
import { validateImage } from '../../src/oci/validate.ts';
import { HELLO_OUTPUT, helloImage } from '../support/tiny-image.ts';
import { dockerRemoveImage, dockerRun, requireTool, run, withTempDir } from '../support/validate-tools.ts';

const code = (c: string, re?: RegExp) => (e: unknown) =>
  isFromscratchError(e) && e.code === c && (re === undefined || re.test(e.message));

test('writeDockerDaemon loads the image over the socket; docker run prints hello; readDockerDaemon reads it back', async () => {
  requireTool('docker', 'docker.io');
  const store = memoryStore();
  const image = await helloImage(store);
  const name = 'fromscratch-oci-test/daemon:v1';
  try {
    const w = await writeDockerDaemon(name, image, store);
    assert.equal(
      (await run('docker', ['image', 'inspect', '--format', '{{.Id}}', name])).stdout.trim(),
      w.imageId,
    );
    assert.equal(await dockerRun(name), HELLO_OUTPUT);
    const set = await readDockerDaemon(name);
    try {
      assert.deepEqual(set.images[0]!.config, image.config);
      assert.deepEqual(
        set.images[0]!.layers.map((l) => l.diffId),
        image.layers.map((l) => l.diffId),
      );
      await validateImage(set.images[0]!, set.store);
    } finally {
      await set.close();
    }
    // by image ID too, and through the transport dispatch into an OCI layout
    const byId = await readImage(`docker-daemon:${w.imageId}`);
    await byId.close();
    await withTempDir('daemon', async (t) => {
      const set2 = await readImage(`docker-daemon:${name}`);
      try {
        await writeImage(`oci:${join(t, 'l')}:copied`, set2.images, set2.store);
      } finally {
        await set2.close();
      }
      await run('skopeo', ['inspect', `oci:${join(t, 'l')}:copied`]);
    });
  } finally {
    await dockerRemoveImage(name);
  }
  await assert.rejects(readDockerDaemon('fromscratch-oci-test/absent:none'), code('IMAGE_NOT_FOUND'));
});

test('no daemon socket is DAEMON_ERROR with a hint; tcp:// DOCKER_HOST is refused', async () => {
  const store = memoryStore();
  const image = await helloImage(store);
  await assert.rejects(
    writeDockerDaemon('x:y', image, store, { socketPath: '/nonexistent/docker.sock' }),
    (e: unknown) =>
      isFromscratchError(e, 'DAEMON_ERROR') &&
      /\/nonexistent\/docker.sock/.test(e.message) &&
      /dockerd|DOCKER_HOST/.test(e.hint ?? ''),
  );
  await assert.rejects(
    readDockerDaemon('x:y', { socketPath: '/nonexistent/docker.sock' }),
    code('DAEMON_ERROR'),
  );
  const none = { HOME: '/nonexistent' };
  assert.deepEqual(await resolveDockerEndpoint({}, { ...none, DOCKER_HOST: 'unix:///run/x.sock' }), {
    kind: 'unix',
    path: '/run/x.sock',
  });
  assert.deepEqual(await resolveDockerEndpoint({}, none), { kind: 'unix', path: '/var/run/docker.sock' });
  assert.deepEqual(await resolveDockerEndpoint({}, { ...none, DOCKER_HOST: 'tcp://1.2.3.4' }), {
    kind: 'tcp',
    host: '1.2.3.4',
    port: 2375,
  });
  await assert.rejects(
    resolveDockerEndpoint({}, { ...none, DOCKER_HOST: 'ssh://me@host' }),
    code('DAEMON_ERROR'),
  );
  // DOCKER_TLS_VERIFY needs the CA of DOCKER_CERT_PATH
  await assert.rejects(
    resolveDockerEndpoint(
      {},
      { ...none, DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent' },
    ),
    code('DAEMON_ERROR'),
  );
  await assert.rejects(
    resolveDockerEndpoint({}, { ...none, DOCKER_CONTEXT: 'missing' }),
    code('DAEMON_ERROR'),
  );
  await assert.rejects(
    writeImage('docker-daemon:sha256:' + 'a'.repeat(64), [image], store),
    code('INVALID_REFERENCE'),
  );
});
