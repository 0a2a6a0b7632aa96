package kernels

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// eachSet runs f under every kernel set this build and CPU allow, then
// restores the set SHARK_KERNELS chose.
func eachSet(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	defer ForcePortable(false)
	for _, s := range Sets() {
		if err := Force(s); err != nil {
			t.Fatal(err)
		}
		t.Run(s, f)
	}
}

// checkImpl fails unless Impl names the set s and no wider one.
func checkImpl(t *testing.T, s string) {
	t.Helper()
	if Set() != s {
		t.Fatalf("Force(%q): Set() = %q", s, Set())
	}
	im := Impl()
	switch s {
	case SetPortable:
		if im != "portable" {
			t.Fatalf("portable set: Impl() = %q", im)
		}
	case SetAVX2:
		if !strings.HasPrefix(im, "avx2") || strings.Contains(im, "avx512") {
			t.Fatalf("avx2 set: Impl() = %q", im)
		}
	case SetAVX512:
		if !strings.Contains(im, "avx512") {
			t.Fatalf("avx512 set: Impl() = %q", im)
		}
	}
}

func TestForceEachSet(t *testing.T) {
	defer ForcePortable(false)
	sets := Sets()
	if sets[len(sets)-1] != SetPortable {
		t.Fatalf("Sets() = %v: portable is not last", sets)
	}
	for _, s := range sets {
		if err := Force(s); err != nil {
			t.Fatalf("Force(%q): %v", s, err)
		}
		checkImpl(t, s)
		checkKernels(t, s)
	}
	if err := Force(""); err != nil || Set() != sets[0] {
		t.Fatalf("Force(\"\"): %v, set %q, want %q", err, Set(), sets[0])
	}
}

// A set above what the CPU has installs the best allowed one below it and
// says so; the AVX2-only CPU is simulated by narrowing the allowed sets.
func TestForceAboveCPU(t *testing.T) {
	defer ForcePortable(false)
	saved := allowed
	defer func() { allowed = saved }()
	narrow := [][]string{{SetPortable}}
	if slices.Contains(saved, SetAVX2) {
		narrow = append(narrow, []string{SetAVX2, SetPortable})
	}
	for _, a := range narrow {
		allowed = a
		err := Force(SetAVX512)
		if !errors.Is(err, ErrUnavailableSet) {
			t.Fatalf("allowed %v: Force(avx512) = %v, want ErrUnavailableSet", a, err)
		}
		checkImpl(t, a[0])
		checkKernels(t, a[0])
	}
}

func TestForceUnknown(t *testing.T) {
	defer ForcePortable(false)
	for _, name := range []string{"sse9", "AVX2 ", "avx-512"} {
		if err := Force(name); !errors.Is(err, ErrUnknownSet) {
			t.Fatalf("Force(%q) = %v, want ErrUnknownSet", name, err)
		}
		checkImpl(t, Sets()[0])
	}
}

// What SHARK_KERNELS's value selects and what Requested says of it.
func TestUseEnv(t *testing.T) {
	defer useEnv(os.Getenv("SHARK_KERNELS"))
	best := Sets()[0]
	for _, c := range []struct{ v, set, says string }{
		{"", best, ""},
		{"portable", SetPortable, "SHARK_KERNELS=portable"},
		{" Portable", SetPortable, "SHARK_KERNELS= Portable"},
		{"bogus", best, `SHARK_KERNELS=bogus: unknown kernel set "bogus"`},
	} {
		useEnv(c.v)
		if Set() != c.set || !strings.HasPrefix(Requested(), c.says) || (c.says == "") != (Requested() == "") {
			t.Fatalf("SHARK_KERNELS=%q: set %q, Requested %q; want %q, %q", c.v, Set(), Requested(), c.set, c.says)
		}
		ForcePortable(true)
		ForcePortable(false)
		if Set() != c.set {
			t.Fatalf("SHARK_KERNELS=%q: ForcePortable(false) restored %q", c.v, Set())
		}
	}
	if !slices.Contains(Sets(), SetAVX512) {
		useEnv("avx512")
		if Set() != Sets()[0] || !strings.Contains(Requested(), "not available") {
			t.Fatalf("SHARK_KERNELS=avx512 on %v: set %q, Requested %q", Sets(), Set(), Requested())
		}
	}
}

// The variable is read when the package starts: a child test process
// started with it reports the set.
func TestEnvReadAtInit(t *testing.T) {
	if os.Getenv("SHARK_KERNELS_CHILD") != "" {
		os.Stdout.WriteString("set=" + Set() + " impl=" + Impl() + "\n")
		return
	}
	for _, s := range Sets() {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEnvReadAtInit$", "-test.count=1")
		cmd.Env = append(os.Environ(), "SHARK_KERNELS_CHILD=1", "SHARK_KERNELS="+s)
		out, err := cmd.CombinedOutput()
		if errors.Is(err, syscall.ENOEXEC) {
			// The test binary runs under user-mode emulation (an arm64
			// build under qemu-user-static) with no binfmt handler.
			t.Skipf("cannot start a child of this test binary: %v", err)
		}
		if err != nil {
			t.Fatalf("SHARK_KERNELS=%s: %v\n%s", s, err, out)
		}
		if !strings.Contains(string(out), "set="+s+" ") {
			t.Fatalf("SHARK_KERNELS=%s: child says %s", s, out)
		}
	}
}
