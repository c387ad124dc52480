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
#   closure/search   `!env.warnings.includes(state.warning)`: the memoised glibc search gets a fresh warnings
#                    array per call, so the test is always true there (the closure dedupes its warnings)
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
