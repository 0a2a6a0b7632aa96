package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"shark/ctr/dataset"
	"shark/ctr/modelfile"
)

// dataFlags are the options every command that reads training data shares.
type dataFlags struct {
	format, label, ignore, numeric *string
	minCount                       *int
	skipBad                        *bool
}

func addDataFlags(fs *flag.FlagSet) *dataFlags {
	return &dataFlags{
		format:   fs.String("format", "", "data format: criteo, csv, libsvm, libffm (default: sniffed from the first line)"),
		label:    fs.String("label", "", "csv: the label column, optionally with a threshold, e.g. 'rating>=4'"),
		ignore:   fs.String("ignore", "", "csv: comma-separated columns to leave out"),
		numeric:  fs.String("numeric", "", "csv: comma-separated numeric columns (bucketised as floor(ln(x)^2))"),
		minCount: fs.Int("min-count", 2, "values seen fewer times share the out-of-vocabulary row"),
		skipBad:  fs.Bool("skip-bad", false, "skip malformed rows (counted) instead of stopping at the first"),
	}
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, x := range strings.Split(s, ",") {
		out = append(out, strings.TrimSpace(x))
	}
	return out
}

func (d *dataFlags) options() dataset.Options {
	return dataset.Options{Format: *d.format, Label: *d.label, Ignore: splitList(*d.ignore), Numeric: splitList(*d.numeric)}
}

// read reads path with a model's encoding; the reading options the model
// was trained with apply unless the command line gives a format or label.
func (d *dataFlags) read(l *modelfile.Loaded, path string, warn io.Writer) (*modelfile.Data, error) {
	var opt *dataset.Options
	if *d.format != "" || *d.label != "" {
		o := d.options()
		opt = &o
	}
	data, err := l.ReadData(path, opt, *d.skipBad)
	if err != nil {
		return nil, err
	}
	if data.Skipped > 0 {
		fmt.Fprintf(warn, "warning: %s: skipped %d malformed rows\n", path, data.Skipped)
	}
	return data, nil
}

// loadModelData opens a model and reads data with it, split into the
// training part and the held-out part the model was trained with.
func loadModelData(modelPath, dataPath string, d *dataFlags, dense bool, stderr io.Writer) (*modelfile.Loaded, *modelfile.Data, error) {
	l, err := modelfile.Load(modelPath, dense)
	if err != nil {
		return nil, nil, err
	}
	data, err := d.read(l, dataPath, stderr)
	if err != nil {
		l.Close()
		return nil, nil, err
	}
	return l, data, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, p := range splitList(s) {
		v, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("%w: %q is not a whole number", errUsage, p)
		}
		out = append(out, v)
	}
	return out, nil
}
