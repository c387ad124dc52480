#!/usr/bin/env bash
# demo.sh — the main job on the built-in example: a FROM-scratch image of a small Node.js app with the
# very `node` binary that runs fromscratch, written to an OCI layout, checked, and run once where a
# Docker Engine runs, or else with runc (installed from Debian when missing). Any failure exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
NODE_BIN=$(command -v node)
rm -rf out/hello-node
mkdir -p out
echo "demo: building a FROM-scratch image of examples/hello-node with $NODE_BIN" >&2
node bin/fromscratch.js build \
  --binary "$NODE_BIN" \
  --add examples/hello-node/app.js:/app/app.js \
  --entrypoint "[\"$NODE_BIN\", \"/app/app.js\"]" \
  --user nonroot --workdir /app \
  -o oci:out/hello-node:latest
echo "demo: what is in it" >&2
node bin/fromscratch.js inspect oci:out/hello-node:latest --no-files >&2
LIBSTDCXX=$(node bin/fromscratch.js inspect oci:out/hello-node:latest --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const f=JSON.parse(s).images[0].layers.flatMap(l=>l.files).find(f=>/\/libstdc\+\+\.so\.6$/.test(f.path));console.log(f?f.path:"/app/app.js")})')
echo "demo: why is $LIBSTDCXX in the image?" >&2
node bin/fromscratch.js why oci:out/hello-node:latest "$LIBSTDCXX" >&2
if timeout 5 docker version >/dev/null 2>&1; then
  echo "demo: running it in the Docker Engine (no network)" >&2
  node bin/fromscratch.js copy oci:out/hello-node:latest docker-daemon:fromscratch/hello-node:latest >/dev/null
  docker run --rm --network none fromscratch/hello-node:latest
else
  # no Docker Engine answers: run it with runc, installing runc from Debian when it is missing
  if ! command -v runc >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
      echo "demo: error: no Docker Engine answers and runc is not installed; run: sudo apt-get install -y runc" >&2
      exit 1
    fi
    echo "demo: no Docker Engine answers; installing runc from Debian to run the image" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends runc >&2 ||
      { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends runc >&2; }
  fi
  echo "demo: no Docker Engine answers; running it with runc (start dockerd to use docker)" >&2
  node bin/fromscratch.js run oci:out/hello-node:latest
fi
echo "demo: done" >&2
