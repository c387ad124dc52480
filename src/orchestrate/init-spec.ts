/**
 * init-spec.ts — `fromscratch init`: a commented fromscratch.yaml for a directory, guessed from what is
 * in it (a package.json → a Node.js app; a Dockerfile → said, since `-f` builds it as it is), that
 * references the JSON Schema shipped in schema/ so editors validate it, and that `fromscratch build -c`
 * accepts as written. IO: reads the directory, writes one file atomically.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { access, link, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { delimiter, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FromscratchError } from '../errors.ts';

/** SPEC_FILE is the file name `init` writes and `build CONTEXT` looks for. */
export const SPEC_FILE = 'fromscratch.yaml';

/**
 * SCHEMA_PATH is the JSON Schema of fromscratch.yaml shipped with the package (schema/ at its root):
 * two levels up from src/orchestrate/, three from the compiled dist/src/orchestrate/.
 */
export const SCHEMA_PATH = (() => {
  const candidates = ['../../schema/', '../../../schema/'].map((d) =>
    fileURLToPath(new URL(`${d}fromscratch.schema.json`, import.meta.url)),
  );
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
})();

/** InitSpecOptions configures initSpec. Every field is optional. */
export interface InitSpecOptions {
  /** replace an existing fromscratch.yaml (default false: OUTPUT_UNWRITABLE) */
  readonly force?: boolean;
  /** PATH searched for the node program of a Node.js app (default process.env.PATH) */
  readonly path?: string;
}

/** InitSpecResult says what initSpec wrote and what it guessed. */
export interface InitSpecResult {
  readonly file: string;
  /** `node app`, `Dockerfile`, or `program` (the default skeleton) */
  readonly guessed: 'node app' | 'Dockerfile' | 'program';
}

/**
 * initSpec writes `dir/fromscratch.yaml` and returns its path and what it guessed. Throws
 * OUTPUT_UNWRITABLE when the file exists (unless `force`) or cannot be written, FILE_UNREADABLE for a
 * package.json that is not JSON. The file is written whole or not at all.
 * @example
 * const { file } = await initSpec(process.cwd());   // then: fromscratch build -c fromscratch.yaml
 */
export async function initSpec(dir: string, opts: InitSpecOptions = {}): Promise<InitSpecResult> {
  const file = join(dir, SPEC_FILE);
  const text = await initSpecText(dir, opts);
  const tmp = join(dir, `.${SPEC_FILE}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, text.text, { flag: 'wx', mode: 0o666 });
    if (opts.force) await rename(tmp, file);
    else {
      // link() fails when the name exists: no check-then-write race with another writer
      await link(tmp, file).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'EEXIST') {
          throw new FromscratchError('OUTPUT_UNWRITABLE', `${file} already exists`, {
            hint: 'edit it, or run fromscratch init --force to replace it',
          });
        }
        throw e;
      });
    }
  } catch (e) {
    if (e instanceof FromscratchError) throw e;
    throw new FromscratchError('OUTPUT_UNWRITABLE', `cannot write ${file}: ${(e as Error).message}`, {
      hint: 'run fromscratch init in a directory you can write to',
      cause: e,
    });
  } finally {
    await rm(tmp, { force: true });
  }
  return { file, guessed: text.guessed };
}

/** initSpecText makes the text initSpec writes for `dir` (no writes). */
export async function initSpecText(
  dir: string,
  opts: Pick<InitSpecOptions, 'path'> = {},
): Promise<{ text: string; guessed: InitSpecResult['guessed'] }> {
  const schema = schemaReference(dir);
  const head = [
    `# yaml-language-server: $schema=${schema}`,
    '# fromscratch.yaml: what the image must run; fromscratch adds everything it needs, computed without',
    '# running it. Build it with:  fromscratch build -c fromscratch.yaml -o oci:out:1',
    '# Every key is described in the schema above (editors with the YAML language server check this file).',
  ];
  const hasDockerfile = await exists(join(dir, 'Dockerfile'));
  const dockerNote = hasDockerfile
    ? [
        '#',
        '# A Dockerfile is here too: fromscratch builds it as it is, without a daemon:',
        '#   fromscratch build -f Dockerfile . -o oci:out:1',
        '# This file is the other way to say what the image holds.',
      ]
    : [];
  const pkg = await readPackageJson(dir);
  if (pkg) {
    const node = findProgram('node', opts.path ?? process.env.PATH ?? '') ?? '/usr/bin/node';
    const main = normalizeMain(pkg.main);
    const lines = [
      ...head,
      ...dockerNote,
      '',
      `# a Node.js app${pkg.name ? ` (${pkg.name})` : ''}: the node program with its libraries, and this directory as /app`,
      'contents:',
      `  - binary: ${yamlString(node)}`,
      '  - add: .                 # relative paths are relative to this file',
      '    to: /app',
      '  # - package: ca-certificates   # a Debian package and its dependencies, from apt',
      `entrypoint: [${yamlString(node)}, ${yamlString(`/app/${main}`)}]`,
      'workdir: /app',
      'user: nonroot              # uid 65532, in the /etc/passwd fromscratch writes',
      'env:',
      '  NODE_ENV: production',
      '# expose: [8080]',
      '# platforms: [linux/amd64]',
      '',
    ];
    return { text: lines.join('\n'), guessed: 'node app' };
  }
  const sh = findProgram('sh', opts.path ?? process.env.PATH ?? '') ?? '/bin/sh';
  const lines = [
    ...head,
    ...dockerNote,
    '',
    'contents:',
    `  - binary: ${yamlString(sh)}        # replace with your program: its libraries and loader come along`,
    '  # - add: ./config           # host files or directories as they are (relative to this file)',
    '  #   to: /etc/app',
    '  # - package: ca-certificates   # a Debian package and its dependencies, from apt',
    '  # - trace: ./app --selftest   # run a command on the host; keep every file it opened',
    `entrypoint: [${yamlString(sh)}]`,
    '# cmd: ["-c", "echo hello"]',
    '# env: {LANG: C.UTF-8}',
    '# user: nonroot',
    '# workdir: /',
    '# platforms: [linux/amd64]',
    '',
  ];
  return { text: lines.join('\n'), guessed: hasDockerfile ? 'Dockerfile' : 'program' };
}

/**
 * schemaReference is how the written file names the schema: a relative path when the schema lies under
 * `dir` (a project with fromscratch in node_modules, or this repository), else a file:// URL.
 */
function schemaReference(dir: string): string {
  const rel = relative(resolve(dir), SCHEMA_PATH);
  if (!rel.startsWith('..') && !rel.startsWith(sep)) return `./${rel.split(sep).join('/')}`;
  return pathToFileURL(SCHEMA_PATH).href;
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p, constants.F_OK);
    return true;
  } catch {
    return false; // absent (or unreadable): nothing to guess from
  }
}

async function readPackageJson(dir: string): Promise<{ name?: string; main?: string } | undefined> {
  const p = join(dir, 'package.json');
  let text: string;
  try {
    text = await readFile(p, 'utf8');
  } catch {
    return undefined; // no package.json: not a Node.js app
  }
  try {
    const v = JSON.parse(text) as { name?: unknown; main?: unknown };
    return {
      ...(typeof v.name === 'string' ? { name: v.name } : {}),
      ...(typeof v.main === 'string' ? { main: v.main } : {}),
    };
  } catch (e) {
    throw new FromscratchError('FILE_UNREADABLE', `${p} is not valid JSON`, {
      hint: 'fix package.json (fromscratch init reads its name and main)',
      cause: e,
    });
  }
}

/** normalizeMain turns package.json's main into a path under /app (default index.js, as Node does). */
function normalizeMain(main: string | undefined): string {
  const m = (main ?? 'index.js').replace(/^\.\//, '');
  return m === '' || m.startsWith('/') || m.split('/').includes('..') ? 'index.js' : m;
}

/** findProgram looks a program up on PATH, as a shell would (the first executable file). */
function findProgram(name: string, path: string): string | undefined {
  for (const d of path.split(delimiter)) {
    if (!d.startsWith('/')) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** yamlString writes a string as a YAML flow scalar (JSON strings are valid YAML). */
function yamlString(s: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(s) ? s : JSON.stringify(s);
}
