// Command shark compresses the embedding tables of recommender models with
// the SHARK method. Run "shark --help" for the commands.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"shark/core/kernels"
	"shark/internal/atomicfile"
	"shark/internal/provenance"
)

func main() {
	stopOnSignals()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// stopOnSignals makes SIGINT and SIGTERM remove every temporary file of the
// run (outputs not yet complete; spilled stats have no name to remove) and
// exit with 130 or 143, as shells report them.
func stopOnSignals() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-ch
		atomicfile.Cleanup()
		code := 128 + int(sig.(syscall.Signal))
		fmt.Fprintf(os.Stderr, "\nshark: stopped by %v; no output was written\n", sig)
		os.Exit(code)
	}()
}

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // the command failed (a message names the file and place)
	exitUsage   = 2 // the command line was wrong
)

// run runs the command line args and returns the exit status. Results go
// to stdout; progress, warnings and errors to stderr.
func run(args []string, stdout, stderr io.Writer) int {
	raw := stderr
	// What is printed passes through terminalWriter: names from outside
	// reach it in results, warnings and errors.
	stdout, stderr = terminalWriter{stdout}, terminalWriter{stderr}
	c := &cli{stdout: stdout, stderr: stderr, rawErr: raw, args: args}
	root := c.root()
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	c.prog.done()
	if err == nil {
		return exitOK
	}
	err = requiredError(cmd, err)
	code := exitFailure
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) || errors.Is(err, atomicfile.ErrSameFile) || errors.Is(err, atomicfile.ErrSpecialOutput) {
		code = exitUsage
	}
	msg := fmt.Sprintf("%s: %v", cmd.CommandPath(), err)
	fmt.Fprintln(stderr, msg)
	if code == exitUsage {
		fmt.Fprintf(stderr, "Usage: %s\nRun '%s --help' for more.\n", cmd.UseLine(), cmd.CommandPath())
	}
	if jsonRequested(args) && !c.printed {
		reportError(stdout, msg, err, code)
	}
	return code
}

// usageError marks a mistake in the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef is a usage error.
func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// isCobraUsage recognises cobra's own usage errors: an unknown command,
// a missing required flag.
func isCobraUsage(err error) bool {
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "required flag", "invalid argument"} {
		if strings.HasPrefix(err.Error(), p) {
			return true
		}
	}
	return false
}

const rootLong = `shark compresses the embedding layer of recommender models with the SHARK
method (CIKM 2023): each embedding row is stored at fp32, fp16, int8 or int4 by
its access priority, within a byte budget you choose; dense weights pass
through bit for bit. Every command takes --json (one JSON object on stdout) and
--help. Exit status 0 is success, 1 a failure, 2 a usage mistake.`

func (c *cli) root() *cobra.Command {
	root := &cobra.Command{
		Use:           "shark",
		Short:         "compress the embedding tables of recommender models (SHARK)",
		Long:          rootLong,
		Version:       provenance.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	root.SetVersionTemplate(versionText())
	root.SetFlagErrorFunc(flagError)
	// Before any command's work: its numeric flags in range, its inputs
	// files that can be read (guard.go).
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if err := checkRanges(cmd); err != nil {
			return err
		}
		return checkInputs(cmd, args)
	}
	root.PersistentFlags().BoolVar(&c.json, "json", false, "print the result as one JSON object on stdout")
	root.AddGroup(&cobra.Group{ID: "files", Title: "Compress exported tables:"},
		&cobra.Group{ID: "method", Title: "The SHARK method on the reference CTR model:"},
		&cobra.Group{ID: "other", Title: "More:"})
	for _, cmd := range []*cobra.Command{c.inspectCmd(), c.quantizeCmd(), c.verifyCmd(), c.exportCmd(), c.exampleCmd()} {
		cmd.GroupID = "files"
		root.AddCommand(cmd)
	}
	for _, cmd := range []*cobra.Command{c.synthCmd(), c.trainCmd(), c.evalCmd(), c.scoreCmd(), c.countsCmd(), c.pruneCmd(), c.compressCmd(), c.experimentCmd(), c.demoCmd()} {
		cmd.GroupID = "method"
		root.AddCommand(cmd)
	}
	for _, cmd := range []*cobra.Command{c.serveCmd(), c.benchCmd(), c.versionCmd()} {
		cmd.GroupID = "other"
		root.AddCommand(cmd)
	}
	root.SetHelpCommandGroupID("other")
	root.SetCompletionCommandGroupID("other")
	return root
}

// noArgs and friends check positional arguments, as usage errors.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", cmd.Name(), args)
	}
	return nil
}

func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef("want %s, got %d argument(s)", what, len(args))
		}
		return nil
	}
}

func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("want %s, got %d argument(s)", what, len(args))
		}
		return nil
	}
}

// versionText is what shark version prints: the version, the kernels in
// use, their set and the sets this CPU allows (SHARK_KERNELS picks one),
// and what SHARK_KERNELS asked for when it is set.
func versionText() string {
	s := fmt.Sprintf("shark %s\nkernels: %s (set %s; available: %s)\n",
		provenance.Version, kernels.Impl(), kernels.Set(), strings.Join(kernels.Sets(), ", "))
	if r := kernels.Requested(); r != "" {
		s += "requested: " + r + "\n"
	}
	return s
}

func (c *cli) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the version and the kernels in use",
		Long:  "Prints shark's version and the kernels chosen for this CPU (also: shark --version).",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			if c.json {
				return c.result(map[string]any{"version": provenance.Version, "kernels": kernels.Impl(),
					"kernel_set": kernels.Set(), "kernel_sets": kernels.Sets(), "kernels_requested": kernels.Requested()})
			}
			fmt.Fprint(c.stdout, versionText())
			return nil
		},
	}
}

// parent makes cmd a command of subcommands: alone it shows its help, and
// an unknown subcommand is a usage error.
func parent(cmd *cobra.Command) *cobra.Command {
	cmd.Args = func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
		}
		return nil
	}
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	return cmd
}
