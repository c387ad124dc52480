/**
 * symbol-reads.test.ts — the closure reads each ELF object once per cache, asking only for the imports
 * the rules test (CLOSURE_SYMBOLS: the inference, locale and launcher rules'), or for no symbols when those rules are off; the inferred
 * result is the same as with a reader that decodes every symbol.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { CLOSURE_SYMBOLS, resolveClosure } from '../../src/closure/closure.ts';
import { type ElfReader, type ElfReaderOptions, newClosureCache } from '../../src/closure/closure-cache.ts';
import { readElf } from '../../src/elf/read-elf.ts';
import { hostFs } from '../../src/fs/host-fs.ts';

/** PROGRAMS import NSS and gconv symbols on Debian (bash: getpwnam, iconv_open). */
const PROGRAMS = ['/usr/bin/bash', '/usr/bin/ls'];

function countingReader(full = false) {
  const calls: { path: string; opts: ElfReaderOptions | undefined }[] = [];
  const read: ElfReader = (fs, path, opts) => {
    calls.push({ path, opts });
    return readElf(fs, path, full ? {} : opts);
  };
  return { calls, read };
}

test('each object is read once per cache, for the inference symbols only', async () => {
  for (const p of PROGRAMS) assert.ok(existsSync(p), `${p} is missing: apt-get install bash coreutils`);
  const fs = hostFs('/');
  const cache = newClosureCache(fs);
  const r = countingReader();
  for (const p of PROGRAMS) await resolveClosure([p], fs, { cache, strict: false, readElf: r.read });
  const paths = r.calls.map((c) => c.path);
  assert.equal(
    new Set(paths).size,
    paths.length,
    `read twice: ${paths.filter((p, i) => paths.indexOf(p) !== i)}`,
  );
  for (const c of r.calls)
    assert.equal(c.opts?.wantSymbols, CLOSURE_SYMBOLS, `${c.path} read for the rules' symbols`);

  const off = countingReader();
  await resolveClosure(['/usr/bin/bash'], fs, {
    strict: false,
    readElf: off.read,
    infer: { nss: false, gconv: false, libgcc: false, locales: false, launchers: false, programFiles: false },
  });
  for (const c of off.calls) assert.equal(c.opts?.symbols, false, `${c.path} read without symbols`);
});

test('wanted-symbol reads infer the same files as full reads', async () => {
  const fs = hostFs('/');
  for (const p of PROGRAMS) {
    const want = await resolveClosure([p], fs, { strict: false });
    const full = await resolveClosure([p], fs, { strict: false, readElf: countingReader(true).read });
    assert.deepEqual([...want.files.keys()], [...full.files.keys()], p);
    assert.deepEqual(
      [...want.files.values()].map((f) => f.origins),
      [...full.files.values()].map((f) => f.origins),
      p,
    );
  }
});
