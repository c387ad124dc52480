/**
 * docker-diff.test.ts — differential test against the real `docker build` (classic builder, as this
 * engine has no buildx): for a RUN-free Dockerfile both accept, the image config fromscratch derives and
 * the files its context collection lists must equal what Docker produced (docker image inspect + the
 * layers of docker save).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { extract } from 'tar-stream';
import { collectCopyItem, readDockerignore } from '../../src/dockerfile/context.ts';
import { parseDockerfile, toBuildSpec } from '../../src/dockerfile/parse.ts';
import { FileTreeBuilder } from '../../src/fs/file-tree.ts';

const TAG = `dockerfile-difftest:${process.pid}`;
const TAG2 = `dockerfile-difftest:${process.pid}-multi`;
let dir: string;

const DOCKERFILE = `FROM scratch
ARG V=1.2
ENV A=1 B="x y" C=\${V:-none}
ENV D=$A-$C PATH=/opt/bin:$PATH
LABEL org.example.v=$V "a b"=c
WORKDIR /app
COPY app/ ./
COPY hello docs/*.md /usr/local/bin/
COPY --chown=10:20 hello /opt/h
COPY app/sub /deep/er/
WORKDIR rel/dir
USER 1000:1000
EXPOSE 80 53/udp 9000-9001
VOLUME /data ["/x"]
STOPSIGNAL SIGINT
HEALTHCHECK --interval=30s --retries=2 CMD ["/usr/local/bin/hello", "health"]
ENTRYPOINT ["/usr/local/bin/hello", "a b"]
CMD echo "$HOME"
`;

// multi-stage: a stage FROM another inherits config; ENTRYPOINT resets the inherited CMD; COPY --from
const MULTI = `FROM scratch AS base
ENV A=1
WORKDIR /w
LABEL from=base
CMD ["x"]
COPY hello /bin/hello
FROM base AS final
ENV B=$A-2 A=3
LABEL final=yes
ENTRYPOINT ["/bin/hello"]
COPY --from=base /bin/hello /copied
FROM final AS unused
USER 7
`;

function dockerOk(): void {
  const r = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' });
  if (r.status !== 0) {
    assert.fail(
      `docker is not usable (${(r.stderr || r.error?.message || '').trim()}): install docker.io and start dockerd (scripts/services.sh does both)`,
    );
  }
}

interface TarEntry {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  linkname?: string;
}

async function readTar(
  buf: Buffer,
  onEntry: (name: string, h: TarEntry, data: Buffer) => void,
): Promise<void> {
  const ex = extract();
  const done = new Promise<void>((res, rej) => {
    ex.on('finish', res);
    ex.on('error', rej);
  });
  ex.on('entry', (h, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    stream.on('end', () => {
      onEntry(
        h.name,
        {
          type: h.type ?? 'file',
          mode: h.mode ?? 0,
          uid: h.uid ?? 0,
          gid: h.gid ?? 0,
          ...(h.linkname ? { linkname: h.linkname } : {}),
        },
        Buffer.concat(chunks),
      );
      next();
    });
  });
  Readable.from([buf]).pipe(ex);
  await done;
}

before(() => {
  dockerOk();
  dir = mkdtempSync(join(tmpdir(), 'fs-dockerfile-diff-'));
  mkdirSync(join(dir, 'app/sub'), { recursive: true });
  mkdirSync(join(dir, 'docs'));
  writeFileSync(join(dir, 'hello'), '#!/bin/sh\necho hi\n');
  chmodSync(join(dir, 'hello'), 0o755);
  writeFileSync(join(dir, 'app/main.py'), 'print(1)\n');
  chmodSync(join(dir, 'app/main.py'), 0o640);
  writeFileSync(join(dir, 'app/README.md'), '# ignored\n');
  writeFileSync(join(dir, 'app/sub/x.txt'), 'x\n');
  symlinkSync('../main.py', join(dir, 'app/sub/link'));
  writeFileSync(join(dir, 'docs/a.md'), 'a\n');
  writeFileSync(join(dir, 'docs/b.md'), 'b\n');
  writeFileSync(join(dir, 'docs/skip.txt'), 'no\n');
  writeFileSync(join(dir, '.dockerignore'), 'app/README.md\n');
  writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
  chmodSync(dir, 0o755);
  for (const d of ['app', 'app/sub', 'docs']) chmodSync(join(dir, d), 0o755);
  const env = { ...process.env, DOCKER_BUILDKIT: '0' };
  execFileSync('docker', ['build', '-q', '-t', TAG, '--build-arg', 'V=2', dir], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  writeFileSync(join(dir, 'Dockerfile.multi'), MULTI);
  const multi = ['build', '-q', '-t', TAG2, '--target', 'final', '-f', join(dir, 'Dockerfile.multi'), dir];
  execFileSync('docker', multi, { env, stdio: ['ignore', 'pipe', 'pipe'] });
});

after(() => {
  spawnSync('docker', ['rmi', '-f', TAG, TAG2], { stdio: 'ignore' });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fromscratch vs docker build (FROM scratch, COPY, config instructions)', () => {
  it('derives the same image config', () => {
    const plan = parseDockerfile(DOCKERFILE, { buildArgs: { V: '2' }, context: dir });
    const ours = Object.fromEntries(
      Object.entries(toBuildSpec(plan).config ?? {}).filter(([, v]) => v !== null && v !== undefined),
    );
    const theirs = JSON.parse(
      execFileSync('docker', ['image', 'inspect', TAG, '--format', '{{json .Config}}'], { encoding: 'utf8' }),
    ) as Record<string, unknown>;
    const keys = [
      'User',
      'ExposedPorts',
      'Env',
      'Entrypoint',
      'Cmd',
      'Volumes',
      'WorkingDir',
      'Labels',
      'StopSignal',
      'Healthcheck',
    ];
    for (const k of keys) assert.deepEqual(ours[k], theirs[k] ?? undefined, k);
  });

  it('derives the same config for a multi-stage --target build', () => {
    const plan = parseDockerfile(MULTI, { target: 'final', context: dir });
    const spec = toBuildSpec(plan, 'final');
    const ours = Object.fromEntries(
      Object.entries(spec.config ?? {}).filter(([, v]) => v !== null && v !== undefined),
    );
    const theirs = JSON.parse(
      execFileSync('docker', ['image', 'inspect', TAG2, '--format', '{{json .Config}}'], {
        encoding: 'utf8',
      }),
    ) as Record<string, unknown>;
    for (const k of ['User', 'Env', 'Entrypoint', 'Cmd', 'WorkingDir', 'Labels'])
      assert.deepEqual(ours[k], theirs[k] ?? undefined, k);
    assert.deepEqual(
      spec.contents.map((c) => c.kind),
      ['add', 'copy-from'],
    );
  });

  it('lists the same files, modes and owners as the layers docker wrote', async () => {
    // docker's side: every layer of `docker save`, later layers over earlier ones
    const saved = execFileSync('docker', ['save', TAG], { maxBuffer: 64 * 1024 * 1024 });
    const files = new Map<string, Buffer>();
    await readTar(saved, (name, _h, data) => files.set(name, data));
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as { Layers: string[] }[];
    const theirs = new Map<string, TarEntry>();
    for (const layer of manifest[0]!.Layers) {
      await readTar(files.get(layer)!, (name, h) => theirs.set(`/${name.replace(/\/$/, '')}`, h));
    }
    // our side: WORKDIR directories, then each COPY through the context collector
    const plan = parseDockerfile(DOCKERFILE, { buildArgs: { V: '2' }, context: dir });
    const spec = toBuildSpec(plan);
    const ignore = await readDockerignore(dir);
    const b = new FileTreeBuilder();
    for (const d of spec.directories ?? [])
      b.add({ type: 'dir', path: d.path, mode: 0o755, uid: 0, gid: 0 }, { replace: true });
    for (const item of spec.contents) {
      assert.equal(item.kind, 'add');
      if (item.kind !== 'add') continue;
      const { entries } = await collectCopyItem(item, {
        dockerignore: ignore,
        isDir: (p) => b.get(p)?.type === 'dir',
        exists: (p) => b.has(p),
      });
      for (const e of entries) b.add(e, { replace: true });
    }
    const ours = new Map(
      b
        .build()
        .entries.filter((e) => e.path !== '/')
        .map((e) => [
          e.path,
          {
            type: e.type,
            mode: e.mode,
            uid: e.uid,
            gid: e.gid,
            ...(e.type === 'symlink' ? { linkname: e.target } : {}),
          },
        ]),
    );
    const norm = (m: Map<string, TarEntry | { type: string; mode: number; uid: number; gid: number }>) =>
      [...m]
        .map(
          ([p, e]) =>
            `${p} ${e.type === 'directory' ? 'dir' : e.type} ${(e.mode & 0o7777).toString(8)} ${e.uid}:${e.gid}${'linkname' in e && e.linkname ? ` -> ${e.linkname}` : ''}`,
        )
        .sort();
    assert.deepEqual(norm(ours), norm(theirs));
  });
});
