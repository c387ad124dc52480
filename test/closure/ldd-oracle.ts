/**
 * ldd-oracle.ts — `ldd` as a TEST ORACLE ONLY (the product never runs it, RELIABILITY.md G1): picks
 * dynamic ELF programs of a host directory, runs ldd on them, and compares the set of real files ldd
 * maps with the DT_NEEDED closure resolveClosure computed. Shared by the differential test and the
 * benchmark.
 */
import { execFile } from 'node:child_process';
import { closeSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import type { ClosureResult } from '../../src/closure/closure.ts';

const run = promisify(execFile);

/** elfPrograms lists up to `max` dynamic ELF programs of `dir` (sorted, spread evenly over the directory). */
export function elfPrograms(dir: string, max: number): string[] {
  const all: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = `${dir}/${name}`;
    try {
      const st = statSync(p);
      if (!st.isFile() || (st.mode & 0o111) === 0 || (st.mode & 0o6000) !== 0) continue; // setuid: ldd refuses some
      const fd = openSync(p, 'r');
      const b = Buffer.alloc(20);
      readSync(fd, b, 0, 20, 0);
      closeSync(fd);
      if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) continue;
      all.push(p);
    } catch {
      // unreadable entry: not a candidate
    }
  }
  if (all.length <= max) return all;
  const step = all.length / max;
  return Array.from({ length: max }, (_, i) => all[Math.floor(i * step)]!);
}

/** LddView is what ldd says about one program: the real files mapped, the sonames not found. */
export interface LddView {
  readonly reals: ReadonlySet<string>;
  readonly missing: readonly string[];
}

/** parseLdd reads ldd's output (paths made real on the host). Undefined for "not a dynamic executable". */
export function parseLdd(program: string, out: string): LddView | undefined {
  if (/not a dynamic executable|statically linked/.test(out)) return undefined;
  const reals = new Set<string>([realpathSync(program)]);
  const missing: string[] = [];
  for (const line of out.split('\n')) {
    const nf = /^\s+(\S+) => not found/.exec(line);
    if (nf) {
      missing.push(nf[1]!);
      continue;
    }
    const m = /=> (\/\S+) \(/.exec(line) ?? /^\s+(\/\S+) \(/.exec(line);
    if (m) reals.add(realpathSync(m[1]!));
  }
  return { reals, missing };
}

/**
 * lddView runs ldd on one program (a test oracle). ldd is given the program's real path: when ld.so is
 * run on a symlink (/usr/bin/java -> /etc/alternatives/java -> …/bin/java) it takes `$ORIGIN` from the
 * path it was given, whereas an exec'd program gets it from /proc/self/exe, the real path — ldd then
 * reports `$ORIGIN/../lib` libraries as "not found" that the program does find when it runs.
 */
export async function lddView(program: string): Promise<LddView | undefined> {
  try {
    // the loader's own view of the program: no preload of the test environment's (libfaketime) in it
    const { LD_PRELOAD: _preload, ...env } = process.env;
    const { stdout } = await run('ldd', [realpathSync(program)], { encoding: 'utf8', env });
    return parseLdd(program, stdout);
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stdout?: string };
    if (err.code === 'ENOENT') throw new Error('ldd is missing: install it (apt-get install libc-bin)');
    return err.stdout ? parseLdd(program, err.stdout) : undefined;
  }
}

/** neededReals is the set of real files reached from a program through DT_NEEDED (what ldd lists), inferred files excluded. */
export function neededReals(r: ClosureResult, program: string): { reals: Set<string>; missing: string[] } {
  const root = r.roots.find((x) => x.path === program);
  const reals = new Set<string>();
  const missing: string[] = [];
  if (!root) return { reals, missing };
  const stack = [root.real];
  for (const f of r.files.values())
    if (f.origins.some((o) => o.kind === 'interpreter' && o.by === root.real)) stack.push(f.path);
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (reals.has(p)) continue;
    reals.add(p);
    for (const n of r.objects.get(p)?.needed ?? []) {
      if (n.real) stack.push(n.real);
      else missing.push(n.name);
    }
  }
  return { reals, missing: [...new Set(missing)].sort() };
}

/** sameView tells whether our closure of a program maps the same files and misses the same names as ldd. */
export function sameView(ours: { reals: Set<string>; missing: string[] }, ldd: LddView): boolean {
  if (ours.reals.size !== ldd.reals.size) return false;
  for (const p of ldd.reals) if (!ours.reals.has(p)) return false;
  return JSON.stringify(ours.missing) === JSON.stringify([...new Set(ldd.missing)].sort());
}
