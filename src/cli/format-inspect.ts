/**
 * format-inspect.ts — human rendering of `inspect`.
 */
import type { ImageInspection } from '../index.ts';

/** formatSize renders a byte count the way docker does (kB, MB: powers of 1000). */
export function formatSize(n: number): string {
  if (n < 1000) return `${n}B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u += 1;
  }
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)}${units[u]}`;
}

/** formatInspect renders an inspection as text: per platform, the config, layers and files. */
export function formatInspect(info: ImageInspection): string {
  const out: string[] = [
    `${info.reference}`,
    `digest: ${info.descriptor.digest} (${info.descriptor.mediaType})`,
  ];
  for (const img of info.images) {
    const c = img.config.config ?? {};
    out.push('', `platform: ${img.platform}`, `manifest: ${img.manifest.digest}`, `image id: ${img.imageId}`);
    const kv: [string, unknown][] = [
      ['entrypoint', c.Entrypoint],
      ['cmd', c.Cmd],
      ['env', c.Env],
      ['workdir', c.WorkingDir],
      ['user', c.User],
      ['exposed ports', c.ExposedPorts && Object.keys(c.ExposedPorts)],
      ['volumes', c.Volumes && Object.keys(c.Volumes)],
      ['labels', c.Labels],
      ['stop signal', c.StopSignal],
      ['created', img.config.created],
    ];
    for (const [k, v] of kv)
      if (v !== undefined && !(Array.isArray(v) && v.length === 0)) out.push(`  ${k}: ${JSON.stringify(v)}`);
    out.push(
      `  size: ${formatSize(img.compressedSize)} compressed${img.fileBytes !== undefined ? `, ${formatSize(img.fileBytes)} of files` : ''}`,
    );
    img.layers.forEach((l, i) => {
      const holds = l.createdBy?.startsWith('fromscratch layer: ')
        ? l.createdBy.slice('fromscratch layer: '.length)
        : l.createdBy;
      const unpacked =
        l.uncompressedSize !== undefined ? ` (${formatSize(l.uncompressedSize)} unpacked)` : '';
      out.push(
        `  layer ${i + 1}: ${l.digest} ${formatSize(l.size)}${unpacked} ${l.mediaType}${holds ? `  ${holds.length > 100 ? `${holds.slice(0, 99)}…` : holds}` : ''}`,
      );
      for (const f of l.files ?? []) {
        const mode = (f.mode & 0o7777).toString(8).padStart(4, '0');
        const link = f.linkTarget !== undefined ? ` -> ${f.linkTarget}` : '';
        out.push(
          `    ${f.type.padEnd(8)} ${mode} ${String(f.uid).padStart(5)}:${String(f.gid).padEnd(5)} ${formatSize(f.size).padStart(8)} ${f.path}${link}`,
        );
      }
      if (l.filesTruncated) out.push('    … (listing truncated)');
    });
  }
  return `${out.join('\n')}\n`;
}
