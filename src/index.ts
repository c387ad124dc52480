/**
 * index.ts — the public API of fromscratch. The CLI imports only from here.
 *
 * @example
 * import { buildImage } from 'fromscratch';
 * const { digest } = await buildImage({ contents: [{ kind: 'binary', path: '/usr/bin/curl' }], outputs: ['oci:out:curl'] });
 */
export {
  BUG_ERRNOS,
  ErrorCode,
  FromscratchError,
  fromSystemError,
  isFromscratchError,
  withContext,
} from './errors.ts';

// model
export { type Digest, parseDigest, sha256 } from './model/digest.ts';
export { MediaType, type Compression } from './model/media-type.ts';
export { type Platform, formatPlatform, hostPlatform, parsePlatform } from './model/platform.ts';
export type { Descriptor } from './model/descriptor.ts';
export type { ImageConfig, ImageIndex, ImageManifest, RuntimeConfig, HistoryEntry } from './model/documents.ts';
export {
  type DockerReference,
  familiarDockerReference,
  formatDockerReference,
  parseDockerReference,
} from './model/docker-reference.ts';

// blobs and images
export type { BlobStore } from './blob/store.ts';
export { memoryStore } from './blob/memory-store.ts';
export { dirStore, retryAfterCacheHeal } from './blob/dir-store.ts';
export { type Image, type Layer, appendLayers, emptyImage, serializeImage, withConfig } from './image/image.ts';

// file trees and roots
export { type FileEntry, type FileTree, FileTreeBuilder } from './fs/file-tree.ts';
export type { RootFs } from './fs/root-fs.ts';
export { hostFs } from './fs/host-fs.ts';
export { memoryFs } from './fs/memory-fs.ts';
export { type Origin, describeOrigin } from './fs/origin.ts';

// ELF and closure
export { isElf, parseElf } from './elf/parse-elf.ts';
export { readElf } from './elf/read-elf.ts';
export type { ElfInfo } from './elf/types.ts';
export { type ClosureOptions, type ClosureResult, closureToEntries, resolveClosure } from './closure/closure.ts';
export { formatDepsTree, toDepsJson } from './closure/deps-format.ts';

// layers and outputs
export { makeLayer } from './layer/make-layer.ts';
export { writeTar } from './layer/tar-writer.ts';
export { type ImageRef, formatImageRef, parseImageRef, parseOutputRef } from './oci/transport.ts';
export { checkOutput } from './oci/check-output.ts';
export { readImage, writeImage } from './oci/image-io.ts';
export { readOciLayout, writeOciLayout } from './oci/oci-layout.ts';
export { writeDockerArchive } from './oci/docker-archive.ts';
export { type ImageInspection, inspectImage as inspectImageRef } from './oci/inspect.ts';
export { checkImage, validateImage } from './oci/validate.ts';

// registries
export { pullImage, pullImages } from './registry/pull.ts';
export { pushImage } from './registry/push.ts';
export { parseReference } from './registry/reference.ts';

// tracing
export { traceCommand } from './trace/trace.ts';
export { checkSecret } from './trace/secrets.ts';
export { splitShellWords } from './spec/shell-words.ts';

// SBOM
export { toSpdx } from './sbom/spdx.ts';
export { toCycloneDx } from './sbom/cyclonedx.ts';

// builds
export type { BuildSpec, ContentItem } from './build/spec.ts';
export { build, type BuildOptions, type BuildResult } from './build/build.ts';
export { buildImage, type BuildImageOptions, type BuildSummary } from './build/build-image.ts';
export { cacheDir } from './build/cache-dir.ts';
export { runInterruptCleanups } from './blob/temp-files.ts';
export { loadBuildSpec, mergeSpecs } from './build/load-spec.ts';
export { parseAddArg } from './build/host-add.ts';
export { binaryDest, parseBinaryArg, withDefaultEntrypoint } from './build/binary-dest.ts';
export { resolveDeps } from './build/deps.ts';
export { type Explanation, formatExplanation } from './build/why.ts';
export { copyImage, readAnyImage, writeAnyImage } from './build/transports.ts';
export {
  checkImageStart,
  cliTransport,
  copyImageRef,
  explainImagePath,
  inspectImage,
  inspectRawDocument,
  makeSbom,
} from './build/commands.ts';
export type { ImageStartCheck, StartCheckResult } from './build/start-check.ts';

// the static start check
export {
  type CheckOptions,
  type CheckProblem,
  type CheckReport,
  checkImageRoot,
  formatCheck,
} from './check/check.ts';
export { runImageRef } from './build/run-image.ts';
