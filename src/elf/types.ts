/**
 * types.ts — what the ELF reader tells about an object file. PURE types.
 * https://refspecs.linuxfoundation.org/elf/gabi4+/contents.html
 */

/** ElfClass is the word size (EI_CLASS). */
export type ElfClass = 32 | 64;

/** ElfType is e_type. */
export type ElfType = 'none' | 'rel' | 'exec' | 'dyn' | 'core' | 'other';

/** DlopenNote is one entry of a `.note.dlopen` note (https://systemd.io/ELF_DLOPEN_METADATA/). */
export interface DlopenNote {
  readonly feature?: string;
  readonly description?: string;
  /** "required" | "recommended" | "suggested" */
  readonly priority?: string;
  /** alternatives: any one of these sonames satisfies the entry */
  readonly soname: readonly string[];
}

/** ElfInfo is the parsed header and dynamic information of an ELF file. */
export interface ElfInfo {
  readonly class: ElfClass;
  readonly endian: 'little' | 'big';
  /** e_machine number */
  readonly machine: number;
  /** short name for e_machine: x86_64, i386, aarch64, arm, riscv64, ppc64, ppc, s390x, mips, loongarch … */
  readonly machineName: string;
  /** EI_OSABI */
  readonly osabi: number;
  readonly type: ElfType;
  /** e_flags (ABI details: ARM float ABI, RISC-V float ABI, MIPS ABI) */
  readonly flags: number;
  /** PT_INTERP, without the trailing NUL; undefined for static programs and most libraries */
  readonly interpreter?: string;
  /** true when the file has a PT_DYNAMIC segment */
  readonly dynamic: boolean;
  /** DT_NEEDED entries, in order */
  readonly needed: readonly string[];
  readonly soname?: string;
  /** DT_RPATH split on ':' (empty when absent) */
  readonly rpath: readonly string[];
  /** DT_RUNPATH split on ':' (empty when absent) */
  readonly runpath: readonly string[];
  /** DT_FLAGS_1 (DF_1_NODEFLIB = 0x800, DF_1_PIE = 0x08000000 …), 0 when absent */
  readonly flags1: number;
  /** DT_FLAGS, 0 when absent */
  readonly dtFlags: number;
  /** undefined symbols imported from .dynsym (names only, no versions), sorted, unique */
  readonly importedSymbols: readonly string[];
  /** defined symbols exported in .dynsym, sorted, unique (for libraries) */
  readonly exportedSymbols: readonly string[];
  /** the file range of the dynamic string table (.dynstr: the names of symbols and libraries), when found */
  readonly dynamicStrings?: { readonly offset: number; readonly end: number };
  /**
   * the file ranges of the read-only data: PT_LOAD segments readable but neither writable nor
   * executable (.rodata, and the headers, .dynsym, .dynstr before the code), in file order
   */
  readonly readOnlyData?: readonly { readonly offset: number; readonly size: number }[];
  /** entries of .note.dlopen notes */
  readonly dlopen: readonly DlopenNote[];
  /** NT_GNU_BUILD_ID as lowercase hex */
  readonly buildId?: string;
  /** the Go toolchain's build ID (note `Go`, type 4, `.note.go.buildid`): the object is a Go program */
  readonly goBuildId?: string;
  /** statically linked: no PT_INTERP and no PT_DYNAMIC (static-pie has PT_DYNAMIC but no PT_INTERP and no DT_NEEDED) */
  readonly isStatic: boolean;
  /** real program header count (after PN_XNUM extended numbering); set by parseElf */
  readonly phnum?: number;
  /** real section header count (after extended numbering; 0 without section headers); set by parseElf */
  readonly shnum?: number;
  /** real section name table index (after SHN_XINDEX); set by parseElf */
  readonly shstrndx?: number;
  /** oddities parseElf tolerated (bad notes, symbol cap reached, …), for --explain and debugging; set by parseElf */
  readonly warnings?: readonly string[];
}
