/**
 * parse.test.ts — Dockerfile instructions, substitution, stages and hostile inputs (RELIABILITY.md F9).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DockerfileParser } from 'dockerfile-ast';
import { splitDockerfileLines } from '../../src/dockerfile/lines.ts';
import { DEFAULT_PATH, parseDockerfile, parseGoDuration, toBuildSpec } from '../../src/dockerfile/parse.ts';
import { expandWord, expandWords } from '../../src/dockerfile/shell-lex.ts';
import { isFromscratchError } from '../../src/errors.ts';
import type { BuildSpec, ContentItem } from '../../src/orchestrate/build-spec.ts';

const amd64 = { os: 'linux', architecture: 'amd64' } as const;
const PATH = `PATH=${DEFAULT_PATH}`;
function spec(text: string, opts: Parameters<typeof parseDockerfile>[1] = {}): BuildSpec {
  const plan = parseDockerfile(text, { context: '/ctx', platform: amd64, ...opts });
  return toBuildSpec(plan);
}
function fails(fn: () => unknown, code: string, ...patterns: RegExp[]): string {
  try {
    fn();
  } catch (e) {
    assert.ok(isFromscratchError(e), `expected a FromscratchError, got ${e}`);
    assert.equal(e.code, code, e.message);
    for (const p of patterns) assert.match(e.message, p);
    return e.message;
  }
  assert.fail(`expected ${code}`);
}

describe('shell lexer (BuildKit ProcessWord)', () => {
  const env: Record<string, string> = { A: 'a', E: '', S: 'x y', PATH: '/bin' };
  const vars = (n: string) => env[n];
  const rows: [string, string][] = [
    ['$A', 'a'],
    ['${A}', 'a'],
    ['pre${A}post', 'preapost'],
    ['$UNSET', ''],
    ['${UNSET:-def}', 'def'],
    ['${E:-def}', 'def'],
    ['${E-def}', ''],
    ['${UNSET-def}', 'def'],
    ['${A:+alt}', 'alt'],
    ['${E:+alt}', ''],
    ['${E+alt}', 'alt'],
    ['${UNSET:+alt}', ''],
    ['${UNSET:-${A}x}', 'ax'],
    ["'$A'", '$A'],
    ['"$A b"', 'a b'],
    ['\\$A', '$A'],
    ['"\\$A"', '$A'],
    ['"a\\nb"', 'a\\nb'],
    ['a\\ b', 'a b'],
    ['$', '$'],
    ['a$', 'a$'],
    ['$1x', 'x'],
    ['${PATH}:/usr/bin', '/bin:/usr/bin'],
    ['hello world', 'hello world'],
  ];
  for (const [input, want] of rows) {
    it(`expands ${input}`, () => assert.equal(expandWord(input, vars), want));
  }
  it('splits words only on unquoted whitespace, including expanded values', () => {
    assert.deepEqual(expandWords('a "b c" $S', vars), ['a', 'b c', 'x', 'y']);
    assert.deepEqual(expandWords('"" x', vars), ['', 'x']);
  });
  it('uses the backtick escape of # escape=`', () => {
    assert.equal(expandWord('a`$A\\b', vars, { escape: '`' }), 'a$A\\b');
  });
  const bad = ["'open", '"open', '${A', '${', '${:}', '${A:x}', '${UNSET?must be set}', '${E:?}'];
  for (const b of bad) {
    it(`rejects ${b}`, () => {
      fails(() => expandWord(b, vars), 'DOCKERFILE_SYNTAX');
    });
  }
});

describe('instructions', () => {
  it('builds the blog post Dockerfile: FROM scratch, ADD a static binary, CMD', () => {
    const s = spec('FROM scratch\nADD hello /\nCMD ["/hello"]\n');
    assert.equal(s.from, undefined);
    assert.deepEqual(s.contents, [
      { kind: 'add', src: 'hello', dest: '/', context: '/ctx', extract: true, closure: false },
    ]);
    assert.deepEqual(s.config, { Env: [PATH], Cmd: ['/hello'] });
    assert.deepEqual(s.history, ['ADD hello / # buildkit', 'CMD ["/hello"]']);
  });

  it('keeps spaces inside exec-form arguments (dockerfile-ast getJSONStrings drops them)', () => {
    const s = spec('FROM scratch\nENTRYPOINT ["/app", "a b", "c\\"d"]\n');
    assert.deepEqual(s.config?.Entrypoint, ['/app', 'a b', 'c"d']);
  });

  it('turns shell form into SHELL + command and warns when FROM scratch has no /bin/sh', () => {
    const plan = parseDockerfile('FROM scratch\nCMD echo "$HOME"\n', { platform: amd64 });
    assert.deepEqual(toBuildSpec(plan).config?.Cmd, ['/bin/sh', '-c', 'echo "$HOME"']);
    assert.match(plan.warnings.join('\n'), /Dockerfile:2: CMD in shell form .* FROM scratch/);
    const plan2 = parseDockerfile(
      'FROM scratch\nCOPY busybox /bin/sh\nSHELL ["/bin/sh", "-ec"]\nENTRYPOINT run me\n',
      { platform: amd64 },
    );
    assert.deepEqual(toBuildSpec(plan2).config?.Entrypoint, ['/bin/sh', '-ec', 'run me']);
    assert.deepEqual(toBuildSpec(plan2).config?.Shell, ['/bin/sh', '-ec']);
    assert.equal(plan2.warnings.length, 0);
  });

  it('falls back to shell form for invalid JSON, as Docker does', () => {
    assert.deepEqual(spec('FROM scratch\nCMD [not json]\n').config?.Cmd, ['/bin/sh', '-c', '[not json]']);
  });

  it('resets an inherited CMD on ENTRYPOINT, but not one set earlier in the stage', () => {
    assert.equal(spec('FROM alpine\nENTRYPOINT ["/a"]\n').config?.Cmd, null);
    assert.deepEqual(spec('FROM alpine\nCMD ["x"]\nENTRYPOINT ["/a"]\n').config?.Cmd, ['x']);
  });

  it('reads ENV and LABEL in both forms, expanding with the values before the instruction', () => {
    const s = spec(
      'FROM scratch\nENV A=1\nENV A=2 B=$A\nENV C hello  world\nLABEL "x y"="$B" z=\'$A\'\nLABEL old form value\n',
    );
    assert.deepEqual(s.config?.Env, [PATH, 'A=2', 'B=1', 'C=hello  world']);
    assert.deepEqual(s.config?.Labels, { 'x y': '1', z: '$A', old: 'form value' });
  });

  it('scopes ARG: global ARGs only in FROM and after a re-declaration, --build-arg overrides defaults', () => {
    const text =
      'ARG TAG=3.19\nARG G=global\nFROM alpine:${TAG}\nENV X=${G}-${TAG}\nARG G\nARG L=local\nENV Y=$G-$L\n';
    const s = spec(text, { buildArgs: { L: 'cli' } });
    assert.equal(s.from, 'docker://docker.io/library/alpine:3.19');
    assert.deepEqual(s.config?.Env, ['X=-', 'Y=global-cli']);
    const plan2 = parseDockerfile('FROM alpine\nENV P=/app:$PATH\n', { platform: amd64 });
    assert.match(
      plan2.warnings.join('\n'),
      /Dockerfile:1: \$PATH is not set in the Dockerfile; docker build would take it from alpine's config/,
    );
    const withBase = spec('FROM alpine\nENV P=/app:$PATH\nWORKDIR sub\n', {
      baseConfig: () => ({ Env: ['PATH=/bin'], WorkingDir: '/w' }),
    });
    assert.deepEqual(withBase.config?.Env, ['P=/app:/bin']);
    assert.equal(withBase.config?.WorkingDir, '/w/sub');
    assert.deepEqual(spec('FROM scratch\nENV PATH=/app:$PATH\n').config?.Env, [`PATH=/app:${DEFAULT_PATH}`]);
    const plan = parseDockerfile(text, { buildArgs: { NOPE: '1', HTTP_PROXY: 'x' }, platform: amd64 });
    assert.match(plan.warnings.join('\n'), /build-args \[NOPE\] were not consumed/);
  });

  it('provides TARGETARCH and friends after ARG, as BuildKit does', () => {
    const s = spec('FROM scratch\nARG TARGETARCH\nARG TARGETOS\nENV ARCH=$TARGETOS/$TARGETARCH\n');
    assert.deepEqual(s.config?.Env, [PATH, 'ARCH=linux/amd64']);
  });

  it('sets WORKDIR relative to the previous one and creates it, owned by USER', () => {
    const s = spec(
      'FROM scratch\nWORKDIR /a\nWORKDIR b/../c\nUSER 1000:1000\nWORKDIR d\nCOPY x .\nCOPY y ../z\n',
    );
    assert.equal(s.config?.WorkingDir, '/a/c/d');
    assert.deepEqual(s.directories, [
      { path: '/a' },
      { path: '/a/c' },
      { path: '/a/c/d', ownership: { uid: 1000, gid: 1000 } },
    ]);
    const dests = s.contents.map((c) => ('dest' in c ? c.dest : undefined));
    assert.deepEqual(dests, ['/a/c/d/', '/a/c/z']);
  });

  it('reads EXPOSE, VOLUME, USER, STOPSIGNAL, HEALTHCHECK, ONBUILD, MAINTAINER', () => {
    const s = spec(
      'FROM scratch\nARG P=8080\nEXPOSE 80 $P/udp 9000-9001/TCP\nVOLUME /data ["/x"]\nVOLUME ["/a", "/b"]\nUSER app:staff\nSTOPSIGNAL SIGQUIT\n' +
        'HEALTHCHECK --interval=1m30s --timeout=5s --retries=2 CMD curl -f http://localhost/\nONBUILD COPY . /src\nMAINTAINER me@example.org\n',
    );
    assert.deepEqual(Object.keys(s.config?.ExposedPorts ?? {}), [
      '80/tcp',
      '8080/udp',
      '9000/tcp',
      '9001/tcp',
    ]);
    assert.deepEqual(Object.keys(s.config?.Volumes ?? {}), ['/data', '[/x]', '/a', '/b']);
    assert.equal(s.config?.User, 'app:staff');
    assert.equal(s.config?.StopSignal, 'SIGQUIT');
    assert.deepEqual(s.config?.Healthcheck, {
      Test: ['CMD-SHELL', 'curl -f http://localhost/'],
      Interval: 90e9,
      Timeout: 5e9,
      Retries: 2,
    });
    assert.deepEqual(s.config?.OnBuild, ['COPY . /src']);
    assert.equal(s.author, 'me@example.org');
    assert.deepEqual(spec('FROM scratch\nHEALTHCHECK NONE\n').config?.Healthcheck, { Test: ['NONE'] });
  });

  it('parses Go durations', () => {
    assert.equal(parseGoDuration('1m30s'), 90e9);
    assert.equal(parseGoDuration('500ms'), 5e8);
    assert.equal(parseGoDuration('1.5h'), 5400e9);
    // the micro sign, as Go spells it (the bundle writes the pattern escaped: it is ASCII only)
    assert.equal(parseGoDuration('250\u00B5s'), 250e3);
    assert.equal(parseGoDuration('250\u03BCs'), 250e3, 'the Greek mu, which Go takes too');
    assert.equal(parseGoDuration('250us'), 250e3);
    assert.equal(parseGoDuration('5'), undefined);
  });

  it('reads COPY/ADD flags: --chown numbers and names, --chmod, --link, --exclude, # fromscratch: closure', () => {
    const s = spec(
      'FROM scratch\nARG U=app\n# fromscratch: closure\nCOPY --chown=${U}:staff --chmod=0750 --link --exclude=*.md --exclude=tmp bin/ /usr/local/bin/\nCOPY --chown=10 a /a\n',
    );
    assert.deepEqual(s.contents[0], {
      kind: 'add',
      src: 'bin',
      dest: '/usr/local/bin/',
      context: '/ctx',
      ownership: { user: 'app', group: 'staff', mode: 0o750 },
      exclude: ['*.md', 'tmp'],
      link: true,
      closure: true,
    });
    assert.deepEqual((s.contents[1] as Extract<ContentItem, { kind: 'add' }>).ownership, {
      uid: 10,
      gid: 10,
    });
  });

  it('copies here-documents, expanding unless the delimiter is quoted, stripping tabs with <<-', () => {
    const s = spec(
      'FROM scratch\nENV N=world\nCOPY <<EOF <<-\'RAW\' /etc/\nhello "$N" ${N:-x}\nEOF\n\tkeep $N\n\tRAW\nCOPY --chmod=600 <<X /one\nX\n',
    );
    const [a, b, c] = s.contents as Extract<ContentItem, { kind: 'file' }>[];
    assert.equal(a!.dest, '/etc/EOF');
    assert.equal(new TextDecoder().decode(a!.data), 'hello "world" world\n');
    assert.equal(b!.dest, '/etc/RAW');
    assert.equal(new TextDecoder().decode(b!.data), 'keep $N\n');
    assert.equal(c!.dest, '/one');
    assert.equal(c!.mode, 0o600);
    assert.equal(c!.data.byteLength, 0);
  });

  it('represents ADD URL with --checksum as a remote add item named after the URL', () => {
    const sum = `sha256:${'ab'.repeat(32)}`;
    const s = spec(
      `FROM scratch\nADD --checksum=${sum} https://example.org/dl/tool-1.2.tar.gz /opt/\nADD http://example.org/x /y\n`,
    );
    assert.deepEqual(s.contents, [
      {
        kind: 'add',
        src: 'https://example.org/dl/tool-1.2.tar.gz',
        dest: '/opt/tool-1.2.tar.gz',
        checksum: sum,
      },
      { kind: 'add', src: 'http://example.org/x', dest: '/y' },
    ]);
  });

  it('honours # escape=` and continuation lines with comments and blank lines inside', () => {
    const s = spec('# escape=`\nFROM scratch\nCOPY a `\n  # a comment\n\n  b `\n  c:\\dir\\ /x/\n');
    assert.deepEqual(
      s.contents.map((c) => (c.kind === 'add' ? c.src : '')),
      ['a', 'b', 'c:\\dir\\'],
    );
  });

  it('agrees with dockerfile-ast on where instructions start (differential)', () => {
    const text =
      'FROM scratch AS a\n# c\nCOPY x \\\n  y \\\n  /z/\nENV A=1 \\\n  B=2\n\nLABEL a=b\nCMD ["x"]\n';
    const ours = splitDockerfileLines(text).instructions.map((i) => [i.keyword, i.line]);
    const theirs = DockerfileParser.parse(text)
      .getInstructions()
      .map((i) => [i.getKeyword(), i.getRange().start.line + 1]);
    assert.deepEqual(ours, theirs);
  });
});

describe('stages', () => {
  const multi =
    'FROM alpine:3.19 AS build\nENV P=/opt\nWORKDIR $P\nCOPY app.tar .\nFROM build AS test\nLABEL t=1\nFROM scratch\nCOPY --from=build /opt/ /opt/\nCOPY --from=busybox:1.36 /bin/busybox /bin/\nCOPY --from=0 /etc/os-release /\nCMD ["/opt/app"]\n';

  it('turns COPY --from=stage into copy-from with the stage spec, and --from=image into an image source', () => {
    const s = spec(multi);
    assert.equal(s.from, undefined);
    const [a, b, c] = s.contents as Extract<ContentItem, { kind: 'copy-from' }>[];
    assert.ok(a && 'stage' in a.from);
    assert.equal(a.from.name, 'build');
    assert.equal(a.from.stage.from, 'docker://docker.io/library/alpine:3.19');
    assert.deepEqual(a.from.stage.config?.Env, ['P=/opt']);
    assert.deepEqual(a.src, ['/opt/']);
    assert.deepEqual(b?.from, { image: 'docker://docker.io/library/busybox:1.36' });
    assert.ok(c && 'stage' in c.from && c.from.name === 'build');
  });

  it('flattens a stage FROM another stage and builds --target', () => {
    const plan = parseDockerfile(multi, { target: 'test', context: '/ctx', platform: amd64 });
    const s = toBuildSpec(plan, 'test');
    assert.equal(s.from, 'docker://docker.io/library/alpine:3.19');
    assert.equal(s.name, 'test');
    assert.deepEqual(s.config?.Labels, { t: '1' });
    assert.equal(s.config?.WorkingDir, '/opt');
    assert.deepEqual(s.contents, [
      { kind: 'add', src: 'app.tar', dest: '/opt/', context: '/ctx', closure: false },
    ]);
    fails(
      () => toBuildSpec(plan, 'tset'),
      'DOCKERFILE_SYNTAX',
      /target stage "tset" could not be found \(did you mean "test"\?\)/,
    );
  });

  it('only refuses RUN in stages the target needs', () => {
    const text =
      'FROM debian AS tools\nRUN apt-get update\nFROM scratch AS final\nCOPY x /\nFROM scratch AS uses\nCOPY --from=tools /bin/ls /\n';
    const plan = parseDockerfile(text, { target: 'final', platform: amd64 });
    assert.equal(plan.stages[plan.target]?.name, 'final');
    const msg = fails(
      () => parseDockerfile(text, { platform: amd64 }),
      'DOCKERFILE_UNSUPPORTED',
      /Dockerfile:2: RUN apt-get update/,
    );
    assert.doesNotMatch(msg, /:4:/);
  });

  it('reports cycles, self copies, unknown and duplicate stage names', () => {
    fails(
      () => parseDockerfile('FROM scratch AS a\nCOPY --from=b /x /\nFROM scratch AS b\nCOPY --from=a /y /\n'),
      'DOCKERFILE_SYNTAX',
      /cycle: a -> b -> a/,
    );
    fails(
      () => parseDockerfile('FROM scratch AS a\nCOPY --from=a /x /\n'),
      'DOCKERFILE_SYNTAX',
      /cycle: a -> a/,
    );
    fails(
      () => parseDockerfile('FROM scratch AS builder\nFROM scratch\nCOPY --from=buidler /x /\n'),
      'DOCKERFILE_SYNTAX',
      /Dockerfile:3: .*unknown stage \(did you mean "builder"\?\)/,
    );
    fails(
      () => parseDockerfile('FROM scratch AS a\nFROM scratch AS a\n'),
      'DOCKERFILE_SYNTAX',
      /:2: duplicate stage name "a"/,
    );
    fails(
      () => parseDockerfile('FROM scratch\nCOPY --from=3 /x /\n'),
      'DOCKERFILE_SYNTAX',
      /there is no stage 3/,
    );
  });
});

describe('errors are reported all at once, with file:line', () => {
  it('lists every RUN with its line and points to --package, --trace and COPY --from', () => {
    try {
      parseDockerfile('FROM debian\nRUN apt-get update\nCOPY a /\nRUN make \\\n  install\n', {
        file: 'app/Dockerfile',
      });
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(isFromscratchError(e, 'DOCKERFILE_UNSUPPORTED'));
      assert.match(e.message, /app\/Dockerfile:2: RUN apt-get update/);
      assert.match(e.message, /app\/Dockerfile:4: RUN make/);
      assert.match(e.hint ?? '', /--package/);
      assert.match(e.hint ?? '', /--trace/);
      assert.match(e.hint ?? '', /COPY --from/);
    }
  });

  it('lists every syntax problem at once', () => {
    const msg = fails(
      () =>
        parseDockerfile(
          'FROM scratch\nCOPY onlyone\nFOO bar\nEXPOSE http\nCOPY --bogus=1 a /\nCMD ["x"]\nWORKDIR\n',
          { file: 'D' },
        ),
      'DOCKERFILE_SYNTAX',
      /D:2: COPY requires at least two arguments/,
      /D:3: unknown instruction: FOO/,
      /D:4: invalid port "http"/,
      /D:5: unknown flag for COPY: --bogus/,
      /D:7: WORKDIR requires an argument/,
    );
    assert.doesNotMatch(msg, /D:6/);
  });

  const rows: [string, string, RegExp][] = [
    ['no FROM', 'ENV A=1\n', /ENV comes before the first FROM/],
    ['empty file', '\n\n# only a comment\n', /no FROM instruction/],
    ['typo', 'FORM scratch\n', /unknown instruction: FORM \(did you mean FROM\?\)/],
    [
      'COPY ../ escape',
      'FROM scratch\nCOPY ../secret /\n',
      /:2: COPY source \.\.\/secret is outside the build context/,
    ],
    ['bad FROM', 'FROM a b\n', /FROM requires either one argument, or three/],
    ['bad stage name', 'FROM scratch AS 1x\n', /invalid stage name/],
    [
      'multiple sources to a file',
      'FROM scratch\nCOPY a b /c\n',
      /destination must be a directory and end with a \//,
    ],
    ['bad chmod', 'FROM scratch\nCOPY --chmod=u+x a /\n', /invalid --chmod=u\+x/],
    ['bad checksum', 'FROM scratch\nADD --checksum=md5:1 https://e.org/x /x\n', /invalid --checksum/],
    [
      'checksum on a local file',
      `FROM scratch\nADD --checksum=sha256:${'a'.repeat(64)} x /x\n`,
      /--checksum applies to http\(s\) sources only/,
    ],
    ['COPY of a URL', 'FROM scratch\nCOPY https://e.org/x /x\n', /use ADD for URLs/],
    [
      'bad URL',
      'FROM scratch\nADD http://[bad/x /x\n',
      /:2: ADD source http:\/\/\[bad\/x is not a valid URL/,
    ],
    ['git source', 'FROM scratch\nADD https://github.com/a/b.git /src\n', /git repository/],
    ['unterminated quote', 'FROM scratch\nENV A="x\n', /matching double-quote/],
    ['bad substitution', 'FROM scratch\nENV A=${B\n', /missing '\}'/],
    ['SHELL not JSON', 'FROM scratch\nSHELL /bin/sh -c\n', /SHELL requires the arguments to be in JSON form/],
    ['ONBUILD ONBUILD', 'FROM scratch\nONBUILD ONBUILD COPY a b\n', /isn't allowed/],
    [
      'bad fromscratch directive',
      'FROM scratch\n# fromscratch: clsoure\nCOPY a /\n',
      /:2: unknown fromscratch directive "clsoure"/,
    ],
    [
      'duplicate escape directive',
      '# escape=`\n# escape=\\\nFROM scratch\n',
      /Dockerfile:2: only one escape parser directive/,
    ],
    ['odd escape directive', '# escape=x\nFROM scratch\n', /Dockerfile:1: invalid escape token "x"/],
    [
      'HEALTHCHECK without CMD',
      'FROM scratch\nHEALTHCHECK curl x\n',
      /HEALTHCHECK takes CMD <command> or NONE/,
    ],
  ];
  for (const [what, text, re] of rows) {
    it(`rejects ${what}`, () => {
      fails(() => parseDockerfile(text), 'DOCKERFILE_SYNTAX', re);
    });
  }
});

describe('hostile Dockerfiles (RELIABILITY.md F9): an error with a line number, bounded time and memory', () => {
  it('refuses a 10 MB single line before parsing', () => {
    fails(
      () => parseDockerfile(`FROM scratch\nLABEL a=${'x'.repeat(10 * 1024 * 1024)}\n`),
      'DOCKERFILE_SYNTAX',
      /over the 1048576-byte limit/,
    );
  });
  it('refuses endless continuation lines', () => {
    fails(
      () => parseDockerfile(`FROM scratch\nCOPY a \\\n${'b \\\n'.repeat(200_000)}`),
      'DOCKERFILE_SYNTAX',
      /Dockerfile:2: instruction spans more than 20000 lines/,
    );
  });
  it('accepts a lone trailing continuation like Docker', () => {
    assert.deepEqual(spec('FROM scratch\nCMD ["x"] \\\n').config?.Cmd, ['x']);
  });
  it('refuses an unterminated here-document', () => {
    fails(
      () => parseDockerfile('FROM scratch\nCOPY <<EOF /x\nhello\n'),
      'DOCKERFILE_SYNTAX',
      /Dockerfile:2: unterminated here-document <<EOF/,
    );
  });
  it('refuses NUL bytes with their line', () => {
    fails(
      () => parseDockerfile('FROM scratch\nCOPY a\0b /\n'),
      'DOCKERFILE_SYNTAX',
      /Dockerfile:2: contains a NUL byte/,
    );
  });
  it('refuses an unknown instruction with a long name without echoing all of it', () => {
    const msg = fails(
      () => parseDockerfile(`FROM scratch\n${'X'.repeat(100_000)} y\n`),
      'DOCKERFILE_SYNTAX',
      /Dockerfile:2: unknown instruction/,
    );
    assert.ok(msg.length < 500);
  });
  it('bounds nested default expansion', () => {
    const deep = `${'${A:-'.repeat(500)}x${'}'.repeat(500)}`;
    assert.deepEqual(spec(`FROM scratch\nENV B=${deep}\n`).config?.Env, [PATH, 'B=x']);
  });
  it('refuses substitutions nested deeper than the stack should go', () => {
    const deep = `${'${A:-'.repeat(100_000)}x${'}'.repeat(100_000)}`;
    fails(
      () => parseDockerfile(`FROM scratch\nENV B=${deep}\n`),
      'DOCKERFILE_SYNTAX',
      /Dockerfile:2: substitutions nested more than 1000 levels/,
    );
  });
  it('handles many heredoc markers and $ runs in bounded time', () => {
    fails(
      () => parseDockerfile(`FROM scratch\nCOPY ${'<<EOF '.repeat(50_000)}/x\n`),
      'DOCKERFILE_SYNTAX',
      /unterminated here-document/,
    );
    assert.ok(spec(`FROM scratch\nLABEL a="${'$'.repeat(500_000)}"\n`).config?.Labels?.a?.length === 500_000);
  });
  it('survives CRLF line endings and a byte-order mark', () => {
    assert.deepEqual(spec('\ufeffFROM scratch\r\nCMD ["x"]\r\n').config?.Cmd, ['x']);
  });
});

describe('image names as docker build reads them', () => {
  it('normalises FROM and COPY --from names (ARG-substituted, --platform, a registry with a port, stage names)', () => {
    const text = [
      'ARG REG=127.0.0.1:5000',
      'ARG BASE=library/node:20',
      'FROM --platform=$BUILDPLATFORM ${REG}/x:1 AS build',
      'FROM oci:1 AS odd',
      'FROM ${BASE}',
      'COPY --from=build /a /a',
      'COPY --from=localhost/tools@sha256:' + 'a'.repeat(64) + ' /b /b',
      'COPY --from=odd /c /c',
    ].join('\n');
    const plan = parseDockerfile(text, { platform: amd64, context: '/ctx' });
    const s = toBuildSpec(plan);
    assert.equal(s.from, 'docker://docker.io/library/node:20');
    const froms = (s.contents as Extract<ContentItem, { kind: 'copy-from' }>[]).map((c) =>
      'stage' in c.from ? c.from.stage.from : c.from.image,
    );
    assert.deepEqual(froms, [
      'docker://127.0.0.1:5000/x:1',
      `docker://localhost/tools@sha256:${'a'.repeat(64)}`,
      // docker reads oci:1 as Docker Hub's image "oci", tag 1, and so does fromscratch
      'docker://docker.io/library/oci:1',
    ]);
  });

  it('keeps a transport that is no docker name, and refuses a name docker refuses, naming it', () => {
    const s = toBuildSpec(parseDockerfile('FROM oci:out:base\n', { platform: amd64 }));
    assert.equal(s.from, 'oci:out:base');
    assert.throws(
      () => parseDockerfile('FROM Alpine/Base\n', { platform: amd64 }),
      (e: unknown) => isFromscratchError(e, 'DOCKERFILE_SYNTAX') && /must be lowercase/.test(e.message),
    );
  });
});
