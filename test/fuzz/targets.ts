/**
 * targets.ts — the parsers fuzzed (issue 15, "Fuzzing"): each takes bytes and must return or throw a
 * FromscratchError; anything else (a TypeError, a RangeError from a hostile size, a stack overflow) is a
 * crash. The seed corpus of each target is test/fuzz/corpus/<name>/ (made by make-corpus.ts); the
 * dictionary holds the tokens a byte mutator would rarely invent.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { indexLdCache, parseLdCache } from '../../src/closure/ld-cache.ts';
import { type Codec, decompressBytes } from '../../src/codec/decompress.ts';
import { TarReader } from '../../src/codec/tar-reader.ts';
import { parseAr } from '../../src/deb/ar.ts';
import { parseControl, parseRelation } from '../../src/deb/control.ts';
import { parseDeb } from '../../src/deb/deb-file.ts';
import { parsePackages } from '../../src/deb/packages-index.ts';
import { parseDebVersion } from '../../src/deb/version.ts';
import { parseDockerfile, toBuildSpec } from '../../src/dockerfile/parse.ts';
import { parseElf } from '../../src/elf/parse-elf.ts';
import { parseImageConfig, parseImageIndex, parseImageManifest } from '../../src/model/json.ts';
import { parseSpecFile } from '../../src/yaml/parse-spec.ts';

/** FuzzTarget is one parser under fuzz. */
export interface FuzzTarget {
  readonly name: string;
  /** the corpus directory, when another target's (default: the name) */
  readonly corpus?: string;
  /** runs the parser on one input; returns or throws (a FromscratchError is an accepted outcome) */
  readonly run: (input: Uint8Array) => unknown;
  /** tokens for the dictionary mutation */
  readonly dictionary: readonly string[];
  /**
   * repairs what a byte mutation breaks every time and the parser checks first (tar header checksums),
   * so that mutations reach the code behind the check
   */
  readonly fixup?: (input: Uint8Array) => Uint8Array;
  /** longest input generated (default 64 KiB) */
  readonly maxLength?: number;
}

/** CORPUS is the directory of the committed seed corpus. */
export const CORPUS = join(import.meta.dirname, 'corpus');

/** loadCorpus returns the seed inputs of a target, sorted by file name (so runs are reproducible). */
export function loadCorpus(name: string): Uint8Array[] {
  const dir = join(CORPUS, name);
  return readdirSync(dir)
    .sort()
    .map((f) => new Uint8Array(readFileSync(join(dir, f))));
}

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

/** every limit a decompressing target gets: small enough that a bomb stops fast, as in production */
const SMALL = { maxBytes: 8 * 1024 * 1024, maxRatio: 1000, ratioFloor: 1024 * 1024 };

async function readTar(input: Uint8Array): Promise<void> {
  // fed in uneven chunks (1 to 1500 bytes): the reader must not depend on chunk boundaries
  const chunks: Uint8Array[] = [];
  for (let i = 0, n = 1; i < input.length; i += n, n = ((n * 7 + 3) % 1500) + 1)
    chunks.push(input.subarray(i, i + n));
  const r = new TarReader(
    (async function* () {
      yield* chunks;
    })(),
    { maxMetaBytes: 64 * 1024 },
  );
  for (let e = await r.next(); e !== undefined; e = await r.next()) {
    for await (const _ of r.body()) {
      // drained: data is read like unpack reads it
    }
  }
}

/**
 * fixTarChecksums walks the headers as a tar reader does (each header, then its data rounded up to 512
 * bytes, by the octal size field) and rewrites the checksum of each, so that mutated headers reach the
 * code behind the checksum check.
 */
export function fixTarChecksums(input: Uint8Array): Uint8Array {
  let at = 0;
  for (let n = 0; at + 512 <= input.length && n < 10_000; n++) {
    const block = input.subarray(at, at + 512);
    if (block.every((b) => b === 0)) break;
    block.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of block) sum += b;
    block.set(Buffer.from(`${sum.toString(8).padStart(6, '0')}\0 `, 'latin1'), 148);
    const size = Number.parseInt(
      Buffer.from(block.subarray(124, 136)).toString('latin1').replace(/\0.*$/s, '').trim() || '0',
      8,
    );
    if (!Number.isSafeInteger(size) || size < 0) break;
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return input;
}

function decompressTarget(codec: Codec): FuzzTarget {
  return {
    name: codec,
    run: (input) => decompressBytes(input, codec, `fuzz ${codec}`, SMALL),
    dictionary: ['\x1f\x8b\x08\x00', '\x28\xb5\x2f\xfd', '\xfd7zXZ\x00', '\x00\x00\x00\x00', '\xff\xff'],
  };
}

const JSON_TOKENS = [
  '"mediaType":',
  '"manifests":[',
  '"layers":[',
  '"digest":"sha256:',
  '"size":',
  '1e400',
  '-0',
  '"\\ud800"',
  '{"a":1,"a":2}',
  'null',
  '[[[[[[[[',
  '"__proto__":',
  '"rootfs":{"type":"layers","diff_ids":[',
];

/** TARGETS lists every fuzz target, in the order the suite runs them. */
export const TARGETS: readonly FuzzTarget[] = [
  {
    name: 'elf',
    run: (input) => parseElf(input),
    dictionary: [
      '\x7fELF',
      '\x02\x01\x01',
      '\x01\x02\x01',
      '/lib64/ld-linux-x86-64.so.2\x00',
      'libc.so.6\x00',
      '$ORIGIN',
    ],
  },
  {
    name: 'tar',
    run: readTar,
    fixup: fixTarChecksums,
    dictionary: [
      'ustar\x0000',
      'ustar  \x00',
      '././@LongLink',
      '0000644\x00',
      '77777777777',
      'path=',
      '30 ',
      'GNU.sparse',
      'SCHILY.xattr.',
      'LIBARCHIVE.xattr.',
      '%',
    ],
  },
  {
    name: 'ar',
    run: (input) => parseAr(input, { what: 'fuzz.a' }),
    dictionary: ['!<arch>\n', '`\n', 'debian-binary   ', '0     ', '//', '/0 '],
  },
  {
    name: 'deb',
    run: (input) =>
      parseDeb(input, {
        what: 'fuzz.deb',
        maxBytes: 8 * 1024 * 1024,
        maxRatio: 1000,
        ratioFloor: 1024 * 1024,
      }),
    dictionary: [
      '!<arch>\n',
      'control.tar.gz  ',
      'data.tar.xz     ',
      'control.tar.zst ',
      '2.0\n',
      '\x1f\x8b\x08\x00',
    ],
    maxLength: 256 * 1024,
  },
  {
    name: 'control',
    run: (input) => {
      for (const p of parseControl(text(input))) {
        for (const [k, v] of p.fields ?? []) {
          if (/^(Depends|Pre-Depends|Provides|Breaks|Conflicts)$/.test(k)) parseRelation(v, k);
          if (k === 'Version') parseDebVersion(v);
        }
      }
    },
    dictionary: [
      '\nPackage: ',
      '\nVersion: 1:2.3-4~',
      '\nDepends: ',
      ' (>= 1.0)',
      ' | ',
      ', ',
      ':any',
      ' [amd64 !i386]',
      ' <!nocheck>',
      '\n ',
      '\n .\n',
      '\n\n',
    ],
  },
  {
    name: 'packages',
    run: (input) => parsePackages(text(input), { what: 'fuzz Packages' }),
    dictionary: [
      '\nPackage: ',
      '\nVersion: ',
      '\nFilename: pool/',
      '\nSize: ',
      '\nSHA256: ',
      '\nMulti-Arch: foreign',
      '\nProvides: ',
      '\n\n',
    ],
  },
  {
    name: 'dockerfile',
    run: (input) => {
      const plan = parseDockerfile(text(input));
      toBuildSpec(plan);
    },
    dictionary: [
      '\nFROM ',
      '\nCOPY --from=',
      '\nRUN ',
      '\nARG ',
      '$' + '{A:-b}',
      '<<EOF\n',
      '\nEOF\n',
      '\\\n',
      '["a", "b"]',
      '\n# escape=`\n',
      '\nONBUILD ',
      '\nHEALTHCHECK ',
      ' AS ',
      '--chmod=',
      '$',
    ],
  },
  {
    name: 'spec',
    run: (input) => parseSpecFile(text(input), 'fuzz.yaml'),
    dictionary: [
      '\ncontents:\n  - ',
      'binary: ',
      'add: ',
      'to: ',
      '&a ',
      '*a',
      '<<: *a',
      '!!binary ',
      '{',
      '[',
      '"\\u0000"',
      '\n---\n',
      'from: ',
      'platforms: ',
    ],
  },
  ...(
    [
      ['manifest', parseImageManifest],
      ['index', parseImageIndex],
      ['config', parseImageConfig],
    ] as const
  ).map(
    ([name, parse]): FuzzTarget => ({
      name,
      // one corpus for the three documents: a field valid in one is an ambiguity in another (D1, D2)
      corpus: 'oci-json',
      run: (input) => parse(input),
      dictionary: JSON_TOKENS,
    }),
  ),
  {
    name: 'ld-cache',
    run: (input) => indexLdCache(parseLdCache(input)),
    dictionary: ['ld.so-1.7.0', 'glibc-ld.so.cache1.1', '\xff\xff\xff\xff', '\x00\x00\x00\x00'],
  },
  decompressTarget('gzip'),
  decompressTarget('zstd'),
  decompressTarget('xz'),
];

/**
 * HARNESS_CHECKS are targets that misbehave on purpose, so the suite shows the harness reports a crash,
 * a hang and runaway memory (each with its input); they are never part of a fuzz run.
 */
export const HARNESS_CHECKS: readonly FuzzTarget[] = [
  {
    name: 'check-crash',
    corpus: 'control',
    run: (input) => {
      if (input.length % 3 === 0) throw new TypeError('not a FromscratchError');
    },
    dictionary: [],
  },
  {
    name: 'check-warning',
    corpus: 'control',
    run: () => {
      process.emitWarning('a parser wrote to stderr');
    },
    dictionary: [],
  },
  {
    name: 'check-hang',
    corpus: 'control',
    run: () => {
      for (;;) {
        // spins forever: only the watchdog can stop it
      }
    },
    dictionary: [],
  },
  {
    name: 'check-memory',
    corpus: 'control',
    run: () => {
      const keep: number[][] = [];
      for (;;) keep.push(new Array(1 << 16).fill(1));
    },
    dictionary: [],
  },
];
