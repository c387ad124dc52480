/**
 * readelf-diff.test.ts — differential test of the ELF reader against binutils `readelf -hld --wide`
 * on the host's own files: every ELF file in /usr/bin and /usr/sbin plus an even sample of
 * /usr/lib/x86_64-linux-gnu, capped by FROMSCRATCH_ELF_DIFF_MAX (default 2000 files in all, of which
 * at most 400 libraries), plus the foreign-architecture ELF files found on the machine (arm, aarch64,
 * i386 native addons under node_modules/<pkg>/prebuilds). Pins class, byte order, machine, type,
 * dynamic, build id, interpreter, needed, soname, rpath, runpath and flags_1 against
 * `readelf -hldn --wide`; also pins readElf (partial positioned reads) == parseElf (whole file).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { lstat, open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parseElf } from '../../src/elf/parse-elf.ts';
import { readElf } from '../../src/elf/read-elf.ts';
import type { ElfInfo } from '../../src/elf/types.ts';
import { hostFs } from '../../src/fs/host-fs.ts';

const run = promisify(execFile);
const MAX = Number(process.env.FROMSCRATCH_ELF_DIFF_MAX ?? 2000);
const MAX_LIBS = Math.min(400, MAX);
/** files up to this size are also parsed whole with parseElf and compared with readElf */
const WHOLE_COMPARE_MAX = 8 * 1024 * 1024;

/** readelf's names for DT_FLAGS_1 bits (binutils readelf.c, print_dynamic_flags_1). */
const DF_1: Record<string, number> = {
  NOW: 0x1,
  GLOBAL: 0x2,
  GROUP: 0x4,
  NODELETE: 0x8,
  LOADFLTR: 0x10,
  INITFIRST: 0x20,
  NOOPEN: 0x40,
  ORIGIN: 0x80,
  DIRECT: 0x100,
  TRANS: 0x200,
  INTERPOSE: 0x400,
  NODEFLIB: 0x800,
  NODUMP: 0x1000,
  CONFALT: 0x2000,
  ENDFILTEE: 0x4000,
  DISPRELDNE: 0x8000,
  DISPRELPND: 0x10000,
  NODIRECT: 0x20000,
  IGNMULDEF: 0x40000,
  NOKSYMS: 0x80000,
  NOHDR: 0x100000,
  EDITED: 0x200000,
  NORELOC: 0x400000,
  SYMINTPOSE: 0x800000,
  GLOBAUDIT: 0x1000000,
  SINGLETON: 0x2000000,
  STUB: 0x4000000,
  PIE: 0x8000000,
  KMOD: 0x10000000,
  WEAKFILTER: 0x20000000,
  NOCOMMON: 0x40000000,
};
const MACHINES: Record<string, number> = {
  'Advanced Micro Devices X86-64': 62,
  'Intel 80386': 3,
  AArch64: 183,
  ARM: 40,
  None: 0,
};

interface Expected {
  class: number;
  machine: number | string;
  endian: string;
  type: string;
  dynamic: boolean;
  buildId?: string;
  interpreter?: string;
  needed: string[];
  soname?: string;
  rpath?: string;
  runpath?: string;
  flags1: number;
}

async function isElfFile(path: string): Promise<boolean> {
  const st = await lstat(path);
  if (!st.isFile() || st.size < 16) return false;
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(4);
    await fh.read(b, 0, 4, 0);
    return b.toString('latin1') === '\x7fELF';
  } finally {
    await fh.close();
  }
}

async function walk(dir: string, out: string[], depth = 0): Promise<void> {
  if (depth > 4) return;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return; // unreadable directory: nothing to compare there
  }
  for (const n of names.sort()) {
    const p = `${dir}/${n}`;
    const st = await lstat(p).catch(() => undefined);
    if (st?.isDirectory()) await walk(p, out, depth + 1);
    else if (st?.isFile() && (await isElfFile(p))) out.push(p);
  }
}

async function selectFiles(): Promise<string[]> {
  const bins: string[] = [];
  for (const d of ['/usr/bin', '/usr/sbin']) {
    for (const n of (await readdir(d)).sort()) {
      const p = `${d}/${n}`;
      if (await isElfFile(p).catch(() => false)) bins.push(p);
    }
  }
  const libs: string[] = [];
  await walk('/usr/lib/x86_64-linux-gnu', libs);
  const chosenBins = bins.slice(0, MAX);
  const nLibs = Math.max(0, Math.min(MAX_LIBS, MAX - chosenBins.length, libs.length));
  const step = libs.length / Math.max(1, nLibs);
  const chosenLibs = Array.from({ length: nLibs }, (_, i) => libs[Math.floor(i * step)]!);
  return [...chosenBins, ...chosenLibs, ...(await foreignFiles())];
}

/**
 * foreignFiles lists the other-architecture ELF files on this machine: the prebuilt native addons
 * npm packages ship in `prebuilds/` (arm, aarch64, i386 here; no multilib gcc or foreign libc).
 */
async function foreignFiles(): Promise<string[]> {
  const nm = join(import.meta.dirname, '..', '..', 'node_modules');
  const out: string[] = [];
  const pkgs: string[] = [];
  for (const n of (await readdir(nm).catch(() => [] as string[])).sort()) {
    if (n.startsWith('@'))
      for (const m of (await readdir(`${nm}/${n}`).catch(() => [] as string[])).sort())
        pkgs.push(`${nm}/${n}/${m}`);
    else pkgs.push(`${nm}/${n}`);
  }
  for (const p of pkgs) await walk(`${p}/prebuilds`, out);
  return out;
}

function parseReadelf(text: string): Expected {
  const line = (re: RegExp) => re.exec(text)?.[1];
  const cls = line(/^\s*Class:\s+ELF(\d+)$/m);
  const machine = line(/^\s*Machine:\s+(.+)$/m)!.trim();
  const type = line(/^\s*Type:\s+(\w+)/m)!;
  const e: Expected = {
    class: Number(cls),
    machine: MACHINES[machine] ?? machine,
    endian: /^\s*Data:.*little endian$/m.test(text) ? 'little' : 'big',
    type: type.toLowerCase(),
    dynamic: !/There is no dynamic section in this file/.test(text),
    needed: [...text.matchAll(/\(NEEDED\)\s+Shared library: \[(.*)\]$/gm)].map((m) => m[1]!),
    flags1: 0,
  };
  const buildId = line(/Build ID: ([0-9a-f]+)$/m);
  if (buildId !== undefined) e.buildId = buildId;
  const interp = line(/\[Requesting program interpreter: (.*)\]$/m);
  if (interp !== undefined) e.interpreter = interp;
  const soname = line(/\(SONAME\)\s+Library soname: \[(.*)\]$/m);
  if (soname !== undefined) e.soname = soname;
  const rpath = line(/\(RPATH\)\s+Library rpath: \[(.*)\]$/m);
  if (rpath !== undefined) e.rpath = rpath;
  const runpath = line(/\(RUNPATH\)\s+Library runpath: \[(.*)\]$/m);
  if (runpath !== undefined) e.runpath = runpath;
  const f1 = line(/\(FLAGS_1\)\s+Flags: (.*)$/m);
  if (f1 !== undefined) {
    for (const w of f1.trim().split(/\s+/)) {
      if (w === '') continue;
      const bit = DF_1[w];
      assert.ok(bit !== undefined, `unknown readelf FLAGS_1 word ${w}`);
      e.flags1 |= bit;
    }
  }
  return e;
}

function actual(i: ElfInfo): Expected {
  const e: Expected = {
    class: i.class,
    machine: i.machine,
    endian: i.endian,
    type: i.type,
    dynamic: i.dynamic,
    needed: [...i.needed],
    flags1: i.flags1,
  };
  if (i.buildId !== undefined) e.buildId = i.buildId;
  if (i.interpreter !== undefined) e.interpreter = i.interpreter;
  if (i.soname !== undefined) e.soname = i.soname;
  if (i.rpath.length > 0) e.rpath = i.rpath.join(':');
  if (i.runpath.length > 0) e.runpath = i.runpath.join(':');
  return e;
}

async function readelfBatch(files: string[]): Promise<Map<string, string>> {
  let stdout: string;
  try {
    ({ stdout } = await run('readelf', ['-hldn', '--wide', ...files], {
      maxBuffer: 1 << 28,
      encoding: 'latin1',
    }));
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stdout?: string };
    if (err.code === 'ENOENT')
      throw new Error('readelf is missing: install binutils (apt-get install binutils)');
    stdout = err.stdout ?? ''; // readelf exits 1 when one file has problems; its output for the others is still good
  }
  const out = new Map<string, string>();
  if (files.length === 1) {
    out.set(files[0]!, stdout);
    return out;
  }
  const parts = stdout.split(/^File: (.*)$/m);
  for (let i = 1; i + 1 < parts.length; i += 2) out.set(parts[i]!, parts[i + 1]!);
  return out;
}

test('ELF reader agrees with readelf -hld on host files', async () => {
  const files = await selectFiles();
  assert.ok(files.length > 100, `only ${files.length} ELF files found under /usr`);
  const fs = hostFs('/');
  let compared = 0;
  let wholeCompared = 0;
  const mismatches: string[] = [];
  let ms = 0;
  const machines = new Map<string, number>();
  for (let i = 0; i < files.length; i += 100) {
    const batch = files.slice(i, i + 100);
    const expected = await readelfBatch(batch);
    for (const f of batch) {
      const text = expected.get(f);
      if (text === undefined || !/^\s*Class:/m.test(text)) {
        mismatches.push(`${f}: readelf printed no header`);
        continue;
      }
      const t0 = performance.now();
      let info: ElfInfo;
      try {
        info = await readElf(fs, f, { wholeFileMax: 0 });
      } catch (e) {
        mismatches.push(`${f}: ${(e as Error).message}`);
        continue;
      }
      ms += performance.now() - t0;
      const k = `${info.machineName}/${info.class}`;
      machines.set(k, (machines.get(k) ?? 0) + 1);
      try {
        assert.deepEqual(actual(info), parseReadelf(text));
      } catch (e) {
        mismatches.push(`${f}: ${(e as Error).message.split('\n').slice(0, 12).join('\n')}`);
      }
      compared++;
      const st = await lstat(f);
      if (st.size <= WHOLE_COMPARE_MAX) {
        try {
          assert.deepEqual(parseElf(await readFile(f)), info);
        } catch (e) {
          mismatches.push(
            `${f}: readElf and parseElf differ: ${(e as Error).message.split('\n').slice(0, 12).join('\n')}`,
          );
        }
        wholeCompared++;
      }
    }
  }
  console.log(
    `readelf-diff: ${files.length} ELF files, ${compared} compared with readelf, ${wholeCompared} readElf==parseElf, ` +
      `${mismatches.length} mismatches; readElf ${(compared / (ms / 1000)).toFixed(0)} files/s (symbols included); ` +
      `machines ${[...machines].map(([k, v]) => `${k}:${v}`).join(' ')}`,
  );
  assert.deepEqual(mismatches, []);
});
