// fake-repo.ts — test helper: a complete, signed apt repository served by node:http on 127.0.0.1,
// with .debs built in memory, a generated OpenPGP key, and files the test can tamper with.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as openpgp from 'openpgp';
import { makeDeb, type TarItem } from './make-deb.ts';

/** FakePkg describes one binary package of the fake repository. */
export interface FakePkg {
  name: string;
  version: string;
  arch?: string;
  fields?: Record<string, string>;
  files?: TarItem[];
  postinst?: string;
}

/** FakeRepo is a running fake mirror. */
export interface FakeRepo {
  /** base URI, e.g. http://127.0.0.1:PORT/debian */
  uri: string;
  suite: string;
  /** path of the binary public keyring that signs InRelease */
  keyring: string;
  /** served files by path below the base URI (mutable: tests tamper here) */
  files: Map<string, Uint8Array>;
  /** request paths seen, in order */
  requests: string[];
  close(): Promise<void>;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function xz(b: Uint8Array): Buffer {
  try {
    return execFileSync('xz', ['-c', '-T1'], { input: b });
  } catch (e) {
    throw new Error('the fake repository needs the xz tool: apt-get install xz-utils', { cause: e });
  }
}

/** startFakeRepo builds and serves a signed repository holding `pkgs` for `arches`. */
export async function startFakeRepo(
  pkgs: FakePkg[],
  opts: { suite?: string; arches?: string[]; validUntil?: string } = {},
): Promise<FakeRepo> {
  const suite = opts.suite ?? 'stable';
  const arches = opts.arches ?? ['amd64', 'arm64'];
  const dir = mkdtempSync(join(tmpdir(), 'deb-fake-repo-'));
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: 'Fake Repo', email: 'fake@example.org' }],
    format: 'binary',
  });
  const keyring = join(dir, 'fake-keyring.gpg');
  writeFileSync(keyring, publicKey);
  const files = new Map<string, Uint8Array>();
  const paras = new Map<string, string[]>(arches.map((a) => [a, []]));
  for (const p of pkgs) {
    const arch = p.arch ?? 'amd64';
    const control =
      [
        `Package: ${p.name}`,
        `Version: ${p.version}`,
        `Architecture: ${arch}`,
        ...Object.entries(p.fields ?? {}).map(([k, v]) => `${k}: ${v}`),
        'Maintainer: T <t@example.org>',
        `Description: ${p.name} package`,
      ].join('\n') + '\n';
    const deb = await makeDeb(
      p.files ?? [{ name: `./usr/share/${p.name}/file`, body: `${p.name} ${p.version}\n` }],
      { control, ...(p.postinst ? { postinst: p.postinst } : {}) },
    );
    const filename = `pool/main/${p.name}_${p.version.replace(/^[0-9]+:/, '')}_${arch}.deb`; // pool names omit the epoch
    files.set(filename, deb);
    const para = `${control}Filename: ${filename}\nSize: ${deb.length}\nSHA256: ${sha(deb)}\n`;
    for (const a of arches) if (arch === a || arch === 'all') paras.get(a)!.push(para);
  }
  const lines: string[] = [];
  for (const a of arches) {
    const text = Buffer.from(paras.get(a)!.join('\n'));
    const base = `main/binary-${a}/Packages`;
    for (const [suffix, bytes] of [
      ['', text],
      ['.gz', gzipSync(text)],
      ['.xz', xz(text)],
    ] as const) {
      files.set(`dists/${suite}/${base}${suffix}`, bytes);
      lines.push(` ${sha(bytes)} ${bytes.length} ${base}${suffix}`);
    }
  }
  const release = `Origin: Fake\nSuite: ${suite}\nCodename: ${suite}\nDate: Thu, 01 Jan 2026 00:00:00 UTC\nArchitectures: ${arches.join(' ')}\nComponents: main\nNo-Support-for-Architecture-all: Packages\n${opts.validUntil ? `Valid-Until: ${opts.validUntil}\n` : ''}SHA256:\n${lines.join('\n')}\n`;
  const key = await openpgp.readPrivateKey({ binaryKey: privateKey });
  const signed = await openpgp.sign({
    message: await openpgp.createCleartextMessage({ text: release }),
    signingKeys: key,
  });
  files.set(`dists/${suite}/InRelease`, Buffer.from(signed));
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '').replace(/^\/debian\//, ''));
    requests.push(path);
    const body = files.get(path);
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    uri: `http://127.0.0.1:${port}/debian`,
    suite,
    keyring,
    files,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
