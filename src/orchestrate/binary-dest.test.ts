import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { parseSpecFile } from '../yaml/parse-spec.ts';
import { parseBinaryArg, withDefaultEntrypoint } from './binary-dest.ts';
import type { BuildSpec } from './build-spec.ts';

test('parseBinaryArg: absolute keeps its place, relative lands at /NAME, DEST (or DEST/) places it', () => {
  const rows: [string, { path: string; dest?: string }][] = [
    ['/usr/bin/curl', { path: '/usr/bin/curl' }],
    ['./build/app', { path: './build/app', dest: '/app' }],
    ['app', { path: 'app', dest: '/app' }],
    ['./app:/usr/local/bin/app', { path: './app', dest: '/usr/local/bin/app' }],
    ['./app:/usr/local/bin/', { path: './app', dest: '/usr/local/bin/app' }],
    ['/usr/bin/python3:/opt/py//bin/../bin/python', { path: '/usr/bin/python3', dest: '/opt/py/bin/python' }],
  ];
  for (const [arg, want] of rows) assert.deepEqual(parseBinaryArg(arg), want, arg);
  for (const bad of ['./app:usr/bin/app', '']) {
    assert.throws(
      () => parseBinaryArg(bad),
      (e) =>
        isFromscratchError(e, 'USAGE') && e.message.includes(JSON.stringify(bad)) && e.hint !== undefined,
      bad,
    );
  }
});

test('withDefaultEntrypoint: one program, no entrypoint, no cmd, no base image: the program', () => {
  const one: BuildSpec = { contents: [{ kind: 'binary', path: './x', dest: '/usr/local/bin/x' }] };
  assert.deepEqual(withDefaultEntrypoint(one).spec.config?.Entrypoint, ['/usr/local/bin/x']);
  assert.equal(withDefaultEntrypoint(one).entrypoint, '/usr/local/bin/x');
  const abs: BuildSpec = {
    contents: [
      { kind: 'binary', path: '/usr/bin/env' },
      { kind: 'add', src: '/a', dest: '/a' },
    ],
  };
  assert.deepEqual(withDefaultEntrypoint(abs).spec.config?.Entrypoint, ['/usr/bin/env']);
  const unchanged: BuildSpec[] = [
    {
      contents: [
        { kind: 'binary', path: '/a' },
        { kind: 'binary', path: '/b' },
      ],
    },
    { contents: [{ kind: 'binary', path: '/a' }], config: { Entrypoint: ['/b'] } },
    { contents: [{ kind: 'binary', path: '/a' }], config: { Cmd: ['/b'] } },
    { contents: [{ kind: 'binary', path: '/a' }], from: 'docker://r/base:1' },
    { contents: [{ kind: 'add', src: '/a', dest: '/a' }] },
  ];
  for (const s of unchanged) {
    const r = withDefaultEntrypoint(s);
    assert.equal(r.spec, s, JSON.stringify(s));
    assert.equal(r.entrypoint, undefined);
  }
});

test('spec `binary:` with `to:` places the program as --binary SRC:DEST does', () => {
  const spec = parseSpecFile(
    'contents:\n  - binary: ./bin/app\n    to: /usr/local/bin/\n  - binary: /usr/bin/env\n  - binary: tool\n',
    '/src/fromscratch.yaml',
  );
  assert.deepEqual(spec.contents, [
    { kind: 'binary', path: '/src/bin/app', dest: '/usr/local/bin/app' },
    { kind: 'binary', path: '/usr/bin/env' },
    { kind: 'binary', path: '/src/tool', dest: '/tool' },
  ]);
  assert.throws(
    () => parseSpecFile('contents:\n  - binary: ./app\n    to: usr/bin/app\n', '/src/fromscratch.yaml'),
    (e) => isFromscratchError(e) && /contents\[0\]\.to/.test(e.message),
  );
});
