/**
 * sysroot-fixture.ts — builds a small Debian-shaped sysroot at test time with gcc: usr-merge symlinks,
 * the host's libc and loader copied in, and programs and libraries that exercise every rule of the
 * loader's search (RELIABILITY.md G2, G6, G7). Test helper only; nothing here is committed as a binary.
 */
import { execFile, execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
/** at most this many gcc at once: the machine is shared */
const PARALLEL = 4;

/** TRIPLET is the host's multiarch directory name (the tests run on x86_64 Debian). */
export const TRIPLET = 'x86_64-linux-gnu';
const LIBDIR = `/usr/lib/${TRIPLET}`;

/** Sysroot is a built fixture root. */
export interface Sysroot {
  /** the directory holding the sysroot (a scratch parent, so that escapes can be planted beside it) */
  readonly parent: string;
  /** the sysroot directory */
  readonly root: string;
  readonly cleanup: () => void;
}

function tool(cmd: string, args: string[], cwd: string, pkg: string): void {
  try {
    execFileSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new Error(`${cmd} is missing: install it (apt-get install ${pkg})`);
    throw new Error(`${cmd} ${args.join(' ')} failed: ${err.stderr?.toString() ?? err.message}`);
  }
}

/**
 * buildSysroot compiles the fixtures (about 30 gcc runs, in parallel where one does not link against
 * another's output) and lays out the sysroot.
 */
export async function buildSysroot(): Promise<Sysroot> {
  const parent = mkdtempSync(join(tmpdir(), 'fromscratch-closure-'));
  const root = join(parent, 'root');
  const b = join(parent, 'build');
  mkdirSync(b);
  const put = (p: string, data: string | Uint8Array, mode = 0o644) => {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), data, { mode });
  };
  // copies and patches of build outputs run once every compilation is done, in program order
  const later: (() => void)[] = [];
  const cp = (from: string, to: string, mode?: number) => {
    if (from.startsWith(b)) later.push(() => cpNow(from, to, mode));
    else cpNow(from, to, mode);
  };
  const cpNow = (from: string, to: string, mode?: number) => {
    mkdirSync(dirname(join(root, to)), { recursive: true });
    copyFileSync(from, join(root, to));
    if (mode !== undefined) execFileSync('chmod', [mode.toString(8), join(root, to)]);
  };
  const ln = (target: string, at: string) => {
    mkdirSync(dirname(join(root, at)), { recursive: true });
    symlinkSync(target, join(root, at));
  };
  const producers = new Map<string, Promise<unknown>>();
  const jobs: Promise<unknown>[] = [];
  let running = 0;
  const waiting: (() => void)[] = [];
  const slot = async () => {
    if (running >= PARALLEL) await new Promise<void>((r) => waiting.push(r));
    running++;
  };
  const release = () => {
    running--;
    waiting.shift()?.();
  };
  // each gcc waits for the latest job producing a library it links against (-lX, or a path)
  const gcc = (...args: string[]) => {
    const out = args[args.indexOf('-o') + 1]!;
    const inputs = args.map((a) =>
      a.startsWith('-l') ? `lib${a.slice(2)}.so` : a.startsWith(`${b}/`) ? a.slice(b.length + 1) : a,
    );
    const deps = inputs.map((n) => producers.get(n)).filter((p) => p !== undefined);
    const job = Promise.all(deps).then(async () => {
      await slot();
      try {
        await execFileAsync('gcc', args, { cwd: b });
      } catch (e) {
        const err = e as NodeJS.ErrnoException & { stderr?: string };
        if (err.code === 'ENOENT')
          throw new Error('gcc is missing: install it (apt-get install gcc libc6-dev)');
        throw new Error(`gcc ${args.join(' ')} failed: ${err.stderr ?? err.message}`);
      } finally {
        release();
      }
    });
    job.catch(() => undefined); // awaited below with the others
    producers.set(out, job);
    jobs.push(job);
  };
  const src = (name: string, text: string) => writeFileSync(join(b, name), text);
  const lib = (name: string, soname: string | undefined, ...extra: string[]) => {
    src(`${name}.c`, `int f_${name.replace(/\W/g, '_')}(void) { return 1; }\n`);
    gcc(
      '-shared',
      '-fPIC',
      '-o',
      name,
      `${name}.c`,
      ...(soname ? [`-Wl,-soname,${soname}`] : []),
      '-Wl,--no-as-needed',
      ...extra,
    );
  };
  const prog = (name: string, body: string, ...extra: string[]) => {
    src(`${name}.c`, body);
    gcc('-o', name, `${name}.c`, '-Wl,--no-as-needed', ...extra);
  };
  const MAIN = 'int main(void) { return 0; }\n';
  try {
    // usr-merge shape of Debian 12
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    ln('usr/bin', '/bin');
    ln('usr/lib', '/lib');
    ln('usr/lib64', '/lib64');
    ln('usr/sbin', '/sbin');
    cp(realpathSync(`${LIBDIR}/libc.so.6`), `${LIBDIR}/libc.so.6`, 0o755);
    cp(realpathSync(`${LIBDIR}/ld-linux-x86-64.so.2`), `${LIBDIR}/ld-linux-x86-64.so.2`, 0o755);
    ln(`/lib/${TRIPLET}/ld-linux-x86-64.so.2`, '/usr/lib64/ld-linux-x86-64.so.2');
    const libz = realpathSync(`${LIBDIR}/libz.so.1`);
    cp(libz, `${LIBDIR}/libz.so.1.2.13`);
    ln('libz.so.1.2.13', `${LIBDIR}/libz.so.1`);
    for (const l of ['libnss_files.so.2', 'libnss_dns.so.2', 'libgcc_s.so.1'])
      cp(realpathSync(`${LIBDIR}/${l}`), `${LIBDIR}/${l}`);
    cp(realpathSync('/usr/bin/env'), '/usr/bin/env', 0o755);
    cp(realpathSync('/bin/sh'), '/usr/bin/dash', 0o755);
    ln('dash', '/usr/bin/sh');
    put(
      '/etc/nsswitch.conf',
      'passwd: files\ngroup: files\nhosts: files [NOTFOUND=return] dns mdns4_minimal\n',
    );
    put('/etc/ld.so.conf', 'include /etc/ld.so.conf.d/*.conf\n');
    put('/etc/ld.so.conf.d/cachedir.conf', '/opt/cachedir\n');
    put('/etc/shadow', 'root:*:19000:0:99999:7:::\n', 0o600);
    put('/root/.ssh/libsecret.so', '-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n', 0o600);

    // G2: a DT_NEEDED cycle libA <-> libB, found through RUNPATH $ORIGIN/../lib
    const origin = ['-Wl,-rpath,$ORIGIN', '-Wl,--enable-new-dtags'];
    lib('libB.so', 'libB.so');
    lib('libA.so', 'libA.so', '-L.', '-lB', ...origin);
    lib('libB.so', 'libB.so', '-L.', '-lA', ...origin);
    prog('cyc', MAIN, '-L.', '-lA', '-Wl,-rpath,$ORIGIN/../lib', '-Wl,--enable-new-dtags');
    cp(join(b, 'cyc'), '/opt/cyc/bin/cyc', 0o755);
    cp(join(b, 'libA.so'), '/opt/cyc/lib/libA.so');
    cp(join(b, 'libB.so'), '/opt/cyc/lib/libB.so');

    // G2: a diamond dia -> libL, libR -> libBase
    lib('libBase.so', 'libBase.so');
    lib('libL.so', 'libL.so', '-L.', '-lBase', ...origin);
    lib('libR.so', 'libR.so', '-L.', '-lBase', ...origin);
    prog('dia', MAIN, '-L.', '-lL', '-lR', '-Wl,-rpath,/opt/dia/lib', '-Wl,--enable-new-dtags');
    cp(join(b, 'dia'), '/opt/dia/bin/dia', 0o755);
    for (const l of ['libBase.so', 'libL.so', 'libR.so']) cp(join(b, l), `/opt/dia/lib/${l}`);

    // RPATH is inherited down the chain, RUNPATH is not; an object with RUNPATH ignores every RPATH
    lib('libY.so', 'libY.so');
    lib('libX.so', 'libX.so', '-L.', '-lY');
    lib('libX2.so', 'libX2.so', '-L.', '-lY', '-Wl,-rpath,/nonexistent', '-Wl,--enable-new-dtags');
    prog('rp', MAIN, '-L.', '-lX', '-Wl,-rpath,/opt/rp', '-Wl,--disable-new-dtags');
    prog('run', MAIN, '-L.', '-lX', '-Wl,-rpath,/opt/rp', '-Wl,--enable-new-dtags');
    prog('rp2', MAIN, '-L.', '-lX2', '-Wl,-rpath,/opt/rp:/opt/rp2', '-Wl,--disable-new-dtags');
    for (const p of ['rp', 'run', 'rp2']) cp(join(b, p), `/opt/rp/bin/${p}`, 0o755);
    cp(join(b, 'libY.so'), '/opt/rp/libY.so');
    cp(join(b, 'libX.so'), '/opt/rp/libX.so');
    cp(join(b, 'libX2.so'), '/opt/rp2/libX2.so');

    // DF_1_NODEFLIB
    prog('nodef', MAIN, '-lz', '-Wl,-z,nodefaultlib');
    cp(join(b, 'nodef'), '/opt/nodef/nodef', 0o755);

    // wrong class and non-ELF files earlier in the path are skipped
    prog('mm', MAIN, '-lz', '-Wl,-rpath,/opt/mm32:/opt/mmtxt', '-Wl,--enable-new-dtags');
    cp(join(b, 'mm'), '/opt/mm/mm', 0o755);
    const z32 = Buffer.from(readFileSync(libz));
    z32[4] = 1; // EI_CLASS = ELFCLASS32
    put('/opt/mm32/libz.so.1', z32);
    put('/opt/mmtxt/libz.so.1', 'this is not a library\n');

    // G6: DT_NEEDED with a slash (relative: from the root), and absolute /etc/shadow
    mkdirSync(join(b, 'opt/p'), { recursive: true });
    src('p.c', 'int p(void){return 2;}\n');
    gcc('-shared', '-fPIC', '-o', 'opt/p/libp.so', 'p.c');
    prog('slash', MAIN, 'opt/p/libp.so');
    cp(join(b, 'slash'), '/opt/p/slash', 0o755);
    cp(join(b, 'opt/p/libp.so'), '/opt/p/libp.so');
    lib('libq.so', '/etc/shadow');
    prog('shadow', MAIN, join(b, 'libq.so'));
    cp(join(b, 'shadow'), '/opt/evil/shadow', 0o755);
    // G6: RUNPATH /root/.ssh, and $ORIGIN/../../../../../.. aiming above the root
    lib('libsecret.so', 'libsecret.so');
    prog('ssh', MAIN, '-L.', '-lsecret', '-Wl,-rpath,/root/.ssh', '-Wl,--enable-new-dtags');
    cp(join(b, 'ssh'), '/opt/evil/ssh', 0o755);
    lib('libesc.so', 'libesc.so');
    prog(
      'esc',
      MAIN,
      '-L.',
      '-lesc',
      '-Wl,-rpath,$ORIGIN/../../../../../..:$ORIGIN/../../../../../../..',
      '-Wl,--enable-new-dtags',
    );
    cp(join(b, 'esc'), '/opt/evil/bin/esc', 0o755);
    later.push(() => copyFileSync(join(b, 'libesc.so'), join(parent, 'libesc.so'))); // beside the root: must never be found

    // ld.so.cache vs ld.so.conf
    lib('libcd.so.1', 'libcd.so.1');
    prog('cd', MAIN, join(b, 'libcd.so.1'));
    cp(join(b, 'cd'), '/opt/cd/cd', 0o755);
    cp(join(b, 'libcd.so.1'), '/opt/cachedir/libcd.so.1');

    // glibc-hwcaps: a baseline and an x86-64-v3 build of one library
    lib('libhw.so.1', 'libhw.so.1');
    prog('hw', MAIN, join(b, 'libhw.so.1'));
    cp(join(b, 'hw'), '/opt/hw/hw', 0o755);
    cp(join(b, 'libhw.so.1'), `${LIBDIR}/libhw.so.1`);
    cp(join(b, 'libhw.so.1'), `${LIBDIR}/glibc-hwcaps/x86-64-v3/libhw.so.1`);

    // inference: NSS, gconv, libgcc_s, TLS -> CA bundle, .note.dlopen
    prog(
      'infer',
      `#include <netdb.h>
#include <iconv.h>
#include <pthread.h>
#include <stdint.h>
#define JSON "[{\\"feature\\":\\"fx\\",\\"priority\\":\\"recommended\\",\\"soname\\":[\\"libfx.so.2\\",\\"libfx.so.1\\"]},{\\"feature\\":\\"gone\\",\\"priority\\":\\"required\\",\\"soname\\":[\\"libgone.so.1\\"]},{\\"feature\\":\\"opt\\",\\"priority\\":\\"suggested\\",\\"soname\\":[\\"libsugg.so.1\\"]}]"
__attribute__((used, section(".note.dlopen"), aligned(4))) static const struct {
  uint32_t n, d, t; char name[4]; char desc[(sizeof(JSON) + 3) & ~3];
} note = { 4, sizeof(JSON), 0x407c0c0a, "FDO", JSON };
int main(int c, char **v) {
  struct addrinfo *r; getaddrinfo(v[0], 0, 0, &r);
  iconv_open("UTF-8", "LATIN1");
  if (c > 5) pthread_cancel(pthread_self());
  return 0;
}
`,
      '-Wl,-rpath,/opt/infer/lib',
      '-Wl,--enable-new-dtags',
    );
    cp(join(b, 'infer'), '/opt/infer/infer', 0o755);
    lib('libfx.so.1', 'libfx.so.1');
    lib('libsugg.so.1', 'libsugg.so.1');
    cp(join(b, 'libfx.so.1'), '/opt/infer/lib/libfx.so.1');
    cp(join(b, 'libsugg.so.1'), '/opt/infer/lib/libsugg.so.1');
    put(`${LIBDIR}/gconv/gconv-modules`, 'module INTERNAL FAKE// FAKE 1\n');
    put(`${LIBDIR}/gconv/gconv-modules.d/extra.conf`, 'module INTERNAL FAKE2// FAKE2 1\n');
    lib('FAKE.so', undefined);
    cp(join(b, 'FAKE.so'), `${LIBDIR}/gconv/FAKE.so`);
    // GCC's C++ library imports iconv_open (for a named locale's multibyte thousands separator): a stand-in
    src(
      'stdcxx.c',
      '#include <iconv.h>\nvoid *f_stdcxx(void) { return iconv_open("ASCII//TRANSLIT", "UTF-8"); }\n',
    );
    gcc('-shared', '-fPIC', '-o', 'libstdc++.so.6', 'stdcxx.c', '-Wl,-soname,libstdc++.so.6');
    prog('cxx', MAIN, join(b, 'libstdc++.so.6'), '-Wl,-rpath,/opt/cxx', '-Wl,--enable-new-dtags');
    cp(join(b, 'cxx'), '/opt/cxx/cxx', 0o755);
    cp(join(b, 'libstdc++.so.6'), '/opt/cxx/libstdc++.so.6');
    lib('libssl.so.3', 'libssl.so.3');
    prog('tls', MAIN, join(b, 'libssl.so.3'), '-Wl,-rpath,/opt/tls', '-Wl,--enable-new-dtags');
    cp(join(b, 'tls'), '/opt/tls/tls', 0o755);
    cp(join(b, 'libssl.so.3'), '/opt/tls/libssl.so.3');
    put('/etc/ssl/certs/ca-certificates.crt', '-----BEGIN CERTIFICATE-----\n');
    ln('/etc/ssl/certs/ca-certificates.crt', '/usr/lib/ssl/cert.pem');

    // musl's search: /etc/ld-musl-x86_64.path, libc.so is the loader
    lib('libmus.so', 'libmus.so');
    prog('mus', MAIN, '-L.', '-lmus', '-Wl,--dynamic-linker=/lib/ld-musl-x86_64.so.1');
    cp(join(b, 'mus'), '/opt/musl/bin/mus', 0o755);
    cp(join(b, 'libmus.so'), '/opt/musl/lib/libmus.so');
    cp(realpathSync(`${LIBDIR}/ld-linux-x86-64.so.2`), '/usr/lib/ld-musl-x86_64.so.1', 0o755);
    put('/etc/ld-musl-x86_64.path', '/opt/musl/lib\n/usr/lib\n');

    // scripts and files that are neither
    put('/usr/local/bin/tool', '#!/usr/bin/env -S mytool -x\necho hi\n', 0o755);
    cp(join(b, 'dia'), '/usr/bin/mytool', 0o755);
    put('/usr/local/bin/shscript', '#!/bin/sh -e\necho hi\n', 0o755);
    put('/usr/local/bin/noenv', '#!/usr/bin/env missingtool\n', 0o755);
    put('/data.txt', 'just data\n', 0o755);

    // a foreign-architecture program: e_machine patched to EM_AARCH64
    later.push(() => {
      const arm = Buffer.from(readFileSync(join(b, 'dia')));
      arm.writeUInt16LE(183, 18);
      put('/opt/arm/prog', arm, 0o755);
    });

    // G7: PT_INTERP pointing at a secret, and at a directory
    for (const [at, interp] of [
      ['/opt/evil/interp-shadow', '/etc/shadow'],
      ['/opt/evil/interp-dir', '/etc'],
    ] as const) {
      later.push(() => {
        const bin = Buffer.from(readFileSync(join(b, 'dia')));
        const i = bin.indexOf('/lib64/ld-linux-x86-64.so.2\0');
        bin.fill(0, i, i + 28);
        bin.write(interp, i, 'latin1');
        put(at, bin, 0o755);
      });
    }

    // file capabilities must survive
    cp(join(b, 'hw'), '/opt/cap/capprog', 0o755);

    await Promise.all(jobs);
    for (const f of later) f();
    tool('setcap', ['cap_net_raw+ep', join(root, 'opt/cap/capprog')], b, 'libcap2-bin');

    // the cache, as ldconfig builds it inside the root
    tool('ldconfig', ['-r', root], b, 'libc-bin');
  } catch (e) {
    await Promise.allSettled(jobs);
    rmSync(parent, { recursive: true, force: true });
    throw e;
  }
  return { parent, root, cleanup: () => rmSync(parent, { recursive: true, force: true }) };
}
