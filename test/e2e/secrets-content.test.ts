/**
 * secrets-content.test.ts — issue 15.9: secrets recognised by content and by name through the real build
 * path: `--add` of a directory like /etc/docker (key.json), a `.pem`, `server.key`, `id_ed25519` outside
 * `.ssh/` and an app's `.env` are refused (exit 1, SECRET_REFUSED naming the file and the reason, nothing
 * written) unless `--allow-secret` names them; `--trace` of a command that reads a key is refused too.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { withTempDir } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

test('--add refuses private keys, private JWKs and .env files by content or name; --allow-secret lets each through', async () => {
  await withTempDir('e2e-secret-content', async (dir) => {
    const cases: [string, () => void, RegExp][] = [
      [
        'docker/key.json',
        () =>
          writeFileSync(
            join(dir, 'docker/key.json'),
            '{"crv":"P-256","d":"c1DqAXU7yhRjzS0z9HkB0a7pxo2oE8U6P9e1XcN1u2Q","kid":"K","kty":"EC","x":"a","y":"b"}',
          ),
        /private JSON Web Key/,
      ],
      [
        'tls/server.key',
        () =>
          execFileSync('openssl', ['genpkey', '-algorithm', 'ED25519', '-out', join(dir, 'tls/server.key')]),
        /private key/,
      ],
      [
        'keys/id_ed25519',
        () =>
          execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'keys/id_ed25519')]),
        /private key/,
      ],
      ['app/.env', () => writeFileSync(join(dir, 'app/.env'), 'DB_PASSWORD=hunter2\n'), /environment file/],
    ];
    for (const [rel, make, reason] of cases) {
      const top = rel.split('/')[0]!;
      mkdirSync(join(dir, top), { recursive: true });
      writeFileSync(join(dir, top, 'harmless.txt'), 'ok\n');
      make();
      const r = await fromscratch(['build', '--add', `./${top}:/${top}`, '-o', `oci:out-${top}:x`], {
        cwd: dir,
      });
      assert.equal(r.code, 1, `${rel}: ${r.stderr}`);
      assert.match(
        r.stderr,
        new RegExp(`^error\\[SECRET_REFUSED\\]: .*${rel.replace('.', '\\.')}`, 'm'),
        rel,
      );
      assert.match(r.stderr, reason, rel);
      assert.match(r.stderr, /--allow-secret/, rel);
      assert.equal(existsSync(join(dir, `out-${top}`)), false, `${rel}: nothing written`);
      const ok = await fromscratch(
        ['build', '--add', `./${top}:/${top}`, '--allow-secret', join(dir, rel), '-o', `oci:out-${top}:x`],
        { cwd: dir },
      );
      assert.equal(ok.code, 0, `${rel} allowed: ${ok.stderr}`);
    }
    // the example of an env file and a public key are fine
    writeFileSync(join(dir, 'app/.env'), '');
    mkdirSync(join(dir, 'pub'));
    writeFileSync(join(dir, 'pub/.env.example'), 'DB_PASSWORD=\n');
    execFileSync('cp', [join(dir, 'keys/id_ed25519.pub'), join(dir, 'pub/')]);
    const pub = await fromscratch(['build', '--add', './pub:/pub', '-o', 'oci:out-pub:x'], { cwd: dir });
    assert.equal(pub.code, 0, pub.stderr);
  });
});

test('--trace of a command that reads a private key refuses it by content', async () => {
  await withTempDir('e2e-secret-trace', async (dir) => {
    execFileSync('openssl', ['genpkey', '-algorithm', 'ED25519', '-out', join(dir, 'tls.pem')]);
    const r = await fromscratch(['build', '--trace', `cat ${join(dir, 'tls.pem')}`, '-o', 'oci:out:x'], {
      cwd: dir,
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error\[SECRET_REFUSED\]: .*tls\.pem/m);
    assert.match(r.stderr, /private key/);
  });
});

test('a private key by content is refused through a Dockerfile COPY (named as the COPY, not as --add) and through a multi-image spec', async () => {
  await withTempDir('e2e-secret-copy', async (dir) => {
    mkdirSync(join(dir, 'conf'));
    // a private JWK under an innocent name
    writeFileSync(
      join(dir, 'conf/settings.json'),
      '{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cLNNXDzJ0Yhk0M3g3Eq3Rg"}',
    );
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY conf /conf\n');
    const r = await fromscratch(['build', '.', '-o', 'oci:out:x'], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^error\[SECRET_REFUSED\]: adding COPY conf \/conf: .*settings\.json.*private JSON Web Key/m,
    );
    writeFileSync(
      join(dir, 'multi.yaml'),
      'images:\n  - name: a\n    contents:\n      - file: /a\n        content: a\n    outputs: oci:out-a:x\n  - name: b\n    contents:\n      - add: conf\n        to: /conf\n    outputs: oci:out-b:x\n',
    );
    const m = await fromscratch(['build', '-c', 'multi.yaml'], { cwd: dir });
    assert.equal(m.code, 1, m.stderr);
    assert.match(m.stderr, /^error\[SECRET_REFUSED\]: .*settings\.json/m);
    assert.equal(existsSync(join(dir, 'out-b')), false, 'nothing written for the refused image');
  });
});
