#!/usr/bin/env bash
# Checks shark's ONNX export under ONNX Runtime itself: installs
# onnxruntime-node 1.30 from the npm registry into a temporary folder and
# runs cmd/shark's TestONNXRuntime* with SHARK_ONNXRUNTIME naming it.
# --ignore-scripts: the package's install script fetches GPU builds from a
# host these machines do not reach; the CPU runtime ships in the package.
# Needs node (20) and npm; ./build.sh test runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v node >/dev/null && command -v npm >/dev/null || { echo "onnxruntime.sh: node and npm are needed (apt-get install nodejs npm)" >&2; exit 1; }
ORT_DIR="$(mktemp -d)"
trap 'rm -rf "$ORT_DIR"' EXIT
(cd "$ORT_DIR" && npm install --ignore-scripts --no-audit --no-fund --silent onnxruntime-node@1.30.0 >/dev/null)
SHARK_ONNXRUNTIME="$ORT_DIR" go test -count=1 -run 'TestONNXRuntime' -v ./cmd/shark/ | grep -E '^(=== RUN|--- |    |ok|FAIL|PASS)'
