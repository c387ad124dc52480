/**
 * patterns.ts — `.dockerignore` patterns and COPY source globs, with Docker's semantics. PURE.
 *
 * `.dockerignore` follows moby/patternmatcher: one pattern a line, `#` comments, `!` exceptions, the last
 * matching pattern wins, `**` matches any number of directories, a pattern that matches a directory
 * matches everything below it, patterns are `filepath.Clean`ed and a leading `/` is dropped.
 * COPY sources follow Go's `filepath.Match`: `*` and `?` never match `/`, `[...]` classes, `\` escapes.
 */
import { FromscratchError } from '../errors.ts';

/** MAX_PATTERNS bounds a .dockerignore (or --exclude list). */
export const MAX_PATTERNS = 10_000;

/** IgnorePattern is one compiled .dockerignore line. */
export interface IgnorePattern {
  /** the cleaned pattern as written (without `!`) */
  readonly pattern: string;
  /** a `!` line: re-includes what earlier lines excluded */
  readonly exclusion: boolean;
  readonly re: RegExp;
}

/** parseDockerignore reads .dockerignore text into cleaned patterns (`!` kept as a prefix), as Docker's ReadAll. */
export function parseDockerignore(text: string): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\ufeff/, '').split(/\r?\n/);
  for (const raw of lines) {
    if (raw.startsWith('#')) continue;
    let p = raw.trim();
    if (p === '') continue;
    const invert = p.startsWith('!');
    if (invert) p = p.slice(1).trim();
    if (p.length > 0) {
      p = goClean(p);
      if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
    }
    out.push(invert ? `!${p}` : p);
    if (out.length > MAX_PATTERNS) {
      throw new FromscratchError('TOO_LARGE', `.dockerignore has more than ${MAX_PATTERNS} patterns`);
    }
  }
  return out;
}

/** goClean is Go's path.Clean: `.` and `..` resolved lexically, duplicate and trailing slashes removed. */
export function goClean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
    } else out.push(part);
  }
  const s = out.join('/');
  return rooted ? `/${s}` : s || '.';
}

/** compileIgnore compiles patterns (as parseDockerignore returns them). Throws INVALID_ARGUMENT on a bad pattern. */
export function compileIgnore(patterns: readonly string[]): IgnorePattern[] {
  if (patterns.length > MAX_PATTERNS)
    throw new FromscratchError('TOO_LARGE', `more than ${MAX_PATTERNS} ignore patterns`);
  return patterns.map((raw) => {
    const exclusion = raw.startsWith('!');
    let pattern = exclusion ? raw.slice(1) : raw;
    if (pattern !== '') pattern = goClean(pattern);
    return { pattern, exclusion, re: ignoreRegExp(pattern) };
  });
}

function ignoreRegExp(pattern: string): RegExp {
  let re = '^';
  const chars = Array.from(pattern);
  let inClass = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (inClass && ch !== ']' && ch !== '\\') {
      // inside [...] characters keep their class meaning (ranges, ^ negation)
      re += ch === '[' ? '\\[' : ch;
      continue;
    }
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i += 1;
        if (chars[i + 1] === '/') i += 1; // `**/` is `**`
        if (i + 1 >= chars.length) re += '.*';
        else re += '(.*/)?';
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if ('.+()|{}$^'.includes(ch)) re += `\\${ch}`;
    else if (ch === '\\') {
      if (i + 1 < chars.length) {
        i += 1;
        re += escapeRe(chars[i]!);
      } else re += '\\\\';
    } else if (ch === '[' || ch === ']') {
      inClass = ch === '[';
      re += ch;
    } else re += escapeRe(ch);
  }
  re += '$';
  try {
    return new RegExp(re, 'su');
  } catch (e) {
    throw new FromscratchError('INVALID_ARGUMENT', `bad ignore pattern ${JSON.stringify(pattern)}`, {
      cause: e,
    });
  }
}

function escapeRe(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}

/**
 * isIgnored tells whether a context-relative path (`a/b/c`, no leading `/`) is excluded: the last
 * pattern matching the path or one of its parent directories decides (moby MatchesOrParentMatches).
 */
export function isIgnored(patterns: readonly IgnorePattern[], relPath: string): boolean {
  let matched = false;
  const dirs = relPath.split('/');
  dirs.pop();
  for (const p of patterns) {
    if (p.exclusion !== matched) continue;
    let match = p.re.test(relPath);
    if (!match && dirs.length) {
      for (let i = 1; i <= dirs.length && !match; i++) match = p.re.test(dirs.slice(0, i).join('/'));
    }
    if (match) matched = !p.exclusion;
  }
  return matched;
}

/** hasGlobMeta tells whether a path component uses filepath.Match syntax (`*`, `?`, `[`, `\`). */
export function hasGlobMeta(s: string): boolean {
  return /[*?[\\]/.test(s);
}

/**
 * globComponentRegExp compiles one path component of a COPY source for Go's filepath.Match.
 * Throws INVALID_ARGUMENT for a malformed class (Go's ErrBadPattern).
 */
export function globComponentRegExp(pattern: string): RegExp {
  let re = '^';
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '\\') {
      if (i + 1 >= chars.length) throw badPattern(pattern);
      re += escapeRe(chars[++i]!);
    } else if (ch === '[') {
      let j = i + 1;
      let cls = '';
      if (chars[j] === '^') {
        cls += '^';
        j += 1;
      }
      let n = 0;
      for (; j < chars.length && (chars[j] !== ']' || n === 0); j++, n++) {
        let c = chars[j]!;
        if (c === '\\') {
          j += 1;
          if (j >= chars.length) throw badPattern(pattern);
          c = chars[j]!;
        }
        if (c === '/') throw badPattern(pattern);
        if (chars[j + 1] === '-' && chars[j + 2] !== undefined && chars[j + 2] !== ']') {
          let hi = chars[j + 2]!;
          let skip = 2;
          if (hi === '\\') {
            hi = chars[j + 3] ?? '';
            skip = 3;
            if (!hi) throw badPattern(pattern);
          }
          if (hi < c) throw badPattern(pattern);
          cls += `${escapeRe(c)}-${escapeRe(hi)}`;
          j += skip;
          n += skip;
        } else cls += escapeRe(c);
      }
      if (j >= chars.length || n === 0) throw badPattern(pattern);
      re += `[${cls}]`;
      i = j;
    } else re += escapeRe(ch);
  }
  return new RegExp(`${re}$`, 'su');
}

function badPattern(p: string): FromscratchError {
  return new FromscratchError('INVALID_ARGUMENT', `syntax error in pattern ${JSON.stringify(p)}`, {
    hint: 'COPY sources use Go filepath.Match syntax: *, ?, [a-z], and \\ to escape',
  });
}

/** unescapeGlob removes filepath.Match escapes from a component without meta characters. */
export function unescapeGlob(s: string): string {
  return s.replace(/\\(.)/gsu, '$1');
}
