/**
 * progress.test.ts — progress on stderr as a user sees it (issue 13): plain timestamped lines when
 * stderr is not a terminal (one per step start and end, for the closure, the layers, each blob pushed
 * and pulled, and a total), nothing with -q / --progress quiet / FROMSCRATCH_PROGRESS=quiet, and live
 * bars redrawn in place on a terminal (util-linux `script` gives the CLI a pty) that end with a clean
 * final line. stdout carries the same digest in every mode.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { registryAddress, requireTool, run, withTempDir } from '../support/validate-tools.ts';
import { BIN, CODE_CACHE, fromscratch, ROOT } from './cli.ts';

const STAMP = String.raw`\[\s*\d+\.\d+s\]`;
/** the build every mode runs: a small program, written to an OCI layout */
const BUILD = ['build', '--binary', '/usr/bin/env'];

test('plain progress: one timestamped line per step start and end, blobs pushed and pulled, a total', async () => {
  const reg = await registryAddress();
  const repo = `${reg}/e2e-progress-${randomBytes(4).toString('hex')}`;
  await withTempDir('e2e-progress-plain', async (dir) => {
    const built = await fromscratch([
      '--progress',
      'plain',
      ...BUILD,
      '-o',
      `oci:${join(dir, 'oci')}:1`,
      '-o',
      `docker://${repo}:1`,
    ]);
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stdout, /^sha256:[0-9a-f]{64}\n$/, 'stdout is the digest only');
    const lines = built.stderr.split('\n');
    const has = (re: RegExp, what: string) =>
      assert.ok(
        lines.some((l) => re.test(l)),
        `${what}:\n${built.stderr}`,
      );
    has(new RegExp(`^${STAMP} resolving the closure of 1 program \\(linux/\\w+\\)$`), 'closure start');
    has(
      new RegExp(`^${STAMP} resolving the closure of 1 program .*: done in \\d+\\.\\d s; \\d+ files$`),
      'closure end',
    );
    has(new RegExp(`^${STAMP} writing layer \\(.+\\): \\d+ entries$`), 'layer start');
    has(
      new RegExp(`^${STAMP} writing layer .*: done, [\\d.]+ [kM]?B in \\d+\\.\\d s.*; [\\d.]+ [kM]?B gzip$`),
      'layer end',
    );
    const host = reg.replace(/\./g, '\\.');
    has(
      new RegExp(`^${STAMP} pushing [0-9a-f]{12} to ${host}/e2e-progress-[0-9a-f]+ \\([\\d.]+ [kM]?B\\)$`),
      'push start',
    );
    has(
      new RegExp(
        `^${STAMP} pushing [0-9a-f]{12} to ${host}/.*: (done, [\\d.]+ [kM]?B|exists) in \\d+\\.\\d s`,
      ),
      'push end',
    );
    has(new RegExp(`^${STAMP} finished \\d+ steps, [\\d.]+ [kM]?B .*in \\d+\\.\\d s$`), 'total line');
    // one line per step start and end, never one per chunk: the layer of libc (MBs) has exactly two
    assert.equal(lines.filter((l) => /writing layer \(package libc6\)/.test(l)).length, 2, built.stderr);

    // pulled with an empty cache, so every blob is fetched (and reported)
    const cache = mkdtempSync(join(tmpdir(), 'e2e-progress-cache-'));
    try {
      const pulled = await fromscratch(
        ['copy', '--progress', 'plain', `docker://${repo}:1`, `oci:${join(dir, 'pulled')}:1`],
        {
          env: { FROMSCRATCH_CACHE: cache },
        },
      );
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.match(
        pulled.stderr,
        new RegExp(`^${STAMP} pulling [0-9a-f]{12} from ${host}/e2e-progress-[0-9a-f]+ \\(`, 'm'),
      );
      assert.match(
        pulled.stderr,
        new RegExp(`^${STAMP} pulling [0-9a-f]{12} .*: done, [\\d.]+ [kM]?B in`, 'm'),
      );
      assert.match(pulled.stdout, /^sha256:[0-9a-f]{64}\n$/);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});

test('quiet: -q, --progress quiet and FROMSCRATCH_PROGRESS=quiet print nothing on stderr; stdout is unchanged', async () => {
  await withTempDir('e2e-progress-quiet', async (dir) => {
    const out = (n: string) => ['-o', `oci:${join(dir, n)}:1`];
    const plain = await fromscratch([...BUILD, ...out('plain'), '--progress', 'plain']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.notEqual(plain.stderr, '', 'plain mode does print');
    for (const [args, env] of [
      [[...BUILD, ...out('q'), '-q'], {}],
      [['--progress', 'quiet', ...BUILD, ...out('pq')], {}],
      [[...BUILD, ...out('env')], { FROMSCRATCH_PROGRESS: 'quiet' }],
    ] as const) {
      const r = await fromscratch(args, { env });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '', `${args.join(' ')} ${JSON.stringify(env)}`);
      assert.equal(r.stdout, plain.stdout, 'the same digest on stdout');
    }
    const bad = await fromscratch([...BUILD, ...out('bad'), '--progress', 'fancy']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /^error\[USAGE\]: --progress "fancy" is not a progress mode/m);
    assert.match(bad.stderr, /hint: use one of: auto, tty, plain, quiet/);
  });
});

test('tty: bars redrawn in place under `script`, a clean final line, the cursor shown again; stdout unchanged', async () => {
  requireTool('script', 'util-linux');
  await withTempDir('e2e-progress-tty', async (dir) => {
    const plain = await fromscratch([...BUILD, '-o', `oci:${join(dir, 'plain')}:1`, '--progress', 'plain']);
    assert.equal(plain.code, 0, plain.stderr);
    const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
    // stdout goes to a file, so what the terminal shows is stderr alone
    const cmd = [process.execPath, BIN, ...BUILD, '-o', `oci:${join(dir, 'tty')}:1`].map(q).join(' ');
    const stdoutFile = join(dir, 'stdout');
    // an empty cache: the layers are written (and shown as bars), not found in the layer cache
    const r = await run('script', ['-qec', `${cmd} > ${q(stdoutFile)}`, '/dev/null'], {
      cwd: ROOT,
      env: {
        ...process.env,
        FROMSCRATCH_CACHE: join(dir, 'cache'),
        FROMSCRATCH_CODE_CACHE: CODE_CACHE,
        TERM: 'xterm',
      },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const screen = r.stdout;
    assert.equal(readFileSync(stdoutFile, 'utf8'), plain.stdout, 'the same digest on stdout');
    assert.match(
      screen,
      /\r\x1b\[\d+A\x1b\[J/,
      'the live area is redrawn in place (carriage return, cursor up, erase)',
    );
    assert.match(screen, /\[[=> ]{20}\]\s+\d+%/, 'a bar with a percentage');
    assert.ok(
      screen.includes('\x1b[?25l') && screen.trimEnd().endsWith('\x1b[?25h'),
      'cursor hidden, then shown',
    );
    // the screen as it is left: no bar remains, the last line is the total
    const text = screen.replace(/\x1b\[\?25[lh]/g, '');
    const finalLines = text
      .slice(text.lastIndexOf('\x1b[J') + 3)
      .split(/\r?\n/)
      .filter((l) => l.trim() !== '');
    assert.ok(finalLines.length > 0, screen);
    assert.match(finalLines.at(-1)!, new RegExp(`^${STAMP} finished \\d+ steps, .* in \\d+\\.\\d s\\r?$`));
    assert.ok(
      !finalLines.some((l) => /\[[=> ]{20}\]/.test(l)),
      `no bar is left on screen:\n${finalLines.join('\n')}`,
    );
  });
});
