/**
 * why.ts — the chain of reasons a path is in an image, from its BuildRecord. PURE.
 */
import { FromscratchError } from '../errors.ts';
import { describeOrigin, type Origin } from '../fs/origin.ts';
import { normalizeImagePath } from '../fs/path.ts';
import type { BuildRecord } from './record.ts';

/** Explanation is a path, its reasons, and for each reason that names another file, why that file is there. */
export interface Explanation {
  readonly path: string;
  readonly reasons: readonly { readonly origin: Origin; readonly text: string; readonly because?: Explanation }[];
}

/** MAX_WHY_DEPTH bounds the chain (reasons form a DAG; a cycle is cut by the visited set anyway). */
const MAX_WHY_DEPTH = 32;

/** explainFromRecord builds the reason tree of `path`. Throws FILE_NOT_FOUND when the image has no such path. */
export function explainFromRecord(record: BuildRecord, path: string): Explanation {
  const byPath = new Map(record.files.map((f) => [f.path, f] as const));
  const want = normalizeImagePath(path);
  if (!byPath.has(want)) {
    const near = record.files.map((f) => f.path).filter((p) => p.endsWith(`/${want.split('/').pop()}`)).slice(0, 5);
    throw new FromscratchError('FILE_NOT_FOUND', `${want} is not in the image`, {
      hint: near.length > 0 ? `did you mean ${near.join(', ')}?` : 'list the files with `fromscratch inspect IMAGE`',
    });
  }
  const explain = (p: string, seen: Set<string>, depth: number): Explanation => {
    const f = byPath.get(p);
    const origins = f?.origins ?? [];
    return {
      path: p,
      reasons: origins.map((origin) => {
        const next = nextPath(origin);
        const because = next && depth < MAX_WHY_DEPTH && !seen.has(next) && byPath.has(next) ? explain(next, new Set([...seen, next]), depth + 1) : undefined;
        return { origin, text: describeOrigin(origin), ...(because ? { because } : {}) };
      }),
    };
  };
  return explain(want, new Set([want]), 0);
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
  const lines: string[] = [e.path];
  const walk = (x: Explanation, indent: string) => {
    x.reasons.forEach((r, i) => {
      const last = i === x.reasons.length - 1;
      lines.push(`${indent}${last ? '└─ ' : '├─ '}${r.text}`);
      if (r.because) walk(r.because, `${indent}${last ? '   ' : '│  '}`);
    });
  };
  walk(e, '');
  return `${lines.join('\n')}\n`;
}
