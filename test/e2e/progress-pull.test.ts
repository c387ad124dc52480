/**
 * progress-pull.test.ts — a registry image read by any command shows its pull on stderr (issue 13):
 * `inspect`, `run`, `check`, `sbom` and `report` report each blob pulled (its size, then its bytes
 * and rate) and a total under `--progress plain`, live bars on a terminal (`script` gives a pty), and a
 * registry that answers 503 says so ("retrying in 1 s: 503") while pulling and while pushing. The
 * registry is the real one on loopback; the 503s come from a fault proxy in front of it, which forwards
 * the retried request (503 then 200). stdout carries only each command's result.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type FaultProxy, startFaultProxy } from '../fakes/fault-proxy.ts';
import { registryAddress, requireTool, run } from '../support/validate-tools.ts';
import { BIN, CODE_CACHE, fromscratch, ROOT } from './cli.ts';

const STAMP = String.raw`\[\s*\d+\.\d+s\]`;
const SIZE = String.raw`[\d.]+ [kMG]?B`;

let dir: string;
let registry: string;
let proxy: FaultProxy;
/** the repository (without the registry) the image was pushed to */
let repo: string;
/** the layout the image was built to as well (the source of the push test) */
let layout: string;

/** esc escapes a string for a RegExp. */
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** an empty blob cache per run: every blob is pulled, so every blob is reported */
async function fresh(args: readonly string[]) {
  const cache = mkdtempSync(join(tmpdir(), 'e2e-progress-pull-cache-'));
  try {
    return await fromscratch(args, { env: { FROMSCRATCH_CACHE: cache } });
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

/** assertPulled checks the plain lines of a pull of `host/repo`: each blob's start and end, and the total */
function assertPulled(stderr: string, host: string, what: string): void {
  const from = `${esc(host)}/${esc(repo)}`;
  const starts = stderr.match(new RegExp(`^${STAMP} pulling [0-9a-f]{12} from ${from} \\(${SIZE}\\)$`, 'gm'));
  const ends = stderr.match(
    new RegExp(`^${STAMP} pulling [0-9a-f]{12} from ${from}: done, ${SIZE} in \\d+\\.\\d s`, 'gm'),
  );
  // the config and at least one layer, each started and ended once
  assert.ok(starts && starts.length >= 2, `${what}: a line per blob pulled:\n${stderr}`);
  assert.equal(ends?.length, starts.length, `${what}: each pull ends:\n${stderr}`);
  assert.match(stderr, new RegExp(`^${STAMP} finished \\d+ steps?, ${SIZE}.* in \\d+\\.\\d s$`, 'm'), what);
}

before(async () => {
  registry = await registryAddress();
  proxy = await startFaultProxy(registry);
  dir = mkdtempSync(join(tmpdir(), 'e2e-progress-pull-'));
  repo = `e2e-progress-pull-${randomBytes(4).toString('hex')}`;
  layout = join(dir, 'oci');
  // a runnable image (env --version prints its version): to a layout and to the registry
  const b = await fromscratch([
    'build',
    '-q',
    '--binary',
    '/usr/bin/env',
    '--entrypoint',
    '["/usr/bin/env"]',
    '-o',
    `oci:${layout}:1`,
    '-o',
    `docker://${registry}/${repo}:1`,
  ]);
  assert.equal(b.code, 0, b.stderr);
});

after(async () => {
  await proxy?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('progress of pulls', () => {
  it('inspect, run, check, sbom and report show each blob pulled and a total; stdout is the result alone', async () => {
    const image = `${registry}/${repo}:1`;

    const inspect = await fresh(['inspect', '--json', '--progress', 'plain', image]);
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.equal((JSON.parse(inspect.stdout) as { reference?: string }).reference !== undefined, true);
    assertPulled(inspect.stderr, registry, 'inspect');

    // the words after the image go to the container; its output is stdout, after the pull
    const host = await run('/usr/bin/env', ['--version']);
    const ran = await fresh(['run', '--progress', 'plain', image, '--version']);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, host.stdout, 'env --version in the container, as on the host');
    assertPulled(ran.stderr, registry, 'run');

    const check = await fresh(['check', '--json', '--progress', 'plain', image]);
    assert.equal(check.code, 0, check.stderr);
    assert.ok(Array.isArray((JSON.parse(check.stdout) as { images: unknown[] }).images));
    assertPulled(check.stderr, registry, 'check');

    const sbom = await fresh(['sbom', '--progress', 'plain', image]);
    assert.equal(sbom.code, 0, sbom.stderr);
    assert.equal((JSON.parse(sbom.stdout) as { spdxVersion: string }).spdxVersion, 'SPDX-2.3');
    assertPulled(sbom.stderr, registry, 'sbom');

    const html = join(dir, 'report.html');
    const report = await fresh(['report', image, '-o', html, '--progress', 'plain']);
    assert.equal(report.code, 0, report.stderr);
    assert.equal(report.stdout, `${html}\n`);
    assertPulled(report.stderr, registry, 'report');

    // -q: the same result, nothing on stderr but what the command itself says
    const quiet = await fresh(['inspect', '--json', '-q', image]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stderr, '');
    assert.equal(quiet.stdout, inspect.stdout);
  });

  it('a registry answering 503 then 200 says so while pulling (retrying in 1 s: 503), and the pull completes', async () => {
    let failed = 0;
    proxy.reset();
    // the first GET of each of two blobs is answered 503 with Retry-After: 1, the retry is forwarded
    proxy.rule = (r, n) => {
      if (r.method === 'GET' && /\/blobs\/sha256:/.test(r.url) && n === 1 && failed < 2) {
        failed++;
        return { kind: 'status', status: 503, headers: { 'retry-after': '1' } };
      }
      return undefined;
    };
    try {
      const r = await fresh(['inspect', '--json', '--progress', 'plain', `${proxy.address}/${repo}:1`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(failed, 2, 'the proxy answered 503 twice');
      const notes = r.stderr.match(
        new RegExp(
          `^${STAMP} fetching blob sha256:[0-9a-f]{64} from ${esc(proxy.address)}/${esc(repo)}: retrying in 1 s: 503$`,
          'gm',
        ),
      );
      assert.equal(notes?.length, 2, `one line per retry:\n${r.stderr}`);
      assertPulled(r.stderr, proxy.address, 'inspect through the proxy');
      assert.doesNotMatch(r.stdout, /retrying/);
      JSON.parse(r.stdout);
    } finally {
      proxy.rule = undefined;
    }
  });

  it('a registry answering 503 then 200 says so while pushing (blob upload and manifest)', async () => {
    const pushed: string[] = [];
    proxy.reset();
    proxy.rule = (r, n) => {
      const upload = r.method === 'POST' && /\/blobs\/uploads\/$/.test(r.url.split('?')[0]!);
      const manifest = r.method === 'PUT' && r.url.includes('/manifests/');
      if ((upload || manifest) && n === 1) {
        pushed.push(r.method);
        return { kind: 'status', status: 503, headers: { 'retry-after': '1' } };
      }
      return undefined;
    };
    const target = `${proxy.address}/${repo}-copy`;
    try {
      const r = await fresh(['copy', '--progress', 'plain', `oci:${layout}:1`, `docker://${target}:1`]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        [...pushed].sort(),
        ['POST', 'PUT'],
        'the proxy answered 503 to an upload and the manifest',
      );
      assert.match(r.stderr, new RegExp(`^${STAMP} .*${esc(target)}.*: retrying in 1 s: 503$`, 'm'));
      assert.match(r.stderr, new RegExp(`^${STAMP} pushing manifest .*: retrying in 1 s: 503$`, 'm'));
      assert.match(
        r.stderr,
        new RegExp(`^${STAMP} pushing [0-9a-f]{12} to ${esc(target)}: done, ${SIZE}`, 'm'),
      );
      assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    } finally {
      proxy.rule = undefined;
    }
    // what was pushed is what the registry holds, checked by a real client
    const tags = await run('skopeo', [
      'list-tags',
      '--tls-verify=false',
      `docker://${registry}/${repo}-copy`,
    ]);
    assert.deepEqual((JSON.parse(tags.stdout) as { Tags: string[] }).Tags, ['1']);
  });

  it('on a terminal (script), the pull is drawn as bars with bytes and a total, a retry as a line; stdout is the result', async () => {
    requireTool('script', 'util-linux');
    const cache = join(dir, 'tty-cache');
    let failed = false;
    proxy.reset();
    proxy.rule = (r, n) => {
      if (!failed && r.method === 'GET' && /\/blobs\/sha256:/.test(r.url) && n === 1) {
        failed = true;
        return { kind: 'status', status: 503, headers: { 'retry-after': '1' } };
      }
      return undefined;
    };
    const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
    const stdoutFile = join(dir, 'tty-stdout');
    const cmd = [process.execPath, BIN, 'inspect', '--json', `${proxy.address}/${repo}:1`].map(q).join(' ');
    try {
      const r = await run('script', ['-qec', `${cmd} > ${q(stdoutFile)}`, '/dev/null'], {
        cwd: ROOT,
        env: { ...process.env, FROMSCRATCH_CACHE: cache, FROMSCRATCH_CODE_CACHE: CODE_CACHE, TERM: 'xterm' },
      });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const screen = r.stdout;
      assert.match(screen, /\r\x1b\[\d+A\x1b\[J/, 'the live area is redrawn in place');
      assert.match(
        screen,
        new RegExp(` pulling [0-9a-f]{12} from .*\\[[=> ]{20}\\]\\s+\\d+% ${SIZE}/${SIZE}`),
        'a bar per blob with bytes done and the blob size',
      );
      assert.match(screen, new RegExp(` total ${SIZE}`), 'the total under the bars');
      assert.match(
        screen,
        new RegExp(`${STAMP} fetching blob .*: retrying in 1 s: 503\\r?\\n`),
        'the retry, as a line',
      );
      assert.ok(screen.trimEnd().endsWith('\x1b[?25h'), 'the cursor is shown again');
      assert.equal(failed, true);
      const out = readFileSync(stdoutFile, 'utf8');
      assert.doesNotMatch(out, /\x1b|pulling/, 'nothing of the progress on stdout');
      JSON.parse(out);
    } finally {
      proxy.rule = undefined;
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
