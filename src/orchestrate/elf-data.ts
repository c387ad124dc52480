/**
 * elf-data.ts — ELF files that the build copies as data (relocatable objects, core and debug files,
 * truncated or malformed ELF, other architectures and OS ABIs; src/elf/elf-role.ts decides), and the
 * one summary note a build prints about them.
 */
import { ELF_DATA_KIND_LABEL, ELF_DATA_KIND_PLURAL, type ElfDataKind } from '../elf/elf-role.ts';
import type { Origin } from '../fs/origin.ts';

/** ElfDataFiles maps each image path copied as data to why (kind and detail). */
export type ElfDataFiles = Map<string, { readonly kind: ElfDataKind; readonly detail: string }>;

/** EXAMPLES_PER_NOTE bounds the paths the note names (the counts are complete). */
const EXAMPLES_PER_NOTE = 3;

/** elfDataOrigin is the reason `why` gives for an ELF file copied as data. */
export function elfDataOrigin(kind: ElfDataKind, detail: string, platform: string): Origin {
  return {
    kind: 'data',
    reason: `${ELF_DATA_KIND_LABEL[kind]} (${detail}), not a program or library of ${platform}: copied as a plain file, no closure`,
  };
}

/**
 * elfDataNote is the build's one line about ELF files copied as data: the total, the count of each kind
 * and a few example paths; undefined when there are none.
 */
export function elfDataNote(files: ElfDataFiles, platform: string): string | undefined {
  if (files.size === 0) return undefined;
  const byKind = new Map<ElfDataKind, string[]>();
  for (const [path, { kind }] of files) byKind.set(kind, [...(byKind.get(kind) ?? []), path]);
  const kinds = [...byKind.entries()].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
  const counts = kinds
    .map(([k, ps]) => `${ps.length} ${(ps.length === 1 ? ELF_DATA_KIND_LABEL : ELF_DATA_KIND_PLURAL)[k]}`)
    .join(', ');
  const examples = kinds
    .flatMap(([, ps]) => [...ps].sort().slice(0, 1))
    .concat(kinds.flatMap(([, ps]) => [...ps].sort().slice(1)))
    .slice(0, EXAMPLES_PER_NOTE);
  const more = files.size > examples.length ? ', …' : '';
  const n = files.size;
  return `note: ${n} ELF file${n === 1 ? '' : 's'} copied as data, not as programs or libraries of ${platform} (${counts}): ${examples.join(', ')}${more}; \`fromscratch why IMAGE PATH\` tells each one's kind`;
}
