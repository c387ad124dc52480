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
  /** the registry cache named by --cache-to cannot be read or written */
  CACHE_UNAVAILABLE: 'CACHE_UNAVAILABLE',
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
  /** a file system is full or over quota (ENOSPC, EDQUOT, EFBIG) */
  NO_SPACE: 'NO_SPACE',
  /** a limit of the machine was hit: open files, memory, locks (EMFILE, ENFILE, ENOMEM, …) */
  SYSTEM_LIMIT: 'SYSTEM_LIMIT',
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
  if (typeof c !== 'string' || !(c in ErrorCode) || (e as { name?: unknown }).name !== 'FromscratchError')
    return false;
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

/** BUG_ERRNOS are the errno codes that only a wrong call can cause: they stay bugs (exit 70). */
export const BUG_ERRNOS: ReadonlySet<string> = new Set([
  'EBADF',
  'EFAULT',
  'EINVAL',
  'ENOSYS',
  'ENOTSOCK',
  'ESPIPE',
  'ENOTTY',
  'EDOM',
  'ERANGE',
  'ECHILD',
  'ESRCH',
  'EDEADLK',
  'EDESTADDRREQ',
  'EAFNOSUPPORT',
  'EPROTONOSUPPORT',
  'EPROTOTYPE',
  'ENOPROTOOPT',
  'EISCONN',
  'EALREADY',
  'EINPROGRESS',
  'EMSGSIZE',
  'EIDRM',
  'ENOMSG',
  'ENOSR',
  'ENOSTR',
  'ENOLINK',
  'EMULTIHOP',
  'EINTR',
  'ECANCELED',
]);

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a path component is not a directory',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EEXIST: 'already exists',
  ENOTEMPTY: 'directory not empty',
  EXDEV: 'crosses file systems',
  EMLINK: 'too many links',
  ETXTBSY: 'text file busy',
  EBUSY: 'device or resource busy',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENOMEM: 'out of memory',
  ENOBUFS: 'no buffer space',
  EAGAIN: 'resource temporarily unavailable',
  EWOULDBLOCK: 'resource temporarily unavailable',
  ENOLCK: 'no locks available',
  E2BIG: 'argument list too long',
  EIO: 'input/output error',
  EBADMSG: 'bad message',
  ENODATA: 'no data available',
  EILSEQ: 'invalid byte sequence',
  EOVERFLOW: 'value too large',
  ESTALE: 'stale file handle',
  ENXIO: 'no such device or address',
  ENODEV: 'no such device',
  ENOTSUP: 'operation not supported by the file system',
  EOPNOTSUPP: 'operation not supported by the file system',
  ENOEXEC: 'exec format error',
};

/** the syscalls (as node names them) that change the file system */
const WRITE_SYSCALLS = new Set([
  'write',
  'mkdir',
  'mkdtemp',
  'rmdir',
  'rm',
  'unlink',
  'rename',
  'link',
  'symlink',
  'copyfile',
  'utime',
  'futime',
  'lutime',
  'chmod',
  'fchmod',
  'lchmod',
  'chown',
  'fchown',
  'lchown',
  'fsync',
  'fdatasync',
  'ftruncate',
  'truncate',
  'cp',
  'lsetxattr',
  'setxattr',
  'fsetxattr',
]);

/** isNoSpace tells whether `e` is a file system's "full" (ENOSPC, EDQUOT or EFBIG): a NO_SPACE, not a permission problem. */
export function isNoSpace(e: unknown): boolean {
  const code = (e as { code?: unknown } | null | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG';
}

/**
 * fromSystemError turns a Node.js system error (an errno with a syscall and usually a path) caused by
 * the environment — permissions, a full disk, a file removed while being read, a machine limit — into a
 * FromscratchError naming the path and the fix. Errors only a bug can cause ({@link BUG_ERRNOS}) and
 * anything that is not a system error give undefined.
 */
export function fromSystemError(e: unknown, ctx: { cacheDir?: string } = {}): FromscratchError | undefined {
  const mapped = mapSystemError(e);
  const path = (e as { path?: unknown } | null)?.path;
  const cache = ctx.cacheDir;
  if (!mapped || !cache || typeof path !== 'string') return mapped;
  // the cache itself, a file in it, or a parent directory it needs
  if (path !== cache && !path.startsWith(`${cache}/`) && !cache.startsWith(`${path}/`)) return mapped;
  return new FromscratchError(mapped.code, `${mapped.message} (fromscratch's cache is ${cache})`, {
    hint: `point the cache at a writable directory with room: FROMSCRATCH_CACHE=DIR (or XDG_CACHE_HOME); ${mapped.hint}`,
    cause: e,
  });
}

function mapSystemError(e: unknown): FromscratchError | undefined {
  if (typeof e !== 'object' || e === null || isFromscratchError(e)) return undefined;
  const { code, syscall, path, dest } = e as {
    code?: unknown;
    syscall?: unknown;
    path?: unknown;
    dest?: unknown;
  };
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) return undefined;
  if (code === 'EINVAL' && syscall === 'readlink' && typeof path === 'string') {
    // a path that lstat saw as a symlink is not one any more: it changed under us
    return new FromscratchError(
      'FILE_CHANGED',
      `${path} is no longer a symbolic link: it changed while fromscratch read it`,
      {
        hint: 'something is modifying the input while fromscratch builds; stop it and build again',
        cause: e,
      },
    );
  }
  if (BUG_ERRNOS.has(code)) return undefined;
  const call = typeof syscall === 'string' ? syscall : 'a file operation';
  const where =
    typeof path === 'string' ? `${path}${typeof dest === 'string' ? ` -> ${dest}` : ''}` : undefined;
  const text = `${ERRNO_TEXT[code] ?? 'system error'} (${code})`;
  const subject = where ?? 'a file';
  const opts = (hint: string) => ({ hint, cause: e });
  if (call.startsWith('spawn')) {
    return new FromscratchError(
      'TOOL_MISSING',
      `cannot start ${call.slice(6) || 'a tool'}: ${text}`,
      opts('install the tool (apt-get install …) or put it on PATH'),
    );
  }
  if (
    ['getaddrinfo', 'connect', 'read', 'write'].includes(call) &&
    !where &&
    /^E(CONN|NET|HOST|ADDR|PIPE|TIME|PROTO|NOTCONN)/.test(code)
  ) {
    return new FromscratchError(
      'NETWORK_ERROR',
      `${call}: ${text}`,
      opts('check that the server is running and reachable'),
    );
  }
  if (/^E(CONN|NET|HOST|ADDR)|^E(PIPE|TIMEDOUT|TIME|PROTO|NOTCONN)$/.test(code)) {
    return new FromscratchError(
      'NETWORK_ERROR',
      `${call}${where ? ` ${where}` : ''}: ${text}`,
      opts('check that the server or socket is running and reachable'),
    );
  }
  const writing = WRITE_SYSCALLS.has(call) || code === 'EROFS';
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EFBIG':
      return new FromscratchError(
        'NO_SPACE',
        `${call} ${subject}: ${text}`,
        opts(
          'free space on that file system, or move what fromscratch writes there: the cache (FROMSCRATCH_CACHE), temporary files (TMPDIR) or the output',
        ),
      );
    case 'EMFILE':
    case 'ENFILE':
    case 'ENOMEM':
    case 'ENOBUFS':
    case 'EAGAIN':
    case 'EWOULDBLOCK':
    case 'ENOLCK':
    case 'E2BIG':
      return new FromscratchError(
        'SYSTEM_LIMIT',
        `${call} ${subject}: ${text}`,
        opts(
          'a limit of this machine was reached: raise it (ulimit -n for open files), free memory, or retry',
        ),
      );
    case 'ENAMETOOLONG':
      return new FromscratchError('PATH_TOO_LONG', `${call} ${subject}: ${text}`, opts('use a shorter path'));
    case 'ENOENT':
    case 'ESTALE':
      if (
        !writing &&
        ['readlink', 'open', 'read', 'lstat', 'stat', 'scandir', 'opendir', 'realpath'].includes(call)
      ) {
        return new FromscratchError(
          'FILE_NOT_FOUND',
          `${call} ${subject}: ${text}`,
          opts('check the path; if it was removed or replaced while fromscratch ran, run again'),
        );
      }
      break;
    default:
      break;
  }
  const access =
    code === 'EACCES' || code === 'EPERM'
      ? `give the user running fromscratch access to ${where ?? 'it'} (chmod/chown), or run as a user who has it`
      : code === 'EROFS'
        ? 'the file system is read-only: write the output, cache (FROMSCRATCH_CACHE) or TMPDIR somewhere writable'
        : code === 'EIO' || code === 'EBADMSG'
          ? 'the disk or file system reported an error: check it (dmesg), then retry'
          : 'check the path and what else is using it, then retry';
  return writing
    ? new FromscratchError('OUTPUT_UNWRITABLE', `cannot write ${subject} (${call}): ${text}`, opts(access))
    : new FromscratchError('FILE_UNREADABLE', `cannot read ${subject} (${call}): ${text}`, opts(access));
}
