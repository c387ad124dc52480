/**
 * launch-support.ts — what the real-program launch tests (real-launch-*.test.ts) share: a build into
 * the Docker Engine, `docker run` without network, and a server run in the background and asked with
 * its own curl. Each test builds as a user builds and compares the image's output with the same
 * program run on the host (issue 11). Images a test file builds are removed after it.
 */
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { dockerRemoveImage, requireTool, run } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

export const DIGEST = /^sha256:[a-f0-9]{64}\n$/;
const images: string[] = [];
after(async () => {
  for (const i of images) await dockerRemoveImage(i);
});

/** docker runs a command in an image without network and returns what it printed. */
export async function docker(
  image: string,
  args: readonly string[],
): Promise<{ stdout: string; stderr: string }> {
  const r = await run(
    requireTool('docker', 'docker.io'),
    ['run', '--rm', '--network', 'none', image, ...args],
    {
      timeoutMs: 120_000,
    },
  );
  return { stdout: r.stdout, stderr: r.stderr };
}

/**
 * dockerRun runs a command in an image without network: a host directory mounted (`mount` at `/w` unless
 * `at` says), a working directory, environment variables, another entrypoint or standard input when given.
 */
export function dockerRun(
  image: string,
  args: readonly string[],
  o: {
    mount?: string;
    at?: string;
    workdir?: string;
    env?: readonly string[];
    entrypoint?: string;
    allowFail?: boolean;
    /** written to the program's standard input */
    input?: string;
  } = {},
) {
  return run(
    requireTool('docker', 'docker.io'),
    [
      'run',
      '--rm',
      ...(o.input !== undefined ? ['-i'] : []),
      '--network',
      'none',
      ...(o.mount !== undefined ? ['-v', `${o.mount}:${o.at ?? '/w'}`] : []),
      ...(o.workdir !== undefined ? ['-w', o.workdir] : []),
      ...(o.env ?? []).flatMap((e) => ['-e', e]),
      ...(o.entrypoint !== undefined ? ['--entrypoint', o.entrypoint] : []),
      image,
      ...args,
    ],
    { ...(o.allowFail ? { allowFail: true } : {}), ...(o.input !== undefined ? { input: o.input } : {}) },
  );
}

/** imageSize is the unpacked size Docker reports for an image, in bytes. */
export async function imageSize(image: string): Promise<number> {
  const r = await run(requireTool('docker', 'docker.io'), [
    'image',
    'inspect',
    image,
    '--format',
    '{{.Size}}',
  ]);
  return Number(r.stdout.trim());
}

/**
 * build runs `fromscratch build` into the Docker Engine and checks it printed one digest. The layers are
 * not compressed (`--compression none`): the Engine would only decompress them again, and these tests
 * are about what the image holds; the compressed outputs have tests of their own (build, layers,
 * registry). It halves the CPU time of a launch test (initdb's: 43 s to 23 s).
 */
export async function build(dir: string, args: readonly string[], image: string, env?: NodeJS.ProcessEnv) {
  const r = await fromscratch(['build', ...args, '--compression', 'none', '-o', `docker-daemon:${image}`], {
    cwd: dir,
    timeoutMs: 600_000,
    ...(env ? { env } : {}),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, DIGEST);
  images.push(image);
  return r;
}

/** serving runs an image in the background without network, and returns docker exec of its curl and a stop. */
export async function serving(image: string) {
  const dockerBin = requireTool('docker', 'docker.io');
  const id = (await run(dockerBin, ['run', '-d', '--network', 'none', image])).stdout.trim();
  return {
    curl: async (args: readonly string[]) => {
      // the server may still be starting: a few tries
      let last = { code: 1, stdout: '', stderr: '' } as {
        code: number | null;
        stdout: string;
        stderr: string;
      };
      for (let i = 0; i < 50; i++) {
        last = await run(dockerBin, ['exec', id, '/usr/bin/curl', ...args], { allowFail: true });
        if (last.code === 0) break;
        await new Promise((res) => setTimeout(res, 200));
      }
      return last;
    },
    exec: (args: readonly string[]) => run(dockerBin, ['exec', id, ...args], { allowFail: true }),
    logs: async () => (await run(dockerBin, ['logs', id], { allowFail: true })).stderr,
    /** the user name each process of the container runs as (docker top) */
    users: async () =>
      (await run(dockerBin, ['top', id], { allowFail: true })).stdout
        .split('\n')
        .slice(1)
        .filter(Boolean)
        .map((l) => l.split(/\s+/)[0]!),
    stop: () => run(dockerBin, ['rm', '-f', id], { allowFail: true }),
  };
}

/**
 * throughProxy asks the proxy a serving container runs on `port` for a port nobody listens on, and
 * returns the page it answers with and, on its last line, the HTTP status.
 */
export async function throughProxy(s: Awaited<ReturnType<typeof serving>>, port: number) {
  const r = await s.curl([
    '-sS',
    '-x',
    `http://127.0.0.1:${port}`,
    '-o',
    '/dev/stdout',
    '-w',
    '\n%{http_code}',
    'http://127.0.0.1:1/',
  ]);
  assert.equal(r.code, 0, `${r.stderr}\n${await s.logs()}`);
  return r;
}
