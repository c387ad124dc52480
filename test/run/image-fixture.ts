/**
 * image-fixture.ts — hand-built images for run/verify tests: programs compiled with gcc at test time,
 * packed with the in-test tar generator into a gzip layer in a memory store.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { memoryStore } from '../../src/blob/memory-store.ts';
import type { BlobStore } from '../../src/blob/store.ts';
import { appendLayers, type ConfigPatch, emptyImage, type Image, withConfig } from '../../src/image/image.ts';
import { sha256 } from '../../src/model/digest.ts';
import { MediaType } from '../../src/model/media-type.ts';
import { hostPlatform } from '../../src/model/platform.ts';
import { type GenEntry, makeTar } from './tar-gen.ts';

/** compile builds a C program with gcc (extra flags e.g. -static) and returns its bytes. */
export function compile(source: string, flags: string[] = []): Buffer {
  const d = fs.mkdtempSync(join(tmpdir(), 'fs-cc-'));
  fs.writeFileSync(join(d, 'p.c'), source);
  const r = spawnSync('gcc', [...flags, '-O1', '-o', join(d, 'p'), join(d, 'p.c')], { encoding: 'utf8' });
  assert.equal(r.error, undefined, 'gcc is required: apt-get install gcc libc6-dev');
  assert.equal(r.status, 0, r.stderr);
  const bytes = fs.readFileSync(join(d, 'p'));
  fs.rmSync(d, { recursive: true });
  return bytes;
}

/** HELLO_C prints its arguments and exits with the number given as first argument (default 0). */
export const HELLO_C = `#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  printf("hello from scratch uid=%d gid=%d", (int)getuid(), (int)getgid());
  for (int i = 1; i < argc; i++) printf(" [%s]", argv[i]);
  char cwd[256]; if (getcwd(cwd, sizeof cwd)) printf(" cwd=%s", cwd);
  const char *v = getenv("GREETING"); if (v) printf(" GREETING=%s", v);
  printf("\\n");
  return argc > 1 ? atoi(argv[1]) : 0;
}
`;

/** makeImage packs entries into one gzip layer and returns the image with its store. */
export async function makeImage(
  entries: GenEntry[],
  config: ConfigPatch,
  store: BlobStore = memoryStore(),
): Promise<{ image: Image; store: BlobStore }> {
  const tar = makeTar(entries);
  const gz = gzipSync(tar);
  const info = await store.put(gz);
  const layer = {
    blob: { mediaType: MediaType.OciLayerGzip, digest: info.digest, size: info.size },
    diffId: sha256(tar),
  };
  const image = withConfig(
    appendLayers(emptyImage(hostPlatform()), [layer], [{ created_by: 'test' }]),
    config,
  );
  return { image, store };
}
