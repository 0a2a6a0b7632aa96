// Package numpytest runs scripts under Debian's python3 with real NumPy, the
// reference that shark's readers, writers and codecs are checked against.
package numpytest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Python is Debian's interpreter: the python3 first on PATH may be another
// installation that cannot see Debian's python3-numpy.
const Python = "/usr/bin/python3"

// Require skips the test when NumPy is missing, or fails it under CI, where
// build.sh has installed it and a skip would hide a broken install.
func Require(t testing.TB) {
	t.Helper()
	if err := exec.Command(Python, "-c", "import numpy").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("NumPy is not importable by %s (./build.sh test installs python3-numpy): %v", Python, err)
		}
		t.Skipf("NumPy not available to %s (apt-get install python3-numpy)", Python)
	}
}

// Run executes script with args and returns its standard output.
func Run(t testing.TB, script string, args ...string) string {
	t.Helper()
	Require(t)
	cmd := exec.Command(Python, append([]string{"-c", script}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	return string(out)
}
