/**
 * readme.test.ts — the README is a test: every command of the `sh` blocks of its Usage section runs, in
 * order, in one temporary directory, as a user would paste it, so the README cannot drift from the tool.
 *
 * What a user has and the test does not is provided around the commands, never by editing them:
 *  - `npx fromscratch` is this repository's bin/fromscratch.js (a `npx` on PATH that runs only that);
 *  - `--package` downloads come from the Debian snapshot mirror on loopback (test/support/debian-mirror.ts):
 *    the `fromscratch` wrapper adds `--apt-source` to a `build` that names a package;
 *  - the registry hosts of the examples (`localhost:5000`, `127.0.0.1:5000`) are the loopback test registry (REGISTRY_HOSTS);
 *  - the inputs an example names (`./hello`, `app.py`, `./context`, …) are made first (SETUP).
 * An example that names a relative input nobody made fails at once, naming the input and SETUP, so a new
 * README example gets its input here. No network: the mirror and the registry are on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { type DebianMirror, startDebianMirror } from '../support/debian-mirror.ts';
import { registryAddress } from '../support/validate-tools.ts';
import { BIN, CACHE, CODE_CACHE, ROOT } from './cli.ts';

const exec = promisify(execFile);

/** ReadmeExample is one command of the Usage section, with the comment lines above it. */
export interface ReadmeExample {
  /** 1-based, in README order */
  readonly index: number;
  /** the command, continuation lines joined */
  readonly command: string;
  /** the README line it starts on */
  readonly line: number;
}

/** parseReadmeExamples reads the commands of the `sh` blocks of the section titled `section`. */
export function parseReadmeExamples(readme: string, section = 'Usage'): ReadmeExample[] {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${section}`);
  if (start < 0) throw new Error(`README has no "## ${section}" section`);
  const examples: ReadmeExample[] = [];
  let inBlock = false;
  let pending: { text: string; line: number } | undefined;
  for (let i = start + 1; i < lines.length; i++) {
    const l = lines[i] as string;
    if (!inBlock && /^## /.test(l)) break;
    if (/^```/.test(l)) {
      if (!inBlock) inBlock = /^```(sh|bash|shell)\s*$/.test(l);
      else inBlock = false;
      continue;
    }
    if (!inBlock) continue;
    if (pending) {
      pending.text += `\n${l}`;
    } else if (l.trim() === '' || l.trim().startsWith('#')) {
      continue;
    } else {
      pending = { text: l, line: i + 1 };
    }
    if (!/\\\s*$/.test(l)) {
      examples.push({ index: examples.length + 1, command: pending.text, line: pending.line });
      pending = undefined;
    }
  }
  return examples;
}

/** REGISTRY_HOSTS are the registry hosts the examples use; each means the loopback test registry. */
const REGISTRY_HOSTS = ['localhost:5000', '127.0.0.1:5000'];

/**
 * SETUP makes the inputs the examples name, in the work directory, before the first one runs. Keyed by
 * the input as the README names it; before each example the harness checks that every relative path it
 * names (`./x`, `--add x`, `-c x`) was made here or by an earlier example.
 */
const SETUP: Record<string, (dir: string) => Promise<void> | void> = {
  // a small C program (dynamically linked: its closure is libc and the loader)
  './hello': async (dir) => {
    writeFileSync(join(dir, 'hello.c'), '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n');
    await exec('gcc', ['-O2', '-o', join(dir, 'hello'), join(dir, 'hello.c')]);
  },
  // the Python app of the --verify example: a standard module only a run finds
  './app.py': (dir) =>
    writeFileSync(join(dir, 'app.py'), 'import json, sqlite3\nprint(json.dumps({"ok": True}))\n'),
  // the C toolchain example compiles and links t.c against zlib
  't.c': (dir) =>
    writeFileSync(
      join(dir, 't.c'),
      '#include <stdio.h>\n#include <zlib.h>\nint main(void) { puts(zlibVersion()); return 0; }\n',
    ),
  // a Docker build context (no RUN): the C program, copied
  './context': async (dir) => {
    const ctx = join(dir, 'context');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'hello.c'), '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n');
    await exec('gcc', ['-O2', '-o', join(ctx, 'hello'), join(ctx, 'hello.c')]);
    writeFileSync(
      join(ctx, 'Dockerfile'),
      'FROM scratch\n# fromscratch: closure\nCOPY hello /hello\nENTRYPOINT ["/hello"]\n',
    );
    writeFileSync(join(ctx, '.dockerignore'), 'hello.c\n');
  },
  // the repository's examples, as in a checkout
  examples: (dir) => cpSync(join(ROOT, 'examples'), join(dir, 'examples'), { recursive: true }),
};

/** namedInputs lists the relative host paths a command names: `./x`, `--add x:…`, `-c x`, a context. */
export function namedInputs(command: string): string[] {
  const words = command.replace(/\\\n/g, ' ').match(/'[^']*'|"[^"]*"|\S+/g) ?? [];
  const found = new Set<string>();
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    const next = words[i + 1];
    if (/^\.\.?\//.test(w)) found.add(w.split(':')[0] as string);
    if ((w === '--add' || w === '-c' || w === '--config' || w === '-f' || w === '--file') && next) {
      const p = next.split(':')[0] as string;
      if (!p.startsWith('/') && !/^['"]/.test(p)) found.add(p);
    }
  }
  return [...found];
}

let dir: string;
let mirror: DebianMirror;
let env: NodeJS.ProcessEnv;
let registry: string;
const examples = parseReadmeExamples(readFileSync(join(ROOT, 'README.md'), 'utf8'));
const daemonImages = new Set<string>();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fromscratch-readme-'));
  mirror = await startDebianMirror();
  registry = await registryAddress();
  const bin = join(dir, '.readme-bin');
  mkdirSync(bin);
  // `npx fromscratch …` runs this checkout's CLI; a build that names a package uses the test mirror
  writeFileSync(
    join(bin, 'npx'),
    `#!/bin/sh
if [ "$1" != fromscratch ]; then
  echo "readme.test.ts: only 'npx fromscratch' is mapped, not 'npx $1'" >&2; exit 127
fi
shift
if [ "$1" = build ]; then
  for a in "$@"; do
    if [ "$a" = --package ]; then
      shift; exec "${process.execPath}" "${BIN}" build --apt-source "$FROMSCRATCH_README_APT_SOURCE" "$@"
    fi
  done
fi
exec "${process.execPath}" "${BIN}" "$@"
`,
  );
  chmodSync(join(bin, 'npx'), 0o755);
  env = {
    ...process.env,
    // the host's programs as a user has them (no version-manager shims in front of /usr/bin)
    PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    FROMSCRATCH_CACHE: CACHE,
    FROMSCRATCH_CODE_CACHE: CODE_CACHE,
    FROMSCRATCH_README_APT_SOURCE: mirror.aptSource,
  };
  for (const make of Object.values(SETUP)) await make(dir);
});

after(async () => {
  await mirror?.close();
  for (const image of daemonImages) await exec('docker', ['rmi', '-f', image]).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

test('the harness reads commands, continuation lines and inputs as a shell user would', () => {
  const md = [
    '## Usage',
    '```sh',
    '# comment',
    'npx fromscratch build --add ./a:/a \\',
    '    -c spec/x.yaml -o oci:out:1   # trailing',
    '',
    'npx fromscratch deps /usr/bin/curl',
    '```',
    '```json',
    '{"not": "a command"}',
    '```',
    '## Next',
    '```sh',
    'npx fromscratch never',
    '```',
  ].join('\n');
  const got = parseReadmeExamples(md);
  assert.deepEqual(
    got.map((e) => [e.index, e.line]),
    [
      [1, 4],
      [2, 7],
    ],
  );
  assert.deepEqual(namedInputs(got[0]?.command ?? ''), ['./a', 'spec/x.yaml']);
  assert.deepEqual(namedInputs(got[1]?.command ?? ''), []);
});

test('the README has usage examples', () => {
  assert.ok(examples.length >= 10, `found ${examples.length} examples in the Usage section`);
});

for (const example of examples) {
  const title = example.command.replace(/\s*\\\n\s*/g, ' ').replace(/\s+#.*$/, '');
  test(`README example ${example.index} (line ${example.line}): ${title}`, async () => {
    for (const input of namedInputs(example.command)) {
      if (!existsSync(join(dir, input))) {
        assert.fail(
          `README example ${example.index} (line ${example.line}) names the input ${input}, which no earlier example ` +
            'makes: add a maker for it to SETUP in test/e2e/readme.test.ts',
        );
      }
    }
    let command = example.command;
    for (const host of REGISTRY_HOSTS) command = command.split(host).join(registry);
    for (const m of command.matchAll(/docker-daemon:([^\s'"]+)/g)) daemonImages.add(m[1] as string);
    const r = await exec('bash', ['-e', '-o', 'pipefail', '-c', command], {
      cwd: dir,
      env,
      maxBuffer: 256 << 20,
      timeout: 300_000,
    }).catch((e: { code?: number; stdout?: string; stderr?: string }) => e);
    const code = 'code' in r && typeof r.code === 'number' ? r.code : 0;
    assert.equal(
      code,
      0,
      `README example ${example.index} (line ${example.line}) failed with exit ${code}:\n  ${title}\n${r.stdout ?? ''}${r.stderr ?? ''}`,
    );
  });
}
