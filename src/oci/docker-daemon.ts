/**
 * docker-daemon.ts — the local Docker Engine as a sink (`POST /images/load`) and a source
 * (`GET /images/{name}/get`), over its API socket with node:http; no docker CLI.
 * https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Image/operation/ImageLoad
 *
 * The daemon is found as the docker CLI finds it: `DOCKER_HOST` (`unix:///path`, or `tcp://host:port`
 * with TLS when `DOCKER_TLS_VERIFY` is set, certificates from `DOCKER_CERT_PATH`), else the current
 * docker context (`DOCKER_CONTEXT`, else `currentContext` in `$DOCKER_CONFIG/config.json`, default
 * ~/.docker: its `meta.json` names the host), else /var/run/docker.sock.
 * https://docs.docker.com/engine/security/protect-access/ and https://docs.docker.com/engine/manage-resources/contexts/
 */

import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { type IncomingMessage, request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
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
  /** the API socket (default: from DOCKER_HOST, the docker context, else /var/run/docker.sock) */
  socketPath?: string;
  /** per-request idle timeout in ms (default 300 000) */
  timeoutMs?: number;
}

/** DockerEndpoint is where the Docker Engine API is served. */
export type DockerEndpoint =
  | { readonly kind: 'unix'; readonly path: string }
  | {
      readonly kind: 'tcp';
      readonly host: string;
      readonly port: number;
      /** TLS settings (PEM contents) when the daemon speaks TLS */
      readonly tls?: {
        readonly ca?: string;
        readonly cert?: string;
        readonly key?: string;
        readonly verify: boolean;
      };
    };

/** describeEndpoint writes an endpoint as DOCKER_HOST would. */
export function describeEndpoint(e: DockerEndpoint): string {
  return e.kind === 'unix'
    ? `unix://${e.path}`
    : `tcp://${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
}

const DEFAULT_SOCKET = '/var/run/docker.sock';

async function readPem(dir: string, name: string, required: boolean): Promise<string | undefined> {
  try {
    return await readFile(join(dir, name), 'utf8');
  } catch (e) {
    if (!required && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FromscratchError(
      'DAEMON_ERROR',
      `cannot read the Docker TLS file ${join(dir, name)}: ${(e as Error).message}`,
      {
        hint: 'set DOCKER_CERT_PATH to the directory with ca.pem, cert.pem and key.pem',
        cause: e,
      },
    );
  }
}

/** parseDockerHost reads a `unix://` or `tcp://` daemon address. Throws DAEMON_ERROR for others. */
async function parseDockerHost(
  host: string,
  where: string,
  tls: { enabled: boolean; verify: boolean; certDir: string | undefined },
): Promise<DockerEndpoint> {
  if (host.startsWith('unix://')) return { kind: 'unix', path: host.slice('unix://'.length) };
  if (host.startsWith('tcp://')) {
    let u: URL;
    try {
      u = new URL(`http://${host.slice('tcp://'.length)}`);
    } catch (e) {
      throw new FromscratchError('DAEMON_ERROR', `${where}: ${host} is not a valid tcp:// address`, {
        hint: 'write tcp://HOST:PORT',
        cause: e,
      });
    }
    const hostname = u.hostname.replace(/^\[|\]$/g, '');
    if (!tls.enabled) return { kind: 'tcp', host: hostname, port: Number(u.port || 2375) };
    const dir = tls.certDir;
    const files =
      dir === undefined
        ? {}
        : {
            ca: await readPem(dir, 'ca.pem', tls.verify),
            cert: await readPem(dir, 'cert.pem', false),
            key: await readPem(dir, 'key.pem', false),
          };
    const clean = Object.fromEntries(Object.entries(files).filter(([, v]) => v !== undefined)) as {
      ca?: string;
      cert?: string;
      key?: string;
    };
    return {
      kind: 'tcp',
      host: hostname,
      port: Number(u.port || 2376),
      tls: { ...clean, verify: tls.verify },
    };
  }
  throw new FromscratchError('DAEMON_ERROR', `${where}: ${host} is neither unix:// nor tcp://`, {
    hint: 'set DOCKER_HOST=unix:///var/run/docker.sock or DOCKER_HOST=tcp://HOST:PORT (ssh:// and npipe:// are not supported)',
  });
}

/**
 * resolveDockerEndpoint finds the Docker Engine as the docker CLI does: `opts.socketPath`, else
 * DOCKER_HOST (with DOCKER_TLS_VERIFY / DOCKER_TLS and DOCKER_CERT_PATH), else the current context
 * (DOCKER_CONTEXT or config.json's currentContext; `default` means the default socket), else
 * /var/run/docker.sock. Throws DAEMON_ERROR for an address it cannot use or a context it cannot read.
 */
export async function resolveDockerEndpoint(
  opts: DockerDaemonOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<DockerEndpoint> {
  if (opts.socketPath) return { kind: 'unix', path: opts.socketPath };
  const configDir = env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
  const host = env.DOCKER_HOST;
  if (host !== undefined && host !== '') {
    const verify = (env.DOCKER_TLS_VERIFY ?? '') !== '';
    return parseDockerHost(host, 'DOCKER_HOST', {
      enabled: verify || (env.DOCKER_TLS ?? '') !== '',
      verify,
      certDir: env.DOCKER_CERT_PATH || configDir,
    });
  }
  let context = env.DOCKER_CONTEXT ?? '';
  if (context === '') {
    try {
      const cfg = JSON.parse(await readFile(join(configDir, 'config.json'), 'utf8')) as {
        currentContext?: unknown;
      };
      if (typeof cfg.currentContext === 'string') context = cfg.currentContext;
    } catch {
      // no config.json (or not JSON, which the docker CLI would also ignore): the default context
    }
  }
  if (context === '' || context === 'default') return { kind: 'unix', path: DEFAULT_SOCKET };
  // contexts are stored under the sha256 of their name (docker/cli context/store)
  const id = createHash('sha256').update(context).digest('hex');
  const metaFile = join(configDir, 'contexts', 'meta', id, 'meta.json');
  let meta: { Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } } };
  try {
    meta = JSON.parse(await readFile(metaFile, 'utf8')) as typeof meta;
  } catch (e) {
    throw new FromscratchError(
      'DAEMON_ERROR',
      `docker context ${JSON.stringify(context)}: cannot read ${metaFile}: ${(e as Error).message}`,
      {
        hint: 'list contexts with `docker context ls`, or choose one with `docker context use NAME` (or DOCKER_CONTEXT)',
        cause: e,
      },
    );
  }
  const ep = meta.Endpoints?.docker;
  if (typeof ep?.Host !== 'string' || ep.Host === '') {
    throw new FromscratchError(
      'DAEMON_ERROR',
      `docker context ${JSON.stringify(context)} has no docker endpoint in ${metaFile}`,
      {
        hint: 'recreate it with `docker context create NAME --docker host=…`',
      },
    );
  }
  const tlsDir = join(configDir, 'contexts', 'tls', id, 'docker');
  const hasTls =
    (await readPem(tlsDir, 'ca.pem', false)) !== undefined ||
    (await readPem(tlsDir, 'cert.pem', false)) !== undefined;
  return parseDockerHost(ep.Host, `docker context ${JSON.stringify(context)}`, {
    enabled: hasTls,
    verify: ep.SkipTLSVerify !== true,
    certDir: tlsDir,
  });
}

function daemonError(endpoint: DockerEndpoint, doing: string, e: unknown): FromscratchError {
  const socket = describeEndpoint(endpoint);
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
          : 'start the Docker Engine (dockerd), or point DOCKER_HOST (unix:///path/to/docker.sock, tcp://HOST:PORT) or the docker context at it',
      cause: e,
    },
  );
}

async function checkSocket(endpoint: DockerEndpoint, doing: string): Promise<void> {
  if (endpoint.kind !== 'unix') return; // a tcp daemon is checked by connecting
  try {
    const st = await stat(endpoint.path);
    if (!st.isSocket())
      throw Object.assign(new Error(`${endpoint.path} is not a socket`), { code: 'ENOTSOCK' });
  } catch (e) {
    throw daemonError(endpoint, doing, e);
  }
}

interface DaemonRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: AsyncIterable<Uint8Array>;
  headers?: Record<string, string>;
}

function send(
  socket: DockerEndpoint,
  req: DaemonRequest,
  doing: string,
  timeoutMs: number,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const common = {
      method: req.method,
      path: req.path,
      headers: { Host: 'docker', ...(req.headers ?? {}) },
    };
    const r =
      socket.kind === 'unix'
        ? request({ ...common, socketPath: socket.path })
        : socket.tls
          ? httpsRequest({
              ...common,
              host: socket.host,
              port: socket.port,
              ...(socket.tls.ca ? { ca: socket.tls.ca } : {}),
              ...(socket.tls.cert ? { cert: socket.tls.cert } : {}),
              ...(socket.tls.key ? { key: socket.tls.key } : {}),
              rejectUnauthorized: socket.tls.verify,
            })
          : request({ ...common, host: socket.host, port: socket.port });
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
  const socket = await resolveDockerEndpoint(opts);
  // docker load tags the image with every RepoTags entry of the archive
  const repoTags = [...new Set([tag, ...(opts.moreNames ?? []).map((n) => parseDockerName(n))])];
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
  const socket = await resolveDockerEndpoint(opts);
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
