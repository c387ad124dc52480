/**
 * make-corpus.ts — writes the seed corpus of every fuzz target into test/fuzz/corpus/<target>/ (committed;
 * the fuzz loop mutates these). Run it again after changing a seed:
 *   node --import tsx test/fuzz/make-corpus.ts
 * Every seed is a small valid input made here (the ELF builder, the tar and ar generators of the tests,
 * node:zlib, and Debian's xz, zstd and ldconfig for the formats node cannot write); none is hostile.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { canonicalJson } from '../../src/image/canonical-json.ts';
import { arMember, CONTROL, makeAr, makeDeb, makeTar as makeDebTar } from '../deb/make-deb.ts';
import { buildElf } from '../elf/elf-builder.ts';
import { makeTar } from '../run/tar-gen.ts';
import { CORPUS } from './targets.ts';

const D = (c: string) => `sha256:${c.repeat(64)}`;

function put(target: string, name: string, data: Uint8Array | string): void {
  const dir = join(CORPUS, target);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), data);
}

function tool(cmd: string, args: string[], input: Uint8Array): Buffer {
  return execFileSync(cmd, args, { input, maxBuffer: 64 * 1024 * 1024 });
}

rmSync(CORPUS, { recursive: true, force: true });

// ELF: both classes and byte orders, with and without section headers
put(
  'elf',
  '00-x86_64-exec',
  buildElf({
    cls: 64,
    le: true,
    machine: 62,
    type: 2,
    interp: '/lib64/ld-linux-x86-64.so.2',
    needed: ['libc.so.6', 'libm.so.6'],
    runpath: '$ORIGIN/../lib',
  }),
);
put(
  'elf',
  '01-aarch64-lib',
  buildElf({
    cls: 64,
    le: true,
    machine: 183,
    soname: 'libx.so.1',
    needed: ['libc.so.6'],
    rpath: '/opt/lib',
  }),
);
put(
  'elf',
  '02-mips-be32',
  buildElf({ cls: 32, le: false, machine: 8, needed: ['libc.so.6'], sections: false }),
);
put(
  'elf',
  '03-i386-exec',
  buildElf({ cls: 32, le: true, machine: 3, type: 2, interp: '/lib/ld-linux.so.2', needed: ['libc.so.6'] }),
);

// tar: every entry type, PAX records and a GNU long name
const tarSeed = makeTar([
  { name: 'etc/', type: '5' },
  { name: 'etc/hostname', data: 'box\n' },
  { name: 'bin/sh', type: '2', linkname: '/bin/dash' },
  { name: 'bin/dash', data: 'x'.repeat(600), mode: 0o755 },
  { name: 'bin/ash', type: '1', linkname: 'bin/dash' },
  { name: 'dev/null', type: '3', devmajor: 1, devminor: 3 },
  {
    name: 'x',
    pax: { path: 'p/with a long name', 'SCHILY.xattr.security.capability': Buffer.from([1, 0, 0, 2]) },
    data: 'pax',
  },
  { name: '././@LongLink', type: 'L', data: `${'long/'.repeat(30)}name\0` },
  { name: 'short', data: 'gnu long name' },
  { name: 'etc/.wh.old', data: '' },
]);
put('tar', '00-types', tarSeed);
put('tar', '01-empty', Buffer.alloc(1024));

// ar and .deb: gzip, xz and zstd members
put(
  'ar',
  '00-two',
  makeAr([arMember('debian-binary', Buffer.from('2.0\n')), arMember('a.txt', Buffer.from('hello\n'))]),
);
const ctlTar = await makeDebTar([
  { name: './', type: 'directory', mode: 0o755 },
  { name: './control', body: CONTROL, mode: 0o644 },
]);
const dataTar = await makeDebTar([
  { name: './usr/bin/', type: 'directory', mode: 0o755 },
  { name: './usr/bin/hello', body: '#!/bin/sh\necho hi\n', mode: 0o755 },
  { name: './usr/lib/libhello.so', type: 'symlink', linkname: 'libhello.so.1' },
]);
put('deb', '00-gzip.deb', await makeDeb([{ name: './usr/bin/hello', body: 'hi\n', mode: 0o755 }]));
put(
  'deb',
  '01-xz.deb',
  makeAr([
    arMember('debian-binary', Buffer.from('2.0\n')),
    arMember('control.tar.xz', tool('xz', ['-c', '--check=crc64'], ctlTar)),
    arMember('data.tar.xz', tool('xz', ['-c'], dataTar)),
  ]),
);
put(
  'deb',
  '02-zstd.deb',
  makeAr([
    arMember('debian-binary', Buffer.from('2.0\n')),
    arMember('control.tar.zst', tool('zstd', ['-c', '-q'], ctlTar)),
    arMember('data.tar.zst', tool('zstd', ['-c', '-q'], dataTar)),
  ]),
);

// control files and Packages indexes
put(
  'control',
  '00-control',
  `${CONTROL}Depends: libc6 (>= 2.36), libfoo1 | libbar1 [amd64], perl:any <!nocheck>\nPre-Depends: dpkg (>= 1.19~)\nProvides: hello-world (= 1.0)\nHomepage: https://example.org\nX-Long: a long\n .\n value\n`,
);
put(
  'control',
  '01-status',
  'Package: a\nStatus: install ok installed\nVersion: 1:2.3-4~deb12u1\n\nPackage: b\nVersion: 0.9+git20230101\nBreaks: a (<< 1:2)\n',
);
put(
  'packages',
  '00-packages',
  'Package: hello\nVersion: 2.10-3\nArchitecture: amd64\nMulti-Arch: foreign\nDepends: libc6 (>= 2.34)\nFilename: pool/main/h/hello/hello_2.10-3_amd64.deb\nSize: 53028\nSHA256: ' +
    'a'.repeat(64) +
    '\n\nPackage: libc6\nVersion: 2.36-9+deb12u4\nArchitecture: amd64\nProvides: libc6-x\nFilename: pool/main/g/glibc/libc6_2.36-9+deb12u4_amd64.deb\nSize: 2757936\nSHA256: ' +
    'b'.repeat(64) +
    '\n',
);

// Dockerfile and YAML spec (the structure the parsers know, for the mutator to break)
put(
  'dockerfile',
  '00-multistage',
  [
    '# syntax=docker/dockerfile:1',
    'ARG BASE=scratch',
    'FROM $' + '{BASE} AS build',
    'ARG V=1',
    'ENV A=hello B="x y" C=$' + '{V:-no}',
    'LABEL "a b"=c d=$' + '{B}',
    'WORKDIR app',
    '# fromscratch: closure',
    'COPY --chown=app:1 --chmod=755 bin/* ./',
    'COPY <<EOF <<-"E2" /etc/',
    'hello $A',
    'EOF',
    '\traw $A',
    '\tE2',
    `ADD --checksum=sha256:${'a'.repeat(64)} https://example.org/x.tar.gz /dl/`,
    'EXPOSE 80 53/udp 8000-8001',
    'VOLUME ["/data"]',
    'USER nonroot',
    'HEALTHCHECK --interval=30s CMD ["/app/run", "health"]',
    'ENTRYPOINT ["/app/run", "a b"]',
    'CMD echo hi',
    'FROM build AS final',
    'COPY --from=build /app/ /x/',
    'ONBUILD COPY . /src',
    '',
  ].join('\n'),
);
put('dockerfile', '01-simple', 'FROM scratch\nCOPY hello /hello\nENTRYPOINT ["/hello"]\n');
put(
  'spec',
  '00-spec',
  'from: scratch\nplatforms: [linux/amd64]\ncontents:\n  - binary: /usr/bin/ruby\n  - add: ./app\n    to: /app\n  - trace: ruby app/main.rb\n  - package: ruby3.1\n  - file: /etc/motd\n    content: "hi"\n    mode: "0644"\nentrypoint: ["/usr/bin/ruby", "/app/main.rb"]\nenv: {LANG: C.UTF-8}\nlabels: {a: b}\nexpose: [8080]\ndefaults: {tmp: false}\n',
);

// manifest, index and config JSON
put(
  'oci-json',
  '00-manifest',
  canonicalJson({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D('a'), size: 2 },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D('b'), size: 3 }],
    annotations: { 'org.opencontainers.image.ref.name': 'v1' },
  }),
);
put(
  'oci-json',
  '01-index',
  canonicalJson({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: D('c'),
        size: 10,
        platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      },
    ],
  }),
);
put(
  'oci-json',
  '02-config',
  canonicalJson({
    architecture: 'amd64',
    os: 'linux',
    created: '1970-01-01T00:00:00Z',
    config: {
      Env: ['PATH=/bin'],
      Entrypoint: ['/hello'],
      ExposedPorts: { '80/tcp': {} },
      Healthcheck: { Test: ['CMD', 'x'], Interval: 1 },
    },
    rootfs: { type: 'layers', diff_ids: [D('d')] },
    history: [{ created_by: 'x', empty_layer: false }],
  }),
);

// ld.so.cache: made by ldconfig from two copies of a host library
const ld = mkdtempSync(join(tmpdir(), 'fuzz-ldcache-'));
try {
  mkdirSync(join(ld, 'lib'));
  const libdir = '/lib/x86_64-linux-gnu';
  const libz = readdirSync(libdir).find((n) => /^libz\.so\.1\.\d/.test(n));
  if (!libz) throw new Error('libz is not installed: apt-get install -y zlib1g');
  copyFileSync(join(libdir, libz), join(ld, 'lib', libz));
  writeFileSync(join(ld, 'ld.so.conf'), '');
  execFileSync('ldconfig', ['-C', join(ld, 'ld.so.cache'), '-f', join(ld, 'ld.so.conf'), join(ld, 'lib')]);
  put('ld-cache', '00-ldconfig', readFileSync(join(ld, 'ld.so.cache')));
} finally {
  rmSync(ld, { recursive: true, force: true });
}

// gzip, zstd and xz streams of a small tar
put('gzip', '00-tar.gz', gzipSync(tarSeed));
put('gzip', '01-two-members.gz', Buffer.concat([gzipSync('a'), gzipSync('b')]));
put('zstd', '00-tar.zst', tool('zstd', ['-c', '-q', '--check'], tarSeed));
put('zstd', '01-rle.zst', tool('zstd', ['-c', '-q', '-19'], Buffer.alloc(300_000)));
put('xz', '00-tar.xz', tool('xz', ['-c'], tarSeed));
put('xz', '01-crc32.xz', tool('xz', ['-c', '--check=crc32', '-1'], Buffer.from('hello xz\n')));
console.log(`corpus written to ${CORPUS}`);
