package simd

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// kernels.wasm is what wat2wasm assembles from kernels.wat, so the module
// the page runs is the text kept beside it.
func TestAssembled(t *testing.T) {
	wat2wasm, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Skip("wat2wasm is not installed (Debian's wabt; ./build.sh test installs it)")
	}
	out := filepath.Join(t.TempDir(), "kernels.wasm")
	if b, err := exec.Command(wat2wasm, "kernels.wat", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, Module) {
		t.Fatalf("kernels.wasm (%d bytes) is not kernels.wat assembled (%d bytes): run ./build.sh build", len(Module), len(got))
	}
}
