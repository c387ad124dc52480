/**
 * registry-instance.ts — extra docker-registry (distribution 2.8) processes on loopback ports for the
 * auth and TLS tests: htpasswd (bcrypt, the only scheme it accepts, made with Python's crypt or
 * htpasswd -B) and TLS with a CA made by openssl at test time. Each instance is stopped and its
 * directory removed by `stop()`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './fixtures.ts';

/** RegistryInstance is a running docker-registry. */
export interface RegistryInstance {
  /** `127.0.0.1:PORT` */
  readonly address: string;
  readonly dir: string;
  /** the access log so far (with `accessLog`): one combined-log-format line per request */
  accessLog(): string;
  stop(): Promise<void>;
}

/** freePort asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** bcryptHtpasswd makes an htpasswd line with a bcrypt hash. */
export function bcryptHtpasswd(user: string, password: string): string {
  try {
    execFileSync('sh', ['-c', 'command -v htpasswd'], { stdio: 'pipe' });
    return execFileSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' }).trim();
  } catch {
    // no apache2-utils: Python's crypt (libxcrypt) makes $2b$ bcrypt hashes
    const hash = execFileSync(
      'python3',
      [
        '-W',
        'ignore',
        '-c',
        'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))',
        password,
      ],
      { encoding: 'utf8' },
    ).trim();
    if (!hash.startsWith('$2'))
      throw new Error('cannot make a bcrypt hash: install apache2-utils (htpasswd) or a Python with crypt');
    return `${user}:${hash}`;
  }
}

/** TestCa is a CA and a server certificate for 127.0.0.1 / localhost. */
export interface TestCa {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
}

/**
 * VALIDITY is the certificates' validity window: fixed and wide, so that a test run with the clock moved
 * (libfaketime moves openssl's and node's clocks, not Go's: skopeo, docker) still agrees on it.
 */
const VALIDITY = ['-startdate', '20000101000000Z', '-enddate', '20991231235959Z'];

/** makeTestCa creates a CA and a server certificate (SAN 127.0.0.1, localhost) with openssl. */
export function makeTestCa(dir: string): TestCa {
  requireTool('openssl', 'openssl');
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  // `openssl ca` (not `req -x509`/`x509 -req`, which date certificates from now) with a minimal config
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '01\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ca]',
      'default_ca = test_ca',
      '[test_ca]',
      'database = index.txt',
      'serial = serial',
      'new_certs_dir = .',
      'default_md = sha256',
      'policy = any',
      'unique_subject = no',
      'copy_extensions = none',
      '[any]',
      'commonName = supplied',
      '[v3_ca]',
      'basicConstraints = critical,CA:TRUE',
      'keyUsage = critical,keyCertSign,cRLSign',
      'subjectKeyIdentifier = hash',
      '[v3_server]',
      'subjectAltName = IP:127.0.0.1,DNS:localhost',
      'basicConstraints = CA:FALSE',
      'keyUsage = digitalSignature,keyEncipherment',
      'extendedKeyUsage = serverAuth',
      'authorityKeyIdentifier = keyid',
      '',
    ].join('\n'),
  );
  const sign = (csr: string, out: string, ext: string, self: boolean) =>
    run([
      'ca',
      '-batch',
      '-notext',
      '-config',
      'ca.cnf',
      ...(self ? ['-selfsign', '-keyfile', 'ca.key'] : ['-cert', 'ca.crt', '-keyfile', 'ca.key']),
      '-extensions',
      ext,
      ...VALIDITY,
      '-in',
      csr,
      '-out',
      out,
    ]);
  const request = (key: string, csr: string, cn: string) =>
    run(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`]);
  request('ca.key', 'ca.csr', 'fromscratch registry test CA');
  sign('ca.csr', 'ca.crt', 'v3_ca', true);
  request('server.key', 'server.csr', '127.0.0.1');
  sign('server.csr', 'server.crt', 'v3_server', false);
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
  };
}

/** startRegistry starts docker-registry with optional htpasswd users and TLS. */
export async function startRegistry(
  opts: { users?: Record<string, string>; tls?: TestCa; accessLog?: boolean } = {},
): Promise<RegistryInstance> {
  requireTool('docker-registry', 'docker-registry');
  const dir = mkdtempSync(join(tmpdir(), 'registry-instance-'));
  const port = await freePort();
  let auth = '';
  if (opts.users) {
    writeFileSync(
      join(dir, 'htpasswd'),
      `${Object.entries(opts.users)
        .map(([u, p]) => bcryptHtpasswd(u, p))
        .join('\n')}\n`,
    );
    auth = `auth:\n  htpasswd:\n    realm: fromscratch-test\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  const tls = opts.tls
    ? `  tls:\n    certificate: ${opts.tls.serverCert}\n    key: ${opts.tls.serverKey}\n`
    : '';
  writeFileSync(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\n${auth}http:\n  addr: 127.0.0.1:${port}\n  secret: fromscratch-test\n${tls}`,
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', opts.accessLog ? 'pipe' : 'ignore', 'pipe'],
  });
  // distribution writes its access log (combined log format) to stdout
  let access = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    access += d;
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 10000) stderr += d;
  });
  const address = `127.0.0.1:${port}`;
  // safety net: never leave a registry behind when the test process ends without calling stop()
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // wait until it listens
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    const ok = await canConnect(port);
    if (ok) return { address, dir, stop, accessLog: () => access };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`docker-registry did not start on ${address}: ${stderr.slice(0, 2000)}`);
}

/** canConnect tells whether something listens on a loopback port. */
function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      s.destroy();
      resolve(false);
    });
  });
}
