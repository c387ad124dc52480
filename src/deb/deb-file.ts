/**
 * deb-file.ts — read a .deb held in memory into FileEntry values, without running anything. PURE (no IO).
 *
 * Format: deb(5). Members in order: `debian-binary` ("2.x\n"), `control.tar[.gz|.xz|.zst]`,
 * `data.tar[.gz|.xz|.zst]`; members starting with `_` are ignored, as dpkg does.
 * Safety (RELIABILITY H1–H3): ar bounds checked; decompression capped absolutely and by ratio; tar names
 * re-rooted under `/` with any `..` component refused; symlinks kept as symlinks and never resolved;
 * maintainer scripts returned as text, never executed.
 */
import { sniffCompression } from '../codec/decompress.ts';
import { type TarEntry, TarReader } from '../codec/tar-reader.ts';
import { FromscratchError, isFromscratchError, withContext } from '../errors.ts';
import type { FileEntry } from '../fs/file-tree.ts';
import type { Origin } from '../fs/origin.ts';
import { normalizeImagePath } from '../fs/path.ts';
import { parseAr } from './ar.ts';
import { type ControlParagraph, parseControl } from './control.ts';
import {
  compressionFromName,
  type DebCompression,
  type DecompressOptions,
  decompressStream,
} from './decompress.ts';

/** ReadDebOptions tunes and bounds parseDeb. */
export interface ReadDebOptions {
  /** names the .deb in errors (default "the .deb") */
  what?: string;
  /** keep /usr/share/{doc,man,info,locale,lintian} (default false; copyright files are always kept) */
  keepDocs?: boolean;
  /** cap on the decompressed data.tar (default 4 GiB) */
  maxBytes?: number;
  /** cap on the decompression ratio (default 200, applied past 64 MiB) */
  maxRatio?: number;
  /** output below this size is never refused for its ratio (default 64 MiB) */
  ratioFloor?: number;
  /** cap on entries in data.tar (default 200,000) */
  maxEntries?: number;
}

/** DebPackage is what a .deb holds, ready to be layered. */
export interface DebPackage {
  /** the `control` file of control.tar */
  readonly control: ControlParagraph;
  /** raw text of the `control` file, as written to status.d */
  readonly controlText: string;
  /** the other control.tar members (md5sums, conffiles, postinst, …) as bytes; never executed */
  readonly controlFiles: ReadonlyMap<string, Uint8Array>;
  /** data.tar entries kept, in archive order, re-rooted under `/` */
  readonly entries: readonly FileEntry[];
  /** paths left out by the docs filter */
  readonly excluded: readonly string[];
  /** the package's origin, shared by all its entries */
  readonly origin: Extract<Origin, { kind: 'package' }>;
}

/** DOC_PREFIXES are the directories left out unless keepDocs is set. */
export const DOC_PREFIXES = [
  '/usr/share/doc/',
  '/usr/share/man/',
  '/usr/share/info/',
  '/usr/share/locale/',
  '/usr/share/lintian/',
] as const;

/**
 * isDocPath tells whether an image path is documentation that is left out by default. The copyright
 * files `/usr/share/doc/<pkg>/copyright` are never docs: they carry the license for the SBOM.
 */
export function isDocPath(path: string): boolean {
  const p = `${path}/`;
  if (!DOC_PREFIXES.some((d) => p.startsWith(d) || `${p}` === d)) return false;
  return !/^\/usr\/share\/doc\/[^/]+\/copyright$/.test(path);
}

function debError(
  what: string,
  why: string,
  hint = 'the .deb is malformed or hostile; download it again or check where it came from',
) {
  return new FromscratchError('DEB_INVALID', `reading ${what}: ${why}`, { hint });
}

/**
 * parseDeb reads a .deb's control and data archives. Throws FromscratchError DEB_INVALID (bad ar, missing
 * or misordered members, bad tar, names with `..`), UNSUPPORTED_COMPRESSION (bzip2, lzma, unknown suffix),
 * INVALID_COMPRESSION (corrupt stream) or TOO_LARGE (bombs).
 *
 * @example const pkg = await parseDeb(await readFile('jq_1.6-2.1_amd64.deb'), { what: 'jq' })
 */
export async function parseDeb(bytes: Uint8Array, opts: ReadDebOptions = {}): Promise<DebPackage> {
  const what = opts.what ?? 'the .deb';
  const members = parseAr(bytes, { what }).filter((m) => !m.name.startsWith('_'));
  const [bin, ctl, data] = members;
  if (bin?.name !== 'debian-binary' || !bin) throw debError(what, 'the first member is not debian-binary');
  const version = Buffer.from(bin.data).toString('latin1');
  if (!/^2\.[0-9]+\n/.test(version))
    throw debError(what, `unsupported format version ${JSON.stringify(version.slice(0, 20))}`);
  if (!ctl || !/^control\.tar(\.[a-z0-9]+)?$/.test(ctl.name))
    throw debError(what, 'the second member is not control.tar');
  if (!data || !/^data\.tar(\.[a-z0-9]+)?$/.test(data.name))
    throw debError(what, 'the third member is not data.tar');
  if (members.length > 3)
    throw debError(what, `unexpected member ${JSON.stringify(members[3]!.name)} after data.tar`);

  const caps = { maxBytes: opts.maxBytes, maxRatio: opts.maxRatio, ratioFloor: opts.ratioFloor };
  // control.tar: small files only (dpkg caps nothing, but no real control.tar is anywhere near 64 MiB)
  const controlFiles = new Map<string, Uint8Array>();
  await readTar(
    memberStream(ctl, what, { maxBytes: 64 * 1024 * 1024, maxRatio: caps.maxRatio }),
    `${ctl.name} of ${what}`,
    10_000,
    (h, path, content) => {
      if (h.type === 'file' && content && path !== '/' && !path.slice(1).includes('/'))
        controlFiles.set(path.slice(1), content);
    },
  );
  const controlBytes = controlFiles.get('control');
  if (!controlBytes) throw debError(what, `${ctl.name} has no control file`);
  controlFiles.delete('control');
  const controlText = Buffer.from(controlBytes).toString('utf8');
  const paragraphs = parseControl(controlText, { what: `control file of ${what}` });
  const control = paragraphs[0];
  if (!control || paragraphs.length !== 1)
    throw debError(what, 'the control file must hold exactly one paragraph');
  const name = control.get('Package');
  const ver = control.get('Version');
  const arch = control.get('Architecture');
  if (!name || !ver || !arch) throw debError(what, 'the control file lacks Package, Version or Architecture');
  const origin = { kind: 'package', name, version: ver, architecture: arch } as const;

  const entries: FileEntry[] = [];
  const excluded: string[] = [];
  const excludedFiles = new Map<string, FileEntry>();
  const maxEntries = opts.maxEntries ?? 200_000;
  await readTar(memberStream(data, what, caps), `${data.name} of ${what}`, maxEntries, (h, path, content) => {
    if (path === '/') return;
    const e = toFileEntry(h, path, content, `${data.name} of ${what}`);
    if (!opts.keepDocs && isDocPath(path)) {
      excluded.push(path);
      if (e.type === 'file') excludedFiles.set(path, e);
      return;
    }
    if (e.type === 'hardlink' && excludedFiles.has(e.target)) {
      // the link's target was filtered out: the kept name becomes the regular file itself
      const t = excludedFiles.get(e.target) as Extract<FileEntry, { type: 'file' }>;
      entries.push({ ...t, path, mode: e.mode });
      return;
    }
    entries.push(e);
  });
  return { control, controlText, controlFiles, entries, excluded, origin };
}

function memberStream(
  m: { name: string; data: Uint8Array },
  what: string,
  caps: { maxBytes?: number | undefined; maxRatio?: number | undefined; ratioFloor?: number | undefined },
): AsyncIterable<Uint8Array> {
  const byName = compressionFromName(m.name);
  if (byName === undefined) {
    throw new FromscratchError(
      'UNSUPPORTED_COMPRESSION',
      `reading ${what}: unknown compression of member ${JSON.stringify(m.name)}`,
      {
        hint: 'a .deb member is compressed with gzip, xz or zstd (or not at all)',
      },
    );
  }
  const sniffed = sniffCompression(m.data.subarray(0, 8));
  const kind: DebCompression = byName; // a plain tar that happens to start with magic bytes is still a tar
  if (byName !== 'none' && sniffed !== byName) {
    throw new FromscratchError(
      'INVALID_COMPRESSION',
      `reading ${what}: member ${m.name} is not ${byName} data`,
      {
        hint: 'the .deb is corrupt or hostile; download it again',
      },
    );
  }
  const opts: DecompressOptions = { what: `${m.name} of ${what}` };
  if (caps.maxBytes !== undefined) opts.maxBytes = caps.maxBytes;
  if (caps.maxRatio !== undefined) opts.maxRatio = caps.maxRatio;
  if (caps.ratioFloor !== undefined) opts.ratioFloor = caps.ratioFloor;
  return decompressStream([m.data], kind, opts);
}

/** entryPath turns a tar name into a normalised image path; `..` anywhere is refused (H2). */
function entryPath(raw: string, what: string): string {
  const parts = raw.split('/');
  if (parts.includes('..')) {
    throw new FromscratchError(
      'PATH_ESCAPE',
      `reading ${what}: entry ${JSON.stringify(raw.slice(0, 200))} contains ".."`,
      {
        hint: 'the package tries to write outside its root; it is hostile or corrupt',
      },
    );
  }
  try {
    return normalizeImagePath(raw);
  } catch (e) {
    throw debError(what, `bad entry name ${JSON.stringify(raw.slice(0, 200))}: ${(e as Error).message}`);
  }
}

type TarVisitor = (h: TarEntry, path: string, content: Uint8Array | undefined) => void;

/**
 * readTar reads a .deb member's tar with the project's one strict tar reader (codec/tar-reader.ts:
 * checksums, truncation, capped PAX and long-name records, no sparse files, names as raw bytes).
 */
async function readTar(
  src: AsyncIterable<Uint8Array>,
  what: string,
  maxEntries: number,
  visit: TarVisitor,
): Promise<void> {
  const reader = new TarReader(src);
  let n = 0;
  try {
    for (;;) {
      const h = await reader.next();
      if (h === undefined) break;
      if (++n > maxEntries)
        throw new FromscratchError('TOO_LARGE', `reading ${what}: more than ${maxEntries} entries`, {
          hint: 'the package is hostile or corrupt',
        });
      const path = entryPath(h.name, what);
      let content: Uint8Array | undefined;
      if (h.type === 'file') {
        const parts: Uint8Array[] = [];
        for await (const c of reader.body()) parts.push(c);
        content = Buffer.concat(parts);
      }
      visit(h, path, content);
    }
  } catch (e) {
    // the reader's complaints name an offset, not the package
    if (isFromscratchError(e, 'INVALID_ARCHIVE') || isFromscratchError(e, 'TOO_LARGE')) {
      if (!e.message.startsWith(`reading ${what}`)) withContext(`reading ${what}`, e);
    }
    if (isFromscratchError(e)) throw e;
    throw new FromscratchError('INVALID_ARCHIVE', `reading ${what}: ${(e as Error).message}`, {
      hint: 'the archive is truncated or corrupt; download the package again',
      cause: e,
    });
  }
}

function toFileEntry(h: TarEntry, path: string, content: Uint8Array | undefined, what: string): FileEntry {
  const base = {
    path,
    mode: h.mode & 0o7777,
    uid: h.uid,
    gid: h.gid,
    ...(h.mtime ? { mtime: Math.floor(h.mtime) } : {}),
  };
  switch (h.type) {
    case 'file':
      return {
        ...base,
        type: 'file',
        size: content?.length ?? 0,
        content: { kind: 'bytes', data: content ?? new Uint8Array(0) },
      };
    case 'dir':
      return { ...base, type: 'dir' };
    case 'symlink': {
      const target = h.linkname;
      if (target === '' || target.includes('\0'))
        throw debError(what, `symlink ${path} has an empty or invalid target`);
      // kept verbatim, absolute or relative: never resolved against the host (H2)
      return { ...base, type: 'symlink', target };
    }
    case 'hardlink':
      return { ...base, type: 'hardlink', target: entryPath(h.linkname, what) };
    case 'char':
    case 'block':
      return { ...base, type: h.type, devmajor: h.devmajor, devminor: h.devminor };
    case 'fifo':
      return { ...base, type: 'fifo' };
    default:
      throw debError(what, `entry ${path} has unsupported type ${String((h as { type: unknown }).type)}`);
  }
}
