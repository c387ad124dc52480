/**
 * shell-lex.ts — Dockerfile word processing: quotes, escapes and `$VAR` / `${VAR:-x}` substitution. PURE.
 *
 * A port of BuildKit's `frontend/dockerfile/shell/lex.go` (ProcessWord / ProcessWords), which is what
 * `docker build` applies to ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR and
 * ARG arguments. No command substitution, no globbing: only parameter expansion.
 */
import { FromscratchError } from '../errors.ts';

/** LexOptions tunes the lexer. */
export interface LexOptions {
  /** the escape character of the Dockerfile (`# escape=`), default `\` */
  escape?: string;
  /** keep quote characters in the output (heredoc delimiter detection) */
  rawQuotes?: boolean;
  /** keep escape characters in the output */
  rawEscapes?: boolean;
  /** leave `$NAME` of an unset variable as it is, instead of the empty string */
  skipUnset?: boolean;
}

/** VarLookup returns a variable's value, or undefined when it is not set. */
export type VarLookup = (name: string) => string | undefined;

/** MAX_SUBSTITUTION_DEPTH bounds `${A:-${B:-…}}` nesting. */
export const MAX_SUBSTITUTION_DEPTH = 1000;

/** MAX_EXPANSION_BYTES bounds the result of expanding one word (nested defaults can multiply text). */
export const MAX_EXPANSION_BYTES = 1024 * 1024;

/**
 * expandWord processes one Dockerfile word: quotes removed, escapes applied, variables substituted.
 * Whitespace is kept (`ENV A hello world` gives `hello world`). Throws DOCKERFILE_SYNTAX (without a
 * location: callers add file:line) on an unterminated quote or a bad substitution.
 */
export function expandWord(text: string, vars: VarLookup, opts: LexOptions = {}): string {
  return new Lexer(text, vars, opts).run().word;
}

/** expandWords is expandWord that also splits the result on unquoted whitespace (ProcessWords). */
export function expandWords(text: string, vars: VarLookup, opts: LexOptions = {}): string[] {
  return new Lexer(text, vars, opts).run().words;
}

/**
 * expandVariablesOnly substitutes `$VAR` and `${VAR…}` in heredoc bodies, keeping quotes and escapes as
 * written (a heredoc is file content, not shell words).
 */
export function expandVariablesOnly(text: string, vars: VarLookup, opts: LexOptions = {}): string {
  return new Lexer(text, vars, { ...opts, rawQuotes: true, rawEscapes: true }, true).run().word;
}

function isSpace(ch: string): boolean {
  const c = ch.charCodeAt(0);
  if (c < 128) return c === 32 || (c >= 9 && c <= 13);
  return /\s/u.test(ch);
}

function isNameChar(ch: string): boolean {
  const c = ch.charCodeAt(0);
  if (c < 128) return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
  return /[\p{L}\p{Nd}_]/u.test(ch);
}

/** Words accumulates ProcessWords output: unquoted whitespace splits, quoted text never does. */
class Words {
  readonly list: string[] = [];
  private cur = '';
  private inWord = false;
  addChar(ch: string): void {
    if (isSpace(ch) && this.inWord) {
      this.list.push(this.cur);
      this.cur = '';
      this.inWord = false;
    } else if (!isSpace(ch)) this.addRawChar(ch);
  }
  addRawChar(ch: string): void {
    this.cur += ch;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }
  addRawString(s: string): void {
    this.cur += s;
    this.inWord = true;
  }
  done(): string[] {
    if (this.inWord) this.list.push(this.cur);
    return this.list;
  }
}

class Lexer {
  private pos = 0;
  private readonly chars: string[];
  private readonly esc: string;
  private readonly vars: VarLookup;
  private readonly opts: LexOptions;
  /** heredoc mode: only `$` is special */
  private readonly varsOnly: boolean;
  private depth = 0;
  constructor(text: string, vars: VarLookup, opts: LexOptions, varsOnly = false) {
    this.vars = vars;
    this.opts = opts;
    this.varsOnly = varsOnly;
    this.chars = Array.from(text);
    this.esc = opts.escape ?? '\\';
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }
  private next(): string | undefined {
    return this.chars[this.pos++];
  }

  run(): { word: string; words: string[] } {
    return this.stopOn(undefined);
  }

  private stopOn(stop: string | undefined): { word: string; words: string[] } {
    let result = '';
    const words = new Words();
    while (this.peek() !== undefined) {
      const ch = this.peek()!;
      if (stop !== undefined && ch === stop) {
        this.next();
        return { word: result, words: words.done() };
      }
      if (ch === '$') {
        const v = this.dollar();
        result += v;
        words.addString(v);
      } else if (!this.varsOnly && ch === "'") {
        const v = this.singleQuote();
        result += v;
        words.addRawString(v);
      } else if (!this.varsOnly && ch === '"') {
        const v = this.doubleQuote();
        result += v;
        words.addRawString(v);
      } else {
        let c = this.next()!;
        if (c === this.esc && !this.varsOnly) {
          if (this.opts.rawEscapes) {
            words.addRawChar(c);
            result += c;
          }
          const n = this.next();
          if (n === undefined) break; // an escape at the very end is dropped
          c = n;
          words.addRawChar(c);
        } else if (c === this.esc && this.varsOnly) {
          // heredoc: an escaped `$` stays literal and keeps its escape
          result += c;
          const n = this.peek();
          if (n === '$') {
            this.next();
            result += n;
            words.addRawString(c + n);
            continue;
          }
          words.addRawChar(c);
          continue;
        } else words.addChar(c);
        result += c;
      }
      this.checkSize(result);
    }
    if (stop !== undefined) {
      throw syntax(`unexpected end of statement while looking for matching ${stop}`);
    }
    return { word: result, words: words.done() };
  }

  private checkSize(s: string): void {
    if (s.length > MAX_EXPANSION_BYTES) {
      throw new FromscratchError(
        'TOO_LARGE',
        `a word expands to more than ${MAX_EXPANSION_BYTES} characters`,
        {
          hint: 'check nested ${VAR:-…} defaults',
        },
      );
    }
  }

  private singleQuote(): string {
    this.next(); // '
    let out = this.opts.rawQuotes ? "'" : '';
    for (;;) {
      const ch = this.next();
      if (ch === undefined)
        throw syntax('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") break;
      out += ch;
    }
    return this.opts.rawQuotes ? `${out}'` : out;
  }

  private doubleQuote(): string {
    this.next(); // "
    let out = this.opts.rawQuotes ? '"' : '';
    for (;;) {
      const ch = this.peek();
      if (ch === undefined)
        throw syntax('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        this.next();
        break;
      }
      if (ch === '$') {
        out += this.dollar();
        continue;
      }
      let c = this.next()!;
      if (c === this.esc) {
        const n = this.peek();
        // only `"`, `$` and the escape character itself can be escaped inside double quotes
        if (n === '"' || n === '$' || n === this.esc) {
          if (this.opts.rawEscapes) out += c;
          c = this.next()!;
        }
      }
      out += c;
      this.checkSize(out);
    }
    return this.opts.rawQuotes ? `${out}"` : out;
  }

  private lookup(name: string): string | undefined {
    return this.vars(name);
  }

  private dollar(): string {
    this.next(); // $
    if (this.peek() !== '{') {
      const name = this.name();
      if (name === '') return '$';
      const v = this.lookup(name);
      if (v === undefined && this.opts.skipUnset) return `$${name}`;
      return v ?? '';
    }
    this.next(); // {
    // ${A:-${B:-…}} recurses: bound it so hostile input cannot exhaust the stack (RELIABILITY.md F9)
    if (++this.depth > MAX_SUBSTITUTION_DEPTH) {
      throw syntax(`substitutions nested more than ${MAX_SUBSTITUTION_DEPTH} levels deep`);
    }
    try {
      return this.braced();
    } finally {
      this.depth -= 1;
    }
  }

  private braced(): string {
    const first = this.peek();
    if (first === undefined) throw syntax("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw syntax('syntax error: bad substitution');
    const name = this.name();
    const ch = this.next();
    const word = (): string => {
      try {
        return this.stopOn('}').word;
      } catch (e) {
        if (this.peek() === undefined) throw syntax("syntax error: missing '}'");
        throw e;
      }
    };
    switch (ch) {
      case '}': {
        const v = this.lookup(name);
        if (v === undefined && this.opts.skipUnset) return `\${${name}}`;
        return v ?? '';
      }
      case '?': {
        const w = word();
        const v = this.lookup(name);
        if (v === undefined) throw syntax(`${name}: ${w || 'is not allowed to be unset'}`);
        return v;
      }
      case '+': {
        const w = word();
        return this.lookup(name) !== undefined ? w : '';
      }
      case '-': {
        const w = word();
        return this.lookup(name) ?? w;
      }
      case ':': {
        const mod = this.next();
        const w = word();
        const v = this.lookup(name);
        switch (mod) {
          case '+':
            return v ? w : '';
          case '-':
            return v ? v : w;
          case '?':
            if (v === undefined) throw syntax(`${name}: ${w || 'is not allowed to be unset'}`);
            if (v === '') throw syntax(`${name}: ${w || 'is not allowed to be empty'}`);
            return v;
          default:
            throw syntax(`unsupported modifier (${mod ?? 'end of line'}) in substitution`);
        }
      }
      case undefined:
        throw syntax("syntax error: missing '}'");
      default:
        throw syntax(`unsupported modifier (${ch}) in substitution`);
    }
  }

  private name(): string {
    let name = '';
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) break;
      if (name === '' && /\p{Nd}/u.test(ch)) {
        while (this.peek() !== undefined && /\p{Nd}/u.test(this.peek()!)) name += this.next();
        return name;
      }
      if (!isNameChar(ch)) break;
      name += this.next();
    }
    return name;
  }
}

function syntax(msg: string): FromscratchError {
  return new FromscratchError('DOCKERFILE_SYNTAX', msg);
}
