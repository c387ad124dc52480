/**
 * reference.ts — docker image references (`[host[:port]/]repo[:tag][@digest]`). PURE.
 *
 * Grammar: https://github.com/distribution/reference/blob/main/reference.go
 * Docker Hub defaults: https://github.com/distribution/reference/blob/main/normalize.go
 */
import { FromscratchError } from '../errors.ts';
import { type Digest, parseDigest } from '../model/digest.ts';

/** Reference is a parsed, normalised image reference. */
export interface Reference {
  /** registry as users name it, normalised: `docker.io`, `localhost:5000`, `[::1]:5000` */
  readonly registry: string;
  /** host[:port] to contact (`registry-1.docker.io` for docker.io) */
  readonly host: string;
  /** repository path, lower case, `library/` added for single-name Docker Hub images */
  readonly repository: string;
  /** tag; `latest` when neither tag nor digest was given */
  readonly tag?: string;
  /** digest; when present, the image is addressed by it (the tag is informative only) */
  readonly digest?: Digest;
}

/** DOCKER_HUB is the canonical name of Docker Hub in references. */
export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_HOST = 'registry-1.docker.io';

// distribution/reference: path components, separators, domain and tag grammar
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_NAME =
  /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*$/;
const IPV6 = /^\[[a-fA-F0-9:]+\]$/;
const TAG = /^[\w][\w.-]{0,127}$/;
/** NAME_TOTAL_MAX is the maximum length of `host/repository` (distribution/reference). */
const NAME_TOTAL_MAX = 255;

function invalid(
  s: string,
  reason: string,
  hint = 'write a reference as [HOST[:PORT]/]REPOSITORY[:TAG][@sha256:DIGEST], e.g. docker.io/library/ubuntu:24.04',
): never {
  throw new FromscratchError(
    'INVALID_REFERENCE',
    `invalid image reference ${JSON.stringify(s.slice(0, 300))}: ${reason}`,
    { hint },
  );
}

function validDomain(d: string): boolean {
  let hostPart = d;
  let port: string | undefined;
  if (d.startsWith('[')) {
    const end = d.indexOf(']');
    if (end < 0) return false;
    hostPart = d.slice(0, end + 1);
    const rest = d.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return false;
      port = rest.slice(1);
    }
    if (!IPV6.test(hostPart)) return false;
  } else {
    const i = d.lastIndexOf(':');
    if (i >= 0) {
      hostPart = d.slice(0, i);
      port = d.slice(i + 1);
    }
    if (!DOMAIN_NAME.test(hostPart)) return false;
  }
  if (port !== undefined && !/^[0-9]+$/.test(port)) return false;
  return true;
}

/**
 * parseReference parses a docker image reference and applies Docker Hub's defaults:
 * `ubuntu` → `docker.io/library/ubuntu:latest` (contacting `registry-1.docker.io`).
 * A leading `docker://` is accepted and dropped. The first path component is a registry when it
 * contains `.` or `:`, is `localhost`, or has upper-case letters (as Docker decides).
 * Throws FromscratchError('INVALID_REFERENCE') naming the problem; digests must be sha256.
 *
 * @example
 * parseReference('localhost:5000/team/app:1.2') // { registry: 'localhost:5000', repository: 'team/app', tag: '1.2', … }
 */
export function parseReference(input: string): Reference {
  if (typeof input !== 'string' || input === '') invalid(String(input), 'it is empty');
  let s = input.trim();
  if (s.startsWith('docker://')) s = s.slice('docker://'.length);
  if (s === '') invalid(input, 'it is empty');
  if (/\s/.test(s)) invalid(input, 'it contains white space');
  if (s.includes('://'))
    invalid(input, 'it has a URL scheme', 'write HOST/REPOSITORY:TAG without http:// or https://');

  let digest: Digest | undefined;
  const at = s.indexOf('@');
  if (at >= 0) {
    const d = s.slice(at + 1);
    s = s.slice(0, at);
    if (!d.startsWith('sha256:'))
      invalid(
        input,
        `unsupported digest "${d.slice(0, 80)}"`,
        'only sha256 digests are supported: @sha256:<64 lowercase hex digits>',
      );
    try {
      digest = parseDigest(d);
    } catch {
      invalid(
        input,
        `malformed digest "${d.slice(0, 80)}"`,
        'a digest is sha256: followed by 64 lowercase hex digits',
      );
    }
  }

  // split off the registry: only the first component can be one
  let registry = DOCKER_HUB;
  let rest = s;
  const slash = s.indexOf('/');
  if (slash >= 0) {
    const first = s.slice(0, slash);
    if (
      first.includes('.') ||
      first.includes(':') ||
      first === 'localhost' ||
      first !== first.toLowerCase()
    ) {
      if (!validDomain(first)) invalid(input, `invalid registry host "${first}"`);
      registry = first;
      rest = s.slice(slash + 1);
    }
  }

  // tag: a ':' after the last '/'
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag))
      invalid(
        input,
        `invalid tag "${tag.slice(0, 140)}"`,
        'a tag is 1 to 128 characters of letters, digits, "_", "." and "-", not starting with "." or "-"',
      );
  }

  if (rest === '') invalid(input, 'the repository name is empty');
  if (rest !== rest.toLowerCase())
    invalid(input, `repository name "${rest}" must be lowercase`, `use "${rest.toLowerCase()}"`);
  for (const c of rest.split('/')) {
    if (!COMPONENT.test(c)) {
      invalid(
        input,
        c === ''
          ? 'the repository name has an empty path component'
          : `invalid repository path component "${c}"`,
        'repository path components are lower-case letters and digits, separated by ".", "_", "__" or "-"',
      );
    }
  }

  if (registry === 'index.docker.io') registry = DOCKER_HUB;
  let repository = rest;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (`${registry}/${repository}`.length > NAME_TOTAL_MAX)
    invalid(input, `the name is longer than ${NAME_TOTAL_MAX} characters`);

  if (tag === undefined && digest === undefined) tag = 'latest';
  const host = registry === DOCKER_HUB ? DOCKER_HUB_HOST : registry;
  return {
    registry,
    host,
    repository,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** formatReference writes a Reference in full form: `registry/repository[:tag][@digest]`. */
export function formatReference(ref: Reference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** withDigest returns the reference addressed by a digest (the tag dropped). */
export function withDigest(ref: Reference, digest: Digest): Reference {
  return { registry: ref.registry, host: ref.host, repository: ref.repository, digest };
}

/**
 * referrersTag is the tag under which a registry without the referrers API lists the artifacts that
 * refer to `subject` (`sha256-<hex>`, the OCI distribution-spec's referrers tag schema).
 */
export function referrersTag(subject: Digest): string {
  return subject.replace(':', '-');
}
