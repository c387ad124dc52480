/**
 * shims.ts — the program a version manager's shim runs, for `--binary` naming the shim.
 *
 * A developer's PATH often starts with shims: pyenv, rbenv, nodenv, goenv, plenv and asdf put a small bash script per
 * program in `ROOT/shims` (`exec "ROOT/libexec/pyenv" exec "$program" "$@"`), and rustup links each
 * proxy (`~/.cargo/bin/rustc`, `cargo`) to the rustup binary itself. `--binary "$(command -v python3)"`
 * then names the shim, which in an image has neither the manager's commands nor its settings: it cannot
 * run (`pyenv: no such command 'exec'`, `rustup could not choose a version of rustc to run`). The image
 * gets instead the program the shim runs on this machine now, chosen as the manager chooses it:
 *
 * - pyenv, rbenv, nodenv, goenv, plenv (pyenv-version-name): `PYENV_VERSION`, else the nearest `.python-version`
 *   from the working directory up, else `ROOT/version`; `system` means the next program on PATH;
 *   several versions (`3.12.1:3.11.7`, or one per line) are tried in order; a prefix (`3.11`) means
 *   the latest installed version under it;
 * - asdf: `ASDF_<PLUGIN>_VERSION`, else the plugin's line of the nearest `.tool-versions`, else of
 *   `~/.tool-versions`; the program in `ASDF_DATA_DIR/installs/PLUGIN/VERSION/bin`;
 * - rustup (rustup's toolchain resolution): `RUSTUP_TOOLCHAIN`, else the nearest `rust-toolchain.toml`
 *   or `rust-toolchain` from the working directory up, else a directory override of
 *   `RUSTUP_HOME/settings.toml`, else its `default_toolchain`; a channel name (`stable`) is the
 *   installed toolchain of that name for the host's triple.
 */
import { FromscratchError } from '../errors.ts';
import { baseName, parentPath } from '../fs/path.ts';
import type { RootFs } from '../fs/root-fs.ts';

/** ShimProgram is the program a shim runs, and how it was chosen (for the build's note). */
export interface ShimProgram {
  /** the program's path in the root */
  readonly program: string;
  /** e.g. `pyenv version 3.11.7 (from /root/.pyenv/version)` */
  readonly chosen: string;
}

/** ShimContext is what a manager reads to choose: the environment and working directory of the build. */
export interface ShimContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** the managers whose shims are scripts: their version variable and version file */
const SCRIPT_MANAGERS: Readonly<Record<string, { variable: string; file: string; language: string }>> = {
  pyenv: { variable: 'PYENV_VERSION', file: '.python-version', language: 'python' },
  rbenv: { variable: 'RBENV_VERSION', file: '.ruby-version', language: 'ruby' },
  nodenv: { variable: 'NODENV_VERSION', file: '.node-version', language: 'node' },
  goenv: { variable: 'GOENV_VERSION', file: '.go-version', language: 'go' },
  plenv: { variable: 'PLENV_VERSION', file: '.perl-version', language: 'perl' },
};

/** a shim script's exec line: `exec "ROOT/libexec/pyenv" exec "$program" "$@"` */
const SHIM_EXEC = /^exec "(\/[^"]*)\/libexec\/(pyenv|rbenv|nodenv|goenv|plenv)" exec "\$program" "\$@"$/m;

/** MAX_SHIM_BYTES bounds the script read: a shim is a dozen lines */
const MAX_SHIM_BYTES = 4096;

/**
 * shimProgram returns the program the shim at `real` (its real path; `named` as the user wrote it)
 * runs, or undefined when it is no shim. Throws FILE_NOT_FOUND, naming the manager's choice, when it is
 * a shim whose program cannot be found here.
 */
export async function shimProgram(
  root: RootFs,
  named: string,
  real: string,
  size: number,
  ctx: ShimContext,
): Promise<ShimProgram | undefined> {
  const name = baseName(named);
  if (baseName(real) === 'rustup' && name !== 'rustup' && !name.startsWith('rustup-'))
    return rustupProgram(root, name, ctx);
  if (size > MAX_SHIM_BYTES) return undefined;
  const head = Buffer.from(await root.read(real)).toString('latin1');
  if (!head.startsWith('#!')) return undefined;
  if (ASDF_EXEC.test(head)) return asdfProgram(root, baseName(real), head, ctx);
  const m = SHIM_EXEC.exec(head);
  if (!m) return undefined;
  const managerRoot = m[1]!;
  const manager = m[2]!;
  return scriptManagerProgram(root, manager, managerRoot, baseName(real), ctx);
}

async function scriptManagerProgram(
  root: RootFs,
  manager: string,
  managerRoot: string,
  program: string,
  ctx: ShimContext,
): Promise<ShimProgram> {
  const m = SCRIPT_MANAGERS[manager]!;
  let versions: string[];
  let from: string;
  const set = ctx.env[m.variable];
  if (set) {
    versions = set.split(':').filter(Boolean);
    from = `$${m.variable}`;
  } else {
    const file = (await nearestFile(root, ctx.cwd, [m.file])) ?? `${managerRoot}/version`;
    versions = (await readWords(root, file)) ?? [];
    from = file;
  }
  if (versions.length === 0) versions = ['system'];
  const installed = await root.readdir(`${managerRoot}/versions`).catch(() => [] as string[]);
  const found = await firstInstalled(
    root,
    versions,
    `a ${manager} shim`,
    `${manager}'s`,
    program,
    from,
    (v) => {
      const dir = installed.includes(v) ? v : latestUnder(installed, v);
      return dir === undefined
        ? undefined
        : { path: `${managerRoot}/versions/${dir}/bin/${program}`, version: dir };
    },
  );
  if (found) return { program: found.path, chosen: `${manager} version ${found.version} (from ${from})` };
  throw new FromscratchError(
    'FILE_NOT_FOUND',
    `${program} is a ${manager} shim, and no ${m.language} version ${manager} chooses here (${versions.join(', ')}, from ${from}) has it in ${managerRoot}/versions`,
    {
      hint: `install the version, or give the program's own path: --binary ${managerRoot}/versions/VERSION/bin/${program}`,
    },
  );
}

/** an asdf shim's exec line (`exec /home/u/.asdf/bin/asdf exec "python3" "$@"`, or `exec asdf exec …`) */
const ASDF_EXEC = /^exec \S*asdf exec "[^"]+" "\$@"/m;
/** an asdf shim's plugin line (`# asdf-plugin: python 3.11.7`, one per installed version having the program): the first names the plugin */
const ASDF_PLUGIN = /^# asdf-plugin: (\S+) (\S+)$/m;

/**
 * asdfProgram chooses as asdf does: `ASDF_<PLUGIN>_VERSION`, else the plugin's line of the nearest
 * `.tool-versions` from the working directory up, else of `$HOME/.tool-versions`; the program is
 * `ASDF_DATA_DIR/installs/PLUGIN/VERSION/bin/NAME` (default ~/.asdf).
 */
async function asdfProgram(
  root: RootFs,
  program: string,
  head: string,
  ctx: ShimContext,
): Promise<ShimProgram> {
  const plugin = ASDF_PLUGIN.exec(head)?.[1];
  const data = ctx.env.ASDF_DATA_DIR || `${homeOf(ctx)}/.asdf`;
  if (plugin === undefined) {
    throw new FromscratchError('FILE_NOT_FOUND', `${program} is an asdf shim that names no plugin`, {
      hint: `give the program's own path: --binary ${data}/installs/PLUGIN/VERSION/bin/${program}`,
    });
  }
  const variable = `ASDF_${plugin.toUpperCase().replace(/-/g, '_')}_VERSION`;
  let versions: string[] = [];
  let from = `$${variable}`;
  const set = ctx.env[variable];
  if (set) versions = set.split(/\s+/).filter(Boolean);
  else {
    // the nearest .tool-versions with a line for the plugin, else the user's own
    const hasLine = async (p: string) => pluginVersions(await readText(root, p), plugin) !== undefined;
    const file =
      (await nearestFile(root, ctx.cwd, ['.tool-versions'], hasLine)) ?? `${homeOf(ctx)}/.tool-versions`;
    const line = pluginVersions(await readText(root, file), plugin);
    if (line !== undefined) {
      versions = line;
      from = file;
    }
  }
  const found = await firstInstalled(
    root,
    versions,
    'an asdf shim',
    `asdf's ${plugin}`,
    program,
    from,
    (v) => ({
      path: `${data}/installs/${plugin}/${v}/bin/${program}`,
      version: v,
    }),
  );
  if (found) return { program: found.path, chosen: `asdf ${plugin} ${found.version} (from ${from})` };
  throw new FromscratchError(
    'FILE_NOT_FOUND',
    versions.length === 0
      ? `${program} is an asdf shim, and no ${plugin} version is set here (no ${variable}, and no .tool-versions line for ${plugin})`
      : `${program} is an asdf shim, and no ${plugin} version asdf chooses here (${versions.join(', ')}, from ${from}) has it in ${data}/installs/${plugin}`,
    { hint: `set the version (asdf set ${plugin} VERSION), or give the program's own path` },
  );
}

/** pluginVersions reads the versions of `plugin`'s line in a `.tool-versions` text; undefined without one. */
function pluginVersions(text: string | undefined, plugin: string): string[] | undefined {
  for (const line of text?.split('\n') ?? []) {
    const [name, ...versions] = line.trim().split(/\s+/);
    if (name === plugin) return versions;
  }
  return undefined;
}

/**
 * firstInstalled returns the first of `versions` whose program (`pathOf`) the root has, as the managers
 * try them in order; `system` (PATH's next program, which no image has) is FILE_NOT_FOUND. Undefined
 * when none has it.
 */
async function firstInstalled(
  root: RootFs,
  versions: readonly string[],
  shim: string,
  whose: string,
  program: string,
  from: string,
  pathOf: (version: string) => { path: string; version: string } | undefined,
): Promise<{ path: string; version: string } | undefined> {
  for (const v of versions) {
    if (v === 'system') {
      throw new FromscratchError(
        'FILE_NOT_FOUND',
        `${program} is ${shim}, and ${whose} version here is "system" (from ${from}): the program it runs is the next ${program} on PATH`,
        { hint: `give that program's own path, e.g. --binary /usr/bin/${program}` },
      );
    }
    const p = pathOf(v);
    if (p !== undefined && (await exists(root, p.path))) return p;
  }
  return undefined;
}

/** latestUnder picks the highest installed version under a prefix (`3.11` → `3.11.7`), as pyenv does. */
function latestUnder(installed: readonly string[], prefix: string): string | undefined {
  const under = installed.filter((v) => v.startsWith(`${prefix}.`) && /^[\d.]+$/.test(v));
  const key = (v: string) => v.split('.').map(Number);
  under.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      const d = (x[i] ?? -1) - (y[i] ?? -1);
      if (d !== 0) return d;
    }
    return 0;
  });
  return under.at(-1);
}

/** RUST_TRIPLES maps node's architecture to rustup's host triple. */
const RUST_TRIPLES: Readonly<Record<string, string>> = {
  x64: 'x86_64-unknown-linux-gnu',
  arm64: 'aarch64-unknown-linux-gnu',
  arm: 'armv7-unknown-linux-gnueabihf',
  ppc64: 'powerpc64le-unknown-linux-gnu',
  s390x: 's390x-unknown-linux-gnu',
  riscv64: 'riscv64gc-unknown-linux-gnu',
};

async function rustupProgram(root: RootFs, program: string, ctx: ShimContext): Promise<ShimProgram> {
  const home = ctx.env.RUSTUP_HOME || `${homeOf(ctx)}/.rustup`;
  let toolchain: string | undefined;
  let from: string | undefined;
  if (ctx.env.RUSTUP_TOOLCHAIN) {
    toolchain = ctx.env.RUSTUP_TOOLCHAIN;
    from = '$RUSTUP_TOOLCHAIN';
  }
  if (toolchain === undefined) {
    const file = await nearestFile(root, ctx.cwd, ['rust-toolchain.toml', 'rust-toolchain']);
    if (file !== undefined) {
      const text = await readText(root, file);
      toolchain =
        /^\s*channel\s*=\s*"([^"]+)"/m.exec(text ?? '')?.[1] ??
        (text !== undefined && !text.includes('=') ? text.trim().split(/\s+/)[0] : undefined);
      from = file;
    }
  }
  const settingsPath = `${home}/settings.toml`;
  const settings = toolchain === undefined ? await readText(root, settingsPath) : undefined;
  if (toolchain === undefined && settings !== undefined) {
    // [overrides]: "DIR" = "TOOLCHAIN", the nearest directory of the working directory wins
    const overrides = /^\[overrides\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(settings)?.[1] ?? '';
    let best = -1;
    for (const line of overrides.matchAll(/^\s*"([^"]+)"\s*=\s*"([^"]+)"/gm)) {
      const dir = line[1]!;
      if ((ctx.cwd === dir || ctx.cwd.startsWith(`${dir}/`)) && dir.length > best) {
        best = dir.length;
        toolchain = line[2]!;
        from = `${settingsPath} (override of ${dir})`;
      }
    }
    if (toolchain === undefined) {
      toolchain = /^\s*default_toolchain\s*=\s*"([^"]+)"/m.exec(settings)?.[1];
      if (toolchain !== undefined) from = settingsPath;
    }
  }
  if (toolchain === undefined) {
    throw new FromscratchError(
      'FILE_NOT_FOUND',
      `${program} is a rustup proxy, and rustup has no toolchain chosen here (no RUSTUP_TOOLCHAIN, rust-toolchain file or default in ${settingsPath})`,
      { hint: `give the toolchain's program: --binary ${home}/toolchains/TOOLCHAIN/bin/${program}` },
    );
  }
  const installed = await root.readdir(`${home}/toolchains`).catch(() => [] as string[]);
  const triple = RUST_TRIPLES[process.arch];
  const dir = installed.includes(toolchain)
    ? toolchain
    : installed.find((t) => triple !== undefined && t === `${toolchain}-${triple}`);
  const p = dir === undefined ? undefined : `${home}/toolchains/${dir}/bin/${program}`;
  if (p === undefined || !(await exists(root, p))) {
    throw new FromscratchError(
      'FILE_NOT_FOUND',
      `${program} is a rustup proxy, and toolchain ${toolchain} (from ${from}) ${dir === undefined ? 'is not installed' : `has no ${program}`} in ${home}/toolchains`,
      {
        hint: `rustup toolchain install ${toolchain} (or rustup component add), or give the program's own path`,
      },
    );
  }
  return { program: p, chosen: `rustup toolchain ${dir} (from ${from})` };
}

/**
 * nearestFile finds the first of `names` in `dir` or its nearest parent: a file that is not a
 * directory, and that `accept` takes when given.
 */
async function nearestFile(
  root: RootFs,
  dir: string,
  names: readonly string[],
  accept?: (path: string) => Promise<boolean>,
): Promise<string | undefined> {
  for (let d = dir; ; d = parentPath(d)) {
    for (const n of names) {
      const p = `${d === '/' ? '' : d}/${n}`;
      const st = await root.lstat(p).catch(() => undefined);
      if (st !== undefined && st.type !== 'dir' && (!accept || (await accept(p)))) return p;
    }
    if (d === '/' || d === '') return undefined;
  }
}

/** exists tells whether the root has an entry at `path`. */
async function exists(root: RootFs, path: string): Promise<boolean> {
  return (await root.lstat(path).catch(() => undefined)) !== undefined;
}

/** homeOf is the home directory of the build's user, where the managers keep their settings. */
function homeOf(ctx: ShimContext): string {
  return ctx.env.HOME || '/root';
}

async function readText(root: RootFs, path: string): Promise<string | undefined> {
  try {
    return Buffer.from(await root.read(path, { limit: 64 * 1024 })).toString('utf8');
  } catch {
    return undefined;
  }
}

/** readWords reads a version file: its words, comments (`#`) left out; undefined when it cannot be read. */
async function readWords(root: RootFs, path: string): Promise<string[] | undefined> {
  const text = await readText(root, path);
  if (text === undefined) return undefined;
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .flatMap((l) => l.split(/\s+/))
    .filter((w) => w !== '' && !w.includes('..'));
}
