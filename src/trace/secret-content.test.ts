import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { secretByName, secretInContent } from './secret-content.ts';

const b = (s: string) => Buffer.from(s);

test('private keys made by the real tools are recognised by content (ssh-keygen, openssl)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-secret-content-'));
  try {
    const made: string[] = [];
    for (const t of ['ed25519', 'rsa', 'ecdsa']) {
      execFileSync('ssh-keygen', ['-q', '-t', t, '-N', '', '-f', join(dir, `k-${t}`)]);
      made.push(join(dir, `k-${t}`));
    }
    execFileSync('openssl', [
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      join(dir, 'server.key'),
    ]);
    execFileSync('openssl', ['genrsa', '-traditional', '-out', join(dir, 'rsa.pem'), '2048'], {
      stdio: 'ignore',
    });
    made.push(join(dir, 'server.key'), join(dir, 'rsa.pem'));
    for (const f of made) assert.match(secretInContent(readFileSync(f)) ?? '', /private key/, f);
    // the public halves and certificates are not secrets
    for (const t of ['ed25519', 'rsa', 'ecdsa'])
      assert.equal(secretInContent(readFileSync(join(dir, `k-${t}.pub`))), undefined);
    execFileSync('openssl', [
      'req',
      '-x509',
      '-key',
      join(dir, 'server.key'),
      '-subj',
      '/CN=x',
      '-days',
      '1',
      '-out',
      join(dir, 'cert.pem'),
    ]);
    assert.equal(secretInContent(readFileSync(join(dir, 'cert.pem'))), undefined, 'a certificate is public');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('JSON Web Keys: the private one (Docker key.json) is a secret, the public one is not', () => {
  const priv =
    '{"crv":"P-256","d":"c1DqAXU7yhRjzS0z9HkB0a7pxo2oE8U6P9e1XcN1u2Q","kid":"X","kty":"EC","x":"a","y":"b"}';
  assert.equal(secretInContent(b(priv)), 'a private JSON Web Key');
  assert.equal(secretInContent(b('{"crv":"P-256","kid":"X","kty":"EC","x":"a","y":"b"}')), undefined);
});

test('token formats of common services; near misses are not', () => {
  const hits = [
    `GITHUB_TOKEN=ghp_${'a1B2'.repeat(9)}`,
    `token: glpat-${'x'.repeat(20)}`,
    `//registry.npmjs.org/:_authToken=npm_${'Z9'.repeat(18)}`,
    'SLACK=xoxb-123456789012-abcdefghij',
    'aws_access_key_id = AKIAIOSFODNN7EXAMPLE',
    `STRIPE=sk_live_${'4eC39HqLyjWDarjtT1zdp7dc'}`,
    `key=AIza${'S'.repeat(35)}`,
  ];
  for (const h of hits) assert.ok(secretInContent(b(h)), h);
  for (const miss of [
    `ghp_${'a'.repeat(10)}`,
    'AKIA-not-a-key',
    'sk_test_1234567890abcdefghijklmn',
    'plain text',
  ]) {
    assert.equal(secretInContent(b(miss)), undefined, miss);
  }
  const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), b('AKIAIOSFODNN7EXAMPLE')]);
  assert.equal(secretInContent(elf), undefined, 'ELF files are not looked into');
});

test('.env files are secrets by name; their committed examples are not', () => {
  for (const p of ['/app/.env', '/app/.env.production', '/srv/x/.env.local']) assert.ok(secretByName(p), p);
  for (const p of [
    '/app/.env.example',
    '/app/.env.sample',
    '/app/.env.template',
    '/app/env',
    '/app/.envrc.d/x',
    '/app/x.env',
  ])
    assert.equal(secretByName(p), undefined, p);
});

test('a key is an armour header followed by its body; a header named as a string (a file-type pattern) is not one', () => {
  const b = (s: string) => Buffer.from(s);
  for (const hit of [
    '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n',
    '-----BEGIN RSA PRIVATE KEY-----\r\nMIIEowIBAAKCAQEA\r\n',
    // a service account's JSON: the key's line breaks escaped inside a string
    '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE KEY-----\\n"}',
    '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBGF\n',
    '-----BEGIN EC PRIVATE KEY-----',
  ])
    assert.ok(secretInContent(b(hit)), hit);
  for (const miss of [
    // ImageMagick's /etc/ImageMagick-6/mime.xml recognises key files by their header
    '  <mime type="application/pgp-keys" pattern="-----BEGIN PGP PRIVATE KEY BLOCK-----" priority="50"/>\n',
    'MARKER = "-----BEGIN PRIVATE KEY-----"; # what a PEM key starts with\n',
  ])
    assert.equal(secretInContent(b(miss)), undefined, miss);
});
