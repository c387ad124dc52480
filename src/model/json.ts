/**
 * json.ts — strict parsing and validation of the JSON documents of an image. PURE.
 *
 * `JSON.parse` keeps the last of two duplicate keys while other parsers keep the first, so two tools can
 * read two different documents from the same bytes (CVE-2014-8179 class, RELIABILITY.md D5). The parser
 * here rejects duplicate keys, invalid UTF-8, nesting deeper than 256 and documents over a size cap
 * (RELIABILITY.md C6). The validators check types, sizes and digests of manifests, indexes and configs, and
 * reject ambiguous documents (a manifest with `manifests`, an index with `config`/`layers`, a `mediaType`
 * that contradicts its descriptor: CVE-2021-41190, RELIABILITY.md D1, D2, D4).
 * https://github.com/opencontainers/image-spec/blob/main/manifest.md
 * https://github.com/opencontainers/image-spec/blob/main/image-index.md
 * https://github.com/opencontainers/image-spec/blob/main/config.md
 */
import { FromscratchError } from '../errors.ts';
import type { Descriptor } from './descriptor.ts';
import { type Digest, parseDigest } from './digest.ts';
import type { HistoryEntry, ImageConfig, ImageIndex, ImageManifest, RuntimeConfig } from './documents.ts';
import { isIndexMediaType, isManifestMediaType } from './media-type.ts';
import type { Platform } from './platform.ts';

/** DEFAULT_JSON_LIMIT is the size cap of a manifest, index or config: the spec asks to accept at least 4 MiB. */
export const DEFAULT_JSON_LIMIT = 8 * 1024 * 1024;

/** MAX_INDEX_MANIFESTS is the most entries accepted in one index (index.json included); writers stay under it. */
export const MAX_INDEX_MANIFESTS = 1000;

/**
 * MAX_IMAGE_LAYERS is the most layers accepted in one image (manifest layers, config diff_ids): Docker's
 * overlay2 stops at 128, so this only refuses images made to waste work (50,000 copies of one layer).
 */
export const MAX_IMAGE_LAYERS = 1000;

/** MAX_JSON_DEPTH bounds nesting so a hostile `[[[[…` cannot exhaust the stack. */
const MAX_JSON_DEPTH = 256;

/** JsonValue is what parseJsonStrict returns. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * parseJsonStrict parses a JSON document, rejecting duplicate object keys, invalid UTF-8, a BOM, nesting
 * over 256 levels, and more than `limit` bytes (default 8 MiB).
 * Throws FromscratchError 'TOO_LARGE' (over the cap) or 'INVALID_IMAGE' (anything else), naming `what`.
 * @example parseJsonStrict(bytes, 'manifest sha256:…')
 */
export function parseJsonStrict(
  bytes: Uint8Array | string,
  what: string,
  limit: number = DEFAULT_JSON_LIMIT,
): JsonValue {
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
  if (size > limit) {
    throw new FromscratchError(
      'TOO_LARGE',
      `${what}: ${size} bytes of JSON is over the ${limit}-byte limit`,
      {
        hint: 'manifests, indexes and configs over the limit are refused to bound memory; the image is probably hostile or corrupt',
      },
    );
  }
  if (typeof bytes !== 'string' && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw invalid(what, 'starts with a byte order mark, which JSON forbids (RFC 8259 §8.1)');
  }
  let text: string;
  try {
    text = typeof bytes === 'string' ? bytes : utf8.decode(bytes);
  } catch (e) {
    throw invalid(what, 'not valid UTF-8', e);
  }
  return new StrictParser(text, what).parseDocument();
}

function invalid(what: string, reason: string, cause?: unknown): FromscratchError {
  return new FromscratchError('INVALID_IMAGE', `${what}: ${reason}`, {
    hint: 'the document is malformed; rebuild or fetch the image again',
    ...(cause === undefined ? {} : { cause }),
  });
}

class StrictParser {
  private i = 0;
  private readonly s: string;
  private readonly what: string;
  constructor(s: string, what: string) {
    this.s = s;
    this.what = what;
  }

  parseDocument(): JsonValue {
    this.ws();
    const v = this.value(0);
    this.ws();
    if (this.i !== this.s.length) this.fail('unexpected data after the JSON value');
    return v;
  }

  private fail(reason: string): never {
    throw invalid(this.what, `invalid JSON at byte ${this.i}: ${reason}`);
  }

  private ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else break;
    }
  }

  private value(depth: number): JsonValue {
    if (depth > MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
    const c = this.s[this.i];
    switch (c) {
      case '{':
        return this.object(depth);
      case '[':
        return this.array(depth);
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      case undefined:
        return this.fail('unexpected end of input');
      default:
        return this.number();
    }
  }

  private literal<T extends JsonValue>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.i)) this.fail('unexpected token');
    this.i += word.length;
    return v;
  }

  private number(): number {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m) this.fail('unexpected token');
    this.i += m[0].length;
    return Number(m[0]);
  }

  private string(): string {
    const s = this.s;
    const start = this.i;
    let j = start + 1;
    let escaped = false;
    for (; j < s.length; j++) {
      const c = s.charCodeAt(j);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        j++;
      } else if (c < 0x20) {
        this.i = j;
        this.fail('control character in string');
      }
    }
    if (j >= s.length) this.fail('unterminated string');
    this.i = j + 1;
    if (!escaped) return s.slice(start + 1, j);
    try {
      return JSON.parse(s.slice(start, j + 1)) as string;
    } catch {
      // JSON.parse names the problem less precisely than the offset does
      this.i = start;
      return this.fail('invalid escape in string');
    }
  }

  private array(depth: number): JsonValue[] {
    this.i++;
    const out: JsonValue[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') {
        this.i--;
        this.fail('expected "," or "]"');
      }
    }
  }

  private object(depth: number): { [key: string]: JsonValue } {
    this.i++;
    const out: { [key: string]: JsonValue } = {};
    const seen = new Set<string>();
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('expected a string key');
      const key = this.string();
      if (seen.has(key)) this.fail(`duplicate key ${JSON.stringify(key)}`);
      seen.add(key);
      this.ws();
      if (this.s[this.i++] !== ':') {
        this.i--;
        this.fail('expected ":"');
      }
      this.ws();
      const v = this.value(depth + 1);
      // defineProperty, not assignment: a "__proto__" key must stay an ordinary key
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') {
        this.i--;
        this.fail('expected "," or "}"');
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// validators

/** DocumentOptions configures the document validators. */
export interface DocumentOptions {
  /** names the document in messages (default "manifest", "index" or "config") */
  what?: string;
  /** size cap in bytes (default DEFAULT_JSON_LIMIT, 8 MiB) */
  limit?: number;
  /** the mediaType of the descriptor that pointed here; a document mediaType must agree (D2) */
  expectedMediaType?: string;
}

/** IndexOptions adds the manifest-count cap of an index (RELIABILITY.md D8). */
export interface IndexOptions extends DocumentOptions {
  /** most manifests accepted in one index (default MAX_INDEX_MANIFESTS, 1000) */
  maxManifests?: number;
}

type Obj = { [key: string]: JsonValue };

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checker collects typed reads from a parsed document, naming the field on failure. */
class Checker {
  readonly what: string;
  constructor(what: string) {
    this.what = what;
  }
  fail(field: string, reason: string): never {
    throw invalid(this.what, `${field}: ${reason}`);
  }
  obj(v: unknown, field: string): Obj {
    if (!isObj(v)) this.fail(field, 'must be an object');
    return v;
  }
  str(v: unknown, field: string): string {
    if (typeof v !== 'string') this.fail(field, 'must be a string');
    return v;
  }
  optStr(v: unknown, field: string): string | undefined {
    return v === undefined ? undefined : this.str(v, field);
  }
  strArray(v: unknown, field: string): string[] {
    if (!Array.isArray(v)) this.fail(field, 'must be an array of strings');
    return v.map((x, i) => this.str(x, `${field}[${i}]`));
  }
  strMap(v: unknown, field: string): Record<string, string> {
    const o = this.obj(v, field);
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(o)) {
      Object.defineProperty(out, k, {
        value: this.str(x, `${field}.${k}`),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  size(v: unknown, field: string): number {
    // 1e400 parses to Infinity, -1 and 1.5 are not sizes, 2^53 loses precision (D4)
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      this.fail(field, `must be a non-negative integer, got ${String(v)}`);
    return v;
  }
  digest(v: unknown, field: string): Digest {
    try {
      return parseDigest(v);
    } catch (e) {
      throw new FromscratchError('INVALID_DIGEST', `${this.what}: ${field}: ${(e as Error).message}`, {
        hint: 'digests must be "sha256:" followed by 64 lowercase hex digits',
        cause: e,
      });
    }
  }
  emptyObjMap(v: unknown, field: string): Record<string, Record<string, never>> {
    const o = this.obj(v, field);
    const out: Record<string, Record<string, never>> = {};
    for (const [k, x] of Object.entries(o)) {
      this.obj(x, `${field}.${k}`);
      Object.defineProperty(out, k, { value: {}, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
}

const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

function parseDescriptorValue(c: Checker, v: unknown, field: string): Descriptor {
  const o = c.obj(v, field);
  const mediaType = c.str(o.mediaType, `${field}.mediaType`);
  if (!MEDIA_TYPE_RE.test(mediaType))
    c.fail(`${field}.mediaType`, `invalid media type ${JSON.stringify(mediaType.slice(0, 100))}`);
  const d: {
    mediaType: string;
    digest: Digest;
    size: number;
    annotations?: Record<string, string>;
    platform?: Platform;
    urls?: string[];
    artifactType?: string;
  } = { mediaType, digest: c.digest(o.digest, `${field}.digest`), size: c.size(o.size, `${field}.size`) };
  if (o.annotations !== undefined) d.annotations = c.strMap(o.annotations, `${field}.annotations`);
  if (o.urls !== undefined) d.urls = c.strArray(o.urls, `${field}.urls`);
  if (o.artifactType !== undefined) d.artifactType = c.str(o.artifactType, `${field}.artifactType`);
  if (o.platform !== undefined) {
    const p = c.obj(o.platform, `${field}.platform`);
    const plat: { os: string; architecture: string; variant?: string; 'os.version'?: string } = {
      os: c.str(p.os, `${field}.platform.os`),
      architecture: c.str(p.architecture, `${field}.platform.architecture`),
    };
    const variant = c.optStr(p.variant, `${field}.platform.variant`);
    if (variant !== undefined) plat.variant = variant;
    const osv = c.optStr(p['os.version'], `${field}.platform.os.version`);
    if (osv !== undefined) plat['os.version'] = osv;
    d.platform = plat;
  }
  return d;
}

/**
 * parseDescriptor validates one descriptor (mediaType syntax, digest syntax, size). Throws INVALID_IMAGE
 * or INVALID_DIGEST naming `what`.
 */
export function parseDescriptor(v: unknown, what = 'descriptor'): Descriptor {
  return parseDescriptorValue(new Checker(what), v, 'descriptor');
}

function checkTopLevel(c: Checker, o: Obj, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k))
      c.fail(k, 'unknown top-level field (refused: two parsers could read two documents)');
  }
}

function checkDocMediaType(
  c: Checker,
  o: Obj,
  opts: DocumentOptions,
  accept: (mt: string) => boolean,
  kind: string,
): string | undefined {
  const mt = c.optStr(o.mediaType, 'mediaType');
  if (mt !== undefined && !accept(mt)) {
    throw new FromscratchError(
      'AMBIGUOUS_MANIFEST',
      `${c.what}: mediaType ${JSON.stringify(mt)} is not an ${kind} media type`,
      {
        hint: 'the document contradicts what it is used as (CVE-2021-41190); the image is corrupt or hostile',
      },
    );
  }
  if (opts.expectedMediaType !== undefined && mt !== undefined && mt !== opts.expectedMediaType) {
    throw new FromscratchError(
      'AMBIGUOUS_MANIFEST',
      `${c.what}: document mediaType ${mt} differs from its descriptor's ${opts.expectedMediaType}`,
      { hint: 'the document contradicts its descriptor (CVE-2021-41190); the image is corrupt or hostile' },
    );
  }
  return mt;
}

function checkSchemaVersion(c: Checker, o: Obj): void {
  if (o.schemaVersion !== 2)
    c.fail('schemaVersion', `must be 2, got ${JSON.stringify(o.schemaVersion) ?? 'nothing'}`);
}

/** tooManyLayers refuses an image with more than MAX_IMAGE_LAYERS layers (RELIABILITY.md section 6). */
function tooManyLayers(what: string, n: number, field: string): void {
  if (n <= MAX_IMAGE_LAYERS) return;
  throw new FromscratchError(
    'TOO_LARGE',
    `${what}: ${field} has ${n} entries, over the limit of ${MAX_IMAGE_LAYERS} layers`,
    {
      hint: 'images with that many layers are refused to bound work; squash layers (fewer --layers) when building',
    },
  );
}

/**
 * parseImageManifest parses and validates an OCI image manifest or Docker v2 schema 2 manifest.
 * Throws AMBIGUOUS_MANIFEST for a document with `manifests` or a contradicting mediaType, TOO_LARGE over the
 * cap, INVALID_DIGEST for a bad digest, INVALID_IMAGE otherwise. Unknown top-level fields are refused.
 * @example parseImageManifest(bytes, { what: `manifest ${d}`, expectedMediaType: desc.mediaType })
 */
export function parseImageManifest(bytes: Uint8Array | string, opts: DocumentOptions = {}): ImageManifest {
  const what = opts.what ?? 'manifest';
  const c: Checker = new Checker(what);
  const o = c.obj(parseJsonStrict(bytes, what, opts.limit), 'document');
  if ('manifests' in o) {
    throw new FromscratchError('AMBIGUOUS_MANIFEST', `${what}: an image manifest must not have "manifests"`, {
      hint: 'the document is both a manifest and an index (CVE-2021-41190); the image is corrupt or hostile',
    });
  }
  checkSchemaVersion(c, o);
  const mediaType = checkDocMediaType(c, o, opts, isManifestMediaType, 'image manifest');
  checkTopLevel(c, o, [
    'schemaVersion',
    'mediaType',
    'artifactType',
    'config',
    'layers',
    'subject',
    'annotations',
  ]);
  if (o.config === undefined) c.fail('config', 'is missing');
  if (o.layers === undefined) c.fail('layers', 'is missing');
  if (!Array.isArray(o.layers)) c.fail('layers', 'must be an array');
  tooManyLayers(what, o.layers.length, 'layers');
  const m: ImageManifest = {
    schemaVersion: 2,
    ...(mediaType !== undefined ? { mediaType } : {}),
    config: parseDescriptorValue(c, o.config, 'config'),
    layers: o.layers.map((l, i) => parseDescriptorValue(c, l, `layers[${i}]`)),
  };
  if (o.artifactType !== undefined) m.artifactType = c.str(o.artifactType, 'artifactType');
  if (o.subject !== undefined) m.subject = parseDescriptorValue(c, o.subject, 'subject');
  if (o.annotations !== undefined) m.annotations = c.strMap(o.annotations, 'annotations');
  return m;
}

/**
 * parseImageIndex parses and validates an OCI image index or Docker manifest list.
 * Throws AMBIGUOUS_MANIFEST for a document with `config` or `layers` or a contradicting mediaType,
 * TOO_LARGE over the size cap or over `maxManifests` entries, INVALID_DIGEST, INVALID_IMAGE otherwise.
 */
export function parseImageIndex(bytes: Uint8Array | string, opts: IndexOptions = {}): ImageIndex {
  const what = opts.what ?? 'index';
  const c: Checker = new Checker(what);
  const o = c.obj(parseJsonStrict(bytes, what, opts.limit), 'document');
  if ('config' in o || 'layers' in o) {
    throw new FromscratchError(
      'AMBIGUOUS_MANIFEST',
      `${what}: an image index must not have "config" or "layers"`,
      {
        hint: 'the document is both a manifest and an index (CVE-2021-41190); the image is corrupt or hostile',
      },
    );
  }
  checkSchemaVersion(c, o);
  const mediaType = checkDocMediaType(c, o, opts, isIndexMediaType, 'image index');
  checkTopLevel(c, o, ['schemaVersion', 'mediaType', 'artifactType', 'manifests', 'subject', 'annotations']);
  if (!Array.isArray(o.manifests))
    c.fail('manifests', o.manifests === undefined ? 'is missing' : 'must be an array');
  const max = opts.maxManifests ?? MAX_INDEX_MANIFESTS;
  if (o.manifests.length > max) {
    throw new FromscratchError(
      'TOO_LARGE',
      `${what}: ${o.manifests.length} manifests is over the limit of ${max}`,
      {
        hint: 'indexes with that many entries are refused to bound work',
      },
    );
  }
  const idx: ImageIndex = {
    schemaVersion: 2,
    ...(mediaType !== undefined ? { mediaType } : {}),
    manifests: o.manifests.map((d, i) => parseDescriptorValue(c, d, `manifests[${i}]`)),
  };
  if (o.artifactType !== undefined) idx.artifactType = c.str(o.artifactType, 'artifactType');
  if (o.subject !== undefined) idx.subject = parseDescriptorValue(c, o.subject, 'subject');
  if (o.annotations !== undefined) idx.annotations = c.strMap(o.annotations, 'annotations');
  return idx;
}

function parseRuntimeConfig(c: Checker, v: unknown): RuntimeConfig {
  const o = c.obj(v, 'config');
  const rc: RuntimeConfig = {};
  // Docker writes null for unset members; null is treated as absent
  const present = (k: string) => o[k] !== undefined && o[k] !== null;
  if (present('User')) rc.User = c.str(o.User, 'config.User');
  if (present('ExposedPorts')) rc.ExposedPorts = c.emptyObjMap(o.ExposedPorts, 'config.ExposedPorts');
  if (present('Env')) rc.Env = c.strArray(o.Env, 'config.Env');
  if (present('Entrypoint')) rc.Entrypoint = c.strArray(o.Entrypoint, 'config.Entrypoint');
  if (present('Cmd')) rc.Cmd = c.strArray(o.Cmd, 'config.Cmd');
  if (present('Volumes')) rc.Volumes = c.emptyObjMap(o.Volumes, 'config.Volumes');
  if (present('WorkingDir')) rc.WorkingDir = c.str(o.WorkingDir, 'config.WorkingDir');
  if (present('Labels')) rc.Labels = c.strMap(o.Labels, 'config.Labels');
  if (present('StopSignal')) rc.StopSignal = c.str(o.StopSignal, 'config.StopSignal');
  if (present('Shell')) rc.Shell = c.strArray(o.Shell, 'config.Shell');
  if (present('OnBuild')) rc.OnBuild = c.strArray(o.OnBuild, 'config.OnBuild');
  if (present('ArgsEscaped')) {
    if (typeof o.ArgsEscaped !== 'boolean') c.fail('config.ArgsEscaped', 'must be a boolean');
    rc.ArgsEscaped = o.ArgsEscaped;
  }
  if (present('Healthcheck')) {
    const h = c.obj(o.Healthcheck, 'config.Healthcheck');
    const hc: NonNullable<RuntimeConfig['Healthcheck']> = {};
    if (h.Test !== undefined && h.Test !== null) hc.Test = c.strArray(h.Test, 'config.Healthcheck.Test');
    for (const k of ['Interval', 'Timeout', 'StartPeriod', 'Retries'] as const) {
      if (h[k] !== undefined && h[k] !== null) hc[k] = c.size(h[k], `config.Healthcheck.${k}`);
    }
    rc.Healthcheck = hc;
  }
  return rc;
}

/**
 * parseImageConfig parses and validates an image config (OCI or Docker): architecture, os, rootfs with
 * valid diff_ids, and the known runtime config members with their types. Members fromscratch does not model
 * are dropped. Throws TOO_LARGE, INVALID_DIGEST or INVALID_IMAGE naming `what`.
 */
export function parseImageConfig(bytes: Uint8Array | string, opts: DocumentOptions = {}): ImageConfig {
  const what = opts.what ?? 'config';
  const c: Checker = new Checker(what);
  const o = c.obj(parseJsonStrict(bytes, what, opts.limit), 'document');
  const rootfs = c.obj(o.rootfs, 'rootfs');
  if (rootfs.type !== 'layers')
    c.fail('rootfs.type', `must be "layers", got ${JSON.stringify(rootfs.type) ?? 'nothing'}`);
  if (!Array.isArray(rootfs.diff_ids)) c.fail('rootfs.diff_ids', 'must be an array');
  tooManyLayers(what, rootfs.diff_ids.length, 'rootfs.diff_ids');
  const cfg: ImageConfig = {
    architecture: c.str(o.architecture, 'architecture'),
    os: c.str(o.os, 'os'),
    rootfs: { type: 'layers', diff_ids: rootfs.diff_ids.map((d, i) => c.digest(d, `rootfs.diff_ids[${i}]`)) },
  };
  if (cfg.architecture === '' || cfg.os === '')
    c.fail('architecture', 'os and architecture must not be empty');
  if (o.created !== undefined && o.created !== null) cfg.created = c.str(o.created, 'created');
  if (o.author !== undefined && o.author !== null) cfg.author = c.str(o.author, 'author');
  if (o.variant !== undefined && o.variant !== null) cfg.variant = c.str(o.variant, 'variant');
  if (o['os.version'] !== undefined && o['os.version'] !== null)
    cfg['os.version'] = c.str(o['os.version'], 'os.version');
  if (o.config !== undefined && o.config !== null) cfg.config = parseRuntimeConfig(c, o.config);
  if (o.history !== undefined && o.history !== null) {
    if (!Array.isArray(o.history)) c.fail('history', 'must be an array');
    cfg.history = o.history.map((h, i) => {
      const ho = c.obj(h, `history[${i}]`);
      const e: HistoryEntry = {};
      for (const k of ['created', 'created_by', 'author', 'comment'] as const) {
        if (ho[k] !== undefined && ho[k] !== null) e[k] = c.str(ho[k], `history[${i}].${k}`);
      }
      if (ho.empty_layer !== undefined && ho.empty_layer !== null) {
        if (typeof ho.empty_layer !== 'boolean') c.fail(`history[${i}].empty_layer`, 'must be a boolean');
        e.empty_layer = ho.empty_layer;
      }
      return e;
    });
  }
  return cfg;
}
