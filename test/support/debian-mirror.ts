/**
 * debian-mirror.ts — a real Debian mirror for tests, without the network: a snapshot of the packages the
 * tests install, taken once by the test set-up (scripts/services.sh) and served on 127.0.0.1.
 *
 * The snapshot is a partial mirror laid out as Debian's: the suite's InRelease byte for byte (so its
 * signature is verified by the real Debian archive keyring), the `Packages.xz` index of each architecture
 * the tests use (its digest checked against InRelease), and the `.deb` files of the packages' closures
 * under `pool/`. The suite is the release itself (`bookworm`), whose InRelease carries no Valid-Until, so
 * the tests do not depend on the calendar either.
 *
 *   node --import tsx test/support/debian-mirror.ts --ensure   # take the snapshot when it is missing
 *
 * FROMSCRATCH_TEST_MIRROR moves the snapshot (default /var/cache/fromscratch-test/debian-HASH, see mirrorDir).
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, normalize } from 'node:path';
import { readHostAptSources } from '../../src/deb/apt-sources.ts';
import { fetchBytes } from '../../src/deb/fetch-http.ts';
import { loadKeys, parseRelease, verifyInRelease } from '../../src/deb/release.ts';
import { resolveDebs } from '../../src/deb/resolve-debs.ts';
import { sha256 } from '../../src/model/digest.ts';

/** What the tests install from the mirror; change it and the set-up takes a new snapshot. */
export const SNAPSHOT = {
  suite: 'bookworm',
  component: 'main',
  arches: ['amd64', 'arm64'],
  packages: ['jq', 'php-cli'],
} as const;

const STAMP = 'fromscratch-snapshot.json';
const wanted = JSON.stringify({ ...SNAPSHOT, format: 1 });

/**
 * mirrorDir is where the snapshot lives: one directory per package set (named by a digest of SNAPSHOT), so
 * a checkout with another set never finds, nor replaces, a snapshot it did not ask for.
 */
export function mirrorDir(): string {
  return (
    process.env.FROMSCRATCH_TEST_MIRROR ??
    `/var/cache/fromscratch-test/debian-${sha256(Buffer.from(wanted)).slice(7, 19)}`
  );
}

/** snapshotReady tells whether the snapshot in `dir` holds what SNAPSHOT asks for. */
export function snapshotReady(dir = mirrorDir()): boolean {
  try {
    return readFileSync(join(dir, STAMP), 'utf8') === wanted;
  } catch {
    return false;
  }
}

/** DebianMirror is a running loopback server over the snapshot. */
export interface DebianMirror {
  /** the apt source line the tests pass as `--apt-source` */
  readonly aptSource: string;
  /** base URI, http://127.0.0.1:PORT/debian */
  readonly uri: string;
  /** request paths served, in order */
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * startDebianMirror serves the snapshot on 127.0.0.1. It throws, naming the set-up step, when the snapshot
 * has not been taken: a test never falls back to the network.
 */
export async function startDebianMirror(dir = mirrorDir()): Promise<DebianMirror> {
  if (!snapshotReady(dir)) {
    throw new Error(
      `no Debian test mirror snapshot in ${dir}: run "bash scripts/services.sh" (it takes the snapshot once)`,
    );
  }
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    requests.push(url);
    const rel = normalize(url).replace(/^\/debian\//, '');
    const file = join(dir, rel);
    if (!url.startsWith('/debian/') || rel.startsWith('..') || !file.startsWith(`${dir}/`)) {
      res.writeHead(404).end();
      return;
    }
    stat(file).then(
      (st) => {
        if (!st.isFile()) return void res.writeHead(404).end();
        res.writeHead(200, { 'content-length': st.size });
        createReadStream(file).pipe(res);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const uri = `http://127.0.0.1:${port}/debian`;
  return {
    uri,
    aptSource: `deb ${uri} ${SNAPSHOT.suite} ${SNAPSHOT.component}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * takeSnapshot downloads the snapshot from the host's Debian mirror (the apt source of SNAPSHOT.suite):
 * InRelease, each architecture's Packages.xz, and the .debs of the resolved closure, every one verified,
 * then moves it into place whole. Set-up only: the tests themselves never call it.
 */
export async function takeSnapshot(dir = mirrorDir()): Promise<void> {
  const source = (await readHostAptSources()).find(
    (s) => s.suite === SNAPSHOT.suite && s.components.includes(SNAPSHOT.component),
  );
  if (!source) throw new Error(`the host has no apt source for ${SNAPSHOT.suite} ${SNAPSHOT.component}`);
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  const put = async (rel: string, data: Uint8Array) => {
    await mkdir(dirname(join(tmp, rel)), { recursive: true });
    await writeFile(join(tmp, rel), data);
  };
  const inRelease = await fetchBytes(`${source.uri}/dists/${SNAPSHOT.suite}/InRelease`);
  const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
  const keys = await loadKeys([{ name: keyring, data: readFileSync(keyring) }]);
  const release = parseRelease(await verifyInRelease(inRelease, keys, 'InRelease'), 'InRelease');
  await put(`dists/${SNAPSHOT.suite}/InRelease`, inRelease);
  for (const arch of SNAPSHOT.arches) {
    const rel = `${SNAPSHOT.component}/binary-${arch}/Packages.xz`;
    const f = release.files.get(rel);
    if (!f) throw new Error(`${source.uri} ${SNAPSHOT.suite} lists no ${rel}`);
    const bytes = await fetchBytes(`${source.uri}/dists/${SNAPSHOT.suite}/${rel}`, { maxBytes: f.size });
    if (sha256(bytes) !== `sha256:${f.sha256}`) throw new Error(`${rel} does not match InRelease`);
    await put(`dists/${SNAPSHOT.suite}/${rel}`, bytes);
  }
  // resolve against the partial mirror itself, so the snapshot holds exactly what the tests resolve
  await writeFile(join(tmp, STAMP), wanted);
  const mirror = await startDebianMirror(tmp);
  try {
    const cacheDir = `${tmp}.cache`;
    const lock = await resolveDebs(
      SNAPSHOT.packages.map((name) => ({ name })),
      { arches: SNAPSHOT.arches, sources: [mirror.aptSource], hostListsDir: false, cacheDir },
    );
    await rm(cacheDir, { recursive: true, force: true });
    for (const p of lock.packages) {
      const rel = p.url.slice(mirror.uri.length + 1);
      if (existsSync(join(tmp, rel))) continue;
      const bytes = await fetchBytes(`${source.uri}/${rel}`, { maxBytes: p.size });
      if (sha256(bytes) !== `sha256:${p.sha256}`) throw new Error(`${rel} does not match its index`);
      await put(rel, bytes);
    }
  } finally {
    await mirror.close();
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dirname(dir), { recursive: true });
  await rename(tmp, dir);
}

if (process.argv[1]?.endsWith('debian-mirror.ts') && process.argv[2] === '--ensure') {
  if (snapshotReady()) {
    console.error(`debian-mirror: snapshot ready in ${mirrorDir()}`);
  } else {
    console.error(`debian-mirror: taking a snapshot of ${SNAPSHOT.packages.join(' ')} into ${mirrorDir()}`);
    await takeSnapshot();
    console.error('debian-mirror: done');
  }
}
