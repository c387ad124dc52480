/**
 * deps.ts — `fromscratch deps`: the closure of programs, printed without building anything.
 */
import { resolve } from 'node:path';
import { resolveClosure } from '../closure/closure.ts';
import { type DepsJson, formatDepsTree, toDepsJson } from '../closure/deps-format.ts';
import type { InferOptions } from '../closure/infer.ts';
import { hostFs } from '../fs/host-fs.ts';

/** ResolveDepsOptions configures resolveDeps. */
export interface ResolveDepsOptions {
  /** directory relative paths are resolved from (default process.cwd()) */
  cwd?: string;
  /** resolve inside this root instead of / */
  sysroot?: string;
  /** extra library directories inside the root (like LD_LIBRARY_PATH) */
  libraryPath?: readonly string[];
  /** infer run-time files (default true); false turns off nss, gconv, libgcc, CA bundle, dlopen notes; an object switches each */
  infer?: boolean | InferOptions;
  /** list every inferred file, not one summary line per rule that adds many (default false) */
  verbose?: boolean;
}

/**
 * resolveDeps computes what programs need, inside the host root or a sysroot, without executing them.
 * Missing libraries are listed, not thrown (ldd prints "not found" too).
 */
export async function resolveDeps(
  paths: readonly string[],
  o: ResolveDepsOptions = {},
): Promise<{ json: DepsJson; text: string }> {
  const fs = hostFs(o.sysroot ?? '/');
  const roots = paths.map((p) =>
    o.sysroot ? (p.startsWith('/') ? p : `/${p}`) : resolve(o.cwd ?? process.cwd(), p),
  );
  const result = await resolveClosure(roots, fs, {
    strict: false,
    requestedVia: 'fromscratch deps',
    ...(o.libraryPath ? { libraryPath: o.libraryPath } : {}),
    ...(o.infer === false
      ? { infer: { nss: false, gconv: false, libgcc: false, caCerts: false, dlopenNotes: false } }
      : typeof o.infer === 'object'
        ? { infer: o.infer }
        : {}),
  });
  return { json: toDepsJson(result), text: formatDepsTree(result, { verbose: o.verbose === true }) };
}
