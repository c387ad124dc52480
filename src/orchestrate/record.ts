/**
 * record.ts — the BuildRecord: every file in the image with its reasons. PURE.
 *
 * `why`, the size report and the SBOM are views of it. It is written next to OCI outputs as an
 * artifact that refers to the image (OCI 1.1 `subject`), and into the local record cache keyed by the
 * manifest digest, so `why` works on images sent to a daemon or a registry from this machine.
 */
import type { FileEntry } from '../fs/file-tree.ts';
import { type MemoryNode, memoryFs } from '../fs/memory-fs.ts';
import type { Origin } from '../fs/origin.ts';
import type { RootFs } from '../fs/root-fs.ts';

/** RECORD_MEDIA_TYPE is the artifact type of an attached build record. */
export const RECORD_MEDIA_TYPE = 'application/vnd.fromscratch.build-record.v1+json';

/** RecordedFile is one path of the image and why it is there. */
export interface RecordedFile {
  readonly path: string;
  readonly type: FileEntry['type'];
  readonly size?: number;
  readonly target?: string;
  readonly origins: readonly Origin[];
}

/** RecordedPackage is a Debian package the image holds files of. */
export interface RecordedPackage {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  /** true when only some of the package's files are in the image (harvested from the host) */
  readonly partial?: boolean;
  readonly source?: string;
  readonly license?: string;
  /** who publishes it (`debian`); absent: Debian assumed (records before issue 14) */
  readonly vendor?: string;
  /** the release, as purls name it (`debian-12`) */
  readonly distro?: string;
}

/** BuildRecord describes one built image (one platform). */
export interface BuildRecord {
  readonly version: 1;
  readonly platform: string;
  /** manifest digest of the image this record describes */
  readonly manifestDigest?: string;
  readonly files: readonly RecordedFile[];
  readonly packages: readonly RecordedPackage[];
  readonly traces: readonly { readonly command: string; readonly exitCode: number; readonly cwd: string }[];
  readonly warnings: readonly string[];
}

/** toRecordedFiles pairs tree entries with their origins, in tree order. */
export function toRecordedFiles(
  entries: readonly FileEntry[],
  origins: ReadonlyMap<string, readonly Origin[]>,
): RecordedFile[] {
  return entries.map((e) => ({
    path: e.path,
    type: e.type,
    ...(e.type === 'file' ? { size: e.size } : {}),
    ...(e.type === 'symlink' || e.type === 'hardlink' ? { target: e.target } : {}),
    origins: origins.get(e.path) ?? [{ kind: 'path', to: 'a file below it' }],
  }));
}

/** recordFs shows the paths of a record as a RootFs (no file contents), to resolve paths through the image's own symlinks. */
export function recordFs(record: Pick<BuildRecord, 'files'>): RootFs {
  const nodes: Record<string, MemoryNode> = {};
  for (const f of record.files) {
    nodes[f.path] =
      f.type === 'symlink'
        ? { type: 'symlink', target: f.target ?? '' }
        : f.type === 'dir'
          ? { type: 'dir' }
          : { type: 'file', data: new Uint8Array() };
  }
  return memoryFs(nodes);
}
