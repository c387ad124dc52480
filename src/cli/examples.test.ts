/**
 * examples.test.ts — pins that every command's --help ends with an Examples section, and that each
 * example it shows is accepted by the CLI's own parser (so help cannot drift from the options).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command } from 'commander';
import { splitShellWords } from '../index.ts';
import { main, makeProgram } from './main.ts';
import { memoryIo } from './memory-io.ts';

/** examplesIn reads the `$ fromscratch …` lines of a help text's Examples section. */
function examplesIn(help: string): string[] {
  const i = help.indexOf('\nExamples:\n');
  if (i < 0) return [];
  return help
    .slice(i)
    .split('\n')
    .filter((l) => l.startsWith('  $ '))
    .map((l) => l.slice(4));
}

/** parseOnly parses argv with every command's action replaced by one that records which ran. */
async function parseOnly(argv: string[]): Promise<string> {
  const program = await makeProgram(memoryIo());
  let ran = '';
  const disarm = (c: Command) => {
    c.action(() => {
      ran = c.name();
    });
    for (const s of c.commands) disarm(s);
  };
  for (const s of program.commands) disarm(s);
  await program.parseAsync(argv, { from: 'user' });
  return ran;
}

test('every command has an Examples section in its help, and each example parses', async () => {
  const names = (await makeProgram(memoryIo())).commands.map((c) => c.name());
  assert.ok(names.includes('build') && names.includes('completion'), `commands: ${names.join(' ')}`);
  for (const name of names) {
    const io = memoryIo();
    assert.equal(await main([name, '--help'], io), 0, `${name} --help exits 0`);
    const examples = examplesIn(io.out());
    assert.ok(examples.length > 0, `\`fromscratch ${name} --help\` has no Examples section:\n${io.out()}`);
    for (const line of examples) {
      const words = splitShellWords(line);
      assert.equal(words[0], 'fromscratch', line);
      assert.equal(words[1], name, `an example of ${name} runs ${name}: ${line}`);
      assert.equal(await parseOnly(words.slice(1)), name, `example parses: ${line}`);
    }
  }
});

test('the parse check can fail: an example with an unknown option is refused', async () => {
  await assert.rejects(parseOnly(['build', '--no-such-option']), /unknown option/);
  await assert.rejects(parseOnly(['completion', 'tcsh']), /invalid/);
});
