/**
 * host-packages.ts — files taken from the host (or a sysroot) traced back to the Debian packages that
 * installed them, so scanners and SBOMs see them: an origin per file, the package recorded as partial,
 * and a /var/lib/dpkg/status.d record (with the md5sums of the files actually in the image).
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { writeFileAtomic } from '../blob/dir-store.ts';
import { formatParagraph } from '../deb/control.ts';
import {
  canonicalUsrPath,
  dpkgStatusEntries,
  type HostPackage,
  readHostDpkgOwners,
  type StatusPackage,
} from '../deb/dpkg-status.ts';
import type { FileEntry } from '../fs/file-tree.ts';
import type { Origin } from '../fs/origin.ts';
import { liveStats, type StatSnapshot } from '../fs/stat-snapshot.ts';
import { cacheDir } from './cache-dir.ts';
import type { Collector } from './collector.ts';
import { fileDigests } from './file-digest.ts';
import { md5OnWorker, releaseMd5Worker } from './md5-worker.ts';
import type { RecordedPackage } from './record.ts';
import type { SharedLayers } from './write-layers.ts';

/** HostAttribution is a root's dpkg memo, opened before the closure so the md5s of host files can start early. */
export interface HostAttribution {
  readonly rootDir: string;
  /**
   * starts the md5s of the collector's host files where packages put theirs (on the worker thread), and
   * of `more` host paths (the closure's roots, not yet in the collector)
   */
  prefetch(col: Collector, more?: readonly string[]): void;
  /** the memo; undefined when the root has no dpkg database */
  readonly memo: OwnerMemo | undefined;
}

/**
 * openHostAttribution opens the dpkg memo of `rootDir`. A build opens it once its named files are
 * gathered and calls prefetch: on a cold cache the md5 of a 100 MB program then runs on the worker
 * thread while the closure is computed and the database read on the main one.
 */
export function openHostAttribution(
  rootDir: string,
  o: { cacheDir?: string; shared?: SharedLayers; stats?: StatSnapshot } = {},
): HostAttribution {
  // read synchronously: the md5s must reach the worker before the closure keeps the main thread busy
  // (an asynchronous read's callback would wait for the closure's end, and the hashing with it)
  const memo = readOwnerMemo(rootDir, o.cacheDir ?? cacheDir(), o.shared, o.stats ?? liveStats);
  return {
    rootDir,
    memo,
    prefetch(col, more = []) {
      if (!memo) return;
      // a guess: a file no package owns costs one needless hash, off the main thread; one older than
      // the database is most likely as dpkg wrote it (attributeHostFiles checks that, and hashes if not)
      for (const p of [...hostFilesOf(col).map((e) => e.content.path), ...more])
        if (PACKAGED.test(p))
          memo
            .olderThanDatabase(p)
            .then((old) => (old ? undefined : memo.md5(p)))
            .catch(() => undefined);
    },
  };
}

type HostFileEntry = Extract<FileEntry, { type: 'file' }> & { content: { kind: 'host'; path: string } };

function hostFilesOf(col: Collector): HostFileEntry[] {
  return col.tree().entries.filter((e): e is HostFileEntry => e.type === 'file' && e.content.kind === 'host');
}

/**
 * attributeHostFiles finds the owning package of every host-backed file of the collector (paths as the
 * root has them), notes the origin, and adds status.d records for the packages found. Packages already
 * installed whole by --package are left as they are. Returns the partial packages. `attribution` is the
 * memo opened earlier by openHostAttribution (else it is opened here).
 *
 * Credit is by content: a file is the package's only when its bytes match the md5sum dpkg recorded
 * for it (`info/PKG.md5sums`, or the Conffiles field); a file whose inode has not changed since dpkg
 * wrote the package's file list is taken to hold those bytes without being read (as git's index takes
 * an unchanged stat for unchanged content). Candidates are the package owning the path the
 * file came from (a packaged file copied elsewhere keeps its credit) and the one owning where it lands
 * (a copy of a packaged file); any other file at a packaged path (modified, or a different file) is no
 * package's. A corrupt md5sums file credits nothing of its package, with a warning.
 */
export async function attributeHostFiles(
  col: Collector,
  rootDir: string,
  whole: readonly RecordedPackage[],
  o: {
    cacheDir?: string;
    warn?: (message: string) => void;
    shared?: SharedLayers;
    attribution?: HostAttribution;
  } = {},
): Promise<RecordedPackage[]> {
  const attribution =
    o.attribution?.rootDir === rootDir
      ? o.attribution
      : openHostAttribution(rootDir, {
          ...(o.cacheDir !== undefined ? { cacheDir: o.cacheDir } : {}),
          ...(o.shared ? { shared: o.shared } : {}),
        });
  // the files gathered since the prefetch (the closure's libraries) start now, while the database is read
  attribution.prefetch(col);
  const hostFiles = hostFilesOf(col);
  const memo = attribution.memo;
  if (!memo) return [];
  // a file is a candidate of the package owning where it came from (a packaged file copied elsewhere)
  // and of the package owning where it lands; its bytes decide
  const root = rootDir.replace(/\/+$/, '');
  const inRoot = (host: string) =>
    root === '' ? host : host.startsWith(`${root}/`) ? host.slice(root.length) : undefined;
  await memo.lookup([
    ...hostFiles.map((e) => e.path),
    ...hostFiles.flatMap((e) => inRoot(e.content.path) ?? []),
  ]);
  const skip = new Set(whole.map((p) => `${p.name}:${p.architecture}`));
  const sums = new Map<string, Promise<Map<string, string> | undefined>>();
  /** warnings of corrupt md5sums files by `name:arch`, told in that order (the reads finish in any) */
  const corrupt = new Map<string, string>();
  const sumsOf = (pkg: HostPackage): Promise<Map<string, string> | undefined> => {
    const key = `${pkg.name}:${pkg.architecture}`;
    let got = sums.get(key);
    if (got === undefined) {
      got = readPackageSums(rootDir, pkg, memo.control(key)).then((r) => {
        if (r.corrupt) {
          corrupt.set(
            key,
            `the dpkg database of ${rootDir} has a corrupt ${r.corrupt}: no file is credited to ${pkg.name} ${pkg.version} (fix: reinstall the package, \`apt-get install --reinstall ${pkg.name}\`)`,
          );
        }
        return r.sums;
      });
      sums.set(key, got);
    }
    return got;
  };
  /** the md5sum dpkg recorded for `path` of `owner` (memoised with the owners while the database holds) */
  const wantOf = async (owner: HostPackage, path: string): Promise<string | undefined> => {
    const key = `${owner.name}:${owner.architecture}`;
    const known = memo.recorded(key, path);
    if (known !== undefined) return known === '' ? undefined : known;
    const all = await sumsOf(owner);
    // a corrupt md5sums file is not memoised: every build warns until it is fixed
    if (all === undefined) return undefined;
    const want = all.get(canonicalUsrPath(path));
    memo.record(key, path, want ?? '');
    return want;
  };
  // each file's candidates, in order: the package owning where it came from (a packaged file copied
  // elsewhere), then the one owning where it lands, each with the md5sum dpkg recorded for that path
  const candidates = await Promise.all(
    hostFiles.map(async (e) => {
      const from = inRoot(e.content.path);
      const out: { owner: HostPackage; want: string; atSource: boolean }[] = [];
      for (const p of from !== undefined && from !== e.path ? [from, e.path] : [e.path]) {
        const owner = memo.owner(p);
        if (!owner || skip.has(`${owner.name}:${owner.architecture}`)) continue;
        const want = await wantOf(owner, p);
        // undefined: not a file dpkg checksums (generated, or a corrupt database)
        if (want !== undefined) out.push({ owner, want, atSource: p === from });
      }
      return out;
    }),
  );
  for (const k of [...corrupt.keys()].sort()) o.warn?.(corrupt.get(k)!);
  // the bytes decide: each candidate file's md5 (memoised by stat data), a few files at a time; a file
  // unchanged since dpkg wrote it has the md5 dpkg recorded, without reading it
  const limit = pLimit(4);
  const md5s = await Promise.all(
    hostFiles.map(async (e, i) => {
      const cands = candidates[i]!;
      if (cands.length === 0) return undefined;
      // (only the file at the package's own path: another file landing there is read)
      for (const c of cands)
        if (
          c.atSource &&
          (await memo.unchangedSinceInstall(e.content.path, `${c.owner.name}:${c.owner.architecture}`))
        )
          return c.want;
      return limit(() => memo.md5(e.content.path));
    }),
  );
  const found = new Map<string, { pkg: RecordedPackage; files: { path: string; md5: string }[] }>();
  for (const [i, e] of hostFiles.entries()) {
    // modified, or another file at the path: no credit from that candidate
    const c = candidates[i]!.find((c) => c.want === md5s[i]);
    const credit = c === undefined ? undefined : { owner: c.owner, md5: c.want };
    if (!credit) continue;
    const { owner } = credit;
    const key = `${owner.name}:${owner.architecture}`;
    const origin: Origin = {
      kind: 'package',
      name: owner.name,
      version: owner.version,
      architecture: owner.architecture,
    };
    col.note(e.path, origin);
    const f = found.get(key) ?? {
      pkg: {
        name: owner.name,
        version: owner.version,
        architecture: owner.architecture,
        partial: true,
        ...(owner.source ? { source: owner.source } : {}),
      },
      files: [],
    };
    f.files.push({ path: e.path, md5: credit.md5 });
    found.set(key, f);
  }
  const status: StatusPackage[] = [];
  for (const [key, f] of found) {
    const control = memo.control(key);
    if (!control) continue;
    // the package's own md5sums (checked equal to the file's), never a checksum of whatever is there
    status.push({ name: f.pkg.name, controlText: control, files: f.files });
  }
  await memo.save();
  // the worker's guesses beyond these files are not needed: its memory goes before the layers are made
  releaseMd5Worker();
  const { entries, origins } = dpkgStatusEntries(status);
  for (const entry of entries as FileEntry[])
    for (const o of origins.get(entry.path) ?? []) col.addIfAbsent(entry, o);
  // OS identity: the root's own os-release and debian_version, when its packages are Debian's
  const os = await readOsIdentity(rootDir);
  const out: RecordedPackage[] = [];
  for (const [key, f] of found) {
    const vendor = vendorOf(memo.control(key) ?? '', os?.id, await hasDebianChangelog(rootDir, f.pkg));
    out.push({
      ...f.pkg,
      ...(vendor ? { vendor } : {}),
      ...(vendor && vendor === os?.id && os.versionId ? { distro: `${vendor}-${os.versionId}` } : {}),
    });
  }
  if (os?.id === 'debian' && out.some((p) => p.vendor === 'debian')) {
    const why: Origin = {
      kind: 'default',
      what: `OS identity of ${rootDir}, whose Debian packages the image holds`,
    };
    const file = (path: string, data: Uint8Array): FileEntry => ({
      type: 'file',
      path,
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: 0,
      size: data.length,
      content: { kind: 'bytes', data },
    });
    if (!col.has('/etc/os-release') && !col.has('/usr/lib/os-release')) {
      col.addIfAbsent(file('/usr/lib/os-release', os.osRelease), why);
      col.addIfAbsent(
        {
          type: 'symlink',
          path: '/etc/os-release',
          target: '../usr/lib/os-release',
          mode: 0o777,
          uid: 0,
          gid: 0,
          mtime: 0,
        },
        why,
      );
    }
    if (os.debianVersion) col.addIfAbsent(file('/etc/debian_version', os.debianVersion), why);
  }
  return out;
}

/** readOsIdentity reads the root's os-release (ID, VERSION_ID) and debian_version. */
async function readOsIdentity(
  rootDir: string,
): Promise<
  { id?: string; versionId?: string; osRelease: Uint8Array; debianVersion?: Uint8Array } | undefined
> {
  let osRelease: Uint8Array | undefined;
  for (const p of ['etc/os-release', 'usr/lib/os-release']) {
    osRelease = await readFile(join(rootDir, p)).catch(() => undefined);
    if (osRelease) break;
  }
  if (!osRelease || osRelease.length > 64 * 1024) return undefined;
  const text = Buffer.from(osRelease).toString('utf8');
  const field = (k: string) => new RegExp(`^${k}=["']?([^"'\\n]*)["']?$`, 'm').exec(text)?.[1];
  const debianVersion = await readFile(join(rootDir, 'etc/debian_version')).catch(() => undefined);
  const id = field('ID');
  const versionId = field('VERSION_ID');
  return {
    osRelease,
    ...(id ? { id } : {}),
    ...(versionId ? { versionId } : {}),
    ...(debianVersion && debianVersion.length < 256 ? { debianVersion } : {}),
  };
}

/** hasDebianChangelog tells whether the package installed /usr/share/doc/NAME/changelog.Debian.gz (its .list). */
async function hasDebianChangelog(rootDir: string, p: RecordedPackage): Promise<boolean> {
  const info = join(rootDir, 'var/lib/dpkg/info');
  for (const n of [`${p.name}:${p.architecture}.list`, `${p.name}.list`]) {
    const text = await readFile(join(info, n), 'utf8').catch(() => undefined);
    if (text !== undefined) return text.includes(`/usr/share/doc/${p.name}/changelog.Debian.gz\n`);
  }
  return false;
}

/**
 * vendorOf tells who published an installed package; dpkg records no origin, so this is a heuristic:
 * the root's distribution (`debian`) when the Maintainer (or Original-Maintainer) names Debian or the
 * package ships a Debian changelog (`changelog.Debian.gz`, which Debian policy requires of non-native
 * packages), else the Maintainer's mail domain (`nodesource` for a NodeSource nodejs). On a bookworm host
 * only two native packages (netbase, usr-is-merged) are missed by it.
 */
function vendorOf(control: string, osId: string | undefined, debianChangelog: boolean): string | undefined {
  const fields = [/^Maintainer:\s*(.*)$/m, /^Original-Maintainer:\s*(.*)$/m].map(
    (re) => re.exec(control)?.[1] ?? '',
  );
  if (fields.every((f) => f === '')) return undefined;
  if (debianChangelog || fields.some((f) => /debian/i.test(f)))
    return osId === 'debian' || !osId ? 'debian' : osId;
  if (osId && osId !== 'debian' && fields.some((f) => new RegExp(osId, 'i').test(f))) return osId;
  const domain = /@([A-Za-z0-9.-]+)>/.exec(fields[0]!)?.[1]?.split('.');
  return domain && domain.length >= 2 ? domain[domain.length - 2]!.toLowerCase() : undefined;
}

/**
 * readPackageSums reads what dpkg recorded of a package's files: `info/NAME[:ARCH].md5sums` and the
 * `Conffiles` of its status paragraph, keyed by merged-/usr path. A line that is not `MD5  PATH` makes
 * the whole file untrusted (`corrupt` names it; `sums` is undefined).
 */
async function readPackageSums(
  rootDir: string,
  pkg: HostPackage,
  control: string | undefined,
): Promise<{ sums?: Map<string, string>; corrupt?: string }> {
  const info = join(rootDir, 'var/lib/dpkg/info');
  const sums = new Map<string, string>();
  for (const name of [`${pkg.name}:${pkg.architecture}.md5sums`, `${pkg.name}.md5sums`]) {
    let text: string;
    try {
      text = await readFile(join(info, name), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const m = /^([0-9a-f]{32}) [ *](.+)$/.exec(line);
      if (!m) return { corrupt: join(info, name) };
      sums.set(canonicalUsrPath(`/${m[2]!.replace(/^\/+/, '')}`), m[1]!);
    }
    break;
  }
  const conf = /^Conffiles:\n((?:[ \t].*\n?)*)/m.exec(control ?? '');
  for (const l of conf?.[1]?.split('\n') ?? []) {
    const m = /^\s+(\/\S+)\s+([0-9a-f]{32})(\s|$)/.exec(l);
    if (m) sums.set(canonicalUsrPath(m[1]!), m[2]!);
  }
  return { sums };
}

/** md5File hashes on the worker thread (md5-worker.ts), or here when the worker cannot run. */
async function md5File(path: string): Promise<string> {
  try {
    return await md5OnWorker(path);
  } catch (e) {
    // a read error (it has a code) is the file's; anything else is the worker's: hash here
    if ((e as { code?: unknown }).code) throw e;
  }
  const h = createHash('md5');
  // streamed: a 100 MB program must not sit in memory just to be checksummed
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * sharedMd5 is a file's md5 through the registry cache, where md5s are results keyed by the file's
 * SHA-256 (which the layer content key reads anyway, file-digest.ts): a fresh machine reads a 100 MB
 * program once, for SHA-256, instead of twice. A miss computes both in one read and notes the md5.
 */
async function sharedMd5(hostPath: string, shared: SharedLayers): Promise<string> {
  const { sha256 } = await fileDigests(hostPath);
  const got = await shared.result!('md5', sha256);
  const text = got ? Buffer.from(got).toString('utf8') : '';
  if (/^[0-9a-f]{32}$/.test(text)) return text;
  const sum = (await fileDigests(hostPath, { md5: true })).md5!;
  shared.recordResult?.('md5', sha256, Buffer.from(sum));
  return sum;
}

/** PACKAGED matches the host paths where Debian packages install files (their md5s are likely asked for). */
const PACKAGED = /^\/(usr|etc|lib[^/]*|bin|sbin|opt|var\/lib)\//;

/** OwnerMemo answers dpkg ownership and md5sums, from the memo file while the dpkg database is unchanged. */
interface OwnerMemo {
  /** makes owner() answer for these image paths (reads the dpkg database only for paths not memoised) */
  lookup(paths: readonly string[]): Promise<void>;
  owner(path: string): HostPackage | undefined;
  /** the control paragraph of an installed `name:arch` */
  control(key: string): string | undefined;
  /** the md5sum dpkg recorded for a path of `name:arch` as memoised: "" for none, undefined when not memoised */
  recorded(key: string, path: string): string | undefined;
  record(key: string, path: string, md5: string): void;
  /** the md5 of a host file, memoised by its stat data (size, mtime, ctime, inode) */
  md5(hostPath: string): Promise<string>;
  /**
   * whether the host file is as dpkg wrote it for `name:arch`: its inode last changed (ctime) before
   * dpkg wrote the package's file list (`info/PKG.list`, written once the files are unpacked), so its
   * bytes are those the package's md5sums describe (no change since: any write or chmod moves ctime)
   */
  unchangedSinceInstall(hostPath: string, key: string): Promise<boolean>;
  /** whether a host file's ctime is older than the dpkg database's info directory (a guess for prefetch) */
  olderThanDatabase(hostPath: string): Promise<boolean>;
  save(): Promise<void>;
}

interface MemoFile {
  readonly stamp: string;
  /** image path → `name:arch` of its owner, or "" for no owner */
  readonly owners: Record<string, string>;
  readonly packages: Record<string, HostPackage>;
  readonly controls: Record<string, string>;
  readonly md5: Record<string, string>;
  /** `name:arch` NUL path → the md5sum in the package's md5sums or Conffiles ("" for none) */
  readonly recorded?: Record<string, string>;
}

/** MAX_MD5 bounds the memoised md5sums (the oldest are dropped). */
const MAX_MD5 = 50_000;

/**
 * readOwnerMemo opens the memo of a root's dpkg database (undefined when the root has none). The memo
 * is valid while /var/lib/dpkg/status and the info directory keep their stat data (dpkg replaces
 * both by rename on every change); it is a cache only, rewritten atomically, and never decides
 * what a layer contains beyond what the database says.
 */
function readOwnerMemo(
  rootDir: string,
  dir: string,
  shared: SharedLayers | undefined,
  stats: StatSnapshot,
): OwnerMemo | undefined {
  const dpkg = join(rootDir, 'var/lib/dpkg');
  const statOf = (p: string) => {
    try {
      return statSync(p, { bigint: true });
    } catch {
      return undefined; // absent, or not readable: no database to memoise
    }
  };
  const st = statOf(join(dpkg, 'status'));
  const info = statOf(join(dpkg, 'info'));
  if (!st || !info) return undefined;
  const stamp = [rootDir, st.size, st.mtimeNs, st.ino, info.mtimeNs, info.ino].join(':');
  const file = join(
    dir,
    'host-dpkg',
    `${createHash('sha256').update(rootDir).digest('hex').slice(0, 32)}.json`,
  );
  let m: MemoFile & { recorded: Record<string, string> } = {
    stamp,
    owners: {},
    packages: {},
    controls: {},
    md5: {},
    recorded: {},
  };
  try {
    const old = JSON.parse(readFileSync(file, 'utf8')) as MemoFile;
    if (old && typeof old === 'object' && old.owners && old.packages && old.controls && old.md5)
      m = old.stamp === stamp ? { ...old, recorded: old.recorded ?? {} } : { ...m, md5: old.md5 };
  } catch {
    // no memo yet, or a damaged one: start afresh
  }
  let dirty = false;
  /** md5s asked for in this build, by host path (a speculative request and the real one share the work) */
  const md5s = new Map<string, Promise<string>>();
  /** when dpkg wrote each package's file list (mtime in ns), by `name:arch` */
  const lists = new Map<string, Promise<bigint | undefined>>();
  return {
    async lookup(paths) {
      const missing = paths.filter((p) => !(p in m.owners));
      if (missing.length === 0) return;
      // only the paths asked for: the database is read once per change of it, not per path
      const db = await readHostDpkgOwners(rootDir, { paths: missing });
      if (!db.installed) return;
      for (const p of missing) {
        const owner = db.owner(p);
        const key = owner ? `${owner.name}:${owner.architecture}` : '';
        m.owners[p] = key;
        if (owner) {
          m.packages[key] = owner;
          const c = db.paragraph(key);
          if (c !== undefined) m.controls[key] = formatParagraph(c);
        }
      }
      dirty = true;
    },
    owner: (path) => {
      const key = m.owners[path];
      return key ? m.packages[key] : undefined;
    },
    control: (key) => m.controls[key],
    recorded: (key, path) => m.recorded[`${key}\0${path}`],
    record(key, path, md5) {
      m.recorded[`${key}\0${path}`] = md5;
      dirty = true;
    },
    md5(hostPath) {
      let p = md5s.get(hostPath);
      if (p === undefined) {
        p = (async () => {
          // the stat data the layer cache and the closure memo saw (one lstat per file per build)
          let s = await stats.lstat(hostPath);
          if (!s.isFile()) s = await stat(hostPath, { bigint: true });
          const key = [hostPath, s.size, s.mtimeNs, s.ctimeNs, s.ino, s.dev].join(':');
          const known = m.md5[key];
          if (known !== undefined) return known;
          const sum = shared?.result ? await sharedMd5(hostPath, shared) : await md5File(hostPath);
          m.md5[key] = sum;
          dirty = true;
          return sum;
        })();
        md5s.set(hostPath, p);
      }
      return p;
    },
    async unchangedSinceInstall(hostPath, key) {
      let listed = lists.get(key);
      if (listed === undefined) {
        const [name, arch] = key.split(':');
        listed = (async () => {
          for (const n of [`${name}:${arch}.list`, `${name}.list`]) {
            const l = statOf(join(dpkg, 'info', n));
            if (l?.isFile()) return l.mtimeNs;
          }
          return undefined;
        })();
        lists.set(key, listed);
      }
      const written = await listed;
      if (written === undefined) return false;
      const s = await stats.lstat(hostPath).catch(() => undefined);
      return s !== undefined && s.isFile() && s.ctimeNs < written;
    },
    async olderThanDatabase(hostPath) {
      const s = await stats.lstat(hostPath).catch(() => undefined);
      return s !== undefined && s.ctimeNs < info.mtimeNs;
    },
    async save() {
      if (!dirty) return;
      const keys = Object.keys(m.md5);
      for (const k of keys.slice(0, Math.max(0, keys.length - MAX_MD5))) delete m.md5[k];
      try {
        await mkdir(join(dir, 'host-dpkg'), { recursive: true });
        await writeFileAtomic(file, Buffer.from(JSON.stringify(m)), { fsync: false });
      } catch {
        // a cache only: the next build reads the database again
      }
    },
  };
}
