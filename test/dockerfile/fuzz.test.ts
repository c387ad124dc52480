/**
 * fuzz.test.ts — mutated Dockerfiles and YAML specs must give a result or a FromscratchError, never a
 * crash (a plain Error is a bug). Seeded, so every run tries the same inputs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDockerfile, toBuildSpec } from '../../src/dockerfile/parse.ts';
import { isFromscratchError } from '../../src/errors.ts';
import { parseSpecFile } from '../../src/yaml/parse-spec.ts';

const DOCKERFILE = `# syntax=docker/dockerfile:1
ARG BASE=scratch
FROM \${BASE} AS build
ARG V=1
ENV A=hello B="x y" C=\${V:-no}
LABEL "a b"=c d=\${B}
WORKDIR app
# fromscratch: closure
COPY --chown=app:1 --chmod=755 bin/* ./
COPY <<EOF <<-"E2" /etc/
hello $A
EOF
\traw $A
\tE2
ADD --checksum=sha256:${'a'.repeat(64)} https://example.org/x.tar.gz /dl/
EXPOSE 80 53/udp 8000-8001
VOLUME ["/data"]
USER nonroot
HEALTHCHECK --interval=30s CMD ["/app/run", "health"]
ENTRYPOINT ["/app/run", "a b"]
CMD echo hi
FROM build AS final
COPY --from=build /app/ /x/
ONBUILD COPY . /src
`;

const SPEC = `from: scratch
platforms: [linux/amd64]
contents:
  - binary: /usr/bin/ruby
  - add: ./app
    to: /app
  - trace: ruby app/main.rb
  - package: ruby3.1
  - file: /etc/motd
    content: "hi"
    mode: "0644"
entrypoint: ["/usr/bin/ruby", "/app/main.rb"]
env: {LANG: C.UTF-8}
labels: {a: b}
expose: [8080]
defaults: {tmp: false}
`;

const ALPHABET = [
  '\\',
  '`',
  '$',
  '{',
  '}',
  '"',
  "'",
  '\n',
  ' ',
  '\t',
  '<<',
  '-',
  '[',
  ']',
  ':',
  '=',
  '#',
  '\0',
  'é',
  '\r',
  'RUN ',
  'FROM x AS y\n',
  '--',
  '/',
  '..',
  '*',
  '&a',
  '*a',
  '!',
  '|',
];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function mutate(text: string, r: () => number): string {
  let t = text;
  const n = 1 + Math.floor(r() * 4);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(r() * (t.length + 1));
    const op = r();
    if (op < 0.4) t = t.slice(0, at) + ALPHABET[Math.floor(r() * ALPHABET.length)] + t.slice(at);
    else if (op < 0.7) t = t.slice(0, at) + t.slice(at + 1 + Math.floor(r() * 8));
    else {
      const from = Math.floor(r() * t.length);
      t = t.slice(0, at) + t.slice(from, from + Math.floor(r() * 30)) + t.slice(at);
    }
  }
  return t;
}

function survives(fn: () => unknown, input: string): void {
  try {
    fn();
  } catch (e) {
    assert.ok(isFromscratchError(e), `crash on ${JSON.stringify(input)}:\n${(e as Error).stack}`);
  }
}

describe('fuzz', () => {
  it('parseDockerfile + toBuildSpec never crash on 800 mutated Dockerfiles', () => {
    const r = rng(7);
    for (let i = 0; i < 800; i++) {
      const input = mutate(DOCKERFILE, r);
      survives(() => toBuildSpec(parseDockerfile(input, { context: '/ctx', buildArgs: { V: '2' } })), input);
    }
  });
  it('parseSpecFile never crashes on 400 mutated specs', () => {
    const r = rng(11);
    for (let i = 0; i < 400; i++) {
      const input = mutate(SPEC, r);
      survives(() => parseSpecFile(input, 'fromscratch.yaml'), input);
    }
  });
});
