/**
 * blob-locations.ts — which repository of a registry is known to hold a blob, so that a push to another
 * repository of the same registry mounts the blob (distribution-spec cross-repository mount) instead of
 * uploading it again. Docker keeps the same hint (its "v2 metadata" of pushed and pulled layers).
 *
 * The record is a hint only: a wrong or stale entry makes the mount fail, and pushBlob then uploads
 * (registry/push.ts). It lives in one JSON file of the cache, replaced atomically; two builds saving at
 * once may lose each other's new entries, never corrupt the file. Each registry keeps its newest
 * {@link MAX_PER_REGISTRY} entries.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../blob/dir-store.ts';
import { cacheDir } from './cache-dir.ts';

/** MAX_PER_REGISTRY bounds the record: the oldest entries of a registry are dropped past it. */
const MAX_PER_REGISTRY = 20_000;

type Table = Record<string, Record<string, string>>;

/** BlobLocations is the loaded record; note() changes it in memory, save() writes it. */
export interface BlobLocations {
  /** a repository of `registry` other than `exceptRepo` known to hold `digest`, if any */
  find(registry: string, digest: string, exceptRepo: string): string | undefined;
  /** records that `repository` of `registry` holds `digest` */
  note(registry: string, repository: string, digest: string): void;
  /** writes the record when note() changed it (errors are left to the caller: the record is a hint) */
  save(): Promise<void>;
}

/** readBlobLocations loads the record (an unreadable or missing file is an empty record). */
export async function readBlobLocations(dir: string = cacheDir()): Promise<BlobLocations> {
  const file = join(dir, 'registry-blobs.json');
  const load = async (): Promise<Table> => {
    try {
      const v = JSON.parse(await readFile(file, 'utf8')) as unknown;
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as Table) : {};
    } catch {
      // absent or damaged: start over (it only ever saves an upload)
      return {};
    }
  };
  const table = await load();
  const added: [string, string, string][] = [];
  return {
    find(registry, digest, exceptRepo) {
      const repo = table[registry]?.[digest];
      return typeof repo === 'string' && repo !== exceptRepo ? repo : undefined;
    },
    note(registry, repository, digest) {
      const t = table[registry] ?? {};
      table[registry] = t;
      if (t[digest] === repository) return;
      delete t[digest]; // re-inserted last: the newest
      t[digest] = repository;
      added.push([registry, repository, digest]);
    },
    async save() {
      if (added.length === 0) return;
      // merge into what another build may have saved meanwhile
      const now = await load();
      for (const [registry, repository, digest] of added) {
        const t = now[registry] ?? {};
        now[registry] = t;
        delete t[digest];
        t[digest] = repository;
        const keys = Object.keys(t);
        for (const k of keys.slice(0, Math.max(0, keys.length - MAX_PER_REGISTRY))) delete t[k];
      }
      added.length = 0;
      await mkdir(dir, { recursive: true });
      await writeFileAtomic(file, Buffer.from(JSON.stringify(now)), { fsync: false });
    },
  };
}
