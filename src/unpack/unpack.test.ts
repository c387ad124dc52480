/**
 * unpack.test.ts — the rules of unpack.ts one at a time, fast (the mutation tests run this file per mutant;
 * test/run/unpack-hostile.test.ts is the slow end-to-end companion). Layers are real tar bytes encoded in
 * memory with src/layer/tar-header.ts; each case unpacks into a fresh private directory under a box that
 * also holds a sentinel, so anything written outside the root is seen.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { getAttributeSync } from '@napi-rs/xattr';
import { memoryStore } from '../blob/memory-store.ts';
import { FromscratchError, isFromscratchError } from '../errors.ts';
import { appendLayers, emptyImage } from '../image/image.ts';
import { encodeTarHeader, paddingFor, paxRecord, type TarTypeflag } from '../layer/tar-header.ts';
import { sha256 } from '../model/digest.ts';
import { MediaType } from '../model/media-type.ts';
import { makeUnpackDir, type UnpackLayer, type UnpackOptions, unpackImage } from './unpack.ts';

/** E is one entry to encode; `type` defaults to a file, or a directory when the name ends with `/`. */
interface E {
  name: string | Buffer;
  type?: TarTypeflag;
  data?: string | Buffer;
  link?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, Uint8Array>;
}

function entry(e: E): Buffer {
  const name = typeof e.name === 'string' ? Buffer.from(e.name) : e.name;
  const type = e.type ?? (name.at(-1) === 0x2f ? '5' : '0');
  const data = Buffer.from(e.data ?? '');
  const h = encodeTarHeader({
    name,
    typeflag: type,
    mode: e.mode ?? (type === '5' ? 0o755 : 0o644),
    uid: e.uid ?? 0,
    gid: e.gid ?? 0,
    size: data.length,
    mtime: e.mtime ?? 1_000_000,
    linkname: e.link === undefined ? undefined : Buffer.from(e.link),
    devmajor: e.devmajor,
    devminor: e.devminor,
    xattrs: e.xattrs,
  });
  return Buffer.concat([h, data, Buffer.alloc(paddingFor(data.length))]);
}

/** tar encodes entries and the two zero end blocks (unless `end` is false). */
function tar(entries: E[], end = true): Buffer {
  return Buffer.concat([...entries.map(entry), Buffer.alloc(end ? 1024 : 0)]);
}

/** paxEntry is an entry whose name comes from a PAX `path` record (which may hold any bytes). */
function paxEntry(path: string, e: E): Buffer {
  const recs = paxRecord('path', path);
  const x = encodeTarHeader({
    name: Buffer.from('pax'),
    typeflag: 'x',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: recs.length,
    mtime: 0,
  });
  return Buffer.concat([x, recs, Buffer.alloc(paddingFor(recs.length)), entry(e)]);
}

const boxes: string[] = [];
after(() => {
  for (const b of boxes) fs.rmSync(b, { recursive: true, force: true });
});

/** box makes `<box>/root` (0700, empty) beside `<box>/sentinel`. */
function box(): { box: string; root: string } {
  const b = fs.mkdtempSync(join(tmpdir(), 'fs-unpack-unit-'));
  boxes.push(b);
  fs.mkdirSync(join(b, 'root'), { mode: 0o700 });
  fs.writeFileSync(join(b, 'sentinel'), 'keep');
  return { box: b, root: join(b, 'root') };
}

function assertBoxIntact(b: string): void {
  assert.deepEqual(fs.readdirSync(b).sort(), ['root', 'sentinel'], 'nothing is written beside the root');
  assert.equal(fs.readFileSync(join(b, 'sentinel'), 'utf8'), 'keep');
}

/** ok unpacks layers (tar bytes) into a fresh root and returns it with the result. */
async function ok(tars: Buffer[], opts: UnpackOptions = {}) {
  const b = box();
  const r = await unpackImage(
    tars.map((t) => ({ data: [t] })),
    b.root,
    opts,
  );
  assertBoxIntact(b.box);
  return { ...r, root: b.root, at: (p: string) => join(b.root, p) };
}

/** fails unpacks layers and requires a FromscratchError with `code` whose message matches, and an emptied root. */
async function fails(
  tars: Buffer[] | UnpackLayer[],
  code: string,
  re: RegExp,
  opts: UnpackOptions = {},
): Promise<FromscratchError> {
  const b = box();
  const layers = tars.map((t) => (Buffer.isBuffer(t) ? { data: [t] } : t));
  let err: FromscratchError | undefined;
  await assert.rejects(unpackImage(layers, b.root, opts), (e: unknown) => {
    assert.ok(isFromscratchError(e), `expected a FromscratchError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    assert.ok(e.hint, 'every refusal has a hint');
    err = e;
    return true;
  });
  assertBoxIntact(b.box);
  assert.deepEqual(fs.readdirSync(b.root), [], 'the root is emptied after a failure');
  return err!;
}

/**
 * the CommonJS objects of node:fs and node:child_process, whose members the ESM bindings of unpack.ts mirror
 * after syncBuiltinESMExports: errors a test cannot provoke for real (a full disk, chown refused) are injected
 */
const builtin = createRequire(import.meta.url);
const cjsFs = builtin('node:fs') as Record<string, unknown>;
const cjsChild = builtin('node:child_process') as Record<string, unknown>;

/** patched runs fn with members of a builtin module replaced, and restores them. */
async function patched<T>(
  mod: Record<string, unknown>,
  repl: Record<string, unknown>,
  fn: () => Promise<T>,
): Promise<T> {
  const saved = Object.fromEntries(Object.keys(repl).map((k) => [k, mod[k]]));
  Object.assign(mod, repl);
  syncBuiltinESMExports();
  try {
    return await fn();
  } finally {
    Object.assign(mod, saved);
    syncBuiltinESMExports();
  }
}

/** failing is a replacement fs call that throws an errno error with `code`. */
const failing = (code: string) => () => {
  throw Object.assign(new Error(`${code}: injected`), { code });
};

const read = (p: string) => fs.readFileSync(p, 'utf8');
const exists = (p: string) => fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;
const mtime = (p: string) => fs.lstatSync(p).mtimeMs / 1000;

describe('unpack: destination', () => {
  it('makeUnpackDir makes a fresh 0700 directory under the parent', async () => {
    const parent = box().box;
    const d = await makeUnpackDir(parent);
    assert.ok(d.startsWith(join(parent, 'fromscratch-unpack-')), d);
    assert.equal(fs.statSync(d).mode & 0o777, 0o700);
    assert.deepEqual((await unpackImage([{ data: [tar([{ name: 'f', data: 'x' }])] }], d)).entries, 1);
    const dflt = await makeUnpackDir();
    assert.ok(dflt.startsWith(join(tmpdir(), 'fromscratch-unpack-')), dflt);
    fs.rmdirSync(dflt);
  });

  it('refuses a missing, non-directory, foreign, shared or non-empty destination', async () => {
    const b = box();
    const refuse = async (dest: string, re: RegExp) =>
      assert.rejects(unpackImage([], dest), (e: unknown) => {
        assert.ok(isFromscratchError(e, 'OUTPUT_UNWRITABLE'), String(e));
        assert.match(e.message, re);
        assert.ok(e.hint);
        return true;
      });
    await refuse(join(b.box, 'missing'), /does not exist/);
    await refuse(join(b.box, 'sentinel'), /is not a directory/);
    fs.symlinkSync('root', join(b.box, 'link'));
    await refuse(join(b.box, 'link'), /is not a directory/);
    for (const mode of [0o770, 0o707, 0o722]) {
      fs.chmodSync(b.root, mode);
      await refuse(b.root, /writable by other users/);
    }
    fs.chmodSync(b.root, 0o755);
    assert.equal((await unpackImage([], b.root)).entries, 0, '0755 is private enough');
    fs.writeFileSync(join(b.root, 'x'), '');
    await refuse(b.root, /is not empty/);
    assert.ok(exists(join(b.root, 'x')), 'a refused destination is left alone');
    fs.unlinkSync(join(b.root, 'x'));
    if (process.getuid?.() === 0) {
      fs.chownSync(b.root, 12345, 12345);
      await refuse(b.root, /not owned by this user/);
    }
  });
});

describe('unpack: sources, digests and errors', () => {
  it('takes an image in a store (media type picks the codec), names its layers, checks diff_ids', async () => {
    const store = memoryStore();
    const t = tar([{ name: 'etc/hostname', data: 'box\n' }]);
    const gz = gzipSync(t);
    const { digest, size } = await store.put(gz);
    const scratch = emptyImage({ os: 'linux', architecture: 'amd64' });
    const layer = { blob: { mediaType: MediaType.OciLayerGzip, digest, size }, diffId: sha256(t) };
    const b = box();
    const r = await unpackImage({ image: appendLayers(scratch, [layer]), store }, b.root);
    assert.equal(read(join(b.root, 'etc/hostname')), 'box\n');
    assert.equal(r.entries, 1);

    const wrong = { ...layer, diffId: sha256('other') };
    const b2 = box();
    await assert.rejects(
      unpackImage({ image: appendLayers(scratch, [layer, wrong]), store }, b2.root),
      (err: unknown) => {
        assert.ok(isFromscratchError(err, 'DIGEST_MISMATCH'), String(err));
        assert.match(err.message, new RegExp(`^layer 1 \\(${digest}\\): .*expected diff_id ${wrong.diffId}`));
        return true;
      },
    );
    assert.deepEqual(fs.readdirSync(b2.root), []);

    const odd = { ...layer, blob: { ...layer.blob, mediaType: 'application/vnd.example.layer' as never } };
    const b3 = box();
    await assert.rejects(
      unpackImage({ image: appendLayers(scratch, [odd]), store }, b3.root),
      (err: unknown) => {
        assert.ok(isFromscratchError(err, 'INVALID_IMAGE'), String(err));
        assert.match(err.message, /layer 0 .*unsupported media type application\/vnd.example.layer/);
        assert.match(err.hint!, /only tar, tar\+gzip and tar\+zstd/);
        return true;
      },
    );
  });

  it('takes layers as an async iterable, with async data in small chunks, and hashes the uncompressed tar', async () => {
    const big = Buffer.alloc(200_000, 'z');
    const t = tar([{ name: 'big', data: big }, { name: 'e' }]);
    async function* chunks(b: Buffer) {
      for (let i = 0; i < b.length; i += 777) yield b.subarray(i, i + 777);
    }
    async function* layers(): AsyncGenerator<UnpackLayer> {
      yield { data: chunks(gzipSync(t)), diffId: sha256(t), compression: 'gzip' };
      yield { data: chunks(t), diffId: sha256(t), compression: 'none' };
    }
    const b = box();
    const r = await unpackImage(layers(), b.root);
    assert.equal(r.entries, 4, 'entries are counted over all layers');
    assert.ok(fs.readFileSync(join(b.root, 'big')).equals(big));
    assert.equal(fs.statSync(join(b.root, 'e')).size, 0);
    await fails(
      [{ data: [t], diffId: sha256(gzipSync(t)) }],
      'DIGEST_MISMATCH',
      /^layer 0: uncompressed content/,
    );
  });

  it('names the failing layer and entry: default `layer N`, or the given name', async () => {
    const good = tar([{ name: 'a', data: 'a' }]);
    const bad = tar([{ name: 'x/../y' }]);
    const e = await fails(
      [good, bad],
      'PATH_ESCAPE',
      /^layer 1: entry "x\/..\/y": name "x\/..\/y" has a '..'/,
    );
    assert.match(e.hint!, /escape the root/);
    await fails([{ data: [bad], name: 'base' }], 'PATH_ESCAPE', /^base: entry "x\/..\/y"/);
    // an error from the tar reader (bad checksum) gets the layer name once
    const corrupt = Buffer.from(good);
    corrupt[0] = corrupt[0]! ^ 1;
    const c = await fails([{ data: [corrupt], name: 'L7' }], 'INVALID_ARCHIVE', /^L7: /);
    assert.doesNotMatch(c.message, /^L7: L7/);
  });

  it('on a tar error the rest of the blob is read, so the store reports a digest or size mismatch', async () => {
    const bad = tar([{ name: '../up' }]);
    for (const code of ['DIGEST_MISMATCH', 'SIZE_MISMATCH'] as const) {
      let finished = false;
      function* verifying() {
        try {
          yield bad;
          yield Buffer.alloc(512);
          throw new FromscratchError(code, `blob sha256:1 ${code}`, { hint: 'refetch' });
        } finally {
          finished = true;
        }
      }
      const e = await fails([{ data: verifying() }], code, new RegExp(`^layer 0: blob sha256:1 ${code}`));
      assert.equal(e.hint, 'refetch');
      assert.ok(finished);
    }
    // another read error after the tar error: the tar error is the better report
    function* broken() {
      yield bad;
      throw new Error('disk on fire');
    }
    await fails([{ data: broken() }], 'PATH_ESCAPE', /'\.\.'/);
  });

  it('after the end of the tar the rest of the blob is read and its verification error reported', async () => {
    const t = tar([{ name: 'f', data: 'x' }]);
    function* verifying() {
      yield t;
      yield Buffer.alloc(1024);
      throw new FromscratchError('DIGEST_MISMATCH', 'blob sha256:2 has the wrong digest', {
        hint: 'refetch',
      });
    }
    await fails([{ data: verifying() }], 'DIGEST_MISMATCH', /^layer 0: blob sha256:2 has the wrong digest/);
  });

  it('maxEntries counts over all layers; past it the source is closed, not drained', async () => {
    const one = tar([{ name: 'a' }, { name: 'b' }]);
    assert.equal((await ok([one, one], { maxEntries: 4 })).entries, 4);
    await fails([one, one], 'TOO_LARGE', /^layer 1: more than 3 entries/, { maxEntries: 3 });
    let pulled = 0;
    let closed = false;
    function* endless() {
      try {
        for (;;) {
          pulled += 1;
          if (pulled > 1000) throw new FromscratchError('DIGEST_MISMATCH', 'drained', { hint: 'h' });
          yield entry({ name: `f${pulled}` });
        }
      } finally {
        closed = true;
      }
    }
    await fails([{ data: endless() }], 'TOO_LARGE', /more than 5 entries/, { maxEntries: 5 });
    assert.ok(pulled < 1000, `read ${pulled} chunks`);
    assert.ok(closed, 'the source is closed');
  });

  it('passes its limits to the decompressor and the tar reader; compression defaults to the magic number', async () => {
    const t = tar([{ name: 'f', data: Buffer.alloc(4096, 1) }]);
    const r = await ok([gzipSync(t)]);
    assert.equal(fs.statSync(r.at('f')).size, 4096, 'gzip detected by its magic number');
    await fails(
      [{ data: [gzipSync(t)], name: 'gz' }],
      'TOO_LARGE',
      /^gz decompresses to more than 1024 bytes/,
      {
        maxBytes: 1024,
      },
    );
    const pax = paxEntry(`long/${'p'.repeat(200)}`, { name: 'x', data: 'x' });
    assert.equal((await ok([Buffer.concat([pax, Buffer.alloc(1024)])], { maxMetaBytes: 300 })).entries, 1);
    await fails(
      [Buffer.concat([pax, Buffer.alloc(1024)])],
      'TOO_LARGE',
      /^layer 0: pax extended header .*\(limit 100\)/,
      {
        maxMetaBytes: 100,
      },
    );
  });

  it('a host path past PATH_MAX (a long root plus a long name) is PATH_TOO_LONG, not a crash', async () => {
    const name = `${Array.from({ length: 19 }, () => 'a'.repeat(200)).join('/')}/${'f'.repeat(250)}`;
    const e = await fails(
      [Buffer.concat([paxEntry(name, { name: 'x', data: 'x' }), Buffer.alloc(1024)])],
      'PATH_TOO_LONG',
      /^layer 0: entry "a{200}.*: name too long$/,
    );
    assert.match(e.hint!, /longer than the filesystem allows/);
  });

  it('file system errors name the layer and entry: no space (ENOSPC, EDQUOT) or any other OUTPUT_UNWRITABLE', async () => {
    const t = tar([{ name: 'd/f', data: 'x' }]);
    for (const code of ['ENOSPC', 'EDQUOT']) {
      const e = await patched(cjsFs, { fchmodSync: failing(code) }, () =>
        fails([t], 'OUTPUT_UNWRITABLE', /^layer 0: entry "d\/f": no space left on device$/),
      );
      assert.equal(e.hint, 'free some disk space');
    }
    const e = await patched(cjsFs, { fchmodSync: failing('EACCES') }, () =>
      fails([t], 'OUTPUT_UNWRITABLE', /^layer 0: entry "d\/f": EACCES: injected$/),
    );
    assert.match(e.hint!, /permissions and free space/);
    assert.equal((e.cause as NodeJS.ErrnoException).code, 'EACCES');
  });

  it('a read error before the first entry of a layer names no entry (not the last one of the layer below)', async () => {
    const unreadable: Iterable<Uint8Array> = { [Symbol.iterator]: () => ({ next: failing('EIO') }) };
    await fails(
      [{ data: [tar([{ name: 'f' }])] }, { data: unreadable }],
      'OUTPUT_UNWRITABLE',
      /^layer 1: entry "": EIO: injected$/,
    );
  });

  it("an error of the caller's own (onWarning) passes through unchanged, and the root is emptied", async () => {
    const b = box();
    const mine = new Error('stop here');
    const t = tar([{ name: 'd/f' }, { name: 'd/f' }]);
    await assert.rejects(
      unpackImage([{ data: [t] }], b.root, {
        onWarning: () => {
          throw mine;
        },
      }),
      (e: unknown) => e === mine,
    );
    assert.deepEqual(fs.readdirSync(b.root), []);
  });

  it('a missing end-of-archive marker is a warning, and warnings go to onWarning too', async () => {
    const seen: string[] = [];
    const r = await ok([tar([{ name: 'f', data: 'x' }], false)], { onWarning: (w) => seen.push(w) });
    assert.equal(read(join(r.root, 'f')), 'x');
    assert.deepEqual(r.warnings, ['layer 0: tar archive has no end-of-archive marker']);
    assert.deepEqual(seen, r.warnings);
    assert.deepEqual((await ok([tar([{ name: 'f' }])])).warnings, []);
  });

  it('keeps 1000 warnings and one summary line for the rest', async () => {
    const entries = Array.from({ length: 1003 }, () => ({ name: 'dup' }));
    const seen: string[] = [];
    const r = await ok([tar(entries)], { onWarning: (w) => seen.push(w) });
    assert.equal(r.warnings.length, 1001);
    assert.equal(r.warnings[999], 'layer 0: duplicate entry "dup": the last one wins');
    assert.equal(r.warnings[1000], '2 more warnings not shown');
    assert.deepEqual(seen, r.warnings);
    const r2 = await ok([tar(entries.slice(0, 1001))]);
    assert.equal(r2.warnings.length, 1000, 'exactly 1000 warnings need no summary');
  });
});

describe('unpack: names', () => {
  it('refuses `..` components anywhere, in names and hardlink targets', async () => {
    for (const n of ['..', '../x', 'a/../b', 'a/..', '/../etc/passwd']) {
      await fails([tar([{ name: n, data: 'x' }])], 'PATH_ESCAPE', /has a '\.\.' component/);
    }
    await fails(
      [tar([{ name: 'f' }, { name: 'l', type: '1', link: 'a/../f' }])],
      'PATH_ESCAPE',
      /hardlink target "a\/..\/f" has a '\.\.'/,
    );
  });

  it('absolute names, `.` and empty components are root-relative', async () => {
    const r = await ok([
      tar([
        { name: '/abs', data: '1' },
        { name: './a//b/./c', data: '2' },
        { name: 'd/.', type: '5' },
      ]),
    ]);
    assert.equal(read(r.at('abs')), '1');
    assert.equal(read(r.at('a/b/c')), '2');
    assert.ok(fs.statSync(r.at('d')).isDirectory());
    assert.deepEqual(fs.readdirSync(r.root).sort(), ['a', 'abs', 'd']);
  });

  it('refuses a NUL byte and names past NAME_MAX', async () => {
    await fails(
      [paxEntry('a\0b', { name: 'ignored', data: 'x' })],
      'INVALID_ARCHIVE',
      /name contains a NUL byte/,
    );
    const long = `d/${'n'.repeat(256)}`;
    const e = await fails([paxEntry(long, { name: 'x', data: 'x' })], 'PATH_TOO_LONG', /n{256}|255/);
    assert.match(e.hint!, /PATH_MAX\/NAME_MAX/);
    const r = await ok([paxEntry(`d/${'n'.repeat(255)}`, { name: 'x', data: 'x' })]);
    assert.equal(read(r.at(`d/${'n'.repeat(255)}`)), 'x');
  });

  it('non-UTF-8 names round trip byte for byte', async () => {
    const name = Buffer.from([0x61, 0xff, 0x62]);
    const r = await ok([
      tar([
        { name, data: 'x' },
        { name: Buffer.concat([Buffer.from('d'), name, Buffer.from('/f')]), data: 'y' },
      ]),
    ]);
    assert.deepEqual(
      fs
        .readdirSync(r.root, { encoding: 'buffer' })
        .map((n) => n.toString('hex'))
        .sort(),
      ['61ff62', '6461ff62'],
    );
    assert.deepEqual(r.warnings, [], 'no xattrs, nothing to warn about');
    assert.equal(
      fs.readFileSync(Buffer.concat([Buffer.from(`${r.root}/d`), name, Buffer.from('/f')]), 'utf8'),
      'y',
    );
  });
});

describe('unpack: the root entry', () => {
  it('a `./` directory entry sets the root mode and mtime; any other type is refused', async () => {
    const r = await ok([tar([{ name: './', mode: 0o750, mtime: 1234 }, { name: 'f' }])]);
    assert.equal(fs.statSync(r.root).mode & 0o7777, 0o750);
    assert.equal(mtime(r.root), 1234);
    for (const [name, type] of [
      ['./', '0'],
      ['/', '2'],
      ['.', '6'],
    ] as const) {
      await fails(
        [tar([{ name, type, link: type === '2' ? '/etc' : undefined }])],
        'PATH_ESCAPE',
        /refusing to change type of root/,
      );
    }
  });
});

describe('unpack: files, directories, symlinks and metadata', () => {
  it('files get content, mode (setuid kept), owner and mtime; chown:false keeps the current owner', async () => {
    const entries: E[] = [{ name: 'bin/su', data: 'elf', mode: 0o4755, uid: 1001, gid: 1002, mtime: 99 }];
    const r = await ok([tar(entries)], { chown: true });
    const st = fs.statSync(r.at('bin/su'));
    assert.equal(read(r.at('bin/su')), 'elf');
    assert.equal(st.mode & 0o7777, 0o4755);
    assert.deepEqual([st.uid, st.gid, mtime(r.at('bin/su'))], [1001, 1002, 99]);
    const r2 = await ok([tar(entries)], { chown: false });
    assert.deepEqual(
      [fs.statSync(r2.at('bin/su')).uid, fs.statSync(r2.at('bin/su')).mode & 0o7777],
      [process.getuid!(), 0o4755],
    );
    if (process.getuid?.() === 0) {
      const r3 = await ok([tar(entries)]);
      assert.equal(fs.statSync(r3.at('bin/su')).uid, 1001, 'root restores owners by default');
    }
  });

  it('a user other than root does not restore owners by default', async () => {
    const b = box();
    fs.chownSync(b.root, 4242, 4242);
    const realGetuid = process.getuid;
    process.getuid = () => 4242;
    try {
      await unpackImage([{ data: [tar([{ name: 'f', uid: 7, gid: 7 }])] }], b.root);
    } finally {
      process.getuid = realGetuid;
    }
    assert.equal(fs.lstatSync(join(b.root, 'f')).uid, realGetuid!(), 'the owner is whoever really made it');
  });

  it('after a failure a directory without permissions (0000) is emptied and removed too, by a non-root user', async () => {
    const b = box();
    const asRoot = process.getuid?.() === 0;
    const user = 4242;
    if (asRoot) for (const p of [b.box, b.root]) fs.chownSync(p, user, user);
    const realGetuid = process.getuid;
    // as root, act as an ordinary user (root reads and removes any directory whatever its mode)
    if (asRoot) {
      process.getuid = () => user;
      process.setegid!(user);
      process.seteuid!(user);
    }
    try {
      const t = tar([{ name: 'd/sub/f', data: 'x' }, { name: 'd/sub/', mode: 0o000 }, { name: '../up' }]);
      await assert.rejects(unpackImage([{ data: [t] }], b.root, { chown: false }), /'\.\.' component/);
    } finally {
      if (asRoot) {
        process.seteuid!(0);
        process.setegid!(0);
        process.getuid = realGetuid;
      }
    }
    assert.deepEqual(fs.readdirSync(b.root), []);
  });

  it('leaves no file descriptor open', async () => {
    const open = () => fs.readdirSync('/proc/self/fd').length;
    const entries: E[] = Array.from({ length: 40 }, (_, i) => [
      { name: `d${i}/`, mode: 0o755 },
      { name: `d${i}/f`, data: 'x' },
    ]).flat();
    const before = open();
    await ok([tar(entries)]);
    assert.ok(open() - before < 10, `${open() - before} more descriptors open`);
  });

  it('chown:false leaves every kind of entry to the current user', async () => {
    const r = await ok(
      [
        tar([
          { name: 'd/', uid: 7, gid: 7 },
          { name: 'l', type: '2', link: 'd', uid: 7, gid: 7 },
          { name: 'p', type: '6', uid: 7, gid: 7 },
        ]),
      ],
      { chown: false },
    );
    for (const n of ['d', 'l', 'p']) assert.equal(fs.lstatSync(r.at(n)).uid, process.getuid!(), n);
  });

  it('owners that cannot be restored (EPERM, EINVAL) are one warning for the whole unpack; other chown errors fail', async () => {
    const t = tar([
      { name: 'd/', uid: 7 },
      { name: 'd/f', uid: 7 },
      { name: 'l', type: '2', link: 'd', uid: 7 },
      { name: 'p', type: '6', uid: 7 },
    ]);
    for (const code of ['EPERM', 'EINVAL']) {
      const r = await patched(cjsFs, { fchownSync: failing(code), lchownSync: failing(code) }, () =>
        ok([t, t], { chown: true }),
      );
      assert.deepEqual(r.warnings, [
        `layer 0: cannot restore file owners (${code}); files belong to the current user`,
      ]);
      assert.ok(fs.lstatSync(r.at('p')).isFIFO() && fs.lstatSync(r.at('l')).isSymbolicLink());
    }
    for (const [call, name] of [
      ['fchownSync', 'd/'],
      ['lchownSync', 'l'],
    ] as const) {
      await patched(cjsFs, { [call]: failing('EIO') }, () =>
        fails([t], 'OUTPUT_UNWRITABLE', new RegExp(`^layer 0: entry "${name}": EIO: injected$`), {
          chown: true,
        }),
      );
    }
  });

  it('implicit parents are 0755; declared directories get their mode, owner and mtime after their children', async () => {
    const old = process.umask(0o077);
    try {
      const r = await ok([
        tar([
          { name: 'a/b/f', data: 'x' },
          { name: 'd/', mode: 0o711, uid: 7, gid: 8, mtime: 555 },
          { name: 'd/child', data: 'y' },
          { name: 'd/sub/', mtime: 556 },
          { name: 'd/sub/g' },
        ]),
      ]);
      assert.equal(fs.statSync(r.at('a')).mode & 0o7777, 0o755);
      assert.equal(fs.statSync(r.at('a/b')).mode & 0o7777, 0o755);
      const st = fs.statSync(r.at('d'));
      assert.equal(st.mode & 0o7777, 0o711);
      assert.deepEqual([st.uid, st.gid], [7, 8]);
      assert.equal(mtime(r.at('d')), 555);
      assert.equal(mtime(r.at('d/sub')), 556);
    } finally {
      process.umask(old);
    }
  });

  it('a directory declared again keeps its contents and takes the new metadata', async () => {
    const r = await ok([
      tar([
        { name: 'd/', mode: 0o700 },
        { name: 'd/f', data: 'x' },
      ]),
      tar([{ name: 'd/', mode: 0o751 }]),
    ]);
    assert.equal(read(r.at('d/f')), 'x');
    assert.equal(fs.statSync(r.at('d')).mode & 0o7777, 0o751);
  });

  it('symlinks keep their target text, owner and mtime; an empty target is refused', async () => {
    const r = await ok([
      tar([{ name: 'l', type: '2', link: '../../etc/shadow', uid: 5, gid: 6, mtime: 77 }]),
    ]);
    assert.equal(fs.readlinkSync(r.at('l')), '../../etc/shadow');
    const st = fs.lstatSync(r.at('l'));
    assert.deepEqual([st.uid, st.gid, st.mtimeMs / 1000], [5, 6, 77]);
    await fails(
      [tar([{ name: 'l', type: '2', link: '' }])],
      'INVALID_ARCHIVE',
      /"l": symlink with an empty target/,
    );
  });

  it('the final component is replaced, never followed: file over symlink, symlink over file, file over directory', async () => {
    const outside = join(box().box, 'victim');
    fs.writeFileSync(outside, 'host');
    const r = await ok([
      tar([
        { name: 'l', type: '2', link: outside },
        { name: 'f', data: 'old' },
        { name: 'd/x/y', data: 'deep' },
      ]),
      tar([
        { name: 'l', data: 'new' },
        { name: 'f', type: '2', link: 'l' },
        { name: 'd', data: 'file now' },
      ]),
    ]);
    assert.equal(read(outside), 'host');
    assert.ok(fs.lstatSync(r.at('l')).isFile());
    assert.equal(read(r.at('l')), 'new');
    assert.equal(fs.readlinkSync(r.at('f')), 'l');
    assert.equal(read(r.at('d')), 'file now');
    // a directory over a symlink (to a host directory) or over a file is a new, empty directory
    const hostDir = join(box().box, 'hostdir');
    fs.mkdirSync(hostDir, { mode: 0o755 });
    const r2 = await ok([
      tar([
        { name: 'l', type: '2', link: hostDir },
        { name: 'f', data: 'x' },
      ]),
      tar([
        { name: 'l/', mode: 0o701 },
        { name: 'f/', mode: 0o702 },
      ]),
    ]);
    assert.equal(fs.lstatSync(r2.at('l')).mode & 0o7777, 0o701);
    assert.equal(fs.lstatSync(r2.at('f')).mode & 0o7777, 0o702);
    assert.equal(fs.lstatSync(hostDir).mode & 0o7777, 0o755);
    assert.deepEqual([fs.readdirSync(r2.at('l')), fs.readdirSync(r2.at('f'))], [[], []]);
  });

  it('xattrs are restored after chown and chmod (security.capability survives); failures are warnings', async () => {
    const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex');
    const r = await ok([
      tar([
        {
          name: 'ping',
          data: 'elf',
          mode: 0o755,
          uid: 3,
          xattrs: { 'security.capability': cap, 'user.k': Buffer.from('v') },
        },
        { name: 'dir/', xattrs: { 'user.d': Buffer.from('dv') } },
        { name: 'odd', data: '', xattrs: { 'bogus.ns': Buffer.from('v') } },
        { name: Buffer.from([0x78, 0xfe]), data: '', xattrs: { 'user.k': Buffer.from('v') } },
      ]),
    ]);
    assert.ok(Buffer.from(getAttributeSync(r.at('ping'), 'security.capability')!).equals(cap));
    assert.equal(Buffer.from(getAttributeSync(r.at('ping'), 'user.k')!).toString(), 'v');
    assert.equal(Buffer.from(getAttributeSync(r.at('dir'), 'user.d')!).toString(), 'dv');
    assert.equal(r.warnings.length, 2, r.warnings.join('\n'));
    assert.match(r.warnings[0]!, /^layer 0: entry "odd": cannot set xattr bogus\.ns: /);
    assert.match(r.warnings[1]!, /^layer 0: entry ".*": xattrs not restored \(non-UTF-8 path\)$/);
  });
});

describe('unpack: confinement', () => {
  it('absolute and relative symlinks in parents resolve inside the root', async () => {
    const host = join(box().box, 'hostdir');
    const r = await ok([
      tar([
        { name: 'abs', type: '2', link: host },
        { name: 'abs/f', data: 'a' },
        { name: 'rel', type: '2', link: '../../../../..' },
        { name: 'rel/g', data: 'r' },
        { name: 'sub/up', type: '2', link: '../sub2' },
        { name: 'sub/up/h', data: 'h' },
      ]),
    ]);
    assert.ok(!exists(host));
    assert.equal(read(r.at(`${host}/f`)), 'a');
    assert.equal(read(r.at('g')), 'r');
    assert.equal(read(r.at('sub2/h')), 'h');
    // below the top: a relative target is relative to the link's directory, an absolute one to the root
    const r2 = await ok([
      tar([
        { name: 's/rel', type: '2', link: 'in/' },
        { name: 's/rel/f', data: 'r' },
        { name: 's/abs', type: '2', link: '/top' },
        { name: 's/abs/g', data: 'a' },
      ]),
    ]);
    assert.equal(read(r2.at('s/in/f')), 'r');
    assert.equal(read(r2.at('top/g')), 'a');
    assert.deepEqual(fs.readdirSync(r2.root).sort(), ['s', 'top']);
  });

  it('paths are told apart by their components: `a/b` is not `ab`', async () => {
    const r = await ok([
      tar([
        { name: 'x/' },
        { name: 'y/' },
        { name: 'a/b', type: '2', link: '/x' },
        { name: 'ab', type: '2', link: '/y' },
        { name: 'a/b/f', data: 'x' },
        { name: 'ab/f', data: 'y' },
        { name: 'ab/g', type: '1', link: 'a/b/f' },
      ]),
    ]);
    assert.deepEqual([read(r.at('x/f')), read(r.at('y/f')), read(r.at('y/g'))], ['x', 'y', 'x']);
    assert.deepEqual(r.warnings, []);
  });

  it('a symlink chain of 255 hops is followed, 256 is refused, a loop is refused', async () => {
    const chain = (n: number): E[] => [
      { name: 'real/' },
      ...Array.from({ length: n }, (_, i) => ({
        name: `s${i}`,
        type: '2' as const,
        link: i === n - 1 ? 'real' : `s${i + 1}`,
      })),
      { name: 's0/f', data: 'end' },
    ];
    const r = await ok([tar(chain(255))]);
    assert.equal(read(r.at('real/f')), 'end');
    await fails(
      [tar(chain(256))],
      'PATH_ESCAPE',
      /"s0\/f": too many levels of symbolic links \(more than 255\)/,
    );
    await fails(
      [tar([{ name: 'a', type: '2', link: 'b' }, { name: 'b', type: '2', link: '/a' }, { name: 'a/f' }])],
      'PATH_ESCAPE',
      /too many levels/,
    );
  });

  /** LINK_CHAIN is a directory `d` reached from `l1` through three symbolic links (l1 → l2 → l3 → d). */
  const LINK_CHAIN = [
    { name: 'd/' },
    { name: 'l3', type: '2', link: 'd' },
    { name: 'l2', type: '2', link: 'l3' },
    { name: 'l1', type: '2', link: 'l2' },
  ] as const;

  it('maxTotalHops bounds the links followed over the whole unpack', async () => {
    const t = tar([...LINK_CHAIN, { name: 'l1/f' }, { name: 'l1/g' }]);
    const r = await ok([t], { maxTotalHops: 3 });
    assert.deepEqual(fs.readdirSync(r.at('d')).sort(), ['f', 'g'], 'a resolved link is remembered');
    await fails([t], 'TOO_LARGE', /^layer 0: entry "l1\/f": more than 2 symbolic links followed in all/, {
      maxTotalHops: 2,
    });
  });

  it('replacing, hardlinking over or whiting out a file keeps the remembered links', async () => {
    const lower = tar([
      ...LINK_CHAIN,
      { name: 'l1/f' },
      { name: 'x', data: 'x' },
      { name: 'y', data: 'y' },
      { name: 'z', data: 'z' },
    ]);
    const upper = tar([
      { name: 'x', data: 'new' },
      { name: 'y', type: '1', link: 'x' },
      { name: '.wh.z' },
      { name: 'l1/g' },
    ]);
    const r = await ok([lower, upper], { maxTotalHops: 3 });
    assert.deepEqual(fs.readdirSync(r.at('d')).sort(), ['f', 'g']);
    assert.equal(read(r.at('y')), 'new');
    assert.ok(!exists(r.at('z')));
  });

  it('a directory that a remembered link led to, replaced by a symlink out of the root, is re-resolved inside', async () => {
    const host = join(box().box, 'host');
    fs.mkdirSync(host);
    const r = await ok([
      tar([{ name: 'a/' }, { name: 'l', type: '2', link: 'a' }, { name: 'l/f1' }]),
      tar([
        { name: 'a', type: '2', link: host },
        { name: 'l/f2', data: 'in' },
      ]),
    ]);
    assert.deepEqual(fs.readdirSync(host), []);
    assert.equal(read(r.at(`${host}/f2`)), 'in');
  });

  it('a parent that is a file is an error; a symlink to a file as a parent too', async () => {
    await fails([tar([{ name: 'f' }, { name: 'f/x' }])], 'INVALID_ARCHIVE', /"f\/x": \/f is not a directory/);
    await fails(
      [tar([{ name: 'f' }, { name: 'l', type: '2', link: 'f' }, { name: 'l/x' }])],
      'INVALID_ARCHIVE',
      /\/f is not a directory/,
    );
    await fails(
      [tar([{ name: 'd/f' }, { name: 'd/f/x' }])],
      'INVALID_ARCHIVE',
      /"d\/f\/x": \/d\/f is not a directory/,
    );
  });

  it('a dangling symlink parent creates its target inside the root', async () => {
    const r = await ok([
      tar([
        { name: 'l', type: '2', link: '/opt/new/dir' },
        { name: 'l/f', data: 'x' },
      ]),
    ]);
    assert.equal(read(r.at('opt/new/dir/f')), 'x');
    assert.equal(fs.statSync(r.at('opt/new')).mode & 0o7777, 0o755);
  });

  it('a remembered link is forgotten when a link, a directory on its path, or its target is replaced', async () => {
    const base = tar([{ name: 'a/' }, { name: 'b/' }, { name: 'l', type: '2', link: 'a' }, { name: 'l/f1' }]);
    // the link itself is retargeted
    let r = await ok([base, tar([{ name: 'l', type: '2', link: 'b' }, { name: 'l/f2' }])]);
    assert.deepEqual([exists(r.at('a/f2')), exists(r.at('b/f2'))], [false, true]);
    // the same, within one layer
    r = await ok([
      tar([
        { name: 'a/' },
        { name: 'b/' },
        { name: 'l', type: '2', link: 'a' },
        { name: 'l/f1' },
        { name: 'l', type: '2', link: 'b' },
        { name: 'l/f2' },
      ]),
    ]);
    assert.deepEqual([exists(r.at('a/f2')), exists(r.at('b/f2'))], [false, true]);
    // the directory it resolved to becomes a symlink
    r = await ok([base, tar([{ name: 'a', type: '2', link: 'b' }, { name: 'l/f2' }])]);
    assert.ok(exists(r.at('b/f2')));
    // the directory it resolved to is whited out: it is made again
    r = await ok([base, tar([{ name: '.wh.a' }, { name: 'l/g' }])]);
    assert.ok(exists(r.at('a/g')));
    assert.ok(!exists(r.at('a/f1')));
    // ... or removed by an opaque whiteout of its parent
    r = await ok([
      tar([{ name: 'p/a/' }, { name: 'l', type: '2', link: 'p/a' }, { name: 'l/f1' }]),
      tar([{ name: 'p/.wh..wh..opq' }, { name: 'l/g' }]),
    ]);
    assert.deepEqual(fs.readdirSync(r.at('p/a')), ['g']);
    // the directory it resolved to is replaced by a file (a hardlink), so the link no longer leads to a directory
    await fails(
      [base, tar([{ name: 'x', data: 'x' }, { name: 'a', type: '1', link: 'x' }, { name: 'l/f2' }])],
      'INVALID_ARCHIVE',
      /"l\/f2": \/a is not a directory/,
    );
  });
});

describe('unpack: hardlinks', () => {
  it('share the inode of an earlier file or a lower layer, by absolute or relative name', async () => {
    const r = await ok([
      tar([{ name: 'f', data: 'x' }]),
      tar([
        { name: 'g', data: 'y' },
        { name: 'deep/er/l1', type: '1', link: '/f' },
        { name: 'l2', type: '1', link: './g' },
      ]),
    ]);
    assert.equal(fs.statSync(r.at('deep/er/l1')).ino, fs.statSync(r.at('f')).ino);
    assert.equal(fs.statSync(r.at('l2')).ino, fs.statSync(r.at('g')).ino);
  });

  it('resolve their target through symlinks inside the root and never follow a symlink target', async () => {
    const host = join(box().box, 'h');
    fs.writeFileSync(host, 'host');
    const r = await ok([
      tar([
        { name: 'd/f', data: 'x' },
        { name: 'ld', type: '2', link: '/d' },
        { name: 'hl', type: '1', link: 'ld/f' },
        { name: 'sl', type: '2', link: host },
        { name: 'hsl', type: '1', link: 'sl' },
      ]),
    ]);
    assert.equal(fs.statSync(r.at('hl')).ino, fs.statSync(r.at('d/f')).ino);
    assert.ok(fs.lstatSync(r.at('hsl')).isSymbolicLink(), 'a hardlink to a symlink is a symlink');
    assert.equal(fs.lstatSync(r.at('hsl')).ino, fs.lstatSync(r.at('sl')).ino);
    assert.equal(fs.statSync(host).nlink, 1);
  });

  it('refuse a missing, later, whited-out or directory target, and the root', async () => {
    await fails(
      [tar([{ name: 'l', type: '1', link: 'later' }, { name: 'later' }])],
      'INVALID_ARCHIVE',
      /"l": hardlink target "later" does not exist in the root/,
    );
    await fails([tar([{ name: 'l', type: '1', link: 'no/such/f' }])], 'INVALID_ARCHIVE', /does not exist/);
    await fails(
      [
        tar([
          { name: 'dl', type: '2', link: '/nowhere' },
          { name: 'l', type: '1', link: 'dl/x/f' },
        ]),
      ],
      'INVALID_ARCHIVE',
      /"dl\/x\/f" does not exist/,
    );
    await fails(
      [tar([{ name: 'f' }, { name: 'l', type: '1', link: 'f/x/y' }])],
      'INVALID_ARCHIVE',
      /"f\/x\/y" does not exist/,
    );
    assert.ok(!exists(box().root + '/nowhere'));
    await fails(
      [tar([{ name: 'f' }]), tar([{ name: '.wh.f' }, { name: 'l', type: '1', link: 'f' }])],
      'INVALID_ARCHIVE',
      /does not exist/,
    );
    await fails(
      [tar([{ name: 'd/' }, { name: 'l', type: '1', link: 'd' }])],
      'INVALID_ARCHIVE',
      /hardlink target "d" is a directory/,
    );
    await fails(
      [tar([{ name: 'l', type: '1', link: './' }])],
      'INVALID_ARCHIVE',
      /hardlink to the root directory/,
    );
  });

  it('a hardlink to itself is ignored with a warning; one over a file or directory replaces it', async () => {
    const r = await ok([
      tar([
        { name: 'f', data: 'x' },
        { name: 'd/sub/x', data: 'z' },
      ]),
      tar([
        { name: 'f', type: '1', link: '/f' },
        { name: 'd/sub/x', type: '1', link: 'd/sub/x' },
        { name: 'g', data: 'y' },
        { name: 'old', data: 'o' },
        { name: 'old', type: '1', link: 'g' },
        { name: 'd', type: '1', link: 'g' },
      ]),
    ]);
    assert.equal(read(r.at('f')), 'x');
    assert.equal(read(r.at('old')), 'y');
    assert.equal(read(r.at('d')), 'y');
    assert.equal(fs.statSync(r.at('g')).nlink, 3);
    assert.deepEqual(r.warnings, [
      'layer 1: entry "f" is a hardlink to itself; ignored',
      'layer 1: entry "d/sub/x" is a hardlink to itself; ignored',
      'layer 1: duplicate entry "old": the last one wins',
    ]);
  });
});

describe('unpack: duplicates', () => {
  it('within a layer the last wins with a warning, or is refused in strict mode; across layers it is an update', async () => {
    const t = tar([
      { name: 'f', data: 'first' },
      { name: 'f', data: 'second' },
    ]);
    const r = await ok([t]);
    assert.equal(read(r.at('f')), 'second');
    assert.deepEqual(r.warnings, ['layer 0: duplicate entry "f": the last one wins']);
    await fails([t], 'INVALID_ARCHIVE', /^layer 0: entry "f": duplicate file path in layer/, {
      strictDuplicates: true,
    });
    const across = await ok([tar([{ name: 'f', data: '1' }]), tar([{ name: 'f', data: '2' }])], {
      strictDuplicates: true,
    });
    assert.deepEqual(across.warnings, []);
    assert.equal(read(across.at('f')), '2');
  });

  it('a directory repeated is no duplicate; a directory then a file, or a hardlink then a file, is', async () => {
    assert.deepEqual(
      (await ok([tar([{ name: 'd/' }, { name: 'd/' }])], { strictDuplicates: true })).warnings,
      [],
    );
    const r = await ok([tar([{ name: 'd/' }, { name: 'd', data: 'f' }])]);
    assert.deepEqual(r.warnings, ['layer 0: duplicate entry "d": the last one wins']);
    assert.equal(read(r.at('d')), 'f');
    const h = await ok([
      tar([{ name: 'f' }, { name: 'h', type: '1', link: 'f' }, { name: 'h', data: 'own' }]),
    ]);
    assert.deepEqual(h.warnings, ['layer 0: duplicate entry "h": the last one wins']);
    assert.equal(read(h.at('h')), 'own');
    assert.equal(read(h.at('f')), '', 'the old hardlink is unlinked, not written through');
    // a path reached through a symlink is the same path
    const s = await ok([
      tar([
        { name: 'd/f' },
        { name: 'l', type: '2', link: './/d//.' },
        { name: 'l/f' },
        { name: 'm', type: '2', link: '/d/' },
        { name: 'm/f' },
      ]),
    ]);
    assert.deepEqual(s.warnings, [
      'layer 0: duplicate entry "l/f": the last one wins',
      'layer 0: duplicate entry "m/f": the last one wins',
    ]);
  });
});

describe('unpack: whiteouts', () => {
  it('.wh.NAME removes a lower file or tree; missing targets and parents are fine', async () => {
    const r = await ok([
      tar([
        { name: 'f', data: 'x' },
        { name: 'd/a/b', data: 'y' },
        { name: 'keep', data: 'k' },
      ]),
      tar([{ name: '.wh.f' }, { name: '.wh.d' }, { name: '.wh.nothing' }, { name: 'no/such/.wh.x' }]),
    ]);
    assert.deepEqual(fs.readdirSync(r.root), ['keep']);
    assert.equal(r.entries, 7, 'whiteouts count as entries');
  });

  it('never removes what the same layer wrote, nor the ancestors of it', async () => {
    const r = await ok([
      tar([{ name: 'd/old', data: '1' }, { name: 'd/sub/old', data: '2' }, { name: 'e/old' }]),
      tar([
        { name: 'd/sub/new', data: '3' },
        { name: 'f', data: 'n' },
        { name: '.wh.d' },
        { name: '.wh.f' },
        { name: 'e/' },
        { name: '.wh.e' },
      ]),
    ]);
    assert.deepEqual(fs.readdirSync(r.at('d')), ['sub']);
    assert.deepEqual(fs.readdirSync(r.at('d/sub')), ['new']);
    assert.equal(read(r.at('f')), 'n');
    assert.deepEqual(fs.readdirSync(r.at('e')), []);
  });

  it('invalid whiteout names are refused; AUFS metadata is ignored with a warning', async () => {
    for (const n of ['.wh.', 'd/.wh..', 'd/.wh...']) {
      await fails([tar([{ name: 'd/f' }, { name: n }])], 'INVALID_ARCHIVE', /invalid whiteout/);
    }
    const r = await ok([tar([{ name: '.wh..wh.plnk/1.2' }, { name: '.wh..wh.aufs' }])]);
    assert.ok(!exists(r.at('.wh..wh.aufs')));
    assert.deepEqual(r.warnings, ['layer 0: ignored AUFS metadata entry ".wh..wh.aufs"']);
  });

  it('whiteouts under a symlinked parent are ignored with a warning and touch nothing', async () => {
    const r = await ok([
      tar([
        { name: 'real/f', data: 'x' },
        { name: 'real/g', data: 'y' },
        { name: 'l', type: '2', link: 'real' },
        // makes the unpacker remember l → real: a whiteout must still see the symlink
        { name: 'l/h' },
      ]),
      tar([{ name: 'l/.wh.f' }, { name: 'l/.wh..wh..opq' }]),
    ]);
    assert.deepEqual(fs.readdirSync(r.at('real')).sort(), ['f', 'g', 'h']);
    assert.deepEqual(r.warnings, [
      'layer 1: whiteout "l/.wh.f" under a symlink; ignored',
      'layer 1: opaque whiteout "l/.wh..wh..opq" under a symlink; ignored',
    ]);
  });

  it("an opaque whiteout empties a lower directory but keeps this layer's entries, before or after it", async () => {
    const lower = tar([{ name: 'd/old', data: 'o' }, { name: 'd/sub/old' }, { name: 'f', data: 'file' }]);
    for (const upper of [
      tar([{ name: 'd/.wh..wh..opq' }, { name: 'd/new' }, { name: 'd/sub/new' }]),
      tar([{ name: 'd/new' }, { name: 'd/sub/new' }, { name: 'd/.wh..wh..opq' }, { name: 'd/.wh..wh..opq' }]),
    ]) {
      const r = await ok([lower, upper]);
      assert.deepEqual(fs.readdirSync(r.at('d')).sort(), ['new', 'sub']);
      assert.deepEqual(fs.readdirSync(r.at('d/sub')), ['new']);
      assert.equal(read(r.at('f')), 'file');
    }
    // two opaque directories in one layer, `a/b` and `ab`, are both emptied
    const two = await ok([
      tar([{ name: 'a/b/old' }, { name: 'ab/old' }]),
      tar([{ name: 'a/b/.wh..wh..opq' }, { name: 'ab/.wh..wh..opq' }]),
    ]);
    assert.deepEqual([fs.readdirSync(two.at('a/b')), fs.readdirSync(two.at('ab'))], [[], []]);
    // on a missing directory or on a file: nothing happens
    const r = await ok([lower, tar([{ name: 'none/.wh..wh..opq' }, { name: 'f/.wh..wh..opq' }])]);
    assert.equal(read(r.at('f')), 'file');
    assert.ok(!exists(r.at('none')));
  });

  it('a whited-out directory loses its recorded mtime; a directory behind a new symlink keeps its own', async () => {
    const r = await ok([
      tar([
        { name: 'd/', mtime: 1000 },
        { name: 'e/', mtime: 2000 },
        { name: 'm/', mtime: 3000 },
      ]),
      tar([{ name: '.wh.d' }, { name: 'd/f' }, { name: 'm', type: '2', link: 'e' }]),
    ]);
    assert.notEqual(mtime(r.at('d')), 1000);
    assert.equal(mtime(r.at('e')), 2000);
    // a directory removed with its whited-out parent is simply gone
    const r2 = await ok([
      tar([
        { name: 'd/sub/', mtime: 1000 },
        { name: 'k/', mtime: 2000 },
      ]),
      tar([{ name: '.wh.d' }]),
    ]);
    assert.deepEqual(fs.readdirSync(r2.root), ['k']);
    assert.equal(mtime(r2.at('k')), 2000);
    assert.equal(mtime(r.at('e')), 2000);
  });
});

describe('unpack: devices and fifos', () => {
  it('makes char and block devices and fifos with mode, numbers, owner and mtime (as root)', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('mknod of devices needs root');
    const r = await ok([
      tar([
        { name: 'dev/null', type: '3', devmajor: 1, devminor: 3, mode: 0o666, uid: 4, mtime: 42 },
        { name: 'dev/loop0', type: '4', devmajor: 7, devminor: 9, mode: 0o660, gid: 6 },
        { name: 'run/p', type: '6', mode: 0o620, mtime: 43 },
      ]),
    ]);
    const c = fs.lstatSync(r.at('dev/null'));
    assert.ok(c.isCharacterDevice());
    assert.deepEqual([c.rdev, c.mode & 0o7777, c.uid, c.mtimeMs / 1000], [(1 << 8) | 3, 0o666, 4, 42]);
    const b = fs.lstatSync(r.at('dev/loop0'));
    assert.ok(b.isBlockDevice());
    assert.deepEqual([b.rdev, b.mode & 0o7777, b.gid], [(7 << 8) | 9, 0o660, 6]);
    const p = fs.lstatSync(r.at('run/p'));
    assert.ok(p.isFIFO());
    assert.deepEqual([p.mode & 0o7777, p.mtimeMs / 1000], [0o620, 43]);
    assert.deepEqual(r.warnings, []);
  });

  it('skips a device it cannot make, or one with a non-UTF-8 name, with a warning', async () => {
    const r = await ok([
      tar([
        { name: Buffer.from([0x70, 0xff]), type: '6' },
        { name: 'bad', type: '3', devmajor: 0o7777777, devminor: 0 },
      ]),
    ]);
    assert.equal(r.warnings[0], 'layer 0: skipped fifo "p\\udcff" (non-UTF-8 name)');
    assert.match(r.warnings[1] ?? '', /^layer 0: skipped char device "bad" \(.+\)$/);
    assert.deepEqual(fs.readdirSync(r.root), []);
  });

  it('finds mknod in /usr/bin or /bin; without one, or when it fails saying nothing, the node is skipped', async () => {
    const realExists = fs.existsSync;
    const only = (p: string) => ({
      existsSync: (q: fs.PathLike) => (String(q).endsWith('/mknod') ? q === p : realExists(q)),
    });
    const t = tar([{ name: 'p', type: '6' }]);
    for (const p of ['/usr/bin/mknod', '/bin/mknod']) {
      const r = await patched(cjsFs, only(p), () => ok([t]));
      assert.ok(fs.lstatSync(r.at('p')).isFIFO(), p);
      assert.deepEqual(r.warnings, []);
    }
    const none = await patched(cjsFs, only('none'), () => ok([t]));
    assert.deepEqual(none.warnings, ['layer 0: skipped fifo "p" (mknod not found)']);
    const silent = await patched(
      cjsChild,
      { spawnSync: () => ({ status: 3, stdout: '', stderr: ' \n' }) },
      () => ok([tar([{ name: 'b', type: '4', devmajor: 1, devminor: 2 }])]),
    );
    assert.deepEqual(silent.warnings, ['layer 0: skipped block device "b" (mknod exited 3)']);
    assert.deepEqual(fs.readdirSync(silent.root), []);
  });
});
