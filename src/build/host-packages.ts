/**
 * host-packages.ts — files taken from the host (or a sysroot) traced back to the Debian packages that
 * installed them, so scanners and SBOMs see them: an origin per file, the package recorded as partial,
 * and a /var/lib/dpkg/status.d record (with the md5sums of the files actually in the image).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatParagraph, parseControl } from '../deb/control.ts';
import { dpkgStatusEntries, readHostDpkgOwners, type StatusPackage } from '../deb/dpkg-status.ts';
import type { FileEntry } from '../fs/file-tree.ts';
import type { Origin } from '../fs/origin.ts';
import type { Collector } from './collector.ts';
import type { RecordedPackage } from './record.ts';

/**
 * attributeHostFiles finds the owning package of every host-backed file of the collector (paths as the
 * root has them), notes the origin, and adds status.d records for the packages found. Packages already
 * installed whole by --package are left as they are. Returns the partial packages.
 */
export async function attributeHostFiles(
  col: Collector,
  rootDir: string,
  whole: readonly RecordedPackage[],
): Promise<RecordedPackage[]> {
  const owners = await readHostDpkgOwners(rootDir);
  if (owners.packages.size === 0) return [];
  const statusText = await readFile(join(rootDir, 'var/lib/dpkg/status'), 'utf8').catch(() => '');
  const controls = new Map<string, string>();
  for (const p of statusText ? parseControl(statusText, { what: `${rootDir} dpkg status` }) : []) {
    const name = p.get('Package');
    if (name && / installed$/.test(p.get('Status') ?? ''))
      controls.set(`${name}:${p.get('Architecture') ?? ''}`, formatParagraph(p));
  }
  const skip = new Set(whole.map((p) => `${p.name}:${p.architecture}`));
  const found = new Map<string, { pkg: RecordedPackage; files: { path: string; host: string }[] }>();
  for (const e of col.tree().entries) {
    if (e.type !== 'file' || e.content.kind !== 'host') continue;
    const owner = owners.owner(e.path);
    if (!owner) continue;
    const key = `${owner.name}:${owner.architecture}`;
    if (skip.has(key)) continue;
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
    f.files.push({ path: e.path, host: e.content.path });
    found.set(key, f);
  }
  const status: StatusPackage[] = [];
  for (const [key, f] of found) {
    const control = controls.get(key);
    if (!control) continue;
    const files: { path: string; md5: string }[] = [];
    // streamed one file at a time: a 100 MB program must not sit in memory just to be checksummed
    for (const x of f.files) files.push({ path: x.path, md5: await md5File(x.host) });
    status.push({ name: f.pkg.name, controlText: control, files });
  }
  const { entries, origins } = dpkgStatusEntries(status);
  for (const entry of entries as FileEntry[])
    for (const o of origins.get(entry.path) ?? []) col.addIfAbsent(entry, o);
  return [...found.values()].map((f) => f.pkg);
}

async function md5File(path: string): Promise<string> {
  const h = createHash('md5');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}
