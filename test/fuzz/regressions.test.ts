/**
 * regressions.test.ts — what the fuzzer found (issue 15), each as a plain test so it stays fixed: a thrown
 * URIError (a crash, exit 70) where a user error belongs. The zstd finding is src/codec/zstd-frames.test.ts,
 * the YAML one test/yaml/yaml-warnings.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TarReader } from '../../src/codec/tar-reader.ts';
import { parseDockerfile } from '../../src/dockerfile/parse.ts';
import { isFromscratchError } from '../../src/errors.ts';
import { makeTar } from '../run/tar-gen.ts';

describe('fuzz findings', () => {
  it('ADD of a URL whose file name has a malformed %-escape is a line error, not a URIError', () => {
    for (const url of [
      'https://example.org/x%',
      'https://example.org/a%E0%A4%A.tar.gz',
      'https://example.org/%ff',
    ]) {
      assert.throws(
        () => parseDockerfile(`FROM scratch\nADD ${url} /dl/\n`),
        (e: unknown) =>
          isFromscratchError(e) && /Dockerfile:2:/.test(e.message) && /%-escape/.test(e.message),
        url,
      );
    }
    // a well-formed escape still names the file
    assert.doesNotThrow(() => parseDockerfile('FROM scratch\nADD https://example.org/a%20b.tar.gz /dl/\n'));
  });

  it('a PAX LIBARCHIVE.xattr record with a malformed %-escape is INVALID_ARCHIVE, not a URIError', async () => {
    const tar = makeTar([{ name: 'f', data: 'x', pax: { 'LIBARCHIVE.xattr.user.%zz': 'eA==' } }]);
    const r = new TarReader(
      (async function* () {
        yield tar;
      })(),
    );
    await assert.rejects(
      (async () => {
        while (await r.next()) {
          // reading the headers is enough
        }
      })(),
      (e: unknown) => isFromscratchError(e, 'INVALID_ARCHIVE') && /malformed %-escape/.test(e.message),
    );
    const ok = makeTar([{ name: 'f', data: 'x', pax: { 'LIBARCHIVE.xattr.user.a%20b': 'eA==' } }]);
    const r2 = new TarReader(
      (async function* () {
        yield ok;
      })(),
    );
    const e = await r2.next();
    assert.deepEqual([...(e?.xattrs.keys() ?? [])], ['user.a b']);
  });
});
