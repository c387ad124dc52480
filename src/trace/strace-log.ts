/**
 * strace-log.ts — parse the output of `strace -f -qq -y -x -s 4096 -o FILE` into path events. PURE.
 *
 * Lines look like `PID syscall(args) = ret` (with `-y`, file descriptors print as `3</path>` and
 * AT_FDCWD as `AT_FDCWD</cwd>`; with `-x`, strings with non-ASCII bytes print as `\xHH`). A call
 * interrupted by another process's line is split into `… <unfinished ...>` and `<... name resumed>…`;
 * the two halves are merged per pid. Every path is decoded to its exact bytes (surrogateescape, see
 * fs/path.ts) and made absolute: against the dirfd's path, or the pid's working directory, tracked from
 * chdir/fchdir and inherited across clone/fork/vfork. A pid that called chroot or pivot_root (a container
 * runtime's init, for --verify) is marked `inRoot`, and its paths are relative to that new root.
 */
import { decodePathBytes, normalizeImagePath } from '../fs/path.ts';

/** TraceKind classifies what a process did with a path. */
export type TraceKind = 'exec' | 'open' | 'stat' | 'access' | 'readlink';

/** TraceEvent is one syscall on one path, as seen in the strace log. */
export interface TraceEvent {
  readonly pid: number;
  readonly syscall: string;
  /** absolute, lexically normalised path (surrogateescape for non-UTF-8 bytes) */
  readonly path: string;
  /** what the call did: a read-like kind, or a write kind for creating/deleting calls */
  readonly kind: TraceKind | 'create' | 'delete' | 'chdir' | 'root';
  /** whether the call succeeded */
  readonly ok: boolean;
  /** the errno name of a failed call (`ENOENT` …) */
  readonly errno?: string;
  /** open flags mention O_CREAT */
  readonly creat?: boolean;
  /** open flags ask for writing */
  readonly write?: boolean;
  /** open flags ask for writing and cannot read the earlier content (O_WRONLY, or O_TRUNC) */
  readonly writeOnly?: boolean;
  /** open flags have O_DIRECTORY (opendir: the process lists the directory) */
  readonly directory?: boolean;
  /** the pid (or an ancestor) had changed its root (chroot/pivot_root) before this call */
  readonly inRoot: boolean;
  /** the real path of a successfully opened fd (from `-y`), when known */
  readonly realPath?: string;
  /** 0-based line number in the log, for ordering */
  readonly line: number;
}

/** STRACE_SYSCALLS are the syscalls traced (the -e trace= list). */
export const STRACE_SYSCALLS = [
  'execve',
  'execveat',
  'open',
  'openat',
  'openat2',
  'creat',
  'stat',
  'lstat',
  'newfstatat',
  'statx',
  'access',
  'faccessat',
  'faccessat2',
  'readlink',
  'readlinkat',
  'chdir',
  'fchdir',
  'unlink',
  'unlinkat',
  'rename',
  'renameat',
  'renameat2',
  'mkdir',
  'mkdirat',
  'rmdir',
  'symlink',
  'symlinkat',
  'mknod',
  'mknodat',
  'bind',
  'link',
  'linkat',
  'clone',
  'clone3',
  'fork',
  'vfork',
  'chroot',
  'pivot_root',
] as const;

const KIND: Record<string, TraceKind> = {
  execve: 'exec',
  execveat: 'exec',
  open: 'open',
  openat: 'open',
  openat2: 'open',
  creat: 'open',
  stat: 'stat',
  lstat: 'stat',
  newfstatat: 'stat',
  statx: 'stat',
  access: 'access',
  faccessat: 'access',
  faccessat2: 'access',
  readlink: 'readlink',
  readlinkat: 'readlink',
};

/**
 * openFlags reads the open(2) flags strace printed (`O_WRONLY|O_CREAT|O_APPEND`, or openat2's
 * `{flags=…, …}`): whether the call could create, write, or read the file's earlier content, and whether it
 * opened a directory (opendir: the process lists it).
 */
function openFlags(flags: string): Pick<TraceEvent, 'creat' | 'write' | 'writeOnly' | 'directory'> {
  const write = /O_WRONLY|O_RDWR/.test(flags);
  // O_WRONLY cannot read; O_TRUNC throws the old content away before anything could read it
  const writeOnly = write && /O_WRONLY|O_TRUNC/.test(flags);
  return {
    ...(flags.includes('O_CREAT') ? { creat: true } : {}),
    ...(write ? { write } : {}),
    ...(writeOnly ? { writeOnly } : {}),
    ...(flags.includes('O_DIRECTORY') ? { directory: true } : {}),
  };
}

/** Arg is one top-level syscall argument: a decoded string, an fd with its path, or raw text. */
type Arg = { t: 'str'; bytes: Buffer } | { t: 'fd'; fd: string; path?: string } | { t: 'raw'; text: string };

/** decodeStraceString decodes the body of a strace quoted string (without the quotes) to bytes. */
export function decodeStraceString(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x5c) {
      if (c < 0x80) out.push(c);
      else for (const b of Buffer.from(s[i]!, 'utf8')) out.push(b);
      continue;
    }
    const n = s[i + 1];
    i++;
    switch (n) {
      case 'n':
        out.push(10);
        break;
      case 't':
        out.push(9);
        break;
      case 'r':
        out.push(13);
        break;
      case 'v':
        out.push(11);
        break;
      case 'f':
        out.push(12);
        break;
      case 'a':
        out.push(7);
        break;
      case 'b':
        out.push(8);
        break;
      case 'x': {
        out.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
        i += 2;
        break;
      }
      default:
        if (n !== undefined && n >= '0' && n <= '7') {
          let j = i;
          while (j < i + 3 && j < s.length && s[j]! >= '0' && s[j]! <= '7') j++;
          out.push(Number.parseInt(s.slice(i, j), 8) & 0xff);
          i = j - 1;
        } else if (n !== undefined) out.push(n.charCodeAt(0));
    }
  }
  return Buffer.from(out);
}

/** splitArgs splits the argument text of a call at top-level commas. */
function splitArgs(text: string): Arg[] {
  const args: Arg[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && text[i] === ' ') i++;
    const start = i;
    let depth = 0;
    let str: Buffer | undefined;
    let fdPath: string | undefined;
    while (i < n) {
      const c = text[i]!;
      if (c === '"') {
        let j = i + 1;
        while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
        if (depth === 0 && str === undefined && i === start) str = decodeStraceString(text.slice(i + 1, j));
        i = j + 1;
        continue;
      }
      if (c === '<' && depth === 0 && /^(\d+|AT_FDCWD)$/.test(text.slice(start, i))) {
        // fd path from -y: raw up to '>' (strace hex-escapes the whole path when it has '>' or non-ASCII)
        const j = text.indexOf('>', i);
        fdPath = decodePathBytes(decodeStraceString(text.slice(i + 1, j < 0 ? n : j)));
        i = j < 0 ? n : j + 1;
        continue;
      }
      if (c === '[' || c === '{' || c === '(') depth++;
      else if (c === ']' || c === '}' || c === ')') depth--;
      else if (c === ',' && depth === 0) break;
      i++;
    }
    const raw = text.slice(start, i).trim();
    if (str !== undefined) args.push({ t: 'str', bytes: str });
    else if (/^(\d+|AT_FDCWD)</.test(raw) || /^(\d+|AT_FDCWD)$/.test(raw))
      args.push({ t: 'fd', fd: raw.replace(/<.*$/s, ''), path: fdPath });
    else args.push({ t: 'raw', text: raw });
    i++; // skip the comma
  }
  return args;
}

interface Call {
  pid: number;
  name: string;
  args: string;
  ret: string;
  line: number;
}

/** parseLines merges unfinished/resumed halves and yields complete calls in log order (by start line). */
function parseLines(log: string): Call[] {
  const calls: Call[] = [];
  const pending = new Map<number, { name: string; args: string; line: number; index: number }>();
  const lines = log.split('\n');
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln]!;
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    const rest = m[2]!;
    if (rest.startsWith('+++') || rest.startsWith('---')) continue;
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(rest);
    if (resumed) {
      const p = pending.get(pid);
      if (!p) continue;
      pending.delete(pid);
      const full = p.args + resumed[2]!;
      const split = splitRet(full);
      if (split) calls[p.index] = { pid, name: p.name, args: split.args, ret: split.ret, line: p.line };
      continue;
    }
    const call = /^(\w+)\((.*)$/s.exec(rest);
    if (!call) continue;
    const name = call[1]!;
    const body = call[2]!;
    const unf = body.match(/^(.*?)\s*<unfinished \.\.\.>$/s);
    if (unf) {
      pending.set(pid, { name, args: unf[1]!, line: ln, index: calls.length });
      calls.push(undefined as unknown as Call); // placeholder keeps start order
      continue;
    }
    const split = splitRet(body);
    if (split) calls.push({ pid, name, args: split.args, ret: split.ret, line: ln });
  }
  return calls.filter((c) => c !== undefined);
}

/** splitRet separates `args) = ret`: the first `) = ` (any spacing) followed by a well-formed return value. */
function splitRet(body: string): { args: string; ret: string } | undefined {
  const re = /\) += +(?=\S)/g;
  for (let m = re.exec(body); m !== null; m = re.exec(body)) {
    const ret = body.slice(m.index + m[0].length).trim();
    if (/^(-?\d+|0x[0-9a-f]+|\?)(<.*>)?( [A-Z(].*)?$/s.test(ret))
      return { args: body.slice(0, m.index), ret };
  }
  return undefined;
}

/** ParseOptions gives the starting state of the traced process. */
export interface ParseOptions {
  /** working directory of the first process (default '/') */
  cwd?: string;
}

function absolute(base: string, p: string): string {
  return normalizeImagePath(p.startsWith('/') ? p : `${base}/${p}`);
}

/**
 * parseStraceLog turns a strace log into path events, in the order the calls started. Calls on an fd
 * alone (`newfstatat(3, "", …, AT_EMPTY_PATH)`) are skipped: their path was seen when the fd was opened.
 */
export function parseStraceLog(log: string, opts: ParseOptions = {}): TraceEvent[] {
  const calls = parseLines(log);
  // pass 1: who forked whom
  const parentOf = new Map<number, number>();
  for (const c of calls) {
    if (
      (c.name === 'clone' || c.name === 'clone3' || c.name === 'fork' || c.name === 'vfork') &&
      /^\d+/.test(c.ret)
    ) {
      parentOf.set(Number.parseInt(c.ret, 10), c.pid);
    }
  }
  const cwd = new Map<number, string>();
  const rooted = new Map<number, boolean>();
  const seen = new Set<number>();
  const first = calls[0]?.pid;
  const events: TraceEvent[] = [];
  for (const c of calls) {
    if (!seen.has(c.pid)) {
      seen.add(c.pid);
      const parent = parentOf.get(c.pid);
      if (parent !== undefined && seen.has(parent)) {
        cwd.set(c.pid, cwd.get(parent) ?? opts.cwd ?? '/');
        rooted.set(c.pid, rooted.get(parent) ?? false);
      } else {
        cwd.set(c.pid, c.pid === first ? (opts.cwd ?? '/') : (opts.cwd ?? '/'));
        rooted.set(c.pid, false);
      }
    }
    const ok = !c.ret.startsWith('-1') && c.ret !== '?';
    const errno = ok ? undefined : /^-1 (E[A-Z0-9]+)/.exec(c.ret)?.[1];
    const args = splitArgs(c.args);
    const inRoot = rooted.get(c.pid) ?? false;
    const here = cwd.get(c.pid) ?? '/';
    // the base directory of a dirfd argument; AT_FDCWD</x> from -y is the authoritative cwd outside a new root
    const dirOf = (a: Arg | undefined): string => {
      if (a?.t !== 'fd') return here;
      if (a.fd === 'AT_FDCWD') {
        if (a.path !== undefined && !inRoot && a.path.startsWith('/')) {
          cwd.set(c.pid, a.path);
          return a.path;
        }
        return here;
      }
      return a.path?.startsWith('/') ? a.path : here;
    };
    const strArg = (a: Arg | undefined): string | undefined =>
      a?.t === 'str' ? decodePathBytes(a.bytes) : undefined;
    const push = (
      kind: TraceEvent['kind'],
      rel: string | undefined,
      base: string,
      extra: Partial<TraceEvent> = {},
    ): void => {
      if (rel === undefined || rel === '') return;
      let path: string;
      try {
        path = absolute(base, rel);
      } catch {
        return; // over-long or NUL path in the log: not a file we could add
      }
      events.push({
        pid: c.pid,
        syscall: c.name,
        path,
        kind,
        ok,
        ...(errno ? { errno } : {}),
        inRoot,
        line: c.line,
        ...extra,
      });
    };
    const retPath = (): string | undefined => {
      const m = /^\d+<(.*)>$/s.exec(c.ret);
      return m ? decodePathBytes(decodeStraceString(m[1]!)) : undefined;
    };
    switch (c.name) {
      case 'execve':
      case 'open':
      case 'creat':
      case 'stat':
      case 'lstat':
      case 'access':
      case 'readlink': {
        const flags =
          c.name === 'creat' ? 'O_WRONLY|O_CREAT|O_TRUNC' : args[1]?.t === 'raw' ? args[1].text : '';
        const rp = ok && c.name === 'open' && !inRoot ? retPath() : undefined;
        push(KIND[c.name]!, strArg(args[0]), here, {
          ...(c.name === 'open' || c.name === 'creat' ? openFlags(flags) : {}),
          ...(rp ? { realPath: rp } : {}),
        });
        break;
      }
      case 'execveat':
      case 'openat':
      case 'openat2':
      case 'newfstatat':
      case 'statx':
      case 'faccessat':
      case 'faccessat2':
      case 'readlinkat': {
        const rel = strArg(args[1]);
        if (rel === '') break; // AT_EMPTY_PATH on an fd
        const flags = args[2]?.t === 'raw' ? args[2].text : '';
        const rp = ok && c.name.startsWith('openat') && !inRoot ? retPath() : undefined;
        push(KIND[c.name]!, rel, dirOf(args[0]), {
          ...(c.name === 'openat' || c.name === 'openat2' ? openFlags(flags) : {}),
          ...(rp ? { realPath: rp } : {}),
        });
        break;
      }
      case 'chdir': {
        const p = strArg(args[0]);
        if (ok && p !== undefined) cwd.set(c.pid, absolute(here, p));
        break;
      }
      case 'fchdir': {
        const a = args[0];
        if (ok && a?.t === 'fd' && a.path?.startsWith('/') && !inRoot) cwd.set(c.pid, a.path);
        break;
      }
      case 'chroot':
      case 'pivot_root':
        push('root', strArg(args[0]), here);
        if (ok) {
          rooted.set(c.pid, true);
          cwd.set(c.pid, '/');
        }
        break;
      case 'unlink':
      case 'rmdir':
        push('delete', strArg(args[0]), here);
        break;
      case 'unlinkat':
        push('delete', strArg(args[1]), dirOf(args[0]));
        break;
      case 'rename':
        push('delete', strArg(args[0]), here);
        push('create', strArg(args[1]), here);
        break;
      case 'renameat':
      case 'renameat2':
        push('delete', strArg(args[1]), dirOf(args[0]));
        push('create', strArg(args[3]), dirOf(args[2]));
        break;
      case 'mkdir':
        push('create', strArg(args[0]), here);
        break;
      case 'mkdirat':
        push('create', strArg(args[1]), dirOf(args[0]));
        break;
      case 'symlink':
        push('create', strArg(args[1]), here);
        break;
      case 'mknod':
        push('create', strArg(args[0]), here);
        break;
      case 'mknodat':
        push('create', strArg(args[1]), dirOf(args[0]));
        break;
      case 'bind': {
        // a Unix socket bound to a path creates it: `{sa_family=AF_UNIX, sun_path="/run/x.sock"}`; an
        // abstract socket (`sun_path=@"…"`) has no path
        const m = /sa_family=AF_UNIX, sun_path="((?:[^"\\]|\\.)*)"/.exec(
          args[1]?.t === 'raw' ? args[1].text : '',
        );
        if (m) push('create', decodePathBytes(decodeStraceString(m[1]!)), here);
        break;
      }
      case 'symlinkat':
        push('create', strArg(args[2]), dirOf(args[1]));
        break;
      case 'link':
        push('create', strArg(args[1]), here);
        break;
      case 'linkat':
        push('create', strArg(args[3]), dirOf(args[2]));
        break;
    }
  }
  return events;
}
