/**
 * path-host.test.ts — normalizeImagePath's fast path for paths already normal gives exactly what the
 * general normalisation gives (and the same errors), checkPathLimits counts encoded bytes (a lone
 * surrogate is one byte), and hostFs.read refuses what is not a regular file (a FIFO must not hang).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isFromscratchError } from '../../src/errors.ts';
import { hostFs } from '../../src/fs/host-fs.ts';
import {
  checkPathLimits,
  encodePath,
  MAX_NAME_BYTES,
  MAX_PATH_BYTES,
  normalizeImagePath,
} from '../../src/fs/path.ts';

/** reference is the general normalisation alone (no fast path), as normalizeImagePath documents it. */
function reference(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  const norm = `/${out.join('/')}`;
  checkPathLimits(norm);
  return norm;
}

function outcome(f: () => string): string {
  try {
    return `ok ${f()}`;
  } catch (e) {
    if (!isFromscratchError(e)) throw e;
    return `error ${e.code}`;
  }
}

describe('normalizeImagePath', () => {
  it('agrees with the general normalisation on tricky and random paths', () => {
    const fixed = [
      '',
      '/',
      '//',
      '/.',
      '/..',
      '/a',
      '/a/',
      '/a//b',
      '/a/./b',
      '/a/../b',
      '/a/..',
      '/a/.',
      '/a/.b',
      '/a/..b',
      '/a/b..',
      '/...',
      'a/b',
      './a',
      '/a/\udc80b',
      '/usr/lib/x86_64-linux-gnu/libc.so.6',
      `/${'x'.repeat(255)}`,
      `/${'x'.repeat(256)}`,
      `/${'\udcff'.repeat(255)}`,
      `/${'\udcff'.repeat(256)}`,
      `/${'é'.repeat(127)}`,
      `/${'é'.repeat(128)}`,
      `/${Array.from({ length: 1100 }, () => 'a').join('/')}`,
      `/${Array.from({ length: 500 }, () => 'x'.repeat(9)).join('/')}`,
    ];
    const alphabet = ['a', 'b', '.', '..', '', '/', 'é', '\udc80'];
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const random = Array.from({ length: 3000 }, () => {
      let s = rnd(2) ? '/' : '';
      for (let i = rnd(12); i > 0; i--) s += alphabet[rnd(alphabet.length)];
      return s;
    });
    for (const p of [...fixed, ...random])
      assert.equal(
        outcome(() => normalizeImagePath(p)),
        outcome(() => reference(p)),
        JSON.stringify(p),
      );
  });

  it('rejects NUL bytes on both paths', () => {
    assert.throws(() => normalizeImagePath('/a\0b'), /NUL/);
    assert.throws(() => normalizeImagePath('/a/../b\0'), /NUL/);
  });
});

describe('checkPathLimits', () => {
  it('counts the encoded bytes: lone surrogates are one byte each', () => {
    // 255 escaped bytes: a valid name although its UTF-8 upper bound is 765
    assert.doesNotThrow(() => checkPathLimits(`/${'\udc80'.repeat(MAX_NAME_BYTES)}`));
    assert.throws(() => checkPathLimits(`/${'\udc80'.repeat(MAX_NAME_BYTES + 1)}`), /longer than 255 bytes/);
    const long = `/${Array.from({ length: 20 }, () => '\udc80'.repeat(250)).join('/')}`;
    assert.equal(encodePath(long).length, 20 * 251);
    assert.throws(() => checkPathLimits(long), /bytes long/);
    const fits = `/${Array.from({ length: 16 }, () => '\udc80'.repeat(250)).join('/')}`;
    assert.ok(encodePath(fits).length <= MAX_PATH_BYTES);
    assert.doesNotThrow(() => checkPathLimits(fits));
  });
});

describe('hostFs.read', () => {
  it('refuses a FIFO at once (no writer, no hang) and a directory, with FILE_UNREADABLE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-read-'));
    try {
      execFileSync('mkfifo', [join(dir, 'pipe')]);
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'f'), 'hello');
      const fs = hostFs(dir);
      // a bounded read of a FIFO with no writer ends at once too (O_NONBLOCK): nothing, or refused
      const bounded = await fs.read('/pipe', { offset: 0, length: 64 }).then(
        (b) => `${b.length} bytes`,
        (e: unknown) => (isFromscratchError(e) ? e.code : String(e)),
      );
      assert.ok(['0 bytes', 'FILE_UNREADABLE'].includes(bounded), bounded);
      await assert.rejects(
        fs.read('/sub', { offset: 0, length: 64 }),
        (e: unknown) => isFromscratchError(e) && e.code === 'FILE_UNREADABLE',
      );
      for (const p of ['/pipe', '/sub']) {
        await assert.rejects(
          fs.read(p),
          (e: unknown) => isFromscratchError(e) && e.code === 'FILE_UNREADABLE',
        );
      }
      assert.equal(Buffer.from(await fs.read('/f')).toString(), 'hello');
      assert.equal(Buffer.from(await fs.read('/f', { offset: 1, length: 3 })).toString(), 'ell');
      assert.equal(Buffer.from(await fs.read('/f', { offset: 3, length: 10 })).toString(), 'lo');
      await assert.rejects(
        fs.read('/f', { limit: 2 }),
        (e: unknown) => isFromscratchError(e) && e.code === 'TOO_LARGE',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
