// e2e-jq.ts — hand-run smoke test against the real Debian mirror (not part of the default suite):
//   node --import tsx test/deb/e2e-jq.ts [package…]
// Resolves the packages (default jq) for amd64 and arm64, downloads and verifies the .debs, and lists
// the files with their origins, printing timings.
import { debEntries } from '../../src/deb/deb-entries.ts';
import { formatLockfile } from '../../src/deb/lockfile.ts';
import { resolveDebs } from '../../src/deb/resolve-debs.ts';

const names = process.argv.slice(2).length ? process.argv.slice(2) : ['jq'];
const t0 = performance.now();
const lock = await resolveDebs(
  names.map((name) => ({ name })),
  { arches: ['amd64', 'arm64'], onProgress: (m) => console.error(m) },
);
const t1 = performance.now();
console.log(formatLockfile(lock));
for (const arch of ['amd64', 'arm64']) {
  const t = performance.now();
  const r = await debEntries(lock, { forArch: arch, onProgress: (m) => console.error(m) });
  console.log(
    `# ${arch}: ${r.packages.length} packages, ${r.entries.length} entries, ${(performance.now() - t).toFixed(0)} ms`,
  );
  for (const e of r.entries) {
    // e_machine of each ELF program in /usr/bin: 62 = x86-64, 183 = AArch64
    if (e.type === 'file' && e.path.startsWith('/usr/bin/') && e.content.kind === 'bytes') {
      const b = Buffer.from(e.content.data);
      if (b.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])))
        console.log(`# ELF ${e.path} e_machine=${b.readUInt16LE(18)}`);
    }
    const o = r.origins
      .get(e.path)
      ?.map((x) => (x.kind === 'package' ? x.name : x.kind))
      .join(',');
    console.log(
      `${e.type.padEnd(8)} ${e.path}${e.type === 'symlink' ? ` -> ${e.target}` : ''}${e.type === 'file' ? ` (${e.size})` : ''}  [${o}]`,
    );
  }
}
console.error(`resolve: ${(t1 - t0).toFixed(0)} ms; total ${(performance.now() - t0).toFixed(0)} ms`);
