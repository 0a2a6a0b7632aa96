#!/usr/bin/env bash
# shark's one build script.
#   ./build.sh          build bin/shark
#   ./build.sh demo     build, then run the main job on data the program makes itself
#   ./build.sh test     install what the tests need, then run every test
#   ./build.sh desktop  build bin/shark-desktop (cgo; installs X11/GL headers as root)
#   ./build.sh release  build release/: every platform's CLI and app, the page, SHA256SUMS (scripts/release.sh)
set -euo pipefail
cd "$(dirname "$0")"

export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
VERSION="$(git describe --always --dirty 2>/dev/null || echo dev)"

need_go() {
  command -v go >/dev/null 2>&1 || { echo "build.sh: Go 1.26 is required (https://go.dev/dl)" >&2; exit 1; }
}

# The CLI is built with Go's SIMD experiment on amd64 (simd/archsimd kernels,
# chosen at run time from the CPU's features); elsewhere it is portable.
simd_env() {
  if [ "$(go env GOARCH)" = amd64 ]; then echo "GOEXPERIMENT=simd"; fi
}

# The browser face: the core built for js/wasm (portable Go kernels, the
# row-error kernel also as WebAssembly SIMD128) and Go's wasm_exec.js, both
# beside the page so that the CLI can embed them.
build_wasm() {
  # The page's SIMD128 kernels, assembled from their text (Debian's wabt;
  # without it the kernels.wasm kept beside the text, which
  # wasm/simd's TestAssembled checks against it).
  if command -v wat2wasm >/dev/null 2>&1; then wat2wasm wasm/simd/kernels.wat -o wasm/simd/kernels.wasm; fi
  GOOS=js GOARCH=wasm go build -ldflags "-s -w -X shark/internal/provenance.Version=$VERSION" -o www/static/shark.wasm ./wasm
  local exec_js
  exec_js="$(go env GOROOT)/lib/wasm/wasm_exec.js"
  [ -f "$exec_js" ] || exec_js="$(go env GOROOT)/misc/wasm/wasm_exec.js"
  cp "$exec_js" www/static/wasm_exec.js
}

build() {
  need_go
  mkdir -p bin
  build_wasm
  env $(simd_env) go build -ldflags "-X shark/internal/provenance.Version=$VERSION" -o bin/shark ./cmd/shark
  echo "built bin/shark ($VERSION, $(bin/shark version | tail -1))"
}

# dist builds bin/shark-dist, the Beam pipelines (a module of its own, dist/,
# so that nothing else links Beam).
dist() {
  need_go
  mkdir -p bin
  (cd dist && env $(simd_env) go build -ldflags "-X shark/internal/provenance.Version=$VERSION" -o ../bin/shark-dist ./cmd/shark-dist)
  echo "built bin/shark-dist"
}

# apt_install PKG...: installs Debian packages when root, otherwise prints the
# exact command and fails, so that nothing is silently skipped.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ]; then
    echo "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "build.sh: the tests need Debian packages; run:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
}

# The desktop app needs cgo and the X11/OpenGL headers.
DESKTOP_PKGS="gcc pkg-config libgl1-mesa-dev xorg-dev"

desktop() {
  need_go
  apt_install $DESKTOP_PKGS
  mkdir -p bin
  CGO_ENABLED=1 env $(simd_env) go build -ldflags "-X shark/internal/provenance.Version=$VERSION" -o bin/shark-desktop ./desktop
  echo "built bin/shark-desktop"
}

demo() {
  build
  local dir=shark-demo
  echo
  echo "== the SHARK method end to end: synthetic click data, the reference model, F-Permutation, F-Quantization"
  bin/shark demo --keep "$dir"
  echo
  echo "== offline compression of exported tables"
  echo "== 1. a synthetic exported model: two embedding tables, a dense tower, Zipf access counts"
  bin/shark example -o "$dir/example"
  bin/shark inspect "$dir/example/model.npz"
  echo
  echo "== 2. quantize to 30% of the tables' fp32 bytes, rows prioritised by clicks (w_pos) over views (w_neg)"
  bin/shark quantize "$dir/example/model.npz" --counts "$dir/example/counts.npz" --budget 30% -o "$dir/example/model.shark"
  echo
  echo "== 3. verify every checksum, then export back to NumPy's .npz"
  bin/shark verify "$dir/example/model.shark"
  bin/shark export "$dir/example/model.shark" --to npz -o "$dir/example/dequantized.npz"
  bin/shark inspect "$dir/example/model.shark"
  echo
  echo "The files are in ./$dir/."
}

# FUZZ_TARGETS are every reader's fuzz target, as package:target.
FUZZ_TARGETS="formats/npy:FuzzNpy formats/npz:FuzzNpz formats/safetensors:FuzzSafetensors formats/sharkfile:FuzzShark formats/sharkfile:FuzzSharkHeader formats/pytorch:FuzzPytorch formats/pytorch:FuzzPickle formats/onnx:FuzzOnnx ctr/dataset:FuzzReaders"

# fuzz_all runs each fuzz target for FUZZTIME and prints its executions; a
# failing run prints its output (the crasher is saved under testdata/fuzz).
# Minimizing is capped at 3 s an input: the fuzzer minimizes every input it
# finds interesting, and on inputs of tens of KB the default minute spent
# most of a short run there (FuzzShark: 3,403 executions in 60 s).
fuzz_all() {
  local pkg target log
  log="$(mktemp)"
  for spec in $FUZZ_TARGETS; do
    pkg="${spec%%:*}"; target="${spec##*:}"
    if ! fuzz_one "$pkg" "$target" "$log"; then
      grep -v '^fuzz: elapsed' "$log" >&2
      echo "FAIL $pkg $target" >&2
      rm -f "$log"
      exit 1
    fi
    echo "ok   $pkg $target: $(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2) executions in ${FUZZTIME:-20s}"
  done
  rm -f "$log"
}

# fuzz_one fuzzes one target into log. Go 1.26's fuzzing coordinator can
# report the end of -fuzztime itself as "context deadline exceeded"
# (go.dev/issue/75804, fixed in Go 1.27): a run that fails so and saved no
# failing input under testdata/fuzz is a pass, and says so; a run that
# saved one fails, whatever its message.
fuzz_one() {
  local pkg="$1" target="$2" log="$3" corpus before after
  corpus="$pkg/testdata/fuzz/$target"
  before="$(ls "$corpus" 2>/dev/null | wc -l)"
  if go test -run='^$' -fuzz="^${target}\$" -fuzztime="${FUZZTIME:-20s}" -fuzzminimizetime=3s "./$pkg" > "$log" 2>&1; then
    return 0
  fi
  after="$(ls "$corpus" 2>/dev/null | wc -l)"
  if [ "$after" = "$before" ] && grep -q '^    context deadline exceeded$' "$log" && [ "$(grep -c -- '--- FAIL' "$log")" = 1 ]; then
    echo "     $pkg $target: the run ended with Go 1.26's coordinator race (go.dev/issue/75804), no failing input saved"
    return 0
  fi
  return 1
}

# stage NAME closes the stage before, printing its time, and opens NAME, so
# that a long run says where it is and where its time went.
stage() {
  if [ -n "${STAGE_NAME:-}" ]; then echo "   ($STAGE_NAME: $((SECONDS - STAGE_START)) s)"; fi
  STAGE_NAME="$1"; STAGE_START=$SECONDS
  [ -n "$1" ] && echo "== $1 (at $((SECONDS / 60)) min $((SECONDS % 60)) s)"
  return 0
}

# gotest ARGS... runs go test -json ARGS through internal/testsum: each
# package's result, failures in full, every skip with its reason (also
# appended to $SKIPS), and "N passed, N failed, N skipped".
gotest() {
  go test -json "$@" 2>&1 | "$TESTSUM" -skips "$SKIPS"
}

# ARM64_PKGS are the packages whose tests also run as arm64 binaries under
# qemu-user-static: the kernels' portable path (what Apple's laptops run)
# and the container's reader and writer.
ARM64_PKGS="core core/kernels formats/sharkfile formats/npz formats/npy formats/safetensors"

# arm64_tests cross-builds those packages' tests for linux/arm64 and runs
# them under qemu-user-static, then quantizes the example model with an
# arm64 shark and the amd64 one, and with the amd64 one under every kernel
# set the CPU has: the files must be the same bytes.
arm64_tests() {
  local d="$TEST_TMP/arm64" p
  mkdir -p "$d"
  for p in $ARM64_PKGS; do
    GOARCH=arm64 go test -c -o "$d/pkg.test" "./$p"
    (cd "$p" && qemu-aarch64-static "$d/pkg.test" -test.short -test.count=1 > "$d/out" 2>&1) || { cat "$d/out"; echo "FAIL $p (arm64)"; exit 1; }
    echo "ok   shark/$p (arm64 under qemu-user-static)"
  done
  GOARCH=arm64 go build -o "$d/shark-arm64" ./cmd/shark
  env $(simd_env) go build -o "$d/shark-amd64" ./cmd/shark
  "$d/shark-amd64" example -o "$d/ex" > /dev/null
  local args=("$d/ex/model.npz" --counts "$d/ex/counts.npz" --budget 30%)
  SOURCE_DATE_EPOCH=1 "$d/shark-amd64" quantize "${args[@]}" -o "$d/amd64.shark" > /dev/null
  SOURCE_DATE_EPOCH=1 qemu-aarch64-static "$d/shark-arm64" quantize "${args[@]}" -o "$d/arm64.shark" > /dev/null
  cmp "$d/amd64.shark" "$d/arm64.shark"
  echo "ok   quantize --budget 30% of the example model: arm64 and amd64 ($("$d/shark-amd64" version | tail -1)) write the same $(wc -c < "$d/amd64.shark") bytes"
  # Every kernel set this CPU has writes those bytes too.
  local set
  for set in avx512 avx2 portable; do
    "$d/shark-amd64" version | grep -q "available:.*\b$set\b" || continue
    SHARK_KERNELS=$set "$d/shark-amd64" version | grep -q "(set $set;" || { echo "SHARK_KERNELS=$set was not taken" >&2; exit 1; }
    SHARK_KERNELS=$set SOURCE_DATE_EPOCH=1 "$d/shark-amd64" quantize "${args[@]}" -o "$d/$set.shark" > /dev/null
    cmp "$d/amd64.shark" "$d/$set.shark"
    echo "ok   the same quantize with SHARK_KERNELS=$set: the same bytes"
  done
}

# fetched DIR PID waits for the download of DIR's modules that run_tests
# started in the background, and fails with its output if it failed.
fetched() {
  local log="$TEST_TMP/fetch-${1##*/}.log"
  wait "$2" || { cat "$log" >&2; echo "fetching $1's modules failed" >&2; exit 1; }
  echo "($1's modules: fetched in the background)"
}

run_tests() {
  need_go
  SECONDS=0
  stage "installing what the tests need"
  # NumPy, PyTorch, ONNX and msgpack for the interop tests; Chromium for
  # the browser tests; X11/GL headers and Xvfb for the desktop app's
  # real-window test.
  apt_install python3-numpy python3-torch python3-onnx python3-msgpack chromium wabt $DESKTOP_PKGS xvfb xauth x11-apps qemu-user-static
  TEST_TMP="$(mktemp -d)"
  trap 'rm -rf "$TEST_TMP"' EXIT
  TESTSUM="$TEST_TMP/testsum" SKIPS="$TEST_TMP/skips"
  : > "$SKIPS"
  # Fetching modules waits on the network, the stages below on the CPU: on
  # a fresh machine dist/'s modules (Beam's: minutes of downloads) and the
  # browser tests' come down while the first stages compile and test.
  (cd www/browsertest && go mod download) > "$TEST_TMP/fetch-browsertest.log" 2>&1 &
  FETCH_BROWSERTEST=$!
  (cd dist && go mod download) > "$TEST_TMP/fetch-dist.log" 2>&1 &
  FETCH_DIST=$!
  stage "building the page's wasm core and the test summariser"
  build_wasm
  go build -o "$TESTSUM" ./internal/testsum
  stage "go vet"
  go vet ./...
  stage "staticcheck (honnef.co/go/tools, from the Go module proxy)"
  go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
  stage "gofmt"
  local bad
  bad="$(gofmt -l $(git ls-files -co --exclude-standard '*.go' 2>/dev/null || find . -name '*.go'))"
  if [ -n "$bad" ]; then echo "gofmt would change: $bad" >&2; exit 1; fi
  stage "go test (portable build)"
  # cmd/shark's tests run the binary hundreds of times; on a loaded 2-core
  # machine they pass go test's default 10 minutes per package.
  gotest -count=1 -timeout 30m ./...
  if [ -n "$(simd_env)" ]; then
    stage "go test (GOEXPERIMENT=simd build: SIMD kernels against the portable ones)"
    env $(simd_env) go vet ./core/kernels/
    GOEXPERIMENT=simd gotest -count=1 ./core/... ./formats/sharkfile/ ./compress/
    stage "go test -tags purego (every non-portable path off)"
    GOEXPERIMENT=simd gotest -count=1 -tags purego ./core/kernels/
    stage "the faces' golden files under every kernel set this CPU has (SHARK_KERNELS)"
    local set
    for set in $(env $(simd_env) go run ./cmd/shark version --json | sed -n 's/^ *"\(avx512\|avx2\|portable\)",\{0,1\}$/\1/p'); do
      echo "-- SHARK_KERNELS=$set"
      SHARK_KERNELS=$set GOEXPERIMENT=simd gotest -count=1 -run 'FacesBytes|GoldenBytes|GoldenJSON|JSONNamesKernelSet' ./cmd/shark/
    done
  fi
  stage "ONNX Runtime runs the ONNX export (onnxruntime-node 1.30 from npm, in a temporary folder)"; scripts/onnxruntime.sh
  stage "desktop UI, headless (fyne test driver, CGO_ENABLED=0)"
  CGO_ENABLED=0 gotest -count=1 ./desktop/ui/
  stage "the page in Chromium (www/browsertest: a module of its own, so that chromedp is no dependency of shark's)"
  fetched www/browsertest "$FETCH_BROWSERTEST"
  (cd www/browsertest && go vet ./... && gotest -count=1 ./...)
  stage "go test -race (concurrent readers)"
  gotest -count=1 -race -short ./formats/sharkfile/ ./core/...
  stage "arm64 under qemu-user-static, and every kernel set: tests, and quantize's bytes"
  arm64_tests
  stage "every release target cross-built, each named by file(1), the arm64 CLI under qemu (scripts/release.sh --check)"; scripts/release.sh --check
  stage "dist/: the Beam pipelines on the prism runner"
  fetched dist "$FETCH_DIST"
  dist
  (cd dist && go vet ./... && gotest -count=1 ./...)
  stage "fuzz: every reader's fuzz target, ${FUZZTIME:-20s} each, allocation capped (internal/fuzzcap)"
  fuzz_all
  stage "build"
  build
  stage ""
  echo "== every test passed in $((SECONDS / 60)) min $((SECONDS % 60)) s; $(grep -c . "$SKIPS" || true) skipped, each named above with its reason"
}

case "${1:-build}" in
  build) build ;;
  desktop) desktop ;;
  demo) demo ;;
  test) run_tests ;;
  dist) dist ;;
  release) scripts/release.sh ;;
  *) echo "usage: ./build.sh [build|demo|test|desktop|dist|release]" >&2; exit 2 ;;
esac
