/**
 * image-space.ts — the data of `inspect --by/--top` and `report`: an image's files with their sizes,
 * layers, packages and origins.
 *
 * Packages and origins come from the build record when the image was built by fromscratch (on this
 * machine, or with the record attached); otherwise from the dpkg data inside the image (`info/*.list`,
 * `status.d/*.md5sums`); otherwise they are `unknown`. Nothing in the image is executed: layers are
 * read with the strict tar reader, only dpkg's small text files are read whole (bounded).
 */

import { TarReader } from '../codec/tar-reader.ts';
import { isFromscratchError } from '../errors.ts';
import { toImageConfig } from '../image/image.ts';
import type { ImageConfig } from '../model/documents.ts';
import { formatPlatform } from '../model/platform.ts';
import { openLayerTar } from '../oci/decompress.ts';
import { DPKG_OWNER_FILE, toDpkgOwners } from '../report/dpkg-owners.ts';
import { groupOrigins } from '../report/origin-group.ts';
import type { ImageSpace, SpaceFile, SpaceLayer } from '../report/space.ts';
import { pickHost, recordOf } from './explain.ts';
import type { BuildRecord } from './record.ts';
import { readAnyImage, type TransportOptions } from './transports.ts';

/** MAX_DPKG_FILE is the largest dpkg owner file read (a .list of a big package is ~1 MB). */
const MAX_DPKG_FILE = 16 * 1024 * 1024;
/** MAX_DPKG_TOTAL bounds the dpkg text read from one image. */
const MAX_DPKG_TOTAL = 256 * 1024 * 1024;

/** ImageSpaceResult is the space data of an image with what the report shows beside it. */
export interface ImageSpaceResult {
  readonly space: ImageSpace;
  readonly config: ImageConfig;
  readonly manifestDigest: string;
  /** the build record, when the image has one */
  readonly record?: BuildRecord;
}

/** wellFormed shows the bytes of a non-UTF-8 name (lone surrogates after surrogateescape) as U+FFFD. */
function wellFormed(s: string): string {
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/**
 * readImageSpace reads the image of the host platform (or the only one) of `ref` and returns its files
 * with sizes, layers, packages and origins. Throws the errors of reading the image and its layers.
 */
export async function readImageSpace(
  ref: string,
  o: TransportOptions & { recordDir?: string },
): Promise<ImageSpaceResult> {
  const set = await readAnyImage(ref, o);
  try {
    const i = pickHost(set);
    const img = set.images[i]!;
    let record: BuildRecord | undefined;
    try {
      record = await recordOf(set, i, ref, o.recordDir);
    } catch (e) {
      if (!isFromscratchError(e, 'IMAGE_NOT_FOUND')) throw e;
    }
    const made = img.history.filter((h) => h.empty_layer !== true);
    const merged = new Map<string, { size: number; layer: number }>();
    const perLayer: { path: string; size: number }[][] = [];
    const dpkgText = new Map<string, string>();
    let dpkgBytes = 0;
    for (const [li, layer] of img.layers.entries()) {
      const files: { path: string; size: number }[] = [];
      perLayer.push(files);
      const reader = new TarReader(openLayerTar(set.store, layer.blob));
      for (let e = await reader.next(); e; e = await reader.next()) {
        const name = `/${wellFormed(e.name)
          .replace(/^\.?\/+/, '')
          .replace(/\/+$/, '')}`;
        const slash = name.lastIndexOf('/');
        const base = name.slice(slash + 1);
        if (base.startsWith('.wh.')) {
          const dir = name.slice(0, slash);
          if (base === '.wh..wh..opq') {
            for (const k of [...merged.keys()]) if (k.startsWith(`${dir}/`)) merged.delete(k);
          } else {
            const gone = `${dir}/${base.slice(4)}`;
            merged.delete(gone);
            for (const k of [...merged.keys()]) if (k.startsWith(`${gone}/`)) merged.delete(k);
          }
          continue;
        }
        if (e.type !== 'file') {
          merged.delete(name);
          continue;
        }
        files.push({ path: name, size: e.size });
        merged.set(name, { size: e.size, layer: li });
        if (
          !record &&
          DPKG_OWNER_FILE.test(name) &&
          e.size <= MAX_DPKG_FILE &&
          dpkgBytes + e.size <= MAX_DPKG_TOTAL
        ) {
          const chunks: Buffer[] = [];
          for await (const c of reader.body()) chunks.push(c);
          dpkgBytes += e.size;
          dpkgText.set(name, Buffer.concat(chunks).toString('utf8'));
        }
      }
    }
    const groups = record ? groupOrigins(record.files) : undefined;
    const owners = record ? undefined : toDpkgOwners(dpkgText);
    const describe = (path: string): { origin: string; package?: string } => {
      if (groups) return groups.get(path) ?? { origin: 'unknown' };
      const pkg = owners?.get(path);
      return pkg ? { origin: `package ${pkg}`, package: pkg } : { origin: 'unknown' };
    };
    const files: SpaceFile[] = [...merged.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([path, f]) => ({ path, size: f.size, layer: f.layer, ...describe(path) }));
    const layers: SpaceLayer[] = img.layers.map((l, li) => {
      const createdBy = made.length === img.layers.length ? made[li]?.created_by : undefined;
      const holds = createdBy?.startsWith('fromscratch layer: ')
        ? createdBy.slice('fromscratch layer: '.length)
        : createdBy;
      const lf = perLayer[li]!.map((f) => {
        const d = describe(f.path);
        return { path: f.path, size: f.size, group: d.package ? `package ${d.package}` : d.origin };
      });
      return {
        digest: l.blob.digest,
        size: l.blob.size,
        ...(holds ? { holds } : {}),
        fileBytes: lf.reduce((n, f) => n + f.size, 0),
        files: lf,
      };
    });
    const space: ImageSpace = {
      reference: ref,
      platform: formatPlatform(img.platform),
      source: record ? 'record' : owners && owners.size > 0 ? 'dpkg' : 'none',
      files,
      layers,
    };
    return {
      space,
      config: toImageConfig(img),
      manifestDigest: set.manifests[i]!.digest,
      ...(record ? { record } : {}),
    };
  } finally {
    await set.close();
  }
}
