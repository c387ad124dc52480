/**
 * build.ts — `fromscratch build [CONTEXT] [options]`.
 */

import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  type BuildSpec,
  buildImage,
  buildImages,
  type ContentItem,
  cacheDir,
  checkCompressionLevel,
  FromscratchError,
  loadBuildSpec,
  parseAddArg,
  parseBinaryArg,
  parsePlatform,
  retryAfterCacheHeal,
  watchBuild,
} from '../../index.ts';
import type { CliIo } from '../io.ts';
import { progressFor, progressLogger } from '../progress.ts';
import { renderError } from '../render-error.ts';
import {
  collect,
  collectNoInfer,
  noInferOptions,
  parseCommandList,
  parseKeyValue,
  parseSeconds,
} from './options.ts';

interface BuildFlags {
  binary?: string[];
  add?: string[];
  trace?: string[];
  package?: string[];
  aptSource?: string[];
  lockfile?: string;
  locked?: boolean;
  strict?: boolean;
  from?: string;
  sysroot?: string;
  libPath?: string[];
  entrypoint?: string;
  cmd?: string;
  env?: string[];
  workdir?: string;
  user?: string;
  label?: string[];
  annotation?: string[];
  expose?: string[];
  volume?: string[];
  stopSignal?: string;
  platform?: string[];
  tag?: string[];
  output?: string[];
  compression?: string;
  compressionLevel?: string;
  layers?: string;
  config?: string;
  file?: string;
  watch?: boolean;
  buildArg?: string[];
  target?: string;
  defaultUsers: boolean;
  nsswitch: boolean;
  tmp: boolean;
  caCertificates: boolean;
  infer: boolean | string[];
  allowSecret?: string[];
  traceAllowFailure?: boolean;
  traceTimeout?: string;
  verify?: string[];
  fix?: boolean;
  insecureRegistry?: string[];
  certDir?: string;
  json?: boolean;
  quiet?: boolean;
  sbom?: string;
  attachRecord?: boolean;
  cacheFrom?: string[];
  cacheTo?: string;
}

/** registerBuild adds the build command. */
export function registerBuild(program: Command, io: CliIo): void {
  program
    .command('build')
    .description('build an image')
    .argument('[context]', 'build context holding a Dockerfile (with -f) or fromscratch.yaml')
    .option(
      '--binary <src[:dest]>',
      'a program (ELF or #! script) and its full closure, at DEST in the image (default: its absolute path; /NAME for a relative one)',
      collect,
    )
    .option('--add <src[:dest]>', 'host file or directory as is; programs inside get their closures', collect)
    .option('--trace <cmd>', 'run CMD on the host under strace; include every file it used', collect)
    .option('--package <name[=version]>', 'a Debian package and its dependencies', collect)
    .option('--from <image>', 'base image (default: scratch)')
    .option('--sysroot <dir>', 'resolve programs and libraries inside another root')
    .option(
      '--lib-path <dir>',
      "library directory inside the root: searched by the closure and set in the image's LD_LIBRARY_PATH",
      collect,
    )
    .option(
      '--strict',
      'fail (exit 1, nothing written) when the static start check finds a problem; also FROMSCRATCH_STRICT=1',
    )
    .option('--entrypoint <cmd>', 'entrypoint: JSON array or a shell-like word list')
    .option('--cmd <cmd>', 'default arguments: JSON array or a shell-like word list')
    .option('--env <k=v>', 'environment variable', collect)
    .option('--workdir <dir>', 'working directory')
    .option('--user <user>', 'user (name or uid[:gid])')
    .option('--label <k=v>', 'image label', collect)
    .option('--annotation <k=v>', 'manifest annotation', collect)
    .option('--expose <port[/proto]>', 'exposed port', collect)
    .option('--volume <path>', 'volume mount point', collect)
    .option('--stop-signal <signal>', 'stop signal')
    .option('--platform <os/arch[,...]>', 'target platform(s)', collect)
    .option('--apt-source <line>', "apt source 'deb URL SUITE COMPONENT…' (default: the host's)", collect)
    .option(
      '--lockfile <file>',
      'fromscratch.lock: reused when it matches --package requests, written after resolving',
    )
    .option(
      '--locked',
      'never resolve packages anew; the lockfile must match (default file fromscratch.lock)',
    )
    .option('-t, --tag <name:tag>', 'name and tag for outputs that take one', collect)
    .option(
      '-o, --output <dest>',
      'where to write: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG], docker-daemon:NAME:TAG, docker://HOST/REPO[:TAG]',
      collect,
    )
    .option('--compression <gzip|zstd|none>', 'layer compression (default gzip)')
    .option('--compression-level <n>', 'compression level: gzip 1..9 (default 4), zstd 1..19 (default 3)')
    .option(
      '--layers <n>',
      'most layers to add, chosen for reuse across rebuilds and images (default 16; 1 = one layer)',
    )
    .option('-c, --config <file>', 'YAML build spec (fromscratch.yaml)')
    .option('-f, --file <Dockerfile>', 'Dockerfile to build')
    .option('--build-arg <k=v>', 'Dockerfile build argument', collect)
    .option('--target <stage>', 'Dockerfile stage to build')
    .option('--no-default-users', 'do not add /etc/passwd and /etc/group')
    .option('--no-nsswitch', 'do not add /etc/nsswitch.conf')
    .option('--no-tmp', 'do not add /tmp')
    .option('--no-ca-certificates', 'do not add a CA bundle when a TLS library is in the closure')
    .option(
      '--no-infer [names]',
      'leave out inferred run-time files: --no-infer=gconv,nss (repeatable; names: see fromscratch deps --help); bare: nss, gconv, libgcc, ca-certificates, dlopen-notes',
      collectNoInfer,
    )
    .option(
      '--allow-secret <path>',
      'include this host file (or everything under this directory) even though it looks like a secret',
      collect,
    )
    .option('--trace-allow-failure', 'keep the files of a traced command that exits non-zero')
    .option(
      '--trace-timeout <seconds>',
      'kill a traced command after this many seconds (with --trace-allow-failure: stop it, as a server, and keep its files)',
    )
    .option(
      '--insecure-registry <host>',
      'talk plain HTTP to this registry (loopback registries always may)',
      collect,
    )
    .option(
      '--cert-dir <dir>',
      'CA certificates (*.crt) and client pairs (*.cert/*.key) for registries, as skopeo --cert-dir',
    )
    .addOption(
      program
        .createOption(
          '--verify [cmd]',
          "run CMD inside the built image to prove it works (no CMD: the image's entrypoint and cmd)",
        )
        .preset('')
        .argParser(collect),
    )
    .option('--fix', 'with --verify: add the files the command was missing and rebuild')
    .option(
      '--sbom <spdx|cyclonedx>',
      'attach an SBOM to OCI layout and registry outputs (an OCI 1.1 artifact referring to the image)',
    )
    .option(
      '--attach-record',
      'attach the build record to OCI layout and registry outputs, so that why and sbom work wherever the image goes',
    )
    .option(
      '--cache-from <ref>',
      'import the build cache from a registry, docker://HOST/REPO[:TAG] (repeatable; also FROMSCRATCH_CACHE_FROM, comma-separated)',
      collect,
    )
    .option(
      '--cache-to <ref>',
      'export the build cache to a registry, docker://HOST/REPO[:TAG] (also FROMSCRATCH_CACHE_TO)',
    )
    .option('--json', 'print the result as JSON')
    .option('-q, --quiet', 'no progress on stderr')
    .option(
      '--watch',
      'build (and push) again whenever an input changes, until Ctrl-C: one digest line per build',
    )
    // also the command's own option: global options stop being read after the command once the program
    // parses positionally (as `run IMAGE ARGS…` needs)
    .option(
      '--progress <auto|tty|plain|quiet>',
      'progress on stderr (default auto; also FROMSCRATCH_PROGRESS)',
    )
    .action(async (context: string | undefined, flags: BuildFlags, cmd: Command) => {
      const progress = progressFor(io, cmd);
      const log = progressLogger(progress);
      const noInfer = noInferOptions(flags.infer);
      const strictEnv = io.env.FROMSCRATCH_STRICT;
      const flagSpec = specFromFlags(
        { ...flags, ...(strictEnv && strictEnv !== '0' ? { strict: true } : {}) },
        io.cwd,
      );
      // --watch loads it again before each build: an edited spec file or Dockerfile counts
      const loadSpec = () =>
        loadBuildSpec({
          flags: flagSpec,
          cwd: io.cwd,
          ...(context !== undefined ? { context } : {}),
          ...(flags.config !== undefined ? { configFile: flags.config } : {}),
          ...(flags.file !== undefined ? { dockerfile: flags.file } : {}),
          buildArgs: Object.fromEntries((flags.buildArg ?? []).map((kv) => parseKeyValue('--build-arg', kv))),
          ...(flags.target !== undefined ? { target: flags.target } : {}),
        });
      const spec = await loadSpec();
      if (flags.sbom !== undefined && flags.sbom !== 'spdx' && flags.sbom !== 'cyclonedx') {
        throw new FromscratchError('USAGE', `unknown SBOM format ${JSON.stringify(flags.sbom)}`, {
          hint: 'use --sbom spdx or --sbom cyclonedx',
        });
      }
      const buildOpts: Parameters<typeof buildImage>[1] = {
        ...(flags.sbom ? { sbom: flags.sbom } : {}),
        ...(flags.attachRecord ? { attachRecord: true } : {}),
        cwd: io.cwd,
        logger: log,
        progress: progress.sink,
        ...(io.env.SOURCE_DATE_EPOCH !== undefined
          ? { sourceDateEpoch: parseEpoch(io.env.SOURCE_DATE_EPOCH) }
          : {}),
        // a relative path is relative to the working directory, as --add's sources are
        ...(flags.allowSecret ? { allowSecrets: flags.allowSecret.map((p) => resolve(io.cwd, p)) } : {}),
        ...(noInfer ? { infer: noInfer } : {}),
        ...(flags.verify ? { verify: flags.verify, fix: Boolean(flags.fix) } : {}),
        ...cacheSettings(flags, io.env),
        registry: {
          ...(flags.insecureRegistry ? { insecure: flags.insecureRegistry } : {}),
          ...(flags.certDir ? { certDir: flags.certDir } : {}),
          progress: progress.sink,
        },
      };
      if (flags.watch) {
        if (spec.images)
          throw new FromscratchError('USAGE', '--watch builds one image; this spec has several (images:)', {
            hint: 'watch one image of it at a time, or drop --watch',
          });
        await watchCommand(io, flags, context, {
          load: loadSpec,
          build: (s) =>
            retryAfterCacheHeal(
              () => buildImage(s, buildOpts),
              (m) => progress.log(m),
            ),
          info: (m) => log.info(m),
        });
        progress.close(true);
        return;
      }
      if (spec.images) {
        // a multi-image spec: one line per image (NAME DIGEST), or a JSON array
        const all = await retryAfterCacheHeal(
          () => buildImages(spec, buildOpts),
          (m) => io.stderr.write(`${m}\n`),
        );
        if (flags.json)
          io.stdout.write(
            `${JSON.stringify(
              all.images.map((i) => ({ name: i.name, ...i.summary })),
              null,
              2,
            )}\n`,
          );
        else for (const i of all.images) io.stdout.write(`${i.name} ${i.digest}\n`);
        return;
      }
      const result = await retryAfterCacheHeal(
        () => buildImage(spec, buildOpts),
        (m) => progress.log(m),
      );
      progress.close(true);
      if (flags.json) io.stdout.write(`${JSON.stringify(result.summary, null, 2)}\n`);
      else io.stdout.write(`${result.digest}\n`);
    });
}

/**
 * watchCommand runs `build --watch`: a digest line (or a JSON line with --json) per build, a failed
 * rebuild told on stderr and waited out. It runs until interrupted: Ctrl-C or a kill ends it as any
 * command (status 130 / 143, this run's temp files removed: main.ts).
 */
async function watchCommand(
  io: CliIo,
  flags: BuildFlags,
  context: string | undefined,
  o: {
    load: () => Promise<BuildSpec>;
    build: (spec: BuildSpec) => ReturnType<typeof buildImage>;
    info(m: string): void;
  },
): Promise<void> {
  let armed = '';
  await watchBuild(o.load, o.build, {
    signal: new AbortController().signal,
    cwd: io.cwd,
    extra: [flags.config, flags.file, context].filter((p): p is string => p !== undefined),
    ignore: [cacheDir()],
    onBuilt: (r) => io.stdout.write(flags.json ? `${JSON.stringify(r.summary)}\n` : `${r.digest}\n`),
    onError: (e) => {
      const { text } = renderError(e);
      io.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
      o.info('watching for the next change');
    },
    onChange: (p) => o.info(`changed: ${p}: building again`),
    onWatching: ({ files, directories, skipped }) => {
      if (skipped.length > 0)
        io.stderr.write(
          `warning: cannot watch ${skipped.length} director${skipped.length === 1 ? 'y' : 'ies'} (${skipped.slice(0, 3).join(', ')}): their changes go unseen (hint: raise fs.inotify.max_user_watches)\n`,
        );
      // told when it changes, not after every build
      const now = `watching ${files} files in ${directories} directories (Ctrl-C to stop)`;
      if (now !== armed) o.info(now);
      armed = now;
    },
  });
}

/** cacheSettings: --cache-from/--cache-to, else FROMSCRATCH_CACHE_FROM/_TO (the spec's `cache:` is the default) */
function cacheSettings(
  flags: BuildFlags,
  env: Readonly<Record<string, string | undefined>>,
): { cacheFrom?: string[]; cacheTo?: string } {
  const envFrom = (env.FROMSCRATCH_CACHE_FROM ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const from = flags.cacheFrom?.length ? flags.cacheFrom : envFrom.length ? envFrom : undefined;
  const to = flags.cacheTo ?? (env.FROMSCRATCH_CACHE_TO?.trim() || undefined);
  return { ...(from ? { cacheFrom: from } : {}), ...(to !== undefined ? { cacheTo: to } : {}) };
}

function parseEpoch(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) {
    throw new FromscratchError(
      'USAGE',
      `SOURCE_DATE_EPOCH=${JSON.stringify(s)} is not a non-negative integer`,
      {
        hint: 'set SOURCE_DATE_EPOCH to seconds since 1970, e.g. $(git log -1 --format=%ct)',
      },
    );
  }
  return n;
}

/** specFromFlags turns build flags into a BuildSpec (argv only: no I/O). */
export function specFromFlags(f: BuildFlags, cwd: string): BuildSpec {
  const contents: ContentItem[] = [];
  for (const b of f.binary ?? []) contents.push({ kind: 'binary', ...parseBinaryArg(b) });
  for (const a of f.add ?? []) {
    const { src, dest } = parseAddArg(a, cwd);
    contents.push({ kind: 'add', src, dest });
  }
  for (const t of f.trace ?? []) {
    contents.push({
      kind: 'trace',
      command: t,
      ...(f.traceAllowFailure ? { allowFailure: true } : {}),
      ...(f.traceTimeout !== undefined
        ? { timeoutSeconds: parseSeconds('--trace-timeout', f.traceTimeout) }
        : {}),
    });
  }
  for (const p of f.package ?? []) {
    const [name, version] = p.split('=', 2) as [string, string | undefined];
    contents.push({ kind: 'package', name, ...(version ? { version } : {}) });
  }
  const env = (f.env ?? []).map((kv) => parseKeyValue('--env', kv)).map(([k, v]) => `${k}=${v}`);
  const labels = Object.fromEntries((f.label ?? []).map((kv) => parseKeyValue('--label', kv)));
  const annotations = Object.fromEntries((f.annotation ?? []).map((kv) => parseKeyValue('--annotation', kv)));
  const platforms = (f.platform ?? [])
    .flatMap((p) => p.split(','))
    .filter(Boolean)
    .map(parsePlatform);
  const compression = f.compression;
  if (
    compression !== undefined &&
    compression !== 'gzip' &&
    compression !== 'zstd' &&
    compression !== 'none'
  ) {
    throw new FromscratchError('USAGE', `unknown compression ${JSON.stringify(compression)}`, {
      hint: 'use gzip, zstd or none',
    });
  }
  const compressionLevel = f.compressionLevel === undefined ? undefined : Number(f.compressionLevel);
  if (compressionLevel !== undefined) {
    if (!/^\d+$/.test(f.compressionLevel ?? ''))
      throw new FromscratchError(
        'USAGE',
        `--compression-level ${JSON.stringify(f.compressionLevel)} is not a number`,
        {
          hint: 'use an integer: gzip 1..9, zstd 1..19',
        },
      );
    checkCompressionLevel(compression ?? 'gzip', compressionLevel, 'USAGE');
  }
  const layers = f.layers === undefined ? undefined : Number(f.layers);
  if (layers !== undefined && !(Number.isInteger(layers) && layers >= 1 && layers <= 100)) {
    throw new FromscratchError(
      'USAGE',
      `--layers ${JSON.stringify(f.layers)} is not a whole number from 1 to 100`,
      {
        hint: 'give the most layers the build may add, e.g. --layers 8 (1 gives a single layer)',
      },
    );
  }
  const config: NonNullable<BuildSpec['config']> = {
    ...(f.entrypoint !== undefined ? { Entrypoint: parseCommandList('--entrypoint', f.entrypoint) } : {}),
    ...(f.cmd !== undefined ? { Cmd: parseCommandList('--cmd', f.cmd) } : {}),
    ...(env.length ? { Env: env } : {}),
    ...(f.workdir !== undefined ? { WorkingDir: f.workdir } : {}),
    ...(f.user !== undefined ? { User: f.user } : {}),
    ...(Object.keys(labels).length ? { Labels: labels } : {}),
    ...(f.expose?.length
      ? { ExposedPorts: Object.fromEntries(f.expose.map((p) => [p.includes('/') ? p : `${p}/tcp`, {}])) }
      : {}),
    ...(f.volume?.length ? { Volumes: Object.fromEntries(f.volume.map((v) => [v, {}])) } : {}),
    ...(f.stopSignal !== undefined ? { StopSignal: f.stopSignal } : {}),
  };
  return {
    ...(f.from !== undefined ? { from: f.from } : {}),
    ...(platforms.length ? { platforms } : {}),
    contents,
    config,
    ...(Object.keys(annotations).length ? { annotations } : {}),
    defaults: {
      users: f.defaultUsers !== false,
      nsswitch: f.nsswitch !== false,
      tmp: f.tmp !== false,
      caCertificates: f.caCertificates !== false,
    },
    ...(f.sysroot !== undefined ? { sysroot: f.sysroot } : {}),
    ...(f.aptSource?.length ? { aptSources: f.aptSource } : {}),
    ...(f.lockfile !== undefined || f.locked ? { lockfile: f.lockfile ?? 'fromscratch.lock' } : {}),
    ...(f.locked ? { locked: true } : {}),
    ...(f.strict ? { strict: true } : {}),
    ...(f.libPath?.length ? { libraryPaths: f.libPath } : {}),
    ...(f.output?.length ? { outputs: f.output } : {}),
    ...(f.tag?.length ? { tags: f.tag } : {}),
    ...(compression ? { compression } : {}),
    ...(compressionLevel !== undefined ? { compressionLevel } : {}),
    ...(layers !== undefined ? { layers } : {}),
  };
}
