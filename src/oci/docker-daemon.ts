/**
 * docker-daemon.ts — the local Docker Engine as a sink (`POST /images/load`) and a source
 * (`GET /images/{name}/get`), over its API socket with node:http; no docker CLI.
 * https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Image/operation/ImageLoad
 *
 * The socket is `DOCKER_HOST=unix:///path` when set, else /var/run/docker.sock. Only unix sockets are
 * supported (a tcp:// daemon would need TLS client certificates).
 */

import { stat } from 'node:fs/promises';
import { type IncomingMessage, request } from 'node:http';
import type { BlobStore } from '../blob/store.ts';
import { FromscratchError } from '../errors.ts';
import type { Image } from '../image/image.ts';
import { type ReadArchiveOptions, readArchive, tarChunks } from './archive-file.ts';
import {
  type DockerArchiveWritten,
  dockerArchiveEntries,
  imageSetFromDockerArchive,
} from './docker-archive.ts';
import type { ImageSet } from './image-set.ts';
import { parseDockerName } from './transport.ts';

/** DockerDaemonOptions says where the daemon is. */
export interface DockerDaemonOptions {
  /** the API socket (default: DOCKER_HOST's unix:// path, else /var/run/docker.sock) */
  socketPath?: string;
  /** per-request idle timeout in ms (default 300 000) */
  timeoutMs?: number;
}

/** dockerSocketPath resolves the Docker API socket from options and DOCKER_HOST. Throws DAEMON_ERROR for tcp://. */
export function dockerSocketPath(
  opts: DockerDaemonOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (opts.socketPath) return opts.socketPath;
  const host = env.DOCKER_HOST;
  if (host === undefined || host === '') return '/var/run/docker.sock';
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  throw new FromscratchError('DAEMON_ERROR', `DOCKER_HOST=${host} is not a unix socket`, {
    hint: 'fromscratch talks to the Docker Engine over its unix socket: set DOCKER_HOST=unix:///var/run/docker.sock',
  });
}

function daemonError(socket: string, doing: string, e: unknown): FromscratchError {
  const code = (e as NodeJS.ErrnoException).code;
  const reason =
    code === 'ENOENT'
      ? 'no socket there'
      : code === 'ECONNREFUSED'
        ? 'connection refused'
        : code === 'EACCES'
          ? 'permission denied'
          : (e as Error).message;
  return new FromscratchError(
    'DAEMON_ERROR',
    `${doing}: cannot reach the Docker Engine at ${socket}: ${reason}`,
    {
      hint:
        code === 'EACCES'
          ? 'add your user to the docker group, or run as root'
          : 'start the Docker Engine (dockerd), or set DOCKER_HOST=unix:///path/to/docker.sock',
      cause: e,
    },
  );
}

async function checkSocket(socket: string, doing: string): Promise<void> {
  try {
    const st = await stat(socket);
    if (!st.isSocket()) throw Object.assign(new Error(`${socket} is not a socket`), { code: 'ENOTSOCK' });
  } catch (e) {
    throw daemonError(socket, doing, e);
  }
}

interface DaemonRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: AsyncIterable<Uint8Array>;
  headers?: Record<string, string>;
}

function send(
  socket: string,
  req: DaemonRequest,
  doing: string,
  timeoutMs: number,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const r = request({
      socketPath: socket,
      method: req.method,
      path: req.path,
      headers: { Host: 'docker', ...(req.headers ?? {}) },
    });
    r.setTimeout(timeoutMs, () =>
      r.destroy(
        new FromscratchError('TIMEOUT', `${doing}: the Docker Engine did not answer for ${timeoutMs} ms`, {
          hint: 'check that dockerd is healthy',
        }),
      ),
    );
    r.on('response', resolve);
    r.on('error', (e) => reject(e instanceof FromscratchError ? e : daemonError(socket, doing, e)));
    if (!req.body) {
      r.end();
      return;
    }
    (async () => {
      try {
        for await (const c of req.body!) {
          if (!r.write(c)) await new Promise<void>((res) => r.once('drain', res));
        }
        r.end();
      } catch (e) {
        r.destroy(e as Error);
        reject(e);
      }
    })();
  });
}

async function readBody(res: IncomingMessage, limit = 16 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res as AsyncIterable<Buffer>) {
    n += c.byteLength;
    if (n > limit) break;
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function apiMessage(body: string): string {
  try {
    const m = (JSON.parse(body) as { message?: unknown }).message;
    if (typeof m === 'string') return m;
  } catch {
    // not JSON: show the text
  }
  return body.trim().slice(0, 500);
}

/**
 * writeDockerDaemon loads one image into the Docker Engine as `name` (`REPO[:TAG]`, tag default latest)
 * and every name of `opts.moreNames`,
 * streaming a docker-archive to `POST /images/load`. Returns the image ID (config digest).
 * Throws DAEMON_ERROR (no daemon, or the daemon refused the image, with its message), INVALID_REFERENCE
 * for a bad name, and the layer errors of writeDockerArchive.
 * @example await writeDockerDaemon('app:1.0', image, store)
 */
export async function writeDockerDaemon(
  name: string,
  image: Image,
  store: BlobStore,
  opts: DockerDaemonOptions & { created?: string; moreNames?: readonly string[] } = {},
): Promise<DockerArchiveWritten> {
  const tag = parseDockerName(name);
  // docker load tags the image with every RepoTags entry of the archive
  const repoTags = [...new Set([tag, ...(opts.moreNames ?? []).map((n) => parseDockerName(n))])];
  const socket = dockerSocketPath(opts);
  const doing = `loading ${tag} into the Docker Engine`;
  await checkSocket(socket, doing);
  // plan first (checks every layer against its diff_id) so a bad image fails before the daemon sees bytes
  const planned = await dockerArchiveEntries(image, store, {
    repoTags,
    ...(opts.created !== undefined ? { created: opts.created } : {}),
  });
  const res = await send(
    socket,
    {
      method: 'POST',
      path: '/images/load?quiet=1',
      headers: { 'Content-Type': 'application/x-tar' },
      body: tarChunks(planned.entries),
    },
    doing,
    opts.timeoutMs ?? 300_000,
  );
  const body = await readBody(res);
  if (res.statusCode !== 200) {
    throw new FromscratchError(
      'DAEMON_ERROR',
      `${doing}: the Docker Engine answered ${res.statusCode}: ${apiMessage(body)}`,
      {
        hint: 'the daemon refused the image; check `docker info` and the daemon log',
      },
    );
  }
  // the answer is a stream of JSON messages; a failure mid-load is reported as {"errorDetail": …}
  for (const line of body.split('\n')) {
    if (line.trim() === '') continue;
    let msg: { error?: unknown; errorDetail?: { message?: unknown } };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      // a non-JSON progress line: nothing to check
      continue;
    }
    if (msg.error !== undefined || msg.errorDetail !== undefined) {
      throw new FromscratchError(
        'DAEMON_ERROR',
        `${doing}: ${String(msg.errorDetail?.message ?? msg.error)}`,
        {
          hint: 'the daemon refused the image; check the daemon log',
        },
      );
    }
  }
  return {
    descriptor: planned.serialized.descriptor,
    manifests: [planned.serialized.descriptor],
    imageId: planned.imageId,
  };
}

/**
 * readDockerDaemon reads image `name` (`REPO[:TAG]` or an image ID `sha256:<hex>`) from the Docker Engine
 * with `GET /images/{name}/get`, into a temp store; call close() when done.
 * Throws DAEMON_ERROR, IMAGE_NOT_FOUND (no such image), and the errors of readDockerArchive.
 */
export async function readDockerDaemon(
  name: string,
  opts: DockerDaemonOptions & ReadArchiveOptions = {},
): Promise<ImageSet> {
  const ref = name.startsWith('sha256:') ? name : parseDockerName(name);
  const socket = dockerSocketPath(opts);
  const doing = `reading ${ref} from the Docker Engine`;
  await checkSocket(socket, doing);
  const res = await send(
    socket,
    { method: 'GET', path: `/images/${encodeURIComponent(ref)}/get` },
    doing,
    opts.timeoutMs ?? 300_000,
  );
  if (res.statusCode === 404) {
    const body = await readBody(res);
    throw new FromscratchError('IMAGE_NOT_FOUND', `${doing}: ${apiMessage(body)}`, {
      hint: 'list images with `docker images`',
    });
  }
  if (res.statusCode !== 200) {
    const body = await readBody(res);
    throw new FromscratchError(
      'DAEMON_ERROR',
      `${doing}: the Docker Engine answered ${res.statusCode}: ${apiMessage(body)}`,
      {
        hint: 'check `docker info` and the daemon log',
      },
    );
  }
  const where = `docker-daemon:${ref}`;
  const archive = await readArchive(res as AsyncIterable<Uint8Array>, where, opts);
  try {
    return await imageSetFromDockerArchive(archive, ref.startsWith('sha256:') ? undefined : ref, where);
  } catch (e) {
    await archive.close();
    throw e;
  }
}
