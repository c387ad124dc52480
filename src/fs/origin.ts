/**
 * origin.ts — why a file is in an image. PURE. `why`, the SBOM and the size report are views of these.
 */

/** Origin is one reason a path is in the image; a path may have several. */
export type Origin =
  /** the user named it: --binary, --add, COPY, a spec entry */
  | { readonly kind: 'requested'; readonly via: string; readonly source?: string }
  /** a DT_NEEDED library of `by`, found through `via` (RUNPATH dir, ld.so.cache, default dir …) */
  | { readonly kind: 'needed'; readonly by: string; readonly soname: string; readonly via: string }
  /** the PT_INTERP program interpreter of `by` */
  | { readonly kind: 'interpreter'; readonly by: string }
  /** the `#!` interpreter of script `by` */
  | { readonly kind: 'shebang'; readonly by: string; readonly line: string }
  /** a symlink or directory on the way to `to` */
  | { readonly kind: 'path'; readonly to: string }
  /** inferred from an imported symbol or a note of `by`: NSS, gconv, CA bundle, libgcc_s, dlopen note */
  | { readonly kind: 'inferred'; readonly by: string; readonly reason: string }
  /**
   * opened, executed or stat'ed while tracing a command; `wrote`: a directory the command wrote into
   * (kept empty), or a file it only wrote (created empty)
   */
  | {
      readonly kind: 'traced';
      readonly command: string;
      readonly pid?: number;
      readonly syscall?: string;
      readonly wrote?: 'dir' | 'file';
    }
  /** shipped by a Debian package */
  | {
      readonly kind: 'package';
      readonly name: string;
      readonly version: string;
      readonly architecture: string;
    }
  /** a default a scratch image needs (/etc/passwd, /tmp …) */
  | { readonly kind: 'default'; readonly what: string }
  /** added by --verify --fix after a failed run */
  | { readonly kind: 'fix'; readonly command: string }
  /** inherited from the base image */
  | { readonly kind: 'base'; readonly image: string }
  /** an added file kept as plain data on purpose (an ELF file that is no program of the image: src/elf/elf-role.ts) */
  | { readonly kind: 'data'; readonly reason: string };

/** describeOrigin renders one origin for humans (`why`). */
export function describeOrigin(o: Origin): string {
  switch (o.kind) {
    case 'requested':
      return `requested with ${o.via}${o.source ? ` (from ${o.source})` : ''}`;
    case 'needed':
      return `library ${o.soname} needed by ${o.by}, found via ${o.via}`;
    case 'interpreter':
      return `program interpreter (PT_INTERP) of ${o.by}`;
    case 'shebang':
      return `interpreter of script ${o.by} (${o.line})`;
    case 'path':
      return `on the path to ${o.to}`;
    case 'inferred':
      return `inferred for ${o.by}: ${o.reason}`;
    case 'traced':
      if (o.wrote === 'dir') return `directory the traced command wrote into (\`${o.command}\`)`;
      if (o.wrote === 'file') return `file the traced command only wrote: created empty (\`${o.command}\`)`;
      return `used by \`${o.command}\`${o.pid !== undefined ? ` (pid ${o.pid}${o.syscall ? `, ${o.syscall}` : ''})` : ''}`;
    case 'package':
      return `from Debian package ${o.name} ${o.version} (${o.architecture})`;
    case 'default':
      return `scratch default: ${o.what}`;
    case 'fix':
      return `added by --verify --fix for \`${o.command}\``;
    case 'base':
      return `from base image ${o.image}`;
    case 'data':
      return o.reason;
  }
}

/**
 * inferenceRule names the inference rule an `inferred` reason comes from, with the names `--no-infer`
 * takes (`gconv`, `nss`, `ca-certificates`, `libgcc`, `java`, `python`, `locale`, `dlopen-notes`), or
 * undefined when the reason matches none. Read from the reason text, so records written before the
 * names existed are understood too.
 */
export function inferenceRule(reason: string): string | undefined {
  if (/^Java runtime/.test(reason)) return 'java';
  if (/^Python runtime/.test(reason)) return 'python';
  if (/gconv/.test(reason)) return 'gconv';
  if (/name service|nsswitch|libnss_/.test(reason)) return 'nss';
  if (/CA certificates|TLS library|libnssckbi/.test(reason)) return 'ca-certificates';
  if (/libgcc_s/.test(reason)) return 'libgcc';
  if (/locale/i.test(reason)) return 'locale';
  if (/dlopen/.test(reason)) return 'dlopen-notes';
  return undefined;
}
