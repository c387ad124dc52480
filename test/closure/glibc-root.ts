/**
 * glibc-root.ts — a small root for closure tests built with gcc: the host's libc and loader at
 * Debian's paths, and the programs and files a test puts beside them.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const LIB = '/usr/lib/x86_64-linux-gnu';

/** gcc runs gcc in `cwd`, with an error naming the package when it is missing. */
export function gcc(args: string[], cwd: string): void {
  try {
    execFileSync('gcc', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new Error('gcc is missing: apt-get install -y gcc libc6-dev');
    throw new Error(`gcc ${args.join(' ')} failed: ${err.stderr?.toString() ?? err.message}`);
  }
}

/** putFile copies a host file to `to` inside `root`, making its directories. */
export function putFile(root: string, from: string, to: string): void {
  mkdirSync(dirname(join(root, to)), { recursive: true });
  copyFileSync(from, join(root, to));
}

/** glibcRoot puts the host's libc and loader into `root`, with /lib64's link to the loader. */
export function glibcRoot(root: string): void {
  putFile(root, realpathSync(`${LIB}/libc.so.6`), `${LIB}/libc.so.6`);
  putFile(root, realpathSync(`${LIB}/ld-linux-x86-64.so.2`), `${LIB}/ld-linux-x86-64.so.2`);
  mkdirSync(join(root, 'lib64'), { recursive: true });
  symlinkSync(`${LIB}/ld-linux-x86-64.so.2`, join(root, 'lib64', 'ld-linux-x86-64.so.2'));
}
