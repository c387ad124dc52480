/**
 * commands.ts — the library entries of the small commands (inspect, why, sbom, copy) with the default
 * blob cache and registry settings, so the CLI only parses argv and prints.
 */
import { join, resolve } from 'node:path';
import { dirStore, writeFileAtomic } from '../blob/dir-store.ts';
import { FromscratchError } from '../errors.ts';
import type { Platform } from '../model/platform.ts';
import type { ProgressSink } from '../model/progress.ts';
import { type ImageInspection, inspectImageSet, readRawConfig, readRawManifest } from '../oci/inspect.ts';
import { parseImageRef } from '../oci/transport.ts';
import type { RegistryClientOptions } from '../registry/client.ts';
import { toReportHtml } from '../report/html.ts';
import type { ImageSpace } from '../report/space.ts';
import { cacheDir } from './cache-dir.ts';
import { explainPath, makeSbom as makeSbomFrom, type SbomOptions, TOOL_VERSION } from './explain.ts';
import { readImageSpace } from './image-space.ts';
import { checkImageRef, type StartCheckResult } from './start-check.ts';
import { copyImage, readAnyImage, type TransportOptions } from './transports.ts';
import { type Explanation, explainEveryFile } from './why.ts';

/**
 * cliTransport returns transport settings over the blob cache, with extra insecure registries, a cert dir,
 * and where registry blob transfers and retries are reported.
 */
export function cliTransport(
  insecure: readonly string[] = [],
  certDir?: string,
  progress?: ProgressSink,
): TransportOptions {
  const registry: RegistryClientOptions = {
    ...(insecure.length > 0 ? { insecure } : {}),
    ...(certDir ? { certDir } : {}),
    ...(progress ? { progress } : {}),
  };
  return { store: dirStore(join(cacheDir(), 'blobs'), { fsync: false, cache: true }), registry };
}

/** inspectImage describes an image of any transport: config, layers, files. */
export async function inspectImage(
  ref: string,
  opts: { files?: boolean; insecure?: readonly string[]; progress?: ProgressSink } = {},
): Promise<ImageInspection> {
  const set = await readAnyImage(ref, cliTransport(opts.insecure, undefined, opts.progress));
  try {
    return await inspectImageSet(set, ref, { files: opts.files !== false });
  } finally {
    await set.close();
  }
}

/**
 * inspectRawDocument returns an image's manifest (or index) bytes as stored (`what: 'manifest'`, for
 * `inspect --raw`), or its config bytes (`what: 'config'`, for `inspect --config`), with no layer read.
 * `stored` is false where the source keeps no manifest (docker-archive, docker-daemon).
 */
export async function inspectRawDocument(
  ref: string,
  what: 'manifest' | 'config',
  opts: { insecure?: readonly string[]; platform?: Platform; progress?: ProgressSink } = {},
): Promise<{ bytes: Uint8Array; stored: boolean }> {
  const set = await readAnyImage(ref, cliTransport(opts.insecure, undefined, opts.progress), {
    documentsOnly: true,
    ...(opts.platform ? { platform: opts.platform } : {}),
  });
  try {
    if (what === 'manifest') {
      const raw = await readRawManifest(set);
      // a registry serves the manifest; read without its layers it is not kept in the store, but the
      // image carries the bytes fetched (checked against their digest), so they are the stored ones
      return { bytes: raw.bytes, stored: raw.stored || parseImageRef(ref).kind === 'registry' };
    }
    return { bytes: readRawConfig(set, opts.platform).bytes, stored: true };
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
  opts: { insecure?: readonly string[]; platform?: Platform; progress?: ProgressSink } = {},
): Promise<StartCheckResult> {
  return checkImageRef(
    ref,
    cliTransport(opts.insecure, undefined, opts.progress),
    opts.platform ? { platform: opts.platform } : {},
  );
}

/** explainImagePath explains why a path is in an image built on this machine. */
export function explainImagePath(
  ref: string,
  path: string,
  opts: { insecure?: readonly string[]; progress?: ProgressSink } = {},
): Promise<Explanation> {
  return explainPath(ref, path, cliTransport(opts.insecure, undefined, opts.progress));
}

/**
 * makeSbom renders the SPDX or CycloneDX SBOM of any image: from its build record when it was built
 * here (or carries one), else from its own files and dpkg data; `onSource` is told which.
 */
export function makeSbom(
  ref: string,
  format: 'spdx' | 'cyclonedx',
  opts: { insecure?: readonly string[]; progress?: ProgressSink } & SbomOptions = {},
): Promise<Record<string, unknown>> {
  return makeSbomFrom(ref, format, {
    ...cliTransport(opts.insecure, undefined, opts.progress),
    ...(opts.onSource ? { onSource: opts.onSource } : {}),
    ...(opts.platform ? { platform: opts.platform } : {}),
  });
}

/** copyImageRef copies an image between transports and returns the digest written. */
export function copyImageRef(
  src: string,
  dest: string,
  opts: { insecure?: readonly string[]; certDir?: string; progress?: ProgressSink } = {},
): Promise<string> {
  // blob transfers and retries are reported by the registry client
  return copyImage(src, dest, cliTransport(opts.insecure, opts.certDir, opts.progress));
}

/** imageSpace reads an image of any transport for the size views (`inspect --by`, `--top`). */
export async function imageSpace(
  ref: string,
  opts: { insecure?: readonly string[]; progress?: ProgressSink } = {},
): Promise<ImageSpace> {
  return (await readImageSpace(ref, cliTransport(opts.insecure, undefined, opts.progress))).space;
}

/**
 * writeReport writes the HTML report of an image (report/html.ts) to `out`, atomically (the file holds
 * its old content or the whole page). Throws OUTPUT_UNWRITABLE when `out` cannot be written.
 */
export async function writeReport(
  ref: string,
  out: string,
  opts: { insecure?: readonly string[]; progress?: ProgressSink } = {},
): Promise<{ files: number; bytes: number }> {
  const r = await readImageSpace(ref, cliTransport(opts.insecure, undefined, opts.progress));
  const html = toReportHtml({
    space: r.space,
    manifestDigest: r.manifestDigest,
    config: r.config,
    ...(r.record ? { why: explainEveryFile(r.record) } : {}),
    toolVersion: TOOL_VERSION,
  });
  const data = Buffer.from(html, 'utf8');
  try {
    await writeFileAtomic(resolve(out), data, { fsync: false });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (typeof err.code !== 'string') throw e;
    throw new FromscratchError('OUTPUT_UNWRITABLE', `cannot write the report to ${out}: ${err.code}`, {
      hint: 'name a file in an existing, writable directory with -o',
      cause: e,
    });
  }
  return { files: r.space.files.length, bytes: data.byteLength };
}
