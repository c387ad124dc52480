/**
 * spec.test.ts — fromscratch.yaml: conversion to BuildSpec, errors with file:line:key, the published
 * JSON Schema (equal to the one generated from zod, and agreeing with zod on examples), shell words.
 * FROMSCRATCH_UPDATE_GOLDEN=1 rewrites schema/fromscratch.schema.json.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { isFromscratchError } from '../../src/errors.ts';
import { parseSpecFile } from '../../src/yaml/parse-spec.ts';
import { SpecSchema, toSpecJsonSchema } from '../../src/yaml/schema.ts';
import { splitShellWords } from '../../src/yaml/shell-words.ts';

const schemaPath = fileURLToPath(new URL('../../schema/fromscratch.schema.json', import.meta.url));

function specError(text: string, file = 'fromscratch.yaml'): string {
  try {
    parseSpecFile(text, file);
  } catch (e) {
    assert.ok(isFromscratchError(e, 'SPEC_INVALID'), `expected SPEC_INVALID, got ${e}`);
    return e.message;
  }
  assert.fail('expected SPEC_INVALID');
}

describe('parseSpecFile', () => {
  it('reads the DESIGN.md example', () => {
    const text = `from: scratch
platforms: [linux/amd64]
contents:
  - binary: /usr/bin/ruby
  - add: ./app                     # host path
    to: /app
  - trace: ruby app/main.rb
  - package: ruby3.1
entrypoint: ["/usr/bin/ruby", "/app/main.rb"]
env: {LANG: C.UTF-8}
workdir: /app
user: nonroot
labels: {org.opencontainers.image.source: "https://example.org/app"}
expose: [8080]
`;
    assert.deepEqual(parseSpecFile(text, '/src/proj/fromscratch.yaml'), {
      platforms: [{ os: 'linux', architecture: 'amd64' }],
      contents: [
        { kind: 'binary', path: '/usr/bin/ruby' },
        { kind: 'add', src: '/src/proj/app', dest: '/app' },
        { kind: 'trace', command: 'ruby app/main.rb' },
        { kind: 'package', name: 'ruby3.1' },
      ],
      config: {
        Entrypoint: ['/usr/bin/ruby', '/app/main.rb'],
        Env: ['LANG=C.UTF-8'],
        WorkingDir: '/app',
        User: 'nonroot',
        Labels: { 'org.opencontainers.image.source': 'https://example.org/app' },
        ExposedPorts: { '8080/tcp': {} },
      },
    });
  });

  it('expresses every build flag', () => {
    const text = `from: docker://127.0.0.1:5055/base:1
platforms: linux/amd64,linux/arm64
contents:
  - add: /etc/app.conf
    closure: false
    exclude: ["*.bak"]
  - trace: "python3 -c 'import ssl'"
    allow-failure: true
    timeout: 30
  - package: curl=7.88.1-10
  - file: /etc/motd
    content: "hello\\n"
    mode: "0600"
entrypoint: /usr/bin/env "A B" c\\ d
cmd: []
env: [A=1, B=two words]
user: 65532
labels: {version: 1.0, ok: true}
annotations: {org.opencontainers.image.title: t}
expose: [80, 53/udp]
volumes: [/data]
stop-signal: SIGINT
outputs: [oci:out:v1, docker-archive:img.tar]
tags: a:1
compression: zstd
sysroot: ../root
lib-paths: [/opt/lib]
apt-sources: ["deb http://deb.debian.org/debian bookworm main"]
defaults: {users: false, nsswitch: true, tmp: false, ca-certificates: false}
`;
    const s = parseSpecFile(text, '/w/spec/fromscratch.yaml');
    assert.equal(s.from, 'docker://127.0.0.1:5055/base:1');
    assert.deepEqual(s.platforms, [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
    ]);
    assert.deepEqual(s.contents[0], {
      kind: 'add',
      src: '/etc/app.conf',
      dest: '/etc/app.conf',
      closure: false,
      exclude: ['*.bak'],
    });
    assert.deepEqual(s.contents[1], {
      kind: 'trace',
      command: "python3 -c 'import ssl'",
      allowFailure: true,
      timeoutSeconds: 30,
    });
    assert.deepEqual(s.contents[2], { kind: 'package', name: 'curl', version: '7.88.1-10' });
    const f = s.contents[3];
    assert.ok(f?.kind === 'file');
    assert.equal(f.mode, 0o600);
    assert.equal(new TextDecoder().decode(f.data), 'hello\n');
    assert.deepEqual(s.config, {
      Entrypoint: ['/usr/bin/env', 'A B', 'c d'],
      Cmd: [],
      Env: ['A=1', 'B=two words'],
      User: '65532',
      Labels: { version: '1', ok: 'true' },
      ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      Volumes: { '/data': {} },
      StopSignal: 'SIGINT',
    });
    assert.deepEqual(s.annotations, { 'org.opencontainers.image.title': 't' });
    assert.deepEqual(s.outputs, ['oci:out:v1', 'docker-archive:img.tar']);
    assert.deepEqual(s.tags, ['a:1']);
    assert.equal(s.compression, 'zstd');
    assert.equal(s.sysroot, '/w/root');
    assert.deepEqual(s.libraryPaths, ['/opt/lib']);
    assert.deepEqual(s.aptSources, ['deb http://deb.debian.org/debian bookworm main']);
    assert.deepEqual(s.defaults, { users: false, nsswitch: true, tmp: false, caCertificates: false });
  });

  it('accepts an empty file as an empty spec', () => {
    assert.deepEqual(parseSpecFile('# nothing\n', 'f.yaml'), { contents: [], config: {} });
  });
});

describe('errors name file, line and key, all at once', () => {
  const rows: [string, string, RegExp][] = [
    [
      'wrong type',
      'contents:\n  - binary: /a\n  - binary: 12\n',
      /^fromscratch\.yaml:3: contents\[1\]\.binary: expected a string, not number 12$/m,
    ],
    [
      'unknown top key',
      'from: scratch\nentrypont: x\n',
      /^fromscratch\.yaml:2: entrypont: unknown key \(did you mean "entrypoint"\?\)$/m,
    ],
    [
      'unknown item key',
      'contents:\n  - add: x\n    too: /y\n',
      /^fromscratch\.yaml:3: contents\[0\]\.too: unknown key/m,
    ],
    [
      'no kind key',
      'contents:\n  - biinary: /x\n',
      /^fromscratch\.yaml:2: contents\[0\]: expected one of binary:, add:, trace:, package:, file: \(did you mean "binary"\?\)$/m,
    ],
    ['bad enum', 'compression: xz\n', /:1: compression: expected one of "gzip", "zstd", "none"/],
    ['relative path', 'workdir: app\n', /:1: workdir: expected an absolute path/],
    [
      'unknown default',
      'defaults:\n  tpm: false\n',
      /:2: defaults\.tpm: unknown key \(did you mean "tmp"\?\)/,
    ],
    ['bad env', 'env: 3\n', /:1: env: expected a map of NAME: value or a list of NAME=value, not number 3/],
    ['bad platform', 'platforms: [linux/amd99]\n', /:1: platforms\[0\]: unknown architecture "amd99"/],
    [
      'unterminated quote',
      'cmd: "echo \'x"\n',
      /:1: cmd: command "echo 'x" has an unterminated single quote/,
    ],
    [
      'ambiguous mode',
      'contents:\n  - file: /x\n    content: ""\n    mode: 0644\n',
      /:4: contents\[0\]\.mode: write the mode as a string/,
    ],
    ['duplicate key', 'from: a\nfrom: b\n', /fromscratch\.yaml:2: Map keys must be unique/],
    ['YAML syntax', 'contents: [\n', /fromscratch\.yaml:\d+: /],
    ['not a map', '- a\n- b\n', /expected a map, not a list/],
  ];
  for (const [what, text, re] of rows) {
    it(`reports ${what}`, () => assert.match(specError(text), re));
  }
  it('lists several problems in line order', () => {
    const msg = specError('contents:\n  - binary: 1\nentrypont: x\ncompression: xz\n');
    assert.deepEqual(
      msg.split('\n').map((l) => l.split(':')[1]),
      ['2', '3', '4'],
    );
  });
  it('refuses absurd nesting before parsing (flow and block)', () => {
    assert.match(
      specError(`a: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`),
      /:1: nested more than 64 levels deep/,
    );
    assert.match(specError(`contents:\n${'- '.repeat(50_000)}a\n`), /:2: nested more than 64 levels deep/);
  });
  it('bounds hostile YAML: alias bombs and huge files', () => {
    const bomb = `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`;
    assert.match(specError(bomb), /fromscratch\.yaml/);
    assert.match(specError(`labels: {a: "${'x'.repeat(2 * 1024 * 1024)}"}\n`), /over the 1048576-byte limit/);
  });
});

/**
 * A tiny JSON Schema checker for exactly the keywords the generated schema uses. It exists so that the
 * published schema is checked against zod on examples, not only byte-compared with the generator.
 */
function jsonSchemaValid(schema: Record<string, unknown>, v: unknown): boolean {
  const s = schema;
  if (s.anyOf) return (s.anyOf as Record<string, unknown>[]).some((x) => jsonSchemaValid(x, v));
  const t = s.type as string | undefined;
  if (t === 'string') {
    if (typeof v !== 'string') return false;
    if (typeof s.minLength === 'number' && v.length < s.minLength) return false;
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(v)) return false;
  } else if (t === 'number' || t === 'integer') {
    if (typeof v !== 'number' || (t === 'integer' && !Number.isInteger(v))) return false;
    if (typeof s.minimum === 'number' && v < s.minimum) return false;
    if (typeof s.maximum === 'number' && v > s.maximum) return false;
    if (typeof s.exclusiveMinimum === 'number' && v <= s.exclusiveMinimum) return false;
  } else if (t === 'boolean') {
    if (typeof v !== 'boolean') return false;
  } else if (t === 'array') {
    if (!Array.isArray(v)) return false;
    if (s.items && !v.every((x) => jsonSchemaValid(s.items as Record<string, unknown>, x))) return false;
  } else if (t === 'object') {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
    const props = (s.properties ?? {}) as Record<string, Record<string, unknown>>;
    for (const r of (s.required ?? []) as string[]) if (!(r in v)) return false;
    for (const [k, x] of Object.entries(v)) {
      if (props[k]) {
        if (!jsonSchemaValid(props[k], x)) return false;
      } else if (s.additionalProperties === false) return false;
      else if (
        typeof s.additionalProperties === 'object' &&
        !jsonSchemaValid(s.additionalProperties as Record<string, unknown>, x)
      )
        return false;
      if (s.propertyNames && !jsonSchemaValid(s.propertyNames as Record<string, unknown>, k)) return false;
    }
  }
  if (s.enum && !(s.enum as unknown[]).includes(v)) return false;
  return true;
}

describe('the published JSON Schema', () => {
  it('equals the one generated from the zod schema', () => {
    const generated = `${JSON.stringify(toSpecJsonSchema(), null, 2)}\n`;
    if (process.env.FROMSCRATCH_UPDATE_GOLDEN) writeFileSync(schemaPath, generated);
    assert.equal(
      readFileSync(schemaPath, 'utf8'),
      generated,
      'schema/fromscratch.schema.json is stale: run the spec tests with FROMSCRATCH_UPDATE_GOLDEN=1',
    );
    const parsed = JSON.parse(generated) as Record<string, unknown>;
    assert.equal(parsed.$schema, 'https://json-schema.org/draft/2020-12/schema');
  });

  const examples: [string, boolean][] = [
    ['{}', true],
    [
      'from: scratch\ncontents: [{binary: /bin/sh}, {add: ./x, to: /x}, {trace: "a b"}, {package: curl}]',
      true,
    ],
    ['contents: [{file: /etc/x, content: hi, mode: "0644"}]', true],
    ['env: {A: 1, B: true}\nlabels: {a: b}\nexpose: [80, "53/udp"]', true],
    ['env: [A=1]\nentrypoint: [a, b]\ncmd: a b', true],
    ['defaults: {users: false, ca-certificates: true}\ncompression: none', true],
    ['platforms: linux/amd64\ntags: [a]\noutputs: oci:x', true],
    ['contents: [{binary: 1}]', false],
    ['contents: [{binary: /a, add: /b}]', false],
    ['contents: [{add: x, to: relative}]', false],
    ['contents: [{package: "Bad Name"}]', false],
    ['contents: [{file: /x}]', false],
    ['nope: 1', false],
    ['defaults: {tpm: true}', false],
    ['compression: xz', false],
    ['expose: [0]', false],
    ['expose: ["80/http"]', false],
    ['env: [NOEQUALS]', false],
    ['workdir: rel', false],
    ['volumes: [data]', false],
    ['user: -1', false],
    ['contents: [{trace: x, timeout: 0}]', false],
  ];
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;
  for (const [yaml, valid] of examples) {
    it(`${valid ? 'accepts' : 'rejects'} ${yaml.replace(/\n/g, '; ')} in both zod and the JSON Schema`, () => {
      const v: unknown = parseYaml(yaml) ?? {};
      assert.equal(SpecSchema.safeParse(v).success, valid, 'zod');
      assert.equal(jsonSchemaValid(schema, v), valid, 'JSON Schema');
    });
  }
});

describe('splitShellWords (POSIX quoting, no expansion)', () => {
  const rows: [string, string[]][] = [
    ['a b  c', ['a', 'b', 'c']],
    ['  lead trail  ', ['lead', 'trail']],
    ['\'a b\' "c d"', ['a b', 'c d']],
    ['a\'b\'c"d"e', ['abcde']],
    ['\'\' ""', ['', '']],
    ['a\\ b', ['a b']],
    ["'it'\\''s'", ["it's"]],
    ['"a\\"b\\\\c\\$d\\x"', ['a"b\\c$d\\x']],
    ["'no \\ escapes $HOME'", ['no \\ escapes $HOME']],
    ['$HOME ~ *.txt #c', ['$HOME', '~', '*.txt', '#c']],
    ['a\\\nb', ['ab']],
    ['"multi\nline"', ['multi\nline']],
    ['tab\tsep', ['tab', 'sep']],
    ['', []],
  ];
  for (const [input, want] of rows) {
    it(`splits ${JSON.stringify(input)}`, () => assert.deepEqual(splitShellWords(input), want));
  }
  for (const bad of ["'open", '"open', 'trailing\\', '"a\\"']) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(
        () => splitShellWords(bad),
        (e: unknown) => isFromscratchError(e, 'INVALID_ARGUMENT'),
      );
    });
  }
  it('splits a --trace command like a POSIX shell (cases from trace)', () => {
    assert.deepEqual(splitShellWords(`python3 -c 'import json'`), ['python3', '-c', 'import json']);
    assert.deepEqual(splitShellWords(`a "b c" d\\ e 'f"g' "h\\"i" ''`), [
      'a',
      'b c',
      'd e',
      'f"g',
      'h"i',
      '',
    ]);
    assert.deepEqual(splitShellWords('  x   y  '), ['x', 'y']);
  });
  it("with operators: 'refuse', shell syntax a command run without a shell cannot honour is refused", () => {
    for (const bad of ['a | b', 'a; b', 'echo $HOME', "'open", 'x > y', '"$HOME"', 'a & b', '`id`']) {
      assert.throws(
        () => splitShellWords(bad, { operators: 'refuse' }),
        (e: unknown) => isFromscratchError(e, 'INVALID_ARGUMENT'),
        bad,
      );
    }
    assert.deepEqual(splitShellWords(`sh -c 'a | b; echo $HOME' "\\$x" \\|`, { operators: 'refuse' }), [
      'sh',
      '-c',
      'a | b; echo $HOME',
      '$x',
      '|',
    ]);
    // by default they are literal characters
    assert.deepEqual(splitShellWords('a | b'), ['a', '|', 'b']);
  });
  it('agrees with /bin/sh on quoting (differential)', async () => {
    const { execFileSync } = await import('node:child_process');
    for (const input of ['a \'b c\' "d e" f\\ g', 'x\'y\'"z" "\\$HOME" \'\\n\'', '"a\\\\b" c\\\\d']) {
      const out = execFileSync('/bin/sh', ['-c', `for w in ${input}; do printf '%s\\0' "$w"; done`], {
        encoding: 'utf8',
      });
      assert.deepEqual(splitShellWords(input), out.split('\0').slice(0, -1), input);
    }
  });
});

describe('package locking in YAML', () => {
  it('lockfile is relative to the spec file, and locked alone means fromscratch.lock', () => {
    const a = parseSpecFile(
      'contents:\n  - package: jq\nlockfile: deps/jq.lock\n',
      '/w/spec/fromscratch.yaml',
    );
    assert.equal(a.lockfile, '/w/spec/deps/jq.lock');
    assert.equal(a.locked, undefined);
    const b = parseSpecFile('contents:\n  - package: jq\nlocked: true\n', '/w/spec/fromscratch.yaml');
    assert.equal(b.lockfile, '/w/spec/fromscratch.lock');
    assert.equal(b.locked, true);
  });
});
