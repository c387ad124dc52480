#!/usr/bin/env bash
# mutate.sh — `npm run mutate`: Stryker on each core file with the tests that must kill its mutants, and a
# table of scores at the end (reports/mutation/*.json). Slow (hours for all of it): not part of CI.
#   bash scripts/mutate.sh                 every file below
#   bash scripts/mutate.sh src/blob/verify.ts src/trace/secrets.ts   only these
#
# Surviving mutants judged equivalent (one line per class; issue 17):
#   deb/version.ts   `k < a.length` → `true`/`<=` in ca/cb: charCodeAt past the end is NaN either way
#   deb/version.ts   `ea > eb` → `ea >= eb` inside `if (ea !== eb)`: the two never differ there
#   fs/resolve.ts    `[part, ...pending].filter(p => p !== '.')` mutants: normalizeImagePath drops `.` anyway
#   fs/resolve.ts    the early "not a directory" return removed: RootFs.lstat under a file is undefined
#                    (ENOTDIR), giving the same path and stat one step later
#   fs/resolve.ts    `|| '/'` → `|| ''` in resolveSymlinkTarget: `/${target}` is normalised to the same path
#   oci/validate.ts  `ok = false` → `true` for a non-layer media type: `c === undefined` skips the layer anyway
#   oci/validate.ts  the `what` of decompressStream (`layer sha256:…`): only in messages of decompressor
#                    errors no test matches on (left, not equivalent: a message, not a rule)
#   layer/tar-header splitUstarName `nlen === 0` and `i > PREFIX_LEN`: unreachable (the search window is
#                    at most 156 bytes and a trailing slash is excluded from it)
#   layer/tar-header splitUstarName `name[length - 1] === SLASH` → `true`: dropping a last byte that is not `/`
#                    from the search window cannot change the last `/` found in it
#   layer/tar-header paxRecord's start `body.length + 1` → `- 1`: the length iteration is monotone and reaches the
#                    smallest self-consistent length from any start below it
#   layer/tar-header writeOctal `width - 1` → `width + 1` chars written: the digits are always width-1 long
#                    (values are range-checked or zeroed first), so the extra room is never used
#   layer/tar-header writeOctal NUL at `offset + width + 1`: a 0 inside the next field of a zeroed block, which
#                    ustarBlock writes afterwards (fields in ascending order; after mtime, the checksum spaces)
#   closure/search   `!env.warnings.includes(state.warning)`: the memoised glibc search gets a fresh warnings
#                    array per call, so the test is always true there (the closure dedupes its warnings)
#   unpack/unpack.ts removeTree `throwIfNoEntry: false` → {} / true: every path it visits was just listed, never missing
#   unpack/unpack.ts removeTree's chmod u+rwx → always (`(st.mode & 0o700) !== 0o700` → true): a needless chmod
#   unpack/unpack.ts first values of xattrWarned (never read), current and layerName (both set before any use)
#   unpack/unpack.ts host([]) gives `root + '/'` (`parts.length === 0` → false): the same directory to every fs call
#   unpack/unpack.ts the drain after the tar's end (closeOnly → true, its rethrow): unreachable, the tar reader reads
#                    to EOF (trailing-data check) and the decompressor its source, so a store's error is thrown there
#   unpack/unpack.ts mkdir `{ mode }` of implicit parents (0755) and declared directories (0700) → {}: chmodSync /
#                    fchmodSync set the mode right after
#   unpack/unpack.ts cost bounds, not rules: forgetLinks `linkMemo.size > 0` → true / `>= 0` (clears an empty memo),
#                    markWritten's `break` at a known ancestor, a repeated opaque marker's skip (A21: a second walk
#                    only meets this layer's entries, which it keeps), `existing.isDirectory()` → true before
#                    removeTree in applyEntry / applyHardlink (removeTree unlinks a non-directory too)
#   unpack/unpack.ts opaque whiteout `!isDirectory()` → false: unreachable, resolveDir returns only directories
#   unpack/unpack.ts writeFile `b.length - off` → `+`: writeSync to a regular file writes the whole chunk, off is 0
#   unpack/unpack.ts finish `p.split('/').filter(Boolean)` → `p.split('/')`: walkDir skips empty components
#   closure/search   `e.startsWith('/') ? e : `/${e}`` (expandList, a name with `/`): `startsWith("")`,
#                    `endsWith('/')`, `true`/`false`: normalizeImagePath makes a relative path absolute and
#                    collapses `//` itself, so every choice gives the same directory
#   closure/search   `sub ?? []` → `sub ?? ["Stryker was here"]` in searchDir: sub is undefined only when
#                    glibc-hwcaps is not a directory, so nothing under it exists and the made-up name is skipped
#   closure/search   muslSysPath: `env.interpreter ?? ""` and `prefix === '/'` → `false` (or `=== ""`): ARCH is
#                    `unknown` and the prefix `/` for both loaders; `//etc/…` is the same file as `/etc/…`
#   closure/search   `if (!m)` → `true` in searchLibrary: the memoised glibc search is run again instead of
#                    reused; it is deterministic and its warnings are told either way (a cost, not a rule)
#   closure/search   `(id & 0xff00) === 0` → `false` in the cache filter: every id cacheFlagsFor gives without
#                    an architecture byte is 0x0003, so `e.flags === 3` there is already `e.flags === id`
set -euo pipefail
cd "$(dirname "$0")/.."
export FROMSCRATCH_SERVICES="${FROMSCRATCH_STATE:-/tmp/fromscratch-services}"

# file to mutate | tests that must kill its mutants (fast ones; the e2e suites are too slow per mutant)
declare -A TESTS=(
  [src/blob/verify.ts]="src/blob/verify.test.ts src/blob/store.test.ts"
  [src/trace/secrets.ts]="src/trace/secrets.test.ts"
  [src/layer/tar-header.ts]="src/layer/tar-header.test.ts"
  [src/deb/version.ts]="src/deb/version.test.ts"
  [src/fs/resolve.ts]="src/fs/resolve.test.ts"
  [src/oci/validate.ts]="test/oci/validate.test.ts"
  [src/unpack/unpack.ts]="src/unpack/unpack.test.ts"
  [src/closure/search.ts]="src/closure/search.test.ts"
)
ORDER=(src/blob/verify.ts src/trace/secrets.ts src/deb/version.ts src/layer/tar-header.ts src/oci/validate.ts
  src/fs/resolve.ts src/unpack/unpack.ts src/closure/search.ts)

files=("$@")
[ ${#files[@]} -gt 0 ] || files=("${ORDER[@]}")
mkdir -p reports/mutation
for f in "${files[@]}"; do
  [ -n "${TESTS[$f]:-}" ] || { echo "mutate: no tests listed for $f in scripts/mutate.sh" >&2; exit 2; }
  echo "mutate: $f (tests: ${TESTS[$f]})" >&2
  MUTATE_FILE="$f" MUTATE_TESTS="${TESTS[$f]}" npx stryker run stryker.config.mjs
done

# the score per file: killed + timeout over everything that compiled (Stryker's "mutation score")
node -e '
const fs = require("fs");
for (const f of fs.readdirSync("reports/mutation").filter((n) => n.endsWith(".json")).sort()) {
  const r = JSON.parse(fs.readFileSync("reports/mutation/" + f, "utf8"));
  for (const [file, { mutants }] of Object.entries(r.files)) {
    const n = (s) => mutants.filter((m) => m.status === s).length;
    const detected = n("Killed") + n("Timeout");
    const valid = detected + n("Survived") + n("NoCoverage");
    console.log(`${file}\t${valid ? ((100 * detected) / valid).toFixed(1) : "-"} %\tkilled ${n("Killed")} timeout ${n("Timeout")} survived ${n("Survived")} no-coverage ${n("NoCoverage")} compile-errors ${n("CompileError")}`);
  }
}'
