/**
 * elf-role.test.ts — which ELF files are programs or libraries of the image and which are data (issue
 * 11): real files made by gcc, ar, objcopy and the kernel's own format (core), a truncated copy, and
 * hand-built foreign ones. Each row pins the verdict; binutils readelf confirms the kind of the file
 * the row is about, so a fixture that stopped being what it claims fails the test too.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type ElfDataKind, readElfRole } from '../../src/elf/elf-role.ts';
import { hostFs } from '../../src/fs/host-fs.ts';
import { memoryFs } from '../../src/fs/memory-fs.ts';
import { requireTool } from '../support/validate-tools.ts';
import { buildElf } from './elf-builder.ts';

const dir = mkdtempSync(join(tmpdir(), 'fromscratch-elf-role-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** fixtures writes every file of the table into `dir` and returns name → [expected verdict, readelf check]. */
function fixtures(): [string, ElfDataKind | 'program', RegExp][] {
  const gcc = requireTool('gcc', 'gcc');
  requireTool('objcopy', 'binutils');
  writeFileSync(join(dir, 'lib.c'), 'int f(void) { return 42; }\n');
  writeFileSync(join(dir, 'main.c'), 'int main(void) { return 0; }\n');
  sh(gcc, ['-c', '-fPIC', 'lib.c', '-o', 'lib.o']);
  sh(gcc, ['-shared', 'lib.o', '-o', 'lib.so']);
  sh(gcc, ['main.c', '-o', 'main']);
  sh(gcc, ['-static-pie', 'main.c', '-o', 'main-static-pie']);
  sh('objcopy', ['--only-keep-debug', 'main', 'main.debug']);
  sh('objcopy', ['--only-keep-debug', 'lib.so', 'lib.so.debug']);
  const main = readFileSync(join(dir, 'main'));
  writeFileSync(join(dir, 'main.trunc'), main.subarray(0, Math.floor(main.length / 2)));
  writeFileSync(join(dir, 'main.head'), main.subarray(0, 40));
  const core = Buffer.from(main);
  core.writeUInt16LE(4, 16); // e_type ET_CORE, as the kernel's dumps have
  writeFileSync(join(dir, 'core'), core);
  writeFileSync(
    join(dir, 'arm64.node'),
    buildElf({ cls: 64, le: true, machine: 183, needed: ['libc.so.6'] }),
  );
  writeFileSync(join(dir, 'riscv.so'), buildElf({ cls: 64, le: true, machine: 243 }));
  writeFileSync(join(dir, 'freebsd.so'), buildElf({ cls: 64, le: true, machine: 62, osabi: 9 }));
  writeFileSync(join(dir, 'i386.so'), buildElf({ cls: 32, le: true, machine: 3 }));
  writeFileSync(join(dir, 'x86.so'), buildElf({ cls: 64, le: true, machine: 62 }));
  return [
    ['main', 'program', /Type:\s+DYN/],
    ['main-static-pie', 'program', /Type:\s+DYN/],
    ['lib.so', 'program', /Type:\s+DYN/],
    ['x86.so', 'program', /Machine:\s+Advanced Micro Devices X86-64/],
    ['i386.so', 'program', /Machine:\s+Intel 80386/],
    ['lib.o', 'relocatable', /Type:\s+REL/],
    ['core', 'core', /Type:\s+CORE/],
    ['main.debug', 'debug', /Type:\s+DYN/],
    ['lib.so.debug', 'debug', /Type:\s+DYN/],
    ['main.trunc', 'truncated', /Type:\s+DYN/],
    ['main.head', 'truncated', /Error: .*(too small|read|short)/i],
    ['arm64.node', 'foreign-arch', /Machine:\s+AArch64/],
    ['riscv.so', 'foreign-arch', /Machine:\s+RISC-V/],
    ['freebsd.so', 'foreign-os', /OS\/ABI:\s+UNIX - FreeBSD/],
  ];
}

test('readElfRole: programs and libraries of the image are programs, every other ELF file is data', async () => {
  const readelf = requireTool('readelf', 'binutils');
  const fs = hostFs('/');
  const rows = fixtures();
  for (const [name, want, readelfSays] of rows) {
    const path = join(dir, name);
    const r = spawnSync(readelf, ['-h', path], { encoding: 'utf8' });
    const header = `${r.stdout}${r.stderr}`;
    assert.match(header, readelfSays, `${name}: readelf agrees the fixture is what the row says`);
    const role = await readElfRole(fs, path, 'amd64');
    assert.equal(role.role === 'program' ? 'program' : role.kind, want, `${name}: ${JSON.stringify(role)}`);
  }
  // the same arm64 file is a program of an arm64 image; x86-64 is then the foreign one
  assert.equal((await readElfRole(fs, join(dir, 'arm64.node'), 'arm64')).role, 'program');
  const x = await readElfRole(fs, join(dir, 'x86.so'), 'arm64');
  assert.ok(x.role === 'data' && x.kind === 'foreign-arch' && /amd64/.test(x.detail), JSON.stringify(x));
});

test('readElfRole: musl and 32-bit objects are data for a root without their loader, programs with it', async () => {
  const fs = hostFs('/');
  const lib = join(dir, 'node.napi.musl.node');
  const prog = join(dir, 'musl-prog');
  writeFileSync(lib, buildElf({ cls: 64, le: true, machine: 62, needed: ['libc.musl-x86_64.so.1'] }));
  writeFileSync(
    prog,
    buildElf({ cls: 64, le: true, machine: 62, type: 2, interp: '/lib/ld-musl-x86_64.so.1' }),
  );
  const glibcRoot = memoryFs({
    '/lib/x86_64-linux-gnu/libc.so.6': { type: 'file', data: new Uint8Array(8) },
  });
  const muslRoot = memoryFs({ '/lib/ld-musl-x86_64.so.1': { type: 'file', data: new Uint8Array(8) } });
  for (const p of [lib, prog]) {
    const r = await readElfRole(fs, p, 'amd64', undefined, glibcRoot);
    assert.ok(
      r.role === 'data' && r.kind === 'foreign-libc' && /ld-musl-x86_64/.test(r.detail),
      JSON.stringify(r),
    );
    assert.equal((await readElfRole(fs, p, 'amd64', undefined, muslRoot)).role, 'program');
    assert.equal((await readElfRole(fs, p, 'amd64')).role, 'program', 'without a root nothing is known');
  }
  // a 32-bit (ia32) prebuild in an amd64 image: a program only where the root has the i386 loader
  const ia32 = join(dir, 'i386.so');
  const r = await readElfRole(fs, ia32, 'amd64', undefined, glibcRoot);
  assert.ok(
    r.role === 'data' && r.kind === 'foreign-arch' && /no 386 loader/.test(r.detail),
    JSON.stringify(r),
  );
  const multiarch = memoryFs({ '/lib/ld-linux.so.2': { type: 'file', data: new Uint8Array(8) } });
  assert.equal((await readElfRole(fs, ia32, 'amd64', undefined, multiarch)).role, 'program');
});

test('readElfRole never throws on damaged ELF: 400 seeded mutations of a real program are each a program or data', async () => {
  const bytes = readFileSync('/usr/bin/true');
  let seed = 0x2545f491;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const kinds = new Map<string, number>();
  for (let i = 0; i < 400; i++) {
    const b = Buffer.from(bytes.subarray(0, i % 4 === 0 ? 16 + rand(bytes.length - 16) : bytes.length));
    // flips in the headers (first 4 KiB), where every offset and count the verdict reads lives
    for (let k = 0; k < 1 + rand(6); k++) b[4 + rand(Math.min(b.length, 4096) - 4)] = rand(256);
    const fs = memoryFs({ '/f': { type: 'file', data: b } });
    const r = await readElfRole(fs, '/f', 'amd64', undefined, fs);
    const k = r.role === 'program' ? 'program' : r.kind;
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  assert.ok((kinds.get('program') ?? 0) > 0 && kinds.size >= 4, JSON.stringify([...kinds]));
});
