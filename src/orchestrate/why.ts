/**
 * why.ts — the chain of reasons a path is in an image, from its BuildRecord. PURE.
 */
import { FromscratchError } from '../errors.ts';
import { describeOrigin, type Origin } from '../fs/origin.ts';
import { normalizeImagePath } from '../fs/path.ts';
import { resolvePath } from '../fs/resolve.ts';
import { type BuildRecord, recordFs } from './record.ts';

/** Explanation is a path, its reasons, and for each reason that names another file, why that file is there. */
export interface Explanation {
  readonly path: string;
  /** the symlinks of the image passed on the way from the path asked about to `path` */
  readonly via?: readonly { readonly path: string; readonly target: string }[];
  readonly reasons: readonly {
    readonly origin: Origin;
    readonly text: string;
    readonly because?: Explanation;
  }[];
  /**
   * build warnings about the packages the path comes from: the maintainer-script commands of those
   * packages whose effect is not in the image
   */
  readonly notes?: readonly string[];
}

/** MAX_WHY_DEPTH bounds the chain (reasons form a DAG; a cycle is cut by the visited set anyway). */
const MAX_WHY_DEPTH = 32;

/**
 * explainFromRecord builds the reason tree of `path`, following the image's own symlinks when the path
 * is reached through them (`/lib64/ld-linux-x86-64.so.2` via `/lib64 -> usr/lib64`). Throws
 * FILE_NOT_FOUND when the image has no such path.
 */
export async function explainFromRecord(record: BuildRecord, path: string): Promise<Explanation> {
  const byPath = new Map(record.files.map((f) => [f.path, f] as const));
  let want = normalizeImagePath(path);
  let via: { path: string; target: string }[] = [];
  if (!byPath.has(want)) {
    const r = await resolvePath(recordFs(record), want);
    if (r.stat && byPath.has(r.path)) {
      via = [...r.links];
      want = r.path;
    }
  }
  if (!byPath.has(want)) {
    const near = record.files
      .map((f) => f.path)
      .filter((p) => p.endsWith(`/${want.split('/').pop()}`))
      .slice(0, 5);
    throw new FromscratchError('FILE_NOT_FOUND', `${want} is not in the image`, {
      hint:
        near.length > 0
          ? `did you mean ${near.join(', ')}?`
          : 'list the files with `fromscratch inspect IMAGE`',
    });
  }
  const e0 = explainer(byPath)(want);
  const pkgs = new Set(
    (byPath.get(want)?.origins ?? []).flatMap((o) => (o.kind === 'package' ? [o.name] : [])),
  );
  const notes = record.warnings.filter((w) => {
    const m = /^package ([^:\s]+): its postinst /.exec(w);
    return m !== null && pkgs.has(m[1]!);
  });
  const e = notes.length > 0 ? { ...e0, notes } : e0;
  return via.length > 0 ? { ...e, via } : e;
}

/** explainer returns a function that builds the reason tree of a path of the record (no symlinks followed). */
function explainer(byPath: ReadonlyMap<string, BuildRecord['files'][number]>): (path: string) => Explanation {
  return (want) => {
    // each file's reasons are expanded once; later mentions point back, so a library needed by fifty
    // others does not print fifty copies of the same chain (the reasons form a DAG, not a tree)
    const expanded = new Set<string>();
    const explain = (p: string, depth: number): Explanation => {
      expanded.add(p);
      const origins = byPath.get(p)?.origins ?? [];
      return {
        path: p,
        reasons: origins.map((origin) => {
          const next = nextPath(origin);
          if (!next || !byPath.has(next) || depth >= MAX_WHY_DEPTH)
            return { origin, text: describeOrigin(origin) };
          if (expanded.has(next)) return { origin, text: `${describeOrigin(origin)} (see above)` };
          return { origin, text: describeOrigin(origin), because: explain(next, depth + 1) };
        }),
      };
    };
    return explain(want, 0);
  };
}

/**
 * explainEveryFile returns the `why` text of every file of a record (one map of the paths for all,
 * so a record of n files costs n chains, not n² lookups).
 */
export function explainEveryFile(record: Pick<BuildRecord, 'files'>): Map<string, string> {
  const byPath = new Map(record.files.map((f) => [f.path, f] as const));
  const explain = explainer(byPath);
  const out = new Map<string, string>();
  for (const f of record.files) if (f.type === 'file') out.set(f.path, formatExplanation(explain(f.path)));
  return out;
}

function nextPath(o: Origin): string | undefined {
  switch (o.kind) {
    case 'needed':
    case 'interpreter':
    case 'shebang':
    case 'inferred':
      return o.by;
    case 'path':
      return o.to;
    default:
      return undefined;
  }
}

/** formatExplanation renders the reason tree as indented text. */
export function formatExplanation(e: Explanation): string {
  const lines: string[] = [];
  for (const l of e.via ?? []) lines.push(`${l.path} -> ${l.target}`);
  lines.push(e.path);
  const walk = (x: Explanation, indent: string) => {
    x.reasons.forEach((r, i) => {
      const last = i === x.reasons.length - 1;
      lines.push(`${indent}${last ? '└─ ' : '├─ '}${r.text}`);
      if (r.because) walk(r.because, `${indent}${last ? '   ' : '│  '}`);
    });
  };
  walk(e, '');
  for (const n of e.notes ?? []) lines.push(`note: ${n}`);
  return `${lines.join('\n')}\n`;
}
