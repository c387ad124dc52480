/**
 * post-install.ts — what maintainer scripts would have done that an image needs, done without running
 * them. PURE.
 *
 * - CA bundle: when ca-certificates is installed, `/etc/ssl/certs/ca-certificates.crt` is the
 *   concatenation of the certificates under `/usr/share/ca-certificates` (and
 *   `/usr/local/share/ca-certificates`), as update-ca-certificates(8) builds it: every certificate by
 *   default, minus those `!`-disabled in `/etc/ca-certificates.conf` when the image has that file; a
 *   missing final newline is added; each certificate also gets its `/etc/ssl/certs/NAME.pem` link.
 *   OpenSSL subject-hash links (`c_rehash`) are not made: programs use the bundle file.
 * - update-alternatives: postinst scripts are read as TEXT. `update-alternatives --install LINK NAME
 *   PATH PRIORITY [--slave LINK NAME PATH]…` commands are found after joining `\` continuations,
 *   expanding simple `VAR=value` assignments and unrolling `for VAR in WORDS; do … done` loops;
 *   a command whose words still hold `$`, `` ` `` or a relative path is skipped. For each NAME the
 *   highest priority wins (ties: the package met first). `LINK → /etc/alternatives/NAME → PATH` is
 *   created only when PATH is in the image and LINK is not already taken.
 */
import type { FileEntry } from '../fs/file-tree.ts';
import type { Origin } from '../fs/origin.ts';

/** PostInstallPackage is what post-install work needs of a package. */
export interface PostInstallPackage {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  /** postinst script text, if any */
  readonly postinst?: string;
}

/** PostInstallResult holds generated entries and why each exists. */
export interface PostInstallResult {
  readonly entries: FileEntry[];
  readonly origins: Map<string, Origin[]>;
}

/** Alternative is one `--install` (or `--slave`) of update-alternatives. */
export interface Alternative {
  readonly link: string;
  readonly name: string;
  readonly path: string;
  readonly priority: number;
  readonly slaves: readonly { readonly link: string; readonly name: string; readonly path: string }[];
}

/** UNKNOWN stands for an unknown variable's value: a word holding it is not trusted. */
const UNKNOWN = '\u0000';

/** parseAlternatives finds the update-alternatives --install commands of a maintainer script (as text). */
export function parseAlternatives(script: string): Alternative[] {
  const joined = script.replace(/\\\r?\n/g, ' ');
  const vars = new Map<string, string>();
  const out: Alternative[] = [];
  const expand = (s: string, local: Map<string, string>) =>
    s.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (_m, a: string | undefined, b: string | undefined) => {
        const k = (a ?? b)!;
        return local.get(k) ?? vars.get(k) ?? UNKNOWN;
      },
    );
  const unquote = (s: string) => s.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  const lines = joined.split('\n');
  const handle = (line: string, local: Map<string, string>) => {
    const idx = line.indexOf('update-alternatives');
    if (idx < 0 || !/--install\b/.test(line)) return;
    const words = expand(line.slice(idx), local)
      .replace(/[;&|].*$/, '')
      .split(/\s+/)
      .filter((w) => w !== '' && w !== UNKNOWN) // an unset optional argument ($slave1) is no word at all
      .map(unquote);
    const i = words.indexOf('--install');
    const [link, name, path, prio] = words.slice(i + 1, i + 5);
    if (!link || !name || !path || !prio || !/^-?[0-9]+$/.test(prio)) return;
    const ok = (w: string) => !/[$`*?]/.test(w) && !w.includes(UNKNOWN);
    if (![link, name, path].every(ok) || !link.startsWith('/') || !path.startsWith('/')) return;
    const slaves: { link: string; name: string; path: string }[] = [];
    for (let k = i + 5; k < words.length; k++) {
      if (words[k] !== '--slave') continue;
      const [sl, sn, sp] = words.slice(k + 1, k + 4);
      if (sl && sn && sp && [sl, sn, sp].every(ok) && sl.startsWith('/') && sp.startsWith('/'))
        slaves.push({ link: sl, name: sn, path: sp });
      k += 3;
    }
    out.push({ link, name, path, priority: Number(prio), slaves });
  };
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li]!.replace(/(^|\s)#.*$/, '').trim();
    const assign = /^([A-Za-z_][A-Za-z0-9_]*)=("[^"`$]*"|'[^']*'|[^\s"'`$;]*)\s*$/.exec(line);
    if (assign) {
      vars.set(assign[1]!, unquote(assign[2]!));
      continue;
    }
    const loop = /^for\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\s+(.*?);?\s*(?:do\s*)?$/.exec(line);
    if (loop) {
      // unroll one level: collect the body up to the matching `done`
      const body: string[] = [];
      let depth = 1;
      let j = li + 1;
      for (; j < lines.length; j++) {
        const t = lines[j]!.trim();
        if (/^for\s/.test(t) || /^while\s/.test(t)) depth++;
        if (/^done\b/.test(t) && --depth === 0) break;
        body.push(t);
      }
      const words = expand(loop[2]!, new Map()).split(/\s+/).filter(Boolean).map(unquote);
      for (const w of words) {
        const local = new Map([[loop[1]!, w]]);
        for (const b of body) handle(b, local);
      }
      li = j;
      continue;
    }
    handle(line, new Map());
  }
  return out;
}

function bytesOf(e: FileEntry | undefined): Uint8Array | undefined {
  return e?.type === 'file' && e.content.kind === 'bytes' ? e.content.data : undefined;
}

const enc = (s: string) => Buffer.from(s);

/**
 * postInstall generates the CA bundle and alternatives links for `pkgs`, given the files already in the
 * image (`have`, by path). It never replaces an existing entry.
 */
export function postInstall(
  pkgs: readonly PostInstallPackage[],
  have: ReadonlyMap<string, FileEntry>,
): PostInstallResult {
  const entries: FileEntry[] = [];
  const origins = new Map<string, Origin[]>();
  const add = (e: FileEntry, o: Origin[]) => {
    if (have.has(e.path) || origins.has(e.path)) return false;
    entries.push(e);
    origins.set(e.path, o);
    return true;
  };
  const pkgOrigin = (p: PostInstallPackage): Origin => ({
    kind: 'package',
    name: p.name,
    version: p.version,
    architecture: p.architecture,
  });

  const ca = pkgs.find((p) => p.name === 'ca-certificates');
  if (ca) {
    const why: Origin[] = [
      pkgOrigin(ca),
      { kind: 'default', what: 'CA bundle built as update-ca-certificates does' },
    ];
    const disabled = new Set<string>();
    const conf = bytesOf(have.get('/etc/ca-certificates.conf'));
    if (conf) {
      for (const l of Buffer.from(conf).toString('utf8').split('\n'))
        if (l.startsWith('!')) disabled.add(l.slice(1).trim());
    }
    const certs: { rel: string; path: string; data: Uint8Array }[] = [];
    // packaged certificates first, then local ones, each sorted (update-ca-certificates' order)
    for (const root of ['/usr/share/ca-certificates/', '/usr/local/share/ca-certificates/']) {
      const found: typeof certs = [];
      for (const [path, e] of have) {
        if (!path.startsWith(root) || !path.endsWith('.crt')) continue;
        const data = bytesOf(e);
        const rel = path.slice(root.length);
        if (data && !disabled.has(rel)) found.push({ rel, path, data });
      }
      certs.push(...found.sort((a, b) => Buffer.compare(enc(a.path), enc(b.path))));
    }
    if (certs.length > 0) {
      const parts: Uint8Array[] = [];
      for (const c of certs) {
        parts.push(c.data);
        if (c.data.length > 0 && c.data[c.data.length - 1] !== 0x0a) parts.push(enc('\n'));
        const base = (c.rel.split('/').pop() ?? c.rel)
          .replace(/\.crt$/, '')
          .replace(/ /g, '_')
          .replace(/[()]/g, '=')
          .replace(/,/g, '_');
        add(
          {
            type: 'symlink',
            path: `/etc/ssl/certs/${base}.pem`,
            target: c.path,
            mode: 0o777,
            uid: 0,
            gid: 0,
            mtime: 0,
          },
          why,
        );
      }
      const bundle = Buffer.concat(parts);
      add(
        {
          type: 'file',
          path: '/etc/ssl/certs/ca-certificates.crt',
          mode: 0o644,
          uid: 0,
          gid: 0,
          mtime: 0,
          size: bundle.length,
          content: { kind: 'bytes', data: bundle },
        },
        why,
      );
    }
  }

  const best = new Map<string, { alt: Alternative; pkg: PostInstallPackage }>();
  for (const p of pkgs) {
    if (!p.postinst) continue;
    for (const alt of parseAlternatives(p.postinst)) {
      if (!have.has(alt.path)) continue; // update-alternatives refuses a missing target too
      const old = best.get(alt.name);
      if (!old || alt.priority > old.alt.priority) best.set(alt.name, { alt, pkg: p });
    }
  }
  for (const name of [...best.keys()].sort()) {
    const { alt, pkg } = best.get(name)!;
    const why: Origin[] = [
      pkgOrigin(pkg),
      {
        kind: 'default',
        what: `update-alternatives ${name} (priority ${alt.priority}) from the postinst of ${pkg.name}`,
      },
    ];
    for (const l of [{ link: alt.link, name: alt.name, path: alt.path }, ...alt.slaves]) {
      if (!have.has(l.path) || have.has(l.link)) continue;
      if (
        add(
          {
            type: 'symlink',
            path: l.link,
            target: `/etc/alternatives/${l.name}`,
            mode: 0o777,
            uid: 0,
            gid: 0,
            mtime: 0,
          },
          why,
        )
      ) {
        add(
          {
            type: 'symlink',
            path: `/etc/alternatives/${l.name}`,
            target: l.path,
            mode: 0o777,
            uid: 0,
            gid: 0,
            mtime: 0,
          },
          why,
        );
      }
    }
  }
  return { entries, origins };
}
