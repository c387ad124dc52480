/**
 * real-elfdata.test.ts — real programs, built as a user would, run FROM scratch in docker with
 * `--network none`, output compared with the host's (issue 11, the elfdata part): ELF files that are no
 * program of the image copied as data (a Node.js app whose node_modules holds a native addon compiled
 * here with node-gyp, its object files, an archive, a prebuilt arm64 `.node`, a truncated one, a core
 * and a debug file), a gcc compile-and-run traced on the host (the compiler reads crt1.o as data),
 * static-pie glibc programs using iconv and NSS (symbols and stripped), and `--binary SRC:DEST` with
 * the default entrypoint. Every image is also read by skopeo/umoci (OCI layout) and docker.
 *
 * Each row: `prepare` writes its inputs into a fresh directory (fixtures shared within the file: the
 * addon is built once), `build` are the CLI arguments, `host` is the command whose output the image's
 * entrypoint must print, `check` looks at what the build said and holds.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildElf } from '../elf/elf-builder.ts';
import {
  dockerRemoveImage,
  dockerRun,
  requireTool,
  run,
  validateOciLayoutWithTools,
  withTempDir,
} from '../support/validate-tools.ts';
import { type CliResult, fromscratch } from './cli.ts';

const NODE = process.execPath;
const NODE_GYP = '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js';
const images: string[] = [];
after(async () => {
  for (const i of images) await dockerRemoveImage(i);
});

interface Row {
  readonly name: string;
  /** writes the inputs into dir */
  readonly prepare: (dir: string) => Promise<void>;
  /** build arguments (outputs are added) */
  readonly build: readonly string[];
  /** the command run on the host, in dir, whose stdout the image must print */
  readonly host: readonly string[];
  /** arguments given to `docker run IMAGE` (default none: the image's entrypoint and cmd) */
  readonly args?: readonly string[];
  readonly check?: (r: CliResult, dir: string, oci: string) => Promise<void>;
  /** a big image (node, gcc): umoci stat but no umoci unpack, to keep the file near two minutes */
  readonly big?: boolean;
}

const ADDON_C = `#include <node_api.h>
#include <zlib.h>
#include <stdio.h>
static napi_value Hello(napi_env env, napi_callback_info info) {
  char buf[128];
  snprintf(buf, sizeof buf, "hello from a native addon built here, zlib %s", zlibVersion());
  napi_value s;
  napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &s);
  return s;
}
static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, 0, 0, Hello, 0, &fn);
  napi_set_named_property(env, exports, "hello", fn);
  return exports;
}
NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
`;

/** buildAddon builds the native addon in `dir` (node-gyp offline, against the installed Node headers). */
async function buildAddon(dir: string): Promise<void> {
  requireTool('g++', 'g++');
  requireTool('make', 'make');
  assert.ok(
    existsSync(NODE_GYP),
    `node-gyp not found at ${NODE_GYP}: it comes with npm (Node.js from nodesource)`,
  );
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'binding.gyp'),
    JSON.stringify({ targets: [{ target_name: 'hello', sources: ['hello.c'], libraries: ['-lz'] }] }),
  );
  await writeFile(join(dir, 'hello.c'), ADDON_C);
  await writeFile(join(dir, 'package.json'), '{"name":"hello-addon","main":"index.js"}\n');
  await writeFile(join(dir, 'index.js'), "module.exports = require('./build/Release/hello.node');\n");
  await run(NODE, [NODE_GYP, 'rebuild', '--nodedir=/usr'], {
    cwd: dir,
    env: { ...process.env, HOME: join(dir, '..', 'gyp-home'), npm_config_nodedir: '/usr' },
  });
}

async function nodeApp(dir: string): Promise<void> {
  const mod = join(dir, 'app/node_modules/hello-addon');
  await buildAddon(mod);
  const rel = join(mod, 'build/Release');
  // an archive of the object files, as some packages ship
  await run('ar', ['rc', join(rel, 'libhello.a'), join(rel, 'obj.target/hello/hello.o')]);
  const node = await readFile(join(rel, 'hello.node'));
  await mkdir(join(mod, 'prebuilds/linux-arm64'), { recursive: true });
  await writeFile(
    join(mod, 'prebuilds/linux-arm64/hello.node'),
    buildElf({ cls: 64, le: true, machine: 183, needed: ['libc.so.6', 'libz.so.1'], soname: 'hello.node' }),
  );
  await mkdir(join(mod, 'prebuilds/linux-ia32'), { recursive: true });
  await writeFile(
    join(mod, 'prebuilds/linux-ia32/hello.node'),
    buildElf({ cls: 32, le: true, machine: 3, needed: ['libc.so.6'], soname: 'hello.node' }),
  );
  // prebuildify ships a musl build beside the glibc one
  await mkdir(join(mod, 'prebuilds/linux-x64'), { recursive: true });
  await writeFile(
    join(mod, 'prebuilds/linux-x64/node.napi.musl.node'),
    buildElf({ cls: 64, le: true, machine: 62, needed: ['libc.musl-x86_64.so.1'] }),
  );
  await mkdir(join(mod, 'test/fixtures'), { recursive: true });
  await writeFile(join(mod, 'test/fixtures/truncated.node'), node.subarray(0, 600));
  const core = Buffer.from(node);
  core.writeUInt16LE(4, 16); // ET_CORE
  await writeFile(join(mod, 'test/fixtures/core'), core);
  await run('objcopy', ['--only-keep-debug', join(rel, 'hello.node'), join(rel, 'hello.node.debug')]);
  await writeFile(
    join(dir, 'app/index.js'),
    "const addon = require('hello-addon');\nconsole.log(addon.hello());\nconsole.log('node', process.version);\n",
  );
}

const STATIC_C = `#include <iconv.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
int main(void) {
  iconv_t cd = iconv_open("ISO-8859-1", "UTF-8");
  if (cd == (iconv_t)-1) { perror("iconv_open"); return 1; }
  char in[] = "caf\\xc3\\xa9 na\\xc3\\xafve", out[64], *ip = in, *op = out;
  size_t il = strlen(in), ol = sizeof out;
  if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) { perror("iconv"); return 1; }
  printf("iconv UTF-8 -> ISO-8859-1:");
  for (char *p = out; p < op; p++) printf(" %02x", (unsigned char)*p);
  printf("\\n");
  struct passwd *pw = getpwnam("root");
  printf("getpwnam root: uid %d\\n", pw ? (int)pw->pw_uid : -1);
  struct addrinfo hints = {0}, *res;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo("localhost", "80", &hints, &res);
  if (rc) { printf("getaddrinfo: %s\\n", gai_strerror(rc)); return 1; }
  char a[64];
  inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, a, sizeof a);
  printf("getaddrinfo localhost: %s\\n", a);
  return 0;
}
`;

async function staticPie(dir: string, strip: boolean): Promise<void> {
  const gcc = requireTool('gcc', 'gcc');
  await writeFile(join(dir, 'st.c'), STATIC_C);
  await run(gcc, ['-static-pie', '-O2', 'st.c', '-o', 'st'], { cwd: dir });
  if (strip) await run('strip', ['st'], { cwd: dir });
}

const ZPROG_C = `#include <stdio.h>
#include <zlib.h>
int main(void) { printf("zlib %s, crc32 %lu\\n", zlibVersion(), crc32(0, (const unsigned char *)"abc", 3)); return 0; }
`;

async function config(oci: string): Promise<{ Entrypoint?: string[]; Cmd?: string[] }> {
  const skopeo = requireTool('skopeo', 'skopeo');
  const c = JSON.parse((await run(skopeo, ['inspect', '--config', `oci:${oci}:t`])).stdout) as {
    config?: { Entrypoint?: string[]; Cmd?: string[] };
  };
  return c.config ?? {};
}

function noteLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.includes('copied as data'));
}

const rows: Row[] = [
  {
    name: 'node app with a native addon built from source, its .o/.a, arm64, ia32 and musl prebuilds, a truncated, a core and a debug .node',
    prepare: nodeApp,
    big: true,
    build: ['--binary', NODE, '--add', './app:/app', '--entrypoint', JSON.stringify([NODE, '/app/index.js'])],
    host: [NODE, 'app/index.js'],
    check: async (r, _dir, oci) => {
      const notes = noteLines(r.stderr);
      assert.equal(notes.length, 1, `one summary note:\n${r.stderr}`);
      for (const part of [
        '7 ELF files copied as data',
        '1 file for another C library',
        '1 relocatable object',
        '2 files of other architectures',
        '1 truncated ELF file',
        '1 core file',
        '1 separate debug file',
      ])
        assert.ok(notes[0]!.includes(part), `note says "${part}": ${notes[0]}`);
      const why = await fromscratch([
        'why',
        `oci:${oci}:t`,
        '/app/node_modules/hello-addon/prebuilds/linux-arm64/hello.node',
      ]);
      assert.equal(why.code, 0, why.stderr);
      assert.match(why.stdout, /file of another architecture \(built for arm64\)/);
      const ia32 = await fromscratch([
        'why',
        `oci:${oci}:t`,
        '/app/node_modules/hello-addon/prebuilds/linux-ia32/hello.node',
      ]);
      assert.match(ia32.stdout, /built for 386; the root has no 386 loader/);
      assert.match(why.stdout, /copied as a plain file, no closure/);
      const lib = await fromscratch([
        'why',
        `oci:${oci}:t`,
        '/app/node_modules/hello-addon/build/Release/hello.node',
      ]);
      assert.doesNotMatch(lib.stdout, /copied as a plain file/, 'the real addon is a library, not data');
    },
  },
  {
    name: 'gcc compile-and-run traced on the host: the toolchain reads crt1.o and friends as data',
    big: true,
    prepare: async (dir) => {
      requireTool('strace', 'strace');
      await writeFile(join(dir, 't.c'), ZPROG_C);
    },
    build: [
      '--trace',
      'sh -c "gcc -o /tmp/t t.c -lz && /tmp/t"',
      '--add',
      './t.c:/src/t.c',
      '--workdir',
      '/src',
      '--cmd',
      JSON.stringify(['sh', '-c', 'gcc -o /tmp/t t.c -lz && /tmp/t']),
    ],
    host: ['sh', '-c', 'gcc -o /tmp/fromscratch-elfdata-t t.c -lz && /tmp/fromscratch-elfdata-t'],
    check: async (r) => {
      const notes = noteLines(r.stderr);
      assert.equal(notes.length, 1, r.stderr);
      assert.match(notes[0]!, /\d+ relocatable objects/);
      assert.match(notes[0]!, /crt/);
    },
  },
  {
    name: 'Dockerfile `# fromscratch: closure` COPY of a directory with a program, its .o and an arm64 .so',
    prepare: async (dir) => {
      const gcc = requireTool('gcc', 'gcc');
      await mkdir(join(dir, 'app'), { recursive: true });
      await writeFile(join(dir, 'app/prog.c'), ZPROG_C);
      await run(gcc, ['-c', 'prog.c', '-o', 'prog.o'], { cwd: join(dir, 'app') });
      await run(gcc, ['prog.o', '-o', 'prog', '-lz'], { cwd: join(dir, 'app') });
      await writeFile(
        join(dir, 'app/libfast-arm64.so'),
        buildElf({ cls: 64, le: true, machine: 183, needed: ['libz.so.1'] }),
      );
      await writeFile(
        join(dir, 'Dockerfile'),
        'FROM scratch\n# fromscratch: closure\nCOPY app/ /app/\nENTRYPOINT ["/app/prog"]\n',
      );
    },
    build: ['.'],
    host: ['./app/prog'],
    check: async (r) => {
      const notes = noteLines(r.stderr);
      assert.equal(notes.length, 1, r.stderr);
      assert.match(notes[0]!, /2 ELF files copied as data/);
      assert.match(notes[0]!, /1 relocatable object\b/);
      assert.match(notes[0]!, /1 file of another architecture/);
    },
  },
  {
    name: 'static-pie glibc program with iconv, getpwnam, getaddrinfo (symbols)',
    prepare: (dir) => staticPie(dir, false),
    build: ['--binary', './st:/usr/local/bin/st'],
    host: ['./st'],
    check: async (r) => assert.match(r.stderr, /note: entrypoint \["\/usr\/local\/bin\/st"\]/),
  },
  {
    name: 'the same program stripped: the strings tell',
    prepare: (dir) => staticPie(dir, true),
    build: ['--binary', './st:/usr/local/bin/st'],
    host: ['./st'],
  },
  {
    name: '--binary ./prog:/usr/local/bin/prog, entrypoint by default, closure from the program',
    prepare: async (dir) => {
      await writeFile(join(dir, 'prog.c'), ZPROG_C);
      await run(requireTool('gcc', 'gcc'), ['prog.c', '-o', 'prog', '-lz'], { cwd: dir });
    },
    build: ['--binary', './prog:/usr/local/bin/prog'],
    host: ['./prog'],
    check: async (r, dir, oci) => {
      assert.match(r.stderr, /note: entrypoint \["\/usr\/local\/bin\/prog"\]: the one --binary/);
      assert.deepEqual((await config(oci)).Entrypoint, ['/usr/local/bin/prog']);
      // a relative program without DEST lands at /NAME, never at its host path
      const rel = await fromscratch(['build', '--binary', './prog', '-o', 'oci:rel:t', '--json'], {
        cwd: dir,
      });
      assert.equal(rel.code, 0, rel.stderr);
      assert.deepEqual((await config(join(dir, 'rel'))).Entrypoint, ['/prog']);
      const ls = await fromscratch(['inspect', 'oci:rel:t', '--json'], { cwd: dir });
      const files = (
        JSON.parse(ls.stdout) as { images: { layers: { files: { path: string }[] }[] }[] }
      ).images[0]!.layers.flatMap((l) => l.files).map((f) => f.path);
      assert.ok(files.includes('/prog'), 'the program is at /prog');
      assert.ok(!files.some((f) => f.startsWith(dir)), 'no host path in the image');
      assert.ok(
        files.some((f) => /\/libz\.so\.1/.test(f)),
        'its closure came along',
      );
    },
  },
];

for (const [i, row] of rows.entries()) {
  test(`real program: ${row.name}`, async () => {
    await withTempDir('e2e-elfdata', async (dir) => {
      const work = join(dir, 'work');
      await mkdir(work, { recursive: true });
      await row.prepare(work);
      const image = `e2e-elfdata/row${i}:1`;
      images.push(image);
      const r = await fromscratch(
        ['build', '--attach-record', ...row.build, '-o', 'oci:out:t', '-o', `docker-daemon:${image}`],
        { cwd: work },
      );
      assert.equal(r.code, 0, r.stderr);
      const oci = join(work, 'out');
      await validateOciLayoutWithTools(oci, 't', row.big ? { unpack: false } : {});
      const host = execFileSync(row.host[0]!, row.host.slice(1), { cwd: work, encoding: 'utf8' });
      assert.ok(host.length > 0, 'the host run printed something');
      assert.equal(await dockerRun(image, row.args ?? []), host, 'the image prints what the host prints');
      await row.check?.(r, work, oci);
    });
  });
}
