package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// versionChild runs `shark version args...` in a child process whose
// environment has SHARK_KERNELS=set: the variable is read when the kernels
// package starts, so only a new process sees it.
func versionChild(t *testing.T, set string, args ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"version"}, args...)...)
	cmd.Env = append(os.Environ(), "SHARK_TEST_MAIN=1", "SHARK_KERNELS="+set)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("SHARK_KERNELS=%s shark version %v: %v\n%s", set, args, err, out)
	}
	return string(out)
}

// shark version names the kernel set in use and what SHARK_KERNELS asked
// for, and says so when a name is no set.
func TestVersionKernelSet(t *testing.T) {
	for _, c := range []struct{ set, want string }{
		{"portable", "kernels: portable (set portable; available: "},
		{"portable", "requested: SHARK_KERNELS=portable\n"},
		{"bogus", `requested: SHARK_KERNELS=bogus: unknown kernel set "bogus"`},
	} {
		if out := versionChild(t, c.set); !strings.Contains(out, c.want) {
			t.Errorf("SHARK_KERNELS=%s shark version: %q, want it to hold %q", c.set, out, c.want)
		}
	}
	var v struct {
		Kernels   string   `json:"kernels"`
		Set       string   `json:"kernel_set"`
		Sets      []string `json:"kernel_sets"`
		Requested string   `json:"kernels_requested"`
	}
	out := versionChild(t, "portable", "--json")
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("shark version --json: %v\n%s", err, out)
	}
	if v.Kernels != "portable" || v.Set != "portable" || v.Requested != "SHARK_KERNELS=portable" || !slices.Contains(v.Sets, "portable") {
		t.Errorf("SHARK_KERNELS=portable shark version --json: %s", out)
	}
}

// Every command's --json names the kernel set its figures and files came
// from, first; a result that names its own is left as it is.
func TestJSONNamesKernelSet(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(os.Args[0], append(args, "--json")...)
		cmd.Env = append(os.Environ(), "SHARK_TEST_MAIN=1", "SHARK_KERNELS=portable")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("shark %v --json: %v\n%s", args, err, out)
		}
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("shark %v --json: %v\n%s", args, err, out)
		}
		if !strings.HasPrefix(string(out), "{\n  \"kernel_set\": \"portable\",\n") {
			t.Errorf("shark %v --json does not start with kernel_set portable:\n%s", args, out)
		}
		return v
	}
	run("example", "-o", dir)
	q := dir + "/q.shark"
	run("quantize", dir+"/model.npz", "--counts", dir+"/counts.npz", "--budget", "30%", "-o", q)
	run("inspect", q)
	run("verify", q)
	run("export", q, "--to", "npz", "-o", dir+"/out.npz")
	if v := run("version"); v["kernel_sets"] == nil {
		t.Errorf("shark version --json lost its own fields: %v", v)
	}
}

func TestWithKernelSet(t *testing.T) {
	for in, want := range map[string]string{
		"{}\n":                            "{}\n",
		"[\n  1\n]\n":                     "[\n  1\n]\n",
		"{\n  \"kernel_set\": \"x\"\n}\n": "{\n  \"kernel_set\": \"x\"\n}\n",
	} {
		if got := string(withKernelSet([]byte(in))); got != want {
			t.Errorf("withKernelSet(%q) = %q, want %q", in, got, want)
		}
	}
}
