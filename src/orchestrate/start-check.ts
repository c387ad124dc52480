/**
 * start-check.ts — the static start check (src/check) over a build's tree or over any image.
 *
 * A build checks the tree it is about to write, laid over its base image (unpacked safely into a private
 * temporary directory when there is one); `fromscratch check IMAGE` unpacks the image the same way. The
 * check itself never runs anything.
 */
import { rm } from 'node:fs/promises';
import type { BlobStore } from '../blob/store.ts';
import { type CheckReport, checkImageRoot, formatCheck } from '../check/check.ts';
import { FromscratchError } from '../errors.ts';
import type { FileTree } from '../fs/file-tree.ts';
import { hostFs } from '../fs/host-fs.ts';
import { memoryFs } from '../fs/memory-fs.ts';
import type { Origin } from '../fs/origin.ts';
import { type OverlayEntry, overlayFs } from '../fs/overlay-fs.ts';
import type { RootFs } from '../fs/root-fs.ts';
import type { Image } from '../image/image.ts';
import { formatPlatform, type Platform, platformMatches } from '../model/platform.ts';
import { checkSecretDestination } from '../trace/secrets.ts';
import { makeUnpackDir, unpackImage } from '../unpack/unpack.ts';
import { readAnyImage, type TransportOptions } from './transports.ts';

/** ImageStartCheck is the check of one platform of an image. */
export interface ImageStartCheck {
  /** `os/arch[/variant]` */
  readonly platform: string;
  /** true when no problem was found */
  readonly starts: boolean;
  readonly report: CheckReport;
}

/** StartCheckResult is what `fromscratch check IMAGE` reports. */
export interface StartCheckResult {
  readonly reference: string;
  readonly images: readonly ImageStartCheck[];
}

/** withImageRoot unpacks an image's layers into a private temporary root, calls `f` on it, and removes it. */
async function withImageRoot<T>(image: Image, store: BlobStore, f: (fs: RootFs) => Promise<T>): Promise<T> {
  const dir = await makeUnpackDir();
  try {
    await unpackImage({ image, store }, dir, { chown: false });
    return await f(hostFs(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * checkImageRef reads an image from any transport (registries included) and checks, without running
 * it, that each of its platforms (or only `platform`) can start. Throws the errors of reading and
 * unpacking the image; problems found are in the result, not thrown.
 */
export async function checkImageRef(
  ref: string,
  o: TransportOptions,
  opts: { platform?: Platform } = {},
): Promise<StartCheckResult> {
  const set = await readAnyImage(ref, o, opts.platform ? { platform: opts.platform } : {});
  try {
    const images: ImageStartCheck[] = [];
    for (const image of set.images) {
      if (opts.platform && !platformMatches(image.platform, opts.platform)) continue;
      const report = await withImageRoot(image, set.store, (fs) =>
        checkImageRoot(fs, image.config, {
          architecture: image.platform.architecture,
          secretReason: secretReasonOf,
        }),
      );
      images.push({ platform: formatPlatform(image.platform), starts: report.problems.length === 0, report });
    }
    return { reference: ref, images };
  } finally {
    await set.close();
  }
}

/** BuiltTreeFacts is what a build already knows about its tree. */
export interface BuiltTreeFacts {
  /** why each path is in the image, to tailor the fixes */
  readonly origins: ReadonlyMap<string, readonly Origin[]>;
  /** image paths of ELF objects whose every library the closure found, with those files in the tree */
  readonly resolved?: readonly string[];
  /** whether the build's root has a path (check.ts CheckOptions.rootHas) */
  readonly rootHas?: (path: string) => Promise<boolean>;
  /** the account names of the build's root (check.ts CheckOptions.rootAccounts) */
  readonly rootAccounts?: ReadonlySet<string>;
}

/**
 * checkBuiltTree checks the image a build is about to write: `tree` (the new layer) over `base` (whose
 * layers are in `store`), with the runtime config of the final image.
 */
export async function checkBuiltTree(
  tree: FileTree,
  image: Image,
  base: Image,
  store: BlobStore,
  facts: BuiltTreeFacts,
): Promise<CheckReport> {
  const host = hostFs('/');
  // over a base image, directories are implied by their entries, left out so that a base directory's
  // listing shows through; over nothing, they are shown with their mode and owner (the user must enter them)
  const entries: OverlayEntry[] = [];
  const files: string[] = [];
  const links: string[] = [];
  for (const e of tree.entries) {
    if (e.type === 'dir' && base.layers.length > 0) continue;
    if (e.type === 'file' && e.content.kind === 'host') entries.push({ entry: e, hostPath: e.content.path });
    else entries.push({ entry: e });
    if (e.type === 'file' || e.type === 'hardlink') files.push(e.path);
    else if (e.type === 'symlink') links.push(e.path);
  }
  const run = (baseFs: RootFs, all: boolean) =>
    checkImageRoot(overlayFs(baseFs, entries, host), image.config, {
      architecture: image.platform.architecture,
      origins: facts.origins,
      ...(facts.resolved ? { resolved: facts.resolved } : {}),
      ...(facts.rootHas ? { rootHas: facts.rootHas } : {}),
      ...(facts.rootAccounts ? { rootAccounts: facts.rootAccounts } : {}),
      secretReason: secretReasonOf,
      ...(all ? {} : { files, links }),
    });
  if (base.layers.length === 0) return run(memoryFs({}), false);
  return withImageRoot(base, store, (fs) => run(fs, true));
}

/** secretReasonOf is why an image path is a secret no image gets (trace/secrets.ts), for the check's messages. */
function secretReasonOf(path: string): string | undefined {
  const v = checkSecretDestination(path);
  return v.refuse ? v.reason : undefined;
}

/** startCheckError is IMAGE_CANNOT_START for a report with problems (`--strict`). */
export function startCheckError(report: CheckReport, platform: string): FromscratchError {
  const first = report.problems[0];
  const what = report.program ?? report.command?.[0] ?? 'the image';
  const n = report.problems.length;
  return new FromscratchError(
    'IMAGE_CANNOT_START',
    `${what} (${platform}) would not start: ${first?.message ?? 'problems found'}${n > 1 ? `; ${n - 1} more (see the warnings above)` : ''}`,
    {
      hint: `${first?.fix ?? 'see the warnings above'}; or build without --strict to write the image anyway`,
    },
  );
}

/** formatStartCheck renders a report's lines for stderr (re-exported for the CLI). */
export const formatStartCheck = formatCheck;
