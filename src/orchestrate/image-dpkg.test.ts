/**
 * image-dpkg.test.ts — pins how the SBOM of a foreign image reads its dpkg data: status (with Status:
 * filtering), status.d paragraphs (distroless), ownership from info/*.list and *.md5sums.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDpkgData, packageOrigins, readImageDpkg } from './image-dpkg.ts';

const enc = (s: string) => new TextEncoder().encode(s);

test('readImageDpkg reads status, status.d and the file lists, leaving out packages not installed', () => {
  const files = new Map<string, Uint8Array>([
    [
      '/var/lib/dpkg/status',
      enc(
        'Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9\nSource: glibc\n\n' +
          'Package: gone\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1\n',
      ),
    ],
    ['/var/lib/dpkg/info/libc6:amd64.list', enc('/.\n/lib/x86_64-linux-gnu/libc.so.6\n/etc/ld.so.conf.d\n')],
    ['/var/lib/dpkg/status.d/tzdata', enc('Package: tzdata\nVersion: 2024a-0\nArchitecture: all\n')],
    ['/var/lib/dpkg/status.d/tzdata.md5sums', enc(`${'0'.repeat(32)}  usr/share/zoneinfo/UTC\n`)],
  ]);
  for (const p of files.keys()) assert.ok(isDpkgData(p), p);
  assert.equal(isDpkgData('/var/lib/dpkg/info/x.postinst'), false);
  const pkgs = readImageDpkg(files);
  assert.deepEqual(pkgs, [
    {
      name: 'libc6',
      version: '2.36-9',
      architecture: 'amd64',
      source: 'glibc',
      owns: ['/.', '/etc/ld.so.conf.d', '/lib/x86_64-linux-gnu/libc.so.6'],
    },
    { name: 'tzdata', version: '2024a-0', architecture: 'all', owns: ['/usr/share/zoneinfo/UTC'] },
  ]);
  assert.deepEqual(packageOrigins(pkgs).get('/usr/share/zoneinfo/UTC'), [
    { kind: 'package', name: 'tzdata', version: '2024a-0', architecture: 'all' },
  ]);
});

test('a corrupt status file is skipped, not fatal (the SBOM of a foreign image is best effort)', () => {
  const files = new Map([['/var/lib/dpkg/status', enc(' leading continuation\nno colon here\n')]]);
  assert.deepEqual(readImageDpkg(files), []);
});
