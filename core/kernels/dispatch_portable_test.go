//go:build !goexperiment.simd || !amd64 || purego

package kernels

import (
	"reflect"
	"testing"
)

// checkKernels fails unless the portable kernels are in use (the only set
// of this build).
func checkKernels(t *testing.T, s string) {
	t.Helper()
	if s != SetPortable || reflect.ValueOf(rowErrors).Pointer() != reflect.ValueOf(rowErrorsGeneric).Pointer() {
		t.Fatalf("set %q in a portable build", s)
	}
}
