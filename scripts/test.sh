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

echo "test: type-checking" >&2
npx tsc -p tsconfig.json --noEmit

if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(find src test -name '*.test.ts' -not -path '*/node_modules/*' | LC_ALL=C sort); fi
if [ ${#files[@]} -eq 0 ]; then echo "test: no test files found" >&2; exit 1; fi
echo "test: running ${#files[@]} test files" >&2
exec node --import tsx --test --test-concurrency=2 --test-timeout=600000 "${files[@]}"
