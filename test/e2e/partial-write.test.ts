/**
 * partial-write.test.ts — issue 15: a build that fails after writing some of its outputs says what it
 * wrote and what it did not. The reproduction: a layout whose index.json holds one entry under the
 * limit takes the image's tag, then refuses the SBOM's entry; the error used to say "nothing was
 * written" although the tag was there.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { canonicalJson } from '../../src/image/canonical-json.ts';
import { Annotation } from '../../src/model/documents.ts';
import { MAX_INDEX_MANIFESTS } from '../../src/model/json.ts';
import { readOciLayout } from '../../src/oci/oci-layout.ts';
import { withTempDir } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

/** fillIndex makes `dir`'s index.json list its first entry under `count` tags t0…. */
function fillIndex(dir: string, count: number): void {
  const p = join(dir, 'index.json');
  const index = JSON.parse(readFileSync(p, 'utf8')) as { manifests: object[] };
  const first = index.manifests[0]!;
  const manifests = Array.from({ length: count }, (_, i) => ({
    ...first,
    annotations: { [Annotation.RefName]: `t${i}` },
  }));
  writeFileSync(p, canonicalJson({ ...index, manifests }));
}

test('build --sbom into a nearly full layout names the tag it wrote and the SBOM it did not', async () => {
  await withTempDir('e2e-partial', async (dir) => {
    writeFileSync(join(dir, 'hello.txt'), 'hello\n');
    const first = await fromscratch(['build', '-q', '--add', 'hello.txt:/hello.txt', '-o', 'oci:full:t0'], {
      cwd: dir,
    });
    assert.equal(first.code, 0, first.stderr);
    fillIndex(join(dir, 'full'), MAX_INDEX_MANIFESTS - 1);
    writeFileSync(join(dir, 'hello.txt'), 'hello again\n');

    const r = await fromscratch(
      [
        'build',
        '-q',
        '--add',
        'hello.txt:/hello.txt',
        '--sbom',
        'spdx',
        '-o',
        'oci:full:new',
        '-o',
        'oci:other:x',
      ],
      { cwd: dir },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /error\[TOO_LARGE\]: writing the SPDX SBOM to oci:full:new: .*1001 entries/);
    assert.doesNotMatch(r.stderr, /nothing was written/);
    assert.match(
      r.stderr,
      /hint: .*written: the image to oci:full:new, the image to oci:other:x; not written: the SPDX SBOM to oci:full:new, the SPDX SBOM to oci:other:x/,
    );
    // what the message says is what the layouts hold: both tags, no SBOM in either
    const full = await readOciLayout(join(dir, 'full'), 'new');
    assert.equal(full.images.length, 1);
    await full.close();
    const other = JSON.parse(readFileSync(join(dir, 'other', 'index.json'), 'utf8')) as {
      manifests: unknown[];
    };
    assert.equal(other.manifests.length, 1, 'the image only, no SBOM entry');

    // full to the limit: the first output is written, the second refused before its tag
    fillIndex(join(dir, 'full'), MAX_INDEX_MANIFESTS);
    const r2 = await fromscratch(
      ['build', '-q', '--add', 'hello.txt:/hello.txt', '-o', 'oci:third:a', '-o', 'oci:full:new2'],
      {
        cwd: dir,
      },
    );
    assert.equal(r2.code, 1, r2.stderr);
    assert.match(r2.stderr, /error\[TOO_LARGE\]: writing the image to oci:full:new2: /);
    assert.match(
      r2.stderr,
      /hint: OCI layout full: index\.json was left as it was;.* written: the image to oci:third:a; not written: the image to oci:full:new2\n/,
    );
  });
});
