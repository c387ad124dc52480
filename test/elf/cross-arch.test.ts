/**
 * cross-arch.test.ts — ELF32/ELF64, little/big endian and every named e_machine, on hand-built files
 * (this machine has no multilib gcc and no foreign-arch libraries: checked with `gcc -m32` and
 * `ls /usr/lib/*-linux-gnu`). Each row pins machineName, OCI architecture and the dynamic fields, and
 * cross-checks the same bytes with binutils readelf, which reads every architecture.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { elfMachineToOciArch, sameAbi } from '../../src/elf/abi.ts';
import { parseElf } from '../../src/elf/parse-elf.ts';
import { readElf } from '../../src/elf/read-elf.ts';
import { memoryFs } from '../../src/fs/memory-fs.ts';
import { buildElf } from './elf-builder.ts';

const dir = mkdtempSync(join(tmpdir(), 'fromscratch-elf-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Row {
  name: string;
  cls: 32 | 64;
  le: boolean;
  machine: number;
  flags?: number;
  machineName: string;
  oci: string | undefined;
  /** readelf's Machine: line */
  readelf: string;
}

const rows: Row[] = [
  {
    name: 'x86_64',
    cls: 64,
    le: true,
    machine: 62,
    machineName: 'x86_64',
    oci: 'amd64',
    readelf: 'Advanced Micro Devices X86-64',
  },
  {
    name: 'x32',
    cls: 32,
    le: true,
    machine: 62,
    machineName: 'x86_64',
    oci: undefined,
    readelf: 'Advanced Micro Devices X86-64',
  },
  { name: 'i386', cls: 32, le: true, machine: 3, machineName: 'i386', oci: '386', readelf: 'Intel 80386' },
  {
    name: 'aarch64',
    cls: 64,
    le: true,
    machine: 183,
    machineName: 'aarch64',
    oci: 'arm64',
    readelf: 'AArch64',
  },
  {
    name: 'armhf',
    cls: 32,
    le: true,
    machine: 40,
    flags: 0x05000400,
    machineName: 'arm',
    oci: 'arm',
    readelf: 'ARM',
  },
  {
    name: 'armel',
    cls: 32,
    le: true,
    machine: 40,
    flags: 0x05000200,
    machineName: 'arm',
    oci: 'arm',
    readelf: 'ARM',
  },
  {
    name: 'riscv64',
    cls: 64,
    le: true,
    machine: 243,
    flags: 0x5,
    machineName: 'riscv64',
    oci: 'riscv64',
    readelf: 'RISC-V',
  },
  {
    name: 'ppc64le',
    cls: 64,
    le: true,
    machine: 21,
    flags: 2,
    machineName: 'ppc64',
    oci: 'ppc64le',
    readelf: 'PowerPC64',
  },
  {
    name: 'ppc64 big',
    cls: 64,
    le: false,
    machine: 21,
    flags: 1,
    machineName: 'ppc64',
    oci: 'ppc64',
    readelf: 'PowerPC64',
  },
  {
    name: 'ppc big',
    cls: 32,
    le: false,
    machine: 20,
    machineName: 'ppc',
    oci: undefined,
    readelf: 'PowerPC',
  },
  {
    name: 's390x big',
    cls: 64,
    le: false,
    machine: 22,
    machineName: 's390x',
    oci: 's390x',
    readelf: 'IBM S/390',
  },
  {
    name: 'mips big',
    cls: 32,
    le: false,
    machine: 8,
    machineName: 'mips',
    oci: 'mips',
    readelf: 'MIPS R3000',
  },
  {
    name: 'mipsel',
    cls: 32,
    le: true,
    machine: 8,
    machineName: 'mips',
    oci: 'mipsle',
    readelf: 'MIPS R3000',
  },
  {
    name: 'mips64el',
    cls: 64,
    le: true,
    machine: 8,
    machineName: 'mips64',
    oci: 'mips64le',
    readelf: 'MIPS R3000',
  },
  {
    name: 'loongarch64',
    cls: 64,
    le: true,
    machine: 258,
    flags: 0x43,
    machineName: 'loongarch64',
    oci: 'loong64',
    readelf: 'LoongArch',
  },
  {
    name: 'sparc big',
    cls: 32,
    le: false,
    machine: 2,
    machineName: 'sparc',
    oci: undefined,
    readelf: 'Sparc',
  },
  {
    name: 'sparc64 big',
    cls: 64,
    le: false,
    machine: 43,
    machineName: 'sparc64',
    oci: undefined,
    readelf: 'Sparc v9',
  },
];

for (const r of rows) {
  for (const sections of [true, false]) {
    test(`${r.name} ELF${r.cls} ${r.le ? 'LE' : 'BE'}${sections ? '' : ' without section headers'}: parsed like readelf`, async () => {
      const bytes = buildElf({
        cls: r.cls,
        le: r.le,
        machine: r.machine,
        flags: r.flags ?? 0,
        interp: '/lib/ld-test.so.1',
        needed: ['libc.so.6', 'libm.so.6'],
        soname: 'libtest.so.1',
        runpath: '$ORIGIN/../lib:/opt/x',
        flags1: 0x8000001,
        sections,
      });
      const info = parseElf(bytes);
      assert.equal(info.class, r.cls);
      assert.equal(info.endian, r.le ? 'little' : 'big');
      assert.equal(info.machine, r.machine);
      assert.equal(info.machineName, r.machineName);
      assert.equal(info.flags, r.flags ?? 0);
      assert.equal(elfMachineToOciArch(info), r.oci);
      assert.equal(info.interpreter, '/lib/ld-test.so.1');
      assert.deepEqual(info.needed, ['libc.so.6', 'libm.so.6']);
      assert.equal(info.soname, 'libtest.so.1');
      assert.deepEqual(info.runpath, ['$ORIGIN/../lib', '/opt/x']);
      assert.deepEqual(info.rpath, []);
      assert.equal(info.flags1, 0x8000001);
      // symbols come from .dynsym via the section, or via DT_HASH nchain without sections
      assert.deepEqual(info.importedSymbols, ['imported_fn']);
      assert.deepEqual(info.exportedSymbols, ['exported_fn']);
      assert.equal(info.buildId, 'deadbeef01020304');
      assert.equal(info.isStatic, false);
      assert.deepEqual(info.warnings, []);
      assert.deepEqual(
        await readElf(memoryFs({ '/f': { type: 'file', data: bytes } }), '/f', { wholeFileMax: 0 }),
        info,
      );

      const path = join(dir, `${r.name.replace(/\W/g, '_')}-${sections}`);
      writeFileSync(path, bytes);
      const text = execFileSync('readelf', ['-hld', '--wide', path], { encoding: 'latin1' });
      assert.match(text, new RegExp(`^\\s*Class:\\s+ELF${r.cls}$`, 'm'));
      assert.match(text, new RegExp(`^\\s*Data:.*${r.le ? 'little' : 'big'} endian$`, 'm'));
      assert.equal(/^\s*Machine:\s+(.*)$/m.exec(text)?.[1]?.trim(), r.readelf);
      assert.match(text, /\[Requesting program interpreter: \/lib\/ld-test\.so\.1\]/);
      assert.deepEqual(
        [...text.matchAll(/Shared library: \[(.*)\]/g)].map((m) => m[1]),
        info.needed,
      );
      assert.match(text, /Library soname: \[libtest\.so\.1\]/);
      assert.match(text, /Library runpath: \[\$ORIGIN\/\.\.\/lib:\/opt\/x\]/);
    });
  }
}

test('a static executable (no PT_DYNAMIC, no PT_INTERP) is isStatic', () => {
  const bytes = buildElf({ cls: 64, le: true, machine: 62, type: 2 });
  // turn PT_DYNAMIC (2) into PT_NULL (0): the builder puts it second when there is no interpreter
  const dv = new DataView(bytes.buffer);
  const phoff = Number(dv.getBigUint64(32, true));
  for (let i = 0; i < dv.getUint16(56, true); i++)
    if (dv.getUint32(phoff + i * 56, true) === 2) dv.setUint32(phoff + i * 56, 0, true);
  const info = parseElf(bytes);
  assert.equal(info.dynamic, false);
  assert.equal(info.isStatic, true);
  assert.deepEqual(info.needed, []);
});

test('sameAbi: class, byte order, machine, and ARM/RISC-V/MIPS float or ABI flags', () => {
  const abi = (cls: 32 | 64, le: boolean, machine: number, flags = 0) => ({
    class: cls,
    endian: le ? ('little' as const) : ('big' as const),
    machine,
    flags,
  });
  const table: [string, ReturnType<typeof abi>, ReturnType<typeof abi>, boolean][] = [
    ['same x86_64', abi(64, true, 62), abi(64, true, 62), true],
    ['x86_64 vs x32', abi(64, true, 62), abi(32, true, 62), false],
    ['x86_64 vs i386', abi(64, true, 62), abi(32, true, 3), false],
    ['ppc64le vs ppc64', abi(64, true, 21), abi(64, false, 21), false],
    ['ppc64 ELFv1 vs ELFv2 flags ignored', abi(64, false, 21, 1), abi(64, false, 21, 2), true],
    ['armhf vs armel', abi(32, true, 40, 0x05000400), abi(32, true, 40, 0x05000200), false],
    ['armhf vs float-neutral arm', abi(32, true, 40, 0x05000400), abi(32, true, 40, 0x05000000), true],
    ['armhf vs armhf with other flags', abi(32, true, 40, 0x05000400), abi(32, true, 40, 0x05000402), true],
    ['riscv64 lp64d vs lp64', abi(64, true, 243, 0x5), abi(64, true, 243, 0x1), false],
    ['riscv64 lp64d vs lp64d+rvc', abi(64, true, 243, 0x4), abi(64, true, 243, 0x5), true],
    ['mips o32 vs n32', abi(32, false, 8, 0x1000), abi(32, false, 8, 0x20), false],
    ['mips vs mips_rs3_le numbering', abi(32, true, 8), abi(32, true, 10), true],
    ['aarch64 vs arm', abi(64, true, 183), abi(32, true, 40), false],
  ];
  for (const [name, a, b, want] of table) {
    assert.equal(sameAbi(a, b), want, name);
    assert.equal(sameAbi(b, a), want, `${name} (swapped)`);
  }
});
