#!/usr/bin/env bash
# bench.sh — runs the benchmarks one after another: layer-write, deps, push, build, then any other
# bench/*.ts whose doc comment says "— benchmark:" (helpers such as push-ours.ts are not benchmarks).
# Starts the real components first (scripts/services.sh). One failing bench does not stop the others;
# the exit code is 1 if any failed. See bench/README.md for what each measures and how to read it.
#   bash scripts/bench.sh            # every bench
#   bash scripts/bench.sh push build # only these, in this order
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/services.sh || { echo "bench: services failed to start" >&2; exit 1; }

if [ $# -gt 0 ]; then
  names=("$@")
else
  names=(layer-write deps push build)
  for f in bench/*.ts; do
    n=$(basename "$f" .ts)
    case " ${names[*]} " in *" $n "*) continue ;; esac
    head -5 "$f" | grep -q -- '— benchmark:' && names+=("$n")
  done
fi

failed=()
for n in "${names[@]}"; do
  f="bench/$n.ts"
  [ -f "$f" ] || { echo "bench: $f does not exist, skipped" >&2; continue; }
  echo
  echo "=== bench $n ($(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1-3 /proc/loadavg)) ==="
  start=$SECONDS
  if node --import tsx "$f"; then
    echo "=== bench $n: ok in $((SECONDS - start)) s ==="
  else
    echo "=== bench $n: FAILED (exit $?) after $((SECONDS - start)) s ===" >&2
    failed+=("$n")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "bench: failed: ${failed[*]}" >&2
  exit 1
fi
