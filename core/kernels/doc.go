// Package kernels holds shark's hot loops: float32<->float16 conversion, the
// FBGEMM/TorchRec "fused N-bit rowwise, fp16 scale/bias" row codec, and the
// small BLAS-like loops the reference model needs.
//
// Every kernel has a portable Go version that is always compiled, under its
// name with "Generic" appended (unexported: the tests of this package
// compare against it). Faster variants, where they exist, are selected at run
// time and are tested against the generic twin byte for byte (codes) or within
// a bounded ulp distance (sums). The purego build tag disables every
// non-portable path.
package kernels
