/**
 * tar-gen.ts — a tiny tar generator for tests: crafts (hostile) entries byte for byte, so that no hostile
 * archive is ever committed as a binary.
 */

/** GenEntry is one raw tar entry to emit. */
export interface GenEntry {
  /** entry name as bytes or a string (UTF-8) */
  name: string | Buffer;
  /** typeflag character: '0' file, '1' hardlink, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo, 'x', 'g', 'L', 'K', 'S' */
  type?: string;
  data?: Buffer | string;
  linkname?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  /** header size field override (the data written is still `data`) */
  headerSize?: number;
  /** PAX records emitted in an 'x' header before this entry */
  pax?: Record<string, string | Buffer>;
  devmajor?: number;
  devminor?: number;
  /** corrupt the checksum */
  badChecksum?: boolean;
}

function octal(n: number, width: number): Buffer {
  const s = n.toString(8).padStart(width - 1, '0');
  return Buffer.from(`${s}\0`, 'latin1');
}

/** header builds one 512-byte ustar header. */
export function header(e: GenEntry): Buffer {
  const h = Buffer.alloc(512);
  const name = typeof e.name === 'string' ? Buffer.from(e.name) : e.name;
  name.copy(h, 0, 0, Math.min(100, name.length));
  octal(e.mode ?? (e.type === '5' ? 0o755 : 0o644), 8).copy(h, 100);
  octal(e.uid ?? 0, 8).copy(h, 108);
  octal(e.gid ?? 0, 8).copy(h, 116);
  const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
  octal(e.headerSize ?? data.length, 12).copy(h, 124);
  octal(e.mtime ?? 0, 12).copy(h, 136);
  h.write(e.type ?? '0', 156, 'latin1');
  if (e.linkname !== undefined) {
    const l = typeof e.linkname === 'string' ? Buffer.from(e.linkname) : e.linkname;
    l.copy(h, 157, 0, Math.min(100, l.length));
  }
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  octal(e.devmajor ?? 0, 8).copy(h, 329);
  octal(e.devminor ?? 0, 8).copy(h, 337);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  if (e.badChecksum) sum += 1;
  Buffer.from(`${sum.toString(8).padStart(6, '0')}\0 `, 'latin1').copy(h, 148);
  return h;
}

function pad(b: Buffer): Buffer {
  const p = (512 - (b.length % 512)) % 512;
  return p === 0 ? b : Buffer.concat([b, Buffer.alloc(p)]);
}

/** paxRecords encodes `LEN KEY=VALUE\n` records. */
export function paxRecords(recs: Record<string, string | Buffer>): Buffer {
  const out: Buffer[] = [];
  for (const [k, v] of Object.entries(recs)) {
    const body = Buffer.concat([Buffer.from(` ${k}=`), Buffer.from(v), Buffer.from('\n')]);
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    out.push(Buffer.concat([Buffer.from(String(len)), body]));
  }
  return Buffer.concat(out);
}

/** entryBytes encodes one entry (with its PAX header when asked) and its padded data. */
export function entryBytes(e: GenEntry): Buffer {
  const parts: Buffer[] = [];
  if (e.pax) {
    const recs = paxRecords(e.pax);
    parts.push(header({ name: 'PaxHeaders/x', type: 'x', data: recs }), pad(recs));
  }
  const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
  parts.push(header(e), pad(data));
  return Buffer.concat(parts);
}

/** makeTar encodes entries followed by the two zero end blocks (unless `end: false`). */
export function makeTar(entries: GenEntry[], opts: { end?: boolean } = {}): Buffer {
  const parts = entries.map(entryBytes);
  if (opts.end !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
