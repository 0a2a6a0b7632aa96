package pipeline

import (
	"fmt"
	"time"

	"shark/core"
	"shark/ctr/dataset"
	"shark/ctr/importance"
	"shark/ctr/model"
)

// TrainOptions configure Train.
type TrainOptions struct {
	Data     string // the training data file
	Test     string // a separate test file; "" holds out Config.Split of Data
	Read     dataset.Options
	MinCount int  // values seen fewer times share the out-of-vocabulary row
	SkipBad  bool // skip malformed rows (counted) instead of stopping
	Config   model.Config
	Progress func(done, total int64) // samples trained
}

// Trained is a trained reference model with its encoding and scores.
type Trained struct {
	Model        *model.Model
	Encoding     *dataset.Encoding
	Train, Test  *model.Dataset
	History      []model.EpochResult
	Metrics      model.Metrics // on the test rows
	Skipped      int64         // malformed rows skipped, in both files
	TrainSeconds float64
	Training     *dataset.Training // the rows it was trained on, for the model file
	Rows         dataset.Rows      // what Test is
	// Leaks are the fields that alone separate the test rows' labels
	// (importance.LeakAUC): a column that gives the label away.
	Leaks []importance.Leak
}

// Train builds the feature encoding from the data file, encodes it (and
// the test file), holds out the test rows and trains the reference model,
// scoring the test rows after every epoch.
func Train(o TrainOptions) (*Trained, error) {
	cfg := o.Config
	if o.Test != "" {
		cfg.Split = 0
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Trained{}
	if err := t.record(o, cfg); err != nil {
		return nil, err
	}
	// The rows are split by their content (dataset.HeldOut), so the
	// vocabulary can come from the training rows alone.
	training := func(rec *dataset.Record) bool { return !dataset.HeldOut(rec.Key, cfg.Split, cfg.Seed) }
	enc, _, err := dataset.BuildFrom(dataset.FileOpener(o.Data, o.Read), o.Read, o.MinCount, o.SkipBad, training)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.Data, err)
	}
	t.Encoding = enc
	all, err := t.encode(o.Data, o)
	if err != nil {
		return nil, err
	}
	excluded, err := t.testRows(o, all, cfg)
	if err != nil {
		return nil, err
	}
	t.describe(o, all.Rows(), cfg, excluded)
	if t.Test == nil || t.Test.Rows() == 0 {
		return nil, fmt.Errorf("%w: no test rows: give a test file or a split above 0", core.ErrInvalid)
	}
	t.Leaks = importance.Leaks(t.Train, t.Test)
	if t.Model, err = model.New(cfg, t.Train); err != nil {
		return nil, err
	}
	t0 := time.Now()
	if t.History, err = t.Model.Train(t.Train, t.Test, cfg.Epochs, o.Progress); err != nil {
		return nil, err
	}
	t.TrainSeconds = time.Since(t0).Seconds()
	t.Metrics, err = t.Model.Evaluate(t.Test)
	return t, err
}

// testRows sets the training and test rows from the data file's rows and
// records the training rows' keys: a test file's rows the model trains on
// (the same content in both files) are left out of it, and counted.
func (t *Trained) testRows(o TrainOptions, all dataset.Part, cfg model.Config) (excluded int, err error) {
	if o.Test == "" {
		train, held := dataset.SplitByKey(all.Dataset, all.Keys, cfg.Split, cfg.Seed)
		t.Train, t.Test = train.Dataset, held.Dataset
		t.Training = t.Training.WithRows(train.Keys)
		return 0, nil
	}
	t.Train = all.Dataset
	t.Training = t.Training.WithRows(all.Keys)
	test, err := t.encode(o.Test, o)
	if err != nil {
		return 0, err
	}
	trained, held := dataset.Partition(test.Dataset, test.Keys, t.Training.Trained)
	t.Test = held.Dataset
	return trained.Rows(), nil
}

// encode reads a file with the encoding, counting the rows it skips.
func (t *Trained) encode(path string, o TrainOptions) (dataset.Part, error) {
	ds, keys, st, err := t.Encoding.EncodeKeys(dataset.FileOpener(path, o.Read), o.SkipBad)
	if err != nil {
		return dataset.Part{}, fmt.Errorf("%s: %w", path, err)
	}
	t.Skipped += st.Skipped
	return dataset.Part{Dataset: ds, Keys: keys}, nil
}

// record notes which rows of which files the model trains on, refusing a
// test file that is the training file.
func (t *Trained) record(o TrainOptions, cfg model.Config) error {
	data, err := dataset.Identify(o.Data)
	if err != nil {
		return err
	}
	t.Training = &dataset.Training{On: []dataset.TrainedOn{{File: data, Split: cfg.Split, Seed: cfg.Seed}}}
	if o.Test != "" {
		test, err := dataset.Identify(o.Test)
		if err != nil {
			return err
		}
		if test.Same(data) {
			return fmt.Errorf("%w: the test file %s holds the training data", core.ErrInvalid, test.Name)
		}
		t.Training.Test = &test
	}
	return nil
}

// describe says which rows the test rows are.
func (t *Trained) describe(o TrainOptions, all int, cfg model.Config, excluded int) {
	if t.Test == nil {
		return
	}
	if o.Test != "" {
		t.Rows = dataset.TestFileRows(t.Training.Test.Name, t.Test.Rows()).Excluding(excluded)
		return
	}
	t.Rows = dataset.HeldOutRows(t.Training.On[0].File.Name, t.Test.Rows(), all, cfg.Split, cfg.Seed)
}
