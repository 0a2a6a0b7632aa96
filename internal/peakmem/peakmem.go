// Package peakmem reads a process's peak resident memory as the kernel
// keeps it for the process's own address space (VmHWM). A parent's
// rusage of a child counts the parent's memory at the fork as well, so a
// test that measures a child has the child report its own.
package peakmem

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Env names the file a child writes its peak to (see Report).
const Env = "SHARK_PEAK_FILE"

// Self is this process's peak resident memory in bytes (Linux).
func Self() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}

// Report writes this process's peak to the file named by Env, if set:
// what a child calls last.
func Report() {
	if p := os.Getenv(Env); p != "" {
		if peak, err := Self(); err == nil {
			os.WriteFile(p, []byte(strconv.FormatInt(peak, 10)), 0o644)
		}
	}
}

// Read is the peak a child reported in file p.
func Read(p string) (int64, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(string(b), 10, 64)
}
