#!/usr/bin/env bash
# scripts/release.sh (./build.sh release) builds shark's release into
# release/: the CLI for linux/amd64, linux/arm64, windows/amd64,
# darwin/amd64 and darwin/arm64; shark-dist for linux/amd64 (the Beam
# workers' platform); the desktop app packaged by Fyne's own packager
# (fyne.io/tools' fyne package) as a Linux .tar.xz with its .desktop file
# and a Windows .exe with its icon and version; the page as a folder
# (shark-web/); and SHA256SUMS. Every binary's version is the commit.
# Two runs on one commit give the same bytes: -trimpath, no build id, no
# VCS stamp, and SOURCE_DATE_EPOCH (the commit's time) for the tarball.
#
# scripts/release.sh --check (run by ./build.sh test) cross-builds every
# one of those binaries without packaging, has file(1) name each one's
# platform, and runs the linux/arm64 CLI under qemu-user-static: its
# version must name the commit and its quantize must write the bytes the
# linux/amd64 build writes.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="$(git describe --always --dirty 2>/dev/null || echo dev)"
# The tarball's times, and the time shark records in the files --check
# quantizes: the commit's, so that a rerun changes no byte.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 1)}"
# The caller's GOFLAGS would change the bytes: these are --check's, as
# build.sh builds (so that it reuses the test run's compiled packages); a
# release adds -trimpath.
export GOFLAGS="-buildvcs=false"
FYNE_TOOLS="fyne.io/tools/cmd/fyne@v1.7.4"
CLI_TARGETS="linux/amd64 linux/arm64 windows/amd64 darwin/amd64 darwin/arm64"
MINGW_PKG="gcc-mingw-w64-x86-64"
MINGW_CC="x86_64-w64-mingw32-gcc"
LDFLAGS="-s -w -buildid= -X shark/internal/provenance.Version=$VERSION"

# need_mingw installs Debian's mingw-w64 C compiler (the Windows desktop
# app is cgo) when root; otherwise it prints the command and fails.
need_mingw() {
  command -v "$MINGW_CC" > /dev/null && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null; then
    echo "installing $MINGW_PKG"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "$MINGW_PKG" > /dev/null
  else
    echo "release.sh: the Windows desktop app needs $MINGW_CC; run:" >&2
    echo "  sudo apt-get install -y $MINGW_PKG" >&2
    exit 1
  fi
}

# goenv OS ARCH CGO prints the environment a target builds in: amd64 with
# Go's SIMD experiment (the simd/archsimd kernels, chosen at run time from
# the CPU), as build.sh builds it; every other target portable.
goenv() {
  echo "GOOS=$1 GOARCH=$2 CGO_ENABLED=$3"
  if [ "$2" = amd64 ]; then echo "GOEXPERIMENT=simd"; fi
}

# exe OS NAME prints NAME with .exe on Windows.
exe() { if [ "$1" = windows ]; then echo "$2.exe"; else echo "$2"; fi; }

# build_cli DIR builds the CLI for every target into DIR/shark-OS-ARCH.
build_cli() {
  local t os arch
  for t in $CLI_TARGETS; do
    os="${t%/*}"; arch="${t#*/}"
    env $(goenv "$os" "$arch" 0) go build -ldflags "$LDFLAGS" -o "$1/$(exe "$os" "shark-$os-$arch")" ./cmd/shark
  done
}

# build_dist DIR builds shark-dist (dist/ is a module of its own) for
# linux/amd64 into DIR.
build_dist() {
  (cd dist && env $(goenv linux amd64 0) go build -ldflags "$LDFLAGS" -o "$1/shark-dist-linux-amd64" ./cmd/shark-dist)
}

# build_desktop DIR builds the desktop app for linux/amd64 and, with
# mingw-w64, windows/amd64 into DIR, as plain go builds (no packaging).
build_desktop() {
  env $(goenv linux amd64 1) go build -ldflags "$LDFLAGS" -o "$1/shark-desktop-linux-amd64" ./desktop
  env $(goenv windows amd64 1) CC="$MINGW_CC" go build -ldflags "$LDFLAGS -H=windowsgui" -o "$1/shark-desktop-windows-amd64.exe" ./desktop
}

# build_wasm builds the page's wasm core and copies Go's wasm_exec.js beside
# the page (www/static), where the CLI embeds them, as build.sh does.
build_wasm() {
  env GOOS=js GOARCH=wasm go build -ldflags "$LDFLAGS" -o www/static/shark.wasm ./wasm
  cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" www/static/wasm_exec.js
}

# PLATFORMS maps each binary to the words file(1) must print for it.
declare -A PLATFORMS=(
  [shark-linux-amd64]="ELF 64-bit LSB .*x86-64.*statically linked"
  [shark-linux-arm64]="ELF 64-bit LSB .*ARM aarch64.*statically linked"
  [shark-windows-amd64.exe]="PE32\+ executable \(console\) x86-64.*MS Windows"
  [shark-darwin-amd64]="Mach-O 64-bit x86_64 executable"
  [shark-darwin-arm64]="Mach-O 64-bit arm64 executable"
  [shark-dist-linux-amd64]="ELF 64-bit LSB .*x86-64.*statically linked"
  [shark-desktop-linux-amd64]="ELF 64-bit LSB .*x86-64.*dynamically linked"
  [shark-desktop-windows-amd64.exe]="PE32\+ executable \(GUI\) x86-64.*MS Windows"
)

# check_platforms DIR has file(1) name every binary's platform in DIR and
# fails on any that is not the one its name says, or missing.
check_platforms() {
  local name got
  for name in $(printf '%s\n' "${!PLATFORMS[@]}" | sort); do
    got="$(file -b "$1/$name")"
    if ! grep -Eq "${PLATFORMS[$name]}" <<< "$got"; then
      echo "FAIL $name: file(1) says '$got', not /${PLATFORMS[$name]}/" >&2
      exit 1
    fi
    echo "ok   $name: ${got%%, BuildID*}"
  done
}

# check_arm64 DIR runs the linux/arm64 CLI under qemu-user-static: its
# version names the commit, and its quantize of a small example table
# writes the linux/amd64 build's bytes (build.sh's arm64_tests compares
# the example model's bytes for the test build; this, the release's).
# shark-dist's version names the commit too.
check_arm64() {
  local d="$1" v
  v="$(qemu-aarch64-static "$d/shark-linux-arm64" version | head -1)"
  [ "$v" = "shark $VERSION" ] || { echo "FAIL shark-linux-arm64 version says '$v', not 'shark $VERSION'" >&2; exit 1; }
  "$d/shark-linux-amd64" example --big 4000x32 -o "$d/ex" > /dev/null
  local args=("$d/ex/big.npy" --counts "$d/ex/big-counts.npz" --budget 30%)
  "$d/shark-linux-amd64" quantize "${args[@]}" -o "$d/amd64.shark" > /dev/null
  qemu-aarch64-static "$d/shark-linux-arm64" quantize "${args[@]}" -o "$d/arm64.shark" > /dev/null
  cmp "$d/amd64.shark" "$d/arm64.shark"
  echo "ok   shark-linux-arm64 under qemu-user-static: '$v'; quantize --budget 30% of a 4000×32 table writes the amd64 build's $(wc -c < "$d/amd64.shark") bytes"
  v="$("$d/shark-dist-linux-amd64" version)"
  [ "$v" = "shark-dist $VERSION" ] || { echo "FAIL shark-dist-linux-amd64 version says '$v', not 'shark-dist $VERSION'" >&2; exit 1; }
  echo "ok   shark-dist-linux-amd64: '$v'"
}

check() {
  need_mingw
  TMP="$(mktemp -d)"
  trap 'rm -rf "$TMP"' EXIT
  [ -f www/static/shark.wasm ] || build_wasm
  build_cli "$TMP"
  build_dist "$TMP"
  build_desktop "$TMP"
  check_platforms "$TMP"
  check_arm64 "$TMP"
}

# stage_tree DIR copies the working tree (tracked files and new ones, not
# ignored ones) into DIR: Fyne's packager writes into the package it
# builds (a metadata .go file, a .syso, FyneApp.toml's build number), and
# none of that may touch the checkout.
stage_tree() {
  git ls-files -z -co --exclude-standard |
    while IFS= read -r -d '' f; do if [ -e "$f" ]; then printf '%s\0' "$f"; fi; done |
    tar --null -T - -cf - | tar -xf - -C "$1"
}

# package_desktop OUT FYNE BUILD packages the desktop app with Fyne's
# packager FYNE (build number BUILD) into OUT. Fyne builds it itself
# (--release: -trimpath, -s -w, -H=windowsgui on Windows) and takes more
# linker flags from GOFLAGS' -ldflags= words.
package_desktop() {
  local flags="-buildvcs=false -ldflags=-buildid= -ldflags=-X=shark/internal/provenance.Version=$VERSION"
  local pkg=(package --release --app-build "$3")
  (cd desktop && env $(goenv linux amd64 1) GOFLAGS="$flags" "$2" "${pkg[@]}" --target linux --executable shark-desktop)
  repack_tar desktop/Shark.tar.xz "$1/shark-desktop-linux-amd64.tar.xz"
  # On Windows the packager builds the .exe again once the icon and version
  # resource (a .syso) are beside it: an empty placeholder saves the first
  # build, which would be thrown away.
  (cd desktop && : > shark-desktop.exe &&
    env $(goenv windows amd64 1) CC="$MINGW_CC" GOFLAGS="$flags" "$2" "${pkg[@]}" --target windows --executable shark-desktop.exe)
  mv desktop/Shark.exe "$1/shark-desktop-windows-amd64.exe"
}

# repack_tar IN OUT writes Fyne's tarball IN again as OUT with nothing of
# the build's moment or machine in it: names sorted, every time
# SOURCE_DATE_EPOCH, owner root, modes 755/644, xz on one thread (fyne
# package runs tar as it finds the files, with their times and owner).
repack_tar() {
  local d="$TMP/repack"
  rm -rf "$d"; mkdir -p "$d"
  tar -xJf "$1" -C "$d"
  find "$d" -type d -exec chmod 755 {} +
  find "$d" -type f -exec chmod 644 {} +
  find "$d" -type f -path '*/bin/*' -exec chmod 755 {} +
  (cd "$d" && LC_ALL=C tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    --format=gnu -cf - -- *) | xz -T1 -6 > "$2"
}

# web DIR writes the page as a folder to host or serve: its files, the
# wasm core and wasm_exec.js.
web() {
  mkdir -p "$1"
  cp www/static/* "$1/"
}

# release_in OUT FYNE BUILD builds every release file into OUT, in the
# staged tree.
release_in() {
  echo "== the page's wasm core"
  build_wasm
  echo "== the CLI: $CLI_TARGETS"
  build_cli "$1"
  echo "== shark-dist: linux/amd64"
  build_dist "$1"
  echo "== the desktop app: linux/amd64 and windows/amd64, packaged by $FYNE_TOOLS"
  package_desktop "$@"
  echo "== the page: shark-web/"
  web "$1/shark-web"
  (cd "$1" && find . -type f ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum > SHA256SUMS)
}

release() {
  need_mingw
  local build
  build="$(git rev-list --count HEAD 2>/dev/null || echo 1)"
  export GOFLAGS="-buildvcs=false -trimpath"
  TMP="$(mktemp -d)"
  trap 'rm -rf "$TMP"' EXIT
  mkdir -p "$TMP/src" "$TMP/out" "$TMP/bin"
  echo "== release $VERSION (build $build, SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH), from a copy of the tree"
  stage_tree "$TMP/src"
  GOBIN="$TMP/bin" go install "$FYNE_TOOLS"
  (cd "$TMP/src" && release_in "$TMP/out" "$TMP/bin/fyne" "$build")
  # release/ is replaced whole, and only once every file is built.
  rm -rf release.old
  if [ -d release ]; then mv release release.old; fi
  mv "$TMP/out" release
  rm -rf release.old
  echo "built release/ ($VERSION):"
  (cd release && du -sh -- * | sed 's/^/   /')
}

main() {
  case "${1:-}" in
    --check) check ;;
    "") release ;;
    *) echo "usage: scripts/release.sh [--check]" >&2; exit 2 ;;
  esac
}

main "$@"
