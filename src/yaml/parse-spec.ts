/**
 * parse-spec.ts — fromscratch.yaml → BuildSpec, with errors that name file, line and key. PURE.
 *
 * `yaml` parses with source positions (duplicate keys are errors, alias expansion is capped), zod
 * validates against SpecSchema, and every problem is reported at once as
 * `fromscratch.yaml:7: contents[2].binary: expected a string`, with a did-you-mean hint for unknown keys.
 */

import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { FromscratchError, isFromscratchError } from '../errors.ts';
import type { ConfigPatch } from '../image/image.ts';
import { parsePlatform } from '../model/platform.ts';
import { binaryDest } from '../orchestrate/binary-dest.ts';
import type { BuildSpec, ContentItem } from '../orchestrate/build-spec.ts';
import { parseInferNames } from '../orchestrate/infer-names.ts';
import { CONTENT_KINDS, type ImageDocument, ImageSchema, type SpecDocument, SpecSchema } from './schema.ts';
import { splitShellWords } from './shell-words.ts';

/** MAX_SPEC_BYTES bounds a spec file. */
export const MAX_SPEC_BYTES = 1024 * 1024;

/** ParseSpecOptions tunes parseSpecFile. */
export interface ParseSpecOptions {
  /** directory relative `add:` and `sysroot:` paths resolve against (default: the spec file's directory) */
  baseDir?: string;
}

interface Problem {
  line: number;
  path: string;
  message: string;
  hint?: string;
}

/**
 * parseSpecFile parses a fromscratch.yaml into a BuildSpec. Throws SPEC_INVALID listing every problem as
 * `file:line: key.path: message`.
 *
 * @example
 * const spec = parseSpecFile('contents:\n  - binary: /usr/bin/curl\nentrypoint: curl -s\n', '/src/fromscratch.yaml');
 * // { contents: [{ kind: 'binary', path: '/usr/bin/curl' }], config: { Entrypoint: ['curl', '-s'] } }
 */
export function parseSpecFile(text: string, file: string, opts: ParseSpecOptions = {}): BuildSpec {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_SPEC_BYTES) {
    throw new FromscratchError(
      'SPEC_INVALID',
      `${file}: is ${bytes} bytes, over the ${MAX_SPEC_BYTES}-byte limit for a spec`,
      {
        hint: 'a spec is a short YAML file; check that -c names the right file',
      },
    );
  }
  checkNesting(text, file);
  const lc = new LineCounter();
  // logLevel 'error': the library never writes to stderr; yaml would emit a process warning for a
  // collection used as a key (found by the fuzzer), which then fails validation as an unknown key
  const doc = parseDocument(text, {
    lineCounter: lc,
    prettyErrors: false,
    uniqueKeys: true,
    strict: true,
    logLevel: 'error',
  });
  const lineOf = (offset: number | undefined) => (offset === undefined ? 1 : lc.linePos(offset).line);
  if (doc.errors.length) {
    const list = doc.errors.map((e) => `${file}:${lineOf(e.pos[0])}: ${e.message.split('\n')[0]}`);
    throw new FromscratchError('SPEC_INVALID', list.join('\n'), {
      hint: 'fix the YAML syntax at the lines named',
    });
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new FromscratchError('SPEC_INVALID', `${file}: ${(e as Error).message}`, { cause: e });
  }
  if (data === null || data === undefined) data = {};
  const problems: Problem[] = [];
  const nodeAt = (path: readonly PropertyKey[]): { node: Node | undefined; rest: number } => {
    let node: unknown = doc.contents;
    for (let i = 0; i < path.length; i++) {
      const key = path[i]!;
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key);
        if (!pair) return { node: node as Node, rest: path.length - i };
        node = pair.value ?? pair.key;
      } else if (isSeq(node) && typeof key === 'number') {
        const item = node.items[key];
        if (item === undefined) return { node: node as Node, rest: path.length - i };
        node = item;
      } else return { node: node as Node, rest: path.length - i };
    }
    return { node: node as Node, rest: 0 };
  };
  const keyLine = (path: readonly PropertyKey[], key: string): number => {
    const { node } = nodeAt(path);
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key);
      const k = pair?.key as Node | undefined;
      if (k?.range) return lineOf(k.range[0]);
    }
    return lineOf(node?.range?.[0]);
  };
  const add = (path: readonly PropertyKey[], message: string, hint?: string, line?: number) => {
    problems.push({
      line: line ?? lineOf(nodeAt(path).node?.range?.[0]),
      path: formatPath(path),
      message,
      ...(hint ? { hint } : {}),
    });
  };

  const res = SpecSchema.safeParse(data);
  if (!res.success) {
    for (const issue of res.error.issues) reportIssue(issue, [], data, add, keyLine);
  }
  let spec: BuildSpec | undefined;
  if (res.success) {
    try {
      const baseDir = opts.baseDir ?? dirOf(file);
      const { images, ...top } = res.data;
      spec = toSpec(top, baseDir, add, (path) => nodeAt(path).node);
      if (images)
        spec = { ...spec, images: toImages(top, images, baseDir, add, (path) => nodeAt(path).node) };
    } catch (e) {
      if (!isFromscratchError(e)) throw e;
      add([], e.message);
    }
  }
  if (problems.length || !spec) {
    problems.sort((a, b) => a.line - b.line);
    const list = problems.map((p) => `${file}:${p.line}: ${p.path ? `${p.path}: ` : ''}${p.message}`);
    const hints = [...new Set(problems.map((p) => p.hint).filter((h): h is string => h !== undefined))];
    throw new FromscratchError('SPEC_INVALID', list.join('\n'), {
      hint: hints.length
        ? hints.join('; ')
        : 'see schema/fromscratch.schema.json for every key (editors complete from it)',
    });
  }
  return spec;
}

/** MAX_NESTING bounds flow brackets and block indentation (a real spec nests about 4 levels). */
export const MAX_NESTING = 64;

/**
 * checkNesting refuses absurd nesting before the YAML parser sees it: the parser and toJS recurse, and
 * 100 000 `[` cost seconds and the call stack.
 */
function checkNesting(text: string, file: string): void {
  let depth = 0;
  let quote = '';
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line += 1;
      continue;
    }
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = '';
      else if (ch === '\\' && quote === '"') i += 1;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[' || ch === '{') depth += 1;
    else if (ch === ']' || ch === '}') depth = Math.max(0, depth - 1);
    if (depth > MAX_NESTING) {
      throw new FromscratchError(
        'SPEC_INVALID',
        `${file}:${line}: nested more than ${MAX_NESTING} levels deep`,
        {
          hint: 'a spec is a flat list of contents and a few maps',
        },
      );
    }
  }
  const deep = /^(?:[ \t]*-[ \t]+){65}|^[ \t]{1025}/m.exec(text);
  if (deep) {
    const at = text.slice(0, deep.index).split('\n').length;
    throw new FromscratchError('SPEC_INVALID', `${file}:${at}: nested more than ${MAX_NESTING} levels deep`, {
      hint: 'a spec is a flat list of contents and a few maps',
    });
  }
}

type AddProblem = (path: readonly PropertyKey[], message: string, hint?: string, line?: number) => void;

function reportIssue(
  issue: z.core.$ZodIssue,
  prefix: readonly PropertyKey[],
  data: unknown,
  add: AddProblem,
  keyLine: (path: readonly PropertyKey[], key: string) => number,
): void {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(path);
      for (const k of issue.keys) {
        const near = didYouMean(k, known);
        add(
          [...path, k],
          `unknown key${near ? ` (did you mean "${near}"?)` : known.length ? ` (known keys: ${known.join(', ')})` : ''}`,
          undefined,
          keyLine(path, k),
        );
      }
      return;
    }
    case 'invalid_union': {
      // a contents entry: pick the branch its kind key names and report that branch's problems
      const value = getIn(data, path);
      if (
        path.length === 2 &&
        path[0] === 'contents' &&
        value !== null &&
        typeof value === 'object' &&
        !Array.isArray(value)
      ) {
        const kinds = Object.keys(CONTENT_KINDS) as (keyof typeof CONTENT_KINDS)[];
        const kind = kinds.find((k) => k in value);
        if (!kind) {
          const keys = Object.keys(value);
          const near = keys.map((k) => didYouMean(k, kinds)).find((x) => x !== undefined);
          add(
            path,
            `expected one of ${kinds.map((k) => `${k}:`).join(', ')}${near ? ` (did you mean "${near}"?)` : ''}`,
            'each contents entry starts with binary:, add:, trace:, package: or file:',
          );
          return;
        }
        const sub = CONTENT_KINDS[kind].safeParse(value);
        if (!sub.success) for (const i of sub.error.issues) reportIssue(i, path, data, add, keyLine);
        return;
      }
      add(path, describeUnion(value, path));
      return;
    }
    case 'invalid_type': {
      const value = getIn(data, path);
      add(path, `expected ${article(issue.expected)}, not ${describe(value)}`);
      return;
    }
    case 'invalid_value':
      add(path, `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`);
      return;
    case 'invalid_format':
      add(
        path,
        issue.format === 'starts_with'
          ? 'expected an absolute path (starting with /)'
          : `does not match the expected format (${issue.format})`,
      );
      return;
    default:
      add(path, issue.message);
  }
}

function describeUnion(value: unknown, path: readonly PropertyKey[]): string {
  const last = path[path.length - 1];
  if (last === 'entrypoint' || last === 'cmd')
    return `expected a list of strings or a string, not ${describe(value)}`;
  if (last === 'env') return `expected a map of NAME: value or a list of NAME=value, not ${describe(value)}`;
  if (last === 'mode') return 'expected an octal mode string such as "0644"';
  if (path[0] === 'expose') return `expected a port number or "PORT/tcp|udp|sctp", not ${describe(value)}`;
  return `expected a string or a list of strings, not ${describe(value)}`;
}

function knownKeys(path: readonly PropertyKey[]): string[] {
  if (path.length === 0) return Object.keys(SpecSchema.shape);
  if (path.length === 1 && path[0] === 'cache') return ['from', 'to'];
  if (path.length === 2 && path[0] === 'images') return Object.keys(ImageSchema.shape);
  if (path.length === 1 && path[0] === 'defaults') return ['users', 'nsswitch', 'tmp', 'ca-certificates'];
  return [];
}

function getIn(data: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = data;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function article(t: string): string {
  const map: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    boolean: 'true or false',
    array: 'a list',
    object: 'a map',
    int: 'a whole number',
  };
  return map[t] ?? t;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** formatPath writes a key path as `contents[2].binary`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out ? `.${String(k)}` : String(k);
  }
  return out;
}

function didYouMean(s: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = distance(s.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(s.length / 3)) ? best : undefined;
}

function distance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return 99;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [
    i,
    ...Array<number>(b.length).fill(0),
  ]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let v = Math.min(
        d[i - 1]![j]! + 1,
        d[i]![j - 1]! + 1,
        d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

function dirOf(file: string): string {
  const i = file.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : file.slice(0, i);
}

/** joinHost resolves a relative host path against a base directory (lexically, no I/O). */
function joinHost(base: string, p: string): string {
  if (p.startsWith('/')) return p;
  const parts: string[] = [];
  const abs = base.startsWith('/');
  for (const part of `${base}/${p}`.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length && parts[parts.length - 1] !== '..') parts.pop();
      else if (!abs) parts.push('..');
    } else parts.push(part);
  }
  return `${abs ? '/' : ''}${parts.join('/')}` || '.';
}

/**
 * toImages turns `images:` into one BuildSpec per image: the top-level keys are each image's defaults
 * (contents appended, env, labels and annotations merged, the rest replaced), and `{name}` in outputs
 * and tags becomes the image's name. Problems are reported at the image's own keys.
 */
function toImages(
  top: SpecDocument,
  images: readonly ImageDocument[],
  baseDir: string,
  add: AddProblem,
  node: (path: PropertyKey[]) => Node | undefined,
): { name: string; spec: BuildSpec }[] {
  const seen = new Set<string>();
  const topContents = top.contents?.length ?? 0;
  return images.map((img, i) => {
    const { name, ...own } = img;
    if (seen.has(name)) add(['images', i, 'name'], `the image name ${JSON.stringify(name)} is used twice`);
    seen.add(name);
    const where = (path: readonly PropertyKey[]): PropertyKey[] => {
      const [k, j, ...rest] = path;
      if (k === 'contents' && typeof j === 'number')
        return j >= topContents ? ['images', i, 'contents', j - topContents, ...rest] : [...path];
      return k !== undefined && k in own ? ['images', i, ...path] : [...path];
    };
    const named = (v: string | string[] | undefined) =>
      v === undefined
        ? undefined
        : Array.isArray(v)
          ? v.map((x) => x.replaceAll('{name}', name))
          : v.replaceAll('{name}', name);
    const envList = (e: SpecDocument['env']): string[] =>
      e === undefined ? [] : Array.isArray(e) ? e : Object.entries(e).map(([k, v]) => `${k}=${String(v)}`);
    const env = new Map<string, string>();
    for (const kv of [...envList(top.env), ...envList(own.env)]) env.set(kv.slice(0, kv.indexOf('=')), kv);
    const { cache: _cache, ...defaults } = top;
    const merged: SpecDocument = {
      ...defaults,
      ...own,
      contents: [...(top.contents ?? []), ...(own.contents ?? [])],
      ...(env.size ? { env: [...env.values()] } : {}),
      ...(top.labels || own.labels ? { labels: { ...(top.labels ?? {}), ...(own.labels ?? {}) } } : {}),
      ...(top.annotations || own.annotations
        ? { annotations: { ...(top.annotations ?? {}), ...(own.annotations ?? {}) } }
        : {}),
    };
    const outputs = named(merged.outputs);
    const tags = named(merged.tags);
    if (outputs !== undefined) merged.outputs = outputs;
    if (tags !== undefined) merged.tags = tags;
    const spec = toSpec(
      merged,
      baseDir,
      (path, message, hint, line) => add(where(path), message, hint, line),
      (path) => node(where(path)),
    );
    return { name, spec };
  });
}

function toSpec(
  d: SpecDocument,
  baseDir: string,
  add: AddProblem,
  node: (path: PropertyKey[]) => Node | undefined,
): BuildSpec {
  const contents: ContentItem[] = [];
  (d.contents ?? []).forEach((c, i) => {
    if ('binary' in c) {
      const dest = binaryDest(c.binary, c.to);
      contents.push({
        kind: 'binary',
        path: c.binary.startsWith('/') ? c.binary : joinHost(baseDir, c.binary),
        ...(dest !== undefined ? { dest } : {}),
      });
    } else if ('add' in c) {
      const src = joinHost(baseDir, c.add);
      contents.push({
        kind: 'add',
        src,
        dest: c.to ?? src,
        ...(c.closure !== undefined ? { closure: c.closure } : {}),
        ...(c.exclude?.length ? { exclude: c.exclude } : {}),
      });
    } else if ('trace' in c) {
      try {
        splitShellWords(c.trace);
      } catch (e) {
        if (!isFromscratchError(e)) throw e;
        add(['contents', i, 'trace'], e.message);
      }
      contents.push({
        kind: 'trace',
        command: c.trace,
        ...(c['allow-failure'] !== undefined ? { allowFailure: c['allow-failure'] } : {}),
        ...(c.timeout !== undefined ? { timeoutSeconds: c.timeout } : {}),
      });
    } else if ('package' in c) {
      const [name, v] = c.package.split('=', 2) as [string, string | undefined];
      const version = c.version ?? v;
      if (c.version !== undefined && v !== undefined)
        add(['contents', i, 'version'], 'the version is given twice (package: NAME=VERSION and version:)');
      contents.push({ kind: 'package', name, ...(version ? { version } : {}) });
    } else {
      let mode = 0o644;
      if (typeof c.mode === 'string') mode = Number.parseInt(c.mode, 8);
      else if (typeof c.mode === 'number') {
        // YAML 1.2 reads 0644 as the decimal 644: only 0o644 is an unambiguous octal number
        const n = node(['contents', i, 'mode']);
        const src = isScalar(n) ? String(n.source ?? '') : '';
        if (!/^0o[0-7]+$/.test(src))
          add(
            ['contents', i, 'mode'],
            `write the mode as a string ("0644") or 0o644: ${src || c.mode} would be read as a decimal number`,
          );
        mode = c.mode;
      }
      contents.push({ kind: 'file', dest: c.file, data: new TextEncoder().encode(c.content), mode });
    }
  });
  const config: { -readonly [K in keyof ConfigPatch]: ConfigPatch[K] } = {};
  const cmd = (key: 'entrypoint' | 'cmd', v: string | string[] | undefined): string[] | undefined => {
    if (v === undefined || Array.isArray(v)) return v;
    try {
      return splitShellWords(v);
    } catch (e) {
      if (!isFromscratchError(e)) throw e;
      add([key], e.message);
      return undefined;
    }
  };
  const ep = cmd('entrypoint', d.entrypoint);
  if (ep) config.Entrypoint = ep;
  const c = cmd('cmd', d.cmd);
  if (c) config.Cmd = c;
  if (d.env !== undefined)
    config.Env = Array.isArray(d.env) ? d.env : Object.entries(d.env).map(([k, v]) => `${k}=${String(v)}`);
  if (d.workdir !== undefined) config.WorkingDir = d.workdir;
  if (d.user !== undefined) config.User = String(d.user);
  if (d.labels !== undefined)
    config.Labels = Object.fromEntries(Object.entries(d.labels).map(([k, v]) => [k, String(v)]));
  if (d.expose?.length)
    config.ExposedPorts = Object.fromEntries(
      d.expose.map((p) => [String(p).includes('/') ? String(p) : `${p}/tcp`, {}]),
    );
  if (d.volumes?.length) config.Volumes = Object.fromEntries(d.volumes.map((v) => [v, {}]));
  if (d['stop-signal'] !== undefined) config.StopSignal = d['stop-signal'];
  const list = (v: string | string[] | undefined) =>
    v === undefined
      ? undefined
      : Array.isArray(v)
        ? v
        : v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
  const platforms = (list(d.platforms) ?? []).flatMap((p, i) => {
    try {
      return [parsePlatform(p)];
    } catch (e) {
      if (!isFromscratchError(e)) throw e;
      add(Array.isArray(d.platforms) ? ['platforms', i] : ['platforms'], e.message, e.hint);
      return [];
    }
  });
  const outputs = list(d.outputs);
  const tags = list(d.tags);
  const cacheFrom = list(d.cache?.from);
  const cache =
    d.cache && (cacheFrom?.length || d.cache.to !== undefined)
      ? {
          ...(cacheFrom?.length ? { from: cacheFrom } : {}),
          ...(d.cache.to !== undefined ? { to: d.cache.to } : {}),
        }
      : undefined;
  const defaults = d.defaults
    ? {
        ...(d.defaults.users !== undefined ? { users: d.defaults.users } : {}),
        ...(d.defaults.nsswitch !== undefined ? { nsswitch: d.defaults.nsswitch } : {}),
        ...(d.defaults.tmp !== undefined ? { tmp: d.defaults.tmp } : {}),
        ...(d.defaults['ca-certificates'] !== undefined
          ? { caCertificates: d.defaults['ca-certificates'] }
          : {}),
      }
    : undefined;
  return {
    ...(d.from !== undefined && d.from !== 'scratch' ? { from: d.from } : {}),
    ...(platforms.length ? { platforms } : {}),
    contents,
    config,
    ...(d.annotations
      ? { annotations: Object.fromEntries(Object.entries(d.annotations).map(([k, v]) => [k, String(v)])) }
      : {}),
    ...(defaults ? { defaults } : {}),
    ...(d['no-infer']?.length ? { noInfer: parseInferNames(d['no-infer'], 'no-infer', 'SPEC_INVALID') } : {}),
    ...(d.sysroot !== undefined ? { sysroot: joinHost(baseDir, d.sysroot) } : {}),
    ...(d['lib-paths']?.length ? { libraryPaths: d['lib-paths'] } : {}),
    ...(outputs?.length ? { outputs } : {}),
    ...(tags?.length ? { tags } : {}),
    ...(cache ? { cache } : {}),
    ...(d.compression ? { compression: d.compression } : {}),
    ...(d['compression-level'] !== undefined ? { compressionLevel: d['compression-level'] } : {}),
    ...(d.layers !== undefined ? { layers: d.layers } : {}),
    ...(d['apt-sources']?.length ? { aptSources: d['apt-sources'] } : {}),
    ...(d.lockfile !== undefined || d.locked
      ? { lockfile: joinHost(baseDir, d.lockfile ?? 'fromscratch.lock') }
      : {}),
    ...(d.locked ? { locked: true } : {}),
    ...(d.strict ? { strict: true } : {}),
  };
}
