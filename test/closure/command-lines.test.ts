/**
 * command-lines.test.ts — programs that run command lines through /bin/sh (popen, system): one
 * holding a template with a quoted program path (initdb's `"%s" --boot`) gets /bin/sh; one holding a
 * whole command line (postgres's `locale -a`) gets /bin/sh and that program, found on PATH; a line
 * of a shell builtin or of the program itself brings no program; a program that imports neither popen
 * nor system gets nothing. PostgreSQL itself is test/e2e/real-launch-servers.test.ts's.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveClosure } from '../../src/closure/closure.ts';
import { hostFs } from '../../src/fs/host-fs.ts';
import { gcc, glibcRoot, putFile } from './glibc-root.ts';

let parent: string;
let root: string;

before(() => {
  parent = mkdtempSync(join(tmpdir(), 'fromscratch-command-lines-'));
  root = join(parent, 'root');
  const b = join(parent, 'build');
  mkdirSync(b);
  glibcRoot(root);
  putFile(root, '/usr/bin/dash', '/usr/bin/dash');
  symlinkSync('dash', join(root, 'usr/bin/sh'));
  symlinkSync('usr/bin', join(root, 'bin'));
  const prog = (name: string, body: string) => {
    writeFileSync(join(b, `${name}.c`), `#include <stdio.h>\n#include <stdlib.h>\n${body}\n`);
    gcc(['-o', name, `${name}.c`], b);
    putFile(root, join(b, name), `/usr/bin/${name}`);
  };
  prog('lister', 'int main(void) { return 0; }');
  prog(
    'runner',
    'static const char *lines[] = {"lister -a", "set -e", "runner --check", "missing -x"};\n' +
      'int main(int argc, char **argv) { FILE *f = popen(lines[argc % 4], "r"); return f == 0; }',
  );
  prog(
    'templater',
    'int main(int argc, char **argv) { char b[64]; snprintf(b, 64, "\\"%s\\" -V", argv[0]); return system(b); }',
  );
  prog(
    'quiet',
    'static const char *lines[] = {"lister -a"};\nint main(int argc, char **argv) { return lines[argc][0]; }',
  );
});

after(() => {
  if (parent) rmSync(parent, { recursive: true, force: true });
});

const reasons = (r: Awaited<ReturnType<typeof resolveClosure>>, p: string) =>
  (r.files.get(p)?.origins ?? []).map((o) => ('reason' in o ? o.reason : '')).join('\n');

describe('programs that run command lines through /bin/sh', () => {
  it('a whole command line brings /bin/sh and its program; builtins, itself and missing programs do not', async () => {
    const r = await resolveClosure(['/usr/bin/runner'], hostFs(root));
    assert.match(
      reasons(r, '/usr/bin/lister'),
      /\/usr\/bin\/runner runs `lister -a` through \/bin\/sh \(popen\)/,
    );
    assert.ok(r.files.has('/usr/bin/dash'), 'the shell');
    assert.ok(!r.warnings.some((w) => w.includes('missing')));
  });

  it('a command-line template with a quoted program path brings /bin/sh', async () => {
    const r = await resolveClosure(['/usr/bin/templater'], hostFs(root));
    assert.match(
      reasons(r, '/usr/bin/dash'),
      /runs the command lines it builds through \/bin\/sh \(system: `"%s" -V`\)/,
    );
  });

  it('nothing for a program that imports neither popen nor system, nor with the rule off', async () => {
    const quiet = await resolveClosure(['/usr/bin/quiet'], hostFs(root));
    assert.equal(quiet.files.has('/usr/bin/lister'), false);
    assert.equal(quiet.files.has('/usr/bin/dash'), false);
    const off = await resolveClosure(['/usr/bin/runner'], hostFs(root), { infer: { programFiles: false } });
    assert.equal(off.files.has('/usr/bin/lister'), false);
  });
});
