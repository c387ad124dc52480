/**
 * parse.ts — Dockerfile → DockerfilePlan (stages of content items and config) → BuildSpec. PURE.
 *
 * Semantics follow `docker build` (BuildKit's dockerfile frontend): ARG scoping and `--build-arg`,
 * variable substitution only in the instructions Docker substitutes in, COPY/ADD destination rules
 * relative to WORKDIR, ENTRYPOINT resetting an inherited CMD, shell form through SHELL. fromscratch does
 * not run build steps: RUN is reported (with every other unsupported instruction, all at once) as
 * DOCKERFILE_UNSUPPORTED. See README.md for the `# fromscratch: closure` directive.
 */

import { FromscratchError, isFromscratchError } from '../errors.ts';
import type { ConfigPatch } from '../image/image.ts';
import { formatDockerReference, parseDockerReference } from '../model/docker-reference.ts';
import type { RuntimeConfig } from '../model/documents.ts';
import { formatPlatform, hostPlatform, type Platform, parsePlatform } from '../model/platform.ts';
import type { BuildSpec, ContentItem, Ownership } from '../orchestrate/build-spec.ts';
import { type Directives, type RawFlag, type RawInstruction, splitDockerfileLines } from './lines.ts';
import {
  expandVariablesOnly,
  expandWord,
  expandWords,
  type LexOptions,
  type VarLookup,
} from './shell-lex.ts';

/** DockerfileOptions are the inputs of a Dockerfile besides its text. */
export interface DockerfileOptions {
  /** file name used in messages (default `Dockerfile`) */
  file?: string;
  /** `--build-arg NAME=VALUE` values; they override ARG defaults of declared ARGs */
  buildArgs?: Readonly<Record<string, string>>;
  /** `--target`: stage name (or index) to build (default the last stage) */
  target?: string;
  /** build context directory, put on every COPY/ADD item as `context` */
  context?: string;
  /** target platform for TARGETPLATFORM/TARGETOS/TARGETARCH/TARGETVARIANT (default the host's) */
  platform?: Platform;
  /**
   * the config of a base image, when the caller already has it: its Env feeds `$VAR` substitution and
   * its WorkingDir, User and Shell are where relative paths and shell forms start, as in docker build.
   * Without it, a stage FROM an image starts from `/`, root, `/bin/sh -c` and an empty environment (a
   * warning names each variable that may have come from the base).
   */
  baseConfig?: (ref: string) => Pick<RuntimeConfig, 'Env' | 'WorkingDir' | 'User' | 'Shell'> | undefined;
}

/** DEFAULT_PATH is the PATH docker build gives a stage FROM scratch (and any image without PATH). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** StageBase is what a stage starts from. */
export type StageBase =
  | { readonly kind: 'scratch' }
  /** `ref` is normalised for reading (`docker://docker.io/library/alpine`), `name` as written (`alpine`) */
  | { readonly kind: 'image'; readonly ref: string; readonly name: string }
  /** an earlier stage of the same Dockerfile, by index */
  | { readonly kind: 'stage'; readonly index: number };

/** StageItem is a ContentItem whose `COPY --from` names a stage by index instead of a nested spec. */
export type StageItem =
  | Exclude<ContentItem, { kind: 'copy-from' }>
  | {
      readonly kind: 'copy-from';
      readonly from: { readonly stage: number } | { readonly image: string };
      readonly src: readonly string[];
      readonly dest: string;
      readonly ownership?: Ownership;
      readonly closure?: boolean;
      readonly exclude?: readonly string[];
      readonly link?: boolean;
    };

/** Problem is one thing wrong with a Dockerfile, with its 1-based line. */
export interface Problem {
  readonly line: number;
  readonly message: string;
}

/** Stage is one `FROM` section of a Dockerfile, interpreted. */
export interface Stage {
  readonly index: number;
  /** `AS name`, lower-cased */
  readonly name?: string;
  /** line of the FROM instruction */
  readonly line: number;
  readonly base: StageBase;
  /** `FROM --platform=` value after substitution */
  readonly platform?: string;
  /** content in instruction order */
  readonly contents: readonly StageItem[];
  /** lines of the instruction that produced each content item (same order as contents) */
  readonly contentLines: readonly number[];
  /** the stage's own config changes (over its base) */
  readonly config: ConfigPatch;
  /** `created_by` strings, one per instruction that changes the image */
  readonly history: readonly string[];
  /** WORKDIR directories to create */
  readonly directories: readonly { readonly path: string; readonly ownership?: Ownership }[];
  readonly author?: string;
  /** instructions fromscratch cannot do (RUN …), reported when the stage is needed */
  readonly unsupported: readonly Problem[];
}

/** DockerfilePlan is a parsed, validated Dockerfile. */
export interface DockerfilePlan {
  readonly file: string;
  readonly directives: Directives;
  readonly stages: readonly Stage[];
  /** index of the stage `--target` named, or of the last stage */
  readonly target: number;
  /** things a user should know (shell form in FROM scratch, unused --build-arg …), each `file:line: …` */
  readonly warnings: readonly string[];
}

const KNOWN_INSTRUCTIONS = [
  'ADD',
  'ARG',
  'CMD',
  'COPY',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'FROM',
  'HEALTHCHECK',
  'LABEL',
  'MAINTAINER',
  'ONBUILD',
  'RUN',
  'SHELL',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
];

const ALLOWED_FLAGS: Record<string, readonly string[]> = {
  FROM: ['platform'],
  COPY: ['from', 'chown', 'chmod', 'link', 'exclude', 'parents'],
  ADD: ['chown', 'chmod', 'link', 'exclude', 'checksum', 'keep-git-dir'],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
  RUN: ['mount', 'network', 'security', 'device'],
};

/** args that --build-arg may set without an ARG line, as Docker allows */
const PROXY_ARGS = new Set([
  'HTTP_PROXY',
  'http_proxy',
  'HTTPS_PROXY',
  'https_proxy',
  'FTP_PROXY',
  'ftp_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
]);

const STAGE_NAME_RE = /^[a-z][a-z0-9\-_.]*$/;
/** transports a Dockerfile may name beyond docker's names (a fromscratch extension; docker build refuses them) */
const TRANSPORT_RE = /^(?:oci|oci-archive|docker-archive|docker-daemon):./;

/**
 * toImageSource reads an image name in FROM or COPY --from as docker build does: a docker reference,
 * normalised (`alpine` → `docker://docker.io/library/alpine`), so that a name docker pulls is never read
 * as a transport (`FROM oci:1` is Docker Hub's image "oci", tag 1). A transport reference that is no
 * docker name (`oci:out:base`) is kept as written. Throws the reference's INVALID_REFERENCE otherwise.
 */
function toImageSource(v: string): string {
  if (v.startsWith('docker://')) return `docker://${formatDockerReference(parseDockerReference(v.slice(9)))}`;
  try {
    return `docker://${formatDockerReference(parseDockerReference(v))}`;
  } catch (e) {
    if (TRANSPORT_RE.test(v)) return v;
    throw e;
  }
}

/** imageError is the message of a refused image name, for a LineError. */
function imageError(e: unknown): string {
  if (isFromscratchError(e, 'INVALID_REFERENCE')) return e.message;
  throw e;
}

/** CLOSURE_DIRECTIVE is the comment that asks for the closure of what the next COPY/ADD copies. */
export const CLOSURE_DIRECTIVE = 'fromscratch: closure';

/**
 * parseDockerfile parses and validates a Dockerfile. Every problem is reported at once: syntax problems
 * anywhere throw DOCKERFILE_SYNTAX, and unsupported instructions (RUN …) in the stages the target needs
 * throw DOCKERFILE_UNSUPPORTED, each line listed as `file:line: message`.
 *
 * @example
 * const plan = parseDockerfile('FROM scratch\nCOPY hello /\nCMD ["/hello"]\n', { context: '/src/app' });
 * const spec = toBuildSpec(plan); // { contents: [{ kind: 'add', src: 'hello', dest: '/', context: '/src/app' }], … }
 */
export function parseDockerfile(text: string, opts: DockerfileOptions = {}): DockerfilePlan {
  const file = opts.file ?? 'Dockerfile';
  const split = splitDockerfileLines(text, file);
  const p = new Parser(file, split.directives, opts);
  for (const pr of split.problems) p.problem(pr.line, pr.message);
  p.prescan(split.instructions);
  for (const ins of split.instructions) p.instruction(ins);
  const plan = p.finish();
  checkCycles(plan);
  checkNeeded(plan, plan.target);
  return plan;
}

/**
 * toBuildSpec turns the target stage of a plan (default the plan's target) into a BuildSpec: a stage
 * FROM another stage is flattened onto it (contents appended, config merged), and `COPY --from=stage`
 * becomes a `copy-from` item carrying that stage's own BuildSpec. Throws DOCKERFILE_SYNTAX for an unknown
 * target, DOCKERFILE_UNSUPPORTED when a needed stage has RUN, and DOCKERFILE_SYNTAX on a cycle.
 */
export function toBuildSpec(plan: DockerfilePlan, target?: string): BuildSpec {
  const index = target === undefined ? plan.target : findTarget(plan.stages, target, plan.file);
  checkNeeded(plan, index);
  const memo = new Map<number, BuildSpec>();
  const visiting: number[] = [];
  const build = (i: number): BuildSpec => {
    const done = memo.get(i);
    if (done) return done;
    if (visiting.includes(i)) {
      const cycle = [...visiting.slice(visiting.indexOf(i)), i]
        .map((k) => stageLabel(plan.stages[k]!))
        .join(' -> ');
      throw new FromscratchError(
        'DOCKERFILE_SYNTAX',
        `${plan.file}: stages depend on each other in a cycle: ${cycle}`,
        {
          hint: 'a stage cannot copy from itself or from a stage that copies from it',
        },
      );
    }
    visiting.push(i);
    const st = plan.stages[i]!;
    const contents: ContentItem[] = st.contents.map((c) => {
      if (c.kind !== 'copy-from') return c;
      const { from, ...rest } = c;
      if ('image' in from) return { ...rest, from: { image: from.image } };
      const src = plan.stages[from.stage]!;
      return { ...rest, from: { stage: build(from.stage), name: src.name ?? String(src.index) } };
    });
    let spec: BuildSpec = {
      contents,
      config: st.config,
      history: st.history,
      ...(st.name !== undefined ? { name: st.name } : {}),
      ...(st.author !== undefined ? { author: st.author } : {}),
      ...(st.directories.length ? { directories: st.directories } : {}),
      ...(st.platform !== undefined && !st.platform.includes('$')
        ? { platforms: [parsePlatform(st.platform)] }
        : {}),
    };
    if (st.base.kind === 'image') spec = { ...spec, from: st.base.ref };
    else if (st.base.kind === 'stage') spec = flatten(build(st.base.index), spec);
    visiting.pop();
    memo.set(i, spec);
    return spec;
  };
  return build(index);
}

/** flatten lays a stage's own spec over the spec of the stage it is FROM. */
function flatten(base: BuildSpec, own: BuildSpec): BuildSpec {
  const dirs = [...(base.directories ?? []), ...(own.directories ?? [])];
  const author = own.author ?? base.author;
  const platforms = own.platforms ?? base.platforms;
  return {
    ...(base.from !== undefined ? { from: base.from } : {}),
    ...(platforms ? { platforms } : {}),
    contents: [...base.contents, ...own.contents],
    config: mergeConfigPatch(base.config ?? {}, own.config ?? {}),
    history: [...(base.history ?? []), ...(own.history ?? [])],
    ...(own.name !== undefined ? { name: own.name } : {}),
    ...(author !== undefined ? { author } : {}),
    ...(dirs.length ? { directories: dirs } : {}),
  };
}

/**
 * mergeConfigPatch applies `over` on `base` the way withConfig applies a patch to an image: Env merged by
 * name, Labels/ExposedPorts/Volumes merged by key, `null` clears, anything else replaces.
 */
export function mergeConfigPatch(base: ConfigPatch, over: ConfigPatch): ConfigPatch {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const old = out[k];
    if (v === null || old === null || old === undefined) out[k] = v;
    else if (k === 'Env') {
      const env = [...(old as string[])];
      for (const kv of v as string[]) {
        const name = kv.split('=', 1)[0];
        const i = env.findIndex((e) => e.split('=', 1)[0] === name);
        if (i >= 0) env[i] = kv;
        else env.push(kv);
      }
      out.Env = env;
    } else if (k === 'Labels' || k === 'ExposedPorts' || k === 'Volumes')
      out[k] = { ...(old as object), ...(v as object) };
    else out[k] = v;
  }
  return out as ConfigPatch;
}

function stageLabel(s: Stage): string {
  return s.name ?? `stage ${s.index}`;
}

function findTarget(stages: readonly Stage[], target: string, file: string): number {
  const t = target.toLowerCase();
  const byName = stages.findIndex((s) => s.name === t);
  if (byName >= 0) return byName;
  if (/^\d+$/.test(t) && Number(t) < stages.length) return Number(t);
  const names = stages.map((s) => s.name).filter((n): n is string => n !== undefined);
  const near = didYouMean(t, names);
  throw new FromscratchError(
    'DOCKERFILE_SYNTAX',
    `${file}: target stage "${target}" could not be found${near ? ` (did you mean "${near}"?)` : ''}`,
    {
      hint: names.length ? `stages are: ${names.join(', ')}` : 'name a stage with FROM image AS name',
    },
  );
}

/** checkCycles throws DOCKERFILE_SYNTAX when stages copy from each other in a cycle. */
function checkCycles(plan: DockerfilePlan): void {
  const state = new Map<number, 'visiting' | 'done'>();
  const path: number[] = [];
  const visit = (i: number): void => {
    if (state.get(i) === 'done') return;
    if (state.get(i) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(i)), i].map((k) => stageLabel(plan.stages[k]!)).join(' -> ');
      const line = plan.stages[path[path.length - 1]!]!.line;
      throw new FromscratchError(
        'DOCKERFILE_SYNTAX',
        `${plan.file}:${line}: stages depend on each other in a cycle: ${cycle}`,
        {
          hint: 'a stage cannot copy from itself or from a stage that copies from it',
        },
      );
    }
    state.set(i, 'visiting');
    path.push(i);
    const st = plan.stages[i]!;
    if (st.base.kind === 'stage') visit(st.base.index);
    for (const c of st.contents) if (c.kind === 'copy-from' && 'stage' in c.from) visit(c.from.stage);
    path.pop();
    state.set(i, 'done');
  };
  for (let i = 0; i < plan.stages.length; i++) visit(i);
}

/** checkNeeded throws DOCKERFILE_UNSUPPORTED listing every unsupported instruction the target needs. */
function checkNeeded(plan: DockerfilePlan, target: number): void {
  const needed = new Set<number>();
  const walk = (i: number) => {
    if (needed.has(i)) return;
    needed.add(i);
    const st = plan.stages[i]!;
    if (st.base.kind === 'stage') walk(st.base.index);
    for (const c of st.contents) if (c.kind === 'copy-from' && 'stage' in c.from) walk(c.from.stage);
  };
  if (plan.stages.length) walk(target);
  const problems = [...needed].flatMap((i) => plan.stages[i]!.unsupported).sort((a, b) => a.line - b.line);
  if (problems.length === 0) return;
  const list = problems.map((p) => `${plan.file}:${p.line}: ${p.message}`).join('\n');
  throw new FromscratchError(
    'DOCKERFILE_UNSUPPORTED',
    `${plan.file} uses ${problems.length === 1 ? 'an instruction' : `${problems.length} instructions`} fromscratch does not run:\n${list}`,
    {
      hint:
        'fromscratch never executes build steps. Instead of RUN: add Debian packages with --package (or `package:` in a YAML spec), ' +
        "add what a command uses with --trace 'CMD', or build the files elsewhere and COPY --from=<image> them " +
        '(a stage whose RUN lines are not needed by --target is fine)',
    },
  );
}

/** didYouMean returns the candidate closest to `s` when it is close enough to be a likely typo. */
export function didYouMean(s: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(s.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(s.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3 || a.length > 64 || b.length > 64) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, k) => k);
  let prevprev = prev;
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      // a swap of two neighbours counts as one edit (FORM → FROM)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        cur[j] = Math.min(cur[j]!, prevprev[j - 2]! + 1);
    }
    prevprev = prev;
    prev = cur;
  }
  return prev[b.length]!;
}

/** StageState is what instructions of one stage read and change while it is parsed. */
interface StageState {
  index: number;
  name?: string;
  line: number;
  base: StageBase;
  platform?: string;
  /** ARG values in scope (undefined: declared without value) */
  args: Map<string, string | undefined>;
  /** ENV values in effect, inherited from a base stage */
  env: Map<string, string>;
  /** ENV set by this stage, in first-set order */
  ownEnv: Map<string, string>;
  shell: string[];
  workdir: string;
  user?: string;
  cmdSet: boolean;
  contents: StageItem[];
  contentLines: number[];
  config: ConfigPatch;
  history: string[];
  directories: { path: string; ownership?: Ownership }[];
  author?: string;
  unsupported: Problem[];
  onbuild: string[];
  /** the base, or a base stage, is an image whose config we do not see here */
  externalBase: boolean;
  /** FROM scratch all the way down: no /bin/sh unless the Dockerfile adds one */
  scratchBase: boolean;
  /** variables already warned about (externalBase) */
  warnedVars: Set<string>;
}

class Parser {
  private readonly problems: Problem[] = [];
  private readonly warnings: string[] = [];
  private readonly stages: StageState[] = [];
  private readonly globalArgs = new Map<string, string | undefined>();
  private readonly usedBuildArgs = new Set<string>();
  private readonly lex: LexOptions;
  private readonly buildArgs: Readonly<Record<string, string>>;
  private readonly platform: Platform;

  private readonly file: string;
  private readonly directives: Directives;
  private readonly opts: DockerfileOptions;

  constructor(file: string, directives: Directives, opts: DockerfileOptions) {
    this.file = file;
    this.directives = directives;
    this.opts = opts;
    this.lex = { escape: directives.escape };
    this.buildArgs = opts.buildArgs ?? {};
    this.platform = opts.platform ?? hostPlatform();
    const host = hostPlatform();
    // BuildKit's automatic platform ARGs: in the global scope, and in a stage after `ARG NAME`
    const auto: Record<string, string> = {
      TARGETPLATFORM: formatPlatform(this.platform),
      TARGETOS: this.platform.os,
      TARGETARCH: this.platform.architecture,
      TARGETVARIANT: this.platform.variant ?? '',
      BUILDPLATFORM: formatPlatform(host),
      BUILDOS: host.os,
      BUILDARCH: host.architecture,
      BUILDVARIANT: host.variant ?? '',
    };
    for (const [k, v] of Object.entries(auto)) this.globalArgs.set(k, v);
    if (
      directives.syntax !== undefined &&
      !/^(docker\.io\/)?docker\/dockerfile(-upstream)?(:|@|$)/.test(directives.syntax)
    ) {
      this.warnings.push(
        `${file}:1: # syntax=${directives.syntax} is ignored: fromscratch reads Dockerfiles with its own frontend`,
      );
    }
  }

  /** stage names by index, known before parsing so that COPY --from may name a later stage */
  private stageNames: (string | undefined)[] = [];

  prescan(instructions: readonly RawInstruction[]): void {
    for (const ins of instructions) {
      if (ins.keyword !== 'FROM') continue;
      const parts = ins.args.split(/\s+/).filter(Boolean);
      this.stageNames.push(
        parts.length === 3 && parts[1]!.toLowerCase() === 'as' ? parts[2]!.toLowerCase() : undefined,
      );
    }
  }

  problem(line: number, message: string): void {
    this.problems.push({ line, message });
  }

  private warn(line: number, message: string): void {
    this.warnings.push(`${this.file}:${line}: ${message}`);
  }

  private get cur(): StageState | undefined {
    return this.stages[this.stages.length - 1];
  }

  /** vars looks a name up in a stage: ENV wins over ARG, as in Docker. */
  private vars(st: StageState | undefined): VarLookup {
    if (!st) return (n) => this.globalArgs.get(n);
    return (n) => {
      const v = st.env.get(n) ?? st.args.get(n);
      if (v === undefined && st.externalBase && !st.args.has(n) && !st.warnedVars.has(n)) {
        st.warnedVars.add(n);
        const base = st.base.kind === 'image' ? st.base.name : 'its base image';
        this.warnings.push(
          `${this.file}:${st.line}: $${n} is not set in the Dockerfile; docker build would take it from ${base}'s config, fromscratch substitutes an empty string`,
        );
      }
      return v;
    };
  }

  private word(text: string, st: StageState | undefined, line: number): string {
    try {
      return expandWord(text, this.vars(st), this.lex);
    } catch (e) {
      if (isFromscratchError(e, 'DOCKERFILE_SYNTAX')) throw new LineError(line, e.message);
      throw e;
    }
  }

  private words(text: string, st: StageState | undefined, line: number): string[] {
    try {
      return expandWords(text, this.vars(st), this.lex);
    } catch (e) {
      if (isFromscratchError(e, 'DOCKERFILE_SYNTAX')) throw new LineError(line, e.message);
      throw e;
    }
  }

  instruction(ins: RawInstruction): void {
    try {
      this.dispatch(ins);
    } catch (e) {
      if (e instanceof LineError) this.problem(e.line, e.message);
      else if (
        isFromscratchError(e) &&
        (e.code === 'DOCKERFILE_SYNTAX' || e.code === 'INVALID_ARGUMENT' || e.code === 'PATH_TOO_LONG')
      ) {
        this.problem(ins.line, e.message);
      } else throw e;
    }
  }

  private dispatch(ins: RawInstruction): void {
    const kw = ins.keyword;
    if (!KNOWN_INSTRUCTIONS.includes(kw)) {
      const near = didYouMean(kw, KNOWN_INSTRUCTIONS);
      throw new LineError(
        ins.line,
        `unknown instruction: ${kw.slice(0, 40)}${near ? ` (did you mean ${near}?)` : ''}`,
      );
    }
    this.checkFlags(ins);
    for (const c of ins.comments) {
      const m = /^fromscratch\s*:\s*(.*)$/i.exec(c);
      if (!m) continue;
      const what = m[1]!.trim().toLowerCase();
      if (what !== 'closure')
        throw new LineError(ins.line - 1, `unknown fromscratch directive "${m[1]}" (known: closure)`);
      if (kw !== 'COPY' && kw !== 'ADD')
        this.warn(ins.line, `# ${CLOSURE_DIRECTIVE} applies to COPY and ADD only; ignored before ${kw}`);
    }
    if (kw === 'FROM') {
      this.from(ins);
      return;
    }
    const st = this.cur;
    if (!st) {
      if (kw === 'ARG') {
        this.arg(ins, undefined);
        return;
      }
      throw new LineError(ins.line, `${kw} comes before the first FROM: only ARG may appear there`);
    }
    switch (kw) {
      case 'ARG':
        this.arg(ins, st);
        return;
      case 'RUN':
        st.unsupported.push({
          line: ins.line,
          message: `RUN ${truncate(ins.rest, 60)}: fromscratch does not execute build steps`,
        });
        return;
      case 'COPY':
      case 'ADD':
        this.copy(ins, st);
        return;
      case 'ENV':
        this.env(ins, st);
        return;
      case 'LABEL':
        this.label(ins, st);
        return;
      case 'EXPOSE':
        this.expose(ins, st);
        return;
      case 'VOLUME':
        this.volume(ins, st);
        return;
      case 'USER': {
        const user = this.word(ins.args, st, ins.line);
        if (!user) throw new LineError(ins.line, 'USER requires an argument');
        st.user = user;
        st.config.User = user;
        st.history.push(`USER ${user}`);
        return;
      }
      case 'WORKDIR': {
        const wd = this.word(ins.args, st, ins.line);
        if (!wd) throw new LineError(ins.line, 'WORKDIR requires an argument');
        st.workdir = joinPath(st.workdir, wd);
        st.config.WorkingDir = st.workdir;
        st.directories.push({
          path: st.workdir,
          ...(st.user && !isRoot(st.user) ? { ownership: parseChown(st.user, ins.line) } : {}),
        });
        st.history.push(`WORKDIR ${st.workdir}`);
        return;
      }
      case 'ENTRYPOINT':
      case 'CMD':
        this.command(ins, st);
        return;
      case 'STOPSIGNAL': {
        const sig = this.word(ins.args, st, ins.line);
        if (!/^(SIG)?[A-Z][A-Z0-9+-]*$|^\d+$/.test(sig))
          throw new LineError(ins.line, `STOPSIGNAL ${JSON.stringify(sig)} is not a signal name or number`);
        st.config.StopSignal = sig;
        st.history.push(`STOPSIGNAL ${sig}`);
        return;
      }
      case 'HEALTHCHECK':
        this.healthcheck(ins, st);
        return;
      case 'SHELL': {
        const arr = parseJsonArray(ins.args);
        if (!arr || arr.length === 0)
          throw new LineError(
            ins.line,
            'SHELL requires the arguments to be in JSON form, e.g. SHELL ["/bin/sh", "-c"]',
          );
        st.shell = arr;
        st.config.Shell = arr;
        st.history.push(`SHELL ${goQuoteList(arr)}`);
        return;
      }
      case 'ONBUILD': {
        const m = /^(\S+)/.exec(ins.args);
        const trig = m?.[1]?.toUpperCase();
        if (!trig) throw new LineError(ins.line, 'ONBUILD requires an instruction');
        if (trig === 'ONBUILD')
          throw new LineError(ins.line, "chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        if (trig === 'FROM' || trig === 'MAINTAINER')
          throw new LineError(ins.line, `${trig} isn't allowed as an ONBUILD trigger`);
        if (!KNOWN_INSTRUCTIONS.includes(trig))
          throw new LineError(ins.line, `unknown instruction in ONBUILD: ${trig.slice(0, 40)}`);
        st.onbuild.push(ins.rest);
        st.config.OnBuild = [...st.onbuild];
        st.history.push(`ONBUILD ${ins.rest}`);
        return;
      }
      case 'MAINTAINER': {
        st.author = ins.args;
        st.history.push(`MAINTAINER ${ins.args}`);
        return;
      }
    }
  }

  private checkFlags(ins: RawInstruction): void {
    const allowed = ALLOWED_FLAGS[ins.keyword] ?? [];
    for (const f of ins.flags) {
      if (!allowed.includes(f.name)) {
        throw new LineError(
          ins.line,
          `unknown flag for ${ins.keyword}: --${f.name}${allowed.length ? ` (${ins.keyword} takes ${allowed.map((a) => `--${a}`).join(', ')})` : ''}`,
        );
      }
    }
  }

  private flag(ins: RawInstruction, name: string): RawFlag | undefined {
    const all = ins.flags.filter((f) => f.name === name);
    if (all.length > 1 && name !== 'exclude') throw new LineError(ins.line, `--${name} given more than once`);
    return all[0];
  }

  private from(ins: RawInstruction): void {
    const vars: VarLookup = (n) => this.globalArgs.get(n);
    const w = (t: string) => {
      try {
        return expandWord(t, vars, this.lex);
      } catch (e) {
        if (isFromscratchError(e, 'DOCKERFILE_SYNTAX')) throw new LineError(ins.line, e.message);
        throw e;
      }
    };
    const parts = ins.args.split(/\s+/).filter(Boolean);
    let name: string | undefined;
    if (parts.length === 3 && parts[1]!.toLowerCase() === 'as') {
      name = w(parts[2]!).toLowerCase();
      if (!STAGE_NAME_RE.test(name)) {
        throw new LineError(
          ins.line,
          `invalid stage name "${name}": names start with a letter and hold letters, digits, -, _ and .`,
        );
      }
      if (this.stages.some((s) => s.name === name))
        throw new LineError(ins.line, `duplicate stage name "${name}"`);
    } else if (parts.length !== 1) {
      throw new LineError(ins.line, 'FROM requires either one argument, or three: FROM <source> [AS <name>]');
    }
    const image = w(parts[0]!);
    if (!image) throw new LineError(ins.line, `FROM ${parts[0]} expands to an empty image name`);
    const pf = this.flag(ins, 'platform');
    const platform = pf?.value !== undefined ? w(pf.value) : undefined;
    if (platform !== undefined) parsePlatform(platform);
    const index = this.stages.length;
    let base: StageBase;
    const lower = image.toLowerCase();
    const prev = this.stages.find((s) => s.name === lower);
    if (lower === 'scratch') base = { kind: 'scratch' };
    else if (prev) base = { kind: 'stage', index: prev.index };
    else {
      let ref: string;
      try {
        ref = toImageSource(image);
      } catch (e) {
        throw new LineError(ins.line, `FROM: ${imageError(e)}`);
      }
      base = { kind: 'image', ref, name: image };
    }
    const st: StageState = {
      index,
      ...(name !== undefined ? { name } : {}),
      line: ins.line,
      base,
      ...(platform !== undefined ? { platform } : {}),
      args: new Map(),
      env: new Map(),
      ownEnv: new Map(),
      shell: ['/bin/sh', '-c'],
      workdir: '/',
      cmdSet: false,
      contents: [],
      contentLines: [],
      config: {},
      history: [],
      directories: [],
      unsupported: [],
      onbuild: [],
      externalBase: base.kind === 'image',
      scratchBase: base.kind === 'scratch',
      warnedVars: new Set(),
    };
    if (base.kind === 'scratch') {
      // docker build gives FROM scratch a default PATH (it is in the image config, and in $PATH)
      st.env.set('PATH', DEFAULT_PATH);
      st.ownEnv.set('PATH', DEFAULT_PATH);
      st.config.Env = [`PATH=${DEFAULT_PATH}`];
    } else if (base.kind === 'image') {
      const cfg = this.opts.baseConfig?.(base.ref);
      if (cfg) {
        st.externalBase = false;
        for (const kv of cfg.Env ?? []) {
          const eq = kv.indexOf('=');
          if (eq > 0) st.env.set(kv.slice(0, eq), kv.slice(eq + 1));
        }
        if (cfg.WorkingDir) st.workdir = joinPath('/', cfg.WorkingDir);
        if (cfg.User) st.user = cfg.User;
        if (cfg.Shell?.length) st.shell = [...cfg.Shell];
      }
    }
    if (prev) {
      // a stage FROM another inherits its environment, shell, directory and user
      for (const [k, v] of prev.env) st.env.set(k, v);
      st.shell = [...prev.shell];
      st.workdir = prev.workdir;
      if (prev.user !== undefined) st.user = prev.user;
      st.externalBase = prev.externalBase;
      st.scratchBase = prev.scratchBase;
    }
    this.stages.push(st);
  }

  private arg(ins: RawInstruction, st: StageState | undefined): void {
    const words = parseWords(ins.args, this.directives.escape);
    if (words.length === 0) throw new LineError(ins.line, 'ARG requires at least one argument');
    for (const w of words) {
      const eq = w.indexOf('=');
      const name = eq < 0 ? w : w.slice(0, eq);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        throw new LineError(ins.line, `invalid ARG name ${JSON.stringify(truncate(name, 40))}`);
      let value: string | undefined;
      if (eq >= 0) value = this.word(w.slice(eq + 1), st, ins.line);
      if (Object.hasOwn(this.buildArgs, name)) {
        value = this.buildArgs[name];
        this.usedBuildArgs.add(name);
      } else if (value === undefined && st) {
        // `ARG NAME` inside a stage takes the global value (or the automatic platform ARGs)
        const g = this.globalArgs.get(name);
        if (g !== undefined) value = g;
      }
      if (st) st.args.set(name, value);
      else this.globalArgs.set(name, value);
    }
  }

  private env(ins: RawInstruction, st: StageState): void {
    const pairs = this.nameValues(ins, st, 'ENV');
    for (const [k, v] of pairs) {
      if (!k) throw new LineError(ins.line, 'ENV names can not be blank');
      st.env.set(k, v);
      // a variable set again keeps its place in Env, as docker build does
      st.ownEnv.set(k, v);
    }
    st.config.Env = [...st.ownEnv].map(([k, v]) => `${k}=${v}`);
    st.history.push(`ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }

  private label(ins: RawInstruction, st: StageState): void {
    const pairs = this.nameValues(ins, st, 'LABEL');
    const labels: Record<string, string> = {
      ...((st.config.Labels as Record<string, string> | undefined) ?? {}),
    };
    for (const [k, v] of pairs) {
      if (!k) throw new LineError(ins.line, 'LABEL names can not be blank');
      labels[k] = v;
    }
    st.config.Labels = labels;
    st.history.push(`LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }

  /** nameValues parses `K=V …` or the old `K V` form, expanding with the values before this instruction. */
  private nameValues(ins: RawInstruction, st: StageState, what: string): [string, string][] {
    const words = parseWords(ins.args, this.directives.escape);
    if (words.length === 0) throw new LineError(ins.line, `${what} requires at least one argument`);
    if (!words[0]!.includes('=')) {
      const m = /^(\S+)\s+([\s\S]+)$/.exec(ins.args);
      if (!m) throw new LineError(ins.line, `${what} must have two arguments`);
      return [[this.word(m[1]!, st, ins.line), this.word(m[2]!, st, ins.line)]];
    }
    const out: [string, string][] = [];
    for (const w of words) {
      const eq = w.indexOf('=');
      if (eq < 0)
        throw new LineError(
          ins.line,
          `syntax error - can't find = in ${JSON.stringify(truncate(w, 40))}: must be of the form name=value`,
        );
      out.push([this.word(w.slice(0, eq), st, ins.line), this.word(w.slice(eq + 1), st, ins.line)]);
    }
    return out;
  }

  private expose(ins: RawInstruction, st: StageState): void {
    const ports: Record<string, Record<string, never>> = {
      ...((st.config.ExposedPorts as Record<string, Record<string, never>> | undefined) ?? {}),
    };
    const added: string[] = [];
    const args = ins.args.split(/\s+/).filter(Boolean);
    if (args.length === 0) throw new LineError(ins.line, 'EXPOSE requires at least one argument');
    for (const a of args) {
      for (const p of this.words(a, st, ins.line)) {
        const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
        if (!m)
          throw new LineError(
            ins.line,
            `invalid port ${JSON.stringify(truncate(p, 40))} in EXPOSE: write PORT[/tcp|udp|sctp] or START-END`,
          );
        const lo = Number(m[1]);
        const hi = m[2] !== undefined ? Number(m[2]) : lo;
        if (lo < 1 || hi > 65535 || hi < lo || hi - lo > 10000)
          throw new LineError(ins.line, `invalid port range ${p} in EXPOSE`);
        const proto = (m[3] ?? 'tcp').toLowerCase();
        for (let n = lo; n <= hi; n++) {
          ports[`${n}/${proto}`] = {};
          added.push(`${n}/${proto}`);
        }
      }
    }
    st.config.ExposedPorts = ports;
    st.history.push(
      `EXPOSE map[${[...new Set(added)]
        .sort()
        .map((p) => `${p}:{}`)
        .join(' ')}]`,
    );
  }

  private volume(ins: RawInstruction, st: StageState): void {
    const json = parseJsonArray(ins.args);
    const raw = json ?? ins.args.split(/\s+/).filter(Boolean);
    if (raw.length === 0) throw new LineError(ins.line, 'VOLUME requires at least one argument');
    const vols: Record<string, Record<string, never>> = {
      ...((st.config.Volumes as Record<string, Record<string, never>> | undefined) ?? {}),
    };
    const added: string[] = [];
    for (const r of raw) {
      const v = this.word(r, st, ins.line).trim();
      if (!v) throw new LineError(ins.line, 'VOLUME specified can not be an empty string');
      vols[v] = {};
      added.push(v);
    }
    st.config.Volumes = vols;
    st.history.push(`VOLUME [${added.join(' ')}]`);
  }

  private command(ins: RawInstruction, st: StageState): void {
    const exec = parseJsonArray(ins.args);
    const argv = exec ?? [...st.shell, ins.args];
    if (!exec && st.scratchBase && !this.addsShell(st)) {
      this.warn(
        ins.line,
        `${ins.keyword} in shell form runs ${st.shell.join(' ')} …, but this stage is FROM scratch and adds no ${st.shell[0]}: write the exec form ${ins.keyword} ["prog", "arg"]`,
      );
    }
    if (ins.keyword === 'CMD') {
      st.config.Cmd = argv;
      st.cmdSet = true;
    } else {
      st.config.Entrypoint = argv;
      // an ENTRYPOINT resets a CMD inherited from the base (not one set earlier in this stage)
      if (!st.cmdSet) st.config.Cmd = null;
    }
    st.history.push(`${ins.keyword} ${goQuoteList(argv)}`);
  }

  private addsShell(st: StageState): boolean {
    const shell = st.shell[0] ?? '/bin/sh';
    return st.contents.some(
      (c) =>
        'dest' in c &&
        typeof c.dest === 'string' &&
        (c.dest === shell || shell.startsWith(c.dest.endsWith('/') ? c.dest : `${c.dest}/`)),
    );
  }

  private healthcheck(ins: RawInstruction, st: StageState): void {
    const m = /^(\S+)\s*([\s\S]*)$/.exec(ins.args);
    const kind = m?.[1]?.toUpperCase();
    if (kind === 'NONE') {
      if (m![2]!.trim() !== '' || ins.flags.length)
        throw new LineError(ins.line, 'HEALTHCHECK NONE takes no other arguments');
      st.config.Healthcheck = { Test: ['NONE'] };
      st.history.push('HEALTHCHECK NONE');
      return;
    }
    if (kind !== 'CMD') throw new LineError(ins.line, 'HEALTHCHECK takes CMD <command> or NONE');
    const rest = m![2]!.trim();
    if (!rest) throw new LineError(ins.line, 'missing command after HEALTHCHECK CMD');
    const exec = parseJsonArray(rest);
    const test = exec ? ['CMD', ...exec] : ['CMD-SHELL', rest];
    const hc: {
      Test: string[];
      Interval?: number;
      Timeout?: number;
      StartPeriod?: number;
      Retries?: number;
    } = { Test: test };
    const dur = (name: string): number | undefined => {
      const f = this.flag(ins, name);
      if (f?.value === undefined) return undefined;
      const ns = parseGoDuration(f.value);
      if (ns === undefined)
        throw new LineError(
          ins.line,
          `invalid duration --${name}=${f.value}: write e.g. 30s, 1m30s or 500ms`,
        );
      if (ns !== 0 && ns < 1_000_000) throw new LineError(ins.line, `--${name} cannot be less than 1ms`);
      return ns || undefined;
    };
    const interval = dur('interval');
    const timeout = dur('timeout');
    const startPeriod = dur('start-period');
    if (this.flag(ins, 'start-interval'))
      this.warn(
        ins.line,
        'HEALTHCHECK --start-interval is not recorded (the image config has no field for it here)',
      );
    if (interval !== undefined) hc.Interval = interval;
    if (timeout !== undefined) hc.Timeout = timeout;
    if (startPeriod !== undefined) hc.StartPeriod = startPeriod;
    const r = this.flag(ins, 'retries');
    if (r?.value !== undefined) {
      if (!/^\d+$/.test(r.value))
        throw new LineError(ins.line, `--retries must be a whole number, not ${JSON.stringify(r.value)}`);
      if (Number(r.value) > 0) hc.Retries = Number(r.value);
    }
    st.config.Healthcheck = hc;
    st.history.push(`HEALTHCHECK ${ins.args}`);
  }

  private copy(ins: RawInstruction, st: StageState): void {
    const kw = ins.keyword;
    const isAdd = kw === 'ADD';
    const json = parseJsonArray(ins.args);
    const rawArgs = json ?? ins.args.split(/\s+/).filter(Boolean);
    if (rawArgs.length < 2) {
      throw new LineError(
        ins.line,
        `${kw} requires at least two arguments, but only ${rawArgs.length === 1 ? 'one was' : 'none were'} provided: write ${kw} SRC... DEST`,
      );
    }
    const heredocs = new Map(ins.heredocs.map((h) => [h.name, h]));
    const args = rawArgs.map((a) => (heredocs.size && /^\d*<<-?/.test(a) ? a : this.word(a, st, ins.line)));
    const destRaw = args[args.length - 1]!;
    const srcs = args.slice(0, -1);
    if (!destRaw) throw new LineError(ins.line, `${kw} destination expands to an empty string`);
    const destIsDir = destRaw === '.' || destRaw.endsWith('/') || destRaw.endsWith('/.');
    const dest = joinPath(st.workdir, destRaw) + (destIsDir && destRaw !== '/' ? '/' : '');
    const destDir = dest === '/' || dest.endsWith('/');
    if (srcs.length > 1 && !destDir) {
      throw new LineError(
        ins.line,
        `when using ${kw} with more than one source file, the destination must be a directory and end with a /`,
      );
    }
    // flags
    const chownF = this.flag(ins, 'chown');
    const chmodF = this.flag(ins, 'chmod');
    const fromF = isAdd ? undefined : this.flag(ins, 'from');
    const linkF = this.flag(ins, 'link');
    const checksumF = isAdd ? this.flag(ins, 'checksum') : undefined;
    if (this.flag(ins, 'parents'))
      throw new LineError(ins.line, 'COPY --parents is not supported by fromscratch yet');
    if (isAdd && this.flag(ins, 'keep-git-dir'))
      throw new LineError(
        ins.line,
        'ADD --keep-git-dir applies to git sources, which fromscratch does not fetch',
      );
    const excludes = ins.flags
      .filter((f) => f.name === 'exclude')
      .map((f) => this.word(f.value ?? '', st, ins.line));
    if (excludes.some((e) => e === '')) throw new LineError(ins.line, '--exclude needs a pattern');
    let ownership: Ownership | undefined;
    if (chownF) {
      if (chownF.value === undefined)
        throw new LineError(ins.line, '--chown needs a value: --chown=USER[:GROUP]');
      ownership = parseChown(this.word(chownF.value, st, ins.line), ins.line);
    }
    if (chmodF) {
      const v = chmodF.value === undefined ? '' : this.word(chmodF.value, st, ins.line);
      if (!/^[0-7]{3,4}$/.test(v))
        throw new LineError(
          ins.line,
          `invalid --chmod=${v}: fromscratch takes octal modes such as 755 or 0644`,
        );
      ownership = { ...(ownership ?? {}), mode: Number.parseInt(v, 8) };
    }
    const link = linkF !== undefined && linkF.value !== 'false';
    const closure = ins.comments.some((c) => /^fromscratch\s*:\s*closure\s*$/i.test(c));
    const common = {
      ...(ownership ? { ownership } : {}),
      ...(excludes.length ? { exclude: excludes } : {}),
      ...(link ? { link: true } : {}),
      ...(closure ? { closure: true } : {}),
    };
    const flagText = ins.flags
      .map((f) => (f.value === undefined ? `--${f.name}` : `--${f.name}=${f.value}`))
      .join(' ');
    st.history.push(`${kw} ${flagText ? `${flagText} ` : ''}${srcs.join(' ')} ${destRaw} # buildkit`);

    if (checksumF && !srcs.every(isUrl))
      throw new LineError(ins.line, 'ADD --checksum applies to http(s) sources only');
    if (fromF) {
      if (fromF.value === undefined || fromF.value === '')
        throw new LineError(ins.line, '--from needs a stage name or an image');
      const from = this.copyFromSource(this.word(fromF.value, st, ins.line), st, ins.line);
      if (srcs.some((s) => /^\d*<<-?/.test(s) && heredocs.has(heredocName(s))))
        throw new LineError(ins.line, 'COPY --from cannot copy a here-document');
      this.push(st, ins.line, {
        kind: 'copy-from',
        from,
        src: srcs.map((s) => normalizeStagePath(s)),
        dest,
        ...common,
      });
      return;
    }
    for (const src of srcs) {
      const hd = /^\d*<<-?/.test(src) ? heredocs.get(heredocName(src)) : undefined;
      if (hd) {
        let content = hd.chomp ? hd.content.replace(/^\t+/gm, '') : hd.content;
        if (hd.expand) {
          try {
            content = expandVariablesOnly(content, this.vars(st), this.lex);
          } catch (e) {
            if (isFromscratchError(e, 'DOCKERFILE_SYNTAX'))
              throw new LineError(ins.line, `in here-document <<${hd.name}: ${e.message}`);
            throw e;
          }
        }
        const path = destDir ? `${dest}${hd.name}` : dest;
        const { mode, ...owner } = ownership ?? {};
        this.push(st, ins.line, {
          kind: 'file',
          dest: path,
          data: new TextEncoder().encode(content),
          mode: mode ?? 0o644,
          ...(Object.keys(owner).length ? { ownership: owner } : {}),
        });
        continue;
      }
      if (isUrl(src)) {
        if (!isAdd) throw new LineError(ins.line, `COPY cannot fetch ${truncate(src, 80)}: use ADD for URLs`);
        if (/\.git(#.*)?$/.test(src) || src.startsWith('git@'))
          throw new LineError(
            ins.line,
            `ADD of a git repository (${truncate(src, 80)}) is not supported by fromscratch`,
          );
        let u: URL;
        try {
          u = new URL(src);
        } catch {
          // not a URL the WHATWG parser accepts: report it on its line
          throw new LineError(ins.line, `ADD source ${truncate(src, 80)} is not a valid URL`);
        }
        let path = dest;
        if (destDir) {
          let base: string;
          try {
            base = decodeURIComponent(u.pathname.slice(u.pathname.lastIndexOf('/') + 1));
          } catch {
            // a lone `%` or an escape that is not UTF-8 (found by the fuzzer): a user error, not a bug
            throw new LineError(
              ins.line,
              `ADD source ${truncate(src, 80)} has a malformed %-escape in its name`,
            );
          }
          if (!base || base === '.' || base === '..' || base.includes('/')) {
            throw new LineError(
              ins.line,
              `cannot derive a file name from ${truncate(src, 80)}: give a destination file name instead of a directory`,
            );
          }
          path = `${dest}${base}`;
        }
        let checksum: string | undefined;
        if (checksumF) {
          checksum = this.word(checksumF.value ?? '', st, ins.line);
          if (!/^sha256:[a-f0-9]{64}$/.test(checksum))
            throw new LineError(
              ins.line,
              `invalid --checksum=${truncate(checksum, 80)}: write sha256:<64 lowercase hex digits>`,
            );
        }
        this.push(st, ins.line, {
          kind: 'add',
          src,
          dest: path,
          ...(checksum ? { checksum } : {}),
          ...common,
        });
        continue;
      }
      if (src.startsWith('git@') || /^[a-z][a-z0-9+.-]*:\/\//i.test(src)) {
        throw new LineError(
          ins.line,
          `${kw} source ${truncate(src, 80)} is not a local path or an http(s) URL`,
        );
      }
      const rel = contextRelative(src);
      if (rel === undefined) {
        throw new LineError(
          ins.line,
          `${kw} source ${src} is outside the build context: sources are paths inside the context directory`,
        );
      }
      this.push(st, ins.line, {
        kind: 'add',
        src: rel,
        dest,
        ...(this.opts.context !== undefined ? { context: this.opts.context } : {}),
        ...(isAdd ? { extract: true } : {}),
        ...common,
        closure,
      });
    }
  }

  private push(st: StageState, line: number, item: StageItem): void {
    st.contents.push(item);
    st.contentLines.push(line);
  }

  private copyFromSource(v: string, st: StageState, line: number): { stage: number } | { image: string } {
    const lower = v.toLowerCase();
    const named = this.stageNames.indexOf(lower);
    if (named >= 0) return { stage: named };
    if (/^\d+$/.test(v)) {
      const n = Number(v);
      if (n >= this.stageNames.length)
        throw new LineError(line, `COPY --from=${v}: there is no stage ${v} (stages are numbered from 0)`);
      return { stage: n };
    }
    void st;
    const names = this.stageNames.filter((n): n is string => n !== undefined);
    const near = didYouMean(lower, names);
    if (near && !/[/:@.]/.test(v)) {
      throw new LineError(
        line,
        `COPY --from=${v}: unknown stage (did you mean "${near}"?); to copy from an image of that name write its full reference, e.g. docker.io/library/${v}`,
      );
    }
    try {
      return { image: toImageSource(v) };
    } catch (e) {
      throw new LineError(
        line,
        `COPY --from=${truncate(v, 80)} is neither a stage name nor an image reference: ${imageError(e)}`,
      );
    }
  }

  finish(): DockerfilePlan {
    if (this.stages.length === 0 && this.problems.length === 0) {
      this.problems.push({ line: 1, message: 'the Dockerfile has no FROM instruction' });
    }
    // forward COPY --from references to later stages resolve now (BuildKit allows any order)
    if (this.problems.length) {
      const list = [...this.problems]
        .sort((a, b) => a.line - b.line)
        .map((p) => `${this.file}:${p.line}: ${p.message}`);
      throw new FromscratchError(
        'DOCKERFILE_SYNTAX',
        list.length === 1 ? list[0]! : `${this.file} has ${list.length} problems:\n${list.join('\n')}`,
        {
          hint: 'fix the lines named above; every problem found is listed',
        },
      );
    }
    const unused = Object.keys(this.buildArgs).filter(
      (k) => !this.usedBuildArgs.has(k) && !PROXY_ARGS.has(k),
    );
    if (unused.length)
      this.warnings.push(
        `${this.file}: build-args [${unused.join(' ')}] were not consumed (no ARG declares them)`,
      );
    const stages: Stage[] = this.stages.map((s) => {
      // Docker runs a base image's ONBUILD triggers and clears them; fromscratch runs nothing, but clears too
      if (s.base.kind !== 'scratch' && s.onbuild.length === 0) s.config.OnBuild = null;
      return {
        index: s.index,
        ...(s.name !== undefined ? { name: s.name } : {}),
        line: s.line,
        base: s.base,
        ...(s.platform !== undefined ? { platform: s.platform } : {}),
        contents: s.contents,
        contentLines: s.contentLines,
        config: s.config,
        history: s.history,
        directories: s.directories,
        ...(s.author !== undefined ? { author: s.author } : {}),
        unsupported: s.unsupported,
      };
    });
    const target =
      this.opts.target === undefined ? stages.length - 1 : findTarget(stages, this.opts.target, this.file);
    return { file: this.file, directives: this.directives, stages, target, warnings: this.warnings };
  }
}

/** LineError is a problem found while interpreting one instruction; the parser collects it and goes on. */
class LineError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(message);
    this.line = line;
  }
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

function heredocName(word: string): string {
  return word.replace(/^\d*<<-?/, '').replace(/["']/g, '');
}

function isRoot(user: string): boolean {
  return /^(root|0)(:(root|0))?$/.test(user);
}

/** parseChown parses `USER[:GROUP]`: numbers become uid/gid, names are left for the build to resolve. */
export function parseChown(v: string, line = 0): Ownership {
  const m = /^([^:]+)(?::([^:]+))?$/.exec(v);
  if (!m)
    throw new LineError(line, `invalid --chown=${truncate(v, 40)}: write USER[:GROUP] (names or numbers)`);
  const [, u, g] = m;
  const out: { uid?: number; gid?: number; user?: string; group?: string } = {};
  if (/^\d+$/.test(u!)) out.uid = Number(u);
  else out.user = u!;
  if (g === undefined) {
    // Docker: a user without a group uses the user's own number as the group
    if (out.uid !== undefined) out.gid = out.uid;
  } else if (/^\d+$/.test(g)) out.gid = Number(g);
  else out.group = g;
  for (const n of [out.uid, out.gid]) {
    if (n !== undefined && n > 0xffffffff) throw new LineError(line, `--chown id ${n} is out of range`);
  }
  return out;
}

/** joinPath joins an absolute directory and a (relative or absolute) path, normalised, without a trailing slash. */
export function joinPath(dir: string, p: string): string {
  const parts: string[] = [];
  for (const part of (p.startsWith('/') ? p : `${dir}/${p}`).split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/**
 * contextRelative turns a COPY source into a path relative to the context root, or undefined when it
 * climbs out with `..`. A leading `/` means the context root, as in `docker build`.
 */
export function contextRelative(src: string): string | undefined {
  const parts: string[] = [];
  for (const part of src.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(part);
  }
  return parts.length ? parts.join('/') : '.';
}

function normalizeStagePath(s: string): string {
  return joinPath('/', s) + (s.endsWith('/') && s !== '/' ? '/' : '');
}

/** parseJsonArray returns the strings of a JSON array of strings (Docker's exec form), else undefined. */
export function parseJsonArray(s: string): string[] | undefined {
  const t = s.trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // not JSON: Docker falls back to the shell form
  }
  return undefined;
}

/** goQuoteList renders a list as Go's `%q` does (`["a" "b c"]`), the shape of BuildKit's history. */
function goQuoteList(a: readonly string[]): string {
  return `[${a.map((s) => JSON.stringify(s)).join(' ')}]`;
}

/** parseGoDuration parses a Go duration (`1m30s`, `500ms`) into nanoseconds. */
export function parseGoDuration(s: string): number | undefined {
  if (s === '0') return 0;
  // microseconds as Go spells them: us, the micro sign (U+00B5) and the Greek mu (U+03BC)
  const units: Record<string, number> = {
    ns: 1,
    us: 1e3,
    '\u00B5s': 1e3,
    '\u03BCs': 1e3,
    ms: 1e6,
    s: 1e9,
    m: 60e9,
    h: 3600e9,
  };
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00B5s|\u03BCs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  if (s.length === 0 || s.length > 64) return undefined;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * units[m[2]!]!;
    pos = re.lastIndex;
  }
  return Math.round(total);
}

/**
 * parseWords splits ENV/LABEL/ARG arguments into words as BuildKit's parseWords does: on unquoted
 * whitespace, keeping quotes and escapes for the later expansion of each word.
 */
export function parseWords(rest: string, escapeChar: string): string[] {
  const words: string[] = [];
  let word = '';
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOK = false;
  const chars = Array.from(rest);
  for (let pos = 0; pos <= chars.length; pos++) {
    const ch = chars[pos] ?? '';
    if (phase === 'spaces') {
      if (pos === chars.length) break;
      if (/\s/.test(ch)) continue;
      phase = 'word';
    }
    if (pos === chars.length) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (/\s/.test(ch)) {
        phase = 'spaces';
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
      }
      if (ch === escapeChar) {
        if (pos + 1 === chars.length) continue;
        word += ch;
        pos += 1;
        word += chars[pos];
        continue;
      }
      word += ch;
      continue;
    }
    // in a quote
    if (ch === quote) phase = 'word';
    if (ch === escapeChar && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      word += ch;
      pos += 1;
      word += chars[pos];
      continue;
    }
    word += ch;
  }
  return words;
}
