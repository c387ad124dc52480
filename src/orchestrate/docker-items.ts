/**
 * docker-items.ts — the Dockerfile's COPY/ADD, COPY --from and WORKDIR items, materialised with
 * Docker's rules: sources resolve inside the context (or the stage's root) and never leave it,
 * symlinks stay symlinks, --chown names resolve against the image's own /etc/passwd and /etc/group.
 */
import { createReadStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import type { BlobStore } from '../blob/store.ts';
import {
  collectContextSources,
  readDockerignore,
  resolveOwnership,
  toCopyEntries,
} from '../dockerfile/context.ts';
import { fetchAddUrl } from '../dockerfile/fetch-add-url.ts';
import type { FileEntry } from '../fs/file-tree.ts';
import type { Origin } from '../fs/origin.ts';
import { normalizeImagePath } from '../fs/path.ts';
import type { Image } from '../image/image.ts';
import { makeUnpackDir, unpackImage } from '../unpack/unpack.ts';
import type { ContentItem, Ownership } from './build-spec.ts';
import type { Collector } from './collector.ts';
import { DEFAULT_GROUP, DEFAULT_PASSWD } from './defaults.ts';
import { assertNotSecret, type SecretCheck } from './host-add.ts';

/** ItemContext is what the Dockerfile items need from the build in progress. */
export interface ItemContext {
  readonly col: Collector;
  /** programs to resolve the closure of */
  readonly closureRoots: { path: string; origin: Origin }[];
  /** temp directories to remove once the layer is written */
  readonly cleanup: string[];
  readonly warn: (m: string) => void;
  /** builds a stage (or reads an image) into an Image with its blobs */
  readonly imageOf: (
    from: Extract<ContentItem, { kind: 'copy-from' }>['from'],
  ) => Promise<{ image: Image; store: BlobStore }>;
  /**
   * tells whether a host file is a program (ELF program or library of the image, or an executable #!
   * script); other ELF files at `imagePath` are recorded as data
   */
  readonly isProgram: (hostPath: string, mode: number, imagePath?: string) => Promise<boolean>;
  /** makes closure roots of the programs outside a copied tree (`dest`) its symlinks point to (build.ts) */
  readonly addLinkedPrograms: (entries: readonly FileEntry[], dest: string, via: string) => Promise<void>;
  /** the secrets policy for files copied from the build context, and the host paths allowed despite it */
  readonly secrets: { checkSecret?: SecretCheck; allowSecrets?: readonly string[] };
}

async function fileText(col: Collector, path: string, fallback: string): Promise<string> {
  const e = col.get(path);
  if (e?.type !== 'file') return fallback;
  if (e.content.kind === 'bytes') return Buffer.from(e.content.data).toString('utf8');
  return readFile(e.content.path, 'utf8');
}

/** ownershipOf resolves --chown names against the image's /etc/passwd and /etc/group (or the scratch defaults). */
export async function ownershipOf(
  col: Collector,
  o: Ownership | undefined,
): Promise<{ uid?: number; gid?: number; mode?: number }> {
  if (!o) return {};
  if (o.user === undefined && o.group === undefined) return o;
  return resolveOwnership(
    o,
    await fileText(col, '/etc/passwd', DEFAULT_PASSWD),
    await fileText(col, '/etc/group', DEFAULT_GROUP),
  );
}

/** addDirectories creates WORKDIR directories, owned as the Dockerfile's USER at that line. */
export async function addDirectories(
  ctx: ItemContext,
  dirs: readonly { path: string; ownership?: Ownership }[],
): Promise<void> {
  for (const d of dirs) {
    const own = await ownershipOf(ctx.col, d.ownership);
    ctx.col.addIfAbsent(
      { type: 'dir', path: normalizeImagePath(d.path), mode: 0o755, uid: own.uid ?? 0, gid: own.gid ?? 0 },
      { kind: 'requested', via: 'WORKDIR' },
    );
  }
}

function addEntries(
  ctx: ItemContext,
  entries: readonly FileEntry[],
  via: string,
  hostOf: (e: FileEntry) => string | undefined,
): void {
  for (const e of entries) {
    const hostPath = hostOf(e);
    const origin: Origin = hostPath
      ? { kind: 'requested', via, source: hostPath }
      : { kind: 'requested', via };
    // a later COPY replaces what an earlier one put at the same path, as docker build does
    ctx.col.add(e, origin, e.type === 'file' && e.content.kind === 'host' ? e.content.path : undefined, {
      replace: true,
    });
  }
}

async function closureOf(ctx: ItemContext, entries: readonly FileEntry[], via: string): Promise<void> {
  for (const e of entries) {
    if (
      e.type === 'file' &&
      e.content.kind === 'host' &&
      (await ctx.isProgram(e.content.path, e.mode, e.path))
    ) {
      ctx.closureRoots.push({ path: e.path, origin: { kind: 'requested', via, source: e.content.path } });
    }
  }
}

/** gatherContextAdd materialises a Dockerfile COPY/ADD from the build context (or a URL). */
export async function gatherContextAdd(
  ctx: ItemContext,
  item: Extract<ContentItem, { kind: 'add' }> & { context: string },
): Promise<void> {
  const via = item.extract ? 'ADD' : 'COPY';
  const own = await ownershipOf(ctx.col, item.ownership);
  if (/^https?:\/\//i.test(item.src)) {
    const got = await fetchAddUrl(item.src, item.checksum);
    const dest = item.dest ?? '/';
    const path = dest.endsWith('/')
      ? `${dest}${basename(new URL(got.finalUrl).pathname) || 'index.html'}`
      : dest;
    ctx.col.add(
      {
        type: 'file',
        path: normalizeImagePath(path),
        mode: own.mode ?? 0o600,
        uid: own.uid ?? 0,
        gid: own.gid ?? 0,
        size: got.data.byteLength,
        content: { kind: 'bytes', data: got.data },
      },
      { kind: 'requested', via: 'ADD', source: item.src },
      undefined,
      { replace: true },
    );
    return;
  }
  const records = await collectContextSources(item.context, [item.src], {
    ...(item.dest !== undefined ? { dest: item.dest } : {}),
    ...(item.exclude ? { exclude: item.exclude } : {}),
    dockerignore: await readDockerignore(item.context),
    isDir: (p) => ctx.col.get(p)?.type === 'dir',
    warn: ctx.warn,
  });
  // COPY puts context files in the image as --add does: the same policy, on the same host paths
  for (const r of records) {
    if (r.stat.type !== 'dir' && r.stat.type !== 'symlink') assertNotSecret(r.hostPath, ctx.secrets, r.dest);
  }
  if (item.extract) {
    const tars = records.filter(
      (r) => r.stat.type === 'file' && /\.(tar|tar\.gz|tgz|tar\.zst|tar\.xz)$/.test(r.relPath),
    );
    if (tars.length > 0) {
      for (const t of tars) await addExtracted(ctx, t.hostPath, item.dest ?? '/', own);
      const rest = records.filter((r) => !tars.includes(r));
      addEntries(ctx, toCopyEntries(rest, own, { exists: (p) => ctx.col.has(p) }), via, (e) =>
        e.type === 'file' && e.content.kind === 'host' ? e.content.path : undefined,
      );
      return;
    }
  }
  const entries = toCopyEntries(records, own, { exists: (p) => ctx.col.has(p) });
  addEntries(ctx, entries, via, (e) =>
    e.type === 'file' && e.content.kind === 'host' ? e.content.path : undefined,
  );
  if (item.closure) {
    await closureOf(ctx, entries, via);
    // a copied virtual environment's bin/python links to /usr/bin/python3, as with --add
    await ctx.addLinkedPrograms(entries, normalizeImagePath(item.dest ?? '/'), via);
  }
}

/** addExtracted unpacks a local tar (ADD auto-extraction) safely and copies its tree under `dest`. */
async function addExtracted(
  ctx: ItemContext,
  tarPath: string,
  dest: string,
  own: { uid?: number; gid?: number; mode?: number },
): Promise<void> {
  const root = await makeUnpackDir();
  ctx.cleanup.push(root);
  await unpackImage([{ data: createReadStream(tarPath), name: tarPath }], root, {
    chown: false,
    onWarning: ctx.warn,
  });
  const dir = dest.endsWith('/') ? dest : `${dest}/`;
  const records = await collectContextSources(root, ['.'], { dest: dir, warn: ctx.warn });
  addEntries(ctx, toCopyEntries(records, own, { exists: (p) => ctx.col.has(p) }), 'ADD', () => tarPath);
}

/** gatherCopyFrom materialises COPY --from=stage|image: the stage is built (or the image read) and unpacked safely. */
export async function gatherCopyFrom(
  ctx: ItemContext,
  item: Extract<ContentItem, { kind: 'copy-from' }>,
): Promise<void> {
  const name = 'image' in item.from ? item.from.image : item.from.name;
  const via = `COPY --from=${name}`;
  const { image, store } = await ctx.imageOf(item.from);
  const root = await makeUnpackDir();
  ctx.cleanup.push(root);
  await unpackImage({ image, store }, root, { chown: false, onWarning: ctx.warn });
  const own = await ownershipOf(ctx.col, item.ownership);
  const records = await collectContextSources(root, item.src, {
    dest: item.dest,
    ...(item.exclude ? { exclude: item.exclude } : {}),
    isDir: (p) => ctx.col.get(p)?.type === 'dir',
    warn: ctx.warn,
  });
  const entries = toCopyEntries(records, own, { exists: (p) => ctx.col.has(p) });
  addEntries(ctx, entries, via, () => undefined);
  if (item.closure) await closureOf(ctx, entries, via);
}

/** removeAll deletes the temp directories of a build. */
export async function removeAll(dirs: readonly string[]): Promise<void> {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
}
