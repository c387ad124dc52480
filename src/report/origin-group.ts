/**
 * origin-group.ts — the one group a file's space is counted under, from its origins in a build record.
 * PURE.
 *
 * A file can have several origins (a library needed by two programs, a requested file that a package
 * also ships). Its group is what brought it in at the top of its first chain of reasons: a library
 * counts for the program it was requested as (`/usr/bin/curl (--binary)`), a module an inference
 * brought and the libraries of that module count for the inference (`inferred: gconv`), so the groups
 * answer "what does this request or this rule cost".
 */
import { inferenceRule, type Origin } from '../fs/origin.ts';

/** RecordFile is what grouping needs of a recorded file. */
export interface GroupedFile {
  readonly path: string;
  readonly origins: readonly Origin[];
}

/** MAX_CHAIN bounds how far up a chain of reasons grouping walks (a cycle stops at the visited set anyway). */
const MAX_CHAIN = 64;

/**
 * groupOrigins returns each file's group (see the module comment) and the Debian package that shipped
 * it, if any.
 */
export function groupOrigins(
  files: readonly GroupedFile[],
): Map<string, { readonly origin: string; readonly package?: string }> {
  const byPath = new Map(files.map((f) => [f.path, f] as const));
  const memo = new Map<string, string>();
  const groupOf = (path: string, seen: Set<string>, depth: number): string => {
    const known = memo.get(path);
    if (known !== undefined) return known;
    const f = byPath.get(path);
    if (!f || seen.has(path) || depth > MAX_CHAIN) return 'unknown';
    seen.add(path);
    const origins = f.origins;
    // the first reason that is not "a package ships it" or "on the path to", which say less
    const main =
      origins.find((o) => o.kind !== 'package' && o.kind !== 'path') ??
      origins.find((o) => o.kind === 'package') ??
      origins[0];
    let g: string;
    if (!main) g = 'unknown';
    else
      switch (main.kind) {
        case 'requested':
          g = `${path} (${main.via})`;
          break;
        case 'traced':
          g = `traced: ${main.command}`;
          break;
        case 'fix':
          g = `--verify --fix: ${main.command}`;
          break;
        case 'needed':
        case 'interpreter':
        case 'shebang':
          g = groupOf(main.by, seen, depth + 1);
          if (g === 'unknown') g = `needed by ${main.by}`;
          break;
        case 'inferred': {
          const rule = inferenceRule(main.reason);
          g = rule ? `inferred: ${rule}` : groupOf(main.by, seen, depth + 1);
          break;
        }
        case 'package':
          g = `package ${main.name}`;
          break;
        case 'default':
          g = 'scratch defaults';
          break;
        case 'base':
          g = `base image ${main.image}`;
          break;
        case 'data':
          g = 'data files';
          break;
        case 'path':
          g = 'directories and links';
          break;
      }
    memo.set(path, g);
    return g;
  };
  const out = new Map<string, { origin: string; package?: string }>();
  for (const f of files) {
    const pkg = f.origins.find((o) => o.kind === 'package');
    out.set(f.path, {
      origin: groupOf(f.path, new Set(), 0),
      ...(pkg && pkg.kind === 'package' ? { package: pkg.name } : {}),
    });
  }
  return out;
}
