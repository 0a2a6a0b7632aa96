package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"shark/core/kernels"
	"shark/facetest"
)

// goldenBytes holds the SHA-256 of quantize's output for each of the
// faces' inputs, written once (-update) and required under every kernel
// set: ./build.sh test runs this test with SHARK_KERNELS set to each one
// the CPU has, and the arm64 stage compares that build's bytes too.
const goldenBytes = "testdata/faces-quantize.sha256"

func TestQuantizeGoldenBytes(t *testing.T) {
	const created = 1700000000
	t.Setenv("SOURCE_DATE_EPOCH", fmt.Sprint(created))
	dir := t.TempDir()
	var lines []string
	for _, in := range facetest.Inputs(t, dir, ncf) {
		for _, budget := range []string{"", "30%"} {
			out := filepath.Join(dir, "out.shark")
			args := []string{"quantize", in, "-o", out}
			if budget != "" {
				args = append(args, "--budget", budget)
			}
			if code, _, errOut := shark(t, args...); code != 0 {
				t.Fatalf("%v: %d %s", args, code, errOut)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			lines = append(lines, fmt.Sprintf("%s  %s budget=%q", hex.EncodeToString(sum[:]), filepath.Base(in), budget))
		}
	}
	got := strings.Join(lines, "\n") + "\n"
	if *update {
		if err := os.WriteFile(goldenBytes, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenBytes)
	if err != nil {
		t.Fatalf("%v (go test -run GoldenBytes -update writes it)", err)
	}
	if got != string(want) {
		t.Fatalf("kernel set %s wrote other bytes than %s holds:\n got:\n%s\nwant:\n%s", kernels.Set(), goldenBytes, got, want)
	}
	if !slices.Contains(kernels.Sets(), kernels.Set()) {
		t.Fatalf("kernel set %s is not among %v", kernels.Set(), kernels.Sets())
	}
}
