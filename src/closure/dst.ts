/**
 * dst.ts — dynamic string tokens of the loader: `$ORIGIN`, `$LIB`, `$PLATFORM` (and `${…}`). PURE.
 * ld.so(8) "Dynamic string tokens"; glibc elf/dl-load.c _dl_dst_substitute.
 */

/** DstValues are the expansions of the tokens for one object; a missing value drops the path element. */
export interface DstValues {
  /** directory of the object (the main program's real path; a library's path as opened) */
  readonly origin?: string;
  /** `lib/x86_64-linux-gnu` on Debian, `lib64` on Fedora, `lib` elsewhere */
  readonly lib?: string;
  /** AT_PLATFORM (`x86_64`, `i686`, `aarch64`) */
  readonly platform?: string;
}

const TOKEN = /\$(?:\{(ORIGIN|LIB|PLATFORM)\}|(ORIGIN|LIB|PLATFORM)(?![A-Za-z0-9_]))/g;

/**
 * expandDst substitutes the tokens in one path element. Returns undefined when a token has no value
 * (ld.so then ignores the element). Unknown `$NAME`s are left as they are, as ld.so does.
 * With `musl`, only `$ORIGIN` is a token (musl's fixup_rpath).
 */
export function expandDst(s: string, v: DstValues, musl = false): string | undefined {
  if (!s.includes('$')) return s;
  let missing = false;
  const out = s.replace(TOKEN, (m, a: string | undefined, b: string | undefined) => {
    const name = a ?? b;
    if (musl && name !== 'ORIGIN') return m;
    const val = name === 'ORIGIN' ? v.origin : name === 'LIB' ? v.lib : v.platform;
    if (val === undefined) {
      missing = true;
      return m;
    }
    return val;
  });
  return missing ? undefined : out;
}

/**
 * splitSearchPath splits a DT_RPATH/DT_RUNPATH/LD_LIBRARY_PATH value on `:` (and `;` for
 * LD_LIBRARY_PATH, as glibc accepts). Empty elements mean "the current directory" to ld.so; the
 * working directory of a container is not known here, so they are dropped.
 */
export function splitSearchPath(s: string, semicolons = false): string[] {
  return s.split(semicolons ? /[:;]/ : /:/).filter((e) => e !== '');
}
