/**
 * explain.ts — `why` and `sbom` over any image: its build record joined with what its layers hold.
 */
import { createHash } from 'node:crypto';
import { TarReader } from '../codec/tar-reader.ts';
import { FromscratchError, isFromscratchError } from '../errors.ts';
import type { Origin } from '../fs/origin.ts';
import { serializeImage } from '../image/image.ts';
import type { Digest } from '../model/digest.ts';
import { MediaType } from '../model/media-type.ts';
import { formatPlatform, hostPlatform, type Platform, platformMatches } from '../model/platform.ts';
import { openLayerTar } from '../oci/decompress.ts';
import type { ImageSet } from '../oci/image-set.ts';
import { toCycloneDx } from '../sbom/cyclonedx.ts';
import type { SbomFile, SbomInput, SbomPackage } from '../sbom/sbom-input.ts';
import { toSpdx } from '../sbom/spdx.ts';
import { isDpkgData, packageOrigins, readImageDpkg } from './image-dpkg.ts';
import type { BuildRecord } from './record.ts';
import { parseRecord, readRecord } from './record-cache.ts';
import { readAnyImage, type TransportOptions } from './transports.ts';
import { type Explanation, explainFromRecord } from './why.ts';

/** VERSION of the tool written into SBOMs. */
export const TOOL_VERSION = '0.1.0';

/** pickHost returns the index of the image of the host platform (or the only one) in a set. */
export function pickHost(set: ImageSet): number {
  if (set.images.length === 1) return 0;
  const i = set.images.findIndex((img) => platformMatches(img.platform, hostPlatform()));
  return i >= 0 ? i : 0;
}

/**
 * recordOf finds the build record of image `i` of a set: on this machine (by manifest digest, or config
 * digest for images back from the Docker Engine), else attached to the image where it is (an OCI layout
 * or a registry holding an artifact from `build --attach-record`).
 */
export async function recordOf(
  set: ImageSet,
  i: number,
  ref: string,
  recordDir?: string,
): Promise<BuildRecord> {
  const digest = set.manifests[i]!.digest as Digest;
  const r =
    (await readRecord(digest, recordDir)) ??
    (await readRecord(serializeImage(set.images[i]!).configDescriptor.digest, recordDir));
  if (r) return r;
  const attached = await set.findArtifact?.(digest, MediaType.BuildRecord);
  if (attached) {
    const what = `the build record attached to ${ref} (${digest})`;
    const rec = parseRecord(
      Buffer.from(attached).toString('utf8'),
      what,
      'rebuild the image with --attach-record',
    );
    if (rec.manifestDigest !== digest) {
      throw new FromscratchError('INVALID_IMAGE', `${what} describes ${rec.manifestDigest}`, {
        hint: 'the artifact does not belong to this image; rebuild it with --attach-record',
      });
    }
    return rec;
  }
  throw new FromscratchError('IMAGE_NOT_FOUND', `no build record for ${ref} (${digest})`, {
    hint: 'why and sbom need the record of the build: build the image on this machine, or build it with --attach-record so that the record travels with it in OCI layouts and registries',
  });
}

/** explainPath reads the image and its build record and explains why `path` is in it. */
export async function explainPath(
  ref: string,
  path: string,
  o: TransportOptions & { recordDir?: string },
): Promise<Explanation> {
  // the record says why; the layers are not needed (a registry image is not pulled whole)
  const set = await readAnyImage(ref, o, { documentsOnly: true });
  try {
    return await explainFromRecord(await recordOf(set, pickHost(set), ref, o.recordDir), path);
  } finally {
    await set.close();
  }
}

/** hashImageFiles returns the regular files of an image's merged layers with SHA-256, SHA-1 and size (last layer wins). */
export async function hashImageFiles(
  set: ImageSet,
  i: number,
  keep?: { want(path: string): boolean; files: Map<string, Uint8Array> },
): Promise<Map<string, { sha256: string; sha1: string; size: number }>> {
  const out = new Map<string, { sha256: string; sha1: string; size: number }>();
  let kept = 0;
  for (const layer of set.images[i]!.layers) {
    const reader = new TarReader(openLayerTar(set.store, layer.blob));
    for (let e = await reader.next(); e; e = await reader.next()) {
      const name = `/${e.name.replace(/^\.?\/+/, '').replace(/\/+$/, '')}`;
      const base = name.slice(name.lastIndexOf('/') + 1);
      if (base.startsWith('.wh.')) {
        const dir = name.slice(0, name.lastIndexOf('/'));
        if (base === '.wh..wh..opq') {
          for (const k of [...out.keys()]) if (k.startsWith(`${dir}/`)) out.delete(k);
        } else {
          out.delete(`${dir}/${base.slice(4)}`);
        }
        continue;
      }
      if (e.type !== 'file') {
        out.delete(name);
        continue;
      }
      const h = createHash('sha256');
      // small files the caller wants too (dpkg data), up to 64 MiB in all
      const take = keep?.want(name) === true && kept + e.size <= 64 * 1024 * 1024;
      const chunks: Uint8Array[] = [];
      const h1 = createHash('sha1'); // SPDX 2.3 requires SHA1 of every file
      for await (const c of reader.body()) {
        h.update(c);
        h1.update(c);
        if (take) chunks.push(c);
      }
      out.set(name, { sha256: h.digest('hex'), sha1: h1.digest('hex'), size: e.size });
      if (take && keep) {
        kept += e.size;
        keep.files.set(name, Buffer.concat(chunks));
      } else keep?.files.delete(name);
    }
  }
  return out;
}

/** makeSbom renders the SBOM of an image built on this machine. */
export async function makeSbom(
  ref: string,
  format: 'spdx' | 'cyclonedx',
  o: TransportOptions & { recordDir?: string } & SbomOptions,
): Promise<Record<string, unknown>> {
  const set = await readAnyImage(ref, o);
  try {
    return await sbomOf(set, ref, format, o.recordDir, {
      ...(o.onSource ? { onSource: o.onSource } : {}),
      ...(o.platform ? { index: pickPlatform(set, o.platform, ref) } : {}),
    });
  } finally {
    await set.close();
  }
}

/** SbomOptions configures sbomOf. */
export interface SbomOptions {
  /** told where the SBOM comes from: the build record, or the image's own files and dpkg data */
  onSource?: (source: 'record' | 'image', message: string) => void;
  /** which image of a multi-platform set (default: the host platform's, or the only one) */
  index?: number;
  /** the platform to describe, for makeSbom (an image of the set must match it) */
  platform?: Platform;
}

/** pickPlatform returns the index of the image of `platform` in a set; IMAGE_NOT_FOUND names the ones it has. */
export function pickPlatform(set: ImageSet, platform: Platform, ref: string): number {
  const i = set.images.findIndex((img) => platformMatches(img.platform, platform));
  if (i < 0)
    throw new FromscratchError('IMAGE_NOT_FOUND', `${ref} has no image for ${formatPlatform(platform)}`, {
      hint: `it has ${set.images.map((img) => formatPlatform(img.platform)).join(', ')}: pass one of them to --platform`,
    });
  return i;
}

/**
 * sbomOf renders the SBOM of one image of `set` (`opts.index`, default the host platform's), from its
 * build record when there is one, else from its own files and dpkg data, named `name`. The set is not
 * closed.
 */
export async function sbomOf(
  set: ImageSet,
  name: string,
  format: 'spdx' | 'cyclonedx',
  recordDir?: string,
  opts: SbomOptions = {},
): Promise<Record<string, unknown>> {
  const i = opts.index ?? pickHost(set);
  let record: {
    files: readonly { readonly path: string; readonly origins: readonly Origin[] }[];
    packages: readonly {
      readonly name: string;
      readonly architecture: string;
      readonly partial?: boolean;
      readonly license?: string;
      readonly source?: string;
      readonly vendor?: string;
      readonly distro?: string;
    }[];
  };
  const dpkg = { want: isDpkgData, files: new Map<string, Uint8Array>() };
  let hashes: Map<string, { sha256: string; sha1: string; size: number }>;
  try {
    record = await recordOf(set, i, name, recordDir);
    hashes = await hashImageFiles(set, i);
    opts.onSource?.('record', 'from the build record: every file with the reason it is there');
  } catch (e) {
    if (!isFromscratchError(e, 'IMAGE_NOT_FOUND') || !/no build record/.test(e.message)) throw e;
    // not built here: what the image itself says (its files, and its dpkg data, as scanners read it)
    hashes = await hashImageFiles(set, i, dpkg);
    const pkgs = readImageDpkg(dpkg.files);
    const owners = packageOrigins(pkgs);
    record = {
      files: [...hashes.keys()].map((path) => ({ path, origins: owners.get(path) ?? [] })),
      packages: pkgs.map((p) => ({
        name: p.name,
        version: p.version,
        architecture: p.architecture,
        ...(p.source ? { source: p.source } : {}),
      })),
    };
    opts.onSource?.(
      'image',
      `from the image alone (no build record): ${hashes.size} files, ${pkgs.length} packages from its dpkg data${pkgs.length === 0 ? ' (none found)' : ''}`,
    );
  }
  const origins = new Map(record.files.map((f) => [f.path, f.origins] as const));
  const files: SbomFile[] = [...hashes.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, h]) => ({
      path,
      ...h,
      origins: origins.get(path) ?? ([{ kind: 'base', image: 'base image' }] as Origin[]),
    }));
  const packages = new Map<string, SbomPackage & { files: string[] }>();
  for (const f of files) {
    for (const og of f.origins) {
      if (og.kind !== 'package') continue;
      const key = `${og.name}:${og.architecture}`;
      const known = record.packages.find((p) => p.name === og.name && p.architecture === og.architecture);
      const p = packages.get(key) ?? {
        name: og.name,
        version: og.version,
        architecture: og.architecture,
        files: [],
        ...(known?.partial ? { partial: true } : {}),
        ...(known?.license ? { license: known.license } : {}),
        ...(known?.source ? { source: known.source } : {}),
        ...(known?.vendor ? { vendor: known.vendor } : {}),
        ...(known?.distro ? { distro: known.distro } : {}),
      };
      p.files.push(f.path);
      packages.set(key, p);
    }
  }
  const input: SbomInput = {
    name,
    digest: set.manifests[i]!.digest,
    platform: formatPlatform(set.images[i]!.platform),
    created: set.images[i]!.created ?? '1970-01-01T00:00:00Z',
    files,
    packages: [...packages.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    toolVersion: TOOL_VERSION,
  };
  return format === 'spdx' ? toSpdx(input) : toCycloneDx(input);
}
