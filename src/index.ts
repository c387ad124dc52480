/**
 * index.ts — the public API of fromscratch. The CLI imports only from here.
 *
 * @example
 * import { buildImage } from 'fromscratch';
 * const { digest } = await buildImage({ contents: [{ kind: 'binary', path: '/usr/bin/curl' }], outputs: ['oci:out:curl'] });
 */

export { dirStore, retryAfterCacheHeal } from './blob/dir-store.ts';
export { memoryStore } from './blob/memory-store.ts';
// blobs and images
export type { BlobStore } from './blob/store.ts';
export { runInterruptCleanups } from './blob/temp-files.ts';
// the static start check
export {
  type CheckOptions,
  type CheckProblem,
  type CheckReport,
  checkImageRoot,
  formatCheck,
} from './check/check.ts';
export {
  type ClosureOptions,
  type ClosureResult,
  closureToEntries,
  resolveClosure,
} from './closure/closure.ts';
export { formatDepsTree, toDepsJson } from './closure/deps-format.ts';
export type { InferOptions } from './closure/infer.ts';
// ELF and closure
export { isElf, parseElf } from './elf/parse-elf.ts';
export { readElf } from './elf/read-elf.ts';
export type { ElfInfo } from './elf/types.ts';
export {
  BUG_ERRNOS,
  ErrorCode,
  FromscratchError,
  fromSystemError,
  isFromscratchError,
  withContext,
} from './errors.ts';
// file trees and roots
export { type FileEntry, type FileTree, FileTreeBuilder } from './fs/file-tree.ts';
export { hostFs } from './fs/host-fs.ts';
export { memoryFs } from './fs/memory-fs.ts';
export { describeOrigin, type Origin } from './fs/origin.ts';
export type { RootFs } from './fs/root-fs.ts';
export {
  appendLayers,
  emptyImage,
  type Image,
  type Layer,
  serializeImage,
  withConfig,
} from './image/image.ts';
// layers and outputs
export { checkCompressionLevel, DEFAULT_GZIP_LEVEL, DEFAULT_ZSTD_LEVEL } from './layer/compress.ts';
export { makeLayer } from './layer/make-layer.ts';
export { writeTar } from './layer/tar-writer.ts';
export type { Descriptor } from './model/descriptor.ts';
// model
export { type Digest, parseDigest, sha256 } from './model/digest.ts';
export {
  type DockerReference,
  familiarDockerReference,
  formatDockerReference,
  parseDockerReference,
} from './model/docker-reference.ts';
export type {
  HistoryEntry,
  ImageConfig,
  ImageIndex,
  ImageManifest,
  RuntimeConfig,
} from './model/documents.ts';
export { type Compression, MediaType } from './model/media-type.ts';
export {
  formatPlatform,
  hostPlatform,
  KNOWN_PLATFORMS,
  type Platform,
  parsePlatform,
} from './model/platform.ts';
export {
  formatBytes,
  noProgress,
  type ProgressEvent,
  type ProgressSink,
  type ProgressTask,
  startTask,
} from './model/progress.ts';
export { checkOutput } from './oci/check-output.ts';
export { writeDockerArchive } from './oci/docker-archive.ts';
export { readImage, writeImage } from './oci/image-io.ts';
export { type ImageInspection, inspectImage as inspectImageRef } from './oci/inspect.ts';
export { readOciLayout, writeOciLayout } from './oci/oci-layout.ts';
export { formatImageRef, type ImageRef, parseImageRef, parseOutputRef } from './oci/transport.ts';
export { checkImage, validateImage } from './oci/validate.ts';
export { binaryDest, parseBinaryArg, withDefaultEntrypoint } from './orchestrate/binary-dest.ts';
export { type BuildOptions, type BuildResult, build } from './orchestrate/build.ts';
export {
  type BuildImageOptions,
  type BuildSummary,
  buildImage,
  buildImages,
} from './orchestrate/build-image.ts';
// builds
export type { BuildSpec, ContentItem } from './orchestrate/build-spec.ts';
export { cacheDir } from './orchestrate/cache-dir.ts';
export {
  checkImageStart,
  cliTransport,
  copyImageRef,
  explainImagePath,
  imageSpace,
  inspectImage,
  inspectRawDocument,
  makeSbom,
  writeReport,
} from './orchestrate/commands.ts';
export { resolveDeps } from './orchestrate/deps.ts';
export { parseAddArg } from './orchestrate/host-add.ts';
export {
  INFER_NAMES,
  type InferName,
  inferOptionsWithout,
  parseInferNames,
} from './orchestrate/infer-names.ts';
export { type InitSpecResult, initSpec, SCHEMA_PATH, SPEC_FILE } from './orchestrate/init-spec.ts';
export { loadBuildSpec, mergeSpecs } from './orchestrate/load-spec.ts';
export { runImageRef } from './orchestrate/run-image.ts';
export type { ImageStartCheck, StartCheckResult } from './orchestrate/start-check.ts';
export { copyImage, readAnyImage, writeAnyImage } from './orchestrate/transports.ts';
export { type WatchBuildOptions, watchBuild } from './orchestrate/watch.ts';
export { type Explanation, formatExplanation } from './orchestrate/why.ts';
// registries
export { pullImage, pullImages } from './registry/pull.ts';
export { pushImage } from './registry/push.ts';
export { parseReference } from './registry/reference.ts';
export {
  DEFAULT_DEPTH,
  formatSpaceTree,
  formatTop,
  type ImageSpace,
  SPACE_BY,
  type SpaceBy,
  spaceTree,
  topFiles,
  totalBytes,
} from './report/space.ts';
export { toCycloneDx } from './sbom/cyclonedx.ts';
// SBOM
export { toSpdx } from './sbom/spdx.ts';
export { checkSecret } from './trace/secrets.ts';
// tracing
export { traceCommand } from './trace/trace.ts';
export { splitShellWords } from './yaml/shell-words.ts';
