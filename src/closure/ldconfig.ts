/**
 * ldconfig.ts — the `/etc/ld.so.cache` Debian's ldconfig trigger would write for a root, computed
 * without running ldconfig. PURE over RootFs (reads only).
 *
 * The loader reads no ld.so.conf: a library in a directory that ld.so.conf names (a package's
 * `/etc/ld.so.conf.d/NAME.conf` pointing at a private directory) is found only through the cache
 * ldconfig builds from it. ldconfigCache reproduces what `ldconfig` (run on the system itself, as the
 * trigger runs it, not `-r`) lists, from glibc elf/ldconfig.c search_dir:
 *
 * - the directories: those of `/etc/ld.so.conf` and its includes in file order (closure/ld-conf.ts);
 *   when the root has no ld.so.conf but has `/etc/ld.so.conf.d/*.conf` (libc-bin, which ships Debian's
 *   one-line `include /etc/ld.so.conf.d/*.conf`, is Essential and so rarely in a package closure), those
 *   files as Debian's ld.so.conf includes them; then the system directories `/lib/TRIPLET`,
 *   `/usr/lib/TRIPLET`, `/lib`, `/usr/lib`. A directory met again under another name (merged /usr:
 *   `/lib/x86_64-linux-gnu` is `/usr/lib/x86_64-linux-gnu`) keeps its first name, as ldconfig drops
 *   a directory whose inode it has seen;
 * - the files: names starting `lib` or `ld-` and holding `.so`, regular files or symlinks to one, that
 *   are ELF shared objects of an ABI the cache knows (ld-cache.ts cacheFlagsFor);
 * - the key: DT_SONAME (else the file name); a symlink named as its soname, or named `X.so` where the
 *   soname starts with `X.so` (the link ld(1) uses), is listed under its own name;
 * - the path: `DIR/KEY` (ldconfig makes the soname link when missing; so does not this, which only
 *   lists: packages ship their soname links).
 *
 * It writes nothing when no directory outside the system ones holds a library: the loader then finds
 * every library of the root by its default search, and images stay as they were.
 */
import { readElf } from '../elf/read-elf.ts';
import { isFromscratchError } from '../errors.ts';
import { normalizeImagePath } from '../fs/path.ts';
import { resolvePath } from '../fs/resolve.ts';
import type { RootFs } from '../fs/root-fs.ts';
import { cacheFlagsFor } from './ld-cache.ts';
import { type LdCacheWriteEntry, toLdCache } from './ld-cache-write.ts';
import { expandGlob, readLdSoConf } from './ld-conf.ts';
import { targetOf } from './target.ts';

/** LdconfigCache is the cache ldconfig would write, and what it covers. */
export interface LdconfigCache {
  /** the bytes of /etc/ld.so.cache */
  readonly data: Uint8Array;
  readonly entries: readonly LdCacheWriteEntry[];
  /** the directories named by ld.so.conf outside the system ones that hold libraries */
  readonly extraDirs: readonly string[];
  /** the ld.so.conf files read */
  readonly confFiles: readonly string[];
}

interface Lib {
  readonly name: string;
  readonly soname: string;
  readonly isLink: boolean;
  readonly flags: number;
  readonly triplet: string | undefined;
  readonly endian: 'little' | 'big';
}

/** scanDir lists the libraries of `dir`, read at its resolved path `real` (a RootFs follows no link in readdir). */
async function scanDir(fs: RootFs, real: string): Promise<Lib[]> {
  let names: string[];
  try {
    names = (await fs.readdir(real)).sort();
  } catch {
    return [];
  }
  const out: Lib[] = [];
  for (const name of names) {
    if (!(name.startsWith('lib') || name.startsWith('ld-')) || !name.includes('.so')) continue;
    const path = `${real === '/' ? '' : real}/${name}`;
    const st = await fs.lstat(path);
    if (!st || (st.type !== 'file' && st.type !== 'symlink')) continue;
    const r = await resolvePath(fs, path).catch(() => undefined);
    if (r?.stat?.type !== 'file') continue;
    try {
      const info = await readElf(fs, r.path, { symbols: false });
      const flags = cacheFlagsFor(info.class, info.machine, info.flags);
      if (info.type !== 'dyn' || flags === undefined) continue;
      const soname = info.soname ?? name;
      const isLink =
        st.type === 'symlink' && (name === soname || (name.endsWith('.so') && soname.startsWith(name)));
      out.push({
        name,
        soname,
        isLink,
        flags,
        triplet: targetOf(info).triplet,
        endian: info.endian,
      });
    } catch (e) {
      // not an ELF shared object (a linker script, a data file): ldconfig skips it too
      if (!isFromscratchError(e)) throw e;
    }
  }
  return out;
}

/** confDirs reads ld.so.conf (or, without one, /etc/ld.so.conf.d/*.conf as Debian's includes them). */
async function confDirs(fs: RootFs): Promise<{ dirs: string[]; files: string[] }> {
  const main = await readLdSoConf(fs);
  if (main.files.length > 0) return { dirs: [...main.dirs], files: [...main.files] };
  const dirs: string[] = [];
  const files: string[] = [];
  for (const f of await expandGlob(fs, '/etc/ld.so.conf.d/*.conf')) {
    const c = await readLdSoConf(fs, f);
    files.push(...c.files);
    for (const d of c.dirs) if (!dirs.includes(d)) dirs.push(d);
  }
  return { dirs, files };
}

/**
 * ldconfigCache returns the ld.so.cache ldconfig would write for `fs`, or undefined when the root needs
 * none (no ld.so.conf directory outside the system ones holds a library).
 */
export async function ldconfigCache(fs: RootFs): Promise<LdconfigCache | undefined> {
  const conf = await confDirs(fs);
  if (conf.dirs.length === 0) return undefined;
  const real = async (d: string) => {
    const r = await resolvePath(fs, d).catch(() => undefined);
    return r?.stat?.type === 'dir' ? r.path : undefined;
  };
  const seen = new Set<string>();
  const scanned: { dir: string; libs: Lib[] }[] = [];
  const add = async (d: string) => {
    const dir = normalizeImagePath(d);
    const rp = await real(dir);
    if (rp === undefined || seen.has(rp)) return;
    seen.add(rp);
    scanned.push({ dir, libs: await scanDir(fs, rp) });
  };
  for (const d of conf.dirs) await add(d);
  const first = scanned.flatMap((s) => s.libs)[0];
  if (!first) return undefined;
  const triplet = first.triplet;
  const system = [...(triplet ? [`/lib/${triplet}`, `/usr/lib/${triplet}`] : []), '/lib', '/usr/lib'];
  const systemReal = new Set<string>();
  for (const d of system) {
    const rp = await real(d);
    if (rp !== undefined) systemReal.add(rp);
  }
  const extraDirs: string[] = [];
  for (const s of scanned) {
    const rp = await real(s.dir);
    if (s.libs.length > 0 && rp !== undefined && !systemReal.has(rp)) extraDirs.push(s.dir);
  }
  if (extraDirs.length === 0) return undefined;
  for (const d of system) await add(d);
  const entries: LdCacheWriteEntry[] = [];
  for (const { dir, libs } of scanned) {
    const keys = new Set<string>();
    for (const l of libs) {
      const key = l.isLink ? l.name : l.soname;
      const k = `${key}\0${l.flags}`;
      if (keys.has(k)) continue;
      keys.add(k);
      entries.push({ key, value: `${dir === '/' ? '' : dir}/${key}`, flags: l.flags });
    }
  }
  return {
    data: toLdCache(entries, first.endian),
    entries,
    extraDirs,
    confFiles: conf.files,
  };
}
