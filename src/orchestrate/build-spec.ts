/**
 * spec.ts — BuildSpec: what the user asked for, whichever front end said it (flags, YAML, Dockerfile). PURE types.
 *
 * Flags (cli/commands/build.ts), the YAML spec (spec/) and Dockerfiles (dockerfile/) all produce a
 * BuildSpec; build/ turns it into an Image and a BuildRecord. The same content through any front end
 * gives the same layers.
 */

import type { ConfigPatch } from '../image/image.ts';
import type { Compression } from '../model/media-type.ts';
import type { Platform } from '../model/platform.ts';
import type { InferName } from './infer-names.ts';

/** Ownership and mode overrides of COPY --chown / --chmod. */
export interface Ownership {
  readonly uid?: number;
  readonly gid?: number;
  /**
   * a user name still to resolve against the image's /etc/passwd (`COPY --chown=app`); when set, `uid` is
   * absent. The build resolves it; an unknown name is an error there.
   */
  readonly user?: string;
  /** a group name still to resolve against the image's /etc/group (`--chown=app:staff`); when set, `gid` is absent */
  readonly group?: string;
  /** permission bits applied to copied files (and directories, as Docker does) */
  readonly mode?: number;
}

/** ContentItem is one thing the image must contain. */
export type ContentItem =
  /**
   * a program (ELF or #! script) and its full closure; `dest` places it elsewhere in the image
   * (build/binary-dest.ts: default its own absolute path, or `/NAME` for a relative path)
   */
  | { readonly kind: 'binary'; readonly path: string; readonly dest?: string }
  /**
   * a host file or directory copied as is (symlinks kept as symlinks); ELF files and scripts inside get
   * their closures when `closure` is true (the default for --add, off for plain Dockerfile COPY).
   * With `context` (Dockerfile COPY/ADD), `src` is a Docker COPY source: a filepath.Match glob relative
   * to the context that may never leave it, and `dest` follows Docker's destination rules (a trailing `/`
   * means a directory; WORKDIR already applied). Materialise it with dockerfile/context.ts
   * `collectContextSources` + `toCopyEntries`. With `checksum` or an `http(s)://` src it is a remote
   * Dockerfile `ADD URL`: fetch it with dockerfile/fetch-add-url.ts `fetchAddUrl`, then `dest` is the
   * final file path (mode 0600 unless `ownership.mode`).
   */
  | {
      readonly kind: 'add';
      /** host path (relative to `context`, or to the working directory), a glob in Dockerfiles, or an http(s) URL */
      readonly src: string;
      /** image path; defaults to the same absolute path as src */
      readonly dest?: string;
      readonly context?: string;
      readonly closure?: boolean;
      readonly ownership?: Ownership;
      /** patterns excluded (COPY --exclude, Docker .dockerignore syntax), relative to the source */
      readonly exclude?: readonly string[];
      /** auto-extract local tar archives (Dockerfile ADD) */
      readonly extract?: boolean;
      /** `ADD --checksum=sha256:…` of a URL: the download must hash to it */
      readonly checksum?: string;
      /** COPY --link was given (recorded; every fromscratch layer is already independent of the ones below) */
      readonly link?: boolean;
    }
  /** literal bytes written at dest (Dockerfile heredocs, ADD https:// after download) */
  | {
      readonly kind: 'file';
      readonly dest: string;
      readonly data: Uint8Array;
      readonly mode?: number;
      readonly ownership?: Ownership;
    }
  /** run CMD on the host under strace and add every file it used, with closures */
  | {
      readonly kind: 'trace';
      readonly command: string;
      readonly allowFailure?: boolean;
      readonly timeoutSeconds?: number;
    }
  /**
   * paths of the root added as the image must have them (symlinks on the way kept), programs among them
   * with their closures: what `--verify --fix` found missing
   */
  | { readonly kind: 'root-paths'; readonly paths: readonly string[]; readonly command: string }
  /** a Debian package and its dependencies */
  | { readonly kind: 'package'; readonly name: string; readonly version?: string }
  /** files copied from another stage or image (Dockerfile COPY --from) */
  | {
      readonly kind: 'copy-from';
      readonly from: { readonly stage: BuildSpec; readonly name: string } | { readonly image: string };
      readonly src: readonly string[];
      readonly dest: string;
      readonly ownership?: Ownership;
      readonly closure?: boolean;
      /** patterns excluded (COPY --exclude), relative to each source */
      readonly exclude?: readonly string[];
      readonly link?: boolean;
    };

/** Defaults a scratch image needs; each can be turned off. */
export interface ScratchDefaults {
  /** /etc/passwd and /etc/group with root, nonroot (65532) and nobody */
  readonly users?: boolean;
  /** /etc/nsswitch.conf */
  readonly nsswitch?: boolean;
  /** /tmp with mode 1777 */
  readonly tmp?: boolean;
  /** a CA bundle when a TLS library is in the closure */
  readonly caCertificates?: boolean;
}

/** BuildSpec is a whole build request. */
export interface BuildSpec {
  /** base image reference (any transport) or undefined for FROM scratch */
  readonly from?: string;
  /** one image per platform; default the host's */
  readonly platforms?: readonly Platform[];
  readonly contents: readonly ContentItem[];
  /** runtime config set on top of the base */
  readonly config?: ConfigPatch;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly defaults?: ScratchDefaults;
  /** inference rules left out (build/infer-names.ts): `no-infer: [gconv]` in the spec */
  readonly noInfer?: readonly InferName[];
  /** resolve programs and libraries inside this root instead of / */
  readonly sysroot?: string;
  /**
   * extra library directories inside the root (`--lib-path`): searched by the closure like
   * LD_LIBRARY_PATH, and set in the image's LD_LIBRARY_PATH so that its loader finds them too
   */
  readonly libraryPaths?: readonly string[];
  /** the static start check's problems are errors: nothing is written (default false: warnings) */
  readonly strict?: boolean;
  /** output destinations (transports), e.g. `oci:out:v1` */
  readonly outputs?: readonly string[];
  /** several images built in one run (`images:` in a spec); the fields above are then only defaults */
  readonly images?: readonly { readonly name: string; readonly spec: BuildSpec }[];
  /** the registry cache: `--cache-from` references and the `--cache-to` one */
  readonly cache?: { readonly from?: readonly string[]; readonly to?: string };
  readonly tags?: readonly string[];
  readonly compression?: Compression;
  /** the compression level (gzip 1..9, default 4; zstd 1..19, default 3); part of the layers' identity */
  readonly compressionLevel?: number;
  /** most layers the build adds, chosen for reuse (default 16; 1 = one layer); base image layers are not counted */
  readonly layers?: number;
  /** apt sources and keyring for packages */
  readonly aptSources?: readonly string[];
  /** fromscratch.lock: read when it matches the packages, written after resolving */
  readonly lockfile?: string;
  /** never resolve packages anew: the lockfile must match */
  readonly locked?: boolean;
  /**
   * trace host files to their Debian packages and write /var/lib/dpkg/status.d records for scanners
   * (default true)
   */
  readonly packageRecords?: boolean;
  /** RUN-free Dockerfile instructions recorded for history (`created_by`) */
  readonly history?: readonly string[];
  /** Dockerfile stage name (`FROM … AS name`) this spec was made from */
  readonly name?: string;
  /** image author (Dockerfile MAINTAINER) */
  readonly author?: string;
  /**
   * directories created (empty if nothing else lands in them) before the contents: Dockerfile WORKDIR
   * creates its directory, owned by the USER in effect at that line
   */
  readonly directories?: readonly { readonly path: string; readonly ownership?: Ownership }[];
}
