package kernels

// impl names the kernels in use: "portable", or the CPU features the SIMD
// build selected ("avx512+f16c", "avx2+f16c", ...).
var impl = "portable"

// simdInit, set by the SIMD build, installs the fast kernels the CPU allows.
var simdInit func()

// Impl reports which kernels are in use.
func Impl() string { return impl }

// ForcePortable switches every kernel to its portable version (on = true)
// or back to the fastest the build and CPU allow. It is the hook that tests
// and benchmarks use to compare the two in one process; it is not safe to
// call while kernels run.
func ForcePortable(on bool) {
	floatsToHalves, halvesToFloats, halfBytesToFloats = floatsToHalvesGeneric, halvesToFloatsGeneric, halfBytesToFloatsGeneric
	floatsToHalfBytes = floatsToHalfBytesGeneric
	quantizeRow, dequantizeRow = quantizeRowGeneric, dequantizeRowGeneric
	newRowQuantizer = newRowQuantizerGeneric
	dot, axpy, sumSquaredDiff = dotGeneric, axpyGeneric, sumSquaredDiffGeneric
	rowErrors, rowNorm, tierError = rowErrorsGeneric, rowNormGeneric, tierErrorGeneric
	prefetch = prefetchGeneric
	addRowF32, addRowF16, addRowNBit = addRowF32Generic, addRowF16Generic, addRowNBitGeneric
	impl = "portable"
	if !on && simdInit != nil {
		simdInit()
	}
}
