// biome-ignore-all lint/suspicious/noTemplateCurlyInString: shell scripts and test names hold shell expansions
/**
 * real-launch-data.test.ts — real programs from Debian, built as a user builds them and run under Docker
 * with `--network none`, each output compared with the same program run on the host (issue 11): programs
 * and libraries that open data, modules or helpers at compiled-in paths: openssl, tput, file, ImageMagick,
 * Graphviz, PHP, SoX, zsh, fontconfig, vim, pandoc, gdb, cmake, nmap, hunspell, Ghostscript; shell scripts
 * that run programs (an entrypoint, tzselect, zdiff) and Perl scripts that do (helpztags, an app's);
 * git, gpg, tar, make, groff and man; valgrind and stdbuf. The helpers are launch-support.ts's.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { requireTool, run, withTempDir } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';
import { build, docker, dockerRun } from './launch-support.ts';

describe('libraries that open a data file at a compiled-in path', () => {
  it('openssl req: libcrypto reads OPENSSLDIR/openssl.cnf; a self-signed certificate the host reads back', async () => {
    requireTool('openssl', 'openssl');
    await withTempDir('e2e-openssl', async (dir) => {
      const image = 'e2e/openssl:1';
      const b = await build(dir, ['--binary', '/usr/bin/openssl'], image);
      assert.doesNotMatch(b.stderr, /warning: .*openssl\.cnf/);
      await mkdir(join(dir, 'w'));
      await dockerRun(
        image,
        [
          'req',
          '-x509',
          '-newkey',
          'ed25519',
          '-subj',
          '/CN=fromscratch',
          '-nodes',
          '-keyout',
          '/w/k.pem',
          '-out',
          '/w/c.pem',
        ],
        { mount: join(dir, 'w') },
      );
      const subject = await run('openssl', ['x509', '-noout', '-subject', '-in', join(dir, 'w', 'c.pem')]);
      assert.match(subject.stdout, /CN ?= ?fromscratch/);
    });
  });

  it("gsettings (GLib's GSettings): the compiled schemas come with it; list-schemas and a key read as on the host; without the rule it stops and the build said so", async () => {
    requireTool('gsettings', 'libglib2.0-bin');
    await withTempDir('e2e-gsettings', async (dir) => {
      const image = 'e2e/gsettings:1';
      const b = await build(dir, ['--binary', '/usr/bin/gsettings'], image);
      assert.doesNotMatch(b.stderr, /warning: .*schemas/);
      const host = await run('gsettings', ['list-schemas']);
      assert.ok(host.stdout.trim().length > 0, 'the host has schemas');
      const ours = await dockerRun(image, ['list-schemas']);
      assert.equal(ours.stdout, host.stdout);
      const schema = host.stdout.split('\n').find((s) => s.trim() !== '')!;
      const keys = (await run('gsettings', ['list-keys', schema])).stdout.split('\n').filter(Boolean).sort();
      const key = keys[0]!;
      const hostValue = await run('gsettings', ['get', schema, key]);
      assert.equal((await dockerRun(image, ['get', schema, key])).stdout, hostValue.stdout);

      const bare = 'e2e/gsettings-bare:1';
      const without = await build(dir, ['--binary', '/usr/bin/gsettings', '--no-infer=library-data'], bare);
      assert.doesNotMatch(without.stderr, /gschemas/);
      const fails = await dockerRun(bare, ['list-schemas'], { allowFail: true });
      assert.notEqual(fails.code, 0);
      assert.match(fails.stderr, /No schemas installed/);
    });
  });

  it('tput (ncurses): the terminfo entries of the terminals TERM names, as on the host', async () => {
    requireTool('tput', 'ncurses-bin');
    await withTempDir('e2e-tput', async (dir) => {
      const image = 'e2e/tput:1';
      const b = await build(dir, ['--binary', '/usr/bin/tput'], image);
      assert.doesNotMatch(b.stderr, /warning: .*terminfo/);
      for (const term of ['xterm', 'xterm-256color', 'screen', 'linux', 'dumb']) {
        const host = await run('tput', ['-T', term, 'colors']);
        const ours = await dockerRun(image, ['colors'], { env: [`TERM=${term}`] });
        assert.equal(ours.stdout, host.stdout, term);
      }
    });
  });

  it("file(1): libmagic's magic.mgc comes with it; -b on a gzip, a JSON and an ELF file prints what the host prints", async () => {
    requireTool('file', 'file');
    await withTempDir('e2e-file', async (dir) => {
      await writeFile(join(dir, 'data.json'), '{"a": [1, 2]}\n');
      await writeFile(join(dir, 'data.gz'), gzipSync(Buffer.from('x'.repeat(1000))));
      const image = 'e2e/launch-file:1';
      const b = await build(
        dir,
        [
          '--binary',
          '/usr/bin/file',
          '--add',
          './data.json:/app/data.json',
          '--add',
          './data.gz:/app/data.gz',
        ],
        image,
      );
      assert.doesNotMatch(b.stderr, /warning: .*libmagic/);
      const host = await run('/usr/bin/file', [
        '-b',
        join(dir, 'data.json'),
        join(dir, 'data.gz'),
        '/usr/bin/file',
      ]);
      assert.match(host.stdout, /^JSON (text )?data\ngzip compressed data/);
      assert.equal(
        (await docker(image, ['-b', '/app/data.json', '/app/data.gz', '/usr/bin/file'])).stdout,
        host.stdout,
      );
      // without the rule the start check names the missing database at build time
      const bare = await fromscratch(
        ['build', '--binary', '/usr/bin/file', '--no-infer', 'library-data', '-o', 'oci:bare:1'],
        { cwd: dir },
      );
      assert.equal(bare.code, 0, bare.stderr);
      assert.match(
        bare.stderr,
        /libmagic\.so[^ ]* \(libmagic opens its compiled magic database\) finds none of .*magic\.mgc/,
      );
    });
  });
});

describe("libraries that load their modules from a directory compiled into them (ImageMagick's coders, Graphviz's plugins, SoX's formats)", () => {
  it('convert: rose: through a PNG file and back, and a pixel listing, as on the host; without the rule it knows no format and the build said so', async () => {
    requireTool('convert-im6.q16', 'imagemagick-6.q16');
    await withTempDir('e2e-modules-convert', async (dir) => {
      const image = 'e2e/launch-convert:1';
      const b = await build(dir, ['--binary', '/usr/bin/convert'], image);
      assert.doesNotMatch(b.stderr, /warning: .*(loads its modules|needs lib)/);
      const roundTrip = [
        'rose:',
        '-write',
        'png:/tmp/r.png',
        '+delete',
        '/tmp/r.png',
        '-format',
        '%m %wx%h %#',
        'info:',
      ];
      const pixels = ['-size', '3x2', 'xc:red', '-depth', '8', 'txt:-'];
      for (const args of [roundTrip, pixels]) {
        const host = await run('/usr/bin/convert', args);
        assert.ok(host.stdout.length > 0);
        const ours = await dockerRun(image, args);
        assert.equal(ours.stdout, host.stdout, args.join(' '));
        assert.equal(ours.stderr, host.stderr, args.join(' '));
      }
      // without the rule: the build names the coders directory, and convert knows no format at all
      const bareImage = 'e2e/launch-convert-bare:1';
      const bare = await build(dir, ['--binary', '/usr/bin/convert', '--no-infer', 'modules'], bareImage);
      assert.match(
        bare.stderr,
        /warning: libMagickCore-6\.Q16\.so\.6 loads its modules from \/usr\/lib\/x86_64-linux-gnu\/ImageMagick-[0-9.]+\/modules-Q16\/coders \(compiled into it\), which is not added/,
      );
      const failed = await dockerRun(bareImage, roundTrip, { allowFail: true });
      assert.notEqual(failed.code, 0);
      assert.match(failed.stderr, /no decode delegate for this image format/);
    });
  });

  it('dot: -Tsvg and -Tplain of a graph render as on the host (the layout and render plugins and their config6a come with libgvc)', async () => {
    requireTool('dot', 'graphviz');
    await withTempDir('e2e-modules-dot', async (dir) => {
      await writeFile(join(dir, 'g.dot'), 'digraph g { rankdir=LR; a -> b -> c; a -> c [label="x"]; }\n');
      const image = 'e2e/launch-dot:1';
      await build(dir, ['--binary', '/usr/bin/dot'], image);
      for (const format of ['-Tsvg', '-Tplain']) {
        const host = await run('/usr/bin/dot', [format, join(dir, 'g.dot')]);
        const ours = await dockerRun(image, [format, '/w/g.dot'], { mount: dir });
        assert.equal(ours.code, 0, ours.stderr);
        assert.equal(ours.stdout, host.stdout, format);
      }
    });
  });

  it("php: the extensions of its compiled-in extension_dir load as on the host (none is 'Unable to load'), zones by name from the system database, and the build's check is quiet", async () => {
    requireTool('php', 'php-cli');
    await withTempDir('e2e-modules-php', async (dir) => {
      const image = 'e2e/launch-php:1';
      const b = await build(dir, ['--binary', '/usr/bin/php'], image);
      assert.doesNotMatch(b.stderr, /warning: .*(reads its configuration|needs lib)/);
      const code = 'foreach (get_loaded_extensions() as $e) echo $e, "\\n";';
      const host = await run('/usr/bin/php', ['-r', code]);
      const ours = await dockerRun(image, ['-r', code]);
      assert.doesNotMatch(ours.stderr, /Unable to load dynamic library/);
      assert.equal(ours.stdout, host.stdout);
      assert.ok(host.stdout.split('\n').length > 20, host.stdout);
      // Debian's php reads zones from the system database by the names its code and ini give
      const zone = 'date_default_timezone_set("Europe/Paris"); echo date("c e", 0), "\\n";';
      const hostZone = await run('/usr/bin/php', ['-r', zone]);
      assert.equal(hostZone.stdout, '1970-01-01T01:00:00+01:00 Europe/Paris\n');
      const ourZone = await dockerRun(image, ['-r', zone]);
      assert.equal(ourZone.stdout, hostZone.stdout);
      assert.equal(ourZone.stderr, '');
    });
  });

  it('sox: the formats its plugins bring are listed as on the host, and a FLAC file is written', async () => {
    requireTool('sox', 'sox');
    await withTempDir('e2e-modules-sox', async (dir) => {
      const image = 'e2e/launch-sox:1';
      const b = await build(dir, ['--binary', '/usr/bin/sox'], image);
      // a plugin whose library the host lacks too (libao's NAS output) is no problem of the image
      assert.doesNotMatch(b.stderr, /warning: .*needs lib/);
      const formats = (out: string) => out.split('\n').find((l) => l.startsWith('AUDIO FILE FORMATS:'));
      const host = await run('/usr/bin/sox', ['-h'], { allowFail: true });
      assert.match(formats(host.stdout) ?? '', / flac /);
      const ours = await dockerRun(image, ['-h'], { allowFail: true });
      assert.equal(formats(ours.stdout), formats(host.stdout));
      const flac = ['-n', '-t', 'flac', '/tmp/t.flac', 'synth', '0.1', 'sine', '440'];
      assert.equal((await dockerRun(image, flac)).code, 0);
    });
  });
  it('zsh: a module from the subdirectory of its compiled-in module directory (zsh/mathfunc) and its function library in /usr/share/zsh, as on the host', async () => {
    requireTool('zsh', 'zsh');
    await withTempDir('e2e-zsh', async (dir) => {
      const image = 'e2e/zsh:1';
      const b = await build(dir, ['--binary', '/usr/bin/zsh'], image);
      assert.doesNotMatch(b.stderr, /warning/i, b.stderr);
      const script =
        // biome-ignore lint/suspicious/noTemplateCurlyInString: zsh's own expansion
        'zmodload zsh/mathfunc; echo $(( sqrt(16) )); autoload -U colors; colors; echo ${#fg}; autoload -U zmv; whence -w zmv';
      const host = await run('/usr/bin/zsh', ['-f', '-c', script], { env: { PATH: '/usr/bin:/bin' } });
      assert.equal(host.stdout, '4.\n11\nzmv: function\n');
      assert.equal((await docker(image, ['-f', '-c', script])).stdout, host.stdout);
    });
  });
});

describe("libraries that find fonts through fontconfig (Graphviz's labels, ImageMagick's label:, fc-match)", () => {
  it('dot -Tpng, convert label: and fc-match draw and pick fonts as on the host: /etc/fonts, the font and cache directories it names come with libfontconfig', async () => {
    requireTool('dot', 'graphviz');
    requireTool('convert-im6.q16', 'imagemagick-6.q16');
    const fcMatch = requireTool('fc-match', 'fontconfig');
    await withTempDir('e2e-fonts', async (dir) => {
      await writeFile(join(dir, 'g.dot'), 'digraph { a -> b [label="hello"]; }\n');
      const image = 'e2e/launch-fonts:1';
      const built = await build(
        dir,
        ['--binary', '/usr/bin/dot', '--binary', '/usr/bin/convert', '--binary', fcMatch],
        image,
      );
      assert.doesNotMatch(built.stderr, /warning: .*fonts/, built.stderr);
      // the label drawn with the host's font, byte for byte (without fonts: empty boxes)
      const host = join(dir, 'host.png');
      await run('/usr/bin/dot', ['-Tpng', join(dir, 'g.dot'), '-o', host]);
      const png = await dockerRun(image, ['-Tpng', '/w/g.dot', '-o', '/w/ours.png'], {
        mount: dir,
        entrypoint: '/usr/bin/dot',
      });
      assert.equal(png.code, 0, png.stderr);
      assert.doesNotMatch(png.stderr, /Fontconfig error/);
      assert.ok((await readFile(join(dir, 'ours.png'))).equals(await readFile(host)), 'the PNG of the host');
      // convert stops with "unable to read font" without them
      const label = ['-size', '120x40', 'label:hello', '-format', '%wx%h %k', 'info:'];
      const hostLabel = await run('/usr/bin/convert', label);
      const ours = await dockerRun(image, label, { entrypoint: '/usr/bin/convert' });
      assert.equal(ours.code, 0, ours.stderr);
      assert.equal(ours.stdout, hostLabel.stdout);
      const match = await dockerRun(image, ['sans'], { entrypoint: fcMatch });
      assert.equal(match.stdout, (await run(fcMatch, ['sans'])).stdout);
      const why = await fromscratch(['why', `docker-daemon:${image}`, '/etc/fonts/fonts.conf'], { cwd: dir });
      assert.match(why.stdout, /libfontconfig\.so\.1 reads its configuration, \/etc\/fonts/);
      // --no-infer=fonts leaves them out (a smaller image that draws no text): fc-match then fails
      const bare = 'e2e/launch-fonts-bare:1';
      await build(dir, ['--binary', fcMatch, '--no-infer=fonts'], bare);
      const none = await dockerRun(bare, ['sans'], { allowFail: true });
      assert.match(none.stderr, /Fontconfig error: Cannot load default config file/);
    });
  });
});

describe("programs that read their data from a compiled-in directory under /usr/share (vim's runtime, nmap's services, hunspell's dictionaries, Ghostscript's init files)", () => {
  it('vim: syntax on loads $VIMRUNTIME/syntax/syntax.vim as on the host; without the rule E484 and exit 1', async () => {
    requireTool('vim.basic', 'vim');
    await withTempDir('e2e-share-vim', async (dir) => {
      const image = 'e2e/share-vim:1';
      await build(dir, ['--binary', '/usr/bin/vim.basic'], image);
      const args = ['-u', 'NONE', '-es', '-c', 'syntax on', '-c', 'q!'];
      const host = await run('/usr/bin/vim.basic', args, { allowFail: true });
      assert.equal(host.code, 0, host.stderr);
      const ours = await dockerRun(image, args, { allowFail: true });
      assert.equal(ours.code, 0, ours.stdout + ours.stderr);
      const bareImage = 'e2e/share-vim-bare:1';
      await build(dir, ['--binary', '/usr/bin/vim.basic', '--no-infer', 'share-data'], bareImage);
      const bare = await dockerRun(bareImage, args, { allowFail: true });
      assert.equal(bare.code, 1);
    });
  });

  it('pandoc (164 MiB, read for its own /usr/share/pandoc only): markdown to a standalone HTML page as on the host', async () => {
    const pandoc = requireTool('pandoc', 'pandoc');
    await withTempDir('e2e-share-pandoc', async (dir) => {
      await writeFile(join(dir, 'doc.md'), '# Title\n\nSome *emphasis* and a [link](https://example.org).\n');
      const image = 'e2e/share-pandoc:1';
      await build(dir, ['--binary', pandoc], image);
      const args = ['-s', '--metadata', 'title=T', '-t', 'html'];
      const host = await run(pandoc, [...args, join(dir, 'doc.md')]);
      const ours = await dockerRun(image, [...args, '/w/doc.md'], { mount: dir, allowFail: true });
      // without its data directory: "Could not find data file /usr/share/pandoc/data/abbreviations"
      assert.equal(ours.code, 0, ours.stderr);
      assert.equal(ours.stdout, host.stdout);
    });
  });

  it('gdb: its own /usr/share/gdb (its Python module), a directory left out when a library names it; python runs in gdb as on the host', async () => {
    const gdb = requireTool('gdb', 'gdb');
    await withTempDir('e2e-share-gdb', async (dir) => {
      const image = 'e2e/share-gdb:1';
      await build(dir, ['--binary', gdb], image);
      const args = ['-batch', '-ex', 'python print(gdb.VERSION.split()[0] > "", 6 * 7)'];
      const host = await run(gdb, args);
      const ours = await dockerRun(image, args, { allowFail: true });
      // without it: "Could not load the Python gdb module from `/usr/share/gdb/python'"
      assert.equal(ours.code, 0, ours.stderr);
      assert.equal(ours.stdout, host.stdout);
      assert.doesNotMatch(ours.stderr, /Could not load the Python gdb module/);
    });
  });

  it('cmake (relocatable: /share/cmake-3.25 relative to its prefix): a script including a module runs as on the host', async () => {
    const cmake = requireTool('cmake', 'cmake');
    await withTempDir('e2e-share-cmake', async (dir) => {
      await writeFile(
        join(dir, 't.cmake'),
        'include(CMakeParseArguments)\ninclude(CMakePrintHelpers)\nset(x 42)\ncmake_print_variables(x)\nmessage("cmake ${CMAKE_MAJOR_VERSION}")\n',
      );
      const image = 'e2e/share-cmake:1';
      await build(dir, ['--binary', cmake], image);
      const host = await run(cmake, ['-P', join(dir, 't.cmake')]);
      const ours = await dockerRun(image, ['-P', '/w/t.cmake'], { mount: dir, allowFail: true });
      // without it: "Could not find CMAKE_ROOT !!!"
      assert.equal(ours.code, 0, ours.stderr);
      assert.equal(ours.stdout + ours.stderr, host.stdout + host.stderr);
    });
  });

  it('nmap: a connect scan names the port from nmap-services, as on the host', async () => {
    requireTool('nmap', 'nmap');
    await withTempDir('e2e-share-nmap', async (dir) => {
      const image = 'e2e/share-nmap:1';
      await build(dir, ['--binary', '/usr/bin/nmap'], image);
      const ours = await dockerRun(image, ['-sT', '-p', '22', '127.0.0.1'], { allowFail: true });
      assert.equal(ours.code, 0, ours.stderr);
      assert.doesNotMatch(ours.stderr, /Unable to find nmap-services/);
      assert.match(ours.stdout, /^22\/tcp +closed +ssh$/m);
    });
  });

  it("enscript: its /etc/enscript.cfg (SYSCONFDIR joined to a name in its code: dpkg's conffiles of its package name it) comes with it; a file to PostScript as on the host", async () => {
    requireTool('enscript', 'enscript');
    await withTempDir('e2e-conffiles-enscript', async (dir) => {
      await writeFile(join(dir, 'a.txt'), 'fromscratch\n');
      const image = 'e2e/conffiles-enscript:1';
      await build(dir, ['--binary', '/usr/bin/enscript'], image);
      // the paper named: its default is libpaper's, from the host's /etc/papersize (debconf's, no package's)
      const args = ['-q', '-B', '-M', 'A4', '-p', '-', 'a.txt'];
      const host = await run('/usr/bin/enscript', args, { cwd: dir });
      const ours = await dockerRun(image, args, { mount: dir, workdir: '/w', allowFail: true });
      assert.doesNotMatch(ours.stderr, /couldn't read config file/);
      // the PostScript names when and by whom it was made
      const timeless = (t: string) => t.replace(/^%%(CreationDate|For): .*$/gm, '');
      assert.equal(timeless(ours.stdout), timeless(host.stdout));
      assert.match(ours.stdout, /\(fromscratch\)/);
    });
  });

  it('hunspell -d en_US: the misspelled words of a file, as on the host', async () => {
    requireTool('hunspell', 'hunspell');
    await withTempDir('e2e-share-hunspell', async (dir) => {
      await writeFile(join(dir, 'words.txt'), 'helo wrold, this is a sentense with misteaks\n');
      const image = 'e2e/share-hunspell:1';
      await build(dir, ['--binary', '/usr/bin/hunspell'], image);
      const host = await run('/usr/bin/hunspell', ['-d', 'en_US', '-l', join(dir, 'words.txt')]);
      assert.match(host.stdout, /^helo$/m);
      const ours = await dockerRun(image, ['-d', 'en_US', '-l', '/w/words.txt'], { mount: dir });
      assert.equal(ours.stdout, host.stdout);
    });
  });

  it('gs: gs_init.ps, its ICC profiles (reached through a link) and fonts come with libgs; text rendered as on the host', async () => {
    requireTool('gs', 'ghostscript');
    await withTempDir('e2e-share-gs', async (dir) => {
      const image = 'e2e/share-gs:1';
      await build(dir, ['--binary', '/usr/bin/gs'], image);
      const args = [
        '-q',
        '-dNOPAUSE',
        '-dBATCH',
        '-sDEVICE=txtwrite',
        '-o',
        '-',
        '-c',
        '/Times-Roman findfont 20 scalefont setfont 72 72 moveto (hello from scratch) show showpage',
      ];
      const host = await run('/usr/bin/gs', args);
      assert.match(host.stdout, /hello from scratch/);
      const ours = await dockerRun(image, args, { allowFail: true });
      assert.equal(ours.code, 0, ours.stdout + ours.stderr);
      assert.equal(ours.stdout, host.stdout);
    });
  });
});

describe('shell scripts that run programs (an entrypoint preparing its state, a launcher exec-ing its runtime)', () => {
  it("an entrypoint script's mkdir, date and cat come with /bin/sh, its variables' defaults followed; without the rule sh stops at mkdir", async () => {
    await withTempDir('e2e-script-commands', async (dir) => {
      await writeFile(
        join(dir, 'entrypoint.sh'),
        [
          '#!/bin/sh',
          "# an application's entrypoint: prepares its state, then runs the program",
          'set -e',
          'STATE=${STATE_DIR:-/tmp/state}',
          'TOOLS=/usr/bin',
          'mkdir -p "$STATE"',
          'date -u -d @86400 +%F > "$STATE/day"',
          'exec "$TOOLS/cat" "$STATE/day"',
          '',
        ].join('\n'),
        { mode: 0o755 },
      );
      const args = ['--add', './entrypoint.sh:/entrypoint.sh', '--entrypoint', '["/entrypoint.sh"]'];
      const image = 'e2e/script-commands:1';
      const b = await build(dir, args, image);
      assert.doesNotMatch(b.stderr, /warning/i, b.stderr);
      const ours = await dockerRun(image, []);
      assert.equal(ours.stdout, '1970-01-02\n');
      const bareImage = 'e2e/script-commands-bare:1';
      await build(dir, [...args, '--no-infer', 'launchers'], bareImage);
      const bare = await dockerRun(bareImage, [], { allowFail: true });
      assert.notEqual(bare.code, 0);
      assert.match(bare.stderr, /mkdir: not found/);
    });
  });

  it("tzselect: `: ${AWK=awk}` then `$AWK …`, `exec echo`, its tables at $TZDIR/iso3166.tab, the zones by name from TZDIR and its trap's rm: a zone chosen at its prompts as on the host", async () => {
    requireTool('tzselect', 'libc-bin');
    await withTempDir('e2e-tzselect', async (dir) => {
      const image = 'e2e/tzselect:1';
      const b = await build(dir, ['--binary', '/usr/bin/tzselect'], image);
      assert.doesNotMatch(b.stderr, /warning/i, b.stderr);
      const version = await run('/usr/bin/tzselect', ['--version']);
      assert.equal((await dockerRun(image, ['--version'])).stdout, version.stdout);
      // Indian Ocean, Mauritius, yes; the two clock lines name the second they ran in
      const input = '8\n4\n1\n';
      const clockless = (t: string) => t.replace(/^.* time is now:.*$/gim, '');
      const host = await run('/usr/bin/tzselect', [], { input });
      const ours = await dockerRun(image, [], { input });
      assert.equal(ours.stdout, 'Indian/Mauritius\n');
      assert.equal(ours.stdout, host.stdout);
      assert.equal(clockless(ours.stderr), clockless(host.stderr));
    });
  });

  it('a docker-entrypoint.sh: what find -exec and xargs run come with it, and it becomes its cmd (exec "$@"), as on the host', async () => {
    await withTempDir('e2e-entrypoint-runners', async (dir) => {
      await writeFile(
        join(dir, 'docker-entrypoint.sh'),
        [
          '#!/bin/sh',
          'set -e',
          'mkdir -p /tmp/data && touch /tmp/data/a /tmp/data/b',
          "find /tmp/data -type f -exec chmod 600 '{}' +",
          'ls /tmp/data | xargs -n 1 echo got',
          'exec "$@"',
          '',
        ].join('\n'),
        { mode: 0o755 },
      );
      const image = 'e2e/entrypoint-runners:1';
      const b = await build(
        dir,
        [
          '--add',
          './docker-entrypoint.sh:/docker-entrypoint.sh',
          '--binary',
          '/usr/bin/stat',
          '--entrypoint',
          '["/docker-entrypoint.sh"]',
          '--cmd',
          '["stat","-c","%a %n","/tmp/data/a"]',
        ],
        image,
      );
      assert.doesNotMatch(b.stderr, /warning/i, b.stderr);
      assert.equal((await docker(image, [])).stdout, 'got a\ngot b\n600 /tmp/data/a\n');
    });
  });

  it("zdiff: the diff its case branch names (`cmp='${DIFF-diff}'`, run through eval) and what its trap runs; two gzip files compared as on the host", async () => {
    requireTool('zdiff', 'gzip');
    await withTempDir('e2e-zdiff', async (dir) => {
      await mkdir(join(dir, 'w'));
      await writeFile(join(dir, 'w', 'a.gz'), gzipSync('one\ntwo\nthree\n'));
      await writeFile(join(dir, 'w', 'b.gz'), gzipSync('one\nTWO\nthree\n'));
      const image = 'e2e/zdiff:1';
      const b = await build(dir, ['--binary', '/usr/bin/zdiff'], image);
      assert.doesNotMatch(b.stderr, /warning/i, b.stderr);
      const host = await run('/usr/bin/zdiff', [join(dir, 'w', 'a.gz'), join(dir, 'w', 'b.gz')], {
        allowFail: true,
      });
      const ours = await dockerRun(image, ['/w/a.gz', '/w/b.gz'], { mount: join(dir, 'w'), allowFail: true });
      assert.equal(host.code, 1, host.stderr);
      assert.equal(ours.code, 1, ours.stderr);
      assert.equal(ours.stdout, host.stdout);
      assert.equal(ours.stderr, '');
    });
  });
});

describe('Perl scripts that run programs (system, backquotes, a piped open)', () => {
  it("helpztags reads gzipped help through `open(GZ, '-|', 'zcat', $file)`; an app's script runs gzip, uname and date", async () => {
    requireTool('helpztags', 'vim-runtime');
    await withTempDir('e2e-perl-commands', async (dir) => {
      const doc = join(dir, 'doc');
      await mkdir(doc);
      await writeFile(join(doc, 'x.txt.gz'), gzipSync('*mytag*\tSome help\n\n*other-tag* more\n'));
      await writeFile(join(doc, 'y.txt'), '*plain*\ttext\n');
      const image = 'e2e/helpztags:1';
      const b = await build(dir, ['--binary', '/usr/bin/helpztags'], image);
      assert.doesNotMatch(b.stderr, /warning/i, b.stderr);
      await run('/usr/bin/helpztags', [doc]);
      const host = await readFile(join(doc, 'tags'), 'utf8');
      assert.match(host, /^mytag\tx\.txt\.gz\t/m);
      await writeFile(join(doc, 'tags'), '');
      await dockerRun(image, ['/w'], { mount: doc });
      assert.equal(await readFile(join(doc, 'tags'), 'utf8'), host);
      // (--no-infer launchers leaves out perl's standard library too: why tells the reason instead)
      const why = await fromscratch(['why', `docker-daemon:${image}`, '/usr/bin/zcat']);
      assert.equal(why.code, 0, why.stderr);
      assert.match(why.stdout, /inferred for \/usr\/bin\/helpztags: the Perl script runs zcat/);

      await writeFile(
        join(dir, 'report.pl'),
        [
          '#!/usr/bin/perl',
          'use strict;',
          'use warnings;',
          'my $kernel = `uname -s`;',
          "open(my $day, '-|', 'date', '-u', '-d', '@86400', '+%F') or die 'date failed';",
          'print "kernel $kernel", "day ", scalar(<$day>);',
          'system("gzip -nc /report.pl > /tmp/r.gz") == 0 or die "gzip failed";',
          'print "gzip ok\n";',
          '',
        ].join('\n'),
        { mode: 0o755 },
      );
      const app = 'e2e/perl-app:1';
      await build(dir, ['--add', './report.pl:/report.pl', '--entrypoint', '["/report.pl"]'], app);
      assert.equal((await dockerRun(app, [])).stdout, 'kernel Linux\nday 1970-01-02\ngzip ok\n');
    });
  });

  it('c_rehash: the program its environment may name, with a default (`$ENV{OPENSSL} || "openssl"`, run through a list), comes with it; it links a certificate by its hash as on the host', async () => {
    const openssl = requireTool('openssl', 'openssl');
    requireTool('c_rehash', 'openssl');
    await withTempDir('e2e-c-rehash', async (dir) => {
      const certs = join(dir, 'w', 'certs');
      await mkdir(certs, { recursive: true });
      await run(openssl, [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem')],
        ...['-subj', '/CN=fromscratch', '-days', '2', '-out', join(certs, 'a.pem')],
      ]);
      const image = 'e2e/c-rehash:1';
      await build(dir, ['--binary', '/usr/bin/c_rehash'], image);
      const ours = await dockerRun(image, ['-v', 'certs'], { mount: join(dir, 'w'), workdir: '/w' });
      const links = await readdir(certs);
      // the host's own run, on the same directory once the links are gone
      for (const l of links) if (l !== 'a.pem') await rm(join(certs, l));
      const host = await run('/usr/bin/c_rehash', ['-v', 'certs'], { cwd: join(dir, 'w') });
      assert.equal(ours.stdout, host.stdout);
      assert.match(ours.stdout, /link a\.pem -> [0-9a-f]{8}\.0/);
      assert.deepEqual(links.sort(), (await readdir(certs)).sort());
    });
  });
});

describe('programs that run helpers from a compiled-in directory, by name, or through /bin/sh (git, gpg, tar, zip, rsync, make, groff, man)', () => {
  it('git: init without the templates warning, a clone of a local path (git-upload-pack through /bin/sh), ls-remote over http, https and ssh as on the host', async () => {
    requireTool('git', 'git');
    await withTempDir('e2e-git', async (dir) => {
      const repo = join(dir, 'repo');
      await run('git', ['init', '-q', repo]);
      await run('git', [
        '-C',
        repo,
        '-c',
        'user.email=a@b',
        '-c',
        'user.name=a',
        'commit',
        '-q',
        '--allow-empty',
        '-m',
        'one',
      ]);
      const image = 'e2e/git:1';
      const b = await build(dir, ['--binary', '/usr/bin/git'], image);
      assert.doesNotMatch(b.stderr, /warning: .*git helpers/);
      const init = await docker(image, ['init', '-q', '/tmp/x']);
      assert.equal(init.stderr, '', 'no "templates not found" warning');
      const clone = await dockerRun(
        image,
        ['-c', 'git clone -q /src /tmp/d && git -C /tmp/d log --format=%s'],
        { mount: repo, at: '/src:ro', entrypoint: '/bin/sh' },
      );
      assert.equal(clone.stdout, 'one\n');
      // ssh:// runs ssh by name from PATH: a refused connection, said by ssh as on the host
      for (const url of ['http://127.0.0.1:9/x', 'https://127.0.0.1:9/x', 'ssh://127.0.0.1:9/x']) {
        const host = await run('git', ['ls-remote', url], { allowFail: true });
        const ours = await dockerRun(image, ['ls-remote', url], { allowFail: true });
        assert.match(host.stderr, /Failed to connect|Could not connect|Connection refused/, url);
        // curl says how long the refused connection took ("after 0 ms", "after 1 ms"): not compared
        const untimed = (t: string) => t.replace(/after \d+ ms/g, 'after N ms');
        assert.equal(
          untimed(ours.stderr),
          untimed(host.stderr),
          `${url}: the remote helper ran (not "unable to find remote helper")`,
        );
      }
    });
  });

  it('gpg: a symmetric encryption and its decryption (gpg starts gpg-agent from its bindir)', async () => {
    requireTool('gpg', 'gnupg');
    requireTool('gpg-agent', 'gpg-agent');
    await withTempDir('e2e-gpg', async (dir) => {
      await writeFile(join(dir, 'in.txt'), 'fromscratch secret\n');
      const image = 'e2e/gpg:1';
      const b = await build(dir, ['--binary', '/usr/bin/gpg'], image);
      assert.doesNotMatch(b.stderr, /warning: .*gpg helpers/);
      const gpg = (args: string[]) =>
        dockerRun(
          image,
          ['--batch', '--quiet', '--passphrase', 'x', '--pinentry-mode', 'loopback', ...args],
          { mount: dir },
        );
      await gpg(['-c', '-o', '/w/in.txt.gpg', '/w/in.txt']);
      assert.equal((await gpg(['-d', '/w/in.txt.gpg'])).stdout, 'fromscratch secret\n');
    });
  });

  it('tar: -z, -j, -J and --zstd archives listed and written as on the host (tar runs its compressor through /bin/sh -c)', async () => {
    requireTool('tar', 'tar');
    await withTempDir('e2e-tar', async (dir) => {
      await mkdir(join(dir, 'w', 'd'), { recursive: true });
      await writeFile(join(dir, 'w', 'd', 'f.txt'), 'fromscratch\n');
      const image = 'e2e/tar:1';
      const b = await build(dir, ['--binary', '/usr/bin/tar'], image);
      assert.doesNotMatch(b.stderr, /warning: .*tar compressors/);
      const tar = (args: string[]) => dockerRun(image, [...args], { mount: join(dir, 'w'), workdir: '/w' });
      for (const [flag, ext] of [
        ['-z', 'gz'],
        ['-j', 'bz2'],
        ['-J', 'xz'],
        ['--zstd', 'zst'],
      ] as const) {
        // written in the image, listed on the host; written on the host, listed in the image
        await tar(['-c', flag, '-f', `ours.tar.${ext}`, 'd']);
        assert.equal(
          (await run('tar', ['-t', flag, '-f', join(dir, 'w', `ours.tar.${ext}`)])).stdout,
          'd/\nd/f.txt\n',
          ext,
        );
        await run('tar', ['-c', flag, '-f', join(dir, 'w', `host.tar.${ext}`), '-C', join(dir, 'w'), 'd']);
        assert.equal((await tar(['-t', flag, '-f', `host.tar.${ext}`])).stdout, 'd/\nd/f.txt\n', ext);
      }
    });
  });

  it('zip -T tests its archive with unzip through /bin/sh; rsync runs ssh, its remote shell, by name', async () => {
    requireTool('zip', 'zip');
    requireTool('unzip', 'unzip');
    requireTool('rsync', 'rsync');
    requireTool('ssh', 'openssh-client');
    await withTempDir('e2e-zip-rsync', async (dir) => {
      await mkdir(join(dir, 'w'));
      await writeFile(join(dir, 'w', 'f.txt'), 'fromscratch\n');
      await build(dir, ['--binary', '/usr/bin/zip'], 'e2e/zip:1');
      const zip = await dockerRun('e2e/zip:1', ['-T', '/w/f.zip', '/w/f.txt'], { mount: join(dir, 'w') });
      assert.match(zip.stdout, /test of \/w\/f\.zip OK/);
      assert.equal((await run('unzip', ['-p', join(dir, 'w', 'f.zip')])).stdout, 'fromscratch\n');
      await build(dir, ['--binary', '/usr/bin/rsync'], 'e2e/rsync:1');
      // a refused connection, said by ssh (not "Failed to exec ssh"), as on the host
      const args = ['-a', '-e', 'ssh -p 9 -o BatchMode=yes', 'f.txt', '127.0.0.1:/tmp/x'];
      const host = await run('rsync', args, { allowFail: true, cwd: join(dir, 'w') });
      const ours = await dockerRun('e2e/rsync:1', args, {
        allowFail: true,
        mount: join(dir, 'w'),
        workdir: '/w',
      });
      assert.match(host.stderr, /Connection refused/);
      assert.equal(ours.stderr.split('\n')[0], host.stderr.split('\n')[0]);
      // rsync's own code (12 or 255) depends on when it sees ssh exit: only that it failed
      assert.notEqual(ours.code, 0);
    });
  });

  it("localedef: a locale compiled from /usr/share/i18n (its own data, left out for libc) and Debian's gzipped character map, read through gzip -dc (popen), as on the host", async () => {
    requireTool('localedef', 'libc-bin');
    requireTool('gzip', 'gzip');
    await withTempDir('e2e-localedef', async (dir) => {
      await mkdir(join(dir, 'w'));
      await build(dir, ['--binary', '/usr/bin/localedef'], 'e2e/localedef:1');
      const args = (out: string) => ['-i', 'de_DE', '-f', 'UTF-8', out];
      await run('localedef', args(join(dir, 'w', 'host')));
      const ours = await dockerRun('e2e/localedef:1', args('/w/ours'), {
        mount: join(dir, 'w'),
        allowFail: true,
      });
      assert.equal(ours.code, 0, ours.stderr);
      const host = (await readdir(join(dir, 'w', 'host'))).sort();
      assert.ok(host.includes('LC_CTYPE') && host.includes('LC_MONETARY'), host.join(' '));
      assert.deepEqual((await readdir(join(dir, 'w', 'ours'))).sort(), host);
      for (const f of ['LC_CTYPE', 'LC_MONETARY', 'LC_TIME'])
        assert.ok(
          (await readFile(join(dir, 'w', 'ours', f))).equals(await readFile(join(dir, 'w', 'host', f))),
          `${f} as the host compiles it`,
        );
    });
  });

  it('make: recipes run through /bin/sh', async () => {
    requireTool('make', 'make');
    await withTempDir('e2e-make', async (dir) => {
      await mkdir(join(dir, 'w'));
      // shell builtins only: the image has make and the shell, no other command
      await writeFile(
        join(dir, 'w', 'Makefile'),
        'all: out.txt\n\t@read x < out.txt; echo "$$x"\nout.txt:\n\t@echo "made $$((6 * 7))" > $@\n',
      );
      const image = 'e2e/make:1';
      await build(dir, ['--binary', '/usr/bin/make'], image);
      const ours = await dockerRun(image, [], { mount: join(dir, 'w'), workdir: '/w' });
      assert.equal(ours.stdout, 'made 42\n');
    });
  });

  it('groff and man: the stages their formatting pipelines run by name (troff, grotty, grops, tbl; nroff, col) come with them; a page with a table formats as on the host', async () => {
    requireTool('groff', 'groff-base');
    requireTool('man', 'man-db');
    await withTempDir('e2e-groff', async (dir) => {
      await mkdir(join(dir, 'w'));
      await writeFile(
        join(dir, 'w', 'page.1'),
        '.TH PAGE 1\n.SH NAME\npage \\- a test page\n.SH OPTIONS\n.TS\nl l.\n-a\tall\n-b\tbrief\n.TE\n',
      );
      // the host's run without the caller's locale, as in the image (man picks its device from it)
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
      const host = async (args: string[]) =>
        (await run(args[0]!, args.slice(1), { cwd: join(dir, 'w'), env })).stdout;
      for (const [program, args] of [
        ['/usr/bin/groff', ['-t', '-man', '-Tascii', 'page.1']],
        ['/usr/bin/groff', ['-man', '-Tps', 'page.1']],
        ['/usr/bin/man', ['-l', 'page.1']],
      ] as const) {
        const image = `e2e/${baseNameOf(program)}:1`;
        const b = await build(dir, ['--binary', program], image);
        assert.doesNotMatch(b.stderr, /warning: .*pipeline/);
        const ours = await dockerRun(image, [...args], { mount: join(dir, 'w'), workdir: '/w' });
        const want = await host([program, ...args]);
        // a PostScript file's header names the time it was made
        const timeless = (s: string) => s.replace(/^%%CreationDate: .*$/m, '');
        assert.equal(timeless(ours.stdout), timeless(want), `${program} ${args.join(' ')}`);
        assert.match(ours.stdout, /brief/);
      }
    });
  });
});

function baseNameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

describe("programs that run what is in a private directory they name (valgrind's tools, stdbuf's preloaded library), and tools that read debug info by build ID", () => {
  it("valgrind finds the leak of a program as on the host (its tool from /usr/libexec/valgrind, ld.so's debug info); stdbuf line-buffers through libstdbuf.so", async () => {
    requireTool('valgrind', 'valgrind');
    const gcc = requireTool('gcc', 'gcc');
    await withTempDir('e2e-valgrind', async (dir) => {
      await writeFile(
        join(dir, 'leak.c'),
        '#include <stdlib.h>\n#include <stdio.h>\nint main(void) { char *p = malloc(10); p[0] = 1; puts("ran"); return 0; }\n',
      );
      await run(gcc, ['-O0', '-o', join(dir, 'leak'), join(dir, 'leak.c')]);
      const image = 'e2e/valgrind:1';
      const b = await build(
        dir,
        [
          '--binary',
          '/usr/bin/valgrind',
          '--binary',
          join(dir, 'leak'),
          '--entrypoint',
          '["/usr/bin/valgrind"]',
        ],
        image,
      );
      assert.doesNotMatch(b.stderr, /warning/i, b.stderr);
      const args = (prog: string) => ['-q', '--leak-check=full', '--error-exitcode=3', prog];
      const host = await run('/usr/bin/valgrind', args(join(dir, 'leak')), { allowFail: true });
      const ours = await dockerRun(image, args(join(dir, 'leak')), { allowFail: true });
      // the leak record and its stack without the pid prefix: `10 bytes in 1 blocks are definitely lost…`, `at malloc`, `by main`
      const lost = (s: string) =>
        s
          .split('\n')
          .map((l) => l.replace(/^==\d+== ?/, ''))
          .filter((l) => /definitely lost|^ +(at|by) /.test(l))
          .join('\n');
      assert.equal(host.code, 3, host.stderr);
      assert.match(lost(host.stderr) ?? '', /10 bytes in 1 blocks/);
      assert.equal(ours.code, host.code, ours.stderr);
      assert.equal(lost(ours.stderr), lost(host.stderr));
      assert.equal(ours.stdout, 'ran\n');

      const stdbuf = 'e2e/stdbuf:1';
      await build(
        dir,
        ['--binary', '/usr/bin/stdbuf', '--binary', '/usr/bin/echo', '--entrypoint', '["/usr/bin/stdbuf"]'],
        stdbuf,
      );
      assert.equal((await docker(stdbuf, ['-oL', '/usr/bin/echo', 'hi'])).stdout, 'hi\n');
    });
  });
});
