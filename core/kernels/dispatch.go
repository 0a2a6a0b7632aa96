package kernels

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// The kernel sets, best first. A set is the widest vector instructions its
// kernels use; "portable" is the pure Go reference every other set is
// tested against byte for byte.
const (
	SetAVX512   = "avx512"
	SetAVX2     = "avx2"
	SetPortable = "portable"
)

var setOrder = []string{SetAVX512, SetAVX2, SetPortable}

// allowed is the sets this build and CPU can run, best first; the SIMD
// build adds its sets to it while the package's variables are initialized.
var allowed = []string{SetPortable}

// simdInit, set by the SIMD build, installs the kernels of one allowed set
// other than portable over the portable ones.
var simdInit func(set string)

var (
	impl      = "portable" // the kernels in use, as Impl reports them
	set       = SetPortable
	chosen    string // the set SHARK_KERNELS chose (or the best), restored by ForcePortable(false)
	requested string // what SHARK_KERNELS asked for and what came of it; "" when unset
)

// ErrUnknownSet is a kernel set name that is none of avx512, avx2, portable;
// ErrUnavailableSet a set this build or CPU cannot run.
var (
	ErrUnknownSet     = errors.New("unknown kernel set")
	ErrUnavailableSet = errors.New("kernel set not available")
)

// The environment is read once, after every file's variables (and so the
// SIMD build's sets) are initialized.
func init() { useEnv(os.Getenv("SHARK_KERNELS")) }

// useEnv selects the set named by SHARK_KERNELS's value v: the best allowed
// when v is empty; otherwise v, or, when this CPU cannot run it, the best
// allowed set below it, and for a name that is no set, the best; Requested
// then says what was asked and what came of it.
func useEnv(v string) {
	err := Force(strings.ToLower(strings.TrimSpace(v)))
	chosen = set
	switch {
	case v == "":
		requested = ""
	case err != nil:
		requested = fmt.Sprintf("SHARK_KERNELS=%s: %v; using %s", v, err, set)
	default:
		requested = "SHARK_KERNELS=" + v
	}
}

// Impl reports which kernels are in use: "portable", or the set and the
// CPU features its kernels use ("avx2+f16c", "avx2+avx512+f16c").
func Impl() string { return impl }

// Set reports the kernel set in use: avx512, avx2 or portable.
func Set() string { return set }

// Sets lists the kernel sets this build and CPU can run, best first; the
// last is always portable.
func Sets() []string { return slices.Clone(allowed) }

// Requested says what the SHARK_KERNELS environment variable asked for and,
// when that could not be had, what is used instead; "" when it is unset.
func Requested() string { return requested }

// Force installs the kernels of set: avx512, avx2, portable, or "" for the
// best this build and CPU allow. A set above what they allow installs the
// best allowed set below it, and an unknown name the best; both return an
// error saying so (errors.Is ErrUnavailableSet, ErrUnknownSet). It is the
// hook that tests and benchmarks use to run every set in one process; it is
// not safe to call while kernels run.
func Force(name string) error {
	var err error
	want := name
	rank := slices.Index(setOrder, name)
	switch {
	case name == "":
		want = allowed[0]
	case rank < 0:
		err = fmt.Errorf("%w %q (the sets are %s)", ErrUnknownSet, name, strings.Join(setOrder, ", "))
		want = allowed[0]
	case !slices.Contains(allowed, name):
		err = fmt.Errorf("%w: %s (this build and CPU allow %s)", ErrUnavailableSet, name, strings.Join(allowed, ", "))
		want = SetPortable
		for _, s := range setOrder[rank:] {
			if slices.Contains(allowed, s) {
				want = s
				break
			}
		}
	}
	install(want)
	return err
}

// install puts the portable kernels in place, then those of set over them.
func install(name string) {
	floatsToHalves, halvesToFloats, halfBytesToFloats = floatsToHalvesGeneric, halvesToFloatsGeneric, halfBytesToFloatsGeneric
	floatsToHalfBytes = floatsToHalfBytesGeneric
	quantizeRow, dequantizeRow = quantizeRowGeneric, dequantizeRowGeneric
	newRowQuantizer = newRowQuantizerGeneric
	dot, axpy, sumSquaredDiff = dotGeneric, axpyGeneric, sumSquaredDiffGeneric
	rowErrors, rowNorm, tierError = rowErrorsGeneric, rowNormGeneric, tierErrorGeneric
	rowErrors4 = rowErrors4Generic
	quantizeRowError = quantizeRowErrorGeneric
	rowsErrorsKernel = rowsErrorsLoop
	prefetch, prefetching = prefetchGeneric, false
	addRowF32, addRowF16, addRowNBit = addRowF32Generic, addRowF16Generic, addRowNBitGeneric
	impl, set = "portable", SetPortable
	if name != SetPortable && simdInit != nil {
		simdInit(name)
		set = name
	}
}

// ForcePortable switches every kernel to its portable version (on = true)
// or back to the set SHARK_KERNELS chose (the best the build and CPU allow
// when it is unset). Like Force, it is not safe to call while kernels run.
func ForcePortable(on bool) {
	if on {
		install(SetPortable)
		return
	}
	install(chosen)
}
