import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { renderError } from './cli/render-error.ts';
import { BUG_ERRNOS, fromSystemError } from './errors.ts';

/** systemError builds the error node:fs throws for `code` from `syscall` on `path`. */
function systemError(code: string, syscall: string, path?: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${syscall} '${path}'`) as NodeJS.ErrnoException;
  e.code = code;
  e.errno = -(constants.errno as Record<string, number>)[code]!;
  e.syscall = syscall;
  if (path !== undefined) e.path = path;
  return e;
}

test('every errno a file operation can return is a user error naming the path with a hint, or a listed bug', () => {
  const names = Object.keys(constants.errno);
  assert.ok(names.length > 70, 'node lists the errno names');
  for (const code of names) {
    for (const syscall of [
      'open',
      'read',
      'scandir',
      'lstat',
      'readlink',
      'mkdir',
      'rename',
      'write',
      'fsync',
    ]) {
      const e = systemError(code, syscall, '/some/where/file');
      const { text, exitCode } = renderError(e);
      if (BUG_ERRNOS.has(code) && !(code === 'EINVAL' && syscall === 'readlink')) {
        assert.equal(exitCode, 70, `${code} from ${syscall} is a bug`);
        continue;
      }
      assert.equal(exitCode, 1, `${code} from ${syscall}: exit 1, got ${exitCode}: ${text}`);
      assert.match(text, /^error\[[A-Z_]+\]: /, code);
      assert.ok(text.includes('/some/where/file'), `${code} from ${syscall} names the path: ${text}`);
      assert.match(text, /\nhint: \S/, `${code} from ${syscall} has a hint`);
      assert.doesNotMatch(text, /\n\s+at /, 'no stack trace');
    }
  }
});

test('the class of each environment failure decides the code', () => {
  const code = (c: string, s: string) => fromSystemError(systemError(c, s, '/p'))?.code;
  assert.equal(code('ENOSPC', 'write'), 'NO_SPACE');
  assert.equal(code('EDQUOT', 'mkdir'), 'NO_SPACE');
  assert.equal(code('EACCES', 'scandir'), 'FILE_UNREADABLE');
  assert.equal(code('EACCES', 'mkdir'), 'OUTPUT_UNWRITABLE');
  assert.equal(code('EROFS', 'open'), 'OUTPUT_UNWRITABLE');
  assert.equal(code('ENOENT', 'readlink'), 'FILE_NOT_FOUND');
  assert.equal(code('EMFILE', 'open'), 'SYSTEM_LIMIT');
  assert.equal(code('ENAMETOOLONG', 'lstat'), 'PATH_TOO_LONG');
  assert.equal(code('ECONNREFUSED', 'connect'), 'NETWORK_ERROR');
  assert.equal(code('ENOENT', 'spawn strace'), 'TOOL_MISSING');
  assert.equal(code('EINVAL', 'readlink'), 'FILE_CHANGED', 'the readlink race: no longer a symlink');
  assert.equal(fromSystemError(new Error('plain')), undefined, 'a plain Error stays a bug');
  assert.equal(fromSystemError(systemError('EINVAL', 'read', '/p')), undefined);
});

test('a failure inside the cache names the cache and how to move it', () => {
  const e = fromSystemError(systemError('EACCES', 'mkdir', '/nonexistent'), {
    cacheDir: '/nonexistent/.cache/fromscratch',
  });
  assert.equal(e?.code, 'OUTPUT_UNWRITABLE');
  assert.match(e!.message, /cache is \/nonexistent\/\.cache\/fromscratch/);
  assert.match(e!.hint!, /FROMSCRATCH_CACHE=/);
  const elsewhere = fromSystemError(systemError('EACCES', 'mkdir', '/out'), { cacheDir: '/c/fromscratch' });
  assert.doesNotMatch(elsewhere!.hint!, /FROMSCRATCH_CACHE=/);
});

test('real errors from node:fs map as their simulated twins do', () => {
  const dir = fs.mkdtempSync(join(tmpdir(), 'fs-errno-'));
  try {
    const cases: [() => unknown, string][] = [
      [() => fs.readlinkSync(join(dir, 'gone')), 'FILE_NOT_FOUND'],
      [() => fs.readFileSync(dir), 'FILE_UNREADABLE'], // EISDIR
      [() => fs.writeFileSync('/dev/full', 'x'), 'NO_SPACE'],
      [() => fs.lstatSync(join(dir, 'x'.repeat(300))), 'PATH_TOO_LONG'],
      [() => fs.mkdirSync(join(dir, 'a/b')), 'OUTPUT_UNWRITABLE'], // ENOENT from mkdir: a parent is missing
    ];
    fs.symlinkSync('loop', join(dir, 'loop'));
    cases.push([() => fs.statSync(join(dir, 'loop')), 'FILE_UNREADABLE']); // ELOOP
    for (const [op, want] of cases) {
      let err: unknown;
      try {
        op();
      } catch (e) {
        err = e;
      }
      assert.ok(err, `${op} threw`);
      const mapped = fromSystemError(err);
      assert.equal(mapped?.code, want, `${(err as Error).message} → ${mapped?.code}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
