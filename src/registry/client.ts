/**
 * client.ts — a distribution-spec client for one registry: transport choice (TLS by default, plain
 * HTTP for loopback and registries named insecure, custom CAs like skopeo's --cert-dir), the `/v2/`
 * ping, authentication (anonymous, basic, bearer with scopes, re-authentication once per challenge),
 * retries with backoff and Retry-After, timeouts and redirect handling that never carries credentials
 * to another origin (RELIABILITY E1, E2, E10, E11, D6).
 *
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { FromscratchError } from '../errors.ts';
import type { ProgressSink } from '../model/progress.ts';
import {
  type BearerToken,
  type Challenge,
  type Credential,
  type CredentialLookupOptions,
  credentialFiles,
  type FoundCredential,
  parseWwwAuthenticate,
  readCredentials,
} from './auth.ts';
import { newRedactor, parseErrorEnvelope, type Redactor, RegistryError } from './errors.ts';
import {
  createTransport,
  type HttpResponse,
  isTransportError,
  readBodyLimited,
  type TlsSettings,
  type Transport,
  TransportError,
} from './http.ts';
import type { Reference } from './reference.ts';
import {
  parseRetryAfter,
  RETRY_STATUSES,
  type ResolvedRetryOptions,
  type RetryOptions,
  resolveRetryOptions,
  retryDelay,
} from './retry.ts';

/** TimeoutOptions bounds the time of each request. Every field is optional. */
export interface TimeoutOptions {
  /** abort a request whose connection is idle this long, in ms (default 60 000) */
  idleMs?: number;
  /**
   * total time for a request that is not a blob transfer (ping, manifest, token), all its retries
   * included, in ms (default 60 000; FROMSCRATCH_REGISTRY_TIMEOUT in seconds sets it from the CLI)
   */
  requestMs?: number;
  /** blob transfers may take `blobBaseMs + size / blobMinBytesPerSecond`, retries included (defaults 120 000 ms and 16 KiB/s) */
  blobBaseMs?: number;
  blobMinBytesPerSecond?: number;
}

/** RegistryClientOptions configures createRegistryClient. Every field is optional. */
export interface RegistryClientOptions {
  /**
   * registries (`host[:port]`) spoken to over plain HTTP (default []). Loopback registries (localhost,
   * 127.0.0.0/8, [::1]) are too, unless a CA or cert dir is given or exists for them.
   */
  insecure?: readonly string[];
  /** verify TLS certificates (default true) */
  tlsVerify?: boolean;
  /**
   * directory of `*.crt` CA files and `*.cert`/`*.key` client pairs, as skopeo's --cert-dir
   * (default: /etc/containers/certs.d/HOST, ~/.config/containers/certs.d/HOST, /etc/docker/certs.d/HOST when present)
   */
  certDir?: string;
  /** extra CA certificates (PEM), trusted in addition to Node's bundled roots */
  ca?: readonly string[];
  /** a credential to use instead of looking one up (e.g. --creds) */
  credential?: Credential | FoundCredential;
  /** where to look credentials up (default: the standard docker/podman files and helpers) */
  credentials?: CredentialLookupOptions;
  retry?: RetryOptions;
  timeouts?: TimeoutOptions;
  /** User-Agent header (default `fromscratch`) */
  userAgent?: string;
  /** random source for backoff jitter (default Math.random) */
  random?: () => number;
  /** progress of blob transfers and retries (default none) */
  progress?: ProgressSink;
}

/** RegistryRequest is one logical request; the client adds auth, retries and follows redirects. */
export interface RegistryRequest {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** a path starting with `/v2/`, or an absolute URL returned by the registry (upload Location) */
  readonly url: string;
  /** token scopes the request needs, e.g. `repository:team/app:pull,push` */
  readonly scopes: readonly string[];
  readonly headers?: Readonly<Record<string, string>>;
  /** the body: bytes, or a factory giving a fresh stream for each attempt (a restartable body) */
  readonly body?: Uint8Array | (() => AsyncIterable<Uint8Array>);
  /** may be sent again after a failure (default: true for GET, HEAD, PUT, DELETE; false for POST, PATCH) */
  readonly retryable?: boolean;
  /** follow 301/302/303/307/308 (GET/HEAD only; default true for them); cross-origin hops carry no credentials */
  readonly followRedirects?: boolean;
  /** total time for the request in ms (default timeouts.requestMs; 0 = no limit) */
  readonly totalTimeoutMs?: number;
  /** what we are doing, for messages: `pushing blob sha256:…` */
  readonly doing: string;
}

/** RegistryClient talks to one registry. Create one per registry with createRegistryClient. */
export interface RegistryClient {
  /** the registry as named in references, e.g. `localhost:5000` or `docker.io` */
  readonly registry: string;
  /** `https://host[:port]` or `http://…` */
  readonly baseUrl: URL;
  /**
   * request sends a request with retries and authentication and returns the final response, whatever
   * its status (callers check it; see `fail`). Throws NETWORK_ERROR / TIMEOUT after the retries,
   * REGISTRY_UNAUTHORIZED when authentication fails.
   */
  request(r: RegistryRequest): Promise<HttpResponse>;
  /** fail reads an error response's body (bounded) and throws the RegistryError it describes. */
  fail(res: HttpResponse, r: Pick<RegistryRequest, 'method' | 'doing'>, hint?: string): Promise<never>;
  /** blobTimeoutMs is the total time allowed to transfer a blob of `size` bytes. */
  blobTimeoutMs(size: number): number;
  /** redactor knows every secret this client holds */
  readonly redactor: Redactor;
  /** where the credential in use came from, when there is one */
  credentialSource(): Promise<string | undefined>;
  /** close idle connections */
  close(): void;
  /** where blob transfers and retries are reported (RegistryClientOptions.progress) */
  readonly progress?: ProgressSink;
}

const LOOPBACK = /^(localhost|127(?:\.[0-9]{1,3}){3}|\[::1\])(:[0-9]+)?$/;
const TOKEN_RESPONSE_LIMIT = 1 << 20;
const ERROR_BODY_LIMIT = 64 * 1024;
const MAX_REDIRECTS = 5;

/** isInsecureRegistry tells whether a registry is spoken to over plain HTTP by default (loopback or listed). */
export function isInsecureRegistry(registry: string, insecure: readonly string[] = []): boolean {
  return LOOPBACK.test(registry) || insecure.includes(registry);
}

async function readCertDir(dir: string): Promise<{ ca: string[]; cert?: string; key?: string } | undefined> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FromscratchError(
      'FILE_NOT_FOUND',
      `reading certificate directory ${dir}: ${(e as Error).message}`,
      { hint: 'point --cert-dir at a readable directory', cause: e },
    );
  }
  const ca: string[] = [];
  let cert: string | undefined;
  let key: string | undefined;
  for (const n of names) {
    if (n.endsWith('.crt')) ca.push(await readFile(join(dir, n), 'utf8'));
    else if (n.endsWith('.cert')) {
      const keyName = `${n.slice(0, -5)}.key`;
      if (!names.includes(keyName)) {
        throw new FromscratchError(
          'INVALID_ARGUMENT',
          `client certificate ${join(dir, n)} has no matching ${keyName}`,
          { hint: 'put the key next to the certificate, or remove the certificate' },
        );
      }
      cert = await readFile(join(dir, n), 'utf8');
      key = await readFile(join(dir, keyName), 'utf8');
    }
  }
  return { ca, ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

function defaultCertDirs(host: string): string[] {
  return [
    join('/etc/containers/certs.d', host),
    join(homedir(), '.config/containers/certs.d', host),
    join('/etc/docker/certs.d', host),
  ];
}

async function tlsSettingsFor(host: string, o: RegistryClientOptions): Promise<TlsSettings> {
  const dirs = o.certDir ? [o.certDir] : defaultCertDirs(host);
  const extraCa: string[] = [...(o.ca ?? [])];
  let cert: string | undefined;
  let key: string | undefined;
  for (const d of dirs) {
    const got = await readCertDir(d);
    if (!got) {
      if (o.certDir)
        throw new FromscratchError('FILE_NOT_FOUND', `certificate directory ${d} does not exist`, {
          hint: 'point --cert-dir at a directory holding ca.crt',
        });
      continue;
    }
    extraCa.push(...got.ca);
    cert ??= got.cert;
    key ??= got.key;
  }
  return {
    ...(extraCa.length > 0 ? { ca: [...rootCertificates, ...extraCa] } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    verify: o.tlsVerify !== false,
  };
}

/** envTimeoutMs reads FROMSCRATCH_REGISTRY_TIMEOUT (seconds, 0 = no limit) for requests that are not blob transfers. */
function envTimeoutMs(): number | undefined {
  const v = process.env.FROMSCRATCH_REGISTRY_TIMEOUT;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    throw new FromscratchError(
      'INVALID_ARGUMENT',
      `FROMSCRATCH_REGISTRY_TIMEOUT=${JSON.stringify(v)} is not a number of seconds`,
      {
        hint: 'set it to the seconds a registry request may take, retries included (0 = no limit)',
      },
    );
  }
  return n * 1000;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function isCredential(c: Credential | FoundCredential): c is Credential {
  return !('credential' in c);
}

/**
 * createRegistryClient returns a client for the registry of `ref` (a Reference or a `host[:port]`).
 * Nothing is contacted until the first request.
 *
 * @example
 * const client = createRegistryClient(parseReference('localhost:5000/app'), { retry: { attempts: 3 } });
 */
export function createRegistryClient(
  ref: Reference | string,
  opts: RegistryClientOptions = {},
): RegistryClient {
  const registry = typeof ref === 'string' ? ref : ref.registry;
  const host = typeof ref === 'string' ? (ref === 'docker.io' ? 'registry-1.docker.io' : ref) : ref.host;
  // loopback registries speak plain HTTP unless TLS material was given for them (docker's certs.d habit)
  const tlsGiven =
    opts.certDir !== undefined ||
    (opts.ca?.length ?? 0) > 0 ||
    defaultCertDirs(host).some((d) => existsSync(d));
  const scheme =
    opts.insecure?.includes(registry) || (LOOPBACK.test(registry) && !tlsGiven) ? 'http' : 'https';
  const baseUrl = new URL(`${scheme}://${host}`);
  const retry: ResolvedRetryOptions = resolveRetryOptions(opts.retry);
  const t = opts.timeouts ?? {};
  const idleMs = t.idleMs ?? 60_000;
  const requestMs = t.requestMs ?? envTimeoutMs() ?? 60_000;
  const blobBaseMs = t.blobBaseMs ?? 120_000;
  const blobRate = t.blobMinBytesPerSecond ?? 16 * 1024;
  const random = opts.random ?? Math.random;
  // a retrying registry says so: the wait and the reason, on the progress output
  const retrying = (doing: string, ms: number, why: string): void =>
    opts.progress?.({
      kind: 'note',
      message: redactor.redact(`${doing}: retrying in ${formatWait(ms)}: ${why}`),
    });
  const redactor = newRedactor();
  const userAgent = opts.userAgent ?? 'fromscratch';

  let transportP: Promise<Transport> | undefined;
  const transport = () => {
    transportP ??= (scheme === 'https' ? tlsSettingsFor(host, opts) : Promise.resolve({})).then((tls) =>
      createTransport(tls),
    );
    return transportP;
  };

  // authentication state
  let challengeP: Promise<Challenge | null> | undefined;
  let challenge: Challenge | null | undefined;
  let credP: Promise<FoundCredential | undefined> | undefined;
  const tokens = new Map<string, BearerToken>();
  // token requests in flight, so parallel blob uploads share one token request per scope set
  const pending = new Map<string, Promise<BearerToken>>();

  const credential = (): Promise<FoundCredential | undefined> => {
    credP ??= (async () => {
      const c = opts.credential
        ? isCredential(opts.credential)
          ? { credential: opts.credential, source: 'the credentials given on the command line' }
          : opts.credential
        : await readCredentials(registry, undefined, opts.credentials);
      if (c) {
        const cr = c.credential;
        if ('password' in cr) {
          redactor.add(cr.password);
          redactor.add(Buffer.from(`${cr.username}:${cr.password}`).toString('base64'));
        } else redactor.add(cr.identityToken);
      }
      return c;
    })();
    return credP;
  };

  const lookedIn = () => `looked in ${credentialFiles(opts.credentials).join(', ')}`;

  async function unauthorized(
    doing: string,
    status: number,
    url: string,
    diagnostics: ReturnType<typeof parseErrorEnvelope>,
    method = 'GET',
  ): Promise<never> {
    const c = await credential();
    const who = c
      ? 'username' in c.credential && c.credential.username
        ? `user "${c.credential.username}"`
        : 'an identity token'
      : undefined;
    throw new RegistryError({
      status,
      url,
      method,
      registry,
      diagnostics,
      doing: c ? `${doing} (credentials for ${who} from ${c.source})` : `${doing} (no credentials found)`,
      code: 'REGISTRY_UNAUTHORIZED',
      hint: c
        ? `registry ${registry} refused the credentials for ${who} from ${c.source}; log in again (docker login ${registry}) or fix that entry`
        : `registry ${registry} needs credentials and none were found (${lookedIn()}); run docker login ${registry} or podman login ${registry}`,
    });
  }

  /** ping learns the registry's challenge (GET /v2/); null means no authentication is needed. */
  async function ping(): Promise<Challenge | null> {
    const res = await send(
      { method: 'GET', url: '/v2/', scopes: [], doing: `contacting registry ${registry}` },
      false,
    );
    if (res.status === 200) {
      res.discard();
      return null;
    }
    if (res.status === 401) {
      res.discard();
      const chs = parseWwwAuthenticate(res.headerAll('www-authenticate'));
      const ch = chs.find((c) => c.scheme === 'bearer') ?? chs.find((c) => c.scheme === 'basic');
      if (!ch) {
        throw new FromscratchError(
          'REGISTRY_UNAUTHORIZED',
          `contacting registry ${registry}: it answered 401 without a usable WWW-Authenticate challenge`,
          {
            hint: 'only Basic and Bearer authentication are supported',
          },
        );
      }
      return ch;
    }
    return client.fail(
      res,
      { method: 'GET', doing: `contacting registry ${registry} (GET /v2/)` },
      `is ${baseUrl.origin} a container registry?`,
    );
  }

  async function getChallenge(): Promise<Challenge | null> {
    if (challenge !== undefined) return challenge;
    challengeP ??= ping().then(
      (c) => {
        challenge = c;
        return c;
      },
      (e) => {
        challengeP = undefined;
        throw e;
      },
    );
    return challengeP;
  }

  async function fetchToken(ch: Challenge, scopes: readonly string[], doing: string): Promise<BearerToken> {
    const realm = ch.params.realm;
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm ?? '');
    } catch {
      throw new FromscratchError(
        'REGISTRY_UNAUTHORIZED',
        `${doing}: registry ${registry} sent a bearer challenge with an invalid realm`,
        { hint: 'the registry is misconfigured' },
      );
    }
    if (
      realmUrl.protocol !== 'https:' &&
      !(realmUrl.protocol === 'http:' && (scheme === 'http' || LOOPBACK.test(realmUrl.host)))
    ) {
      throw new FromscratchError(
        'REGISTRY_UNAUTHORIZED',
        `${doing}: refusing to send credentials for ${registry} to the token service ${realmUrl.origin} over ${realmUrl.protocol}`,
        {
          hint: 'the token service must use https',
        },
      );
    }
    const c = await credential();
    const headers: Record<string, string> = { 'user-agent': userAgent, accept: 'application/json' };
    let res: HttpResponse;
    const tx = await transport();
    const deadline = requestMs > 0 ? Date.now() + requestMs : Number.POSITIVE_INFINITY;
    for (let attempt = 1; ; attempt++) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new TransportError(
          'TIMEOUT',
          `${doing}: the token service did not answer within ${requestMs / 1000} s`,
          false,
          0,
        );
      }
      const common = {
        idleTimeoutMs: Math.max(1, Math.min(idleMs, left)),
        totalTimeoutMs: Number.isFinite(deadline) ? left : 0,
      };
      try {
        if (c && 'identityToken' in c.credential) {
          const form = new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: c.credential.identityToken,
            client_id: userAgent,
            access_type: 'offline',
          });
          if (ch.params.service) form.set('service', ch.params.service);
          if (scopes.length) form.set('scope', scopes.join(' '));
          res = await tx.send({
            method: 'POST',
            url: realmUrl,
            headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
            body: Buffer.from(form.toString()),
            ...common,
          });
        } else {
          const u = new URL(realmUrl);
          if (ch.params.service) u.searchParams.set('service', ch.params.service);
          for (const s of scopes) u.searchParams.append('scope', s);
          if (c && 'password' in c.credential) {
            headers.authorization = `Basic ${Buffer.from(`${c.credential.username}:${c.credential.password}`).toString('base64')}`;
            u.searchParams.set('account', c.credential.username);
          }
          res = await tx.send({ method: 'GET', url: u, headers, ...common });
        }
      } catch (e) {
        if (isTransportError(e) && e.temporary && attempt < retry.attempts) {
          const wait = retryDelay(attempt, retry, undefined, random);
          retrying(`${doing}: getting a token`, wait, e.message);
          await sleep(wait);
          continue;
        }
        throw redactError(e);
      }
      if (RETRY_STATUSES.has(res.status) && attempt < retry.attempts) {
        res.discard();
        const wait = retryDelay(
          attempt,
          retry,
          parseRetryAfter(res.header('retry-after'), Date.now()),
          random,
        );
        retrying(`${doing}: getting a token`, wait, String(res.status));
        await sleep(wait);
        continue;
      }
      break;
    }
    if (res.status === 401 || res.status === 403) {
      const body = await readBodyLimited(res, ERROR_BODY_LIMIT, 'token error').catch(() => Buffer.alloc(0));
      return unauthorized(doing, res.status, redactor.redactUrl(realmUrl), parseErrorEnvelope(body));
    }
    if (res.status !== 200)
      return client.fail(res, { method: 'GET', doing: `${doing}: getting a token from ${realmUrl.origin}` });
    const body = await readBodyLimited(res, TOKEN_RESPONSE_LIMIT, `token response from ${realmUrl.origin}`);
    let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      doc = JSON.parse(body.toString('utf8')) as typeof doc;
    } catch {
      throw new FromscratchError(
        'REGISTRY_ERROR',
        `${doing}: the token service ${realmUrl.origin} answered with something that is not JSON`,
        { hint: 'the registry auth service is misconfigured' },
      );
    }
    const token =
      typeof doc.token === 'string' && doc.token
        ? doc.token
        : typeof doc.access_token === 'string'
          ? doc.access_token
          : '';
    if (!token)
      throw new FromscratchError(
        'REGISTRY_ERROR',
        `${doing}: the token service ${realmUrl.origin} returned no token`,
        { hint: 'the registry auth service is misconfigured' },
      );
    redactor.add(token);
    // the spec's default lifetime is 60 s; renew a little early
    const life = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : 60;
    return { token, expiresAt: Date.now() + Math.max(1, life - 5) * 1000 };
  }

  async function authorization(
    url: URL,
    scopes: readonly string[],
    doing: string,
    force: boolean,
  ): Promise<string | undefined> {
    // credentials and tokens only ever go to the registry's own origin (E10, D6)
    if (url.origin !== baseUrl.origin) return undefined;
    const ch = await getChallenge();
    if (!ch) return undefined;
    if (ch.scheme === 'basic') {
      const c = await credential();
      if (!c) return unauthorized(doing, 401, baseUrl.origin, []);
      if (!('password' in c.credential)) {
        throw new FromscratchError(
          'REGISTRY_UNAUTHORIZED',
          `${doing}: registry ${registry} asks for a password but ${c.source} holds an identity token`,
          { hint: `log in again: docker login ${registry}` },
        );
      }
      return `Basic ${Buffer.from(`${c.credential.username}:${c.credential.password}`).toString('base64')}`;
    }
    const key = [...new Set(scopes)].sort().join(' ');
    const cached = tokens.get(key);
    if (cached && !force && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
    let p = force ? undefined : pending.get(key);
    if (!p) {
      p = fetchToken(ch, [...new Set(scopes)].sort(), doing).finally(() => pending.delete(key));
      pending.set(key, p);
    }
    const tok = await p;
    tokens.set(key, tok);
    return `Bearer ${tok.token}`;
  }

  function redactError(e: unknown): unknown {
    if (e instanceof FromscratchError && !(e instanceof RegistryError)) {
      const m = redactor.redact(e.message);
      if (m !== e.message) return new FromscratchError(e.code, m, { ...(e.hint ? { hint: e.hint } : {}) });
    }
    return e;
  }

  async function send(r: RegistryRequest, authenticate = true): Promise<HttpResponse> {
    const tx = await transport();
    let url = new URL(r.url, baseUrl);
    const scopes = [...r.scopes];
    const restartable = r.body === undefined || r.body instanceof Uint8Array || typeof r.body === 'function';
    const retryable = (r.retryable ?? ['GET', 'HEAD', 'PUT', 'DELETE'].includes(r.method)) && restartable;
    const follow = r.followRedirects ?? (r.method === 'GET' || r.method === 'HEAD');
    let attempt = 0;
    let reauthed = false;
    let redirects = 0;
    // one time budget for the logical request, retries included: a silent registry fails in bounded time
    const budget = r.totalTimeoutMs ?? requestMs;
    const deadline = budget > 0 ? Date.now() + budget : Number.POSITIVE_INFINITY;
    const left = () => deadline - Date.now();
    const outOfTime = (why: string) =>
      new TransportError(
        'TIMEOUT',
        redactor.redact(
          `${r.doing}: no answer within ${Math.round(budget / 1000)} s (${why}, ${attempt} attempts)`,
        ),
        false,
        0,
      );
    for (;;) {
      attempt++;
      if (left() <= 0) throw outOfTime('time budget spent');
      const headers: Record<string, string> = { 'user-agent': userAgent, ...(r.headers ?? {}) };
      let auth: string | undefined;
      if (authenticate) {
        auth = await authorization(url, scopes, r.doing, false);
        if (auth) headers.authorization = auth;
      }
      const body = r.body === undefined ? undefined : typeof r.body === 'function' ? r.body() : r.body;
      let res: HttpResponse;
      try {
        res = await tx.send({
          method: r.method,
          url,
          headers,
          ...(body !== undefined ? { body } : {}),
          idleTimeoutMs: Math.max(1, Math.min(idleMs, left())),
          totalTimeoutMs: Number.isFinite(deadline) ? Math.max(1, left()) : 0,
        });
      } catch (e) {
        if (isTransportError(e) && e.temporary && retryable && attempt < retry.attempts) {
          const wait = retryDelay(attempt, retry, undefined, random);
          if (wait >= left()) throw outOfTime(e.message);
          retrying(r.doing, wait, e.message);
          await sleep(wait);
          continue;
        }
        if (isTransportError(e)) {
          throw new TransportError(
            e.code as 'NETWORK_ERROR' | 'TIMEOUT',
            redactor.redact(`${r.doing}: ${e.message}${attempt > 1 ? ` (after ${attempt} attempts)` : ''}`),
            e.temporary,
            e.bytesRead,
            e,
          );
        }
        throw redactError(e);
      }

      if ((res.status === 401 || res.status === 403) && authenticate && url.origin === baseUrl.origin) {
        const chs = parseWwwAuthenticate(res.headerAll('www-authenticate'));
        const bearer = chs.find((c) => c.scheme === 'bearer');
        if (!auth && res.status === 401 && !reauthed) {
          // the registry wants auth we did not know about (no ping yet, or it changed): learn and retry once
          res.discard();
          const ch = bearer ?? chs.find((c) => c.scheme === 'basic');
          if (ch) {
            challenge = ch;
            reauthed = true;
            attempt--;
            continue;
          }
        } else if (
          auth &&
          !reauthed &&
          (res.status === 401 || bearer?.params.error === 'insufficient_scope')
        ) {
          // expired token or a scope we did not ask for: one fresh token with the union of scopes (E10)
          res.discard();
          reauthed = true;
          if (bearer?.params.scope)
            for (const s of bearer.params.scope.split(' ')) if (s && !scopes.includes(s)) scopes.push(s);
          if (challenge?.scheme === 'bearer' && bearer?.params.realm) challenge = bearer;
          if (challenge?.scheme === 'bearer') {
            const key = [...new Set(scopes)].sort().join(' ');
            tokens.delete(key);
            await authorization(url, scopes, r.doing, true);
          }
          attempt--;
          continue;
        }
        if (res.status === 401) {
          const b = await readBodyLimited(res, ERROR_BODY_LIMIT, 'error body').catch(() => Buffer.alloc(0));
          return unauthorized(r.doing, 401, redactor.redactUrl(url), parseErrorEnvelope(b), r.method);
        }
      }

      if (RETRY_STATUSES.has(res.status) && retryable && attempt < retry.attempts) {
        const wait = retryDelay(
          attempt,
          retry,
          parseRetryAfter(res.header('retry-after'), Date.now()),
          random,
        );
        res.discard();
        if (wait >= left()) throw outOfTime(`HTTP ${res.status}`);
        retrying(r.doing, wait, String(res.status));
        await sleep(wait);
        continue;
      }

      if (
        follow &&
        [301, 302, 303, 307, 308].includes(res.status) &&
        (r.method === 'GET' || r.method === 'HEAD')
      ) {
        const loc = res.header('location');
        res.discard();
        if (!loc)
          throw new FromscratchError(
            'REGISTRY_ERROR',
            `${r.doing}: registry ${registry} redirected without a Location`,
            { hint: 'the registry is misconfigured' },
          );
        if (++redirects > MAX_REDIRECTS)
          throw new FromscratchError('REGISTRY_ERROR', `${r.doing}: more than ${MAX_REDIRECTS} redirects`, {
            hint: 'the registry or its storage redirects in a loop',
          });
        const next = new URL(loc, url);
        if (next.protocol !== 'https:' && next.protocol !== 'http:') {
          throw new FromscratchError(
            'REGISTRY_ERROR',
            `${r.doing}: registry ${registry} redirected to a ${next.protocol} URL`,
            { hint: 'only http and https redirects are followed' },
          );
        }
        if (url.protocol === 'https:' && next.protocol === 'http:' && !LOOPBACK.test(next.host)) {
          throw new FromscratchError(
            'REGISTRY_ERROR',
            `${r.doing}: registry ${registry} redirected from https to plain http (${next.origin})`,
            { hint: 'refusing a downgrade; fix the registry storage configuration' },
          );
        }
        url = next;
        attempt--;
        continue;
      }
      return res;
    }
  }

  const client: RegistryClient = {
    registry,
    baseUrl,
    redactor,
    ...(opts.progress ? { progress: opts.progress } : {}),
    request: (r) => send(r, true),
    async fail(res, r, hint) {
      let body: Buffer = Buffer.alloc(0);
      if (r.method !== 'HEAD') {
        try {
          body = await readBodyLimited(res, ERROR_BODY_LIMIT, 'error body');
        } catch {
          // an oversized or broken error body: report the status alone
        }
      } else res.discard();
      const diagnostics = parseErrorEnvelope(body);
      const excerpt =
        diagnostics.length === 0 && body.length > 0
          ? redactor.redact(body.toString('utf8', 0, 200).replace(/\s+/g, ' ').trim())
          : undefined;
      let denied: string | undefined;
      if (res.status === 401 || res.status === 403) {
        const c = await credential();
        denied = c
          ? `registry ${registry} denied access with the credentials from ${c.source}; check the account's permissions`
          : `registry ${registry} denied anonymous access (${lookedIn()}); log in with docker login ${registry}`;
      }
      const why = hint ?? denied;
      throw new RegistryError({
        status: res.status,
        url: redactor.redactUrl(res.url),
        method: r.method,
        registry,
        diagnostics,
        doing: r.doing,
        ...(excerpt ? { bodyExcerpt: excerpt } : {}),
        ...(why ? { hint: why } : {}),
      });
    },
    blobTimeoutMs(size) {
      return Math.ceil(blobBaseMs + (size / blobRate) * 1000);
    },
    async credentialSource() {
      return (await credential())?.source;
    },
    close() {
      void transportP?.then((tx) => tx.close());
    },
  };
  return client;
}

/** formatWait writes a backoff wait for people: `2 s`, `0.4 s`. */
function formatWait(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 100) / 10} s`;
}
