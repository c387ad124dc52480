#!/usr/bin/env node
/**
 * main.ts — the fromscratch command line. The only module that exits the process.
 * Commands are clients of the public library (src/index.ts).
 */
import { Command, CommanderError } from 'commander';
import { addExamples } from './examples.ts';
import { type CliIo, processIo } from './io.ts';
// the commands and the library load on first use (loadCommands): `--version` needs neither

/** VERSION is the CLI's version string. */
export const VERSION = '0.1.0';

/** interruptCleanups runs the library's clean-ups on a signal, once the library is loaded (before, there is nothing to clean). */
let interruptCleanups: () => void = () => {};

/** loadCommands imports the command modules (and through them the library) once. */
async function loadCommands() {
  const [lib, build, check, copy, deps, inspect, runCmd, sbom, why, render, report] = await Promise.all([
    import('../index.ts'),
    import('./commands/build.ts'),
    import('./commands/check.ts'),
    import('./commands/copy.ts'),
    import('./commands/deps.ts'),
    import('./commands/inspect.ts'),
    import('./commands/run.ts'),
    import('./commands/sbom.ts'),
    import('./commands/why.ts'),
    import('./render-error.ts'),
    import('./commands/report.ts'),
  ]);
  const completion = await import('./completion.ts');
  const init = await import('./commands/init.ts');
  interruptCleanups = lib.runInterruptCleanups;
  return {
    cacheDir: lib.cacheDir,
    registerBuild: build.registerBuild,
    registerCheck: check.registerCheck,
    registerCopy: copy.registerCopy,
    registerDeps: deps.registerDeps,
    registerInspect: inspect.registerInspect,
    registerRun: runCmd.registerRun,
    separateRunArgs: runCmd.separateRunArgs,
    registerSbom: sbom.registerSbom,
    registerWhy: why.registerWhy,
    registerReport: report.registerReport,
    registerCompletion: completion.registerCompletion,
    registerInit: init.registerInit,
    EXIT: render.EXIT,
    renderError: render.renderError,
  };
}

/** makeProgram builds the command tree writing to `io`. */
export async function makeProgram(io: CliIo): Promise<Command> {
  const {
    registerBuild,
    registerCheck,
    registerRun,
    registerInspect,
    registerWhy,
    registerSbom,
    registerCopy,
    registerDeps,
    registerReport,
    registerCompletion,
    registerInit,
  } = await loadCommands();
  const program = new Command('fromscratch')
    .description(
      'build minimal container images FROM scratch: the closure of what must run, computed without executing it',
    )
    .version(VERSION)
    .option('--debug', 'show the cause chain of errors')
    .option(
      '--progress <auto|tty|plain|quiet>',
      'progress on stderr: live bars (tty), timestamped lines (plain) or none; also FROMSCRATCH_PROGRESS (default auto)',
    )
    .option('-q, --quiet', 'no progress on stderr (--progress quiet)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  registerBuild(program, io);
  registerRun(program, io);
  registerInspect(program, io);
  registerReport(program, io);
  registerCheck(program, io);
  registerWhy(program, io);
  registerSbom(program, io);
  registerCopy(program, io);
  registerDeps(program, io);
  registerInit(program, io);
  registerCompletion(program, (s) => io.stdout.write(s));
  addExamples(program);
  return program;
}

/** main runs the CLI on argv and returns the exit code. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const { EXIT, renderError, cacheDir, separateRunArgs } = await loadCommands();
  const program = await makeProgram(io);
  // `run IMAGE ARGS…`: the words after the image go to the container, as docker run does
  const args = separateRunArgs(argv);
  const end = args.indexOf('--');
  const ours = end < 0 ? args : args.slice(0, end);
  try {
    await program.parseAsync(args, { from: 'user' });
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
    // live progress bars are erased before the error is printed
    (await import('./progress.ts')).closeProgress(io);
    const debug = ours.includes('--debug'); // not a container's --debug after `run IMAGE`
    const { text, exitCode } = renderError(e, debug, { cacheDir: cacheDir() });
    io.stderr.write(text);
    return exitCode;
  }
}

const isEntry = process.argv[1] !== undefined && /(?:^|\/)cli\/main\.(?:ts|js)$/.test(process.argv[1]);
if (isEntry) run();

/** exitFlushed exits with `code` once stdout and stderr have taken what was written to them. */
function exitFlushed(code: number): void {
  let left = 2;
  const done = () => {
    if (--left === 0) process.exit(code);
  };
  for (const s of [process.stdout, process.stderr]) {
    if (s.destroyed || !s.writable) done();
    else s.write('', done);
  }
}

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
      interruptCleanups();
      process.exit(code);
    });
  }
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0); // EXIT.ok
    throw e;
  });
  main(process.argv.slice(2)).then(
    // exit now rather than let node tear the environment down (~20–35 ms of a warm build: the heap,
    // the thread pool), once what was written to stdout and stderr is out (pipes are asynchronous on
    // some systems); nothing the command started is left running (it awaited its work)
    (code) => exitFlushed(code),
    async (e) => {
      const { EXIT, renderError } = await loadCommands();
      process.stderr.write(renderError(e, true).text);
      process.exit(EXIT.bug);
    },
  );
}
