/**
 * verify.test.ts — traceImageRun + findMissingFiles with the real runc and strace: a dynamic program in an
 * image without libc names libc.so.6 as missing; the complete image runs and misses nothing.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, it } from 'node:test';
import { hostFs } from '../../src/fs/host-fs.ts';
import { findTool } from '../../src/run/run.ts';
import { findMissingFiles, traceImageRun } from '../../src/trace/verify.ts';
import { compile, HELLO_C, makeImage } from '../run/image-fixture.ts';

const LOADER = '/lib64/ld-linux-x86-64.so.2';
const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';

describe('verify: run inside the image under strace', () => {
  assert.ok(findTool('runc'), 'runc is required: apt-get install runc');
  assert.ok(findTool('strace'), 'strace is required: apt-get install strace');
  const dyn = compile(HELLO_C);
  const loader = fs.readFileSync(fs.realpathSync(LOADER));
  const libc = fs.readFileSync(fs.realpathSync(LIBC));

  it('names the missing libc.so.6 of a dynamic program', async () => {
    const img = await makeImage(
      [
        { name: 'hello', data: dyn, mode: 0o755 },
        { name: LOADER, data: loader, mode: 0o755 },
      ],
      { Entrypoint: ['/hello'] },
    );
    const trace = await traceImageRun(img, undefined);
    assert.equal(trace.exitCode, 127, trace.stderr.toString());
    assert.match(trace.stderr.toString(), /libc\.so\.6/);
    assert.ok(
      trace.events.some((e) => e.kind === 'exec' && e.path === '/hello' && e.ok),
      'the container exec is seen',
    );
    const missing = await findMissingFiles(trace, hostFs('/'));
    const paths = missing.map((m) => m.path);
    assert.ok(
      paths.some((p) => /\/libc\.so\.6$/.test(p)),
      `libc named: ${paths.join(', ')}`,
    );
    assert.ok(
      !paths.some((p) => /glibc-hwcaps|\/tls\//.test(p)),
      'search-path probes that do not exist on the host are not reported',
    );
    assert.ok(
      !paths.some((p) => p.startsWith('/tmp/') || p.includes('fromscratch-run-')),
      'no host-side (runc) paths',
    );
    assert.ok(!paths.includes('/etc/passwd'), "runc init's own look-ups are not reported");
    assert.ok(
      missing.every((m) => m.type !== 'dir'),
      'directories are left out by default',
    );
  });

  it('a complete image runs and misses nothing it needed', async () => {
    const img = await makeImage(
      [
        { name: 'hello', data: dyn, mode: 0o755 },
        { name: LOADER, data: loader, mode: 0o755 },
        { name: LIBC, data: libc, mode: 0o755 },
      ],
      { Entrypoint: ['/hello'] },
    );
    const trace = await traceImageRun(img, ['0']);
    assert.equal(trace.exitCode, 0, trace.stderr.toString());
    assert.match(trace.stdout.toString(), /hello from scratch/);
    const missing = await findMissingFiles(trace, hostFs('/'));
    assert.ok(
      !missing.some((m) => /libc\.so\.6$/.test(m.path)),
      `nothing essential missing: ${missing.map((m) => m.path)}`,
    );
  });

  it('a program missing from the image is reported, not thrown', async () => {
    const img = await makeImage([{ name: 'etc/hostname', data: 'x' }], { Entrypoint: ['/usr/bin/cat'] });
    const trace = await traceImageRun(img, undefined);
    assert.equal(trace.exitCode, 127);
    assert.match(trace.runError ?? '', /cat/);
    const missing = await findMissingFiles(trace, hostFs('/'));
    assert.ok(
      missing.some((m) => m.path === '/usr/bin/cat'),
      `cat named: ${missing.map((m) => m.path)}`,
    );
    assert.ok(
      !missing.some((m) => m.path === '/etc/passwd'),
      "the runtime init lookups are not the command's",
    );
  });
});
