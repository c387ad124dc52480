/**
 * ld-cache.test.ts — the ld.so.cache parser against `ldconfig -p` (host cache and one built with
 * `ldconfig -r` with glibc-hwcaps), hand-built old and compat formats, hostile caches; ld.so.conf
 * includes; shebang and dynamic-string-token tables.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { resolveClosure } from '../../src/closure/closure.ts';
import { expandDst } from '../../src/closure/dst.ts';
import { parseLdCache } from '../../src/closure/ld-cache.ts';
import { parseLdSoConf, readLdSoConf } from '../../src/closure/ld-conf.ts';
import { envCommand, parseShebang } from '../../src/closure/shebang.ts';
import type { ElfInfo } from '../../src/elf/types.ts';
import { isFromscratchError } from '../../src/errors.ts';
import { memoryFs } from '../../src/fs/memory-fs.ts';

function ldconfigP(args: string[]): { key: string; value: string; hwcaps?: string }[] {
  let out: string;
  try {
    out = execFileSync('ldconfig', [...args, '-p'], { encoding: 'utf8' });
  } catch (e) {
    throw new Error(`ldconfig -p failed (install libc-bin): ${(e as Error).message}`);
  }
  const rows: { key: string; value: string; hwcaps?: string }[] = [];
  for (const line of out.split('\n')) {
    const m = /^\t(\S+) \(([^)]*)\) => (.*)$/.exec(line);
    if (!m) continue;
    const hw = /hwcap: "([^"]+)"/.exec(m[2]!)?.[1];
    rows.push(hw ? { key: m[1]!, value: m[3]!, hwcaps: hw } : { key: m[1]!, value: m[3]! });
  }
  return rows;
}

const enc = (s: string) => Buffer.from(`${s}\0`, 'latin1');

/** oldCache builds an "ld.so-1.7.0" cache: header, 12-byte entries, strings relative to the entries' end. */
function oldCache(entries: [string, string][]): Buffer {
  const strs: Buffer[] = [];
  let off = 0;
  const idx: [number, number][] = [];
  for (const [k, v] of entries) {
    idx.push([off, off + enc(k).length]);
    strs.push(enc(k), enc(v));
    off += enc(k).length + enc(v).length;
  }
  const head = Buffer.alloc(16 + entries.length * 12);
  head.write('ld.so-1.7.0', 0, 'latin1');
  head.writeUInt32LE(entries.length, 12);
  idx.forEach(([k, v], i) => {
    head.writeInt32LE(3, 16 + i * 12);
    head.writeUInt32LE(k, 20 + i * 12);
    head.writeUInt32LE(v, 24 + i * 12);
  });
  return Buffer.concat([head, ...strs]);
}

/** newCache builds a "glibc-ld.so.cache1.1" cache (no extension), strings relative to its start. */
function newCache(entries: [string, string][], flags = 0x0303): Buffer {
  const headLen = 48 + entries.length * 24;
  const strs: Buffer[] = [];
  let off = headLen;
  const head = Buffer.alloc(headLen);
  head.write('glibc-ld.so.cache1.1', 0, 'latin1');
  head.writeUInt32LE(entries.length, 20);
  head[28] = 2; // little endian
  entries.forEach(([k, v], i) => {
    const e = 48 + i * 24;
    head.writeInt32LE(flags, e);
    head.writeUInt32LE(off, e + 4);
    head.writeUInt32LE(off + enc(k).length, e + 8);
    strs.push(enc(k), enc(v));
    off += enc(k).length + enc(v).length;
  });
  const body = Buffer.concat([head, ...strs]);
  head.writeUInt32LE(body.length - headLen, 24);
  return Buffer.concat([head, ...strs]);
}

describe('parseLdCache', () => {
  it('reads the host cache exactly as ldconfig -p lists it', () => {
    const c = parseLdCache(readFileSync('/etc/ld.so.cache'));
    assert.equal(c.format, 'new');
    const ours = c.entries.map((e) =>
      e.hwcaps ? { key: e.key, value: e.value, hwcaps: e.hwcaps } : { key: e.key, value: e.value },
    );
    assert.deepEqual(ours, ldconfigP([]));
    assert.match(c.generator ?? '', /ldconfig/);
  });

  it('reads a cache built by ldconfig -r with a glibc-hwcaps entry', async () => {
    const { mkdtempSync, mkdirSync, copyFileSync, writeFileSync, rmSync, realpathSync } = await import(
      'node:fs'
    );
    const root = mkdtempSync('/tmp/fromscratch-ldcache-');
    try {
      const d = `${root}/usr/lib/x86_64-linux-gnu`;
      mkdirSync(`${d}/glibc-hwcaps/x86-64-v2`, { recursive: true });
      mkdirSync(`${root}/etc`);
      const z = realpathSync('/usr/lib/x86_64-linux-gnu/libz.so.1');
      copyFileSync(z, `${d}/libz.so.1`);
      copyFileSync(z, `${d}/glibc-hwcaps/x86-64-v2/libz.so.1`);
      writeFileSync(`${root}/etc/ld.so.conf`, '/usr/lib/x86_64-linux-gnu\n');
      execFileSync('ldconfig', ['-r', root]);
      const c = parseLdCache(readFileSync(`${root}/etc/ld.so.cache`));
      assert.deepEqual(
        c.entries.map((e) => [e.key, e.value, e.hwcaps, e.flags]),
        [
          ['libz.so.1', '/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v2/libz.so.1', 'x86-64-v2', 0x303],
          ['libz.so.1', '/usr/lib/x86_64-linux-gnu/libz.so.1', undefined, 0x303],
        ],
      );
      assert.deepEqual(
        c.entries.map(({ key, value, hwcaps }) => (hwcaps ? { key, value, hwcaps } : { key, value })),
        ldconfigP(['-r', root]),
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('reads the old "ld.so-1.7.0" format and the glibc 2.2–2.31 compat format (old table + new inside)', () => {
    const old = oldCache([['libfoo.so.1', '/lib/libfoo.so.1']]);
    assert.deepEqual(parseLdCache(old), {
      format: 'old',
      entries: [{ key: 'libfoo.so.1', value: '/lib/libfoo.so.1', flags: 3 }],
    });
    const inner = newCache([['libbar.so.2', '/usr/lib/libbar.so.2']]);
    // compat: the new cache sits at the first 8-aligned offset after the old entry table
    const oldTable = oldCache([['x', '/x']]).subarray(0, 28);
    const compat = Buffer.concat([oldTable, Buffer.alloc((8 - (28 % 8)) % 8), inner]);
    const c = parseLdCache(compat);
    assert.equal(c.format, 'old+new');
    assert.deepEqual(c.entries, [{ key: 'libbar.so.2', value: '/usr/lib/libbar.so.2', flags: 0x303 }]);
  });

  const hostile: [string, () => Buffer, RegExp][] = [
    ['unknown magic', () => Buffer.from('not a cache at all, certainly not'), /unknown magic/],
    ['truncated header', () => newCache([]).subarray(0, 30), /truncated header/],
    [
      'nlibs larger than the file',
      () => {
        const b = newCache([['a', '/a']]);
        b.writeUInt32LE(0x7fffffff, 20);
        return b;
      },
      /entries do not fit/,
    ],
    [
      'string offset outside the file',
      () => {
        const b = newCache([['a', '/a']]);
        b.writeUInt32LE(1_000_000, 48 + 4);
        return b;
      },
      /outside the file/,
    ],
    [
      'string without NUL',
      () => {
        const b = newCache([['a', '/a']]);
        return b.subarray(0, b.length - 1);
      },
      /not NUL-terminated/,
    ],
    [
      'invalid byte-order flag',
      () => {
        const b = newCache([['a', '/a']]);
        b[28] = 1;
        return b;
      },
      /byte order/,
    ],
    [
      'extension offset outside the file',
      () => {
        const b = newCache([['a', '/a']]);
        b.writeUInt32LE(0xfffff0, 32);
        return b;
      },
      /extension offset/,
    ],
    [
      'old format with a huge count',
      () => {
        const b = oldCache([['a', '/a']]);
        b.writeUInt32LE(0xffffffff, 12);
        return b;
      },
      /do not fit/,
    ],
  ];
  for (const [name, make, re] of hostile) {
    it(`hostile cache: ${name} → malformed ld.so.cache`, () => {
      assert.throws(
        () => parseLdCache(make()),
        (e) =>
          isFromscratchError(e, 'INVALID_ARGUMENT') &&
          /^malformed ld\.so\.cache: /.test(e.message) &&
          re.test(e.message),
      );
    });
  }

  it('a hostile cache in a root is ignored with a warning and the default directories are searched', async () => {
    const bad = newCache([['libc.so.6', '/lib/libc.so.6']]);
    bad.writeUInt32LE(1_000_000, 48 + 4);
    const fs = memoryFs({
      '/etc/ld.so.cache': { type: 'file', data: bad },
      '/bin/prog': { type: 'file', data: fakeElf(), mode: 0o755 },
      '/usr/lib/libc.so.6': { type: 'file', data: fakeElf() },
    });
    const readElf = async (_f: unknown, p: string): Promise<ElfInfo> =>
      info(p === '/bin/prog' ? ['libc.so.6'] : []);
    const r = await resolveClosure(['/bin/prog'], fs, { readElf });
    assert.equal(r.objects.get('/bin/prog')?.needed[0]?.via, 'default path /usr/lib');
    assert.ok(r.warnings.some((w) => /ld\.so\.cache .*ignored: malformed/.test(w)));
  });
});

/** fakeElf is a 64-byte x86-64 ET_DYN header, enough for the loader's header check; the reader is injected. */
function fakeElf(): Uint8Array {
  const b = Buffer.alloc(64);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  b.writeUInt16LE(3, 16);
  b.writeUInt16LE(62, 18);
  return b;
}

function info(needed: string[]): ElfInfo {
  return {
    class: 64,
    endian: 'little',
    machine: 62,
    machineName: 'x86_64',
    osabi: 0,
    type: 'dyn',
    flags: 0,
    dynamic: true,
    needed,
    rpath: [],
    runpath: [],
    flags1: 0,
    dtFlags: 0,
    importedSymbols: [],
    exportedSymbols: [],
    dlopen: [],
    isStatic: false,
  };
}

describe('hostile roots', () => {
  it('a symlink loop where a library or a search directory should be is skipped, and the search goes on', async () => {
    const fs = memoryFs({
      '/bin/prog': { type: 'file', data: fakeElf(), mode: 0o755 },
      '/lib/x86_64-linux-gnu/libloop.so.1': { type: 'symlink', target: 'libloop.so.1' },
      '/usr/lib/x86_64-linux-gnu': { type: 'symlink', target: '/usr/lib/x86_64-linux-gnu/x' },
      '/usr/lib/libloop.so.1': { type: 'file', data: fakeElf() },
      '/etc/ld.so.cache': { type: 'symlink', target: 'ld.so.cache' },
      '/etc/ld.so.conf': { type: 'symlink', target: '/etc/ld.so.conf' },
      '/etc/ssl/certs/ca-certificates.crt': { type: 'symlink', target: 'ca-certificates.crt' },
      '/bin/loop': { type: 'symlink', target: '/bin/loop' },
    });
    const readElf = async (_f: unknown, p: string): Promise<ElfInfo> =>
      info(p === '/bin/prog' ? ['libloop.so.1'] : []);
    const r = await resolveClosure(['/bin/prog'], fs, { readElf });
    assert.equal(r.objects.get('/bin/prog')?.needed[0]?.via, 'default path /usr/lib');
    assert.ok(r.warnings.some((w) => w.includes('/lib/x86_64-linux-gnu/libloop.so.1 skipped')));
    await assert.rejects(
      resolveClosure(['/bin/loop'], fs, { readElf }),
      (e) => isFromscratchError(e, 'PATH_ESCAPE') && e.message.includes('/bin/loop'),
    );
  });
});

describe('ld.so.conf', () => {
  it('parses dirs, comments, include lines, old =TYPE suffixes and ignores hwcap lines', () => {
    assert.deepEqual(
      parseLdSoConf(
        '# c\n/usr/local/lib # trailing\ninclude a/*.conf /b.conf\nhwcap 0 nosegneg\n/opt/x=libc6/\n\n',
      ),
      [
        { kind: 'dir', dir: '/usr/local/lib' },
        { kind: 'include', pattern: 'a/*.conf' },
        { kind: 'include', pattern: '/b.conf' },
        { kind: 'dir', dir: '/opt/x' },
      ],
    );
  });

  it('follows include globs (sorted, relative to the including file), reads each file once, keeps first-seen order', async () => {
    const t = (s: string) => ({ type: 'file' as const, data: Buffer.from(s) });
    const fs = memoryFs({
      '/etc/ld.so.conf': t('include /etc/ld.so.conf.d/*.conf\n/usr/local/lib\n'),
      '/etc/ld.so.conf.d/b.conf': t('/opt/b\ninclude ../ld.so.conf\n'),
      '/etc/ld.so.conf.d/a.conf': t('/opt/a\ninclude more/?.conf\n'),
      '/etc/ld.so.conf.d/more/x.conf': t('/opt/x\n/opt/a\n'),
      '/etc/ld.so.conf.d/skip.txt': t('/opt/never\n'),
    });
    const c = await readLdSoConf(fs);
    assert.deepEqual(c.dirs, ['/opt/a', '/opt/x', '/opt/b', '/usr/local/lib']);
    assert.equal(c.files.length, 4);
  });
});

describe('shebang and tokens', () => {
  const table: [string, string, string | undefined][] = [
    ['#!/bin/sh\n', '/bin/sh', undefined],
    ['#! /usr/bin/python3 -u  \nx', '/usr/bin/python3', '-u'],
    ['#!/usr/bin/env -S node --max-old-space-size=8\r\n', '/usr/bin/env', '-S node --max-old-space-size=8'],
    ['#!/bin/bash', '/bin/bash', undefined],
  ];
  for (const [text, interp, arg] of table) {
    it(`parseShebang ${JSON.stringify(text)}`, () => {
      const s = parseShebang(Buffer.from(text), '/s');
      assert.deepEqual([s.interpreter, s.arg], [interp, arg]);
    });
  }
  it('parseShebang notes a #! line ending with a carriage return (DOS line endings), which the kernel keeps', () => {
    assert.equal(parseShebang(Buffer.from('#!/bin/sh\r\necho\r\n'), '/s').crlf, true);
    assert.equal(parseShebang(Buffer.from('#!/usr/bin/env bash\r\n'), '/s').crlf, true);
    assert.equal(parseShebang(Buffer.from('#!/bin/sh\necho\r\n'), '/s').crlf, undefined);
    assert.equal(parseShebang(Buffer.from('#!/bin/sh'), '/s').crlf, undefined);
  });
  it('parseShebang refuses an empty interpreter and one longer than the kernel reads', () => {
    assert.throws(
      () => parseShebang(Buffer.from('#!   \n'), '/s'),
      (e) => isFromscratchError(e, 'NOT_EXECUTABLE'),
    );
    assert.throws(
      () => parseShebang(Buffer.from(`#!/${'a'.repeat(300)}`), '/s'),
      (e) => isFromscratchError(e, 'NOT_EXECUTABLE') && /256/.test(e.message),
    );
  });
  it('envCommand skips options and assignments', () => {
    assert.equal(envCommand('-S node --x'), 'node');
    assert.equal(envCommand('-i FOO=1 python3'), 'python3');
    assert.equal(envCommand('-u HOME ruby'), 'ruby');
    assert.equal(envCommand('-Spython3'), 'python3');
    assert.equal(envCommand('-i'), undefined);
  });
  it('expandDst substitutes $ORIGIN, ${LIB}, $PLATFORM; an unknown value drops the element; musl knows only $ORIGIN', () => {
    const v = { origin: '/opt/app/bin', lib: 'lib/x86_64-linux-gnu', platform: 'x86_64' };
    assert.equal(expandDst('$ORIGIN/../lib', v), '/opt/app/bin/../lib');
    assert.equal(expandDst('/usr/${LIB}/x/$PLATFORM', v), '/usr/lib/x86_64-linux-gnu/x/x86_64');
    assert.equal(expandDst('$ORIGINAL/x', v), '$ORIGINAL/x');
    assert.equal(expandDst('/p/$PLATFORM', { origin: '/' }), undefined);
    assert.equal(expandDst('/usr/$LIB:${ORIGIN}', v, true), '/usr/$LIB:/opt/app/bin');
  });
});
