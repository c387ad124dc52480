/**
 * deps-format.ts — `fromscratch deps` output: an lddtree-like tree for humans and a stable JSON shape
 * for `--json`. PURE.
 */
import { describeOrigin, inferenceRule, type Origin } from '../fs/origin.ts';
import type { ClosureResult } from './closure.ts';

/** FormatDepsOptions configures formatDepsTree. */
export interface FormatDepsOptions {
  /** list every inferred file (default false: a rule adding more than SUMMARY_MIN_FILES files is one line) */
  readonly verbose?: boolean;
}

/** SUMMARY_MIN_FILES: an inference rule adding more files than this is summarised in one line. */
export const SUMMARY_MIN_FILES = 10;

/** RULE_LABEL names what each inference rule brings, for the summary line. */
const RULE_LABEL: Readonly<Record<string, string>> = {
  gconv: 'gconv modules',
  nss: 'NSS modules',
  'ca-certificates': 'CA certificates',
  libgcc: 'libgcc_s',
  java: 'Java runtime',
  python: 'Python standard library',
  locale: 'locale data',
  'dlopen-notes': '.note.dlopen libraries',
};

/** formatMegabytes renders bytes in MB (powers of 1000, one decimal), as the summary lines show them. */
function formatMegabytes(n: number): string {
  return n >= 100_000 ? `${(n / 1_000_000).toFixed(1)} MB` : `${(n / 1000).toFixed(1)} kB`;
}

/**
 * formatDepsTree renders a closure as an indented tree, one program at a time:
 *
 * ```
 * /usr/bin/curl (interpreter => /lib64/ld-linux-x86-64.so.2)
 *     libcurl.so.4 => /lib/x86_64-linux-gnu/libcurl.so.4 [ld.so.cache]
 *         libnghttp2.so.14 => /lib/x86_64-linux-gnu/libnghttp2.so.14 [ld.so.cache]
 *     libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 [ld.so.cache]
 *     libfoo.so.1 => not found
 * inferred:
 *     /etc/nsswitch.conf: inferred for /usr/bin/curl: imports getaddrinfo: …
 *     gconv modules: 261 files, 8.1 MB (--no-infer=gconv to leave out, --verbose to list)
 * ```
 * A library already shown for a program is not expanded again. Ends with a newline.
 */
export function formatDepsTree(result: ClosureResult, opts: FormatDepsOptions = {}): string {
  const lines: string[] = [];
  for (const root of result.roots) {
    if (root.kind === 'script') {
      lines.push(
        `${root.path} (script: #!${root.interpreter ?? '?'}${root.command ? ` => ${root.command}` : ''})`,
      );
      continue;
    }
    const head = root.interpreter
      ? ` (interpreter => ${root.interpreter})`
      : root.kind === 'static'
        ? ' (static)'
        : '';
    lines.push(`${root.path}${head}`);
    const shown = new Set<string>([root.real]);
    const walk = (real: string, depth: number) => {
      const obj = result.objects.get(real);
      if (!obj || depth > 64) return;
      for (const n of obj.needed) {
        const pad = '    '.repeat(depth);
        if (!n.real) {
          lines.push(`${pad}${n.name} => not found`);
          continue;
        }
        if (n.via === 'interpreter' || n.via === 'musl loader (libc)') {
          lines.push(`${pad}${n.name} => ${n.path} [${n.via}]`);
          continue;
        }
        const again = shown.has(n.real);
        lines.push(`${pad}${n.name} => ${n.path} [${n.via}]`);
        if (!again) {
          shown.add(n.real);
          walk(n.real, depth + 1);
        }
      }
    };
    walk(root.real, 1);
  }
  const inferred: { path: string; size: number; text: string; rule?: string }[] = [];
  for (const f of result.files.values()) {
    const o = f.origins.find((x) => x.kind === 'inferred');
    if (o && o.kind === 'inferred' && f.kind !== 'symlink') {
      const rule = inferenceRule(o.reason);
      inferred.push({
        path: f.path,
        size: f.kind === 'file' ? f.stat.size : 0,
        text: `    ${f.path}: ${describeOrigin(o)}`,
        ...(rule ? { rule } : {}),
      });
    }
  }
  if (inferred.length > 0) {
    lines.push('inferred:');
    // a rule that adds many files (gconv: ~260) is one line with its count and size, unless verbose
    const perRule = new Map<string, typeof inferred>();
    for (const i of inferred) if (i.rule) perRule.set(i.rule, [...(perRule.get(i.rule) ?? []), i]);
    const summarised = new Set<string>();
    for (const i of inferred) {
      const group = i.rule ? perRule.get(i.rule) : undefined;
      if (!opts.verbose && i.rule && group && group.length > SUMMARY_MIN_FILES) {
        if (summarised.has(i.rule)) continue;
        summarised.add(i.rule);
        const bytes = group.reduce((n, g) => n + g.size, 0);
        lines.push(
          `    ${RULE_LABEL[i.rule] ?? i.rule}: ${group.length} files, ${formatMegabytes(bytes)} (--no-infer=${i.rule} to leave out, --verbose to list)`,
        );
        continue;
      }
      lines.push(i.text);
    }
  }
  if (result.unresolved.length > 0) {
    lines.push('not found:');
    for (const u of result.unresolved)
      lines.push(`    ${u.soname} needed by ${u.neededBy} (searched ${u.searched.join(', ') || 'nothing'})`);
  }
  for (const w of result.warnings) lines.push(`warning: ${w}`);
  return `${lines.join('\n')}\n`;
}

/** DepsJson is the `fromscratch deps --json` document (version 1). Keys and order are stable. */
export interface DepsJson {
  readonly version: 1;
  readonly root: string;
  readonly programs: readonly {
    readonly path: string;
    readonly real: string;
    readonly kind: string;
    readonly interpreter?: string;
    readonly command?: string;
    readonly loader?: string;
    readonly machine?: string;
  }[];
  readonly objects: readonly {
    readonly real: string;
    readonly path: string;
    readonly soname?: string;
    readonly machine: string;
    readonly class: number;
    readonly needed: readonly {
      readonly name: string;
      readonly path?: string;
      readonly real?: string;
      readonly via?: string;
    }[];
    readonly variants: readonly string[];
  }[];
  readonly files: readonly {
    readonly path: string;
    readonly kind: string;
    readonly target?: string;
    readonly mode: number;
    readonly size: number;
    readonly origins: readonly Origin[];
  }[];
  readonly unresolved: readonly {
    readonly soname: string;
    readonly neededBy: string;
    readonly searched: readonly string[];
    readonly inferred?: boolean;
  }[];
  readonly warnings: readonly string[];
}

/** toDepsJson returns the JSON document of a closure (objects sorted by real path, files by path). */
export function toDepsJson(result: ClosureResult): DepsJson {
  return {
    version: 1,
    root: result.root,
    programs: result.roots.map((r) => ({ ...r })),
    objects: [...result.objects.values()]
      .sort((a, b) => (a.real < b.real ? -1 : a.real > b.real ? 1 : 0))
      .map((o) => ({ ...o, needed: o.needed.map((n) => ({ ...n })), variants: [...o.variants] })),
    files: [...result.files.values()].map((f) => ({
      path: f.path,
      kind: f.kind,
      ...(f.target !== undefined ? { target: f.target } : {}),
      mode: f.stat.mode,
      size: f.stat.size,
      origins: f.origins,
    })),
    unresolved: result.unresolved.map((u) => ({ ...u })),
    warnings: result.warnings,
  };
}
