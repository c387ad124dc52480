/**
 * reference.ts — docker image references (`[host[:port]/]repo[:tag][@digest]`). PURE.
 *
 * Grammar: https://github.com/distribution/reference/blob/main/reference.go
 * Docker Hub defaults: https://github.com/distribution/reference/blob/main/normalize.go
 */
import type { Digest } from '../model/digest.ts';
import { DOCKER_HUB_DOMAIN, parseDockerReference } from '../model/docker-reference.ts';

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
export const DOCKER_HUB = DOCKER_HUB_DOMAIN;
const DOCKER_HUB_HOST = 'registry-1.docker.io';

/**
 * parseReference parses a docker image reference with docker's normalisation
 * (src/model/docker-reference.ts) and applies Docker Hub's defaults:
 * `ubuntu` → `docker.io/library/ubuntu:latest` (contacting `registry-1.docker.io`).
 * A leading `docker://` is accepted and dropped.
 * Throws FromscratchError('INVALID_REFERENCE') naming the problem; digests must be sha256.
 *
 * @example
 * parseReference('localhost:5000/team/app:1.2') // { registry: 'localhost:5000', repository: 'team/app', tag: '1.2', … }
 */
export function parseReference(input: string): Reference {
  const s =
    typeof input === 'string' && input.startsWith('docker://') ? input.slice('docker://'.length) : input;
  const r = parseDockerReference(s === '' ? input : s);
  const tag = r.tag === undefined && r.digest === undefined ? 'latest' : r.tag;
  return {
    registry: r.domain,
    host: r.domain === DOCKER_HUB ? DOCKER_HUB_HOST : r.domain,
    repository: r.path,
    ...(tag !== undefined ? { tag } : {}),
    ...(r.digest !== undefined ? { digest: r.digest } : {}),
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
