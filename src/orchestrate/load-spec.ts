/**
 * load-spec.ts — one BuildSpec from the front ends: flags, a YAML spec, a Dockerfile, or a context dir.
 *
 * A file (YAML or Dockerfile) gives the base spec; flags add contents after it and override its config,
 * outputs and platforms, as `docker build` flags override a Dockerfile.
 */
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { readContextFile } from '../dockerfile/context.ts';
import { parseDockerfile, toBuildSpec } from '../dockerfile/parse.ts';
import { FromscratchError } from '../errors.ts';
import type { BuildSpec } from './build-spec.ts';

/** LoadSpecOptions names the inputs of a build. */
export interface LoadSpecOptions {
  /** the spec made from command-line flags */
  flags: BuildSpec;
  cwd: string;
  /** build context directory (Dockerfile COPY sources resolve inside it) */
  context?: string;
  /** YAML spec file (-c) */
  configFile?: string;
  /** Dockerfile (-f) */
  dockerfile?: string;
  buildArgs?: Record<string, string>;
  target?: string;
}

/** MAX_SPEC_BYTES bounds a spec file or Dockerfile read into memory. */
export const MAX_SPEC_BYTES = 1024 * 1024;

/** loadBuildSpec reads the spec file or Dockerfile (if any) and merges the flags over it. */
export async function loadBuildSpec(o: LoadSpecOptions): Promise<BuildSpec> {
  const context = o.context === undefined ? undefined : resolve(o.cwd, o.context);
  if (context !== undefined) {
    const st = await stat(context).catch(() => undefined);
    if (!st?.isDirectory()) {
      throw new FromscratchError('FILE_NOT_FOUND', `build context ${context} is not a directory`, {
        hint: 'pass a directory holding a Dockerfile or fromscratch.yaml, or no context at all',
      });
    }
  }
  let configFile = o.configFile === undefined ? undefined : resolve(o.cwd, o.configFile);
  let dockerfile = o.dockerfile === undefined ? undefined : resolve(context ?? o.cwd, o.dockerfile);
  if (configFile && dockerfile) {
    throw new FromscratchError('USAGE', 'both a YAML spec (-c) and a Dockerfile (-f) were given', {
      hint: 'build from one of them',
    });
  }
  if (context !== undefined && !configFile && !dockerfile) {
    if (await exists(`${context}/fromscratch.yaml`)) configFile = `${context}/fromscratch.yaml`;
    else if (await exists(`${context}/Dockerfile`)) dockerfile = `${context}/Dockerfile`;
    else {
      throw new FromscratchError(
        'FILE_NOT_FOUND',
        `build context ${context} has neither a Dockerfile nor a fromscratch.yaml`,
        {
          hint: 'add one, or name it with -f Dockerfile / -c spec.yaml',
        },
      );
    }
  }
  let base: BuildSpec | undefined;
  if (configFile) {
    // the YAML parser and zod take ~0.15 s to load: only builds from a YAML spec pay it
    const { parseSpecFile } = await import('../yaml/parse-spec.ts');
    base = parseSpecFile(await readSmall(configFile), configFile);
  }
  if (dockerfile) {
    const ctxDir = context ?? resolve(dockerfile, '..');
    const rel = relative(ctxDir, dockerfile);
    // a Dockerfile inside the context is read with the context's rules: a symlink out of it is refused (F4)
    const text =
      !rel.startsWith('..') && !isAbsolute(rel)
        ? await readContextFile(ctxDir, rel)
        : await readSmall(dockerfile);
    if (text === undefined)
      throw new FromscratchError('FILE_NOT_FOUND', `${dockerfile} does not exist`, {
        hint: 'check the -f path (relative to the context)',
      });
    const plan = parseDockerfile(text, {
      file: dockerfile,
      ...(o.flags.platforms?.[0] ? { platform: o.flags.platforms[0] } : {}),
      ...(o.buildArgs ? { buildArgs: o.buildArgs } : {}),
      ...(o.target !== undefined ? { target: o.target } : {}),
      context: ctxDir,
    });
    base = toBuildSpec(plan, o.target);
  }
  if (!base) return o.flags;
  const merged = mergeSpecs(base, o.flags);
  // a multi-image spec: the flags apply to every image
  return base.images
    ? {
        ...merged,
        images: base.images.map((im) => {
          // `-o docker://HOST/team/{name}:1` names each image's own output
          const named = (l: readonly string[] | undefined) => l?.map((x) => x.replaceAll('{name}', im.name));
          const flags = {
            ...o.flags,
            outputs: named(o.flags.outputs) ?? [],
            tags: named(o.flags.tags) ?? [],
          };
          return { name: im.name, spec: mergeSpecs(im.spec, flags) };
        }),
      }
    : merged;
}

/** mergeSpecs lays `over` (flags) on `base` (a file): contents appended, config and outputs overridden. */
export function mergeSpecs(base: BuildSpec, over: BuildSpec): BuildSpec {
  const config = { ...(base.config ?? {}) };
  for (const [k, v] of Object.entries(over.config ?? {})) {
    if (v === undefined) continue;
    if (k === 'Env') config.Env = [...(base.config?.Env ?? []), ...(v as string[])];
    else if (k === 'Labels')
      config.Labels = { ...(base.config?.Labels ?? {}), ...(v as Record<string, string>) };
    else (config as Record<string, unknown>)[k] = v;
  }
  return {
    ...base,
    ...(over.from !== undefined ? { from: over.from } : {}),
    ...(over.platforms?.length ? { platforms: over.platforms } : {}),
    contents: [...base.contents, ...over.contents],
    config,
    ...(over.annotations ? { annotations: { ...(base.annotations ?? {}), ...over.annotations } } : {}),
    defaults: { ...(base.defaults ?? {}), ...pickFalse(over.defaults ?? {}) },
    ...(over.sysroot !== undefined ? { sysroot: over.sysroot } : {}),
    ...(over.aptSources?.length ? { aptSources: over.aptSources } : {}),
    ...(over.lockfile !== undefined ? { lockfile: over.lockfile } : {}),
    ...(over.locked ? { locked: true } : {}),
    ...(over.strict ? { strict: true } : {}),
    ...(over.libraryPaths?.length
      ? { libraryPaths: [...(base.libraryPaths ?? []), ...over.libraryPaths] }
      : {}),
    ...(over.outputs?.length ? { outputs: over.outputs } : {}),
    ...(over.tags?.length ? { tags: over.tags } : {}),
    ...(over.compression !== undefined ? { compression: over.compression } : {}),
    ...(over.compressionLevel !== undefined ? { compressionLevel: over.compressionLevel } : {}),
    ...(over.layers !== undefined ? { layers: over.layers } : {}),
    ...(over.noInfer?.length ? { noInfer: [...new Set([...(base.noInfer ?? []), ...over.noInfer])] } : {}),
  };
}

// a flag can only turn a default off; `true` from flags means "not given"
function pickFalse<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v === false)) as Partial<T>;
}

async function exists(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined)) !== undefined;
}

async function readSmall(p: string): Promise<string> {
  const st = await stat(p).catch((e) => {
    throw new FromscratchError('FILE_NOT_FOUND', `${p} does not exist`, {
      hint: 'check the file name',
      cause: e,
    });
  });
  if (!st.isFile()) throw new FromscratchError('INVALID_ARGUMENT', `${p} is not a regular file`);
  if (st.size > MAX_SPEC_BYTES) {
    throw new FromscratchError(
      'TOO_LARGE',
      `${p} is ${st.size} bytes, over the ${MAX_SPEC_BYTES}-byte limit`,
      {
        hint: 'spec files and Dockerfiles are small; check that you named the right file',
      },
    );
  }
  return readFile(p, 'utf8');
}
