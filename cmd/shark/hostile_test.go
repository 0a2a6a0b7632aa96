package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"shark/formats"
	"shark/formats/npy"
	"shark/formats/npz"
	"shark/formats/safetensors"
	"shark/formats/sharkfile"
	"shark/internal/peakmem"
)

// Regression tests for the hostile and odd inputs of an adversarial run
// against the CLI (one per row of its table, docs/robustness.md), each
// failing on the code before its fix.

// digest is the SHA-256 of each file, streamed.
func digest(t *testing.T, paths ...string) [][32]byte {
	t.Helper()
	var out [][32]byte
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, [32]byte(h.Sum(nil)))
	}
	return out
}

// Row 1: an output naming an input, however spelt, is a usage error and
// every input stays as it was.
func TestOutputNeverReplacesInput(t *testing.T) {
	dir, train, test, model, _ := heldOutFiles(t)
	link := filepath.Join(dir, "link.tsv")
	os.Symlink(train, link)
	dotdot := filepath.Join(dir, "sub", "..", "m.shark")
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	hard := filepath.Join(dir, "hard.shark")
	os.Link(model, hard)
	before := digest(t, train, test, model)
	for _, args := range [][]string{
		{"train", train, "-o", train},
		{"train", train, "--test", test, "-o", test},
		{"train", train, "-o", link},
		{"compress", model, train, "-o", train},
		{"compress", model, train, "--test", test, "-o", filepath.Join(dir, "c.shark"), "--report", test},
		{"prune", model, train, "--test", test, "--keep", "5", "-o", model},
		{"prune", model, train, "--test", test, "--keep", "5", "-o", dotdot},
		{"prune", model, train, "--test", test, "--keep", "5", "-o", hard},
		{"eval", model, train, "--test", test}, // no output: runs
		{"experiment", "taylor", model, train, "--test", test, "-o", dir},
		{"export", model, "--to", "npz", "-o", model},
		{"quantize", train, "-o", train},
	} {
		code, _, e := shark(t, args...)
		if args[0] == "eval" {
			if code != 0 {
				t.Fatalf("%v: %d %s", args, code, e)
			}
			continue
		}
		if args[0] == "experiment" {
			// Its report files are not inputs: it writes them.
			if code != 0 {
				t.Fatalf("%v: %d %s", args, code, e)
			}
			continue
		}
		if code != 2 || !strings.Contains(e, "same file as an input") {
			t.Errorf("%v: exit %d, %q; want a usage error", args, code, e)
		}
	}
	if after := digest(t, train, test, model); !slicesEqual(before, after) {
		t.Fatal("an input changed")
	}
	// An experiment whose report would replace an input is refused too.
	rep := filepath.Join(dir, "report.md")
	os.WriteFile(rep, []byte("x"), 0o644)
	if code, _, e := shark(t, "experiment", "taylor", model, rep, "-o", dir); code != 2 || !strings.Contains(e, "same file") {
		t.Errorf("a report over its data: %d %q", code, e)
	}
}

func slicesEqual(a, b [][32]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Row 2: a line over the limit is a malformed row, counted once by
// --skip-bad, and the run ends (it spun forever on a 16 MiB line). The
// other rows are the test file's: the training rows in another file are
// not held-out rows.
func TestLongLineEnds(t *testing.T) {
	_, _, test, model, _ := heldOutFiles(t)
	b, _ := os.ReadFile(test)
	long := filepath.Join(t.TempDir(), "long.tsv")
	os.WriteFile(long, append(append(b, bytes.Repeat([]byte("9"), 17<<20)...), '\n'), 0o644)
	done := make(chan struct{})
	go func() {
		defer close(done)
		code, _, e := shark(t, "eval", model, long, "--skip-bad")
		if code != 0 || !strings.Contains(e, "skipped 1 malformed rows") {
			t.Errorf("eval --skip-bad: %d %q", code, e)
		}
		code, _, e = shark(t, "eval", model, long)
		if code != 1 || !strings.Contains(e, "longer than 1048576 bytes") {
			t.Errorf("eval: %d %q", code, e)
		}
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("a long line hangs the reader")
	}
}

// Row 10: a file that is not a regular file is refused at once: a pipe or
// a device cannot be read twice.
func TestSpecialFilesRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	for _, data := range []string{"/dev/zero", fifo} {
		code, _, e := shark(t, "train", data, "-o", filepath.Join(dir, "m.shark"))
		if code != 1 || !strings.Contains(e, "not a regular file") {
			t.Errorf("train %s: %d %q", data, code, e)
		}
	}
}

// child runs this binary's main in a child process with env added, and
// returns its output and its peak resident memory, as it reports it.
func child(t *testing.T, env []string, args ...string) ([]byte, int64, error) {
	t.Helper()
	peakFile := filepath.Join(t.TempDir(), "peak")
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "SHARK_TEST_MAIN=1", peakmem.Env+"="+peakFile), env...)
	out, err := cmd.CombinedOutput()
	peak, perr := peakmem.Read(peakFile)
	if err == nil && perr != nil {
		t.Fatalf("the child reported no peak: %v", perr)
	}
	return out, peak, err
}

// Row 3: a byte flipped in a stored .npz member is caught by the member's
// CRC-32: verify fails and quantize writes nothing (it quantized the
// corrupt values into a file that verified).
func TestNpzMemberCRC(t *testing.T) {
	dir := t.TempDir()
	b, _ := os.ReadFile(ncf)
	i := bytes.Index(b, []byte("item_embedding_W.npy"))
	b[i+5000] ^= 0x40 // inside the member's data
	bad := filepath.Join(dir, "bad.npz")
	os.WriteFile(bad, b, 0o644)
	if code, _, e := shark(t, "verify", bad); code != 1 || !strings.Contains(e, `member "item_embedding_W.npy": CRC-32`) {
		t.Fatalf("verify: %d %q", code, e)
	}
	out := filepath.Join(dir, "out.shark")
	if code, _, e := shark(t, "quantize", bad, "-o", out); code != 1 || !strings.Contains(e, "CRC-32") {
		t.Fatalf("quantize: %d %q", code, e)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("left behind: %v", ents)
	}
}

// Row 4: a deflated member is streamed, a window at a time: 1 GiB of
// deflated zeros (1 MiB in the file) is quantized in flat memory (it was
// read whole: 10.5 GB for 10 GiB, then out of memory).
func TestDeflatedMemberStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("inflates 1 GiB twice")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "zeros.npz")
	f, _ := os.Create(in)
	zw := npz.NewWriter(f, true)
	const rows, dim = 1 << 22, 64
	if err := zw.Write("emb", formats.F32, []int64{rows, dim}, io.LimitReader(zeroReader{}, rows*dim*4)); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	f.Close()
	out, peak, err := child(t, []string{"TMPDIR=" + dir}, "quantize", in, "-o", filepath.Join(dir, "z.shark"), "--json")
	st, _ := os.Stat(in)
	t.Logf("%d MiB of zeros in a %.1f MiB .npz: peak RSS %.1f MiB", rows*dim*4>>20, float64(st.Size())/(1<<20), float64(peak)/(1<<20))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if peak > 256<<20 {
		t.Fatalf("peak RSS %d MiB", peak>>20)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// Row 7: SIGINT, SIGTERM and SIGKILL at six points of quantizing a 1 GiB
// table leave the input as it was and nothing under the output's name;
// after SIGINT and SIGTERM, no temporary or spill file either, and the exit
// status is 130 or 143.
func TestKilledQuantize(t *testing.T) {
	if testing.Short() {
		t.Skip("quantizes a 256 MiB table twenty times")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "big.npy")
	writeBigNpy(t, in, 1<<20, 64)
	sum := digest(t, in)
	tmp, outDir := filepath.Join(dir, "tmp"), filepath.Join(dir, "out")
	os.Mkdir(tmp, 0o755)
	os.Mkdir(outDir, 0o755)
	out := filepath.Join(outDir, "big.shark")
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "quantize", in, "-o", out)
		cmd.Env = append(os.Environ(), "SHARK_TEST_MAIN=1", "TMPDIR="+tmp)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	// The points to interrupt at are shares of a whole run's CPU time, not
	// of its wall time: other tests sharing the cores stretch the wall
	// time of the runs that follow, not the work each does. A run's CPU
	// time still varies by a tenth or more (page cache, the collector), so
	// the shortest of two runs is the whole, and the last point is 0.8 of
	// it: at 0.9 of the last run's time, runs that needed a little less
	// finished first.
	full := time.Duration(math.MaxInt64)
	for range 2 {
		cmd := start()
		if err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
		full = min(full, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
		os.Remove(out)
	}
	interrupted := 0
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
		for _, at := range []float64{0.05, 0.2, 0.4, 0.6, 0.7, 0.8} {
			cmd := start()
			waitCPU(cmd.Process.Pid, time.Duration(at*float64(full)))
			cmd.Process.Signal(sig)
			if err := cmd.Wait(); err == nil { // it finished first
				os.Remove(out)
				continue
			}
			interrupted++
			checkInterrupted(t, cmd, sig, at, out, outDir, tmp)
		}
	}
	if !slicesEqual(sum, digest(t, in)) {
		t.Fatal("the input changed")
	}
	t.Logf("a full run took %v of CPU; %d of 18 runs were interrupted", full.Round(time.Millisecond), interrupted)
	if interrupted < 15 {
		t.Fatalf("only %d runs were interrupted", interrupted)
	}
}

// waitCPU returns once process pid has used cpu of CPU time (user and
// system, from /proc/PID/stat), or has ended.
func waitCPU(pid int, cpu time.Duration) {
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		// Fields after the command's name, which is in parentheses and may
		// hold spaces: state is the 1st, utime the 12th, stime the 13th.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		var ut, st int64
		if len(f) > 12 {
			fmt.Sscan(f[11], &ut)
			fmt.Sscan(f[12], &st)
		}
		if len(f) == 0 || f[0] == "Z" || time.Duration(ut+st)*tick >= cpu {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// checkInterrupted checks what a run stopped by sig leaves: the exit
// status of a caught signal, no broken file under the output's name, and
// nothing in the output's or the temporary folder.
func checkInterrupted(t *testing.T, cmd *exec.Cmd, sig syscall.Signal, at float64, out string, dirs ...string) {
	t.Helper()
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if sig != syscall.SIGKILL && ws.ExitStatus() != 128+int(sig) {
		t.Errorf("%v at %.0f%%: exit %d", sig, 100*at, ws.ExitStatus())
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		// Written whole and placed before the signal came: a complete
		// file is all that may stand under the name.
		if code, _, e := shark(t, "verify", out); code != 0 {
			t.Fatalf("%v at %.0f%%: a broken file under the output's name: %s", sig, 100*at, e)
		}
		os.Remove(out)
	}
	for _, d := range dirs {
		if ents, _ := os.ReadDir(d); len(ents) > 0 {
			t.Errorf("%v at %.0f%%: left in %s: %v", sig, 100*at, filepath.Base(d), ents)
			for _, e := range ents {
				os.Remove(filepath.Join(d, e.Name()))
			}
		}
	}
}

// Row 16: the inspector's server answers GET and HEAD only, and cuts off a
// client that never finishes its request.
func TestServeRefusesAndTimesOut(t *testing.T) {
	h, err := webHandler()
	if err != nil {
		t.Skip(err) // built without the wasm core
	}
	srv := newServer(h)
	srv.ReadHeaderTimeout = 300 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String() + "/"
	for _, m := range []string{"POST", "PUT", "DELETE", "TRACE"} {
		req, _ := http.NewRequest(m, base, strings.NewReader("x"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: %d", m, resp.StatusCode)
		}
	}
	if resp, err := http.Head(base); err != nil || resp.StatusCode != 200 {
		t.Fatalf("HEAD: %v %v", resp, err)
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n")) // and never the end of the headers
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(c); err != nil {
		t.Fatalf("the server held a half-sent request: %v", err)
	}
	if h := strings.Repeat("a", 32<<10); true {
		req, _ := http.NewRequest("GET", base, nil)
		req.Header.Set("X-Big", h)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("a 32 KiB header: %d", resp.StatusCode)
			}
		}
	}
}

// Row 8: quantize never writes a file verify rejects: a table of one row,
// of no rows, of one column.
func TestQuantizeOddShapes(t *testing.T) {
	dir := t.TempDir()
	for name, shape := range map[string][]int64{"one-row": {1, 1000}, "no-rows": {0, 5000}, "one-col": {3000, 1}} {
		in := filepath.Join(dir, name+".npy")
		f, _ := os.Create(in)
		hdr, _ := npy.HeaderBytes(formats.F32, shape)
		f.Write(hdr)
		f.Write(make([]byte, 4*shape[0]*shape[1]))
		f.Close()
		out := filepath.Join(dir, name+".shark")
		code, _, e := shark(t, "quantize", in, "--tables", ".", "-o", out, "--budget", "90%")
		if code != 0 {
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s: quantize failed (%s) but wrote a file", name, e)
			}
			continue
		}
		if code, _, e := shark(t, "verify", out); code != 0 {
			t.Errorf("%s: quantize wrote a file verify rejects: %s", name, e)
		}
	}
}

// Row 9: a libFFM field id of 65536 makes one table, not 65,537.
func TestLibFFMHugeFieldID(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "d.ffm")
	var b strings.Builder
	for i := 0; i < 400; i++ {
		fmt.Fprintf(&b, "%d 0:%d:1 65536:%d:1\n", i%2, i%7, i%5)
	}
	os.WriteFile(data, []byte(b.String()), 0o644)
	out, peak, err := child(t, nil, "train", data, "-o", filepath.Join(dir, "m.shark"), "--json", "--epochs", "1")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"fields": 2`) || peak > 256<<20 {
		t.Fatalf("peak %d MiB:\n%s", peak>>20, out)
	}
}

// Rows 11 and 15: each unterminated quote is one skipped row, counted once;
// a byte order mark before the header is not part of its first column.
func TestCSVQuotesAndBOM(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("\xef\xbb\xbfclicked,a,b\n")
	for i := 0; i < 3000; i++ {
		if i%100 == 50 {
			fmt.Fprintf(&b, "1,\"x%d,b\n", i)
		} else {
			fmt.Fprintf(&b, "%d,a%d,b%d\n", i%2, i%9, i%4)
		}
	}
	data := filepath.Join(dir, "d.csv")
	os.WriteFile(data, []byte(b.String()), 0o644)
	code, _, e := shark(t, "train", data, "--label", "clicked", "--skip-bad", "-o", filepath.Join(dir, "m.shark"), "--epochs", "1")
	if code != 0 || strings.Count(e, "skipped") != 1 || !strings.Contains(e, "skipped 30 malformed rows") {
		t.Fatalf("%d %q", code, e)
	}
}

// Row 12: two tensors of one name in a .shark file: verify refuses it.
func TestDuplicateNamesRefused(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "g.shark")
	if code, _, e := shark(t, "quantize", ncf, "-o", good); code != 0 {
		t.Fatal(e)
	}
	b, _ := os.ReadFile(good)
	b = bytes.Replace(b, []byte("user_embedding_W"), []byte("item_embedding_W"), 1)
	bad := filepath.Join(dir, "bad.shark")
	os.WriteFile(bad, resealHeader(b), 0o644)
	if code, _, e := shark(t, "verify", bad); code != 1 || !strings.Contains(e, "repeated name") {
		t.Fatalf("%d %q", code, e)
	}
}

// resealHeader recomputes a .shark file's header and trailer checksums,
// as someone who edits the header would.
func resealHeader(b []byte) []byte {
	tr := b[len(b)-sharkfile.TrailerSize:]
	hoff := binary.LittleEndian.Uint64(tr[0:])
	hlen := binary.LittleEndian.Uint64(tr[8:])
	c := crc32.MakeTable(crc32.Castagnoli)
	binary.LittleEndian.PutUint32(tr[16:], crc32.Checksum(b[hoff:hoff+hlen], c))
	binary.LittleEndian.PutUint32(tr[20:], crc32.Checksum(tr[:20], c))
	return b
}

// Row 13: a fraction that is not a number is a usage error (NaN was taken,
// and the defaults used silently).
func TestNaNFractionRefused(t *testing.T) {
	for _, v := range []string{"nan", "NaN", "inf", "-1", "2"} {
		code, _, e := shark(t, "quantize", "in.npz", "-o", "x.shark", "--fp32", v, "--fp16", "0", "--int8", "0", "--int4", "0")
		if code != 2 {
			t.Errorf("--fp32 %s: %d %q", v, code, e)
		}
	}
}

// Rows 14 and 17: a tensor name with control characters is quoted on the
// terminal, and a name that is a path is refused by the npz export (it was
// written as a zip member: a zip slip for whoever unpacks it).
func TestHostileNames(t *testing.T) {
	dir := t.TempDir()
	names := []string{"\x1b[2Jemb", "../../etc/x", "/etc/abs"}
	var specs []safetensors.Spec
	for _, n := range names {
		data := make([]byte, 4*1000*4)
		specs = append(specs, safetensors.Spec{Name: n, DType: formats.F32, Shape: []int64{1000, 4},
			Data: func() (io.Reader, error) { return bytes.NewReader(data), nil }})
	}
	in := filepath.Join(dir, "h.safetensors")
	f, _ := os.Create(in)
	if err := safetensors.Write(f, specs, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, out, _ := shark(t, "inspect", in)
	if strings.Contains(out, "\x1b") || !strings.Contains(out, `"\x1b[2Jemb"`) {
		t.Errorf("inspect wrote a raw escape: %q", out)
	}
	q := filepath.Join(dir, "h.shark")
	code, out, e := shark(t, "quantize", in, "-o", q, "--budget", "60%")
	if code != 0 || strings.Contains(out+e, "\x1b") {
		t.Fatalf("quantize: %d %q %q", code, out, e)
	}
	exp := filepath.Join(dir, "x.npz")
	if code, _, e := shark(t, "export", q, "--to", "npz", "-o", exp); code != 1 || !strings.Contains(e, "not a plain file name") {
		t.Errorf("export of path names: %d %q", code, e)
	}
	if _, err := os.Stat(exp); !os.IsNotExist(err) {
		t.Error("a refused export left a file")
	}
	if code, _, e := shark(t, "export", q, "--to", "safetensors", "-o", filepath.Join(dir, "x.safetensors")); code != 0 {
		t.Errorf("safetensors export: %s", e)
	}
}
