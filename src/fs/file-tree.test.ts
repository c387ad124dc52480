import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { FileTreeBuilder } from './file-tree.ts';

const file = (path: string, data = 'x') => ({
  type: 'file' as const,
  path,
  mode: 0o644,
  uid: 0,
  gid: 0,
  size: data.length,
  content: { kind: 'bytes' as const, data: Buffer.from(data) },
});

test('build sorts bytewise and creates implicit parents', () => {
  const t = new FileTreeBuilder().add(file('/b/z')).add(file('/a.txt')).add(file('/b/a')).build();
  assert.deepEqual(
    t.entries.map((e) => e.path),
    ['/a.txt', '/b', '/b/a', '/b/z'],
  );
  assert.equal(t.get('/b')?.type, 'dir');
});

test('two identical entries are one; two different ones are a PATH_CONFLICT naming the path', () => {
  const b = new FileTreeBuilder().add(file('/x')).add(file('/x'));
  assert.equal(b.build().entries.length, 1);
  assert.throws(
    () => b.add(file('/x', 'other')),
    (e) => isFromscratchError(e, 'PATH_CONFLICT') && e.message.includes('/x'),
  );
});

test('a file cannot be the parent of another entry', () => {
  const b = new FileTreeBuilder().add(file('/lib')).add(file('/lib/libc.so.6'));
  assert.throws(
    () => b.build(),
    (e) => isFromscratchError(e, 'PATH_CONFLICT') && e.message.includes('/lib'),
  );
});

test('the root directory cannot change type (A10)', () => {
  assert.throws(
    () =>
      new FileTreeBuilder().add({ type: 'symlink', path: '/', mode: 0o777, uid: 0, gid: 0, target: '/tmp' }),
    (e) => isFromscratchError(e, 'PATH_CONFLICT'),
  );
});
