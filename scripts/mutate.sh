#!/usr/bin/env bash
# mutate.sh — `npm run mutate`: Stryker on each core file with the tests that must kill its mutants, and a
# table of scores at the end (reports/mutation/*.json). Slow (hours for all of it): not part of CI.
#   bash scripts/mutate.sh                 every file below
#   bash scripts/mutate.sh src/blob/verify.ts src/trace/secrets.ts   only these
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
  [src/unpack/unpack.ts]="test/run/unpack-hostile.test.ts"
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
