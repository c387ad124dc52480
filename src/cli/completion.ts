/**
 * completion.ts — `fromscratch completion bash|zsh|fish`: a shell completion script generated from the
 * commander definitions (commands, options, arguments), so it never lists an option the CLI lacks.
 *
 * What a value completes to is read from its definition: `<a|b|c>` and commander choices give those
 * words; `--platform` the platforms parsePlatform knows; an image (`<image>`, `<src>`, `<dest>`, `<ref>`)
 * the transports (`oci:`, `docker://`, …) and then paths; `<…dir>` directories; `<file>`, `<path>` and
 * the like files; anything else (`<cmd>`, `<k=v>`) nothing.
 */
import { Argument, type Command, type Option } from 'commander';
import { FromscratchError, KNOWN_PLATFORMS } from '../index.ts';

/** SHELLS are the shells a completion script is written for. */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
/** Shell is one of SHELLS. */
export type Shell = (typeof SHELLS)[number];

/** TRANSPORTS are the prefixes an image reference may start with (DESIGN.md's transport table). */
export const TRANSPORTS = ['oci:', 'oci-archive:', 'docker-archive:', 'docker-daemon:', 'docker://'] as const;

/** ValueKind says what a value completes to. */
type ValueKind =
  | { kind: 'choices'; words: readonly string[] }
  | { kind: 'image' }
  | { kind: 'dir' }
  | { kind: 'file' }
  | { kind: 'none' };

interface OptSpec {
  readonly short?: string;
  readonly long?: string;
  readonly description: string;
  /** undefined for a flag without a value */
  readonly value?: ValueKind;
}

interface CmdSpec {
  readonly name: string;
  readonly description: string;
  readonly options: readonly OptSpec[];
  /** what each positional argument completes to; the last repeats when it is variadic */
  readonly args: readonly ValueKind[];
}

/** valueKind classifies a value by its option, its name in the flags and its choices. */
function valueKind(
  long: string | undefined,
  name: string,
  choices: readonly string[] | undefined,
): ValueKind {
  if (choices?.length) return { kind: 'choices', words: choices };
  if (long === '--platform') return { kind: 'choices', words: KNOWN_PLATFORMS };
  const bare = name.replace(/\.\.\.$/, '');
  if (/^[a-z0-9-]+(\|[a-z0-9-]+)+$/.test(bare)) return { kind: 'choices', words: bare.split('|') };
  if (/^(image|src|dest|ref|source|destination)$/.test(bare)) return { kind: 'image' };
  if (/dir$/i.test(bare)) return { kind: 'dir' };
  if (/file|path|src|dockerfile|context/i.test(bare)) return { kind: 'file' };
  return { kind: 'none' };
}

function optSpec(o: Option): OptSpec {
  const m = /\s[<[](.*)[>\]]$/.exec(o.flags);
  const takesValue = o.required || o.optional;
  return {
    ...(o.short ? { short: o.short } : {}),
    ...(o.long ? { long: o.long } : {}),
    description: o.description,
    ...(takesValue ? { value: valueKind(o.long, m?.[1] ?? '', o.argChoices) } : {}),
  };
}

const HELP: OptSpec = { short: '-h', long: '--help', description: 'display help' };

function cmdSpec(c: Command): CmdSpec {
  return {
    name: c.name(),
    description: c.description(),
    options: [...c.options.map(optSpec), HELP],
    args: c.registeredArguments.map((a: Argument) => valueKind(undefined, a.name(), a.argChoices)),
  };
}

/** completionScript writes the completion script of `program` for `shell`. Throws USAGE for another shell. */
export function completionScript(program: Command, shell: string): string {
  const globals = [...program.options.map(optSpec), HELP];
  const cmds = program.commands.map(cmdSpec);
  const name = program.name();
  switch (shell) {
    case 'bash':
      return bashScript(name, globals, cmds);
    case 'zsh':
      return zshScript(name, globals, cmds);
    case 'fish':
      return fishScript(name, globals, cmds);
    default:
      throw new FromscratchError('USAGE', `no completion for shell ${JSON.stringify(shell)}`, {
        hint: `use one of: ${SHELLS.join(', ')}`,
      });
  }
}

/** registerCompletion adds the completion command. */
export function registerCompletion(program: Command, write: (s: string) => void): void {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .action((shell: string) => write(completionScript(program, shell)));
}

function flagsOf(o: OptSpec): string[] {
  return [o.short, o.long].filter((f): f is string => f !== undefined);
}

/** fn makes a shell function name from a command name. */
function fn(prog: string, cmd: string): string {
  return `_${prog}__${cmd.replace(/[^a-zA-Z0-9]/g, '_')}`;
}

// ---- bash -----------------------------------------------------------------------------------------

function bashValues(kind: ValueKind): string {
  switch (kind.kind) {
    case 'choices':
      return `_fromscratch_words "${kind.words.join(' ')}"`;
    case 'image':
      return '_fromscratch_image';
    case 'dir':
      return '_fromscratch_files -d';
    case 'file':
      return '_fromscratch_files -f';
    case 'none':
      return ':';
  }
}

function bashCommand(prog: string, c: CmdSpec): string {
  const valueOpts = c.options.filter((o) => o.value);
  const cases = valueOpts.map((o) => `    ${flagsOf(o).join('|')}) ${bashValues(o.value!)}; return ;;`);
  const words = c.options.flatMap(flagsOf).join(' ');
  const argCases = c.args.map((a, i) => `    ${i === c.args.length - 1 ? '*' : i}) ${bashValues(a)} ;;`);
  return [
    `${fn(prog, c.name)}() {`,
    `  local vopts=" ${valueOpts.flatMap(flagsOf).join(' ')} "`,
    '  case "$prev" in',
    ...cases,
    '  esac',
    `  if [[ "$cur" == -* ]]; then _fromscratch_words "${words}"; return; fi`,
    '  case "$(_fromscratch_argn "$vopts")" in',
    ...argCases,
    '  esac',
    '}',
  ].join('\n');
}

function bashScript(prog: string, globals: readonly OptSpec[], cmds: readonly CmdSpec[]): string {
  const gValue = globals.filter((o) => o.value);
  return `# bash completion for ${prog}; generated by \`${prog} completion bash\` from the CLI's own definitions
# use: source <(${prog} completion bash)   (or save it in ~/.local/share/bash-completion/completions/${prog})

# _fromscratch_reply sets COMPREPLY, dropping what bash keeps of the word before its last ':' (COMP_WORDBREAKS)
_fromscratch_reply() {
  COMPREPLY=()
  local w pre=""
  [[ "$cur" == *:* && "$COMP_WORDBREAKS" == *:* ]] && pre="\${cur%"\${cur##*:}"}"
  for w in "$@"; do COMPREPLY+=("\${w#"$pre"}"); done
}
_fromscratch_words() {
  local -a m=()
  mapfile -t m < <(compgen -W "$1" -- "$cur")
  _fromscratch_reply "\${m[@]}"
}
_fromscratch_files() {
  local -a m=()
  mapfile -t m < <(compgen "$1" -- "$cur")
  _fromscratch_reply "\${m[@]}"
}
_fromscratch_image() {
  local -a m=()
  case "$cur" in
    oci:*|oci-archive:*|docker-archive:*)
      local t="\${cur%%:*}:" rest="\${cur#*:}" f
      while IFS= read -r f; do m+=("$t$f"); done < <(compgen -f -- "$rest") ;;
    *:*) ;;
    *)
      mapfile -t m < <(compgen -W "${TRANSPORTS.join(' ')}" -- "$cur")
      compopt -o nospace 2>/dev/null ;;
  esac
  _fromscratch_reply "\${m[@]}"
}
# _fromscratch_argn prints the index of the positional argument being completed (words after the command)
_fromscratch_argn() {
  local n=0 i skip=""
  for ((i = cmdi + 1; i < \${#words[@]} - 1; i++)); do
    if [[ -n "$skip" ]]; then skip=""; continue; fi
    case "\${words[i]}" in
      --*=*) ;;
      -*) [[ "$1" == *" \${words[i]} "* ]] && skip=1 ;;
      *) n=$((n + 1)) ;;
    esac
  done
  echo "$n"
}
${cmds.map((c) => bashCommand(prog, c)).join('\n')}
_${prog}() {
  local line="\${COMP_LINE:0:COMP_POINT}"
  local -a words=()
  read -ra words <<< "$line"
  if [[ \${#words[@]} -eq 0 || "$line" == *[[:space:]] ]]; then words+=(""); fi
  local cur="\${words[\${#words[@]}-1]}" prev="" cmd="" cmdi=0 i skip=""
  if (( \${#words[@]} > 1 )); then prev="\${words[\${#words[@]}-2]}"; fi
  for ((i = 1; i < \${#words[@]} - 1; i++)); do
    if [[ -n "$skip" ]]; then skip=""; continue; fi
    case "\${words[i]}" in
      ${gValue.length ? `${gValue.flatMap(flagsOf).join('|')}) skip=1 ;;` : ''}
      -*) ;;
      *) cmd="\${words[i]}"; cmdi=$i; break ;;
    esac
  done
  COMPREPLY=()
  case "$cmd" in
    "")
      case "$prev" in
${gValue.map((o) => `        ${flagsOf(o).join('|')}) ${bashValues(o.value!)}; return ;;`).join('\n')}
      esac
      if [[ "$cur" == -* ]]; then _fromscratch_words "${globals.flatMap(flagsOf).join(' ')}"
      else _fromscratch_words "${cmds.map((c) => c.name).join(' ')} help"; fi ;;
${cmds.map((c) => `    ${c.name}) ${fn(prog, c.name)} ;;`).join('\n')}
    help) _fromscratch_words "${cmds.map((c) => c.name).join(' ')}" ;;
  esac
}
complete -o default -F _${prog} ${prog}
`;
}

// ---- zsh ------------------------------------------------------------------------------------------

/** zq quotes a string for zsh inside single quotes, and escapes what _arguments gives meaning to. */
function zq(s: string): string {
  return s.replace(/'/g, "'\\''");
}
function zdesc(s: string): string {
  return s.replace(/[[\]]/g, (c) => (c === '[' ? '(' : ')')).replace(/:/g, '\\:');
}

function zshAction(kind: ValueKind): string {
  switch (kind.kind) {
    case 'choices':
      return `(${kind.words.join(' ')})`;
    case 'image':
      return '_fromscratch_image';
    case 'dir':
      return '_files -/';
    case 'file':
      return '_files';
    case 'none':
      return ' ';
  }
}

function zshOpt(o: OptSpec): string[] {
  const flags = flagsOf(o);
  const desc = zdesc(o.description);
  const value = o.value ? `:${o.value.kind === 'none' ? 'value' : o.value.kind}:${zshAction(o.value)}` : '';
  const exclusive = flags.length > 1 ? `(${flags.join(' ')})` : '';
  const repeat =
    /^--(binary|add|trace|package|env|label|annotation|expose|volume|platform|tag|output|build-arg|allow-secret|apt-source|lib-path|insecure-registry|verify)$/.test(
      o.long ?? '',
    )
      ? '*'
      : '';
  return flags.map(
    (f) => `'${zq(repeat || exclusive ? `${repeat ? '*' : exclusive}${f}` : f)}[${zq(desc)}]${zq(value)}'`,
  );
}

function zshScript(prog: string, globals: readonly OptSpec[], cmds: readonly CmdSpec[]): string {
  const cmdList = cmds.map((c) => `    '${zq(c.name)}:${zq(zdesc(c.description))}'`).join('\n');
  const perCmd = cmds
    .map((c) => {
      const args = c.args.map(
        (a, i) =>
          `'${i === c.args.length - 1 ? '*' : i + 1}:${a.kind === 'none' ? 'arg' : a.kind}:${zq(zshAction(a))}'`,
      );
      return [
        `        (${c.name})`,
        '          _arguments -s \\',
        ...[...c.options.flatMap(zshOpt), ...args].map((l) => `            ${l} \\`),
        '          ;;',
      ].join('\n');
    })
    .join('\n');
  return `#compdef ${prog}
# zsh completion for ${prog}; generated by \`${prog} completion zsh\` from the CLI's own definitions
# use: ${prog} completion zsh > "\${fpath[1]}/_${prog}"   (or: source <(${prog} completion zsh) after compinit)

_fromscratch_image() {
  if compset -P '(oci|oci-archive|docker-archive):'; then
    _files
  else
    compadd -S '' -- ${TRANSPORTS.join(' ')}
    _files
  fi
}

_${prog}() {
  local curcontext="$curcontext" state line
  typeset -A opt_args
  local -a commands
  commands=(
${cmdList}
  )
  _arguments -C \\
${globals
  .flatMap(zshOpt)
  .map((l) => `    ${l} \\`)
  .join('\n')}
    '1: :->command' \\
    '*:: :->args'
  case $state in
    (command) _describe -t commands '${prog} command' commands ;;
    (args)
      case $line[1] in
${perCmd}
      esac
      ;;
  esac
}

if [[ "\${funcstack[1]}" == _${prog} ]]; then
  _${prog} "$@"
else
  compdef _${prog} ${prog}
fi
`;
}

// ---- fish -----------------------------------------------------------------------------------------

/** fq quotes a string for fish inside single quotes. */
function fq(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function fishOpt(prog: string, cond: string, o: OptSpec): string {
  const parts = [`complete -c ${prog} -n ${fq(cond)}`];
  if (o.short) parts.push(`-s ${o.short.slice(1)}`);
  if (o.long) parts.push(`-l ${o.long.slice(2)}`);
  if (o.value) {
    switch (o.value.kind) {
      case 'choices':
        parts.push(`-x -a ${fq(o.value.words.join(' '))}`);
        break;
      case 'image':
        parts.push(`-r -a '(__fromscratch_image)'`);
        break;
      case 'dir':
        parts.push(`-x -a '(__fish_complete_directories)'`);
        break;
      case 'file':
        parts.push('-r -F');
        break;
      case 'none':
        parts.push('-x');
        break;
    }
  }
  parts.push(`-d ${fq(o.description)}`);
  return parts.join(' ');
}

function fishArg(prog: string, c: CmdSpec): string[] {
  const first = c.args[0];
  if (!first) return [];
  const cond = `__fish_seen_subcommand_from ${c.name}`;
  switch (first.kind) {
    case 'choices':
      return [`complete -c ${prog} -n ${fq(cond)} -f -a ${fq(first.words.join(' '))}`];
    case 'image':
      return [`complete -c ${prog} -n ${fq(cond)} -f -a '(__fromscratch_image)'`];
    case 'none':
      return [`complete -c ${prog} -n ${fq(cond)} -f`];
    default:
      return [];
  }
}

function fishScript(prog: string, globals: readonly OptSpec[], cmds: readonly CmdSpec[]): string {
  const names = cmds.map((c) => c.name).join(' ');
  const noCmd = `not __fish_seen_subcommand_from ${names} help`;
  return [
    `# fish completion for ${prog}; generated by \`${prog} completion fish\` from the CLI's own definitions`,
    `# use: ${prog} completion fish > ~/.config/fish/completions/${prog}.fish`,
    '',
    'function __fromscratch_image',
    '    set -l tok (commandline -ct)',
    '    switch $tok',
    '        case "oci:*" "oci-archive:*" "docker-archive:*"',
    "            set -l t (string split -m1 ':' -- $tok)",
    '            for f in (__fish_complete_path $t[2])',
    '                echo "$t[1]:$f"',
    '            end',
    '        case "*:*"',
    '        case "*"',
    ...TRANSPORTS.map((t) => `            echo ${fq(t)}`),
    '            __fish_complete_path $tok',
    '    end',
    'end',
    '',
    `complete -c ${prog} -e`,
    ...globals.map((o) => fishOpt(prog, noCmd, o)),
    ...cmds.map((c) => `complete -c ${prog} -n ${fq(noCmd)} -f -a ${fq(c.name)} -d ${fq(c.description)}`),
    `complete -c ${prog} -n ${fq(noCmd)} -f -a help -d 'display help for a command'`,
    ...cmds.flatMap((c) => [
      ...c.options.map((o) => fishOpt(prog, `__fish_seen_subcommand_from ${c.name}`, o)),
      ...fishArg(prog, c),
    ]),
    '',
  ].join('\n');
}
