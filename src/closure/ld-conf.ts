/**
 * ld-conf.ts — `/etc/ld.so.conf` with its `include` globs, read inside a root. PURE over RootFs.
 *
 * Syntax as glibc's ldconfig (elf/ldconfig.c parse_conf) reads it: `#` starts a comment; a line
 * `include PATTERN...` reads every file matching each glob (sorted, relative patterns are relative to
 * the including file's directory); `hwcap …` lines are obsolete and ignored; any other line is one
 * directory (a `=TYPE` suffix from old ldconfig is dropped, trailing slashes too).
 * Bounded: at most {@link MAX_CONF_FILES} files, {@link MAX_INCLUDE_DEPTH} nested includes, 1 MiB each;
 * an include loop is cut (each file is read once).
 */

import { isFromscratchError } from '../errors.ts';
import { normalizeImagePath, parentPath } from '../fs/path.ts';
import { type Resolved, resolvePath } from '../fs/resolve.ts';
import type { RootFs } from '../fs/root-fs.ts';

/** MAX_CONF_FILES bounds how many configuration files one ld.so.conf may pull in. */
export const MAX_CONF_FILES = 1024;
/** MAX_INCLUDE_DEPTH bounds include nesting. */
export const MAX_INCLUDE_DEPTH = 16;
const MAX_CONF_BYTES = 1024 * 1024;

/** LdConfLine is one meaningful line of an ld.so.conf file. */
export type LdConfLine =
  | { readonly kind: 'dir'; readonly dir: string }
  | { readonly kind: 'include'; readonly pattern: string };

/** parseLdSoConf parses the text of one ld.so.conf file into directories and include patterns, in order. */
export function parseLdSoConf(text: string): LdConfLine[] {
  const out: LdConfLine[] = [];
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (line === '') continue;
    if (/^include[ \t]/.test(line)) {
      for (const p of line.slice(8).split(/[ \t]+/)) if (p !== '') out.push({ kind: 'include', pattern: p });
      continue;
    }
    if (/^hwcap[ \t]/i.test(line)) continue; // obsolete, ignored by ldconfig since 2.37 and by us
    let dir = line;
    const eq = dir.indexOf('=');
    if (eq >= 0) dir = dir.slice(0, eq).trim();
    dir = dir.replace(/\/+$/, '');
    if (dir === '') dir = '/';
    out.push({ kind: 'dir', dir });
  }
  return out;
}

/** LdSoConf is the result of reading ld.so.conf and its includes. */
export interface LdSoConf {
  /** directories in file order, duplicates removed (first wins), as ldconfig scans them */
  readonly dirs: readonly string[];
  /** files read, in order */
  readonly files: readonly string[];
  /** problems that did not stop reading (unreadable include, too many files) */
  readonly warnings: readonly string[];
}

/** globToRegExp converts one glob path component (`*`, `?`, `[...]`) to an anchored RegExp. */
export function globToRegExp(component: string): RegExp {
  let re = '^';
  for (let i = 0; i < component.length; i++) {
    const c = component[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = component.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let set = component.slice(i + 1, end);
        if (set.startsWith('!')) set = `^${set.slice(1)}`;
        re += `[${set.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`${re}$`);
}

/** resolveOrNothing resolves a path, undefined when the root makes it loop or overflow. */
async function resolveOrNothing(fs: RootFs, path: string): Promise<Resolved | undefined> {
  try {
    return await resolvePath(fs, path);
  } catch (e) {
    if (isFromscratchError(e)) return undefined;
    throw e;
  }
}

/** expandGlob lists the paths inside the root matching an absolute glob, sorted (glob(3) order), not following into non-directories. */
export async function expandGlob(fs: RootFs, pattern: string): Promise<string[]> {
  const parts = normalizeImagePath(pattern).split('/').filter(Boolean);
  let cur = ['/'];
  for (const part of parts) {
    const next: string[] = [];
    const wild = /[*?[]/.test(part);
    for (const base of cur) {
      const join = base === '/' ? `/${part}` : `${base}/${part}`;
      if (!wild) {
        next.push(join);
        continue;
      }
      const dir = await resolveOrNothing(fs, base);
      if (dir?.stat?.type !== 'dir') continue;
      const re = globToRegExp(part);
      const names = (await fs.readdir(dir.path)).filter(
        (n) => re.test(n) && !(n.startsWith('.') && !part.startsWith('.')),
      );
      names.sort();
      for (const n of names) next.push(base === '/' ? `/${n}` : `${base}/${n}`);
      if (next.length > MAX_CONF_FILES) break;
    }
    cur = next;
  }
  const out: string[] = [];
  for (const p of cur) {
    const r = await resolveOrNothing(fs, p);
    if (r?.stat) out.push(p);
  }
  return out;
}

/**
 * readLdSoConf reads `path` (default `/etc/ld.so.conf`) inside the root and every file it includes.
 * A missing ld.so.conf gives no directories and no warning.
 */
export async function readLdSoConf(fs: RootFs, path = '/etc/ld.so.conf'): Promise<LdSoConf> {
  const dirs: string[] = [];
  const seenDirs = new Set<string>();
  const files: string[] = [];
  const seenFiles = new Set<string>();
  const warnings: string[] = [];

  async function readOne(file: string, depth: number): Promise<void> {
    if (depth > MAX_INCLUDE_DEPTH) {
      warnings.push(`${file}: include nesting deeper than ${MAX_INCLUDE_DEPTH}, ignored`);
      return;
    }
    if (files.length >= MAX_CONF_FILES) {
      warnings.push(`more than ${MAX_CONF_FILES} ld.so.conf files, ${file} ignored`);
      return;
    }
    const r = await resolveOrNothing(fs, file);
    if (r?.stat?.type !== 'file' || seenFiles.has(r.path)) return;
    seenFiles.add(r.path);
    files.push(file);
    let text: string;
    try {
      text = Buffer.from(await fs.read(r.path, { limit: MAX_CONF_BYTES })).toString('utf8');
    } catch (e) {
      warnings.push(`${file}: cannot be read (${(e as Error).message})`);
      return;
    }
    for (const line of parseLdSoConf(text)) {
      if (line.kind === 'dir') {
        const d = normalizeImagePath(line.dir);
        if (!seenDirs.has(d)) {
          seenDirs.add(d);
          dirs.push(d);
        }
      } else {
        const pat = line.pattern.startsWith('/')
          ? line.pattern
          : `${parentPath(normalizeImagePath(file))}/${line.pattern}`;
        for (const f of await expandGlob(fs, pat)) await readOne(f, depth + 1);
      }
    }
  }
  await readOne(path, 0);
  return { dirs, files, warnings };
}
