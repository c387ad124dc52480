/**
 * shims.test.ts — the program a version manager's shim runs (orchestrate/shims.ts), in roots laid out
 * as pyenv, rbenv and rustup lay out a home: the choice by variable, by the nearest version file, by
 * the manager's default, and the errors when nothing the manager would run is there.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isFromscratchError } from '../../src/errors.ts';
import { hostFs } from '../../src/fs/host-fs.ts';
import type { RootFs } from '../../src/fs/root-fs.ts';
import { shimProgram } from '../../src/orchestrate/shims.ts';

let tmp: string;
let root: RootFs;

/** put writes a file of the root (parents made), executable when `mode` says */
function put(path: string, text: string, mode = 0o644): void {
  const p = join(tmp, path);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
  chmodSync(p, mode);
}

function link(path: string, target: string): void {
  const p = join(tmp, path);
  mkdirSync(dirname(p), { recursive: true });
  symlinkSync(target, p);
}

/** the shim script pyenv writes (pyenv-rehash), for `manager` rooted at `home` */
function shimScript(manager: string, home: string): string {
  return `#!/usr/bin/env bash\nset -e\n[ -n "$PYENV_DEBUG" ] && set -x\n\nprogram="\${0##*/}"\n\nexport PYENV_ROOT="${home}"\nexec "${home}/libexec/${manager}" exec "$program" "$@"\n`;
}

async function shim(named: string, env: Record<string, string> = {}, cwd = '/work/app') {
  const st = await root.lstat(named);
  let real = named;
  if (st?.type === 'symlink') real = `${dirname(named)}/${await root.readlink(named)}`;
  const size = (await root.lstat(real))?.size ?? 0;
  return shimProgram(root, named, real, size, { env: { HOME: '/home/u', ...env }, cwd });
}

async function rejectsWith(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isFromscratchError(e), String(e));
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'fromscratch-shims-'));
  root = hostFs(tmp);
  const py = '/home/u/.pyenv';
  put(`${py}/shims/python3`, shimScript('pyenv', py), 0o755);
  put(`${py}/shims/pip3`, shimScript('pyenv', py), 0o755);
  put(`${py}/version`, '# the global version\n3.11.7\n');
  for (const v of ['3.10.13', '3.11.7', '3.12.1', '3.12.10'])
    put(`${py}/versions/${v}/bin/python3`, '', 0o755);
  put(`${py}/versions/3.11.7/bin/pip3`, '#!/home/u/.pyenv/versions/3.11.7/bin/python3\n', 0o755);
  put('/work/app/sub/.keep', '');
  put('/work/.python-version', '3.12\n');
  const rb = '/home/u/.rbenv';
  put(`${rb}/shims/ruby`, shimScript('rbenv', rb), 0o755);
  put(`${rb}/version`, 'system\n');
  // rustup: each proxy a link to the rustup binary
  put('/home/u/.cargo/bin/rustup', '\x7fELF', 0o755);
  link('/home/u/.cargo/bin/rustc', 'rustup');
  link('/home/u/.cargo/bin/cargo', 'rustup');
  put(
    '/home/u/.rustup/settings.toml',
    'version = "12"\ndefault_toolchain = "stable-x86_64-unknown-linux-gnu"\nprofile = "default"\n\n[overrides]\n"/work/nightly" = "nightly-x86_64-unknown-linux-gnu"\n',
  );
  for (const t of ['stable-x86_64-unknown-linux-gnu', 'nightly-x86_64-unknown-linux-gnu'])
    put(`/home/u/.rustup/toolchains/${t}/bin/rustc`, '', 0o755);
  put('/home/u/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/bin/cargo', '', 0o755);
  put('/work/pinned/rust-toolchain.toml', '[toolchain]\nchannel = "nightly"\ncomponents = ["rustfmt"]\n');
  put('/work/legacy/rust-toolchain', 'stable\n');
  put('/usr/bin/plain', '#!/bin/sh\nexec "$@"\n', 0o755);
});

after(() => rmSync(tmp, { recursive: true, force: true }));

describe('version manager shims (pyenv, rbenv, nodenv): the program the shim runs', () => {
  it('the nearest .python-version from the working directory wins over the global version; a prefix picks the latest installed under it', async () => {
    assert.deepEqual(await shim('/home/u/.pyenv/shims/python3', {}, '/work/app/sub'), {
      program: '/home/u/.pyenv/versions/3.12.10/bin/python3',
      chosen: 'pyenv version 3.12.10 (from /work/.python-version)',
    });
  });

  it("without a version file, pyenv's global version file", async () => {
    assert.deepEqual(await shim('/home/u/.pyenv/shims/python3', {}, '/elsewhere'), {
      program: '/home/u/.pyenv/versions/3.11.7/bin/python3',
      chosen: 'pyenv version 3.11.7 (from /home/u/.pyenv/version)',
    });
  });

  it('PYENV_VERSION first; of several versions the first that has the program', async () => {
    const r = await shim('/home/u/.pyenv/shims/pip3', { PYENV_VERSION: '3.12.1:3.11.7' });
    assert.deepEqual(r, {
      program: '/home/u/.pyenv/versions/3.11.7/bin/pip3',
      chosen: 'pyenv version 3.11.7 (from $PYENV_VERSION)',
    });
  });

  it('a version not installed, or none having the program: FILE_NOT_FOUND naming the versions', async () => {
    await rejectsWith(
      shim('/home/u/.pyenv/shims/pip3', { PYENV_VERSION: '3.9.1:3.12.1' }),
      'FILE_NOT_FOUND',
      /pip3 is a pyenv shim, and no python version pyenv chooses here \(3\.9\.1, 3\.12\.1, from \$PYENV_VERSION\)/,
    );
  });

  it('"system" (rbenv\'s global here): FILE_NOT_FOUND telling to name the system program', async () => {
    await rejectsWith(
      shim('/home/u/.rbenv/shims/ruby', {}, '/elsewhere'),
      'FILE_NOT_FOUND',
      /ruby is a rbenv shim, and rbenv's version here is "system" \(from \/home\/u\/\.rbenv\/version\)/,
    );
  });

  it("goenv's shims, their version file .go-version", async () => {
    put('/home/u/.goenv/shims/go', shimScript('goenv', '/home/u/.goenv'), 0o755);
    put('/home/u/.goenv/versions/1.22.4/bin/go', '', 0o755);
    put('/work/goapp/.go-version', '1.22.4\n');
    assert.deepEqual(await shim('/home/u/.goenv/shims/go', {}, '/work/goapp'), {
      program: '/home/u/.goenv/versions/1.22.4/bin/go',
      chosen: 'goenv version 1.22.4 (from /work/goapp/.go-version)',
    });
  });

  it("asdf's shims: ASDF_<PLUGIN>_VERSION, the nearest .tool-versions with the plugin's line, then ~/.tool-versions", async () => {
    const asdfShim = (name: string) =>
      `#!/usr/bin/env bash\n# asdf-plugin: nodejs 20.11.0\n# asdf-plugin: nodejs 18.19.0\nexec /home/u/.asdf/bin/asdf exec "${name}" "$@" # asdf_allow: ' asdf '\n`;
    put('/home/u/.asdf/shims/node', asdfShim('node'), 0o755);
    for (const v of ['20.11.0', '18.19.0']) put(`/home/u/.asdf/installs/nodejs/${v}/bin/node`, '', 0o755);
    put('/home/u/.tool-versions', 'nodejs 20.11.0\npython 3.12.1\n');
    put('/work/old/.tool-versions', 'python 3.11.7\nnodejs 18.19.0\n');
    put('/work/old/sub/.tool-versions', 'python 3.10.13\n');
    assert.deepEqual(await shim('/home/u/.asdf/shims/node', {}, '/work/old/sub'), {
      program: '/home/u/.asdf/installs/nodejs/18.19.0/bin/node',
      chosen: 'asdf nodejs 18.19.0 (from /work/old/.tool-versions)',
    });
    assert.equal(
      (await shim('/home/u/.asdf/shims/node', {}, '/elsewhere'))?.chosen,
      'asdf nodejs 20.11.0 (from /home/u/.tool-versions)',
    );
    assert.equal(
      (await shim('/home/u/.asdf/shims/node', { ASDF_NODEJS_VERSION: '18.19.0' }, '/elsewhere'))?.program,
      '/home/u/.asdf/installs/nodejs/18.19.0/bin/node',
    );
    await rejectsWith(
      shim('/home/u/.asdf/shims/node', { ASDF_NODEJS_VERSION: '16.0.0' }),
      'FILE_NOT_FOUND',
      /node is an asdf shim, and no nodejs version asdf chooses here \(16\.0\.0, from \$ASDF_NODEJS_VERSION\)/,
    );
  });

  it('a script that only looks like one (exec "$@") is no shim', async () => {
    assert.equal(await shim('/usr/bin/plain'), undefined);
  });
});

describe('rustup proxies: the toolchain rustup chooses', () => {
  it("settings.toml's default toolchain; a directory override for a working directory under it", async () => {
    assert.deepEqual(await shim('/home/u/.cargo/bin/rustc', {}, '/elsewhere'), {
      program: '/home/u/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/bin/rustc',
      chosen: 'rustup toolchain stable-x86_64-unknown-linux-gnu (from /home/u/.rustup/settings.toml)',
    });
    const over = await shim('/home/u/.cargo/bin/rustc', {}, '/work/nightly/src');
    assert.equal(over?.program, '/home/u/.rustup/toolchains/nightly-x86_64-unknown-linux-gnu/bin/rustc');
  });

  it('RUSTUP_TOOLCHAIN, then rust-toolchain.toml and the legacy rust-toolchain file, a channel completed with the host triple', async () => {
    if (process.arch !== 'x64') return;
    const env = await shim('/home/u/.cargo/bin/rustc', { RUSTUP_TOOLCHAIN: 'nightly' }, '/work/legacy');
    assert.equal(env?.chosen, 'rustup toolchain nightly-x86_64-unknown-linux-gnu (from $RUSTUP_TOOLCHAIN)');
    const toml = await shim('/home/u/.cargo/bin/rustc', {}, '/work/pinned');
    assert.equal(
      toml?.chosen,
      'rustup toolchain nightly-x86_64-unknown-linux-gnu (from /work/pinned/rust-toolchain.toml)',
    );
    const legacy = await shim('/home/u/.cargo/bin/cargo', {}, '/work/legacy');
    assert.equal(legacy?.program, '/home/u/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/bin/cargo');
  });

  it('a toolchain without the program, or not installed: FILE_NOT_FOUND with the rustup command', async () => {
    await rejectsWith(
      shim('/home/u/.cargo/bin/cargo', {}, '/work/pinned'),
      'FILE_NOT_FOUND',
      /cargo is a rustup proxy, and toolchain nightly \(from \/work\/pinned\/rust-toolchain\.toml\) has no cargo/,
    );
    await rejectsWith(
      shim('/home/u/.cargo/bin/rustc', { RUSTUP_TOOLCHAIN: '1.70.0' }),
      'FILE_NOT_FOUND',
      /toolchain 1\.70\.0 \(from \$RUSTUP_TOOLCHAIN\) is not installed/,
    );
  });

  it('rustup itself is no proxy', async () => {
    assert.equal(await shim('/home/u/.cargo/bin/rustup'), undefined);
  });
});
