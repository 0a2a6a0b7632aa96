package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"shark/facetest"
)

// The adversarial campaign behind docs/robustness.md: about 1,700 crafted
// inputs, each run through the shark binary in a child process with a time
// and a memory watch, each outcome sorted into clear error, accepted,
// panic, hang, memory blow-up and data lost. Run it with
//
//	SHARK_CAMPAIGN=1 go test -run Campaign -v -timeout 60m ./cmd/shark/
//
// It prints the table docs/robustness.md holds. SHARK_CAMPAIGN_BINARY=PATH
// runs another build of shark on the same inputs instead.
func TestCampaign(t *testing.T) {
	if os.Getenv("SHARK_CAMPAIGN") == "" {
		t.Skip("set SHARK_CAMPAIGN=1 to run the adversarial campaign")
	}
	c := &campaign{t: t, dir: t.TempDir(), tally: map[string]*tally{}}
	c.prepare()
	c.sharkFlips()
	c.sharkTruncations()
	c.sharkHeaders()
	c.tensorFiles()
	c.dataFiles()
	c.specialFiles()
	c.outputs()
	c.report()
}

type tally struct {
	inputs, cases                                     int
	clear, accepted, panics, hangs, blowups, dataLost int
	examples                                          []string
}

type campaign struct {
	t     *testing.T
	dir   string
	tally map[string]*tally
	order []string
	files map[string]string // base files by kind
}

// outcome of one run.
type outcome struct {
	code   int
	stderr string
	peak   int64
	hung   bool
}

// run runs the binary on args with a time limit.
func (c *campaign) run(args ...string) outcome {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bin := os.Args[0]
	if b := os.Getenv("SHARK_CAMPAIGN_BINARY"); b != "" {
		bin = b // another build of shark, to compare
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "SHARK_TEST_MAIN=1", "TMPDIR="+c.dir)
	var e bytes.Buffer
	cmd.Stderr = &e
	err := cmd.Run()
	o := outcome{stderr: e.String(), hung: ctx.Err() != nil}
	if cmd.ProcessState != nil {
		o.code = cmd.ProcessState.ExitCode()
		o.peak = int64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) * 1024
	} else if err != nil {
		o.code = -1
	}
	return o
}

// record sorts a case's outcome into its category: inputs must not change,
// an output must verify when the run succeeds and not exist when it fails.
func (c *campaign) record(category, name string, inputs []string, sums [][32]byte, out string, o outcome) {
	tl := c.tally[category]
	if tl == nil {
		tl = &tally{}
		c.tally[category] = tl
		c.order = append(c.order, category)
	}
	tl.cases++
	lost := false
	for i, in := range inputs {
		if b, err := os.ReadFile(in); err != nil || sha256.Sum256(b) != sums[i] {
			lost = true
		}
	}
	if out != "" {
		_, err := os.Stat(out)
		if o.code != 0 && err == nil {
			lost = true // a failed run left a file under the output's name
		}
		if o.code == 0 && err == nil && c.run("verify", out).code != 0 {
			lost = true // a run wrote a file verify rejects
		}
		os.Remove(out)
	}
	note := func(kind string) {
		if len(tl.examples) < 3 {
			tl.examples = append(tl.examples, fmt.Sprintf("%s: %s", name, kind))
		}
	}
	switch {
	case lost:
		tl.dataLost++
		note("data lost")
	case o.hung:
		tl.hangs++
		note("hang")
	case strings.Contains(o.stderr, "panic:") || strings.Contains(o.stderr, "fatal error:") || o.code < 0:
		tl.panics++
		note("panic: " + firstLine(o.stderr))
	case o.peak > 1<<30:
		tl.blowups++
		note(fmt.Sprintf("%d MiB", o.peak>>20))
	case o.code == 0:
		tl.accepted++
	case (o.code == 1 || o.code == 2) && strings.TrimSpace(o.stderr) != "":
		tl.clear++
	default:
		tl.panics++
		note(fmt.Sprintf("exit %d: %s", o.code, firstLine(o.stderr)))
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// try writes b as a case file and runs each command on it (FILE in args is
// replaced by its path, OUT by an output path).
func (c *campaign) try(category, name, ext string, b []byte, commands ...[]string) {
	in := filepath.Join(c.dir, "case"+ext)
	os.WriteFile(in, b, 0o644)
	sum := sha256.Sum256(b)
	for _, args := range commands {
		out := ""
		a := make([]string, len(args))
		for i, x := range args {
			switch x {
			case "FILE":
				a[i] = in
			case "OUT":
				if args[0] == "export" {
					out = filepath.Join(c.dir, "out.npz")
				} else {
					out = filepath.Join(c.dir, "out.shark")
				}
				a[i] = out
			default:
				a[i] = x
			}
		}
		c.record(category, name+" "+args[0], []string{in}, [][32]byte{sum}, out, c.run(a...))
	}
	c.tally[category].inputs++
	os.Remove(in)
}

func (c *campaign) prepare() {
	c.files = map[string]string{"npz": ncf}
	d := filepath.Join(c.dir, "base")
	os.Mkdir(d, 0o755)
	var err error
	if c.files["deflated"], err = facetest.DeflatedNPZ(d); err != nil {
		c.t.Fatal(err)
	}
	if c.files["safetensors"], err = facetest.Safetensors(d); err != nil {
		c.t.Fatal(err)
	}
	c.files["shark"] = filepath.Join(d, "ncf.shark")
	if o := c.run("quantize", ncf, "-o", c.files["shark"]); o.code != 0 {
		c.t.Fatal(o.stderr)
	}
	c.files["npy"] = filepath.Join(d, "t.npy")
	writeBigNpy(c.t, c.files["npy"], 2000, 16)
	c.files["data"] = filepath.Join(d, "d.tsv")
	if o := c.run("synth", "-o", c.files["data"], "--rows", "3000", "--fields", "6"); o.code != 0 {
		c.t.Fatal(o.stderr)
	}
	c.files["model"] = filepath.Join(d, "m.shark")
	if o := c.run("train", c.files["data"], "-o", c.files["model"], "--epochs", "1"); o.code != 0 {
		c.t.Fatal(o.stderr)
	}
}

func read(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sharkFlips flips one byte at 800 places spread over a .shark file.
func (c *campaign) sharkFlips() {
	b := read(c.t, c.files["shark"])
	for i := 0; i < 800; i++ {
		at := i * len(b) / 800
		m := append([]byte{}, b...)
		m[at] ^= 1 << (i % 8)
		c.try(".shark: one byte flipped (800 places)", fmt.Sprintf("byte %d", at), ".shark", m,
			[]string{"verify", "FILE"}, []string{"export", "FILE", "--to", "npz", "-o", "OUT"})
	}
}

// sharkTruncations cuts a .shark file at 300 lengths.
func (c *campaign) sharkTruncations() {
	b := read(c.t, c.files["shark"])
	for i := 0; i < 300; i++ {
		n := i * len(b) / 300
		c.try(".shark: truncated (300 lengths)", fmt.Sprintf("%d bytes", n), ".shark", b[:n],
			[]string{"verify", "FILE"}, []string{"inspect", "FILE"})
	}
}

// sharkHeaders changes the msgpack header, then seals the file with
// valid checksums: counts and lengths that lie.
func (c *campaign) sharkHeaders() {
	b := read(c.t, c.files["shark"])
	tr := b[len(b)-32:]
	hoff := int(le64(tr[0:]))
	hlen := int(le64(tr[8:]))
	r := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 200; i++ {
		h := append([]byte{}, b[hoff:hoff+hlen]...)
		for k := 0; k < 1+i%4; k++ {
			at := r.IntN(len(h))
			switch i % 3 {
			case 0:
				h[at] ^= byte(1 << r.IntN(8))
			case 1: // a huge array or map length
				h[at] = []byte{0xdd, 0xdf, 0xdb, 0xc6}[r.IntN(4)]
			default:
				h[at] = 0xff
			}
		}
		m := resealHeader(append(append(append([]byte{}, b[:hoff]...), h...), tr...))
		c.try(".shark: header changed, checksums made valid (200)", fmt.Sprintf("header %d", i), ".shark", m,
			[]string{"inspect", "FILE"}, []string{"verify", "FILE"}, []string{"export", "FILE", "--to", "npz", "-o", "OUT"})
	}
}

func le64(b []byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 | uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// tensorFiles flips bytes of and truncates .npy, .npz (stored and deflated)
// and .safetensors files, then inspects, verifies and quantizes them.
func (c *campaign) tensorFiles() {
	for _, kind := range []string{"npy", "npz", "deflated", "safetensors"} {
		b := read(c.t, c.files[kind])
		ext := filepath.Ext(c.files[kind])
		cat := fmt.Sprintf("%s: bytes flipped and truncated (60)", map[string]string{"npy": ".npy", "npz": ".npz (stored)", "deflated": ".npz (deflated)", "safetensors": ".safetensors"}[kind])
		for i := 0; i < 60; i++ {
			m := append([]byte{}, b...)
			name := ""
			if i%3 == 2 {
				n := (i * 7919) % len(b)
				m, name = m[:n], fmt.Sprintf("cut at %d", n)
			} else {
				at := []int{i * 13 % 256, i * len(b) / 60}[i%2] % len(b)
				m[at] ^= 0x80
				name = fmt.Sprintf("byte %d", at)
			}
			c.try(cat, name, ext, m, []string{"inspect", "FILE"}, []string{"verify", "FILE"}, []string{"quantize", "FILE", "-o", "OUT", "--tables", "."})
		}
	}
}

// dataFiles feeds train and eval odd data: long lines, binary, bad labels,
// stray quotes, a BOM, huge field ids, no rows.
func (c *campaign) dataFiles() {
	ok := read(c.t, c.files["data"])
	cases := map[string][]byte{
		"a 17 MiB line":           append(append(append([]byte{}, ok...), bytes.Repeat([]byte("9"), 17<<20)...), '\n'),
		"binary garbage":          bytes.Repeat([]byte{0, 0xff, 0x13, '\t'}, 1<<16),
		"no line end (8 MiB)":     bytes.Repeat([]byte("a"), 8<<20),
		"labels 2, -1, 0.5":       bytes.ReplaceAll(ok, []byte("\n0\t"), []byte("\n2\t")),
		"empty":                   nil,
		"only blank lines":        []byte("\n\n\r\n\n"),
		"libffm field 65536":      []byte("1 0:1:1 65536:3:1\n0 0:2:1 65536:3:1\n"),
		"libffm field 2^31":       []byte("1 2147483647:1:1\n"),
		"csv unterminated quotes": []byte("y,a\n1,\"x\n0,b\n1,\"y\n"),
		"csv with a BOM":          []byte("\xef\xbb\xbfy,a\n1,x\n0,y\n1,x\n0,y\n"),
		"csv no header end":       bytes.Repeat([]byte("y,"), 1<<20),
	}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, skip := range []string{"--skip-bad", "--epochs=1"} {
			c.try("data files (train, eval, with and without --skip-bad)", n, ".data", cases[n],
				[]string{"train", "FILE", "-o", "OUT", "--label", "y", skip, "--epochs", "1"},
				[]string{"eval", c.files["model"], "FILE", skip})
		}
	}
}

// specialFiles gives pipes, devices, directories and /proc files as inputs.
func (c *campaign) specialFiles() {
	fifo := filepath.Join(c.dir, "fifo")
	syscall.Mkfifo(fifo, 0o644)
	for _, p := range []string{"/dev/zero", "/dev/null", fifo, c.dir, "/proc/self/status", "/nonexistent"} {
		for _, args := range [][]string{{"inspect", p}, {"verify", p}, {"quantize", p, "-o", filepath.Join(c.dir, "o.shark")}, {"train", p, "-o", filepath.Join(c.dir, "o.shark")}} {
			c.record("special files (pipes, devices, directories, /proc)", strings.Join(args[:2], " "), nil, nil, filepath.Join(c.dir, "o.shark"), c.run(args...))
		}
		c.tally["special files (pipes, devices, directories, /proc)"].inputs++
	}
}

// outputs names an input as the output, spelt in several ways.
func (c *campaign) outputs() {
	d, m := c.files["data"], c.files["model"]
	link := filepath.Join(c.dir, "link")
	os.Symlink(d, link)
	for _, args := range [][]string{
		{"train", d, "-o", d}, {"train", d, "-o", link}, {"compress", m, d, "-o", d}, {"prune", m, d, "--keep", "3", "-o", m},
		{"quantize", ncf, "-o", ncf}, {"export", c.files["shark"], "--to", "npz", "-o", c.files["shark"]},
		{"train", d, "-o", filepath.Join(filepath.Dir(d), ".", filepath.Base(d))},
	} {
		ins := []string{d, m, c.files["shark"]}
		var sums [][32]byte
		for _, in := range ins {
			sums = append(sums, sha256.Sum256(read(c.t, in)))
		}
		c.record("an output naming an input", strings.Join(args, " "), ins, sums, "", c.run(args...))
		c.tally["an output naming an input"].inputs++
	}
}

func (c *campaign) report() {
	fmt.Println("| inputs | crafted | runs | clear error | accepted (output verifies) | panic | hang | memory blow-up | data lost |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	var total tally
	for _, cat := range c.order {
		tl := c.tally[cat]
		fmt.Printf("| %s | %d | %d | %d | %d | %d | %d | %d | %d |\n", cat, tl.inputs, tl.cases, tl.clear, tl.accepted, tl.panics, tl.hangs, tl.blowups, tl.dataLost)
		total.inputs += tl.inputs
		total.cases += tl.cases
		total.clear += tl.clear
		total.accepted += tl.accepted
		total.panics += tl.panics
		total.hangs += tl.hangs
		total.blowups += tl.blowups
		total.dataLost += tl.dataLost
	}
	fmt.Printf("| all | %d | %d | %d | %d | %d | %d | %d | %d |\n", total.inputs, total.cases, total.clear, total.accepted, total.panics, total.hangs, total.blowups, total.dataLost)
	for _, cat := range c.order {
		for _, e := range c.tally[cat].examples {
			fmt.Printf("- %s: %s\n", cat, e)
		}
	}
	if total.panics+total.hangs+total.blowups+total.dataLost > 0 {
		c.t.Errorf("%d panics, %d hangs, %d blow-ups, %d cases of data lost", total.panics, total.hangs, total.blowups, total.dataLost)
	}
}
