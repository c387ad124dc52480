/**
 * docker-reference.ts — the one parser of docker image names (`alpine`, `library/node:20`,
 * `127.0.0.1:5000/app:1`, `name@sha256:…`), normalised exactly as docker's distribution/reference
 * `ParseNormalizedNamed` does. PURE.
 *
 * Grammar: https://github.com/distribution/reference/blob/main/reference.go (regexp.go)
 * Normalisation: https://github.com/distribution/reference/blob/main/normalize.go
 *
 *   - the first path component is a registry (domain) when there is a `/` after it and it contains
 *     `.` or `:`, is `localhost`, or has an upper-case letter; otherwise the registry is `docker.io`
 *   - `index.docker.io` is `docker.io`; a one-component Docker Hub path gets `library/`
 *   - the repository path must be lower case (docker refuses, it does not lower-case)
 *   - a 64-hex-digit name is refused (it would read as an image ID)
 *   - `name:tag@digest` keeps both; neither means "no tag" here (callers default to `latest`)
 *   - the whole `domain/path` is at most 255 characters
 *
 * Deliberate difference: only sha256 digests are accepted (docker also takes sha384/sha512), since
 * every digest fromscratch verifies is sha256.
 */
import { FromscratchError } from '../errors.ts';
import { type Digest, parseDigest } from './digest.ts';

/** DockerReference is a parsed, normalised docker image name. */
export interface DockerReference {
  /** registry as docker names it: `docker.io`, `localhost:5000`, `[::1]:5000`, `Foo` */
  readonly domain: string;
  /** repository path, `library/` added for one-component Docker Hub names (`library/alpine`) */
  readonly path: string;
  /** tag when one was written (no default here) */
  readonly tag?: string;
  /** digest when one was written */
  readonly digest?: Digest;
}

/** DOCKER_HUB_DOMAIN is the canonical name of Docker Hub in references. */
export const DOCKER_HUB_DOMAIN = 'docker.io';
const LEGACY_HUB_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';

// reference.go: pathComponent, domainNameComponent, ipv6address, tag; NameTotalLengthMax
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_NAME =
  /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*$/;
const IPV6 = /^\[[a-fA-F0-9:]+\]$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const IDENTIFIER = /^[a-f0-9]{64}$/;
const NAME_TOTAL_MAX = 255;

/** DOCKER_REFERENCE_HINT says how a docker image name is written. */
export const DOCKER_REFERENCE_HINT =
  'write an image name as docker does: [HOST[:PORT]/]REPOSITORY[:TAG][@sha256:DIGEST], e.g. alpine:3.20, library/node:20 or 127.0.0.1:5000/app:1';

function invalid(s: string, reason: string, hint = DOCKER_REFERENCE_HINT): never {
  throw new FromscratchError(
    'INVALID_REFERENCE',
    `invalid image reference ${JSON.stringify(s.slice(0, 300))}: ${reason}`,
    { hint },
  );
}

/** isDockerDomain is reference.go's domainAndPort: a host name or `[ipv6]`, then an optional `:port`. */
function isDockerDomain(d: string): boolean {
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
    const i = d.indexOf(':');
    if (i >= 0) {
      hostPart = d.slice(0, i);
      port = d.slice(i + 1);
    }
    if (!DOMAIN_NAME.test(hostPart)) return false;
  }
  return port === undefined || /^[0-9]+$/.test(port);
}

/**
 * splitDockerDomain is normalize.go's splitDockerDomain: the registry of a name, and the rest. Only the
 * first component of a name with a `/` can be a registry.
 */
function splitDockerDomain(name: string): [string, string] {
  const slash = name.indexOf('/');
  if (slash < 0) return [DOCKER_HUB_DOMAIN, name];
  const first = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  if (first === 'localhost') return [first, rest];
  if (first === LEGACY_HUB_DOMAIN) return [DOCKER_HUB_DOMAIN, rest];
  if (first.includes('.') || first.includes(':') || first !== first.toLowerCase()) return [first, rest];
  return [DOCKER_HUB_DOMAIN, name];
}

/**
 * parseDockerReference parses a docker image name and normalises it as `docker pull` does:
 * `alpine` → docker.io/library/alpine, `127.0.0.1:5000/app:1` → registry 127.0.0.1:5000, path app, tag 1.
 * No tag is added; `formatDockerReference` writes the full form. Throws INVALID_REFERENCE naming the
 * problem, with a hint showing how names are written.
 * @example parseDockerReference('node:20') // { domain: 'docker.io', path: 'library/node', tag: '20' }
 */
export function parseDockerReference(input: string): DockerReference {
  if (typeof input !== 'string' || input === '') invalid(String(input), 'it is empty');
  let s = input;
  if (/\s/.test(s)) invalid(input, 'it contains white space');
  if (s.includes('://'))
    invalid(input, 'it has a URL scheme', 'write HOST/REPOSITORY:TAG without http:// or https://');
  if (IDENTIFIER.test(s))
    invalid(
      input,
      'a 64-digit hexadecimal name reads as an image ID, not a repository',
      'name an image ID as docker-daemon:sha256:<hex>, or a repository with its registry (docker.io/<hex>)',
    );

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

  const [domain, remainder] = splitDockerDomain(s);
  if (domain !== DOCKER_HUB_DOMAIN && !isDockerDomain(domain))
    invalid(input, `invalid registry host "${domain}"`);

  // the tag: a ':' after the last '/'
  let rest = remainder;
  let tag: string | undefined;
  const colon = rest.indexOf(':', rest.lastIndexOf('/') + 1);
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
    invalid(input, `repository name "${rest}" must be lowercase`, `write "${rest.toLowerCase()}"`);
  for (const c of rest.split('/')) {
    if (!COMPONENT.test(c)) {
      invalid(
        input,
        c === ''
          ? 'the repository name has an empty path component'
          : `invalid repository path component "${c.slice(0, 80)}"`,
        'repository path components are lower-case letters and digits, separated by ".", "_", "__" or "-"',
      );
    }
  }
  const path = domain === DOCKER_HUB_DOMAIN && !rest.includes('/') ? `${OFFICIAL_PREFIX}${rest}` : rest;
  if (`${domain}/${path}`.length > NAME_TOTAL_MAX)
    invalid(input, `the name is longer than ${NAME_TOTAL_MAX} characters`);
  return {
    domain,
    path,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** formatDockerReference writes the full form: `domain/path[:tag][@digest]` (docker's `String()`). */
export function formatDockerReference(r: DockerReference): string {
  return `${r.domain}/${r.path}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest}` : ''}`;
}

/**
 * familiarDockerReference writes the short form docker shows (`FamiliarString`): `docker.io/` and a
 * lone `library/` dropped (`docker.io/library/alpine:3` → `alpine:3`).
 */
export function familiarDockerReference(r: DockerReference): string {
  let name = `${r.domain}/${r.path}`;
  if (r.domain === DOCKER_HUB_DOMAIN) {
    name = r.path;
    const rest = name.slice(OFFICIAL_PREFIX.length);
    if (name.startsWith(OFFICIAL_PREFIX) && !rest.includes('/')) name = rest;
  }
  return `${name}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest}` : ''}`;
}
