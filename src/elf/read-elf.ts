/**
 * read-elf.ts — readElf: the ELF reader over a RootFs, reading only the parts it needs.
 *
 * IO goes through the RootFs port only (no node:fs). Small files are read whole in one call. Bigger
 * ones are read in positioned chunks: the first 64 KiB (header, program headers, PT_INTERP, notes and,
 * usually, .dynstr), then whatever range the pure parser asks for next (the dynamic segment, section
 * headers, .dynsym), so a 100 MB binary costs a few small reads.
 */
import { FromscratchError, withContext } from '../errors.ts';
import type { RootFs } from '../fs/root-fs.ts';
import {
  type ByteRange,
  type Chunk,
  MissingBytes,
  malformedElf,
  partialSource,
  wholeSource,
} from './byte-source.ts';
import { type ParseElfOptions, parseElfSource } from './parse-elf.ts';
import type { ElfInfo } from './types.ts';

/** ReadElfOptions tunes readElf: what to decode (as parseElf) and when to read a file whole. */
export interface ReadElfOptions extends ParseElfOptions {
  /** files up to this many bytes are read in one call (default 256 KiB) */
  readonly wholeFileMax?: number;
  /**
   * the file's size when the caller already has it from lstat (it must then be a regular file): saves
   * one lstat per file. Default: readElf calls fs.lstat.
   */
  readonly size?: number;
}

const DEFAULT_WHOLE_FILE_MAX = 256 * 1024;
/** HEAD_BYTES is the first read of a big file: headers, PT_INTERP, notes and most .dynstr fit. */
const HEAD_BYTES = 64 * 1024;
/** READ_GRAIN rounds further reads, so that neighbouring asks (strings of one table) share one read. */
const READ_GRAIN = 16 * 1024;
/** MAX_ROUNDS bounds the parse/read loop; past it the file is read whole. */
const MAX_ROUNDS = 24;

/**
 * readElf parses the ELF file at `path` in `fs` (which must be a regular file; symlinks are not
 * followed) reading only the ranges the parser needs. Same result and errors as parseElf on the whole
 * file; errors are prefixed with `reading ELF <path>: `.
 *
 * @throws FromscratchError FILE_NOT_FOUND when nothing is at path; MALFORMED_ELF when it is not a
 * regular file or not a valid ELF file.
 * @example
 * const info = await readElf(hostFs('/'), '/usr/bin/ls', { symbols: false });
 * info.needed; // ['libselinux.so.1', 'libc.so.6']
 */
export async function readElf(fs: RootFs, path: string, opts: ReadElfOptions = {}): Promise<ElfInfo> {
  try {
    return await readElfUnwrapped(fs, path, opts);
  } catch (e) {
    return withContext(`reading ELF ${path}`, e);
  }
}

async function readElfUnwrapped(fs: RootFs, path: string, opts: ReadElfOptions): Promise<ElfInfo> {
  let size = opts.size;
  if (size === undefined) {
    const st = await fs.lstat(path);
    if (!st) {
      throw new FromscratchError('FILE_NOT_FOUND', `no file in ${fs.name}`, {
        hint: 'check the path; symlinks must be resolved first',
      });
    }
    if (st.type !== 'file') throw malformedElf('file', `it is a ${st.type}, not a regular file`);
    size = st.size;
  }
  if (size <= (opts.wholeFileMax ?? DEFAULT_WHOLE_FILE_MAX)) {
    return parseElfSource(wholeSource(await fs.read(path, { offset: 0, length: size })), opts);
  }
  const chunks: Chunk[] = [];
  const total = size;
  const add = async (start: number, end: number) => {
    const data = await fs.read(path, { offset: start, length: end - start });
    if (data.byteLength !== end - start) {
      throw malformedElf(
        'file',
        `it changed while being read (${data.byteLength} bytes at ${start}, wanted ${end - start})`,
      );
    }
    return { start, data };
  };
  mergeChunk(chunks, await add(0, Math.min(total, HEAD_BYTES)));
  for (let round = 0; round < MAX_ROUNDS; round++) {
    try {
      return parseElfSource(partialSource(total, chunks), opts);
    } catch (e) {
      if (!(e instanceof MissingBytes)) throw e;
      // every range the parser asked for in this round, widened to READ_GRAIN and joined, read in parallel
      const spans = coalesce(e.ranges, total);
      for (const c of await Promise.all(spans.map(([s, t]) => add(s, t)))) mergeChunk(chunks, c);
    }
  }
  // pathological layout: give up on partial reads (fs.read still refuses files over its limit)
  return parseElfSource(wholeSource(await fs.read(path)), opts);
}

/** coalesce widens ranges to READ_GRAIN boundaries (at least one grain), sorts and joins them. */
function coalesce(ranges: readonly ByteRange[], size: number): [number, number][] {
  const spans = ranges
    .map((r): [number, number] => {
      const start = Math.floor(r.offset / READ_GRAIN) * READ_GRAIN;
      const end = Math.max(Math.ceil((r.offset + r.length) / READ_GRAIN) * READ_GRAIN, start + READ_GRAIN);
      return [start, Math.min(size, end)];
    })
    .sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
    else out.push(s);
  }
  return out;
}

/** mergeChunk inserts c into the sorted, disjoint list, joining it with chunks it overlaps or touches. */
function mergeChunk(chunks: Chunk[], c: Chunk): void {
  let start = c.start;
  let end = c.start + c.data.byteLength;
  const touching: Chunk[] = [];
  const rest: Chunk[] = [];
  for (const k of chunks) {
    const kend = k.start + k.data.byteLength;
    if (k.start <= end && kend >= start) {
      touching.push(k);
      start = Math.min(start, k.start);
      end = Math.max(end, kend);
    } else rest.push(k);
  }
  let merged = c;
  if (touching.length > 0) {
    const data = new Uint8Array(end - start);
    for (const k of touching) data.set(k.data, k.start - start);
    data.set(c.data, c.start - start);
    merged = { start, data };
  }
  rest.push(merged);
  rest.sort((a, b) => a.start - b.start);
  chunks.length = 0;
  chunks.push(...rest);
}
