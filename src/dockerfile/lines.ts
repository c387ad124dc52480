/**
 * lines.ts — Dockerfile text → raw instructions (directives, continuations, comments, flags, heredocs). PURE.
 *
 * Follows BuildKit's `frontend/dockerfile/parser/parser.go` line by line, because the details decide
 * what an instruction means: parser directives only at the very top (`# syntax`, `# escape`, `# check`),
 * a line ending in the escape character (optionally followed by blanks) continues, comment lines and
 * empty lines inside a continuation are dropped, continuation lines are NOT left-trimmed, `--flags` are
 * split off the front, and RUN/COPY/ADD lines holding `<<WORD` read here-documents from the following
 * lines. Sizes are checked before any work so hostile input costs bounded time and memory
 * (RELIABILITY.md F9).
 */
import { FromscratchError } from '../errors.ts';

/** MAX_DOCKERFILE_BYTES bounds a Dockerfile (real ones are a few KiB; BuildKit has no limit). */
export const MAX_DOCKERFILE_BYTES = 1024 * 1024;
/** MAX_INSTRUCTION_LINES bounds the physical lines of one instruction (continuations + heredocs). */
export const MAX_INSTRUCTION_LINES = 20_000;
/** MAX_INSTRUCTIONS bounds the instructions of one Dockerfile. */
export const MAX_INSTRUCTIONS = 10_000;

/** Directives holds the parser directives found at the top of a Dockerfile. */
export interface Directives {
  /** `# syntax=` value (recorded; fromscratch has one built-in frontend) */
  readonly syntax?: string;
  /** `# escape=` value: `\` (default) or `` ` `` */
  readonly escape: string;
  /** `# check=` value (recorded) */
  readonly check?: string;
}

/** RawFlag is one `--name[=value]` in front of an instruction's arguments, quotes removed. */
export interface RawFlag {
  readonly name: string;
  /** undefined for a bare `--name` */
  readonly value?: string;
}

/** RawHeredoc is one here-document of a RUN/COPY/ADD line. */
export interface RawHeredoc {
  /** the delimiter word, quotes removed */
  readonly name: string;
  /** false when the delimiter was quoted (`<<"EOF"`): no variable expansion of the body */
  readonly expand: boolean;
  /** `<<-`: leading tabs are stripped from body lines */
  readonly chomp: boolean;
  /** the body, every line ending in `\n` */
  readonly content: string;
}

/** RawInstruction is one instruction as written, before its arguments are interpreted. */
export interface RawInstruction {
  /** keyword upper-cased (`COPY`), as Docker matches keywords case-insensitively */
  readonly keyword: string;
  /** 1-based line of the keyword */
  readonly line: number;
  /** 1-based last line (continuations and heredocs included) */
  readonly endLine: number;
  readonly flags: readonly RawFlag[];
  /** the arguments after the flags, continuations joined, left- and right-trimmed */
  readonly args: string;
  /** the whole logical line after the keyword, flags included (ONBUILD re-parses it, history shows it) */
  readonly rest: string;
  readonly heredocs: readonly RawHeredoc[];
  /** the comment lines right above the instruction (no blank line between), `#` and blanks trimmed */
  readonly comments: readonly string[];
}

/** LinesResult is the outcome of splitting a Dockerfile: directives, instructions and every syntax problem. */
export interface LinesResult {
  readonly directives: Directives;
  readonly instructions: readonly RawInstruction[];
  /** syntax problems with their 1-based line; splitting goes on after each so all are reported at once */
  readonly problems: readonly { readonly line: number; readonly message: string }[];
}

const HEREDOC_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);
const DIRECTIVE_RE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const KNOWN_DIRECTIVES = new Set(['syntax', 'escape', 'check']);

/**
 * splitDockerfileLines splits Dockerfile text into raw instructions. It throws DOCKERFILE_SYNTAX only for
 * input it cannot look at safely (over the size cap, NUL bytes, a bad `# escape=`); every other problem
 * is collected in `problems`.
 */
export function splitDockerfileLines(text: string, file = 'Dockerfile'): LinesResult {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_DOCKERFILE_BYTES) {
    throw new FromscratchError(
      'DOCKERFILE_SYNTAX',
      `${file}: is ${bytes} bytes, over the ${MAX_DOCKERFILE_BYTES}-byte limit for a Dockerfile`,
      {
        hint: 'a Dockerfile is a short text file; check that -f names the right file',
      },
    );
  }
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    const line = countLines(text, nul);
    throw new FromscratchError('DOCKERFILE_SYNTAX', `${file}:${line}: contains a NUL byte`, {
      hint: 'a Dockerfile is text; check that -f names the right file',
    });
  }
  if (text.startsWith('\ufeff')) text = text.slice(1);
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();

  // parser directives: only the leading `# key=value` lines, stopping at the first other line
  let escapeChar = '\\';
  let syntax: string | undefined;
  let check: string | undefined;
  const seen = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const m = DIRECTIVE_RE.exec(lines[i]!);
    if (!m) break;
    const key = m[1]!.toLowerCase();
    if (!KNOWN_DIRECTIVES.has(key)) break;
    if (seen.has(key)) {
      throw new FromscratchError(
        'DOCKERFILE_SYNTAX',
        `${file}:${i + 1}: only one ${key} parser directive can be used`,
      );
    }
    seen.add(key);
    const value = m[2]!;
    if (key === 'escape') {
      if (value !== '\\' && value !== '`') {
        throw new FromscratchError(
          'DOCKERFILE_SYNTAX',
          `${file}:${i + 1}: invalid escape token ${JSON.stringify(value)}: must be \` or \\`,
          {
            hint: 'write `# escape=\\` (the default) or `# escape=`` on the first line',
          },
        );
      }
      escapeChar = value;
    } else if (key === 'syntax') syntax = value;
    else check = value;
  }

  const problems: { line: number; message: string }[] = [];
  const instructions: RawInstruction[] = [];
  const escRe = escapeChar === '\\' ? /\\[ \t]*$/ : /`[ \t]*$/;
  const isComment = (l: string) => /^[ \t]*#/.test(l);
  const isBlank = (l: string) => /^\s*$/.test(l);
  let i = 0;
  let comments: string[] = [];
  while (i < lines.length) {
    const first = lines[i]!;
    const start = i;
    i += 1;
    if (isComment(first)) {
      comments.push(first.replace(/^[ \t]*#/, '').trim());
      continue;
    }
    if (isBlank(first)) {
      comments = [];
      continue;
    }
    let cont = escRe.test(first);
    const parts = [cont ? first.replace(escRe, '') : first];
    parts[0] = parts[0]!.replace(/^\s+/, '');
    while (cont && i < lines.length) {
      if (i - start > MAX_INSTRUCTION_LINES) break;
      const l = lines[i]!;
      i += 1;
      if (isComment(l)) continue;
      if (isBlank(l)) continue; // BuildKit warns about empty continuation lines but accepts them
      cont = escRe.test(l);
      parts.push(cont ? l.replace(escRe, '') : l);
    }
    if (i - start > MAX_INSTRUCTION_LINES) {
      problems.push({
        line: start + 1,
        message: `instruction spans more than ${MAX_INSTRUCTION_LINES} lines`,
      });
      // skip the rest of this runaway continuation
      while (i < lines.length && escRe.test(lines[i]!)) i += 1;
      continue;
    }
    const logical = parts.join('');
    if (logical.trim() === '') continue; // a lone escape character (`\` then EOF) is an empty line
    const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(logical.trim())!;
    const keyword = m[1]!.toUpperCase();
    const rest = m[2] ?? '';
    const { flags, args } = extractFlags(rest);
    const heredocs: RawHeredoc[] = [];
    if (HEREDOC_KEYWORDS.has(keyword) && args.includes('<<')) {
      for (const h of heredocMarkers(args)) {
        let content = '';
        let terminated = false;
        while (i < lines.length) {
          const l = lines[i]!;
          i += 1;
          const cand = h.chomp ? l.replace(/^\t+/, '') : l;
          if (cand === h.name) {
            terminated = true;
            break;
          }
          content += `${l}\n`;
          if (i - start > MAX_INSTRUCTION_LINES) break;
        }
        if (!terminated) {
          problems.push({
            line: start + 1,
            message:
              i - start > MAX_INSTRUCTION_LINES
                ? `here-document <<${h.name} spans more than ${MAX_INSTRUCTION_LINES} lines`
                : `unterminated here-document <<${h.name}: no line "${h.name}" before the end of the file`,
          });
          break;
        }
        heredocs.push({ ...h, content });
      }
    }
    instructions.push({ keyword, line: start + 1, endLine: i, flags, args, rest, heredocs, comments });
    comments = [];
    if (instructions.length > MAX_INSTRUCTIONS) {
      throw new FromscratchError(
        'DOCKERFILE_SYNTAX',
        `${file}:${start + 1}: more than ${MAX_INSTRUCTIONS} instructions`,
      );
    }
  }
  return {
    directives: {
      escape: escapeChar,
      ...(syntax !== undefined ? { syntax } : {}),
      ...(check !== undefined ? { check } : {}),
    },
    instructions,
    problems,
  };
}

function countLines(text: string, upTo: number): number {
  let n = 1;
  for (let k = text.indexOf('\n'); k >= 0 && k < upTo; k = text.indexOf('\n', k + 1)) n += 1;
  return n;
}

/**
 * extractFlags splits leading `--name[=value]` words off an instruction's arguments (BuildKit's
 * extractBuilderFlags: quotes removed, `\` escapes, a bare `--` ends the flags).
 */
export function extractFlags(line: string): { flags: RawFlag[]; args: string } {
  const words: string[] = [];
  let pos = 0;
  const n = line.length;
  for (;;) {
    while (pos < n && isWs(line.charCodeAt(pos))) pos += 1;
    if (pos >= n) return { flags: words.map(toFlag), args: '' };
    if (!(line[pos] === '-' && line[pos + 1] === '-'))
      return { flags: words.map(toFlag), args: line.slice(pos).trim() };
    let word = '';
    let quote = '';
    while (pos < n) {
      const ch = line[pos]!;
      if (quote) {
        if (ch === quote) quote = '';
        else if (ch === '\\' && pos + 1 < n) {
          pos += 1;
          word += line[pos];
        } else word += ch;
        pos += 1;
        continue;
      }
      if (isWs(ch.charCodeAt(0))) break;
      if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '\\') {
        if (pos + 1 < n) {
          pos += 1;
          word += line[pos];
        }
      } else word += ch;
      pos += 1;
    }
    if (word === '--') return { flags: words.map(toFlag), args: line.slice(pos).trim() };
    words.push(word);
  }
}

function toFlag(w: string): RawFlag {
  const body = w.slice(2);
  const eq = body.indexOf('=');
  return eq < 0 ? { name: body } : { name: body.slice(0, eq), value: body.slice(eq + 1) };
}

/**
 * heredocMarkers finds `<<WORD`, `<<-WORD`, `<<"WORD"` words of a line (BuildKit heredocsFromLine):
 * words are split on unquoted whitespace, quotes kept; a quoted delimiter disables expansion.
 */
export function heredocMarkers(line: string): { name: string; expand: boolean; chomp: boolean }[] {
  const out: { name: string; expand: boolean; chomp: boolean }[] = [];
  for (const word of rawWords(line)) {
    const m = /^(\d*)<<(-?)([^<]+)$/.exec(word);
    if (!m) continue;
    const raw = m[3]!;
    const name = raw.replace(/["']/g, '');
    if (name === '' || /\s/.test(name)) continue;
    out.push({ name, expand: name === raw, chomp: m[2] === '-' });
  }
  return out;
}

/** rawWords splits on unquoted whitespace, keeping quotes and escapes as written. */
export function rawWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote = '';
  for (let k = 0; k < line.length; k++) {
    const ch = line[k]!;
    if (quote) {
      cur += ch;
      if (ch === quote) quote = '';
      else if (ch === '\\' && quote === '"' && k + 1 < line.length) cur += line[++k];
      continue;
    }
    if (isWs(ch.charCodeAt(0))) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    cur += ch;
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '\\' && k + 1 < line.length) cur += line[++k];
  }
  if (inWord) words.push(cur);
  return words;
}

/** isWs tells whether a UTF-16 code unit is whitespace, without a regular expression per character. */
function isWs(c: number): boolean {
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 0xa0 ||
    c === 0x85 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x1680 ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}
