/**
 * tiny-image.ts — small images built by hand for tests: a static "hello" program compiled with gcc at test
 * time (never committed), put in a layer with the project's own layer writer.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlobStore } from '../../src/blob/store.ts';
import { FileTreeBuilder } from '../../src/fs/file-tree.ts';
import { appendLayers, emptyImage, type Image, type Layer, withConfig } from '../../src/image/image.ts';
import { makeLayer } from '../../src/layer/make-layer.ts';
import type { Compression } from '../../src/model/media-type.ts';
import type { Platform } from '../../src/model/platform.ts';
import { requireTool, run } from './validate-tools.ts';

let helloBytes: Promise<Uint8Array> | undefined;

/** HELLO_OUTPUT is what the hello program prints. */
export const HELLO_OUTPUT = 'hello\n';

/** compileHello compiles `int main(){write(1,"hello\n",6);return 0;}` with gcc -static (once per process). */
export function compileHello(): Promise<Uint8Array> {
  helloBytes ??= (async () => {
    const gcc = requireTool('gcc', 'gcc');
    const dir = await mkdtemp(join(tmpdir(), 'fromscratch-hello-'));
    await writeFile(
      join(dir, 'hello.c'),
      '#include <unistd.h>\nint main(void){write(1,"hello\\n",6);return 0;}\n',
    );
    await run(gcc, ['-static', '-Os', '-s', '-o', join(dir, 'hello'), join(dir, 'hello.c')]);
    try {
      return await readFile(join(dir, 'hello'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return helloBytes;
}

/** TestFile is one regular file for a test layer. */
export interface TestFile {
  readonly path: string;
  readonly data: Uint8Array | string;
  readonly mode?: number;
}

/** makeTestLayer writes a layer of regular files into store. */
export async function makeTestLayer(
  store: BlobStore,
  files: readonly TestFile[],
  compression: Compression = 'gzip',
): Promise<Layer> {
  const b = new FileTreeBuilder();
  for (const f of files) {
    const data = typeof f.data === 'string' ? Buffer.from(f.data) : f.data;
    b.add({
      type: 'file',
      path: f.path,
      mode: f.mode ?? 0o644,
      uid: 0,
      gid: 0,
      size: data.byteLength,
      content: { kind: 'bytes', data },
    });
  }
  return makeLayer(b.build(), store, { compression });
}

/** HelloImageOptions varies the test image. */
export interface HelloImageOptions {
  platform?: Platform;
  compression?: Compression;
  /** an extra file in a second layer (default /etc/greeting) */
  extra?: string;
}

/** helloImage builds a two-layer image whose entrypoint /hello prints "hello". */
export async function helloImage(store: BlobStore, opts: HelloImageOptions = {}): Promise<Image> {
  const hello = await compileHello();
  const compression = opts.compression ?? 'gzip';
  const l1 = await makeTestLayer(store, [{ path: '/hello', data: hello, mode: 0o755 }], compression);
  const l2 = await makeTestLayer(
    store,
    [{ path: '/etc/greeting', data: opts.extra ?? 'hi there\n' }],
    compression,
  );
  const base = emptyImage(opts.platform ?? { os: 'linux', architecture: 'amd64' });
  return withConfig(
    appendLayers(base, [l1, l2], [{ created_by: 'test: hello' }, { created_by: 'test: greeting' }]),
    {
      Entrypoint: ['/hello'],
      Env: ['PATH=/'],
    },
  );
}
