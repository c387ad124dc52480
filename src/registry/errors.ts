/**
 * errors.ts — RegistryError: a registry's answer that is an error, with the distribution-spec
 * error envelope parsed (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes),
 * as go-containerregistry's `transport.Error` does. Secrets are redacted before they reach a message.
 */
import { FromscratchError } from '../errors.ts';
import { RETRY_STATUSES } from './retry.ts';

/** RegistryDiagnostic is one entry of the error envelope `{"errors":[{code,message,detail}]}`. */
export interface RegistryDiagnostic {
  /** e.g. MANIFEST_UNKNOWN, BLOB_UPLOAD_INVALID, DIGEST_INVALID, DENIED, UNAUTHORIZED */
  readonly code: string;
  readonly message: string;
  readonly detail?: unknown;
}

/** RegistryErrorInit is what RegistryError is built from. */
export interface RegistryErrorInit {
  readonly status: number;
  /** the URL, already redacted */
  readonly url: string;
  readonly method: string;
  readonly registry: string;
  readonly diagnostics: readonly RegistryDiagnostic[];
  /** what we were doing, e.g. `pushing blob sha256:…` */
  readonly doing: string;
  readonly hint?: string;
  readonly code?: 'REGISTRY_ERROR' | 'REGISTRY_UNAUTHORIZED';
  /** a short, redacted excerpt of a non-JSON body */
  readonly bodyExcerpt?: string;
}

/**
 * RegistryError is an HTTP error answer from a registry. `code` is REGISTRY_UNAUTHORIZED for 401/403,
 * REGISTRY_ERROR otherwise; `diagnostics` holds the registry's own error codes; `temporary` says
 * whether a retry could succeed (408, 429, 5xx).
 */
export class RegistryError extends FromscratchError {
  readonly status: number;
  readonly url: string;
  readonly diagnostics: readonly RegistryDiagnostic[];
  readonly temporary: boolean;
  constructor(init: RegistryErrorInit) {
    const code =
      init.code ?? (init.status === 401 || init.status === 403 ? 'REGISTRY_UNAUTHORIZED' : 'REGISTRY_ERROR');
    const diag = init.diagnostics.map((d) => (d.message ? `${d.code}: ${d.message}` : d.code)).join('; ');
    const reason = diag || init.bodyExcerpt || `HTTP ${init.status}`;
    super(
      code,
      `${init.doing}: registry ${init.registry} answered ${init.status} to ${init.method} ${init.url}: ${reason}`,
      {
        hint: init.hint ?? defaultHint(init.status, init.diagnostics),
      },
    );
    this.name = 'FromscratchError';
    this.status = init.status;
    this.url = init.url;
    this.diagnostics = init.diagnostics;
    this.temporary = RETRY_STATUSES.has(init.status);
  }
  /** hasCode tells whether the registry reported this distribution-spec error code. */
  hasCode(code: string): boolean {
    return this.diagnostics.some((d) => d.code === code);
  }
}

function defaultHint(status: number, diags: readonly RegistryDiagnostic[]): string {
  if (status === 401 || status === 403)
    return 'log in (docker login / podman login) with an account that may access this repository';
  if (diags.some((d) => d.code === 'MANIFEST_UNKNOWN' || d.code === 'NAME_UNKNOWN'))
    return 'check the repository name and tag';
  if (RETRY_STATUSES.has(status)) return 'the registry is overloaded or failing; try again later';
  return 'see the registry message; check the reference and the registry logs';
}

/** parseErrorEnvelope reads `{"errors":[…]}` leniently; anything else gives no diagnostics. */
export function parseErrorEnvelope(body: Uint8Array): RegistryDiagnostic[] {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    // not JSON: the caller shows a short excerpt instead
    return [];
  }
  const errors = (doc as { errors?: unknown })?.errors;
  if (!Array.isArray(errors)) return [];
  const out: RegistryDiagnostic[] = [];
  for (const e of errors.slice(0, 20)) {
    if (typeof e !== 'object' || e === null) continue;
    const { code, message, detail } = e as Record<string, unknown>;
    out.push({
      code: typeof code === 'string' ? code.slice(0, 100) : 'UNKNOWN',
      message: typeof message === 'string' ? message.slice(0, 500) : '',
      ...(detail !== undefined ? { detail } : {}),
    });
  }
  return out;
}

/** Redactor removes secrets (passwords, tokens) from text. */
export interface Redactor {
  add(secret: string | undefined): void;
  redact(text: string): string;
  /** redactUrl drops user info and the values of secret-looking query parameters */
  redactUrl(url: URL | string): string;
}

/** newRedactor returns an empty Redactor. */
export function newRedactor(): Redactor {
  const secrets = new Set<string>();
  const redact = (text: string) => {
    let out = text;
    for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
    return out;
  };
  return {
    add(s) {
      if (s && s.length >= 4) {
        secrets.add(s);
        secrets.add(encodeURIComponent(s));
      }
    },
    redact,
    redactUrl(url) {
      let u: URL;
      try {
        u = new URL(String(url));
      } catch {
        return redact(String(url));
      }
      u.username = '';
      u.password = '';
      for (const k of [...u.searchParams.keys()]) {
        if (/token|password|secret|signature|sig|credential|^_state$|^x-amz-/i.test(k))
          u.searchParams.set(k, '***');
      }
      return redact(u.toString());
    },
  };
}
