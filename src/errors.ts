/**
 * errors.ts — the one error type of fromscratch, with a closed list of stable codes.
 *
 * User-fixable conditions throw {@link FromscratchError}; bugs are plain `Error`s.
 * The CLI renders `error[CODE]: message` then `hint: …` (see cli/render-error.ts).
 */

/** ErrorCode is the closed, documented list of stable error codes. Never rename one: users script on them. */
export const ErrorCode = {
  /** a command-line flag or argument is malformed (exit 2) */
  USAGE: 'USAGE',
  /** a value given by the user (flag, spec key) is invalid */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** an image reference or transport name does not parse */
  INVALID_REFERENCE: 'INVALID_REFERENCE',
  /** a digest string is not `sha256:<64 lowercase hex>` */
  INVALID_DIGEST: 'INVALID_DIGEST',
  /** bytes read do not hash to the expected digest */
  DIGEST_MISMATCH: 'DIGEST_MISMATCH',
  /** bytes read are shorter or longer than the descriptor says */
  SIZE_MISMATCH: 'SIZE_MISMATCH',
  /** a blob is not in the store */
  BLOB_NOT_FOUND: 'BLOB_NOT_FOUND',
  /** an input file or directory does not exist */
  FILE_NOT_FOUND: 'FILE_NOT_FOUND',
  /** an input file changed (size, mtime or type) between being scanned and being written into a layer */
  FILE_CHANGED: 'FILE_CHANGED',
  /** an input file exists but cannot be read (permissions, I/O error) */
  FILE_UNREADABLE: 'FILE_UNREADABLE',
  /** two entries were requested for one path in the image */
  PATH_CONFLICT: 'PATH_CONFLICT',
  /** a path would escape the root, context or output it must stay in */
  PATH_ESCAPE: 'PATH_ESCAPE',
  /** a path is longer or deeper than the limits allow */
  PATH_TOO_LONG: 'PATH_TOO_LONG',
  /** an output cannot be written (permissions, not a directory, planted symlink) */
  OUTPUT_UNWRITABLE: 'OUTPUT_UNWRITABLE',
  /** an OCI layout, archive or document is malformed or missing parts */
  INVALID_IMAGE: 'INVALID_IMAGE',
  /** a tag, platform or image is not in the layout, archive or daemon named */
  IMAGE_NOT_FOUND: 'IMAGE_NOT_FOUND',
  /** a manifest/index is ambiguous (CVE-2021-41190 class) */
  AMBIGUOUS_MANIFEST: 'AMBIGUOUS_MANIFEST',
  /** a JSON document, tar header or decompressed stream is over its size cap */
  TOO_LARGE: 'TOO_LARGE',
  /** a tar archive is truncated, has a bad checksum or a forbidden entry */
  INVALID_ARCHIVE: 'INVALID_ARCHIVE',
  /** compressed bytes do not match their declared media type, or are corrupt */
  INVALID_COMPRESSION: 'INVALID_COMPRESSION',
  /** a requested compression is not available on this Node.js */
  UNSUPPORTED_COMPRESSION: 'UNSUPPORTED_COMPRESSION',
  /** the file is not a valid ELF object (truncated, hostile offsets) */
  MALFORMED_ELF: 'MALFORMED_ELF',
  /** a --binary is neither ELF nor a #! script */
  NOT_EXECUTABLE: 'NOT_EXECUTABLE',
  /** a shared library needed by a program cannot be found in the root */
  LIBRARY_NOT_FOUND: 'LIBRARY_NOT_FOUND',
  /** a program is for another architecture than the root being resolved */
  ARCH_MISMATCH: 'ARCH_MISMATCH',
  /** a file that looks like a secret was about to be put in an image */
  SECRET_REFUSED: 'SECRET_REFUSED',
  /** a traced command failed or could not be started */
  TRACE_FAILED: 'TRACE_FAILED',
  /** a tool fromscratch needs (strace, runc, docker) is missing */
  TOOL_MISSING: 'TOOL_MISSING',
  /** running an image failed before the container started */
  RUN_FAILED: 'RUN_FAILED',
  /** --verify found the command fails inside the image */
  VERIFY_FAILED: 'VERIFY_FAILED',
  /** the static start check found the image cannot start (an error under --strict, else warnings) */
  IMAGE_CANNOT_START: 'IMAGE_CANNOT_START',
  /** the Docker Engine could not be reached or refused a request */
  DAEMON_ERROR: 'DAEMON_ERROR',
  /** a registry answered with an error */
  REGISTRY_ERROR: 'REGISTRY_ERROR',
  /** a registry refused our credentials */
  REGISTRY_UNAUTHORIZED: 'REGISTRY_UNAUTHORIZED',
  /** a network request failed after its retries */
  NETWORK_ERROR: 'NETWORK_ERROR',
  /** a Debian package or version is unknown */
  DEB_NOT_FOUND: 'DEB_NOT_FOUND',
  /** no set of Debian packages satisfies the request */
  DEB_UNSATISFIABLE: 'DEB_UNSATISFIABLE',
  /** a .deb, Packages index or Release file is malformed or tampered */
  DEB_INVALID: 'DEB_INVALID',
  /** an InRelease signature does not verify */
  SIGNATURE_INVALID: 'SIGNATURE_INVALID',
  /** a Dockerfile does not parse */
  DOCKERFILE_SYNTAX: 'DOCKERFILE_SYNTAX',
  /** a Dockerfile uses something fromscratch does not do (RUN) */
  DOCKERFILE_UNSUPPORTED: 'DOCKERFILE_UNSUPPORTED',
  /** a YAML spec is malformed or has unknown keys */
  SPEC_INVALID: 'SPEC_INVALID',
  /** the lockfile is missing or out of date under --locked */
  LOCKFILE_MISMATCH: 'LOCKFILE_MISMATCH',
  /** an operation took longer than its time limit */
  TIMEOUT: 'TIMEOUT',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** FromscratchErrorOptions carries the hint and the underlying cause. */
export interface FromscratchErrorOptions {
  /** what the user can do about it */
  hint?: string;
  /** the error this one wraps, shown with --debug */
  cause?: unknown;
}

/** FromscratchError is a user-fixable failure with a stable code, a message naming the subject, and a hint. */
export class FromscratchError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  constructor(code: ErrorCode, message: string, opts: FromscratchErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'FromscratchError';
    this.code = code;
    if (opts.hint !== undefined) this.hint = opts.hint;
  }
}

/** isFromscratchError tells whether e is a FromscratchError (by its code, not instanceof), optionally of one code. */
export function isFromscratchError(e: unknown, code?: ErrorCode): e is FromscratchError {
  if (typeof e !== 'object' || e === null) return false;
  const c = (e as { code?: unknown }).code;
  if (typeof c !== 'string' || !(c in ErrorCode) || (e as { name?: unknown }).name !== 'FromscratchError') return false;
  return code === undefined || c === code;
}

/**
 * withContext re-throws a FromscratchError with "doing X: " prefixed, keeping code and hint,
 * and passes anything else through untouched.
 */
export function withContext(doing: string, e: unknown): never {
  if (isFromscratchError(e)) {
    throw new FromscratchError(e.code, `${doing}: ${e.message}`, { hint: e.hint, cause: e });
  }
  throw e;
}
