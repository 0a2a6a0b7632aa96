// Command shark-dist runs SHARK's passes over data beyond one machine as
// Apache Beam pipelines: by default on Beam's in-process prism runner;
// with --runner universal --endpoint HOST:PORT, or flink, spark or
// dataflow with their usual flags, on a cluster.
//
//	shark-dist counts MODEL 'logs/*.tsv' -o counts/
//	shark-dist score MODEL 'data/*' [--json]
//	shark-dist quantize 'shards/*.npy' --budget 30% [--counts DIR] -o out/
//
// Beam's flags go anywhere after the command; its own come first in -help.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"shark/internal/provenance"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

const usage = `usage: shark-dist COMMAND [flags] ARGS...

Commands (each a Beam pipeline; prism runs it here unless --runner says where):
  counts MODEL PATTERN... -o DIR     access counts of many log files, as shark counts
  score MODEL PATTERN... [--json]    Taylor importance of data beyond one machine, as shark score
  quantize PATTERN... -o DIR         a table of row shards quantized under one budget
  worker-pool --port N               serve Beam's external worker pool (--environment_type EXTERNAL)
  version                            print the version (the commit it was built from)

Run "shark-dist COMMAND -help" for a command's flags. Beam's own flags
(--runner, --endpoint, --environment_type, --project, --region, ...) follow
the command's. Paths may be local, gs:// or s3:// (Beam's filesystems).
`

func main() {
	switch args := os.Args[1:]; {
	case isBoot(args): // started by a worker pool
		if err := boot(args); err != nil {
			fmt.Fprintf(os.Stderr, "shark-dist worker: %v\n", err)
			os.Exit(1)
		}
		return
	case isWorker(args): // started by a boot or a runner's container
		if err := runWorker(args); err != nil {
			fmt.Fprintf(os.Stderr, "shark-dist worker: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) < 2 || strings.HasPrefix(os.Args[1], "-") {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	run, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(os.Stderr, "shark-dist: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err := run(context.Background(), args, os.Stdout); err != nil {
		var u usageErr
		if asUsage(err, &u) {
			fmt.Fprintf(os.Stderr, "shark-dist %s: %v\n", cmd, err)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "shark-dist %s: %v\n", cmd, err)
		os.Exit(1)
	}
}

var commands = map[string]func(context.Context, []string, io.Writer) error{
	"counts":      countsCmd,
	"score":       scoreCmd,
	"quantize":    quantizeCmd,
	"worker-pool": workerPoolCmd,
	"version":     versionCmd,
}

// versionCmd prints shark-dist's version: the shark commit it was built
// from, as every face and the files it writes name it.
func versionCmd(_ context.Context, args []string, w io.Writer) error {
	if len(args) > 0 {
		return usageErr{fmt.Errorf("version takes no arguments, got %q", args)}
	}
	_, err := fmt.Fprintf(w, "shark-dist %s\n", provenance.Version)
	return err
}

type usageErr struct{ error }

func asUsage(err error, u *usageErr) bool {
	v, ok := err.(usageErr)
	if ok {
		*u = v
	}
	return ok
}

// parse reads a command's flags and Beam's from args (flags may follow
// the positional arguments), and readies Beam.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageErr{err}
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if err := flag.CommandLine.Parse(beamArgs(fs)); err != nil {
		return nil, usageErr{err}
	}
	if err := selfAsWorker(); err != nil {
		return nil, err
	}
	beam.Init()
	return pos, nil
}

// run runs a pipeline on the runner the flags name.
func run(ctx context.Context, p *beam.Pipeline) error { return beamx.Run(ctx, p) }

// beamFlags collects flags the command does not know, for Beam.
var beamFlags []string

// beamArgs are the unknown flags handed on to Beam's flag set.
func beamArgs(*flag.FlagSet) []string { return beamFlags }

// newFlags is a command's flag set that hands Beam's flags on: every
// flag of Go's CommandLine (where Beam registers its own) is accepted.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	flag.CommandLine.VisitAll(func(f *flag.Flag) {
		set := func(v string) error {
			beamFlags = append(beamFlags, "--"+f.Name+"="+v)
			return nil
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			fs.BoolFunc(f.Name, f.Usage+" (Beam)", set)
		} else {
			fs.Func(f.Name, f.Usage+" (Beam)", set)
		}
	})
	return fs
}

// selfAsWorker makes this binary the worker binary a job stages, unless
// --worker_binary names another: on Linux it is one (Beam would otherwise
// compile the command's source again, which a user's machine need not
// hold). A cluster of another architecture is given --worker_binary.
func selfAsWorker() error {
	if *jobopts.WorkerBinary != "" || runtime.GOOS != "linux" {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	*jobopts.WorkerBinary = exe
	return nil
}
