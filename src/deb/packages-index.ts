/**
 * packages-index.ts — a Packages index (`dists/SUITE/COMPONENT/binary-ARCH/Packages`) parsed into records
 * and indexed by name and by Provides. PURE.
 *
 * Bookworm main's Packages is ~60,000 paragraphs and ~50 MB: the parser reads text chunk by chunk, keeps
 * only the fields resolution and download need, and leaves relation fields as raw strings until the
 * resolver looks at them.
 * https://wiki.debian.org/DebianRepository/Format#A.22Packages.22_Indices
 */
import { FromscratchError } from '../errors.ts';
import { parseRelation } from './control.ts';
import { compareDebVersions } from './version.ts';

/** MultiArch is the Multi-Arch field (https://wiki.ubuntu.com/MultiarchSpec); absent means `no`. */
export type MultiArch = 'no' | 'same' | 'foreign' | 'allowed';

/** PackageRecord is one binary package of an index. Relation fields are raw strings (parse with parseRelation). */
export interface PackageRecord {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  readonly multiArch: MultiArch;
  readonly essential: boolean;
  readonly priority?: string;
  readonly section?: string;
  /** Source package name and version (version defaults to the binary version) */
  readonly source?: { readonly name: string; readonly version: string };
  /** path of the .deb relative to the repository base URL (`pool/main/j/jq/jq_1.6-2.1_amd64.deb`) */
  readonly filename: string;
  readonly size: number;
  /** lowercase hex */
  readonly sha256: string;
  /** kibibytes */
  readonly installedSize?: number;
  readonly depends?: string;
  readonly preDepends?: string;
  readonly provides?: string;
  readonly conflicts?: string;
  readonly breaks?: string;
  readonly replaces?: string;
  /** the first line of Description */
  readonly description?: string;
  readonly maintainer?: string;
  readonly homepage?: string;
  /** base URL of the repository the record came from (set by whoever knows it), e.g. `http://deb.debian.org/debian` */
  readonly baseUrl?: string;
}

/** Provider is a package providing a (virtual) name, with the version it provides if any. */
export interface Provider {
  readonly pkg: PackageRecord;
  readonly version?: string;
}

/** PackagesIndex holds records by name (highest version first) and providers by virtual name. */
export interface PackagesIndex {
  readonly packages: readonly PackageRecord[];
  /** every record of a name, highest version first (ties keep input order) */
  readonly byName: ReadonlyMap<string, readonly PackageRecord[]>;
  /** packages that Provide a name */
  readonly providers: ReadonlyMap<string, readonly Provider[]>;
}

/** PackagesParseOptions configures the parser. */
export interface PackagesParseOptions {
  /** names the input in errors (default "Packages index") */
  what?: string;
  /** set on every record */
  baseUrl?: string;
  /** refuse a paragraph longer than this many characters (default 1 MiB) */
  maxParagraphChars?: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * PackagesParser parses Packages text pushed in chunks of any size (paragraphs may span chunks).
 * Call push() for each chunk, then end() for the records.
 */
export class PackagesParser {
  private rest = '';
  private readonly records: PackageRecord[] = [];
  private paragraphNo = 0;
  private readonly what: string;
  private readonly baseUrl: string | undefined;
  private readonly maxParagraphChars: number;

  constructor(opts: PackagesParseOptions = {}) {
    this.what = opts.what ?? 'Packages index';
    this.baseUrl = opts.baseUrl;
    this.maxParagraphChars = opts.maxParagraphChars ?? 1024 * 1024;
  }

  /** push parses the complete paragraphs of `chunk` and keeps the incomplete tail. */
  push(chunk: string): void {
    const text = this.rest + (chunk.includes('\r') ? chunk.replace(/\r\n/g, '\n') : chunk);
    let start = 0;
    for (;;) {
      const sep = text.indexOf('\n\n', start);
      if (sep < 0) break;
      this.paragraph(text.slice(start, sep));
      start = sep + 2;
      while (text.charCodeAt(start) === 10) start++;
    }
    this.rest = text.slice(start);
    if (this.rest.length > this.maxParagraphChars) {
      throw new FromscratchError(
        'TOO_LARGE',
        `parsing ${this.what}: a paragraph is longer than ${this.maxParagraphChars} characters`,
      );
    }
  }

  /** end parses what is left and returns every record in input order. */
  end(): PackageRecord[] {
    if (this.rest.trim() !== '') this.paragraph(this.rest);
    this.rest = '';
    return this.records;
  }

  private paragraph(p: string): void {
    this.paragraphNo++;
    if (p.trim() === '') return;
    const r: Partial<Mutable<PackageRecord>> & { multiArch: MultiArch; essential: boolean } = {
      multiArch: 'no',
      essential: false,
    };
    let sourceField: string | undefined;
    let lastKey = '';
    let start = 0;
    while (start < p.length) {
      let end = p.indexOf('\n', start);
      if (end < 0) end = p.length;
      const c0 = p.charCodeAt(start);
      if (c0 === 32 || c0 === 9) {
        // continuation: only relation fields matter (Description's long text is skipped)
        const cont = p.slice(start, end).trim();
        if (
          lastKey === 'depends' ||
          lastKey === 'pre-depends' ||
          lastKey === 'provides' ||
          lastKey === 'conflicts' ||
          lastKey === 'breaks'
        ) {
          const k = {
            depends: 'depends',
            'pre-depends': 'preDepends',
            provides: 'provides',
            conflicts: 'conflicts',
            breaks: 'breaks',
          }[lastKey] as 'depends' | 'preDepends' | 'provides' | 'conflicts' | 'breaks';
          r[k] = `${r[k] ?? ''} ${cont}`.trim();
        }
        start = end + 1;
        continue;
      }
      if (c0 === 35) {
        start = end + 1; // '#' comment lines are not deb822 in Packages, but harmless to skip
        continue;
      }
      const colon = p.indexOf(':', start);
      if (colon < 0 || colon > end)
        this.bad(`expected "Field: value", got ${JSON.stringify(p.slice(start, Math.min(end, start + 60)))}`);
      const key = p.slice(start, colon).toLowerCase();
      const value = p.slice(colon + 1, end).trim();
      lastKey = key;
      switch (key) {
        case 'package':
          r.name = value;
          break;
        case 'version':
          r.version = value;
          break;
        case 'architecture':
          r.architecture = value;
          break;
        case 'multi-arch':
          r.multiArch = value === 'same' || value === 'foreign' || value === 'allowed' ? value : 'no';
          break;
        case 'essential':
          r.essential = value === 'yes';
          break;
        case 'priority':
          r.priority = value;
          break;
        case 'section':
          r.section = value;
          break;
        case 'source':
          sourceField = value;
          break;
        case 'filename':
          r.filename = value;
          break;
        case 'size':
          r.size = Number(value);
          break;
        case 'sha256':
          r.sha256 = value.toLowerCase();
          break;
        case 'installed-size':
          r.installedSize = Number(value);
          break;
        case 'depends':
          r.depends = value;
          break;
        case 'pre-depends':
          r.preDepends = value;
          break;
        case 'provides':
          r.provides = value;
          break;
        case 'conflicts':
          r.conflicts = value;
          break;
        case 'breaks':
          r.breaks = value;
          break;
        case 'replaces':
          r.replaces = value;
          break;
        case 'description':
          r.description = value;
          break;
        case 'maintainer':
          r.maintainer = value;
          break;
        case 'homepage':
          r.homepage = value;
          break;
      }
      start = end + 1;
    }
    if (!r.name || !r.version || !r.architecture)
      this.bad('a paragraph lacks Package, Version or Architecture');
    if (
      !r.filename ||
      !/^[0-9a-f]{64}$/.test(r.sha256 ?? '') ||
      !Number.isSafeInteger(r.size) ||
      (r.size ?? -1) < 0
    ) {
      this.bad(`package ${r.name} ${r.version} lacks a valid Filename, Size or SHA256`);
    }
    if (r.filename!.split('/').includes('..') || r.filename!.startsWith('/')) {
      this.bad(`package ${r.name} has a Filename that leaves the repository: ${JSON.stringify(r.filename)}`);
    }
    if (sourceField) {
      const m = /^(\S+)(?:\s*\((\S+)\))?$/.exec(sourceField);
      if (m) r.source = { name: m[1]!, version: m[2] ?? r.version! };
    }
    if (this.baseUrl !== undefined) r.baseUrl = this.baseUrl;
    this.records.push(r as PackageRecord);
  }

  private bad(why: string): never {
    throw new FromscratchError('DEB_INVALID', `parsing ${this.what}: paragraph ${this.paragraphNo}: ${why}`, {
      hint: 'the index is malformed or truncated; fetch it again',
    });
  }
}

/** parsePackages parses a whole Packages text into records. */
export function parsePackages(text: string, opts: PackagesParseOptions = {}): PackageRecord[] {
  const p = new PackagesParser(opts);
  p.push(text);
  return p.end();
}

/**
 * indexPackages builds the name and Provides maps over records from one or more indexes. For each name,
 * records are sorted highest version first; equal versions keep their first occurrence only (the same
 * package in two suites), so earlier sources win ties.
 */
export function indexPackages(records: Iterable<PackageRecord>): PackagesIndex {
  const byName = new Map<string, PackageRecord[]>();
  const packages: PackageRecord[] = [];
  for (const r of records) {
    const list = byName.get(r.name);
    if (!list) byName.set(r.name, [r]);
    else if (
      list.some((o) => o.architecture === r.architecture && compareDebVersions(o.version, r.version) === 0)
    )
      continue;
    else list.push(r);
    packages.push(r);
  }
  for (const list of byName.values()) {
    if (list.length > 1) list.sort((a, b) => compareDebVersions(b.version, a.version));
  }
  const providers = new Map<string, Provider[]>();
  for (const r of packages) {
    if (!r.provides) continue;
    let rels: ReturnType<typeof parseRelation>;
    try {
      rels = parseRelation(r.provides, `Provides of ${r.name} ${r.version}`);
    } catch {
      continue; // a malformed Provides makes that package provide nothing; it can still be installed by name
    }
    for (const alts of rels) {
      for (const d of alts) {
        const list = providers.get(d.name) ?? [];
        list.push(d.op === '=' && d.version ? { pkg: r, version: d.version } : { pkg: r });
        providers.set(d.name, list);
      }
    }
  }
  return { packages, byName, providers };
}
