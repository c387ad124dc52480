/**
 * transport.ts — image references in the transport syntax skopeo, buildah and podman users know. PURE.
 *
 *   oci:DIR[:TAG]                    OCI image layout directory
 *   oci-archive:FILE[:TAG]           OCI layout in a tar file
 *   docker-archive:FILE[:NAME[:TAG]] tar that `docker load` accepts
 *   docker-daemon:NAME[:TAG]         the local Docker Engine (also docker-daemon:sha256:<hex>, an image ID)
 *   docker://HOST/REPO[:TAG|@DIGEST] an OCI distribution registry (parsed by src/registry)
 *
 * As in containers/image, the path ends at the first colon after the transport, so DIR and FILE cannot
 * contain ":" while a TAG can (`oci:out:example.com:5000/app:1.0`).
 * https://github.com/containers/image/blob/main/docs/containers-transports.5.md
 */
import { FromscratchError, isFromscratchError } from '../errors.ts';
import { parseDigest } from '../model/digest.ts';
import {
  DOCKER_REFERENCE_HINT,
  type DockerReference,
  familiarDockerReference,
  formatDockerReference,
  parseDockerReference,
} from '../model/docker-reference.ts';

/** ImageRef names an image in one of the transports fromscratch reads and writes. */
export type ImageRef =
  /** an OCI image layout directory; `tag` selects the `org.opencontainers.image.ref.name` in index.json */
  | { readonly kind: 'oci'; readonly dir: string; readonly tag?: string }
  /** an OCI image layout in a tar file */
  | { readonly kind: 'oci-archive'; readonly file: string; readonly tag?: string }
  /** a `docker save` style tar; `name` is `REPO:TAG` (tag defaults to latest) */
  | { readonly kind: 'docker-archive'; readonly file: string; readonly name?: string }
  /** an image in the local Docker Engine: `REPO:TAG` (tag defaults to latest) or an image ID `sha256:<hex>` */
  | { readonly kind: 'docker-daemon'; readonly name: string }
  /** a registry reference without the `docker://` prefix, e.g. `127.0.0.1:5055/app:1.0` */
  | { readonly kind: 'registry'; readonly reference: string };

/** ImageRefKind is the transport of an ImageRef. */
export type ImageRefKind = ImageRef['kind'];

const TRANSPORTS_HINT =
  'name images as oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG], docker-daemon:NAME:TAG or docker://HOST/REPO[:TAG|@DIGEST]';

// OCI image-layout ref.name grammar (the same regexp containers/image uses for oci:DIR:TAG)
// https://github.com/opencontainers/image-spec/blob/main/annotations.md#pre-defined-annotation-keys
const OCI_TAG_RE = /^[A-Za-z0-9]+(?:(?:[-._:@/+]|--)[A-Za-z0-9]+)*$/;

function bad(s: string, reason: string): FromscratchError {
  return new FromscratchError(
    'INVALID_REFERENCE',
    `invalid image reference ${JSON.stringify(s)}: ${reason}`,
    {
      hint: TRANSPORTS_HINT,
    },
  );
}

/**
 * parseDockerName reads a docker-archive or docker-daemon name (`REPO[:TAG]`, REPO may start with a
 * registry host and port) with docker's rules (src/model/docker-reference.ts) and returns it as docker
 * shows it, `REPO:TAG` with the tag defaulting to `latest` (`library/alpine` → `alpine:latest`).
 * A digest (`@sha256:…`) is refused: archives and the daemon are tagged by name. Throws INVALID_REFERENCE.
 */
export function parseDockerName(s: string, whole: string = s): string {
  if (s.includes('@')) throw bad(whole, 'a docker-archive or docker-daemon name takes a tag, not a digest');
  let r: DockerReference;
  try {
    r = parseDockerReference(s);
  } catch (e) {
    if (!isFromscratchError(e) || s === whole) throw e;
    throw new FromscratchError(
      'INVALID_REFERENCE',
      `invalid image reference ${JSON.stringify(whole)}: ${e.message}`,
      {
        ...(e.hint !== undefined ? { hint: e.hint } : {}),
        cause: e,
      },
    );
  }
  return familiarDockerReference(r.tag === undefined ? { ...r, tag: 'latest' } : r);
}

function parseOciTag(tag: string, whole: string): string {
  if (!OCI_TAG_RE.test(tag)) {
    throw bad(
      whole,
      `${JSON.stringify(tag)} is not a valid tag (letters, digits, and - . _ : @ / + between them)`,
    );
  }
  return tag;
}

function splitPath(rest: string, whole: string, what: string): [string, string | undefined] {
  const i = rest.indexOf(':');
  const path = i < 0 ? rest : rest.slice(0, i);
  const after = i < 0 ? undefined : rest.slice(i + 1);
  if (path === '') throw bad(whole, `the ${what} path is empty`);
  if (path.includes('\0')) throw bad(whole, `the ${what} path contains a NUL byte`);
  if (after === '') throw bad(whole, 'nothing after the last ":"');
  return [path, after];
}

/**
 * parseImageRef parses an image name to read from: a transport reference (`oci:out:latest`), or a plain
 * docker reference (`alpine`, `127.0.0.1:5000/app:1`, `name@sha256:…`), which means that registry image,
 * normalised as docker does (`docker.io/library/alpine`). A prefix that is not one of the transports
 * starts a plain reference (`localhost:5000/app`, `docker:27` = Docker Hub's docker image).
 * Throws INVALID_REFERENCE, with a hint listing the transports, for anything else.
 * @example parseImageRef('oci:out:latest') // { kind: 'oci', dir: 'out', tag: 'latest' }
 * @example parseImageRef('alpine:3.20') // { kind: 'registry', reference: 'docker.io/library/alpine:3.20' }
 */
export function parseImageRef(s: string): ImageRef {
  if (typeof s !== 'string' || s === '') throw bad(String(s), 'empty');
  if (s.startsWith('docker://')) {
    const reference = s.slice('docker://'.length);
    if (reference === '' || /\s/.test(reference) || reference.startsWith('/'))
      throw bad(s, 'expected docker://HOST/REPO[:TAG|@DIGEST]');
    const at = reference.indexOf('@');
    if (at >= 0) {
      try {
        parseDigest(reference.slice(at + 1));
      } catch (e) {
        throw new FromscratchError(
          'INVALID_REFERENCE',
          `invalid image reference ${JSON.stringify(s)}: bad digest`,
          {
            hint: 'a digest is "sha256:" followed by 64 lowercase hex digits',
            cause: e,
          },
        );
      }
    }
    return { kind: 'registry', reference };
  }
  const colon = s.indexOf(':');
  const transport = colon < 0 ? '' : s.slice(0, colon);
  const rest = s.slice(colon + 1);
  switch (transport) {
    case 'oci': {
      const [dir, tag] = splitPath(rest, s, 'layout directory');
      return tag === undefined ? { kind: 'oci', dir } : { kind: 'oci', dir, tag: parseOciTag(tag, s) };
    }
    case 'oci-archive': {
      const [file, tag] = splitPath(rest, s, 'archive');
      return tag === undefined
        ? { kind: 'oci-archive', file }
        : { kind: 'oci-archive', file, tag: parseOciTag(tag, s) };
    }
    case 'docker-archive': {
      const [file, name] = splitPath(rest, s, 'archive');
      return name === undefined
        ? { kind: 'docker-archive', file }
        : { kind: 'docker-archive', file, name: parseDockerName(name, s) };
    }
    case 'docker-daemon': {
      if (rest === '') throw bad(s, 'expected docker-daemon:NAME:TAG');
      if (rest.startsWith('sha256:')) {
        try {
          return { kind: 'docker-daemon', name: parseDigest(rest) };
        } catch (e) {
          throw new FromscratchError(
            'INVALID_REFERENCE',
            `invalid image reference ${JSON.stringify(s)}: bad image ID`,
            {
              hint: 'an image ID is "sha256:" followed by 64 lowercase hex digits',
              cause: e,
            },
          );
        }
      }
      return { kind: 'docker-daemon', name: parseDockerName(rest, s) };
    }
    default:
      if (OTHER_TRANSPORTS.has(transport))
        throw bad(s, `the ${transport}: transport is not supported (skopeo has it, fromscratch does not)`);
      return { kind: 'registry', reference: plainReference(s) };
  }
}

/** transports of containers/image that fromscratch does not read or write: named as such in errors */
const OTHER_TRANSPORTS = new Set(['dir', 'containers-storage', 'ostree', 'sif', 'tarball']);

/** plainReference normalises a plain docker reference; a failure names both ways to write an image. */
function plainReference(s: string): string {
  try {
    return formatDockerReference(parseDockerReference(s));
  } catch (e) {
    if (!isFromscratchError(e)) throw e;
    throw new FromscratchError('INVALID_REFERENCE', e.message, {
      hint: `${e.hint ?? DOCKER_REFERENCE_HINT}; or ${TRANSPORTS_HINT}`,
      cause: e,
    });
  }
}

/**
 * parseOutputRef parses an image name to write to. Unlike parseImageRef it requires a transport: a plain
 * name could mean the registry or the local Docker Engine, so it is refused with a hint showing both.
 * Throws INVALID_REFERENCE.
 * @example parseOutputRef('docker-daemon:app:1') // { kind: 'docker-daemon', name: 'app:1' }
 */
export function parseOutputRef(s: string): ImageRef {
  const r = parseImageRef(s);
  if (r.kind === 'registry' && !s.startsWith('docker://')) {
    throw new FromscratchError(
      'INVALID_REFERENCE',
      `output ${JSON.stringify(s.slice(0, 300))} names no transport: is it a registry or the local Docker Engine?`,
      {
        hint: `write docker://${r.reference} to push it, docker-daemon:${s} to load it into Docker, or oci:DIR[:TAG] for a layout`,
      },
    );
  }
  return r;
}

/** formatImageRef writes an ImageRef back in transport syntax (parseImageRef(formatImageRef(r)) equals r). */
export function formatImageRef(r: ImageRef): string {
  switch (r.kind) {
    case 'oci':
      return r.tag === undefined ? `oci:${r.dir}` : `oci:${r.dir}:${r.tag}`;
    case 'oci-archive':
      return r.tag === undefined ? `oci-archive:${r.file}` : `oci-archive:${r.file}:${r.tag}`;
    case 'docker-archive':
      return r.name === undefined ? `docker-archive:${r.file}` : `docker-archive:${r.file}:${r.name}`;
    case 'docker-daemon':
      return `docker-daemon:${r.name}`;
    case 'registry':
      return `docker://${r.reference}`;
  }
}
