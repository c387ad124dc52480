/**
 * completion.test.ts — the completion scripts, run by the real shells: bash completes commands,
 * options, choices, platforms and transports (COMP_LINE/COMP_POINT as bash sets them); fish answers
 * `complete -C`; zsh parses the script (`zsh -n`) and it has the structure compsys expects.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { main, makeProgram } from './main.ts';
import { memoryIo } from './memory-io.ts';

async function script(shell: string): Promise<string> {
  const io = memoryIo();
  assert.equal(await main(['completion', shell], io), 0, io.err());
  return io.out();
}

function need(tool: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
  } catch {
    assert.fail(`${tool} is not installed: apt-get install ${tool}`);
  }
}

/** bashComplete runs the bash completion function on a command line typed up to its end. */
function bashComplete(src: string, line: string): string[] {
  const out = execFileSync(
    'bash',
    [
      '-c',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: bash, not a template
      'eval "$1"; COMP_LINE="$2"; COMP_POINT=${#COMP_LINE}; _fromscratch; printf "%s\\n" "${COMPREPLY[@]}"',
      '_',
      src,
      line,
    ],
    { encoding: 'utf8' },
  );
  return out.split('\n').filter(Boolean);
}

test('bash: commands, options, choices, platforms and transports complete', async () => {
  need('bash');
  const src = await script('bash');
  const program = await makeProgram(memoryIo());
  const commands = program.commands.map((c) => c.name());
  assert.deepEqual(bashComplete(src, 'fromscratch ').sort(), [...commands, 'help'].sort());
  assert.deepEqual(bashComplete(src, 'fromscratch bu'), ['build']);
  // every option of build, as commander defines it
  const buildOpts = program.commands.find((c) => c.name() === 'build')!.options.map((o) => o.long!);
  const offered = bashComplete(src, 'fromscratch build --');
  for (const o of buildOpts) assert.ok(offered.includes(o), `build ${o} offered`);
  assert.deepEqual(bashComplete(src, 'fromscratch build --compression '), ['gzip', 'zstd', 'none']);
  assert.ok(bashComplete(src, 'fromscratch build --platform linux/ar').includes('linux/arm64'));
  assert.deepEqual(bashComplete(src, 'fromscratch copy dock'), [
    'docker-archive:',
    'docker-daemon:',
    'docker://',
  ]);
  assert.deepEqual(bashComplete(src, 'fromscratch copy oci:out docker-d'), ['docker-daemon:']);
  // after a transport, paths, with the part bash keeps before ':' dropped
  assert.deepEqual(bashComplete(src, 'fromscratch inspect oci:/et'), ['/etc']);
  assert.deepEqual(bashComplete(src, 'fromscratch completion '), ['bash', 'zsh', 'fish']);
  assert.deepEqual(bashComplete(src, 'fromscratch --debug ch'), ['check']);
  // a free-text value completes to nothing
  assert.deepEqual(bashComplete(src, 'fromscratch build --env '), []);
  assert.match(src, /^complete -o default -F _fromscratch fromscratch$/m);
});

test('fish: the script loads and `complete -C` answers from it', async () => {
  need('fish');
  const src = await script('fish');
  execFileSync('fish', ['-n', '-c', src]);
  const ask = (line: string) =>
    execFileSync(
      'fish',
      ['-c', 'eval (string join \\n -- $argv[1] | string collect); complete -C $argv[2]', src, line],
      {
        encoding: 'utf8',
      },
    )
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t')[0]);
  assert.deepEqual(ask('fromscratch bui'), ['build']);
  assert.deepEqual(ask('fromscratch build --compress').sort(), ['--compression', '--compression-level']);
  assert.deepEqual(ask('fromscratch build --compression ').sort(), ['gzip', 'none', 'zstd']);
  assert.ok(ask('fromscratch copy docker').includes('docker://'));
});

test('zsh: the script parses and declares every command and option to _arguments', async () => {
  need('zsh');
  const src = await script('zsh');
  execFileSync('zsh', ['-n', '-c', src]);
  assert.match(src, /^#compdef fromscratch$/m);
  const program = await makeProgram(memoryIo());
  for (const c of program.commands) {
    assert.match(src, new RegExp(`^\\s+'${c.name()}:`, 'm'), `command ${c.name()} listed`);
    assert.match(src, new RegExp(`^\\s+\\(${c.name()}\\)$`, 'm'), `case for ${c.name()}`);
    for (const o of c.options) assert.ok(src.includes(`${o.long}[`), `${c.name()} ${o.long} declared`);
  }
  assert.match(src, /'\*--platform\[[^\]]*\]:choices:\(linux\/amd64 [^)]*linux\/arm64/);
  assert.match(src, /compadd -S '' -- oci: oci-archive: docker-archive: docker-daemon: docker:\/\//);
});

test('an unknown shell is a usage error naming it', async () => {
  const io = memoryIo();
  assert.equal(await main(['completion', 'tcsh'], io), 2);
  assert.match(io.err(), /tcsh/);
});
