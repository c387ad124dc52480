/**
 * context-race.test.ts — issue 15.1: a file of the build input swapped for a symlink to a secret (same
 * size) between the scan and the read never ships the secret. Each build either ships the scanned file,
 * keeps the symlink as a symlink, or fails with FILE_CHANGED; the secret's bytes are in no layer.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { withTempDir } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

test('a context file swapped for a symlink to a secret between scan and read never ships the secret (--add, Dockerfile COPY)', async () => {
  await withTempDir('e2e-context-race', async (dir) => {
    const secret = Math.random().toString(36).slice(2, 8).padEnd(6, 'z'); // 6 bytes, like "public"
    writeFileSync(join(dir, 'secret'), secret);
    mkdirSync(join(dir, 'app'));
    for (let i = 0; i < 40; i++) writeFileSync(join(dir, 'app', `f${i}`), 'public');
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY app /app\n');
    // the swapper: every file of app/ flips between a regular file and a symlink to the secret
    const swapper = spawn(
      process.execPath,
      [
        '-e',
        `const fs=require('fs'),p=require('path');const d=${JSON.stringify(join(dir, 'app'))},s=${JSON.stringify(join(dir, 'secret'))};
         const end=Date.now()+120000;let i=0;
         (function loop(){ if(Date.now()>end) return; for(let k=0;k<40;k++){const f=p.join(d,'f'+k);
           try{fs.rmSync(f,{force:true}); if((i+k)%2) fs.symlinkSync(s,f); else fs.writeFileSync(f,'public');}catch{}}
           i++; setImmediate(loop); })();`,
      ],
      { stdio: 'ignore' },
    );
    let built = 0;
    let refused = 0;
    try {
      for (let round = 0; round < 12; round++) {
        const args =
          round % 2
            ? ['build', '--add', './app:/app', '-o', `oci:out${round}:x`]
            : ['build', '.', '-o', `oci:out${round}:x`];
        const r = await fromscratch(args, { cwd: dir });
        if (r.code === 0) {
          built++;
          const blobs = join(dir, `out${round}`, 'blobs', 'sha256');
          for (const b of readdirSync(blobs)) {
            const raw = readFileSync(join(blobs, b));
            const data = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
            assert.ok(!data.includes(secret), `round ${round}: the secret is in blob ${b}`);
          }
        } else {
          refused++;
          assert.equal(r.code, 1, r.stderr);
          assert.match(r.stderr, /^error\[(FILE_CHANGED|FILE_NOT_FOUND|SECRET_REFUSED)\]/m, r.stderr);
        }
      }
    } finally {
      swapper.kill('SIGKILL');
    }
    assert.equal(built + refused, 12);
    assert.ok(refused > 0, 'the swaps raced the builds (some were refused)');
    console.log(`context-race: ${built} built, ${refused} refused`);
  });
});
