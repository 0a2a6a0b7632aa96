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
	Data string // the training data file
	Test string // a separate test file; "" holds out Config.Split of Data
	// Valid is the share of the training rows (those not held out) kept
	// out of training as validation rows, by their content with another
	// seed than the split's (dataset.ValidSeed): rows the model never
	// fits, recorded in the model file, on which prune and compress make
	// their choices. 0: none.
	Valid    float64
	Read     dataset.Options
	MinCount int  // values seen fewer times share the out-of-vocabulary row
	SkipBad  bool // skip malformed rows (counted) instead of stopping
	Config   model.Config
	Progress func(done, total int64) // samples trained
}

// DefaultValid is the validation share shark train keeps out of its
// training rows: a fifth, as large a share of the training rows as the
// default test split (model.DefaultConfig().Split) is of the data, and
// as many rows as compress took from the training rows before (1,600 of
// the 10,000-row Criteo sample). The budget search bisects on the drop it
// measures there, which at aggressive budgets moves by several thousandths
// between samples of a thousand rows (765 rows on that sample at a tenth:
// a validation drop of -0.0057 where the held-out drop was +0.0071), so
// fewer rows would choose on noise; more would take the model's training
// rows. Rows it was trained on cannot serve: a model has fitted them, so
// they hardly tell a harmful quantization from a harmless one.
const DefaultValid = 0.2

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
	// Valid is the validation rows kept out of training (nil when
	// TrainOptions.Valid is 0); ValidRows says which they are.
	Valid     *model.Dataset
	ValidRows dataset.Rows
	testValid int // validation rows of DATA in the test file, left out of it
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
	if !(o.Valid >= 0 && o.Valid < 1) {
		return nil, fmt.Errorf("%w: the validation share must be in [0, 1), got %v", core.ErrInvalid, o.Valid)
	}
	t := &Trained{}
	if err := t.record(o, cfg); err != nil {
		return nil, err
	}
	// The rows are split by their content (dataset.HeldOut), so the
	// vocabulary can come from the training rows alone: neither the test
	// rows nor the validation rows are fitted, not even by the encoding.
	on := t.Training.On[0]
	training := func(rec *dataset.Record) bool {
		return !dataset.HeldOut(rec.Key, cfg.Split, cfg.Seed) && !on.InValidShare(rec.Key)
	}
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
		t.Test = held.Dataset
		t.keepValidation(train, all.Rows())
		return 0, nil
	}
	t.keepValidation(all, all.Rows())
	test, err := t.encode(o.Test, o)
	if err != nil {
		return 0, err
	}
	trained, held := dataset.Partition(test.Dataset, test.Keys, t.Training.Trained)
	valid, held := dataset.Partition(held.Dataset, held.Keys, t.Training.Validation)
	t.Test, t.testValid = held.Dataset, valid.Rows()
	return trained.Rows(), nil
}

// keepValidation trains on the rows of train (of the data file's all)
// that are not validation rows, and keeps those apart, recording the keys
// of the rows trained on.
func (t *Trained) keepValidation(train dataset.Part, all int) {
	on := t.Training.On[0]
	valid, fit := dataset.Partition(train.Dataset, train.Keys, on.InValidShare)
	t.Train = fit.Dataset
	t.Training = t.Training.WithRows(fit.Keys)
	if on.HasValidation() {
		t.Training = t.Training.WithValid(valid.Keys)
		t.Valid = valid.Dataset
		t.ValidRows = dataset.HeldValidationRows(on.File.Name, valid.Rows(), all, on.Valid, on.ValidSeed)
	}
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
	on := dataset.TrainedOn{File: data, Split: cfg.Split, Seed: cfg.Seed}
	if o.Valid > 0 {
		on.Valid, on.ValidSeed = o.Valid, dataset.ValidSeed(cfg.Seed)
	}
	t.Training = &dataset.Training{On: []dataset.TrainedOn{on}}
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
		t.Rows = dataset.TestFileRows(t.Training.Test.Name, t.Test.Rows()).Excluding(excluded).ExcludingValidation(t.testValid)
		return
	}
	t.Rows = dataset.HeldOutRows(t.Training.On[0].File.Name, t.Test.Rows(), all, cfg.Split, cfg.Seed)
}
