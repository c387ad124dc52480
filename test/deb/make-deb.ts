// make-deb.ts — test helper: build .deb files (and hostile variants) in memory with tar-stream and zlib.
import { gzipSync } from 'node:zlib';
import { type Header, pack } from 'tar-stream';

/** TarItem is one entry of a generated tar. */
export type TarItem = Partial<Header> & { name: string; body?: string | Buffer };

/** makeTar builds an uncompressed tar from items. */
export async function makeTar(items: TarItem[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p) chunks.push(c as Buffer);
  })();
  for (const { body, ...h } of items) {
    await new Promise<void>((res, rej) => {
      if (body !== undefined) p.entry(h, body, (e) => (e ? rej(e) : res()));
      else p.entry(h, (e) => (e ? rej(e) : res())).end(undefined);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** arMember renders one ar member header + data (+ padding); size may be overridden to forge headers. */
export function arMember(name: string, data: Buffer, sizeField?: string): Buffer {
  const hdr = `${`${name}/`.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${(sizeField ?? String(data.length)).padEnd(10)}\`\n`;
  return Buffer.concat([
    Buffer.from(hdr, 'latin1'),
    data,
    data.length % 2 ? Buffer.from('\n') : Buffer.alloc(0),
  ]);
}

/** makeAr builds an ar archive from members. */
export function makeAr(members: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from('!<arch>\n'), ...members]);
}

/** CONTROL is a minimal control file. */
export const CONTROL =
  'Package: hello\nVersion: 1.0-1\nArchitecture: amd64\nMaintainer: T <t@example.org>\nDescription: test\n';

/** makeDeb builds a gzip .deb with the given data entries. */
export async function makeDeb(
  dataItems: TarItem[],
  opts: { control?: string; postinst?: string } = {},
): Promise<Buffer> {
  const ctl: TarItem[] = [
    { name: './', type: 'directory', mode: 0o755 },
    { name: './control', body: opts.control ?? CONTROL, mode: 0o644 },
  ];
  if (opts.postinst) ctl.push({ name: './postinst', body: opts.postinst, mode: 0o755 });
  return makeAr([
    arMember('debian-binary', Buffer.from('2.0\n')),
    arMember('control.tar.gz', gzipSync(await makeTar(ctl))),
    arMember('data.tar.gz', gzipSync(await makeTar(dataItems))),
  ]);
}
