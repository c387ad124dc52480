/**
 * trace.test.ts — `fromscratch build --trace` as a new user tries it (issue 4): real interpreters and
 * tools traced on the host, run FROM scratch in Docker with no network, compared with the host's output;
 * `why` names the trace; a size table (image vs. the Debian packages the files come from) on stderr.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { dockerRemoveImage, dockerRun, requireTool, run, withTempDir } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

/** A traced program: argv run on the host, traced, and run again inside the image. */
interface TraceCase {
  readonly name: string;
  readonly argv: readonly string[];
  /** --add arguments (relative to the temp dir) */
  readonly add?: readonly string[];
  /** files written into the temp dir before the build (path → [content, mode]) */
  readonly files?: Readonly<Record<string, readonly [string, number]>>;
  /** argv inside the image when it differs from argv on the host */
  readonly imageArgv?: readonly string[];
  /** a file the trace must have added, checked with `why` */
  readonly traced: string;
}

interface SizeRow {
  readonly name: string;
  readonly files: number;
  readonly compressed: number;
  readonly fileBytes: number;
  readonly packages: number;
  readonly installedKiB: number;
}

const rows: SizeRow[] = [];
const ENV = { LC_ALL: 'C', TZ: 'UTC' };

/** shellQuote quotes one word for the trace command line (POSIX single quotes). */
function shellQuote(w: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(w) ? w : `'${w.replaceAll("'", "'\\''")}'`;
}

/** inspectImage returns the files, compressed size and file bytes `fromscratch inspect --json` reports. */
async function inspectImage(
  ref: string,
  cwd: string,
): Promise<{ files: { path: string; type: string }[]; compressed: number; fileBytes: number }> {
  const r = await fromscratch(['inspect', ref, '--json'], { cwd });
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as {
    images: {
      layers: { files: { path: string; type: string }[] }[];
      compressedSize: number;
      fileBytes: number;
    }[];
  };
  const img = j.images[0]!;
  return {
    files: img.layers.flatMap((l) => l.files),
    compressed: img.compressedSize,
    fileBytes: img.fileBytes,
  };
}

/** otherMergedPath is the same file seen through the /usr merge (/lib/x ↔ /usr/lib/x), or undefined. */
function otherMergedPath(p: string): string | undefined {
  for (const d of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
    if (p.startsWith(`/${d}/`)) return `/usr${p}`;
    if (p.startsWith(`/usr/${d}/`)) return p.slice(4);
  }
  return undefined;
}

/** debianPackagesOf asks dpkg which host packages own the given files (either side of the /usr merge). */
async function debianPackagesOf(paths: readonly string[]): Promise<Set<string>> {
  const dpkg = requireTool('dpkg', 'dpkg');
  const queries = [
    ...new Set(paths.flatMap((p) => [p, otherMergedPath(p)].filter((x): x is string => x !== undefined))),
  ];
  const pkgs = new Set<string>();
  for (let i = 0; i < queries.length; i += 200) {
    const r = await run(dpkg, ['-S', ...queries.slice(i, i + 200)], { allowFail: true });
    for (const line of r.stdout.split('\n')) {
      if (line.startsWith('diversion by') || !line.includes(': ')) continue;
      for (const p of line.slice(0, line.indexOf(': ')).split(', ')) pkgs.add(p.trim());
    }
  }
  return pkgs;
}

/** installedSizeKiB sums the Installed-Size fields (KiB) of host packages. */
async function installedSizeKiB(pkgs: ReadonlySet<string>): Promise<number> {
  if (pkgs.size === 0) return 0;
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format, not a template
  const r = await run(requireTool('dpkg-query', 'dpkg'), ['-W', '-f', '${Installed-Size}\n', ...pkgs]);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .reduce((s, l) => s + Number(l), 0);
}

async function traceCase(c: TraceCase): Promise<void> {
  requireTool('strace', 'strace');
  requireTool('docker', 'docker.io');
  await withTempDir(`e2e-trace-${c.name}`, async (dir) => {
    for (const [p, [content, mode]] of Object.entries(c.files ?? {})) {
      await mkdir(join(dir, p, '..'), { recursive: true });
      await writeFile(join(dir, p), content);
      await chmod(join(dir, p), mode);
    }
    const host = await run(c.argv[0]!, c.argv.slice(1), { cwd: dir, env: { ...process.env, ...ENV } });
    assert.notEqual(host.stdout, '', `${c.name} prints something on the host`);
    const image = `e2e-trace/${c.name}:1`;
    const traceCmd = c.argv.map(shellQuote).join(' ');
    const imageArgv = c.imageArgv ?? c.argv;
    try {
      const r = await fromscratch(
        [
          'build',
          '--trace',
          traceCmd,
          ...(c.add ?? []).flatMap((a) => ['--add', a]),
          '--entrypoint',
          JSON.stringify(imageArgv),
          '-o',
          'oci:out:t',
          '-o',
          `docker-daemon:${image}`,
        ],
        { cwd: dir, env: ENV },
      );
      assert.equal(r.code, 0, `build of ${c.name} failed:\n${r.stderr}`);
      const inImage = await dockerRun(image);
      assert.equal(inImage, host.stdout, `${c.name}: the image prints what the host prints`);

      // why names the trace (on the oci output; see the report about docker-daemon records)
      const why = await fromscratch(['why', 'oci:out:t', c.traced], { cwd: dir });
      assert.equal(why.code, 0, why.stderr);
      assert.ok(
        why.stdout.includes(`used by \`${traceCmd}\``),
        `why ${c.traced} names the traced command:\n${why.stdout}`,
      );

      const info = await inspectImage('oci:out:t', dir);
      const regular = info.files.filter((f) => f.type === 'file').map((f) => f.path);
      const pkgs = await debianPackagesOf(regular);
      rows.push({
        name: c.name,
        files: info.files.length,
        compressed: info.compressed,
        fileBytes: info.fileBytes,
        packages: pkgs.size,
        installedKiB: await installedSizeKiB(pkgs),
      });
    } finally {
      await dockerRemoveImage(image);
    }
  });
}

after(() => {
  const mb = (n: number): string => (n / 1e6).toFixed(1).padStart(8);
  const lines = [
    'image      files  compressed MB  file MB  debs  debs Installed-Size MB',
    ...rows.map(
      (r) =>
        `${r.name.padEnd(9)} ${String(r.files).padStart(6)} ${mb(r.compressed).padStart(14)} ${mb(r.fileBytes)} ${String(r.packages).padStart(5)} ${mb(r.installedKiB * 1024).padStart(19)}`,
    ),
  ];
  process.stderr.write(`\n${lines.join('\n')}\n`);
});

test('python3 with json, sqlite3 and hashlib traced and run FROM scratch', async () => {
  await traceCase({
    name: 'python',
    argv: [
      '/usr/bin/python3',
      '-c',
      'import json, sqlite3, hashlib; print(json.dumps({"a": [1, 2]}), sqlite3.connect(":memory:").execute("select 6*7").fetchone()[0], hashlib.sha256(b"x").hexdigest())',
    ],
    traced: '/usr/lib/python3.11/json/__init__.py',
  });
});

test('perl with POSIX traced and run FROM scratch', async () => {
  await traceCase({
    name: 'perl',
    argv: [
      '/usr/bin/perl',
      '-MPOSIX',
      '-e',
      'print POSIX::floor(2.5), " ", POSIX::strftime("%Y-%m-%d", gmtime(86400)), "\\n"',
    ],
    traced: '/usr/lib/x86_64-linux-gnu/perl-base/POSIX.pm',
  });
});

test('ruby with json and openssl traced and run FROM scratch', async () => {
  requireTool('ruby', 'ruby');
  await traceCase({
    name: 'ruby',
    argv: [
      '/usr/bin/ruby',
      '-rjson',
      '-ropenssl',
      '-e',
      'puts JSON.generate({"a" => [1, 2]}); puts OpenSSL::Digest::SHA256.hexdigest("x")',
    ],
    traced: '/usr/lib/ruby/3.1.0/json.rb',
  });
});

test('git init and commit in a temp repository traced and run FROM scratch', async () => {
  requireTool('git', 'git');
  const script = [
    'set -e',
    'd=$(mktemp -d)',
    'cd "$d"',
    'git init -q',
    'git -c user.name=a -c user.email=b commit -q --allow-empty -m x',
    'git log --format=%s%n%an',
    'git rev-list --count HEAD',
    'cd /',
    'rm -rf "$d"',
  ].join('; ');
  await traceCase({ name: 'git', argv: ['/bin/sh', '-c', script], traced: '/usr/bin/git' });
});

test('a bash script calling coreutils, added with --add, traced and run FROM scratch', async () => {
  const script = [
    '#!/bin/bash',
    'set -euo pipefail',
    'cd "$(dirname "$0")"',
    'ls data | sort -r',
    'ls data | wc -l',
    'date -u -d @0',
    '',
  ].join('\n');
  await traceCase({
    name: 'bash',
    files: {
      'app/run.sh': [script, 0o755],
      'app/data/a': ['a\n', 0o644],
      'app/data/b': ['b\n', 0o644],
      'app/data/c': ['c\n', 0o644],
    },
    argv: ['/bin/bash', './app/run.sh'],
    imageArgv: ['/app/run.sh'],
    add: ['./app:/app'],
    traced: '/usr/bin/sort',
  });
});
