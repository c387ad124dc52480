/**
 * examples.ts — one or more examples per command, shown at the end of `fromscratch CMD --help`.
 *
 * Every example is a complete command line that the CLI's own parser accepts (examples.test.ts parses
 * each one), so `--help` cannot drift from the options. A `# …` line explains the example below it.
 */
import type { Command } from 'commander';

/** Example is one command line with what it does. */
export interface Example {
  readonly what: string;
  readonly line: string;
}

/** EXAMPLES holds the examples of each command, by command name. */
export const EXAMPLES: Readonly<Record<string, readonly Example[]>> = {
  build: [
    {
      what: 'curl and everything it needs at run time, as an OCI layout',
      line: 'fromscratch build --binary /usr/bin/curl -t curl:1 -o oci:out',
    },
    {
      what: 'a Debian package plus an app directory, loaded into Docker',
      line: "fromscratch build --package ca-certificates --add ./app:/app --entrypoint '/app/server --port 8080' -o docker-daemon:app:1",
    },
    {
      what: 'the YAML spec written by `fromscratch init`, pushed to a registry',
      line: 'fromscratch build -c fromscratch.yaml -o docker://127.0.0.1:5000/app:1',
    },
    {
      what: 'a Dockerfile, quietly, into a tar that `docker load` accepts',
      line: 'fromscratch build -q -f Dockerfile -o docker-archive:app.tar:app:1 .',
    },
  ],
  run: [
    { what: "run an image's entrypoint with runc", line: 'fromscratch run oci:out:1' },
    {
      what: "run it under docker, with arguments replacing the image's Cmd",
      line: 'fromscratch run --runtime docker -e LANG=C.UTF-8 oci:out:1 http://127.0.0.1:8080/',
    },
  ],
  inspect: [
    { what: 'layers, config and files of an image', line: 'fromscratch inspect oci:out:1' },
    {
      what: 'the same as JSON, for a registry image',
      line: 'fromscratch inspect --json docker://127.0.0.1:5000/app:1',
    },
  ],
  check: [
    {
      what: 'can this image start? (programs, loader, libraries, users)',
      line: 'fromscratch check oci:out:1',
    },
    {
      what: 'one platform of a multi-platform image in a registry',
      line: 'fromscratch check --platform linux/arm64 docker://127.0.0.1:5000/app:1',
    },
  ],
  why: [
    {
      what: 'the chain of reasons libssl is in the image',
      line: 'fromscratch why oci:out:1 /usr/lib/x86_64-linux-gnu/libssl.so.3',
    },
  ],
  sbom: [
    { what: 'an SPDX document of the image on stdout', line: 'fromscratch sbom oci:out:1' },
    { what: 'CycloneDX instead', line: 'fromscratch sbom --format cyclonedx docker://127.0.0.1:5000/app:1' },
  ],
  copy: [
    {
      what: 'push an OCI layout to a registry',
      line: 'fromscratch copy oci:out:1 docker://127.0.0.1:5000/curl:1',
    },
    {
      what: 'pull it into a tar that `docker load` accepts',
      line: 'fromscratch copy docker://127.0.0.1:5000/curl:1 docker-archive:curl.tar:curl:1',
    },
  ],
  deps: [
    { what: 'what curl needs at run time, without running it', line: 'fromscratch deps /usr/bin/curl' },
    {
      what: 'as JSON, for a program inside an unpacked root',
      line: 'fromscratch deps --json --sysroot ./rootfs /usr/bin/python3',
    },
  ],
  report: [
    {
      what: 'one self-contained HTML page: where the space goes and why',
      line: 'fromscratch report oci:out:1 -o report.html',
    },
  ],
  completion: [
    {
      what: 'bash: add `source <(fromscratch completion bash)` to ~/.bashrc',
      line: 'fromscratch completion bash',
    },
    { what: 'fish: write it where fish looks for completions', line: 'fromscratch completion fish' },
  ],
  init: [
    { what: 'write a commented fromscratch.yaml for the current directory', line: 'fromscratch init' },
    { what: 'replace an existing one', line: 'fromscratch init --force' },
  ],
};

/** formatExamples renders examples as the `Examples:` section of a command's help. */
export function formatExamples(examples: readonly Example[]): string {
  const lines = ['', 'Examples:'];
  for (const e of examples) lines.push(`  # ${e.what}`, `  $ ${e.line}`);
  return `${lines.join('\n')}\n`;
}

/** addExamples appends the examples of each command of `program` that has some to its help. */
export function addExamples(program: Command): void {
  for (const cmd of program.commands) {
    const examples = EXAMPLES[cmd.name()];
    if (examples) cmd.addHelpText('after', formatExamples(examples));
  }
}
