#!/usr/bin/env bash
# test.sh — the one test command: installs what is missing, starts the real components, type-checks,
# and runs every test file with node's test runner (explicit file list: Node 20's --test finds no .ts
# files in a folder and exits 0).
#   --unit   skip service start-up (the integration tests then fail and say how to start them)
set -euo pipefail
cd "$(dirname "$0")/.."

unit=0
[ "${1:-}" = "--unit" ] && { unit=1; shift; }

[ -d node_modules ] || npm ci --no-audit --no-fund
if [ $unit = 0 ]; then bash scripts/services.sh; fi
export FROMSCRATCH_SERVICES="${FROMSCRATCH_STATE:-/tmp/fromscratch-services}"

# the type check runs beside the tests (12 s of one core before them, else); its failure fails the run
echo "test: type-checking (beside the tests)" >&2
typecheck_log=$(mktemp)
npx tsc -p tsconfig.json --noEmit >"$typecheck_log" 2>&1 &
typecheck=$!
# the command the end-to-end tests run is the bundle, as installed (bin/fromscratch.js runs the sources
# instead when one is newer): built from these sources now
node scripts/bundle.mjs >&2

# the slowest first (the real-program launch files, 5-7 minutes each; the two unit files of over a
# minute, ldd's differential and apt's resolver; the rest of the corpus; the other end-to-end files),
# the quick unit files after them: files start in this order, so the long ones do not end the run
# alone on one core
slow_units='test/closure/ldd-diff.test.ts test/deb/resolve-apt.test.ts'
if [ $# -gt 0 ]; then files=("$@"); else
  mapfile -t all < <(find src test -name '*.test.ts' -not -path '*/node_modules/*' | LC_ALL=C sort)
  files=()
  for f in "${all[@]}"; do case $f in test/e2e/real-launch-*) files+=("$f") ;; esac; done
  for f in $slow_units; do [ -f "$f" ] && files+=("$f"); done
  for f in "${all[@]}"; do case $f in test/e2e/real-launch-*) ;; test/e2e/real-*) files+=("$f") ;; esac; done
  for f in "${all[@]}"; do case $f in test/e2e/real-*) ;; test/e2e/*) files+=("$f") ;; esac; done
  for f in "${all[@]}"; do
    case " $slow_units " in *" $f "*) continue ;; esac
    case $f in test/e2e/*) ;; *) files+=("$f") ;; esac
  done
fi
if [ ${#files[@]} -eq 0 ]; then echo "test: no test files found" >&2; exit 1; fi
echo "test: running ${#files[@]} test files" >&2
# three files at a time on two cores: the end-to-end files wait on dockerd, the registry and the
# containers they start for much of their time (four took no less: dockerd's CPU fills the cores)
node --import tsx --test --test-concurrency=3 --test-timeout=600000 "${files[@]}" && tests=0 || tests=$?
if ! wait "$typecheck"; then
  cat "$typecheck_log" >&2
  echo "test: the type check failed" >&2
  rm -f "$typecheck_log"
  exit 1
fi
rm -f "$typecheck_log"
exit "$tests"
