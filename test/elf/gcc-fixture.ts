/**
 * gcc-fixture.ts — compiles the real binaries the ELF tests patch, at test time, and a small ELF64 LE
 * patcher that finds header fields independently of the reader under test. Test helper only.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PROGRAM = `
#include <stdio.h>
#include <stdint.h>
#include <math.h>
/* a .note.dlopen as systemd's ELF_NOTE_DLOPEN macro lays it out: https://systemd.io/ELF_DLOPEN_METADATA/ */
#define JSON "[{\\"feature\\":\\"fx\\",\\"description\\":\\"d\\",\\"priority\\":\\"recommended\\",\\"soname\\":[\\"libfx.so.1\\",\\"libfx.so.0\\"]}]"
__attribute__((used, section(".note.dlopen"), aligned(4))) static const struct {
  uint32_t n, d, t; char name[4]; char desc[(sizeof(JSON) + 3) & ~3];
} note = { 4, sizeof(JSON), 0x407c0c0a, "FDO", JSON };
int exported_thing(int x) { return x + 1; }
int main(int argc, char **argv) { printf("%f\\n", cos(argc)); return 0; }
`;

const LIBRARY = `
int lib_answer(void) { return 42; }
static int hidden_helper(void) { return 1; }
__attribute__((visibility("hidden"))) int lib_hidden(void) { return hidden_helper(); }
`;

export interface Fixtures {
  /** PIE program: libm + libc, DT_RPATH /opt/r1:/opt/r2, DT_HASH and DT_GNU_HASH, a .note.dlopen, -rdynamic */
  readonly program: Uint8Array;
  /** shared library: DT_SONAME libfixture.so.1, DT_RUNPATH $ORIGIN/../lib, GNU hash only */
  readonly library: Uint8Array;
  /** static executable */
  readonly staticProgram?: Uint8Array;
  /** static-pie executable (PT_DYNAMIC with DF_1_PIE, no PT_INTERP) */
  readonly staticPie?: Uint8Array;
  /** relocatable object of the program (no program headers; notes only in sections) */
  readonly object: Uint8Array;
}

function gcc(args: string[]): void {
  try {
    execFileSync('gcc', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new Error('gcc is missing: install it (apt-get install gcc libc6-dev)');
    throw new Error(`gcc ${args.join(' ')} failed: ${err.stderr?.toString() ?? err.message}`);
  }
}

/** buildFixtures compiles the fixtures in a temporary directory and returns their bytes. */
export function buildFixtures(): Fixtures {
  const dir = mkdtempSync(join(tmpdir(), 'fromscratch-elf-gcc-'));
  try {
    writeFileSync(join(dir, 'prog.c'), PROGRAM);
    writeFileSync(join(dir, 'lib.c'), LIBRARY);
    gcc([
      '-O1',
      '-o',
      join(dir, 'prog'),
      join(dir, 'prog.c'),
      '-lm',
      '-rdynamic',
      '-Wl,--no-as-needed',
      '-Wl,-rpath,/opt/r1:/opt/r2',
      '-Wl,--disable-new-dtags',
      '-Wl,--hash-style=both',
    ]);
    gcc([
      '-O1',
      '-shared',
      '-fPIC',
      '-o',
      join(dir, 'lib.so'),
      join(dir, 'lib.c'),
      '-Wl,-soname,libfixture.so.1',
      '-Wl,-rpath,$ORIGIN/../lib',
      '-Wl,--enable-new-dtags',
      '-Wl,--hash-style=gnu',
    ]);
    gcc(['-O1', '-c', '-o', join(dir, 'prog.o'), join(dir, 'prog.c')]);
    // -nostartfiles -e: no crt objects or libc.a needed, so these link on any gcc
    const optional = (flag: string, name: string): Uint8Array | undefined => {
      try {
        gcc(['-O1', flag, '-o', join(dir, name), join(dir, 'lib.c'), '-nostartfiles', '-e', 'lib_answer']);
        return new Uint8Array(readFileSync(join(dir, name)));
      } catch {
        return undefined; // toolchain without it: covered by hand-built bytes in cross-arch.test.ts
      }
    };
    const staticProgram = optional('-static', 'static');
    const staticPie = optional('-static-pie', 'static-pie');
    return {
      program: new Uint8Array(readFileSync(join(dir, 'prog'))),
      library: new Uint8Array(readFileSync(join(dir, 'lib.so'))),
      object: new Uint8Array(readFileSync(join(dir, 'prog.o'))),
      ...(staticProgram ? { staticProgram } : {}),
      ...(staticPie ? { staticPie } : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Elf64 reads and patches an ELF64 little-endian file by the book, without the reader under test. */
export class Elf64 {
  readonly bytes: Uint8Array;
  readonly dv: DataView;
  constructor(src: Uint8Array) {
    this.bytes = new Uint8Array(src); // a copy: patches never leak between rows
    this.dv = new DataView(this.bytes.buffer);
  }
  u16(o: number): number {
    return this.dv.getUint16(o, true);
  }
  u32(o: number): number {
    return this.dv.getUint32(o, true);
  }
  u64(o: number): number {
    return Number(this.dv.getBigUint64(o, true));
  }
  set16(o: number, v: number): this {
    this.dv.setUint16(o, v, true);
    return this;
  }
  set32(o: number, v: number): this {
    this.dv.setUint32(o, v, true);
    return this;
  }
  set64(o: number, v: number | bigint): this {
    this.dv.setBigUint64(o, BigInt(v), true);
    return this;
  }
  get phoff(): number {
    return this.u64(32);
  }
  get shoff(): number {
    return this.u64(40);
  }
  get phnum(): number {
    return this.u16(56);
  }
  get shnum(): number {
    return this.u16(60);
  }
  get shstrndx(): number {
    return this.u16(62);
  }
  /** offset of program header i */
  ph(i: number): number {
    return this.phoff + i * 56;
  }
  /** offset of section header i */
  sh(i: number): number {
    return this.shoff + i * 64;
  }
  /** index of the first program header of type t */
  phIndex(t: number): number {
    for (let i = 0; i < this.phnum; i++) if (this.u32(this.ph(i)) === t) return i;
    throw new Error(`no program header of type ${t}`);
  }
  /** index of the first section of type t */
  shIndex(t: number): number {
    for (let i = 0; i < this.shnum; i++) if (this.u32(this.sh(i) + 4) === t) return i;
    throw new Error(`no section of type ${t}`);
  }
  /** file offsets of the dynamic entries (tag at +0, value at +8), DT_NULLs included */
  dynEntries(): number[] {
    const p = this.ph(this.phIndex(2));
    const off = this.u64(p + 8);
    const size = this.u64(p + 32);
    return Array.from({ length: Math.floor(size / 16) }, (_, i) => off + i * 16);
  }
  /** file offset of the first dynamic entry with tag t */
  dyn(t: number): number {
    const e = this.dynEntries().find((o) => this.u64(o) === t);
    if (e === undefined) throw new Error(`no dynamic entry ${t}`);
    return e;
  }
  /** vaddr → file offset through the PT_LOADs */
  offsetOf(vaddr: number): number {
    for (let i = 0; i < this.phnum; i++) {
      const p = this.ph(i);
      if (this.u32(p) !== 1) continue;
      const va = this.u64(p + 16);
      if (vaddr >= va && vaddr < va + this.u64(p + 32)) return this.u64(p + 8) + (vaddr - va);
    }
    throw new Error(`vaddr ${vaddr} not in a PT_LOAD`);
  }
  /** removes the section header table (e_shoff, e_shnum, e_shstrndx = 0), as sstrip does */
  dropSections(): this {
    return this.set64(40, 0).set16(60, 0).set16(62, 0);
  }
}
