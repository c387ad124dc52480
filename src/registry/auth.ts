/**
 * auth.ts — registry credentials and the WWW-Authenticate dance.
 *
 * Credentials are found where docker, skopeo and podman keep them (containers-auth.json(5),
 * docker config.json): `REGISTRY_AUTH_FILE` or `${XDG_RUNTIME_DIR}/containers/auth.json`, then
 * `~/.config/containers/auth.json`, then `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`.
 * In each file `credHelpers[registry]` wins, then an `auths` entry, then `credsStore`.
 * Helpers are `docker-credential-<name> get` with the server URL on stdin
 * (https://github.com/docker/docker-credential-helpers#development).
 *
 * Token auth: https://distribution.github.io/distribution/spec/auth/token/ and
 * https://distribution.github.io/distribution/spec/auth/oauth/ (identity tokens).
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FromscratchError } from '../errors.ts';
import { DOCKER_HUB } from './reference.ts';

/** Credential is what a registry login holds: a user name and password, or an OAuth2 identity (refresh) token. */
export type Credential =
  | { readonly username: string; readonly password: string }
  | { readonly identityToken: string; readonly username?: string };

/** FoundCredential is a credential with the place it came from (for error messages; never the secret). */
export interface FoundCredential {
  readonly credential: Credential;
  /** e.g. `/root/.docker/config.json`, `docker-credential-pass (credsStore in /root/.docker/config.json)` */
  readonly source: string;
}

/** CredentialLookupOptions says where to look. Every field is optional. */
export interface CredentialLookupOptions {
  /** environment (default process.env): DOCKER_CONFIG, REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, HOME */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** an auth file to use instead of every default location (skopeo --authfile) */
  readonly authFile?: string;
  /** time limit for a credential helper, in ms (default 30 000) */
  readonly helperTimeoutMs?: number;
}

/** credentialFiles lists the files consulted, most preferred first. */
export function credentialFiles(opts: CredentialLookupOptions = {}): string[] {
  if (opts.authFile) return [opts.authFile];
  const env = opts.env ?? process.env;
  const home = env.HOME || homedir();
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  else if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  files.push(join(home, '.config', 'containers', 'auth.json'));
  files.push(join(env.DOCKER_CONFIG || join(home, '.docker'), 'config.json'));
  return files;
}

/** helperServerUrl is the server URL docker passes to credential helpers for a registry. */
function helperServerUrl(registry: string): string {
  return registry === DOCKER_HUB ? 'https://index.docker.io/v1/' : registry;
}

/** normalizeAuthKey maps an `auths` key (`https://index.docker.io/v1/`, `http://host:5000`, `host/ns/repo`) to `host[/path]`. */
function normalizeAuthKey(key: string): string {
  let k = key.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  if (k.endsWith('/v1') || k.endsWith('/v2')) k = k.slice(0, -3);
  const slash = k.indexOf('/');
  const host = slash < 0 ? k : k.slice(0, slash);
  const path = slash < 0 ? '' : k.slice(slash);
  const h = host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host;
  return h + path;
}

interface AuthFileDoc {
  auths?: Record<string, { auth?: string; identitytoken?: string; username?: string; password?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

async function readAuthFile(path: string): Promise<AuthFileDoc | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
      return undefined;
    throw new FromscratchError(
      'REGISTRY_UNAUTHORIZED',
      `reading credentials file ${path}: ${(e as Error).message}`,
      {
        hint: 'make the file readable or point REGISTRY_AUTH_FILE / DOCKER_CONFIG elsewhere',
        cause: e,
      },
    );
  }
  if (text.trim() === '') return undefined;
  try {
    const doc = JSON.parse(text) as unknown;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not a JSON object');
    return doc as AuthFileDoc;
  } catch (e) {
    // never echo the file: it holds secrets
    throw new FromscratchError(
      'REGISTRY_UNAUTHORIZED',
      `reading credentials file ${path}: it is not valid JSON`,
      {
        hint: 'fix or remove the file (docker login / podman login rewrite it)',
        cause: new Error((e as Error).name),
      },
    );
  }
}

function decodeAuthEntry(
  entry: { auth?: string; identitytoken?: string; username?: string; password?: string },
  where: string,
): Credential | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '')
    return { identityToken: entry.identitytoken };
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) {
      throw new FromscratchError(
        'REGISTRY_UNAUTHORIZED',
        `reading credentials for ${where}: the "auth" entry is not base64 of user:password`,
        {
          hint: 'log in again (docker login / podman login) to rewrite it',
        },
      );
    }
    return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string')
    return { username: entry.username, password: entry.password };
  return undefined;
}

/**
 * runCredentialHelper runs `docker-credential-<helper> get` with the server URL on stdin and returns
 * the credential, or undefined when the helper has none for this server. Fails with
 * TOOL_MISSING when the helper is not on PATH and REGISTRY_UNAUTHORIZED when it fails or times out.
 */
export async function runCredentialHelper(
  helper: string,
  serverUrl: string,
  timeoutMs = 30_000,
  env?: Readonly<Record<string, string | undefined>>,
): Promise<Credential | undefined> {
  if (!/^[A-Za-z0-9._-]+$/.test(helper)) {
    throw new FromscratchError(
      'REGISTRY_UNAUTHORIZED',
      `invalid credential helper name "${helper.slice(0, 80)}"`,
      { hint: 'fix credHelpers / credsStore in the auth file' },
    );
  }
  const bin = `docker-credential-${helper}`;
  const { code, stdout, stderr, error } = await new Promise<{
    code: number | null;
    stdout: string;
    stderr: string;
    error?: NodeJS.ErrnoException;
  }>((resolve) => {
    const child = spawn(bin, ['get'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: timeoutMs,
      env: env ? ({ ...env } as NodeJS.ProcessEnv) : process.env,
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (out.length < 1 << 20) out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (err.length < 1 << 14) err += d;
    });
    child.on('error', (e) => resolve({ code: null, stdout: out, stderr: err, error: e }));
    child.on('close', (c, signal) =>
      resolve({
        code: signal ? null : c,
        stdout: out,
        stderr: err,
        ...(signal
          ? {
              error: Object.assign(new Error(`killed by ${signal} (timeout ${timeoutMs} ms)`), {
                code: 'ETIMEDOUT',
              }),
            }
          : {}),
      }),
    );
    child.stdin.on('error', () => {
      // the helper may exit before reading stdin; its exit status tells what happened
    });
    child.stdin.end(serverUrl);
  });
  if (error?.code === 'ENOENT') {
    throw new FromscratchError('TOOL_MISSING', `credential helper ${bin} is not installed`, {
      hint: `install ${bin} or remove it from credHelpers/credsStore in the docker config`,
    });
  }
  if (error) {
    throw new FromscratchError(
      'REGISTRY_UNAUTHORIZED',
      `getting credentials for ${serverUrl} from ${bin}: ${error.message}`,
      { hint: `check that ${bin} works: echo ${serverUrl} | ${bin} get` },
    );
  }
  if (code !== 0) {
    if (/credentials not found/i.test(stdout + stderr)) return undefined;
    throw new FromscratchError(
      'REGISTRY_UNAUTHORIZED',
      `getting credentials for ${serverUrl} from ${bin}: exit status ${code}: ${(stderr || stdout).trim().slice(0, 200)}`,
      {
        hint: `check that ${bin} works: echo ${serverUrl} | ${bin} get`,
      },
    );
  }
  let doc: { Username?: unknown; Secret?: unknown };
  try {
    doc = JSON.parse(stdout) as typeof doc;
  } catch {
    throw new FromscratchError(
      'REGISTRY_UNAUTHORIZED',
      `getting credentials for ${serverUrl} from ${bin}: its output is not JSON`,
      { hint: `check that ${bin} works` },
    );
  }
  if (typeof doc.Secret !== 'string' || doc.Secret === '') return undefined;
  const username = typeof doc.Username === 'string' ? doc.Username : '';
  // docker-credential-helpers store identity tokens with the user name "<token>"
  if (username === '<token>') return { identityToken: doc.Secret };
  return { username, password: doc.Secret };
}

/**
 * readCredentials finds the credential for `registry` (and optionally `repository`, for auth files
 * with per-repository entries) in the standard places, or undefined when there is none.
 * Throws REGISTRY_UNAUTHORIZED for a malformed file or a failing helper, TOOL_MISSING for a missing helper.
 */
export async function readCredentials(
  registry: string,
  repository?: string,
  opts: CredentialLookupOptions = {},
): Promise<FoundCredential | undefined> {
  const target = repository ? `${registry}/${repository}` : registry;
  for (const file of credentialFiles(opts)) {
    const doc = await readAuthFile(file);
    if (!doc) continue;
    const helper =
      doc.credHelpers?.[registry] ??
      (registry === DOCKER_HUB ? doc.credHelpers?.['index.docker.io'] : undefined);
    if (typeof helper === 'string' && helper !== '') {
      const c = await runCredentialHelper(helper, helperServerUrl(registry), opts.helperTimeoutMs, opts.env);
      if (c) return { credential: c, source: `docker-credential-${helper} (credHelpers in ${file})` };
      continue;
    }
    // the most specific `auths` key that is the registry or a path prefix of registry/repository
    let best: { len: number; cred: Credential } | undefined;
    for (const [key, entry] of Object.entries(doc.auths ?? {})) {
      const k = normalizeAuthKey(key);
      if (k === registry || target === k || target.startsWith(`${k}/`)) {
        const cred = decodeAuthEntry(entry, `${registry} in ${file}`);
        if (cred && (!best || k.length > best.len)) best = { len: k.length, cred };
      }
    }
    if (best) return { credential: best.cred, source: file };
    if (typeof doc.credsStore === 'string' && doc.credsStore !== '') {
      const c = await runCredentialHelper(
        doc.credsStore,
        helperServerUrl(registry),
        opts.helperTimeoutMs,
        opts.env,
      );
      if (c) return { credential: c, source: `docker-credential-${doc.credsStore} (credsStore in ${file})` };
    }
  }
  return undefined;
}

/** Challenge is one parsed WWW-Authenticate challenge. */
export interface Challenge {
  /** lower-case scheme: `basic`, `bearer`, … */
  readonly scheme: string;
  /** parameters with lower-case names (`realm`, `service`, `scope`, `error`) */
  readonly params: Readonly<Record<string, string>>;
}

/**
 * parseWwwAuthenticate parses WWW-Authenticate header values (RFC 7235: several challenges,
 * quoted-string parameters with backslash escapes). Unparseable parts are skipped.
 */
export function parseWwwAuthenticate(values: readonly string[]): Challenge[] {
  const out: Challenge[] = [];
  for (const value of values) {
    let i = 0;
    const s = value;
    let current: { scheme: string; params: Record<string, string> } | undefined;
    const skipWs = () => {
      while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
    };
    while (i < s.length) {
      skipWs();
      if (s[i] === ',') {
        i++;
        continue;
      }
      const m = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/.exec(s.slice(i));
      if (!m) break;
      const token = m[0];
      i += token.length;
      skipWs();
      if (s[i] === '=' && current) {
        i++;
        skipWs();
        let v = '';
        if (s[i] === '"') {
          i++;
          while (i < s.length && s[i] !== '"') {
            if (s[i] === '\\' && i + 1 < s.length) i++;
            v += s[i];
            i++;
          }
          i++;
        } else {
          const vm = /^[^,\s]*/.exec(s.slice(i));
          v = vm ? vm[0] : '';
          i += v.length;
        }
        current.params[token.toLowerCase()] = v;
      } else {
        current = { scheme: token.toLowerCase(), params: {} };
        out.push(current);
      }
    }
  }
  return out;
}

/** TokenResponse is a bearer token with its expiry (epoch ms). */
export interface BearerToken {
  readonly token: string;
  readonly expiresAt: number;
}
