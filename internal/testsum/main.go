// Command testsum reads `go test -json` on standard input and prints what a
// person reads: each package's result, the whole output of every test that
// failed (and of builds that failed), every skipped test with its reason,
// every test that took 20 s or more,
// and a closing line "N passed, N failed, N skipped". With -skips FILE it
// appends one line per skip to FILE, so that build.sh can count the skips
// of all its runs at the end. It exits 1 when anything failed.
//
// It is ours rather than gotestsum because build.sh needs only this much,
// and a tool run with `go run` from the module needs no install step.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	Elapsed     float64
	ImportPath  string // build-output and build-fail events
	FailedBuild string
}

type summary struct {
	out                     io.Writer
	output                  map[string][]string // per package/test: output lines so far
	build                   map[string][]string // per import path: build output
	passed, failed, skipped int
	skips                   []string
	packageFailed           bool
}

// slow is the time past which a passing test is named with its time, so
// that a run says where its time went.
const slow = 20 // seconds

func key(e event) string { return e.Package + "\x00" + e.Test }

func (s *summary) add(e event) {
	switch e.Action {
	case "build-output":
		s.build[e.ImportPath] = append(s.build[e.ImportPath], e.Output)
	case "build-fail":
		s.packageFailed = true
		fmt.Fprintf(s.out, "FAIL build %s\n%s", e.ImportPath, strings.Join(s.build[e.ImportPath], ""))
	case "output":
		s.output[key(e)] = append(s.output[key(e)], e.Output)
	case "pass", "fail", "skip":
		s.result(e)
	}
}

// result handles a test's or a package's end.
func (s *summary) result(e event) {
	lines := s.output[key(e)]
	delete(s.output, key(e))
	if e.Test == "" { // the package
		switch {
		case e.Action == "fail":
			s.packageFailed = true
			s.unfinished(e.Package)
			fmt.Fprintf(s.out, "FAIL %s\n%s", e.Package, strings.Join(lines, ""))
		case e.Action == "skip":
			fmt.Fprintf(s.out, "ok   %s (no tests)\n", e.Package)
		default:
			fmt.Fprintf(s.out, "ok   %s %.1fs\n", e.Package, e.Elapsed)
		}
		return
	}
	switch e.Action {
	case "pass":
		s.passed++
		if e.Elapsed >= slow && !strings.Contains(e.Test, "/") {
			fmt.Fprintf(s.out, "slow %s %s: %.0f s\n", e.Package, e.Test, e.Elapsed)
		}
	case "fail":
		s.failed++
		fmt.Fprintf(s.out, "--- FAIL %s %s\n%s", e.Package, e.Test, strings.Join(lines, ""))
	case "skip":
		s.skipped++
		why := reason(lines)
		s.skips = append(s.skips, fmt.Sprintf("%s %s: %s", e.Package, e.Test, why))
		fmt.Fprintf(s.out, "skip %s %s: %s\n", e.Package, e.Test, why)
	}
}

// unfinished prints the output of pkg's tests that never ended: a test
// binary that timed out or crashed writes its panic into the running
// test's output, and no pass or fail follows.
func (s *summary) unfinished(pkg string) {
	var keys []string
	for k := range s.output {
		if strings.HasPrefix(k, pkg+"\x00") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		s.failed++
		fmt.Fprintf(s.out, "--- unfinished %s %s\n%s", pkg, strings.TrimPrefix(k, pkg+"\x00"), strings.Join(s.output[k], ""))
		delete(s.output, k)
	}
}

// reason is a skipped test's message: its output less the === and ---
// lines the test runner writes itself.
func reason(lines []string) string {
	var parts []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		parts = append(parts, t)
	}
	if len(parts) == 0 {
		return "no reason given"
	}
	return strings.Join(parts, " ")
}

func main() {
	skipsFile := flag.String("skips", "", "append one line per skipped test to this file")
	flag.Parse()
	s := &summary{out: os.Stdout, output: map[string][]string{}, build: map[string][]string{}}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Println(sc.Text()) // not an event: go vet's or the linker's words
			continue
		}
		s.add(e)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		os.Exit(1)
	}
	if *skipsFile != "" && len(s.skips) > 0 {
		f, err := os.OpenFile(*skipsFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintln(f, strings.Join(s.skips, "\n"))
			err = f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "testsum:", err)
		}
	}
	fmt.Printf("%d passed, %d failed, %d skipped\n", s.passed, s.failed, s.skipped)
	if s.failed > 0 || s.packageFailed {
		os.Exit(1)
	}
}
