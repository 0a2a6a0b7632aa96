package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"shark/compress"
	"shark/ctr/dataset"
	"shark/ctr/modelfile"
)

// budget is a --budget value: a share of the tables' fp32 bytes ("30%") or
// a size with a unit ("1.5MB", "800KiB"). A bare number is refused: 30
// could be either.
type budget struct {
	share float64
	bytes int64
	text  string
}

func (b *budget) String() string { return b.text }
func (b *budget) Type() string   { return "size" }

func (b *budget) Set(s string) error {
	share, bytes, err := compress.ParseBudget(s)
	if err != nil {
		return err
	}
	*b = budget{share: share, bytes: bytes, text: strings.TrimSpace(s)}
	return nil
}

// dataFlags are the options of every command that reads data files.
type dataFlags struct {
	format, label, test string
	ignore, numeric     []string
	minCount, maxLine   int
	skipBad             bool
	fs                  *pflag.FlagSet // to tell the flags given from defaults
}

// add defines the reading flags; withTest adds --test.
func (d *dataFlags) add(fs *pflag.FlagSet, withTest bool) {
	d.fs = fs
	fs.StringVar(&d.format, "format", "", "data format: criteo, csv, libsvm or libffm (sniffed from the first line when not given)")
	fs.StringVar(&d.label, "label", "", "the label: csv: its column, optionally with a threshold, e.g. 'rating>=4'; other formats: a threshold alone, e.g. '>=4' (default: 0/1 labels, and -1/+1 in libsvm/libfm/libffm)")
	fs.StringSliceVar(&d.ignore, "ignore", nil, "csv: columns to leave out")
	fs.StringSliceVar(&d.numeric, "numeric", nil, "csv: numeric columns, bucketised as floor(ln(x)^2)")
	fs.IntVar(&d.minCount, "min-count", 2, "values seen fewer times share the out-of-vocabulary row")
	fs.BoolVar(&d.skipBad, "skip-bad", false, "skip malformed rows (counted) instead of stopping at the first")
	fs.IntVar(&d.maxLine, "max-line", dataset.DefaultMaxLine, "the longest line read, in bytes: a longer one is a malformed row")
	if withTest {
		fs.StringVar(&d.test, "test", "", "a separate test file: score every one of its rows, and use every row of DATA for training (default: the rows of DATA the model held out)")
	}
}

func (d *dataFlags) options() dataset.Options {
	return dataset.Options{Format: d.format, Label: d.label, Ignore: d.ignore, Numeric: d.numeric, MaxLine: d.maxLine}
}

// read is the options a model's data is read with: those saved with its
// encoding, with the line limit given. The options that make the features
// (--format, --ignore, --numeric, --min-count) or the labels (--label) may
// be given only as the model was trained: other features would be scored
// against tables that do not hold them, and another label, even another
// threshold on the same column, changes the clicks and so the row keys,
// letting training rows pass for held-out ones. So they are refused,
// saying what the model was trained with; a new label is a new model.
func (d *dataFlags) read(l *modelfile.Loaded) (*dataset.Options, error) {
	if l.Encoding == nil {
		o := d.options()
		return &o, nil
	}
	saved := l.Encoding.Options
	if err := d.sameAs(saved, l.Encoding.MinCount); err != nil {
		return nil, usageError{err}
	}
	if saved.Format == "" {
		saved.Format = d.format // sniffed at training, and so here unless given
	}
	saved.MaxLine = d.maxLine
	return &saved, nil
}

// ErrModelOptions: a reading option given differs from the model's.
var ErrModelOptions = errors.New("the model reads its data with the options it was trained with")

// sameAs refuses a reading option given on the command line that is not
// the model's saved one.
func (d *dataFlags) sameAs(saved dataset.Options, minCount int) error {
	given := func(name string) bool { return d.fs != nil && d.fs.Changed(name) }
	refuse := func(flag, value, was string) error {
		return fmt.Errorf("%w: --%s %s, but the model was trained with %s (leave --%s out to use the model's)", ErrModelOptions, flag, value, was, flag)
	}
	switch {
	case given("format") && saved.Format != "" && d.format != saved.Format:
		return refuse("format", d.format, "--format "+saved.Format)
	case given("label") && !dataset.SameLabel(d.label, saved.Label):
		return refuse("label", strconv.Quote(d.label), labelWas(saved.Label))
	case given("ignore") && !sameSet(d.ignore, saved.Ignore):
		return refuse("ignore", strings.Join(d.ignore, ","), listWas("ignore", saved.Ignore))
	case given("numeric") && !sameSet(d.numeric, saved.Numeric):
		return refuse("numeric", strings.Join(d.numeric, ","), listWas("numeric", saved.Numeric))
	case given("min-count") && d.minCount != minCount:
		return refuse("min-count", strconv.Itoa(d.minCount), fmt.Sprintf("--min-count %d", minCount))
	}
	return nil
}

func labelWas(label string) string {
	if label == "" {
		return "no --label (0/1 labels)"
	}
	return "--label " + strconv.Quote(label)
}

func listWas(flag string, l []string) string {
	if len(l) == 0 {
		return "no --" + flag
	}
	return "--" + flag + " " + strings.Join(l, ",")
}

// sameSet reports whether a and b hold the same names, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// modelData opens a model and reads its data: the held-out rows to score,
// and the rows to fine-tune on when the command trains.
func (c *cli) modelData(modelPath, dataPath string, d *dataFlags, dense, fineTune, allRows bool) (*modelfile.Loaded, *modelfile.Data, error) {
	l, err := modelfile.Load(modelPath, dense)
	if err != nil {
		return nil, nil, err
	}
	read, err := d.read(l)
	if err != nil {
		l.Close()
		return nil, nil, err
	}
	data, err := l.Data(dataPath, modelfile.DataOptions{Test: d.test, AllRows: allRows, FineTune: fineTune, Read: read, SkipBad: d.skipBad})
	if err != nil {
		l.Close()
		if isHeldOutError(err) {
			return nil, nil, usageError{err}
		}
		return nil, nil, err
	}
	if data.Skipped > 0 {
		c.warn("skipped %d malformed rows", data.Skipped)
	}
	for _, n := range data.Notes {
		c.warn("%s", n)
	}
	return l, data, nil
}

// isHeldOutError reports an error the user mends with --test.
func isHeldOutError(err error) bool { return errors.Is(err, modelfile.ErrTrainingRows) }
