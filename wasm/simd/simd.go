// Package simd is the page's SIMD128 kernels: kernels.wat, hand-written in
// the WebAssembly text format, and kernels.wasm, what wat2wasm (Debian's
// wabt) assembles from it (build.sh assembles it again; TestAssembled
// checks the two agree). The page's Go program (wasm/) instantiates the
// module on its own memory and calls it through syscall/js.
package simd

import _ "embed"

// Module is kernels.wasm.
//
//go:embed kernels.wasm
var Module []byte
