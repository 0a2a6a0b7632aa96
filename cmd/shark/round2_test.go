package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"shark/formats/sharkfile"
)

// The second round of hostile inputs (docs/robustness.md, "Second round"):
// special files, worker counts, parts, late failures, flags and names.
// Each test runs the shark binary in a child process with a time limit (and
// a memory limit where the old failure was a crash), and fails on the code
// before its fix: SHARK_HOSTILE_BINARY=PATH runs another build instead, e.g.
//
//	git worktree add /tmp/old be6ccd6 && (cd /tmp/old && go build -o /tmp/shark-old ./cmd/shark)
//	SHARK_HOSTILE_BINARY=/tmp/shark-old go test -count=1 -run Round2 ./cmd/shark/

// outcome2 is how a child run ended.
type outcome2 struct {
	code           int
	stdout, stderr string
	hung           bool
}

func (o outcome2) String() string {
	return fmt.Sprintf("exit %d, hung %v, stderr %q", o.code, o.hung, firstLine(o.stderr))
}

// limits of a child run: wall time, and address space (0: none).
type limits struct {
	wall time.Duration
	mem  int64
	env  []string
}

// sharkIn runs the binary under test on args in dir.
func sharkIn(t *testing.T, dir string, lim limits, args ...string) outcome2 {
	t.Helper()
	if lim.wall == 0 {
		lim.wall = 20 * time.Second
	}
	bin, env := os.Args[0], []string{"SHARK_TEST_MAIN=1"}
	if b := os.Getenv("SHARK_HOSTILE_BINARY"); b != "" {
		bin = b
	}
	ctx, cancel := context.WithTimeout(context.Background(), lim.wall)
	defer cancel()
	var cmd *exec.Cmd
	if lim.mem > 0 { // a hard limit: a blow-up fails at once
		cmd = exec.CommandContext(ctx, "sh", append([]string{"-c", fmt.Sprintf(`ulimit -v %d && exec "$0" "$@"`, lim.mem>>10), bin}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, bin, args...)
	}
	cmd.Dir = dir
	cmd.Env = append(append(append(os.Environ(), env...), "TMPDIR="+dir), lim.env...)
	cmd.WaitDelay = time.Second
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.Run()
	out := outcome2{code: -1, stdout: o.String(), stderr: e.String(), hung: ctx.Err() != nil}
	if cmd.ProcessState != nil {
		out.code = cmd.ProcessState.ExitCode()
	}
	return out
}

// round2Data writes Criteo-format data of rows rows in dir and trains a
// model on it with extra train flags, both by the binary under test.
func round2Data(t *testing.T, dir string, rows int, train ...string) (data, model string) {
	t.Helper()
	data, model = filepath.Join(dir, "d.tsv"), filepath.Join(dir, "m.shark")
	if o := sharkIn(t, dir, limits{}, "synth", "-o", data, "--rows", fmt.Sprint(rows), "--fields", "6"); o.code != 0 {
		t.Fatalf("synth: %v", o)
	}
	args := append([]string{"train", data, "-o", model, "--epochs", "1"}, train...)
	if o := sharkIn(t, dir, limits{wall: 60 * time.Second}, args...); o.code != 0 {
		t.Fatalf("train: %v", o)
	}
	return data, model
}

// Item 3: any worker count works on any machine. A model trained with
// --workers 64 hung eval on a machine of fewer cores (the count was saved
// in the model), and training with more workers than cores + 1 hung.
func TestRound2WorkersBeyondCores(t *testing.T) {
	dir := t.TempDir()
	data, model := round2Data(t, dir, 20000, "--workers", "64")
	one := limits{wall: 20 * time.Second, env: []string{"GOMAXPROCS=1"}}
	var auc string
	for i := range 3 {
		o := sharkIn(t, dir, one, "eval", model, data)
		if o.code != 0 {
			t.Fatalf("eval %d on one core of a model trained with --workers 64: %v", i, o)
		}
		if auc != "" && o.stdout != auc {
			t.Fatalf("eval %d printed %q, then %q", i, auc, o.stdout)
		}
		auc = o.stdout
	}
	if o := sharkIn(t, dir, one, "train", data, "-o", filepath.Join(dir, "w.shark"), "--epochs", "1", "--workers", "16"); o.code != 0 {
		t.Fatalf("train --workers 16 on one core: %v", o)
	}
	if o := sharkIn(t, dir, limits{}, "train", data, "-o", filepath.Join(dir, "x.shark"), "--workers", "1000000"); o.code != 2 || !strings.Contains(o.stderr, "outside its range") {
		t.Fatalf("--workers 1000000: %v", o)
	}
}

// Item 4: an output naming a pipe or a device is refused, and stays what
// it was (it was replaced by a regular file: as root, -o /dev/null would
// replace the system's).
func TestRound2SpecialOutputs(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "t.npy")
	writeBigNpy(t, in, 2000, 8)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	outs := []string{fifo}
	dev := filepath.Join(dir, "nd")
	if err := syscall.Mknod(dev, syscall.S_IFCHR|0o666, 1<<8|3); err == nil { // 1,3: a null device
		outs = append(outs, dev)
	} else {
		t.Logf("no device node (%v): pipes only", err)
	}
	for _, out := range outs {
		for _, args := range [][]string{{"quantize", in, "-o", out}, {"synth", "--rows", "10", "-o", out}} {
			o := sharkIn(t, dir, limits{wall: 10 * time.Second}, args...)
			if o.code != 2 || !strings.Contains(o.stderr, "not a regular file") {
				t.Errorf("%v: %v", args, o)
			}
		}
		if st, err := os.Lstat(out); err != nil || st.Mode().IsRegular() {
			t.Errorf("%s was replaced by a regular file", out)
		}
	}
}

// Item 5: every input of every command is checked before it is opened: a
// pipe blocked eval, score, counts, compress, bench lookup forever, and
// counts of /dev/zero spun at 100% CPU.
func TestRound2SpecialInputs(t *testing.T) {
	dir := t.TempDir()
	data, model := round2Data(t, dir, 3000)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	out := filepath.Join(dir, "out")
	for _, args := range [][]string{
		{"eval", fifo, data}, {"eval", model, fifo}, {"eval", model, data, "--test", fifo},
		{"score", model, fifo}, {"counts", model, fifo, "-o", out}, {"counts", model, "/dev/zero", "-o", out},
		{"compress", model, fifo, "-o", out}, {"prune", model, fifo, "--keep", "2", "-o", out},
		{"bench", "lookup", fifo}, {"quantize", fifo, "-o", out}, {"quantize", model, "--counts", fifo, "-o", out},
		{"inspect", fifo}, {"verify", "/dev/zero"}, {"export", fifo, "--to", "npz", "-o", out},
		{"experiment", "taylor", model, fifo, "-o", out}, {"train", "/dev/zero", "-o", out},
	} {
		o := sharkIn(t, dir, limits{wall: 10 * time.Second}, args...)
		if o.code != 1 || !strings.Contains(o.stderr, "not a regular file") {
			t.Errorf("%v: %v", args, o)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Error("a refused run wrote its output")
	}
}

// Item 6: a manifest's parts are files of its folder: bench lookup and
// model loading followed a part linked from outside it, and a manifest
// naming itself recursed until "too many open files".
func TestRound2PartsStayInFolder(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "parts")
	os.Mkdir(dir, 0o755)
	in := filepath.Join(root, "t.npy")
	writeBigNpy(t, in, 2000, 8)
	outside := filepath.Join(root, "outside.shark")
	if o := sharkIn(t, root, limits{}, "quantize", in, "--tables", ".", "-o", outside); o.code != 0 {
		t.Fatalf("quantize: %v", o)
	}
	os.Symlink("../outside.shark", filepath.Join(dir, "p0.shark"))
	manifest := func(part string) string {
		var mb bytes.Buffer
		sharkfile.WriteManifest(&mb, &sharkfile.Manifest{Table: "t", Rows: 2000, Dim: 8, Parts: []sharkfile.ManifestPart{{File: part, Rows: 2000}}})
		p := filepath.Join(dir, "t.manifest")
		os.WriteFile(p, mb.Bytes(), 0o644)
		return p
	}
	for _, part := range []string{"p0.shark", "t.manifest"} {
		m := manifest(part)
		for _, args := range [][]string{{"bench", "lookup", m, "--bags", "1000"}, {"eval", m, in}, {"inspect", m}, {"verify", m}} {
			o := sharkIn(t, root, limits{wall: 20 * time.Second}, args...)
			if o.code != 1 || !strings.Contains(o.stderr, "manifest's folder") && !strings.Contains(o.stderr, "outside") && !strings.Contains(o.stderr, "escapes") {
				t.Errorf("part %s: %v: %v", part, args, o)
			}
		}
	}
}

// Item 7: what can be checked before the work is: a read-only output
// folder failed after every epoch of training, and a CSV header naming a
// column twice after the whole training.
func TestRound2EarlyFailures(t *testing.T) {
	dir := t.TempDir()
	data, _ := round2Data(t, dir, 3000)
	table := filepath.Join(dir, "t.npy")
	writeBigNpy(t, table, 1<<16, 16)
	ro := readOnlyDir(t)
	for _, args := range [][]string{
		{"train", data, "-o", filepath.Join(ro, "m.shark"), "--epochs", "2"},
		{"quantize", table, "-o", filepath.Join(ro, "q.shark")},
		{"quantize", table, "-o", filepath.Join(dir, "no-such-folder", "q.shark")},
	} {
		o := sharkIn(t, dir, limits{}, args...)
		if o.code != 1 || !strings.Contains(o.stderr, "takes no new file") || strings.Contains(o.stdout, "epoch") {
			t.Errorf("%v: %v, stdout %q", args[0], o, o.stdout)
		}
	}
	var b strings.Builder
	b.WriteString("label,a,a,label\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "%d,x%d,y%d,%d\n", i%2, i%7, i%5, i%2)
	}
	csv := filepath.Join(dir, "dup.csv")
	os.WriteFile(csv, []byte(b.String()), 0o644)
	o := sharkIn(t, dir, limits{}, "train", csv, "--label", "label", "-o", filepath.Join(dir, "dup.shark"))
	if o.code != 1 || !strings.Contains(o.stderr, "line 1") || !strings.Contains(o.stderr, `column "a" twice`) || strings.Contains(o.stdout, "epoch") {
		t.Errorf("duplicate columns: %v, stdout %q", o, o.stdout)
	}
}

// readOnlyDir is a folder the test's user cannot create files in.
func readOnlyDir(t *testing.T) string {
	if os.Geteuid() != 0 {
		d := t.TempDir()
		os.Chmod(d, 0o555)
		t.Cleanup(func() { os.Chmod(d, 0o755) })
		return d
	}
	// root writes in any folder its mode forbids; sysfs takes no new file.
	if f, err := os.CreateTemp("/sys", "probe"); err == nil {
		f.Close()
		os.Remove(f.Name())
		t.Skip("no read-only folder")
	}
	return "/sys"
}

// Item 8: every numeric flag has a range, and a value outside it is a
// usage error naming it, before any work: --bag-size 2^40 ran out of
// memory, --big 2^63x2^63 panicked and left an empty folder, --split 1
// trained on no rows and exited 0.
func TestRound2FlagRanges(t *testing.T) {
	dir := t.TempDir()
	data, model := round2Data(t, dir, 3000)
	big := filepath.Join(dir, "big")
	for _, args := range [][]string{
		{"bench", "lookup", model, "--bag-size", "1099511627776"},
		{"bench", "lookup", model, "--bags", "100000000"},
		{"example", "--big", "9223372036854775807x9223372036854775807", "-o", big},
		{"example", "--big", "4294967296x4294967296", "-o", big},
		{"train", data, "--split", "1", "-o", filepath.Join(dir, "s.shark")},
		{"train", data, "--hidden", "64,0", "-o", filepath.Join(dir, "s.shark")},
		{"train", data, "--dim", "1000000000", "-o", filepath.Join(dir, "s.shark")},
		{"synth", "--rows", "-5", "-o", filepath.Join(dir, "s.tsv")},
	} {
		o := sharkIn(t, dir, limits{wall: 20 * time.Second, mem: 2 << 30}, args...)
		if o.code != 2 || !strings.Contains(o.stderr, "range") && !strings.Contains(o.stderr, "want") || strings.Contains(o.stderr, "panic") {
			t.Errorf("%v: %v", args, o)
		}
	}
	for _, p := range []string{big, filepath.Join(dir, "s.shark"), filepath.Join(dir, "s.tsv")} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("a refused command left %s", p)
		}
	}
}

// Item 8, all of it: every numeric flag of every command has a range.
func TestRound2EveryNumericFlagHasARange(t *testing.T) {
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if numericTypes[f.Value.Type()] {
				if _, ok := flagRanges[f.Name]; !ok {
					t.Errorf("%s --%s (%s) has no range", cmd.CommandPath(), f.Name, f.Value.Type())
				}
			}
		})
		for _, c := range cmd.Commands() {
			walk(c)
		}
	}
	walk((&cli{}).root())
}

// Item 9: a name from outside is printed quoted, file paths too: a file
// named x<ESC>]0;pwn<BEL>.safetensors set the terminal's title through
// inspect and verify; no command prints a control character.
func TestRound2NamesQuoted(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "t.npy")
	writeBigNpy(t, in, 1500, 8)
	name := "x\x1b]0;pwn\x07.safetensors"
	if o := sharkIn(t, dir, limits{}, "export", mustQuantize(t, dir, in), "--to", "safetensors", "-o", name); o.code != 0 {
		t.Fatalf("export: %v", o)
	}
	bad := "y\x1b[2J.npz"
	os.WriteFile(filepath.Join(dir, bad), []byte("PK not a zip"), 0o644)
	for _, args := range [][]string{{"inspect", name}, {"verify", name}, {"quantize", name, "-o", "q\x1b[2J.shark"}, {"inspect", bad}, {"verify", bad}, {"quantize", bad, "-o", "z.shark"}} {
		o := sharkIn(t, dir, limits{}, args...)
		if strings.ContainsAny(o.stdout+o.stderr, "\x1b\x07") {
			t.Errorf("%q printed a control character: %q %q", args, o.stdout, o.stderr)
		}
		if args[0] != "quantize" && args[1] == name && !strings.Contains(o.stdout, `"x\x1b]0;pwn\a.safetensors"`) {
			t.Errorf("%q: the name is not quoted: %q", args, o.stdout)
		}
	}
}

// mustQuantize quantizes in (every table) to a .shark file beside it.
func mustQuantize(t *testing.T, dir, in string) string {
	out := filepath.Join(dir, "q.shark")
	if o := sharkIn(t, dir, limits{}, "quantize", in, "--tables", ".", "-o", out); o.code != 0 {
		t.Fatalf("quantize: %v", o)
	}
	return out
}

// The writer under every command's output escapes what could drive a
// terminal and passes everything else byte for byte.
func TestTerminalWriter(t *testing.T) {
	for in, want := range map[string]string{
		"ROWS × DIM\tok\n":     "ROWS × DIM\tok\n",
		`{"name": "a\u001b"}`:  `{"name": "a\u001b"}`,
		"x\x1b]0;pwn\x07.npz":  `x\u001b]0;pwn\u0007.npz`,
		"a\rb\u009b2Jc\x7f":    `a\u000db\u009b2Jc\u007f`,
		"bad \xff\xfe bytes\n": `bad \xff\xfe bytes` + "\n",
	} {
		var b bytes.Buffer
		if n, err := (terminalWriter{&b}).Write([]byte(in)); err != nil || n != len(in) || b.String() != want {
			t.Errorf("%q: wrote %q (%d, %v), want %q", in, b.String(), n, err, want)
		}
	}
}

// Flags whose product is too large (--hidden 65536,65536 asks for 16 GiB):
// refused before anything is allocated, not "fatal error: out of memory".
func TestModelSizeBounded(t *testing.T) {
	dir := t.TempDir()
	data, _ := round2Data(t, dir, 3000)
	out := filepath.Join(dir, "big-model.shark")
	for _, args := range [][]string{
		{"train", data, "--hidden", "65536,65536", "-o", out},
		{"train", data, "--dim", "4096", "--hidden", "30000", "-o", out},
		{"train", data, "--hidden", strings.TrimSuffix(strings.Repeat("4096,", 200), ","), "-o", out},
	} {
		o := sharkIn(t, dir, limits{wall: 60 * time.Second, mem: 2 << 30}, args...)
		if o.code == 0 || !strings.Contains(o.stderr, "parameters") && !strings.Contains(o.stderr, "weights") || strings.Contains(o.stderr, "fatal error") || strings.Contains(o.stderr, "goroutine") {
			t.Errorf("%v: %v", args[2:4], o)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v left %s", args[2:4], out)
		}
	}
}

// example writes new files only: a model.npz of the user's in the folder
// is refused and kept; a --big that fails part-way leaves no folder.
func TestExampleNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	mine := filepath.Join(dir, "p", "model.npz")
	os.MkdirAll(filepath.Dir(mine), 0o755)
	os.WriteFile(mine, []byte("mine"), 0o644)
	o := sharkIn(t, dir, limits{}, "example", "-o", "p")
	if b, _ := os.ReadFile(mine); o.code != 2 || string(b) != "mine" || !strings.Contains(o.stderr, "exists") {
		t.Fatalf("example over the user's model.npz: %v; it holds %d bytes, not its own 4", o, len(b))
	}
	bin := os.Args[0]
	if b := os.Getenv("SHARK_HOSTILE_BINARY"); b != "" {
		bin = b
	}
	cmd := exec.Command("sh", "-c", `ulimit -f 4096 && exec "$0" "$@"`, bin, "example", "--big", "100000x1000", "-o", "exbig")
	cmd.Dir, cmd.Env = dir, append(os.Environ(), "SHARK_TEST_MAIN=1")
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("example --big past a 4 MiB file size limit succeeded: %s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "exbig")); !os.IsNotExist(err) {
		t.Fatalf("a failed example --big left its folder: %v", err)
	}
}

// An empty output name is a usage error before any work, and /dev/stdout
// on a pipe is named as the pipe it is (it said "a link to nothing").
func TestOutputNamesNoFile(t *testing.T) {
	dir := t.TempDir()
	_, model := round2Data(t, dir, 3000)
	o := sharkIn(t, dir, limits{}, "export", model, "--to", "npz", "-o", "")
	if o.code != 2 || !strings.Contains(o.stderr, "--output names no file") {
		t.Errorf("-o '': %v", o)
	}
	bin := os.Args[0]
	if b := os.Getenv("SHARK_HOSTILE_BINARY"); b != "" {
		bin = b
	}
	cmd := exec.Command(bin, "export", model, "--to", "npz", "-o", "/dev/stdout")
	cmd.Dir, cmd.Env = dir, append(os.Environ(), "SHARK_TEST_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, _ := cmd.Output() // stdout is a pipe
	if cmd.ProcessState.ExitCode() != 2 || !strings.Contains(stderr.String(), "is a pipe") || len(out) != 0 {
		t.Errorf("-o /dev/stdout on a pipe: exit %d, %q, %d bytes out", cmd.ProcessState.ExitCode(), stderr.String(), len(out))
	}
}
