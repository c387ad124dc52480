/**
 * verify.test.ts — `fromscratch build --verify [--fix]` and `fromscratch run` as a new user tries them
 * (issue 4): a command run inside the built image proves it works, --fix adds what it misses, a failed
 * verification writes nothing; `run` passes a program's output and exit code through.
 */
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { dockerRemoveImage, dockerRun, requireTool, run, withTempDir } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

// the CPython rule ships the standard library; what the image misses is an app dependency from Debian's
// dist-packages (PyYAML), which only a run finds
const VERIFY = "python3 -c 'import json, yaml'";

interface VerifiedSummary {
  readonly outputs: readonly { output: string; digest: string }[];
  readonly verified?: readonly { command: string; exitCode: number; added: readonly string[] }[];
}

test('--verify --fix adds what `python3 -c "import json, yaml"` misses; the image then runs it in docker', async () => {
  requireTool('strace', 'strace');
  requireTool('runc', 'runc');
  const image = 'e2e-verify/python-json:1';
  await withTempDir('e2e-verify-fix', async (dir) => {
    try {
      const r = await fromscratch(
        [
          'build',
          '--binary',
          '/usr/bin/python3',
          '--verify',
          VERIFY,
          '--fix',
          '--json',
          '-o',
          'oci:out:v',
          '-o',
          `docker-daemon:${image}`,
        ],
        { cwd: dir },
      );
      assert.equal(r.code, 0, r.stderr);
      const summary = JSON.parse(r.stdout) as VerifiedSummary;
      assert.equal(summary.outputs.length, 2);
      const v = summary.verified?.[0];
      assert.ok(v, `--json lists the verification:\n${r.stdout.slice(0, 2000)}`);
      assert.equal(v.command, VERIFY);
      assert.equal(v.exitCode, 0);
      assert.ok(
        v.added.includes('/usr/lib/python3/dist-packages/yaml/__init__.py'),
        `yaml/__init__.py was added: ${v.added.join(' ')}`,
      );
      assert.ok(
        !v.added.includes('/usr/lib/python3.11/json/__init__.py'),
        'the standard library was already there',
      );
      assert.ok(!v.added.some((p) => p.includes('.pyenv')), 'nothing from the pyenv shim on PATH');
      const out = await dockerRun(
        image,
        ['-c', 'import json, yaml; print(json.dumps({"ok": True}), yaml.safe_dump([1]).strip())'],
        '/usr/bin/python3',
      );
      assert.equal(out, '{"ok": true} - 1\n');
    } finally {
      await dockerRemoveImage(image);
    }
  });
});

test('--verify without --fix fails with VERIFY_FAILED naming the missing files, a hint, exit 1, and writes nothing', async () => {
  requireTool('strace', 'strace');
  requireTool('runc', 'runc');
  await withTempDir('e2e-verify-nofix', async (dir) => {
    const r = await fromscratch(
      [
        'build',
        '--binary',
        '/usr/bin/python3',
        '--verify',
        VERIFY,
        '-o',
        'oci:out:v',
        '-o',
        'oci-archive:out.tar',
      ],
      { cwd: dir },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '', 'no digest printed');
    assert.match(r.stderr, /error\[VERIFY_FAILED\]/);
    assert.match(r.stderr, /it looked for \/\S+.*which the source root has/, 'names the missing files');
    assert.match(r.stderr, /No module named 'yaml'/, "the command's own output");
    assert.match(r.stderr, /hint:.*--fix/);
    assert.doesNotMatch(r.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
    assert.deepEqual(await readdir(dir), [], 'no output written');
  });
});

test('fromscratch run of a static program prints its output and passes its exit code through', async () => {
  const gcc = requireTool('gcc', 'gcc');
  requireTool('runc', 'runc');
  await withTempDir('e2e-run-static', async (dir) => {
    await writeFile(
      join(dir, 'prog.c'),
      '#include <stdio.h>\n#include <stdlib.h>\nint main(int argc, char **argv) {\n  printf("args:%d", argc - 1);\n  for (int i = 1; i < argc; i++) printf(" %s", argv[i]);\n  printf("\\n");\n  fflush(stdout);\n  return argc > 1 ? atoi(argv[1]) : 0;\n}\n',
    );
    await run(gcc, ['-static', '-O2', '-o', join(dir, 'prog'), join(dir, 'prog.c')]);
    const b = await fromscratch(
      ['build', '--add', './prog:/prog', '--entrypoint', '["/prog"]', '-o', 'oci:out:run'],
      { cwd: dir },
    );
    assert.equal(b.code, 0, b.stderr);
    const ok = await fromscratch(['run', 'oci:out:run'], { cwd: dir });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'args:0\n');
    const bad = await fromscratch(['run', 'oci:out:run', '42', 'x y'], { cwd: dir });
    assert.equal(bad.code, 42, bad.stderr);
    assert.equal(bad.stdout, 'args:2 42 x y\n');
  });
});
