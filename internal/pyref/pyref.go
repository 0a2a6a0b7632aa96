// Package pyref runs scripts under Debian's python3 with the real libraries
// shark's readers, writers and codecs are checked against: NumPy, PyTorch,
// ONNX and msgpack.
package pyref

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Python is Debian's interpreter: the python3 first on PATH may be another
// installation that cannot see Debian's packages.
const Python = "/usr/bin/python3"

// packages names the Debian package of each module.
var packages = map[string]string{
	"numpy":   "python3-numpy",
	"torch":   "python3-torch",
	"onnx":    "python3-onnx",
	"msgpack": "python3-msgpack",
}

// Require skips the test when a module is missing, or fails it under CI,
// where build.sh has installed them and a skip would hide a broken install.
func Require(t testing.TB, modules ...string) {
	t.Helper()
	for _, m := range modules {
		if err := exec.Command(Python, "-c", "import "+m).Run(); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not importable by %s (./build.sh test installs %s): %v", m, Python, packages[m], err)
			}
			t.Skipf("%s not available to %s (apt-get install %s)", m, Python, packages[m])
		}
	}
}

// Run executes script with args under NumPy and returns its standard output.
func Run(t testing.TB, script string, args ...string) string {
	t.Helper()
	return RunWith(t, []string{"numpy"}, script, args...)
}

// RunWith executes script with args, the modules required, and returns its
// standard output.
func RunWith(t testing.TB, modules []string, script string, args ...string) string {
	t.Helper()
	Require(t, modules...)
	cmd := exec.Command(Python, append([]string{"-c", script}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	return string(out)
}
