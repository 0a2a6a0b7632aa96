package main

// Workers in processes of their own. "shark-dist worker-pool --port N"
// serves the Beam Fn API's external worker pool (the Go SDK's own,
// container/pool): a runner given --environment_type EXTERNAL
// --environment_config HOST:N asks it for a worker per job, and it starts
// this binary as the worker's boot, a process of its own. The boot does
// what the Go SDK's container boot does: it asks the runner's provision
// service for the job's options, fetches the job's staged worker binary
// (the submitting shark-dist) from its artifact service, and runs it as
// the SDK harness, which takes the job's bundles over the control
// endpoint. On a cluster the pool runs beside each worker machine's
// runner agent (a Flink TaskManager, a Spark executor), as the Go SDK
// container does there.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/apache/beam/sdks/v2/go/container/pool"
	"github.com/apache/beam/sdks/v2/go/container/tools"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/artifact"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/util/grpcx"
)

func workerPoolCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("worker-pool", flag.ContinueOnError)
	port := fs.Int("port", 0, "the port to serve the worker pool on, on every interface (required)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `usage: shark-dist worker-pool --port N

Serves Beam's external worker pool: jobs submitted with --environment_type
EXTERNAL --environment_config HOST:N run their workers as processes of
their own that this pool starts, one per job, each fetching the job's
worker binary from the runner.`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageErr{err}
	}
	if *port <= 0 || fs.NArg() > 0 {
		return usageErr{fmt.Errorf("want --port N and nothing else")}
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	p, err := pool.New(ctx, *port, exe)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "worker pool serving on port %d (pid %d)\n", *port, os.Getpid())
	return p.ServeAndWait()
}

// isBoot reports whether the process was started by a worker pool, which
// passes --id=ID first.
func isBoot(args []string) bool { return len(args) > 0 && strings.HasPrefix(args[0], "--id=") }

// isWorker reports whether the process was started by a boot (or a
// runner's container) as the SDK harness.
func isWorker(args []string) bool {
	return len(args) > 0 && (args[0] == "--worker" || args[0] == "--worker=true")
}

// ErrBoot: a worker's boot could not ready the harness.
var ErrBoot = errors.New("worker boot")

// boot readies and runs a worker of one job: the job's options and worker
// binary from the runner, then the binary as the harness. The binary's
// folder is removed as soon as the harness runs (Linux keeps a running
// file), since the pool stops a worker by killing its boot, which then
// cleans nothing up.
func boot(args []string) error {
	fs := flag.NewFlagSet("boot", flag.ContinueOnError)
	id := fs.String("id", "", "the worker's id")
	control := fs.String("control_endpoint", "", "")
	logging := fs.String("logging_endpoint", "", "")
	artifacts := fs.String("artifact_endpoint", "", "")
	provision := fs.String("provision_endpoint", "", "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// prism 2.77's PROCESS environment passes --id='ID', quotes included
	// (no shell takes them off), and the provision endpoint alone.
	*id = strings.Trim(*id, "'")
	ctx := grpcx.WriteWorkerID(context.Background(), *id)
	info, err := tools.ProvisionInfo(ctx, *provision)
	if err != nil {
		return fmt.Errorf("%w %s: provision: %v", ErrBoot, *id, err)
	}
	for _, e := range []struct {
		flag *string
		url  string
	}{{control, info.GetControlEndpoint().GetUrl()}, {logging, info.GetLoggingEndpoint().GetUrl()}, {artifacts, info.GetArtifactEndpoint().GetUrl()}} {
		if *e.flag == "" {
			*e.flag = e.url
		}
	}
	opts, err := tools.ProtoToJSON(info.GetPipelineOptions())
	if err != nil {
		return fmt.Errorf("%w %s: options: %v", ErrBoot, *id, err)
	}
	dir, err := os.MkdirTemp("", "shark-dist-worker-")
	if err != nil {
		return err
	}
	bin, err := workerBinary(ctx, info.GetDependencies(), info.GetRetrievalToken(), *artifacts, dir)
	if err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("%w %s: %v", ErrBoot, *id, err)
	}
	cmd := exec.Command(bin, "--worker=true", "--id="+*id, "--logging_endpoint="+*logging, "--control_endpoint="+*control, "--options="+opts)
	cmd.Env = append(os.Environ(), "RUNNER_CAPABILITIES="+strings.Join(info.GetRunnerCapabilities(), " "))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	// The harness dies with its boot: the pool stops a worker by killing
	// the boot it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	os.RemoveAll(dir)
	if err != nil {
		return fmt.Errorf("%w %s: %v", ErrBoot, *id, err)
	}
	return cmd.Wait()
}

// workerBinary fetches the job's staged worker binary into dir.
func workerBinary(ctx context.Context, deps []*pipepb.ArtifactInformation, token, endpoint, dir string) (string, error) {
	got, err := artifact.Materialize(ctx, endpoint, deps, token, dir)
	if err != nil {
		return "", fmt.Errorf("fetching the worker binary: %v", err)
	}
	name := ""
	for _, a := range got {
		n, _ := artifact.MustExtractFilePayload(a)
		if len(got) == 1 || a.GetRoleUrn() == artifact.URNGoWorkerBinaryRole || n == "worker" {
			name = n
			break
		}
	}
	if name == "" {
		return "", fmt.Errorf("the job staged no worker binary (%d artifacts)", len(got))
	}
	bin := filepath.Join(dir, name)
	return bin, os.Chmod(bin, 0o755)
}

// runWorker runs the SDK harness: Beam's init hook takes over at
// beam.Init when --worker is set, and exits the process when done.
func runWorker(args []string) error {
	if err := flag.CommandLine.Parse(args); err != nil {
		return err
	}
	beam.Init()
	return fmt.Errorf("the harness returned")
}
