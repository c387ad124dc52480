/**
 * oracles.ts — independent readers of our tars for differential tests: GNU tar and Python's tarfile.
 * A missing tool is a test failure with an install hint, never a skip.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileTree } from '../../src/fs/file-tree.ts';
import { type WriteTarOptions, writeTar } from '../../src/layer/tar-writer.ts';

/** requireTool fails the test with a hint when a command is not installed. */
export function requireTool(tool: string, apt: string): void {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    throw new Error(`${tool} is not installed; install it with: apt-get install -y ${apt}`);
  }
}

/** run runs a command, returns stdout, and throws with stderr on a non-zero exit. */
export function run(
  cmd: string,
  args: string[],
  opts: { input?: Uint8Array; cwd?: string; allowStderr?: boolean; env?: NodeJS.ProcessEnv } = {},
): Buffer {
  const r = spawnSync(cmd, args, { input: opts.input, cwd: opts.cwd, env: opts.env, maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  if (!opts.allowStderr && r.stderr.length > 0)
    throw new Error(`${cmd} ${args.join(' ')} warned: ${r.stderr.toString()}`);
  return r.stdout;
}

/** collect reads a whole (small) stream. */
export async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

/** tarOf writes a tree to an in-memory tar (test trees are small). */
export function tarOf(tree: FileTree, opts: WriteTarOptions = {}): Promise<Buffer> {
  return collect(writeTar(tree, opts));
}

/** PyMember is what Python's tarfile reports for one member; byte strings are hex. */
export interface PyMember {
  name: string;
  type: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  pax: Record<string, string>;
}

const PY_LIST = `
import json, sys, tarfile
def h(s): return s.encode('utf-8', 'surrogateescape').hex()
out = []
with tarfile.open(fileobj=sys.stdin.buffer, mode='r|', errors='surrogateescape') as tf:
    for m in tf:
        out.append(dict(name=h(m.name), type=m.type.decode(), size=m.size, mode=m.mode, uid=m.uid, gid=m.gid,
                        uname=m.uname, gname=m.gname, mtime=m.mtime, linkname=h(m.linkname), devmajor=m.devmajor,
                        devminor=m.devminor, pax={k: h(v) for k, v in m.pax_headers.items()}))
json.dump(out, sys.stdout)
`;

/** pythonList lists a tar with Python's tarfile (stream mode, so it also checks the framing). */
export function pythonList(tar: Uint8Array): PyMember[] {
  requireTool('python3', 'python3');
  return JSON.parse(run('python3', ['-c', PY_LIST], { input: tar }).toString()) as PyMember[];
}

/** hex is the lowercase hex of a string's UTF-8 (or path) bytes. */
export function hex(b: Uint8Array | string): string {
  return Buffer.from(b as Uint8Array).toString('hex');
}

/** gnuList lists a tar with GNU tar (`--numeric-owner -tvv`), failing on any warning. */
export function gnuList(tar: Uint8Array): string {
  requireTool('tar', 'tar');
  return run('tar', ['--numeric-owner', '-tvvf', '-'], {
    input: tar,
    env: { ...process.env, TZ: 'UTC0', LC_ALL: 'C' },
  }).toString('latin1');
}

/** withTempDir runs fn in a fresh temp directory and removes it afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'fromscratch-layer-test-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * gnuExtract extracts a tar with GNU tar as root would (permissions, owners, xattrs) into dir, failing
 * on any warning except those matching `allowWarning`.
 */
export function gnuExtract(tar: Uint8Array, dir: string, allowWarning?: RegExp): void {
  requireTool('tar', 'tar');
  const args = [
    '--numeric-owner',
    '--same-permissions',
    '--same-owner',
    '--xattrs',
    '--xattrs-include=*',
    '-xf',
    '-',
    '-C',
    dir,
  ];
  const r = spawnSync('tar', args, { input: tar, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`tar ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  const warnings = r.stderr
    .toString()
    .split('\n')
    .filter((l) => l !== '' && !allowWarning?.test(l));
  if (warnings.length > 0) throw new Error(`GNU tar warned: ${warnings.join('\n')}`);
}
