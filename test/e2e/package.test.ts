/**
 * package.test.ts — `fromscratch build --package` as a new user tries it (issue 5): real Debian packages
 * from a mirror (the tests' snapshot, served on loopback: no network), for the host and for another
 * architecture, with dpkg status files, SBOMs naming
 * the exact candidate versions, reproducible digests and a clear error for an unknown package.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type DebianMirror, mirrorDir, startDebianMirror } from '../support/debian-mirror.ts';
import { dockerRemoveImage, dockerRun, requireTool, run, withTempDir } from '../support/validate-tools.ts';
import { fromscratch } from './cli.ts';

const DIGEST = /^sha256:[a-f0-9]{64}\n$/;

let mirror: DebianMirror;
before(async () => {
  mirror = await startDebianMirror();
});
after(() => mirror.close());

/**
 * snapshotVersions returns each package's version as `dpkg-deb --field` reads it from the snapshot's
 * .deb for `arch` (an oracle independent of fromscratch's index parser and resolver).
 */
async function snapshotVersions(pkgs: readonly string[], arch: string): Promise<Map<string, string>> {
  const dpkgDeb = requireTool('dpkg-deb', 'dpkg');
  const debs = (await run('find', [join(mirrorDir(), 'pool'), '-name', `*_${arch}.deb`])).stdout
    .split('\n')
    .filter(Boolean);
  const out = new Map<string, string>();
  for (const deb of debs) {
    const [name, version] = (await run(dpkgDeb, ['--field', deb, 'Package', 'Version'])).stdout
      .trim()
      .split('\n')
      .map((l) => l.replace(/^\S+: /, ''));
    if (pkgs.includes(name!)) out.set(name!, version!);
  }
  for (const p of pkgs) assert.ok(out.get(p), `the test mirror snapshot has ${p} for ${arch}`);
  return out;
}

/**
 * readImageFile extracts one file of an OCI layout with tar, applying the layers in order as umoci does
 * (the last layer that holds the path wins; fromscratch writes no whiteouts).
 */
async function readImageFile(layout: string, path: string, dest: string): Promise<Buffer> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string }[];
  };
  const blob = (d: string): string => join(layout, 'blobs', 'sha256', d.replace(/^sha256:/, ''));
  const manifest = JSON.parse(await readFile(blob(index.manifests[0]!.digest), 'utf8')) as {
    layers: { digest: string }[];
  };
  assert.ok(manifest.layers.length >= 1);
  const tar = requireTool('tar', 'tar');
  let found: string | undefined;
  for (const l of manifest.layers) {
    const layer = blob(l.digest);
    const names = (await run(tar, ['-tzf', layer])).stdout.split('\n');
    const name = names.find((n) => n.replace(/^\.?\//, '') === path.slice(1));
    if (name === undefined) continue;
    await run(tar, ['-xzf', layer, '-C', dest, name]);
    found = name;
  }
  assert.ok(found, `${path} is in a layer`);
  return readFile(join(dest, found));
}

test('--package jq for the host runs `jq --version` in docker like the host, with dpkg status, SBOMs and a stable digest', async () => {
  const hostJq = requireTool('jq', 'jq');
  const versions = await snapshotVersions(['jq', 'libjq1', 'libonig5'], 'amd64');
  const image = 'e2e-package/jq:1';
  await withTempDir('e2e-package-host', async (dir) => {
    try {
      const args = [
        'build',
        '--apt-source',
        mirror.aptSource,
        '--package',
        'jq',
        '--entrypoint',
        '["/usr/bin/jq"]',
        '-o',
        'oci:out:jq',
        '-o',
        `docker-daemon:${image}`,
      ];
      const first = await fromscratch(args, { cwd: dir });
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, DIGEST);
      const host = (await run(hostJq, ['--version'])).stdout;
      assert.equal(await dockerRun(image, ['--version']), host);

      const insp = await fromscratch(['inspect', 'oci:out:jq', '--json'], { cwd: dir });
      assert.equal(insp.code, 0, insp.stderr);
      const files = (
        JSON.parse(insp.stdout) as { images: { layers: { files: { path: string }[] }[] }[] }
      ).images[0]!.layers.flatMap((l) => l.files.map((f) => f.path));
      for (const p of ['jq', 'libjq1', 'libonig5'])
        assert.ok(
          files.includes(`/var/lib/dpkg/status.d/${p}`),
          `/var/lib/dpkg/status.d/${p} is in the image`,
        );
      const status = (await readImageFile(join(dir, 'out'), '/var/lib/dpkg/status.d/jq', dir)).toString(
        'utf8',
      );
      assert.match(status, /^Package: jq$/m);
      assert.ok(status.includes(`\nVersion: ${versions.get('jq')}\n`), status);

      const spdx = await fromscratch(['sbom', 'oci:out:jq', '--format', 'spdx'], { cwd: dir });
      assert.equal(spdx.code, 0, spdx.stderr);
      const doc = JSON.parse(spdx.stdout) as {
        spdxVersion: string;
        packages: { name: string; versionInfo?: string }[];
      };
      assert.equal(doc.spdxVersion, 'SPDX-2.3');
      for (const [name, version] of versions) {
        assert.ok(
          doc.packages.some((p) => p.name === name && p.versionInfo === version),
          `SPDX names ${name} ${version}: ${doc.packages.map((p) => `${p.name} ${p.versionInfo}`).join(', ')}`,
        );
      }
      const cdx = await fromscratch(['sbom', 'oci:out:jq', '--format', 'cyclonedx'], { cwd: dir });
      assert.equal(cdx.code, 0, cdx.stderr);
      const bom = JSON.parse(cdx.stdout) as {
        bomFormat: string;
        components: { name: string; purl?: string }[];
      };
      assert.equal(bom.bomFormat, 'CycloneDX');
      const purls = bom.components.map((c) => c.purl ?? '');
      for (const [name, version] of versions) {
        const want = `pkg:deb/debian/${name}@${encodeURIComponent(version)}?arch=amd64&distro=debian-12`;
        assert.ok(purls.includes(want), `CycloneDX has ${want}: ${purls.join(' ')}`);
      }

      const second = await fromscratch(
        [
          'build',
          '--apt-source',
          mirror.aptSource,
          '--package',
          'jq',
          '--entrypoint',
          '["/usr/bin/jq"]',
          '-o',
          'oci:again:jq',
        ],
        { cwd: dir },
      );
      assert.equal(second.code, 0, second.stderr);
      assert.equal(second.stdout, first.stdout, 'building twice gives the same digest');
    } finally {
      await dockerRemoveImage(image);
    }
  });
});

test('--platform linux/arm64 --package jq puts an aarch64 ELF at /usr/bin/jq', async () => {
  await withTempDir('e2e-package-arm64', async (dir) => {
    const r = await fromscratch(
      [
        'build',
        '--apt-source',
        mirror.aptSource,
        '--platform',
        'linux/arm64',
        '--package',
        'jq',
        '-o',
        'oci:out:arm',
      ],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, DIGEST);
    const elf = await readImageFile(join(dir, 'out'), '/usr/bin/jq', dir);
    assert.deepEqual([...elf.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], 'an ELF file');
    assert.equal(elf[4], 2, 'ELFCLASS64');
    assert.equal(elf[5], 1, 'little endian');
    assert.equal(elf.readUInt16LE(18), 183, 'e_machine EM_AARCH64');
    const insp = await fromscratch(['inspect', 'oci:out:arm', '--json'], { cwd: dir });
    assert.equal(insp.code, 0, insp.stderr);
    assert.equal(
      (JSON.parse(insp.stdout) as { images: { platform: string }[] }).images[0]!.platform,
      'linux/arm64',
    );
    const cdx = await fromscratch(['sbom', 'oci:out:arm', '--format', 'cyclonedx'], { cwd: dir });
    assert.equal(cdx.code, 0, cdx.stderr);
    const jq = (await snapshotVersions(['jq'], 'arm64')).get('jq')!;
    assert.ok(
      cdx.stdout.includes(`pkg:deb/debian/jq@${encodeURIComponent(jq)}?arch=arm64&distro=debian-12`),
      cdx.stdout,
    );
    // the OS identity of the release the packages came from (the snapshot's InRelease), as base-files has it
    const osRelease = (await readImageFile(join(dir, 'out'), '/usr/lib/os-release', dir)).toString();
    assert.match(osRelease, /^ID=debian$/m);
    assert.match(osRelease, /^VERSION_ID="12"$/m);
    assert.match(osRelease, /^VERSION_CODENAME=bookworm$/m);
    assert.match(
      (await readImageFile(join(dir, 'out'), '/etc/debian_version', dir)).toString(),
      /^12\.[0-9]+\n$/,
    );
  });
});

test('a multi-platform --package build attaches one SBOM per platform, each referring to its own manifest; sbom --platform picks one', async () => {
  await withTempDir('e2e-package-multi-sbom', async (dir) => {
    const r = await fromscratch(
      [
        'build',
        '--apt-source',
        mirror.aptSource,
        '--platform',
        'linux/amd64,linux/arm64',
        '--package',
        'jq',
        '--sbom',
        'cyclonedx',
        '-o',
        'oci:out:multi',
      ],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    const blob = async (d: string) =>
      JSON.parse((await readFile(join(dir, 'out/blobs/sha256', d.slice(7)))).toString()) as Record<
        string,
        unknown
      >;
    const top = (await blob(r.stdout.trim())) as {
      manifests: { digest: string; platform: { architecture: string } }[];
    };
    assert.equal(top.manifests.length, 2, 'an index of two platforms');
    const layout = JSON.parse((await readFile(join(dir, 'out/index.json'))).toString()) as {
      manifests: { digest: string; artifactType?: string }[];
    };
    const sboms = layout.manifests.filter((m) => m.artifactType === 'application/vnd.cyclonedx+json');
    assert.equal(sboms.length, 2, 'one SBOM per platform');
    const seen = new Map<string, string>();
    for (const s of sboms) {
      const m = (await blob(s.digest)) as { subject: { digest: string }; layers: { digest: string }[] };
      const platform = top.manifests.find((x) => x.digest === m.subject.digest);
      assert.ok(platform, 'the SBOM refers to a platform manifest of the index');
      const doc = JSON.stringify(await blob(m.layers[0]!.digest));
      assert.match(doc, new RegExp(`pkg:deb/debian/jq@[^"]*arch=${platform.platform.architecture}&`));
      seen.set(platform.platform.architecture, m.subject.digest);
    }
    assert.deepEqual([...seen.keys()].sort(), ['amd64', 'arm64']);
    const arm = await fromscratch(
      ['sbom', 'oci:out:multi', '--format', 'cyclonedx', '--platform', 'linux/arm64'],
      {
        cwd: dir,
      },
    );
    assert.equal(arm.code, 0, arm.stderr);
    assert.match(arm.stdout, /pkg:deb\/debian\/jq@[^"]*arch=arm64&/);
    const none = await fromscratch(['sbom', 'oci:out:multi', '--platform', 'linux/s390x'], { cwd: dir });
    assert.equal(none.code, 1, none.stderr);
    assert.match(none.stderr, /no image for linux\/s390x/);
  });
});

test('--package no-such-package-xyz is a clear DEB_NOT_FOUND naming it, with a hint, exit 1, nothing written', async () => {
  await withTempDir('e2e-package-missing', async (dir) => {
    const r = await fromscratch(
      ['build', '--apt-source', mirror.aptSource, '--package', 'no-such-package-xyz', '-o', 'oci:out:x'],
      { cwd: dir },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^error\[DEB_NOT_FOUND\]: .*no-such-package-xyz/m);
    assert.match(r.stderr, /^hint: /m);
    assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+/, 'no stack trace');
    assert.deepEqual(await readdir(dir), []);
  });
});

test('--package php-cli: the postinst effects are emulated (ucf, phpenmod): ctype, iconv, posix and phar load under docker; what is not emulated is warned once and shown by why', async () => {
  const image = 'e2e-package/php:1';
  await withTempDir('e2e-package-php', async (dir) => {
    try {
      const r = await fromscratch(
        [
          'build',
          '--apt-source',
          mirror.aptSource,
          '--package',
          'php-cli',
          '--entrypoint',
          '["/usr/bin/php"]',
          '-o',
          'oci:out:php',
          '-o',
          `docker-daemon:${image}`,
        ],
        { cwd: dir },
      );
      assert.equal(r.code, 0, r.stderr);
      const code = [
        'echo json_encode([',
        'ctype_digit("123"),',
        'iconv("UTF-8", "ISO-8859-1", "\\u{e9}") === "\\xe9",',
        'posix_getuid(),',
        'Phar::apiVersion(),',
        'array_map("basename", glob("/etc/php/8.2/cli/conf.d/*")),',
        ']);',
      ].join(' ');
      const out = JSON.parse(await dockerRun(image, ['-r', code])) as unknown[];
      assert.deepEqual(out.slice(0, 4), [true, true, 0, '1.1.1']);
      for (const ini of ['20-ctype.ini', '20-iconv.ini', '20-posix.ini', '20-phar.ini', '10-opcache.ini'])
        assert.ok((out[4] as string[]).includes(ini), `conf.d holds ${ini}: ${JSON.stringify(out[4])}`);
      // what no rule covers: tzdata's /etc/localtime from a debconf answer; said once per (package, command)
      const warned = r.stderr.split('\n').filter((l) => /^warning: package \S+: its postinst runs/.test(l));
      assert.ok(
        warned.some((l) => l.startsWith('warning: package tzdata: ')),
        r.stderr,
      );
      const keys = warned.map((l) =>
        /^warning: package (\S+): its postinst runs `(\S+)/.exec(l)!.slice(1).join(' '),
      );
      assert.equal(new Set(keys).size, keys.length, `one warning per (package, command): ${keys.join(', ')}`);
      const why = await fromscratch(['why', 'oci:out:php', '/usr/share/zoneinfo/UTC'], { cwd: dir });
      assert.equal(why.code, 0, why.stderr);
      assert.match(why.stdout, /^note: package tzdata: its postinst runs /m);
      const ini = await fromscratch(['why', 'oci:out:php', '/etc/php/8.2/cli/conf.d/20-ctype.ini'], {
        cwd: dir,
      });
      assert.match(ini.stdout, /phpenmod ctype for cli \(postinst of php8\.2-common\)/);
    } finally {
      await dockerRemoveImage(image);
    }
  });
});
