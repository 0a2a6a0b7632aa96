// Command shark compresses the embedding tables of recommender models with
// the SHARK method. Run "shark help" for the commands.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"shark/compress"
	"shark/core/kernels"
	_ "shark/formats/all"
)

type command struct {
	name, args, summary string
	run                 func(args []string, stdout, stderr io.Writer) error
}

var commands []command

func init() {
	commands = []command{
		{"inspect", "FILE [--json]", "list a model file's tensors (npy, npz, safetensors, shark)", runInspect},
		{"quantize", "IN -o OUT.shark [options]", "compress embedding tables to mixed precision", runQuantize},
		{"verify", "FILE", "check every checksum and invariant of a file", runVerify},
		{"export", "IN.shark --to npz|safetensors -o OUT", "write tables back out for NumPy or serving stacks", runExport},
		{"example", "-o DIR [--seed S]", "write a synthetic model and access counts to try", runExample},
		{"synth", "-o FILE --rows N [--fields F]", "write Criteo-format data with planted truth", runSynth},
		{"train", "DATA -o MODEL.shark", "train the reference CTR model", runTrain},
		{"eval", "MODEL DATA", "held-out AUC and logloss of a model", runEval},
		{"score", "MODEL DATA [--exact]", "table importance: Taylor (and exact permutation)", runScore},
		{"prune", "MODEL DATA --keep N -o OUT", "iterative F-Permutation pruning", runPrune},
		{"compress", "MODEL DATA --keep-fraction F --budget P -o OUT", "the whole pipeline: prune, then quantize", runCompress},
		{"experiment", "taylor|ablation|sweep MODEL DATA -o DIR", "reports with charts: the paper's experiments", runExperiment},
		{"demo", "", "synth, train, compress: the whole method in a minute", runDemo},
		{"serve", "[--addr 127.0.0.1:8080]", "the in-browser inspector, served from this binary", runServe},
		{"bench", "lookup FILE.shark [--json]", "serving benchmark: pooled lookups, compressed vs fp32", runBench},
		{"version", "", "print the version and the kernels in use", func(_ []string, stdout, _ io.Writer) error {
			fmt.Fprintf(stdout, "shark %s\nkernels: %s\n", compress.Version, kernels.Impl())
			return nil
		}},
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `shark compresses the embedding layer of recommender models (SHARK, CIKM 2023):
each embedding row is stored at fp32, fp16, int8 or int4 by its access priority,
within a byte budget you choose; dense weights pass through bit for bit.

Usage: shark COMMAND [ARGS]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %-48s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintf(w, "\nRun \"shark COMMAND --help\" for a command's options.\n")
}

// errUsage marks a command-line mistake (exit status 2).
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return run([]string{args[1], "--help"}, stdout, stderr)
		}
		usage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(args[1:], stdout, stderr)
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errUsage):
				fmt.Fprintf(stderr, "shark %s: %v\n", c.name, err)
				return 2
			default:
				fmt.Fprintf(stderr, "shark %s: %v\n", c.name, err)
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "shark: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// newFlags makes a flag set whose --help prints the command's synopsis.
func newFlags(name, args, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: shark %s %s\n\n%s\n", name, args, strings.TrimSpace(about))
		fmt.Fprintf(stderr, "\nOptions:\n")
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags wherever they stand among the positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// progress prints a one-line status on stderr when it is a terminal.
type progress struct {
	w     io.Writer
	on    bool
	last  time.Time
	stage string
}

func newProgress(stderr io.Writer) *progress {
	p := &progress{w: stderr}
	if f, ok := stderr.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *progress) update(stage string, done, total int64) {
	if !p.on {
		return
	}
	now := time.Now()
	if stage == p.stage && now.Sub(p.last) < 100*time.Millisecond && done < total {
		return
	}
	p.stage, p.last = stage, now
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	fmt.Fprintf(p.w, "\r\033[K%s: %d/%d rows (%.0f%%)", stage, done, total, pct)
}

func (p *progress) done() {
	if p.on && p.stage != "" {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
