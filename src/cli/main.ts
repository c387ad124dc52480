#!/usr/bin/env node
/**
 * main.ts — the fromscratch command line. The only module that exits the process.
 * Commands are clients of the public library (src/index.ts).
 */
import { Command, CommanderError } from 'commander';
import { cacheDir, runInterruptCleanups } from '../index.ts';
import { registerBuild } from './commands/build.ts';
import { registerCheck } from './commands/check.ts';
import { registerCopy } from './commands/copy.ts';
import { registerDeps } from './commands/deps.ts';
import { registerInspect } from './commands/inspect.ts';
import { registerRun } from './commands/run.ts';
import { registerSbom } from './commands/sbom.ts';
import { registerWhy } from './commands/why.ts';
import { type CliIo, processIo } from './io.ts';
import { EXIT, renderError } from './render-error.ts';

/** VERSION is the CLI's version string. */
export const VERSION = '0.1.0';

/** makeProgram builds the command tree writing to `io`. */
export function makeProgram(io: CliIo): Command {
  const program = new Command('fromscratch')
    .description(
      'build minimal container images FROM scratch: the closure of what must run, computed without executing it',
    )
    .version(VERSION)
    .option('--debug', 'show the cause chain of errors')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  registerBuild(program, io);
  registerRun(program, io);
  registerInspect(program, io);
  registerCheck(program, io);
  registerWhy(program, io);
  registerSbom(program, io);
  registerCopy(program, io);
  registerDeps(program, io);
  return program;
}

/** main runs the CLI on argv and returns the exit code. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const program = makeProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
      )
        return EXIT.ok;
      return EXIT.usage;
    }
    const debug = argv.includes('--debug');
    const { text, exitCode } = renderError(e, debug, { cacheDir: cacheDir() });
    io.stderr.write(text);
    return exitCode;
  }
}

const isEntry = process.argv[1] !== undefined && /(?:^|\/)cli\/main\.(?:ts|js)$/.test(process.argv[1]);
if (isEntry) run();

/** run is the process entry: a closed stdout (`| head`) ends the command quietly, as for other tools. */
export function run(): void {
  // Ctrl-C or a kill: remove this run's temp files and bundles, stop its containers, then exit as a shell
  // reports a signal (128 + number); what SIGKILL leaves is collected by the next run
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.on(signal, () => {
      runInterruptCleanups();
      process.exit(code);
    });
  }
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT.ok);
    throw e;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(renderError(e, true).text);
      process.exit(EXIT.bug);
    },
  );
}
