/**
 * auth.test.ts — pins WWW-Authenticate parsing and where credentials are found (docker config,
 * containers auth.json, REGISTRY_AUTH_FILE, credHelpers and credsStore helpers).
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isFromscratchError } from '../errors.ts';
import { parseWwwAuthenticate, readCredentials } from './auth.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'registry-auth-'));
  dirs.push(d);
  return d;
}
const b64 = (s: string) => Buffer.from(s).toString('base64');

test('parseWwwAuthenticate reads bearer params, quoted escapes and several challenges', () => {
  const chs = parseWwwAuthenticate([
    'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push",error="insufficient_scope"',
    'Basic realm="x \\"y\\"", charset=UTF-8',
  ]);
  assert.equal(chs.length, 2);
  assert.equal(chs[0]!.scheme, 'bearer');
  assert.equal(chs[0]!.params.realm, 'https://auth.example.com/token');
  assert.equal(chs[0]!.params.scope, 'repository:a/b:pull,push');
  assert.equal(chs[0]!.params.error, 'insufficient_scope');
  assert.equal(chs[1]!.scheme, 'basic');
  assert.equal(chs[1]!.params.realm, 'x "y"');
  assert.equal(chs[1]!.params.charset, 'UTF-8');
  assert.deepEqual(
    parseWwwAuthenticate(['Basic realm="r", Bearer realm="t"']).map((c) => c.scheme),
    ['basic', 'bearer'],
  );
  assert.deepEqual(parseWwwAuthenticate(['']), []);
});

test('docker config.json auths: registry keys in every spelling, docker.io aliases, repo-scoped keys', async () => {
  const home = await tmp();
  const dc = join(home, 'dc');
  await mkdir(dc);
  await writeFile(
    join(dc, 'config.json'),
    JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hub:hubpw') },
        'http://localhost:5000': { auth: b64('lo:lopw:with:colons') },
        'reg.example.com': { auth: b64('all:allpw') },
        'reg.example.com/team': { auth: b64('team:teampw') },
        'id.example.com': { identitytoken: 'refresh-me' },
      },
    }),
  );
  const env = { HOME: home, DOCKER_CONFIG: dc };
  const hub = await readCredentials('docker.io', 'library/ubuntu', { env });
  assert.deepEqual(hub?.credential, { username: 'hub', password: 'hubpw' });
  assert.equal(hub?.source, join(dc, 'config.json'));
  assert.deepEqual((await readCredentials('localhost:5000', undefined, { env }))?.credential, {
    username: 'lo',
    password: 'lopw:with:colons',
  });
  assert.deepEqual((await readCredentials('reg.example.com', 'team/app', { env }))?.credential, {
    username: 'team',
    password: 'teampw',
  });
  assert.deepEqual((await readCredentials('reg.example.com', 'other/app', { env }))?.credential, {
    username: 'all',
    password: 'allpw',
  });
  assert.deepEqual((await readCredentials('id.example.com', undefined, { env }))?.credential, {
    identityToken: 'refresh-me',
  });
  assert.equal(await readCredentials('nowhere.example.com', undefined, { env }), undefined);
});

test('REGISTRY_AUTH_FILE wins over the docker config; XDG_RUNTIME_DIR auth.json is read', async () => {
  const home = await tmp();
  await mkdir(join(home, '.docker'));
  await writeFile(
    join(home, '.docker', 'config.json'),
    JSON.stringify({ auths: { 'r.io': { auth: b64('docker:d') } } }),
  );
  const af = join(home, 'auth.json');
  await writeFile(af, JSON.stringify({ auths: { 'r.io': { auth: b64('podman:p') } } }));
  assert.equal(
    (await readCredentials('r.io', undefined, { env: { HOME: home, REGISTRY_AUTH_FILE: af } }))?.source,
    af,
  );
  assert.equal(
    (await readCredentials('r.io', undefined, { env: { HOME: home } }))?.source,
    join(home, '.docker', 'config.json'),
  );
  const xdg = join(home, 'run');
  await mkdir(join(xdg, 'containers'), { recursive: true });
  await writeFile(
    join(xdg, 'containers', 'auth.json'),
    JSON.stringify({ auths: { 'r.io': { auth: b64('xdg:x') } } }),
  );
  assert.deepEqual(
    (await readCredentials('r.io', undefined, { env: { HOME: home, XDG_RUNTIME_DIR: xdg } }))?.credential,
    { username: 'xdg', password: 'x' },
  );
});

test('credHelpers and credsStore run docker-credential-<name> get with the server URL on stdin', async () => {
  const home = await tmp();
  const bin = join(home, 'bin');
  await mkdir(bin);
  // a helper that answers for one server URL and logs what it was asked
  await writeFile(
    join(bin, 'docker-credential-fake'),
    `#!/bin/sh
read url
echo "$url" >> "${home}/asked"
case "$url" in
  helped.io) echo '{"ServerURL":"helped.io","Username":"hu","Secret":"hs"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"x","Username":"<token>","Secret":"idtok"}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`,
  );
  await writeFile(join(bin, 'docker-credential-broken'), '#!/bin/sh\necho boom >&2\nexit 3\n');
  await writeFile(join(bin, 'docker-credential-slow'), '#!/bin/sh\nsleep 5\n');
  for (const f of ['fake', 'broken', 'slow']) await chmod(join(bin, `docker-credential-${f}`), 0o755);
  const dc = join(home, 'dc');
  await mkdir(dc);
  await writeFile(
    join(dc, 'config.json'),
    JSON.stringify({
      auths: { 'stored.io': {} },
      credHelpers: {
        'helped.io': 'fake',
        'broken.io': 'broken',
        'slow.io': 'slow',
        'missing.io': 'nosuchhelper',
      },
      credsStore: 'fake',
    }),
  );
  const env = { HOME: home, DOCKER_CONFIG: dc, PATH: `${bin}:/usr/bin:/bin` };
  const h = await readCredentials('helped.io', undefined, { env });
  assert.deepEqual(h?.credential, { username: 'hu', password: 'hs' });
  assert.match(h!.source, /docker-credential-fake \(credHelpers in .*config\.json\)/);
  const hub = await readCredentials('docker.io', undefined, { env });
  assert.deepEqual(hub?.credential, { identityToken: 'idtok' });
  assert.match(hub!.source, /credsStore/);
  assert.equal(await readCredentials('stored.io', undefined, { env }), undefined);
  await assert.rejects(
    readCredentials('broken.io', undefined, { env }),
    (e) => isFromscratchError(e, 'REGISTRY_UNAUTHORIZED') && /exit status 3: boom/.test(e.message),
  );
  await assert.rejects(
    readCredentials('slow.io', undefined, { env, helperTimeoutMs: 200 }),
    (e) => isFromscratchError(e, 'REGISTRY_UNAUTHORIZED') && /timeout/.test(e.message),
  );
  await assert.rejects(
    readCredentials('missing.io', undefined, { env }),
    (e) => isFromscratchError(e, 'TOOL_MISSING') && /docker-credential-nosuchhelper/.test(e.message),
  );
});

test('a malformed auth file is an error that does not echo its content', async () => {
  const home = await tmp();
  const af = join(home, 'auth.json');
  await writeFile(af, '{"auths": {"r.io": {"auth": "c2VjcmV0OnB3"}},,}');
  await assert.rejects(
    readCredentials('r.io', undefined, { env: { HOME: home, REGISTRY_AUTH_FILE: af } }),
    (e) => {
      assert.ok(isFromscratchError(e, 'REGISTRY_UNAUTHORIZED'));
      assert.match(e.message, /not valid JSON/);
      assert.doesNotMatch(e.message + String(e.cause), /c2VjcmV0/);
      return true;
    },
  );
});
