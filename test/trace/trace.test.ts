/**
 * trace.test.ts — traceCommand against the real strace: what a run used, what it created and deleted,
 * failures, timeouts, relative paths after chdir, and the secrets policy.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isFromscratchError } from '../../src/errors.ts';
import { checkSecret } from '../../src/trace/secrets.ts';
import { traceCommand } from '../../src/trace/trace.ts';

const PY = '/usr/bin/python3';

function requireTool(name: string, pkg: string): void {
  const r = spawnSync('sh', ['-c', `command -v ${name}`]);
  assert.equal(r.status, 0, `${name} is required: apt-get install ${pkg}`);
}

describe('traceCommand (real strace)', () => {
  requireTool('strace', 'strace');

  it("traces python3 -c 'import json': interpreter, its libraries and the json package", async () => {
    // the string form, split like a shell and found on PATH (Debian's python3, not a pyenv shim)
    const r = await traceCommand("python3 -c 'import json'", {
      env: { ...process.env, PATH: '/usr/bin:/bin' },
    });
    const paths = r.files.map((f) => f.path);
    assert.equal(r.exitCode, 0);
    assert.deepEqual(r.command, ['python3', '-c', 'import json']);
    assert.ok(
      r.files.some((f) => f.kind === 'exec' && f.path === PY),
      'the interpreter is executed',
    );
    assert.ok(
      paths.some((p) => /\/json\/__init__\.py$/.test(p)),
      'json/__init__.py opened',
    );
    assert.ok(
      paths.some((p) => /libc\.so\.6$/.test(p)),
      'libc opened',
    );
    assert.ok(!paths.some((p) => /^\/(proc|sys|dev)\//.test(p)), 'no /proc, /sys, /dev');
    assert.ok(paths.every((p) => p.startsWith('/')));
  });

  it("traces sh -c 'cat /etc/hostname' through the child process", async () => {
    const r = await traceCommand("sh -c 'cat /etc/hostname'");
    const f = r.files.find((x) => x.path === '/etc/hostname');
    assert.ok(f, 'the file read by the child');
    assert.equal(f.kind, 'open');
    assert.equal(f.type, 'file');
    assert.ok(
      r.files.some((x) => x.kind === 'exec' && /\/cat$/.test(x.path)),
      'cat is executed',
    );
  });

  it('a command with shell operators runs as /bin/sh -c (docker shell form); broken quoting is still refused', async () => {
    const r = await traceCommand('cat /etc/hostname | wc -c && test -n "$HOME"');
    assert.equal(r.shell, true);
    assert.deepEqual(r.command, ['/bin/sh', '-c', 'cat /etc/hostname | wc -c && test -n "$HOME"']);
    assert.ok(
      r.files.some((f) => f.kind === 'exec' && /\/wc$/.test(f.path)),
      'both sides of the pipe are traced',
    );
    assert.ok(r.files.some((f) => f.path === '/etc/hostname'));
    const plain = await traceCommand("sh -c 'cat /etc/hostname'");
    assert.equal(plain.shell, undefined, 'quoted operators are words, no extra shell');
    await assert.rejects(
      () => traceCommand("cat '/etc/hostname | wc"),
      (e: unknown) => isFromscratchError(e, 'INVALID_ARGUMENT'),
    );
  });

  it('leaves out files the run created and deleted, and files it created and kept', async () => {
    const d = fs.mkdtempSync(join(tmpdir(), 'fs-trace-'));
    const keep = join(d, 'created-kept');
    const script = `import os,tempfile\nf=tempfile.NamedTemporaryFile(delete=True)\nf.write(b"x");f.flush();os.stat(f.name);f.close()\nopen(${JSON.stringify(keep)},"w").write("k")\nopen(${JSON.stringify(keep)}).read()\nos.mkdir(${JSON.stringify(join(d, 'dd'))});os.rmdir(${JSON.stringify(join(d, 'dd'))})\nopen(${JSON.stringify(join(d, 'input'))}).read()\n`;
    fs.writeFileSync(join(d, 'input'), 'in');
    fs.writeFileSync(join(d, 'script.py'), script);
    const r = await traceCommand([PY, join(d, 'script.py')]);
    const paths = r.files.map((f) => f.path);
    assert.ok(paths.includes(join(d, 'script.py')), 'the script itself');
    assert.ok(paths.includes(join(d, 'input')), 'a file that existed before');
    assert.ok(!paths.includes(keep), 'a file the run created');
    assert.ok(!paths.some((p) => p.startsWith('/tmp/tmp')), 'no temp files');
    assert.ok(!paths.includes(join(d, 'dd')));
    fs.rmSync(d, { recursive: true });
  });

  it('keeps the directories a run wrote into, and a file it only wrote as written, never as data', async () => {
    const d = fs.mkdtempSync(join(tmpdir(), 'fs-trace-writes-'));
    for (const sub of ['logs', 'run', 'sock', 'data', 'cache']) fs.mkdirSync(join(d, sub));
    fs.chmodSync(join(d, 'run'), 0o750);
    fs.writeFileSync(join(d, 'logs', 'app.log'), 'HOST-OLD-LINE\n');
    fs.writeFileSync(join(d, 'data', 'db'), 'rows');
    fs.writeFileSync(join(d, 'data', 'out'), 'old output');
    const script = [
      'import os, socket',
      `d = ${JSON.stringify(d)}`,
      "open(d + '/logs/app.log', 'a').write('run\\n')", // O_WRONLY|O_APPEND on a file that existed
      "open(d + '/run/app.pid', 'w').write('1')", // created in a directory that existed
      "s = socket.socket(socket.AF_UNIX); s.bind(d + '/sock/app.sock'); s.close(); os.unlink(d + '/sock/app.sock')",
      "f = open(d + '/data/db', 'r+'); f.read(); f.write('x'); f.close()", // O_RDWR: its content is data
      "open(d + '/data/out', 'w').write('new')", // O_TRUNC: the old content is never read
      "os.makedirs(d + '/cache/a/b'); open(d + '/cache/a/b/c', 'w').close()", // nested, made by the run
    ].join('\n');
    fs.writeFileSync(join(d, 'w.py'), script);
    const r = await traceCommand([PY, join(d, 'w.py')]);
    const at = (p: string) => r.files.find((f) => f.path === join(d, p));
    assert.equal(at('logs/app.log')?.wrote, 'file', 'a log that existed: only written');
    assert.equal(at('logs')?.wrote, 'dir');
    assert.equal(at('run')?.wrote, 'dir', 'the pid directory');
    assert.equal(at('run/app.pid'), undefined, 'the pid file the run created');
    assert.equal(at('sock')?.wrote, 'dir', 'the socket directory (bind)');
    assert.equal(at('sock/app.sock'), undefined);
    assert.equal(at('data/db')?.wrote, undefined, 'a file read and written is data');
    assert.equal(at('data/db')?.type, 'file');
    assert.equal(at('data/out')?.wrote, 'file', 'truncated: only written');
    assert.equal(at('cache')?.wrote, 'dir', 'the nearest directory that existed before the run');
    assert.equal(at('cache/a'), undefined, 'directories the run made are made again by it');
    assert.equal(at('w.py')?.wrote, undefined);
    fs.rmSync(d, { recursive: true });
  });

  it('a server past the timeout with allowFailure is stopped with SIGTERM and its files are kept', async () => {
    const d = fs.mkdtempSync(join(tmpdir(), 'fs-trace-server-'));
    fs.mkdirSync(join(d, 'run'));
    // a "server": writes a pid file, serves until SIGTERM, then removes its pid file
    fs.writeFileSync(
      join(d, 'srv.py'),
      `import os, signal, sys, time\npid = ${JSON.stringify(join(d, 'run', 'srv.pid'))}\nopen(pid, 'w').write(str(os.getpid()))\ndef stop(*a):\n    os.unlink(pid); sys.exit(0)\nsignal.signal(signal.SIGTERM, stop)\nwhile True: time.sleep(0.1)\n`,
    );
    const r = await traceCommand([PY, join(d, 'srv.py')], { timeoutSeconds: 1, allowFailure: true });
    assert.equal(r.stopped, true);
    assert.equal(r.exitCode, 0, 'it shut down cleanly on SIGTERM');
    assert.equal(fs.existsSync(join(d, 'run', 'srv.pid')), false, 'its shutdown ran');
    assert.equal(r.files.find((f) => f.path === join(d, 'run'))?.wrote, 'dir');
    assert.ok(r.files.some((f) => f.path === join(d, 'srv.py')));
    fs.rmSync(d, { recursive: true });
  });

  it('resolves relative paths after chdir (and across a fork)', async () => {
    const d = fs.mkdtempSync(join(tmpdir(), 'fs-trace-rel-'));
    fs.mkdirSync(join(d, 'sub'));
    fs.writeFileSync(join(d, 'sub', 'data.txt'), 'x');
    fs.writeFileSync(join(d, 'top.txt'), 'y');
    const r = await traceCommand(
      ['sh', '-c', 'cat top.txt >/dev/null; cd sub && cat data.txt >/dev/null && cat ../top.txt >/dev/null'],
      { cwd: d },
    );
    const paths = r.files.map((f) => f.path);
    assert.equal(r.cwd, d);
    assert.ok(
      paths.includes(join(d, 'sub', 'data.txt')),
      `relative after cd: ${paths.filter((p) => p.startsWith(d))}`,
    );
    assert.ok(paths.includes(join(d, 'top.txt')));
    fs.rmSync(d, { recursive: true });
  });

  it('a failing command is TRACE_FAILED with its status, unless allowFailure', async () => {
    await assert.rejects(
      traceCommand("sh -c 'exit 3'"),
      (e) => isFromscratchError(e, 'TRACE_FAILED') && /status 3/.test(e.message) && e.hint !== undefined,
    );
    const r = await traceCommand("sh -c 'cat /etc/hostname; exit 3'", { allowFailure: true });
    assert.equal(r.exitCode, 3);
    assert.ok(r.files.some((f) => f.path === '/etc/hostname'));
  });

  it('a command that is not found is TRACE_FAILED naming it', async () => {
    await assert.rejects(
      traceCommand('no-such-command-fromscratch --x'),
      (e) => isFromscratchError(e, 'TRACE_FAILED') && /no-such-command-fromscratch/.test(e.message),
    );
  });

  it('a command that outlives the timeout is killed (whole group) with TIMEOUT', async () => {
    const marker = join(tmpdir(), `fs-trace-timeout-${process.pid}`);
    await assert.rejects(
      traceCommand(['sh', '-c', `sleep 30; touch ${marker}`], { timeoutSeconds: 1 }),
      (e) => isFromscratchError(e, 'TIMEOUT'),
    );
    const ps = spawnSync('pgrep', ['-f', `touch ${marker}`], { encoding: 'utf8' });
    assert.equal(ps.stdout.trim(), '', 'no process left behind');
  });

  it('a missing working directory is FILE_NOT_FOUND', async () => {
    await assert.rejects(traceCommand('true', { cwd: '/nonexistent-fromscratch-dir' }), (e) =>
      isFromscratchError(e, 'FILE_NOT_FOUND'),
    );
  });

  it('strace missing is TOOL_MISSING with an install hint', async () => {
    await assert.rejects(
      traceCommand('true', { strace: '/nonexistent/strace' }),
      (e) => isFromscratchError(e, 'TOOL_MISSING') && /apt-get install strace/.test(e.hint ?? ''),
    );
  });

  it('a script reading /etc/shadow is refused, unless allowed on purpose', async () => {
    const d = fs.mkdtempSync(join(tmpdir(), 'fs-trace-sec-'));
    fs.writeFileSync(
      join(d, 'read.sh'),
      '#!/bin/sh\ncat /etc/shadow >/dev/null\ncat /etc/hostname >/dev/null\n',
      { mode: 0o755 },
    );
    await assert.rejects(
      traceCommand([join(d, 'read.sh')]),
      (e) =>
        isFromscratchError(e, 'SECRET_REFUSED') &&
        /\/etc\/shadow/.test(e.message) &&
        /allow/.test(e.hint ?? ''),
    );
    const omitted = await traceCommand([join(d, 'read.sh')], { secrets: 'omit' });
    assert.ok(!omitted.files.some((f) => f.path === '/etc/shadow'));
    assert.deepEqual(
      omitted.refused.map((x) => x.path),
      ['/etc/shadow'],
    );
    const allowed = await traceCommand([join(d, 'read.sh')], { allowSecrets: ['/etc/shadow'] });
    assert.ok(allowed.files.some((f) => f.path === '/etc/shadow'));
    fs.rmSync(d, { recursive: true });
  });
});

describe('secrets policy', () => {
  it('refuses credentials and keys, allows ordinary files', () => {
    for (const p of [
      '/etc/shadow',
      '/etc/gshadow',
      '/root/.ssh/id_rsa',
      '/home/u/.ssh/id_ed25519',
      '/etc/ssh/ssh_host_ed25519_key',
      '/root/.netrc',
      '/home/u/.docker/config.json',
      '/root/.aws/credentials',
      '/home/u/.config/gcloud/application_default_credentials.json',
      '/root/.azure/msal_token_cache.json',
      '/root/.bash_history',
      '/root/.git-credentials',
      '/root/.pgpass',
      '/root/.kube/config',
      '/proc/self/environ',
    ]) {
      assert.equal(checkSecret(p).refuse, true, p);
      assert.ok(checkSecret(p).reason.length > 0);
    }
    for (const p of [
      '/etc/passwd',
      '/etc/ssh/ssh_host_ed25519_key.pub',
      '/usr/lib/x86_64-linux-gnu/libc.so.6',
      '/etc/ssl/certs/ca-certificates.crt',
      '/root/.ssh',
    ]) {
      assert.equal(checkSecret(p).refuse, false, p);
    }
    assert.equal(checkSecret('/root/.netrc', { allow: ['/root/.netrc'] }).refuse, false);
    assert.equal(checkSecret('/root/.aws/credentials', { allow: ['/root/.aws/'] }).refuse, false);
  });
});
