/**
 * script-effects.ts — what the postinst scripts of installed packages would have changed in the file
 * system, reproduced by rules over the commands maintainer-script.ts finds in their TEXT (nothing is run).
 * PURE.
 *
 * Packages are taken in dependency order (a package after what it Depends/Pre-Depends on, as dpkg
 * configures them); each command sees what the earlier ones made. Rules:
 *
 * | command | effect |
 * |---|---|
 * | `ucf [opts] SRC DST` | DST becomes a copy of SRC (0644) unless DST exists; SRC missing (and DST not made by another branch) → DEB_INVALID naming the package |
 * | `phpenmod [-v VER] [-s SAPI] MOD…`, `php_invoke enmod VER SAPI MOD` | `/etc/php/VER/SAPI/conf.d/NN-MOD.ini → /etc/php/VER/mods-available/MOD.ini`, NN from the ini's `; priority=NN` (default 20), for each SAPI with a `conf.d` (ALL or absent: every one) |
 * | `a2enmod`/`a2enconf`/`a2ensite NAME…`, `apache2_invoke enmod\|enconf\|ensite NAME` | `…-enabled/NAME.{load,conf} → ../…-available/NAME.{load,conf}` |
 * | `ln -s [-f] TARGET LINK` | the symlink (LINK in a directory: LINK/basename(TARGET)) |
 * | `mkdir [-p] [-m MODE] DIR…`, `install -d [-m MODE] DIR…` | the directories |
 * | `mv [-f] SRC DST` | SRC moved to DST when SRC is in the image (a `.dpkg-new` of an upgrade is not: nothing) |
 * | `touch FILE…` | an empty FILE when missing |
 * | `dpkg-statoverride --update --add USER GROUP MODE PATH` | PATH's owner and mode (USER/GROUP: root or in the image's /etc/passwd, /etc/group) |
 * | `update-alternatives`, `update-ca-certificates` | done by post-install.ts |
 * | `ldconfig` | done by generated-caches.ts (an ld.so.cache when a library lies outside the system directories) |
 * | `gdk-pixbuf-query-loaders` | done by generated-caches.ts (loaders.cache from known entries of identical modules) |
 *
 * Cache generators an image does not need (`NOT_NEEDED`): they are not warned about, and the reason is
 * added to the origins of the directory concerned, so `why` shows it:
 *
 * | command | why the program works without its output |
 * |---|---|
 * | `fc-cache` | fontconfig scans the font directories itself when a directory has no valid cache (fc-cache(1): the caches only spare that scan) |
 * | `gio-querymodules DIR` | GIO opens every module of DIR when there is no giomodule.cache (gio-querymodules(1): the cache only spares opening them) |
 *
 * Cache generators whose output cannot be made here without running them (`LACKING`: `glib-compile-schemas`,
 * `update-mime-database`) stay warned, and the warning names the files the image lacks and how to supply
 * them with `--add`.
 *
 * Commands that change nothing an image needs are passed over: shell builtins and tests, queries (`dpkg
 * --compare-versions`, `phpquery`, `grep`…), bookkeeping (`ucfr`, `dpkg-maintscript-helper`, debconf's
 * `db_*`), service management (`deb-systemd-*`, `systemctl`, `invoke-rc.d`, `update-rc.d`), removals of
 * older versions' files (`rm`), SELinux labels, menus, init (`telinit`, `ischroot`), and optional
 * byte-code caches (`py3compile`, `pycompile`). Every other
 * command — and any rule whose arguments are not known statically — is reported once per (package,
 * command) in `notEmulated`.
 */
import { FromscratchError } from '../errors.ts';
import type { FileEntry } from '../fs/file-tree.ts';
import type { Origin } from '../fs/origin.ts';
import { type ScriptCommand, scanScript, UNKNOWN } from './maintainer-script.ts';

/** ScriptPackage is what the rules need of a package. */
export interface ScriptPackage {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  /** postinst text, if any */
  readonly postinst?: string;
  /** names of the packages it Depends / Pre-Depends on (alternatives included) */
  readonly depends?: readonly string[];
}

/** NotEmulated is a maintainer-script command whose effect is not in the image. */
export interface NotEmulated {
  readonly package: string;
  readonly command: string;
  /** the first such command line, as read (UNKNOWN parts shown as `?`) */
  readonly example: string;
  readonly line: number;
  /** the sourced file `line` is of, when the command comes from one */
  readonly source?: string;
  /** why: not emulated at all, or its arguments are not known statically */
  readonly reason: string;
  /** what the image lacks without the command's effect, and how to supply it (known generators only) */
  readonly lacks?: string;
}

/** ScriptEffectsResult holds the entries the scripts would have made or changed, and what was not done. */
export interface ScriptEffectsResult {
  /** new or changed entries (a changed entry replaces the one of the same path) */
  readonly entries: FileEntry[];
  /** paths of `have` the scripts moved away */
  readonly removed: string[];
  readonly origins: Map<string, Origin[]>;
  readonly notEmulated: NotEmulated[];
  /** origins to add to entries already there (a command passed over on purpose, and why) */
  readonly notes: Map<string, Origin[]>;
}

/** NOT_NEEDED names the cache generators an image does without: why, and the path the note goes on. */
const NOT_NEEDED: Record<
  string,
  { readonly why: string; readonly path: (args: readonly string[]) => string | undefined }
> = {
  ldconfig: {
    why: 'the ld.so.cache is written by the ldconfig rule when a library lies outside the system directories, and the loader needs none otherwise',
    path: () => undefined,
  },
  'gdk-pixbuf-query-loaders': {
    why: 'loaders.cache is written by the gdk-pixbuf rule (generated-caches.ts) from known entries of identical modules',
    path: () => undefined,
  },
  'fc-cache': {
    why: 'fontconfig scans the font directories itself when it finds no cache (the cache only spares that scan)',
    path: () => '/var/cache/fontconfig',
  },
  'gio-querymodules': {
    why: 'GIO opens every module of the directory when there is no giomodule.cache (the cache only spares opening them)',
    path: (args) => args[0],
  },
};

/**
 * LACKING names, for cache generators whose output cannot be made here, the files the image lacks, what
 * goes wrong without them, and how to supply them (the build warning says it). Neither is emulated,
 * because neither output can be reproduced byte for byte without running the tool, and a near copy of a
 * binary cache is worse than none (a reader trusts what it finds):
 * - `glib-compile-schemas DIR` writes DIR/gschemas.compiled, a GVDB file (glib gvdb-builder.c) of every
 *   schema and override of DIR: it needs GSettings' XML schema compiler, a parser of GVariant text for
 *   the defaults, and glib's hash table order for the layout;
 * - `update-mime-database DIR` writes DIR/mime.cache (shared-mime-info's binary cache of globs, magic,
 *   aliases and parents), the text files beside it, and one MEDIA/SUBTYPE.xml per type, split out of
 *   DIR/packages/*.xml and serialised by libxml2.
 */
const LACKING: Record<string, (args: readonly string[]) => string | undefined> = {
  'glib-compile-schemas': (args) => {
    if (args.includes('--dry-run')) return undefined;
    const operands: string[] = [];
    let target: string | undefined;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '--targetdir') target = args[++i];
      else if (a.startsWith('--targetdir=')) target = a.slice('--targetdir='.length);
      else if (!a.startsWith('-')) operands.push(a);
    }
    const dir = operands[0];
    if (dir === undefined || dir.includes(UNKNOWN) || target?.includes(UNKNOWN)) return undefined;
    const out = `${normalize(target ?? dir)}/gschemas.compiled`;
    return (
      `${out} (without it GSettings finds no schema, and g_settings_new aborts the program); ` +
      `make it from the image's schemas with \`glib-compile-schemas --targetdir=OUT COPY\` over a copy of the image's ${normalize(dir)}, ` +
      `then supply it with --add OUT/gschemas.compiled:${out}`
    );
  },
  'update-mime-database': (args) => {
    const dir = args.find((a) => !a.startsWith('-'));
    if (dir === undefined || dir.includes(UNKNOWN)) return undefined;
    const d = normalize(dir);
    return (
      `${d}/mime.cache and the files update-mime-database generates beside it (globs2, magic, aliases, subclasses, types, MEDIA/SUBTYPE.xml…): ` +
      `GIO's xdgmime reads only those, not ${d}/packages, so no type is recognised by file name or content; ` +
      `run \`update-mime-database COPY\` on a copy of the image's ${d} and supply what it generates (all but packages/) with --add COPY/NAME:${d}/NAME`
    );
  },
};

/** commands whose effect an image does not need */
const PASS = new Set([
  'set',
  'exit',
  'return',
  'true',
  'false',
  'test',
  '[',
  '[[',
  ':',
  'echo',
  'printf',
  'print',
  'shift',
  'unset',
  'cd',
  'read',
  'break',
  'continue',
  'trap',
  'wait',
  'sleep',
  '.',
  'source',
  'local',
  'export',
  'dpkg-maintscript-helper',
  'dpkg',
  'dpkg-query',
  'dpkg-trigger',
  'deb-systemd-helper',
  'deb-systemd-invoke',
  'systemctl',
  'invoke-rc.d',
  'update-rc.d',
  'ucfr',
  'ucfq',
  'phpquery',
  'grep',
  'egrep',
  'fgrep',
  'awk',
  'cut',
  'head',
  'tail',
  'tr',
  'sort',
  'uniq',
  'wc',
  'basename',
  'dirname',
  'command',
  'which',
  'type',
  'md5sum',
  'sha256sum',
  'cmp',
  'diff',
  'getent',
  'id',
  'readlink',
  'realpath',
  'ls',
  'stat',
  'cat',
  'rm',
  'rmdir',
  'logger',
  'pidof',
  'py3compile',
  'pycompile',
  'py3clean',
  'pyclean',
  'update-alternatives',
  'update-ca-certificates',
  'ischroot',
  'telinit',
  'systemd',
  'umask',
  'restorecon',
  'update-menus',
]);

const file = (path: string, data: Uint8Array, mode = 0o644): FileEntry => ({
  type: 'file',
  path,
  mode,
  uid: 0,
  gid: 0,
  mtime: 0,
  size: data.length,
  content: { kind: 'bytes', data },
});
const link = (path: string, target: string): FileEntry => ({
  type: 'symlink',
  path,
  target,
  mode: 0o777,
  uid: 0,
  gid: 0,
  mtime: 0,
});
const dir = (path: string, mode = 0o755): FileEntry => ({
  type: 'dir',
  path,
  mode,
  uid: 0,
  gid: 0,
  mtime: 0,
});

function bytesOf(e: FileEntry | undefined): Uint8Array | undefined {
  return e?.type === 'file' && e.content.kind === 'bytes' ? e.content.data : undefined;
}

function parent(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function normalize(p: string): string {
  const out: string[] = [];
  for (const s of p.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') out.pop();
    else out.push(s);
  }
  return `/${out.join('/')}`;
}

/** dependencyOrder puts each package after the packages of the set it depends on (stable otherwise). */
function dependencyOrder(pkgs: readonly ScriptPackage[]): ScriptPackage[] {
  const byName = new Map(pkgs.map((p) => [p.name, p]));
  const out: ScriptPackage[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (p: ScriptPackage) => {
    if (state.has(p.name)) return; // done, or a dependency cycle: dpkg breaks it somewhere too
    state.set(p.name, 'visiting');
    for (const d of [...(p.depends ?? [])].sort()) {
      const q = byName.get(d);
      if (q) visit(q);
    }
    state.set(p.name, 'done');
    out.push(p);
  };
  for (const p of pkgs) visit(p);
  return out;
}

/**
 * scriptEffects applies the rules to the postinst scripts of `pkgs` over the image's entries `have`.
 * Throws DEB_INVALID when a `ucf` source is missing.
 */
export function scriptEffects(
  pkgs: readonly ScriptPackage[],
  have: ReadonlyMap<string, FileEntry>,
): ScriptEffectsResult {
  const tree = new Map(have);
  const changed = new Map<string, FileEntry>();
  const origins = new Map<string, Origin[]>();
  const notEmulated: NotEmulated[] = [];
  const reported = new Set<string>();
  const removed = new Set<string>();
  const notes = new Map<string, Origin[]>();

  for (const pkg of dependencyOrder(pkgs)) {
    if (!pkg.postinst) continue;
    const pkgOrigin: Origin = {
      kind: 'package',
      name: pkg.name,
      version: pkg.version,
      architecture: pkg.architecture,
    };
    const put = (e: FileEntry, what: string) => {
      // parent directories first
      const dirs: string[] = [];
      for (let p = parent(e.path); p !== '/' && !tree.has(p); p = parent(p)) dirs.push(p);
      for (const d of dirs.reverse()) put(dir(d), what);
      tree.set(e.path, e);
      changed.set(e.path, e);
      origins.set(e.path, [pkgOrigin, { kind: 'default', what: `${what} (postinst of ${pkg.name})` }]);
    };
    const remove = (path: string) => {
      tree.delete(path);
      changed.delete(path);
      origins.delete(path);
      removed.add(path);
    };
    const skip = (c: ScriptCommand, reason: string, lacks?: string) => {
      const key = `${pkg.name}\u0000${c.words[0]}`;
      if (reported.has(key)) return;
      reported.add(key);
      notEmulated.push({
        package: pkg.name,
        command: c.words[0]!,
        example: [...c.words, ...c.writes.map((w) => `> ${w}`)].join(' ').replaceAll(UNKNOWN, '?'),
        line: c.line,
        ...(c.source !== undefined ? { source: c.source } : {}),
        reason,
        ...(lacks !== undefined ? { lacks } : {}),
      });
    };
    const scanned = scanScript(pkg.postinst, {
      opaque: (name) => Object.hasOwn(RULES, name) || name.startsWith('db_'),
      // a library the script sources (dpkg's dpkg-error.sh, postgresql-common's maintscripts-functions)
      source: (path) => {
        // debconf's confmodule is its IPC protocol (db_* talk to the frontend): no effect on files
        if (normalize(path).startsWith('/usr/share/debconf/')) return undefined;
        const data = bytesOf(tree.get(normalize(path)));
        return data ? Buffer.from(data).toString('utf8') : undefined;
      },
      substitute: (w) => {
        // `phpquery -M -v VER`: the modules available for VER
        if (w[0] === 'phpquery' && w[1] === '-M' && w[2] === '-v' && w[3])
          return phpModules(tree, w[3]).join(' ');
        return undefined;
      },
    });
    for (const c of scanned.commands) {
      const [cmd, ...args] = c.words;
      if (cmd === undefined) continue;
      const base = cmd.slice(cmd.lastIndexOf('/') + 1);
      // own keys only: a script's `constructor` or `toString` is a command, not Object.prototype's
      const nn = Object.hasOwn(NOT_NEEDED, base) ? NOT_NEEDED[base] : undefined;
      if (nn) {
        const p = nn.path(args);
        if (p && !p.includes(UNKNOWN) && tree.has(normalize(p))) {
          const list = notes.get(normalize(p)) ?? [];
          const what = `${cmd.slice(cmd.lastIndexOf('/') + 1)} not run (postinst of ${pkg.name}): ${nn.why}`;
          if (!list.some((o) => o.kind === 'default' && o.what === what))
            list.push({ kind: 'default', what });
          notes.set(normalize(p), list);
        }
        continue;
      }
      if (c.writes.length > 0) {
        skip(c, 'it writes a file');
        continue;
      }
      if (cmd.startsWith('db_')) continue; // debconf
      if (cmd === 'sed' && !args.some((a) => a === '-i' || a.startsWith('-i') || a === '--in-place'))
        continue;
      if (cmd === 'dpkg-statoverride' && !args.includes('--add')) continue;
      if (cmd === 'php_invoke' && args[0] !== 'enmod') continue;
      if (cmd === 'apache2_invoke' && !/^en(mod|conf|site)$/.test(args[0] ?? '')) continue;
      if (PASS.has(cmd) || PASS.has(base)) continue;
      const rule = Object.hasOwn(RULES, cmd) ? RULES[cmd] : undefined;
      if (!rule) {
        const lacks = Object.hasOwn(LACKING, base) ? LACKING[base]!(args) : undefined;
        skip(c, cmd.includes(UNKNOWN) ? 'its name is not known statically' : 'not emulated', lacks);
        continue;
      }
      if (args.some((a) => a.includes(UNKNOWN))) {
        skip(c, 'its arguments are not known statically');
        continue;
      }
      const r = rule(args, { tree, put, remove, pkg });
      if (typeof r === 'string') skip(c, r);
    }
  }
  for (const p of changed.keys()) removed.delete(p);
  return { entries: [...changed.values()], removed: [...removed].sort(), origins, notEmulated, notes };
}

interface RuleContext {
  readonly tree: Map<string, FileEntry>;
  readonly put: (e: FileEntry, what: string) => void;
  readonly remove: (path: string) => void;
  readonly pkg: ScriptPackage;
}

/** A rule applies a command; a string return says why it could not. */
type Rule = (args: readonly string[], ctx: RuleContext) => string | undefined;

function phpModules(tree: ReadonlyMap<string, FileEntry>, ver: string): string[] {
  const pre = `/etc/php/${ver}/mods-available/`;
  const out: string[] = [];
  for (const [p, e] of tree)
    if (p.startsWith(pre) && p.endsWith('.ini') && !p.slice(pre.length).includes('/') && e.type !== 'dir')
      out.push(p.slice(pre.length, -4));
  return out.sort();
}

/** subdirectories of `d` in the tree (names) */
function subdirs(tree: ReadonlyMap<string, FileEntry>, d: string): string[] {
  const out: string[] = [];
  for (const [p, e] of tree) if (e.type === 'dir' && parent(p) === d) out.push(p.slice(d.length + 1));
  return out.sort();
}

function phpEnable(
  ctx: RuleContext,
  versions: string,
  sapis: string,
  mods: readonly string[],
): string | undefined {
  const vers = versions === 'ALL' ? subdirs(ctx.tree, '/etc/php') : [versions];
  for (const v of vers) {
    const sapiList = (sapis === 'ALL' ? subdirs(ctx.tree, `/etc/php/${v}`) : [sapis]).filter(
      (s) => s !== 'mods-available' && ctx.tree.get(`/etc/php/${v}/${s}/conf.d`)?.type === 'dir',
    );
    for (const m of mods) {
      const ini = `/etc/php/${v}/mods-available/${m}.ini`;
      const data = bytesOf(ctx.tree.get(ini));
      if (!data) continue; // phpenmod only warns: the module is not installed
      const prio = /^\s*;\s*priority\s*=\s*([0-9]+)/m.exec(Buffer.from(data).toString('utf8'))?.[1] ?? '20';
      for (const s of sapiList) {
        const conf = `/etc/php/${v}/${s}/conf.d`;
        // already enabled at any priority: phpenmod leaves it
        if ([...ctx.tree.keys()].some((p) => parent(p) === conf && p.endsWith(`-${m}.ini`))) continue;
        ctx.put(link(`${conf}/${prio}-${m}.ini`, ini), `phpenmod ${m} for ${s}`);
      }
    }
  }
  return undefined;
}

const APACHE: Record<string, { kind: string; exts: readonly string[] }> = {
  a2enmod: { kind: 'mods', exts: ['.load', '.conf'] },
  a2enconf: { kind: 'conf', exts: ['.conf'] },
  a2ensite: { kind: 'sites', exts: ['.conf'] },
};

function apacheEnable(ctx: RuleContext, cmd: string, names: readonly string[]): string | undefined {
  const { kind, exts } = APACHE[cmd]!;
  for (const n of names) {
    let found = false;
    for (const ext of exts) {
      const avail = `/etc/apache2/${kind}-available/${n}${ext}`;
      if (!ctx.tree.has(avail)) continue;
      found = true;
      const en = `/etc/apache2/${kind}-enabled/${n}${ext}`;
      if (!ctx.tree.has(en)) ctx.put(link(en, `../${kind}-available/${n}${ext}`), `${cmd} ${n}`);
    }
    if (!found) return `${n} is not in /etc/apache2/${kind}-available`;
  }
  return undefined;
}

function userId(tree: ReadonlyMap<string, FileEntry>, dbFile: string, name: string): number | undefined {
  if (name === 'root') return 0;
  if (/^[0-9]+$/.test(name)) return Number(name);
  const data = bytesOf(tree.get(dbFile));
  if (!data) return undefined;
  for (const l of Buffer.from(data).toString('utf8').split('\n')) {
    const f = l.split(':');
    if (f[0] === name && /^[0-9]+$/.test(f[2] ?? '')) return Number(f[2]);
  }
  return undefined;
}

const RULES: Record<string, Rule> = {
  ucf: (args, ctx) => {
    const pos: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '--sum-file' || a === '--state-dir') i++;
      else if (!a.startsWith('-')) pos.push(a);
    }
    if (pos.length !== 2) return 'not the `ucf SRC DST` form';
    const [src, dst] = pos as [string, string];
    if (ctx.tree.has(dst)) return undefined; // ucf keeps the file there (also: an earlier branch made it)
    let e = ctx.tree.get(src);
    if (e?.type === 'symlink')
      e = ctx.tree.get(normalize(e.target.startsWith('/') ? e.target : `${parent(src)}/${e.target}`));
    const data = bytesOf(e);
    if (!data) {
      throw new FromscratchError(
        'DEB_INVALID',
        `the postinst of ${ctx.pkg.name} ${ctx.pkg.version} installs ${dst} from ${src} (ucf), but ${src} is not in the image`,
        { hint: `the package ${ctx.pkg.name} is incomplete or was filtered; check the mirror, or report it` },
      );
    }
    ctx.put(file(dst, data), `ucf ${src} ${dst}`);
    return undefined;
  },
  phpenmod: (args, ctx) => {
    let ver = 'ALL';
    let sapi = 'ALL';
    const mods: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-v') ver = args[++i] ?? 'ALL';
      else if (a === '-s') sapi = args[++i] ?? 'ALL';
      else if (!a.startsWith('-')) mods.push(a);
    }
    return phpEnable(ctx, ver, sapi, mods);
  },
  php_invoke: (args, ctx) => {
    const [, ver, sapi, ...mods] = args;
    if (!ver || !sapi || mods.length === 0) return 'not the `php_invoke enmod VER SAPI MOD` form';
    return phpEnable(ctx, ver, sapi, mods);
  },
  a2enmod: (args, ctx) =>
    apacheEnable(
      ctx,
      'a2enmod',
      args.filter((a) => !a.startsWith('-')),
    ),
  a2enconf: (args, ctx) =>
    apacheEnable(
      ctx,
      'a2enconf',
      args.filter((a) => !a.startsWith('-')),
    ),
  a2ensite: (args, ctx) =>
    apacheEnable(
      ctx,
      'a2ensite',
      args.filter((a) => !a.startsWith('-')),
    ),
  apache2_invoke: (args, ctx) =>
    apacheEnable(
      ctx,
      `a2${args[0]}`,
      args.slice(1).filter((a) => !a.startsWith('-')),
    ),
  ln: (args, ctx) => {
    const opts = args.filter((a) => a.startsWith('-'));
    const pos = args.filter((a) => !a.startsWith('-'));
    if (!opts.some((o) => /^-[a-zA-Z]*s/.test(o) || o === '--symbolic') || pos.length !== 2)
      return 'only `ln -s TARGET LINK` is emulated';
    const [target, l] = pos as [string, string];
    if (!l.startsWith('/')) return 'a relative link path';
    let path = normalize(l);
    const noDeref = opts.some((o) => /^-[a-zA-Z]*[nT]/.test(o));
    if (!noDeref && ctx.tree.get(path)?.type === 'dir') path = `${path}/${target.split('/').pop()}`;
    const force = opts.some((o) => /^-[a-zA-Z]*f/.test(o) || o === '--force');
    if (ctx.tree.has(path) && !force) return undefined; // ln fails; `|| true` is the usual companion
    if (ctx.tree.get(path)?.type === 'dir') return undefined;
    ctx.put(link(path, target), `ln -s ${target} ${path}`);
    return undefined;
  },
  mkdir: (args, ctx) => {
    let mode = 0o755;
    const dirs: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-m') {
        const m = args[++i] ?? '';
        if (!/^[0-7]{3,4}$/.test(m)) return 'a symbolic mode';
        mode = Number.parseInt(m, 8);
      } else if (!a.startsWith('-')) dirs.push(a);
    }
    for (const d0 of dirs) {
      if (!d0.startsWith('/')) return 'a relative directory';
      const d = normalize(d0);
      if (!ctx.tree.has(d)) ctx.put(dir(d, mode), `mkdir ${d}`);
    }
    return undefined;
  },
  install: (args, ctx) => {
    if (!args.includes('-d')) return 'only `install -d [-m MODE] DIR…` is emulated';
    if (args.some((a) => a === '-o' || a === '-g' || a.startsWith('--owner') || a.startsWith('--group')))
      return 'an owner or group';
    return RULES.mkdir!(
      args.filter((a) => a !== '-d'),
      ctx,
    );
  },
  mv: (args, ctx) => {
    const pos = args.filter((a) => !a.startsWith('-'));
    if (args.some((a) => a.startsWith('-') && a !== '-f')) return 'only `mv [-f] SRC DST` is emulated';
    if (pos.length !== 2 || !pos.every((p) => p.startsWith('/')))
      return 'only `mv SRC DST` with absolute paths is emulated';
    const [src, dst] = pos.map(normalize) as [string, string];
    const e = ctx.tree.get(src);
    if (!e) return undefined; // the guard before it (`[ -f SRC ]`) would not hold on a fresh install
    if (e.type === 'dir') return 'moving a directory';
    let to = dst;
    if (ctx.tree.get(dst)?.type === 'dir') to = `${dst}/${src.split('/').pop()}`;
    ctx.remove(src);
    ctx.put({ ...e, path: to } as FileEntry, `mv ${src} ${to}`);
    return undefined;
  },
  touch: (args, ctx) => {
    for (const p of args) {
      if (p.startsWith('-')) return 'only `touch FILE…` is emulated';
      if (!p.startsWith('/')) return 'a relative path';
      const f = normalize(p);
      if (!ctx.tree.has(f)) ctx.put(file(f, new Uint8Array()), `touch ${f}`);
    }
    return undefined;
  },
  'dpkg-statoverride': (args, ctx) => {
    const pos = args.filter((a) => !a.startsWith('-'));
    if (!args.includes('--update')) return undefined; // the database only: dpkg applies it on a later unpack
    if (pos.length !== 4) return 'not the `--add USER GROUP MODE PATH` form';
    const [user, group, mode, path] = pos as [string, string, string, string];
    const e = ctx.tree.get(path);
    if (!e) return undefined; // --update of a missing path only warns
    const uid = userId(ctx.tree, '/etc/passwd', user);
    const gid = userId(ctx.tree, '/etc/group', group);
    if (uid === undefined || gid === undefined || !/^[0-7]+$/.test(mode))
      return `${user}:${group} is not a user and group of the image`;
    ctx.put(
      { ...e, uid, gid, mode: Number.parseInt(mode, 8) & 0o7777 } as FileEntry,
      `dpkg-statoverride ${path}`,
    );
    return undefined;
  },
};
