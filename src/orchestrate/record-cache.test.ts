/**
 * record-cache.test.ts — a build record is written once and found under every digest it is asked by.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sha256 } from '../model/digest.ts';
import type { BuildRecord } from './record.ts';
import { readRecord, writeRecord } from './record-cache.ts';

test('a record is written under the manifest digest and linked under the config digest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'record-cache-'));
  try {
    const record: BuildRecord = {
      version: 1,
      platform: 'linux/amd64',
      files: [],
      packages: [],
      traces: [],
      warnings: ['w'],
    };
    const manifest = sha256('manifest');
    const config = sha256('config');
    await writeRecord(record, manifest, dir, [config]);
    const byManifest = await readRecord(manifest, dir);
    const byConfig = await readRecord(config, dir);
    assert.deepEqual(byManifest, { ...record, manifestDigest: manifest });
    assert.deepEqual(byConfig, byManifest, 'the config digest finds the same record');
    const path = (d: string) => join(dir, 'records', 'sha256', `${d.slice(7)}.json`);
    assert.equal(statSync(path(manifest)).ino, statSync(path(config)).ino, 'one file, two names');
    // written again (a rebuild of the same image): both names still read it
    await writeRecord({ ...record, warnings: [] }, manifest, dir, [config]);
    assert.deepEqual((await readRecord(config, dir))?.warnings, []);
    assert.equal(await readRecord(sha256('other'), dir), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
