// deb-file.test.ts — pins .deb reading: members, entries, docs filter, re-rooting and hostile archives (H1–H3, B1).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { arMember, CONTROL, makeAr, makeDeb, makeTar } from '../../test/deb/make-deb.ts';
import { isFromscratchError } from '../errors.ts';
import { isDocPath, parseDeb } from './deb-file.ts';

test('parseDeb returns control, scripts as text and re-rooted entries with the package origin', async () => {
  const deb = await makeDeb(
    [
      { name: './', type: 'directory', mode: 0o755 },
      { name: './usr/bin/hello', body: '#!/bin/sh\necho hi\n', mode: 0o755 },
      { name: './usr/bin/hi', type: 'link', linkname: './usr/bin/hello' },
      { name: './etc/alternatives-test', type: 'symlink', linkname: '/etc/alternatives/hello' },
      { name: './usr/share/doc/hello/copyright', body: 'GPL', mode: 0o644 },
      { name: './usr/share/doc/hello/changelog.gz', body: 'x', mode: 0o644 },
      { name: './usr/share/man/man1/hello.1.gz', body: 'x', mode: 0o644 },
      { name: './usr/share/locale/de/LC_MESSAGES/hello.mo', body: 'x', mode: 0o644 },
    ],
    { postinst: '#!/bin/sh\nrm -rf /\n' },
  );
  const pkg = await parseDeb(deb, { what: 'hello.deb' });
  assert.equal(pkg.control.get('Package'), 'hello');
  assert.deepEqual(pkg.origin, { kind: 'package', name: 'hello', version: '1.0-1', architecture: 'amd64' });
  assert.equal(Buffer.from(pkg.controlFiles.get('postinst')!).toString(), '#!/bin/sh\nrm -rf /\n');
  assert.deepEqual(
    pkg.entries.map((e) => `${e.type} ${e.path}`),
    [
      'file /usr/bin/hello',
      'hardlink /usr/bin/hi',
      'symlink /etc/alternatives-test',
      'file /usr/share/doc/hello/copyright',
    ],
  );
  const link = pkg.entries.find((e) => e.path === '/etc/alternatives-test');
  assert.equal(link?.type === 'symlink' && link.target, '/etc/alternatives/hello'); // kept verbatim, never resolved
  const hello = pkg.entries[0]!;
  assert.equal(hello.mode, 0o755);
  assert.equal(
    hello.type === 'file' && Buffer.from((hello.content as { data: Uint8Array }).data).toString(),
    '#!/bin/sh\necho hi\n',
  );
  assert.deepEqual(pkg.excluded, [
    '/usr/share/doc/hello/changelog.gz',
    '/usr/share/man/man1/hello.1.gz',
    '/usr/share/locale/de/LC_MESSAGES/hello.mo',
  ]);
  const all = await parseDeb(deb, { keepDocs: true });
  assert.equal(all.entries.length, 7);
});

test('isDocPath keeps copyright files', () => {
  assert.ok(isDocPath('/usr/share/doc/x/README'));
  assert.ok(isDocPath('/usr/share/doc'));
  assert.ok(!isDocPath('/usr/share/doc/x/copyright'));
  assert.ok(!isDocPath('/usr/share/docs/x'));
  assert.ok(isDocPath('/usr/share/lintian/overrides/x'));
});

test('absolute names are re-rooted; ".." is refused (H2)', async () => {
  const abs = await parseDeb(await makeDeb([{ name: '/etc/evil', body: 'x' }]));
  assert.equal(abs.entries[0]!.path, '/etc/evil');
  for (const name of ['./../../etc/passwd', 'usr/../../x', '../x']) {
    await assert.rejects(
      parseDeb(await makeDeb([{ name, body: 'x' }]), { what: 'evil.deb' }),
      (e) => isFromscratchError(e, 'PATH_ESCAPE') && /evil\.deb/.test(e.message),
      name,
    );
  }
  await assert.rejects(
    parseDeb(await makeDeb([{ name: './x', type: 'link', linkname: '../../etc/shadow' }])),
    (e) => isFromscratchError(e, 'PATH_ESCAPE'),
  );
});

test('missing or misordered members and unknown compressions are clear errors (H1)', async () => {
  const ctl = arMember('control.tar.gz', gzipSync(await makeTar([{ name: './control', body: CONTROL }])));
  const data = arMember('data.tar.gz', gzipSync(await makeTar([])));
  const bin = arMember('debian-binary', Buffer.from('2.0\n'));
  const cases: [string, Buffer, string, RegExp][] = [
    ['no debian-binary', makeAr([ctl, data]), 'DEB_INVALID', /first member is not debian-binary/],
    [
      'format 3',
      makeAr([arMember('debian-binary', Buffer.from('3.0\n')), ctl, data]),
      'DEB_INVALID',
      /format version/,
    ],
    ['no data', makeAr([bin, ctl]), 'DEB_INVALID', /third member/],
    [
      'unknown compression',
      makeAr([bin, ctl, arMember('data.tar.foo', Buffer.from('x'))]),
      'UNSUPPORTED_COMPRESSION',
      /data\.tar\.foo/,
    ],
    [
      'bzip2',
      makeAr([bin, ctl, arMember('data.tar.bz2', Buffer.from('BZh91AY&SY'))]),
      'UNSUPPORTED_COMPRESSION',
      /bzip2/,
    ],
    [
      'name lies',
      makeAr([bin, ctl, arMember('data.tar.xz', gzipSync(Buffer.alloc(10)))]),
      'INVALID_COMPRESSION',
      /not xz/,
    ],
    [
      'corrupt gzip',
      makeAr([bin, ctl, arMember('data.tar.gz', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]))]),
      'INVALID_COMPRESSION',
      /corrupt gzip/,
    ],
    [
      'no control',
      makeAr([
        bin,
        arMember('control.tar.gz', gzipSync(await makeTar([{ name: './md5sums', body: '' }]))),
        data,
      ]),
      'DEB_INVALID',
      /no control file/,
    ],
  ];
  for (const [name, bytes, code, re] of cases) {
    await assert.rejects(
      parseDeb(bytes, { what: 't.deb' }),
      (e) => isFromscratchError(e) && e.code === code && re.test(e.message),
      name,
    );
  }
});

/** bombMember makes `count` MiB of zeros (after a tar header for one file) as concatenated frames of one compressor. */
async function bomb(kind: 'gz' | 'xz' | 'zst', mib: number): Promise<Buffer> {
  const size = mib * 1024 * 1024;
  const zeros = Buffer.alloc(1 << 20);
  const tool = { gz: ['gzip', '-c'], xz: ['xz', '-c', '-T1'], zst: ['zstd', '-c', '-q'] }[kind];
  const compress = (b: Buffer) => {
    try {
      return execFileSync(tool[0]!, tool.slice(1), { input: b, maxBuffer: 1 << 26 });
    } catch (e) {
      throw new Error(
        `${tool[0]} is needed to make the bomb fixture: apt-get install ${tool[0] === 'zstd' ? 'zstd' : tool[0] === 'xz' ? 'xz-utils' : 'gzip'}`,
        { cause: e },
      );
    }
  };
  // concatenated gzip members / xz streams / zstd frames are one valid stream: 1 KB repeated = 1 MiB each
  const first = compress(Buffer.concat([makeTarHeaderOnly('./zeros', size), zeros.subarray(512)]));
  const rest = compress(zeros);
  return Buffer.concat([first, ...Array.from({ length: mib - 1 }, () => rest)]);
}

test('10 GiB bombs in data.tar.{gz,xz,zst} stop at the ratio and absolute caps (B1/B2/H3)', async () => {
  const ctl = arMember('control.tar.gz', gzipSync(await makeTar([{ name: './control', body: CONTROL }])));
  for (const kind of ['gz', 'zst', 'xz'] as const) {
    const data = await bomb(kind, kind === 'xz' ? 1024 : 10 * 1024); // xz: 1 GiB (its streams are larger)
    assert.ok(data.length < 64 * 1024 * 1024, `${kind} bomb is ${data.length} bytes`);
    const deb = makeAr([
      arMember('debian-binary', Buffer.from('2.0\n')),
      ctl,
      arMember(`data.tar.${kind}`, data),
    ]);
    // gz with the default 64 MiB ratio floor; the others with a lower floor to keep the test fast
    const floor = kind === 'gz' ? {} : { ratioFloor: 4 * 1024 * 1024 };
    await assert.rejects(
      parseDeb(deb, { what: 'bomb.deb', ...floor }),
      (e) => isFromscratchError(e, 'TOO_LARGE') && /ratio/.test(e.message) && /bomb\.deb/.test(e.message),
      kind,
    );
    await assert.rejects(
      parseDeb(deb, { maxBytes: 8 * 1024 * 1024, maxRatio: 1e9 }),
      (e) => isFromscratchError(e, 'TOO_LARGE') && /more than 8388608 bytes/.test(e.message),
      kind,
    );
  }
});

/** makeTarHeaderOnly renders just the 512-byte ustar header of a file entry of `size` bytes. */
function makeTarHeaderOnly(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'latin1');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\x0000', 257, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

test('data.tar is read by the one strict tar reader: a bad checksum or a truncated entry names the member', async () => {
  const ctl = gzipSync(
    await makeTar([
      { name: './', type: 'directory', mode: 0o755 },
      { name: './control', body: CONTROL, mode: 0o644 },
    ]),
  );
  const data = await makeTar([{ name: './usr/bin/hello', body: 'x'.repeat(2000), mode: 0o755 }]);
  const deb = (tar: Buffer) =>
    makeAr([
      arMember('debian-binary', Buffer.from('2.0\n')),
      arMember('control.tar.gz', ctl),
      arMember('data.tar', tar),
    ]);
  const ok = await parseDeb(deb(data), { what: 'hello.deb' });
  assert.deepEqual(
    ok.entries.map((e) => e.path),
    ['/usr/bin/hello'],
  );
  const badSum = Buffer.from(data);
  badSum[0] = 'X'.charCodeAt(0); // the name changes, the stored checksum does not
  await assert.rejects(
    parseDeb(deb(badSum), { what: 'hello.deb' }),
    (e: unknown) =>
      isFromscratchError(e, 'INVALID_ARCHIVE') &&
      /^reading data\.tar of hello\.deb: .*checksum/.test(e.message),
  );
  await assert.rejects(
    parseDeb(deb(data.subarray(0, 1024)), { what: 'hello.deb' }),
    (e: unknown) =>
      isFromscratchError(e, 'INVALID_ARCHIVE') &&
      /^reading data\.tar of hello\.deb: .*truncated/.test(e.message),
  );
});
