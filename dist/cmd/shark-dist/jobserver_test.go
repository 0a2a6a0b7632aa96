package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Beyond one process: Beam's prism runner as a standalone job server (as
// a Flink or Spark job server is run), jobs submitted to it with
// --runner universal, and workers in processes of their own that
// "shark-dist worker-pool" starts (--environment_type EXTERNAL).

var prismBuild struct {
	once sync.Once
	bin  string
	err  error
}

// prism builds Beam's prism job server from the module cache, at the
// version dist/go.mod requires, once; the test skips if it cannot.
func prism(t *testing.T) string {
	t.Helper()
	prismBuild.once.Do(func() {
		prismBuild.bin = filepath.Join(filepath.Dir(bins.dist), "prism")
		cmd := exec.Command("go", "build", "-o", prismBuild.bin, "github.com/apache/beam/sdks/v2/go/cmd/prism")
		if out, err := cmd.CombinedOutput(); err != nil {
			prismBuild.err = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if prismBuild.err != nil {
		t.Skipf("prism cannot be built from the module cache here: %v", prismBuild.err)
	}
	return prismBuild.bin
}

// freePort is a port nothing listens on at 127.0.0.1 just now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// serve starts a server process, kills it when the test ends, and waits
// until it accepts connections on port; it returns the process and the
// file its output goes to.
func serve(t *testing.T, port int, name string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	log := filepath.Join(t.TempDir(), "server.log")
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		f.Close()
	})
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			c.Close()
			return cmd, log
		}
	}
	b, _ := os.ReadFile(log)
	t.Fatalf("%s does not listen on %d:\n%s", name, port, b)
	return nil, ""
}

// jobServer starts prism as a job server and returns its endpoint.
func jobServer(t *testing.T) string {
	port := freePort(t)
	serve(t, port, prism(t), "--job_port", strconv.Itoa(port), "--serve_http=false")
	return "127.0.0.1:" + strconv.Itoa(port)
}

// distIn runs shark-dist in dir with a fixed creation time (so that runs
// can be compared byte for byte) and fails the test on an error.
func distIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bins.dist, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1700000000")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("shark-dist %s: %v\n%s", strings.Join(args, " "), err, tail(errb.String()))
	}
	return out.String()
}

func tail(s string) string {
	if len(s) > 3000 {
		return "..." + s[len(s)-3000:]
	}
	return s
}

// sameFiles fails unless folders a and b hold the same files, byte for byte.
func sameFiles(t *testing.T, what, a, b string) {
	t.Helper()
	ea, _ := os.ReadDir(a)
	eb, _ := os.ReadDir(b)
	if len(ea) == 0 || len(ea) != len(eb) {
		t.Fatalf("%s: %d files, in process %d", what, len(eb), len(ea))
	}
	for _, e := range ea {
		x, _ := os.ReadFile(filepath.Join(a, e.Name()))
		y, err := os.ReadFile(filepath.Join(b, e.Name()))
		if err != nil || !bytes.Equal(x, y) {
			t.Fatalf("%s: %s differs from the in-process run's (%v)", what, e.Name(), err)
		}
	}
}

// inputs makes a model, two logs and a table in three shards in dir.
func inputs(t *testing.T, dir string) (model string, logs, shards []string) {
	t.Helper()
	model = filepath.Join(dir, "model.shark")
	for i, args := range [][]string{
		{"synth", "-o", "train.tsv", "--rows", "3000", "--seed", "1"},
		{"train", "train.tsv", "-o", model, "--epochs", "1", "--dim", "4"},
		{"synth", "-o", "log0.tsv", "--rows", "1500", "--seed", "7"},
	} {
		cmd := exec.Command(bins.shark, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("shark %v (%d): %v\n%s", args, i, err, out)
		}
	}
	logs = []string{filepath.Join(dir, "train.tsv"), filepath.Join(dir, "log0.tsv")}
	return model, logs, unevenTable(t, dir, []int{3001, 4000, 2999}, 16)
}

// Each pipeline submitted to prism running as a job server, its workers
// in the submitting process (LOOPBACK), writes the bytes it writes run in
// process: counts.npz, the parts and the manifest, the score's JSON.
func TestJobServerEqualsInProcess(t *testing.T) {
	endpoint := jobServer(t)
	dir := t.TempDir()
	model, logs, shards := inputs(t, dir)
	remote := []string{"--runner", "universal", "--endpoint", endpoint, "--environment_type", "LOOPBACK"}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"counts", append([]string{"counts", model}, logs...)},
		{"quantize", append(append([]string{"quantize"}, shards...), "--budget", "40%", "--counts", filepath.Join(dir, "counts.npz"), "--table", "joined")},
		{"quantize by fractions", append(append([]string{"quantize"}, shards...), "--fp16", "0.3", "--int8", "0.7")},
	} {
		local := distIn(t, dir, append(c.args, "-o", filepath.Join(dir, "local-"+c.name))...)
		server := distIn(t, dir, append(append(c.args, "-o", filepath.Join(dir, "server-"+c.name)), remote...)...)
		sameFiles(t, c.name, filepath.Join(dir, "local-"+c.name), filepath.Join(dir, "server-"+c.name))
		if strings.ReplaceAll(server, "server-", "local-") != local {
			t.Fatalf("%s: the job server's run says %q, in process %q", c.name, server, local)
		}
	}
	score := append([]string{"score", model}, logs...)
	local := distIn(t, dir, append(score, "--json")...)
	server := distIn(t, dir, append(append(score, "--json"), remote...)...)
	if local != server || !strings.Contains(local, `"excluded"`) {
		t.Fatalf("score: the job server's run says %s, in process %s", server, local)
	}
}

// startedWorkers counts the workers the pool's log says it started.
func startedWorkers(t *testing.T, log string) int {
	b, _ := os.ReadFile(log)
	return strings.Count(string(b), "starting worker")
}

// Workers in processes of their own: prism as a job server asks the pool
// "shark-dist worker-pool" serves for a worker per job (--environment_type
// EXTERNAL), each a process the pool starts that fetches the job's worker
// binary and runs it; a quantize by a budget takes three jobs or more, so
// three worker processes or more, and writes the bytes it writes in
// process. So it does with --environment_type PROCESS, prism starting
// shark-dist as each job's boot with --id='ID', quotes included.
func TestExternalWorkers(t *testing.T) {
	endpoint := jobServer(t)
	port := freePort(t)
	_, poolLog := serve(t, port, bins.dist, "worker-pool", "--port", strconv.Itoa(port))
	dir := t.TempDir()
	shards := unevenTable(t, dir, []int{3001, 4000, 2999}, 16)
	args := append(append([]string{"quantize"}, shards...), "--budget", "40%", "--counts", filepath.Join(dir, "counts.npz"), "--table", "joined")
	distIn(t, dir, append(args, "-o", filepath.Join(dir, "local"))...)
	distIn(t, dir, append(args, "-o", filepath.Join(dir, "external"), "--runner", "universal", "--endpoint", endpoint,
		"--environment_type", "EXTERNAL", "--environment_config", "127.0.0.1:"+strconv.Itoa(port))...)
	sameFiles(t, "external workers", filepath.Join(dir, "local"), filepath.Join(dir, "external"))
	if n := startedWorkers(t, poolLog); n < 3 {
		t.Fatalf("the pool started %d worker processes, want one a job, 3 or more", n)
	}
	distIn(t, dir, append(args, "-o", filepath.Join(dir, "process"), "--runner", "universal", "--endpoint", endpoint,
		"--environment_type", "PROCESS", "--environment_config", `{"command": "`+bins.dist+`"}`)...)
	sameFiles(t, "process workers", filepath.Join(dir, "local"), filepath.Join(dir, "process"))
}

// children are the processes whose parent is pid.
func children(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, task := range tasks {
		b, _ := os.ReadFile(task)
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// A worker process killed with SIGKILL while its job runs fails the job,
// which names the worker, with exit 1; the output folder then holds no
// manifest, no part and no temporary file (or, had the runner retried the
// bundle, the bytes of a run in process). By thresholds the only job
// writes the parts, and the worker is killed once the first part is in
// place, the others not all; by a budget, a moment into the first job,
// deciding.
func TestKilledWorker(t *testing.T) {
	if _, err := os.Stat("/proc/self/task"); err != nil {
		t.Skip("no /proc here to find the worker processes")
	}
	endpoint := jobServer(t)
	port := freePort(t)
	pool, _ := serve(t, port, bins.dist, "worker-pool", "--port", strconv.Itoa(port))
	dir := t.TempDir()
	shards := unevenTable(t, dir, []int{40000, 40000, 40000, 40000, 40000, 40000, 40000, 40000}, 64)
	for _, how := range [][]string{{"--thresholds", "1,0.5,0.1"}, {"--budget", "40%"}} {
		args := append(append([]string{"quantize"}, shards...), how...)
		local, out := filepath.Join(dir, "local"+how[0]), filepath.Join(dir, "out"+how[0])
		distIn(t, dir, append(args, "-o", local)...)
		cmd := exec.Command(bins.dist, append(args, "-o", out, "--runner", "universal", "--endpoint", endpoint,
			"--environment_type", "EXTERNAL", "--environment_config", "127.0.0.1:"+strconv.Itoa(port))...)
		cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1700000000")
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready := func(started time.Time) bool { return time.Since(started) > 800*time.Millisecond }
		if how[0] == "--thresholds" {
			ready = func(time.Time) bool {
				_, err := os.Stat(filepath.Join(out, "part-00000.shark"))
				return err == nil
			}
		}
		killed := killHarness(t, pool.Process.Pid, ready)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var err error
		select {
		case err = <-done:
		case <-time.After(2 * time.Minute):
			cmd.Process.Kill()
			t.Fatalf("%s: the job neither failed nor finished 2 minutes after its worker %d was killed", how[0], killed)
		}
		if err == nil {
			t.Logf("%s: worker %d killed, yet the job succeeded (its bundles done, or retried); the output is whole", how[0], killed)
			sameFiles(t, "after the kill", local, out)
			continue
		}
		if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(errb.String(), "worker[") {
			t.Fatalf("%s: exit %d, the job's error naming no worker:\n%s", how[0], code, tail(errb.String()))
		}
		if ents, _ := os.ReadDir(out); len(ents) > 0 {
			t.Fatalf("%s: a failed job left %v", how[0], ents)
		}
		lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
		t.Logf("%s: worker %d killed: %s", how[0], killed, lines[len(lines)-1])
	}
}

// killHarness waits for a harness process (a worker boot's child, under
// the pool), then until ready says so, given when it was found, and kills
// it with SIGKILL.
func killHarness(t *testing.T, pool int, ready func(found time.Time) bool) int {
	t.Helper()
	h, found := 0, time.Time{}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, boot := range children(pool) {
			if kids := children(boot); h == 0 && len(kids) > 0 {
				h, found = kids[0], time.Now()
			}
		}
		if h != 0 && ready(found) {
			// ESRCH: the harness ended on its own first (its job's work
			// was done), and the caller then wants the whole output.
			if err := syscall.Kill(h, syscall.SIGKILL); err != nil && err != syscall.ESRCH {
				t.Fatalf("killing worker %d: %v", h, err)
			} else if err != nil {
				t.Logf("worker %d ended before it could be killed", h)
			}
			return h
		}
	}
	t.Fatal("no worker process ready to kill within a minute")
	return 0
}
