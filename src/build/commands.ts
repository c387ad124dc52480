/**
 * commands.ts — the library entries of the small commands (inspect, why, sbom, copy) with the default
 * blob cache and registry settings, so the CLI only parses argv and prints.
 */
import { join } from 'node:path';
import { dirStore } from '../blob/dir-store.ts';
import type { Platform } from '../model/platform.ts';
import type { ProgressSink } from '../model/progress.ts';
import { type ImageInspection, inspectImageSet } from '../oci/inspect.ts';
import type { RegistryClientOptions } from '../registry/client.ts';
import { cacheDir } from './cache-dir.ts';
import { explainPath, makeSbom as makeSbomFrom } from './explain.ts';
import { checkImageRef, type StartCheckResult } from './start-check.ts';
import { copyImage, readAnyImage, type TransportOptions } from './transports.ts';
import type { Explanation } from './why.ts';

/** cliTransport returns transport settings over the blob cache, with extra insecure registries and a cert dir. */
export function cliTransport(insecure: readonly string[] = [], certDir?: string): TransportOptions {
  const registry: RegistryClientOptions = {
    ...(insecure.length > 0 ? { insecure } : {}),
    ...(certDir ? { certDir } : {}),
  };
  return { store: dirStore(join(cacheDir(), 'blobs'), { fsync: false, cache: true }), registry };
}

/** inspectImage describes an image of any transport: config, layers, files. */
export async function inspectImage(
  ref: string,
  opts: { files?: boolean; insecure?: readonly string[] } = {},
): Promise<ImageInspection> {
  const set = await readAnyImage(ref, cliTransport(opts.insecure));
  try {
    return await inspectImageSet(set, ref, { files: opts.files !== false });
  } finally {
    await set.close();
  }
}

/**
 * checkImageStart runs the static start check on an image of any transport (each platform, or only
 * `platform`): what would fail when a container of it starts. Problems are in the result, not thrown.
 */
export function checkImageStart(
  ref: string,
  opts: { insecure?: readonly string[]; platform?: Platform } = {},
): Promise<StartCheckResult> {
  return checkImageRef(ref, cliTransport(opts.insecure), opts.platform ? { platform: opts.platform } : {});
}

/** explainImagePath explains why a path is in an image built on this machine. */
export function explainImagePath(
  ref: string,
  path: string,
  opts: { insecure?: readonly string[] } = {},
): Promise<Explanation> {
  return explainPath(ref, path, cliTransport(opts.insecure));
}

/** makeSbom renders the SPDX or CycloneDX SBOM of an image built on this machine. */
export function makeSbom(
  ref: string,
  format: 'spdx' | 'cyclonedx',
  opts: { insecure?: readonly string[] } = {},
): Promise<Record<string, unknown>> {
  return makeSbomFrom(ref, format, cliTransport(opts.insecure));
}

/** copyImageRef copies an image between transports and returns the digest written. */
export function copyImageRef(
  src: string,
  dest: string,
  opts: { insecure?: readonly string[]; progress?: ProgressSink } = {},
): Promise<string> {
  const t = cliTransport(opts.insecure);
  // blob transfers and retries are reported by the registry client
  return copyImage(
    src,
    dest,
    opts.progress ? { ...t, registry: { ...t.registry, progress: opts.progress } } : t,
  );
}
